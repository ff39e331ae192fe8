//! Users, accounts, transactions and daily balances of one client.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use finseg_core::labelling::Labelled;
use finseg_core::labels::{Label, LabelSet};
use finseg_core::record::{AccountRecord, DailyBalanceRecord, Record, TransactionRecord};
use finseg_core::{AccountType, Amount, Currency, Date, FieldError};

use crate::StoreError;
use crate::conn::{Backend, Conn, P, Row, V};

/// The writer's caches are looked up once per record: foldhash is several
/// times faster than SipHash on short keys and still seeded per map.
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type FastSet<K> = HashSet<K, foldhash::fast::RandomState>;

/// What a write needs to know about an existing account.
#[derive(Debug, Clone, Copy)]
pub struct AccountRef {
    pub pk: i64,
    pub user_pk: i64,
    pub currency: Currency,
}

/// Why one record could not be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// It names a user or account this client does not have (yet).
    MissingReference(FieldError),
    /// It contradicts what is stored (e.g. a currency other than the account's).
    Conflict(FieldError),
}

impl Refusal {
    pub fn into_field_error(self) -> FieldError {
        match self {
            Refusal::MissingReference(e) | Refusal::Conflict(e) => e,
        }
    }
}

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

/// Allocates the next ingestion sequence number. Called inside a write
/// transaction: the counter row stays locked until commit, so numbers
/// become visible in order and a job's snapshot (a number) is exact.
pub fn next_seq(c: &mut dyn Conn) -> Result<i64, StoreError> {
    Ok(c.query_one(
        "UPDATE counters SET value = value + 1 WHERE name = 'ingest_seq' RETURNING value",
        &[],
    )?
    .ok_or_else(|| StoreError::Internal("counter ingest_seq is missing".into()))?[0]
        .int())
}

/// The newest committed ingestion sequence number: a job's snapshot.
pub fn current_seq(c: &mut dyn Conn) -> Result<i64, StoreError> {
    Ok(
        c.query_one("SELECT value FROM counters WHERE name = 'ingest_seq'", &[])?
            .map_or(0, |r| r[0].int()),
    )
}

/// Copies the stored version of transactions into history, replaced by
/// the write numbered `$1`; the caller appends the `WHERE` that picks them.
macro_rules! keep_transaction_version {
    () => {
        "INSERT INTO transactions_history (pk, client_pk, ext_id, account_pk, amount, currency, booking_date,
            value_date, purpose, counterpart_name, counterpart_iban, counterpart_bic, creditor_id,
            mandate_reference, end_to_end_reference, bank_transaction_code, sepa_purpose_code, mcc,
            client_labels, rule_labels, label_rules_pk, seq, seq_to)
         SELECT pk, client_pk, ext_id, account_pk, amount, currency, booking_date, value_date, purpose,
            counterpart_name, counterpart_iban, counterpart_bic, creditor_id, mandate_reference,
            end_to_end_reference, bank_transaction_code, sepa_purpose_code, mcc, client_labels, rule_labels,
            label_rules_pk, seq, $1
         FROM transactions"
    };
}
pub(crate) use keep_transaction_version;

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

/// The key of a client's rule provenance text, inserted if new.
pub fn provenance_pk(c: &mut dyn Conn, client_pk: i64, text: &str) -> Result<i64, StoreError> {
    c.exec(
        "INSERT INTO label_provenance (client_pk, text) VALUES ($1, $2)
         ON CONFLICT (client_pk, text) DO NOTHING",
        &[P::I(client_pk), P::T(text)],
    )?;
    Ok(c.query_one(
        "SELECT pk FROM label_provenance WHERE client_pk = $1 AND text = $2",
        &[P::I(client_pk), P::T(text)],
    )?
    .ok_or_else(|| StoreError::Internal("label provenance vanished".into()))?[0]
        .int())
}

/// Marks the user's data as changed by the write numbered `seq`.
pub fn touch_user(c: &mut dyn Conn, user_pk: i64, seq: i64) -> Result<(), StoreError> {
    c.exec(
        "UPDATE users SET data_seq = $1 WHERE pk = $2",
        &[P::I(seq), P::I(user_pk)],
    )?;
    Ok(())
}

pub fn user_pk(c: &mut dyn Conn, client_pk: i64, id: &str) -> Result<Option<i64>, StoreError> {
    Ok(c.query_one(
        "SELECT pk FROM users WHERE client_pk = $1 AND ext_id = $2",
        &[P::I(client_pk), P::T(id)],
    )?
    .map(|r| r[0].int()))
}

// ------------------------------------------------------------------ reads

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserView {
    pub id: String,
    pub account_count: i64,
}

pub fn get_user(
    c: &mut dyn Conn,
    client_pk: i64,
    id: &str,
) -> Result<Option<UserView>, StoreError> {
    Ok(c.query_one(
        "SELECT u.ext_id, (SELECT COUNT(*) FROM accounts a WHERE a.user_pk = u.pk)
             FROM users u WHERE u.client_pk = $1 AND u.ext_id = $2",
        &[P::I(client_pk), P::T(id)],
    )?
    .map(|r| UserView {
        id: r[0].text(),
        account_count: r[1].int(),
    }))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountView {
    pub id: String,
    pub user_id: String,
    pub account_type: AccountType,
    pub currency: String,
    pub balance: Amount,
    pub balance_date: Date,
    pub iban: Option<String>,
    pub name: Option<String>,
    pub overdraft_limit: Option<Amount>,
    /// The stated `dataSince`, else the earliest booking date; `None` for an
    /// account without transactions.
    pub data_since: Option<Date>,
    pub transaction_count: i64,
}

const ACCOUNT_SELECT: &str = "SELECT a.ext_id, u.ext_id, a.account_type, a.currency, a.balance, a.balance_date,
        a.iban, a.name, a.overdraft_limit,
        COALESCE(a.data_since, (SELECT MIN(t.booking_date) FROM transactions t WHERE t.account_pk = a.pk)),
        (SELECT COUNT(*) FROM transactions t WHERE t.account_pk = a.pk)
     FROM accounts a JOIN users u ON u.pk = a.user_pk";

fn account_view(r: &Row) -> AccountView {
    AccountView {
        id: r[0].text(),
        user_id: r[1].text(),
        account_type: AccountType::from_code(r[2].int() as i16).unwrap_or(AccountType::Checking),
        currency: r[3].text(),
        balance: Amount::from_cents(r[4].int()),
        balance_date: Date::from_days(r[5].int() as i32),
        iban: r[6].opt_text(),
        name: r[7].opt_text(),
        overdraft_limit: r[8].opt_int().map(Amount::from_cents),
        data_since: r[9].opt_int().map(|d| Date::from_days(d as i32)),
        transaction_count: r[10].int(),
    }
}

pub fn get_account(
    c: &mut dyn Conn,
    client_pk: i64,
    id: &str,
) -> Result<Option<AccountView>, StoreError> {
    let sql = format!("{ACCOUNT_SELECT} WHERE a.client_pk = $1 AND a.ext_id = $2");
    Ok(c.query_one(&sql, &[P::I(client_pk), P::T(id)])?
        .as_ref()
        .map(account_view))
}

/// `None` when the user does not exist.
pub fn user_accounts(
    c: &mut dyn Conn,
    client_pk: i64,
    user_id: &str,
) -> Result<Option<Vec<AccountView>>, StoreError> {
    let Some(upk) = user_pk(c, client_pk, user_id)? else {
        return Ok(None);
    };
    let sql = format!("{ACCOUNT_SELECT} WHERE a.user_pk = $1 ORDER BY a.ext_id");
    Ok(Some(
        c.query(&sql, &[P::I(upk)])?
            .iter()
            .map(account_view)
            .collect(),
    ))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelView {
    pub label: &'static str,
    /// `CLIENT` for labels supplied at ingestion, `RULE` for labels set by a
    /// labelling rule, `DETECTED` for own-account transfers paired across the user's accounts.
    pub source: &'static str,
    /// The rule that set the label: `rule set/rule id@version`.
    pub rule: Option<String>,
    /// Set by a rule that guesses from weak evidence (a fallback): the
    /// label is likely but not certain, and an analyst may want to look.
    pub weak: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionView {
    pub id: String,
    pub account_id: String,
    pub amount: Amount,
    pub currency: String,
    pub booking_date: Date,
    pub value_date: Option<Date>,
    pub purpose: Option<String>,
    pub counterpart_name: Option<String>,
    pub counterpart_iban: Option<String>,
    pub counterpart_bic: Option<String>,
    pub creditor_id: Option<String>,
    pub mandate_reference: Option<String>,
    pub end_to_end_reference: Option<String>,
    pub bank_transaction_code: Option<String>,
    pub sepa_purpose_code: Option<String>,
    pub mcc: Option<String>,
    pub labels: Vec<LabelView>,
}

/// Shows own-account transfers on a page of transactions: the user's
/// bookings around the page's dates are paired as a job pairs them.
fn mark_detected_transfers(
    c: &mut dyn Conn,
    account_pk: i64,
    items: &mut [TransactionView],
) -> Result<(), StoreError> {
    let (Some(first), Some(last)) = (
        items.iter().map(|t| t.booking_date).min(),
        items.iter().map(|t| t.booking_date).max(),
    ) else {
        return Ok(());
    };
    let margin = finseg_core::transfers::MAX_DAYS_APART;
    let accounts = c.query(
        "SELECT a.pk, a.ext_id, a.account_type, a.iban FROM accounts a
         WHERE a.user_pk = (SELECT user_pk FROM accounts WHERE pk = $1)",
        &[P::I(account_pk)],
    )?;
    if accounts.len() < 2 {
        return Ok(());
    }
    let mut user = finseg_core::segments::UserData {
        id: String::new(),
        accounts: Vec::new(),
    };
    let mut index = HashMap::new();
    for a in &accounts {
        index.insert(a[0].int(), user.accounts.len());
        user.accounts.push(finseg_core::segments::AccountData {
            id: a[1].text(),
            account_type: AccountType::from_code(a[2].int() as i16)
                .unwrap_or(AccountType::Checking),
            iban: a[3].opt_text(),
            balance: Amount::ZERO,
            balance_date: first,
            data_since: None,
            daily_balances: Vec::new(),
            transactions: Vec::new(),
        });
    }
    let rows = c.query(
        "SELECT account_pk, ext_id, amount, booking_date, counterpart_iban FROM transactions
         WHERE account_pk IN (SELECT pk FROM accounts WHERE user_pk = (SELECT user_pk FROM accounts WHERE pk = $1))
           AND booking_date >= $2 AND booking_date <= $3",
        &[
            P::I(account_pk),
            P::I(i64::from(first.days() - margin)),
            P::I(i64::from(last.days() + margin)),
        ],
    )?;
    for r in rows {
        let Some(&ai) = index.get(&r[0].int()) else {
            continue;
        };
        user.accounts[ai]
            .transactions
            .push(finseg_core::segments::Tx {
                counterpart_iban: r[4].opt_text(),
                ..finseg_core::segments::Tx::plain(
                    &r[1].text(),
                    Date::from_days(r[3].int() as i32),
                    Amount::from_cents(r[2].int()),
                )
            });
    }
    finseg_core::transfers::mark_own_transfers(&mut user);
    let transfer = Label::parse("OWNACCOUNTTRANSFER").expect("taxonomy label");
    let own = &user.accounts[index[&account_pk]];
    for item in items.iter_mut() {
        let detected = own
            .transactions
            .iter()
            .any(|t| t.id == item.id && t.labels.contains(transfer));
        if detected && !item.labels.iter().any(|l| l.label == "OWNACCOUNTTRANSFER") {
            item.labels.push(LabelView {
                label: "OWNACCOUNTTRANSFER",
                source: "DETECTED",
                rule: None,
                weak: false,
            });
        }
    }
    Ok(())
}

/// Client labels first, then rule labels with the rule that set each.
fn label_views(client: LabelSet, rules: Option<&str>) -> Vec<LabelView> {
    let mut out: Vec<LabelView> = client
        .iter()
        .map(|l: Label| LabelView {
            label: l.name(),
            source: "CLIENT",
            rule: None,
            weak: false,
        })
        .collect();
    for entry in rules.unwrap_or("").split(';').filter(|e| !e.is_empty()) {
        let (name, rule) = entry.split_once('=').unwrap_or((entry, ""));
        if let Some(l) = Label::parse(name)
            && !client.contains(l)
        {
            out.push(LabelView {
                label: l.name(),
                source: "RULE",
                rule: Some(rule.to_owned()),
                weak: finseg_core::labelling::RuleSet::default_rules().is_weak(rule),
            });
        }
    }
    out
}

fn opt_date(v: &V) -> Option<Date> {
    v.opt_int().map(|d| Date::from_days(d as i32))
}

/// One page of an account's transactions, newest first, with the total
/// count; `None` when the account does not exist.
pub fn account_transactions(
    c: &mut dyn Conn,
    client_pk: i64,
    account_id: &str,
    offset: i64,
    limit: i64,
) -> Result<Option<(i64, Vec<TransactionView>)>, StoreError> {
    let Some(acc) = c.query_one(
        "SELECT pk FROM accounts WHERE client_pk = $1 AND ext_id = $2",
        &[P::I(client_pk), P::T(account_id)],
    )?
    else {
        return Ok(None);
    };
    let apk = acc[0].int();
    let total = c
        .query_one(
            "SELECT COUNT(*) FROM transactions WHERE account_pk = $1",
            &[P::I(apk)],
        )?
        .map_or(0, |r| r[0].int());
    let rows = c.query(
        "SELECT ext_id, amount, currency, booking_date, value_date, purpose, counterpart_name, counterpart_iban,
                counterpart_bic, creditor_id, mandate_reference, end_to_end_reference, bank_transaction_code,
                sepa_purpose_code, mcc, client_labels, p.text
         FROM transactions t LEFT JOIN label_provenance p ON p.pk = t.label_rules_pk
         WHERE t.account_pk = $1
         ORDER BY booking_date DESC, ext_id LIMIT $2 OFFSET $3",
        &[P::I(apk), P::I(limit), P::I(offset)],
    )?;
    let mut items: Vec<TransactionView> = rows
        .iter()
        .map(|r| TransactionView {
            id: r[0].text(),
            account_id: account_id.to_owned(),
            amount: Amount::from_cents(r[1].int()),
            currency: r[2].text(),
            booking_date: Date::from_days(r[3].int() as i32),
            value_date: opt_date(&r[4]),
            purpose: r[5].opt_text(),
            counterpart_name: r[6].opt_text(),
            counterpart_iban: r[7].opt_text(),
            counterpart_bic: r[8].opt_text(),
            creditor_id: r[9].opt_text(),
            mandate_reference: r[10].opt_text(),
            end_to_end_reference: r[11].opt_text(),
            bank_transaction_code: r[12].opt_text(),
            sepa_purpose_code: r[13].opt_text(),
            mcc: r[14].opt_int().map(|m| format!("{m:04}")),
            labels: label_views(LabelSet(r[15].int() as u64), r[16].opt_text().as_deref()),
        })
        .collect();
    mark_detected_transfers(c, apk, &mut items)?;
    Ok(Some((total, items)))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyBalanceView {
    pub date: Date,
    pub balance: Amount,
}

pub fn account_daily_balances(
    c: &mut dyn Conn,
    client_pk: i64,
    account_id: &str,
) -> Result<Option<Vec<DailyBalanceView>>, StoreError> {
    let Some(acc) = c.query_one(
        "SELECT pk FROM accounts WHERE client_pk = $1 AND ext_id = $2",
        &[P::I(client_pk), P::T(account_id)],
    )?
    else {
        return Ok(None);
    };
    let rows = c.query(
        "SELECT day, balance FROM daily_balances WHERE account_pk = $1 ORDER BY day",
        &[P::I(acc[0].int())],
    )?;
    Ok(Some(
        rows.iter()
            .map(|r| DailyBalanceView {
                date: Date::from_days(r[0].int() as i32),
                balance: Amount::from_cents(r[1].int()),
            })
            .collect(),
    ))
}

// ----------------------------------------------------------------- erasure

/// Physically removes accounts (every version), their transactions and
/// balances (every version). Erasure does not wait for running jobs.
fn erase_accounts_where(c: &mut dyn Conn, cond: &str, params: &[P]) -> Result<(), StoreError> {
    let pks: Vec<i64> = c
        .query(
            &format!("SELECT pk FROM accounts WHERE {cond} UNION SELECT pk FROM accounts_history WHERE {cond}"),
            params,
        )?
        .iter()
        .map(|r| r[0].int())
        .collect();
    for pk in pks {
        for sql in [
            "DELETE FROM transactions WHERE account_pk = $1",
            "DELETE FROM transactions_history WHERE account_pk = $1",
            "DELETE FROM daily_balances WHERE account_pk = $1",
            "DELETE FROM daily_balances_history WHERE account_pk = $1",
            "DELETE FROM accounts_history WHERE pk = $1",
            "DELETE FROM accounts WHERE pk = $1",
        ] {
            c.exec(sql, &[P::I(pk)])?;
        }
    }
    Ok(())
}

/// Removes the account with its transactions and balances; false if unknown.
pub fn delete_account(c: &mut dyn Conn, client_pk: i64, id: &str) -> Result<bool, StoreError> {
    let Some(r) = c.query_one(
        "SELECT pk, user_pk FROM accounts WHERE client_pk = $1 AND ext_id = $2",
        &[P::I(client_pk), P::T(id)],
    )?
    else {
        return Ok(false);
    };
    erase_accounts_where(c, "pk = $1", &[P::I(r[0].int())])?;
    let seq = next_seq(c)?;
    touch_user(c, r[1].int(), seq)?;
    Ok(true)
}

/// Erases the user and everything derived from them; false if unknown.
pub fn delete_user(c: &mut dyn Conn, client_pk: i64, id: &str) -> Result<bool, StoreError> {
    let Some(upk) = user_pk(c, client_pk, id)? else {
        return Ok(false);
    };
    erase_accounts_where(c, "user_pk = $1", &[P::I(upk)])?;
    // The user's entries in stored segment results go too.
    // (Found by the results' key, job and user id, job by job: an index on
    // the user's key would cost every stored member an index entry.)
    let of_client = "job_pk IN (SELECT pk FROM jobs WHERE client_pk = $1) AND user_ext_id = $2";
    c.exec(
        &format!(
            "UPDATE jobs SET users_matched = users_matched - 1
             WHERE pk IN (SELECT job_pk FROM job_results WHERE {of_client})"
        ),
        &[P::I(client_pk), P::T(id)],
    )?;
    c.exec(
        &format!("DELETE FROM job_results WHERE {of_client}"),
        &[P::I(client_pk), P::T(id)],
    )?;
    c.exec("DELETE FROM users WHERE pk = $1", &[P::I(upk)])?;
    // Segment indexes drop the user when they see this.
    let seq = next_seq(c)?;
    c.exec(
        "INSERT INTO erased_users (client_pk, user_pk, seq) VALUES ($1, $2, $3)",
        &[P::I(client_pk), P::I(upk), P::I(seq)],
    )?;
    Ok(true)
}

/// Counts of what one client holds (for the demo and for operators).
pub fn client_counts(c: &mut dyn Conn, client_pk: i64) -> Result<(i64, i64, i64), StoreError> {
    let n = |c: &mut dyn Conn, sql: &str| -> Result<i64, StoreError> {
        Ok(c.query_one(sql, &[P::I(client_pk)])?
            .map_or(0, |r| r[0].int()))
    };
    Ok((
        n(c, "SELECT COUNT(*) FROM users WHERE client_pk = $1")?,
        n(c, "SELECT COUNT(*) FROM accounts WHERE client_pk = $1")?,
        n(c, "SELECT COUNT(*) FROM transactions WHERE client_pk = $1")?,
    ))
}
