//! The label taxonomy of SPEC §4: labels and the label groups that contain them.
//!
//! A label is an index into [`LABELS`], so a transaction's labels fit in a
//! bit set (`u64`, stored as one integer) and group membership is one AND.

use std::fmt;

/// Every leaf label, in a fixed order: the index is the label's code and
/// must never change (it is stored).
pub const LABELS: &[&str] = &[
    // INCOME
    "SALARY",
    "PENSION",
    "CAPITALINCOME",
    "RENTALINCOME",
    "CHILDBENEFIT",
    "UNEMPLOYMENTBENEFIT",
    "TAXREFUND",
    "OTHERINCOME",
    // INSURANCE
    "HEALTHINSURANCE",
    "CARINSURANCE",
    "LIFEINSURANCE",
    "LIABILITYINSURANCE",
    "HOUSEHOLDINSURANCE",
    "BUILDINGINSURANCE",
    "LEGALINSURANCE",
    "DISABILITYINSURANCE",
    "ACCIDENTINSURANCE",
    "TRAVELINSURANCE",
    "PETINSURANCE",
    "DENTALINSURANCE",
    "CAREINSURANCE",
    "OTHERINSURANCE",
    // RENTANDLIVING
    "RENT",
    "ENERGY",
    "WATER",
    "TELECOMMUNICATION",
    "BROADCASTFEE",
    "PROPERTYTAX",
    // INVESTMENTS
    "SAVINGSPLAN",
    "SECURITIES",
    "CRYPTO",
    "BUILDINGSAVINGS",
    // SAVINGS
    "SAVINGS",
    // LOANANDINTEREST
    "CARLOAN",
    "REALESTATELOAN",
    "CARLEASING",
    "CONSUMERLOAN",
    "BNPL",
    "OVERDRAFTINTEREST",
    // LIVING
    "GROCERIES",
    "DRUGSTORE",
    "RESTAURANTS",
    "SHOPPING",
    "ENTERTAINMENT",
    "SUBSCRIPTIONS",
    // MOBILITY
    "FUEL",
    "PUBLICTRANSPORT",
    "CARSHARING",
    "PARKING",
    // TRAVEL
    "TRAVEL",
    // CASH
    "ATMWITHDRAWAL",
    "CASHDEPOSIT",
    // BANKING
    "BANKFEES",
    "CARDSETTLEMENT",
    // TAX
    "TAXPAYMENT",
    // TRANSFERS
    "OWNACCOUNTTRANSFER",
    // RISK
    "GAMBLING",
    "DEBTCOLLECTION",
    "CHARGEBACKS",
    "SEIZURE",
    "RETURNEDDEBIT",
    // Marker set by recurring-payment detection.
    "RECURRING",
];

/// Label groups and their members (SPEC §4).
pub const GROUPS: &[(&str, &[&str])] = &[
    (
        "INCOME",
        &[
            "SALARY",
            "PENSION",
            "CAPITALINCOME",
            "RENTALINCOME",
            "CHILDBENEFIT",
            "UNEMPLOYMENTBENEFIT",
            "TAXREFUND",
            "OTHERINCOME",
        ],
    ),
    ("SALARY", &["SALARY"]),
    (
        "INSURANCE",
        &[
            "HEALTHINSURANCE",
            "CARINSURANCE",
            "LIFEINSURANCE",
            "LIABILITYINSURANCE",
            "HOUSEHOLDINSURANCE",
            "BUILDINGINSURANCE",
            "LEGALINSURANCE",
            "DISABILITYINSURANCE",
            "ACCIDENTINSURANCE",
            "TRAVELINSURANCE",
            "PETINSURANCE",
            "DENTALINSURANCE",
            "CAREINSURANCE",
            "OTHERINSURANCE",
        ],
    ),
    (
        "RENTANDLIVING",
        &[
            "RENT",
            "ENERGY",
            "WATER",
            "TELECOMMUNICATION",
            "BROADCASTFEE",
            "PROPERTYTAX",
        ],
    ),
    (
        "INVESTMENTS",
        &["SAVINGSPLAN", "SECURITIES", "CRYPTO", "BUILDINGSAVINGS"],
    ),
    ("SAVINGS", &["SAVINGS"]),
    (
        "LOANANDINTEREST",
        &[
            "CARLOAN",
            "REALESTATELOAN",
            "CARLEASING",
            "CONSUMERLOAN",
            "BNPL",
            "OVERDRAFTINTEREST",
        ],
    ),
    (
        "LIVING",
        &[
            "GROCERIES",
            "DRUGSTORE",
            "RESTAURANTS",
            "SHOPPING",
            "ENTERTAINMENT",
            "SUBSCRIPTIONS",
        ],
    ),
    (
        "MOBILITY",
        &["FUEL", "PUBLICTRANSPORT", "CARSHARING", "PARKING"],
    ),
    ("TRAVEL", &["TRAVEL"]),
    ("CASH", &["ATMWITHDRAWAL", "CASHDEPOSIT"]),
    ("BANKING", &["BANKFEES", "CARDSETTLEMENT"]),
    ("TAX", &["TAXPAYMENT"]),
    ("TRANSFERS", &["OWNACCOUNTTRANSFER"]),
    (
        "RISK",
        &[
            "GAMBLING",
            "DEBTCOLLECTION",
            "CHARGEBACKS",
            "SEIZURE",
            "RETURNEDDEBIT",
        ],
    ),
    ("RECURRING", &["RECURRING"]),
];

/// Accepted alternative spellings of group and label names.
const ALIASES: &[(&str, &str)] = &[("RENT_AND_LIVING", "RENTANDLIVING")];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label(u8);

/// A set of labels as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LabelSet(pub u64);

fn canonical(name: &str) -> String {
    let upper = name.trim().to_ascii_uppercase();
    ALIASES
        .iter()
        .find(|(a, _)| *a == upper)
        .map(|(_, c)| (*c).to_owned())
        .unwrap_or(upper)
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn code_of(name: &str) -> u8 {
    let mut i = 0;
    while i < LABELS.len() {
        if same(LABELS[i], name) {
            return i as u8;
        }
        i += 1;
    }
    panic!("not a taxonomy label")
}

impl Label {
    /// Own-account transfers: looked up per booking, so a constant.
    pub const OWN_ACCOUNT_TRANSFER: Label = Label(code_of("OWNACCOUNTTRANSFER"));

    pub fn parse(name: &str) -> Option<Label> {
        let c = canonical(name);
        LABELS.iter().position(|l| *l == c).map(|i| Label(i as u8))
    }

    pub fn code(self) -> u8 {
        self.0
    }

    pub fn from_code(code: u8) -> Option<Label> {
        (usize::from(code) < LABELS.len()).then_some(Label(code))
    }

    pub fn name(self) -> &'static str {
        LABELS[usize::from(self.0)]
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl LabelSet {
    pub fn insert(&mut self, l: Label) {
        self.0 |= 1u64 << l.0;
    }

    pub fn contains(self, l: Label) -> bool {
        self.0 & (1u64 << l.0) != 0
    }

    pub fn intersects(self, other: LabelSet) -> bool {
        self.0 & other.0 != 0
    }

    pub fn union(self, other: LabelSet) -> LabelSet {
        LabelSet(self.0 | other.0)
    }

    pub fn intersection(self, other: LabelSet) -> LabelSet {
        LabelSet(self.0 & other.0)
    }

    /// The labels in code order, one step per label in the set (not per
    /// label of the taxonomy: labelling walks the set of every rule that holds).
    pub fn iter(self) -> impl Iterator<Item = Label> {
        // Bits beyond the taxonomy (a stored set from elsewhere) name no label.
        let mut bits = self.0 & (u64::MAX >> (64 - LABELS.len()));
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let code = bits.trailing_zeros() as u8;
            bits &= bits - 1;
            Some(Label(code))
        })
    }
}

impl FromIterator<Label> for LabelSet {
    fn from_iter<I: IntoIterator<Item = Label>>(iter: I) -> Self {
        let mut set = LabelSet::default();
        for l in iter {
            set.insert(l);
        }
        set
    }
}

/// A label group: the set of labels a request for it includes.
pub fn group(name: &str) -> Option<(&'static str, LabelSet)> {
    let c = canonical(name);
    let (gname, members) = GROUPS.iter().find(|(g, _)| *g == c)?;
    let mut set = LabelSet::default();
    for m in *members {
        set.insert(Label::parse(m).expect("group members are labels"));
    }
    Some((gname, set))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The set's labels, as the walk over every code of the taxonomy finds them.
        #[test]
        fn iterating_a_set_finds_its_labels_in_code_order(bits in proptest::prelude::any::<u64>()) {
            let set = LabelSet(bits);
            let reference: Vec<Label> = (0..LABELS.len() as u8)
                .map(Label)
                .filter(|l| set.contains(*l))
                .collect();
            proptest::prop_assert_eq!(set.iter().collect::<Vec<_>>(), reference);
        }
    }

    #[test]
    fn taxonomy_is_consistent() {
        assert!(LABELS.len() <= 64);
        for (g, members) in GROUPS {
            for m in *members {
                assert!(Label::parse(m).is_some(), "{g} has unknown label {m}");
            }
        }
        // every label is in at least one group
        for l in LABELS {
            assert!(
                GROUPS.iter().any(|(_, ms)| ms.contains(l)),
                "{l} in no group"
            );
        }
    }

    #[test]
    fn groups_and_aliases() {
        let (name, set) = group("rent_and_living").unwrap();
        assert_eq!(name, "RENTANDLIVING");
        assert!(set.contains(Label::parse("RENT").unwrap()));
        let (_, income) = group("INCOME").unwrap();
        assert!(income.contains(Label::parse("SALARY").unwrap()));
        assert!(group("NOPE").is_none());
    }
}
