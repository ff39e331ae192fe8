//! Bank statement files turned into plain data: CAMT.052/053 (ISO 20022 XML),
//! MT940/MT942 (SWIFT), and CSV exports with a column mapping.
//!
//! Parsers take the file's bytes and return [`Statement`]s or one
//! [`ParseError`] naming where the file is wrong (a line, or an XML path).
//! They never panic on any input (fuzzed), do no I/O and hold no state;
//! [`plan`] turns parsed statements into the records finseg stores.
#![forbid(unsafe_code)]

pub mod camt;
pub mod csv;
pub mod mt940;
mod plan;
mod text;

pub use plan::{ImportPlan, plan};

use finseg_core::{Amount, Currency, Date, Iban};
use serde::Serialize;
use std::fmt;

/// The statement file formats finseg reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Format {
    #[serde(rename = "camt053")]
    Camt,
    #[serde(rename = "mt940")]
    Mt940,
    #[serde(rename = "csv")]
    Csv,
}

impl Format {
    /// `camt053` (also `camt052`, `camt`), `mt940` (also `mt942`), `csv`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "camt053" | "camt052" | "camt054" | "camt" | "camt.053" | "camt.052" => Format::Camt,
            "mt940" | "mt942" | "sta" => Format::Mt940,
            "csv" => Format::Csv,
            _ => return None,
        })
    }

    /// Guesses the format of a file: XML is CAMT, a `:20:` tag is MT940.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        let body = text::strip_bom(bytes);
        let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
        if body[start] == b'<' {
            return Some(Format::Camt);
        }
        let head = &body[start..body.len().min(start + 4096)];
        if head.windows(4).any(|w| w == b":20:") {
            return Some(Format::Mt940);
        }
        None
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Camt => "camt053",
            Format::Mt940 => "mt940",
            Format::Csv => "csv",
        }
    }
}

/// Parses a statement file. `csv_mapping` is required for CSV and ignored
/// otherwise.
pub fn parse(
    format: Format,
    bytes: &[u8],
    csv_mapping: Option<&csv::Mapping>,
) -> Result<Vec<Statement>, ParseError> {
    match format {
        Format::Camt => camt::parse(bytes),
        Format::Mt940 => mt940::parse(bytes),
        Format::Csv => match csv_mapping {
            Some(m) => csv::parse(bytes, m),
            None => Err(ParseError::new(
                Location::File,
                "a CSV file needs a column mapping (a preset or a JSON mapping)",
            )),
        },
    }
}

/// Where in a file something is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File,
    /// 1-based line number (MT940, CSV).
    Line(usize),
    /// An XML path such as `/Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/Amt` (CAMT).
    Path(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File => f.write_str("file"),
            Location::Line(n) => write!(f, "line {n}"),
            Location::Path(p) => f.write_str(p),
        }
    }
}

/// Why a file cannot be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub location: Location,
    pub message: String,
}

impl ParseError {
    pub fn new(location: Location, message: impl Into<String>) -> Self {
        ParseError {
            location,
            message: message.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

impl std::error::Error for ParseError {}

/// A deviation from the format that the parser read past: what it was and
/// how it was read. The file is imported; the answer lists these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub location: Location,
    pub message: String,
}

/// How the account of a statement is identified.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountIdent {
    /// As written in the file (`:25:` or `Acct/Id/*`).
    pub raw: String,
    /// The IBAN, when the identification is (or ends with) a valid one.
    pub iban: Option<Iban>,
}

impl AccountIdent {
    /// The account's IBAN: as written, or built from the German form
    /// `BLZ/Kontonummer` (`37040044/532013000`, optionally followed by the
    /// currency) that many German MT940 files use.
    pub fn iban_or_german(&self) -> Option<Iban> {
        if let Some(iban) = &self.iban {
            return Some(iban.clone());
        }
        let (blz, rest) = self.raw.split_once('/')?;
        let number = rest
            .trim()
            .trim_end_matches(|c: char| c.is_ascii_uppercase())
            .trim();
        Iban::german(blz.trim(), number)
    }
}

/// Opening or closing balances are final (end of statement) or intermediate
/// (end of one page of a statement spread over several messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BalanceKind {
    Final,
    Intermediate,
}

/// A booked balance at the end of `date` (signed: debit is negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    pub kind: BalanceKind,
    pub date: Date,
    pub amount: Amount,
    pub currency: Currency,
}

/// One statement (MT940 message, CAMT `Stmt`/`Rpt`, or a whole CSV file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub location: Location,
    /// `:20:` transaction reference, CAMT `Stmt/Id`.
    pub reference: Option<String>,
    /// `:21:` related reference.
    pub related_reference: Option<String>,
    /// `:28C:` statement number / CAMT `ElctrncSeqNb` (or `LglSeqNb`).
    pub number: Option<String>,
    /// `:28C:` sequence (page) number.
    pub sequence: Option<String>,
    pub account: AccountIdent,
    pub currency: Option<Currency>,
    /// The period the statement covers, when it says so.
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub opening: Option<Balance>,
    pub closing: Option<Balance>,
    /// `:64:` closing available balance / CAMT `CLAV`.
    pub available: Option<Balance>,
    /// Entries as the file counts them (`:61:`, `Ntry`, CSV rows); a batched
    /// CAMT entry is one here and several in `entries`.
    pub entry_count: usize,
    pub entries: Vec<Entry>,
    /// Deviations read past in this statement.
    pub warnings: Vec<Warning>,
}

impl Statement {
    fn new(location: Location) -> Self {
        Statement {
            location,
            reference: None,
            related_reference: None,
            number: None,
            sequence: None,
            account: AccountIdent::default(),
            currency: None,
            from: None,
            to: None,
            opening: None,
            closing: None,
            available: None,
            entry_count: 0,
            entries: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// One booked (or pending) movement on the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub location: Location,
    /// Only booked entries become transactions; pending and information-only
    /// ones (CAMT `PDNG`/`INFO`, MT942 is booked) are counted and skipped.
    pub booked: bool,
    pub booking_date: Date,
    pub value_date: Option<Date>,
    /// Signed: money leaving the account is negative.
    pub amount: Amount,
    /// `None` when the file does not say (an MT940 line without balances):
    /// the account's currency then applies.
    pub currency: Option<Currency>,
    /// A reversal (MT940 `RC`/`RD`, CAMT `RvslInd`).
    pub reversal: bool,
    /// MT940 funds code (third letter of the currency code), e.g. `R`.
    pub funds_code: Option<char>,
    /// MT940 transaction type (`NTRF`), CAMT proprietary bank code.
    pub type_code: Option<String>,
    /// CAMT `Domn-Fmly-SubFmly` (e.g. `PMNT-RCDT-ESCT`) or the German GVC
    /// (`:86:` first three digits, e.g. `166`): what labelling matches.
    pub bank_transaction_code: Option<String>,
    /// MT940 `:86:` GVC (Geschäftsvorfallcode).
    pub gvc: Option<String>,
    pub posting_text: Option<String>,
    pub prima_nota: Option<String>,
    /// MT940 customer reference (before `//`), CAMT `InstrId`.
    pub customer_reference: Option<String>,
    /// MT940 bank reference (after `//`), CAMT `AcctSvcrRef`.
    pub bank_reference: Option<String>,
    pub end_to_end_reference: Option<String>,
    pub mandate_reference: Option<String>,
    pub creditor_id: Option<String>,
    pub counterpart_name: Option<String>,
    /// The counterpart's account as written (IBAN or national number).
    pub counterpart_account: Option<String>,
    pub counterpart_iban: Option<Iban>,
    /// The counterpart's bank as written (BIC or national bank code).
    pub counterpart_bank: Option<String>,
    pub counterpart_bic: Option<String>,
    /// Remittance information (Verwendungszweck).
    pub purpose: Option<String>,
    pub sepa_purpose_code: Option<String>,
    /// MT940 supplementary details / `:86:` ?34 / CAMT `AddtlTxInf`.
    pub additional_info: Option<String>,
    /// MT940 `:86:` as written (lines joined with `\n`).
    pub details: Option<String>,
    /// MT940 `?34` return debit note code / CAMT return reason.
    pub return_code: Option<String>,
}

impl Entry {
    fn new(
        location: Location,
        booking_date: Date,
        amount: Amount,
        currency: Option<Currency>,
    ) -> Self {
        Entry {
            location,
            booked: true,
            booking_date,
            value_date: None,
            amount,
            currency,
            reversal: false,
            funds_code: None,
            type_code: None,
            bank_transaction_code: None,
            gvc: None,
            posting_text: None,
            prima_nota: None,
            customer_reference: None,
            bank_reference: None,
            end_to_end_reference: None,
            mandate_reference: None,
            creditor_id: None,
            counterpart_name: None,
            counterpart_account: None,
            counterpart_iban: None,
            counterpart_bank: None,
            counterpart_bic: None,
            purpose: None,
            sepa_purpose_code: None,
            additional_info: None,
            details: None,
            return_code: None,
        }
    }
}
