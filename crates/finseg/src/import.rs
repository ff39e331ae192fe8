//! `finseg import`: a bulk file or a statement file for a client, through
//! the same entry points as the HTTP API.

use finseg_server::{statements_api, time};

use crate::cli::Global;
use crate::{no_client, open_store};

/// What `finseg import` was asked to do besides the file.
pub(crate) struct ImportOptions<'a> {
    pub(crate) account: Option<&'a str>,
    /// `None`: a statement file's format is detected (with `account`), else ndjson.
    pub(crate) format: Option<&'a str>,
    pub(crate) preset: Option<String>,
    pub(crate) mapping: Option<&'a std::path::Path>,
    /// Without `account`: open accounts the client does not hold for this user.
    pub(crate) open_for: Option<&'a str>,
}

pub(crate) async fn import_file(
    g: &Global,
    client_id: &str,
    options: ImportOptions<'_>,
    file: &std::path::Path,
) -> Result<(), String> {
    let statement = statement_request(&options)?;
    let store = open_store(g).await?;
    let lookup = client_id.to_owned();
    let client = finseg_server::state::on_store(&store, move |c| {
        finseg_store::clients::by_client_id(c, &lookup)
    })
    .await
    .map_err(|p| p.detail)?
    .ok_or_else(|| no_client(client_id, store.url()))?;
    let today = time::today_in(&client.time_zone);
    if let Some((None, opts)) = statement {
        // A statement file without --account: each statement goes to the
        // client's account it names, as `POST /api/v1/statements`.
        let bytes = tokio::fs::read(file)
            .await
            .map_err(|e| format!("{}: {e}", file.display()))?;
        let open_for = match options.open_for {
            Some(u) => Some(
                finseg_core::ExternalId::parse(u)
                    .ok_or_else(|| format!("--create-accounts-for: '{u}' is not a valid id"))?,
            ),
            None => None,
        };
        let (format, accounts) = statements_api::import_client_statements(
            &store,
            client.pk,
            today,
            &opts,
            open_for,
            bytes::Bytes::from(bytes),
        )
        .await
        .map_err(|p| format!("{}: {}", p.title, p.detail))?;
        println!(
            "{}",
            serde_json::to_string_pretty(&finseg_server::wire::ClientStatementImport::new(
                format, accounts
            ))
            .expect("serialisable")
        );
        return Ok(());
    }
    if let Some((Some(account), opts)) = statement {
        let bytes = tokio::fs::read(file)
            .await
            .map_err(|e| format!("{}: {e}", file.display()))?;
        let summary = statements_api::import_statement(
            &store,
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
    import_bulk(&store, client.pk, today, file).await
}

/// What the options ask for: `None` for a bulk (ndjson) file, else a
/// statement file for an account (or, without one, for the accounts it
/// names) with its format options.
fn statement_request(
    options: &ImportOptions<'_>,
) -> Result<Option<(Option<String>, statements_api::StatementOptions)>, String> {
    let format = match (options.format, options.account.or(options.open_for)) {
        (Some(f), _) => Some(f),
        (None, Some(_)) => None,
        (None, None) => Some("ndjson"),
    };
    let statement = match format {
        Some("ndjson") => {
            if options.account.is_some() || options.preset.is_some() || options.mapping.is_some() {
                return Err(
                    "--account, --preset and --mapping apply to statement files, not to ndjson"
                        .into(),
                );
            }
            None
        }
        Some(other) if finseg_statements::Format::parse(other).is_none() => {
            return Err(format!(
                "unknown format '{other}' (ndjson, camt053, camt052, mt940, mt942, csv)"
            ));
        }
        f => {
            let mapping = match options.mapping {
                Some(p) => {
                    Some(std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?)
                }
                None => None,
            };
            let opts = statements_api::StatementOptions {
                format: f.map(str::to_owned),
                preset: options.preset.clone(),
                mapping,
            };
            Some((options.account.map(str::to_owned), opts))
        }
    };
    if options.open_for.is_some() && options.account.is_some() {
        return Err(
            "--create-accounts-for applies to files of several accounts, without --account".into(),
        );
    }
    Ok(statement)
}

/// A bulk (ndjson) file, through the same entry point as `POST
/// /api/v1/import`; a running server's segment index catches up with what
/// this writes on its next refresh.
async fn import_bulk(
    store: &std::sync::Arc<finseg_store::Store>,
    client_pk: i64,
    today: finseg_core::Date,
    file: &std::path::Path,
) -> Result<(), String> {
    let f = tokio::fs::File::open(file)
        .await
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let stream = file_stream::chunks(f);
    let summary = finseg_import::import_stream(
        store.clone(),
        client_pk,
        today,
        finseg_import::ImportRun::default(),
        finseg_import::Hooks {
            progress: Some(Box::new({
                let mut progress = crate::progress::Progress::new("import");
                move |line| {
                    progress
                        .update(|| format!("{} lines committed", crate::progress::thousands(line)))
                }
            })),
            ..Default::default()
        },
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
