//! The API contract, served from the binary: the OpenAPI 3.1 document and a
//! self-contained viewer page (no assets are fetched from anywhere).

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::AppState;

/// The OpenAPI document: the contract the tests hold the service to.
pub const OPENAPI: &str = include_str!("../api/openapi.json");
const DOCS_PAGE: &str = include_str!("../api/docs.html");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api-docs/openapi.json",
            get(|| async {
                ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
            }),
        )
        .route(
            "/docs",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    DOCS_PAGE,
                )
                    .into_response()
            }),
        )
}
