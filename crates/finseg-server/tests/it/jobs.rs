//! The job contract of SPEC §5: states, finAPI's status codes, idempotency,
//! paging and streaming, snapshots, several nodes, expiry, failure, erasure.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, config, pointers};
use crate::on_both_backends;

/// A node that serves the API but runs no workers: jobs stay queued. On
/// PostgreSQL it has a database of its own, where no other test's workers
/// take its partitions.
async fn api_only(backend: Backend) -> TestApp {
    let mut cfg = config(backend);
    cfg.workers = 0;
    if backend == Backend::Postgres {
        cfg.database = finseg_store::DbUrl::parse(&crate::helpers::own_postgres_url()).unwrap();
    }
    TestApp::spawn_with(cfg, backend).await
}

/// A worker node on the same database as `app`.
async fn worker_node(app: &TestApp) -> TestApp {
    let mut cfg = config(app.backend);
    cfg.database = app.state.store.url().clone();
    cfg.workers = 2;
    cfg.poll_ms = 50;
    app.second_node(cfg).await
}

async fn seed_overdrawn(app: &TestApp, users: &[&str]) {
    let mut lines = String::new();
    for u in users {
        lines.push_str(&format!(
            "{{\"kind\":\"user\",\"id\":\"{u}\"}}\n{{\"kind\":\"account\",\"id\":\"{u}-c\",\"userId\":\"{u}\",\"type\":\"CHECKING\",\"currency\":\"EUR\",\"balance\":\"-500.00\",\"dataSince\":\"2020-01-01\"}}\n"
        ));
    }
    let r = app.import(&lines).await;
    assert_eq!(r.body["rejectedCount"], 0, "{}", r.text);
}

async fn queued_jobs_follow_the_finapi_contract(backend: Backend) {
    let app = api_only(backend).await;
    seed_overdrawn(&app, &["a", "b", "c"]).await;
    let r = app
        .post("/api/v1/segments/lowBalance", json!({"threshold": -100}))
        .await;
    assert_eq!(r.status, 202);
    let id = r.body["jobId"].as_str().unwrap().to_owned();
    // Not done yet: 404 whose status says QUEUED, with and without the prefix.
    for path in [
        format!("/api/v1/segments/lowBalance/{id}"),
        format!("/segments/lowBalance/{id}"),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status, 404, "{}", r.text);
        assert_eq!(r.body["status"], "QUEUED");
        assert_eq!(r.content_type, "application/problem+json");
    }
    let s = app.get(&format!("/api/v1/jobs/{id}")).await;
    assert_eq!(s.body["status"], "QUEUED");
    assert_eq!(
        s.body["progress"],
        json!({"usersDone": 0, "usersTotal": 3, "partitionsDone": 0, "partitionsTotal": 1})
    );
    assert_eq!(s.body["parameters"]["durationInMonth"], 3);

    // Unknown ids, ids of another segment type and of another client: 400.
    let (_, _, other) = app.new_client("other").await;
    for (token, path) in [
        (
            app.token.as_str(),
            "/api/v1/segments/lowBalance/00000000-0000-4000-8000-000000000000".to_owned(),
        ),
        (
            app.token.as_str(),
            format!("/api/v1/segments/highBalance/{id}"),
        ),
        (other.as_str(), format!("/api/v1/segments/lowBalance/{id}")),
        (other.as_str(), format!("/segments/lowBalance/{id}")),
    ] {
        assert_problem(&app.get_as(token, &path).await, 400);
    }
    // The job resource of another client is answered like an unknown one.
    let theirs = app.get_as(&other, &format!("/api/v1/jobs/{id}")).await;
    let unknown = app
        .get_as(&other, "/api/v1/jobs/00000000-0000-4000-8000-000000000000")
        .await;
    assert_problem(&theirs, 404);
    assert_eq!(theirs.status, unknown.status);
    assert_eq!(
        app.get_as(&other, "/api/v1/jobs").await.body["paging"]["totalCount"],
        0
    );
    assert_problem(
        &app.delete_as(&other, &format!("/api/v1/jobs/{id}")).await,
        404,
    );

    // A worker node on the same database finishes it.
    let worker = worker_node(&app).await;
    let done = app.wait_for("lowBalance", &id).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.body["usersMatched"], 3);
    let s = app.get(&format!("/api/v1/jobs/{id}")).await;
    assert_eq!(s.body["status"], "COMPLETED");
    assert_eq!(s.body["progress"]["usersDone"], 3);
    assert!(s.body["expiresAt"].as_str().is_some());
    drop(worker);

    // DELETE removes it.
    assert_eq!(app.delete(&format!("/api/v1/jobs/{id}")).await.status, 204);
    assert_problem(
        &app.get(&format!("/api/v1/segments/lowBalance/{id}")).await,
        400,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_jobs_follow_the_finapi_contract_sqlite() {
    queued_jobs_follow_the_finapi_contract(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_jobs_follow_the_finapi_contract_postgres() {
    queued_jobs_follow_the_finapi_contract(Backend::Postgres).await;
}

/// Data that arrives after the job was created is not in its result.
async fn a_job_sees_the_data_as_of_its_start(backend: Backend) {
    let app = api_only(backend).await;
    seed_overdrawn(&app, &["early1", "early2"]).await;
    let id = app
        .create_job("lowBalance", json!({"threshold": -100}))
        .await;
    // After the job's start: a new overdrawn user, one user's account
    // replaced by a rich one, and a transaction.
    seed_overdrawn(&app, &["late"]).await;
    let r = app
        .put(
            "/api/v1/accounts/early2-c",
            json!({"userId": "early2", "type": "CHECKING", "currency": "EUR", "balance": "9000"}),
        )
        .await;
    assert_eq!(r.status, 200);
    app.transactions(&[(
        "t",
        "early1-c",
        finseg_server::time::today_in("Europe/Berlin"),
        "1.00",
        &[],
    )])
    .await;

    let _worker = worker_node(&app).await;
    let r = app.wait_for("lowBalance", &id).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ids: Vec<&str> = r.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["early1", "early2"]);
    assert_eq!(r.body["usersEvaluated"], 2);
    assert_eq!(
        r.body["users"][1]["accounts"][0]["amount"].to_string(),
        "-500.00"
    );
    // A job created now sees the new state.
    let now = app
        .run_segment("lowBalance", json!({"threshold": -100}))
        .await;
    let ids: Vec<&str> = now["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["early1", "late"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_sqlite() {
    a_job_sees_the_data_as_of_its_start(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_postgres() {
    a_job_sees_the_data_as_of_its_start(Backend::Postgres).await;
}

async fn idempotency_and_bad_parameters(app: TestApp) {
    seed_overdrawn(&app, &["a"]).await;
    let post = |key: &'static str, body: Value| {
        app.send(
            app.http
                .post(app.url("/api/v1/segments/highBalance"))
                .bearer_auth(&app.token)
                .header("idempotency-key", key)
                .json(&body),
        )
    };
    let first = post("k-1", json!({"threshold": 100})).await;
    let again = post("k-1", json!({"threshold": 100})).await;
    assert_eq!(first.status, 202);
    assert_eq!(again.status, 202);
    assert_eq!(first.body["jobId"], again.body["jobId"]);
    let other = post("k-2", json!({"threshold": 100})).await;
    assert_ne!(other.body["jobId"], first.body["jobId"]);
    let conflict = post("k-1", json!({"threshold": 200})).await;
    assert_problem(&conflict, 409);
    assert_eq!(
        app.get("/api/v1/jobs").await.body["paging"]["totalCount"],
        2
    );

    // Invalid parameters: 400 naming the field, and no job.
    for (segment, body, expected) in [
        ("lowBalance", json!({}), vec!["/threshold"]),
        (
            "lowBalance",
            json!({"threshold": "1,5", "durationInMonth": 0}),
            vec!["/threshold", "/durationInMonth"],
        ),
        (
            "highBalance",
            json!({"threshold": 1, "accountType": "GIRO"}),
            vec!["/accountType"],
        ),
        (
            "insurance",
            json!({"durationInMonth": 25}),
            vec!["/durationInMonth"],
        ),
        (
            "financialBreakdown",
            json!({"labelGroups": []}),
            vec!["/labelGroups"],
        ),
        (
            "lowBalance",
            json!({"threshold": 1, "callbackURL": "http://127.0.0.1:1/hook"}),
            vec!["/callbackURL"],
        ),
        (
            "lowBalance",
            json!({"threshold": 1, "callbackUrl": "ftp://example.com/x"}),
            vec!["/callbackUrl"],
        ),
    ] {
        let r = app.post(&format!("/api/v1/segments/{segment}"), body).await;
        assert_problem(&r, 400);
        assert_eq!(pointers(&r.body), expected);
    }
    assert_problem(
        &app.post("/api/v1/segments/spaceship", json!({})).await,
        404,
    );
    assert_eq!(
        app.get("/api/v1/jobs").await.body["paging"]["totalCount"],
        2
    );
}

async fn pages_ndjson_and_csv(app: TestApp) {
    let users: Vec<String> = (0..25).map(|i| format!("p{i:02}")).collect();
    let refs: Vec<&str> = users.iter().map(String::as_str).collect();
    seed_overdrawn(&app, &refs).await;
    let id = app
        .create_job("lowBalance", json!({"threshold": -100}))
        .await;
    let all = app.wait_for("lowBalance", &id).await;
    assert_eq!(all.body["users"].as_array().unwrap().len(), 25);
    assert!(all.body.get("paging").is_none());

    let page = app
        .get(&format!(
            "/api/v1/segments/lowBalance/{id}?page=3&perPage=10"
        ))
        .await;
    assert_eq!(
        page.body["paging"],
        json!({"page": 3, "perPage": 10, "pageCount": 3, "totalCount": 25})
    );
    let ids: Vec<&str> = page.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["p20", "p21", "p22", "p23", "p24"]);
    assert_problem(
        &app.get(&format!("/api/v1/segments/lowBalance/{id}?perPage=0"))
            .await,
        400,
    );

    let nd = app
        .send(
            app.http
                .get(app.url(&format!("/api/v1/segments/lowBalance/{id}")))
                .bearer_auth(&app.token)
                .header("accept", "application/x-ndjson"),
        )
        .await;
    assert_eq!(nd.content_type, "application/x-ndjson");
    let lines: Vec<Value> = nd
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 25);
    assert_eq!(lines[0]["userId"], "p00");

    let csv = app
        .send(
            app.http
                .get(app.url(&format!("/segments/lowBalance/{id}")))
                .bearer_auth(&app.token)
                .header("accept", "text/csv"),
        )
        .await;
    assert!(csv.content_type.starts_with("text/csv"));
    let rows: Vec<&str> = csv.text.lines().collect();
    assert_eq!(rows[0], "userId,accountId,accountType,lowestBalance");
    assert_eq!(rows[1], "p00,p00-c,CHECKING,-500.00");
    assert_eq!(rows.len(), 26);
}

async fn erasure_expiry_and_failure(app: TestApp) {
    seed_overdrawn(&app, &["keep", "gone"]).await;
    let r = app
        .run_segment("lowBalance", json!({"threshold": -100}))
        .await;
    let id = r["jobId"].as_str().unwrap().to_owned();
    assert_eq!(r["usersMatched"], 2);
    // A page this node has sent (and keeps) ...
    let page = format!("/api/v1/segments/lowBalance/{id}?page=1&perPage=10");
    let ids = |r: &crate::helpers::Response| -> Vec<String> {
        r.body["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["userId"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&app.get(&page).await), vec!["gone", "keep"]);
    assert_eq!(ids(&app.get(&page).await), vec!["gone", "keep"]);
    // Erasure removes the user's entry from stored results.
    assert_eq!(app.delete("/api/v1/users/gone").await.status, 204);
    // ... is not served again once a member is erased.
    assert_eq!(ids(&app.get(&page).await), vec!["keep"]);
    let r = app.get(&format!("/api/v1/segments/lowBalance/{id}")).await;
    let ids: Vec<&str> = r.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["keep"]);
    assert_eq!(r.body["usersMatched"], 1);

    // Expired results are swept and then unknown (400).
    let expiring = id.clone();
    let swept = app
        .state
        .db(move |c| {
            // Fourteen days pass for this job only (others share the database).
            c.exec(
                "UPDATE jobs SET expires_at = 1 WHERE job_id = $1",
                &[finseg_store::P::T(&expiring)],
            )?;
            finseg_store::jobs::sweep_expired(c, finseg_store::now_unix())
        })
        .await
        .unwrap();
    assert!(swept >= 1);
    assert_problem(
        &app.get(&format!("/api/v1/segments/lowBalance/{id}")).await,
        400,
    );

    // A job whose evaluation fails every attempt ends FAILED: 500 with the reason.
    let client_id = app.client_id.clone();
    let bad = app
        .state
        .db(move |c| {
            // A stored job with parameters no rule can read.
            let client_pk = finseg_store::clients::by_client_id(c, &client_id)?
                .unwrap()
                .pk;
            let created = finseg_store::jobs::create(
                c,
                &finseg_store::jobs::NewJob {
                    job_id: "00000000-0000-4000-8000-00000000bad0",
                    client_pk,
                    segment_type: "lowBalance",
                    params: "{\"threshold\": \"not a number\"}",
                    callback_url: None,
                    idempotency_key: None,
                    creation_date: 20_000,
                    partition_size: 100,
                    cut: None,
                    limits: Default::default(),
                },
            )?;
            Ok(matches!(created, finseg_store::jobs::Created::New(_)))
        })
        .await
        .unwrap();
    assert!(bad);
    app.state.work_available.notify_waiters();
    let r = app
        .wait_for("lowBalance", "00000000-0000-4000-8000-00000000bad0")
        .await;
    assert_problem(&r, 500);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("stored parameters"),
        "{}",
        r.text
    );
    let s = app
        .get("/api/v1/jobs/00000000-0000-4000-8000-00000000bad0")
        .await;
    assert_eq!(s.body["status"], "FAILED");
}

on_both_backends!(
    idempotency_and_bad_parameters,
    pages_ndjson_and_csv,
    erasure_expiry_and_failure
);

/// A result larger than one database fetch streams whole, in order, once.
async fn large_results_stream_in_pages(app: TestApp) {
    let users: Vec<String> = (0..5_003).map(|i| format!("L{i:05}")).collect();
    let refs: Vec<&str> = users.iter().map(String::as_str).collect();
    seed_overdrawn(&app, &refs).await;
    let id = app
        .create_job("lowBalance", json!({"threshold": -100}))
        .await;
    let r = app.wait_for("lowBalance", &id).await;
    assert_eq!(r.body["usersMatched"], 5_003);
    let ids: Vec<&str> = r.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, refs);
    let nd = app
        .send(
            app.http
                .get(app.url(&format!("/api/v1/segments/lowBalance/{id}")))
                .bearer_auth(&app.token)
                .header("accept", "application/x-ndjson"),
        )
        .await;
    let lines: Vec<String> = nd
        .text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["userId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(lines, users);
    // A late page reads from its offset on.
    let page = app
        .get(&format!(
            "/api/v1/segments/lowBalance/{id}?page=501&perPage=10"
        ))
        .await;
    let ids: Vec<&str> = page.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["L05000", "L05001", "L05002"]);
}

on_both_backends!(large_results_stream_in_pages);

/// Partitions are claimed fairly between clients: while one client's job
/// has a partition running, another client's newer job goes next, before
/// the first client's other partitions; on a tie the older job goes first.
async fn partitions_are_claimed_fairly_between_clients(app: TestApp) {
    let mut cfg = config(app.backend);
    if app.backend == Backend::Postgres {
        // Alone on its database: claims see every client's partitions.
        cfg.database = finseg_store::DbUrl::parse(&crate::helpers::own_postgres_url()).unwrap();
    }
    cfg.workers = 0;
    cfg.partition_size = 1;
    // Partitions of the database's users (the index would cut larger ones).
    cfg.segment_index = false;
    let app = TestApp::spawn_with(cfg, app.backend).await;
    for u in ["a1", "a2", "a3"] {
        app.user_with_account(u).await;
    }
    let (_, _, b) = app.new_client("other-bank").await;
    for u in ["b1", "b2"] {
        app.user_with_account_as(&b, u).await;
    }
    let claim = || {
        app.state.db(|c| {
            finseg_store::jobs::claim(c, "test-node", 60_000).map(|c| c.map(|c| c.job.job_id))
        })
    };
    let a_first = app.create_job("highBalance", json!({"threshold": 0})).await;
    let a_second = app.create_job("highBalance", json!({"threshold": 0})).await;
    assert_eq!(claim().await.unwrap().as_deref(), Some(a_first.as_str()));
    let r = app
        .send(
            app.http
                .post(app.url("/api/v1/segments/highBalance"))
                .bearer_auth(&b)
                .json(&json!({"threshold": 0})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let b_job = r.body["jobId"].as_str().unwrap().to_owned();
    assert_eq!(
        claim().await.unwrap().as_deref(),
        Some(b_job.as_str()),
        "the idle client first"
    );
    assert_eq!(
        claim().await.unwrap().as_deref(),
        Some(a_first.as_str()),
        "a tie: the older job"
    );
    assert_eq!(claim().await.unwrap().as_deref(), Some(b_job.as_str()));
    assert_eq!(claim().await.unwrap().as_deref(), Some(a_first.as_str()));
    assert_eq!(claim().await.unwrap().as_deref(), Some(a_second.as_str()));
}

on_both_backends!(partitions_are_claimed_fairly_between_clients);

/// A misspelt parameter is a 400 naming it and the closest valid name,
/// not a job run with the default in its place.
async fn misspelt_parameters_are_named(app: TestApp) {
    let r = app
        .post(
            "/api/v1/segments/lowBalance",
            json!({"threshold": -100, "durationInMonths": 6}),
        )
        .await;
    assert_problem(&r, 400);
    assert_eq!(pointers(&r.body), vec!["/durationInMonths"]);
    assert!(
        r.text.contains("did you mean 'durationInMonth'"),
        "{}",
        r.text
    );
    assert_eq!(app.get("/api/v1/jobs").await.body["jobs"], json!([]));
}

on_both_backends!(misspelt_parameters_are_named);

/// The job list filters by status and by segment type, and names a bad filter.
async fn jobs_are_listed_by_status_and_type(app: TestApp) {
    app.user_with_account("u1").await;
    let high = app.create_job("highBalance", json!({"threshold": 0})).await;
    app.wait_for("highBalance", &high).await;
    let low = app
        .create_job("lowBalance", json!({"threshold": 1000}))
        .await;
    app.wait_for("lowBalance", &low).await;
    let ids = |r: &crate::helpers::Response| -> Vec<String> {
        r.body["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["jobId"].as_str().unwrap().to_owned())
            .collect()
    };
    let r = app.get("/api/v1/jobs?segmentType=highBalance").await;
    assert_eq!(ids(&r), vec![high.clone()], "{}", r.text);
    assert_eq!(r.body["paging"]["totalCount"], 1, "{}", r.text);
    let r = app.get("/api/v1/jobs?status=COMPLETED").await;
    assert_eq!(ids(&r), vec![low.clone(), high.clone()]);
    let r = app
        .get("/api/v1/jobs?status=RUNNING&segmentType=lowBalance")
        .await;
    assert_eq!(ids(&r), Vec::<String>::new());
    let r = app.get("/api/v1/jobs?status=DONE&segmentType=nope").await;
    assert_problem(&r, 400);
    assert_eq!(pointers(&r.body), vec!["/status", "/segmentType"]);
}

on_both_backends!(jobs_are_listed_by_status_and_type);
