//! Callbacks: a receiver in the test sees a correctly signed call; a failing
//! receiver is retried until it accepts.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{Backend, TestApp, config};

#[derive(Clone, Default)]
struct Received {
    calls: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    /// Answer 500 to this many calls first.
    failures: Arc<Mutex<u32>>,
}

async fn receiver(failures: u32) -> (String, Received) {
    let received = Received::default();
    *received.failures.lock().unwrap() = failures;
    let r = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let r = r.clone();
            async move {
                r.calls.lock().unwrap().push((headers, body));
                let mut f = r.failures.lock().unwrap();
                if *f > 0 {
                    *f -= 1;
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

async fn app_allowing_local_callbacks(backend: Backend) -> TestApp {
    let mut cfg = config(backend);
    cfg.allow_private_callbacks = true;
    cfg.callback_retry_base_ms = 100;
    cfg.poll_ms = 50;
    TestApp::spawn_with(cfg, backend).await
}

async fn wait_calls(r: &Received, n: usize) -> Vec<(HeaderMap, String)> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let calls = r.calls.lock().unwrap().clone();
        if calls.len() >= n || std::time::Instant::now() > deadline {
            return calls;
        }
        drop(calls);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn signed_callback_and_retries(backend: Backend) {
    let app = app_allowing_local_callbacks(backend).await;
    app.put("/api/v1/users/u", json!({})).await;
    let (url, received) = receiver(2).await;
    let id = app
        .create_job("highBalance", json!({"threshold": 0, "callbackURL": url}))
        .await;
    let calls = wait_calls(&received, 3).await;
    assert_eq!(calls.len(), 3, "two failures, then delivered");
    for (headers, body) in &calls {
        let v: Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["jobId"], id);
        assert_eq!(v["segmentType"], "highBalance");
        assert_eq!(v["status"], "COMPLETED");
        assert!(
            v["resultUrl"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/api/v1/segments/highBalance/{id}"))
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(app.webhook_secret.as_bytes()).unwrap();
        mac.update(body.as_bytes());
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(headers["x-finseg-signature"], format!("sha256={expected}"));
    }
    // The job resource shows the delivery.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let s = app.get(&format!("/api/v1/jobs/{id}")).await;
        if s.body["callback"]["status"] == "DELIVERED" {
            assert_eq!(s.body["callback"]["attempts"], 3);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", s.text);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The receiver sees no further call.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(received.calls.lock().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_sqlite() {
    signed_callback_and_retries(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_postgres() {
    signed_callback_and_retries(Backend::Postgres).await;
}

/// Without the operator's permission, local addresses are refused at creation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_callback_addresses_are_refused() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for url in [
        "http://127.0.0.1:8080/x",
        "http://localhost/x",
        "http://10.0.0.1/x",
        "http://169.254.169.254/latest",
        "http://[::1]/x",
    ] {
        let r = app
            .post(
                "/api/v1/segments/highBalance",
                json!({"threshold": 0, "callbackURL": url}),
            )
            .await;
        assert_eq!(r.status, 400, "{url}: {}", r.text);
        assert_eq!(r.body["errors"][0]["pointer"], "/callbackURL");
    }
}
