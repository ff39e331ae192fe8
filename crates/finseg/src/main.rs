//! `finseg`: one binary with roles chosen by subcommand.
// Only the global allocator (`allocator`) is `unsafe`.
#![deny(unsafe_code)]

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
mod cli;
mod client_data;
mod clients;
mod demo;
mod import;
mod progress;

mod eval;
mod export;

use clap::Parser as _;
use cli::{Cli, ClientsCommand, Command, Global, PopulationArgs};
use demo::load_demo;
use finseg_server::{Application, Config, time};
use finseg_store::{DbUrl, Store};
use import::{ImportOptions, import_file};

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
        } => clients::create(&g, name, json).await,
        Command::Clients {
            command: ClientsCommand::Delete { client },
        } => clients::delete(&g, client).await,
        Command::Clients {
            command: ClientsCommand::List { json },
        } => clients::list(&g, json).await,
        Command::Clients {
            command: ClientsCommand::RotateSecret { client, json },
        } => clients::rotate_secret(&g, client, json).await,
        Command::Import {
            client,
            account,
            create_accounts_for,
            format,
            preset,
            mapping,
            file,
        } => {
            let options = ImportOptions {
                account: account.as_deref(),
                format: format.as_deref(),
                preset,
                mapping: mapping.as_deref(),
                open_for: create_accounts_for.as_deref(),
            };
            import_file(&g, &client, options, &file).await
        }
        Command::Coverage { client, top } => client_data::coverage(&g, client, top).await,
        Command::Relabel { client } => client_data::relabel(&g, client).await,
        Command::Export { client, out } => client_data::export(&g, client, out).await,
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
            println!("{}", finseg_server::docs::openapi().trim_end());
            Ok(())
        }
        Command::Generate {
            population,
            id_prefix,
        } => client_data::generate(&g, population, &id_prefix),
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
