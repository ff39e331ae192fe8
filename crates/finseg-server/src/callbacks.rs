//! Job callbacks (SPEC §5): a signed POST to the client's `callbackURL` when a
//! job completes or fails, retried with exponential backoff for more than
//! 24 hours, never to loopback, private, link-local or metadata addresses
//! unless the operator allows them.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use finseg_store::jobs::{self, DueCallback};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::AppState;

/// Why a callback URL is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlRefusal {
    Malformed(String),
    Unresolvable(String),
    Forbidden(IpAddr),
}

impl std::fmt::Display for UrlRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UrlRefusal::Malformed(d) => write!(f, "not an absolute http(s) URL: {d}"),
            UrlRefusal::Unresolvable(h) => write!(f, "host '{h}' does not resolve"),
            UrlRefusal::Forbidden(ip) => write!(
                f,
                "resolves to {ip}, a loopback, private, link-local or metadata address; callbacks go to public addresses only"
            ),
        }
    }
}

/// Loopback, private, link-local, CGNAT, benchmarking, documentation,
/// multicast, reserved and unspecified addresses, and every IPv6 form that
/// carries an IPv4 address (mapped, compatible, NAT64, 6to4): what is
/// not a public unicast address. Cloud metadata (169.254.169.254,
/// fd00:ec2::254) falls under link-local and unique-local.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                // 198.18.0.0/15: network benchmarking (RFC 2544).
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                let [a, b] = hi.to_be_bytes();
                let [c, d] = lo.to_be_bytes();
                is_forbidden(IpAddr::V4(std::net::Ipv4Addr::new(a, b, c, d)))
            };
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_forbidden(IpAddr::V4(v4));
            }
            // IPv4-compatible addresses (::a.b.c.d, deprecated, but some
            // stacks still route them to IPv4) are refused whole, with ::
            // and ::1. NAT64 (64:ff9b::/96) carries an IPv4 address in its
            // last 32 bits; 6to4 (2002::/16) in bits 16–48.
            if s[..6] == [0; 6] {
                return true;
            }
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return embedded(s[6], s[7]);
            }
            if s[0] == 0x2002 {
                return embedded(s[1], s[2]);
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                // 2001:db8::/32: documentation (RFC 3849).
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                // 64:ff9b:1::/48: local-use NAT64 (RFC 8215).
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1)
        }
    }
}

/// Parses the URL and resolves its host; every address it resolves to must be allowed.
pub async fn check_url(
    url: &str,
    allow_private: bool,
) -> Result<(reqwest::Url, Vec<SocketAddr>), UrlRefusal> {
    let parsed = reqwest::Url::parse(url).map_err(|e| UrlRefusal::Malformed(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(UrlRefusal::Malformed(format!(
            "scheme '{}'",
            parsed.scheme()
        )));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(UrlRefusal::Malformed("credentials in the URL".into()));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| UrlRefusal::Malformed("no host".into()))?
        .to_owned();
    let port = parsed.port_or_known_default().unwrap_or(443);
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((bare.as_str(), port))
            .await
            .map_err(|_| UrlRefusal::Unresolvable(host.clone()))?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(UrlRefusal::Unresolvable(host));
    }
    if !allow_private && let Some(bad) = addrs.iter().find(|a| is_forbidden(a.ip())) {
        return Err(UrlRefusal::Forbidden(bad.ip()));
    }
    Ok((parsed, addrs))
}

/// `sha256=<hex>` of HMAC-SHA256 over the body with the client's webhook secret.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

fn body(state: &AppState, cb: &DueCallback) -> String {
    let base = state
        .config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", state.config.listen));
    serde_json::json!({
        "jobId": cb.job.job_id,
        "segmentType": cb.job.segment_type,
        "status": cb.job.status,
        "resultUrl": format!("{}/api/v1/segments/{}/{}", base.trim_end_matches('/'), cb.job.segment_type, cb.job.job_id),
    })
    .to_string()
}

/// One delivery attempt; `Err` carries the reason to record.
async fn deliver(state: &AppState, cb: &DueCallback) -> Result<(), String> {
    // Resolved again at delivery and pinned, so a DNS change cannot redirect it.
    let (url, addrs) = check_url(&cb.url, state.config.allow_private_callbacks)
        .await
        .map_err(|e| e.to_string())?;
    let host = url.host_str().unwrap_or_default().to_owned();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .resolve_to_addrs(&host, &addrs)
        .build()
        .map_err(|e| e.to_string())?;
    let payload = body(state, cb);
    let res = client
        .post(url)
        .header("content-type", "application/json")
        .header(
            "x-finseg-signature",
            signature(&cb.webhook_secret, payload.as_bytes()),
        )
        .header("x-finseg-job-id", &cb.job.job_id)
        .body(payload)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if res.status().is_success() {
        Ok(())
    } else {
        Err(format!("receiver answered {}", res.status()))
    }
}

/// Delay before attempt `n + 1`: base · 2ⁿ, at most one hour.
pub fn backoff_ms(base_ms: i64, attempts: i64) -> i64 {
    base_ms
        .saturating_mul(1i64 << attempts.clamp(0, 20))
        .min(3_600_000)
}

pub async fn deliver_loop(state: AppState) {
    let idle = Duration::from_millis(state.config.poll_ms.max(100));
    loop {
        let node = state.config.node_id.clone();
        let claimed = state
            .db(move |c| jobs::claim_callback(c, &node, 60_000))
            .await;
        let cb = match claimed {
            Ok(Some(cb)) => cb,
            Ok(None) => {
                let _ = tokio::time::timeout(idle, state.callbacks_due.notified()).await;
                continue;
            }
            Err(e) => {
                tracing::warn!(detail = %e.detail, "claiming callbacks failed");
                tokio::time::sleep(idle).await;
                continue;
            }
        };
        let outcome = deliver(&state, &cb).await;
        let now = jobs::now_ms();
        let (delivered, retry_at, error) = match &outcome {
            Ok(()) => (true, None, None),
            Err(e) => {
                let next = now + backoff_ms(state.config.callback_retry_base_ms, cb.attempts);
                (
                    false,
                    (next <= cb.give_up_ms).then_some(next),
                    Some(e.clone()),
                )
            }
        };
        match &outcome {
            Ok(()) => tracing::info!(job = %cb.job.job_id, "callback delivered"),
            Err(e) => {
                tracing::warn!(job = %cb.job.job_id, attempt = cb.attempts + 1, error = %e, "callback failed")
            }
        }
        let pk = cb.pk;
        if let Err(e) = state
            .db(move |c| jobs::callback_attempted(c, pk, delivered, retry_at, error.as_deref()))
            .await
        {
            tracing::warn!(detail = %e.detail, "recording a callback attempt failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "224.0.0.1",
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
            "2001:db8::1",
            "198.18.0.1",
            "198.19.255.255",
        ] {
            assert!(is_forbidden(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "2001:4860:4860::8888",
            "172.32.0.1",
            "198.20.0.1",
            "64:ff9b::8.8.8.8",
            "2002:808:808::1",
        ] {
            assert!(!is_forbidden(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn signature_is_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff_ms(10_000, 0), 10_000);
        assert_eq!(backoff_ms(10_000, 3), 80_000);
        assert_eq!(backoff_ms(10_000, 30), 3_600_000);
    }

    #[tokio::test]
    async fn urls_are_checked() {
        assert!(matches!(
            check_url("ftp://example.com/x", false).await,
            Err(UrlRefusal::Malformed(_))
        ));
        assert!(matches!(
            check_url("not a url", false).await,
            Err(UrlRefusal::Malformed(_))
        ));
        assert!(matches!(
            check_url("http://127.0.0.1:9/x", false).await,
            Err(UrlRefusal::Forbidden(_))
        ));
        assert!(matches!(
            check_url("http://[::1]/x", false).await,
            Err(UrlRefusal::Forbidden(_))
        ));
        assert!(matches!(
            check_url("http://localhost/x", false).await,
            Err(UrlRefusal::Forbidden(_))
        ));
        assert!(check_url("http://127.0.0.1:9/x", true).await.is_ok());
        assert!(check_url("http://93.184.216.34/hook", false).await.is_ok());
    }
}
