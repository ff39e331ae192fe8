//! Re-labelling a client's stored transactions when its rules or
//! corrections change.

pub mod jobs;

use finseg_core::Amount;
use finseg_core::labelling::{Scratch, Signals};
use finseg_core::labels::LabelSet;

use crate::conn::{P, in_transaction};
use crate::rules::labeller;
use crate::{Store, StoreError};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Relabelled {
    pub examined: u64,
    pub changed: u64,
}

/// Applies the client's current rules to all its stored transactions, in
/// batches of `batch` rows, each its own short transaction, so ingestion
/// goes on meanwhile. A changed row is versioned like any other write.
pub fn relabel(store: &Store, client_pk: i64, batch: i64) -> Result<Relabelled, StoreError> {
    relabel_with_progress(store, client_pk, batch, &mut |_| {})
}

/// [`relabel`], telling `progress` the counts so far after each batch.
pub fn relabel_with_progress(
    store: &Store,
    client_pk: i64,
    batch: i64,
    progress: &mut dyn FnMut(Relabelled),
) -> Result<Relabelled, StoreError> {
    let mut c = store.conn()?;
    let labeller = labeller(&mut *c, client_pk)?;
    let mut scratch = Scratch::default();
    let mut out = Relabelled::default();
    // Keys of provenance texts: batches that roll back end the run.
    let mut provenance_pks = std::collections::HashMap::<String, i64>::new();
    let mut after = 0i64;
    loop {
        let (last, done) = in_transaction(&mut *c, |c| {
            let rows = c.query(
                "SELECT t.pk, amount, purpose, counterpart_name, counterpart_iban, creditor_id, bank_transaction_code,
                        sepa_purpose_code, mcc, rule_labels, p.text, seq, account_pk, mandate_reference
                 FROM transactions t LEFT JOIN label_provenance p ON p.pk = t.label_rules_pk
                 WHERE t.client_pk = $1 AND t.pk > $2 ORDER BY t.pk LIMIT $3",
                &[P::I(client_pk), P::I(after), P::I(batch)],
            )?;
            let Some(last) = rows.last().map(|r| r[0].int()) else {
                return Ok((after, true));
            };
            let mut seq = None;
            let mut changed_accounts = std::collections::BTreeSet::new();
            for r in &rows {
                out.examined += 1;
                let (purpose, counterpart, iban, creditor, code, sepa, mandate) = (
                    r[2].opt_text(),
                    r[3].opt_text(),
                    r[4].opt_text(),
                    r[5].opt_text(),
                    r[6].opt_text(),
                    r[7].opt_text(),
                    r[13].opt_text(),
                );
                let (set, provenance) = labeller.apply(
                    &Signals {
                        amount: Amount::from_cents(r[1].int()),
                        purpose: purpose.as_deref(),
                        counterpart_name: counterpart.as_deref(),
                        counterpart_iban: iban.as_deref(),
                        creditor_id: creditor.as_deref(),
                        mandate_reference: mandate.as_deref(),
                        bank_transaction_code: code.as_deref(),
                        sepa_purpose_code: sepa.as_deref(),
                        mcc: r[8].opt_int().map(|m| m as u16),
                    },
                    &mut scratch,
                );
                if LabelSet(r[9].int() as u64) == set && r[10].opt_str() == provenance.as_deref() {
                    continue;
                }
                // The sequence number first: every writer locks the counter
                // before it inserts provenance rows, so two never wait on
                // each other's.
                let s = match seq {
                    Some(s) => s,
                    None => *seq.insert(crate::data::next_seq(c)?),
                };
                let provenance_pk = match provenance.as_deref() {
                    Some(text) => Some(match provenance_pks.get(text) {
                        Some(pk) => *pk,
                        None => {
                            let pk = crate::data::provenance_pk(c, client_pk, text)?;
                            provenance_pks.insert(text.to_owned(), pk);
                            pk
                        }
                    }),
                    None => None,
                };
                let pk = r[0].int();
                c.exec(
                    concat!(crate::data::keep_transaction_version!(), " WHERE pk = $2"),
                    &[P::I(s), P::I(pk)],
                )?;
                c.exec(
                    "UPDATE transactions SET rule_labels = $1, label_rules_pk = $2, seq = $3 WHERE pk = $4",
                    &[P::I(set.0 as i64), provenance_pk.into(), P::I(s), P::I(pk)],
                )?;
                out.changed += 1;
                changed_accounts.insert(r[12].int());
            }
            if let Some(s) = seq {
                // Labels are the users' data too (segment indexes re-read them).
                let accounts: Vec<String> = changed_accounts.iter().map(i64::to_string).collect();
                c.exec(
                    &format!(
                        "UPDATE users SET data_seq = $1 WHERE pk IN
                           (SELECT user_pk FROM accounts WHERE pk IN ({}))",
                        accounts.join(",")
                    ),
                    &[P::I(s)],
                )?;
            }
            Ok::<_, StoreError>((last, false))
        })?;
        if done {
            return Ok(out);
        }
        progress(out);
        after = last;
    }
}
