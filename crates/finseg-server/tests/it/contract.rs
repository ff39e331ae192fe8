//! Snapshot of the API contract: a change to the OpenAPI document (paths,
//! methods, status codes, schema properties) fails this test until the
//! snapshot is updated on purpose with `UPDATE_SNAPSHOTS=1`.

use serde_json::Value;

fn summary(doc: &Value) -> String {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            let codes: Vec<&str> = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            let auth = if op
                .get("security")
                .is_some_and(|s| s.as_array().is_some_and(Vec::is_empty))
            {
                " (public)"
            } else {
                ""
            };
            out.push(format!(
                "{} {path} -> {}{auth}",
                method.to_uppercase(),
                codes.join(" ")
            ));
        }
    }
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        let props: Vec<String> = schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        out.push(format!(
            "schema {name}: [{}] required [{}]",
            props.join(", "),
            required.join(", ")
        ));
    }
    out.sort();
    out.join("\n") + "\n"
}

#[test]
fn openapi_contract_snapshot() {
    let doc: Value =
        serde_json::from_str(finseg_server::docs::openapi()).expect("the document is JSON");
    let actual = summary(&doc);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/snapshots/openapi-contract.txt");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "the API contract changed; if intended, run UPDATE_SNAPSHOTS=1 cargo test -p finseg-server --test it contract\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}
