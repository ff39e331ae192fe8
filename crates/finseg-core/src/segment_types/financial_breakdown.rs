//! `financialBreakdown`: per label group, monthly totals and counts over
//! the last complete months and statistics over them. The rule is
//! [`crate::segments::breakdown`].

use serde_json::{Value, json};

use super::{ParamReader, Segment, SegmentParams, schema};
use crate::labels::{self, LabelSet};
use crate::segment_index::ColumnarUser;
use crate::segments::{LoadSpec, Period, Rendered, UserData, Verdict, Window, breakdown};
use crate::{Date, transfers};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinancialBreakdown {
    /// Canonical group names with their label sets, in request order.
    pub label_groups: Vec<(&'static str, LabelSet)>,
    pub duration_in_month: u32,
    /// List each group's transaction ids as evidence (off by default:
    /// over a whole customer base they are most of the result).
    pub include_transaction_ids: bool,
}

impl Segment for FinancialBreakdown {
    const NAME: &'static str = "financialBreakdown";
    const CSV_HEADER: &'static str =
        "userId,labelGroup,total,count,average,median,minimum,maximum,standardDeviation";
    type Member = breakdown::Member;
    const DESCRIPTION: &'static str = "Per requested label group, the monthly totals and counts over the last complete months and statistics over them (months without transactions count as 0). A user is a member when any requested group has a transaction in the period.";

    fn parse(r: &mut ParamReader<'_>) -> Option<Self> {
        let duration_in_month = r.months("durationInMonth", 6, 12);
        let mut label_groups = Vec::new();
        let requested = r
            .get("labelGroups")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .cloned();
        match requested {
            None => r.err(
                "labelGroups",
                "is required: a non-empty array of label groups",
            ),
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    let field = format!("labelGroups/{i}");
                    let Some(name) = item.as_str() else {
                        r.err(&field, "must be a label group name");
                        continue;
                    };
                    match labels::group(name) {
                        Some(("TRANSFERS", _)) => r.err(
                            &field,
                            "TRANSFERS cannot be requested: own-account transfers count in no group",
                        ),
                        Some(g) if !label_groups.iter().any(|(n, _)| *n == g.0) => {
                            label_groups.push(g)
                        }
                        Some(_) => {}
                        None => r.err(&field, format!("unknown label group '{name}'")),
                    }
                }
            }
        }
        let include_transaction_ids = r.bool("includeTransactionIds");
        Some(FinancialBreakdown {
            label_groups,
            duration_in_month,
            include_transaction_ids,
        })
    }

    fn parameters_schema() -> Value {
        json!({
            "properties": {
                "labelGroups": {"type": "array", "minItems": 1, "items": {"type": "string"}, "description": "Label groups (docs/segments.md), not TRANSFERS: own-account transfers count in no group."},
                "durationInMonth": {"type": "integer", "minimum": 1, "maximum": 12, "default": 6, "description": "The last complete months."},
                "includeTransactionIds": {"type": "boolean", "default": false, "description": "Also list each group's transaction ids as evidence. Off by default: over a whole customer base the ids are most of the result; the monthly totals and counts are the evidence otherwise."}
            },
            "required": ["labelGroups"]
        })
    }

    fn decode(user_id: &str, stored: &str) -> Option<Self::Member> {
        breakdown::unpack(user_id, stored).or_else(|| serde_json::from_str(stored).ok())
    }

    fn evaluate(&self, creation_date: Date, user: &UserData) -> Verdict<Self::Member> {
        breakdown::evaluate_accounts(
            &user.id,
            &user.accounts,
            &self.label_groups,
            self.period(creation_date),
            self.include_transaction_ids,
        )
    }

    fn member_schema() -> Value {
        let month = schema::object(
            json!({
                "month": {"type": "string", "description": "YYYY-MM"},
                "total": schema::amount(),
                "count": {"type": "integer"}
            }),
            &["month", "total", "count"],
        );
        let figures = [
            "total",
            "average",
            "minimum",
            "maximum",
            "median",
            "standardDeviation",
        ];
        let mut group = json!({
            "labelGroup": {"type": "string"},
            "monthly": schema::array(month),
            "count": {"type": "integer"},
            "transactionIds": schema::array(json!({"type": "string"}))
        });
        for f in figures {
            group[f] = schema::amount();
        }
        let mut required = vec!["labelGroup", "monthly", "count"];
        required.extend(figures);
        schema::object(
            json!({
                "userId": {"type": "string"},
                "labelGroups": schema::array(schema::object(group, &required))
            }),
            &["userId", "labelGroups"],
        )
    }

    fn csv_rows(member: &Self::Member) -> Vec<Vec<String>> {
        member
            .label_groups
            .iter()
            .map(|g| {
                vec![
                    g.label_group.clone(),
                    g.total.to_string(),
                    g.count.to_string(),
                    g.average.to_string(),
                    g.median.to_string(),
                    g.minimum.to_string(),
                    g.maximum.to_string(),
                    g.standard_deviation.to_string(),
                ]
            })
            .collect()
    }
}

impl SegmentParams for FinancialBreakdown {
    fn to_json(&self) -> Value {
        let groups: Vec<&str> = self.label_groups.iter().map(|(n, _)| *n).collect();
        json!({
            "labelGroups": groups,
            "durationInMonth": self.duration_in_month,
            "includeTransactionIds": self.include_transaction_ids
        })
    }

    fn period(&self, creation_date: Date) -> Period {
        Period::last_complete_months(creation_date, self.duration_in_month)
    }

    // A few days around the period, so that both halves of an own-account
    // transfer are seen.
    fn load_spec(&self, creation_date: Date) -> LoadSpec {
        let (from, to) = transfers::window_around(self.period(creation_date));
        LoadSpec::amounts(Window::Fixed { from, to })
    }

    fn render(&self, creation_date: Date, user: &UserData) -> Rendered {
        if self.include_transaction_ids {
            return Segment::evaluate(self, creation_date, user).into();
        }
        let period = self.period(creation_date);
        breakdown::pack_accounts(&user.accounts, &self.label_groups, period)
    }

    /// The index keeps the ids of candidate insurance payments only.
    fn served_by_index(&self) -> bool {
        !self.include_transaction_ids
    }

    fn render_indexed(&self, creation_date: Date, user: &ColumnarUser) -> Option<Rendered> {
        if self.include_transaction_ids {
            return None;
        }
        let period = self.period(creation_date);
        Some(breakdown::pack_accounts(
            &user.marked(period),
            &self.label_groups,
            period,
        ))
    }

    // The flow rules read every booking of the period.
    fn prefetch(&self, next: &ColumnarUser) {
        next.prefetch_bookings();
    }
}
