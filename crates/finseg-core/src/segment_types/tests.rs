use super::*;
use crate::{AccountType, Amount};
use serde_json::json;

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
    for &segment in SegmentType::ALL {
        let e = Params::parse(
            segment,
            &json!({"threshold": 1, "labelGroups": ["INCOME"], "zzz": 1}),
        )
        .unwrap_err();
        assert!(ptrs(&e).contains(&"/zzz"), "{segment:?}: {e:?}");
    }
    let e = Params::parse(SegmentType::Insurance, &json!({"insurancetypes": ["CAR"]})).unwrap_err();
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
        Params::HighBalance(HighBalance {
            threshold: Amount::from_cents(1_000_000),
            account_types: vec![AccountType::Savings]
        })
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

/// The OpenAPI document's parameters of each type are the fields its
/// parser reads, and the required ones are refused when missing.
#[test]
fn parameter_schemas_name_what_the_parsers_read() {
    for &segment in SegmentType::ALL {
        let schema = segment.parameters_schema();
        let properties = schema["properties"].as_object().unwrap();
        let mut documented: Vec<&str> = properties.keys().map(String::as_str).collect();
        documented.sort();
        let all_null: serde_json::Map<String, serde_json::Value> = properties
            .keys()
            .map(|k| (k.clone(), serde_json::Value::Null))
            .collect();
        let mut asked = params::fields_asked(&all_null, segment.kind().parse);
        asked.sort();
        assert_eq!(asked, documented, "{}", segment.as_str());
        for required in schema["required"].as_array().unwrap() {
            let field = required.as_str().unwrap();
            let e = Params::parse(segment, &json!({})).unwrap_err();
            assert!(
                ptrs(&e).contains(&format!("/{field}").as_str()),
                "{}: {field} {e:?}",
                segment.as_str()
            );
        }
    }
}
