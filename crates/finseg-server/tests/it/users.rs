use serde_json::json;

use crate::helpers::{TestApp, assert_problem, pointers};
use crate::on_both_backends;

async fn put_get_delete(app: TestApp) {
    let r = app.put("/api/v1/users/alice@bank:1", json!({})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body, json!({"id": "alice@bank:1", "accountCount": 0}));
    // Idempotent re-send.
    let r = app
        .put("/api/v1/users/alice@bank:1", json!({"id": "alice@bank:1"}))
        .await;
    assert_eq!(r.status, 200);
    let r = app.get("/api/v1/users/alice@bank:1").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["id"], "alice@bank:1");
    let r = app.delete("/api/v1/users/alice@bank:1").await;
    assert_eq!(r.status, 204);
    assert_problem(&app.get("/api/v1/users/alice@bank:1").await, 404);
    assert_problem(&app.delete("/api/v1/users/alice@bank:1").await, 404);
}

async fn bad_user_input(app: TestApp) {
    let r = app.put("/api/v1/users/bad%20id", json!({})).await;
    assert_problem(&r, 400);
    let r = app.put("/api/v1/users/u1", json!({"id": "u2"})).await;
    assert_problem(&r, 400);
    assert_eq!(pointers(&r.body), vec!["/id"]);
    // A raw body with its content type and coding.
    let put_raw = |content_type: &str, coding: &str, body: Vec<u8>| {
        app.send(
            app.http
                .put(app.url("/api/v1/users/u1"))
                .bearer_auth(&app.token)
                .header("content-type", content_type)
                .header("content-encoding", coding)
                .body(body),
        )
    };
    let r = put_raw("application/json", "identity", b"{not json".to_vec()).await;
    assert_problem(&r, 400);
    let r = put_raw("text/plain", "identity", b"{}".to_vec()).await;
    assert_problem(&r, 415);
    // A compressed JSON body is refused by its coding, not read as bad JSON.
    let packed = zstd::bulk::compress(b"{}", 3).unwrap();
    let r = put_raw("application/json", "zstd", packed).await;
    assert_problem(&r, 415);
    assert_eq!(r.body["header"], "Content-Encoding");
    // Nothing was created by the rejected requests.
    assert_problem(&app.get("/api/v1/users/u1").await, 404);
    assert_problem(&app.get("/api/v1/users/u1/accounts").await, 404);
}

async fn erasure_removes_everything_derived(app: TestApp) {
    app.user_with_account("erin").await;
    let r = app
        .put(
            "/api/v1/accounts/erin-savings",
            json!({"userId": "erin", "type": "savings", "currency": "EUR", "balance": 5000}),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = app
        .post(
            "/api/v1/transactions",
            json!([
                {"id": "e1", "accountId": "erin-acc", "amount": -10, "currency": "EUR", "bookingDate": "2026-10-01"},
                {"id": "e2", "accountId": "erin-savings", "amount": 10, "currency": "EUR", "bookingDate": "2026-10-01"}
            ]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .post(
            "/api/v1/dailyBalances",
            json!([{"accountId": "erin-acc", "date": "2026-10-01", "balance": "90"}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.get("/api/v1/users/erin").await.body["accountCount"], 2);

    assert_eq!(app.delete("/api/v1/users/erin").await.status, 204);
    assert_problem(&app.get("/api/v1/accounts/erin-acc").await, 404);
    assert_problem(
        &app.get("/api/v1/accounts/erin-savings/transactions").await,
        404,
    );
    assert_problem(
        &app.get("/api/v1/accounts/erin-acc/dailyBalances").await,
        404,
    );
    // A user of the same id starts empty; the old transaction ids are free again.
    assert_eq!(app.put("/api/v1/users/erin", json!({})).await.status, 201);
    assert_eq!(app.get("/api/v1/users/erin").await.body["accountCount"], 0);
    app.user_with_account("other").await;
    let r = app
        .post(
            "/api/v1/transactions",
            json!([{"id": "e1", "accountId": "other-acc", "amount": 1, "currency": "EUR", "bookingDate": "2026-10-01"}]),
        )
        .await;
    assert_eq!(r.status, 200);
    let page = app.get("/api/v1/accounts/other-acc/transactions").await;
    assert_eq!(page.body["paging"]["totalCount"], 1);
}

/// `GET /api/v1/users` pages through the client's users in id order, with
/// each one's account count, and shows no other client's users.
async fn users_are_listed_page_by_page(app: TestApp) {
    for id in ["u3", "u1", "u2"] {
        assert_eq!(
            app.put(&format!("/api/v1/users/{id}"), json!({}))
                .await
                .status,
            201
        );
    }
    app.account(
        "u2",
        "u2-a",
        "CHECKING",
        "0",
        finseg_core::Date::parse("2026-01-01").unwrap(),
        None,
    )
    .await;
    let (_, _, token) = app.new_client("other").await;
    assert_eq!(
        app.put_as(&token, "/api/v1/users/u0", json!({}))
            .await
            .status,
        201
    );
    let r = app.get("/api/v1/users?page=1&perPage=2").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({
            "users": [{"id": "u1", "accountCount": 0}, {"id": "u2", "accountCount": 1}],
            "paging": {"page": 1, "perPage": 2, "pageCount": 2, "totalCount": 3}
        })
    );
    let r = app.get("/api/v1/users?page=2&perPage=2").await;
    assert_eq!(r.body["users"], json!([{"id": "u3", "accountCount": 0}]));
    let r = app.get_as(&token, "/api/v1/users").await;
    assert_eq!(r.body["users"], json!([{"id": "u0", "accountCount": 0}]));
    assert_eq!(
        pointers(&app.get("/api/v1/users?perPage=0").await.body),
        ["/perPage"]
    );
}

on_both_backends!(
    users_are_listed_page_by_page,
    put_get_delete,
    bad_user_input,
    erasure_removes_everything_derived
);
