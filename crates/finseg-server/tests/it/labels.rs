//! The taxonomy, client rules with precedence, provenance, and re-labelling.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem};
use crate::on_both_backends;

fn labels_of(page: &Value, id: &str) -> Value {
    page["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap()["labels"]
        .clone()
}

async fn client_rules_and_relabelling(app: TestApp) {
    let t = app.get("/api/v1/labels").await;
    assert_eq!(t.status, 200);
    let insurance = t.body["labelGroups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["labelGroup"] == "INSURANCE")
        .unwrap();
    assert!(
        insurance["labels"]
            .as_array()
            .unwrap()
            .contains(&json!("CARINSURANCE"))
    );

    app.user_with_account("u").await;
    let tx = json!([{"id": "b1", "accountId": "u-acc", "amount": "500.00", "currency": "EUR",
        "bookingDate": "2026-10-30", "purpose": "Gehalt Bonus Q3"}]);
    assert_eq!(app.post("/api/v1/transactions", tx).await.status, 200);
    let page = app.get("/api/v1/accounts/u-acc/transactions").await;
    assert_eq!(
        labels_of(&page.body, "b1"),
        json!([{"label": "SALARY", "source": "RULE", "rule": format!("default/salary-text@{}", finseg_core::labelling::RuleSet::default_rules().version)}])
    );

    assert_problem(&app.get("/api/v1/labels/rules").await, 404);
    let bad = app
        .send(
            app.http
                .put(app.url("/api/v1/labels/rules"))
                .bearer_auth(&app.token)
                .body(r#"{"version": "1", "rules": [{"id": "x", "labels": ["NOPE"]}]}"#),
        )
        .await;
    assert_problem(&bad, 400);
    assert!(
        bad.body["detail"]
            .as_str()
            .unwrap()
            .contains("unknown label NOPE"),
        "{}",
        bad.text
    );
    let rules = r#"{"version": "1", "rules": [{"id": "bonus", "labels": ["OTHERINCOME"], "direction": "in", "text": ["bonus"]}]}"#;
    let r = app
        .send(
            app.http
                .put(app.url("/api/v1/labels/rules"))
                .bearer_auth(&app.token)
                .body(rules),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"version": "1", "rules": 1}));
    assert_eq!(
        app.get("/api/v1/labels/rules").await.body["rules"][0]["id"],
        "bonus"
    );
    let (_, _, other) = app.new_client("other").await;
    assert_problem(&app.get_as(&other, "/api/v1/labels/rules").await, 404);

    // New data is labelled by the client's rule, which takes precedence.
    let tx = json!([{"id": "b2", "accountId": "u-acc", "amount": "700.00", "currency": "EUR",
        "bookingDate": "2026-10-31", "purpose": "Gehalt Bonus Q4"}]);
    assert_eq!(app.post("/api/v1/transactions", tx).await.status, 200);
    let page = app.get("/api/v1/accounts/u-acc/transactions").await;
    assert_eq!(
        labels_of(&page.body, "b2"),
        json!([{"label": "OTHERINCOME", "source": "RULE", "rule": "client/bonus@1"}])
    );
    // Stored data keeps its labels until it is re-labelled.
    assert_eq!(labels_of(&page.body, "b1")[0]["label"], "SALARY");
    let job = relabel(&app).await;
    assert_eq!(
        (&job["status"], &job["progress"], &job["changed"]),
        (
            &json!("COMPLETED"),
            &json!({"transactionsDone": 2, "transactionsTotal": 2}),
            &json!(1)
        ),
        "{job}"
    );
    let page = app.get("/api/v1/accounts/u-acc/transactions").await;
    assert_eq!(labels_of(&page.body, "b1")[0]["rule"], "client/bonus@1");

    // Without client rules, the defaults apply again after re-labelling.
    assert_eq!(app.delete("/api/v1/labels/rules").await.status, 204);
    assert_eq!(relabel(&app).await["changed"], 2);
    // Both runs are in the jobs API, newest first; segment jobs are not.
    let list = app.get("/api/v1/jobs?kind=relabel").await;
    assert_eq!(list.status, 200, "{}", list.text);
    let changed: Vec<&Value> = list.body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| &j["changed"])
        .collect();
    assert_eq!(changed, [&json!(2), &json!(1)], "{}", list.text);
    assert_eq!(app.get("/api/v1/jobs").await.body["jobs"], json!([]));
    assert_problem(&app.get("/api/v1/jobs?kind=other").await, 400);
    // An ended relabelling job can be deleted, like a segment job.
    let id = list.body["jobs"][1]["jobId"].as_str().unwrap().to_owned();
    assert_eq!(app.delete(&format!("/api/v1/jobs/{id}")).await.status, 204);
    assert_problem(&app.get(&format!("/api/v1/jobs/{id}")).await, 404);
    assert_problem(&app.delete(&format!("/api/v1/jobs/{id}")).await, 404);
    assert_problem(
        &app.get("/api/v1/jobs?kind=relabel&status=RUNNING").await,
        400,
    );
    let page = app.get("/api/v1/accounts/u-acc/transactions").await;
    assert_eq!(labels_of(&page.body, "b2")[0]["label"], "SALARY");
}

/// Starts relabelling (`202` and the job) and waits for the job to end,
/// as the jobs API shows it.
async fn relabel(app: &TestApp) -> Value {
    let r = app.post("/api/v1/labels/relabel", json!({})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["kind"], "relabel", "{}", r.text);
    let url = r.body["statusUrl"].as_str().unwrap().to_owned();
    for _ in 0..500 {
        let job = app.get(&url).await;
        assert_eq!(job.status, 200, "{}", job.text);
        if job.body["status"] != "RUNNING" {
            return job.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("relabelling did not end");
}

/// The coverage report counts what is labelled per group and ranks the
/// unlabelled counterparts and creditor ids by count and by amount.
async fn coverage_report(app: TestApp) {
    app.user_with_account("u").await;
    let tx = |id: &str, amount: &str, name: &str, purpose: &str| {
        json!({"id": id, "accountId": "u-acc", "amount": amount, "currency": "EUR",
            "bookingDate": "2026-10-30", "counterpartName": name, "purpose": purpose})
    };
    let mut body = vec![
        tx("sal", "2000.00", "Muster AG", "Gehalt Oktober"),
        tx("ins", "-50.00", "HUK-COBURG", "Kfz-Versicherung VS-Nr 4711"),
        tx("big", "-500.00", "Big Unknown Ltd", "Ref 1"),
    ];
    for i in 0..3 {
        body.push(tx(
            &format!("m{i}"),
            "-10.00",
            if i == 1 {
                "MYSTERY Trading GmbH"
            } else {
                "Mystery Trading GmbH"
            },
            "Ref",
        ));
    }
    body[3]["creditorId"] = "DE98ZZZ09999999999".into();
    assert_eq!(
        app.post("/api/v1/transactions", json!(body)).await.status,
        200
    );

    let r = app.get("/api/v1/labels/coverage?top=1").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let c = &r.body;
    assert_eq!(c["transactions"], 6, "{c}");
    assert_eq!(c["amount"].to_string(), "2580.00");
    assert_eq!(c["labelled"]["transactions"], 2);
    assert_eq!(c["labelled"]["amount"].to_string(), "2050.00");
    assert_eq!(c["labelled"]["transactionShare"].to_string(), "0.3333");
    let group = |name: &str| {
        c["labelGroups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["labelGroup"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(group("INCOME")["transactions"], 1);
    assert_eq!(group("INCOME")["amount"].to_string(), "2000.00");
    assert_eq!(group("INSURANCE")["amount"].to_string(), "50.00");
    assert_eq!(group("RISK")["transactions"], 0);
    let u = &c["unlabelled"];
    let first = &u["counterpartsByCount"][0];
    assert_eq!(first["counterpartName"], "mystery trading gmbh", "{u}");
    assert_eq!(first["transactions"], 3);
    assert_eq!(first["transactionShare"].to_string(), "0.5");
    assert_eq!(first["amount"].to_string(), "30.00");
    assert_eq!(first["amountShare"].to_string(), "0.0116");
    assert_eq!(
        u["counterpartsByAmount"][0]["counterpartName"],
        "big unknown ltd"
    );
    assert_eq!(u["counterpartsByAmount"][0]["amount"].to_string(), "500.00");
    assert_eq!(
        u["creditorIdsByCount"][0]["creditorId"],
        "de98zzz09999999999"
    );
    assert_eq!(u["counterpartsByCount"].as_array().unwrap().len(), 1);

    let r = app.get("/api/v1/labels/coverage?top=0").await;
    assert_problem(&r, 400);
    assert_eq!(crate::helpers::pointers(&r.body), ["/top"]);
    assert_problem(&app.get("/api/v1/labels/coverage?tpo=3").await, 400);
}

/// The insurance types of a user's contracts, by contract.
async fn contract_types(app: &TestApp, user: &str) -> Vec<(String, String)> {
    let r = app
        .run_segment("insurance", json!({"durationInMonth": 12}))
        .await;
    let mut out: Vec<(String, String)> = r["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["userId"] == user)
        .flat_map(|u| u["contracts"].as_array().unwrap().clone())
        .map(|c| {
            // The contract by its payments' ids (`v77-…`).
            let first = c["transactionIds"][0].as_str().unwrap_or("");
            (
                first[1..first.find('-').unwrap_or(1)].to_owned(),
                c["insuranceType"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Polls until `check` holds (a correction is applied in the background).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen");
}

/// An analyst corrects one payment of a contract finseg typed wrongly:
/// every payment of that contract (the same creditor and mandate), stored
/// and imported later, takes the corrected label, and the `insurance`
/// segment reports the corrected type; the insurer's other contract keeps
/// its type. Withdrawing the correction restores the rules' answer.
async fn corrections_apply_to_the_whole_contract(app: TestApp) {
    let today = finseg_server::time::today_in("Europe/Berlin");
    let month = |n: i32| today.month().plus(-n);
    let day = |n: i32| finseg_core::Date::from_ymd(month(n).year(), month(n).month(), 3).unwrap();
    app.account("c1", "c1-acc", "CHECKING", "0", today, None)
        .await;
    let payment = |contract: u32, n: i32| {
        json!({"id": format!("v{contract}-{n}"), "accountId": "c1-acc", "amount": "-23.45",
            "currency": "EUR", "bookingDate": day(n).to_string(),
            "counterpartName": "Assekuranz Nord AG", "creditorId": "DE98ZZZ09999999999",
            "mandateReference": format!("M-{contract}"),
            "purpose": format!("Versicherungsbeitrag Vertrag {contract} {}", month(n))})
    };
    let body: Vec<Value> = (1..=6)
        .flat_map(|n| [payment(77, n), payment(78, n)])
        .collect();
    assert_eq!(
        app.post("/api/v1/transactions", Value::Array(body))
            .await
            .status,
        200
    );
    let before = contract_types(&app, "c1").await;
    assert_eq!(
        before,
        vec![("77".into(), "OTHER".into()), ("78".into(), "OTHER".into())]
    );

    let r = app
        .put(
            "/api/v1/transactions/v77-3/labels",
            json!({"labels": ["LIABILITYINSURANCE"]}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["key"]["kind"], "creditorIdAndMandate");
    assert_eq!(r.body["key"]["value"], "DE98ZZZ09999999999/M-77");
    let correction = r.body["correctionId"].as_i64().unwrap();
    let corrected = vec![
        ("77".to_owned(), "LIABILITY".to_owned()),
        ("78".to_owned(), "OTHER".to_owned()),
    ];
    eventually("the stored payments' correction", || async {
        contract_types(&app, "c1").await == corrected
    })
    .await;
    let page = app
        .get("/api/v1/accounts/c1-acc/transactions?perPage=100")
        .await;
    assert_eq!(
        labels_of(&page.body, "v77-5"),
        json!([{"label": "LIABILITYINSURANCE", "source": "RULE",
                "rule": format!("correction/{correction}:v77-3")}])
    );
    // A payment imported after the correction takes it at once.
    let line = payment(77, 7)
        .to_string()
        .replacen('{', r#"{"kind":"transaction","#, 1);
    assert_eq!(app.import(&line).await.body["written"]["transaction"], 1);
    let page = app
        .get("/api/v1/accounts/c1-acc/transactions?perPage=100")
        .await;
    assert_eq!(
        labels_of(&page.body, "v77-7")[0]["label"],
        "LIABILITYINSURANCE"
    );
    assert_eq!(labels_of(&page.body, "v78-5")[0]["label"], "OTHERINSURANCE");
    // The rules' answer there is a guess (insurance, of no named type), and says so;
    // the correction's is not.
    assert_eq!(labels_of(&page.body, "v78-5")[0]["weak"], true);
    assert!(labels_of(&page.body, "v77-7")[0].get("weak").is_none());

    let listed = app.get("/api/v1/corrections").await;
    assert_eq!(
        listed.body["corrections"].as_array().unwrap().len(),
        1,
        "{}",
        listed.text
    );
    assert_eq!(listed.body["corrections"][0]["transactionId"], "v77-3");
    // Another client sees none of it.
    let (_, _, other) = app.new_client("other").await;
    let theirs = app.get_as(&other, "/api/v1/corrections").await;
    assert_eq!(theirs.body["corrections"], json!([]));
    assert_problem(
        &app.delete_as(&other, &format!("/api/v1/corrections/{correction}"))
            .await,
        404,
    );

    let r = app
        .delete(&format!("/api/v1/corrections/{correction}"))
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    eventually("the withdrawal", || async {
        contract_types(&app, "c1").await == before
    })
    .await;
    let page = app
        .get("/api/v1/accounts/c1-acc/transactions?perPage=100")
        .await;
    assert_eq!(labels_of(&page.body, "v77-7")[0]["label"], "OTHERINSURANCE");
    assert_eq!(
        app.get("/api/v1/corrections").await.body["corrections"],
        json!([])
    );

    // Bad corrections name what is wrong.
    let r = app
        .put(
            "/api/v1/transactions/v77-3/labels",
            json!({"labels": ["LIABILITYINSURANCE", "NOPE"]}),
        )
        .await;
    assert_problem(&r, 400);
    assert_eq!(crate::helpers::pointers(&r.body), vec!["/labels/1"]);
    let r = app
        .put("/api/v1/transactions/nope/labels", json!({"labels": []}))
        .await;
    assert_problem(&r, 404);
}

on_both_backends!(
    client_rules_and_relabelling,
    coverage_report,
    corrections_apply_to_the_whole_contract
);
