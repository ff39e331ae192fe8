//! Process-level durability: `kill -9` of `finseg serve` in the middle of a
//! job or of a named import, and two nodes on PostgreSQL of which one dies
//! mid-job.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_finseg"));
    c.env_remove("FINSEG_DATABASE_URL")
        .env("FINSEG_LOG", "warn");
    c
}

/// Where a test's data lives: a data directory, or a PostgreSQL URL.
#[derive(Clone)]
struct Db {
    dir: std::path::PathBuf,
    url: Option<String>,
}

impl Db {
    fn apply(&self, c: &mut Command) {
        c.env("FINSEG_DATA_DIR", &self.dir);
        if let Some(u) = &self.url {
            c.env("FINSEG_DATABASE_URL", u);
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Node {
    child: Child,
    base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(db: &Db, name: &str) -> Node {
    let port = free_port();
    let mut c = bin();
    db.apply(&mut c);
    c.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("FINSEG_WORKERS", "1")
        .env("FINSEG_PARTITION_SIZE", "4")
        .env("FINSEG_JOB_LEASE_MS", "1500")
        .env("FINSEG_POLL_MS", "50")
        .env("FINSEG_NODE_ID", name)
        // Jobs read the database: from the segment index this small job
        // would be over before it could be killed in the middle.
        .env("FINSEG_NO_SEGMENT_INDEX", "true")
        .stdout(Stdio::null());
    // The node is killed and waited for when dropped.
    let node = Node {
        child: c.spawn().unwrap(),
        base: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if reqwest::get(format!("{}/health", node.base))
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return node;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{name} did not become healthy");
}

/// Creates a client and loads a generated population through the CLI.
fn load_population(db: &Db, users: u32) -> (String, String) {
    let mut c = bin();
    db.apply(&mut c);
    let out = crate::stdout_of(c.args(["clients", "create", "--name", "durability", "--json"]));
    let creds: Value = serde_json::from_slice(&out).unwrap();
    let file = db.dir.join("population.ndjson");
    let generated = bin()
        .args(["generate", "--users", &users.to_string(), "--seed", "11"])
        .output()
        .unwrap();
    std::fs::write(&file, generated.stdout).unwrap();
    let mut c = bin();
    db.apply(&mut c);
    crate::stdout_of(
        c.args([
            "import",
            "--client",
            creds["clientId"].as_str().unwrap(),
            "--format",
            "ndjson",
        ])
        .arg(&file),
    );
    (
        creds["clientId"].as_str().unwrap().to_owned(),
        creds["clientSecret"].as_str().unwrap().to_owned(),
    )
}

async fn token(base: &str, id: &str, secret: &str) -> String {
    let v: Value = reqwest::Client::new()
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["access_token"].as_str().unwrap().to_owned()
}

async fn get(base: &str, token: &str, path: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn create_job(base: &str, token: &str) -> String {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/segments/lowBalance"))
        .bearer_auth(token)
        .json(&json!({"threshold": -100, "durationInMonth": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    r.json::<Value>().await.unwrap()["jobId"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Waits until some partitions are done but not all; returns (done, total).
async fn wait_mid_job(base: &str, token: &str, id: &str) -> (i64, i64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, s) = get(base, token, &format!("/api/v1/jobs/{id}")).await;
        let done = s["progress"]["partitionsDone"].as_i64().unwrap_or(0);
        let total = s["progress"]["partitionsTotal"].as_i64().unwrap_or(0);
        if done >= 3 {
            return (done, total);
        }
        assert!(Instant::now() < deadline, "job made no progress: {s}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn wait_result(base: &str, token: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (status, v) = get(base, token, &format!("/api/v1/segments/lowBalance/{id}")).await;
        if status == 200 {
            return v;
        }
        assert_eq!(status, 404, "{v}");
        assert!(Instant::now() < deadline, "job did not finish: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The parts of two results that must agree.
fn same_result(a: &Value, b: &Value) {
    for k in [
        "usersEvaluated",
        "usersMatched",
        "usersWithoutData",
        "periodFrom",
        "periodTo",
        "users",
    ] {
        assert_eq!(a[k], b[k], "{k} differs");
    }
    assert!(a["usersMatched"].as_i64().unwrap() > 0);
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("finseg-proc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_job_then_restart_completes_with_the_same_result() {
    let db = Db {
        dir: temp_dir("kill9"),
        url: None,
    };
    let (id, secret) = load_population(&db, 1200);
    let mut node = start(&db, "first").await;
    let t = token(&node.base, &id, &secret).await;
    let job = create_job(&node.base, &t).await;
    let (done, total) = wait_mid_job(&node.base, &t, &job).await;
    node.child.kill().unwrap(); // SIGKILL
    node.child.wait().unwrap();
    assert!(
        done < total,
        "the job finished before the kill ({done}/{total}); the test needs a slower job"
    );

    let node = start(&db, "restarted").await;
    let interrupted = wait_result(&node.base, &t, &job).await;
    let (_, s) = get(&node.base, &t, &format!("/api/v1/jobs/{job}")).await;
    assert_eq!(s["progress"]["partitionsDone"], total);
    // An uninterrupted run over the same data.
    let reference = create_job(&node.base, &t).await;
    let reference = wait_result(&node.base, &t, &reference).await;
    same_result(&interrupted, &reference);
}

fn postgres_admin_url() -> String {
    std::env::var("FINSEG_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_postgres_one_killed_mid_job() {
    let admin = postgres_admin_url();
    let name = format!("finseg_proc_{}", std::process::id());
    let (a2, n2) = (admin.clone(), name.clone());
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&a2, postgres::NoTls)
            .expect("PostgreSQL for the two-node test");
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {n2}"))
            .unwrap();
        c.batch_execute(&format!("CREATE DATABASE {n2}")).unwrap();
    })
    .join()
    .unwrap();
    let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    let db = Db {
        dir: temp_dir("pg"),
        url: Some(url),
    };
    let (id, secret) = load_population(&db, 1200);
    let mut a = start(&db, "node-a").await;
    let b = start(&db, "node-b").await;
    let t = token(&a.base, &id, &secret).await;
    let job = create_job(&a.base, &t).await;
    let (done, total) = wait_mid_job(&a.base, &t, &job).await;
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    assert!(
        done < total,
        "the job finished before the kill ({done}/{total})"
    );

    let result = wait_result(&b.base, &t, &job).await;
    let reference = create_job(&b.base, &t).await;
    let reference = wait_result(&b.base, &t, &reference).await;
    same_result(&result, &reference);
    drop(b);
    let n3 = name.clone();
    std::thread::spawn(move || {
        if let Ok(mut c) = postgres::Client::connect(&admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {n3} WITH (FORCE)"));
        }
    })
    .join()
    .unwrap();
}

/// A named import killed with the server (`kill -9`) in the middle of its
/// body: after the restart its progress tells how far it is committed, and
/// sending the rest from the next line completes it with nothing lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_import_then_resume_from_the_committed_line() {
    use std::io::Write;
    let db = Db {
        dir: temp_dir("kill9-import"),
        url: None,
    };
    let mut c = bin();
    db.apply(&mut c);
    let creds: Value = serde_json::from_slice(&crate::stdout_of(
        c.args(["clients", "create", "--name", "resume", "--json"]),
    ))
    .unwrap();
    let (id, secret) = (
        creds["clientId"].as_str().unwrap(),
        creds["clientSecret"].as_str().unwrap(),
    );
    let n = 60_000usize;
    let mut lines = vec![
        r#"{"kind":"user","id":"k"}"#.to_owned(),
        r#"{"kind":"account","id":"k-acc","userId":"k","type":"CHECKING","currency":"EUR","balance":"0"}"#.to_owned(),
    ];
    lines.extend((0..n).map(|i| {
        format!(
            r#"{{"kind":"transaction","id":"k{i}","accountId":"k-acc","amount":"-1.00","currency":"EUR","bookingDate":"2026-10-0{}"}}"#,
            1 + i % 9
        )
    }));
    let mut node = start(&db, "first").await;
    let t = token(&node.base, id, secret).await;
    // The body is sent in part and never ended: the server holds the rest
    // of it open when it is killed.
    let addr = node.base.trim_start_matches("http://").to_owned();
    let head = format!(
        "POST /api/v1/import?importId=k-1 HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {t}\r\n\
         Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let sent = lines[..50_000].join("\n") + "\n";
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    write!(stream, "{:x}\r\n", sent.len()).unwrap();
    stream.write_all(sent.as_bytes()).unwrap();
    stream.write_all(b"\r\n").unwrap();
    stream.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let through = loop {
        let (status, p) = get(&node.base, &t, "/api/v1/imports/k-1").await;
        let through = p["committedThroughLine"].as_u64().unwrap_or(0);
        if status == 200 && through >= 40_000 {
            break through;
        }
        assert!(
            Instant::now() < deadline,
            "the import made no progress: {p}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    node.child.kill().unwrap(); // SIGKILL
    node.child.wait().unwrap();
    drop(stream);

    let node = start(&db, "restarted").await;
    let (status, p) = get(&node.base, &t, "/api/v1/imports/k-1").await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["status"], "RUNNING", "{p}");
    let committed = p["committedThroughLine"].as_u64().unwrap();
    assert!(committed >= through && committed <= 50_000, "{p}");
    let (_, account) = get(&node.base, &t, "/api/v1/accounts/k-acc").await;
    assert!(account["transactionCount"].as_u64().unwrap() >= committed - 2);
    let rest = lines[committed as usize..].join("\n");
    let r = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/import?importId=k-1&firstLine={}",
            node.base,
            committed + 1
        ))
        .bearer_auth(&t)
        .header("content-type", "application/x-ndjson")
        .body(rest)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, p) = get(&node.base, &t, "/api/v1/imports/k-1").await;
    assert_eq!(p["status"], "COMPLETED", "{p}");
    assert_eq!(p["committedThroughLine"], n as u64 + 2, "{p}");
    let (_, account) = get(&node.base, &t, "/api/v1/accounts/k-acc").await;
    assert_eq!(
        account["transactionCount"], n as u64,
        "nothing lost: {account}"
    );
}
