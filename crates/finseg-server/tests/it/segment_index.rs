//! The in-memory segment index answers jobs exactly as the database
//! does, and follows the data as it changes (new bookings, replaced
//! accounts, erased users).

use serde_json::{Value, json};

use crate::helpers::{TestApp, config, own_postgres_url};
use crate::on_both_backends;

/// A node with workers on `app`'s database; with or without the index.
async fn job_node(app: &TestApp, index: bool) -> TestApp {
    let mut cfg = config(app.backend);
    cfg.database = app.state.store.url().clone();
    cfg.workers = 2;
    cfg.poll_ms = 50;
    cfg.partition_size = 1;
    cfg.segment_index = index;
    cfg.index_refresh_ms = 50;
    app.second_node(cfg).await
}

fn jobs() -> Vec<(&'static str, Value)> {
    vec![
        ("lowBalance", json!({"threshold": -100})),
        (
            "lowBalance",
            json!({"threshold": 800, "durationInMonth": 2, "accountTypes": ["CHECKING", "CREDIT_CARD"]}),
        ),
        (
            "lowBalance",
            json!({"threshold": "1500.50", "durationInMonth": 12}),
        ),
        ("highBalance", json!({"threshold": 5000})),
        (
            "highBalance",
            json!({"threshold": -1000, "accountType": "CREDIT_CARD"}),
        ),
        (
            "financialBreakdown",
            json!({"labelGroups": ["INCOME", "INSURANCE", "RENTANDLIVING", "LIVING"], "durationInMonth": 4}),
        ),
        ("incomeSpendingSummary", json!({"durationInMonth": 2})),
        ("insurance", json!({"durationInMonth": 12})),
        (
            "insurance",
            json!({"durationInMonth": 3, "insuranceTypes": ["HEALTH", "CAR"], "includeUsersWithoutContracts": true}),
        ),
    ]
}

fn assert_same(a: &[Value], b: &[Value]) {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(x == y, "job {i} differs:\n{x}\n{y}");
    }
    assert_eq!(a.len(), b.len());
}

/// What a node's jobs came from, by source (counters of its /metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sources {
    /// Partitions evaluated from the index / from the database.
    index_parts: u64,
    db_parts: u64,
    /// Jobs whose users the index / the database cut into partitions.
    index_cuts: u64,
    db_cuts: u64,
}

/// Every job's result without its job id, and where it came from.
async fn run_all(node: &TestApp) -> (Vec<Value>, Sources) {
    let mut out = Vec::new();
    for (segment, params) in jobs() {
        let mut r = node.run_segment(segment, params).await;
        // What differs between two runs of the same job.
        for key in ["jobId", "expiresAt"] {
            r.as_object_mut().unwrap().remove(key);
        }
        out.push(r);
    }
    let metrics = node.get("/metrics").await.text;
    let count = |name: &str, source: &str| -> u64 {
        let key = format!("{name}{{source=\"{source}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&key))
            .unwrap()
            .parse()
            .unwrap()
    };
    let sources = Sources {
        index_parts: count("finseg_job_partitions_total", "index"),
        db_parts: count("finseg_job_partitions_total", "database"),
        index_cuts: count("finseg_job_cuts_total", "index"),
        db_cuts: count("finseg_job_cuts_total", "database"),
    };
    (out, sources)
}

fn members(results: &[Value]) -> Vec<Vec<String>> {
    results
        .iter()
        .map(|r| {
            r["users"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["userId"].as_str().unwrap().to_owned())
                .collect()
        })
        .collect()
}

async fn the_index_answers_as_the_database_does(shared: TestApp) {
    // A database of its own (other tests' nodes would take partitions of
    // these jobs). The data node runs no jobs; job nodes come and go on it.
    let backend = shared.backend;
    drop(shared);
    let mut cfg = config(backend);
    cfg.workers = 0;
    if backend == crate::helpers::Backend::Postgres {
        cfg.database = finseg_store::DbUrl::parse(&own_postgres_url()).unwrap();
    }
    let app = TestApp::spawn_with(cfg, backend).await;
    let today = finseg_server::time::today_in("Europe/Berlin");
    let population: Vec<String> = finseg_gen::Population::new(40, 11, today).collect();
    let r = app.import(&population.join("\n")).await;
    assert_eq!(r.body["rejectedCount"], 0, "{}", r.text);

    let mut reference = job_node(&app, false).await;
    let (from_db, sources) = run_all(&reference).await;
    assert_eq!(sources.index_parts, 0);
    // Without the index a job's creation reads the users' keys.
    assert_eq!((sources.index_cuts, sources.db_cuts), (0, 9));
    reference.shutdown();

    let mut indexed = job_node(&app, true).await;
    // Until its first build is done, a node evaluates from the database.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !indexed
        .get("/metrics")
        .await
        .text
        .contains("finseg_segment_index_users 40\n")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the index was not built"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Built in one read at the newest write: the index has caught up.
    let metrics = indexed.get("/metrics").await.text;
    let gauge = |name: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<i64>().ok())
    };
    let (ingest, index_seq) = (
        gauge("finseg_ingest_seq"),
        gauge("finseg_segment_index_seq"),
    );
    assert!(ingest.is_some_and(|s| s > 0), "{metrics}");
    assert_eq!(index_seq, ingest, "{metrics}");
    let (from_index, sources) = run_all(&indexed).await;
    assert_same(&from_index, &from_db);
    assert!(sources.index_parts >= 9 * 4, "{sources:?}");
    assert_eq!(sources.db_parts, 0);
    // The index cut every job's users; the counts in the results (users
    // evaluated, without data) are the database's.
    assert_eq!((sources.index_cuts, sources.db_cuts), (9, 0));
    for (i, m) in members(&from_index).iter().enumerate() {
        // The balance segments select; the flows and insurance list nearly everyone.
        assert!(!m.is_empty() && (i >= 5 || m.len() < 40), "{m:?}");
    }
    let metrics = indexed.get("/metrics").await.text;
    assert!(
        metrics.contains("finseg_segment_index_users 40\n"),
        "{metrics}"
    );

    // Changes: a member is erased, an account is replaced with another
    // balance, a large credit is booked today.
    // (One inside a partition's key range: the ranges are cut from the
    // users that exist when the job is created.)
    let low = members(&from_index)[0].clone();
    let erased = low[low.len() / 2].clone();
    let r = app.delete(&format!("/api/v1/users/{erased}")).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let rich = "demo-user-000002";
    let r = app
        .put(
            &format!("/api/v1/accounts/{rich}-checking"),
            json!({"userId": rich, "type": "CHECKING", "currency": "EUR", "balance": "999999.99",
                   "balanceDate": today.to_string(), "dataSince": "2020-01-01"}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let poor = "demo-user-000004";
    let r = app
        .post(
            "/api/v1/transactions",
            json!([{"id": "index-test-dip", "accountId": format!("{poor}-checking"), "amount": "250000.00",
                    "currency": "EUR", "bookingDate": today.to_string()}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // A new user, whom the first job's cut must include: the index
    // catches up with this write before it cuts.
    let newcomer = "index-test-newcomer";
    let r = app
        .import(
            &[
                json!({"kind": "user", "id": newcomer}).to_string(),
                json!({"kind": "account", "id": "index-test-newcomer-checking", "userId": newcomer,
                       "type": "CHECKING", "currency": "EUR", "balance": "-5000.00",
                       "balanceDate": today.to_string(), "dataSince": "2020-01-01"})
                .to_string(),
            ]
            .join("\n"),
        )
        .await;
    assert_eq!(r.body["rejectedCount"], 0, "{}", r.text);

    let (changed_index, sources) = run_all(&indexed).await;
    assert_eq!(sources.db_parts, 0);
    assert_eq!((sources.index_cuts, sources.db_cuts), (18, 0));
    indexed.shutdown();
    let mut reference = job_node(&app, false).await;
    let (changed_db, _) = run_all(&reference).await;
    reference.shutdown();
    assert_same(&changed_index, &changed_db);
    let after = members(&changed_index);
    assert!(!after[0].contains(&erased));
    assert!(after[3].contains(&rich.to_owned()));
    assert!(after[0].contains(&newcomer.to_owned()), "{:?}", after[0]);
    assert_ne!(after, members(&from_index));
    // The balance today is as reported: every earlier day was 250,000 lower.
    assert!(!members(&from_index)[0].contains(&poor.to_owned()));
    assert!(after[0].contains(&poor.to_owned()), "{:?}", after[0]);
}

on_both_backends!(the_index_answers_as_the_database_does);

/// The node that imports takes the users into its index from the parsed
/// records instead of reading them back, and its index and jobs answer as
/// the database does.
async fn a_node_indexes_its_own_import_without_reading_it_back(shared: TestApp) {
    let backend = shared.backend;
    drop(shared);
    let mut cfg = config(backend);
    cfg.workers = 2;
    cfg.poll_ms = 50;
    cfg.partition_size = 7;
    // The refresh loop stays out of the way: this test refreshes itself,
    // so that which users come from staging does not depend on timing.
    cfg.index_refresh_ms = 3_600_000;
    if backend == crate::helpers::Backend::Postgres {
        cfg.database = finseg_store::DbUrl::parse(&own_postgres_url()).unwrap();
    }
    let app = TestApp::spawn_with(cfg, backend).await;
    let id = app.client_id.clone();
    let client_pk = app
        .state
        .db(move |c| finseg_store::clients::by_client_id(c, &id))
        .await
        .unwrap()
        .unwrap()
        .pk;
    let refresh = || {
        let (indexes, store) = (app.state.indexes.clone(), app.state.store.clone());
        tokio::task::spawn_blocking(move || indexes.refresh(&store, client_pk).unwrap())
    };
    // Staging starts once the client's index is built (here: empty).
    refresh().await.unwrap();
    let today = finseg_server::time::today_in("Europe/Berlin");
    let population: Vec<String> = finseg_gen::Population::new(40, 23, today).collect();
    let r = app.import(&population.join("\n")).await;
    assert_eq!(r.body["rejectedCount"], 0, "{}", r.text);
    // The import answers once its users are staged.
    refresh().await.unwrap();
    let metrics = app.get("/metrics").await.text;
    let gauge = |name: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<i64>().ok())
    };
    assert_eq!(
        gauge("finseg_segment_index_seq"),
        gauge("finseg_ingest_seq"),
        "{metrics}"
    );
    assert_eq!(gauge("finseg_segment_index_users"), Some(40), "{metrics}");
    let loaded = |source: &str| {
        gauge(&format!(
            "finseg_segment_index_users_loaded_total{{source=\"{source}\"}}"
        ))
    };
    assert_eq!(
        (loaded("import"), loaded("database")),
        (Some(40), Some(0)),
        "{metrics}"
    );

    let (seq, ours) = app.state.indexes.users(client_pk);
    let reference = app
        .state
        .db(move |c| finseg_store::segment_index::build(c, client_pk))
        .await
        .unwrap();
    assert_eq!(seq, reference.seq());
    let theirs: Vec<_> = reference.users().map(|(pk, u)| (pk, u.clone())).collect();
    assert_eq!(ours.len(), 40);
    for (a, b) in ours.iter().zip(&theirs) {
        assert_eq!(a, b, "user {} differs", a.0);
    }

    let (from_index, sources) = run_all(&app).await;
    assert_eq!(sources.db_parts, 0, "{sources:?}");
    let mut reference = job_node(&app, false).await;
    let (from_db, _) = run_all(&reference).await;
    reference.shutdown();
    assert_same(&from_index, &from_db);
}

on_both_backends!(a_node_indexes_its_own_import_without_reading_it_back);
