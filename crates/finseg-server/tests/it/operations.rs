use crate::helpers::TestApp;
use crate::on_both_backends;

async fn health_and_metrics(app: TestApp) {
    let r = app.send(app.http.get(app.url("/health"))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "UP");
    assert_eq!(r.body["database"]["status"], "UP");
    let expected = match app.backend {
        crate::helpers::Backend::Sqlite => "sqlite",
        crate::helpers::Backend::Postgres => "postgres",
    };
    assert_eq!(r.body["database"]["backend"], expected);

    app.import(
        "{\"kind\":\"user\",\"id\":\"m1\"}\n{\"kind\":\"user\",\"id\":\"m2\"}\n{\"kind\":\"x\"}",
    )
    .await;
    let res = app
        .http
        .get(app.url("/metrics"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-me-42");
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();
    assert!(
        text.contains("finseg_ingested_records_total{kind=\"user\"} 2"),
        "{text}"
    );
    assert!(text.contains("finseg_rejected_records_total 1"), "{text}");
    assert!(
        text.contains(
            "finseg_http_requests_total{method=\"POST\",route=\"/api/v1/import\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains(
        "finseg_http_request_duration_seconds_bucket{route=\"/api/v1/import\",le=\"+Inf\"} 1"
    ));
}

/// Every operation of the OpenAPI document is served (not answered by the
/// fallback), so the document cannot promise what the service lacks.
async fn openapi_matches_the_routes(app: TestApp) {
    let r = app
        .send(app.http.get(app.url("/api-docs/openapi.json")))
        .await;
    assert_eq!(r.status, 200);
    let doc = r.body;
    assert_eq!(doc["openapi"], "3.1.0");
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "put", "post", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            operations += 1;
            let concrete = path
                .replace("{id}", "some-id")
                .replace("{segment}", "lowBalance")
                .replace("{jobId}", "00000000-0000-4000-8000-000000000000");
            let req = app
                .http
                .request(method.to_uppercase().parse().unwrap(), app.url(&concrete))
                .bearer_auth(&app.token);
            let res = app.send(req).await;
            assert_ne!(
                res.status, 405,
                "{method} {path} is documented but not routed"
            );
            if res.status == 404 {
                assert!(
                    !res.body["detail"]
                        .as_str()
                        .unwrap_or("")
                        .starts_with("there is no route"),
                    "{method} {path} is not routed"
                );
            }
            // Every documented status code set includes the one returned.
            let codes: Vec<&String> = item[method]["responses"]
                .as_object()
                .unwrap()
                .keys()
                .collect();
            assert!(
                codes.iter().any(|c| c.as_str() == res.status.as_str()),
                "{method} {path} answered {} which is not documented ({codes:?}): {}",
                res.status,
                res.text
            );
        }
    }
    assert!(operations >= 22, "{operations}");
    // Responses carry only documented properties (checked on an account).
    app.user_with_account("doc").await;
    let account = app.get("/api/v1/accounts/doc-acc").await.body;
    let schema = &doc["components"]["schemas"]["Account"]["properties"];
    for key in account.as_object().unwrap().keys() {
        assert!(
            schema.get(key).is_some(),
            "Account.{key} is not in the OpenAPI document"
        );
    }
    for required in doc["components"]["schemas"]["Account"]["required"]
        .as_array()
        .unwrap()
    {
        assert!(account.get(required.as_str().unwrap()).is_some());
    }
    let docs = app.send(app.http.get(app.url("/docs"))).await;
    assert_eq!(docs.status, 200);
    assert!(docs.text.contains("/api-docs/openapi.json"));
    assert!(
        !docs.text.contains("https://"),
        "the docs page must not load anything from the internet"
    );
}

async fn graceful_shutdown(mut app: TestApp) {
    assert_eq!(app.send(app.http.get(app.url("/health"))).await.status, 200);
    app.shutdown();
    let server = app.server.take().unwrap();
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), server).await;
    assert!(
        matches!(ended, Ok(Ok(Ok(())))),
        "server did not stop cleanly"
    );
    let after = reqwest::Client::new().get(app.url("/health")).send().await;
    assert!(after.is_err(), "still answering after shutdown");
}

on_both_backends!(
    health_and_metrics,
    openapi_matches_the_routes,
    graceful_shutdown
);
