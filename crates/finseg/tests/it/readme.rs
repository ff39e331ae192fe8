//! The README's shell examples run as written against a demo server.
//!
//! Every block fenced ```` ```sh ```` is run (a block fenced `sh norun` is
//! shown, not run: it starts a server or runs for minutes), in order, in a
//! copy of `docs/examples/`, with the variables the demo prints set
//! (`ID`, `SECRET`, `TOKEN`), `finseg` on the `PATH` and `localhost:8080`
//! pointing at the demo. `curl` fails on an HTTP error answer, so an example
//! that gets a 4xx or 5xx fails the test with its README line.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One command of a README example: its text with continuation lines
/// joined, and the README line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Example {
    line: usize,
    command: String,
}

/// The commands of the runnable shell blocks of `markdown`.
fn examples(markdown: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut in_block = None::<bool>;
    let mut pending: Option<Example> = None;
    for (i, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            in_block = match in_block {
                None => {
                    let mut words = info.split_whitespace();
                    let runnable = words.next() == Some("sh") && words.next() != Some("norun");
                    Some(runnable)
                }
                Some(_) => None,
            };
            continue;
        }
        if in_block != Some(true) {
            continue;
        }
        let text = match &pending {
            Some(_) => line.trim(),
            None => {
                let t = line.trim();
                if t.is_empty() || t.starts_with('#') {
                    continue;
                }
                t
            }
        };
        let (text, continued) = match text.strip_suffix('\\') {
            Some(t) => (t.trim_end(), true),
            None => (text, false),
        };
        let mut example = pending.take().unwrap_or(Example {
            line: i + 1,
            command: String::new(),
        });
        if !example.command.is_empty() {
            example.command.push(' ');
        }
        example.command.push_str(text);
        if continued {
            pending = Some(example);
        } else {
            out.push(example);
        }
    }
    out.extend(pending);
    out
}

/// A bash script that runs `examples` one after another and stops at the
/// first that fails, naming its README line.
fn script(examples: &[Example], base_url: &str) -> String {
    // An HTTP error answer fails curl, unless the example asks for --fail
    // itself (the two options exclude each other).
    let mut s = String::from(
        "set -o pipefail\n\
         curl() {\n\
           case \" $* \" in\n\
             *\" -f \"*|*\" -sf \"*|*\" -fs \"*|*\" --fail \"*) command curl --silent --show-error --max-time 60 \"$@\" ;;\n\
             *) command curl --silent --show-error --fail-with-body --max-time 60 \"$@\" ;;\n\
           esac\n\
         }\n",
    );
    for e in examples {
        let command = e.command.replace("localhost:8080", base_url);
        s.push_str(&format!("echo {} > .example-line\n", e.line));
        s.push_str(&format!(
            "{{ {command}\n}} >.example-output 2>&1 || {{ cat .example-output >&2; echo \"README.md line {}: the example failed: {}\" >&2; exit 1; }}\n",
            e.line,
            e.command.replace('\\', "\\\\").replace('"', "\\\"").replace('$', "\\$").replace('`', "\\`"),
        ));
    }
    s
}

/// Runs `script` with bash in `dir`; `Err` with what it printed if it fails.
fn run(script: &str, dir: &Path, env: &[(&str, String)]) -> Result<(), String> {
    // An example that never ends (a poll of a job that failed) is stopped.
    let out = Command::new("timeout")
        .args(["120", "bash", "-c"])
        .arg(script)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        return Ok(());
    }
    let timed_out = out.status.code() == Some(124);
    let line = std::fs::read_to_string(dir.join(".example-line")).unwrap_or_default();
    Err(format!(
        "{}{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        if timed_out {
            format!(
                "README.md line {}: the example did not end within 120 s",
                line.trim()
            )
        } else {
            String::new()
        }
    ))
}

#[test]
fn the_extractor_joins_continuations_and_skips_what_is_not_run() {
    let md = "text\n```sh\n# a comment\ncurl a \\\n  -d 'x'\n\nJOB=$(echo 1)\n```\n\
              ```sh norun\nfinseg serve\n```\n```json\n{}\n```\n```sh\necho $JOB\n```\n";
    assert_eq!(
        examples(md),
        [
            Example {
                line: 4,
                command: "curl a -d 'x'".into()
            },
            Example {
                line: 7,
                command: "JOB=$(echo 1)".into()
            },
            Example {
                line: 16,
                command: "echo $JOB".into()
            },
        ]
    );
}

/// A broken example fails the run and is named by its line; a working
/// one passes; an HTTP error answer counts as a failure.
#[test]
fn a_broken_example_fails_with_its_line() {
    let dir = std::env::temp_dir();
    let good = examples("```sh\nX=1\ntest \"$X\" = 1\n```\n");
    assert_eq!(run(&script(&good, "unused"), &dir, &[]), Ok(()));
    let broken = examples("```sh\necho fine\nls /no/such/file\n```\n");
    let err = run(&script(&broken, "unused"), &dir, &[]).unwrap_err();
    assert!(err.contains("README.md line 3"), "{err}");
    // Nothing listens on port 9: curl's failure is the example's.
    let http = examples("```sh\ncurl localhost:8080/health\n```\n");
    let err = run(&script(&http, "127.0.0.1:9"), &dir, &[]).unwrap_err();
    assert!(err.contains("README.md line 2"), "{err}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with("population") {
            continue;
        }
        std::fs::copy(entry.path(), to.join(name)).unwrap();
    }
}

#[test]
fn readme_examples_run_against_a_demo() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let examples = examples(&readme);
    assert!(examples.len() >= 25, "{examples:?}");
    let dir = super::temp_dir("readme");
    let work = dir.join("examples");
    copy_dir(&root.join("docs/examples"), &work);
    let data = dir.join("data");
    let (mut demo, printed, port) = super::start_demo(&data, 20);
    let exports = printed
        .iter()
        .find_map(|l| l.trim().strip_prefix("export "))
        .unwrap_or_else(|| panic!("the demo printed no export line: {printed:?}"));
    let mut env: Vec<(&str, String)> = exports
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .filter_map(|(k, v)| {
            ["ID", "SECRET", "TOKEN"]
                .into_iter()
                .find(|n| *n == k)
                .map(|n| (n, v.to_owned()))
        })
        .collect();
    assert_eq!(env.len(), 3, "{exports}");
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_finseg"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    env.push(("PATH", path));
    env.push(("FINSEG_DATA_DIR", data.display().to_string()));
    let outcome = run(
        &script(&examples, &format!("127.0.0.1:{port}")),
        &work,
        &env,
    );
    super::send_sigterm(demo.id());
    demo.wait().unwrap();
    if let Err(e) = outcome {
        panic!("{e}");
    }
    // The examples did what they say: the polled job's result was kept.
    let result: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.join("result.json")).unwrap()).unwrap();
    assert_eq!(result["status"], "COMPLETED", "{result}");
}
