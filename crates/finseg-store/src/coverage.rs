//! How much of a client's data labelling covers: the share of transactions
//! and of amounts labelled, per label group, and the largest unlabelled
//! counterparts and creditor ids, so that a bank knows what to correct
//! first. Typed rows; the server renders them.

use finseg_core::Total;
use finseg_core::labels::{GROUPS, LabelSet, group};

use crate::StoreError;
use crate::conn::{Conn, P, Row};

/// Transactions and the sum of their absolute amounts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub transactions: u64,
    pub amount: Total,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.transactions += other.transactions;
        self.amount = self.amount + other.amount;
    }
}

/// One label group's coverage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupCoverage {
    pub group: &'static str,
    pub tally: Tally,
}

/// An unlabelled counterpart or creditor id, with what it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unlabelled {
    pub key: String,
    pub tally: Tally,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    pub all: Tally,
    /// Transactions with at least one label (a client's or a rule's).
    pub labelled: Tally,
    /// Per label group (of the taxonomy), in taxonomy order.
    pub groups: Vec<GroupCoverage>,
    pub counterparts_by_count: Vec<Unlabelled>,
    pub counterparts_by_amount: Vec<Unlabelled>,
    pub creditor_ids_by_count: Vec<Unlabelled>,
    pub creditor_ids_by_amount: Vec<Unlabelled>,
}

/// The absolute amount, summed in two parts that cannot overflow a
/// 64-bit sum in either backend, put together exactly in `i128`.
const SPLIT: i64 = 1_000_000_000;
const ABS_SUMS: &str = "CAST(SUM(ABS(amount) / 1000000000) AS BIGINT), \
                        CAST(SUM(ABS(amount) % 1000000000) AS BIGINT)";

/// The count and the two parts of the sum, from column `first` on.
fn row_tally(r: &Row, first: usize) -> Tally {
    let (high, low) = (
        i128::from(r[first + 1].int()),
        i128::from(r[first + 2].int()),
    );
    Tally {
        transactions: r[first].int() as u64,
        amount: Total::from_cents(high * i128::from(SPLIT) + low),
    }
}

/// The coverage of a client's stored transactions, with the `top`
/// largest unlabelled counterparts and creditor ids of each ranking.
pub fn of(c: &mut dyn Conn, client_pk: i64, top: usize) -> Result<Coverage, StoreError> {
    let mut out = Coverage::default();
    // Label sets are few: count per set, then per group in Rust.
    let by_labels = c.query(
        &format!(
            "SELECT client_labels, rule_labels, COUNT(*), {ABS_SUMS} FROM transactions
             WHERE client_pk = $1 GROUP BY client_labels, rule_labels"
        ),
        &[P::I(client_pk)],
    )?;
    let groups: Vec<(&'static str, LabelSet)> =
        GROUPS.iter().filter_map(|(g, _)| group(g)).collect();
    let mut per_group = vec![Tally::default(); groups.len()];
    for r in &by_labels {
        let labels = LabelSet(r[0].int() as u64 | r[1].int() as u64);
        let t = row_tally(r, 2);
        out.all.add(t);
        if labels != LabelSet::default() {
            out.labelled.add(t);
        }
        for (i, (_, set)) in groups.iter().enumerate() {
            if labels.intersects(*set) {
                per_group[i].add(t);
            }
        }
    }
    out.groups = groups
        .iter()
        .zip(per_group)
        .map(|((g, _), tally)| GroupCoverage { group: g, tally })
        .collect();
    let top = i64::try_from(top).unwrap_or(i64::MAX);
    let ranked = |c: &mut dyn Conn, column: &str, by_amount: bool| {
        // By amount: the high part, then the low one (exact whenever no
        // single booking reaches 10^9 cents, and never overflowing).
        let order = if by_amount {
            "4 DESC, 5 DESC, 3 DESC, 1"
        } else {
            "3 DESC, 4 DESC, 5 DESC, 1"
        };
        // Grouped by the ASCII `lower` of both backends, so that spellings
        // differing in case count as one.
        let rows = c.query(
            &format!(
                "SELECT lower({column}), 0, COUNT(*), {ABS_SUMS} FROM transactions
                 WHERE client_pk = $1 AND client_labels = 0 AND rule_labels = 0
                   AND {column} IS NOT NULL AND {column} <> ''
                 GROUP BY lower({column}) ORDER BY {order} LIMIT $2"
            ),
            &[P::I(client_pk), P::I(top)],
        )?;
        Ok::<_, StoreError>(
            rows.iter()
                .map(|r| Unlabelled {
                    key: r[0].text(),
                    tally: row_tally(r, 2),
                })
                .collect::<Vec<_>>(),
        )
    };
    out.counterparts_by_count = ranked(c, "counterpart_name", false)?;
    out.counterparts_by_amount = ranked(c, "counterpart_name", true)?;
    out.creditor_ids_by_count = ranked(c, "creditor_id", false)?;
    out.creditor_ids_by_amount = ranked(c, "creditor_id", true)?;
    Ok(out)
}
