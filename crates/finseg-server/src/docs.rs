//! The API contract, served from the binary: the OpenAPI 3.1 document and
//! an API reference page (Swagger UI, vendored: nothing is fetched from
//! anywhere) where a user enters a token and tries calls.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use finseg_core::segment_types::{JOB_ENVELOPE, SegmentType};
use serde_json::{Value, json};
use std::sync::LazyLock;

use crate::AppState;

const DOCS_PAGE: &str = include_str!("../api/docs.html");
/// The API reference UI the page runs: Swagger UI, vendored.
const SWAGGER_UI_JS: &str = include_str!("../api/vendor/swagger-ui/swagger-ui-bundle.js");
const SWAGGER_UI_CSS: &str = include_str!("../api/vendor/swagger-ui/swagger-ui.css");

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
    let names: Vec<&str> = SegmentType::ALL.iter().map(|t| t.as_str()).collect();
    doc["components"]["schemas"]["SegmentType"]["enum"] = json!(names);
    let paths = doc["paths"].as_object_mut();
    let templates = paths.map(|p| {
        (
            p.remove("/api/v1/segments/{segment}"),
            p.remove("/api/v1/segments/{segment}/{jobId}"),
        )
    });
    let (Some(create), Some(result)) = templates.unwrap_or_default() else {
        return base.to_owned();
    };
    let mut any_of = Vec::new();
    for &segment in SegmentType::ALL {
        let name = segment.as_str();
        let title = format!("{}{}", name[..1].to_uppercase(), &name[1..]);
        let parameters = format!("{title}Parameters");
        let member = format!("{title}Member");
        let schemas = &mut doc["components"]["schemas"];
        schemas[&parameters] = parameters_schema(segment);
        schemas[&member] = segment.member_schema();
        let reference = |schema: &str| json!({"$ref": format!("#/components/schemas/{schema}")});
        any_of.push(reference(&parameters));

        let mut post = create["post"].clone();
        post["operationId"] = json!(format!("create{title}Job"));
        post["summary"] = json!(format!("Create a {name} job over all users of the client."));
        post["description"] = json!(format!(
            "{}\n\n{}",
            segment.description(),
            post["description"].as_str().unwrap_or_default()
        ));
        post["requestBody"]["content"]["application/json"]["schema"] = reference(&parameters);
        doc["paths"][format!("/api/v1/segments/{name}")] = json!({ "post": post });

        let mut get = result["get"].clone();
        get["operationId"] = json!(format!("get{title}Result"));
        get["summary"] = json!(format!("The result of a {name} job."));
        let result_schema = format!("{title}Result");
        let mut typed = doc["components"]["schemas"]["SegmentResult"].clone();
        typed["properties"]["users"] = json!({"type": "array", "items": reference(&member)});
        doc["components"]["schemas"][&result_schema] = typed;
        get["responses"]["200"]["content"]["application/json"]["schema"] =
            reference(&result_schema);
        let job_id = result["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == "jobId").map(|p| json!([p])));
        doc["paths"][format!("/api/v1/segments/{name}/{{jobId}}")] =
            json!({ "parameters": job_id, "get": get });
    }
    doc["components"]["schemas"]["SegmentParameters"]["anyOf"] = json!(any_of);
    // The CSV presets, from the parser's list.
    let operations = doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut());
    for op in operations {
        let params = op.get_mut("parameters").and_then(Value::as_array_mut);
        for param in params.into_iter().flatten() {
            if param["name"] == "preset"
                && param["in"] == "query"
                && let Some(schema) = param.get_mut("schema").and_then(Value::as_object_mut)
            {
                schema.insert(
                    "enum".into(),
                    json!(finseg_statements::csv::Mapping::PRESETS),
                );
            }
        }
    }
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| base.to_owned())
}

/// A type's parameters as a request body: its schema, closed to other
/// members, with the callback URL every job may carry.
fn parameters_schema(segment: SegmentType) -> Value {
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
    schema
}

/// A vendored asset: it changes only with the binary, so a browser may keep it a day.
fn asset(content_type: &'static str, body: &'static str) -> axum::response::Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}

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
        .route(
            "/docs/swagger-ui-bundle.js",
            get(|| async { asset("text/javascript; charset=utf-8", SWAGGER_UI_JS) }),
        )
        .route(
            "/docs/swagger-ui.css",
            get(|| async { asset("text/css; charset=utf-8", SWAGGER_UI_CSS) }),
        )
}
