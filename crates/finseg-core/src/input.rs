//! Parsing of client input documents into validated records.
//!
//! Every field is read as raw JSON text first, so that amounts never pass
//! through a float and every problem is reported with the JSON pointer of the
//! offending field. Unknown fields are ignored (SPEC §3).

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

mod scan;

use crate::labels::Label;
use crate::record::{
    AccountRecord, DailyBalanceRecord, Record, RecordKind, TransactionRecord, UserRecord,
};
use crate::{AccountType, Amount, Currency, Date, ExternalId, FieldError, Iban, Text, id::ID_RULE};

/// A field's value as its JSON text (a string keeps its quotes and escapes).
#[derive(Clone, Copy, Debug)]
pub struct Raw<'a> {
    text: &'a str,
    /// Known to hold no backslash (so a string's value is the text between
    /// its quotes): the scanner knows it of every value it reads, which
    /// spares a second search of each string.
    plain: bool,
}

impl<'a> Raw<'a> {
    /// A value whose text has not been searched for escapes yet.
    fn new(text: &'a str) -> Self {
        Raw { text, plain: false }
    }

    pub fn get(self) -> &'a str {
        self.text
    }
}

/// Values are equal when their texts are: `plain` is only what is known.
impl PartialEq for Raw<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Raw<'_> {}

impl<'de: 'a, 'a> Deserialize<'de> for Raw<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&'de RawValue>::deserialize(d).map(|r| Raw::new(r.get()))
    }
}

/// The union of the fields of every record kind, each as raw JSON.
/// finAPI Access's field names are accepted beside finseg's own.
#[derive(Deserialize, Default, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RawFields<'a> {
    #[serde(borrow)]
    kind: Option<Raw<'a>>,
    #[serde(borrow)]
    id: Option<Raw<'a>>,
    #[serde(borrow)]
    user_id: Option<Raw<'a>>,
    #[serde(borrow)]
    account_id: Option<Raw<'a>>,
    #[serde(borrow, rename = "type")]
    account_type: Option<Raw<'a>>,
    #[serde(borrow)]
    currency: Option<Raw<'a>>,
    #[serde(borrow)]
    balance: Option<Raw<'a>>,
    #[serde(borrow)]
    balance_date: Option<Raw<'a>>,
    #[serde(borrow)]
    iban: Option<Raw<'a>>,
    #[serde(borrow)]
    name: Option<Raw<'a>>,
    #[serde(borrow)]
    overdraft_limit: Option<Raw<'a>>,
    #[serde(borrow)]
    data_since: Option<Raw<'a>>,
    #[serde(borrow)]
    date: Option<Raw<'a>>,
    #[serde(borrow)]
    amount: Option<Raw<'a>>,
    #[serde(borrow)]
    booking_date: Option<Raw<'a>>,
    #[serde(borrow)]
    bank_booking_date: Option<Raw<'a>>,
    #[serde(borrow)]
    value_date: Option<Raw<'a>>,
    #[serde(borrow)]
    purpose: Option<Raw<'a>>,
    #[serde(borrow)]
    counterpart_name: Option<Raw<'a>>,
    #[serde(borrow)]
    counterpart_iban: Option<Raw<'a>>,
    #[serde(borrow)]
    counterpart_bic: Option<Raw<'a>>,
    #[serde(borrow)]
    creditor_id: Option<Raw<'a>>,
    #[serde(borrow)]
    counterpart_creditor_id: Option<Raw<'a>>,
    #[serde(borrow)]
    mandate_reference: Option<Raw<'a>>,
    #[serde(borrow)]
    counterpart_mandate_reference: Option<Raw<'a>>,
    #[serde(borrow)]
    end_to_end_reference: Option<Raw<'a>>,
    #[serde(borrow)]
    bank_transaction_code: Option<Raw<'a>>,
    #[serde(borrow)]
    type_code_zka: Option<Raw<'a>>,
    #[serde(borrow)]
    type_code_swift: Option<Raw<'a>>,
    #[serde(borrow)]
    sepa_purpose_code: Option<Raw<'a>>,
    #[serde(borrow)]
    mcc: Option<Raw<'a>>,
    #[serde(borrow)]
    labels: Option<Raw<'a>>,
}

/// Collects the errors of one document while its fields are read.
struct Reader {
    errors: Vec<FieldError>,
}

/// Longest free text kept (purpose lines of a SEPA transfer are 140 characters;
/// statements concatenate several).
const MAX_TEXT: usize = 2000;

/// A real time after a date: ` ` or `T`, then `HH:MM`, optionally `:SS`
/// and a fraction, and optionally `Z` or an offset `±HH:MM`. The day is
/// what counts; the time is checked so that a malformed one is not taken
/// for a date.
fn is_time_of_day(t: &[u8]) -> bool {
    let two = |b: &[u8], max: u8| -> Option<()> {
        let (h, l) = (b.first()?, b.get(1)?);
        (h.is_ascii_digit() && l.is_ascii_digit() && (h - b'0') * 10 + (l - b'0') <= max)
            .then_some(())
    };
    let check = || -> Option<()> {
        let (sep, rest) = t.split_first()?;
        if *sep != b' ' && *sep != b'T' {
            return None;
        }
        two(rest, 23)?;
        if rest.get(2) != Some(&b':') {
            return None;
        }
        two(&rest[3..], 59)?;
        let mut rest = &rest[5..];
        if rest.first() == Some(&b':') {
            two(&rest[1..], 59)?;
            rest = &rest[3..];
            if rest.first() == Some(&b'.') {
                let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                if digits == 0 {
                    return None;
                }
                rest = &rest[1 + digits..];
            }
        }
        match rest {
            [] | [b'Z'] => Some(()),
            [b'+' | b'-', h1, h2, b':', m1, m2] => {
                two(&[*h1, *h2], 23)?;
                two(&[*m1, *m2], 59)
            }
            _ => None,
        }
    };
    check().is_some()
}

fn is_null(raw: Option<Raw>) -> bool {
    raw.is_none_or(|r| r.get() == "null")
}

impl Reader {
    fn err(&mut self, field: &str, detail: impl Into<String>) {
        self.errors
            .push(FieldError::new(format!("/{field}"), detail));
    }

    /// A JSON string's value, or `None` (with an error) for any other JSON type.
    fn string<'a>(&mut self, raw: Raw<'a>, field: &str) -> Option<Cow<'a, str>> {
        let text = raw.get();
        if !text.starts_with('"') {
            self.err(field, "must be a string");
            return None;
        }
        // The raw value was validated when the object was parsed (no raw
        // control characters, a closing quote): without a backslash its
        // value is the text between the quotes.
        if raw.plain || !text.contains('\\') {
            return Some(Cow::Borrowed(&text[1..text.len() - 1]));
        }
        match serde_json::from_str::<Cow<'a, str>>(text) {
            // A NUL can only arrive escaped. PostgreSQL cannot store it in
            // text, so both backends refuse it alike.
            Ok(s) if s.contains('\0') => {
                self.err(field, "must not contain the NUL character (\\u0000)");
                None
            }
            Ok(s) => Some(s),
            Err(_) => {
                self.err(field, "must be a string");
                None
            }
        }
    }

    fn required<'a>(&mut self, raw: Option<Raw<'a>>, field: &str) -> Option<Raw<'a>> {
        if is_null(raw) {
            self.err(field, "is required");
            None
        } else {
            raw
        }
    }

    /// An identifier; integers are accepted too, as finAPI Access uses them.
    fn id(&mut self, raw: Option<Raw>, field: &str) -> Option<ExternalId> {
        let raw = self.required(raw, field)?;
        let text = raw.get();
        let s: Cow<str> = if text.bytes().all(|c| c.is_ascii_digit()) {
            Cow::Borrowed(text)
        } else {
            self.string(raw, field)?
        };
        match ExternalId::parse(&s) {
            Some(id) => Some(id),
            None => {
                self.err(field, format!("is not a valid identifier ({ID_RULE})"));
                None
            }
        }
    }

    fn amount(&mut self, raw: Option<Raw>, field: &str) -> Option<Amount> {
        let raw = self.required(raw, field)?;
        self.amount_value(raw, field)
    }

    fn amount_value(&mut self, raw: Raw, field: &str) -> Option<Amount> {
        let text = raw.get();
        let s: Cow<str> = if text.starts_with('"') {
            self.string(raw, field)?
        } else {
            Cow::Borrowed(text)
        };
        match Amount::parse(&s) {
            Ok(a) => Some(a),
            Err(e) => {
                self.err(field, e.to_string());
                None
            }
        }
    }

    fn opt_amount(&mut self, raw: Option<Raw>, field: &str) -> Option<Amount> {
        if is_null(raw) {
            return None;
        }
        self.amount_value(raw?, field)
    }

    fn date_value(&mut self, raw: Raw, field: &str) -> Option<Date> {
        let s = self.string(raw, field)?;
        // finAPI Access writes dates as "2024-01-31" or with a time "2024-01-31 00:00:00.000".
        let day = s
            .get(..10)
            .filter(|_| s.len() == 10 || is_time_of_day(&s.as_bytes()[10..]));
        match day.and_then(Date::parse) {
            Some(d) => Some(d),
            None => {
                self.err(
                    field,
                    "must be a calendar date YYYY-MM-DD (years 1900-2200)",
                );
                None
            }
        }
    }

    fn date(&mut self, raw: Option<Raw>, field: &str) -> Option<Date> {
        let raw = self.required(raw, field)?;
        self.date_value(raw, field)
    }

    fn opt_date(&mut self, raw: Option<Raw>, field: &str) -> Option<Date> {
        if is_null(raw) {
            return None;
        }
        self.date_value(raw?, field)
    }

    fn currency(&mut self, raw: Option<Raw>, field: &str) -> Option<Currency> {
        let raw = self.required(raw, field)?;
        let s = self.string(raw, field)?;
        match Currency::parse(&s) {
            Some(c) => Some(c),
            None => {
                self.err(
                    field,
                    format!("'{s}' is not an active ISO 4217 currency code"),
                );
                None
            }
        }
    }

    fn opt_iban(&mut self, raw: Option<Raw>, field: &str) -> Option<Iban> {
        if is_null(raw) {
            return None;
        }
        let s = self.string(raw?, field)?;
        if s.trim().is_empty() {
            return None;
        }
        match Iban::parse(&s) {
            Ok(i) => Some(i),
            Err(e) => {
                self.err(field, e.to_string());
                None
            }
        }
    }

    fn opt_text(&mut self, raw: Option<Raw>, field: &str) -> Option<Text> {
        if is_null(raw) {
            return None;
        }
        let s = self.string(raw?, field)?;
        let t = s.trim();
        if t.is_empty() {
            return None;
        }
        if t.len() > MAX_TEXT {
            self.err(field, format!("is longer than {MAX_TEXT} bytes"));
            return None;
        }
        Some(t.into())
    }

    /// A code given as string or number (`typeCodeZka`, `mcc`).
    fn opt_code(&mut self, raw: Option<Raw>, field: &str, max: usize) -> Option<Text> {
        if is_null(raw) {
            return None;
        }
        let raw = raw?;
        let text = raw.get();
        let s: Cow<str> = if text.bytes().all(|c| c.is_ascii_digit()) {
            Cow::Borrowed(text)
        } else {
            self.string(raw, field)?
        };
        let t = s.trim();
        if t.is_empty() {
            return None;
        }
        if t.len() > max {
            self.err(field, format!("is longer than {max} characters"));
            return None;
        }
        Some(t.into())
    }

    fn labels(&mut self, raw: Option<Raw>, field: &str) -> Vec<Label> {
        let Some(raw) = raw.filter(|r| r.get() != "null") else {
            return Vec::new();
        };
        let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(raw.get()) else {
            self.err(field, "must be an array of label names");
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let f = format!("{field}/{i}");
            if let Some(name) = self.string(Raw::new(item.get()), &f) {
                match Label::parse(&name) {
                    Some(l) if !out.contains(&l) => out.push(l),
                    Some(_) => {}
                    None => self.err(&f, format!("unknown label '{name}'")),
                }
            }
        }
        out
    }

    fn finish<T>(self, value: Option<T>) -> Result<T, Vec<FieldError>> {
        match value {
            Some(v) if self.errors.is_empty() => Ok(v),
            _ => Err(self.errors),
        }
    }
}

/// Parses one JSON object into its raw fields.
pub fn raw_fields(json: &str) -> Result<RawFields<'_>, Vec<FieldError>> {
    let mut fields = RawFields::default();
    read_raw_fields(json, &mut fields)?;
    Ok(fields)
}

/// [`raw_fields`] into `fields` (empty when called), which the bulk import
/// keeps in place: the fields are 768 bytes, and moving them out of each
/// call was a tenth of the parsing's copies.
fn read_raw_fields<'a>(json: &'a str, fields: &mut RawFields<'a>) -> Result<(), Vec<FieldError>> {
    if scan::flat_object(json, fields) {
        return Ok(());
    }
    *fields = serde_json::from_str::<RawFields>(json).map_err(|e| {
        let detail = if e.is_syntax() || e.is_eof() {
            format!("not valid JSON: {e}")
        } else {
            "must be a JSON object".to_owned()
        };
        vec![FieldError::new("", detail)]
    })?;
    Ok(())
}

pub fn user(f: &RawFields) -> Result<UserRecord, Vec<FieldError>> {
    let mut r = Reader { errors: Vec::new() };
    let id = r.id(f.id, "id");
    r.finish(id.map(|id| UserRecord { id }))
}

pub fn account(f: &RawFields) -> Result<AccountRecord, Vec<FieldError>> {
    let mut r = Reader { errors: Vec::new() };
    let id = r.id(f.id, "id");
    let user_id = r.id(f.user_id, "userId");
    let account_type = r.required(f.account_type, "type").and_then(|raw| {
        let s = r.string(raw, "type")?;
        let t = AccountType::parse(&s);
        if t.is_none() {
            r.err(
                "type",
                format!(
                    "unknown account type '{s}' (one of CHECKING, SAVINGS, CREDIT_CARD, SECURITY, LOAN, POCKET, MEMBERSHIP, BAUSPAREN)"
                ),
            );
        }
        t
    });
    let currency = r.currency(f.currency, "currency");
    let balance = r.amount(f.balance, "balance");
    let balance_date = r.opt_date(f.balance_date, "balanceDate");
    let iban = r.opt_iban(f.iban, "iban");
    let name = r.opt_text(f.name, "name");
    let overdraft_limit = r.opt_amount(f.overdraft_limit, "overdraftLimit");
    let data_since = r.opt_date(f.data_since, "dataSince");
    let rec = (|| {
        Some(AccountRecord {
            id: id?,
            user_id: user_id?,
            account_type: account_type?,
            currency: currency?,
            balance: balance?,
            balance_date,
            iban,
            name: name.map(String::from),
            overdraft_limit,
            data_since,
        })
    })();
    r.finish(rec)
}

pub fn transaction(f: &RawFields) -> Result<TransactionRecord, Vec<FieldError>> {
    boxed_transaction(f).map(|t| *t)
}

/// [`transaction`] in the box a [`Record`] keeps it in, built there: a
/// record is some 500 bytes, and moving it through the results and into
/// its box took three copies a line.
pub fn boxed_transaction(f: &RawFields) -> Result<Box<TransactionRecord>, Vec<FieldError>> {
    let mut r = Reader { errors: Vec::new() };
    let id = r.id(f.id, "id");
    let account_id = r.id(f.account_id, "accountId");
    let amount = r.amount(f.amount, "amount");
    let currency = r.currency(f.currency, "currency");
    let booking_date = if is_null(f.booking_date) && !is_null(f.bank_booking_date) {
        r.date(f.bank_booking_date, "bankBookingDate")
    } else {
        r.date(f.booking_date, "bookingDate")
    };
    let value_date = r.opt_date(f.value_date, "valueDate");
    let purpose = r.opt_text(f.purpose, "purpose");
    let counterpart_name = r.opt_text(f.counterpart_name, "counterpartName");
    let counterpart_iban = r.opt_iban(f.counterpart_iban, "counterpartIban");
    let counterpart_bic = r.opt_code(f.counterpart_bic, "counterpartBic", 11);
    let creditor_id = if is_null(f.creditor_id) {
        r.opt_code(f.counterpart_creditor_id, "counterpartCreditorId", 35)
    } else {
        r.opt_code(f.creditor_id, "creditorId", 35)
    };
    let mandate_reference = if is_null(f.mandate_reference) {
        r.opt_code(
            f.counterpart_mandate_reference,
            "counterpartMandateReference",
            35,
        )
    } else {
        r.opt_code(f.mandate_reference, "mandateReference", 35)
    };
    let end_to_end_reference = r.opt_code(f.end_to_end_reference, "endToEndReference", 35);
    let bank_transaction_code = if !is_null(f.bank_transaction_code) {
        r.opt_code(f.bank_transaction_code, "bankTransactionCode", 35)
    } else if !is_null(f.type_code_zka) {
        r.opt_code(f.type_code_zka, "typeCodeZka", 35)
    } else {
        r.opt_code(f.type_code_swift, "typeCodeSwift", 35)
    };
    let sepa_purpose_code = r.opt_code(f.sepa_purpose_code, "sepaPurposeCode", 4);
    let mcc = r
        .opt_code(f.mcc, "mcc", 4)
        .and_then(|s| match s.parse::<u16>() {
            Ok(m) if s.len() == 4 => Some(m),
            _ => {
                r.err("mcc", "must be a 4-digit merchant category code");
                None
            }
        });
    let labels = r.labels(f.labels, "labels");
    let rec = (|| {
        Some(Box::new(TransactionRecord {
            id: id?,
            account_id: account_id?,
            amount: amount?,
            currency: currency?,
            booking_date: booking_date?,
            value_date,
            purpose,
            counterpart_name,
            counterpart_iban,
            counterpart_bic,
            creditor_id,
            mandate_reference,
            end_to_end_reference,
            bank_transaction_code,
            sepa_purpose_code,
            mcc,
            labels,
        }))
    })();
    r.finish(rec)
}

pub fn daily_balance(f: &RawFields) -> Result<DailyBalanceRecord, Vec<FieldError>> {
    let mut r = Reader { errors: Vec::new() };
    let account_id = r.id(f.account_id, "accountId");
    let date = r.date(f.date, "date");
    let balance = r.amount(f.balance, "balance");
    let rec = (|| {
        Some(DailyBalanceRecord {
            account_id: account_id?,
            date: date?,
            balance: balance?,
        })
    })();
    r.finish(rec)
}

/// One line of the bulk format: a JSON object with a `kind`.
pub fn bulk_record(json: &str) -> Result<Record, Vec<FieldError>> {
    let mut f = RawFields::default();
    read_raw_fields(json, &mut f)?;
    let mut r = Reader { errors: Vec::new() };
    let Some(kind_raw) = r.required(f.kind, "kind") else {
        return Err(r.errors);
    };
    let kind = r.string(kind_raw, "kind").and_then(|k| {
        let kind = RecordKind::parse(&k);
        if kind.is_none() {
            r.err(
                "kind",
                format!("unknown kind '{k}' (one of user, account, transaction, dailyBalance)"),
            );
        }
        kind
    });
    let Some(kind) = kind else {
        return Err(r.errors);
    };
    Ok(match kind {
        RecordKind::User => Record::User(user(&f)?),
        RecordKind::Account => Record::Account(account(&f)?),
        RecordKind::Transaction => Record::Transaction(boxed_transaction(&f)?),
        RecordKind::DailyBalance => Record::DailyBalance(daily_balance(&f)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pointers(e: &[FieldError]) -> Vec<&str> {
        e.iter().map(|e| e.pointer.as_str()).collect()
    }

    #[test]
    fn transaction_with_finapi_names_and_string_amount() {
        let t = transaction(
            &raw_fields(
                r#"{"id":17,"accountId":"a1","amount":"-12.5","currency":"EUR",
                "bankBookingDate":"2024-03-01 00:00:00.000","counterpartCreditorId":"DE98ZZZ09999999999",
                "typeCodeZka":"005","mcc":5411,"labels":["GROCERIES"],"somethingElse":{"x":1}}"#,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(t.id.as_str(), "17");
        assert_eq!(t.amount.cents(), -1250);
        assert_eq!(t.booking_date.to_string(), "2024-03-01");
        assert_eq!(t.creditor_id.as_deref(), Some("DE98ZZZ09999999999"));
        assert_eq!(t.bank_transaction_code.as_deref(), Some("005"));
        assert_eq!(t.mcc, Some(5411));
        assert_eq!(t.labels, vec![Label::parse("GROCERIES").unwrap()]);
    }

    #[test]
    fn a_date_may_carry_a_real_time_only() {
        let booked = |date: &str| {
            transaction(
                &raw_fields(&format!(
                    r#"{{"id":"t","accountId":"a","amount":"1","currency":"EUR","bookingDate":"{date}"}}"#
                ))
                .unwrap(),
            )
            .map(|t| t.booking_date.to_string())
            .map_err(|e| pointers(&e).join(","))
        };
        for ok in [
            "2026-11-02",
            "2026-11-02 00:00:00.000",
            "2026-11-02T23:59:59",
            "2026-11-02T08:15",
            "2026-11-02T08:15:00Z",
            "2026-11-02T08:15:00.123456+01:00",
        ] {
            assert_eq!(booked(ok), Ok("2026-11-02".to_owned()), "{ok}");
        }
        for bad in [
            "2026-11-02 25:61:61",
            "2026-11-02 24:00",
            "2026-11-02T12:60",
            "2026-11-02T12:00:60",
            "2026-11-02T12",
            "2026-11-02T",
            "2026-11-02 ",
            "2026-11-02T12:00:00.",
            "2026-11-02T12:00:00+1",
            "2026-11-02T12:00:00 junk",
            "2026-11-02X12:00",
        ] {
            assert_eq!(booked(bad), Err("/bookingDate".to_owned()), "{bad}");
        }
    }

    #[test]
    fn a_nul_in_any_text_is_refused_by_name() {
        let e = transaction(
            &raw_fields(
                r#"{"id":"t","accountId":"a","amount":"1","currency":"EUR","bookingDate":"2026-11-02",
                "purpose":"a\u0000b","counterpartName":"ok \u00e9"}"#,
            )
            .unwrap(),
        )
        .unwrap_err();
        assert_eq!(pointers(&e), vec!["/purpose"]);
    }

    #[test]
    fn every_bad_field_is_named() {
        let e = transaction(
            &raw_fields(
                r#"{"id":"t 1","amount":1.234,"currency":"EURO","bookingDate":"2023-02-29",
                "counterpartIban":"DE89370400440532013001","labels":["NOPE"]}"#,
            )
            .unwrap(),
        )
        .unwrap_err();
        assert_eq!(
            pointers(&e),
            vec![
                "/id",
                "/accountId",
                "/amount",
                "/currency",
                "/bookingDate",
                "/counterpartIban",
                "/labels/0"
            ]
        );
    }

    #[test]
    fn amounts_are_never_floats() {
        let t = transaction(
            &raw_fields(r#"{"id":"x","accountId":"a","amount":0.1,"currency":"EUR","bookingDate":"2024-01-01"}"#)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(t.amount.cents(), 10);
        let e = transaction(
            &raw_fields(r#"{"id":"x","accountId":"a","amount":1e2,"currency":"EUR","bookingDate":"2024-01-01"}"#)
                .unwrap(),
        )
        .unwrap_err();
        assert_eq!(pointers(&e), vec!["/amount"]);
    }

    #[test]
    fn bulk_kinds() {
        assert!(matches!(
            bulk_record(r#"{"kind":"user","id":"u1"}"#),
            Ok(Record::User(_))
        ));
        let e = bulk_record(r#"{"kind":"car","id":"u1"}"#).unwrap_err();
        assert_eq!(pointers(&e), vec!["/kind"]);
        let e = bulk_record(r#"{"id":"u1"}"#).unwrap_err();
        assert_eq!(pointers(&e), vec!["/kind"]);
        let e = bulk_record("[1,2]").unwrap_err();
        assert_eq!(pointers(&e), vec![""]);
        let e = bulk_record(r#"{"kind":"account","id":"a","userId":"u","type":"GIRO","currency":"EUR","balance":"x"}"#)
            .unwrap_err();
        assert_eq!(pointers(&e), vec!["/type", "/balance"]);
    }

    #[test]
    fn strings_with_and_without_escapes_read_the_same() {
        // Unescaped strings are borrowed from the line; escaped ones decoded.
        let plain = r#"{"id":"x","accountId":"a","amount":"1","currency":"EUR","bookingDate":"2024-01-01","purpose":"Miete Ü 09/2025","counterpartName":"A \"B\" C\\D \u00dc"}"#;
        let t = transaction(&raw_fields(plain).unwrap()).unwrap();
        assert_eq!(t.purpose.as_deref(), Some("Miete Ü 09/2025"));
        assert_eq!(t.counterpart_name.as_deref(), Some("A \"B\" C\\D Ü"));
        let escaped = r#"{"id":"x","accountId":"a","amount":"1","currency":"\u0045UR","bookingDate":"2024-01-01"}"#;
        assert_eq!(
            transaction(&raw_fields(escaped).unwrap())
                .unwrap()
                .currency
                .as_str(),
            "EUR"
        );
        // A raw control character is refused by the object parse.
        assert!(raw_fields("{\"purpose\":\"a\tb\"}").is_err());
    }
}
