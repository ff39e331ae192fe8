//! What the store's unit tests share.

use crate::clients::{self, NewClient};
use crate::{DbUrl, Store};

/// A fresh SQLite store in a temporary directory with one client; its key.
pub(crate) fn store_with_client(name: &str) -> (Store, i64) {
    let dir = std::env::temp_dir().join(format!("finseg-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = Store::open(DbUrl::in_data_dir(&dir)).unwrap();
    let client = clients::insert(
        &mut *store.conn().unwrap(),
        &NewClient {
            client_id: "c1",
            name: "c1",
            secret_hash: "-",
            webhook_secret: "-",
            time_zone: "Europe/Berlin",
        },
    )
    .unwrap();
    (store, client.pk)
}
