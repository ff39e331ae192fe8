//! Segment types and their parameters, parsed from the job request with a
//! JSON pointer for every bad field, and written back with defaults filled in.

use serde_json::{Map, Value, json};

use crate::labels::{self, LabelSet};
use crate::{AccountType, Amount, Date, FieldError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SegmentType {
    LowBalance,
    HighBalance,
    FinancialBreakdown,
    Insurance,
    IncomeSpendingSummary,
}

impl SegmentType {
    pub const ALL: [SegmentType; 5] = [
        SegmentType::LowBalance,
        SegmentType::HighBalance,
        SegmentType::FinancialBreakdown,
        SegmentType::Insurance,
        SegmentType::IncomeSpendingSummary,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SegmentType::LowBalance => "lowBalance",
            SegmentType::HighBalance => "highBalance",
            SegmentType::FinancialBreakdown => "financialBreakdown",
            SegmentType::Insurance => "insurance",
            SegmentType::IncomeSpendingSummary => "incomeSpendingSummary",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Insurance types of SPEC §6 and the label each one comes from.
pub const INSURANCE_TYPES: &[(&str, &str)] = &[
    ("HEALTH", "HEALTHINSURANCE"),
    ("CAR", "CARINSURANCE"),
    ("LIFE", "LIFEINSURANCE"),
    ("LIABILITY", "LIABILITYINSURANCE"),
    ("HOUSEHOLD", "HOUSEHOLDINSURANCE"),
    ("BUILDING", "BUILDINGINSURANCE"),
    ("LEGAL", "LEGALINSURANCE"),
    ("DISABILITY", "DISABILITYINSURANCE"),
    ("ACCIDENT", "ACCIDENTINSURANCE"),
    ("TRAVEL", "TRAVELINSURANCE"),
    ("PET", "PETINSURANCE"),
    ("DENTAL", "DENTALINSURANCE"),
    ("CARE", "CAREINSURANCE"),
    ("OTHER", "OTHERINSURANCE"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Params {
    LowBalance {
        threshold: Amount,
        duration_in_month: u32,
        account_types: Vec<AccountType>,
    },
    HighBalance {
        threshold: Amount,
        account_types: Vec<AccountType>,
    },
    FinancialBreakdown {
        /// Canonical group names with their label sets, in request order.
        label_groups: Vec<(&'static str, LabelSet)>,
        duration_in_month: u32,
        /// List each group's transaction ids as evidence (off by default:
        /// over a whole customer base they are most of the result).
        include_transaction_ids: bool,
    },
    Insurance {
        duration_in_month: u32,
        insurance_types: Option<Vec<&'static str>>,
        include_users_without_contracts: bool,
    },
    IncomeSpendingSummary {
        period: SummaryPeriod,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryPeriod {
    Dates { from: Date, to: Date },
    Months(u32),
}

/// Levenshtein distance of two short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

struct Reader<'a> {
    obj: &'a Map<String, Value>,
    errors: Vec<FieldError>,
    /// The parameters the segment asked for, whether given or not.
    known: std::cell::RefCell<Vec<String>>,
}

/// Members of a job's body that are not the segment's parameters.
const ENVELOPE: [&str; 2] = ["callbackURL", "callbackUrl"];

impl Reader<'_> {
    fn err(&mut self, field: &str, detail: impl Into<String>) {
        self.errors
            .push(FieldError::new(format!("/{field}"), detail));
    }

    fn get(&self, field: &str) -> Option<&Value> {
        let mut known = self.known.borrow_mut();
        if !known.iter().any(|k| k == field) {
            known.push(field.to_owned());
        }
        self.obj.get(field).filter(|v| !v.is_null())
    }

    /// A member the segment does not know is refused, not ignored: a
    /// misspelt parameter would otherwise fall back to its default, and
    /// the bank would get another segment than it asked for.
    fn refuse_unknown(&mut self) {
        let known = self.known.borrow().clone();
        let candidates = || known.iter().map(String::as_str).chain(ENVELOPE);
        let mut unknown: Vec<&String> = self
            .obj
            .keys()
            .filter(|k| !candidates().any(|c| c == k.as_str()))
            .collect();
        unknown.sort();
        for k in unknown {
            let closest = candidates()
                .map(|c| {
                    (
                        edit_distance(&k.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                        c,
                    )
                })
                .min()
                .filter(|(d, c)| *d <= 3.max(c.len() / 4));
            let detail = match closest {
                Some((_, c)) => format!("is not a parameter of this segment; did you mean '{c}'?"),
                None => format!(
                    "is not a parameter of this segment (its parameters: {})",
                    known.join(", ")
                ),
            };
            self.err(k, detail);
        }
    }

    fn amount(&mut self, field: &str) -> Option<Amount> {
        let Some(v) = self.get(field) else {
            self.err(field, "is required");
            return None;
        };
        let text = match v {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => {
                self.err(field, "must be a decimal amount");
                return None;
            }
        };
        match Amount::parse(&text) {
            Ok(a) => Some(a),
            Err(e) => {
                self.err(field, e.to_string());
                None
            }
        }
    }

    fn months(&mut self, field: &str, default: u32, max: u32) -> u32 {
        match self.get(field) {
            None => default,
            Some(v) => match v.as_u64() {
                Some(n) if (1..=u64::from(max)).contains(&n) => n as u32,
                _ => {
                    self.err(field, format!("must be an integer from 1 to {max}"));
                    default
                }
            },
        }
    }

    fn account_types(&mut self, field: &str) -> Option<Vec<AccountType>> {
        let v = self.get(field)?.clone();
        let Some(items) = v.as_array().filter(|a| !a.is_empty()) else {
            self.err(field, "must be a non-empty array of account types");
            return None;
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.as_str().and_then(AccountType::parse) {
                Some(t) if !out.contains(&t) => out.push(t),
                Some(_) => {}
                None => self.err(
                    &format!("{field}/{i}"),
                    format!("unknown account type {item}"),
                ),
            }
        }
        Some(out)
    }

    fn date(&mut self, field: &str) -> Option<Date> {
        let v = self.get(field)?;
        match v.as_str().and_then(Date::parse) {
            Some(d) => Some(d),
            None => {
                self.err(field, "must be a calendar date YYYY-MM-DD");
                None
            }
        }
    }

    fn bool(&mut self, field: &str) -> bool {
        match self.get(field) {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.err(field, "must be true or false");
                false
            }
        }
    }
}

impl Params {
    /// Reads the parameters of `segment` from the request object.
    pub fn parse(segment: SegmentType, body: &Value) -> Result<Params, Vec<FieldError>> {
        let empty = Map::new();
        let Some(obj) = body.as_object().or(body.is_null().then_some(&empty)) else {
            return Err(vec![FieldError::new("", "must be a JSON object")]);
        };
        let mut r = Reader {
            obj,
            errors: Vec::new(),
            known: Default::default(),
        };
        let params = match segment {
            SegmentType::LowBalance => low_balance(&mut r),
            SegmentType::HighBalance => high_balance(&mut r),
            SegmentType::FinancialBreakdown => financial_breakdown(&mut r),
            SegmentType::Insurance => insurance(&mut r),
            SegmentType::IncomeSpendingSummary => income_spending_summary(&mut r),
        };
        r.refuse_unknown();
        match params {
            Some(p) if r.errors.is_empty() => Ok(p),
            _ => Err(r.errors),
        }
    }

    pub fn segment_type(&self) -> SegmentType {
        match self {
            Params::LowBalance { .. } => SegmentType::LowBalance,
            Params::HighBalance { .. } => SegmentType::HighBalance,
            Params::FinancialBreakdown { .. } => SegmentType::FinancialBreakdown,
            Params::Insurance { .. } => SegmentType::Insurance,
            Params::IncomeSpendingSummary { .. } => SegmentType::IncomeSpendingSummary,
        }
    }

    /// The parameters as understood, with defaults filled in.
    pub fn to_json(&self) -> Value {
        let types = |ts: &[AccountType]| ts.iter().map(|t| t.as_str()).collect::<Vec<_>>();
        match self {
            Params::LowBalance {
                threshold,
                duration_in_month,
                account_types,
            } => json!({
                "threshold": threshold, "durationInMonth": duration_in_month, "accountTypes": types(account_types)
            }),
            Params::HighBalance {
                threshold,
                account_types,
            } => json!({
                "threshold": threshold, "accountTypes": types(account_types)
            }),
            Params::FinancialBreakdown {
                label_groups,
                duration_in_month,
                include_transaction_ids,
            } => json!({
                "labelGroups": label_groups.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
                "durationInMonth": duration_in_month,
                "includeTransactionIds": include_transaction_ids
            }),
            Params::Insurance {
                duration_in_month,
                insurance_types,
                include_users_without_contracts,
            } => {
                let all: Vec<&str> = INSURANCE_TYPES.iter().map(|(t, _)| *t).collect();
                json!({
                    "durationInMonth": duration_in_month,
                    "insuranceTypes": insurance_types.clone().unwrap_or(all),
                    "includeUsersWithoutContracts": include_users_without_contracts
                })
            }
            Params::IncomeSpendingSummary { period } => match period {
                SummaryPeriod::Dates { from, to } => json!({"dateFrom": from, "dateTo": to}),
                SummaryPeriod::Months(m) => json!({"durationInMonth": m}),
            },
        }
    }

    /// Reads back what [`Params::to_json`] wrote (for stored jobs).
    pub fn from_stored(segment: SegmentType, stored: &Value) -> Result<Params, Vec<FieldError>> {
        Params::parse(segment, stored)
    }

    /// The period the job evaluates, given its creation date.
    pub fn period(&self, creation_date: Date) -> super::Period {
        use super::Period;
        match self {
            Params::LowBalance {
                duration_in_month, ..
            }
            | Params::FinancialBreakdown {
                duration_in_month, ..
            } => Period::last_complete_months(creation_date, *duration_in_month),
            Params::Insurance {
                duration_in_month, ..
            } => Period::last_complete_months(creation_date, *duration_in_month),
            Params::HighBalance { .. } => Period {
                from: creation_date,
                to: creation_date,
            },
            Params::IncomeSpendingSummary { period } => match period {
                SummaryPeriod::Dates { from, to } => Period {
                    from: *from,
                    to: *to,
                },
                SummaryPeriod::Months(m) => Period::last_complete_months(creation_date, *m),
            },
        }
    }
}

/// The parameters of `lowBalance`.
fn low_balance(r: &mut Reader) -> Option<Params> {
    let threshold = r.amount("threshold");
    let duration_in_month = r.months("durationInMonth", 3, 12);
    let account_types = r
        .account_types("accountTypes")
        .unwrap_or(vec![AccountType::Checking]);
    threshold.map(|threshold| Params::LowBalance {
        threshold,
        duration_in_month,
        account_types,
    })
}

/// The parameters of `highBalance`.
fn high_balance(r: &mut Reader) -> Option<Params> {
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
    threshold.map(|threshold| Params::HighBalance {
        threshold,
        account_types,
    })
}

/// The parameters of `financialBreakdown`.
fn financial_breakdown(r: &mut Reader) -> Option<Params> {
    let duration_in_month = r.months("durationInMonth", 6, 12);
    let mut label_groups = Vec::new();
    match r
        .get("labelGroups")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    {
        None => r.err(
            "labelGroups",
            "is required: a non-empty array of label groups",
        ),
        Some(items) => {
            for (i, item) in items.clone().iter().enumerate() {
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
                    Some(g) if !label_groups.iter().any(|(n, _)| *n == g.0) => label_groups.push(g),
                    Some(_) => {}
                    None => r.err(&field, format!("unknown label group '{name}'")),
                }
            }
        }
    }
    let include_transaction_ids = r.bool("includeTransactionIds");
    Some(Params::FinancialBreakdown {
        label_groups,
        duration_in_month,
        include_transaction_ids,
    })
}

/// The parameters of `insurance`.
fn insurance(r: &mut Reader) -> Option<Params> {
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
    Some(Params::Insurance {
        duration_in_month,
        insurance_types,
        include_users_without_contracts,
    })
}

/// The parameters of `incomeSpendingSummary`.
fn income_spending_summary(r: &mut Reader) -> Option<Params> {
    let from = r.date("dateFrom");
    let to = r.date("dateTo");
    let has_dates = r.get("dateFrom").is_some() || r.get("dateTo").is_some();
    let months = r
        .get("durationInMonth")
        .is_some()
        .then(|| r.months("durationInMonth", 12, 12));
    match (has_dates, months) {
        (true, Some(_)) => {
            r.err(
                "durationInMonth",
                "give dateFrom and dateTo, or durationInMonth, not both",
            );
            None
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
                Some(Params::IncomeSpendingSummary {
                    period: SummaryPeriod::Dates { from, to },
                })
            }
            (f, t) => {
                if f.is_none() && r.get("dateFrom").is_none() {
                    r.err("dateFrom", "is required with dateTo");
                }
                if t.is_none() && r.get("dateTo").is_none() {
                    r.err("dateTo", "is required with dateFrom");
                }
                None
            }
        },
        (false, m) => Some(Params::IncomeSpendingSummary {
            period: SummaryPeriod::Months(m.unwrap_or(12)),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ptrs(e: &[FieldError]) -> Vec<&str> {
        e.iter().map(|e| e.pointer.as_str()).collect()
    }

    /// A misspelt or unknown parameter is refused with the closest name,
    /// for every segment type; the callback URL is not a parameter but
    /// belongs to every job.
    #[test]
    fn unknown_parameters_are_refused_with_the_closest_name() {
        let e = Params::parse(
            SegmentType::LowBalance,
            &json!({"threshold": -100, "durationInMonths": 6, "callbackURL": "https://x"}),
        )
        .unwrap_err();
        assert_eq!(ptrs(&e), ["/durationInMonths"]);
        assert!(
            e[0].detail.contains("did you mean 'durationInMonth'"),
            "{}",
            e[0].detail
        );
        for segment in SegmentType::ALL {
            let e = Params::parse(
                segment,
                &json!({"threshold": 1, "labelGroups": ["INCOME"], "zzz": 1}),
            )
            .unwrap_err();
            assert!(ptrs(&e).contains(&"/zzz"), "{segment:?}: {e:?}");
        }
        let e =
            Params::parse(SegmentType::Insurance, &json!({"insurancetypes": ["CAR"]})).unwrap_err();
        assert!(e[0].detail.contains("'insuranceTypes'"), "{}", e[0].detail);
    }

    #[test]
    fn defaults_are_filled_in() {
        let p = Params::parse(SegmentType::LowBalance, &json!({"threshold": -100})).unwrap();
        assert_eq!(
            p.to_json(),
            json!({"threshold": Amount::from_cents(-100_00), "durationInMonth": 3, "accountTypes": ["CHECKING"]})
        );
        let p = Params::parse(
            SegmentType::HighBalance,
            &json!({"threshold": "10000", "accountType": "savings"}),
        )
        .unwrap();
        assert_eq!(
            p,
            Params::HighBalance {
                threshold: Amount::from_cents(1_000_000),
                account_types: vec![AccountType::Savings]
            }
        );
        let p = Params::parse(SegmentType::HighBalance, &json!({"threshold": 1})).unwrap();
        assert_eq!(
            p.to_json()["accountTypes"],
            json!(["CHECKING", "SAVINGS", "POCKET"])
        );
    }

    #[test]
    fn bad_parameters_are_named() {
        let e = Params::parse(
            SegmentType::LowBalance,
            &json!({"durationInMonth": 13, "accountTypes": ["GIRO"]}),
        )
        .unwrap_err();
        assert_eq!(
            ptrs(&e),
            vec!["/threshold", "/durationInMonth", "/accountTypes/0"]
        );
        let e = Params::parse(
            SegmentType::FinancialBreakdown,
            &json!({"labelGroups": ["INCOME", "TRANSFERS", "NOPE"]}),
        )
        .unwrap_err();
        assert_eq!(ptrs(&e), vec!["/labelGroups/1", "/labelGroups/2"]);
        let e = Params::parse(SegmentType::FinancialBreakdown, &json!({})).unwrap_err();
        assert_eq!(ptrs(&e), vec!["/labelGroups"]);
        let e = Params::parse(
            SegmentType::IncomeSpendingSummary,
            &json!({"dateFrom": "2025-01-01", "dateTo": "2026-01-01"}),
        )
        .unwrap_err();
        assert_eq!(ptrs(&e), vec!["/dateTo"]);
        assert!(
            Params::parse(
                SegmentType::IncomeSpendingSummary,
                &json!({"dateFrom": "2025-01-01", "dateTo": "2025-12-31"})
            )
            .is_ok()
        );
        let e = Params::parse(
            SegmentType::Insurance,
            &json!({"durationInMonth": 25, "insuranceTypes": ["CAR", "BOAT"]}),
        )
        .unwrap_err();
        assert_eq!(ptrs(&e), vec!["/durationInMonth", "/insuranceTypes/1"]);
    }

    #[test]
    fn stored_parameters_read_back() {
        for (t, body) in [
            (
                SegmentType::LowBalance,
                json!({"threshold": "-100.50", "accountTypes": ["checking", "CREDIT_CARD"]}),
            ),
            (
                SegmentType::FinancialBreakdown,
                json!({"labelGroups": ["rent_and_living", "SALARY"]}),
            ),
            (SegmentType::Insurance, json!({"insuranceTypes": ["car"]})),
            (
                SegmentType::IncomeSpendingSummary,
                json!({"dateFrom": "2026-01-01", "dateTo": "2026-03-31"}),
            ),
        ] {
            let p = Params::parse(t, &body).unwrap();
            let stored: Value = serde_json::from_str(&p.to_json().to_string()).unwrap();
            assert_eq!(Params::from_stored(t, &stored).unwrap(), p);
        }
    }
}
