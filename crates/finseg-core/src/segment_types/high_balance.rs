//! `highBalance`: users with an account of the chosen types whose current
//! balance is strictly above the threshold. The rule is
//! [`crate::segments::high_balance`].

use serde_json::{Value, json};

use super::{ParamReader, Segment, SegmentParams, schema};
use crate::segment_index::ColumnarUser;
use crate::segments::{LoadSpec, Period, Rendered, UserData, Verdict, Window, high_balance};
use crate::{AccountType, Amount, Date};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HighBalance {
    pub threshold: Amount,
    pub account_types: Vec<AccountType>,
}

impl Segment for HighBalance {
    const NAME: &'static str = "highBalance";
    const CSV_HEADER: &'static str =
        "userId,accountId,accountType,balance,balanceDate,aboveThreshold,userTotal";
    type Member = high_balance::Member;
    const DESCRIPTION: &'static str = "A user is a member when an account of the chosen types has a current balance (the latest known end-of-day balance up to the job's creation date) strictly above the threshold. Each member lists the accounts' current balances and their total.";

    fn parse(r: &mut ParamReader<'_>) -> Option<Self> {
        let threshold = r.amount("threshold");
        let mut account_types = r.account_types("accountTypes");
        if let Some(v) = r.get("accountType").cloned() {
            match v.as_str().and_then(AccountType::parse) {
                Some(t) if account_types.is_none() => account_types = Some(vec![t]),
                Some(_) => r.err("accountType", "give accountType or accountTypes, not both"),
                None => r.err("accountType", format!("unknown account type {v}")),
            }
        }
        let account_types = account_types.unwrap_or(AccountType::DEPOSIT.to_vec());
        threshold.map(|threshold| HighBalance {
            threshold,
            account_types,
        })
    }

    fn parameters_schema() -> Value {
        json!({
            "properties": {
                "threshold": {"$ref": "#/components/schemas/Amount", "description": "An account counts when its current balance is strictly above it."},
                "accountTypes": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/AccountType"}, "default": ["CHECKING", "SAVINGS", "POCKET"]},
                "accountType": {"$ref": "#/components/schemas/AccountType", "description": "One type (finAPI's form); not together with accountTypes."}
            },
            "required": ["threshold"]
        })
    }

    fn member_schema() -> Value {
        let account = schema::object(
            json!({
                "accountId": {"type": "string"},
                "accountType": schema::account_type(),
                "amount": schema::amount(),
                "balanceDate": schema::date(),
                "aboveThreshold": {"type": "boolean"}
            }),
            &["accountId", "accountType", "amount", "balanceDate", "aboveThreshold"],
        );
        schema::object(
            json!({
                "userId": {"type": "string"},
                "total": schema::amount(),
                "accounts": schema::array(account)
            }),
            &["userId", "total", "accounts"],
        )
    }

    fn evaluate(&self, creation_date: Date, user: &UserData) -> Verdict<Self::Member> {
        high_balance::evaluate(user, self.threshold, &self.account_types, creation_date)
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
                    a.balance_date.to_string(),
                    a.above_threshold.to_string(),
                    member.total.to_string(),
                ]
            })
            .collect()
    }
}

impl SegmentParams for HighBalance {
    fn to_json(&self) -> Value {
        let types: Vec<&str> = self.account_types.iter().map(|t| t.as_str()).collect();
        json!({"threshold": self.threshold, "accountTypes": types})
    }

    /// The job's creation day: the current balance is as of that day.
    fn period(&self, creation_date: Date) -> Period {
        Period {
            from: creation_date,
            to: creation_date,
        }
    }

    fn load_spec(&self, creation_date: Date) -> LoadSpec {
        LoadSpec::amounts(Window::Balances {
            from: creation_date,
            to: creation_date,
        })
    }

    fn render(&self, creation_date: Date, user: &UserData) -> Rendered {
        Segment::evaluate(self, creation_date, user).into()
    }

    fn render_indexed(&self, creation_date: Date, user: &ColumnarUser) -> Option<Rendered> {
        let verdict = high_balance::evaluate_accounts(
            &user.id,
            &user.accounts,
            self.threshold,
            &self.account_types,
            creation_date,
        );
        Some(verdict.into())
    }

    fn prefetch(&self, next: &ColumnarUser) {
        next.prefetch_lows();
    }
}
