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
        json!([{"label": "SALARY", "source": "RULE", "rule": "default/salary-text@2026.12.1"}])
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
    let r = app.post("/api/v1/labels/relabel", json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"examined": 2, "changed": 1}));
    let page = app.get("/api/v1/accounts/u-acc/transactions").await;
    assert_eq!(labels_of(&page.body, "b1")[0]["rule"], "client/bonus@1");

    // Without client rules, the defaults apply again after re-labelling.
    assert_eq!(app.delete("/api/v1/labels/rules").await.status, 204);
    assert_eq!(
        app.post("/api/v1/labels/relabel", json!({})).await.body["changed"],
        2
    );
    let page = app.get("/api/v1/accounts/u-acc/transactions").await;
    assert_eq!(labels_of(&page.body, "b2")[0]["label"], "SALARY");
}

on_both_backends!(client_rules_and_relabelling);
