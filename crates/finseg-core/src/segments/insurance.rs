//! `insurance` (UC-04): the insurance contracts each user pays, with
//! provider, type, amount and frequency, and the common types they lack.

use std::collections::BTreeMap;

use serde_json::json;

use super::params::INSURANCE_TYPES;
use super::{Period, Tx, UserData, Verdict};
use crate::labels::{self, Label, LabelSet};
use crate::recurring::{self, Frequency};
use crate::{Amount, Date, providers};

/// The common types whose absence is the cross-selling signal of UC-04.
pub const COMMON_TYPES: [&str; 5] = ["LIABILITY", "HOUSEHOLD", "HEALTH", "LEGAL", "DISABILITY"];

/// The insurance type of a label set: the first specific insurance label,
/// `OTHER` when only `OTHERINSURANCE` is present.
fn insurance_type(set: LabelSet) -> Option<&'static str> {
    let mut other = false;
    for (t, label) in INSURANCE_TYPES {
        if set.contains(Label::parse(label).expect("taxonomy label")) {
            if *t == "OTHER" {
                other = true;
            } else {
                return Some(t);
            }
        }
    }
    other.then_some("OTHER")
}

/// A contract number from the purpose text ("Vers.-Nr. 123456", "VSNR 123…").
pub fn contract_number(purpose: &str) -> Option<String> {
    const MARKERS: [&str; 9] = [
        "vers.-nr.",
        "vers-nr",
        "versnr",
        "vsnr",
        "vertragsnr",
        "vertrag",
        "police",
        "vers.nr.",
        "vnr",
    ];
    let lower = purpose.to_lowercase();
    for m in MARKERS {
        if let Some(i) = lower.find(m) {
            let rest = &purpose[i + m.len()..];
            let token: String = rest
                .trim_start_matches([' ', '.', ':', '-'])
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '/')
                .collect();
            if token.chars().filter(char::is_ascii_digit).count() >= 4 {
                return Some(token);
            }
        }
    }
    // Without a marker: the first run of six or more digits (dates and
    // amounts are shorter or carry separators).
    purpose
        .split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() >= 6)
        .map(str::to_owned)
}

fn yearly_text(t: &Tx) -> bool {
    let text = format!(
        "{} {}",
        t.purpose.as_deref().unwrap_or(""),
        t.counterpart_name.as_deref().unwrap_or("")
    )
    .to_lowercase();
    [
        "jährl",
        "jaehrl",
        "jahresbeitrag",
        "jahresprämie",
        "jahrespraemie",
        "jahresbetrag",
        "p.a.",
        "1/1 jahr",
    ]
    .iter()
    .any(|k| text.contains(k))
}

/// How payments are grouped into contracts: creditor id and mandate, else
/// contract number, else the provider or counterpart name; always per account and type.
fn contract_key(account: &str, t: &Tx, itype: &str) -> String {
    let norm = |s: &str| {
        s.to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    // A creditor id with mandate, or a contract number, identifies the
    // contract whatever type the text of one payment suggests.
    if let Some(cid) = &t.creditor_id {
        return format!(
            "{account}|cid:{}|{}",
            cid.to_uppercase(),
            t.mandate_reference.as_deref().unwrap_or("")
        );
    }
    if let Some(n) = t.purpose.as_deref().and_then(contract_number) {
        return format!("{account}|nr:{n}");
    }
    let provider = providers::identify(None, t.counterpart_name.as_deref(), t.purpose.as_deref())
        .map(|p| p.id.clone())
        .unwrap_or_else(|| norm(t.counterpart_name.as_deref().unwrap_or("?")));
    format!("{account}|name:{provider}|{itype}")
}

/// The payments of one contract: inside the lookback and before it.
struct Payments<'a> {
    account_id: String,
    itype: &'static str,
    inside: Vec<&'a Tx>,
    before: Vec<&'a Tx>,
}

pub fn evaluate(
    user: &UserData,
    period: Period,
    insurance_types: Option<&[&'static str]>,
    include_users_without_contracts: bool,
) -> Verdict {
    let (_, insurance) = labels::group("INSURANCE").expect("taxonomy group");
    let mut groups: BTreeMap<String, Payments> = BTreeMap::new();
    let mut any_in_period = false;
    for account in &user.accounts {
        for t in &account.transactions {
            if t.booking_date > period.to {
                continue;
            }
            any_in_period |= period.contains(t.booking_date);
            if t.amount >= Amount::ZERO || !t.labels.intersects(insurance) {
                continue;
            }
            let Some(itype) = insurance_type(t.labels) else {
                continue;
            };
            let key = contract_key(&account.id, t, itype);
            let g = groups.entry(key).or_insert_with(|| Payments {
                account_id: account.id.clone(),
                itype,
                inside: Vec::new(),
                before: Vec::new(),
            });
            // The contract's type: a specific one wins over OTHER.
            if g.itype == "OTHER" {
                g.itype = itype;
            }
            if t.booking_date >= period.from {
                g.inside.push(t)
            } else {
                g.before.push(t)
            }
        }
    }
    // A payment whose text lost the contract number (banks truncate) or
    // carries a misspelt name lands in a group of its own; it belongs to
    // the contract of the same account that has a payment of exactly the
    // same amount and a compatible type.
    let loose: Vec<String> = groups
        .iter()
        .filter(|(k, g)| !k.contains("|cid:") && g.inside.len() + g.before.len() <= 2)
        .map(|(k, _)| k.clone())
        .collect();
    for k in loose {
        let Some(g) = groups.get(&k) else { continue };
        let amounts: Vec<Amount> = g.inside.iter().chain(&g.before).map(|t| t.amount).collect();
        let (account, itype) = (g.account_id.clone(), g.itype);
        let target = groups
            .iter()
            .filter(|(k2, h)| {
                **k2 != k
                    && h.account_id == account
                    && (h.itype == itype || itype == "OTHER" || h.itype == "OTHER")
                    && h.inside
                        .iter()
                        .chain(&h.before)
                        .any(|t| amounts.contains(&t.amount))
            })
            .max_by_key(|(_, h)| h.inside.len() + h.before.len())
            .map(|(k2, _)| k2.clone());
        if let Some(target) = target
            && let Some(g) = groups.remove(&k)
            && let Some(h) = groups.get_mut(&target)
        {
            if h.itype == "OTHER" {
                h.itype = g.itype;
            }
            h.inside.extend(g.inside);
            h.before.extend(g.before);
            h.inside.sort_by_key(|t| t.booking_date);
            h.before.sort_by_key(|t| t.booking_date);
        }
    }
    let mut all_types: Vec<&str> = Vec::new();
    let mut contracts = Vec::new();
    for Payments {
        account_id,
        itype,
        inside,
        before,
    } in groups.values()
    {
        let Some(first) = inside.first() else {
            continue;
        };
        let payments: Vec<(Date, Amount)> = inside
            .iter()
            .map(|t| (t.booking_date, t.amount.abs()))
            .collect();
        // A single payment is yearly when the text says so or the same
        // amount was paid about a year earlier.
        // Or by the pattern: a lookback of a year or more shows a monthly,
        // quarterly or half-yearly contract more than once, unless it only
        // started in the last two months.
        let year_seen = period.months().len() >= 12 && first.booking_date < period.to.add_days(-61);
        let hint = inside.iter().any(|t| yearly_text(t))
            || (inside.len() == 1 && year_seen)
            || before.iter().any(|b| {
                let gap = first.booking_date.days() - b.booking_date.days();
                (330..=400).contains(&gap) && b.amount == first.amount
            });
        let Some(rec) = recurring::detect(&payments, hint) else {
            continue;
        };
        if !all_types.contains(itype) {
            all_types.push(itype);
        }
        if insurance_types.is_some_and(|ts| !ts.contains(itype)) {
            continue;
        }
        let provider = providers::identify(
            first.creditor_id.as_deref(),
            first.counterpart_name.as_deref(),
            first.purpose.as_deref(),
        );
        let number = inside
            .iter()
            .find_map(|t| t.purpose.as_deref().and_then(contract_number));
        contracts.push(json!({
            "provider": provider.map_or_else(|| first.counterpart_name.clone().unwrap_or_default(), |p| p.name.clone()),
            "providerId": provider.map(|p| p.id.clone()),
            "insuranceType": itype,
            "amount": rec.typical_amount,
            "frequency": rec.frequency,
            "annualAmount": rec.annual_amount,
            "firstPaymentDate": rec.first,
            "lastPaymentDate": rec.last,
            "nextExpectedDate": rec.next_expected,
            "paymentCount": rec.count,
            "accountId": account_id,
            "creditorId": first.creditor_id,
            "mandateReference": first.mandate_reference,
            "contractNumber": number,
            "transactionIds": inside.iter().map(|t| t.id.clone()).collect::<Vec<_>>(),
        }));
        debug_assert!(rec.frequency != Frequency::Irregular || rec.count >= 1);
    }
    let missing: Vec<&str> = COMMON_TYPES
        .iter()
        .copied()
        .filter(|t| !all_types.contains(t))
        .collect();
    if !contracts.is_empty() {
        return Verdict::Member(
            json!({"userId": user.id, "contracts": contracts, "missingTypes": missing}),
        );
    }
    if !any_in_period {
        return Verdict::WithoutData;
    }
    if include_users_without_contracts && all_types.is_empty() {
        Verdict::Member(json!({"userId": user.id, "contracts": [], "missingTypes": missing}))
    } else {
        Verdict::NotMember
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccountType;
    use crate::segments::AccountData;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn ins(
        id: &str,
        day: &str,
        cents: i64,
        label: &str,
        name: &str,
        purpose: &str,
        cid: Option<&str>,
    ) -> Tx {
        let mut l = LabelSet::default();
        l.insert(Label::parse(label).unwrap());
        Tx {
            id: id.into(),
            amount: Amount::from_cents(cents),
            booking_date: d(day),
            labels: l,
            purpose: Some(purpose.into()),
            counterpart_name: Some(name.into()),
            counterpart_iban: None,
            creditor_id: cid.map(str::to_owned),
            mandate_reference: cid.map(|_| "M-1".to_owned()),
        }
    }

    fn user(txs: Vec<Tx>) -> UserData {
        let mut txs = txs;
        txs.sort_by_key(|t| t.booking_date);
        UserData {
            id: "u".into(),
            accounts: vec![AccountData {
                id: "c".into(),
                account_type: AccountType::Checking,
                iban: None,
                balance: Amount::ZERO,
                balance_date: d("2026-11-25"),
                data_since: None,
                daily_balances: vec![],
                transactions: txs,
            }],
        }
    }

    #[test]
    fn monthly_car_and_yearly_liability() {
        let mut txs: Vec<Tx> = (1..=10)
            .map(|m| {
                ins(
                    &format!("car{m}"),
                    &format!("2026-{m:02}-01"),
                    -45_90,
                    "CARINSURANCE",
                    "HUK-COBURG",
                    "Kfz-Vers. Vertrag 4711-0815 Beitrag",
                    Some("DE12ZZZ00000012345"),
                )
            })
            .collect();
        txs.push(ins(
            "liab",
            "2026-03-15",
            -79_00,
            "LIABILITYINSURANCE",
            "Allianz Versicherungs-AG",
            "Privathaftpflicht Jahresbeitrag VSNR 9988776",
            None,
        ));
        // Outside the lookback (the creation month): ignored.
        txs.push(ins(
            "car11",
            "2026-11-02",
            -45_90,
            "CARINSURANCE",
            "HUK-COBURG",
            "Kfz-Vers. Beitrag",
            Some("DE12ZZZ00000012345"),
        ));
        let p = Period::last_complete_months(d("2026-11-25"), 12);
        let Verdict::Member(m) = evaluate(&user(txs), p, None, false) else {
            panic!()
        };
        let c = m["contracts"].as_array().unwrap();
        assert_eq!(c.len(), 2);
        let car = c.iter().find(|c| c["insuranceType"] == "CAR").unwrap();
        assert_eq!(car["provider"], "HUK-COBURG");
        assert_eq!(car["frequency"], "MONTHLY");
        assert_eq!(car["amount"].to_string(), "45.90");
        assert_eq!(car["annualAmount"].to_string(), "550.80");
        assert_eq!(car["paymentCount"], 10);
        assert_eq!(car["nextExpectedDate"], "2026-11-01");
        assert_eq!(car["contractNumber"], "4711-0815");
        let liab = c
            .iter()
            .find(|c| c["insuranceType"] == "LIABILITY")
            .unwrap();
        assert_eq!(liab["frequency"], "YEARLY");
        assert_eq!(liab["provider"], "Allianz");
        assert_eq!(liab["providerId"], "allianz");
        assert_eq!(liab["annualAmount"].to_string(), "79.00");
        assert_eq!(liab["contractNumber"], "9988776");
        assert_eq!(
            m["missingTypes"],
            json!(["HOUSEHOLD", "HEALTH", "LEGAL", "DISABILITY"])
        );
    }

    #[test]
    fn filters_and_users_without_contracts() {
        let txs = vec![ins(
            "h",
            "2026-05-01",
            -12_00,
            "HOUSEHOLDINSURANCE",
            "Gothaer",
            "Hausrat",
            None,
        )];
        let p = Period::last_complete_months(d("2026-11-25"), 12);
        assert_eq!(
            evaluate(&user(txs.clone()), p, Some(&["CAR"]), false),
            Verdict::NotMember
        );
        // One payment in a year-long lookback, months before its end: the
        // pattern of a yearly contract (a shorter interval would show again).
        let Verdict::Member(m) = evaluate(&user(txs.clone()), p, None, false) else {
            panic!()
        };
        assert_eq!(m["contracts"][0]["frequency"], "YEARLY");
        // In a six-month lookback, without a word for yearly: IRREGULAR.
        let six = Period::last_complete_months(d("2026-11-25"), 6);
        let Verdict::Member(m) = evaluate(&user(txs), six, None, false) else {
            panic!()
        };
        assert_eq!(m["contracts"][0]["frequency"], "IRREGULAR");
        // A first payment in the last two months may be a new monthly contract: IRREGULAR.
        let recent = vec![ins(
            "h2",
            "2026-10-01",
            -12_00,
            "HOUSEHOLDINSURANCE",
            "Gothaer",
            "Hausrat",
            None,
        )];
        let Verdict::Member(m) = evaluate(&user(recent), p, None, false) else {
            panic!()
        };
        assert_eq!(m["contracts"][0]["frequency"], "IRREGULAR");
        let plain = Tx::plain("groceries", d("2026-06-01"), Amount::from_cents(-20_00));
        let Verdict::Member(m) = evaluate(&user(vec![plain.clone()]), p, None, true) else {
            panic!()
        };
        assert_eq!(m["contracts"], json!([]));
        assert_eq!(m["missingTypes"].as_array().unwrap().len(), 5);
        assert_eq!(
            evaluate(&user(vec![plain]), p, None, false),
            Verdict::NotMember
        );
        assert_eq!(evaluate(&user(vec![]), p, None, true), Verdict::WithoutData);
    }

    #[test]
    fn a_yearly_payment_recognised_by_the_same_amount_a_year_before() {
        let txs = vec![
            ins(
                "y1",
                "2025-02-03",
                -310_00,
                "LEGALINSURANCE",
                "ARAG SE",
                "Beitrag",
                None,
            ),
            ins(
                "y2",
                "2026-02-02",
                -310_00,
                "LEGALINSURANCE",
                "ARAG SE",
                "Beitrag",
                None,
            ),
        ];
        // 2026-05 … 2026-10: no transaction at all in the lookback.
        let p = Period::last_complete_months(d("2026-11-25"), 6);
        assert_eq!(
            evaluate(&user(txs.clone()), p, None, false),
            Verdict::WithoutData
        );
        let p = Period::last_complete_months(d("2026-11-25"), 12); // 2025-11 … 2026-10: one payment
        let Verdict::Member(m) = evaluate(&user(txs), p, None, false) else {
            panic!()
        };
        assert_eq!(m["contracts"][0]["frequency"], "YEARLY");
        assert_eq!(m["contracts"][0]["provider"], "ARAG");
        assert_eq!(m["contracts"][0]["nextExpectedDate"], "2027-02-02");
    }
}
