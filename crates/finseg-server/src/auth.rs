//! SPEC §2: OAuth 2.0 client credentials, argon2-hashed client secrets, and
//! opaque expiring bearer tokens stored only as SHA-256 hashes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use finseg_store::clients::{self, ClientRow, NewClient};
use finseg_store::{Conn, StoreError};
use sha2::Digest as _;

use crate::AppState;
use crate::problem::Problem;

/// The authenticated client of a request. Every data access is scoped by it.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub pk: i64,
    pub client_id: String,
    pub time_zone: String,
}

/// Credentials of a newly created client; the secrets are shown once.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
    pub webhook_secret: String,
}

fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system provides randomness");
    URL_SAFE_NO_PAD.encode(buf)
}

fn sha256_hex(s: &str) -> String {
    let d = sha2::Sha256::digest(s.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash_secret(secret: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system provides randomness");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes are a valid salt");
    argon2::Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any input")
        .to_string()
}

fn verify_secret(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(secret.as_bytes(), &h)
            .is_ok()
    })
}

/// Creates a client (operators: `finseg clients create`). Blocking: hashes.
pub fn create_client(
    c: &mut dyn Conn,
    name: &str,
    time_zone: &str,
) -> Result<Credentials, StoreError> {
    let creds = Credentials {
        client_id: format!("fsc_{}", random_token(12)),
        client_secret: random_token(32),
        webhook_secret: format!("whsec_{}", random_token(24)),
    };
    clients::insert(
        c,
        &NewClient {
            client_id: &creds.client_id,
            name,
            secret_hash: &hash_secret(&creds.client_secret),
            webhook_secret: &creds.webhook_secret,
            time_zone,
        },
    )?;
    Ok(creds)
}

/// Gives a client a new secret and ends the tokens issued with the old
/// one (a node may trust a cached token a few seconds longer). `None` if
/// there is no such client. Blocking: hashes; run it in a transaction.
pub fn rotate_secret(c: &mut dyn Conn, client_id: &str) -> Result<Option<Credentials>, StoreError> {
    let Some(row) = clients::by_client_id(c, client_id)? else {
        return Ok(None);
    };
    let secret = random_token(32);
    clients::set_secret_hash(c, row.pk, &hash_secret(&secret))?;
    clients::revoke_tokens(c, row.pk)?;
    Ok(Some(Credentials {
        client_id: row.client_id,
        client_secret: secret,
        webhook_secret: row.webhook_secret,
    }))
}

/// The demo client: created on first use, given a fresh secret on every
/// start (the old one was printed once and is not kept in plain text).
/// The flag says whether the client existed, so its secret was replaced.
pub fn demo_client(
    c: &mut dyn Conn,
    time_zone: &str,
) -> Result<(ClientRow, Credentials, bool), StoreError> {
    const NAME: &str = "demo";
    if let Some(row) = clients::by_name(c, NAME)? {
        let secret = random_token(32);
        clients::set_secret_hash(c, row.pk, &hash_secret(&secret))?;
        let creds = Credentials {
            client_id: row.client_id.clone(),
            client_secret: secret,
            webhook_secret: row.webhook_secret.clone(),
        };
        return Ok((row, creds, true));
    }
    let creds = create_client(c, NAME, time_zone)?;
    let row = clients::by_client_id(c, &creds.client_id)?
        .ok_or_else(|| StoreError::Internal("demo client vanished".into()))?;
    Ok((row, creds, false))
}

/// Issues a token for a client whose secret has been verified. Blocking.
pub fn issue_token(c: &mut dyn Conn, client_pk: i64, ttl_secs: i64) -> Result<String, StoreError> {
    let token = format!("fst_{}", random_token(32));
    clients::insert_token(
        c,
        &sha256_hex(&token),
        client_pk,
        finseg_store::now_unix() + ttl_secs,
    )?;
    Ok(token)
}

#[derive(Default)]
struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn parse_form(text: &str) -> TokenForm {
    let mut f = TokenForm::default();
    for (k, v) in form_urlencoded::parse(text.as_bytes()) {
        let v = Some(v.into_owned());
        match &*k {
            "grant_type" => f.grant_type = v,
            "client_id" => f.client_id = v,
            "client_secret" => f.client_secret = v,
            _ => {}
        }
    }
    f
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let b64 = v
        .strip_prefix("Basic ")
        .or_else(|| v.strip_prefix("basic "))?;
    let decoded = String::from_utf8(STANDARD.decode(b64.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    // RFC 6749 §2.3.1: both parts are form-url-encoded.
    Some((form_unescape(id), form_unescape(secret)))
}

/// Decodes `application/x-www-form-urlencoded` escapes in one component.
fn form_unescape(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// A hash to verify against when the client id is unknown, so that unknown
/// ids cost the same time as wrong secrets and cannot be probed by timing.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_secret("finseg-dummy-secret"))
}

async fn token(
    State(state): State<AppState>,
    peer: crate::limits::PeerAddr,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !body.is_empty() && !ct.starts_with("application/x-www-form-urlencoded") {
        return Problem::unsupported_media_type(
            "the token request is a form: application/x-www-form-urlencoded",
        )
        .into_response();
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        return Problem::bad_request("the form body is not UTF-8").into_response();
    };
    let form = parse_form(text);
    match form.grant_type.as_deref() {
        Some("client_credentials") => {}
        Some(other) => {
            return Problem::bad_request(format!(
                "grant_type '{other}' is not supported; use client_credentials"
            ))
            .with("error", "unsupported_grant_type")
            .into_response();
        }
        None => {
            return Problem::bad_request("grant_type is required (client_credentials)")
                .with("error", "invalid_request")
                .into_response();
        }
    }
    let (client_id, secret) = match (
        basic_credentials(&headers),
        form.client_id,
        form.client_secret,
    ) {
        (Some(creds), _, _) => creds,
        (None, Some(id), Some(secret)) => (id, secret),
        _ => return Problem::invalid_client().into_response(),
    };
    // Refused before the secret is checked: a guess that is not tried costs
    // no hashing.
    let keys = [
        format!("client {client_id}"),
        peer.0
            .map_or_else(String::new, |ip| format!("address {ip}")),
    ];
    let keys: Vec<String> = keys.into_iter().filter(|k| !k.is_empty()).collect();
    if let Some(wait) = keys
        .iter()
        .filter_map(|k| state.token_failures.blocked(k))
        .max()
    {
        return Problem::too_many_requests(
            "too many failed token requests for this client id or from this address; try again later",
            wait as u32,
        )
        .into_response();
    }
    let Ok(_permit) = state.secret_checks.acquire().await else {
        return Problem::internal("the service is shutting down").into_response();
    };
    let ttl = state.config.token_ttl_secs;
    let issued = state
        .db(move |c| {
            let Some(client) = clients::by_client_id(c, &client_id)? else {
                verify_secret(&secret, dummy_hash());
                return Ok(None);
            };
            if !verify_secret(&secret, &client.secret_hash) {
                return Ok(None);
            }
            issue_token(c, client.pk, ttl).map(Some)
        })
        .await;
    match issued {
        Ok(Some(token)) => (
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(serde_json::json!({
                "access_token": token,
                "token_type": "bearer",
                "expires_in": ttl,
            })),
        )
            .into_response(),
        Ok(None) => {
            for k in &keys {
                state.token_failures.failed(k);
            }
            Problem::invalid_client().into_response()
        }
        Err(p) => p.into_response(),
    }
}

impl FromRequestParts<AppState> for Tenant {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(Problem::unauthorized(
                "an Authorization: Bearer <token> header is required",
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Problem::unauthorized("the Authorization header must be 'Bearer <token>'")
            })?;
        let hash = sha256_hex(token);
        let now = finseg_store::now_unix();
        if let Some(tenant) = state.tokens.get(&hash, now) {
            return Ok(tenant);
        }
        let key = hash.clone();
        let found = state.db(move |c| clients::by_token(c, &key, now)).await?;
        match found {
            Some((client, expires_at)) => {
                let tenant = Tenant {
                    pk: client.pk,
                    client_id: client.client_id,
                    time_zone: client.time_zone,
                };
                state.tokens.put(hash, tenant.clone(), expires_at, now);
                Ok(tenant)
            }
            None => Err(Problem::unauthorized(
                "the access token is unknown or has expired",
            )),
        }
    }
}

/// Tokens this node has seen, so that a request does not read the
/// database to authenticate each time. An entry is trusted for
/// [`TOKEN_CACHE_TRUST_SECS`] and then checked against the database again:
/// a client deleted on any node loses its tokens everywhere within that time.
#[derive(Default)]
pub struct TokenCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, CachedToken>>,
}

struct CachedToken {
    tenant: Tenant,
    expires_at: i64,
    checked_at: i64,
}

/// Entries kept at most; the cache starts over when full.
const TOKEN_CACHE_LIMIT: usize = 10_000;

/// How long a token read from the database is trusted without reading it again.
pub const TOKEN_CACHE_TRUST_SECS: i64 = 5;

impl TokenCache {
    fn get(&self, hash: &str, now: i64) -> Option<Tenant> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(hash)
            .filter(|e| e.expires_at > now && now - e.checked_at < TOKEN_CACHE_TRUST_SECS)
            .map(|e| e.tenant.clone())
    }

    fn put(&self, hash: String, tenant: Tenant, expires_at: i64, now: i64) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= TOKEN_CACHE_LIMIT {
            entries.clear();
        }
        let entry = CachedToken {
            tenant,
            expires_at,
            checked_at: now,
        };
        entries.insert(hash, entry);
    }
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/oauth/token", post(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_hash_and_verify() {
        let h = hash_secret("s3cret");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_secret("s3cret", &h));
        assert!(!verify_secret("s3cret!", &h));
        assert!(!verify_secret("s3cret", "not a hash"));
    }

    #[test]
    fn form_components_are_unescaped() {
        assert_eq!(form_unescape("a%2Bb+c%3A"), "a+b c:");
        assert_eq!(form_unescape("100%"), "100%");
    }
}
