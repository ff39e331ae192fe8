//! The schema, one text for both backends, and the migrations that build it.
//!
//! `{PK}` and `{INT}` are replaced per backend; everything else is SQL both
//! engines accept. Money columns hold minor units, date columns day numbers
//! since 1970-01-01, timestamps Unix seconds. Migrations are append-only:
//! a released migration is never edited.

use crate::StoreError;
use crate::conn::{Backend, Conn, P, in_transaction};

/// The columns an account version has, live and in history.
macro_rules! account_columns {
    () => {
        "    client_pk {INT} NOT NULL,
    ext_id TEXT NOT NULL,
    user_pk {INT} NOT NULL,
    account_type {INT} NOT NULL,
    currency TEXT NOT NULL,
    balance {INT} NOT NULL,
    balance_date {INT} NOT NULL,
    iban TEXT,
    name TEXT,
    overdraft_limit {INT},
    data_since {INT},
    seq {INT} NOT NULL,
"
    };
}

/// The columns a transaction version has, live and in history.
macro_rules! transaction_columns {
    () => {
        "    client_pk {INT} NOT NULL,
    ext_id TEXT NOT NULL,
    account_pk {INT} NOT NULL,
    amount {INT} NOT NULL,
    currency TEXT NOT NULL,
    booking_date {INT} NOT NULL,
    value_date {INT},
    purpose TEXT,
    counterpart_name TEXT,
    counterpart_iban TEXT,
    counterpart_bic TEXT,
    creditor_id TEXT,
    mandate_reference TEXT,
    end_to_end_reference TEXT,
    bank_transaction_code TEXT,
    sepa_purpose_code TEXT,
    mcc {INT},
    client_labels {INT} NOT NULL,
    -- Labels set by labelling rules, and the rule of each (LABEL=set/rule@version;…);
    -- since migration 6 that text is in label_provenance (label_rules_pk).
    rule_labels {INT} NOT NULL,
    label_rules TEXT,
    seq {INT} NOT NULL,
"
    };
}

const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        concat!(
    "
CREATE TABLE clients (
    pk {PK},
    client_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    webhook_secret TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    created_at {INT} NOT NULL
);
CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    client_pk {INT} NOT NULL,
    expires_at {INT} NOT NULL
);
CREATE INDEX tokens_expiry ON tokens (expires_at);
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value {INT} NOT NULL
);
INSERT INTO counters (name, value) VALUES ('ingest_seq', 0);
CREATE TABLE users (
    pk {PK},
    client_pk {INT} NOT NULL,
    ext_id TEXT NOT NULL,
    created_at {INT} NOT NULL,
    seq {INT} NOT NULL,
    UNIQUE (client_pk, ext_id)
);
-- Jobs split a client's users into ranges of keys.
CREATE INDEX users_client_pk ON users (client_pk, pk);
CREATE TABLE accounts (
    pk {PK},
",
    account_columns!(),
    "    UNIQUE (client_pk, ext_id)
);
-- Partitions read accounts by user key range within a client.
CREATE INDEX accounts_user ON accounts (client_pk, user_pk);
-- Replaced versions, kept while a job's snapshot may still read them.
CREATE TABLE accounts_history (
    pk {INT} NOT NULL,
",
    account_columns!(),
    "    seq_to {INT} NOT NULL
);
CREATE INDEX accounts_history_user ON accounts_history (client_pk, user_pk);
CREATE TABLE transactions (
    pk {PK},
",
    transaction_columns!(),
    "    UNIQUE (client_pk, ext_id)
);
CREATE INDEX transactions_account_day ON transactions (account_pk, booking_date);
CREATE TABLE transactions_history (
    pk {INT} NOT NULL,
",
    transaction_columns!(),
    "    seq_to {INT} NOT NULL
);
CREATE INDEX transactions_history_account ON transactions_history (account_pk);
CREATE TABLE daily_balances (
    account_pk {INT} NOT NULL,
    day {INT} NOT NULL,
    balance {INT} NOT NULL,
    seq {INT} NOT NULL,
    PRIMARY KEY (account_pk, day)
);
CREATE TABLE daily_balances_history (
    account_pk {INT} NOT NULL,
    day {INT} NOT NULL,
    balance {INT} NOT NULL,
    seq {INT} NOT NULL,
    seq_to {INT} NOT NULL
);
CREATE INDEX daily_balances_history_account ON daily_balances_history (account_pk);
CREATE TABLE client_rules (
    client_pk {INT} PRIMARY KEY,
    rules TEXT NOT NULL,
    updated_at {INT} NOT NULL
);
CREATE TABLE jobs (
    pk {PK},
    job_id TEXT NOT NULL UNIQUE,
    client_pk {INT} NOT NULL,
    segment_type TEXT NOT NULL,
    params TEXT NOT NULL,
    callback_url TEXT,
    idempotency_key TEXT,
    status TEXT NOT NULL,
    creation_date {INT} NOT NULL,
    created_at {INT} NOT NULL,
    started_at {INT},
    finished_at {INT},
    expires_at {INT},
    snapshot_seq {INT} NOT NULL,
    users_total {INT} NOT NULL,
    partitions_total {INT} NOT NULL,
    partitions_done {INT} NOT NULL,
    users_done {INT} NOT NULL,
    users_evaluated {INT} NOT NULL,
    users_matched {INT} NOT NULL,
    users_without_data {INT} NOT NULL,
    error TEXT
);
CREATE UNIQUE INDEX jobs_idempotency ON jobs (client_pk, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_client ON jobs (client_pk, pk);
CREATE TABLE job_partitions (
    job_pk {INT} NOT NULL,
    part_no {INT} NOT NULL,
    user_pk_from {INT} NOT NULL,
    user_pk_to {INT} NOT NULL,
    status TEXT NOT NULL,
    lease_owner TEXT,
    lease_expires_ms {INT} NOT NULL,
    attempts {INT} NOT NULL,
    users_evaluated {INT} NOT NULL,
    users_matched {INT} NOT NULL,
    users_without_data {INT} NOT NULL,
    error TEXT,
    PRIMARY KEY (job_pk, part_no)
);
CREATE INDEX job_partitions_claim ON job_partitions (status, lease_expires_ms);
CREATE TABLE job_results (
    job_pk {INT} NOT NULL,
    user_ext_id TEXT NOT NULL,
    part_no {INT} NOT NULL,
    user_pk {INT} NOT NULL,
    member TEXT NOT NULL,
    PRIMARY KEY (job_pk, user_ext_id)
);
CREATE INDEX job_results_user ON job_results (user_pk);
CREATE TABLE callbacks (
    pk {PK},
    job_pk {INT} NOT NULL,
    client_pk {INT} NOT NULL,
    url TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts {INT} NOT NULL,
    next_attempt_ms {INT} NOT NULL,
    give_up_ms {INT} NOT NULL,
    lease_owner TEXT,
    lease_expires_ms {INT} NOT NULL,
    last_error TEXT
);
CREATE INDEX callbacks_due ON callbacks (status, next_attempt_ms);
"
        ),
    ),
    (
        2,
        "
-- The sequence number of each user's latest change (any of their rows), so
-- that a node's segment index re-reads only the users changed since it was
-- built. Existing users count as changed now.
ALTER TABLE users ADD COLUMN data_seq {INT} NOT NULL DEFAULT 0;
UPDATE users SET data_seq = (SELECT value FROM counters WHERE name = 'ingest_seq');
CREATE INDEX users_data_seq ON users (client_pk, data_seq);
-- Erased users, so that segment indexes drop them.
CREATE TABLE erased_users (
    client_pk {INT} NOT NULL,
    user_pk {INT} NOT NULL,
    seq {INT} NOT NULL
);
CREATE INDEX erased_users_seq ON erased_users (client_pk, seq);
",
    ),
    (
        3,
        "
-- Workers claim the oldest pending partition by one index range.
CREATE INDEX job_partitions_pending ON job_partitions (status, job_pk, part_no);
",
    ),
    (
        4,
        "
-- Erasure finds a user's stored results by (job, user id), the key.
DROP INDEX job_results_user;
",
    ),
    (
        5,
        "
-- Creating a job cuts the client's users as of its snapshot into key
-- ranges: from the index alone, without reading the users' rows.
CREATE INDEX users_client_pk_seq ON users (client_pk, pk, seq);
DROP INDEX users_client_pk;
",
    ),
    (
        6,
        "
-- A transaction names the rules that labelled it by a number into this
-- table: a client's rules fire in a few thousand combinations, and the
-- text was the widest column of the widest table (41 bytes a row).
CREATE TABLE label_provenance (
    pk {PK},
    client_pk {INT} NOT NULL,
    text TEXT NOT NULL,
    UNIQUE (client_pk, text)
);
ALTER TABLE transactions ADD COLUMN label_rules_pk {INT};
ALTER TABLE transactions_history ADD COLUMN label_rules_pk {INT};
INSERT INTO label_provenance (client_pk, text)
    SELECT client_pk, label_rules FROM transactions WHERE label_rules IS NOT NULL
    UNION SELECT client_pk, label_rules FROM transactions_history WHERE label_rules IS NOT NULL;
UPDATE transactions SET label_rules_pk = (SELECT p.pk FROM label_provenance p
        WHERE p.client_pk = transactions.client_pk AND p.text = transactions.label_rules),
    label_rules = NULL
    WHERE label_rules IS NOT NULL;
UPDATE transactions_history SET label_rules_pk = (SELECT p.pk FROM label_provenance p
        WHERE p.client_pk = transactions_history.client_pk AND p.text = transactions_history.label_rules),
    label_rules = NULL
    WHERE label_rules IS NOT NULL;
",
    ),
    (
        7,
        "
-- A deleted client stays as a row so that its key is never given to
-- another client (in-memory state of other nodes may still name it).
ALTER TABLE clients ADD COLUMN deleted_at {INT};
",
    ),
    (
        8,
        "
-- How far each named bulk import is committed (`import::progress`).
CREATE TABLE imports (
    client_pk {INT} NOT NULL,
    import_id TEXT NOT NULL,
    status TEXT NOT NULL,
    committed_through {INT} NOT NULL,
    lines {INT} NOT NULL,
    users {INT} NOT NULL,
    accounts {INT} NOT NULL,
    transactions {INT} NOT NULL,
    daily_balances {INT} NOT NULL,
    rejected_count {INT} NOT NULL,
    started_at {INT} NOT NULL,
    updated_at {INT} NOT NULL,
    PRIMARY KEY (client_pk, import_id)
);
-- The fair claim of partitions looks at the active jobs only.
CREATE INDEX jobs_status ON jobs (status);
",
    ),
    (
        9,
        "
-- An analyst's corrections of labels (`corrections`): keyed by the
-- corrected transaction's strongest stable signal.
CREATE TABLE corrections (
    pk {PK},
    client_pk {INT} NOT NULL,
    transaction_id TEXT NOT NULL,
    incoming {INT} NOT NULL,
    key_kind TEXT NOT NULL,
    key_value TEXT NOT NULL,
    labels TEXT NOT NULL,
    created_at {INT} NOT NULL,
    withdrawn_at {INT}
);
CREATE INDEX corrections_client ON corrections (client_pk, pk);
",
    ),
    (
        10,
        "
-- A client-level statement import finds each statement's account by IBAN.
CREATE INDEX accounts_iban ON accounts (client_pk, iban) WHERE iban IS NOT NULL;
",
    ),
    (
        11,
        "
-- Relabelling runs in the background (`relabel::jobs`): one row per run,
-- at most one running per client.
CREATE TABLE relabel_jobs (
    pk {PK},
    job_id TEXT NOT NULL UNIQUE,
    client_pk {INT} NOT NULL,
    status TEXT NOT NULL,
    created_at {INT} NOT NULL,
    started_at {INT} NOT NULL,
    finished_at {INT},
    heartbeat_at {INT} NOT NULL,
    transactions_total {INT} NOT NULL,
    examined {INT} NOT NULL,
    changed {INT} NOT NULL,
    -- Rules or corrections changed while the run was going: run again.
    again {INT} NOT NULL,
    error TEXT
);
CREATE INDEX relabel_jobs_client ON relabel_jobs (client_pk, pk);
CREATE UNIQUE INDEX relabel_jobs_running ON relabel_jobs (client_pk) WHERE status = 'RUNNING';
",
    ),
];

fn render(sql: &str, backend: Backend) -> String {
    let (pk, int) = match backend {
        Backend::Sqlite => ("INTEGER PRIMARY KEY", "INTEGER"),
        Backend::Postgres => (
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            "BIGINT",
        ),
    };
    sql.replace("{PK}", pk).replace("{INT}", int)
}

/// Brings the schema up to date; safe to run from several nodes at once.
pub fn migrate(c: &mut dyn Conn) -> Result<(), StoreError> {
    migrate_through(c, i64::MAX)
}

/// Applies the migrations up to version `last`.
fn migrate_through(c: &mut dyn Conn, last: i64) -> Result<(), StoreError> {
    let backend = c.backend();
    in_transaction(c, |c| {
        if backend == Backend::Postgres {
            // Serialises concurrent starts of several nodes.
            c.batch("SELECT pg_advisory_xact_lock(7355608)")?;
        }
        c.batch(&render(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version {INT} PRIMARY KEY, applied_at {INT} NOT NULL)",
            backend,
        ))?;
        let applied: Vec<i64> = c
            .query("SELECT version FROM schema_migrations", &[])?
            .iter()
            .map(|r| r[0].int())
            .collect();
        for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v <= last) {
            if applied.contains(version) {
                continue;
            }
            tracing::info!(version, "applying migration");
            c.batch(&render(sql, backend))?;
            c.exec(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                &[P::I(*version), P::I(crate::now_unix())],
            )?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::SqliteConn;

    #[test]
    fn provenance_texts_move_into_their_table() {
        let dir = std::env::temp_dir().join(format!("finseg-migrate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.db");
        let _ = std::fs::remove_file(&path);
        let mut c = SqliteConn::open(&path).unwrap();
        migrate_through(&mut c, 5).unwrap();
        // Two clients with the same text, a repeated text, one without rules,
        // and a replaced version in history.
        c.batch(
            "INSERT INTO transactions (client_pk, ext_id, account_pk, amount, currency, booking_date,
                client_labels, rule_labels, label_rules, seq) VALUES
                (1, 't1', 1, -5, 'EUR', 0, 0, 4, 'SALARY=default/salary@1', 1),
                (1, 't2', 1, -5, 'EUR', 0, 0, 4, 'SALARY=default/salary@1', 1),
                (1, 't3', 1, -5, 'EUR', 0, 0, 0, NULL, 1),
                (2, 't1', 2, -5, 'EUR', 0, 0, 4, 'SALARY=default/salary@1', 1);
             INSERT INTO transactions_history (pk, client_pk, ext_id, account_pk, amount, currency, booking_date,
                client_labels, rule_labels, label_rules, seq, seq_to) VALUES
                (1, 1, 't1', 1, -5, 'EUR', 0, 0, 8, 'RENT=default/rent@1', 0, 1);",
        )
        .unwrap();
        migrate(&mut c).unwrap();
        let rows = c
            .query(
                "SELECT t.client_pk, t.ext_id, p.text, t.label_rules FROM transactions t
                 LEFT JOIN label_provenance p ON p.pk = t.label_rules_pk AND p.client_pk = t.client_pk
                 ORDER BY t.client_pk, t.ext_id",
                &[],
            )
            .unwrap();
        let got: Vec<(i64, String, Option<String>, Option<String>)> = rows
            .iter()
            .map(|r| (r[0].int(), r[1].text(), r[2].opt_text(), r[3].opt_text()))
            .collect();
        let salary = Some("SALARY=default/salary@1".to_owned());
        assert_eq!(
            got,
            vec![
                (1, "t1".into(), salary.clone(), None),
                (1, "t2".into(), salary.clone(), None),
                (1, "t3".into(), None, None),
                (2, "t1".into(), salary, None),
            ]
        );
        let history = c
            .query(
                "SELECT p.text FROM transactions_history h JOIN label_provenance p ON p.pk = h.label_rules_pk",
                &[],
            )
            .unwrap();
        assert_eq!(history[0][0].text(), "RENT=default/rent@1");
        let count = c
            .query("SELECT COUNT(*) FROM label_provenance", &[])
            .unwrap();
        assert_eq!(count[0][0].int(), 3, "one row per client and text");
        drop(c);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
