//! Snapshot of the API contract: a change to the OpenAPI document (paths,
//! methods, status codes, schema properties) fails this test until the
//! snapshot is updated on purpose with `UPDATE_SNAPSHOTS=1`.

use serde_json::Value;

use crate::helpers::TestApp;

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

/// Whether `value` conforms to `schema` as far as this document uses JSON
/// Schema: `$ref`, `allOf`, `anyOf`, `type`, `enum`, `properties` (no
/// others allowed where they are listed), `required` and `items`. `Err`
/// names the first place that does not.
fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        return conforms(doc, &doc["components"]["schemas"][name], value, at);
    }
    if let Some(all) = schema["allOf"].as_array() {
        for s in all {
            conforms(doc, s, value, at)?;
        }
    }
    if let Some(any) = schema["anyOf"].as_array()
        && !any.iter().any(|s| conforms(doc, s, value, at).is_ok())
    {
        return Err(format!("{at}: {value} matches none of {any:?}"));
    }
    let type_ok = |t: &str| match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => false,
    };
    match &schema["type"] {
        Value::String(t) if !type_ok(t) => return Err(format!("{at}: {value} is not {t}")),
        Value::Array(ts) if !ts.iter().filter_map(Value::as_str).any(type_ok) => {
            return Err(format!("{at}: {value} is none of {ts:?}"));
        }
        _ => {}
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let Some(object) = value.as_object() {
        if let Some(properties) = schema["properties"].as_object() {
            for (key, v) in object {
                let Some(s) = properties.get(key) else {
                    return Err(format!("{at}/{key} is not in the schema"));
                };
                conforms(doc, s, v, &format!("{at}/{key}"))?;
            }
        }
        for key in schema["required"].as_array().into_iter().flatten() {
            let key = key.as_str().unwrap_or_default();
            if !object.contains_key(key) {
                return Err(format!("{at}/{key} is required and missing"));
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, v) in array.iter().enumerate() {
            conforms(doc, items, v, &format!("{at}/{i}"))?;
        }
    }
    Ok(())
}

#[test]
fn the_conformance_check_finds_what_does_not_conform() {
    let doc: Value = serde_json::from_str(finseg_server::docs::openapi()).unwrap();
    let member = serde_json::json!({"$ref": "#/components/schemas/HighBalanceMember"});
    let good = serde_json::json!({"userId": "u", "total": 12.5, "accounts": [
        {"accountId": "a", "accountType": "SAVINGS", "amount": 12.5, "balanceDate": "2026-01-01", "aboveThreshold": true}
    ]});
    assert_eq!(conforms(&doc, &member, &good, ""), Ok(()));
    for (pointer, bad) in [
        ("/total", serde_json::json!(true)),
        ("/accounts/0/accountType", serde_json::json!("GIRO")),
        ("/accounts/0/extra", serde_json::json!(1)),
    ] {
        let mut v = good.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        v.pointer_mut(parent).unwrap()[key] = bad;
        assert!(conforms(&doc, &member, &v, "").is_err(), "{pointer}");
    }
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("total");
    assert!(conforms(&doc, &member, &missing, "").is_err());
}

/// Every member of a job of each segment type, and the result around
/// them, is what the OpenAPI document says that type's result holds.
async fn results_conform_to_their_schemas(app: TestApp) {
    let doc = app.get("/api-docs/openapi.json").await.body;
    let today = finseg_server::time::today_in("Europe/Berlin");
    let population: Vec<String> = finseg_gen::Population::new(60, 5, today).collect();
    let r = app.import(&population.join("\n")).await;
    assert_eq!(r.body["rejectedCount"], 0, "{}", r.text);
    for &segment in finseg_core::segment_types::SegmentType::ALL {
        let name = segment.as_str();
        let bodies = match name {
            "lowBalance" => vec![serde_json::json!({"threshold": 100000, "durationInMonth": 2})],
            "highBalance" => vec![serde_json::json!({"threshold": -100000})],
            "financialBreakdown" => vec![
                serde_json::json!({"labelGroups": ["INCOME", "INSURANCE"]}),
                serde_json::json!({"labelGroups": ["RENTANDLIVING"], "includeTransactionIds": true}),
            ],
            "insurance" => vec![serde_json::json!({"includeUsersWithoutContracts": true})],
            _ => vec![serde_json::json!({})],
        };
        let operation = &doc["paths"][format!("/api/v1/segments/{name}/{{jobId}}")]["get"];
        let schema = &operation["responses"]["200"]["content"]["application/json"]["schema"];
        for body in bodies {
            let result = app.run_segment(name, body.clone()).await;
            let members = result["users"].as_array().unwrap();
            assert!(!members.is_empty(), "{name} {body}: no member to check");
            if let Err(e) = conforms(&doc, schema, &result, "") {
                panic!("{name} {body}: {e}");
            }
        }
    }
}

crate::on_both_backends!(results_conform_to_their_schemas);
