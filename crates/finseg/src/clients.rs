//! `finseg clients`: create, list, rotate the secret of, and delete clients (tenants).

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
    print_credentials(&creds, json);
    Ok(())
}

fn print_credentials(creds: &auth::Credentials, json: bool) {
    if json {
        println!("{}", serde_json::to_string(creds).expect("serialisable"));
    } else {
        println!("client_id:      {}", creds.client_id);
        println!("client_secret:  {}", creds.client_secret);
        println!("webhook_secret: {}", creds.webhook_secret);
        println!("(the secrets are shown only now; finseg keeps only a hash of the client secret)");
    }
}

pub(crate) async fn list(g: &Global, json: bool) -> Result<(), String> {
    let store = open_store(g).await?;
    let clients = tokio::task::spawn_blocking(move || {
        let mut c = store.conn()?;
        finseg_store::clients::list(&mut *c)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    let created = |secs: i64| match time::iso(Some(secs)) {
        serde_json::Value::String(s) => s,
        _ => secs.to_string(),
    };
    if json {
        let list: Vec<serde_json::Value> = clients
            .iter()
            .map(|c| {
                serde_json::json!({
                    "clientId": c.client_id,
                    "name": c.name,
                    "timeZone": c.time_zone,
                    "createdAt": created(c.created_at),
                    "users": c.users,
                })
            })
            .collect();
        println!("{}", serde_json::Value::from(list));
        return Ok(());
    }
    println!(
        "{:<20} {:<24} {:<20} {:<22} users",
        "client_id", "name", "time_zone", "created"
    );
    for c in &clients {
        println!(
            "{:<20} {:<24} {:<20} {:<22} {}",
            c.client_id,
            c.name,
            c.time_zone,
            created(c.created_at),
            c.users
        );
    }
    Ok(())
}

pub(crate) async fn rotate_secret(g: &Global, client: String, json: bool) -> Result<(), String> {
    let store = open_store(g).await?;
    let id = client.clone();
    let creds = tokio::task::spawn_blocking(move || {
        let mut c = store.conn()?;
        finseg_store::conn::in_transaction(&mut *c, |c| auth::rotate_secret(c, &id))
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?
    .ok_or_else(|| match g.database() {
        Ok(db) => no_client(&client, &db),
        Err(e) => e,
    })?;
    print_credentials(&creds, json);
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
