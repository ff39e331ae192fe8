use serde_json::json;

use crate::helpers::{TestApp, assert_problem};
use crate::on_both_backends;

/// Records in reverse dependency order, with bad lines between good ones.
const MIXED: &str = concat!(
    r#"{"kind":"transaction","id":"t1","accountId":"a1","amount":"-10.50","currency":"EUR","bookingDate":"2026-09-30"}"#,
    "\n",
    r#"{"kind":"dailyBalance","accountId":"a1","date":"2026-09-30","balance":"89.50"}"#,
    "\n",
    r#"{"kind":"account","id":"a1","userId":"u1","type":"CHECKING","currency":"EUR","balance":"100.00","balanceDate":"2026-09-29"}"#,
    "\n",
    "\n",
    r#"{"kind":"transaction","id":"t2","accountId":"a1","amount":"1e3","currency":"EUR","bookingDate":"2026-10-01"}"#,
    "\n",
    r#"{"kind":"user","id":"u1"}"#,
    "\r\n",
    r#"{"kind":"transaction","id":"t3","accountId":"missing","amount":"1","currency":"EUR","bookingDate":"2026-10-01"}"#,
    "\n",
    r#"{"kind":"spaceship","id":"x"}"#,
    "\n",
    "not json at all\n",
    r#"{"kind":"transaction","id":"t4","accountId":"a1","amount":"5","currency":"USD","bookingDate":"2026-10-01"}"#,
    "\n",
    r#"{"kind":"transaction","id":"t5","accountId":"a1","amount":2.5,"currency":"EUR","bookingDate":"2026-10-02"}"#
);

async fn any_order_with_rejections(app: TestApp) {
    let r = app.import(MIXED).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let s = &r.body;
    assert_eq!(s["lines"], 10);
    assert_eq!(
        s["written"],
        json!({"user": 1, "account": 1, "transaction": 2, "dailyBalance": 1})
    );
    assert_eq!(s["rejectedCount"], 5);
    let rejected: Vec<(u64, &str)> = s["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["pointer"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rejected,
        vec![
            (5, "/amount"),
            (7, "/accountId"),
            (8, "/kind"),
            (9, ""),
            (10, "/currency")
        ]
    );
    assert_eq!(s["rejected"][0]["field"], "amount");

    let page = app.get("/api/v1/accounts/a1/transactions").await;
    let ids: Vec<&str> = page.body["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["t5", "t1"]);
    assert_eq!(page.body["transactions"][0]["amount"].to_string(), "2.50");
    let b = app.get("/api/v1/accounts/a1/dailyBalances").await;
    assert_eq!(b.body["dailyBalances"][0]["balance"].to_string(), "89.50");

    // Re-importing the same body changes nothing (upserts by id).
    let again = app.import(MIXED).await;
    assert_eq!(again.body["written"], s["written"]);
    assert_eq!(
        app.get("/api/v1/accounts/a1").await.body["transactionCount"],
        2
    );
}

/// A line the database refuses (here by a trigger, standing in for any
/// refusal validation did not foresee) is that line's rejection, with its
/// line number; the lines around it in the same batch are stored.
async fn a_line_the_database_refuses_costs_only_itself(app: TestApp) {
    let trigger = match app.backend {
        crate::helpers::Backend::Sqlite => {
            "CREATE TRIGGER IF NOT EXISTS refuse_poison BEFORE INSERT ON transactions
             WHEN NEW.ext_id = 'refused-by-db'
             BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END;"
        }
        crate::helpers::Backend::Postgres => {
            "CREATE OR REPLACE FUNCTION refuse_poison() RETURNS trigger AS $$
             BEGIN
               IF NEW.ext_id = 'refused-by-db' THEN
                 RAISE EXCEPTION 'refused by a test trigger';
               END IF;
               RETURN NEW;
             END $$ LANGUAGE plpgsql;
             DROP TRIGGER IF EXISTS refuse_poison ON transactions;
             CREATE TRIGGER refuse_poison BEFORE INSERT ON transactions
               FOR EACH ROW EXECUTE FUNCTION refuse_poison();"
        }
    };
    app.state.db(move |c| c.batch(trigger)).await.unwrap();
    let tx = |id: &str| {
        format!(
            r#"{{"kind":"transaction","id":"{id}","accountId":"p-acc","amount":"-1.00","currency":"EUR","bookingDate":"2026-10-01"}}"#
        )
    };
    let body = [
        r#"{"kind":"user","id":"p"}"#.to_owned(),
        r#"{"kind":"account","id":"p-acc","userId":"p","type":"CHECKING","currency":"EUR","balance":"0"}"#.to_owned(),
        tx("p1"),
        tx("p2"),
        tx("refused-by-db"),
        tx("p3"),
        r#"{"kind":"user","id":"q"}"#.to_owned(),
    ]
    .join("\n");
    let r = app.import(&body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["written"],
        json!({"user": 2, "account": 1, "transaction": 3, "dailyBalance": 0}),
        "{}",
        r.text
    );
    assert_eq!(r.body["rejectedCount"], 1);
    assert_eq!(r.body["rejected"][0]["line"], 5);
    let reason = r.body["rejected"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("database refused"), "{reason}");
    assert_eq!(
        app.get("/api/v1/accounts/p-acc").await.body["transactionCount"],
        3
    );
    assert_eq!(app.get("/api/v1/users/q").await.status, 200);
    // The next import goes on as usual.
    let r = app.import(&tx("p4")).await;
    assert_eq!(r.body["written"]["transaction"], 1, "{}", r.text);
}

/// A named import whose body breaks off after two batches: its progress
/// says how far it is committed, and a resend of the rest, numbered on
/// from there, completes it with the file's line numbers.
async fn a_named_import_resumes_where_it_broke_off(app: TestApp) {
    let n = 45_000;
    let mut lines = vec![
        r#"{"kind":"user","id":"r"}"#.to_owned(),
        r#"{"kind":"account","id":"r-acc","userId":"r","type":"CHECKING","currency":"EUR","balance":"0"}"#.to_owned(),
    ];
    for i in 0..n {
        let currency = if i == n - 1 { "EURO" } else { "EUR" };
        lines.push(format!(
            r#"{{"kind":"transaction","id":"r{i}","accountId":"r-acc","amount":"-1.{:02}","currency":"{currency}","bookingDate":"2026-10-0{}"}}"#,
            i % 100,
            1 + i % 9
        ));
    }
    let file = lines.join("\n") + "\n";
    let packed = zstd::bulk::compress(file.as_bytes(), 3).unwrap();
    let cut = packed[..packed.len() - 4].to_vec();
    let post = |body: Vec<u8>, query: &str, coding: &str| {
        app.http
            .post(app.url(&format!("/api/v1/import?{query}")))
            .bearer_auth(&app.token)
            .header("content-type", "application/x-ndjson")
            .header("content-encoding", coding)
            .body(body)
    };
    let r = app.send(post(cut, "importId=nightly-1", "zstd")).await;
    assert_problem(&r, 400);
    let through = r.body["committedThroughLine"].as_u64().unwrap();
    assert!((20_000..45_002).contains(&through), "{}", r.text);
    let p = app.get("/api/v1/imports/nightly-1").await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert_eq!(p.body["status"], "INTERRUPTED");
    assert_eq!(p.body["committedThroughLine"], through);
    assert_eq!(p.body["lines"], through);
    let rest = lines[through as usize..].join("\n");
    let query = format!("importId=nightly-1&firstLine={}", through + 1);
    let r = app.send(post(rest.into_bytes(), &query, "identity")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["rejected"][0]["line"], 45_002,
        "the file's numbering"
    );
    let p = app.get("/api/v1/imports/nightly-1").await;
    assert_eq!(p.body["status"], "COMPLETED", "{}", p.text);
    assert_eq!(p.body["committedThroughLine"], 45_002);
    assert_eq!(p.body["lines"], 45_002);
    assert_eq!(p.body["written"]["transaction"], n - 1);
    assert_eq!(p.body["rejectedCount"], 1);
    assert_eq!(
        app.get("/api/v1/accounts/r-acc").await.body["transactionCount"],
        n - 1
    );
    // Unknown and malformed names.
    assert_problem(&app.get("/api/v1/imports/nope").await, 404);
    let r = app
        .send(post(
            b"{}".to_vec(),
            "importId=a%20b&firstLine=0",
            "identity",
        ))
        .await;
    assert_problem(&r, 400);
    let pointers = crate::helpers::pointers(&r.body);
    assert!(pointers.contains(&"/importId".to_owned()), "{}", r.text);
    assert!(pointers.contains(&"/firstLine".to_owned()), "{}", r.text);
}

async fn large_import_streams_in_batches(app: TestApp) {
    // More lines than one write batch, so several transactions commit.
    let mut body = String::from("{\"kind\":\"user\",\"id\":\"big\"}\n");
    body.push_str(r#"{"kind":"account","id":"big-acc","userId":"big","type":"CHECKING","currency":"EUR","balance":"0"}"#);
    body.push('\n');
    let n = 12_345;
    for i in 0..n {
        body.push_str(&format!(
            r#"{{"kind":"transaction","id":"b{i}","accountId":"big-acc","amount":"-{}.{:02}","currency":"EUR","bookingDate":"2026-0{}-1{}"}}"#,
            i % 100,
            i % 100,
            1 + i % 9,
            i % 10
        ));
        body.push('\n');
    }
    let r = app.import(&body).await;
    assert_eq!(r.status, 200, "{}", &r.text[..r.text.len().min(500)]);
    assert_eq!(r.body["written"]["transaction"], n);
    assert_eq!(r.body["rejectedCount"], 0);
    assert_eq!(
        app.get("/api/v1/accounts/big-acc").await.body["transactionCount"],
        n
    );
}

/// One run of transactions in which some ids are stored already and one
/// repeats: the multi-row insert cannot take the run, so it is written row
/// by row, and every id ends with its last version.
async fn taken_and_repeated_ids_in_one_run(app: TestApp) {
    let tx = |id: &str, amount: &str, day: &str| {
        format!(
            r#"{{"kind":"transaction","id":"{id}","accountId":"acc","amount":"{amount}","currency":"EUR","bookingDate":"2026-10-{day}"}}"#
        ) + "\n"
    };
    let head = concat!(
        r#"{"kind":"user","id":"u"}"#,
        "\n",
        r#"{"kind":"account","id":"acc","userId":"u","type":"CHECKING","currency":"EUR","balance":"0"}"#,
        "\n"
    );
    let first = format!(
        "{head}{}{}",
        tx("x1", "-1.00", "01"),
        tx("x2", "-2.00", "02")
    );
    assert_eq!(app.import(&first).await.body["written"]["transaction"], 2);
    // 100 lines in one run: x1 replaced, x3 twice, the rest new.
    let mut second = tx("x1", "-11.00", "11");
    second += &tx("x3", "-3.00", "03");
    for i in 0..96 {
        second += &tx(&format!("n{i:02}"), "-0.50", "05");
    }
    second += &tx("x3", "-33.00", "13");
    second += &tx("x4", "-4.00", "04");
    let r = app.import(&second).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["written"]["transaction"], 100);
    assert_eq!(r.body["rejectedCount"], 0);
    let account = app.get("/api/v1/accounts/acc").await;
    assert_eq!(account.body["transactionCount"], 2 + 96 + 2);
    let page = app
        .get("/api/v1/accounts/acc/transactions?perPage=500")
        .await;
    let by_id = |id: &str| {
        page.body["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .map(|t| {
                (
                    t["amount"].to_string(),
                    t["bookingDate"].as_str().unwrap().to_owned(),
                )
            })
            .unwrap()
    };
    assert_eq!(by_id("x1"), ("-11.00".to_owned(), "2026-10-11".to_owned()));
    assert_eq!(by_id("x2"), ("-2.00".to_owned(), "2026-10-02".to_owned()));
    assert_eq!(by_id("x3"), ("-33.00".to_owned(), "2026-10-13".to_owned()));
    assert_eq!(by_id("x4"), ("-4.00".to_owned(), "2026-10-04".to_owned()));
    assert_eq!(by_id("n95"), ("-0.50".to_owned(), "2026-10-05".to_owned()));
}

async fn bad_bodies(app: TestApp) {
    let r = app
        .send(
            app.http
                .post(app.url("/api/v1/import"))
                .bearer_auth(&app.token)
                .header("content-type", "application/json")
                .body("{}"),
        )
        .await;
    assert_problem(&r, 415);
    // A line that is not UTF-8 is reported, the others are written.
    let mut body = b"{\"kind\":\"user\",\"id\":\"ok\"}\n".to_vec();
    body.extend_from_slice(b"{\"kind\":\"user\",\"id\":\"\xff\xfe\"}\n");
    let r = app
        .send(
            app.http
                .post(app.url("/api/v1/import"))
                .bearer_auth(&app.token)
                .header("content-type", "application/x-ndjson")
                .body(body),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["written"]["user"], 1);
    assert_eq!(r.body["rejected"][0]["line"], 2);
    assert!(
        r.body["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("UTF-8")
    );
    // A line longer than 1 MiB is refused by number, and the lines after
    // it are written.
    let long = format!(
        "{{\"kind\":\"user\",\"id\":\"long\",\"pad\":\"{}\"}}",
        "x".repeat(1 << 20)
    );
    let r = app
        .import(&format!(
            "{{\"kind\":\"user\",\"id\":\"before\"}}\n{long}\n{{\"kind\":\"user\",\"id\":\"after\"}}\n"
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["written"]["user"], 2);
    assert_eq!(r.body["rejectedCount"], 1);
    assert_eq!(r.body["rejected"][0]["line"], 2);
    assert_eq!(
        r.body["rejected"][0]["reason"],
        "the line is longer than 1 MiB"
    );
    assert_eq!(app.get("/api/v1/users/after").await.status, 200);
    assert_eq!(app.get("/api/v1/users/long").await.status, 404);
}

/// A body sent with `Content-Encoding: zstd` imports as the same body
/// sent plain; another coding is refused, a cut body reports what was kept.
async fn zstd_bodies(app: TestApp) {
    let post = |body: Vec<u8>, coding: &str| {
        app.http
            .post(app.url("/api/v1/import"))
            .bearer_auth(&app.token)
            .header("content-type", "application/x-ndjson")
            .header("content-encoding", coding)
            .body(body)
    };
    let packed = zstd::bulk::compress(MIXED.as_bytes(), 3).unwrap();
    let r = app.send(post(packed, "zstd")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["lines"], 10);
    assert_eq!(
        r.body["written"],
        json!({"user": 1, "account": 1, "transaction": 2, "dailyBalance": 1})
    );
    assert_eq!(r.body["rejectedCount"], 5);
    assert_eq!(r.body["rejected"][0]["line"], 5);
    let page = app.get("/api/v1/accounts/a1/transactions").await;
    let stored: Vec<(&str, String)> = page.body["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap(), t["amount"].to_string()))
        .collect();
    assert_eq!(
        stored,
        vec![("t5", "2.50".to_owned()), ("t1", "-10.50".to_owned())]
    );

    let r = app
        .send(post(b"{\"kind\":\"user\",\"id\":\"g\"}\n".to_vec(), "gzip"))
        .await;
    assert_problem(&r, 415);
    assert_eq!(r.body["header"], "Content-Encoding");
    assert_eq!(app.get("/api/v1/users/g").await.status, 404);

    // Plain text sent as zstd, and a body cut inside its frame: nothing
    // of either is written, and the answer says so.
    let app = &app;
    let broken_off = |body: Vec<u8>, detail: &'static str| {
        let req = post(body, "zstd");
        async move {
            let r = app.send(req).await;
            assert_problem(&r, 400);
            assert!(
                r.body["detail"].as_str().unwrap().contains(detail),
                "{}",
                r.text
            );
            r
        }
    };
    broken_off(
        b"{\"kind\":\"user\",\"id\":\"p\"}\n".to_vec(),
        "not valid zstd",
    )
    .await;
    assert_eq!(app.get("/api/v1/users/p").await.status, 404);
    let whole = zstd::bulk::compress(b"{\"kind\":\"user\",\"id\":\"c\"}\n", 3).unwrap();
    let r = broken_off(whole[..whole.len() - 4].to_vec(), "ends inside a frame").await;
    assert_eq!(r.body["committedThroughLine"], 0);
    assert_eq!(app.get("/api/v1/users/c").await.status, 404);
}

/// An empty body (curl sends one for a file it did not find) is a 400,
/// not a report of nothing imported.
async fn an_empty_body_is_refused(app: TestApp) {
    for body in ["", "\n\n"] {
        let r = app.import(body).await;
        assert_problem(&r, 400);
        assert!(r.text.contains("no lines"), "{}", r.text);
    }
}

on_both_backends!(
    an_empty_body_is_refused,
    a_line_the_database_refuses_costs_only_itself,
    a_named_import_resumes_where_it_broke_off,
    zstd_bodies,
    any_order_with_rejections,
    large_import_streams_in_batches,
    taken_and_repeated_ids_in_one_run,
    bad_bodies
);
