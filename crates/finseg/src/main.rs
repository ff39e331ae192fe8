//! `finseg`: one binary with roles chosen by subcommand.
// Only the global allocator (`allocator`) is `unsafe`.
#![deny(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// mimalloc instead of glibc's allocator: segment jobs allocate and free
/// many small rows, and glibc spent about 40% of a job's time in malloc,
/// free and page faults from trimming and regrowing its heap (docs/BENCHMARKS.md).
/// Built without transparent huge pages: with them, a million users'
/// segment index held about 75 MB more resident memory. Shrinking
/// reallocations move (see [`allocator`]).
#[global_allocator]
static ALLOCATOR: allocator::CompactingMiMalloc = allocator::CompactingMiMalloc;

#[allow(unsafe_code)]
mod allocator;

mod eval;
mod export;

use clap::{Args, Parser, Subcommand};
use finseg_server::{Application, Config, auth, ingest, statements_api, time};
use finseg_store::{DbUrl, Store};

#[derive(Parser)]
#[command(
    name = "finseg",
    version,
    about = "Self-hosted financial segmentation service"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Global {
    /// Directory of the embedded SQLite database.
    #[arg(
        long,
        env = "FINSEG_DATA_DIR",
        default_value = "./finseg-data",
        global = true
    )]
    data_dir: PathBuf,
    /// `postgres://…` selects PostgreSQL, `sqlite://FILE` a given SQLite file.
    #[arg(long, env = "FINSEG_DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Default time zone of new clients.
    #[arg(
        long,
        env = "FINSEG_TIME_ZONE",
        default_value = "Europe/Berlin",
        global = true
    )]
    time_zone: String,
    /// Log format: `text` or `json`.
    #[arg(long, env = "FINSEG_LOG_FORMAT", default_value = "text", global = true)]
    log_format: String,
}

/// What only a running service needs (`serve`, `demo`).
#[derive(Args, Clone)]
struct ServerArgs {
    /// Address and port to listen on.
    #[arg(long, env = "FINSEG_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Lifetime of access tokens, in seconds.
    #[arg(long, env = "FINSEG_TOKEN_TTL", default_value_t = 3600)]
    token_ttl: i64,
    /// Partition workers in this process (0: serve the API only).
    #[arg(long, env = "FINSEG_WORKERS")]
    workers: Option<usize>,
    /// Lease of a claimed partition, in milliseconds.
    #[arg(long, env = "FINSEG_JOB_LEASE_MS", default_value_t = 30_000)]
    job_lease_ms: i64,
    /// Users per job partition.
    #[arg(long, env = "FINSEG_PARTITION_SIZE", default_value_t = 1_000)]
    partition_size: usize,
    /// How often idle workers look for jobs created on other nodes, in milliseconds.
    #[arg(long, env = "FINSEG_POLL_MS", default_value_t = 500)]
    poll_ms: u64,
    /// Allow callbacks to loopback, private and link-local addresses.
    #[arg(long, env = "FINSEG_ALLOW_PRIVATE_CALLBACKS")]
    allow_private_callbacks: bool,
    /// First retry delay of a failed callback, in milliseconds (doubles per attempt).
    #[arg(long, env = "FINSEG_CALLBACK_RETRY_MS", default_value_t = 10_000)]
    callback_retry_ms: i64,
    /// Base URL of this service in callback bodies (default http://LISTEN).
    #[arg(long, env = "FINSEG_PUBLIC_URL")]
    public_url: Option<String>,
    /// Evaluate balance jobs from the database only, without the in-memory segment index.
    #[arg(long, env = "FINSEG_NO_SEGMENT_INDEX")]
    no_segment_index: bool,
    /// How often the segment index catches up with the database, in milliseconds.
    #[arg(long, env = "FINSEG_INDEX_REFRESH_MS", default_value_t = 1_000)]
    index_refresh_ms: u64,
    /// Jobs one client may have queued or running at once (more: 429).
    #[arg(long, env = "FINSEG_MAX_ACTIVE_JOBS", default_value_t = 16)]
    max_active_jobs: i64,
    /// Finished results one client may keep at once (more jobs: 429 until some are deleted or expire).
    #[arg(long, env = "FINSEG_MAX_STORED_RESULTS", default_value_t = 1_000)]
    max_stored_results: i64,
    /// Members over all results one client keeps at once (more jobs: 429).
    #[arg(long, env = "FINSEG_MAX_STORED_MEMBERS", default_value_t = 50_000_000)]
    max_stored_members: i64,
    /// Failed token requests per minute that one client id, or one source
    /// address, may make before further attempts get 429.
    #[arg(long, env = "FINSEG_TOKEN_FAILURES_PER_MINUTE", default_value_t = 10)]
    token_failures_per_minute: u32,
    /// Large writes (JSON batches, bulk imports, statement files) one client
    /// may have running or waiting at once before further ones get 429.
    #[arg(long, env = "FINSEG_MAX_CONCURRENT_WRITES", default_value_t = 4)]
    max_concurrent_writes: usize,
    /// This node's name in partition leases (default: host name and random bits).
    #[arg(long, env = "FINSEG_NODE_ID")]
    node_id: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service.
    Serve {
        /// Also load the demo population (as `finseg demo`).
        #[arg(long)]
        demo: bool,
        #[command(flatten)]
        population: PopulationArgs,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Run the service with a deterministic demo population and print a token.
    Demo {
        #[command(flatten)]
        population: PopulationArgs,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Manage clients (tenants).
    Clients {
        #[command(subcommand)]
        command: ClientsCommand,
    },
    /// Import a file for a client, through the same path as the HTTP API.
    Import {
        /// The client's id (`fsc_…`).
        #[arg(long)]
        client: String,
        /// The account a statement file belongs to (statement formats only).
        #[arg(long)]
        account: Option<String>,
        /// `ndjson` (the bulk format); statement formats: camt053, mt940, csv.
        #[arg(long, default_value = "ndjson")]
        format: String,
        /// CSV: a built-in column mapping (sparkasse, dkb, ing, commerzbank, deutsche-bank, finseg).
        #[arg(long)]
        preset: Option<String>,
        /// CSV: a JSON file with the column mapping.
        #[arg(long)]
        mapping: Option<PathBuf>,
        file: PathBuf,
    },
    /// Re-apply the labelling rules to a client's stored transactions.
    Relabel {
        /// The client's id (`fsc_…`).
        #[arg(long)]
        client: String,
    },
    /// What labelling covers of a client's data, per label group, and the
    /// largest unlabelled counterparts and creditor ids (JSON, as the API's
    /// `GET /api/v1/labels/coverage`).
    Coverage {
        /// The client's id (`fsc_…`).
        #[arg(long)]
        client: String,
        /// How many unlabelled counterparts and creditor ids each ranking lists (1–100).
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=100))]
        top: u16,
    },
    /// Write a client's data as CSV files (accounts, transactions with labels,
    /// daily balances, label groups) into a directory.
    Export {
        /// The client's id (`fsc_…`).
        #[arg(long)]
        client: String,
        /// The directory to write into (created if needed).
        #[arg(long)]
        out: PathBuf,
    },
    /// Score labelling and contract detection against the labelled corpus.
    Eval {
        /// `heldout` (the part rule authors do not read), `dev` or `all`.
        #[arg(long, default_value = "heldout")]
        split: String,
        /// `synthetic` (eval/corpus, the project's own), `external` (eval/external,
        /// real statement lines from public sources) or a corpus directory.
        #[arg(long, default_value = "synthetic")]
        corpus: String,
        /// List the lines and contracts that did not match (for rule authors: the dev split).
        #[arg(long)]
        explain: bool,
    },
    /// Benchmark: labelling throughput on one core over a generated population.
    BenchLabelling {
        #[command(flatten)]
        population: PopulationArgs,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Write a generated population as NDJSON (the bulk import format) to stdout.
    Generate {
        #[command(flatten)]
        population: PopulationArgs,
    },
}

#[derive(Args, Clone, Copy)]
struct PopulationArgs {
    /// Number of users of the generated population.
    #[arg(long, default_value_t = 1000)]
    users: u64,
    /// Seed: the same seed gives the same population.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

#[derive(Subcommand)]
enum ClientsCommand {
    /// Create a client and print its credentials (shown once).
    Create {
        #[arg(long)]
        name: String,
        /// Print exactly one JSON object {"clientId","clientSecret","webhookSecret"}.
        #[arg(long)]
        json: bool,
    },
    /// Delete a client: its tokens stop working (on every node within a
    /// few seconds) and its data, rules, jobs and results are erased.
    Delete {
        /// The client's id (as printed by `clients create`).
        #[arg(long)]
        client: String,
    },
}

impl Global {
    fn database(&self) -> Result<DbUrl, String> {
        match &self.database_url {
            Some(u) => DbUrl::parse(u).map_err(|e| e.to_string()),
            None => Ok(DbUrl::in_data_dir(&self.data_dir)),
        }
    }

    /// The configuration of a command that uses the database but serves
    /// nothing: the defaults with this database and time zone.
    fn config(&self) -> Result<Config, String> {
        Ok(Config {
            database: self.database()?,
            time_zone: self.time_zone.clone(),
            ..Config::embedded(&self.data_dir)
        })
    }
}

impl ServerArgs {
    fn config(&self, g: &Global) -> Result<Config, String> {
        let defaults = Config::embedded(&g.data_dir);
        Ok(Config {
            listen: self.listen,
            database: g.database()?,
            time_zone: g.time_zone.clone(),
            token_ttl_secs: self.token_ttl,
            node_id: self.node_id.clone().unwrap_or(defaults.node_id),
            workers: self.workers.unwrap_or(defaults.workers),
            job_lease_ms: self.job_lease_ms,
            partition_size: self.partition_size.max(1),
            poll_ms: self.poll_ms,
            allow_private_callbacks: self.allow_private_callbacks,
            callback_retry_base_ms: self.callback_retry_ms,
            public_url: self.public_url.clone(),
            segment_index: !self.no_segment_index,
            index_refresh_ms: self.index_refresh_ms,
            job_limits: finseg_store::jobs::JobLimits {
                active: self.max_active_jobs.max(1),
                stored: self.max_stored_results.max(1),
                stored_members: self.max_stored_members.max(1),
            },
            token_failures_per_minute: self.token_failures_per_minute.max(1),
            writes_per_client: self.max_concurrent_writes.max(1),
        })
    }
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FINSEG_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: a log file or collector gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> std::process::ExitCode {
    allocator::route_sqlite_to_mimalloc();
    allocator::keep_freed_memory();
    let cli = Cli::parse();
    init_logging(&cli.global.log_format);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Database calls run on blocking threads and wait for one of a few
        // pooled connections: more threads would only wait, each with an
        // allocator heap of its own (512 by default).
        .max_blocking_threads(64)
        .build()
        .expect("tokio runtime");
    match rt.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("finseg: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let g = cli.global;
    match cli.command {
        Command::Serve {
            demo,
            population,
            server,
        } => serve(server.config(&g)?, demo.then_some(population)).await,
        Command::Demo { population, server } => serve(server.config(&g)?, Some(population)).await,
        Command::Clients {
            command: ClientsCommand::Create { name, json },
        } => {
            let store = open_store(&g).await?;
            let tz = g.time_zone.clone();
            if time::zone(&tz).is_none() {
                return Err(format!("unknown time zone '{tz}'"));
            }
            let creds = tokio::task::spawn_blocking(move || {
                let mut c = store.conn()?;
                auth::create_client(&mut *c, &name, &tz)
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
            if json {
                println!("{}", serde_json::to_string(&creds).expect("serialisable"));
            } else {
                println!("client_id:      {}", creds.client_id);
                println!("client_secret:  {}", creds.client_secret);
                println!("webhook_secret: {}", creds.webhook_secret);
                println!(
                    "(the secrets are shown only now; finseg keeps only a hash of the client secret)"
                );
            }
            Ok(())
        }
        Command::Clients {
            command: ClientsCommand::Delete { client },
        } => {
            let store = open_store(&g).await?;
            let id = client.clone();
            let deleted = tokio::task::spawn_blocking(move || {
                let mut c = store.conn()?;
                finseg_store::conn::in_transaction(&mut *c, |c| {
                    finseg_store::clients::delete(c, &id)
                })
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
            if !deleted {
                return Err(no_client(&client, &g.database()?));
            }
            println!("deleted client {client}");
            Ok(())
        }
        Command::Import {
            client,
            account,
            format,
            preset,
            mapping,
            file,
        } => {
            let options = ImportOptions {
                account: account.as_deref(),
                format: &format,
                preset,
                mapping: mapping.as_deref(),
            };
            import_file(&g, &client, options, &file).await
        }
        Command::Coverage { client, top } => {
            let store = open_store(&g).await?;
            let report = tokio::task::spawn_blocking(move || {
                let mut c = store.conn().map_err(|e| e.to_string())?;
                let client_pk = client_pk(&store, &mut *c, &client)?;
                finseg_store::coverage::of(&mut *c, client_pk, usize::from(top))
                    .map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| e.to_string())??;
            println!(
                "{}",
                serde_json::to_string_pretty(&finseg_server::labels_api::coverage_json(&report))
                    .expect("serialisable")
            );
            Ok(())
        }
        Command::Relabel { client } => {
            let store = open_store(&g).await?;
            let done = tokio::task::spawn_blocking(move || {
                let mut c = store.conn().map_err(|e| e.to_string())?;
                let client_pk = client_pk(&store, &mut *c, &client)?;
                drop(c);
                finseg_store::relabel::relabel(&store, client_pk, 2_000).map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| e.to_string())??;
            println!(
                "{}",
                serde_json::to_string(&finseg_server::wire::Relabelled::from(done))
                    .expect("serialisable")
            );
            Ok(())
        }
        Command::Export { client, out } => {
            let store = open_store(&g).await?;
            let done = tokio::task::spawn_blocking(move || {
                let mut c = store.conn().map_err(|e| e.to_string())?;
                let client_pk = client_pk(&store, &mut *c, &client)?;
                export::export(&mut *c, client_pk, &out)
            })
            .await
            .map_err(|e| e.to_string())??;
            println!(
                "{}",
                serde_json::json!({"accounts": done.accounts, "transactions": done.transactions,
                    "dailyBalances": done.daily_balances})
            );
            Ok(())
        }
        Command::Eval {
            split,
            corpus,
            explain,
        } => {
            let (path, kind) = eval::resolve(&corpus)?;
            print!("{}", eval::run(&path, kind, &split, explain)?);
            Ok(())
        }
        Command::BenchLabelling { population } => {
            println!("{}", bench_labelling(population, &g.time_zone));
            Ok(())
        }
        Command::Openapi => {
            println!("{}", finseg_server::docs::OPENAPI.trim_end());
            Ok(())
        }
        Command::Generate { population } => {
            use std::io::Write as _;
            let today = time::today_in(&g.time_zone);
            let out = std::io::stdout();
            let mut out = std::io::BufWriter::with_capacity(1 << 20, out.lock());
            for line in finseg_gen::Population::new(population.users, population.seed, today) {
                out.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
                out.write_all(b"\n").map_err(|e| e.to_string())?;
            }
            out.flush().map_err(|e| e.to_string())
        }
    }
}

/// Parses the population first (not timed), then labels every transaction
/// on this thread with the default rules, three times; reports the best round.
fn bench_labelling(pop: PopulationArgs, time_zone: &str) -> String {
    use finseg_core::labelling::{Labeller, Scratch, signals};
    use finseg_core::record::Record;
    let today = time::today_in(time_zone);
    let records: Vec<_> = finseg_gen::Population::new(pop.users, pop.seed, today)
        .filter_map(|l| match finseg_core::input::bulk_record(&l) {
            Ok(Record::Transaction(t)) => Some(t),
            _ => None,
        })
        .collect();
    let labeller = Labeller::default();
    let mut scratch = Scratch::default();
    let mut best = f64::MAX;
    let mut labelled = 0usize;
    for _ in 0..3 {
        let start = std::time::Instant::now();
        labelled = 0;
        for t in &records {
            let (set, _) = labeller.apply(&signals(t), &mut scratch);
            labelled += usize::from(set != finseg_core::labels::LabelSet::default());
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    format!(
        "labelled {} transactions ({} with at least one label) in {:.3} s on one core: {:.0} transactions/s (target 1,000,000)",
        records.len(),
        labelled,
        best,
        records.len() as f64 / best
    )
}

/// The key of the client with this id (`fsc_…`), or an error naming it
/// and the database looked in.
fn client_pk(
    store: &Store,
    c: &mut dyn finseg_store::Conn,
    client_id: &str,
) -> Result<i64, String> {
    finseg_store::clients::by_client_id(c, client_id)
        .map_err(|e| e.to_string())?
        .map(|row| row.pk)
        .ok_or_else(|| no_client(client_id, store.url()))
}

/// A client id unknown to the database: which database, since a command
/// run from another folder (or without `--data-dir`) opens another one.
fn no_client(client_id: &str, db: &DbUrl) -> String {
    format!(
        "no client '{client_id}' in {} (set --data-dir or --database-url to the service's database)",
        db.redacted()
    )
}

async fn open_store(g: &Global) -> Result<Arc<Store>, String> {
    let url = g.database()?;
    tokio::task::spawn_blocking(move || Store::open(url))
        .await
        .map_err(|e| e.to_string())?
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

async fn serve(config: Config, demo: Option<PopulationArgs>) -> Result<(), String> {
    let app = Application::build(config)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(pop) = demo {
        load_demo(&app, pop).await?;
    }
    app.run(finseg_server::shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

/// Creates the demo client, loads the population once, and prints how to try it.
async fn load_demo(app: &Application, pop: PopulationArgs) -> Result<(), String> {
    let state = app.state().clone();
    let tz = state.config.time_zone.clone();
    let ttl = state.config.token_ttl_secs;
    let (client, creds, rotated, token, counts) = state
        .db(move |c| {
            let (client, creds, rotated) = auth::demo_client(c, &tz)?;
            let token = auth::issue_token(c, client.pk, ttl)?;
            let counts = finseg_store::data::client_counts(c, client.pk)?;
            Ok((client, creds, rotated, token, counts))
        })
        .await
        .map_err(|p| p.detail)?;
    let (users, accounts, transactions) = if counts.0 == 0 {
        let today = time::today_in(&client.time_zone);
        eprintln!(
            "loading the demo population ({} users, seed {}) …",
            pop.users, pop.seed
        );
        let started = std::time::Instant::now();
        let lines = finseg_gen::Population::new(pop.users, pop.seed, today);
        let stream = futures_util::stream::iter(
            finseg_gen::chunks(lines, 1 << 20).map(|c| Ok(bytes::Bytes::from(c))),
        );
        let summary = ingest::import_ndjson(
            &state,
            client.pk,
            today,
            finseg_import::ImportRun::default(),
            stream,
        )
        .await
        .map_err(|p| p.detail)?;
        eprintln!(
            "loaded {} transactions in {:.1} s",
            summary.written.transaction,
            started.elapsed().as_secs_f64()
        );
        (
            summary.written.user as i64,
            summary.written.account as i64,
            summary.written.transaction as i64,
        )
    } else {
        counts
    };
    let base = format!("http://{}", app.local_addr());
    println!(
        r#"
finseg demo is ready: {users} users, {accounts} accounts, {transactions} transactions.

  client_id:     {cid}
  client_secret: {secret}{rotated}
  access token:  {token}   (valid {ttl} s)

Try it:
  export TOKEN={token}
  curl -s {base}/health
  curl -s -H "Authorization: Bearer $TOKEN" {base}/api/v1/users/demo-user-000001
  curl -s -H "Authorization: Bearer $TOKEN" {base}/api/v1/users/demo-user-000001/accounts
  curl -s -H "Authorization: Bearer $TOKEN" "{base}/api/v1/accounts/demo-user-000001-checking/transactions?perPage=5"
  curl -s -X POST {base}/oauth/token -d grant_type=client_credentials -d client_id={cid} -d client_secret={secret}

Segments (POST creates a job and answers {{"jobId"}}; GET the result with that id):
  curl -s -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' {base}/api/v1/segments/lowBalance -d '{{"threshold": -100, "durationInMonth": 3}}'
  curl -s -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' {base}/api/v1/segments/highBalance -d '{{"threshold": 10000, "accountType": "SAVINGS"}}'
  curl -s -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' {base}/api/v1/segments/financialBreakdown -d '{{"labelGroups": ["INCOME", "INSURANCE", "RENTANDLIVING"], "durationInMonth": 6}}'
  curl -s -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' {base}/api/v1/segments/insurance -d '{{"durationInMonth": 12}}'
  curl -s -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' {base}/api/v1/segments/incomeSpendingSummary -d '{{"durationInMonth": 3}}'
  curl -s -H "Authorization: Bearer $TOKEN" "{base}/api/v1/segments/lowBalance/JOB_ID?page=1&perPage=10"
  curl -s -H "Authorization: Bearer $TOKEN" -H 'Accept: text/csv' {base}/api/v1/segments/lowBalance/JOB_ID
  curl -s -H "Authorization: Bearer $TOKEN" {base}/api/v1/jobs

  API docs: {base}/docs
"#,
        cid = creds.client_id,
        secret = creds.client_secret,
        rotated = if rotated {
            "\n                 (a new secret: finseg keeps only a hash of the demo client's, so each start\n                 issues one; the secret printed before no longer works)"
        } else {
            ""
        },
    );
    Ok(())
}

/// What `finseg import` was asked to do besides the file.
struct ImportOptions<'a> {
    account: Option<&'a str>,
    format: &'a str,
    preset: Option<String>,
    mapping: Option<&'a std::path::Path>,
}

async fn import_file(
    g: &Global,
    client_id: &str,
    options: ImportOptions<'_>,
    file: &std::path::Path,
) -> Result<(), String> {
    let statement = match options.format {
        "ndjson" => {
            if options.account.is_some() || options.preset.is_some() || options.mapping.is_some() {
                return Err(
                    "--account, --preset and --mapping apply to statement files, not to ndjson"
                        .into(),
                );
            }
            None
        }
        f if finseg_statements::Format::parse(f).is_some() => {
            let account = options
                .account
                .ok_or("a statement file is imported into one account: give --account ID")?;
            let mapping = match options.mapping {
                Some(p) => {
                    Some(std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?)
                }
                None => None,
            };
            let opts = statements_api::StatementOptions {
                format: Some(f.to_owned()),
                preset: options.preset.clone(),
                mapping,
            };
            Some((account.to_owned(), opts))
        }
        other => {
            return Err(format!(
                "unknown format '{other}' (ndjson, camt053, camt052, mt940, mt942, csv)"
            ));
        }
    };
    let config = g.config()?;
    let store = open_store(g).await?;
    let lookup = client_id.to_owned();
    let state = finseg_server::AppState::new(store, config);
    let client = state
        .db(move |c| finseg_store::clients::by_client_id(c, &lookup))
        .await
        .map_err(|p| p.detail)?
        .ok_or_else(|| no_client(client_id, state.store.url()))?;
    let today = time::today_in(&client.time_zone);
    if let Some((account, opts)) = statement {
        let bytes = tokio::fs::read(file)
            .await
            .map_err(|e| format!("{}: {e}", file.display()))?;
        let summary = statements_api::import_statement(
            &state,
            client.pk,
            today,
            &account,
            &opts,
            bytes::Bytes::from(bytes),
        )
        .await
        .map_err(|p| format!("{}: {}", p.title, p.detail))?;
        println!(
            "{}",
            serde_json::to_string_pretty(&finseg_server::wire::StatementSummary::from(summary))
                .expect("serialisable")
        );
        return Ok(());
    }
    let f = tokio::fs::File::open(file)
        .await
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let stream = file_stream::chunks(f);
    // The same entry point as `POST /api/v1/import`; a running server's
    // segment index catches up with what this writes on its next refresh.
    let summary = finseg_import::import_stream(
        state.store.clone(),
        client.pk,
        today,
        finseg_import::ImportRun::default(),
        finseg_import::Hooks::default(),
        stream,
    )
    .await
    .map_err(|e| match e {
        finseg_import::ImportError::Store {
            error,
            committed_through,
        } => format!("{error} (lines through {committed_through} are written)"),
        finseg_import::ImportError::Read {
            error,
            committed_through,
        } => format!(
            "reading {}: {error} (lines through {committed_through} are written)",
            file.display()
        ),
        finseg_import::ImportError::Internal(e) => e,
    })?;
    println!(
        "{}",
        serde_json::to_string_pretty(&finseg_server::wire::ImportSummary::from(summary))
            .expect("serialisable")
    );
    Ok(())
}

/// Reads a file as a stream of chunks.
mod file_stream {
    use bytes::Bytes;
    use tokio::io::AsyncReadExt as _;

    pub fn chunks(
        f: tokio::fs::File,
    ) -> impl futures_util::Stream<Item = Result<Bytes, String>> + Unpin {
        Box::pin(futures_util::stream::unfold(Some(f), |f| async move {
            let mut f = f?;
            let mut buf = vec![0u8; 1 << 20];
            match f.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(Bytes::from(buf)), Some(f)))
                }
                Err(e) => Some((Err(e.to_string()), None)),
            }
        }))
    }
}
