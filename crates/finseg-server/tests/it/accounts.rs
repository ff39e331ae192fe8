use serde_json::json;

use crate::helpers::{TestApp, assert_problem, pointers};
use crate::on_both_backends;

async fn create_replace_and_read(app: TestApp) {
    assert_eq!(app.put("/api/v1/users/u1", json!({})).await.status, 201);
    let r = app
        .put(
            "/api/v1/accounts/acc-1",
            json!({
                "userId": "u1", "type": "creditCard", "currency": "EUR", "balance": -1234.5,
                "balanceDate": "2026-11-20", "iban": "de89 3704 0044 0532 0130 00", "name": "Visa",
                "overdraftLimit": "500", "dataSince": "2025-01-01", "unknownField": [1, 2]
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let a = &r.body;
    assert_eq!(a["type"], "CREDIT_CARD");
    assert_eq!(a["balance"].to_string(), "-1234.50");
    assert_eq!(a["overdraftLimit"].to_string(), "500.00");
    assert_eq!(a["iban"], "DE89370400440532013000");
    assert_eq!(a["balanceDate"], "2026-11-20");
    assert_eq!(a["dataSince"], "2025-01-01");
    assert_eq!(a["transactionCount"], 0);

    // Replace: same id, new values; `type` spelled in lower case.
    let r = app
        .put(
            "/api/v1/accounts/acc-1",
            json!({"userId": "u1", "type": "checking", "currency": "EUR", "balance": "0.10"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app.get("/api/v1/accounts/acc-1").await;
    assert_eq!(r.body["type"], "CHECKING");
    assert_eq!(r.body["balance"].to_string(), "0.10");
    assert!(r.body.get("iban").is_none());
    // balanceDate defaults to the day of ingestion.
    assert_eq!(r.body["balanceDate"].as_str().unwrap().len(), 10);

    let r = app.get("/api/v1/users/u1/accounts").await;
    assert_eq!(r.body["accounts"].as_array().unwrap().len(), 1);
    assert_eq!(app.delete("/api/v1/accounts/acc-1").await.status, 204);
    assert_problem(&app.get("/api/v1/accounts/acc-1").await, 404);
    assert_eq!(
        app.get("/api/v1/users/u1/accounts").await.body["accounts"],
        json!([])
    );
}

async fn each_bad_field_is_named(app: TestApp) {
    assert_eq!(app.put("/api/v1/users/u1", json!({})).await.status, 201);
    let r = app
        .put(
            "/api/v1/accounts/acc-1",
            json!({
                "type": "GIRO", "currency": "EURO", "balance": "12,50",
                "balanceDate": "2026-02-30", "iban": "DE89370400440532013001", "dataSince": 20250101
            }),
        )
        .await;
    assert_problem(&r, 400);
    assert_eq!(
        pointers(&r.body),
        vec![
            "/userId",
            "/type",
            "/currency",
            "/balance",
            "/balanceDate",
            "/iban",
            "/dataSince"
        ]
    );
    let details: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["detail"].as_str().unwrap())
        .collect();
    assert!(details[5].contains("checksum"), "{details:?}");
    assert!(details[2].contains("ISO 4217"), "{details:?}");

    let r = app
        .put(
            "/api/v1/accounts/acc-1",
            json!({"userId": "u1", "type": "CHECKING", "currency": "EUR", "balance": 1.005}),
        )
        .await;
    assert_problem(&r, 400);
    assert_eq!(pointers(&r.body), vec!["/balance"]);

    // A user this client does not have.
    let r = app
        .put(
            "/api/v1/accounts/acc-1",
            json!({"userId": "ghost", "type": "CHECKING", "currency": "EUR", "balance": 1}),
        )
        .await;
    assert_problem(&r, 400);
    assert_eq!(pointers(&r.body), vec!["/userId"]);
    assert_problem(&app.get("/api/v1/accounts/acc-1").await, 404);
}

on_both_backends!(create_replace_and_read, each_bad_field_is_named);
