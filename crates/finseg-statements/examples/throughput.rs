//! Parse throughput per format, on synthetic German statement files of
//! about `--mb` megabytes each (default 64), built in memory.
//!
//! `cargo run --release -p finseg-statements --example throughput [-- --mb 64]`

use std::time::Instant;

use finseg_statements::{Format, csv::Mapping, parse};

fn mt940(target: usize) -> Vec<u8> {
    let mut out = String::with_capacity(target + 4096);
    let mut n = 0u64;
    while out.len() < target {
        out += &format!(
            ":20:STARTUMS\r\n:25:10020030/0532013000\r\n:28C:{n}/1\r\n:60F:C240101EUR1000,00\r\n"
        );
        for i in 0..50 {
            out += &format!(
                ":61:2401{d:02}01{d:02}DR{a},{c:02}NDDTNONREF//{n}{i}\r\n\
                 :86:105?00SEPA-BASISLASTSCHRIFT?109310?20EREF+E2E{n}{i}?21MREF+KFZ-778899?22CRED+DE12ZZZ0000001234\r\n\
                 5?23SVWZ+Kfz-Versicherung Vertrag?24 4711-0815 Beitrag {i}?30COBADEFFXXX?31DE89370400440532013000\r\n\
                 ?32HUK-COBURG Versicherung\r\n",
                d = i % 28 + 1,
                a = 10 + i,
                c = i % 100
            );
        }
        out += ":62F:C240131EUR500,00\r\n-\r\n";
        n += 1;
    }
    out.into_bytes()
}

fn camt(target: usize) -> Vec<u8> {
    let mut out = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>M</MsgId></GrpHdr>"#,
    );
    let mut n = 0u64;
    while out.len() < target {
        out += r#"<Stmt><Id>S</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-01-31</Dt></Dt></Bal>"#;
        for i in 0..50 {
            out += &format!(
                r#"<Ntry><Amt Ccy="EUR">{a}.{c:02}</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2024-01-{d:02}</Dt></BookgDt><ValDt><Dt>2024-01-{d:02}</Dt></ValDt><AcctSvcrRef>{n}-{i}</AcctSvcrRef>
<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RDDT</Cd><SubFmlyCd>ESDD</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><TxDtls><Refs><EndToEndId>E2E{n}{i}</EndToEndId><MndtId>KFZ-778899</MndtId></Refs>
<RltdPties><Cdtr><Pty><Nm>HUK-COBURG Versicherung</Nm></Pty></Cdtr><CdtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></CdtrAcct></RltdPties>
<RmtInf><Ustrd>Kfz-Versicherung Vertrag 4711-0815 Beitrag {i}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
"#,
                a = 10 + i,
                c = i % 100,
                d = i % 28 + 1
            );
        }
        out += "</Stmt>";
        n += 1;
    }
    out += "</BkToCstmrStmt></Document>";
    out.into_bytes()
}

fn csv(target: usize) -> Vec<u8> {
    let mut out = String::from(
        "\"Auftragskonto\";\"Buchungstag\";\"Valutadatum\";\"Buchungstext\";\"Verwendungszweck\";\"Glaeubiger ID\";\"Mandatsreferenz\";\"Kundenreferenz (End-to-End)\";\"Sammlerreferenz\";\"Lastschrift Ursprungsbetrag\";\"Auslagenersatz Ruecklastschrift\";\"Beguenstigter/Zahlungspflichtiger\";\"Kontonummer/IBAN\";\"BIC (SWIFT-Code)\";\"Betrag\";\"Waehrung\";\"Info\"\r\n",
    );
    let mut i = 0u64;
    while out.len() < target {
        out += &format!(
            "\"DE89370400440532013000\";\"{d:02}.01.24\";\"{d:02}.01.24\";\"FOLGELASTSCHRIFT\";\"Kfz-Versicherung Vertrag 4711-0815 Beitrag {i}\";\"DE12ZZZ00000012345\";\"KFZ-778899\";\"E2E{i}\";\"\";\"\";\"\";\"HUK-COBURG Versicherung\";\"DE89370400440532013000\";\"COBADEFFXXX\";\"-{a},{c:02}\";\"EUR\";\"Umsatz gebucht\"\r\n",
            d = i % 28 + 1,
            a = 10 + i % 90,
            c = i % 100
        );
        i += 1;
    }
    out.into_bytes()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mb: usize = args
        .iter()
        .position(|a| a == "--mb")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let target = mb * 1024 * 1024;
    let preset = Mapping::preset("sparkasse").expect("preset");
    println!("format    size_MB  entries  best_s  MB/s  entries/s  (best of 3)");
    for (format, bytes) in [
        (Format::Mt940, mt940(target)),
        (Format::Camt, camt(target)),
        (Format::Csv, csv(target)),
    ] {
        let mut best = f64::MAX;
        let mut entries = 0;
        for _ in 0..3 {
            let t = Instant::now();
            let statements = parse(format, &bytes, Some(&preset)).expect("synthetic file parses");
            let secs = t.elapsed().as_secs_f64();
            entries = statements.iter().map(|s| s.entries.len()).sum::<usize>();
            best = best.min(secs);
        }
        let size = bytes.len() as f64 / (1024.0 * 1024.0);
        println!(
            "{:<9} {:>7.1} {:>8} {:>7.3} {:>5.1} {:>10.0}",
            format.as_str(),
            size,
            entries,
            best,
            size / best,
            entries as f64 / best
        );
    }
}
