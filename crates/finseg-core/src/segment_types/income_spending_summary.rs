//! `incomeSpendingSummary`: each user's incoming and outgoing totals and
//! counts over a period, own-account transfers apart. The rule is
//! [`crate::segments::summary`].

use serde_json::{Value, json};

use super::{ParamReader, Segment, SegmentParams, schema};
use crate::segment_index::ColumnarUser;
use crate::segments::{LoadSpec, Period, Rendered, UserData, Verdict, Window, summary};
use crate::{Date, transfers};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomeSpendingSummary {
    pub period: SummaryPeriod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryPeriod {
    Dates { from: Date, to: Date },
    Months(u32),
}

impl Segment for IncomeSpendingSummary {
    const NAME: &'static str = "incomeSpendingSummary";
    const CSV_HEADER: &'static str = "userId,incomingCount,incomingTotal,outgoingCount,outgoingTotal,transferIncomingCount,transferIncomingTotal,transferOutgoingCount,transferOutgoingTotal";
    type Member = summary::Member;
    const DESCRIPTION: &'static str = "Each user's incoming and outgoing counts and totals over a period, with own-account transfers apart.";

    fn parse(r: &mut ParamReader<'_>) -> Option<Self> {
        let from = r.date("dateFrom");
        let to = r.date("dateTo");
        let has_dates = r.get("dateFrom").is_some() || r.get("dateTo").is_some();
        let months = r
            .get("durationInMonth")
            .is_some()
            .then(|| r.months("durationInMonth", 12, 12));
        let period = match (has_dates, months) {
            (true, Some(_)) => {
                r.err(
                    "durationInMonth",
                    "give dateFrom and dateTo, or durationInMonth, not both",
                );
                return None;
            }
            (true, None) => match (from, to) {
                (Some(from), Some(to)) => {
                    let limit = from
                        .month()
                        .plus(12)
                        .first_day()
                        .add_days(from.ymd().2 as i32 - 2);
                    if to < from {
                        r.err("dateTo", "must not be before dateFrom");
                    } else if to > limit {
                        r.err("dateTo", "must be at most 12 months after dateFrom");
                    }
                    SummaryPeriod::Dates { from, to }
                }
                (f, t) => {
                    if f.is_none() && r.get("dateFrom").is_none() {
                        r.err("dateFrom", "is required with dateTo");
                    }
                    if t.is_none() && r.get("dateTo").is_none() {
                        r.err("dateTo", "is required with dateFrom");
                    }
                    return None;
                }
            },
            (false, m) => SummaryPeriod::Months(m.unwrap_or(12)),
        };
        Some(IncomeSpendingSummary { period })
    }

    fn parameters_schema() -> Value {
        json!({
            "properties": {
                "dateFrom": {"$ref": "#/components/schemas/Date", "description": "With dateTo: the period, at most 12 months."},
                "dateTo": {"$ref": "#/components/schemas/Date"},
                "durationInMonth": {"type": "integer", "minimum": 1, "maximum": 12, "default": 12, "description": "The last complete months; not together with dateFrom and dateTo."}
            },
            "required": []
        })
    }

    fn decode(user_id: &str, stored: &str) -> Option<Self::Member> {
        summary::unpack(user_id, stored).or_else(|| serde_json::from_str(stored).ok())
    }

    fn evaluate(&self, creation_date: Date, user: &UserData) -> Verdict<Self::Member> {
        summary::evaluate(user, self.period(creation_date))
    }

    fn member_schema() -> Value {
        let figures = || {
            json!({
                "incomingCount": {"type": "integer"},
                "incomingTotal": schema::amount(),
                "outgoingCount": {"type": "integer"},
                "outgoingTotal": schema::amount()
            })
        };
        let keys = [
            "incomingCount",
            "incomingTotal",
            "outgoingCount",
            "outgoingTotal",
        ];
        let mut member = figures();
        member["userId"] = json!({"type": "string"});
        member["ownAccountTransfers"] = schema::object(figures(), &keys);
        let mut required = vec!["userId", "ownAccountTransfers"];
        required.extend(keys);
        schema::object(member, &required)
    }

    fn csv_rows(m: &Self::Member) -> Vec<Vec<String>> {
        let x = &m.own_account_transfers;
        vec![vec![
            m.incoming_count.to_string(),
            m.incoming_total.to_string(),
            m.outgoing_count.to_string(),
            m.outgoing_total.to_string(),
            x.incoming_count.to_string(),
            x.incoming_total.to_string(),
            x.outgoing_count.to_string(),
            x.outgoing_total.to_string(),
        ]]
    }
}

impl SegmentParams for IncomeSpendingSummary {
    fn to_json(&self) -> Value {
        match self.period {
            SummaryPeriod::Dates { from, to } => json!({"dateFrom": from, "dateTo": to}),
            SummaryPeriod::Months(m) => json!({"durationInMonth": m}),
        }
    }

    fn period(&self, creation_date: Date) -> Period {
        match self.period {
            SummaryPeriod::Dates { from, to } => Period { from, to },
            SummaryPeriod::Months(m) => Period::last_complete_months(creation_date, m),
        }
    }

    // A few days around the period, so that both halves of an own-account
    // transfer are seen.
    fn load_spec(&self, creation_date: Date) -> LoadSpec {
        let (from, to) = transfers::window_around(self.period(creation_date));
        LoadSpec::amounts(Window::Fixed { from, to })
    }

    fn render(&self, creation_date: Date, user: &UserData) -> Rendered {
        summary::pack_accounts(&user.accounts, self.period(creation_date))
    }

    fn render_indexed(&self, creation_date: Date, user: &ColumnarUser) -> Option<Rendered> {
        let period = self.period(creation_date);
        Some(summary::pack_accounts(&user.marked(period), period))
    }

    // The flow rules read every booking of the period.
    fn prefetch(&self, next: &ColumnarUser) {
        next.prefetch_bookings();
    }
}
