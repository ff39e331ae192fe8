//! Every file under `tests/data` parses; where expected values ship beside a
//! file (`*.expected.json`, converted from the suites' `.yml`/`.pydata` by
//! `tests/data/convert_expected.py`), our values match them.

use std::path::{Path, PathBuf};

use finseg_core::{Amount, Date};
use finseg_statements::{Balance, BalanceKind, Entry, Format, Statement, camt, mt940};
use serde_json::Value;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn cents(v: &Value) -> i64 {
    let s = v
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| v.to_string());
    // Expected decimals may have more than two digits of trailing zeros or none.
    let f: Vec<&str> = s.splitn(2, '.').collect();
    let frac = f.get(1).copied().unwrap_or("");
    let frac = format!("{frac:0<2}");
    assert!(frac[2..].bytes().all(|b| b == b'0'), "{s}");
    let text = format!("{}.{}", f[0], &frac[..2]);
    Amount::parse(&text)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .cents()
}

fn date(v: &Value) -> Date {
    Date::parse(v.as_str().unwrap()).unwrap()
}

fn opt<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Balances as the python parser reports them: the last one seen of each kind.
fn last_balance(
    statements: &[Statement],
    pick: impl Fn(&Statement) -> Option<Balance>,
) -> Option<Balance> {
    statements.iter().rev().find_map(pick)
}

fn check_balance(file: &str, what: &str, expected: &Value, got: Option<Balance>) {
    let got = got.unwrap_or_else(|| panic!("{file}: {what} missing"));
    assert_eq!(
        got.amount.cents(),
        cents(&expected["amount"]["amount"]),
        "{file}: {what} amount"
    );
    assert_eq!(got.date, date(&expected["date"]), "{file}: {what} date");
    if let Some(c) = expected["amount"]["currency"].as_str() {
        assert_eq!(got.currency.as_str(), c, "{file}: {what} currency");
    }
}

fn check_mt940_entry(file: &str, i: usize, t: &Value, e: &Entry) {
    let ctx = format!("{file}: transaction {i}");
    assert_eq!(
        e.amount.cents(),
        cents(&t["amount"]["amount"]),
        "{ctx}: amount"
    );
    assert_eq!(e.value_date, Some(date(&t["date"])), "{ctx}: value date");
    if let Some(d) = t.get("entry_date") {
        assert_eq!(e.booking_date, date(d), "{ctx}: entry date");
    }
    if let Some(c) = opt(t, "currency") {
        assert_eq!(
            e.currency.map(|c| c.as_str().to_owned()).as_deref(),
            Some(c),
            "{ctx}: currency"
        );
    }
    assert_eq!(e.type_code.as_deref(), opt(t, "id"), "{ctx}: type");
    assert_eq!(
        e.funds_code.map(String::from).as_deref(),
        opt(t, "funds_code"),
        "{ctx}: funds code"
    );
    // A value the python parser gives (an empty string: none). It reports no
    // customer reference when `:86:` has no `KREF+`, even if `:61:` has one;
    // a missing (null) value is therefore not compared.
    for (key, got) in [
        ("customer_reference", e.customer_reference.as_deref()),
        ("bank_reference", e.bank_reference.as_deref()),
        ("extra_details", e.additional_info.as_deref()),
    ] {
        if let Some(want) = opt(t, key) {
            assert_eq!(
                got,
                Some(want.trim()).filter(|s| !s.is_empty()),
                "{ctx}: {key}"
            );
        }
    }
    if let Some(d) = opt(t, "transaction_details") {
        let mine = e.details.as_deref().unwrap_or("");
        if file == "mt940/jejik/ing.sta" && i == 6 {
            // The python parser appends the statement's own `:86:` (after
            // `:62F:`) and the `-XXX` trailer to the last entry; they are
            // not part of the entry.
            assert_eq!(
                d,
                format!("{mine}\nD000004C000002D25,24C28,71\n-XXX"),
                "{ctx}"
            );
        } else {
            assert_eq!(mine, d, "{ctx}: :86: text");
        }
    }
    // German structured :86: fields.
    for (key, got) in [
        ("transaction_code", e.gvc.as_deref()),
        ("posting_text", e.posting_text.as_deref()),
        ("prima_nota", e.prima_nota.as_deref()),
        ("purpose", e.purpose.as_deref()),
        ("applicant_name", e.counterpart_name.as_deref()),
        ("applicant_iban", e.counterpart_account.as_deref()),
        ("applicant_bin", e.counterpart_bank.as_deref()),
        ("applicant_creditor_id", e.creditor_id.as_deref()),
        ("end_to_end_reference", e.end_to_end_reference.as_deref()),
        (
            "additional_position_reference",
            e.mandate_reference.as_deref(),
        ),
        ("return_debit_notes", e.return_code.as_deref()),
    ] {
        if let Some(want) = opt(t, key) {
            assert_eq!(got, Some(want), "{ctx}: {key}");
        }
    }
}

fn check_mt940(path: &Path, expected: &Value) -> usize {
    let file = path.strip_prefix(data()).unwrap().display().to_string();
    let statements =
        mt940::parse(&std::fs::read(path).unwrap()).unwrap_or_else(|e| panic!("{file}: {e}"));
    let entries: Vec<&Entry> = statements.iter().flat_map(|s| &s.entries).collect();
    let txs = expected["transactions"].as_array().unwrap();
    assert_eq!(entries.len(), txs.len(), "{file}: number of transactions");
    for (i, (t, e)) in txs.iter().zip(&entries).enumerate() {
        check_mt940_entry(&file, i, t, e);
    }
    let st = &expected["statement"];
    let last = statements.last().unwrap();
    if let Some(a) = opt(st, "account_identification") {
        assert_eq!(last.account.raw, a, "{file}: account");
    }
    // The python parser keeps the last value seen of each field across statements.
    let seen = |f: fn(&Statement) -> Option<&String>| {
        statements.iter().rev().find_map(f).map(String::as_str)
    };
    for (key, got) in [
        ("transaction_reference", seen(|s| s.reference.as_ref())),
        ("related_reference", seen(|s| s.related_reference.as_ref())),
        ("statement_number", seen(|s| s.number.as_ref())),
        ("sequence_number", seen(|s| s.sequence.as_ref())),
    ] {
        if let Some(want) = opt(st, key) {
            assert_eq!(got, Some(want), "{file}: {key}");
        }
    }
    let kinds = |kind: BalanceKind, opening: bool| {
        move |s: &Statement| if opening { s.opening } else { s.closing }.filter(|b| b.kind == kind)
    };
    for (key, kind, opening) in [
        ("final_opening_balance", BalanceKind::Final, true),
        ("final_closing_balance", BalanceKind::Final, false),
        (
            "intermediate_opening_balance",
            BalanceKind::Intermediate,
            true,
        ),
        (
            "intermediate_closing_balance",
            BalanceKind::Intermediate,
            false,
        ),
    ] {
        if let Some(b) = st.get(key) {
            check_balance(
                &file,
                key,
                b,
                last_balance(&statements, kinds(kind, opening)),
            );
        }
    }
    if let Some(b) = st.get("available_balance") {
        check_balance(
            &file,
            "available_balance",
            b,
            last_balance(&statements, |s| s.available),
        );
    }
    txs.len()
}

/// The `.sta` files of `tests/data/mt940/DIR`, by name.
fn sta_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data().join("mt940").join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sta"))
        .collect();
    files.sort();
    files
}

#[test]
fn mt940_samples_match_their_expected_values() {
    let mut checked = Vec::new();
    for dir in ["cmxl", "jejik"] {
        for sta in sta_files(dir) {
            let expected_path = sta.with_extension("expected.json");
            let expected: Value =
                serde_json::from_str(&std::fs::read_to_string(&expected_path).unwrap()).unwrap();
            let n = check_mt940(&sta, &expected);
            checked.push((sta.file_name().unwrap().to_string_lossy().into_owned(), n));
        }
    }
    assert_eq!(checked.len(), 20, "{checked:?}");
}

/// Files shipped without expected values: they parse, balances add up.
#[test]
fn mt940_samples_without_expected_values_parse_and_balance() {
    for file in [
        "ASNB/mt940.txt",
        "ASNB/mt940_with_spaces_for_entry_date.txt",
        "citi/mt940.txt",
    ] {
        let bytes = std::fs::read(data().join("mt940").join(file)).unwrap();
        assert_eq!(Format::sniff(&bytes), Some(Format::Mt940), "{file}");
        let statements = mt940::parse(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        for s in &statements {
            let (Some(open), Some(close)) = (s.opening, s.closing) else {
                continue;
            };
            let moved: i64 = s.entries.iter().map(|e| e.amount.cents()).sum();
            assert_eq!(
                open.amount.cents() + moved,
                close.amount.cents(),
                "{file}: statement {:?}",
                s.number
            );
        }
        assert!(statements.iter().any(|s| !s.entries.is_empty()), "{file}");
    }
}

#[test]
fn asnb_entry_date_spaces_and_counterparts() {
    let bytes =
        std::fs::read(data().join("mt940/ASNB/mt940_with_spaces_for_entry_date.txt")).unwrap();
    let s = mt940::parse(&bytes).unwrap();
    let e = &s[0].entries[0];
    assert_eq!(e.amount.cents(), -65_00);
    assert_eq!(e.booking_date, Date::from_ymd(2020, 1, 1).unwrap());
    assert_eq!(e.type_code.as_deref(), Some("NOVB"));
    assert_eq!(e.customer_reference.as_deref(), Some("NL47INGB9999999999"));
    assert_eq!(e.additional_info.as_deref(), Some("hr gjlm paulissen"));
    assert!(e.purpose.as_deref().unwrap().contains("Betaling sieraden"));
}

#[test]
fn camt_sample_matches_its_expected_values() {
    let bytes = std::fs::read(data().join("camt/oca-camt053.xml")).unwrap();
    assert_eq!(Format::sniff(&bytes), Some(Format::Camt));
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(data().join("camt/oca-camt053.expected.json")).unwrap(),
    )
    .unwrap();
    let statements = camt::parse(&bytes).unwrap();
    assert_eq!(
        statements.len(),
        expected["statements"].as_array().unwrap().len()
    );
    let s = &statements[0];
    assert_eq!(
        s.account.iban.as_ref().unwrap().as_str(),
        expected["account"].as_str().unwrap()
    );
    assert_eq!(
        s.currency.unwrap().as_str(),
        expected["currency"].as_str().unwrap()
    );
    let want = &expected["statements"][0];
    assert_eq!(s.reference.as_deref(), want["name"].as_str());
    assert_eq!(
        s.opening.unwrap().amount.cents(),
        cents(&want["balance_start"])
    );
    assert_eq!(
        s.closing.unwrap().amount.cents(),
        cents(&want["balance_end_real"])
    );
    assert_eq!(s.closing.unwrap().date, date(&want["date"]));
    let txs = want["transactions"].as_array().unwrap();
    assert_eq!(
        s.entries.len(),
        txs.len(),
        "the batch entry is split into its two transactions"
    );
    for (i, (t, e)) in txs.iter().zip(&s.entries).enumerate() {
        assert_eq!(e.amount.cents(), cents(&t["amount"]), "{i}: amount");
        assert_eq!(e.booking_date, date(&t["date"]), "{i}: date");
        assert_eq!(
            e.counterpart_name.as_deref(),
            t["partner_name"].as_str(),
            "{i}: partner"
        );
        assert_eq!(
            e.counterpart_account.as_deref(),
            t["account_number"].as_str(),
            "{i}: account"
        );
        // The sample's IBANs are made up; only a valid checksum makes an IBAN.
        let valid = t["account_number"]
            .as_str()
            .and_then(|a| finseg_core::Iban::parse(a).ok());
        assert_eq!(e.counterpart_iban, valid, "{i}: IBAN");
        assert_eq!(
            e.end_to_end_reference.as_deref(),
            t["ref"].as_str(),
            "{i}: reference"
        );
        assert_eq!(
            e.bank_transaction_code.as_deref(),
            t["transaction_type"].as_str(),
            "{i}: code"
        );
        // The python importer shows AddtlTxInf as the payment reference; we
        // keep the remittance information as purpose and AddtlTxInf beside it.
        assert_eq!(
            e.additional_info.as_deref(),
            t["payment_ref"].as_str(),
            "{i}: additional info"
        );
        let narration = t["narration"].as_str().unwrap();
        if let Some(p) = &e.purpose {
            assert!(
                narration.contains(&format!("(RmtInf/Ustrd): {p}")),
                "{i}: purpose {p}"
            );
        }
        assert_eq!(
            e.reversal,
            narration.contains("(RvslInd): true"),
            "{i}: reversal"
        );
    }
    assert_eq!(
        s.entries[0].mandate_reference.as_deref(),
        Some("1880000341866")
    );
    assert_eq!(s.entries[1].return_code.as_deref(), Some("AC06"));
}

/// Files from the python `mt940` package's suite that the rules were not
/// written from (betterplace, mBank, Sberbank and the package's own): the
/// same number of entries and the same sum as that independent parser.
#[test]
fn unseen_mt940_files_match_the_independent_count_and_sum() {
    let mut checked = Vec::new();
    let mut failures = Vec::new();
    for dir in ["betterplace", "mBank", "sberbank", "self-provided"] {
        for sta in sta_files(dir) {
            let name = format!("{dir}/{}", sta.file_name().unwrap().to_string_lossy());
            let expected: Value = serde_json::from_str(
                &std::fs::read_to_string(sta.with_extension("expected.json")).unwrap(),
            )
            .unwrap();
            let want: Vec<i64> = expected["transactions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| cents(&t["amount"]["amount"]))
                .collect();
            let bytes = std::fs::read(&sta).unwrap();
            match mt940::parse(&bytes) {
                Ok(statements) => {
                    let got: Vec<i64> = statements
                        .iter()
                        .flat_map(|s| s.entries.iter().map(|e| e.amount.cents()))
                        .collect();
                    // Where the two disagree, the file's own balances decide:
                    // python `mt940` reads a reversal of a credit (`RC`) as a
                    // credit, SWIFT as a debit, and only the latter balances.
                    let balanced = statements.iter().all(|s| match (s.opening, s.closing) {
                        (Some(o), Some(c)) => {
                            let moved: i64 = s.entries.iter().map(|e| e.amount.cents()).sum();
                            o.amount.cents() + moved == c.amount.cents()
                        }
                        _ => false,
                    });
                    if got.len() == want.len()
                        && got.iter().sum::<i64>() != want.iter().sum::<i64>()
                        && balanced
                    {
                        checked.push(format!(
                            "{name} (differs; the file's balances agree with finseg)"
                        ));
                    } else if (got.len(), got.iter().sum::<i64>())
                        != (want.len(), want.iter().sum())
                    {
                        failures.push(format!(
                            "{name}: {} entries summing to {}, expected {} summing to {}",
                            got.len(),
                            got.iter().sum::<i64>(),
                            want.len(),
                            want.iter().sum::<i64>()
                        ));
                    }
                }
                Err(e) if want.is_empty() => checked.push(format!("{name} (refused: {e})")),
                Err(e) => failures.push(format!("{name}: {e}")),
            }
            checked.push(name);
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(checked.len() >= 29, "{checked:?}");
}

/// One sample file per CSV preset (`tests/data/csv`, written from the
/// layouts the banks describe): booked entries, their sum, what the
/// preset reads of the counterpart, and the open items it skips.
#[test]
fn every_csv_preset_reads_its_sample() {
    use finseg_statements::csv::{Mapping, parse};
    // (preset, booked entries, sum in cents, not booked, a counterpart or purpose it reads)
    let cases = [
        ("dkb", 2, 2_787_10, 1, "Beispiel Versicherung AG"),
        ("ing", 3, 2_327_00, 0, "Hausverwaltung Beispiel"),
        ("commerzbank", 2, 2_787_10, 0, "Beitrag Hausratversicherung"),
        ("deutsche-bank", 2, 2_787_10, 0, "Beispiel Versicherung AG"),
        ("postbank", 3, 2_781_10, 0, "Beispiel Versicherung AG"),
        ("comdirect", 2, 2_787_10, 1, "Beitrag Hausratversicherung"),
        ("vr", 2, 2_787_10, 0, "Beispiel Versicherung AG"),
        ("n26", 3, 2_782_60, 0, "Beispiel Versicherung AG"),
        (
            "hypovereinsbank",
            2,
            2_787_10,
            0,
            "Beispiel Versicherung AG",
        ),
        ("consorsbank", 2, 2_787_10, 0, "Beispiel Versicherung AG"),
        ("sparkasse", 2, 2_787_10, 1, "Beispiel Versicherung AG"),
        ("finseg", 2, 2_787_10, 0, "Beispiel Versicherung AG"),
    ];
    let presets: Vec<&str> = cases.iter().map(|c| c.0).collect();
    for preset in Mapping::PRESETS {
        assert!(
            presets.contains(&preset),
            "the preset {preset} has no sample here"
        );
    }
    for (preset, booked, sum, pending, text) in cases {
        let bytes = std::fs::read(data().join(format!("csv/{preset}.csv"))).unwrap();
        let mapping = Mapping::preset(preset).unwrap();
        let statements = parse(&bytes, &mapping).unwrap_or_else(|e| panic!("{preset}: {e}"));
        let entries: Vec<&Entry> = statements.iter().flat_map(|s| &s.entries).collect();
        let (yes, no): (Vec<&&Entry>, Vec<&&Entry>) = entries.iter().partition(|e| e.booked);
        assert_eq!((yes.len(), no.len()), (booked, pending), "{preset}");
        let total: i64 = yes.iter().map(|e| e.amount.cents()).sum();
        assert_eq!(total, sum, "{preset}");
        assert!(
            yes.iter().any(|e| {
                e.counterpart_name.as_deref() == Some(text)
                    || e.purpose.as_deref().is_some_and(|p| p.contains(text))
            }),
            "{preset}: nothing reads '{text}': {yes:#?}"
        );
        assert!(
            yes.iter()
                .all(|e| e.currency.is_some_and(|c| c.as_str() == "EUR")),
            "{preset}"
        );
    }
}

/// CAMT.052, .053 and .054 files of versions 1 to 8 from the suite of the
/// PHP parser genkgo/camt (MIT), which the rules were not written from:
/// the statements, entries and sums per currency that their XML elements
/// give (`tests/data/camt/genkgo/expected.json`, written by
/// `read_elements.py` with Python's standard library). A batch entry split
/// into its transactions counts once, as its `Ntry`.
#[test]
fn unseen_camt_files_match_the_values_their_elements_give() {
    let dir = data().join("camt/genkgo");
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let expected = expected.as_object().unwrap();
    assert!(expected.len() >= 25, "{}", expected.len());
    let mut failures = Vec::new();
    for (name, want) in expected {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let statements = match camt::parse(&bytes) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let entries: Vec<&Entry> = statements.iter().flat_map(|s| &s.entries).collect();
        // The `Ntry` an entry comes from: its path up to a `TxDtls` split.
        let ntry = |e: &Entry| match &e.location {
            finseg_statements::Location::Path(p) => {
                p.split("/NtryDtls/").next().unwrap_or(p).to_owned()
            }
            other => format!("{other:?}"),
        };
        let mut ntrys: Vec<String> = entries.iter().map(|e| ntry(e)).collect();
        ntrys.dedup();
        let mut sums = std::collections::BTreeMap::<String, i64>::new();
        for e in &entries {
            let ccy = e
                .currency
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default();
            *sums.entry(ccy).or_default() += e.amount.cents();
        }
        let want_sums: std::collections::BTreeMap<String, i64> = want["sumMinorUnits"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_i64().unwrap()))
            .collect();
        let got = (statements.len() as u64, ntrys.len() as u64, sums);
        let wanted = (
            want["statements"].as_u64().unwrap(),
            want["entries"].as_u64().unwrap(),
            want_sums,
        );
        if got != wanted {
            failures.push(format!("{name}: got {got:?}, expected {wanted:?}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
