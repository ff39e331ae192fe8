//! The segment index: a client's users held in memory in a compact,
//! columnar form, so that a segment job reads memory instead of rows.
//!
//! An account keeps its bookings as two columns, the day as a `u16` offset
//! from the account's first booking and the amount as `i32` cents: 6 bytes
//! a booking instead of a database row. Accounts whose bookings do not fit
//! (more than 179 years apart, or one amount beyond ±21,474,836.47) are not
//! indexed; their users are evaluated from the database, as before.
//!
//! The rules do not know which form they read: [`ColumnarAccount`]
//! implements [`Ledger`], the trait the balance rules are written against.
//!
//! [`ClientIndex`] adds what keeps the index honest about time: the
//! ingestion sequence number it reflects, and per user the sequence number
//! of the user's latest change. A job whose snapshot is older than a user's
//! latest change reads that user's partition from the database, whose
//! history tables still hold the snapshot's versions.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use crate::segments::params::Params;
use crate::segments::{AccountData, Ledger, UserData, Verdict, high_balance, low_balance};
use crate::{AccountType, Amount, Date};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnarAccount {
    id: Box<str>,
    account_type: AccountType,
    balance: Amount,
    balance_date: Date,
    data_since: Option<Date>,
    /// The day `days` count from (the first booking's).
    base: i32,
    days: Box<[u16]>,
    cents: Box<[i32]>,
    daily_balances: Box<[(Date, Amount)]>,
}

/// An account as stored, before it is packed.
#[derive(Debug, Clone)]
pub struct AccountParts<'a> {
    pub id: &'a str,
    pub account_type: AccountType,
    pub balance: Amount,
    pub balance_date: Date,
    pub data_since: Option<Date>,
}

impl ColumnarAccount {
    /// Packs an account; `bookings` are sorted here. `None` when a booking
    /// does not fit the columns (the account is then left to the database).
    pub fn pack(
        parts: AccountParts<'_>,
        bookings: &mut [(Date, Amount)],
        mut daily_balances: Vec<(Date, Amount)>,
    ) -> Option<Self> {
        bookings.sort_unstable_by_key(|b| b.0);
        daily_balances.sort_unstable_by_key(|b| b.0);
        let base = bookings.first().map_or(0, |b| b.0.days());
        let days = bookings
            .iter()
            .map(|b| u16::try_from(b.0.days() - base).ok())
            .collect::<Option<Box<[u16]>>>()?;
        let cents = bookings
            .iter()
            .map(|b| i32::try_from(b.1.cents()).ok())
            .collect::<Option<Box<[i32]>>>()?;
        Some(ColumnarAccount {
            id: parts.id.into(),
            account_type: parts.account_type,
            balance: parts.balance,
            balance_date: parts.balance_date,
            data_since: parts.data_since,
            base,
            days,
            cents,
            daily_balances: daily_balances.into_boxed_slice(),
        })
    }

    /// The columnar form of an account loaded the usual way.
    pub fn from_account(a: &AccountData) -> Option<Self> {
        let mut bookings: Vec<(Date, Amount)> = a
            .transactions
            .iter()
            .map(|t| (t.booking_date, t.amount))
            .collect();
        Self::pack(
            AccountParts {
                id: &a.id,
                account_type: a.account_type,
                balance: a.balance,
                balance_date: a.balance_date,
                data_since: a.data_since,
            },
            &mut bookings,
            a.daily_balances.clone(),
        )
    }

    /// Bytes held on the heap and inline, for the index's memory figure.
    pub fn size_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.id.len()
            + self.days.len() * 2
            + self.cents.len() * 4
            + self.daily_balances.len() * std::mem::size_of::<(Date, Amount)>()
    }
}

impl Ledger for ColumnarAccount {
    fn account_id(&self) -> &str {
        &self.id
    }
    fn account_type(&self) -> AccountType {
        self.account_type
    }
    fn balance(&self) -> Amount {
        self.balance
    }
    fn balance_date(&self) -> Date {
        self.balance_date
    }
    fn data_since(&self) -> Option<Date> {
        self.data_since
    }
    fn daily_balances(&self) -> &[(Date, Amount)] {
        &self.daily_balances
    }
    fn bookings(&self) -> usize {
        self.days.len()
    }
    fn booking_date(&self, i: usize) -> Date {
        Date::from_days(self.base + i32::from(self.days[i]))
    }
    fn booking_amount(&self, i: usize) -> Amount {
        Amount::from_cents(self.cents[i].into())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnarUser {
    pub id: Box<str>,
    pub accounts: Box<[ColumnarAccount]>,
}

impl ColumnarUser {
    pub fn from_user(u: &UserData) -> Option<Self> {
        Some(ColumnarUser {
            id: u.id.as_str().into(),
            accounts: u
                .accounts
                .iter()
                .map(ColumnarAccount::from_account)
                .collect::<Option<_>>()?,
        })
    }

    pub fn size_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.id.len()
            + self
                .accounts
                .iter()
                .map(ColumnarAccount::size_bytes)
                .sum::<usize>()
    }

    /// The rule of a job, when it can be evaluated from the index; `None`
    /// for segment types that need more than balances (they read the
    /// database).
    pub fn evaluate(&self, params: &Params, creation_date: Date) -> Option<Verdict> {
        let period = params.period(creation_date);
        match params {
            Params::LowBalance {
                threshold,
                account_types,
                ..
            } => Some(low_balance::evaluate_accounts(
                &self.id,
                &self.accounts,
                *threshold,
                account_types,
                period,
            )),
            Params::HighBalance {
                threshold,
                account_types,
            } => Some(high_balance::evaluate_accounts(
                &self.id,
                &self.accounts,
                *threshold,
                account_types,
                creation_date,
            )),
            _ => None,
        }
    }
}

/// Whether a segment type is evaluated from the index.
pub fn serves(params: &Params) -> bool {
    matches!(
        params,
        Params::LowBalance { .. } | Params::HighBalance { .. }
    )
}

/// One user in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedUser {
    /// The sequence number of the user's latest change.
    pub data_seq: i64,
    /// `None` when the user's data does not fit the columns.
    pub user: Option<ColumnarUser>,
}

/// One client's users, as of an ingestion sequence number.
#[derive(Debug, Default)]
pub struct ClientIndex {
    /// Every write numbered up to this one is reflected, and no later one.
    seq: i64,
    users: BTreeMap<i64, IndexedUser>,
    bytes: usize,
}

/// Why a partition cannot be evaluated from the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// The index is older than the job's snapshot: refresh it first.
    Behind,
    /// A user of the range changed after the snapshot, or does not fit the
    /// columns: the database (with its history) has to answer.
    Changed,
}

impl ClientIndex {
    pub fn new(seq: i64) -> Self {
        ClientIndex {
            seq,
            users: BTreeMap::new(),
            bytes: 0,
        }
    }

    pub fn seq(&self) -> i64 {
        self.seq
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Approximate memory held, in bytes.
    pub fn size_bytes(&self) -> usize {
        self.bytes + self.users.len() * (std::mem::size_of::<(i64, IndexedUser)>() + 16)
    }

    /// Puts (or replaces) one user, keyed by the database's user key.
    pub fn put(&mut self, pk: i64, user: IndexedUser) {
        self.bytes += user.user.as_ref().map_or(0, ColumnarUser::size_bytes);
        if let Some(old) = self.users.insert(pk, user) {
            self.bytes -= old.user.as_ref().map_or(0, ColumnarUser::size_bytes);
        }
    }

    pub fn remove(&mut self, pk: i64) {
        if let Some(old) = self.users.remove(&pk) {
            self.bytes -= old.user.as_ref().map_or(0, ColumnarUser::size_bytes);
        }
    }

    /// Marks the index as reflecting every write up to `seq`.
    pub fn advance(&mut self, seq: i64) {
        self.seq = self.seq.max(seq);
    }

    /// The users with keys in `range`, as they were at `snapshot`; or why
    /// the index cannot tell.
    pub fn partition(
        &self,
        range: RangeInclusive<i64>,
        snapshot: i64,
    ) -> Result<Vec<(i64, &ColumnarUser)>, Miss> {
        if self.seq < snapshot {
            return Err(Miss::Behind);
        }
        self.users
            .range(range)
            .map(|(pk, u)| match &u.user {
                Some(user) if u.data_seq <= snapshot => Ok((*pk, user)),
                _ => Err(Miss::Changed),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segments::params::SegmentType;
    use crate::segments::{self, Tx};
    use proptest::prelude::*;

    fn day(n: i32) -> Date {
        Date::parse("2025-01-01").unwrap().add_days(n)
    }

    /// An account with bookings over about two years around the balance date.
    fn arb_account(i: usize) -> impl Strategy<Value = AccountData> {
        (
            prop::collection::vec((0i32..700, -300_000i64..300_000), 0..60),
            -500_000i64..500_000,
            0i32..720,
            prop::option::of(0i32..500),
            prop::collection::vec((0i32..700, -500_000i64..500_000), 0..4),
            0u8..3,
        )
            .prop_map(move |(txs, balance, anchor, since, supplied, kind)| {
                let mut transactions: Vec<Tx> = txs
                    .iter()
                    .enumerate()
                    .map(|(k, (d, c))| Tx::plain(&format!("t{k}"), day(*d), Amount::from_cents(*c)))
                    .collect();
                transactions.sort_by(|a, b| {
                    a.booking_date
                        .cmp(&b.booking_date)
                        .then_with(|| a.id.cmp(&b.id))
                });
                let mut daily_balances: Vec<(Date, Amount)> = supplied
                    .iter()
                    .map(|(d, c)| (day(*d), Amount::from_cents(*c)))
                    .collect();
                daily_balances.sort_by_key(|b| b.0);
                daily_balances.dedup_by_key(|b| b.0);
                AccountData {
                    id: format!("a{i}"),
                    account_type: [
                        AccountType::Checking,
                        AccountType::Savings,
                        AccountType::CreditCard,
                    ][kind as usize],
                    iban: None,
                    balance: Amount::from_cents(balance),
                    balance_date: day(anchor),
                    data_since: since.map(day),
                    daily_balances,
                    transactions,
                }
            })
    }

    fn arb_user() -> impl Strategy<Value = UserData> {
        (arb_account(0), arb_account(1), 0usize..3).prop_map(|(a, b, n)| UserData {
            id: "u".into(),
            accounts: [a, b].into_iter().take(n).collect(),
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// The index answers exactly as the rows do, JSON evidence included.
        #[test]
        fn index_agrees_with_rows(
            user in arb_user(),
            created in 30i32..760,
            threshold in -200_000i64..200_000,
            months in 1u32..=12,
        ) {
            let columnar = ColumnarUser::from_user(&user).expect("fits");
            let created = day(created);
            let checking = serde_json::json!(["CHECKING", "CREDIT_CARD"]);
            let jobs = [
                (SegmentType::LowBalance, serde_json::json!({
                    "threshold": Amount::from_cents(threshold), "durationInMonth": months, "accountTypes": checking})),
                (SegmentType::HighBalance, serde_json::json!({"threshold": Amount::from_cents(threshold)})),
                (SegmentType::HighBalance, serde_json::json!({
                    "threshold": Amount::from_cents(threshold), "accountTypes": checking})),
            ];
            for (segment, body) in jobs {
                let params = Params::parse(segment, &body).unwrap();
                prop_assert_eq!(
                    columnar.evaluate(&params, created),
                    Some(segments::evaluate(&params, created, &user))
                );
            }
        }
    }

    #[test]
    fn what_does_not_fit_is_left_to_the_database() {
        let mut a = AccountData {
            id: "a".into(),
            account_type: AccountType::Checking,
            iban: None,
            balance: Amount::ZERO,
            balance_date: day(0),
            data_since: None,
            daily_balances: Vec::new(),
            transactions: vec![Tx::plain("t", day(0), Amount::from_cents(3_000_000_000))],
        };
        assert!(ColumnarAccount::from_account(&a).is_none());
        a.transactions = vec![
            Tx::plain("t1", Date::parse("1901-01-01").unwrap(), Amount::ZERO),
            Tx::plain("t2", Date::parse("2199-01-01").unwrap(), Amount::ZERO),
        ];
        assert!(ColumnarAccount::from_account(&a).is_none());
        a.transactions.pop();
        let packed = ColumnarAccount::from_account(&a).unwrap();
        assert_eq!(packed.booking_date(0), Date::parse("1901-01-01").unwrap());
    }

    #[test]
    fn partitions_answer_only_for_their_snapshot() {
        let user = |id: &str| ColumnarUser {
            id: id.into(),
            accounts: Box::new([]),
        };
        let mut index = ClientIndex::new(10);
        index.put(
            1,
            IndexedUser {
                data_seq: 3,
                user: Some(user("a")),
            },
        );
        index.put(
            2,
            IndexedUser {
                data_seq: 9,
                user: Some(user("b")),
            },
        );
        index.put(
            5,
            IndexedUser {
                data_seq: 4,
                user: None,
            },
        );
        assert_eq!(index.partition(1..=2, 11), Err(Miss::Behind));
        let got = index.partition(1..=2, 9).unwrap();
        assert_eq!(got.iter().map(|(pk, _)| *pk).collect::<Vec<_>>(), [1, 2]);
        // User 2 changed at 9: a job of snapshot 8 must read the database.
        assert_eq!(index.partition(1..=2, 8), Err(Miss::Changed));
        assert_eq!(index.partition(1..=1, 8).unwrap().len(), 1);
        // User 5 does not fit the columns.
        assert_eq!(index.partition(3..=5, 10), Err(Miss::Changed));
        index.remove(5);
        assert!(index.partition(3..=5, 10).unwrap().is_empty());
        assert!(index.size_bytes() > 0);
    }
}
