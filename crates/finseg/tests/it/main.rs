//! The `finseg` binary driven as operators and scripts drive it.

mod process;
mod readme;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn finseg(data_dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_finseg"));
    c.env_remove("FINSEG_DATABASE_URL")
        .env("FINSEG_DATA_DIR", data_dir)
        .env("FINSEG_LOG", "warn");
    c
}

/// Runs the command, asserts that it succeeded (showing its stderr) and
/// returns its stdout.
fn stdout_of(command: &mut Command) -> Vec<u8> {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    // Directories of earlier, ended runs (named by their process id) go;
    // only where processes can be seen.
    static CLEAN: std::sync::Once = std::sync::Once::new();
    CLEAN.call_once(|| {
        if !std::path::Path::new("/proc/self").exists() {
            return;
        }
        for e in std::fs::read_dir(std::env::temp_dir())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(pid) = name
                .strip_prefix("finseg-cli-")
                .and_then(|r| r.rsplit('-').next())
            else {
                continue;
            };
            if !pid.is_empty()
                && pid.bytes().all(|b| b.is_ascii_digit())
                && !std::path::Path::new(&format!("/proc/{pid}")).exists()
            {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    });
    let d = std::env::temp_dir().join(format!("finseg-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn create_client(dir: &std::path::Path) -> Value {
    let stdout = stdout_of(finseg(dir).args(["clients", "create", "--name", "Bank A", "--json"]));
    let stdout = String::from_utf8(stdout).unwrap();
    assert_eq!(
        stdout.trim().lines().count(),
        1,
        "exactly one JSON object: {stdout}"
    );
    serde_json::from_str(stdout.trim()).unwrap()
}

/// Generates `users` users (seed 5), imports them for the client through
/// the CLI, and returns the generated NDJSON.
fn import_generated(dir: &std::path::Path, client_id: &str, users: u32) -> Vec<u8> {
    let generated = finseg(dir)
        .args(["generate", "--users", &users.to_string(), "--seed", "5"])
        .output()
        .unwrap();
    let ndjson = dir.join("data.ndjson");
    std::fs::write(&ndjson, &generated.stdout).unwrap();
    stdout_of(
        finseg(dir)
            .args(["import", "--client", client_id])
            .arg(&ndjson),
    );
    generated.stdout
}

#[test]
fn clients_create_json_prints_exactly_the_credentials() {
    let dir = temp_dir("clients");
    let v = create_client(&dir);
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3);
    for k in ["clientId", "clientSecret", "webhookSecret"] {
        assert!(v[k].as_str().is_some_and(|s| s.len() >= 16), "{k}: {v}");
    }
    // The secret is not stored in plain text.
    let db = std::fs::read(dir.join("finseg.db")).unwrap();
    let wal = std::fs::read(dir.join("finseg.db-wal")).unwrap_or_default();
    let secret = v["clientSecret"].as_str().unwrap().as_bytes();
    for bytes in [&db, &wal] {
        assert!(!bytes.windows(secret.len()).any(|w| w == secret));
    }
    let human = finseg(&dir)
        .args(["clients", "create", "--name", "Bank B"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8(human.stdout)
            .unwrap()
            .contains("client_secret:")
    );
}

#[test]
fn import_ndjson_file_from_the_cli() {
    let dir = temp_dir("import");
    let client = create_client(&dir);
    let file = dir.join("data.ndjson");
    let generated = finseg(&dir)
        .args(["generate", "--users", "3", "--seed", "5"])
        .output()
        .unwrap();
    assert!(generated.status.success());
    let mut body = generated.stdout.clone();
    body.extend_from_slice(b"{\"kind\":\"transaction\",\"id\":\"bad\"}\n");
    std::fs::write(&file, &body).unwrap();
    let lines = body
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count() as u64;

    let run = finseg(&dir)
        .args([
            "import",
            "--client",
            client["clientId"].as_str().unwrap(),
            "--format",
            "ndjson",
        ])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    // Progress on stderr; the summary alone on stdout.
    assert!(
        stderr.contains("finseg import: ") && stderr.contains(" lines committed"),
        "{stderr}"
    );
    let out = run.stdout;
    let summary: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(summary["lines"], lines);
    assert_eq!(summary["written"]["user"], 3);
    assert_eq!(summary["rejectedCount"], 1, "{summary}");
    assert_eq!(
        summary["rejected"].as_array().unwrap().len(),
        4,
        "one entry per missing field"
    );
    assert_eq!(summary["rejected"][0]["line"], lines);

    let unknown = finseg(&dir)
        .args(["import", "--client", "fsc_nobody", "--format", "ndjson"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no client"));
    let bad_format = finseg(&dir)
        .args(["import", "--client", "x", "--format", "xls"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!bad_format.status.success());
}

#[test]
fn import_statement_files_from_the_cli() {
    let dir = temp_dir("statements");
    let client = create_client(&dir);
    let id = client["clientId"].as_str().unwrap();
    import_generated(&dir, id, 1);
    // An MT940 statement for the generated checking account (its IBAN).
    let sta = dir.join("statement.sta");
    std::fs::write(
        &sta,
        ":20:1\n:25:COBADEFFXXX/DE32100200300000000010\n:28C:1/1\n:60F:C260102EUR100,00\n\
         :61:2601050105D12,34NDDTNONREF//99\n:86:105?00SEPA-BASISLASTSCHRIFT?20SVWZ+Beitrag?32ADAC\n\
         :61:2601050105C1,00NTRFNONREF\n:86:166?00GUTSCHRIFT?20Erstattung\n:62F:C260105EUR88,66\n-\n",
    )
    .unwrap();
    let import = |extra: &[&str]| {
        let out = finseg(&dir)
            .args(["import", "--client", id, "--format", "mt940"])
            .args(extra)
            .arg(&sta)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, stdout, stderr) = import(&["--account", "demo-user-000001-checking"]);
    assert!(ok, "{stderr}");
    let summary: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (summary["new"].as_u64(), summary["duplicates"].as_u64()),
        (Some(2), Some(0)),
        "{summary}"
    );
    let (ok, stdout, _) = import(&["--account", "demo-user-000001-checking"]);
    assert!(ok);
    let summary: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (summary["new"].as_u64(), summary["duplicates"].as_u64()),
        (Some(0), Some(2)),
        "{summary}"
    );
    // Without --format the file's format is detected, as the API does.
    let out = finseg(&dir)
        .args([
            "import",
            "--client",
            id,
            "--account",
            "demo-user-000001-checking",
        ])
        .arg(&sta)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["format"], "mt940", "{summary}");
    assert_eq!(summary["duplicates"].as_u64(), Some(2), "{summary}");
    // Without --account each statement goes to the account it names.
    let (ok, stdout, stderr) = import(&[]);
    assert!(ok, "{stderr}");
    let routed: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(routed["accounts"][0]["status"], "IMPORTED", "{routed}");
    assert_eq!(
        routed["accounts"][0]["accountId"],
        "demo-user-000001-checking"
    );
    assert_eq!(
        routed["accounts"][0]["summary"]["duplicates"], 2,
        "{routed}"
    );
    // Into an account with another IBAN.
    let (ok, _, stderr) = import(&["--account", "demo-user-000001-savings"]);
    assert!(!ok, "{stderr}");
}

#[test]
fn export_writes_csv_with_labels() {
    let dir = temp_dir("export");
    let client = create_client(&dir);
    let id = client["clientId"].as_str().unwrap();
    let generated = import_generated(&dir, id, 2);
    let tx_lines = String::from_utf8_lossy(&generated)
        .lines()
        .filter(|l| l.contains("\"kind\":\"transaction\""))
        .count();
    let out = dir.join("csv");
    let run = stdout_of(
        finseg(&dir)
            .args(["export", "--client", id, "--out"])
            .arg(&out),
    );
    let counts: Value = serde_json::from_slice(&run).unwrap();
    assert_eq!(counts["transactions"], tx_lines as u64);
    let txs = std::fs::read_to_string(out.join("transactions.csv")).unwrap();
    assert_eq!(
        txs.lines().count(),
        tx_lines + 1,
        "header plus one line per transaction"
    );
    assert!(txs.starts_with("transaction_id,account_id,amount,booking_date,labels,"));
    assert!(txs.contains(",RENT,"), "labels are exported by name");
    let groups = std::fs::read_to_string(out.join("label_groups.csv")).unwrap();
    assert!(groups.contains("INCOME,SALARY"));
}

/// `finseg coverage` reports the client's data as the API does: every
/// imported transaction counted, the labelled ones among them.
#[test]
fn coverage_reports_what_labelling_covers() {
    let dir = temp_dir("coverage");
    let client = create_client(&dir);
    let id = client["clientId"].as_str().unwrap();
    let generated = import_generated(&dir, id, 2);
    let tx_lines = String::from_utf8_lossy(&generated)
        .lines()
        .filter(|l| l.contains("\"kind\":\"transaction\""))
        .count() as u64;
    let report: Value = serde_json::from_slice(&stdout_of(
        finseg(&dir).args(["coverage", "--client", id, "--top", "3"]),
    ))
    .unwrap();
    assert_eq!(report["transactions"], tx_lines, "{report}");
    let labelled = report["labelled"]["transactions"].as_u64().unwrap();
    assert!(labelled > 0 && labelled <= tx_lines, "{report}");
    assert!(
        report["unlabelled"]["counterpartsByCount"]
            .as_array()
            .unwrap()
            .len()
            <= 3
    );
    let bad = finseg(&dir)
        .args(["coverage", "--client", id, "--top", "0"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

/// `clients delete` erases a client's data; the client is then unknown to
/// every command, and deleting it again is an error.
#[test]
fn deleting_a_client_erases_it() {
    let dir = temp_dir("delete-client");
    let client = create_client(&dir);
    let id = client["clientId"].as_str().unwrap();
    import_generated(&dir, id, 2);
    let out = stdout_of(finseg(&dir).args(["clients", "delete", "--client", id]));
    assert!(String::from_utf8_lossy(&out).contains(id));
    let coverage = finseg(&dir)
        .args(["coverage", "--client", id, "--top", "3"])
        .output()
        .unwrap();
    assert!(
        !coverage.status.success(),
        "a deleted client has no coverage"
    );
    let again = finseg(&dir)
        .args(["clients", "delete", "--client", id])
        .output()
        .unwrap();
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("no client"), "{err}");
    // The error names the database it looked in.
    assert!(err.contains("finseg.db"), "{err}");
}

#[test]
fn openapi_prints_the_document() {
    let dir = temp_dir("openapi");
    let out = finseg(&dir).arg("openapi").output().unwrap();
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
}

/// `finseg serve` on the embedded default: starts, answers, and stops cleanly on SIGTERM.
#[test]
fn serve_starts_and_stops_on_sigterm() {
    let dir = temp_dir("serve");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = finseg(&dir)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("FINSEG_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut ok = false;
    while Instant::now() < deadline {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut r = String::new();
            let _ = std::io::Read::read_to_string(&mut s, &mut r);
            ok = r.starts_with("HTTP/1.1 200") && r.contains("\"UP\"");
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(ok, "no healthy answer");
    assert!(dir.join("finseg.db").exists());
    send_sigterm(child.id());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let logs: Vec<String> = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .collect();
    assert!(
        logs.iter().any(|l| l.contains("finseg stopped")),
        "{logs:?}"
    );
    // Not a terminal: plain text, no colour codes.
    assert!(!logs.iter().any(|l| l.contains('\x1b')), "{logs:?}");
}

/// `finseg demo` started twice on one data directory keeps its client and
/// says that it issued a new secret (the first start says nothing of it).
#[test]
fn a_restarted_demo_says_its_secret_is_new() {
    let dir = temp_dir("demo-restart");
    let start = || {
        let (mut child, out, _) = start_demo(&dir, 3);
        send_sigterm(child.id());
        child.wait().unwrap();
        out.join("\n")
    };
    let id = |out: &str| {
        out.lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("client_id:")
                    .map(|v| v.trim().to_owned())
            })
            .unwrap()
    };
    let first = start();
    assert!(!first.contains("a new secret"), "{first}");
    let second = start();
    assert!(second.contains("a new secret"), "{second}");
    assert_eq!(id(&first), id(&second), "the same demo client");
}

/// Starts `finseg demo` with `users` users on a free port, with its data
/// in `dir`; returns it, what it printed up to the ready message, and the port.
fn start_demo(dir: &std::path::Path, users: u32) -> (std::process::Child, Vec<String>, u16) {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = finseg(dir)
        .args([
            "demo",
            "--users",
            &users.to_string(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let done = line.contains("API docs:");
        out.push(line);
        if done {
            break;
        }
    }
    (child, out, port)
}

fn send_sigterm(pid: u32) {
    let ok = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

/// `finseg eval` on the held-out corpus: the labelling and contract quality
/// targets of the labelling issue hold (a rule change that breaks them fails here).
#[test]
fn eval_scores_the_held_out_corpus() {
    let dir = temp_dir("eval");
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../eval/corpus");
    let out = stdout_of(
        finseg(&dir)
            .args(["eval", "--split", "heldout", "--corpus"])
            .arg(&corpus),
    );
    let text = String::from_utf8(out).unwrap();
    let number_after = |line_start: &str, marker: &str| -> f64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(line_start))
            .unwrap_or_else(|| panic!("{line_start} in {text}"));
        let rest = &line[line
            .find(marker)
            .unwrap_or_else(|| panic!("{marker} in {line}"))
            + marker.len()..];
        rest.trim_start()
            .split([' ', '(', ','])
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(number_after("macro-F1", "RENTANDLIVING:") >= 0.95, "{text}");
    assert!(number_after("contracts:", "precision") >= 0.97, "{text}");
    assert!(number_after("contracts:", "recall") >= 0.95, "{text}");
    assert!(text.contains("SALARY"), "{text}");
    let external = String::from_utf8(stdout_of(
        finseg(&dir).args(["eval", "--corpus", "external", "--split", "heldout"]),
    ))
    .unwrap();
    assert!(external.contains("(External), split heldout"), "{external}");
    assert!(external.contains("macro-F1 over the labels"), "{external}");
    assert!(external.contains("contracts:"), "{external}");
    // Rule authors read the dev half only.
    let read_heldout = finseg(&dir)
        .args([
            "eval",
            "--corpus",
            "external",
            "--split",
            "heldout",
            "--explain",
        ])
        .output()
        .unwrap();
    assert!(!read_heldout.status.success());
    let dev = String::from_utf8(stdout_of(finseg(&dir).args([
        "eval",
        "--corpus",
        "external",
        "--split",
        "dev",
        "--explain",
    ])))
    .unwrap();
    assert!(
        dev.contains("label miss:") || dev.contains("macro-F1"),
        "{dev}"
    );
    // The counts of detected contracts that match none are what the
    // held-out half tells of them: one matched, one at another user.
    let small = dir.join("small-corpus");
    std::fs::create_dir_all(&small).unwrap();
    let line = |id: &str, user: &str, counterpart: &str, purpose: &str, contract: &str| {
        format!(
            r#"{{"id": "{id}", "userId": "{user}", "accountId": "{user}-acc", "currency": "EUR", "amount": "-12.34", "bookingDate": "2026-03-02", "purpose": "{purpose}", "counterpartName": "{counterpart}", "expectedLabels": ["HOUSEHOLDINSURANCE"], "source": {{"repository": "example/fixtures", "path": "{user}.csv", "commit": "0", "licence": "CC0-1.0"}}{contract}}}"#
        )
    };
    std::fs::write(
        small.join("dev.jsonl"),
        [
            line(
                "s1",
                "u1",
                "HUK-COBURG",
                "Hausratversicherung 4711",
                r#", "contract": {"provider": "HUK-COBURG", "insuranceType": "HOUSEHOLD", "amount": "12.34"}"#,
            ),
            line("s2", "u2", "Beispiel Makler", "Hausratversicherung 4712", ""),
        ]
        .join("\n"),
    )
    .unwrap();
    std::fs::write(small.join("heldout.jsonl"), "").unwrap();
    let counts = String::from_utf8(stdout_of(
        finseg(&dir)
            .args(["eval", "--split", "dev", "--corpus"])
            .arg(&small),
    ))
    .unwrap();
    assert!(
        counts.contains("contracts: 1 true, 2 detected, 1 matched")
            && counts.contains(
                "unmatched detected contracts: 0 at a true contract's user and amount, 1 elsewhere (of which 1 of a user without any true contract)"
            )
            && counts.contains("(provider in the directory / not): HOUSEHOLD 0/1"),
        "{counts}"
    );
    let bad = finseg(&dir)
        .args(["eval", "--split", "tuesday", "--corpus"])
        .arg(&corpus)
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

/// One HTTP/1.1 request to a local server; the status code and the body.
fn http(port: u16, request: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut r = String::new();
    let _ = std::io::Read::read_to_string(&mut s, &mut r);
    let status = r.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = r.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
    (status, body)
}

fn token_status(port: u16, id: &str, secret: &str) -> u16 {
    let form = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    http(
        port,
        &format!(
            "POST /oauth/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        ),
    )
    .0
}

/// `clients list` shows every live client with its users; `clients
/// rotate-secret` prints a new secret that works while the old one no
/// longer does, on a running server.
#[test]
fn clients_are_listed_and_their_secrets_rotated() {
    let dir = temp_dir("clients-list");
    let first = create_client(&dir);
    let second = create_client(&dir);
    let id = first["clientId"].as_str().unwrap();
    import_generated(&dir, id, 2);
    let listed: Value =
        serde_json::from_slice(&stdout_of(finseg(&dir).args(["clients", "list", "--json"])))
            .unwrap();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["clientId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id, second["clientId"].as_str().unwrap()]);
    assert_eq!(listed[0]["users"], 2, "{listed}");
    assert_eq!(listed[1]["users"], 0, "{listed}");
    let table = String::from_utf8(stdout_of(finseg(&dir).args(["clients", "list"]))).unwrap();
    assert!(table.lines().nth(1).unwrap().starts_with(id), "{table}");

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = finseg(&dir)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let old_secret = first["clientSecret"].as_str().unwrap();
    assert_eq!(token_status(port, id, old_secret), 200);
    let rotated: Value = serde_json::from_slice(&stdout_of(finseg(&dir).args([
        "clients",
        "rotate-secret",
        "--client",
        id,
        "--json",
    ])))
    .unwrap();
    let new_secret = rotated["clientSecret"].as_str().unwrap();
    assert_ne!(new_secret, old_secret);
    assert_eq!(rotated["webhookSecret"], first["webhookSecret"]);
    assert_eq!(token_status(port, id, old_secret), 401);
    assert_eq!(token_status(port, id, new_secret), 200);
    send_sigterm(child.id());
    child.wait().unwrap();

    let unknown = finseg(&dir)
        .args(["clients", "rotate-secret", "--client", "fsc_nobody"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no client 'fsc_nobody'"));
}

/// `finseg relabel` re-applies the rules to a client's stored transactions
/// and shows its progress on stderr, the counts alone on stdout.
#[test]
fn relabel_shows_progress() {
    let dir = temp_dir("relabel");
    let client = create_client(&dir);
    let id = client["clientId"].as_str().unwrap();
    let generated = import_generated(&dir, id, 2);
    let transactions = String::from_utf8_lossy(&generated)
        .lines()
        .filter(|l| l.contains("\"kind\":\"transaction\""))
        .count();
    let run = finseg(&dir)
        .args(["relabel", "--client", id])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains("finseg relabel: ") && stderr.contains("transactions examined"),
        "{stderr}"
    );
    let done: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(done["examined"], transactions as u64, "{done}");
    assert_eq!(done["changed"], 0, "the rules did not change: {done}");
}

/// `finseg import --preset` takes the presets the parser has, and names
/// them all when given another.
#[test]
fn import_presets_are_the_parsers() {
    let dir = temp_dir("presets");
    let run = finseg(&dir)
        .args(["import", "--client", "fsc_x", "--preset", "nobank", "x.csv"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    for preset in finseg_statements::csv::Mapping::PRESETS {
        assert!(stderr.contains(preset), "{preset}: {stderr}");
    }
}
