//! MT940 (customer statement) and MT942 (interim report), SWIFT text.
//!
//! A file is a sequence of `:TAG:` fields; `:20:` starts a statement, `:61:`
//! an entry, and the `:86:` after a `:61:` describes it. Lines before the
//! first tag, SWIFT envelope blocks (`{1:…}{4:`) and `-` terminators are
//! skipped. `:86:` is read in the German structured form (`GVC?00…?20…`,
//! any separator character), the Dutch `/CODE/value` form, or as free text.

use finseg_core::{Amount, Currency, Date, Iban};

use crate::text::{self, clean, digits, yymmdd};
use crate::{AccountIdent, Balance, BalanceKind, Entry, Location, ParseError, Statement, Warning};

/// One `:TAG:` field and its continuation lines.
struct Field<'a> {
    tag: &'a str,
    line: usize,
    lines: Vec<&'a str>,
}

pub fn parse(bytes: &[u8]) -> Result<Vec<Statement>, ParseError> {
    let text = text::decode(bytes, None);
    let fields = fields(&text);
    let mut statements: Vec<Statement> = Vec::new();
    let mut current: Option<Statement> = None;
    // The `:86:` that follows a `:61:` belongs to that entry only.
    let mut last_was_entry = false;
    for f in &fields {
        let loc = Location::Line(f.line);
        let first = f.lines.first().copied().unwrap_or("").trim();
        if f.tag == "20" {
            if let Some(s) = current.take() {
                statements.push(s);
            }
            let mut s = Statement::new(loc.clone());
            s.reference = clean(first);
            current = Some(s);
            last_was_entry = false;
            continue;
        }
        // A fragment without :20: (some exports, test files) is one statement.
        let s = current.get_or_insert_with(|| Statement::new(loc.clone()));
        let is_entry = f.tag == "61";
        match f.tag {
            "21" => s.related_reference = clean(first),
            // A statement names its account once, after `:20:`; a second
            // `:25:` (a mistyped tag in some files) does not move its entries.
            "25" if !s.account.raw.is_empty() => s.warnings.push(Warning {
                location: loc.clone(),
                message: format!(
                    "a second :25: in one statement ('{}'): the statement keeps its account '{}'",
                    first.trim(),
                    s.account.raw
                ),
            }),
            "25" => s.account = account(first),
            "28" | "28C" => {
                let (n, seq) = match first.split_once('/') {
                    Some((n, q)) => (n, Some(q)),
                    None => (first, None),
                };
                s.number = clean(n);
                s.sequence = seq.and_then(clean);
            }
            "60F" | "60M" | "62F" | "62M" | "64" => {
                let kind = if f.tag.ends_with('M') {
                    BalanceKind::Intermediate
                } else {
                    BalanceKind::Final
                };
                let (b, warning) = balance(first, kind, s.currency)
                    .map_err(|m| ParseError::new(loc.clone(), m))?;
                if let Some(message) = warning {
                    s.warnings.push(Warning {
                        location: loc.clone(),
                        message,
                    });
                }
                s.currency.get_or_insert(b.currency);
                match f.tag {
                    "60F" | "60M" => s.opening = Some(b),
                    "64" => s.available = Some(b),
                    _ => s.closing = Some(b),
                }
            }
            "13" | "13D" => {
                // MT942: the report's date and time (YYMMDDhhmm…).
                s.to = first.get(..6).and_then(yymmdd);
            }
            "61" => {
                s.entry_count += 1;
                let (e, warning) = statement_line(&f.lines, s.currency, loc.clone())
                    .map_err(|m| ParseError::new(loc.clone(), format!(":61: {m}")))?;
                if let Some(message) = warning {
                    s.warnings.push(Warning {
                        location: loc.clone(),
                        message: format!(":61: {message}"),
                    });
                }
                s.entries.push(e);
            }
            tag if !tag.as_bytes()[0].is_ascii_digit() => s.warnings.push(Warning {
                location: loc.clone(),
                message: format!("the field :{tag}: is not SWIFT's; skipped"),
            }),
            "86" if last_was_entry => {
                if let Some(e) = s.entries.last_mut() {
                    // Some banks (Rabobank) write several `:86:` per entry.
                    let previous = e.details.take().unwrap_or_default();
                    let mut lines: Vec<&str> = previous
                        .split('\n')
                        .filter(|_| !previous.is_empty())
                        .collect();
                    lines.extend_from_slice(&f.lines);
                    details(&lines, e);
                }
            }
            _ => {}
        }
        last_was_entry = is_entry || (f.tag == "86" && last_was_entry);
    }
    if let Some(s) = current.take() {
        statements.push(s);
    }
    if statements.is_empty() {
        return Err(ParseError::new(
            Location::File,
            "no MT940 statement found (no :20:, :25:, :60F: or :61: field)",
        ));
    }
    let first = &mut statements[0];
    first.warnings.splice(0..0, layout_warnings(&text));
    Ok(statements)
}

/// Deviations of the file's layout that the reading does not depend on:
/// control characters, empty lines, no line end after the last line.
fn layout_warnings(text: &str) -> Vec<Warning> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.split('\n').collect();
    let control = |c: char| c.is_control() && !matches!(c, '\r' | '\t');
    if let Some(n) = lines.iter().position(|l| l.chars().any(control)) {
        out.push(Warning {
            location: Location::Line(n + 1),
            message: "the file holds control characters; they are read as written".into(),
        });
    }
    let last_text = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .unwrap_or(0);
    if let Some(n) = lines[..last_text].iter().position(|l| l.trim().is_empty()) {
        out.push(Warning {
            location: Location::Line(n + 1),
            message: "empty lines inside the file are skipped".into(),
        });
    }
    if !text.is_empty() && !text.ends_with('\n') {
        out.push(Warning {
            location: Location::Line(lines.len()),
            message: "the last line has no line end".into(),
        });
    }
    out
}

/// Splits the text into fields; returns them with 1-based line numbers.
fn fields(text: &str) -> Vec<Field<'_>> {
    let mut out: Vec<Field<'_>> = Vec::new();
    let mut open = false;
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        // A SWIFT envelope may precede the first tag on the same line: `{4::20:…`.
        let line = match line.rfind("{4:") {
            Some(p) => &line[p + 3..],
            None => line,
        };
        if let Some((tag, rest)) = tag_of(line) {
            out.push(Field {
                tag,
                line: i + 1,
                lines: vec![rest],
            });
            open = true;
        } else if line == "-" || line.starts_with("-}") || line.starts_with('{') || line == "-XXX" {
            open = false;
        } else if open && let Some(f) = out.last_mut() {
            f.lines.push(line);
        }
    }
    for f in &mut out {
        while f.lines.len() > 1 && f.lines.last().is_some_and(|l| l.trim().is_empty()) {
            f.lines.pop();
        }
    }
    out
}

/// `:NN:` or `:NNa:` at the start of a line.
fn tag_of(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix(':')?;
    let end = rest.find(':')?;
    let tag = &rest[..end];
    let b = tag.as_bytes();
    let swift = (b.len() == 2 || b.len() == 3)
        && b[0].is_ascii_digit()
        && b[1].is_ascii_digit()
        && (b.len() == 2 || b[2].is_ascii_uppercase());
    // Banks add fields of their own (`:NS:`, non-SWIFT): two capitals.
    let own = b.len() == 2 && b.iter().all(u8::is_ascii_uppercase);
    let ok = swift || own;
    ok.then(|| (tag, &rest[end + 1..]))
}

fn account(s: &str) -> AccountIdent {
    let raw = s.trim().to_owned();
    // `NL81ASNB9999999999`, `NL81ASNB9999999999 EUR`, `BIC/IBAN`.
    let iban = raw
        .split(['/', ' '])
        .rev()
        .find_map(|part| Iban::parse(part).ok());
    AccountIdent { raw, iban }
}

/// `C131016DEM84349,74`: mark, date, currency, amount. A balance without
/// its currency (seen on intermediate balances) takes the statement's, with
/// a warning; without one known, it is refused.
fn balance(
    s: &str,
    kind: BalanceKind,
    statement_currency: Option<Currency>,
) -> Result<(Balance, Option<String>), String> {
    let s = s.trim();
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'C') => (1, &s[1..]),
        Some(b'D') => (-1, &s[1..]),
        _ => return Err(format!("balance '{s}' must start with C or D")),
    };
    let date = rest
        .get(..6)
        .and_then(yymmdd)
        .ok_or_else(|| format!("balance '{s}' has no valid date (YYMMDD)"))?;
    let written = rest.get(6..9).and_then(Currency::parse_historical);
    let starts_with_amount = rest
        .get(6..)
        .is_some_and(|a| a.starts_with(|c: char| c.is_ascii_digit()));
    let (currency, amount_at, warning) = match (written, statement_currency) {
        (Some(c), _) => (c, 9, None),
        (None, Some(c)) if starts_with_amount => (
            c,
            6,
            Some(format!(
                "balance '{s}' has no currency; read in the statement's {c}"
            )),
        ),
        _ => return Err(format!("balance '{s}' has no valid ISO 4217 currency")),
    };
    let amount = rest
        .get(amount_at..)
        .and_then(|a| text::decimal(a, ',', None))
        .ok_or_else(|| {
            format!("balance '{s}' has no valid amount (digits with a decimal comma)")
        })?;
    let balance = Balance {
        kind,
        date,
        amount: if sign < 0 {
            Amount::from_cents(-amount.cents())
        } else {
            amount
        },
        currency,
    };
    Ok((balance, warning))
}

/// Reads `:61:`: value date, [entry date], mark, [funds code], amount, type,
/// customer reference, [//bank reference], [newline supplementary details].
fn statement_line(
    lines: &[&str],
    currency: Option<Currency>,
    loc: Location,
) -> Result<(Entry, Option<String>), String> {
    // Some banks break the line between the mark and the amount; the
    // supplementary details are then on the line after the amount's line.
    let mut main = lines.first().copied().unwrap_or("").to_owned();
    let mut rest = lines.get(1..).unwrap_or(&[]).to_vec();
    if main_needs_next(&main)
        && let Some(next) = (!rest.is_empty()).then(|| rest.remove(0))
    {
        main.push_str(next.trim());
    }
    let s = main.trim_start();
    let value_date = s
        .get(..6)
        .and_then(yymmdd)
        .ok_or_else(|| format!("no valid value date (YYMMDD) in '{s}'"))?;
    let mut p = &s[6..];
    let mut entry_md = None;
    if let Some(md) = p.get(..4).and_then(|x| digits(x, 4)) {
        entry_md = Some(md);
        p = &p[4..];
    }
    p = p.trim_start();
    let (sign, reversal, after) = if let Some(r) = p.strip_prefix("RC") {
        (-1, true, r)
    } else if let Some(r) = p.strip_prefix("RD") {
        (1, true, r)
    } else if let Some(r) = p.strip_prefix('C') {
        (1, false, r)
    } else if let Some(r) = p.strip_prefix('D') {
        (-1, false, r)
    } else {
        return Err(format!("no debit/credit mark (C, D, RC, RD) in '{s}'"));
    };
    p = after;
    let mut funds_code = None;
    if let Some(c) = p.chars().next().filter(char::is_ascii_uppercase) {
        funds_code = Some(c);
        p = &p[1..];
    }
    p = p.trim_start();
    let amount_len = p
        .find(|c: char| !(c.is_ascii_digit() || c == ','))
        .unwrap_or(p.len());
    let amount = text::decimal(&p[..amount_len], ',', None)
        .ok_or_else(|| format!("no valid amount (digits with a decimal comma) in '{s}'"))?;
    p = &p[amount_len..];
    // The transaction type (1!a3!c, e.g. NTRF, N192) must follow: a letter
    // right after the amount shows where the amount ends. A type that is
    // not four characters of that form (`S   X`) is read as written.
    if !p.starts_with(|c: char| c.is_ascii_uppercase()) {
        return Err(format!(
            "expected the transaction type (e.g. NTRF) after the amount in '{s}'"
        ));
    }
    let mut warning = None;
    let type_len = if p.len() >= 4
        && p.is_char_boundary(4)
        && p[1..4].bytes().all(|b| b.is_ascii_alphanumeric())
    {
        4
    } else {
        let written = p.split_whitespace().next().unwrap_or("");
        warning = Some(format!(
            "the transaction type '{written}' is not a letter and three characters; read as written"
        ));
        written.len()
    };
    let type_code = Some(p[..type_len].to_owned());
    p = &p[type_len..];
    // Customer reference (16x), then `//` and the bank reference; some banks
    // write the supplementary details on the same line after a padded reference.
    let mut same_line_extra = None;
    let (customer, bank) = match p.split_once("//") {
        Some((c, b)) => (c, Some(b)),
        None => match p.char_indices().nth(16) {
            Some((i, _)) if p[..i].ends_with(' ') || p[i..].starts_with(' ') => {
                same_line_extra = Some(&p[i..]);
                (&p[..i], None)
            }
            _ => (p, None),
        },
    };
    let booking_date = match entry_md {
        Some(md) => entry_date(value_date, md / 100, md % 100).unwrap_or(value_date),
        None => value_date,
    };
    let signed = Amount::from_cents(sign * amount.cents());
    let mut e = Entry::new(loc, booking_date, signed, currency);
    e.value_date = Some(value_date);
    e.reversal = reversal;
    e.funds_code = funds_code;
    e.type_code = type_code;
    e.customer_reference = clean(customer);
    e.bank_reference = bank.and_then(clean);
    let extra: Vec<&str> = same_line_extra
        .into_iter()
        .chain(rest.iter().copied())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    e.additional_info = clean(&extra.join(" "));
    Ok((e, warning))
}

/// The `:61:` line ends right after the mark (and funds code).
fn main_needs_next(main: &str) -> bool {
    let t = main.trim_end();
    let tail = t.get(6..).unwrap_or("");
    let tail = tail.trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ');
    !tail.is_empty()
        && tail.len() <= 3
        && tail.chars().all(|c| c.is_ascii_uppercase())
        && (tail.starts_with('C') || tail.starts_with('D') || tail.starts_with('R'))
}

/// The entry (booking) date has no year: take the year that puts it closest
/// to the value date (a December value date booked on 2 January).
fn entry_date(value: Date, month: u32, day: u32) -> Option<Date> {
    let (y, _, _) = value.ymd();
    [y - 1, y, y + 1]
        .into_iter()
        .filter_map(|year| text::lenient_date(year, month, day))
        .min_by_key(|d| (d.days() - value.days()).abs())
}

/// Reads `:86:` into the entry.
fn details(lines: &[&str], e: &mut Entry) {
    // Blank lines inside `:86:` (SNS, ASN) carry nothing.
    let kept: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !l.trim().is_empty())
        .collect();
    e.details = Some(kept.join("\n").trim().to_owned()).filter(|s| !s.is_empty());
    let joined: String = lines.concat();
    let t = joined.trim_start();
    let b = t.as_bytes();
    if b.len() >= 4
        && b[..3].iter().all(u8::is_ascii_digit)
        && !b[3].is_ascii_alphanumeric()
        && !b[3].is_ascii_whitespace()
        && b[3].is_ascii()
    {
        german_structured(&t[..3], char::from(b[3]), &t[3..], e);
    } else if t.starts_with('/') && slash_structured(t, e) {
        // read
    } else {
        e.purpose = clean(&lines.join(" "));
    }
}

/// `GVC?00posting text?10prima nota?20purpose…?30bank?31account?32name…`
fn german_structured(gvc: &str, sep: char, body: &str, e: &mut Entry) {
    e.gvc = Some(gvc.to_owned());
    e.bank_transaction_code = Some(gvc.to_owned());
    let mut purpose_parts: Vec<&str> = Vec::new();
    let mut name = String::new();
    for part in body.split(sep).skip(1) {
        // A separator character not followed by two digits is text; skip it.
        let Some(code) = part.get(..2).and_then(|c| digits(c, 2)) else {
            continue;
        };
        let value = &part[2..];
        match code {
            0 => e.posting_text = clean(value),
            10 => e.prima_nota = clean(value),
            20..=29 | 60..=63 => purpose_parts.push(value),
            30 => e.counterpart_bank = clean(value),
            31 => e.counterpart_account = clean(value),
            32 | 33 => name.push_str(value),
            34 => e.return_code = clean(value),
            38 => {
                if let Ok(iban) = Iban::parse(value.trim()) {
                    e.counterpart_iban = Some(iban);
                }
            }
            _ => {}
        }
    }
    e.counterpart_name = clean(&name);
    if let Some(acc) = &e.counterpart_account
        && e.counterpart_iban.is_none()
    {
        e.counterpart_iban = Iban::parse(acc).ok();
    }
    if let Some(bank) = &e.counterpart_bank
        && looks_like_bic(bank)
    {
        e.counterpart_bic = Some(bank.clone());
    }
    sepa_keywords(&purpose_parts, e);
}

/// Splits purpose lines at SEPA keywords (`EREF+`, `SVWZ+`, …) at the start
/// of a line; lines without keywords are the purpose, joined as written
/// (banks wrap at a fixed width, mid-word).
fn sepa_keywords(parts: &[&str], e: &mut Entry) {
    const KEYWORDS: [&str; 14] = [
        "EREF+", "KREF+", "MREF+", "CRED+", "DEBT+", "SVWZ+", "ABWA+", "ABWE+", "IBAN+", "BIC+",
        "COAM+", "OAMT+", "BREF+", "RREF+",
    ];
    let mut current: Option<&str> = None;
    let mut values: Vec<(&str, String)> = Vec::new();
    let mut plain = String::new();
    for part in parts {
        if let Some(k) = KEYWORDS.iter().find(|k| part.starts_with(**k)) {
            current = Some(k);
            values.push((k, part[k.len()..].to_owned()));
        } else if current.is_some() {
            if let Some((_, v)) = values.last_mut() {
                v.push_str(part);
            }
        } else {
            plain.push_str(part);
        }
    }
    let mut purpose = plain;
    for (k, v) in values {
        let v = clean(&v);
        match k {
            "EREF+" => e.end_to_end_reference = v.filter(|x| x != "NOTPROVIDED"),
            "MREF+" => e.mandate_reference = v,
            "CRED+" => e.creditor_id = v,
            "SVWZ+" => {
                if let Some(v) = v {
                    if !purpose.is_empty() {
                        purpose.push(' ');
                    }
                    purpose.push_str(&v);
                }
            }
            "IBAN+" if e.counterpart_iban.is_none() => {
                e.counterpart_iban = v.as_deref().and_then(|x| Iban::parse(x).ok())
            }
            "BIC+" if e.counterpart_bic.is_none() => e.counterpart_bic = v,
            "ABWA+" | "ABWE+" if e.counterpart_name.is_none() => e.counterpart_name = v,
            "KREF+" if e.customer_reference.is_none() => e.customer_reference = v,
            _ => {}
        }
    }
    e.purpose = clean(&purpose);
}

fn looks_like_bic(s: &str) -> bool {
    (s.len() == 8 || s.len() == 11)
        && s.bytes().take(6).all(|b| b.is_ascii_uppercase())
        && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `/EREF/…/BENM//NAME/…/REMI/…`: the Dutch (and SWIFT) structured form.
/// Returns false when no known code is found (then it is free text).
fn slash_structured(text: &str, e: &mut Entry) -> bool {
    const CODES: [&str; 22] = [
        "EREF",
        "MARF",
        "CSID",
        "BENM",
        "ORDP",
        "NAME",
        "ID",
        "ADDR",
        "REMI",
        "ISDT",
        "IBAN",
        "BIC",
        "PURP",
        "RTRN",
        "CNTP",
        "TRCD",
        "ULTC",
        "ULTD",
        "SVCL",
        "PREF",
        "CDTRREF",
        "CDTRREFTP",
    ];
    // Find `/CODE/` boundaries.
    let mut marks: Vec<(usize, &str)> = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/'
            && let Some(code) = CODES.iter().find(|c| {
                text[i + 1..].starts_with(**c)
                    && text.as_bytes().get(i + 1 + c.len()) == Some(&b'/')
            })
        {
            marks.push((i, code));
            i += code.len() + 2;
            continue;
        }
        i += 1;
    }
    if marks.is_empty() {
        return false;
    }
    for (n, (start, code)) in marks.iter().enumerate() {
        let from = start + code.len() + 2;
        let to = marks.get(n + 1).map_or(text.len(), |m| m.0);
        let value = text.get(from..to.max(from)).unwrap_or("");
        let value = value.trim_matches('/');
        match *code {
            "EREF" => e.end_to_end_reference = clean(value).filter(|v| v != "NOTPROVIDED"),
            "MARF" => e.mandate_reference = clean(value),
            "CSID" => e.creditor_id = clean(value),
            "NAME" => e.counterpart_name = clean(value),
            "IBAN" => {
                e.counterpart_account = clean(value);
                e.counterpart_iban = Iban::parse(value.trim()).ok();
            }
            "BIC" => e.counterpart_bic = clean(value),
            "REMI" => {
                // `/REMI/USTD//text/` or plain text.
                let v = value.strip_prefix("USTD//").unwrap_or(value);
                e.purpose = clean(v);
            }
            "PURP" => e.sepa_purpose_code = clean(value.trim_start_matches("CD/")),
            "CNTP" => {
                // `/CNTP/account/BIC/name/city/`
                let mut parts = value.split('/');
                let acc = parts.next().unwrap_or("");
                e.counterpart_account = clean(acc);
                e.counterpart_iban = Iban::parse(acc.trim()).ok();
                e.counterpart_bic = parts.next().and_then(clean);
                e.counterpart_name = parts.next().and_then(clean);
            }
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Statement {
        let mut s = parse(text.as_bytes()).expect("parses");
        assert_eq!(s.len(), 1);
        s.remove(0)
    }

    #[test]
    fn german_sepa_fields() {
        let s = one(":20:X\n:25:10020030/1234567\n:60F:C240101EUR100,00\n\
            :61:2401020102DR12,5NDDTNONREF//B1\n\
            :86:105?00SEPA-BASISLASTSCHRIFT?10931?20EREF+E2E-1?21MREF+M-77?22CRED+DE98ZZZ0999999999\n\
            9?23SVWZ+Beitrag Kfz-Versiche?24rung 2024?30HYVEDEMMXXX?31DE89370400440532013000?32Allianz Versicherung\n\
            :62F:C240102EUR87,50\n-");
        let e = &s.entries[0];
        assert_eq!(e.amount, Amount::from_cents(-12_50));
        assert_eq!(e.funds_code, Some('R'));
        assert_eq!(e.gvc.as_deref(), Some("105"));
        assert_eq!(e.end_to_end_reference.as_deref(), Some("E2E-1"));
        assert_eq!(e.mandate_reference.as_deref(), Some("M-77"));
        assert_eq!(e.creditor_id.as_deref(), Some("DE98ZZZ09999999999"));
        assert_eq!(e.purpose.as_deref(), Some("Beitrag Kfz-Versicherung 2024"));
        assert_eq!(e.counterpart_name.as_deref(), Some("Allianz Versicherung"));
        assert_eq!(
            e.counterpart_iban.as_ref().map(Iban::as_str),
            Some("DE89370400440532013000")
        );
        assert_eq!(e.counterpart_bic.as_deref(), Some("HYVEDEMMXXX"));
        assert_eq!(s.closing.unwrap().amount, Amount::from_cents(87_50));
    }

    #[test]
    fn entry_date_rolls_over_the_year() {
        let s = one(
            ":20:X\n:25:A\n:60F:C231231EUR0,\n:61:2312310102C1,NTRFNONREF\n:62F:C240102EUR1,\n",
        );
        assert_eq!(
            s.entries[0].booking_date,
            Date::from_ymd(2024, 1, 2).unwrap()
        );
        assert_eq!(s.entries[0].value_date, Date::from_ymd(2023, 12, 31));
    }

    /// A second `:25:` inside one statement (a mistyped `:86:` in some
    /// files) keeps the statement's account and is reported.
    #[test]
    fn a_second_account_line_in_a_statement_is_a_warning() {
        let text = ":20:S1\n:25:DE89370400440532013000\n:60F:C240101EUR0,00\n\
                    :61:2401020102C5,00NTRFNONREF\n:25:166?00GUTSCHRIFT?20Text\n\
                    :62F:C240102EUR5,00\n-\n";
        let s = parse(text.as_bytes()).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].account.raw, "DE89370400440532013000");
        assert_eq!(s[0].entries.len(), 1);
        assert!(
            s[0].warnings
                .iter()
                .any(|w| w.message.contains("second :25:")),
            "{:?}",
            s[0].warnings
        );
    }

    #[test]
    fn reversal_marks_and_february_30() {
        let s = one(
            ":20:X\n:25:A\n:60F:C230201EUR0,\n:61:230230RC5,NTRFNONREF\n:61:230201RD7,NTRFNONREF\n",
        );
        assert_eq!(s.entries[0].amount.cents(), -500);
        assert!(s.entries[0].reversal);
        assert_eq!(s.entries[0].value_date, Date::from_ymd(2023, 2, 28));
        assert_eq!(s.entries[1].amount.cents(), 700);
    }

    #[test]
    fn mt942_interim_report() {
        let s = one(
            ":20:942\n:25:DE89370400440532013000\n:28C:1/1\n:34F:EUR0,\n:13D:2401151200+0100\n\
            :61:2401150115C25,00NTRFNONREF\n:86:166?00GUTSCHRIFT?20Erstattung\n:90D:0EUR0,\n:90C:1EUR25,00\n-",
        );
        assert_eq!(s.to, Date::from_ymd(2024, 1, 15));
        assert_eq!(s.entries.len(), 1);
        assert_eq!(s.entries[0].amount.cents(), 25_00);
        assert_eq!(s.entries[0].currency, None, "no balance gives the currency");
        assert_eq!(
            s.account.iban.as_ref().map(Iban::as_str),
            Some("DE89370400440532013000")
        );
    }

    /// Deviations real files carry are read past, each with a warning on
    /// its line: a bank's own field, a transaction type that is not
    /// 1!a3!c, an intermediate balance without its currency.
    #[test]
    fn deviations_are_read_with_warnings() {
        let s = one(":20:X\n:25:A\n:NS:22JOHN DOE\n:60F:C171011HUF100,00\n\
            :61:1710111011DF20,00S   X\n:NS:015267\n:62M:C17101180,00\n-\n");
        assert_eq!(s.entries.len(), 1);
        let e = &s.entries[0];
        assert_eq!(e.amount.cents(), -20_00);
        assert_eq!(e.funds_code, Some('F'));
        assert_eq!(e.type_code.as_deref(), Some("S"));
        assert_eq!(
            e.additional_info, None,
            "a bank's own field is not the entry's"
        );
        let closing = s.closing.unwrap();
        assert_eq!(
            (closing.amount.cents(), closing.currency.as_str()),
            (80_00, "HUF")
        );
        let lines: Vec<(Location, bool)> = s
            .warnings
            .iter()
            .map(|w| (w.location.clone(), !w.message.is_empty()))
            .collect();
        assert_eq!(
            lines,
            [3, 5, 6, 7].map(|n| (Location::Line(n), true)).to_vec(),
            "{:?}",
            s.warnings
        );
        assert!(s.warnings[1].message.contains("transaction type"));
        assert!(s.warnings[3].message.contains("HUF"));
        // Layout deviations are named too, on the first statement.
        let s = one(
            ":20:X\n\n:25:A\n:60F:C171011EUR1,00\n:61:1710111011C1,00NTRFNONREF\n:86:a\u{1}b\n:62F:C171011EUR2,00",
        );
        let messages: Vec<(Location, &str)> = s
            .warnings
            .iter()
            .map(|w| (w.location.clone(), w.message.as_str()))
            .collect();
        assert_eq!(
            messages.iter().map(|m| m.0.clone()).collect::<Vec<_>>(),
            [Location::Line(6), Location::Line(2), Location::Line(7)],
            "{messages:?}"
        );
        // Without any currency known, a balance without one is refused.
        let e = parse(b":20:X\n:25:A\n:60M:C17101180,00\n").unwrap_err();
        assert_eq!(e.location, Location::Line(3));
        // A line that ends at the amount shows no type: refused.
        let e = parse(b":20:X\n:25:A\n:60F:C171011EUR0,\n:61:171011C1,00\n").unwrap_err();
        assert_eq!(e.location, Location::Line(4));
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse(b":20:X\n:25:A\n:60F:C230201EUR0,\n:61:230201Cx1,NTRF\n").unwrap_err();
        assert_eq!(e.location, Location::Line(4));
        let e = parse(b":20:X\n:25:A\n:60F:X230201EUR0,\n").unwrap_err();
        assert_eq!(e.location, Location::Line(3));
        let e = parse(b"hello").unwrap_err();
        assert_eq!(e.location, Location::File);
    }
}
