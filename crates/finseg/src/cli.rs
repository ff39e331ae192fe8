//! The command line: global options, the service's options and the
//! subcommands.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use finseg_server::Config;
use finseg_store::DbUrl;

#[derive(Parser)]
#[command(
    name = "finseg",
    version,
    about = "Self-hosted financial segmentation service"
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Args, Clone)]
pub(crate) struct Global {
    /// Directory of the embedded SQLite database.
    #[arg(
        long,
        env = "FINSEG_DATA_DIR",
        default_value = "./finseg-data",
        global = true
    )]
    pub(crate) data_dir: PathBuf,
    /// `postgres://…` selects PostgreSQL, `sqlite://FILE` a given SQLite file.
    #[arg(long, env = "FINSEG_DATABASE_URL", global = true)]
    pub(crate) database_url: Option<String>,
    /// Default time zone of new clients.
    #[arg(
        long,
        env = "FINSEG_TIME_ZONE",
        default_value = "Europe/Berlin",
        global = true
    )]
    pub(crate) time_zone: String,
    /// Log format: `text` or `json`.
    #[arg(long, env = "FINSEG_LOG_FORMAT", default_value = "text", global = true)]
    pub(crate) log_format: String,
}

/// What only a running service needs (`serve`, `demo`).
#[derive(Args, Clone)]
pub(crate) struct ServerArgs {
    /// Address and port to listen on.
    #[arg(long, env = "FINSEG_LISTEN", default_value = "127.0.0.1:8080")]
    pub(crate) listen: SocketAddr,
    /// Lifetime of access tokens, in seconds.
    #[arg(long, env = "FINSEG_TOKEN_TTL", default_value_t = 3600)]
    pub(crate) token_ttl: i64,
    /// Partition workers in this process (0: serve the API only).
    #[arg(long, env = "FINSEG_WORKERS")]
    pub(crate) workers: Option<usize>,
    /// Lease of a claimed partition, in milliseconds.
    #[arg(long, env = "FINSEG_JOB_LEASE_MS", default_value_t = 30_000)]
    pub(crate) job_lease_ms: i64,
    /// Users per job partition.
    #[arg(long, env = "FINSEG_PARTITION_SIZE", default_value_t = 1_000)]
    pub(crate) partition_size: usize,
    /// How often idle workers look for jobs created on other nodes, in milliseconds.
    #[arg(long, env = "FINSEG_POLL_MS", default_value_t = 500)]
    pub(crate) poll_ms: u64,
    /// Allow callbacks to loopback, private and link-local addresses.
    #[arg(long, env = "FINSEG_ALLOW_PRIVATE_CALLBACKS")]
    pub(crate) allow_private_callbacks: bool,
    /// First retry delay of a failed callback, in milliseconds (doubles per attempt).
    #[arg(long, env = "FINSEG_CALLBACK_RETRY_MS", default_value_t = 10_000)]
    pub(crate) callback_retry_ms: i64,
    /// Base URL of this service in callback bodies (default http://LISTEN).
    #[arg(long, env = "FINSEG_PUBLIC_URL")]
    pub(crate) public_url: Option<String>,
    /// Evaluate balance jobs from the database only, without the in-memory segment index.
    #[arg(long, env = "FINSEG_NO_SEGMENT_INDEX")]
    pub(crate) no_segment_index: bool,
    /// How often the segment index catches up with the database, in milliseconds.
    #[arg(long, env = "FINSEG_INDEX_REFRESH_MS", default_value_t = 1_000)]
    pub(crate) index_refresh_ms: u64,
    /// Jobs one client may have queued or running at once (more: 429).
    #[arg(long, env = "FINSEG_MAX_ACTIVE_JOBS", default_value_t = 16)]
    pub(crate) max_active_jobs: i64,
    /// Finished results one client may keep at once (more jobs: 429 until some are deleted or expire).
    #[arg(long, env = "FINSEG_MAX_STORED_RESULTS", default_value_t = 1_000)]
    pub(crate) max_stored_results: i64,
    /// Members over all results one client keeps at once (more jobs: 429).
    #[arg(long, env = "FINSEG_MAX_STORED_MEMBERS", default_value_t = 50_000_000)]
    pub(crate) max_stored_members: i64,
    /// Failed token requests per minute that one client id, or one source
    /// address, may make before further attempts get 429.
    #[arg(long, env = "FINSEG_TOKEN_FAILURES_PER_MINUTE", default_value_t = 10)]
    pub(crate) token_failures_per_minute: u32,
    /// Large writes (JSON batches, bulk imports, statement files) one client
    /// may have running or waiting at once before further ones get 429.
    #[arg(long, env = "FINSEG_MAX_CONCURRENT_WRITES", default_value_t = 4)]
    pub(crate) max_concurrent_writes: usize,
    /// This node's name in partition leases (default: host name and random bits).
    #[arg(long, env = "FINSEG_NODE_ID")]
    pub(crate) node_id: Option<String>,
}

#[derive(Subcommand)]
pub(crate) enum Command {
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
        /// The account a statement file belongs to. Without it, a statement
        /// file's statements go to the client's accounts they name (IBAN,
        /// German bank code and account number, or account id).
        #[arg(long)]
        account: Option<String>,
        /// Without --account: open the accounts the client does not hold
        /// for this user (their IBAN as id, else the file's account identification with '/' and spaces as '-'; currency and balance from the file).
        #[arg(long, value_name = "USER_ID")]
        create_accounts_for: Option<String>,
        /// `ndjson` (the bulk format), or a statement format: camt053,
        /// camt052, mt940, mt942, csv. Without it, a file given with
        /// `--account` or `--create-accounts-for` is a statement file whose
        /// format is detected (as the API does), and any other file is ndjson.
        #[arg(long)]
        format: Option<String>,
        /// CSV: a built-in column mapping.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(finseg_statements::csv::Mapping::PRESETS))]
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
        /// User ids are `PREFIX-user-NNNNNN`: another prefix than the
        /// demo's (`demo`) gives ids that do not collide with its users.
        #[arg(long, default_value = "demo")]
        id_prefix: String,
    },
}

#[derive(Args, Clone, Copy)]
pub(crate) struct PopulationArgs {
    /// Number of users of the generated population.
    #[arg(long, default_value_t = 1000)]
    pub(crate) users: u64,
    /// Seed: the same seed gives the same population.
    #[arg(long, default_value_t = 42)]
    pub(crate) seed: u64,
}

#[derive(Subcommand)]
pub(crate) enum ClientsCommand {
    /// Create a client and print its credentials (shown once).
    Create {
        #[arg(long)]
        name: String,
        /// Print exactly one JSON object {"clientId","clientSecret","webhookSecret"}.
        #[arg(long)]
        json: bool,
    },
    /// List the clients: id, name, time zone, creation time and users.
    List {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Give a client a new secret and print it (shown once); tokens issued
    /// with the old one stop working.
    RotateSecret {
        /// The client's id.
        #[arg(long)]
        client: String,
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
    pub(crate) fn database(&self) -> Result<DbUrl, String> {
        match &self.database_url {
            Some(u) => DbUrl::parse(u).map_err(|e| e.to_string()),
            None => Ok(DbUrl::in_data_dir(&self.data_dir)),
        }
    }
}

impl ServerArgs {
    pub(crate) fn config(&self, g: &Global) -> Result<Config, String> {
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
