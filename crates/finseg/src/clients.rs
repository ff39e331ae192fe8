//! `finseg clients`: create and delete clients (tenants).

use finseg_server::{auth, time};

use crate::cli::Global;
use crate::{no_client, open_store};

pub(crate) async fn create(g: &Global, name: String, json: bool) -> Result<(), String> {
    let store = open_store(g).await?;
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
        println!("(the secrets are shown only now; finseg keeps only a hash of the client secret)");
    }
    Ok(())
}

pub(crate) async fn delete(g: &Global, client: String) -> Result<(), String> {
    let store = open_store(g).await?;
    let id = client.clone();
    let deleted = tokio::task::spawn_blocking(move || {
        let mut c = store.conn()?;
        finseg_store::conn::in_transaction(&mut *c, |c| finseg_store::clients::delete(c, &id))
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
