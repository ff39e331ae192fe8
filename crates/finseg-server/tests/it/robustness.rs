//! What one client sends cannot break finseg: every accepted value works in
//! every segment and in the index, bad text is refused alike on both
//! backends, sums do not overflow, and a panic costs one request only.

use finseg_core::Date;
use serde_json::json;

use crate::helpers::{TestApp, assert_problem, pointers};
use crate::on_both_backends;

fn today() -> Date {
    finseg_server::time::today_in("Europe/Berlin")
}

fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}

/// A metric's value from `/metrics`.
async fn metric(app: &TestApp, name: &str) -> Option<i64> {
    let r = app.get("/metrics").await;
    r.text.lines().find_map(|l| {
        let (n, v) = l.split_once(' ')?;
        (n == name).then(|| v.parse().ok())?
    })
}

/// Waits until every client's segment index reflects the newest write.
async fn index_caught_up(app: &TestApp) -> bool {
    for _ in 0..200 {
        let ingest = metric(app, "finseg_ingest_seq").await;
        if ingest.is_some() && metric(app, "finseg_segment_index_seq").await == ingest {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

/// Accounts and bookings on the first and the last accepted day go
/// through every segment type, the index and its refresh; another client
/// created after that one is refreshed all the same.
async fn dates_at_the_edges_of_the_accepted_range(app: TestApp) {
    app.account("u1", "late", "CHECKING", "1.00", date("2200-12-31"), None)
        .await;
    app.account(
        "u1",
        "early",
        "CHECKING",
        "1.00",
        date("1900-01-01"),
        Some(date("1900-01-01")),
    )
    .await;
    app.transactions(&[
        ("t-late", "late", date("2200-12-31"), "-5.00", &["SALARY"]),
        ("t-late2", "late", date("2200-01-15"), "-2.00", &[]),
        ("t-early", "early", date("1900-01-01"), "10.00", &["SALARY"]),
        ("t-now", "late", today(), "-3.00", &[]),
    ])
    .await;
    let (_, _, other) = app.new_client("after the edge").await;
    let r = app.put_as(&other, "/api/v1/users/o1", json!({})).await;
    assert!(r.status.is_success(), "{}", r.text);
    assert!(index_caught_up(&app).await, "the index refresh stopped");

    for (segment, params) in [
        ("lowBalance", json!({"threshold": 0, "durationInMonth": 12})),
        ("highBalance", json!({"threshold": 0})),
        (
            "financialBreakdown",
            json!({"labelGroups": ["INCOME"], "durationInMonth": 12}),
        ),
        ("insurance", json!({"durationInMonth": 24})),
        ("incomeSpendingSummary", json!({"durationInMonth": 12})),
    ] {
        app.run_segment(segment, params).await;
    }
    let late = app
        .run_segment(
            "incomeSpendingSummary",
            json!({"dateFrom": "2200-01-01", "dateTo": "2200-12-31"}),
        )
        .await;
    assert_eq!(
        late["users"][0]["outgoingTotal"].to_string(),
        "-7.00",
        "{late}"
    );
    assert_eq!(late["users"][0]["outgoingCount"], 2, "{late}");
    let early = app
        .run_segment(
            "incomeSpendingSummary",
            json!({"dateFrom": "1900-01-01", "dateTo": "1900-01-31"}),
        )
        .await;
    assert_eq!(
        early["users"][0]["incomingTotal"].to_string(),
        "10.00",
        "{early}"
    );
    assert_eq!(
        metric(&app, "finseg_segment_index_refresh_failures_total").await,
        Some(0)
    );
}

/// A NUL is refused with the field's name on both backends; in a bulk
/// import it costs its own line only.
async fn nul_characters_are_refused_alike(app: TestApp) {
    app.user_with_account("u1").await;
    let r = app
        .post(
            "/api/v1/transactions",
            json!([
                {"id": "ok", "accountId": "u1-acc", "amount": "1", "currency": "EUR", "bookingDate": "2026-11-02"},
                {"id": "bad", "accountId": "u1-acc", "amount": "1", "currency": "EUR", "bookingDate": "2026-11-02", "counterpartName": "A\u{0}B"},
            ]),
        )
        .await;
    assert_problem(&r, 400);
    assert_eq!(pointers(&r.body), vec!["/1/counterpartName"]);
    let r = app
        .put(
            "/api/v1/accounts/a-nul",
            json!({"userId": "u1", "type": "CHECKING", "currency": "EUR", "balance": "1", "name": "x\u{0}"}),
        )
        .await;
    assert_problem(&r, 400);
    assert_eq!(pointers(&r.body), vec!["/name"]);

    let mut lines = Vec::new();
    for i in 0..50 {
        let purpose = if i == 30 {
            "Miete \\u0000 Nov"
        } else {
            "Miete"
        };
        lines.push(format!(
            r#"{{"kind":"transaction","id":"b{i}","accountId":"u1-acc","amount":"-1.00","currency":"EUR","bookingDate":"2026-11-02","purpose":"{purpose}"}}"#
        ));
    }
    let r = app.import(&(lines.join("\n") + "\n")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["written"]["transaction"], 49, "{}", r.text);
    let rejected = r.body["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{}", r.text);
    assert_eq!(rejected[0]["line"], 31, "{}", r.text);
    assert_eq!(rejected[0]["pointer"], "/purpose", "{}", r.text);
    let r = app
        .get("/api/v1/accounts/u1-acc/transactions?perPage=100")
        .await;
    assert_eq!(
        r.body["transactions"].as_array().unwrap().len(),
        49,
        "{}",
        r.text
    );
}

/// 10,000 of the largest accepted amount: totals are exact, not wrapped.
async fn totals_of_the_largest_amounts(app: TestApp) {
    app.user_with_account("u1").await;
    let last_month = today().month().plus(-1);
    let day = last_month.first_day().add_days(3);
    let mut lines = String::new();
    for i in 0..10_000 {
        lines.push_str(&format!(
            r#"{{"kind":"transaction","id":"m{i}","accountId":"u1-acc","amount":"9999999999999.99","currency":"EUR","bookingDate":"{day}","labels":["OTHERINCOME"]}}"#
        ));
        lines.push('\n');
    }
    let r = app.import(&lines).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["written"]["transaction"], 10_000, "{}", r.text);
    let expected = "99999999999999900.00";

    let summary = app
        .run_segment("incomeSpendingSummary", json!({"durationInMonth": 1}))
        .await;
    assert_eq!(
        summary["users"][0]["incomingTotal"].to_string(),
        expected,
        "{summary}"
    );
    let breakdown = app
        .run_segment(
            "financialBreakdown",
            json!({"labelGroups": ["INCOME"], "durationInMonth": 1}),
        )
        .await;
    let group = &breakdown["users"][0]["labelGroups"][0];
    assert_eq!(group["total"].to_string(), expected, "{breakdown}");
    assert_eq!(
        group["monthly"][0]["total"].to_string(),
        expected,
        "{breakdown}"
    );
    assert_eq!(group["median"].to_string(), expected, "{breakdown}");
    // The balance moved by all of them, beyond the range of one amount.
    let high = app
        .run_segment("highBalance", json!({"threshold": 0}))
        .await;
    // 100.00 on 2026-11-01, then all of them.
    assert_eq!(
        high["users"][0]["accounts"][0]["amount"].to_string(),
        "100000000000000000.00",
        "{high}"
    );
    app.run_segment("lowBalance", json!({"threshold": 0})).await;
}

/// An unknown route names the method and the path it was asked for.
async fn unknown_routes_are_named(app: TestApp) {
    let r = app
        .send(
            app.http
                .patch(app.url("/api/v1/nowhere/x"))
                .bearer_auth(&app.token),
        )
        .await;
    assert_problem(&r, 404);
    assert_eq!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap(),
        "there is no route PATCH /api/v1/nowhere/x"
    );
}

/// Errors the framework answers itself are problem documents too.
async fn framework_errors_are_problems(app: TestApp) {
    // A method the route does not take: 405, with its Allow header kept.
    let res = app
        .http
        .delete(app.url("/api/v1/labels"))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert!(res.headers().get("allow").is_some());
    let r = app
        .send(
            app.http
                .delete(app.url("/api/v1/labels"))
                .bearer_auth(&app.token),
        )
        .await;
    assert_problem(&r, 405);
    // A repeated query parameter: 400.
    app.user_with_account("u1").await;
    let r = app
        .get("/api/v1/accounts/u1-acc/transactions?page=1&page=2")
        .await;
    assert_problem(&r, 400);
    assert!(
        r.body["detail"].as_str().unwrap().contains("page"),
        "{}",
        r.text
    );
    // The taxonomy, like every /api/v1 route, needs a token.
    let r = app.send(app.http.get(app.url("/api/v1/labels"))).await;
    assert_problem(&r, 401);
    // A body over the limit: 413.
    let big = "x".repeat(3 << 20);
    // Its own connection: the server answers without reading the rest of
    // the body and closes the connection, which a pooled client would
    // otherwise reuse. The close can reset the connection while the client
    // still writes, before it reads the answer: then it asks again.
    let mut answered = None;
    for _ in 0..5 {
        let fresh = reqwest::Client::new();
        let sent = fresh
            .put(app.url("/api/v1/labels/rules"))
            .bearer_auth(&app.token)
            .body(big.clone())
            .send()
            .await;
        if let Ok(res) = sent {
            answered = Some(res);
            break;
        }
    }
    let res = answered.expect("an answer to one of five tries");
    assert_eq!(res.status(), 413);
    assert_eq!(
        res.headers()["content-type"],
        "application/problem+json",
        "a problem document"
    );
    let problem: serde_json::Value = res.json().await.unwrap();
    assert_eq!(problem["status"], 413);
}

/// One request that names a transaction twice is refused by the repeat's
/// pointer, and nothing of it is written.
async fn a_repeated_id_in_one_request(app: TestApp) {
    app.user_with_account("u1").await;
    let tx = |id: &str, amount: &str| json!({"id": id, "accountId": "u1-acc", "amount": amount, "currency": "EUR", "bookingDate": "2026-11-02"});
    let r = app
        .post(
            "/api/v1/transactions",
            json!([tx("t1", "1"), tx("t2", "2"), tx("t1", "3")]),
        )
        .await;
    assert_problem(&r, 400);
    assert_eq!(pointers(&r.body), vec!["/2/id"]);
    let r = app.get("/api/v1/accounts/u1-acc/transactions").await;
    assert_eq!(
        r.body["transactions"].as_array().unwrap().len(),
        0,
        "{}",
        r.text
    );
    let r = app
        .post(
            "/api/v1/dailyBalances",
            json!([
                {"accountId": "u1-acc", "date": "2026-11-02", "balance": "1"},
                {"accountId": "u1-acc", "date": "2026-11-02", "balance": "2"},
            ]),
        )
        .await;
    assert_problem(&r, 400);
    assert_eq!(pointers(&r.body), vec!["/1/date"]);
}

/// One client cannot hold more than its limits: jobs queued or running,
/// and results kept; the refusal is a 429 with Retry-After and creates
/// nothing, a retried POST with its Idempotency-Key still finds its job,
/// and another client is not affected.
async fn job_limits_per_client(app: TestApp) {
    let mut cfg = crate::helpers::config(app.backend);
    cfg.job_limits = finseg_store::jobs::JobLimits {
        active: 1_000,
        stored: 3,
        stored_members: 1_000,
    };
    // Workers off: the first jobs stay queued, which the active limit counts.
    cfg.workers = 0;
    let queued_cfg = finseg_store::jobs::JobLimits {
        active: 2,
        ..cfg.job_limits
    };
    let mut queued = cfg.clone();
    queued.job_limits = queued_cfg;
    let app = TestApp::spawn_with(queued, app.backend).await;
    app.user_with_account("u1").await;
    let post = |key: &'static str| {
        app.send(
            app.http
                .post(app.url("/api/v1/segments/highBalance"))
                .bearer_auth(&app.token)
                .header("Idempotency-Key", key)
                .json(&json!({"threshold": 0})),
        )
    };
    assert_eq!(post("k1").await.status, 202);
    assert_eq!(post("k2").await.status, 202);
    let r = post("k3").await;
    assert_problem(&r, 429);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("queued or running"),
        "{}",
        r.text
    );
    // The retry of an accepted POST is answered as before.
    assert_eq!(post("k1").await.status, 202);
    let jobs = app.get("/api/v1/jobs").await;
    assert_eq!(
        jobs.body["jobs"].as_array().unwrap().len(),
        2,
        "{}",
        jobs.text
    );
    // Another client is not held back by this one.
    let (_, _, other) = app.new_client("other").await;
    let r = app
        .send(
            app.http
                .post(app.url("/api/v1/segments/highBalance"))
                .bearer_auth(&other)
                .json(&json!({"threshold": 0})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);

    // Kept results: with workers, three finish; the fourth is refused
    // until one is deleted.
    cfg.workers = 1;
    let app = TestApp::spawn_with(cfg, app.backend).await;
    app.user_with_account("u1").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let id = app.create_job("highBalance", json!({"threshold": 0})).await;
        assert_eq!(app.wait_for("highBalance", &id).await.status, 200);
        ids.push(id);
    }
    let r = app
        .post("/api/v1/segments/highBalance", json!({"threshold": 0}))
        .await;
    assert_problem(&r, 429);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("DELETE /api/v1/jobs"),
        "{}",
        r.text
    );
    assert_eq!(
        app.delete(&format!("/api/v1/jobs/{}", ids[0])).await.status,
        204
    );
    app.create_job("highBalance", json!({"threshold": 0})).await;
}

/// Failed token requests are limited per client id and per address: past
/// the limit a request is refused before its secret is checked, even with
/// the right secret, and other clients are not affected.
async fn token_guessing_is_limited(app: TestApp) {
    let mut cfg = crate::helpers::config(app.backend);
    cfg.token_failures_per_minute = 3;
    let app = TestApp::spawn_with(cfg, app.backend).await;
    let token = |id: &str, secret: &str| {
        app.send(app.http.post(app.url("/oauth/token")).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ]))
    };
    for _ in 0..3 {
        assert_eq!(token(&app.client_id, "wrong").await.status, 401);
    }
    let r = token(&app.client_id, "wrong").await;
    assert_problem(&r, 429);
    let r = token(&app.client_id, &app.client_secret).await;
    assert_problem(&r, 429);
    // The tokens already issued keep working.
    assert_eq!(app.get("/api/v1/jobs").await.status, 200);
}

/// Killed PostgreSQL backends leave no dead connection in the pool: every
/// request after the kill succeeds, on its own database so that no other
/// test's connections die with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_postgres_backends_are_replaced() {
    let mut cfg = crate::helpers::config(crate::helpers::Backend::Postgres);
    let url = crate::helpers::own_postgres_url();
    cfg.database = finseg_store::DbUrl::parse(&url).unwrap();
    let app = TestApp::spawn_with(cfg, crate::helpers::Backend::Postgres).await;
    app.user_with_account("u1").await;
    // Several pooled connections are open and idle now.
    let (a, b) = tokio::join!(
        app.get("/api/v1/users/u1"),
        app.get("/api/v1/accounts/u1-acc")
    );
    assert_eq!((a.status.as_u16(), b.status.as_u16()), (200, 200));
    let killed = std::thread::spawn(move || {
        let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        admin
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .unwrap()
            .len()
    })
    .join()
    .unwrap();
    assert!(killed >= 1, "no pooled connection was open");
    for _ in 0..5 {
        let r = app.get("/api/v1/users/u1").await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
}

/// A month before an account's `dataSince` has no known balance for that
/// account: a member's evidence shows no lowest balance for it, and an
/// account whose history starts after the whole period is not listed.
async fn months_before_data_since_have_no_balance(app: TestApp) {
    let m = |n: i32| today().month().plus(-n);
    let day = |n: i32, d: u32| Date::from_ymd(m(n).year(), m(n).month(), d).unwrap();
    let long_ago = Some(day(8, 1));
    // a dips below -100 in each of the last three months.
    app.account("u1", "a", "CHECKING", "-500.00", today(), long_ago)
        .await;
    // b's history starts in the middle of the second month.
    app.account("u1", "b", "CHECKING", "-300.00", today(), Some(day(2, 15)))
        .await;
    // c's history starts after the period.
    app.account(
        "u1",
        "c",
        "CHECKING",
        "-300.00",
        today(),
        Some(today().month().first_day()),
    )
    .await;
    let r = app
        .run_segment(
            "lowBalance",
            json!({"threshold": -100, "durationInMonth": 3}),
        )
        .await;
    let user = &r["users"][0];
    assert_eq!(user["userId"], "u1", "{r}");
    let accounts = user["accounts"].as_array().unwrap();
    let b = accounts
        .iter()
        .find(|a| a["accountId"] == "b")
        .expect("b is listed");
    assert_eq!(b["months"][0]["month"], m(3).to_string());
    assert!(b["months"][0]["lowestBalance"].is_null(), "{b}");
    assert!(b["months"][0].get("lowestBalanceDate").is_none(), "{b}");
    assert_eq!(
        b["months"][1]["lowestBalanceDate"],
        day(2, 15).to_string(),
        "{b}"
    );
    assert!(
        !accounts.iter().any(|a| a["accountId"] == "c"),
        "an account without a known day in the period is not evidence: {user}"
    );
}

/// A deleted client's tokens stop working on every node (here: a node
/// that authenticated the token before the deletion and cached it), its
/// data is gone, and another client's work goes on.
async fn a_deleted_clients_tokens_stop_working(app: TestApp) {
    let (doomed_id, doomed_secret, doomed) = app.new_client("doomed").await;
    let user = json!({"name": "U"});
    assert_eq!(
        app.put_as(&doomed, "/api/v1/users/d1", user.clone())
            .await
            .status,
        201
    );
    assert_eq!(app.put("/api/v1/users/k1", user).await.status, 201);
    assert_eq!(app.get_as(&doomed, "/api/v1/users/d1").await.status, 200);
    let id = doomed_id.clone();
    let deleted = app
        .state
        .db(move |c| {
            finseg_store::conn::in_transaction(c, |c| finseg_store::clients::delete(c, &id))
        })
        .await
        .unwrap();
    assert!(deleted);
    tokio::time::sleep(std::time::Duration::from_secs(
        finseg_server::auth::TOKEN_CACHE_TRUST_SECS as u64,
    ))
    .await;
    let r = app.get_as(&doomed, "/api/v1/users/d1").await;
    assert_problem(&r, 401);
    let r = app
        .send(app.http.post(app.url("/oauth/token")).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", doomed_id.as_str()),
            ("client_secret", doomed_secret.as_str()),
        ]))
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
    let users = app
        .state
        .db(move |c| {
            c.query(
                "SELECT COUNT(*) FROM users u JOIN clients c ON c.pk = u.client_pk
                 WHERE c.client_id = $1",
                &[finseg_store::P::T(&doomed_id)],
            )
        })
        .await
        .unwrap();
    assert_eq!(users[0][0].int(), 0, "the deleted client's data is erased");
    assert_eq!(app.get("/api/v1/users/k1").await.status, 200);
}

/// One client's large writes in flight are limited: while its import holds
/// the only place, its next batch gets 429 with Retry-After, another
/// client's batch goes through, and after the import the client's batches
/// are taken again.
async fn large_writes_in_flight_are_limited_per_client(app: TestApp) {
    use std::io::{Read, Write};
    let mut cfg = crate::helpers::config(app.backend);
    cfg.writes_per_client = 1;
    let app = TestApp::spawn_with(cfg, app.backend).await;
    app.user_with_account("u1").await;
    let (_, _, other) = app.new_client("other").await;
    app.user_with_account_as(&other, "o1").await;
    let batch = |account: &str, id: &str| {
        json!([{"id": id, "accountId": account, "amount": "-1.00", "currency": "EUR",
                "bookingDate": "2026-10-01"}])
    };
    // An import whose body stays open.
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    let line = "{\"kind\":\"user\",\"id\":\"slow\"}\n";
    write!(
        stream,
        "POST /api/v1/import HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{line}\r\n",
        app.token,
        line.len()
    )
    .unwrap();
    stream.flush().unwrap();
    // The import holds the client's one place once the server has read its head.
    let mut admitted = false;
    for _ in 0..750 {
        if metric(&app, "finseg_large_writes_in_flight").await == Some(1) {
            admitted = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(admitted, "the import is not in flight");
    let refused = app
        .post("/api/v1/transactions", batch("u1-acc", "t1"))
        .await;
    assert_problem(&refused, 429);
    let r = app
        .send(
            app.http
                .post(app.url("/api/v1/transactions"))
                .bearer_auth(&other)
                .json(&batch("o1-acc", "o-t1")),
        )
        .await;
    assert_eq!(r.status, 200, "another client is not held back: {}", r.text);
    stream.write_all(b"0\r\n\r\n").unwrap();
    let mut answer = String::new();
    let mut buf = [0u8; 4096];
    while !answer.contains("\"lines\"") {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "{answer}");
        answer.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(stream);
    let mut done = false;
    for _ in 0..750 {
        if app
            .post("/api/v1/transactions", batch("u1-acc", "t2"))
            .await
            .status
            == 200
        {
            done = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(done, "the place is given back when the import ends");
    assert_eq!(app.get("/api/v1/users/slow").await.status, 200);
}

/// Bulk imports of several clients and JSON batches at the same time take
/// turns batch by batch: every one is answered 200 with every line written
/// (on SQLite they queue for the one writer instead of failing with
/// "database is locked").
async fn imports_of_several_clients_take_turns(app: TestApp) {
    // More than one import batch (20,000 lines) each, so that they interleave.
    const LINES: usize = 25_000;
    let mut tokens = vec![app.token.clone()];
    for name in ["second", "third"] {
        tokens.push(app.new_client(name).await.2);
    }
    let (_, _, batcher) = app.new_client("batcher").await;
    app.user_with_account_as(&batcher, "b").await;
    let body = |client: usize| {
        let mut b = String::from(
            "{\"kind\":\"user\",\"id\":\"u\"}\n{\"kind\":\"account\",\"id\":\"u-acc\",\"userId\":\"u\",\"type\":\"CHECKING\",\"currency\":\"EUR\",\"balance\":\"0\"}\n",
        );
        for i in 0..LINES {
            b.push_str(&format!(
                "{{\"kind\":\"transaction\",\"id\":\"c{client}-t{i}\",\"accountId\":\"u-acc\",\"amount\":\"-1.00\",\"currency\":\"EUR\",\"bookingDate\":\"2026-10-01\"}}\n"
            ));
        }
        b
    };
    let imports = tokens.iter().enumerate().map(|(c, token)| {
        let body = body(c);
        let app = &app;
        async move { app.import_as(token, &body).await }
    });
    let batches = (0..4).map(|k| {
        let app = &app;
        let batcher = &batcher;
        async move {
            let batch: Vec<_> = (0..500)
                .map(|i| {
                    json!({"id": format!("b{k}-{i}"), "accountId": "b-acc", "amount": "-1.00",
                                "currency": "EUR", "bookingDate": "2026-10-01"})
                })
                .collect();
            app.send(
                app.http
                    .post(app.url("/api/v1/transactions"))
                    .bearer_auth(batcher)
                    .json(&batch),
            )
            .await
        }
    });
    let (imported, batched) = tokio::join!(
        futures_util::future::join_all(imports),
        futures_util::future::join_all(batches)
    );
    for r in &imported {
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["written"]["transaction"], json!(LINES), "{}", r.text);
        assert_eq!(r.body["rejectedCount"], json!(0), "{}", r.text);
    }
    for r in &batched {
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["written"], json!(500), "{}", r.text);
    }
}

on_both_backends!(
    imports_of_several_clients_take_turns,
    large_writes_in_flight_are_limited_per_client,
    a_deleted_clients_tokens_stop_working,
    job_limits_per_client,
    token_guessing_is_limited,
    months_before_data_since_have_no_balance,
    framework_errors_are_problems,
    a_repeated_id_in_one_request,
    dates_at_the_edges_of_the_accepted_range,
    nul_characters_are_refused_alike,
    totals_of_the_largest_amounts,
    unknown_routes_are_named,
);
