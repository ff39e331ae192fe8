//! The bulk format's common case read without serde: a flat JSON object
//! whose values are strings, numbers, `true`, `false` or `null`.
//!
//! serde_json's derive was a fifth of the import's parsing thread (a key
//! compared against every field name, each value skipped twice: once to
//! find it, once to capture it). This reads such an object in one pass
//! and hands back the same raw values serde would. Anything else (nested
//! values, a key with an escape, a repeated field, a control character in
//! a string, invalid JSON of any kind) is not read here: the caller falls
//! back to serde, which then gives the answer or the error it always gave.
//! Whatever this accepts is valid JSON, read as serde reads it; a property
//! test checks that against serde on random objects.

use super::{Raw, RawFields};

/// Reads the raw fields of `json` into `f` (empty when called) if it is a
/// flat object; `false` (with `f` partly filled) to let serde read it.
pub(super) fn flat_object<'a>(json: &'a str, f: &mut RawFields<'a>) -> bool {
    read(json, f).is_some()
}

fn read<'a>(json: &'a str, f: &mut RawFields<'a>) -> Option<()> {
    let b = json.as_bytes();
    // Fields seen, by their bit in `slot`: serde refuses a repeated field.
    let mut seen = 0u64;
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return (skip_ws(b, i + 1) == b.len()).then_some(());
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_start = i + 1;
        let key_end = plain_run_end(b, key_start);
        if b.get(key_end) != Some(&b'"') {
            return None;
        }
        let key = &b[key_start..key_end];
        i = skip_ws(b, key_end + 1);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        let value_start = i;
        let escaped;
        (i, escaped) = value_end(b, i)?;
        if let Some((bit, field)) = slot(f, key) {
            if seen & bit != 0 {
                return None;
            }
            seen |= bit;
            let text = &json[value_start..i];
            // serde reads `null` into an absent Option.
            *field = (text != "null").then_some(Raw {
                text,
                plain: !escaped,
            });
        }
        i = skip_ws(b, i);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return (skip_ws(b, i + 1) == b.len()).then_some(()),
            _ => return None,
        }
    }
}

/// The first byte at or after `i` that is not JSON whitespace. Lines
/// written by programs have none between tokens: one comparison then.
#[inline(always)]
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    if b.get(i).is_none_or(|&c| c > b' ') {
        return i;
    }
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The end of the scalar value at `i`, and whether it is a string with a
/// backslash in it; `None` if it is not a scalar.
fn value_end(b: &[u8], i: usize) -> Option<(usize, bool)> {
    let plain = |end: Option<usize>| end.map(|e| (e, false));
    match *b.get(i)? {
        b'"' => string_end(b, i + 1),
        b'-' | b'0'..=b'9' => plain(number_end(b, i)),
        b't' => plain(literal_end(b, i, b"true")),
        b'f' => plain(literal_end(b, i, b"false")),
        b'n' => plain(literal_end(b, i, b"null")),
        _ => None,
    }
}

/// The end (after the closing quote) of the string whose text starts at
/// `i`, and whether it has an escape.
fn string_end(b: &[u8], mut i: usize) -> Option<(usize, bool)> {
    let mut escaped = false;
    loop {
        i = plain_run_end(b, i);
        match *b.get(i)? {
            b'"' => return Some((i + 1, escaped)),
            b'\\' => {
                escaped = true;
                i += 1;
                match *b.get(i)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 1,
                    b'u' => {
                        let hex = b.get(i + 1..i + 5)?;
                        if !hex.iter().all(u8::is_ascii_hexdigit) {
                            return None;
                        }
                        i += 5;
                    }
                    _ => return None,
                }
            }
            // A control character.
            _ => return None,
        }
    }
}

/// The first byte at or after `i` that ends a run of plain string text: a
/// quote, a backslash or a control character (or the end). Eight bytes a
/// step: a word's lowest flagged byte is exactly its first special one
/// (a borrow can flag a later byte wrongly, never an earlier one).
fn plain_run_end(b: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    while let Some(chunk) = b.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let special = has_zero(x ^ (ONES * u64::from(b'"')))
            | has_zero(x ^ (ONES * u64::from(b'\\')))
            // Bytes below 0x20: x - 0x20 borrows into the high bit.
            | (x.wrapping_sub(ONES * 0x20) & !x & HIGH);
        if special != 0 {
            return i + (special.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

/// The end of the JSON number at `i` (RFC 8259's grammar).
fn number_end(b: &[u8], mut i: usize) -> Option<usize> {
    if b[i] == b'-' {
        i += 1;
    }
    match *b.get(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => i = digits_end(b, i),
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        let after = digits_end(b, i + 1);
        if after == i + 1 {
            return None;
        }
        i = after;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let after = digits_end(b, i);
        if after == i {
            return None;
        }
        i = after;
    }
    Some(i)
}

fn digits_end(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

fn literal_end(b: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    b[i..].starts_with(word).then_some(i + word.len())
}

/// The field a key names (as serde's derive names them), with its bit.
fn slot<'f, 'a>(f: &'f mut RawFields<'a>, key: &[u8]) -> Option<(u64, &'f mut Option<Raw<'a>>)> {
    let (bit, field) = match key {
        b"kind" => (0, &mut f.kind),
        b"id" => (1, &mut f.id),
        b"userId" => (2, &mut f.user_id),
        b"accountId" => (3, &mut f.account_id),
        b"type" => (4, &mut f.account_type),
        b"currency" => (5, &mut f.currency),
        b"balance" => (6, &mut f.balance),
        b"balanceDate" => (7, &mut f.balance_date),
        b"iban" => (8, &mut f.iban),
        b"name" => (9, &mut f.name),
        b"overdraftLimit" => (10, &mut f.overdraft_limit),
        b"dataSince" => (11, &mut f.data_since),
        b"date" => (12, &mut f.date),
        b"amount" => (13, &mut f.amount),
        b"bookingDate" => (14, &mut f.booking_date),
        b"bankBookingDate" => (15, &mut f.bank_booking_date),
        b"valueDate" => (16, &mut f.value_date),
        b"purpose" => (17, &mut f.purpose),
        b"counterpartName" => (18, &mut f.counterpart_name),
        b"counterpartIban" => (19, &mut f.counterpart_iban),
        b"counterpartBic" => (20, &mut f.counterpart_bic),
        b"creditorId" => (21, &mut f.creditor_id),
        b"counterpartCreditorId" => (22, &mut f.counterpart_creditor_id),
        b"mandateReference" => (23, &mut f.mandate_reference),
        b"counterpartMandateReference" => (24, &mut f.counterpart_mandate_reference),
        b"endToEndReference" => (25, &mut f.end_to_end_reference),
        b"bankTransactionCode" => (26, &mut f.bank_transaction_code),
        b"typeCodeZka" => (27, &mut f.type_code_zka),
        b"typeCodeSwift" => (28, &mut f.type_code_swift),
        b"sepaPurposeCode" => (29, &mut f.sepa_purpose_code),
        b"mcc" => (30, &mut f.mcc),
        b"labels" => (31, &mut f.labels),
        _ => return None,
    };
    Some((1 << bit, field))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn serde(json: &str) -> Option<RawFields<'_>> {
        serde_json::from_str::<RawFields>(json).ok()
    }

    fn scan(json: &str) -> Option<RawFields<'_>> {
        let mut f = RawFields::default();
        flat_object(json, &mut f).then_some(f)
    }

    #[test]
    fn a_bulk_line_is_read_here_with_serde_s_values() {
        let line = r#"{"kind":"transaction","id":"t-1","accountId":"a-1","amount":"-1020.00","currency":"EUR","bookingDate":"2025-09-01","purpose":"Miete \"09\" \u00e4","mcc":5411,"counterpartIban":null,"extra":true}"#;
        let f = scan(line).expect("a flat object");
        assert_eq!(f.kind, Some(Raw::new(r#""transaction""#)));
        assert_eq!(f.purpose, Some(Raw::new(r#""Miete \"09\" \u00e4""#)));
        assert_eq!(f.mcc, Some(Raw::new("5411")));
        assert!(f.kind.unwrap().plain && !f.purpose.unwrap().plain);
        assert_eq!(f.counterpart_iban, None);
        assert_eq!(Some(f), serde(line));
        assert_eq!(scan(" { } "), Some(RawFields::default()));
    }

    #[test]
    fn anything_else_is_left_to_serde() {
        for json in [
            r#"{"labels":["RENT"]}"#,
            r#"{"id":"a","id":"b"}"#,
            r#"{"id":null,"id":"b"}"#,
            r#"{"i\u0064":"a"}"#,
            "{\"id\":\"a\tb\"}",
            r#"{"amount":01}"#,
            r#"{"amount":1.}"#,
            r#"{"amount":-}"#,
            r#"{"id":"a"} x"#,
            r#"{"id":"a",}"#,
            r#"{"id":"a\x"}"#,
            r#"{"id":"a\u12"}"#,
            r#"["transaction"]"#,
            r#"{"id":"a""#,
            "",
        ] {
            assert_eq!(scan(json), None, "{json}");
        }
    }

    const KEYS: &[&str] = &[
        "kind",
        "id",
        "userId",
        "accountId",
        "type",
        "currency",
        "balance",
        "balanceDate",
        "iban",
        "name",
        "overdraftLimit",
        "dataSince",
        "date",
        "amount",
        "bookingDate",
        "bankBookingDate",
        "valueDate",
        "purpose",
        "counterpartName",
        "counterpartIban",
        "counterpartBic",
        "creditorId",
        "counterpartCreditorId",
        "mandateReference",
        "counterpartMandateReference",
        "endToEndReference",
        "bankTransactionCode",
        "typeCodeZka",
        "typeCodeSwift",
        "sepaPurposeCode",
        "mcc",
        "labels",
        "unknown",
        "Kind",
        "account_id",
        "i\\u0064",
    ];

    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            // Strings with escapes, quotes, controls and non-ASCII text.
            proptest::collection::vec(
                prop_oneof![
                    Just("a".to_owned()),
                    Just("ä €".to_owned()),
                    Just("\\\"".to_owned()),
                    Just("\\\\".to_owned()),
                    Just("\\n".to_owned()),
                    Just("\\u00e4".to_owned()),
                    Just("\\ud800".to_owned()),
                    Just("\\u12".to_owned()),
                    Just("\\x".to_owned()),
                    Just("\t".to_owned()),
                    Just("\"".to_owned()),
                ],
                0..4
            )
            .prop_map(|p| format!("\"{}\"", p.concat())),
            prop_oneof![
                Just("0"),
                Just("-12.50"),
                Just("1e5"),
                Just("1E-3"),
                Just("01"),
                Just("1."),
                Just("-"),
                Just(".5"),
                Just("1e"),
                Just("12345678901234567890123"),
            ]
            .prop_map(str::to_owned),
            prop_oneof![
                Just("true"),
                Just("false"),
                Just("null"),
                Just("nul"),
                Just("truex"),
                Just("[\"RENT\"]"),
                Just("{}"),
                Just("[]"),
                Just("{\"a\":1}"),
            ]
            .prop_map(str::to_owned),
        ]
    }

    fn ws() -> impl Strategy<Value = &'static str> {
        prop_oneof![Just(""), Just(""), Just(" "), Just("\t\r\n")]
    }

    fn object() -> impl Strategy<Value = String> {
        (
            proptest::collection::vec((proptest::sample::select(KEYS), piece(), ws(), ws()), 0..8),
            ws(),
            prop_oneof![
                Just(""),
                Just(""),
                Just(""),
                Just(","),
                Just(" x"),
                Just("}")
            ],
            any::<bool>(),
        )
            .prop_map(|(members, w, tail, cut)| {
                let body: Vec<String> = members
                    .iter()
                    .map(|(k, v, a, b)| format!("{a}\"{k}\"{b}:{a}{v}{b}"))
                    .collect();
                let mut s = format!("{w}{{{}}}{tail}{w}", body.join(","));
                if cut {
                    let mut n = s.len() / 2;
                    while !s.is_char_boundary(n) {
                        n -= 1;
                    }
                    s.truncate(n);
                }
                s
            })
    }

    proptest! {
        #[test]
        fn a_run_of_plain_text_ends_at_the_first_special_byte(
            bytes in proptest::collection::vec(
                // Mostly plain bytes, so that whole words of them occur.
                prop_oneof![
                    8 => proptest::sample::select(&[b'a', 0x20, 0x7f, 0x80, 0xc3, 0xff][..]),
                    1 => proptest::sample::select(&[b'"', b'\\', 0x00, 0x1f][..]),
                ],
                0..40,
            ),
            start in 0usize..8,
        ) {
            let start = start.min(bytes.len());
            let naive = bytes[start..]
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                .map_or(bytes.len(), |p| start + p);
            prop_assert_eq!(plain_run_end(&bytes, start), naive);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn what_is_read_here_is_what_serde_reads(json in object()) {
            if let Some(fields) = scan(&json) {
                // A value said to be plain has no backslash.
                for raw in [fields.id, fields.kind, fields.purpose, fields.amount, fields.mcc].into_iter().flatten() {
                    prop_assert!(!raw.plain || !raw.get().contains('\\'), "{}", json);
                }
                prop_assert_eq!(Some(fields), serde(&json), "{}", json);
            }
        }
    }

    #[test]
    fn the_generator_s_kinds_of_line_are_read_here() {
        // One line of each kind `finseg generate` writes.
        for line in [
            r#"{"kind":"user","id":"demo-user-000001"}"#,
            r#"{"kind":"account","id":"demo-user-000001-checking","userId":"demo-user-000001","type":"CHECKING","currency":"EUR","balance":"3761.51","balanceDate":"2026-12-04","iban":"DE32100200300000000010","dataSince":"2025-09-01","overdraftLimit":"2000.00"}"#,
            r#"{"kind":"transaction","id":"demo-user-000001-checking-00001","accountId":"demo-user-000001-checking","amount":"-97.98","currency":"EUR","bookingDate":"2025-09-03","valueDate":"2025-09-03","purpose":"Berufsunfähigkeitsversicherung Vers.-Nr. 65783712 Beitrag 09/2025","counterpartName":"NÜRNBERGER Lebensversicherung AG","creditorId":"DE36ZZZ00010000021","mandateReference":"NU65783712","bankTransactionCode":"105","sepaPurposeCode":"INSU"}"#,
        ] {
            let fields = scan(line).expect("read here");
            assert_eq!(Some(fields), serde(line));
        }
    }
}
