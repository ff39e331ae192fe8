//! Index staging: a bulk import hands the users it wrote to the segment
//! index as parsed records, so that the index need not read them back.
//!
//! Reading back what had just been written was most of what keeping the
//! index current cost an import. The records the import
//! parsed hold every value the database would return; what they lack is
//! certainty that they are the user's whole data. The writer's journal
//! provides it: a user is staged only when this import created it, wrote
//! every record of it anew (no record replaced), and no other writer
//! changed the user in between (a conditional update of `data_seq`).
//! The index takes a staged user only when its `data_seq` is the one the
//! database shows; anything else is read back as before, so staging can
//! only save work, never change what the index holds.

use finseg_core::Date;
use finseg_core::labels::LabelSet;
use finseg_core::record::Record;
use finseg_core::segment_index::{
    IndexedUser, PaymentTexts, RawBooking, StagedAccount, StagedBooking, StagedUser, TagNumbers,
};
use finseg_core::segments::insurance::payment_type;

use finseg_core::bulk::ParsedBatch;

use super::BatchOutcome;
use crate::data::FastMap;

/// Staged users by user key, packed as the index holds them.
pub type Staged = FastMap<i64, IndexedUser>;

/// Follows one bulk import's batches and stages the users they wrote.
pub struct Stager {
    /// The day of ingestion: an account's default balance date, as the writer has it.
    today: Date,
    /// Users whose whole data is known here, by key.
    users: FastMap<i64, StagedUser>,
    /// Their ids, and those of their accounts, to their keys.
    user_keys: FastMap<String, i64>,
    account_users: FastMap<String, i64>,
    /// A record was replaced: nothing more is staged in this import.
    off: bool,
    numbers: TagNumbers,
}

impl Stager {
    pub fn new(today: Date) -> Self {
        Stager {
            today,
            users: FastMap::default(),
            user_keys: FastMap::default(),
            account_users: FastMap::default(),
            off: false,
            numbers: TagNumbers::default(),
        }
    }

    /// Stops following a user; returns what was staged of it.
    fn take(&mut self, user_pk: i64) -> Option<StagedUser> {
        let user = self.users.remove(&user_pk)?;
        self.user_keys.remove(&user.id);
        for a in &user.accounts {
            self.account_users.remove(&a.id);
        }
        Some(user)
    }

    // Over 120 lines on purpose: one pass over a written batch decides, user
    // by user, whether the index may take it.
    /// The users a committed batch left complete, packed, each as of the
    /// batch's sequence number. Call once per batch, in order. What is
    /// staged is copied: the batch goes back to the thread that parsed it,
    /// to be freed where it was allocated (mimalloc frees another thread's
    /// memory at a cost, and the parsing thread reuses its own).
    pub fn stage(
        &mut self,
        batch: &ParsedBatch,
        outcome: &BatchOutcome,
    ) -> Vec<(i64, IndexedUser)> {
        if self.off || outcome.replaced {
            self.off = true;
            self.users.clear();
            self.user_keys.clear();
            self.account_users.clear();
            return Vec::new();
        }
        for pk in &outcome.untracked {
            self.take(*pk);
        }
        let mut created = outcome.created.iter().peekable();
        // Users this batch wrote to, in order of first write.
        let mut touched: Vec<i64> = Vec::new();
        let mut touch = |pk: i64| {
            if touched.last() != Some(&pk) && !touched.contains(&pk) {
                touched.push(pk);
            }
        };
        // The account the last booking went to (bookings come account by
        // account): its user and position, without hashing its id again.
        let mut last_account: Option<(String, i64, usize)> = None;
        for (at, line) in batch.lines.iter().enumerate() {
            let created_pk = match created.peek() {
                Some((line_at, pk)) if *line_at == at => {
                    created.next();
                    Some(*pk)
                }
                _ => None,
            };
            if !outcome.written[at] {
                continue;
            }
            match &line.record {
                Ok(Record::User(u)) => {
                    let Some(pk) = created_pk else { continue };
                    if let std::collections::hash_map::Entry::Vacant(e) = self.users.entry(pk) {
                        let id = u.id.as_str().to_owned();
                        self.user_keys.insert(id.clone(), pk);
                        e.insert(StagedUser {
                            data_seq: 0,
                            id,
                            accounts: Vec::new(),
                        });
                    }
                    touch(pk);
                }
                Ok(Record::Account(a)) => {
                    let Some(&user_pk) = self.user_keys.get(a.user_id.as_str()) else {
                        continue;
                    };
                    if created_pk.is_none() {
                        // Written but not created: a replacement, which
                        // `outcome.replaced` reports; never staged.
                        self.take(user_pk);
                        last_account = None;
                        continue;
                    }
                    let id = a.id.as_str().to_owned();
                    self.account_users.insert(id.clone(), user_pk);
                    let user = self.users.get_mut(&user_pk).expect("keys follow users");
                    user.accounts.push(StagedAccount {
                        id,
                        account_type: a.account_type,
                        balance: a.balance,
                        balance_date: a.balance_date.unwrap_or(self.today),
                        data_since: a.data_since,
                        iban: a.iban.as_ref().map(|i| i.as_str().to_owned()),
                        bookings: Vec::new(),
                        daily_balances: Vec::new(),
                    });
                    touch(user_pk);
                }
                Ok(Record::Transaction(t)) => {
                    let Some((user_pk, account)) =
                        self.staged_account(t.account_id.as_str(), &mut last_account)
                    else {
                        continue;
                    };
                    let (amount, booking_date) = (t.amount, t.booking_date);
                    let mut labels = LabelSet::default();
                    for l in &t.labels {
                        labels.insert(*l);
                    }
                    if let Some((rule_labels, _)) = &line.labelled {
                        labels = LabelSet(labels.0 | rule_labels.0);
                    }
                    let texts = payment_type(amount, labels).map(|_| {
                        Box::new(PaymentTexts {
                            purpose: t.purpose.clone(),
                            counterpart_name: t.counterpart_name.clone(),
                            creditor_id: t.creditor_id.clone(),
                            mandate_reference: t.mandate_reference.clone(),
                        })
                    });
                    account.bookings.push(StagedBooking {
                        booking: RawBooking {
                            date: booking_date,
                            amount,
                            labels,
                            id: t.id.as_str().into(),
                            names_account: None,
                            texts,
                        },
                        counterpart_iban: t
                            .counterpart_iban
                            .as_ref()
                            .map(|i| i.as_str().to_owned()),
                    });
                    touch(user_pk);
                }
                Ok(Record::DailyBalance(b)) => {
                    let Some((user_pk, account)) =
                        self.staged_account(b.account_id.as_str(), &mut last_account)
                    else {
                        continue;
                    };
                    account.daily_balances.push((b.date, b.balance));
                    touch(user_pk);
                }
                Err(_) => {}
            }
        }
        // The last user written may go on in the next batch: it is kept
        // (a copy is staged); every other user is staged and forgotten.
        // A user written again after it was forgotten is read back.
        let last = touched.last().copied();
        let mut out = Vec::with_capacity(touched.len());
        for pk in touched {
            let Some(user) = self.users.get_mut(&pk) else {
                continue;
            };
            user.data_seq = outcome.seq;
            // Packed here, where the records were allocated: the parsed
            // texts are freed by the thread that made them, and the index
            // receives only its compact form.
            if Some(pk) == last {
                out.push((pk, user.clone().pack(&mut self.numbers)));
            } else {
                let user = self.take(pk).expect("present");
                out.push((pk, user.pack(&mut self.numbers)));
            }
        }
        let kept: Vec<i64> = self
            .users
            .keys()
            .copied()
            .filter(|pk| Some(*pk) != last)
            .collect();
        for pk in kept {
            self.take(pk);
        }
        out
    }

    /// A staged account and its user's key.
    fn staged_account(
        &mut self,
        account_id: &str,
        last: &mut Option<(String, i64, usize)>,
    ) -> Option<(i64, &mut StagedAccount)> {
        let (user_pk, pos) = self.find_account(account_id, last)?;
        let user = self.users.get_mut(&user_pk)?;
        Some((user_pk, &mut user.accounts[pos]))
    }

    /// The user and position of a staged account, through `last` when it
    /// is the account looked up before.
    fn find_account(
        &self,
        account_id: &str,
        last: &mut Option<(String, i64, usize)>,
    ) -> Option<(i64, usize)> {
        if let Some((id, user_pk, pos)) = last
            && id == account_id
            && self
                .users
                .get(user_pk)
                .and_then(|u| u.accounts.get(*pos))
                .is_some_and(|a| a.id == account_id)
        {
            return Some((*user_pk, *pos));
        }
        let user_pk = *self.account_users.get(account_id)?;
        let pos = self
            .users
            .get(&user_pk)?
            .accounts
            .iter()
            .position(|a| a.id == account_id)?;
        *last = Some((account_id.to_owned(), user_pk, pos));
        Some((user_pk, pos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use crate::import::{BulkImport, write_all};
    use crate::segment_index as index;
    use finseg_core::bulk::{LineBatch, ParsedBatch};
    use finseg_core::segment_index::ClientIndex;

    fn today() -> Date {
        Date::parse("2026-11-15").unwrap()
    }

    fn open(name: &str) -> (Store, i64) {
        crate::testing::store_with_client(&format!("staging-{name}"))
    }

    /// Imports `lines` in batches of `size` lines as the server does:
    /// parsed and labelled, written, then staged. `between(n)` runs after
    /// the `n`th batch is committed.
    fn import(
        store: &Store,
        client_pk: i64,
        lines: &[String],
        size: usize,
        staged: &mut Staged,
        between: &mut dyn FnMut(usize),
    ) -> super::super::ImportSummary {
        let labeller = crate::rules::labeller(&mut *store.conn().unwrap(), client_pk).unwrap();
        let mut scratch = finseg_core::labelling::Scratch::default();
        let mut imp = BulkImport::begin(store, client_pk, today()).unwrap();
        let mut stager = Stager::new(today());
        for (n, chunk) in lines.chunks(size).enumerate() {
            let mut batch = LineBatch::with_capacity(size, 4096);
            for (i, line) in chunk.iter().enumerate() {
                batch.push((n * size + i + 1) as u64, line);
            }
            let parsed = ParsedBatch::parse_labelled(batch, &labeller, &mut scratch);
            let outcome = imp.write_parsed(&parsed).unwrap();
            staged.extend(stager.stage(&parsed, &outcome));
            between(n + 1);
        }
        imp.finish().unwrap()
    }

    /// Refreshes `index` with `staged` and checks it against an index built
    /// from the database alone; returns how many users came from staging.
    fn refresh_matches_database(
        store: &Store,
        client_pk: i64,
        index: &mut ClientIndex,
        staged: &mut Staged,
    ) -> usize {
        let mut c = store.conn().unwrap();
        let changes = index::changes_since_staged(&mut *c, client_pk, index.seq(), staged).unwrap();
        let done = index::apply(index, changes);
        let reference = index::build(&mut *c, client_pk).unwrap();
        assert_eq!(index.seq(), reference.seq());
        let ours: Vec<_> = index.users().collect();
        let theirs: Vec<_> = reference.users().collect();
        assert_eq!(ours.len(), theirs.len());
        for (a, b) in ours.iter().zip(&theirs) {
            assert_eq!(a, b, "user {} differs", a.0);
        }
        assert!(
            staged.is_empty(),
            "a refresh at the newest write leaves nothing staged"
        );
        done.staged
    }

    #[test]
    fn a_generated_import_is_staged_as_the_database_reads_it() {
        let (store, client_pk) = open("generated");
        let mut index = index::build(&mut *store.conn().unwrap(), client_pk).unwrap();
        let lines: Vec<String> = finseg_gen::Population::new(30, 7, today()).collect();
        let mut staged = Staged::default();
        // Batches of 97 lines: most users lie across two or three batches.
        let summary = import(&store, client_pk, &lines, 97, &mut staged, &mut |_| {});
        assert_eq!(summary.rejected_count, 0);
        assert!(summary.written.transaction > 3_000, "{summary:?}");
        assert_eq!(
            refresh_matches_database(&store, client_pk, &mut index, &mut staged),
            30
        );
    }

    fn user(id: &str) -> String {
        format!(r#"{{"kind":"user","id":"{id}"}}"#)
    }
    fn account(id: &str, user: &str, kind: &str, iban: &str) -> String {
        format!(
            r#"{{"kind":"account","id":"{id}","userId":"{user}","type":"{kind}","currency":"EUR","balance":"1200.00","iban":"{iban}","dataSince":"2026-01-01"}}"#
        )
    }
    fn transaction(id: &str, account: &str, amount: &str, day: &str, extra: &str) -> String {
        format!(
            r#"{{"kind":"transaction","id":"{id}","accountId":"{account}","amount":"{amount}","currency":"EUR","bookingDate":"{day}"{extra}}}"#
        )
    }

    const IBAN_1: &str = "DE32100200300000000010";
    const IBAN_2: &str = "DE56100200370000000011";
    const IBAN_3: &str = "DE80100200440000000012";

    #[test]
    fn users_changed_elsewhere_replaced_or_waiting_are_read_back() {
        let (store, client_pk) = open("edges");
        let mut index = index::build(&mut *store.conn().unwrap(), client_pk).unwrap();
        let allianz = r#","purpose":"Haftpflichtversicherung Vers.-Nr. 4711","counterpartName":"Allianz Versicherungs-AG","creditorId":"DE36ZZZ00010000021","mandateReference":"AZ4711""#;
        let lines = vec![
            // batch 1
            user("u1"),
            account("a1", "u1", "CHECKING", IBAN_1),
            account("a2", "u1", "SAVINGS", IBAN_2),
            transaction(
                "t1",
                "a1",
                "-50.00",
                "2026-10-02",
                &format!(r#","counterpartIban":"{IBAN_2}""#),
            ),
            // batch 2: u1 goes on; t3 waits for its account
            transaction(
                "t2",
                "a2",
                "50.00",
                "2026-10-02",
                &format!(r#","counterpartIban":"{IBAN_1}""#),
            ),
            r#"{"kind":"dailyBalance","accountId":"a1","date":"2026-10-31","balance":"900.00"}"#
                .to_owned(),
            user("u2"),
            transaction("t3", "a3", "-12.00", "2026-10-03", ""),
            // batch 3
            account("a3", "u2", "CHECKING", IBAN_3),
            transaction("t4", "a3", "-31.20", "2026-10-05", allianz),
            user("u3"),
            account("a4", "u3", "checking", "DE41100200300000000042"),
            // batch 4: another writer changed u3 before this batch
            transaction("t5", "a4", "-9.99", "2026-10-06", ""),
            user("u4"),
            account("a5", "u4", "CREDIT_CARD", "DE14100200300000000043"),
            transaction("t6", "a5", "-20.00", "2026-10-07", allianz),
        ];
        let mut staged = Staged::default();
        let summary = import(&store, client_pk, &lines, 4, &mut staged, &mut |n| {
            if n == 3 {
                let line = transaction("t-other", "a4", "-1.00", "2026-10-04", "");
                let rec = finseg_core::input::bulk_record(&line).unwrap();
                let mut c = store.conn().unwrap();
                write_all(&mut *c, client_pk, today(), &[rec])
                    .unwrap()
                    .unwrap();
            }
        });
        assert_eq!(summary.rejected_count, 0, "{summary:?}");
        assert_eq!(summary.written.transaction, 6);
        // u1 and u4 come from staging; u2 (its waiting t3 was written
        // after the batches) and u3 (changed by another writer) are read.
        assert_eq!(
            refresh_matches_database(&store, client_pk, &mut index, &mut staged),
            2
        );

        // A replaced transaction stops staging for the rest of the import.
        let lines = vec![
            transaction("t1", "a1", "-55.00", "2026-10-02", ""),
            user("u5"),
            account("a6", "u5", "CHECKING", "DE84100200300000000044"),
            transaction("t7", "a6", "-5.00", "2026-10-08", ""),
        ];
        let summary = import(&store, client_pk, &lines, 2, &mut staged, &mut |_| {});
        assert_eq!(summary.rejected_count, 0, "{summary:?}");
        assert_eq!(
            refresh_matches_database(&store, client_pk, &mut index, &mut staged),
            0
        );
    }

    #[test]
    fn a_staged_user_waits_for_the_read_that_sees_its_write() {
        let (store, client_pk) = open("early");
        let index = index::build(&mut *store.conn().unwrap(), client_pk).unwrap();
        let lines: Vec<String> = finseg_gen::Population::new(3, 9, today()).collect();
        let mut staged = Staged::default();
        import(&store, client_pk, &lines, 10_000, &mut staged, &mut |_| {});
        // As if staged before the write committed: one step ahead of the database.
        let mut ahead: Staged = staged
            .drain()
            .map(|(pk, mut u)| {
                u.data_seq += 1;
                (pk, u)
            })
            .collect();
        let mut c = store.conn().unwrap();
        let changes =
            index::changes_since_staged(&mut *c, client_pk, index.seq(), &mut ahead).unwrap();
        assert_eq!((changes.users.len(), changes.staged), (3, 0));
        assert_eq!(ahead.len(), 3, "kept for a later read");
    }
}
