//! CSV exports with a column mapping: which column holds what, the
//! delimiter, decimal and thousands separators, the date format, the text
//! encoding and the sign convention. Presets cover common German bank
//! exports; a client can send its own mapping as JSON.
//!
//! The header row is found by its column names, so preamble lines (account
//! number, period) before it are skipped. A whole CSV file is one statement.

mod presets;

use finseg_core::{Amount, Currency, Date, Iban};
use serde::Deserialize;

use crate::text::{self, Encoding, clean};
use crate::{AccountIdent, Balance, BalanceKind, Entry, Location, ParseError, Statement};

/// A column by header name or by 1-based position.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Column {
    Name(String),
    Position(usize),
}

/// Which columns hold what. Either `amount` (signed) or `debit` and
/// `credit` (unsigned, or signed as written) must be given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Columns {
    pub booking_date: Option<Column>,
    pub value_date: Option<Column>,
    pub amount: Option<Column>,
    pub debit: Option<Column>,
    pub credit: Option<Column>,
    pub currency: Option<Column>,
    /// Several columns are joined with a space (banks split long purposes).
    #[serde(default)]
    pub purpose: Vec<Column>,
    pub counterpart_name: Option<Column>,
    /// The payer's name (the counterpart of a credit) where an export has
    /// separate payer and payee columns.
    pub payer_name: Option<Column>,
    /// The payee's name (the counterpart of a debit).
    pub payee_name: Option<Column>,
    pub counterpart_iban: Option<Column>,
    pub counterpart_bic: Option<Column>,
    pub creditor_id: Option<Column>,
    pub mandate_reference: Option<Column>,
    pub end_to_end_reference: Option<Column>,
    pub posting_text: Option<Column>,
    pub bank_transaction_code: Option<Column>,
    /// Balance after the row, when the export has one.
    pub balance: Option<Column>,
    /// Booked or pending; see [`Mapping::pending_values`].
    pub status: Option<Column>,
}

/// A column mapping, as a preset or sent as JSON with the upload.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Mapping {
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
    #[serde(default = "default_decimal")]
    pub decimal: char,
    pub thousands: Option<char>,
    /// `DD.MM.YYYY`, `YYYY-MM-DD`, `DD.MM.YY`, `MM/DD/YYYY`, …
    #[serde(default = "default_date_format")]
    pub date_format: String,
    /// `utf-8`, `windows-1252`, `iso-8859-1`; absent: UTF-8 if valid, else Windows-1252.
    pub encoding: Option<String>,
    /// Currency when there is no currency column.
    pub currency: Option<String>,
    /// Amounts are written with spending positive: negate them.
    #[serde(default)]
    pub negate: bool,
    /// Status values (case-insensitive) that mean "not booked yet".
    #[serde(default)]
    pub pending_values: Vec<String>,
    pub columns: Columns,
}

fn default_delimiter() -> char {
    ','
}
fn default_decimal() -> char {
    '.'
}
fn default_date_format() -> String {
    "YYYY-MM-DD".into()
}

impl Mapping {
    pub fn from_json(json: &str) -> Result<Mapping, String> {
        let m: Mapping = serde_json::from_str(json).map_err(|e| format!("CSV mapping: {e}"))?;
        m.check()?;
        Ok(m)
    }

    fn check(&self) -> Result<(), String> {
        let c = &self.columns;
        if c.booking_date.is_none() {
            return Err("CSV mapping: columns.bookingDate is required".into());
        }
        if c.amount.is_none() && (c.debit.is_none() || c.credit.is_none()) {
            return Err(
                "CSV mapping: columns.amount, or columns.debit and columns.credit, are required"
                    .into(),
            );
        }
        if column_list(c)
            .iter()
            .flatten()
            .any(|col| **col == Column::Position(0))
        {
            return Err("CSV mapping: column positions start at 1".into());
        }
        if self.decimal == self.delimiter || Some(self.decimal) == self.thousands {
            return Err(
                "CSV mapping: decimal separator must differ from delimiter and thousands separator"
                    .into(),
            );
        }
        if let Some(e) = &self.encoding
            && Encoding::parse(e).is_none()
        {
            return Err(format!(
                "CSV mapping: unknown encoding '{e}' (utf-8, windows-1252, iso-8859-1)"
            ));
        }
        if let Some(c) = &self.currency
            && Currency::parse(c).is_none()
        {
            return Err(format!(
                "CSV mapping: '{c}' is not an ISO 4217 currency code"
            ));
        }
        DateFormat::parse(&self.date_format)?;
        Ok(())
    }
}

/// A date format made of `DD`, `MM`, `YYYY`, `YY` and literal separators.
#[derive(Debug, Clone)]
struct DateFormat(Vec<DatePart>);

#[derive(Debug, Clone, Copy, PartialEq)]
enum DatePart {
    Day,
    Month,
    Year4,
    Year2,
    Literal(char),
}

impl DateFormat {
    fn parse(f: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = f;
        while !rest.is_empty() {
            let (part, len) = if rest.starts_with("YYYY") {
                (DatePart::Year4, 4)
            } else if rest.starts_with("YY") {
                (DatePart::Year2, 2)
            } else if rest.starts_with("MM") {
                (DatePart::Month, 2)
            } else if rest.starts_with("DD") {
                (DatePart::Day, 2)
            } else {
                let c = rest.chars().next().unwrap_or(' ');
                if c.is_ascii_alphanumeric() {
                    return Err(format!(
                        "CSV mapping: date format '{f}' may use DD, MM, YYYY, YY and separators"
                    ));
                }
                (DatePart::Literal(c), c.len_utf8())
            };
            parts.push(part);
            rest = &rest[len..];
        }
        let has = |p| parts.contains(&p);
        if !(has(DatePart::Day)
            && has(DatePart::Month)
            && (has(DatePart::Year4) || has(DatePart::Year2)))
        {
            return Err(format!(
                "CSV mapping: date format '{f}' needs DD, MM and YYYY or YY"
            ));
        }
        Ok(DateFormat(parts))
    }

    /// Reads a date; day and month may have one digit when a separator follows.
    fn read(&self, s: &str) -> Option<Date> {
        let s = s.trim();
        let (mut y, mut m, mut d) = (None, None, None);
        let mut rest = s;
        for (i, part) in self.0.iter().enumerate() {
            let next_is_literal = matches!(self.0.get(i + 1), Some(DatePart::Literal(_)) | None);
            let mut number = |max: usize, min: usize| -> Option<u32> {
                let n = rest
                    .bytes()
                    .take(max)
                    .take_while(u8::is_ascii_digit)
                    .count();
                if n < min || (n < max && !next_is_literal) {
                    return None;
                }
                let v = rest[..n].parse().ok();
                rest = &rest[n..];
                v
            };
            match part {
                DatePart::Day => d = Some(number(2, 1)?),
                DatePart::Month => m = Some(number(2, 1)?),
                DatePart::Year4 => y = Some(number(4, 4)? as i32),
                DatePart::Year2 => y = Some(2000 + number(2, 2)? as i32),
                DatePart::Literal(c) => rest = rest.strip_prefix(*c)?,
            }
        }
        if !rest.is_empty() {
            return None;
        }
        Date::from_ymd(y?, m?, d?)
    }
}

/// Splits CSV text into records (RFC 4180 quoting, `""` inside quotes,
/// line breaks inside quoted fields); each with the line it starts on.
fn records(text: &str, delimiter: char) -> Result<Vec<(usize, Vec<String>)>, ParseError> {
    let mut out = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut line = 1;
    let mut start_line = 1;
    let mut chars = text.chars().peekable();
    let mut at_field_start = true;
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                }
            } else {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            continue;
        }
        if c == '"' && at_field_start {
            in_quotes = true;
            at_field_start = false;
        } else if c == delimiter {
            fields.push(std::mem::take(&mut field));
            at_field_start = true;
        } else if c == '\n' || c == '\r' {
            if c == '\r' && chars.peek() == Some(&'\n') {
                chars.next();
            }
            fields.push(std::mem::take(&mut field));
            if !(fields.len() == 1 && fields[0].trim().is_empty()) {
                out.push((start_line, std::mem::take(&mut fields)));
            }
            fields.clear();
            line += 1;
            start_line = line;
            at_field_start = true;
        } else {
            field.push(c);
            at_field_start = false;
        }
    }
    if in_quotes {
        return Err(ParseError::new(
            Location::Line(start_line),
            "a quoted field is not closed",
        ));
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        if !(fields.len() == 1 && fields[0].trim().is_empty()) {
            out.push((start_line, fields));
        }
    }
    Ok(out)
}

/// Resolved column positions (0-based).
struct Layout {
    header_index: Option<usize>,
    positions: Vec<Option<usize>>,
}

/// The columns of `Columns` in a fixed order, for resolution.
fn column_list(c: &Columns) -> Vec<Option<&Column>> {
    let mut v = vec![
        c.booking_date.as_ref(),
        c.value_date.as_ref(),
        c.amount.as_ref(),
        c.debit.as_ref(),
        c.credit.as_ref(),
        c.currency.as_ref(),
        c.counterpart_name.as_ref(),
        c.payer_name.as_ref(),
        c.payee_name.as_ref(),
        c.counterpart_iban.as_ref(),
        c.counterpart_bic.as_ref(),
        c.creditor_id.as_ref(),
        c.mandate_reference.as_ref(),
        c.end_to_end_reference.as_ref(),
        c.posting_text.as_ref(),
        c.bank_transaction_code.as_ref(),
        c.balance.as_ref(),
        c.status.as_ref(),
    ];
    v.extend(c.purpose.iter().map(Some));
    v
}

const BOOKING: usize = 0;
const VALUE: usize = 1;
const AMOUNT: usize = 2;
const DEBIT: usize = 3;
const CREDIT: usize = 4;
const CURRENCY: usize = 5;
const NAME: usize = 6;
const PAYER: usize = 7;
const PAYEE: usize = 8;
const IBAN: usize = 9;
const BIC: usize = 10;
const CREDITOR: usize = 11;
const MANDATE: usize = 12;
const E2E: usize = 13;
const POSTING: usize = 14;
const CODE: usize = 15;
const BALANCE: usize = 16;
const STATUS: usize = 17;
const PURPOSE: usize = 18;

fn layout(rows: &[(usize, Vec<String>)], cols: &[Option<&Column>]) -> Result<Layout, ParseError> {
    let named: Vec<&str> = cols
        .iter()
        .flatten()
        .filter_map(|c| match c {
            Column::Name(n) => Some(n.as_str()),
            Column::Position(_) => None,
        })
        .collect();
    let norm = |s: &str| s.trim().to_lowercase();
    let header_index = if named.is_empty() {
        None
    } else {
        // The header is the first row (of the first 50) naming every mapped column.
        let found = rows.iter().take(50).position(|(_, r)| {
            let cells: Vec<String> = r.iter().map(|c| norm(c)).collect();
            named.iter().all(|n| cells.contains(&norm(n)))
        });
        match found {
            Some(i) => Some(i),
            None => {
                let first = rows.first().map(|(_, r)| r.join(", ")).unwrap_or_default();
                return Err(ParseError::new(
                    Location::Line(rows.first().map_or(1, |r| r.0)),
                    format!(
                        "no header row with the mapped columns {:?} (first row: {first})",
                        named
                    ),
                ));
            }
        }
    };
    let positions = cols
        .iter()
        .map(|c| {
            c.map(|c| match c {
                Column::Position(p) => p.saturating_sub(1),
                Column::Name(n) => {
                    let header = &rows[header_index.unwrap_or(0)].1;
                    header
                        .iter()
                        .position(|h| norm(h) == norm(n))
                        .unwrap_or(usize::MAX)
                }
            })
        })
        .collect();
    Ok(Layout {
        header_index,
        positions,
    })
}

// Over 120 lines on purpose: one pass over the rows, each column read at the
// position the layout found, with the statement's running state in locals.
/// Reads a CSV export with its column mapping: one statement of the booked
/// and pending rows, the balances a balance column gives.
pub fn parse(bytes: &[u8], mapping: &Mapping) -> Result<Vec<Statement>, ParseError> {
    mapping
        .check()
        .map_err(|m| ParseError::new(Location::File, m))?;
    let encoding = mapping.encoding.as_deref().and_then(Encoding::parse);
    let text = text::decode(bytes, encoding);
    let rows = records(&text, mapping.delimiter)?;
    let cols = column_list(&mapping.columns);
    let layout = layout(&rows, &cols)?;
    let date_format =
        DateFormat::parse(&mapping.date_format).map_err(|m| ParseError::new(Location::File, m))?;
    let default_currency = mapping.currency.as_deref().and_then(Currency::parse);
    let mut statement = Statement::new(Location::Line(1));
    statement.account = AccountIdent {
        raw: String::new(),
        iban: None,
    };
    let data_rows = &rows[layout.header_index.map_or(0, |h| h + 1)..];
    let header_len = layout
        .header_index
        .and_then(|h| rows.get(h))
        .map_or(0, |(_, r)| r.len());
    let pending = |v: &str| {
        mapping
            .pending_values
            .iter()
            .any(|p| p.eq_ignore_ascii_case(v))
    };
    // (date, balance, row order) of rows with a balance column.
    let mut balances: Vec<(Date, Amount, usize)> = Vec::new();
    for (n, (line, row)) in data_rows.iter().enumerate() {
        let loc = Location::Line(*line);
        let cell = |i: usize| -> Option<&str> {
            let p = layout.positions.get(i).copied().flatten()?;
            row.get(p).map(|s| s.trim()).filter(|s| !s.is_empty())
        };
        let err = |m: String| ParseError::new(Location::Line(*line), m);
        let booking = cell(BOOKING).ok_or_else(|| err("the booking date is empty".into()))?;
        // An open item named by its booking day ("offen"): counted, not booked.
        if pending(booking) {
            let mut e = Entry::new(loc, Date::from_days(0), Amount::ZERO, None);
            e.booked = false;
            statement.entry_count += 1;
            statement.entries.push(e);
            continue;
        }
        let Some(booking_date) = date_format.read(booking) else {
            // A shorter row that is no transaction ends the table: what
            // follows is another table of the export (a card's, a
            // securities account's) or its closing lines.
            if header_len > 0 && row.len() < header_len && !statement.entries.is_empty() {
                statement.warnings.push(crate::Warning {
                    location: loc,
                    message: format!(
                        "the table ends here; {} further lines (another table or closing lines) are not read",
                        data_rows.len() - n
                    ),
                });
                break;
            }
            return Err(err(format!(
                "'{booking}' is not a date in the format {}",
                mapping.date_format
            )));
        };
        let amount_of = |i: usize, what: &str| -> Result<Option<Amount>, ParseError> {
            match cell(i) {
                None => Ok(None),
                Some(v) => text::decimal(v, mapping.decimal, mapping.thousands)
                    .map(Some)
                    .ok_or_else(|| {
                        err(format!(
                            "{what} '{v}' is not an amount (decimal '{}')",
                            mapping.decimal
                        ))
                    }),
            }
        };
        let mut amount = if mapping.columns.amount.is_some() {
            amount_of(AMOUNT, "amount")?.ok_or_else(|| err("the amount is empty".into()))?
        } else {
            debit_credit(amount_of(DEBIT, "debit")?, amount_of(CREDIT, "credit")?).ok_or_else(
                || err("exactly one of the debit and credit columns must hold an amount".into()),
            )?
        };
        if mapping.negate {
            amount = Amount::from_cents(-amount.cents());
        }
        let currency = match cell(CURRENCY) {
            Some(c) => Currency::parse_historical(c)
                .ok_or_else(|| err(format!("'{c}' is not an ISO 4217 currency code")))?,
            None => default_currency.ok_or_else(|| {
                err("no currency (no currency column and none in the mapping)".into())
            })?,
        };
        let mut e = Entry::new(loc, booking_date, amount, Some(currency));
        if let Some(v) = cell(VALUE) {
            e.value_date = Some(date_format.read(v).ok_or_else(|| {
                err(format!(
                    "value date '{v}' is not a date in the format {}",
                    mapping.date_format
                ))
            })?);
        }
        if let Some(s) = cell(STATUS) {
            e.booked = !mapping
                .pending_values
                .iter()
                .any(|p| p.eq_ignore_ascii_case(s));
        }
        let purpose: Vec<&str> = (PURPOSE..cols.len()).filter_map(cell).collect();
        e.purpose = clean(&purpose.join(" "));
        e.counterpart_name = cell(NAME)
            .or_else(|| {
                if amount.is_negative() {
                    cell(PAYEE)
                } else {
                    cell(PAYER)
                }
            })
            .and_then(clean);
        if let Some(v) = cell(IBAN) {
            e.counterpart_account = clean(v);
            e.counterpart_iban = Iban::parse(v).ok();
        }
        e.counterpart_bic = cell(BIC).and_then(clean);
        e.creditor_id = cell(CREDITOR).and_then(clean);
        e.mandate_reference = cell(MANDATE).and_then(clean);
        e.end_to_end_reference = cell(E2E).and_then(clean).filter(|v| v != "NOTPROVIDED");
        e.posting_text = cell(POSTING).and_then(clean);
        e.bank_transaction_code = cell(CODE).and_then(clean);
        if let Some(b) = amount_of(BALANCE, "balance")? {
            balances.push((booking_date, b, n));
        }
        statement.currency.get_or_insert(currency);
        statement.entry_count += 1;
        statement.entries.push(e);
    }
    if statement.entries.is_empty() {
        return Err(ParseError::new(
            Location::File,
            "the CSV file has no transactions",
        ));
    }
    statement.closing = closing_balance(&balances, &statement);
    Ok(vec![statement])
}

/// The closing balance: the balance after the last row of the latest day,
/// whether the export lists newest or oldest first. `balances` are (date,
/// balance, row order) of the rows with a balance.
fn closing_balance(balances: &[(Date, Amount, usize)], statement: &Statement) -> Option<Balance> {
    let latest = balances.iter().map(|b| b.0).max()?;
    let currency = statement.currency?;
    let newest_first = statement.entries.first().map(|e| e.booking_date)
        > statement.entries.last().map(|e| e.booking_date);
    let on_day = balances.iter().filter(|b| b.0 == latest);
    let pick = if newest_first {
        on_day.min_by_key(|b| b.2)
    } else {
        on_day.max_by_key(|b| b.2)
    };
    pick.map(|&(date, amount, _)| Balance {
        kind: BalanceKind::Final,
        date,
        amount,
        currency,
    })
}

/// A row's amount from separate debit and credit columns: exactly one holds
/// an amount (or the other holds zero); a debit is negative.
fn debit_credit(debit: Option<Amount>, credit: Option<Amount>) -> Option<Amount> {
    match (debit, credit) {
        (Some(d), None) => Some(Amount::from_cents(-d.cents().abs())),
        (None, Some(c)) => Some(c.abs()),
        (Some(d), Some(c)) if d.cents() == 0 => Some(c.abs()),
        (Some(d), Some(c)) if c.cents() == 0 => Some(Amount::from_cents(-d.cents().abs())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkasse_export_in_windows_1252() {
        let csv = b"\"Auftragskonto\";\"Buchungstag\";\"Valutadatum\";\"Buchungstext\";\"Verwendungszweck\";\"Glaeubiger ID\";\"Mandatsreferenz\";\"Kundenreferenz (End-to-End)\";\"Sammlerreferenz\";\"Lastschrift Ursprungsbetrag\";\"Auslagenersatz Ruecklastschrift\";\"Beguenstigter/Zahlungspflichtiger\";\"Kontonummer/IBAN\";\"BIC (SWIFT-Code)\";\"Betrag\";\"Waehrung\";\"Info\"\r\n\
\"DE89370400440532013000\";\"02.01.24\";\"02.01.24\";\"FOLGELASTSCHRIFT\";\"Beitrag Haftpflicht\";\"DE33ZZZ00000000001\";\"M-1\";\"E2E\";\"\";\"\";\"\";\"M\xfcnchener Verein\";\"DE89370400440532013000\";\"COBADEFFXXX\";\"-1.234,50\";\"EUR\";\"Umsatz gebucht\"\r\n\
\"DE89370400440532013000\";\"03.01.24\";\"03.01.24\";\"GUTSCHRIFT\";\"Gehalt\";\"\";\"\";\"\";\"\";\"\";\"\";\"Firma\";\"\";\"\";\"2.000,00\";\"EUR\";\"Umsatz vorgemerkt\"\r\n";
        let s = parse(csv, &Mapping::preset("sparkasse").unwrap()).unwrap();
        let e = &s[0].entries;
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].amount.cents(), -1234_50);
        assert_eq!(e[0].booking_date, Date::from_ymd(2024, 1, 2).unwrap());
        assert_eq!(e[0].counterpart_name.as_deref(), Some("Münchener Verein"));
        assert_eq!(e[0].creditor_id.as_deref(), Some("DE33ZZZ00000000001"));
        assert!(e[0].booked);
        assert!(!e[1].booked);
    }

    #[test]
    fn debit_credit_columns_preamble_and_errors() {
        let mapping = Mapping::from_json(
            r#"{"delimiter":";","decimal":",","dateFormat":"D.M.YYYY","currency":"EUR",
                "columns":{"bookingDate":"Tag","debit":"Soll","credit":"Haben","purpose":["Text","Text2"]}}"#,
        );
        assert!(mapping.is_err(), "D.M.YYYY is not a format");
        let mapping = Mapping::from_json(
            r#"{"delimiter":";","decimal":",","dateFormat":"DD.MM.YYYY","currency":"EUR",
                "columns":{"bookingDate":"Tag","debit":"Soll","credit":"Haben","purpose":["Text","Text2"]}}"#,
        )
        .unwrap();
        let csv = "Konto;123\n\nTag;Soll;Haben;Text;Text2\n1.2.2024;-5,00;;a \"b\";c\n02.02.2024;;7;\"x;\ny\";\n";
        let s = parse(csv.as_bytes(), &mapping).unwrap();
        assert_eq!(s[0].entries[0].amount.cents(), -500);
        assert_eq!(s[0].entries[0].purpose.as_deref(), Some("a \"b\" c"));
        assert_eq!(s[0].entries[1].amount.cents(), 700);
        assert_eq!(s[0].entries[1].purpose.as_deref(), Some("x; y"));
        let bad = "Tag;Soll;Haben;Text;Text2\n01.02.2024;-5,00;;a;b\n31.02.2024;1;;a;b\n";
        let e = parse(bad.as_bytes(), &mapping).unwrap_err();
        assert_eq!(e.location, Location::Line(3));
        let e = parse(b"A;B\n1;2\n", &mapping).unwrap_err();
        assert!(e.message.contains("no header row"), "{e}");
    }
}
