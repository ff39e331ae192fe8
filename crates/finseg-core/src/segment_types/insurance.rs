//! `insurance`: the insurance contracts each user pays (provider, type,
//! amount, frequency) and the common types they lack. The rule is
//! [`crate::segments::insurance`].

use serde_json::{Value, json};

use super::{cell, ParamReader, Segment, SegmentParams, schema};
use crate::segment_index::ColumnarUser;
use crate::segments::insurance::{self, INSURANCE_TYPES};
use crate::segments::{LoadSpec, Period, Rendered, UserData, Verdict, Window};
use crate::Date;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insurance {
    pub duration_in_month: u32,
    /// `None`: every type.
    pub insurance_types: Option<Vec<&'static str>>,
    pub include_users_without_contracts: bool,
}

impl Segment for Insurance {
    const NAME: &'static str = "insurance";
    const CSV_HEADER: &'static str = "userId,provider,providerId,insuranceType,amount,frequency,annualAmount,firstPaymentDate,lastPaymentDate,nextExpectedDate,paymentCount,accountId,missingTypes";
    type Member = insurance::Member;
    const DESCRIPTION: &'static str = "The insurance contracts each user pays (provider, type, amount, frequency, first, last and next payment), found among the insurance-labelled debits, and the common types the user lacks.";

    fn parse(r: &mut ParamReader<'_>) -> Option<Self> {
        let duration_in_month = r.months("durationInMonth", 12, 24);
        let include_users_without_contracts = r.bool("includeUsersWithoutContracts");
        let mut insurance_types = None;
        if let Some(v) = r.get("insuranceTypes").cloned() {
            match v.as_array().filter(|a| !a.is_empty()) {
                None => r.err(
                    "insuranceTypes",
                    "must be a non-empty array of insurance types",
                ),
                Some(items) => {
                    let mut out: Vec<&'static str> = Vec::new();
                    for (i, item) in items.iter().enumerate() {
                        let name = item.as_str().unwrap_or("").to_ascii_uppercase();
                        match INSURANCE_TYPES.iter().find(|(t, _)| *t == name) {
                            Some((t, _)) if !out.contains(t) => out.push(t),
                            Some(_) => {}
                            None => r.err(
                                &format!("insuranceTypes/{i}"),
                                format!("unknown insurance type {item}"),
                            ),
                        }
                    }
                    insurance_types = Some(out);
                }
            }
        }
        Some(Insurance {
            duration_in_month,
            insurance_types,
            include_users_without_contracts,
        })
    }

    fn parameters_schema() -> Value {
        let types: Vec<&str> = INSURANCE_TYPES.iter().map(|(t, _)| *t).collect();
        json!({
            "properties": {
                "durationInMonth": {"type": "integer", "minimum": 1, "maximum": 24, "default": 12, "description": "The last complete months in which a contract's payments are looked for."},
                "insuranceTypes": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": types}, "description": "Only contracts of these types (default: every type)."},
                "includeUsersWithoutContracts": {"type": "boolean", "default": false, "description": "Also list users with data but no contract, for their missing types."}
            },
            "required": []
        })
    }

    fn decode(user_id: &str, stored: &str) -> Option<Self::Member> {
        insurance::unpack(user_id, stored).or_else(|| serde_json::from_str(stored).ok())
    }

    fn evaluate(&self, creation_date: Date, user: &UserData) -> Verdict<Self::Member> {
        insurance::evaluate(
            user,
            self.period(creation_date),
            self.insurance_types.as_deref(),
            self.include_users_without_contracts,
        )
    }

    fn member_schema() -> Value {
        let text = || schema::or_null(json!({"type": "string"}));
        let contract = schema::object(
            json!({
                "accountId": {"type": "string"},
                "provider": {"type": "string"},
                "providerId": text(),
                "insuranceType": {"type": "string"},
                "amount": schema::amount(),
                "annualAmount": schema::amount(),
                "frequency": {"type": "string"},
                "firstPaymentDate": schema::date(),
                "lastPaymentDate": schema::date(),
                "nextExpectedDate": schema::or_null(schema::date()),
                "paymentCount": {"type": "integer"},
                "contractNumber": text(),
                "creditorId": text(),
                "mandateReference": text(),
                "transactionIds": schema::array(json!({"type": "string"}))
            }),
            &[
                "accountId",
                "provider",
                "insuranceType",
                "amount",
                "annualAmount",
                "frequency",
                "firstPaymentDate",
                "lastPaymentDate",
                "paymentCount",
                "transactionIds",
            ],
        );
        schema::object(
            json!({
                "userId": {"type": "string"},
                "contracts": schema::array(contract),
                "missingTypes": schema::array(json!({"type": "string"}))
            }),
            &["userId", "contracts", "missingTypes"],
        )
    }

    /// One row per contract; a member without contracts (listed for its
    /// missing types) gets one row with the contract's cells empty.
    /// One row per contract, or one row without a contract for a member
    /// listed for its missing types only.
    fn csv_rows(member: &Self::Member) -> Vec<Vec<String>> {
        let missing = member.missing_types.join(" ");
        if member.contracts.is_empty() {
            let mut cells = vec![String::new(); 11];
            cells.push(missing);
            return vec![cells];
        }
        member
            .contracts
            .iter()
            .map(|c| {
                vec![
                    c.provider.clone(),
                    cell(c.provider_id.as_ref()),
                    c.insurance_type.clone(),
                    c.amount.to_string(),
                    c.frequency.clone(),
                    c.annual_amount.to_string(),
                    c.first_payment_date.to_string(),
                    c.last_payment_date.to_string(),
                    cell(c.next_expected_date),
                    c.payment_count.to_string(),
                    c.account_id.clone(),
                    missing.clone(),
                ]
            })
            .collect()
    }
}

impl SegmentParams for Insurance {
    fn to_json(&self) -> Value {
        let all: Vec<&str> = INSURANCE_TYPES.iter().map(|(t, _)| *t).collect();
        json!({
            "durationInMonth": self.duration_in_month,
            "insuranceTypes": self.insurance_types.clone().unwrap_or(all),
            "includeUsersWithoutContracts": self.include_users_without_contracts
        })
    }

    fn period(&self, creation_date: Date) -> Period {
        Period::last_complete_months(creation_date, self.duration_in_month)
    }

    fn load_spec(&self, creation_date: Date) -> LoadSpec {
        let period = self.period(creation_date);
        LoadSpec {
            texts: true,
            // A yearly contract seen once is recognised by a payment a year earlier.
            window: Window::Fixed {
                from: insurance::history_from(period),
                to: period.to,
            },
            // The rule reads insurance debits, and whether an account has
            // any booking in the period: not every row.
            only_debits_labelled: Some(insurance::insurance_labels()),
            stand_ins: Some((period.from, period.to)),
        }
    }

    fn render(&self, creation_date: Date, user: &UserData) -> Rendered {
        insurance::render(
            user,
            self.period(creation_date),
            self.insurance_types.as_deref(),
            self.include_users_without_contracts,
        )
    }

    fn render_indexed(&self, creation_date: Date, user: &ColumnarUser) -> Option<Rendered> {
        let period = self.period(creation_date);
        let any_in_period = user.has_booking_in(period);
        Some(user.with_insurance_payments(|accounts| {
            insurance::render_payments(
                &user.id,
                accounts,
                any_in_period,
                period,
                self.insurance_types.as_deref(),
                self.include_users_without_contracts,
            )
        }))
    }

    fn prefetch(&self, next: &ColumnarUser) {
        next.prefetch_insurance();
    }
}
