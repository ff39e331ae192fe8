//! Reading one partition of users as of a job's snapshot.
//!
//! A row version is visible at snapshot `s` when it was written at or before
//! `s` (`seq <= s`) and, for replaced versions kept in the history tables,
//! replaced after it (`seq_to > s`). Data that arrives while a job runs is
//! therefore invisible to it, on every node.

use std::collections::HashMap;

use finseg_core::labels::LabelSet;
use finseg_core::segments::{AccountData, Tx, UserData};
pub use finseg_core::segments::{LoadSpec, Window};
use finseg_core::{AccountType, Amount, Date};

use crate::StoreError;
use crate::conn::{Conn, P};

// Over 120 lines on purpose: one streaming read per table of the partition,
// filling buffers the reads share.
/// The users with keys in `from..=to` of the client, as of `snapshot`.
pub fn load_partition(
    c: &mut dyn Conn,
    client_pk: i64,
    snapshot: i64,
    from: i64,
    to: i64,
    spec: LoadSpec,
) -> Result<Vec<(i64, UserData)>, StoreError> {
    let range = [P::I(client_pk), P::I(from), P::I(to), P::I(snapshot)];
    let users = c.query(
        "SELECT pk, ext_id FROM users WHERE client_pk = $1 AND pk >= $2 AND pk <= $3 AND seq <= $4 ORDER BY pk",
        &range,
    )?;
    let mut out: Vec<(i64, UserData)> = users
        .iter()
        .map(|r| {
            (
                r[0].int(),
                UserData {
                    id: r[1].text(),
                    accounts: Vec::new(),
                },
            )
        })
        .collect();
    let user_index: HashMap<i64, usize> = out
        .iter()
        .enumerate()
        .map(|(i, (pk, _))| (*pk, i))
        .collect();

    const ACCOUNT_COLS: &str =
        "pk, ext_id, user_pk, account_type, balance, balance_date, data_since, iban";
    let accounts = c.query(
        &format!(
            "SELECT {ACCOUNT_COLS} FROM accounts
               WHERE client_pk = $1 AND user_pk >= $2 AND user_pk <= $3 AND seq <= $4
             UNION ALL
             SELECT {ACCOUNT_COLS} FROM accounts_history
               WHERE client_pk = $1 AND user_pk >= $2 AND user_pk <= $3 AND seq <= $4 AND seq_to > $4
             ORDER BY 2"
        ),
        &range,
    )?;
    // account pk → (user index, account index)
    let mut account_index: HashMap<i64, (usize, usize)> = HashMap::new();
    for r in &accounts {
        let Some(&ui) = user_index.get(&r[2].int()) else {
            continue;
        };
        let user = &mut out[ui].1;
        account_index.insert(r[0].int(), (ui, user.accounts.len()));
        user.accounts.push(AccountData {
            id: r[1].text(),
            account_type: AccountType::from_code(r[3].int() as i16)
                .unwrap_or(AccountType::Checking),
            iban: r[7].opt_text(),
            balance: Amount::from_cents(r[4].int()),
            balance_date: Date::from_days(r[5].int() as i32),
            data_since: r[6].opt_int().map(|d| Date::from_days(d as i32)),
            daily_balances: Vec::new(),
            transactions: Vec::new(),
        });
    }
    if account_index.is_empty() {
        return Ok(out);
    }
    let accounts_of_range = "SELECT pk FROM accounts WHERE client_pk = $1 AND user_pk >= $2 AND user_pk <= $3
                             UNION SELECT pk FROM accounts_history WHERE client_pk = $1 AND user_pk >= $2 AND user_pk <= $3";

    // One date range for the whole partition (the union of its accounts' needs).
    let (lo, hi) = match spec.window {
        Window::Fixed { from, to } => (from.add_days(-1), to),
        Window::Balances { from, to } => {
            let anchors = out
                .iter()
                .flat_map(|(_, u)| u.accounts.iter().map(|a| a.balance_date));
            let (min_anchor, max_anchor) =
                anchors.fold((from, to), |(lo, hi), d| (lo.min(d), hi.max(d)));
            (from.min(min_anchor).add_days(-1), to.max(max_anchor))
        }
    };
    // Two reads, so that each uses the (account, booking date) index as a
    // range: the window for accounts with a stated dataSince, everything for
    // accounts without one (their earliest booking is their dataSince).
    let texts = if spec.texts {
        "purpose, counterpart_name, creditor_id, mandate_reference"
    } else {
        "NULL, NULL, NULL, NULL"
    };
    let cols = format!(
        "account_pk, ext_id, amount, booking_date, (client_labels | rule_labels), {texts}, counterpart_iban"
    );
    // A literal: the mask is the taxonomy's, not the client's.
    let only = spec.only_debits_labelled.map_or(String::new(), |set| {
        format!(
            " AND amount < 0 AND ((client_labels | rule_labels) & {}) <> 0",
            set.0 as i64
        )
    });
    // Which read an account takes depends on its version in the snapshot
    // (a later version may have gained or lost its dataSince): key lists.
    let (mut with_since, mut without_since) = (Vec::new(), Vec::new());
    for (pk, &(ui, ai)) in &account_index {
        if out[ui].1.accounts[ai].data_since.is_some() {
            with_since.push(*pk);
        } else {
            without_since.push(*pk);
        }
    }
    let list = |pks: &mut Vec<i64>| {
        pks.sort_unstable();
        pks.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    };
    let (with_since, without_since) = (list(&mut with_since), list(&mut without_since));
    let mut rows = Vec::new();
    if !with_since.is_empty() {
        rows = c.query(
            &format!(
                "SELECT {cols} FROM transactions
                   WHERE account_pk IN ({with_since}) AND seq <= $1 AND booking_date > $2 AND booking_date <= $3{only}
                 UNION ALL
                 SELECT {cols} FROM transactions_history
                   WHERE account_pk IN ({with_since}) AND seq <= $1 AND seq_to > $1
                     AND booking_date > $2 AND booking_date <= $3{only}"
            ),
            &[range[3], P::I(lo.days().into()), P::I(hi.days().into())],
        )?;
    }
    if !without_since.is_empty() {
        rows.extend(c.query(
            &format!(
                "SELECT {cols} FROM transactions WHERE account_pk IN ({without_since}) AND seq <= $1{only}
                 UNION ALL
                 SELECT {cols} FROM transactions_history
                   WHERE account_pk IN ({without_since}) AND seq <= $1 AND seq_to > $1{only}"
            ),
            &[range[3]],
        )?);
    }
    for r in rows {
        let Some(&(ui, ai)) = account_index.get(&r[0].int()) else {
            continue;
        };
        out[ui].1.accounts[ai].transactions.push(Tx {
            id: r[1].text(),
            amount: Amount::from_cents(r[2].int()),
            booking_date: Date::from_days(r[3].int() as i32),
            labels: LabelSet(r[4].int() as u64),
            purpose: r[5].opt_text(),
            counterpart_name: r[6].opt_text(),
            creditor_id: r[7].opt_text(),
            mandate_reference: r[8].opt_text(),
            counterpart_iban: r[9].opt_text(),
        });
    }
    if let Some((first, last)) = spec.stand_ins {
        let all: Vec<String> = account_index.keys().map(i64::to_string).collect();
        let all = all.join(",");
        for r in c.query(
            &format!(
                "SELECT account_pk, MIN(booking_date) FROM (
                   SELECT account_pk, booking_date FROM transactions
                     WHERE account_pk IN ({all}) AND seq <= $1 AND booking_date >= $2 AND booking_date <= $3
                   UNION ALL
                   SELECT account_pk, booking_date FROM transactions_history
                     WHERE account_pk IN ({all}) AND seq <= $1 AND seq_to > $1
                       AND booking_date >= $2 AND booking_date <= $3
                 ) t GROUP BY account_pk"
            ),
            &[
                range[3],
                P::I(first.days().into()),
                P::I(last.days().into()),
            ],
        )? {
            let Some(&(ui, ai)) = account_index.get(&r[0].int()) else {
                continue;
            };
            out[ui].1.accounts[ai].transactions.push(Tx::plain(
                "",
                Date::from_days(r[1].int() as i32),
                Amount::ZERO,
            ));
        }
    }
    for (_, user) in &mut out {
        user.sort_bookings();
    }

    let balances = c.query(
        &format!(
            "SELECT account_pk, day, balance FROM daily_balances
               WHERE account_pk IN ({accounts_of_range}) AND seq <= $4
             UNION ALL
             SELECT account_pk, day, balance FROM daily_balances_history
               WHERE account_pk IN ({accounts_of_range}) AND seq <= $4 AND seq_to > $4
             ORDER BY 1, 2"
        ),
        &range,
    )?;
    for r in balances {
        let Some(&(ui, ai)) = account_index.get(&r[0].int()) else {
            continue;
        };
        out[ui].1.accounts[ai].daily_balances.push((
            Date::from_days(r[1].int() as i32),
            Amount::from_cents(r[2].int()),
        ));
    }
    // Accounts in byte order of their ids, whatever the database's collation.
    for (_, user) in &mut out {
        user.accounts.sort_by(|a, b| a.id.cmp(&b.id));
    }
    Ok(out)
}

/// Deletes replaced versions no unfinished job can read any more.
pub fn collect_history(c: &mut dyn Conn) -> Result<u64, StoreError> {
    let oldest = c
        .query_one(
            "SELECT MIN(snapshot_seq) FROM jobs WHERE status IN ('QUEUED', 'RUNNING')",
            &[],
        )?
        .and_then(|r| r[0].opt_int());
    let horizon = match oldest {
        Some(s) => s,
        None => crate::data::current_seq(c)?,
    };
    let mut n = 0;
    for table in [
        "accounts_history",
        "transactions_history",
        "daily_balances_history",
    ] {
        n += c.exec(
            &format!("DELETE FROM {table} WHERE seq_to <= $1"),
            &[P::I(horizon)],
        )?;
    }
    Ok(n)
}
