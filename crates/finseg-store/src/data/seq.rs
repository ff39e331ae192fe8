//! Write sequence numbers, which order every write of a client and
//! version the rows it replaces.

use crate::StoreError;
use crate::conn::Conn;

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
