//! An analyst's corrections of labels, stored with the key they apply by
//! (`finseg_core::corrections`). Withdrawn corrections stay as history.

use finseg_core::Amount;
use finseg_core::corrections::{Correction, Corrections, Key, KeyKind};
use finseg_core::labelling::Signals;
use finseg_core::labels::{Label, LabelSet};

use crate::StoreError;
use crate::conn::{Conn, P, Row};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionRow {
    pub id: i64,
    pub transaction_id: String,
    pub incoming: bool,
    pub key_kind: String,
    pub key_value: String,
    pub labels: Vec<String>,
    pub created_at: i64,
}

const COLUMNS: &str = "pk, transaction_id, incoming, key_kind, key_value, labels, created_at";

fn row(r: &Row) -> CorrectionRow {
    CorrectionRow {
        id: r[0].int(),
        transaction_id: r[1].text(),
        incoming: r[2].int() != 0,
        key_kind: r[3].text(),
        key_value: r[4].text(),
        labels: r[5]
            .text()
            .split(',')
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        created_at: r[6].int(),
    }
}

/// The signals of a stored transaction, owned.
#[derive(Debug, Clone, Default)]
pub struct StoredSignals {
    pub amount: Amount,
    pub purpose: Option<String>,
    pub counterpart_name: Option<String>,
    pub counterpart_iban: Option<String>,
    pub creditor_id: Option<String>,
    pub mandate_reference: Option<String>,
}

impl StoredSignals {
    pub fn signals(&self) -> Signals<'_> {
        Signals {
            amount: self.amount,
            purpose: self.purpose.as_deref(),
            counterpart_name: self.counterpart_name.as_deref(),
            counterpart_iban: self.counterpart_iban.as_deref(),
            creditor_id: self.creditor_id.as_deref(),
            mandate_reference: self.mandate_reference.as_deref(),
            ..Signals::default()
        }
    }
}

/// What a correction is keyed by, read from the client's transaction.
pub fn transaction_signals(
    c: &mut dyn Conn,
    client_pk: i64,
    transaction_id: &str,
) -> Result<Option<StoredSignals>, StoreError> {
    Ok(c.query_one(
        "SELECT amount, purpose, counterpart_name, counterpart_iban, creditor_id, mandate_reference
         FROM transactions WHERE client_pk = $1 AND ext_id = $2",
        &[P::I(client_pk), P::T(transaction_id)],
    )?
    .map(|r| StoredSignals {
        amount: Amount::from_cents(r[0].int()),
        purpose: r[1].opt_text(),
        counterpart_name: r[2].opt_text(),
        counterpart_iban: r[3].opt_text(),
        creditor_id: r[4].opt_text(),
        mandate_reference: r[5].opt_text(),
    }))
}

/// Stores a correction of a transaction; a correction the transaction had
/// before is withdrawn. Returns the new correction.
pub fn insert(
    c: &mut dyn Conn,
    client_pk: i64,
    transaction_id: &str,
    key: &Key,
    labels: LabelSet,
) -> Result<CorrectionRow, StoreError> {
    let now = crate::now_unix();
    c.exec(
        "UPDATE corrections SET withdrawn_at = $1
         WHERE client_pk = $2 AND transaction_id = $3 AND withdrawn_at IS NULL",
        &[P::I(now), P::I(client_pk), P::T(transaction_id)],
    )?;
    let names = labels.iter().map(Label::name).collect::<Vec<_>>().join(",");
    let r = c
        .query_one(
            &format!(
                "INSERT INTO corrections (client_pk, transaction_id, incoming, key_kind, key_value, labels, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
            ),
            &[
                P::I(client_pk),
                P::T(transaction_id),
                P::I(i64::from(key.incoming)),
                P::T(key.kind.as_str()),
                P::T(&key.value),
                P::T(&names),
                P::I(now),
            ],
        )?
        .ok_or_else(|| StoreError::Internal("correction vanished after insert".into()))?;
    Ok(row(&r))
}

/// The client's corrections in force, oldest first.
pub fn list(c: &mut dyn Conn, client_pk: i64) -> Result<Vec<CorrectionRow>, StoreError> {
    Ok(c
        .query(
            &format!(
                "SELECT {COLUMNS} FROM corrections WHERE client_pk = $1 AND withdrawn_at IS NULL ORDER BY pk"
            ),
            &[P::I(client_pk)],
        )?
        .iter()
        .map(row)
        .collect())
}

/// Withdraws a correction; false if the client has no such correction in force.
pub fn withdraw(c: &mut dyn Conn, client_pk: i64, id: i64) -> Result<bool, StoreError> {
    Ok(c.exec(
        "UPDATE corrections SET withdrawn_at = $1
         WHERE client_pk = $2 AND pk = $3 AND withdrawn_at IS NULL",
        &[P::I(crate::now_unix()), P::I(client_pk), P::I(id)],
    )? > 0)
}

/// The client's corrections in force, for labelling.
pub fn active(c: &mut dyn Conn, client_pk: i64) -> Result<Corrections, StoreError> {
    let rows = list(c, client_pk)?;
    Ok(Corrections::new(rows.into_iter().filter_map(|r| {
        let mut labels = LabelSet::default();
        for name in &r.labels {
            // A label the taxonomy no longer has is dropped.
            if let Some(l) = Label::parse(name) {
                labels.insert(l);
            }
        }
        Some(Correction {
            id: r.id,
            transaction_id: r.transaction_id,
            key: Key {
                incoming: r.incoming,
                kind: KeyKind::parse(&r.key_kind)?,
                value: r.key_value,
            },
            labels,
        })
    })))
}
