//! Commands over one client's stored data: coverage, relabelling, export,
//! and generating a population to import.

use std::path::PathBuf;

use finseg_server::time;

use crate::cli::{Global, PopulationArgs};
use crate::{client_pk, export as csv_export, open_store};

pub(crate) async fn coverage(g: &Global, client: String, top: u16) -> Result<(), String> {
    let store = open_store(g).await?;
    let report = tokio::task::spawn_blocking(move || {
        let mut c = store.conn().map_err(|e| e.to_string())?;
        let client_pk = client_pk(&store, &mut *c, &client)?;
        finseg_store::coverage::of(&mut *c, client_pk, usize::from(top)).map_err(|e| e.to_string())
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

pub(crate) async fn relabel(g: &Global, client: String) -> Result<(), String> {
    let store = open_store(g).await?;
    let done = tokio::task::spawn_blocking(move || {
        let mut c = store.conn().map_err(|e| e.to_string())?;
        let client_pk = client_pk(&store, &mut *c, &client)?;
        drop(c);
        let mut progress = crate::progress::Progress::new("relabel");
        finseg_store::relabel::relabel_with_progress(&store, client_pk, 2_000, &mut |done| {
            progress.update(|| {
                format!(
                    "{} transactions examined, {} changed",
                    crate::progress::thousands(done.examined),
                    crate::progress::thousands(done.changed)
                )
            })
        })
        .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())??;
    println!(
        "{}",
        serde_json::to_string(&finseg_server::wire::Relabelled::from(done)).expect("serialisable")
    );
    Ok(())
}

pub(crate) async fn export(g: &Global, client: String, out: PathBuf) -> Result<(), String> {
    let store = open_store(g).await?;
    let done = tokio::task::spawn_blocking(move || {
        let mut c = store.conn().map_err(|e| e.to_string())?;
        let client_pk = client_pk(&store, &mut *c, &client)?;
        csv_export::export(&mut *c, client_pk, &out)
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

pub(crate) fn generate(
    g: &Global,
    population: PopulationArgs,
    id_prefix: &str,
) -> Result<(), String> {
    if finseg_core::ExternalId::parse(&format!("{id_prefix}-user-000001")).is_none() {
        return Err(format!("--id-prefix '{id_prefix}' does not make valid ids"));
    }
    use std::io::Write as _;
    let today = time::today_in(&g.time_zone);
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out.lock());
    let lines = finseg_gen::Population::new(population.users, population.seed, today)
        .with_prefix(id_prefix);
    let written = lines
        .into_iter()
        .try_for_each(|line| {
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")
        })
        .and_then(|()| out.flush());
    match written {
        // A reader that has seen enough (`| head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|e| e.to_string()),
    }
}
