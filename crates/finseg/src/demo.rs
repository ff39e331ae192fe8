//! `finseg demo`: the demo client, its population loaded once, and how to
//! try it.

use finseg_server::{Application, auth, ingest, time};

use crate::cli::PopulationArgs;

/// Creates the demo client, loads the population once, and prints how to try it.
pub(crate) async fn load_demo(app: &Application, pop: PopulationArgs) -> Result<(), String> {
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

Try it (the README's examples run as they are with these set):
  export ID={cid} SECRET={secret} TOKEN={token}
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
