use serde_json::json;

use crate::helpers::{TestApp, assert_problem, pointers};
use crate::on_both_backends;

/// Another client's ids are answered exactly like unknown ids.
async fn clients_never_see_each_other(app: TestApp) {
    app.user_with_account("shared-name").await;
    app.post(
        "/api/v1/transactions",
        json!([{"id": "tx-a", "accountId": "shared-name-acc", "amount": -5, "currency": "EUR", "bookingDate": "2026-10-01"}]),
    )
    .await;
    let (_, _, other) = app.new_client("other-bank").await;

    for path in [
        "/api/v1/users/shared-name",
        "/api/v1/users/shared-name/accounts",
        "/api/v1/accounts/shared-name-acc",
        "/api/v1/accounts/shared-name-acc/transactions",
        "/api/v1/accounts/shared-name-acc/dailyBalances",
    ] {
        let theirs = app.get_as(&other, path).await;
        let unknown = app
            .get_as(&other, &path.replace("shared-name", "never-existed"))
            .await;
        assert_problem(&theirs, 404);
        assert_eq!(theirs.status, unknown.status);
        assert_eq!(
            theirs.body["detail"]
                .as_str()
                .unwrap()
                .replace("shared-name", "X"),
            unknown.body["detail"]
                .as_str()
                .unwrap()
                .replace("never-existed", "X")
        );
    }
    assert_problem(
        &app.delete_as(&other, "/api/v1/users/shared-name").await,
        404,
    );
    assert_problem(
        &app.delete_as(&other, "/api/v1/accounts/shared-name-acc")
            .await,
        404,
    );

    // Writing against the first client's user or account is refused as unknown.
    let r = app
        .put_as(
            &other,
            "/api/v1/accounts/x",
            json!({"userId": "shared-name", "type": "CHECKING", "currency": "EUR", "balance": 1}),
        )
        .await;
    assert_problem(&r, 400);
    assert_eq!(pointers(&r.body), vec!["/userId"]);
    let r = app
        .post_as(
            &other,
            "/api/v1/transactions",
            json!([{"id": "tx-b", "accountId": "shared-name-acc", "amount": 1, "currency": "EUR", "bookingDate": "2026-10-01"}]),
        )
        .await;
    assert_eq!(pointers(&r.body), vec!["/0/accountId"]);
    let r = app
        .import_as(&other, r#"{"kind":"transaction","id":"tx-a","accountId":"shared-name-acc","amount":"999","currency":"EUR","bookingDate":"2026-10-01"}"#)
        .await;
    assert_eq!(r.body["rejectedCount"], 1);

    // The same ids in the other client are independent records.
    app.user_with_account_as(&other, "shared-name").await;
    let r = app
        .post_as(
            &other,
            "/api/v1/transactions",
            json!([{"id": "tx-a", "accountId": "shared-name-acc", "amount": 7, "currency": "EUR", "bookingDate": "2026-10-09"}]),
        )
        .await;
    assert_eq!(r.status, 200);
    let mine = app
        .get("/api/v1/accounts/shared-name-acc/transactions")
        .await;
    assert_eq!(mine.body["transactions"][0]["amount"].to_string(), "-5.00");
    let theirs = app
        .get_as(&other, "/api/v1/accounts/shared-name-acc/transactions")
        .await;
    assert_eq!(theirs.body["transactions"][0]["amount"].to_string(), "7.00");
    // Erasure in one client leaves the other's data alone.
    assert_eq!(
        app.delete_as(&other, "/api/v1/users/shared-name")
            .await
            .status,
        204
    );
    assert_eq!(
        app.get("/api/v1/accounts/shared-name-acc").await.body["transactionCount"],
        1
    );
}

on_both_backends!(clients_never_see_each_other);
