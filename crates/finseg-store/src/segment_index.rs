//! Builds and refreshes a node's segment index ([`finseg_core::segment_index`])
//! from the database.
//!
//! Both read in one read-only transaction, so the index reflects exactly
//! the writes up to the sequence number read in it. A refresh re-reads only
//! the users whose `data_seq` is newer than the index and drops the users
//! erased since: every node catches up with every other node's writes.

use finseg_core::labels::LabelSet;
use finseg_core::segment_index::{
    self, AccountParts, ClientIndex, ColumnarAccount, ColumnarUser, IndexedUser, PaymentTexts,
    RawBooking, TagNumbers,
};
use finseg_core::segments::insurance::payment_type;
use finseg_core::transfers::normalise_iban;
use finseg_core::{AccountType, Amount, Date, Text};

use crate::StoreError;
use crate::conn::{Conn, P};
use crate::data::FastMap;
use crate::import::Staged;

/// Users read per round trip.
const CHUNK: usize = 1_000;

fn read_transaction<T>(
    c: &mut dyn Conn,
    f: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    c.begin_read()?;
    let out = f(c);
    // Nothing was written: ending the transaction either way is the same.
    let _ = c.rollback();
    out
}

/// What changed for one client after a sequence number.
#[derive(Debug, Default)]
pub struct Changes {
    /// The newest committed write the changes reach.
    pub seq: i64,
    pub erased: Vec<i64>,
    /// The changed (or new) users, as they are at `seq`.
    pub users: Vec<(i64, IndexedUser)>,
    /// How many of them came from staging.
    pub staged: usize,
}

/// What applying changes did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Refreshed {
    pub reloaded: usize,
    pub erased: usize,
    /// Of the users reloaded, those taken from a bulk import's staging
    /// instead of the database.
    pub staged: usize,
}

/// Reads the users changed after `since` and the users erased since.
/// `since < 0` reads every user: the whole index.
pub fn changes_since(c: &mut dyn Conn, client_pk: i64, since: i64) -> Result<Changes, StoreError> {
    changes_since_staged(c, client_pk, since, &mut Staged::default())
}

/// As [`changes_since`], taking a changed user from `staged` (a bulk
/// import's parsed records, see `import::Stager`) instead of reading it
/// when it is staged as of the `data_seq` the database shows. Staged users
/// that are not visible yet stay in `staged`; older ones are dropped.
pub fn changes_since_staged(
    c: &mut dyn Conn,
    client_pk: i64,
    since: i64,
    staged: &mut Staged,
) -> Result<Changes, StoreError> {
    read_transaction(c, |c| {
        let seq = crate::data::current_seq(c)?;
        let result = changes_read(c, client_pk, since, seq, staged);
        // A staged user this read could see is taken or stale, whatever it returned.
        staged.retain(|_, user| user.data_seq > seq);
        result
    })
}

/// The changes after `since` up to `seq`, inside the read transaction.
fn changes_read(
    c: &mut dyn Conn,
    client_pk: i64,
    since: i64,
    seq: i64,
    staged: &mut Staged,
) -> Result<Changes, StoreError> {
    let mut out = Changes {
        seq,
        ..Changes::default()
    };
    if seq <= since {
        return Ok(out);
    }
    let params = [P::I(client_pk), P::I(since)];
    out.erased = c
        .query(
            "SELECT user_pk FROM erased_users WHERE client_pk = $1 AND seq > $2",
            &params,
        )?
        .iter()
        .map(|r| r[0].int())
        .collect();
    let mut changed: Vec<i64> = Vec::new();
    for r in c.query(
        "SELECT pk, data_seq FROM users WHERE client_pk = $1 AND data_seq > $2 ORDER BY pk",
        &params,
    )? {
        let (pk, data_seq) = (r[0].int(), r[1].int());
        match staged.remove(&pk) {
            Some(user) if user.data_seq == data_seq => {
                out.users.push((pk, user));
                out.staged += 1;
                continue;
            }
            // Staged by a write this read does not see yet.
            Some(user) if user.data_seq > data_seq => {
                staged.insert(pk, user);
            }
            _ => {}
        }
        changed.push(pk);
    }
    for chunk in changed.chunks(CHUNK) {
        out.users.extend(load_users(c, client_pk, chunk)?);
    }
    Ok(out)
}

/// Applies changes read after the index's own sequence number.
pub fn apply(index: &mut ClientIndex, changes: Changes) -> Refreshed {
    let mut done = Refreshed::default();
    if changes.seq <= index.seq() {
        return done;
    }
    for pk in changes.erased {
        index.remove(pk);
        done.erased += 1;
    }
    for (pk, user) in changes.users {
        index.put(pk, user);
        done.reloaded += 1;
    }
    done.staged = changes.staged;
    index.advance(changes.seq);
    done
}

/// The client's index, built from the current tables.
pub fn build(c: &mut dyn Conn, client_pk: i64) -> Result<ClientIndex, StoreError> {
    let mut index = ClientIndex::new(-1);
    apply(&mut index, changes_since(c, client_pk, -1)?);
    Ok(index)
}

/// Brings the index up to the newest committed write.
pub fn refresh(
    c: &mut dyn Conn,
    client_pk: i64,
    index: &mut ClientIndex,
) -> Result<Refreshed, StoreError> {
    let changes = changes_since(c, client_pk, index.seq())?;
    Ok(apply(index, changes))
}

// Over 120 lines on purpose: one streaming read of the bookings into a
// reused row, packed account by account as they arrive.
/// Reads and packs the given users (current versions).
fn load_users(
    c: &mut dyn Conn,
    client_pk: i64,
    pks: &[i64],
) -> Result<Vec<(i64, IndexedUser)>, StoreError> {
    let list = pks.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let client = [P::I(client_pk)];
    let users = c.query(
        &format!("SELECT pk, ext_id, data_seq FROM users WHERE client_pk = $1 AND pk IN ({list})"),
        &client,
    )?;
    let accounts = c.query(
        &format!(
            "SELECT pk, ext_id, user_pk, account_type, balance, balance_date, data_since, iban
             FROM accounts WHERE client_pk = $1 AND user_pk IN ({list})"
        ),
        &client,
    )?;
    // Each user's accounts in id order, as the job engine reads them; the
    // counterpart IBANs of bookings are matched against their IBANs.
    let mut by_user: FastMap<i64, Vec<usize>> = FastMap::default();
    for (i, r) in accounts.iter().enumerate() {
        by_user.entry(r[2].int()).or_default().push(i);
    }
    let mut ibans: FastMap<i64, Vec<Option<String>>> = FastMap::default();
    let mut user_of_account: FastMap<i64, i64> = FastMap::default();
    for (user_pk, rows) in &mut by_user {
        rows.sort_by(|a, b| accounts[*a][1].opt_str().cmp(&accounts[*b][1].opt_str()));
        ibans.insert(
            *user_pk,
            rows.iter()
                .map(|i| accounts[*i][7].opt_text().map(|s| normalise_iban(&s)))
                .collect(),
        );
        for i in rows.iter() {
            user_of_account.insert(accounts[*i][0].int(), *user_pk);
        }
    }
    let mut bookings: FastMap<i64, Vec<RawBooking>> = FastMap::default();
    // The largest read: streamed, not collected. The texts of every row are
    // read, and kept for candidate insurance payments only: choosing them in
    // SQL (`CASE WHEN` the candidate test, once per text) cost the reader
    // more than reading the texts into the reused row. The rows come
    // account by account, so
    // an account's bookings gather in `run` and its user's IBANs are looked
    // up once per account, not once per row.
    let mut run: (i64, Vec<RawBooking>) = (0, Vec::new());
    let mut run_ibans: Option<&Vec<Option<String>>> = None;
    c.for_each_row(
        &format!(
            "SELECT t.account_pk, t.booking_date, t.amount, (t.client_labels | t.rule_labels), t.ext_id,
                    t.counterpart_iban, t.purpose, t.counterpart_name, t.creditor_id, t.mandate_reference
             FROM accounts a JOIN transactions t ON t.account_pk = a.pk
             WHERE a.client_pk = $1 AND a.user_pk IN ({list})"
        ),
        &client,
        &mut |r| {
            let account_pk = r[0].int();
            if account_pk != run.0 || run.1.is_empty() {
                if !run.1.is_empty() {
                    bookings.entry(run.0).or_default().append(&mut run.1);
                }
                run.0 = account_pk;
                run_ibans = user_of_account.get(&account_pk).map(|user_pk| &ibans[user_pk]);
            }
            let names_account =
                segment_index::names_account(r[5].opt_str(), run_ibans.map_or(&[][..], |i| &i[..]));
            let (amount, labels) = (Amount::from_cents(r[2].int()), LabelSet(r[3].int() as u64));
            let texts = payment_type(amount, labels).map(|_| {
                Box::new(PaymentTexts {
                    purpose: r[6].opt_str().map(Text::from),
                    counterpart_name: r[7].opt_str().map(Text::from),
                    creditor_id: r[8].opt_str().map(Text::from),
                    mandate_reference: r[9].opt_str().map(Text::from),
                })
            });
            run.1.push(RawBooking {
                date: Date::from_days(r[1].int() as i32),
                amount,
                labels,
                id: r[4].opt_str().expect("ext_id is NOT NULL").into(),
                names_account,
                texts,
            });
        },
    )?;
    if !run.1.is_empty() {
        bookings.entry(run.0).or_default().append(&mut run.1);
    }
    let mut supplied: FastMap<i64, Vec<(Date, Amount)>> = FastMap::default();
    for r in c.query(
        &format!(
            "SELECT b.account_pk, b.day, b.balance FROM accounts a
               JOIN daily_balances b ON b.account_pk = a.pk
             WHERE a.client_pk = $1 AND a.user_pk IN ({list})"
        ),
        &client,
    )? {
        supplied.entry(r[0].int()).or_default().push((
            Date::from_days(r[1].int() as i32),
            Amount::from_cents(r[2].int()),
        ));
    }
    let mut numbers = TagNumbers::default();
    // user pk → packed accounts in id order; None once one does not fit
    let mut packed: FastMap<i64, Option<Vec<ColumnarAccount>>> = FastMap::default();
    for (user_pk, rows) in &by_user {
        let accounts: Option<Vec<ColumnarAccount>> = rows
            .iter()
            .map(|i| {
                let r = &accounts[*i];
                let pk = r[0].int();
                let id = r[1].text();
                ColumnarAccount::pack(
                    AccountParts {
                        id: &id,
                        account_type: AccountType::from_code(r[3].int() as i16)
                            .unwrap_or(AccountType::Checking),
                        balance: Amount::from_cents(r[4].int()),
                        balance_date: Date::from_days(r[5].int() as i32),
                        data_since: r[6].opt_int().map(|d| Date::from_days(d as i32)),
                    },
                    bookings.get_mut(&pk).map_or(&mut [][..], |b| &mut b[..]),
                    supplied.remove(&pk).unwrap_or_default(),
                    &mut numbers,
                )
            })
            .collect();
        packed.insert(*user_pk, accounts);
    }
    Ok(users
        .iter()
        .map(|r| {
            let pk = r[0].int();
            let user = match packed.remove(&pk) {
                None => Some(Vec::new()),
                Some(accounts) => accounts,
            }
            .map(|accounts| ColumnarUser {
                id: r[1].text().into(),
                accounts: accounts.into_boxed_slice(),
            });
            (
                pk,
                IndexedUser {
                    data_seq: r[2].int(),
                    user,
                },
            )
        })
        .collect())
}
