//! Which bookings a segment job reads of each user.

use crate::Date;
use crate::labels::LabelSet;

/// Which transactions a segment type needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Booked in `from..=to`.
    Fixed { from: Date, to: Date },
    /// What end-of-day balances on `from..=to` need: for each account, the
    /// bookings between the first of those days and the account's balance
    /// date, whichever comes first, up to the later of `to` and that date.
    Balances { from: Date, to: Date },
}

/// What a segment type needs beyond amounts and dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadSpec {
    /// Purpose, counterpart, creditor id and mandate (insurance detection).
    pub texts: bool,
    pub window: Window,
    /// Only debits carrying one of these labels (insurance reads its
    /// candidate payments, a few in a hundred bookings) ...
    pub only_debits_labelled: Option<LabelSet>,
    /// ... and, for each account with any booking in these days, a stand-in
    /// booking of 0.00 on the first of them (so the rule still sees that
    /// the account has data there).
    pub stand_ins: Option<(Date, Date)>,
}

impl LoadSpec {
    /// Every booking of `window`, without texts.
    pub fn amounts(window: Window) -> LoadSpec {
        LoadSpec {
            texts: false,
            window,
            only_debits_labelled: None,
            stand_ins: None,
        }
    }
}
