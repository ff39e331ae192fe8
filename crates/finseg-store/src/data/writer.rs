//! The [`Writer`]: every ingestion path's upserts, versioned by a write's
//! sequence number.

use std::sync::Arc;

use finseg_core::labelling::Labelled;
use finseg_core::labels::LabelSet;
use finseg_core::record::{AccountRecord, DailyBalanceRecord, Record, TransactionRecord};
use finseg_core::{Amount, Currency, Date, FieldError};

use crate::StoreError;
use crate::conn::{Backend, Conn, P};

use super::*;

/// Writes records of one client, remembering the references it resolved.
/// The caller owns the transaction around it; a transaction that rolls back
/// ends the writer's use (what it remembers may not have been kept).
pub struct Writer {
    client_pk: i64,
    /// The day of ingestion in the client's time zone: the default `balanceDate`.
    today: Date,
    users: FastMap<String, i64>,
    accounts: FastMap<String, AccountRef>,
    /// The ingestion sequence number of the current write transaction.
    seq: Option<i64>,
    /// The client's labelling, loaded with the first batch.
    labeller: finseg_core::labelling::Labeller,
    labeller_loaded: bool,
    scratch: finseg_core::labelling::Scratch,
    /// Users whose `data_seq` this batch has set already.
    touched: FastSet<i64>,
    /// The user touched last in this batch, and the account looked up last:
    /// a run of transactions is mostly one account's, so most lookups end
    /// at a string comparison instead of a hash.
    last_touched: Option<i64>,
    last_account: Option<(String, AccountRef)>,
    /// The multi-row INSERT of `n` transactions at `n - 1`, built when first used.
    insert_sql: Vec<String>,
    /// Rule provenance texts and their `label_provenance` keys.
    provenance: FastMap<String, i64>,
    /// The same by the address of a shared text (see [`Labelled`]).
    provenance_shared: FastMap<usize, (Arc<str>, i64)>,
    /// What a bulk import's index staging needs to know of the writes.
    journal: Option<Journal>,
}

/// What the writer tells a bulk import about its writes, so that the
/// import's parsed records can stand in for the database in the segment
/// index (`import::Stager`). It only says what it knows for certain; when
/// in doubt it says `replaced`, and staging stops.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    /// Users this writer created, with the sequence number of its last
    /// write to each: while a user's `data_seq` is still that number, no
    /// other writer has changed the user's data in between.
    tracked: FastMap<i64, i64>,
    /// The key of the user or account the last write created.
    pub(crate) created: Option<i64>,
    /// Tracked users another writer changed since this one last did.
    pub(crate) untracked: Vec<i64>,
    /// A stored record was replaced (or moved between users): from here on
    /// the parsed records no longer tell a user's whole data.
    pub(crate) replaced: bool,
}

/// Bounds the users a journal follows (a huge import stays in constant memory).
const JOURNAL_LIMIT: usize = 100_000;

/// Rows a multi-row transaction INSERT writes at most (19 parameters a row,
/// well within both engines' limits).
pub const TX_CHUNK: usize = 64;

/// The columns of a multi-row insert: the two every row of a write shares
/// (bound once per statement), then [`TX_ROW_COLUMNS`] of each row's own.
const TX_COLUMN_NAMES: &str = "client_pk, seq, ext_id, account_pk, amount, currency, booking_date, \
    value_date, purpose, counterpart_name, counterpart_iban, counterpart_bic, creditor_id, \
    mandate_reference, end_to_end_reference, bank_transaction_code, sepa_purpose_code, mcc, \
    client_labels, rule_labels, label_rules_pk";
const TX_SHARED_COLUMNS: usize = 2;
const TX_ROW_COLUMNS: usize = 19;

/// A transaction ready to be written: its account resolved, its labels known.
struct TransactionRow<'a> {
    t: &'a TransactionRecord,
    account_pk: i64,
    client_labels: LabelSet,
    rule_labels: LabelSet,
    /// The `label_provenance` row naming the rules behind `rule_labels`.
    label_rules_pk: Option<i64>,
}

impl TransactionRow<'_> {
    /// The row's own values in [`TX_COLUMN_NAMES`] order (after the shared ones).
    fn push_values<'s>(&'s self, out: &mut Vec<P<'s>>) {
        let t = self.t;
        out.extend_from_slice(&[
            P::T(t.id.as_str()),
            P::I(self.account_pk),
            P::I(t.amount.cents()),
            P::T(t.currency.as_str()),
            P::I(t.booking_date.days().into()),
            t.value_date.map(|d| i64::from(d.days())).into(),
            t.purpose.as_deref().into(),
            t.counterpart_name.as_deref().into(),
            t.counterpart_iban.as_ref().map(|i| i.as_str()).into(),
            t.counterpart_bic.as_deref().into(),
            t.creditor_id.as_deref().into(),
            t.mandate_reference.as_deref().into(),
            t.end_to_end_reference.as_deref().into(),
            t.bank_transaction_code.as_deref().into(),
            t.sepa_purpose_code.as_deref().into(),
            t.mcc.map(i64::from).into(),
            P::I(self.client_labels.0 as i64),
            P::I(self.rule_labels.0 as i64),
            self.label_rules_pk.into(),
        ]);
    }
}

/// Bounds the reference caches so that a huge import stays in constant memory.
const CACHE_LIMIT: usize = 200_000;

impl Writer {
    pub fn new(client_pk: i64, today: Date) -> Self {
        Writer {
            client_pk,
            today,
            users: FastMap::default(),
            accounts: FastMap::default(),
            seq: None,
            labeller: finseg_core::labelling::Labeller::default(),
            labeller_loaded: false,
            scratch: finseg_core::labelling::Scratch::default(),
            touched: FastSet::default(),
            last_touched: None,
            last_account: None,
            insert_sql: Vec::new(),
            provenance: FastMap::default(),
            provenance_shared: FastMap::default(),
            journal: None,
        }
    }

    /// Starts telling the bulk import what the writes did (see [`Journal`]).
    pub(crate) fn keep_journal(&mut self, on: bool) {
        self.journal = on.then(Journal::default);
    }

    pub(crate) fn journal(&mut self) -> Option<&mut Journal> {
        self.journal.as_mut()
    }

    /// Starts a write transaction's batch: call right after `BEGIN`.
    pub fn begin_batch(&mut self, c: &mut dyn Conn) -> Result<(), StoreError> {
        let previous = self.seq;
        self.seq = Some(next_seq(c)?);
        self.last_touched = None;
        if let Some(journal) = &mut self.journal {
            // Staging follows a user only from one batch into the next.
            journal.tracked.retain(|_, last| Some(*last) == previous);
            journal.created = None;
            journal.untracked.clear();
        }
        self.touched.clear();
        if !self.labeller_loaded {
            self.labeller = crate::rules::labeller(c, self.client_pk)?;
            self.labeller_loaded = true;
        }
        Ok(())
    }

    /// Drops what the writer remembers of the database after a rolled-back
    /// transaction: the keys it cached may belong to rows that were never
    /// committed.
    pub fn forget_uncommitted(&mut self) {
        self.users.clear();
        self.accounts.clear();
        self.last_account = None;
        self.last_touched = None;
        self.touched.clear();
        self.provenance.clear();
        self.provenance_shared.clear();
        if let Some(journal) = &mut self.journal {
            journal.tracked.clear();
            journal.created = None;
            journal.replaced = true;
        }
    }

    fn seq(&self) -> i64 {
        self.seq.expect("begin_batch is called before writing")
    }

    /// The sequence number of the current batch (after `begin_batch`).
    pub fn current_seq(&self) -> i64 {
        self.seq()
    }

    /// Records that this batch changes the user's data (once per batch).
    fn touch(&mut self, c: &mut dyn Conn, user_pk: i64) -> Result<(), StoreError> {
        if self.last_touched == Some(user_pk) || !self.touched.insert(user_pk) {
            return Ok(());
        }
        self.last_touched = Some(user_pk);
        let seq = self.seq();
        if let Some(journal) = &mut self.journal
            && let Some(last) = journal.tracked.get_mut(&user_pk)
        {
            // One statement either way: set only if nobody else wrote since.
            let kept = c.exec(
                "UPDATE users SET data_seq = $1 WHERE pk = $2 AND data_seq = $3",
                &[P::I(seq), P::I(user_pk), P::I(*last)],
            )?;
            if kept == 1 {
                *last = seq;
                return Ok(());
            }
            journal.tracked.remove(&user_pk);
            journal.untracked.push(user_pk);
        }
        touch_user(c, user_pk, seq)
    }

    pub fn write(
        &mut self,
        c: &mut dyn Conn,
        rec: &Record,
    ) -> Result<Result<(), Refusal>, StoreError> {
        self.write_labelled(c, rec, None)
    }

    /// Writes a record whose rule labels may have been computed already
    /// (the bulk import labels on its parsing thread).
    pub fn write_labelled(
        &mut self,
        c: &mut dyn Conn,
        rec: &Record,
        labelled: Option<Labelled>,
    ) -> Result<Result<(), Refusal>, StoreError> {
        match rec {
            Record::User(u) => {
                self.user(c, u.id.as_str())?;
                Ok(Ok(()))
            }
            Record::Account(a) => self.account(c, a),
            Record::Transaction(t) => self.transaction(c, t, labelled),
            Record::DailyBalance(b) => self.daily_balance(c, b),
        }
    }

    /// Creates the user if new; returns its key.
    pub fn user(&mut self, c: &mut dyn Conn, id: &str) -> Result<i64, StoreError> {
        if let Some(pk) = self.users.get(id) {
            return Ok(*pk);
        }
        let values = [
            P::I(self.client_pk),
            P::T(id),
            P::I(crate::now_unix()),
            P::I(self.seq()),
        ];
        let row = match c.backend() {
            // `OR IGNORE` keeps no statement journal (see `multi_insert_sql`);
            // a stored user is then read.
            Backend::Sqlite => match c.query_one(
                "INSERT OR IGNORE INTO users (client_pk, ext_id, created_at, seq, data_seq)
                 VALUES ($1, $2, $3, $4, $4) RETURNING pk, seq",
                &values,
            )? {
                Some(row) => Some(row),
                None => c.query_one(
                    "SELECT pk, seq FROM users WHERE client_pk = $1 AND ext_id = $2",
                    &values[..2],
                )?,
            },
            Backend::Postgres => c.query_one(
                "INSERT INTO users (client_pk, ext_id, created_at, seq, data_seq) VALUES ($1, $2, $3, $4, $4)
                 ON CONFLICT (client_pk, ext_id) DO UPDATE SET ext_id = excluded.ext_id
                 RETURNING pk, seq",
                &values,
            )?,
        }
        .ok_or_else(|| StoreError::Internal("upsert returned no row".into()))?;
        let pk = row[0].int();
        // A stored user keeps the number of the write that created it.
        let created = row[1].int() == self.seq();
        if let Some(journal) = &mut self.journal
            && created
            && journal.tracked.len() < JOURNAL_LIMIT
        {
            journal.tracked.entry(pk).or_insert(row[1].int());
            journal.created = Some(pk);
        }
        self.remember_user(id, pk);
        Ok(pk)
    }

    fn remember_user(&mut self, id: &str, pk: i64) {
        if self.users.len() >= CACHE_LIMIT {
            self.users.clear();
        }
        self.users.insert(id.to_owned(), pk);
    }

    fn user_pk(&mut self, c: &mut dyn Conn, id: &str) -> Result<Option<i64>, StoreError> {
        if let Some(pk) = self.users.get(id) {
            return Ok(Some(*pk));
        }
        let pk = user_pk(c, self.client_pk, id)?;
        if let Some(pk) = pk {
            self.remember_user(id, pk);
        }
        Ok(pk)
    }

    fn account_ref(
        &mut self,
        c: &mut dyn Conn,
        id: &str,
    ) -> Result<Option<AccountRef>, StoreError> {
        if let Some((last, a)) = &self.last_account
            && last == id
        {
            return Ok(Some(*a));
        }
        if let Some(a) = self.accounts.get(id) {
            let a = *a;
            self.remember_last_account(id, a);
            return Ok(Some(a));
        }
        let Some(r) = c.query_one(
            "SELECT pk, currency, user_pk FROM accounts WHERE client_pk = $1 AND ext_id = $2",
            &[P::I(self.client_pk), P::T(id)],
        )?
        else {
            return Ok(None);
        };
        let a = AccountRef {
            pk: r[0].int(),
            // Statement imports may have stored a withdrawn code.
            currency: Currency::parse_historical(&r[1].text()).ok_or_else(|| {
                StoreError::Internal(format!("account {id} has no currency code"))
            })?,
            user_pk: r[2].int(),
        };
        self.remember_account(id, a);
        Ok(Some(a))
    }

    fn remember_last_account(&mut self, id: &str, a: AccountRef) {
        match &mut self.last_account {
            Some((last, last_ref)) => {
                last.clear();
                last.push_str(id);
                *last_ref = a;
            }
            None => self.last_account = Some((id.to_owned(), a)),
        }
    }

    fn remember_account(&mut self, id: &str, a: AccountRef) {
        // A replaced account may have moved to another user.
        if self
            .last_account
            .as_ref()
            .is_some_and(|(last, _)| last == id)
        {
            self.last_account = None;
        }
        if self.accounts.len() >= CACHE_LIMIT {
            self.accounts.clear();
        }
        self.accounts.insert(id.to_owned(), a);
    }

    pub fn account(
        &mut self,
        c: &mut dyn Conn,
        a: &AccountRecord,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let Some(user_pk) = self.user_pk(c, a.user_id.as_str())? else {
            return Ok(Err(Refusal::MissingReference(FieldError::new(
                "/userId",
                format!("user '{}' does not exist", a.user_id),
            ))));
        };
        let balance_date = a.balance_date.unwrap_or(self.today);
        let seq = self.seq();
        let values = [
            P::I(self.client_pk),
            P::T(a.id.as_str()),
            P::I(user_pk),
            P::I(a.account_type.code().into()),
            P::T(a.currency.as_str()),
            P::I(a.balance.cents()),
            P::I(balance_date.days().into()),
            a.iban.as_ref().map(|i| i.as_str()).into(),
            a.name.as_deref().into(),
            a.overdraft_limit.map(Amount::cents).into(),
            a.data_since.map(|d| i64::from(d.days())).into(),
            P::I(seq),
        ];
        // `OR IGNORE` on SQLite, for the reason given at `multi_insert_sql`:
        // it keeps no statement journal.
        let inserted = c.query_one(
            match c.backend() {
                Backend::Sqlite => {
                    "INSERT OR IGNORE INTO accounts (client_pk, ext_id, user_pk, account_type, currency, balance,
                                   balance_date, iban, name, overdraft_limit, data_since, seq)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                     RETURNING pk"
                }
                Backend::Postgres => {
                    "INSERT INTO accounts (client_pk, ext_id, user_pk, account_type, currency, balance, balance_date,
                                   iban, name, overdraft_limit, data_since, seq)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                     ON CONFLICT (client_pk, ext_id) DO NOTHING
                     RETURNING pk"
                }
            },
            &values,
        )?;
        let pk = match inserted {
            Some(r) => {
                if let Some(journal) = &mut self.journal {
                    journal.created = Some(r[0].int());
                }
                r[0].int()
            }
            None => {
                if let Some(journal) = &mut self.journal {
                    journal.replaced = true;
                }
                // The account may move to another user: the old one changes too.
                c.exec(
                    "UPDATE users SET data_seq = $1
                     WHERE pk IN (SELECT user_pk FROM accounts WHERE client_pk = $2 AND ext_id = $3)",
                    &[P::I(seq), P::I(self.client_pk), P::T(a.id.as_str())],
                )?;
                // A replacement: keep the old version for running jobs' snapshots.
                c.exec(
                    "INSERT INTO accounts_history (pk, client_pk, ext_id, user_pk, account_type, currency, balance,
                        balance_date, iban, name, overdraft_limit, data_since, seq, seq_to)
                     SELECT pk, client_pk, ext_id, user_pk, account_type, currency, balance, balance_date, iban, name,
                        overdraft_limit, data_since, seq, $1
                     FROM accounts WHERE client_pk = $2 AND ext_id = $3 AND seq < $1",
                    &[P::I(seq), P::I(self.client_pk), P::T(a.id.as_str())],
                )?;
                // SQLite numbers `$n` by first appearance: the key goes last.
                let mut update = values[2..].to_vec();
                update.extend_from_slice(&values[..2]);
                c.query_one(
                    "UPDATE accounts SET user_pk = $1, account_type = $2, currency = $3, balance = $4, balance_date = $5,
                        iban = $6, name = $7, overdraft_limit = $8, data_since = $9, seq = $10
                     WHERE client_pk = $11 AND ext_id = $12 RETURNING pk",
                    &update,
                )?
                .ok_or_else(|| StoreError::Internal("account vanished during upsert".into()))?[0]
                .int()
            }
        };
        self.remember_account(
            a.id.as_str(),
            AccountRef {
                pk,
                user_pk,
                currency: a.currency,
            },
        );
        self.touch(c, user_pk)?;
        Ok(Ok(()))
    }

    fn account_for(
        &mut self,
        c: &mut dyn Conn,
        account_id: &str,
        currency: Option<&str>,
    ) -> Result<Result<AccountRef, Refusal>, StoreError> {
        let Some(acc) = self.account_ref(c, account_id)? else {
            return Ok(Err(Refusal::MissingReference(FieldError::new(
                "/accountId",
                format!("account '{account_id}' does not exist"),
            ))));
        };
        if let Some(cur) = currency
            && cur != acc.currency.as_str()
        {
            return Ok(Err(Refusal::Conflict(FieldError::new(
                "/currency",
                format!(
                    "account '{account_id}' is held in {}, not {cur}",
                    acc.currency
                ),
            ))));
        }
        Ok(Ok(acc))
    }

    pub fn transaction(
        &mut self,
        c: &mut dyn Conn,
        t: &TransactionRecord,
        labelled: Option<Labelled>,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let row = match self.transaction_row(c, t, labelled.as_ref())? {
            Ok(row) => row,
            Err(r) => return Ok(Err(r)),
        };
        self.write_transaction_rows(c, std::slice::from_ref(&row))?;
        Ok(Ok(()))
    }

    /// Writes a run of transactions with multi-row statements (the bulk
    /// import's hot path: one statement per [`TX_CHUNK`] rows instead of one
    /// per row). Returns each one's outcome, in order.
    pub fn transactions<'a>(
        &mut self,
        c: &mut dyn Conn,
        items: &[(&'a TransactionRecord, Option<&'a Labelled>)],
    ) -> Result<Vec<Result<(), Refusal>>, StoreError> {
        let mut outcomes = Vec::with_capacity(items.len());
        let mut rows = Vec::with_capacity(TX_CHUNK);
        for (t, labelled) in items {
            match self.transaction_row(c, t, *labelled)? {
                Ok(row) => {
                    rows.push(row);
                    outcomes.push(Ok(()));
                    if rows.len() == TX_CHUNK {
                        self.write_transaction_rows(c, &rows)?;
                        rows.clear();
                    }
                }
                Err(r) => outcomes.push(Err(r)),
            }
        }
        self.write_transaction_rows(c, &rows)?;
        Ok(outcomes)
    }

    /// Resolves a transaction's account and labels, and marks its user changed.
    fn transaction_row<'a>(
        &mut self,
        c: &mut dyn Conn,
        t: &'a TransactionRecord,
        labelled: Option<&Labelled>,
    ) -> Result<Result<TransactionRow<'a>, Refusal>, StoreError> {
        let acc = match self.account_for(c, t.account_id.as_str(), Some(t.currency.as_str()))? {
            Ok(a) => a,
            Err(r) => return Ok(Err(r)),
        };
        let mut client_labels = LabelSet::default();
        for l in &t.labels {
            client_labels.insert(*l);
        }
        let (rule_labels, label_rules_pk) = match labelled {
            Some((set, rules)) => (*set, self.provenance_pk(c, rules.as_ref())?),
            None => {
                let (set, rules) = self
                    .labeller
                    .apply(&finseg_core::labelling::signals(t), &mut self.scratch);
                (set, self.provenance_pk(c, rules.as_ref())?)
            }
        };
        self.touch(c, acc.user_pk)?;
        Ok(Ok(TransactionRow {
            t,
            account_pk: acc.pk,
            client_labels,
            rule_labels,
            label_rules_pk,
        }))
    }

    /// The number of a rule provenance text, stored the first time it is
    /// seen (the texts are few: a client's rules fire in few combinations).
    /// Labelling hands out each text as one shared allocation, so it is
    /// found by its address before its text is hashed.
    fn provenance_pk(
        &mut self,
        c: &mut dyn Conn,
        text: Option<&Arc<str>>,
    ) -> Result<Option<i64>, StoreError> {
        let Some(text) = text else { return Ok(None) };
        let address = Arc::as_ptr(text).cast::<u8>() as usize;
        if let Some((_, pk)) = self.provenance_shared.get(&address) {
            return Ok(Some(*pk));
        }
        let pk = match self.provenance.get(&**text) {
            Some(pk) => *pk,
            None => provenance_pk(c, self.client_pk, text)?,
        };
        if self.provenance.len() >= CACHE_LIMIT || self.provenance_shared.len() >= CACHE_LIMIT {
            self.provenance.clear();
            self.provenance_shared.clear();
        }
        self.provenance.insert(text.to_string(), pk);
        // The map holds the text, so its address stays its own.
        self.provenance_shared.insert(address, (text.clone(), pk));
        Ok(Some(pk))
    }

    /// Inserts the rows in one statement; rows whose id is stored already
    /// (or repeated within the run) are then replaced one by one.
    fn write_transaction_rows(
        &mut self,
        c: &mut dyn Conn,
        rows: &[TransactionRow],
    ) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let seq = self.seq();
        let mut values = Vec::with_capacity(TX_SHARED_COLUMNS + rows.len() * TX_ROW_COLUMNS);
        values.extend_from_slice(&[P::I(self.client_pk), P::I(seq)]);
        for row in rows {
            row.push_values(&mut values);
        }
        let sql = self.multi_insert_sql(c.backend(), rows.len());
        let inserted = c.exec_rows(sql, &values)?;
        if inserted == rows.len() as u64 {
            return Ok(());
        }
        if let Some(journal) = &mut self.journal {
            journal.replaced = true;
        }
        if rows.len() == 1 {
            // That statement was this row's own insert: its id is taken.
            return self.replace_transaction(c, &values);
        }
        // Some ids were taken. Replacing a row this statement has just
        // inserted rewrites it with the same values (same `seq`, so no
        // history version), so every row of the run can take the single-row
        // path in order: the last version of an id wins, as it would have.
        let (shared, own) = values.split_at(TX_SHARED_COLUMNS);
        let mut row_values = Vec::with_capacity(TX_SHARED_COLUMNS + TX_ROW_COLUMNS);
        for own in own.chunks(TX_ROW_COLUMNS) {
            row_values.clear();
            row_values.extend_from_slice(shared);
            row_values.extend_from_slice(own);
            if c.exec_rows(self.multi_insert_sql(c.backend(), 1), &row_values)? == 0 {
                self.replace_transaction(c, &row_values)?;
            }
        }
        Ok(())
    }

    /// `INSERT … VALUES (…), (…)` for `n` rows that skips rows whose id is
    /// taken. On SQLite that is `INSERT OR IGNORE`, not `ON CONFLICT DO
    /// NOTHING`: a multi-row statement that may abort on a constraint (every
    /// NOT NULL column may) keeps a statement journal, a copy of each page
    /// it touches, so that it can undo its own earlier rows; that copying
    /// was 9 % of the writer's CPU in an import. `OR IGNORE` never aborts,
    /// so SQLite keeps none. The rows never break another constraint: every
    /// NOT NULL column is bound from a parsed record's required field.
    fn multi_insert_sql(&mut self, backend: Backend, n: usize) -> &str {
        if self.insert_sql.len() < n {
            self.insert_sql.resize(n, String::new());
        }
        let sql = &mut self.insert_sql[n - 1];
        if sql.is_empty() {
            sql.push_str(match backend {
                Backend::Sqlite => "INSERT OR IGNORE INTO transactions (",
                Backend::Postgres => "INSERT INTO transactions (",
            });
            sql.push_str(TX_COLUMN_NAMES);
            sql.push_str(") VALUES ");
            for r in 0..n {
                if r > 0 {
                    sql.push_str(", ");
                }
                // Every row names the shared parameters 1 and 2 again.
                sql.push_str(match backend {
                    Backend::Sqlite => "(?1, ?2",
                    Backend::Postgres => "($1, $2",
                });
                for col in 0..TX_ROW_COLUMNS {
                    match backend {
                        // SQLite numbers a bare `?` one past the highest
                        // number so far, and looks nothing up for it: a
                        // `$N` is a name, found by a scan of the names
                        // before it, which made preparing a 64-row insert
                        // cost 14 million instructions.
                        Backend::Sqlite => sql.push_str(", ?"),
                        Backend::Postgres => sql.push_str(&format!(
                            ", ${}",
                            TX_SHARED_COLUMNS + r * TX_ROW_COLUMNS + col + 1
                        )),
                    }
                }
                sql.push(')');
            }
            if backend == Backend::Postgres {
                sql.push_str(" ON CONFLICT (client_pk, ext_id) DO NOTHING");
            }
        }
        sql
    }

    /// Replaces the stored version of a transaction whose id is taken
    /// (`values` in [`TX_COLUMN_NAMES`] order), keeping the old one in
    /// history for running jobs' snapshots.
    fn replace_transaction(&self, c: &mut dyn Conn, values: &[P]) -> Result<(), StoreError> {
        // The row's key, `(client_pk, ext_id)`, is its first and third
        // values; the write's number is the second.
        let (client_pk, seq, id) = (values[0], values[1], values[2]);
        // The transaction may move from another user's account.
        c.exec(
            "UPDATE users SET data_seq = $1 WHERE pk IN (SELECT a.user_pk FROM transactions t
               JOIN accounts a ON a.pk = t.account_pk WHERE t.client_pk = $2 AND t.ext_id = $3)",
            &[seq, client_pk, id],
        )?;
        c.exec(
            concat!(
                keep_transaction_version!(),
                " WHERE client_pk = $2 AND ext_id = $3 AND seq < $1"
            ),
            &[seq, client_pk, id],
        )?;
        let mut update = values[3..].to_vec();
        update.extend_from_slice(&[seq, client_pk, id]);
        let updated = c.exec(
            "UPDATE transactions SET account_pk = $1, amount = $2, currency = $3, booking_date = $4,
                value_date = $5, purpose = $6, counterpart_name = $7, counterpart_iban = $8,
                counterpart_bic = $9, creditor_id = $10, mandate_reference = $11, end_to_end_reference = $12,
                bank_transaction_code = $13, sepa_purpose_code = $14, mcc = $15, client_labels = $16,
                rule_labels = $17, label_rules_pk = $18, seq = $19
             WHERE client_pk = $20 AND ext_id = $21",
            &update,
        )?;
        // The insert skipped this row, so its id is stored: `OR IGNORE`
        // skips nothing else (see `multi_insert_sql`). Were that ever
        // wrong, the batch fails here instead of reporting a row it lost.
        if updated != 1 {
            return Err(StoreError::Internal(format!(
                "a transaction the insert skipped is not stored ({updated} rows replaced)"
            )));
        }
        Ok(())
    }

    pub fn daily_balance(
        &mut self,
        c: &mut dyn Conn,
        b: &DailyBalanceRecord,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let acc = match self.account_for(c, b.account_id.as_str(), None)? {
            Ok(a) => a,
            Err(r) => return Ok(Err(r)),
        };
        self.touch(c, acc.user_pk)?;
        let seq = self.seq();
        let values = [
            P::I(acc.pk),
            P::I(b.date.days().into()),
            P::I(b.balance.cents()),
            P::I(seq),
        ];
        let inserted = c.exec(
            "INSERT INTO daily_balances (account_pk, day, balance, seq) VALUES ($1, $2, $3, $4)
             ON CONFLICT (account_pk, day) DO NOTHING",
            &values,
        )?;
        if inserted == 0 {
            if let Some(journal) = &mut self.journal {
                journal.replaced = true;
            }
            c.exec(
                "INSERT INTO daily_balances_history (account_pk, day, balance, seq, seq_to)
                 SELECT account_pk, day, balance, seq, $1 FROM daily_balances
                 WHERE account_pk = $2 AND day = $3 AND seq < $1",
                &[P::I(seq), P::I(acc.pk), P::I(b.date.days().into())],
            )?;
            c.exec(
                "UPDATE daily_balances SET balance = $1, seq = $2 WHERE account_pk = $3 AND day = $4",
                &[values[2], values[3], values[0], values[1]],
            )?;
        }
        Ok(Ok(()))
    }
}
