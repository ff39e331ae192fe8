//! The segment index: a client's users held in memory in a compact,
//! columnar form, so that a segment job reads memory instead of rows.
//!
//! An account keeps its bookings as three columns, the day as a `u16`
//! offset from the account's first booking, the amount as `i32` cents and a
//! `u16` number of a process-wide table of "tags": the label set together
//! with which other account of the user, if any, the counterpart IBAN names
//! (evidence of an own-account transfer). That is 8 bytes a booking instead
//! of a database row. Accounts whose bookings do not fit (more than 179
//! years apart, one amount beyond ±21,474,836.47, more than 65,535 distinct
//! tags) are not indexed; their users are evaluated from the database, as
//! before.
//!
//! The rules do not know which form they read: [`ColumnarAccount`]
//! implements [`Ledger`] and (with the user's own-account transfer marks)
//! [`Flows`], the traits the rules are written against.
//!
//! [`ClientIndex`] adds what keeps the index honest about time: the
//! ingestion sequence number it reflects, and per user the sequence number
//! of the user's latest change. A job whose snapshot is older than a user's
//! latest change reads that user's partition from the database, whose
//! history tables still hold the snapshot's versions.

use crate::labels::LabelSet;
use crate::{Amount, Date, Text};
use std::collections::BTreeMap;
use std::ops::RangeInclusive;

mod account;
mod payments;
mod staged;
mod tags;
mod user;

pub use account::*;
use payments::*;
pub use staged::*;
pub use tags::*;
pub use user::*;

/// One booking as the index loader reads it.
#[derive(Debug, Clone)]
pub struct RawBooking {
    pub date: Date,
    pub amount: Amount,
    pub labels: LabelSet,
    /// The client's id: bookings of a day are ordered by it, as the rules
    /// see them. A `Text`, so that loading or staging a user allocates
    /// nothing per booking for it.
    pub id: Text,
    /// The position (among the user's accounts, by id) of the account the
    /// counterpart IBAN names; [`FOREIGN_ACCOUNT`] when the booking has a
    /// counterpart account that is none of the user's; `None` when it has
    /// no counterpart account (cash, card payments, bank fees).
    pub names_account: Option<u8>,
    /// The texts of a candidate insurance payment (see
    /// [`insurance::payment_type`]); `None` for every other booking.
    pub texts: Option<Box<PaymentTexts>>,
}

/// What the insurance rule reads of a payment's texts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentTexts {
    pub purpose: Option<Text>,
    pub counterpart_name: Option<Text>,
    pub creditor_id: Option<Text>,
    pub mandate_reference: Option<Text>,
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

    /// The users' keys, ascending.
    pub fn keys(&self) -> impl Iterator<Item = i64> + '_ {
        self.users.keys().copied()
    }

    /// The users with their keys, ascending.
    pub fn users(&self) -> impl Iterator<Item = (i64, &IndexedUser)> + '_ {
        self.users.iter().map(|(pk, u)| (*pk, u))
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
    use crate::AccountType;
    use crate::labels::Label;
    use crate::segment_types::{Params, SegmentType};
    use crate::segments::{self, Tx};
    use crate::segments::{AccountData, Ledger, Rendered, UserData};
    use proptest::prelude::*;

    fn day(n: i32) -> Date {
        Date::parse("2025-01-01").unwrap().add_days(n)
    }

    const IBANS: [&str; 3] = [
        "DE02100200300000000010",
        "DE75100200370000000011",
        "DE48100200440000000012",
    ];
    const LABELS: [&str; 6] = [
        "SALARY",
        "RENT",
        "CARINSURANCE",
        "LIABILITYINSURANCE",
        "OTHERINSURANCE",
        "OWNACCOUNTTRANSFER",
    ];

    /// An account with bookings over about two years around the balance
    /// date; amounts repeat often, so that own-account transfers pair.
    fn arb_account(i: usize) -> impl Strategy<Value = AccountData> {
        (
            prop::collection::vec(
                (
                    0i32..700,
                    prop_oneof![-300_000i64..300_000, (-3i64..=3).prop_map(|k| k * 100_00)],
                    0u8..64,
                    0usize..5,
                    0usize..8,
                ),
                0..60,
            ),
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
                    .map(|(k, (d, c, labels, counterpart, text))| {
                        // Ids of a real bank's shape, sharing a prefix (front coding).
                        let id = if k % 7 == 3 {
                            format!("x{k}ü")
                        } else {
                            format!("acct-{i}-{k:05}")
                        };
                        let mut t = Tx::plain(&id, day(*d), Amount::from_cents(*c));
                        // Insurance texts: contracts by creditor id and
                        // mandate, by number, by name, yearly wording.
                        let (purpose, name, cid, mandate) = [
                            (
                                "Kfz-Vers. Vertrag 4711-0815 Beitrag",
                                "HUK-COBURG",
                                Some("DE12ZZZ00000012345"),
                                Some("M-1"),
                            ),
                            (
                                "Beitrag",
                                "HUK-COBURG",
                                Some("de12zzz00000012345"),
                                Some("M-2"),
                            ),
                            (
                                "Privathaftpflicht Jahresbeitrag VSNR 9988776",
                                "Allianz Versicherungs-AG",
                                None,
                                None,
                            ),
                            (
                                "Privathaftpflicht VSNR 9988776",
                                "Allianz Versicherungs-AG",
                                None,
                                None,
                            ),
                            ("Hausrat", "Gothaer", None, None),
                            (
                                "Beitrag 03/2026",
                                "Kleine  Versicherung \"Süd\"",
                                None,
                                Some("Q"),
                            ),
                            ("Police 12345678", "Unbekannt", None, None),
                            ("", "", None, None),
                        ][*text];
                        t.purpose = (!purpose.is_empty()).then(|| purpose.to_owned());
                        t.counterpart_name = (!name.is_empty()).then(|| name.to_owned());
                        t.creditor_id = cid.map(str::to_owned);
                        t.mandate_reference = mandate.map(str::to_owned);
                        for (bit, name) in LABELS.iter().enumerate() {
                            if labels & (1 << bit) != 0 {
                                t.labels.insert(Label::parse(name).unwrap());
                            }
                        }
                        // Sometimes the IBAN of an account of the user, in another spelling.
                        t.counterpart_iban =
                            IBANS.get(*counterpart).map(|s| s.to_ascii_lowercase());
                        t
                    })
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
                    iban: Some(IBANS[i].to_owned()),
                    balance: Amount::from_cents(balance),
                    balance_date: day(anchor),
                    data_since: since.map(day),
                    daily_balances,
                    transactions,
                }
            })
    }

    fn arb_user() -> impl Strategy<Value = UserData> {
        (arb_account(0), arb_account(1), arb_account(2), 0usize..4).prop_map(|(a, b, c, n)| {
            UserData {
                id: "u".into(),
                accounts: [a, b, c].into_iter().take(n).collect(),
            }
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
            let groups = serde_json::json!(["INCOME", "RENTANDLIVING", "INSURANCE", "SALARY"]);
            let (from, to) = (created.add_days(-120), created.add_days(-20));
            let jobs = [
                (SegmentType::FinancialBreakdown, serde_json::json!({
                    "labelGroups": groups, "durationInMonth": months})),
                (SegmentType::IncomeSpendingSummary, serde_json::json!({"durationInMonth": months})),
                (SegmentType::IncomeSpendingSummary, serde_json::json!({
                    "dateFrom": from.to_string(), "dateTo": to.to_string()})),
                (SegmentType::LowBalance, serde_json::json!({
                    "threshold": Amount::from_cents(threshold), "durationInMonth": months, "accountTypes": checking})),
                (SegmentType::HighBalance, serde_json::json!({"threshold": Amount::from_cents(threshold)})),
                (SegmentType::HighBalance, serde_json::json!({
                    "threshold": Amount::from_cents(threshold), "accountTypes": checking})),
                (SegmentType::Insurance, serde_json::json!({"durationInMonth": months})),
                (SegmentType::Insurance, serde_json::json!({
                    "durationInMonth": months, "insuranceTypes": ["CAR", "OTHER"],
                    "includeUsersWithoutContracts": true})),
            ];
            for (segment, body) in jobs {
                let params = Params::parse(segment, &body).unwrap();
                // As the job engine does: transfers marked around the period.
                let period = params.period(created);
                let mut rows = user.clone();
                crate::transfers::mark_own_transfers_around(&mut rows, period);
                // The same stored text, byte for byte.
                prop_assert_eq!(
                    params.render_indexed(created, &columnar),
                    Some(params.render(created, &rows)),
                    "{}", body
                );
                // What a reader gets is the document the rule builds.
                if let Some(Rendered::Member(stored)) = params.render_indexed(created, &columnar) {
                    let segments::Verdict::Member(member) = params.evaluate(created, &rows) else {
                        panic!("a member on one path only");
                    };
                    prop_assert_eq!(segment.decode("u", &stored), Some(member));
                }
            }
        }
    }

    #[test]
    fn a_month_low_at_the_threshold_is_not_below() {
        // Balance 0 on 2026-04-01; one day at exactly -100.00 in each of
        // January to March.
        let d = |s: &str| Date::parse(s).unwrap();
        let mut transactions = Vec::new();
        for m in ["01", "02", "03"] {
            transactions.push(Tx::plain(
                &format!("{m}a"),
                d(&format!("2026-{m}-10")),
                Amount::from_cents(-100_00),
            ));
            transactions.push(Tx::plain(
                &format!("{m}b"),
                d(&format!("2026-{m}-11")),
                Amount::from_cents(100_00),
            ));
        }
        let user = UserData {
            id: "u".into(),
            accounts: vec![AccountData {
                id: "a".into(),
                account_type: AccountType::Checking,
                iban: None,
                balance: Amount::ZERO,
                balance_date: d("2026-04-01"),
                data_since: Some(d("2025-01-01")),
                daily_balances: Vec::new(),
                transactions,
            }],
        };
        let columnar = ColumnarUser::from_user(&user).unwrap();
        assert!(!columnar.accounts[0].lows.is_empty());
        let job = |threshold: &str| {
            Params::parse(
                SegmentType::LowBalance,
                &serde_json::json!({"threshold": threshold}),
            )
            .unwrap()
        };
        let created = d("2026-04-02");
        assert_eq!(
            job("-100").render_indexed(created, &columnar),
            Some(Rendered::NotMember)
        );
        assert!(matches!(
            job("-99.99").render_indexed(created, &columnar),
            Some(Rendered::Member(_))
        ));
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
        assert!(ColumnarAccount::from_account(&a, &[]).is_none());
        a.transactions = vec![
            Tx::plain("t1", Date::parse("1901-01-01").unwrap(), Amount::ZERO),
            Tx::plain("t2", Date::parse("2199-01-01").unwrap(), Amount::ZERO),
        ];
        assert!(ColumnarAccount::from_account(&a, &[]).is_none());
        a.transactions.pop();
        let packed = ColumnarAccount::from_account(&a, &[]).unwrap();
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
