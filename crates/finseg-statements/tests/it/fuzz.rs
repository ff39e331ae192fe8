//! The parsers never panic: random bytes, and valid files mutated byte-wise
//! (flips, insertions, deletions, truncations, duplicated spans). The suite
//! runs 2,000 cases per target; a long run sets the count:
//! `FINSEG_FUZZ_CASES=1000000 cargo test --release -p finseg-statements --test it fuzz`.

use finseg_statements::{Format, csv::Mapping, parse};
use proptest::prelude::*;

const MT940: &[u8] = include_bytes!("../data/mt940/cmxl/mt940.sta");
const MT940_DE: &[u8] = include_bytes!("../data/mt940/cmxl/statement_details.sta");
const CAMT: &[u8] = include_bytes!("../data/camt/oca-camt053.xml");
const CSV: &[u8] =
    b"bookingDate,valueDate,amount,currency,purpose,counterpartName,counterpartIban\n\
2024-01-02,2024-01-02,-12.50,EUR,\"Beitrag, Januar\",HUK,DE89370400440532013000\n\
2024-01-03,,1000,EUR,Gehalt,Firma,\n";

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (
            any::<usize>(),
            prop::collection::vec(
                prop_oneof![
                    any::<u8>(),
                    Just(b':'),
                    Just(b'?'),
                    Just(b'<'),
                    Just(b'\n'),
                    Just(b'"'),
                    Just(b',')
                ],
                1..12
            )
        )
            .prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<usize>(), 1usize..40).prop_map(|(i, n)| Edit::Delete(i, n)),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), 1usize..200).prop_map(|(i, n)| Edit::Duplicate(i, n)),
    ];
    prop::collection::vec(edit, 1..8)
}

fn mutate(base: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut v = base.to_vec();
    for e in edits {
        let len = v.len().max(1);
        match e {
            Edit::Flip(i, b) => {
                if !v.is_empty() {
                    v[i % len] = *b;
                }
            }
            Edit::Insert(i, bytes) => {
                let at = i % (v.len() + 1);
                v.splice(at..at, bytes.iter().copied());
            }
            Edit::Delete(i, n) => {
                let at = i % len;
                let end = (at + n).min(v.len());
                if at < end {
                    v.drain(at..end);
                }
            }
            Edit::Truncate(i) => v.truncate(i % len),
            Edit::Duplicate(i, n) => {
                let at = i % len;
                let end = (at + n).min(v.len());
                if at < end {
                    let copy = v[at..end].to_vec();
                    v.splice(end..end, copy);
                }
            }
        }
    }
    v
}

/// Seeds beside the samples: the per-preset CSV files (`tests/data/csv`) and
/// CAMT files of other versions (`tests/data/camt/genkgo`).
const PRESET_SAMPLES: [&[u8]; 12] = [
    include_bytes!("../data/csv/dkb.csv"),
    include_bytes!("../data/csv/ing.csv"),
    include_bytes!("../data/csv/commerzbank.csv"),
    include_bytes!("../data/csv/deutsche-bank.csv"),
    include_bytes!("../data/csv/postbank.csv"),
    include_bytes!("../data/csv/comdirect.csv"),
    include_bytes!("../data/csv/vr.csv"),
    include_bytes!("../data/csv/n26.csv"),
    include_bytes!("../data/csv/hypovereinsbank.csv"),
    include_bytes!("../data/csv/consorsbank.csv"),
    include_bytes!("../data/camt/genkgo/camt052.v1.xml"),
    include_bytes!("../data/camt/genkgo/camt054.v8.xml"),
];

fn all_parsers(bytes: &[u8]) {
    let mapping = Mapping::preset("finseg").unwrap();
    for format in [Format::Mt940, Format::Camt, Format::Csv] {
        let _ = parse(format, bytes, Some(&mapping));
    }
    let _ = Format::sniff(bytes);
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("FINSEG_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        all_parsers(&bytes);
    }

    #[test]
    fn mutated_mt940_never_panics(e in edits()) {
        all_parsers(&mutate(MT940, &e));
        all_parsers(&mutate(MT940_DE, &e));
    }

    #[test]
    fn mutated_camt_never_panics(e in edits()) {
        all_parsers(&mutate(CAMT, &e));
    }

    #[test]
    fn mutated_csv_never_panics(e in edits()) {
        all_parsers(&mutate(CSV, &e));
    }

    /// Every preset on a mutated sample of a bank's layout (open items,
    /// a second table, preambles, other encodings).
    #[test]
    fn mutated_preset_samples_never_panic(e in edits(), k in 0usize..64) {
        let preset = Mapping::PRESETS[k % Mapping::PRESETS.len()];
        let sample = PRESET_SAMPLES[k % PRESET_SAMPLES.len()];
        if let Some(mapping) = Mapping::preset(preset) {
            let _ = finseg_statements::csv::parse(&mutate(sample, &e), &mapping);
        }
    }
}
