//! A finseg service per test, on SQLite or PostgreSQL, bound to port 0.

use std::sync::OnceLock;

use finseg_server::{AppState, Application, Config, auth};
use finseg_store::DbUrl;
use reqwest::StatusCode;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named test function once per backend:
/// `module::test_name::sqlite` and `module::test_name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await).await
            }
        }
    )*};
}

/// One fresh PostgreSQL database per test process; tests inside it are
/// isolated by tenancy (each test has its own clients), which is what the
/// product promises anyway.
fn postgres_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| fresh_postgres_database(true)).clone()
}

/// A new, empty PostgreSQL database (for a test that must be alone on it).
pub fn own_postgres_url() -> String {
    // The shared database exists first, so that its clean-up of earlier
    // runs' databases does not race with this one.
    postgres_url();
    fresh_postgres_database(false)
}

fn fresh_postgres_database(drop_old: bool) -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    {
        let admin = std::env::var("FINSEG_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis();
        let name = format!(
            "finseg_it_{}_{now_ms}_{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let admin2 = admin.clone();
        let name2 = name.clone();
        // The synchronous client runs its own runtime: keep it off the test's.
        std::thread::spawn(move || {
            let mut c = postgres::Client::connect(&admin2, postgres::NoTls).unwrap_or_else(|e| {
                panic!("PostgreSQL at {admin2} is needed for the postgres tests: {e}")
            });
            // Databases of earlier runs that are no longer in use.
            let old: Vec<String> = c
                .query(
                    "SELECT datname FROM pg_database WHERE datname LIKE 'finseg_it_%'",
                    &[],
                )
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            // Only those of test processes that have ended (or, where
            // processes cannot be seen, an hour old): a database may have
            // been created by a process that has not connected to it yet.
            let stale = |db: &String| {
                let mut parts = db.split('_').skip(2);
                let (pid, ms) = (parts.next(), parts.next());
                match (pid, ms.and_then(|ms| ms.parse::<u128>().ok())) {
                    (Some(pid), _) if proc_fs() => process_ended(pid),
                    (_, Some(ms)) => ms + 3_600_000 < now_ms,
                    _ => false,
                }
            };
            for db in old.into_iter().filter(|db| drop_old && stale(db)) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {db}"));
            }
            c.batch_execute(&format!("CREATE DATABASE {name2}"))
                .unwrap();
        })
        .join()
        .expect("creating the test database");
        let base = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(b, _)| b)
            .to_owned();
        format!("{base}/{name}")
    }
}

/// Whether processes can be seen (Linux's /proc).
fn proc_fs() -> bool {
    std::path::Path::new("/proc/self").exists()
}

/// Whether the test process `pid` has ended (only meaningful with [`proc_fs`]).
fn process_ended(pid: &str) -> bool {
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes the data directories ended test processes left behind (a
/// test's server may still hold its files while the test ends, so each
/// run cleans up after the ended ones instead).
fn remove_stale_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    if !proc_fs() {
        return;
    }
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("finseg-it-") else {
            continue;
        };
        let pid = rest.split('-').next().unwrap_or("");
        if !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) && process_ended(pid) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn temp_dir() -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    static CLEAN: std::sync::Once = std::sync::Once::new();
    CLEAN.call_once(remove_stale_dirs);
    let dir = std::env::temp_dir().join(format!(
        "finseg-it-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn config(backend: Backend) -> Config {
    let mut cfg = Config::embedded(&temp_dir());
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    if backend == Backend::Postgres {
        cfg.database = DbUrl::parse(&postgres_url()).unwrap();
    }
    cfg
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub backend: Backend,
    pub client_id: String,
    pub client_secret: String,
    pub webhook_secret: String,
    pub token: String,
    pub state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    pub server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
    }
}

pub struct Response {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
    pub text: String,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(config(backend), backend).await
    }

    pub async fn spawn_with(cfg: Config, backend: Backend) -> TestApp {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                std::env::var("FINSEG_LOG").unwrap_or_else(|_| "warn".into()),
            ))
            .with_test_writer()
            .try_init();
        let app = Application::build(cfg).await.expect("application starts");
        let base = format!("http://{}", app.local_addr());
        let state = app.state().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run(async {
            let _ = rx.await;
        }));
        let mut t = TestApp {
            base,
            http: reqwest::Client::new(),
            backend,
            client_id: String::new(),
            client_secret: String::new(),
            webhook_secret: String::new(),
            token: String::new(),
            state,
            shutdown: Some(tx),
            server: Some(server),
        };
        let (id, secret, token) = t.new_client("test-bank").await;
        t.webhook_secret = t
            .state
            .db({
                let id = id.clone();
                move |c| finseg_store::clients::by_client_id(c, &id)
            })
            .await
            .unwrap()
            .unwrap()
            .webhook_secret;
        t.client_id = id;
        t.client_secret = secret;
        t.token = token;
        t
    }

    /// Another service on the same database, acting for the same client.
    pub async fn second_node(&self, cfg: Config) -> TestApp {
        let app = Application::build(cfg).await.expect("application starts");
        let base = format!("http://{}", app.local_addr());
        let state = app.state().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run(async {
            let _ = rx.await;
        }));
        TestApp {
            base,
            http: reqwest::Client::new(),
            backend: self.backend,
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            webhook_secret: self.webhook_secret.clone(),
            token: self.token.clone(),
            state,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    /// Creates a segment job and returns its id.
    pub async fn create_job(&self, segment: &str, params: Value) -> String {
        let r = self
            .post(&format!("/api/v1/segments/{segment}"), params)
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        r.body["jobId"].as_str().unwrap().to_owned()
    }

    /// Polls the result until the job is done; returns the final answer.
    pub async fn wait_for(&self, segment: &str, job_id: &str) -> Response {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let r = self
                .get(&format!("/api/v1/segments/{segment}/{job_id}"))
                .await;
            let pending =
                r.status == 404 && matches!(r.body["status"].as_str(), Some("QUEUED" | "RUNNING"));
            if !pending || std::time::Instant::now() > deadline {
                return r;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Creates a job and waits for its result (200 expected).
    pub async fn run_segment(&self, segment: &str, params: Value) -> Value {
        let id = self.create_job(segment, params).await;
        let r = self.wait_for(segment, &id).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    }

    /// Writes transactions given as (id, account, day, amount, labels).
    pub async fn transactions(&self, txs: &[(&str, &str, finseg_core::Date, &str, &[&str])]) {
        let body: Vec<Value> = txs
            .iter()
            .map(|(id, acc, day, amount, labels)| {
                serde_json::json!({"id": id, "accountId": acc, "amount": amount, "currency": "EUR",
                    "bookingDate": day.to_string(), "labels": labels})
            })
            .collect();
        let r = self.post("/api/v1/transactions", Value::Array(body)).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }

    /// An account of `user` (created if needed) with a balance at a date.
    pub async fn account(
        &self,
        user: &str,
        id: &str,
        kind: &str,
        balance: &str,
        date: finseg_core::Date,
        since: Option<finseg_core::Date>,
    ) {
        let r = self
            .put(&format!("/api/v1/users/{user}"), serde_json::json!({}))
            .await;
        assert!(r.status.is_success(), "{}", r.text);
        let mut body = serde_json::json!({"userId": user, "type": kind, "currency": "EUR", "balance": balance, "balanceDate": date.to_string()});
        if let Some(s) = since {
            body["dataSince"] = s.to_string().into();
        }
        let r = self.put(&format!("/api/v1/accounts/{id}"), body).await;
        assert!(r.status.is_success(), "{}", r.text);
    }

    pub fn shutdown(&mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
    }

    /// Creates another client (tenant) and returns its id, secret and a token.
    pub async fn new_client(&self, name: &str) -> (String, String, String) {
        let name = name.to_owned();
        let creds = self
            .state
            .db(move |c| auth::create_client(c, &name, "Europe/Berlin"))
            .await
            .expect("client created");
        let res = self
            .http
            .post(format!("{}/oauth/token", self.base))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", creds.client_id.as_str()),
                ("client_secret", creds.client_secret.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let v: Value = res.json().await.unwrap();
        (
            creds.client_id,
            creds.client_secret,
            v["access_token"].as_str().unwrap().to_owned(),
        )
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Response {
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let content_type = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Response {
            status,
            content_type,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.get_as(&self.token, path).await
    }

    pub async fn get_as(&self, token: &str, path: &str) -> Response {
        self.send(self.http.get(self.url(path)).bearer_auth(token))
            .await
    }

    pub async fn put(&self, path: &str, body: Value) -> Response {
        self.put_as(&self.token, path, body).await
    }

    pub async fn put_as(&self, token: &str, path: &str, body: Value) -> Response {
        self.send(self.http.put(self.url(path)).bearer_auth(token).json(&body))
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.post_as(&self.token, path, body).await
    }

    pub async fn post_as(&self, token: &str, path: &str, body: Value) -> Response {
        self.send(
            self.http
                .post(self.url(path))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.delete_as(&self.token, path).await
    }

    pub async fn delete_as(&self, token: &str, path: &str) -> Response {
        self.send(self.http.delete(self.url(path)).bearer_auth(token))
            .await
    }

    pub async fn import(&self, ndjson: &str) -> Response {
        self.import_as(&self.token, ndjson).await
    }

    pub async fn import_as(&self, token: &str, ndjson: &str) -> Response {
        self.send(
            self.http
                .post(self.url("/api/v1/import"))
                .bearer_auth(token)
                .header("content-type", "application/x-ndjson")
                .body(ndjson.to_owned()),
        )
        .await
    }

    /// A user with one EUR checking account `{user}-acc`.
    pub async fn user_with_account(&self, user: &str) {
        self.user_with_account_as(&self.token, user).await;
    }

    pub async fn user_with_account_as(&self, token: &str, user: &str) {
        let r = self
            .put_as(
                token,
                &format!("/api/v1/users/{user}"),
                serde_json::json!({}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.text);
        let r = self
            .put_as(
                token,
                &format!("/api/v1/accounts/{user}-acc"),
                serde_json::json!({"userId": user, "type": "CHECKING", "currency": "EUR", "balance": "100.00", "balanceDate": "2026-11-01"}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.text);
    }
}

/// The pointers of a problem document's `errors`.
pub fn pointers(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["pointer"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts an RFC 9457 problem document with the given status.
pub fn assert_problem(r: &Response, status: u16) {
    assert_eq!(r.status.as_u16(), status, "{}", r.text);
    assert_eq!(r.content_type, "application/problem+json", "{}", r.text);
    assert_eq!(r.body["status"], status);
    assert!(
        r.body["type"].is_string() && r.body["title"].is_string() && r.body["detail"].is_string()
    );
}
