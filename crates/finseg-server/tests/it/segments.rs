//! Golden tests of the five segments through the API, on scenarios built
//! relative to the current month; every expected value is worked out here
//! by hand from the scenario, not by the code under test.

use finseg_core::Date;
use finseg_core::date::Month;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, pointers};
use crate::on_both_backends;

fn today() -> Date {
    finseg_server::time::today_in("Europe/Berlin")
}

/// Complete month `n` before the current one (1 = last month).
fn month(n: i32) -> Month {
    today().month().plus(-n)
}

fn day(m: Month, d: u32) -> Date {
    Date::from_ymd(m.year(), m.month(), d).unwrap()
}

fn user<'a>(result: &'a Value, id: &str) -> Option<&'a Value> {
    result["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["userId"] == id)
}

fn user_ids(result: &Value) -> Vec<String> {
    result["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userId"].as_str().unwrap().to_owned())
        .collect()
}

async fn low_balance_golden(app: TestApp) {
    let long_ago = Some(day(month(6), 1));
    // u1 dips to -150.00 on the 10th and 11th of each of the three months.
    app.account("u1", "u1-c", "CHECKING", "0.00", today(), long_ago)
        .await;
    // u2 touches exactly -100.00: not strictly below.
    app.account("u2", "u2-c", "CHECKING", "0.00", today(), long_ago)
        .await;
    for m in 1..=3 {
        let mm = month(m);
        app.transactions(&[
            (&format!("u1-{m}-a"), "u1-c", day(mm, 10), "-150.00", &[]),
            (&format!("u1-{m}-b"), "u1-c", day(mm, 12), "150.00", &[]),
            (&format!("u2-{m}-a"), "u2-c", day(mm, 10), "-100.00", &[]),
            (&format!("u2-{m}-b"), "u2-c", day(mm, 12), "100.00", &[]),
        ])
        .await;
    }
    // u3: history starts with the second month, so the first has no known day.
    app.account(
        "u3",
        "u3-c",
        "CHECKING",
        "-500.00",
        today(),
        Some(day(month(2), 1)),
    )
    .await;
    // u4: account a dips in months 3 and 1, account b in month 2.
    app.account("u4", "u4-a", "CHECKING", "0.00", today(), long_ago)
        .await;
    app.account("u4", "u4-b", "CHECKING", "0.00", today(), long_ago)
        .await;
    app.transactions(&[
        ("u4-a1", "u4-a", day(month(3), 5), "-300.00", &[]),
        ("u4-a2", "u4-a", day(month(3), 6), "300.00", &[]),
        ("u4-a3", "u4-a", day(month(1), 28), "-101.00", &[]),
        ("u4-a4", "u4-a", day(month(0), 1), "101.00", &[]),
        ("u4-b1", "u4-b", day(month(2), 15), "-150.00", &[]),
        ("u4-b2", "u4-b", day(month(2), 16), "150.00", &[]),
    ])
    .await;
    // u5: reconstruction says +1000.00 every day, the bank's daily balances say -300.00 on the 20th.
    app.account("u5", "u5-c", "CHECKING", "1000.00", today(), long_ago)
        .await;
    let daily: Vec<Value> = (1..=3)
        .map(|m| json!({"accountId": "u5-c", "date": day(month(m), 20).to_string(), "balance": "-300.00"}))
        .collect();
    assert_eq!(
        app.post("/api/v1/dailyBalances", Value::Array(daily))
            .await
            .status,
        200
    );
    // u6 dips in months 2 and 1 only.
    app.account("u6", "u6-c", "CHECKING", "0.00", today(), long_ago)
        .await;
    app.transactions(&[
        ("u6-1", "u6-c", day(month(2), 3), "-200.00", &[]),
        ("u6-2", "u6-c", day(month(2), 4), "200.00", &[]),
        ("u6-3", "u6-c", day(month(1), 3), "-200.00", &[]),
        ("u6-4", "u6-c", day(month(1), 4), "200.00", &[]),
    ])
    .await;
    // A savings account below the threshold does not count for the default CHECKING.
    app.account("u6", "u6-s", "SAVINGS", "-1000.00", today(), long_ago)
        .await;

    let r = app
        .run_segment("lowBalance", json!({"threshold": -100}))
        .await;
    assert_eq!(r["segmentType"], "lowBalance");
    assert_eq!(r["creationDate"], today().to_string());
    assert_eq!(r["parameters"]["threshold"].to_string(), "-100.00");
    assert_eq!(r["parameters"]["durationInMonth"], 3);
    assert_eq!(r["parameters"]["accountTypes"], json!(["CHECKING"]));
    assert_eq!(r["periodFrom"], day(month(3), 1).to_string());
    assert_eq!(r["periodTo"], month(1).last_day().to_string());
    assert_eq!(r["usersEvaluated"], 6);
    assert_eq!(r["usersWithoutData"], 1);
    assert_eq!(r["usersMatched"], 3);
    assert_eq!(user_ids(&r), vec!["u1", "u4", "u5"]);

    let u1 = &user(&r, "u1").unwrap()["accounts"][0];
    assert_eq!(u1["accountId"], "u1-c");
    assert_eq!(u1["amount"].to_string(), "-150.00");
    for (i, m) in [3, 2, 1].iter().enumerate() {
        let e = &u1["months"][i];
        assert_eq!(e["month"], month(*m).to_string());
        assert_eq!(e["lowestBalance"].to_string(), "-150.00");
        assert_eq!(e["lowestBalanceDate"], day(month(*m), 10).to_string());
        assert_eq!(e["daysBelowThreshold"], 2);
    }
    let u4 = user(&r, "u4").unwrap();
    let a = &u4["accounts"][0];
    assert_eq!(a["months"][0]["daysBelowThreshold"], 1);
    // Month 1: from the 28th to the month's end.
    let last = month(1).last_day().ymd().2;
    assert_eq!(a["months"][2]["daysBelowThreshold"], last - 27);
    assert_eq!(a["months"][2]["lowestBalance"].to_string(), "-101.00");
    assert_eq!(u4["accounts"][1]["months"][1]["daysBelowThreshold"], 1);
    let u5 = &user(&r, "u5").unwrap()["accounts"][0];
    assert_eq!(
        u5["months"][1]["lowestBalanceDate"],
        day(month(2), 20).to_string()
    );
    assert_eq!(u5["months"][1]["daysBelowThreshold"], 1);

    // Over two months u3 has data and is in, and so is u6; with SAVINGS
    // accounts, only u6 has data and is in.
    let r = app
        .run_segment(
            "lowBalance",
            json!({"threshold": "-100", "durationInMonth": 2}),
        )
        .await;
    assert_eq!(user_ids(&r), vec!["u1", "u3", "u4", "u5", "u6"]);
    assert_eq!(r["usersWithoutData"], 0);
    let r = app
        .run_segment(
            "lowBalance",
            json!({"threshold": -100, "accountTypes": ["savings"]}),
        )
        .await;
    assert_eq!(user_ids(&r), vec!["u6"]);
    assert_eq!(r["usersWithoutData"], 5);
}

async fn high_balance_golden(app: TestApp) {
    app.account("h1", "h1-s", "SAVINGS", "10000.00", today(), None)
        .await;
    app.account("h2", "h2-s", "SAVINGS", "10000.01", today(), None)
        .await;
    app.account("h2", "h2-c", "CHECKING", "50.00", today(), None)
        .await;
    app.account("h3", "h3-d", "SECURITY", "50000.00", today(), None)
        .await;
    // Reported 20,000 three days ahead, after a deposit of 15,000 two days ahead: 5,000 today.
    app.account(
        "h4",
        "h4-s",
        "SAVINGS",
        "20000.00",
        today().add_days(3),
        Some(day(month(1), 1)),
    )
    .await;
    app.transactions(&[("h4-t", "h4-s", today().add_days(2), "15000.00", &[])])
        .await;

    let r = app
        .run_segment("highBalance", json!({"threshold": 10000}))
        .await;
    assert_eq!(
        r["parameters"]["accountTypes"],
        json!(["CHECKING", "SAVINGS", "POCKET"])
    );
    assert_eq!(user_ids(&r), vec!["h2"]);
    assert_eq!(r["usersWithoutData"], 1); // h3 has no account of those types
    let h2 = user(&r, "h2").unwrap();
    assert_eq!(h2["total"].to_string(), "10050.01");
    let s = h2["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["accountId"] == "h2-s")
        .unwrap();
    assert_eq!(s["amount"].to_string(), "10000.01");
    assert_eq!(s["balanceDate"], today().to_string());
    assert_eq!(s["aboveThreshold"], true);

    let r = app
        .run_segment(
            "highBalance",
            json!({"threshold": "49999.99", "accountType": "SECURITY"}),
        )
        .await;
    assert_eq!(user_ids(&r), vec!["h3"]);
}

async fn financial_breakdown_golden(app: TestApp) {
    app.account("b1", "b1-c", "CHECKING", "0", today(), None)
        .await;
    app.account("b1", "b1-k", "CREDIT_CARD", "0", today(), None)
        .await;
    let mut txs: Vec<(String, &str, Date, &str, &[&str])> = Vec::new();
    for m in 2..=6 {
        txs.push((
            format!("sal{m}"),
            "b1-c",
            day(month(m), 28),
            "3000.00",
            &["SALARY"],
        ));
    }
    txs.push((
        "kg".into(),
        "b1-c",
        day(month(1), 5),
        "250.00",
        &["CHILDBENEFIT"],
    ));
    txs.push((
        "ins".into(),
        "b1-c",
        day(month(4), 1),
        "-50.00",
        &["CARINSURANCE", "LIABILITYINSURANCE"],
    ));
    txs.push((
        "own".into(),
        "b1-c",
        day(month(3), 15),
        "500.00",
        &["OWNACCOUNTTRANSFER", "OTHERINCOME"],
    ));
    txs.push((
        "groc".into(),
        "b1-k",
        day(month(1), 9),
        "-80.00",
        &["GROCERIES"],
    ));
    txs.push((
        "old".into(),
        "b1-c",
        day(month(7), 28),
        "3000.00",
        &["SALARY"],
    ));
    txs.push((
        "now".into(),
        "b1-c",
        day(month(0), 1),
        "3000.00",
        &["SALARY"],
    ));
    let refs: Vec<(&str, &str, Date, &str, &[&str])> = txs
        .iter()
        .map(|(a, b, c, d, e)| (a.as_str(), *b, *c, *d, *e))
        .collect();
    app.transactions(&refs).await;
    app.account("b2", "b2-c", "CHECKING", "0", today(), None)
        .await;
    app.transactions(&[("b2-g", "b2-c", day(month(2), 3), "-20.00", &["GROCERIES"])])
        .await;

    let r = app
        .run_segment(
            "financialBreakdown",
            json!({"labelGroups": ["INCOME", "salary", "INSURANCE", "LIVING"], "includeTransactionIds": true}),
        )
        .await;
    assert_eq!(
        r["parameters"],
        json!({"labelGroups": ["INCOME", "SALARY", "INSURANCE", "LIVING"], "durationInMonth": 6,
               "includeTransactionIds": true})
    );
    // Without ids (the default, evaluated from the segment index): the same
    // figures, without the ids.
    let lean = app
        .run_segment(
            "financialBreakdown",
            json!({"labelGroups": ["INCOME", "salary", "INSURANCE", "LIVING"]}),
        )
        .await;
    let mut expected = r["users"].clone();
    for u in expected.as_array_mut().unwrap() {
        for g in u["labelGroups"].as_array_mut().unwrap() {
            assert!(
                g.as_object_mut()
                    .unwrap()
                    .remove("transactionIds")
                    .is_some()
            );
        }
    }
    assert_eq!(lean["users"], expected);
    assert_eq!(lean["parameters"]["includeTransactionIds"], false);
    assert_eq!(user_ids(&r), vec!["b1", "b2"]);
    let groups = &user(&r, "b1").unwrap()["labelGroups"];
    let income = &groups[0];
    assert_eq!(income["labelGroup"], "INCOME");
    let months: Vec<String> = income["monthly"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["month"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        months,
        (1..=6)
            .rev()
            .map(|m| month(m).to_string())
            .collect::<Vec<_>>()
    );
    let totals: Vec<String> = income["monthly"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["total"].to_string())
        .collect();
    assert_eq!(
        totals,
        vec![
            "3000.00", "3000.00", "3000.00", "3000.00", "3000.00", "250.00"
        ]
    );
    assert_eq!(income["total"].to_string(), "15250.00");
    assert_eq!(income["count"], 6);
    assert_eq!(income["average"].to_string(), "2541.67"); // 15250 / 6 = 2541.666…
    assert_eq!(income["median"].to_string(), "3000.00"); // mean of the 3rd and 4th of six
    assert_eq!(income["minimum"].to_string(), "250.00");
    assert_eq!(income["maximum"].to_string(), "3000.00");
    let xs = [3000.0, 3000.0, 3000.0, 3000.0, 3000.0, 250.0];
    let mean = xs.iter().sum::<f64>() / 6.0;
    let sd = (xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 6.0).sqrt();
    assert_eq!(income["standardDeviation"].to_string(), format!("{sd:.2}"));
    // SALARY: five salaries and a month without one.
    let salary = &groups[1];
    assert_eq!(salary["monthly"][5]["total"].to_string(), "0.00");
    assert_eq!(salary["median"].to_string(), "3000.00");
    assert_eq!(salary["total"].to_string(), "15000.00");
    // Two insurance labels on one debit count once.
    assert_eq!(groups[2]["count"], 1);
    assert_eq!(groups[2]["total"].to_string(), "-50.00");
    // Card spending counts; the own-account transfer counts nowhere.
    assert_eq!(groups[3]["total"].to_string(), "-80.00");
    assert!(
        !income["transactionIds"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "own")
    );

    let r = app
        .post(
            "/api/v1/segments/financialBreakdown",
            json!({"labelGroups": ["TRANSFERS"]}),
        )
        .await;
    assert_problem(&r, 400);
    assert_eq!(pointers(&r.body), vec!["/labelGroups/0"]);
}

async fn insurance_golden(app: TestApp) {
    app.account("i1", "i1-c", "CHECKING", "0", today(), None)
        .await;
    let cid = "DE12ZZZ00000012345";
    let mut body = Vec::new();
    for m in 1..=12 {
        body.push(json!({"id": format!("car{m}"), "accountId": "i1-c", "amount": "-45.90", "currency": "EUR",
            "bookingDate": day(month(m), 1).to_string(), "labels": ["CARINSURANCE"], "counterpartName": "HUK-COBURG",
            "creditorId": cid, "mandateReference": "KFZ-778899", "purpose": "Kfz-Versicherung Vertrag 4711-0815"}));
    }
    body.push(json!({"id": "liab", "accountId": "i1-c", "amount": "-79.00", "currency": "EUR",
        "bookingDate": day(month(5), 15).to_string(), "labels": ["LIABILITYINSURANCE"],
        "counterpartName": "Allianz Versicherungs-AG", "purpose": "Privathaftpflicht Jahresbeitrag VSNR 9988776"}));
    assert_eq!(
        app.post("/api/v1/transactions", Value::Array(body))
            .await
            .status,
        200
    );
    app.account("i2", "i2-c", "CHECKING", "0", today(), None)
        .await;
    app.transactions(&[("i2-g", "i2-c", day(month(2), 3), "-20.00", &["GROCERIES"])])
        .await;

    let r = app.run_segment("insurance", json!({})).await;
    assert_eq!(r["parameters"]["durationInMonth"], 12);
    assert_eq!(user_ids(&r), vec!["i1"]);
    let i1 = user(&r, "i1").unwrap();
    let contracts = i1["contracts"].as_array().unwrap();
    assert_eq!(contracts.len(), 2);
    let car = contracts
        .iter()
        .find(|c| c["insuranceType"] == "CAR")
        .unwrap();
    assert_eq!(car["provider"], "HUK-COBURG");
    assert_eq!(car["providerId"], "huk-coburg");
    assert_eq!(car["frequency"], "MONTHLY");
    assert_eq!(car["amount"].to_string(), "45.90");
    assert_eq!(car["annualAmount"].to_string(), "550.80"); // 12 × 45.90
    assert_eq!(car["paymentCount"], 12);
    assert_eq!(car["firstPaymentDate"], day(month(12), 1).to_string());
    assert_eq!(car["lastPaymentDate"], day(month(1), 1).to_string());
    assert_eq!(car["nextExpectedDate"], day(month(0), 1).to_string());
    assert_eq!(car["creditorId"], cid);
    assert_eq!(car["contractNumber"], "4711-0815");
    assert_eq!(car["transactionIds"].as_array().unwrap().len(), 12);
    let liab = contracts
        .iter()
        .find(|c| c["insuranceType"] == "LIABILITY")
        .unwrap();
    assert_eq!(liab["frequency"], "YEARLY");
    assert_eq!(liab["provider"], "Allianz");
    assert_eq!(liab["annualAmount"].to_string(), "79.00");
    assert_eq!(
        i1["missingTypes"],
        json!(["HOUSEHOLD", "HEALTH", "LEGAL", "DISABILITY"])
    );

    let r = app
        .run_segment(
            "insurance",
            json!({"includeUsersWithoutContracts": true, "insuranceTypes": ["liability"]}),
        )
        .await;
    assert_eq!(user_ids(&r), vec!["i1", "i2"]);
    assert_eq!(
        user(&r, "i1").unwrap()["contracts"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(user(&r, "i2").unwrap()["contracts"], json!([]));
    assert_eq!(
        user(&r, "i2").unwrap()["missingTypes"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}

async fn income_spending_summary_golden(app: TestApp) {
    app.account("s1", "s1-c", "CHECKING", "0", today(), None)
        .await;
    app.transactions(&[
        ("before", "s1-c", day(month(3), 28), "1.00", &[]),
        ("in", "s1-c", day(month(2), 1), "2000.00", &["SALARY"]),
        ("out1", "s1-c", day(month(1), 2), "-10.50", &[]),
        ("out2", "s1-c", month(1).last_day(), "-5.00", &[]),
        ("zero", "s1-c", day(month(1), 3), "0.00", &[]),
        (
            "xfer",
            "s1-c",
            day(month(1), 4),
            "-300.00",
            &["OWNACCOUNTTRANSFER"],
        ),
    ])
    .await;
    app.account("s2", "s2-c", "CHECKING", "0", today(), None)
        .await;
    app.transactions(&[(
        "s2-x",
        "s2-c",
        day(month(1), 4),
        "300.00",
        &["OWNACCOUNTTRANSFER"],
    )])
    .await;
    let from = day(month(2), 1).to_string();
    let to = month(1).last_day().to_string();
    let r = app
        .run_segment(
            "incomeSpendingSummary",
            json!({"dateFrom": from, "dateTo": to}),
        )
        .await;
    assert_eq!(
        (r["periodFrom"].as_str(), r["periodTo"].as_str()),
        (Some(from.as_str()), Some(to.as_str()))
    );
    assert_eq!(user_ids(&r), vec!["s1"]);
    let s1 = user(&r, "s1").unwrap();
    assert_eq!(s1["incomingCount"], 1);
    assert_eq!(s1["incomingTotal"].to_string(), "2000.00");
    assert_eq!(s1["outgoingCount"], 2);
    assert_eq!(s1["outgoingTotal"].to_string(), "-15.50");
    assert_eq!(s1["ownAccountTransfers"]["outgoingCount"], 1);
    assert_eq!(
        s1["ownAccountTransfers"]["outgoingTotal"].to_string(),
        "-300.00"
    );

    let r = app
        .post(
            "/api/v1/segments/incomeSpendingSummary",
            json!({"dateFrom": "2025-01-01", "dateTo": "2026-01-01"}),
        )
        .await;
    assert_eq!(pointers(&r.body), vec!["/dateTo"]);
}

on_both_backends!(
    low_balance_golden,
    high_balance_golden,
    financial_breakdown_golden,
    insurance_golden,
    income_spending_summary_golden
);

/// Labels set by the shipped rules (with their provenance) feed the
/// segments, and transfers between a user's own accounts count nowhere.
async fn rule_labels_and_own_transfers(app: TestApp) {
    app.account("r1", "r1-c", "CHECKING", "0", today(), None)
        .await;
    let r = app
        .put(
            "/api/v1/accounts/r1-s",
            json!({"userId": "r1", "type": "SAVINGS", "currency": "EUR", "balance": "0", "iban": "DE89370400440532013000"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let d = |m: i32, dd: u32| day(month(m), dd).to_string();
    let body = json!([
        {"id": "sal", "accountId": "r1-c", "amount": "2800.00", "currency": "EUR", "bookingDate": d(1, 28),
         "purpose": "LOHN/GEHALT 10/2026", "counterpartName": "Muster GmbH"},
        {"id": "kv", "accountId": "r1-c", "amount": "-89.90", "currency": "EUR", "bookingDate": d(1, 2),
         "purpose": "Beitrag Zahnzusatzversicherung Vertrag 55667788", "counterpartName": "ERGO Versicherung AG"},
        {"id": "to-savings", "accountId": "r1-c", "amount": "-500.00", "currency": "EUR", "bookingDate": d(1, 25),
         "purpose": "Sparen", "counterpartIban": "DE89370400440532013000"},
        {"id": "from-checking", "accountId": "r1-s", "amount": "500.00", "currency": "EUR", "bookingDate": d(1, 26),
         "purpose": "Umbuchung"}
    ]);
    assert_eq!(app.post("/api/v1/transactions", body).await.status, 200);
    let page = app.get("/api/v1/accounts/r1-c/transactions").await;
    let to_savings = page.body["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "to-savings")
        .unwrap();
    assert!(
        to_savings["labels"]
            .as_array()
            .unwrap()
            .contains(&json!({"label": "OWNACCOUNTTRANSFER", "source": "DETECTED"})),
        "{to_savings}"
    );
    let sal = page.body["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "sal")
        .unwrap();
    assert_eq!(
        sal["labels"],
        json!([{"label": "SALARY", "source": "RULE", "rule": format!("default/salary-text@{}", finseg_core::labelling::RuleSet::default_rules().version)}])
    );

    let r = app
        .run_segment(
            "financialBreakdown",
            json!({"labelGroups": ["INCOME", "INSURANCE"], "durationInMonth": 1, "includeTransactionIds": true}),
        )
        .await;
    let g = &user(&r, "r1").unwrap()["labelGroups"];
    assert_eq!(g[0]["total"].to_string(), "2800.00");
    assert_eq!(g[0]["transactionIds"], json!(["sal"]));
    assert_eq!(g[1]["total"].to_string(), "-89.90");
    let r = app
        .run_segment("incomeSpendingSummary", json!({"durationInMonth": 1}))
        .await;
    let s = user(&r, "r1").unwrap();
    assert_eq!(s["incomingTotal"].to_string(), "2800.00");
    assert_eq!(s["outgoingTotal"].to_string(), "-89.90");
    assert_eq!(
        s["ownAccountTransfers"]["outgoingTotal"].to_string(),
        "-500.00"
    );
    assert_eq!(
        s["ownAccountTransfers"]["incomingTotal"].to_string(),
        "500.00"
    );
    let r = app.run_segment("insurance", json!({})).await;
    let c = &user(&r, "r1").unwrap()["contracts"][0];
    assert_eq!(c["insuranceType"], "DENTAL");
    assert_eq!(c["provider"], "ERGO");
    assert_eq!(c["contractNumber"], "55667788");
}

on_both_backends!(rule_labels_and_own_transfers);
