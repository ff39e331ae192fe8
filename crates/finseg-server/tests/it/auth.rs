use base64::Engine as _;
use serde_json::json;

use crate::helpers::{Backend, TestApp, assert_problem, config};
use crate::on_both_backends;

async fn token_by_form_and_basic(app: TestApp) {
    // Form credentials are exercised by the harness; HTTP Basic here.
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", app.client_id, app.client_secret));
    let r = app
        .send(
            app.http
                .post(app.url("/oauth/token"))
                .header("authorization", format!("Basic {basic}"))
                .form(&[("grant_type", "client_credentials")]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_type"], "bearer");
    assert_eq!(r.body["expires_in"], 3600);
    let token = r.body["access_token"].as_str().unwrap();
    assert!(
        app.put_as(token, "/api/v1/users/u1", json!({}))
            .await
            .status
            .is_success()
    );
}

async fn bad_credentials(app: TestApp) {
    let post = |form: Vec<(&'static str, String)>| {
        app.send(app.http.post(app.url("/oauth/token")).form(&form))
    };
    let r = post(vec![
        ("grant_type", "client_credentials".into()),
        ("client_id", app.client_id.clone()),
        ("client_secret", "wrong".into()),
    ])
    .await;
    assert_problem(&r, 401);
    assert_eq!(r.body["error"], "invalid_client");
    let r = post(vec![
        ("grant_type", "client_credentials".into()),
        ("client_id", "fsc_nobody".into()),
        ("client_secret", app.client_secret.clone()),
    ])
    .await;
    assert_problem(&r, 401);
    let r = post(vec![
        ("grant_type", "password".into()),
        ("client_id", app.client_id.clone()),
        ("client_secret", app.client_secret.clone()),
    ])
    .await;
    assert_problem(&r, 400);
    assert_eq!(r.body["error"], "unsupported_grant_type");
    let r = post(vec![("client_id", app.client_id.clone())]).await;
    assert_problem(&r, 400);
    let r = app
        .send(
            app.http
                .post(app.url("/oauth/token"))
                .json(&json!({"grant_type": "client_credentials"})),
        )
        .await;
    assert_problem(&r, 415);
}

async fn missing_and_wrong_tokens(app: TestApp) {
    let r = app.send(app.http.get(app.url("/api/v1/users/u1"))).await;
    assert_problem(&r, 401);
    let r = app.get_as("fst_not-a-token", "/api/v1/users/u1").await;
    assert_problem(&r, 401);
    let r = app
        .send(
            app.http
                .get(app.url("/api/v1/users/u1"))
                .header("authorization", "Token abc"),
        )
        .await;
    assert_problem(&r, 401);
    // Every data endpoint is protected.
    for path in [
        "/api/v1/accounts/a",
        "/api/v1/users/u/accounts",
        "/api/v1/accounts/a/transactions",
    ] {
        assert_problem(&app.send(app.http.get(app.url(path))).await, 401);
    }
    assert_problem(
        &app.send(app.http.post(app.url("/api/v1/import")).body(""))
            .await,
        401,
    );
}

on_both_backends!(
    token_by_form_and_basic,
    bad_credentials,
    missing_and_wrong_tokens
);

async fn expired_token_is_refused(backend: Backend) {
    let mut cfg = config(backend);
    // Long enough for the first request on a loaded machine (a second was not).
    cfg.token_ttl_secs = 3;
    let app = TestApp::spawn_with(cfg, backend).await;
    assert!(
        app.put("/api/v1/users/u1", json!({}))
            .await
            .status
            .is_success()
    );
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let r = app.get("/api/v1/users/u1").await;
    assert_problem(&r, 401);
    assert!(r.body["detail"].as_str().unwrap().contains("expired"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token_sqlite() {
    expired_token_is_refused(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token_postgres() {
    expired_token_is_refused(Backend::Postgres).await;
}
