//! `lowBalance`: users with an account of the chosen types that ended a
//! day strictly below the threshold in each of the last complete months.
//! The rule is [`crate::segments::low_balance`].

use serde_json::{Value, json};

use super::{ParamReader, Segment, SegmentParams, schema};
use crate::segment_index::ColumnarUser;
use crate::segments::{LoadSpec, Period, Rendered, UserData, Verdict, Window, low_balance};
use crate::{AccountType, Amount, Date};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LowBalance {
    pub threshold: Amount,
    pub duration_in_month: u32,
    pub account_types: Vec<AccountType>,
}

impl Segment for LowBalance {
    const NAME: &'static str = "lowBalance";
    const CSV_HEADER: &'static str = "userId,accountId,accountType,lowestBalance";
    type Member = low_balance::Member;
    const DESCRIPTION: &'static str = "A user is a member when, in each of the last complete months, an account of the chosen types ended at least one day strictly below the threshold. Each member lists those accounts with their lowest balance and, per month, the lowest balance, its day and the days below the threshold.";

    fn parse(r: &mut ParamReader<'_>) -> Option<Self> {
        let threshold = r.amount("threshold");
        let duration_in_month = r.months("durationInMonth", 3, 12);
        let account_types = r
            .account_types("accountTypes")
            .unwrap_or(vec![AccountType::Checking]);
        threshold.map(|threshold| LowBalance {
            threshold,
            duration_in_month,
            account_types,
        })
    }

    fn parameters_schema() -> Value {
        json!({
            "properties": {
                "threshold": {"$ref": "#/components/schemas/Amount", "description": "A day counts when its end-of-day balance is strictly below it."},
                "durationInMonth": {"type": "integer", "minimum": 1, "maximum": 12, "default": 3, "description": "The last complete months, each of which must have such a day."},
                "accountTypes": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/AccountType"}, "default": ["CHECKING"]}
            },
            "required": ["threshold"]
        })
    }

    fn member_schema() -> Value {
        let month = schema::object(
            json!({
                "month": {"type": "string", "description": "YYYY-MM"},
                "lowestBalance": schema::or_null(schema::amount()),
                "lowestBalanceDate": schema::date(),
                "daysBelowThreshold": {"type": "integer"}
            }),
            &["month", "lowestBalance", "daysBelowThreshold"],
        );
        let account = schema::object(
            json!({
                "accountId": {"type": "string"},
                "accountType": schema::account_type(),
                "amount": schema::amount(),
                "months": schema::array(month)
            }),
            &["accountId", "accountType", "amount", "months"],
        );
        schema::object(
            json!({"userId": {"type": "string"}, "accounts": schema::array(account)}),
            &["userId", "accounts"],
        )
    }

    fn evaluate(&self, creation_date: Date, user: &UserData) -> Verdict<Self::Member> {
        let period = self.period(creation_date);
        low_balance::evaluate(user, self.threshold, &self.account_types, period)
    }

    fn csv_rows(member: &Self::Member) -> Vec<Vec<String>> {
        member
            .accounts
            .iter()
            .map(|a| {
                vec![
                    a.account_id.clone(),
                    a.account_type.to_string(),
                    a.amount.to_string(),
                ]
            })
            .collect()
    }
}

impl SegmentParams for LowBalance {
    fn to_json(&self) -> Value {
        let types: Vec<&str> = self.account_types.iter().map(|t| t.as_str()).collect();
        json!({
            "threshold": self.threshold,
            "durationInMonth": self.duration_in_month,
            "accountTypes": types
        })
    }

    fn period(&self, creation_date: Date) -> Period {
        Period::last_complete_months(creation_date, self.duration_in_month)
    }

    fn load_spec(&self, creation_date: Date) -> LoadSpec {
        let period = self.period(creation_date);
        LoadSpec::amounts(Window::Balances {
            from: period.from,
            to: period.to,
        })
    }

    fn render(&self, creation_date: Date, user: &UserData) -> Rendered {
        Segment::evaluate(self, creation_date, user).into()
    }

    fn render_indexed(&self, creation_date: Date, user: &ColumnarUser) -> Option<Rendered> {
        Some(low_balance::render_accounts(
            &user.id,
            &user.accounts,
            self.threshold,
            &self.account_types,
            self.period(creation_date),
        ))
    }

    // Most users are decided from the monthly lows.
    fn prefetch(&self, next: &ColumnarUser) {
        next.prefetch_lows();
    }
}
