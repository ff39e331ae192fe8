use serde_json::json;

use crate::helpers::{TestApp, assert_problem, pointers};
use crate::on_both_backends;

async fn batch_is_written_and_read_back(app: TestApp) {
    app.user_with_account("u1").await;
    let r = app
        .post(
            "/api/v1/transactions",
            json!([
                {"id": "t1", "accountId": "u1-acc", "amount": "-12.3", "currency": "EUR", "bookingDate": "2026-10-02",
                 "valueDate": "2026-10-01", "purpose": "Miete Oktober", "counterpartName": "Vonovia SE",
                 "counterpartIban": "DE89370400440532013000", "counterpartBic": "COBADEFFXXX",
                 "creditorId": "DE98ZZZ09999999999", "mandateReference": "M-1", "endToEndReference": "E2E-1",
                 "bankTransactionCode": "116", "sepaPurposeCode": "RENT", "mcc": "6513", "labels": ["RENT"]},
                {"id": "t2", "accountId": "u1-acc", "amount": 2500, "currency": "EUR",
                 "bankBookingDate": "2026-10-30 00:00:00.000", "counterpartCreditorId": "DE11ZZZ00000000001",
                 "typeCodeZka": "153"}
            ]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["written"], 2);

    let page = app.get("/api/v1/accounts/u1-acc/transactions").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body["paging"]["totalCount"], 2);
    let txs = page.body["transactions"].as_array().unwrap();
    // Newest first.
    assert_eq!(txs[0]["id"], "t2");
    assert_eq!(txs[0]["amount"].to_string(), "2500.00");
    assert_eq!(txs[0]["bookingDate"], "2026-10-30");
    assert_eq!(txs[0]["creditorId"], "DE11ZZZ00000000001");
    assert_eq!(txs[0]["bankTransactionCode"], "153");
    let t1 = &txs[1];
    assert_eq!(t1["amount"].to_string(), "-12.30");
    assert_eq!(t1["valueDate"], "2026-10-01");
    assert_eq!(t1["purpose"], "Miete Oktober");
    assert_eq!(t1["counterpartIban"], "DE89370400440532013000");
    assert_eq!(t1["mcc"], "6513");
    assert_eq!(t1["sepaPurposeCode"], "RENT");
    assert_eq!(t1["labels"], json!([{"label": "RENT", "source": "CLIENT"}]));
    // dataSince defaults to the earliest booking date.
    assert_eq!(
        app.get("/api/v1/accounts/u1-acc").await.body["dataSince"],
        "2026-10-02"
    );

    // Pagination.
    let p2 = app
        .get("/api/v1/accounts/u1-acc/transactions?page=2&perPage=1")
        .await;
    assert_eq!(p2.body["transactions"][0]["id"], "t1");
    assert_eq!(p2.body["paging"]["pageCount"], 2);
    let bad = app
        .get("/api/v1/accounts/u1-acc/transactions?perPage=0&page=x")
        .await;
    assert_problem(&bad, 400);
    assert_eq!(pointers(&bad.body), vec!["/page", "/perPage"]);
}

async fn idempotent_resend_and_replace(app: TestApp) {
    app.user_with_account("u1").await;
    let batch = json!([
        {"id": "t1", "accountId": "u1-acc", "amount": -1, "currency": "EUR", "bookingDate": "2026-10-02"},
        {"id": "t2", "accountId": "u1-acc", "amount": -2, "currency": "EUR", "bookingDate": "2026-10-03"}
    ]);
    for _ in 0..3 {
        assert_eq!(
            app.post("/api/v1/transactions", batch.clone()).await.status,
            200
        );
    }
    assert_eq!(
        app.get("/api/v1/accounts/u1-acc").await.body["transactionCount"],
        2
    );
    let r = app
        .post(
            "/api/v1/transactions",
            json!([{"id": "t1", "accountId": "u1-acc", "amount": "-99.99", "currency": "EUR", "bookingDate": "2026-10-05"}]),
        )
        .await;
    assert_eq!(r.status, 200);
    let page = app.get("/api/v1/accounts/u1-acc/transactions").await;
    assert_eq!(page.body["paging"]["totalCount"], 2);
    assert_eq!(page.body["transactions"][0]["amount"].to_string(), "-99.99");
}

async fn a_bad_batch_writes_nothing(app: TestApp) {
    app.user_with_account("u1").await;
    // One bad field in the second element: nothing of the batch is written.
    let r = app
        .post(
            "/api/v1/transactions",
            json!([
                {"id": "t1", "accountId": "u1-acc", "amount": -1, "currency": "EUR", "bookingDate": "2026-10-02"},
                {"id": "t2", "accountId": "u1-acc", "amount": "1.234", "currency": "usd", "bookingDate": "2026-13-01",
                 "counterpartIban": "XX00", "mcc": "54", "labels": ["NOT_A_LABEL"]},
                {"accountId": "u1-acc", "currency": "EUR"}
            ]),
        )
        .await;
    assert_problem(&r, 400);
    assert_eq!(
        pointers(&r.body),
        vec![
            "/1/amount",
            "/1/currency",
            "/1/bookingDate",
            "/1/counterpartIban",
            "/1/mcc",
            "/1/labels/0",
            "/2/id",
            "/2/amount",
            "/2/bookingDate"
        ]
    );
    assert_eq!(
        app.get("/api/v1/accounts/u1-acc").await.body["transactionCount"],
        0
    );

    // Valid fields, but an account the client does not have, and a currency
    // other than the account's: still nothing is written.
    let r = app
        .post(
            "/api/v1/transactions",
            json!([
                {"id": "t1", "accountId": "u1-acc", "amount": -1, "currency": "EUR", "bookingDate": "2026-10-02"},
                {"id": "t2", "accountId": "nope", "amount": -1, "currency": "EUR", "bookingDate": "2026-10-02"},
                {"id": "t3", "accountId": "u1-acc", "amount": -1, "currency": "USD", "bookingDate": "2026-10-02"}
            ]),
        )
        .await;
    assert_problem(&r, 400);
    assert_eq!(pointers(&r.body), vec!["/1/accountId", "/2/currency"]);
    assert_eq!(
        app.get("/api/v1/accounts/u1-acc").await.body["transactionCount"],
        0
    );

    for body in [json!([]), json!({"id": "t1"}), json!([1, 2])] {
        assert_problem(&app.post("/api/v1/transactions", body).await, 400);
    }
}

async fn daily_balances(app: TestApp) {
    app.user_with_account("u1").await;
    let r = app
        .post(
            "/api/v1/dailyBalances",
            json!([
                {"accountId": "u1-acc", "date": "2026-10-01", "balance": "-150.5"},
                {"accountId": "u1-acc", "date": "2026-10-02", "balance": 20}
            ]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Re-sent day replaces.
    app.post(
        "/api/v1/dailyBalances",
        json!([{"accountId": "u1-acc", "date": "2026-10-02", "balance": 21}]),
    )
    .await;
    let r = app.get("/api/v1/accounts/u1-acc/dailyBalances").await;
    let b = r.body["dailyBalances"].as_array().unwrap();
    assert_eq!(b.len(), 2);
    assert_eq!(b[0]["date"], "2026-10-01");
    assert_eq!(b[0]["balance"].to_string(), "-150.50");
    assert_eq!(b[1]["balance"].to_string(), "21.00");
    let r = app
        .post(
            "/api/v1/dailyBalances",
            json!([{"accountId": "u1-acc", "date": "yesterday", "balance": 1}]),
        )
        .await;
    assert_problem(&r, 400);
    assert_eq!(pointers(&r.body), vec!["/0/date"]);
}

on_both_backends!(
    batch_is_written_and_read_back,
    idempotent_resend_and_replace,
    a_bad_batch_writes_nothing,
    daily_balances
);
