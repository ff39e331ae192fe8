//! RFC 9457 problem documents: every error the API returns is one.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use finseg_core::FieldError;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: &'static str,
    pub title: &'static str,
    #[serde(skip)]
    pub status: StatusCode,
    /// The `status` member: the HTTP status, except in finAPI's "job not
    /// done yet" answer, where it is the job state (`QUEUED`, `RUNNING`).
    #[serde(rename = "status")]
    pub status_member: serde_json::Value,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Extra members (e.g. the job state of finAPI's 404 contract).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub extra: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(skip)]
    pub www_authenticate: bool,
    /// Seconds for a `Retry-After` header (429, 503).
    #[serde(skip)]
    pub retry_after: Option<u32>,
}

impl Problem {
    fn new(
        status: StatusCode,
        problem_type: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Problem {
            problem_type,
            title,
            status,
            status_member: status.as_u16().into(),
            detail: detail.into(),
            errors: Vec::new(),
            extra: None,
            www_authenticate: false,
            retry_after: None,
        }
    }

    /// 400: the request's content is invalid; `errors` names each field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] if one.pointer.is_empty() => one.detail.clone(),
            [one] => format!("{}: {}", one.pointer, one.detail),
            many => format!("{} fields are invalid", many.len()),
        };
        let mut p = Self::new(
            StatusCode::BAD_REQUEST,
            "/problems/validation",
            "Invalid request content",
            detail,
        );
        p.errors = errors;
        p
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "/problems/bad-request",
            "Bad request",
            detail,
        )
    }

    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "/problems/not-found",
            "Not found",
            format!("{what} '{id}' does not exist"),
        )
    }

    /// 429 with `Retry-After`: this client asked for more than it may.
    pub fn too_many_requests(detail: impl Into<String>, retry_after_secs: u32) -> Self {
        let mut p = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "/problems/too-many-requests",
            "Too many requests",
            detail,
        );
        p.retry_after = Some(retry_after_secs);
        p
    }

    /// No route for this method and path.
    pub fn no_route(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "/problems/not-found",
            "Not found",
            format!(
                "there is no route {method} {path}; the routes are listed at /api-docs/openapi.json"
            ),
        )
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        let mut p = Self::new(
            StatusCode::UNAUTHORIZED,
            "/problems/unauthorized",
            "Unauthorized",
            detail,
        );
        p.www_authenticate = true;
        p
    }

    /// RFC 6749 §5.2 wants `invalid_client` for bad credentials; the problem
    /// document carries it as `error` beside the RFC 9457 members.
    pub fn invalid_client() -> Self {
        let mut p = Self::new(
            StatusCode::UNAUTHORIZED,
            "/problems/invalid-client",
            "Invalid client credentials",
            "client_id or client_secret is wrong",
        );
        p.extra = Some(serde_json::Map::from_iter([(
            "error".to_owned(),
            serde_json::Value::from("invalid_client"),
        )]));
        p
    }

    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "/problems/unsupported-media-type",
            "Unsupported media type",
            detail,
        )
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "/problems/conflict",
            "Conflict",
            detail,
        )
    }

    /// finAPI's answer while a segment job is not done: HTTP 404 with the
    /// job state in `status`.
    pub fn job_pending(state: &str, detail: impl Into<String>) -> Self {
        let mut p = Self::new(
            StatusCode::NOT_FOUND,
            "/problems/job-not-done",
            "Job not done yet",
            detail,
        );
        p.status_member = state.into();
        p
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "/problems/internal",
            "Internal error",
            detail,
        )
    }

    /// 400: a statement file cannot be read, or does not fit the account;
    /// `line` (MT940, CSV) or `path` (CAMT XML) says where.
    pub fn invalid_statement(e: &finseg_statements::ParseError) -> Self {
        use finseg_statements::Location;
        let p = Self::new(
            StatusCode::BAD_REQUEST,
            "/problems/invalid-statement",
            "Invalid statement file",
            e.to_string(),
        );
        match &e.location {
            Location::File => p,
            Location::Line(n) => p.with("line", *n as u64),
            Location::Path(path) => p.with("path", path.as_str()),
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.extra
            .get_or_insert_with(serde_json::Map::new)
            .insert(key.to_owned(), value.into());
        self
    }
}

impl From<finseg_store::StoreError> for Problem {
    fn from(e: finseg_store::StoreError) -> Self {
        if let finseg_store::StoreError::Busy(waited) = e {
            tracing::warn!(?waited, "no database connection free");
            let mut p = Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "/problems/busy",
                "Service busy",
                "every database connection stayed in use; the request was not applied, try again",
            );
            p.retry_after = Some(1);
            return p;
        }
        tracing::error!(error = %e, "storage error");
        Problem::internal("the database failed to answer; the request was not applied")
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (self.status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.www_authenticate {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

/// Errors that come from outside the handlers (the framework's own: a body
/// over the limit, a method the route does not take, an unreadable query
/// string) arrive as plain text or empty; they leave as problem documents
/// too, with their text as the detail and their other headers (`Allow`)
/// kept.
pub async fn every_error_a_problem(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|c| c.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 << 10)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_owned();
    let (problem_type, title) = match status {
        StatusCode::BAD_REQUEST => ("/problems/bad-request", "Bad request"),
        StatusCode::METHOD_NOT_ALLOWED => ("/problems/method-not-allowed", "Method not allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => ("/problems/payload-too-large", "Payload too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("/problems/unsupported-media-type", "Unsupported media type")
        }
        StatusCode::UNPROCESSABLE_ENTITY => ("/problems/bad-request", "Unprocessable content"),
        _ => ("/problems/http-error", "Request failed"),
    };
    let detail = if !text.is_empty() {
        text
    } else if status == StatusCode::METHOD_NOT_ALLOWED {
        let allowed = parts
            .headers
            .get(header::ALLOW)
            .and_then(|a| a.to_str().ok())
            .unwrap_or("other methods");
        format!("this route does not take this method; it takes {allowed}")
    } else {
        status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_owned()
    };
    let mut out = Problem::new(status, problem_type, title, detail).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}
