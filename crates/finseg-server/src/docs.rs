//! The API contract, served from the binary: the OpenAPI 3.1 document and a
//! self-contained viewer page (no assets are fetched from anywhere).

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use finseg_core::segment_types::{JOB_ENVELOPE, SegmentType};
use serde_json::{Value, json};
use std::sync::LazyLock;

use crate::AppState;

/// The hand-written part of the OpenAPI document.
const OPENAPI_BASE: &str = include_str!("../api/openapi.json");

/// The OpenAPI document: the contract the tests hold the service to.
/// `api/openapi.json` with what the segment registry knows filled in (the
/// type names, and each type's parameters as `<type>Parameters`), so that
/// a new segment type appears in it without an edit here.
pub fn openapi() -> &'static str {
    static DOC: LazyLock<String> = LazyLock::new(|| with_segment_types(OPENAPI_BASE));
    &DOC
}

fn with_segment_types(base: &str) -> String {
    let Ok(mut doc) = serde_json::from_str::<Value>(base) else {
        // A test reads the file as JSON; were it not, it is served as written.
        return base.to_owned();
    };
    let schemas = &mut doc["components"]["schemas"];
    let names: Vec<&str> = SegmentType::ALL.iter().map(|t| t.as_str()).collect();
    schemas["SegmentType"]["enum"] = json!(names);
    let mut any_of = Vec::new();
    for &segment in SegmentType::ALL {
        let mut schema = segment.parameters_schema();
        schema["type"] = json!("object");
        schema["additionalProperties"] = json!(false);
        for field in JOB_ENVELOPE {
            schema["properties"][field] = json!({
                "type": "string",
                "format": "uri",
                "description": "Receives a signed POST when the job completes or fails."
            });
        }
        let name = segment.as_str();
        let name = format!("{}{}Parameters", name[..1].to_uppercase(), &name[1..]);
        any_of.push(json!({"$ref": format!("#/components/schemas/{name}")}));
        schemas[name] = schema;
    }
    schemas["SegmentParameters"]["anyOf"] = json!(any_of);
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| base.to_owned())
}
const DOCS_PAGE: &str = include_str!("../api/docs.html");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api-docs/openapi.json",
            get(|| async {
                ([(header::CONTENT_TYPE, "application/json")], openapi()).into_response()
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
