//! CAMT.052/053/054 (ISO 20022 bank-to-customer account report, statement
//! and notification), versions 001.02 to 001.13.
//!
//! Elements are matched by local name, so every version's namespace reads
//! the same; the differences between versions (`Sts` as text or as `Sts/Cd`,
//! party names directly under `Cdtr` or under `Cdtr/Pty`, `BIC` or `BICFI`,
//! the transaction amount in `AmtDtls/TxAmt` or in `Amt`) are handled where
//! they occur. Errors name the XML path of the offending element.

use finseg_core::{Amount, Currency, Date, Iban};
use roxmltree::{Document, Node, ParsingOptions};

use crate::text::{self, clean};
use crate::{AccountIdent, Balance, BalanceKind, Entry, Location, ParseError, Statement, Warning};

/// A DOM of more nodes than this is refused (about 100 MB of CAMT).
const NODES_LIMIT: u32 = 20_000_000;

pub fn parse(bytes: &[u8]) -> Result<Vec<Statement>, ParseError> {
    let xml = text::decode(bytes, None);
    let opts = ParsingOptions {
        allow_dtd: false,
        nodes_limit: NODES_LIMIT,
    };
    let doc = Document::parse_with_options(&xml, opts).map_err(|e| {
        let pos = e.pos();
        ParseError::new(
            Location::Line(pos.row as usize),
            format!("not well-formed XML: {e}"),
        )
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "Document" {
        return Err(ParseError::new(
            Location::Path(path(root)),
            "the root element must be Document (ISO 20022)",
        ));
    }
    if let Some(ns) = root.tag_name().namespace()
        && !ns.starts_with("urn:iso:std:iso:20022:tech:xsd:camt.05")
    {
        return Err(ParseError::new(
            Location::Path(path(root)),
            format!("namespace '{ns}' is not CAMT.052, CAMT.053 or CAMT.054"),
        ));
    }
    // Version 1 of each message (2008) names its container with a `V01`
    // suffix; later versions do not.
    let container = elements(root)
        .find(|n| {
            matches!(
                n.tag_name()
                    .name()
                    .strip_suffix("V01")
                    .unwrap_or(n.tag_name().name()),
                "BkToCstmrStmt" | "BkToCstmrAcctRpt" | "BkToCstmrDbtCdtNtfctn"
            )
        })
        .ok_or_else(|| {
            ParseError::new(
                Location::Path(path(root)),
                "expected BkToCstmrStmt, BkToCstmrAcctRpt or BkToCstmrDbtCdtNtfctn",
            )
        })?;
    let nodes: Vec<Node<'_, '_>> = elements(container)
        .filter(|n| matches!(n.tag_name().name(), "Stmt" | "Rpt" | "Ntfctn"))
        .collect();
    // Paths are built from indexes known here: `path()` per entry would
    // count siblings each time (quadratic in entries per statement).
    let container_path = path(container);
    let created = text_at(container, &["GrpHdr", "CreDtTm"]);
    let statements: Vec<Statement> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            statement(
                *n,
                indexed(&container_path, n, i, nodes.len()),
                created.as_deref(),
            )
        })
        .collect::<Result<_, _>>()?;
    if statements.is_empty() {
        return Err(ParseError::new(
            Location::Path(path(container)),
            "no statement (Stmt, Rpt or Ntfctn) in the document",
        ));
    }
    Ok(statements)
}

/// `{parent}/{name}[{i + 1}]`, without the index when the element is alone.
fn indexed(parent: &str, n: &Node<'_, '_>, i: usize, of: usize) -> String {
    let name = n.tag_name().name();
    if of > 1 {
        format!("{parent}/{name}[{}]", i + 1)
    } else {
        format!("{parent}/{name}")
    }
}

fn statement(
    node: Node<'_, '_>,
    stmt_path: String,
    message_created: Option<&str>,
) -> Result<Statement, ParseError> {
    let mut s = Statement::new(Location::Path(stmt_path.clone()));
    // Intraday reports and notifications may date an entry by nothing but
    // the time the record (or else the message) was created.
    let created = text_at(node, &["CreDtTm"])
        .as_deref()
        .or(message_created)
        .and_then(|t| Date::parse(t.get(..10)?));
    s.reference = text_at(node, &["Id"]);
    s.number = text_at(node, &["ElctrncSeqNb"]).or_else(|| text_at(node, &["LglSeqNb"]));
    s.from = child_at(node, &["FrToDt", "FrDtTm"]).and_then(|n| date_text(n).ok());
    s.to = child_at(node, &["FrToDt", "ToDtTm"]).and_then(|n| date_text(n).ok());
    let acct = child(node, "Acct").ok_or_else(|| missing(node, "Acct"))?;
    let raw = text_at(acct, &["Id", "IBAN"])
        .or_else(|| text_at(acct, &["Id", "Othr", "Id"]))
        // Version 1 (2008): a proprietary or domestic account number.
        .or_else(|| text_at(acct, &["Id", "PrtryAcct", "Id"]))
        .or_else(|| text_at(acct, &["Id", "BBAN"]))
        .ok_or_else(|| missing(acct, "Id/IBAN or Id/Othr/Id"))?;
    s.account = AccountIdent {
        iban: Iban::parse(&raw).ok(),
        raw,
    };
    if let Some(c) = child(acct, "Ccy") {
        s.currency = Some(currency_text(c)?);
    }
    for bal in elements(node).filter(|n| n.tag_name().name() == "Bal") {
        let code = text_at(bal, &["Tp", "CdOrPrtry", "Cd"])
            .or_else(|| text_at(bal, &["Tp", "CdOrPrtry", "Prtry"]))
            .unwrap_or_default();
        let (amount, currency) = signed_amount(bal)?;
        let date_node = child_at(bal, &["Dt"]).ok_or_else(|| missing(bal, "Dt"))?;
        let date = date_of(date_node)?;
        let b = |kind| Balance {
            kind,
            date,
            amount,
            currency,
        };
        match code.as_str() {
            "OPBD" => s.opening = Some(b(BalanceKind::Final)),
            "PRCD" if s.opening.is_none() => s.opening = Some(b(BalanceKind::Final)),
            "CLBD" => s.closing = Some(b(BalanceKind::Final)),
            "CLAV" => s.available = Some(b(BalanceKind::Final)),
            _ => {}
        }
        s.currency.get_or_insert(currency);
    }
    let ntries: Vec<Node<'_, '_>> = elements(node)
        .filter(|n| n.tag_name().name() == "Ntry")
        .collect();
    for (i, ntry) in ntries.iter().enumerate() {
        s.entry_count += 1;
        let ntry_path = indexed(&stmt_path, ntry, i, ntries.len());
        let undated =
            child_at(*ntry, &["BookgDt"]).is_none() && child_at(*ntry, &["ValDt"]).is_none();
        if undated && let Some(created) = created {
            s.warnings.push(Warning {
                location: Location::Path(ntry_path.clone()),
                message: format!(
                    "entry without BookgDt or ValDt: dated {created}, the day its report was created (CreDtTm)"
                ),
            });
        }
        entries(*ntry, ntry_path, created, &mut s.entries)?;
    }
    Ok(s)
}

/// One `Ntry` gives one entry, or one per `TxDtls` when a batch lists each
/// transaction's amount and they add up to the entry's.
fn entries(
    ntry: Node<'_, '_>,
    ntry_path: String,
    created: Option<Date>,
    out: &mut Vec<Entry>,
) -> Result<(), ParseError> {
    let (amount, currency) = signed_amount(ntry)?;
    let status = text_at(ntry, &["Sts", "Cd"])
        .or_else(|| text_at(ntry, &["Sts"]))
        .unwrap_or_default();
    let booked = status == "BOOK";
    let value_date = child_at(ntry, &["ValDt"]).map(date_of).transpose()?;
    let booking_date = match child_at(ntry, &["BookgDt"]) {
        Some(n) => date_of(n)?,
        None => value_date
            .or(created)
            .ok_or_else(|| missing(ntry, "BookgDt"))?,
    };
    let mut base = Entry::new(
        Location::Path(ntry_path.clone()),
        booking_date,
        amount,
        Some(currency),
    );
    base.booked = booked;
    base.value_date = value_date;
    base.reversal = matches!(text_at(ntry, &["RvslInd"]).as_deref(), Some("true" | "1"));
    base.bank_reference = text_at(ntry, &["AcctSvcrRef"]);
    base.additional_info = text_at(ntry, &["AddtlNtryInf"]);
    if let Some(code) = child(ntry, "BkTxCd") {
        bank_code(code, &mut base);
    }
    let details: Vec<Node<'_, '_>> = elements(ntry)
        .filter(|n| n.tag_name().name() == "NtryDtls")
        .flat_map(elements)
        .filter(|n| n.tag_name().name() == "TxDtls")
        .collect();
    let split: Option<Vec<Amount>> = if details.len() > 1 {
        details
            .iter()
            .map(|d| tx_amount(*d, currency, amount))
            .collect::<Result<Option<Vec<_>>, _>>()?
            .filter(|amounts| amounts.iter().map(|a| a.cents()).sum::<i64>() == amount.cents())
    } else {
        None
    };
    match split {
        Some(amounts) => {
            for (k, (d, a)) in details.iter().zip(amounts).enumerate() {
                let mut e = base.clone();
                e.location = Location::Path(format!("{ntry_path}/NtryDtls/TxDtls[{}]", k + 1));
                e.amount = a;
                tx_details(*d, &mut e);
                out.push(e);
            }
        }
        None => {
            let mut e = base;
            if let [d] = details.as_slice() {
                tx_details(*d, &mut e);
            }
            out.push(e);
        }
    }
    Ok(())
}

/// A `TxDtls`'s signed amount in the entry's currency; `None` when it has
/// none (or only in another currency).
fn tx_amount(
    d: Node<'_, '_>,
    currency: Currency,
    entry_amount: Amount,
) -> Result<Option<Amount>, ParseError> {
    let amt = child_at(d, &["AmtDtls", "TxAmt", "Amt"]).or_else(|| child(d, "Amt"));
    let Some(amt) = amt else { return Ok(None) };
    let (value, ccy) = amount_of(amt)?;
    if ccy != currency {
        return Ok(None);
    }
    let negative = match text_at(d, &["CdtDbtInd"]).as_deref() {
        Some("DBIT") => true,
        Some("CRDT") => false,
        _ => entry_amount.is_negative(),
    };
    Ok(Some(if negative {
        Amount::from_cents(-value.cents())
    } else {
        value
    }))
}

fn bank_code(code: Node<'_, '_>, e: &mut Entry) {
    let domain = text_at(code, &["Domn", "Cd"]);
    let family = text_at(code, &["Domn", "Fmly", "Cd"]);
    let sub = text_at(code, &["Domn", "Fmly", "SubFmlyCd"]);
    if let (Some(d), Some(f), Some(s)) = (domain, family, sub) {
        e.bank_transaction_code = Some(format!("{d}-{f}-{s}"));
    }
    if let Some(p) = text_at(code, &["Prtry", "Cd"]) {
        // German banks (DK): `NMSC+201+9310+997`, the GVC after the first `+`.
        let gvc = p
            .split('+')
            .nth(1)
            .filter(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()));
        if let Some(g) = gvc {
            e.gvc = Some(g.to_owned());
            e.bank_transaction_code.get_or_insert_with(|| g.to_owned());
        }
        e.type_code = Some(p);
    }
}

fn tx_details(d: Node<'_, '_>, e: &mut Entry) {
    if let Some(r) = child(d, "Refs") {
        e.end_to_end_reference = text_at(r, &["EndToEndId"]).filter(|v| v != "NOTPROVIDED");
        e.mandate_reference = text_at(r, &["MndtId"]);
        e.customer_reference = text_at(r, &["InstrId"]);
        if let Some(a) = text_at(r, &["AcctSvcrRef"]) {
            e.bank_reference = Some(a);
        }
    }
    if let Some(code) = child(d, "BkTxCd") {
        bank_code(code, e);
    }
    // The counterpart is the creditor of a debit and the debtor of a credit.
    let (party, account, agent) = if e.amount.is_negative() {
        ("Cdtr", "CdtrAcct", "CdtrAgt")
    } else {
        ("Dbtr", "DbtrAcct", "DbtrAgt")
    };
    if let Some(p) = child(d, "RltdPties") {
        let party_node = child(p, party);
        e.counterpart_name =
            party_node.and_then(|n| text_at(n, &["Nm"]).or_else(|| text_at(n, &["Pty", "Nm"])));
        if let Some(acc) = child(p, account) {
            let raw = text_at(acc, &["Id", "IBAN"]).or_else(|| text_at(acc, &["Id", "Othr", "Id"]));
            e.counterpart_iban = raw.as_deref().and_then(|r| Iban::parse(r).ok());
            e.counterpart_account = raw;
        }
        // The SEPA creditor id (direct debits): `Cdtr/Id/PrvtId/Othr/Id` with scheme SEPA.
        e.creditor_id = child(p, "Cdtr").and_then(|c| {
            c.descendants()
                .filter(|n| n.tag_name().name() == "Othr")
                .find(|o| text_at(*o, &["SchmeNm", "Prtry"]).as_deref() == Some("SEPA"))
                .and_then(|o| text_at(o, &["Id"]))
        });
    }
    if let Some(a) = child_at(d, &["RltdAgts", agent, "FinInstnId"]) {
        e.counterpart_bic = text_at(a, &["BIC"]).or_else(|| text_at(a, &["BICFI"]));
        e.counterpart_bank = e.counterpart_bic.clone();
    }
    if let Some(rmt) = child(d, "RmtInf") {
        let lines: Vec<String> = elements(rmt)
            .filter(|n| n.tag_name().name() == "Ustrd")
            .filter_map(|n| n.text().and_then(clean))
            .collect();
        e.purpose = if lines.is_empty() {
            rmt.descendants()
                .find(|n| {
                    n.tag_name().name() == "Ref"
                        && n.parent()
                            .is_some_and(|p| p.tag_name().name() == "CdtrRefInf")
                })
                .and_then(|n| n.text().and_then(clean))
        } else {
            clean(&lines.join(" "))
        };
    }
    e.sepa_purpose_code = text_at(d, &["Purp", "Cd"]);
    if let Some(info) = text_at(d, &["AddtlTxInf"]) {
        e.additional_info = Some(info);
    }
    e.return_code = text_at(d, &["RtrInf", "Rsn", "Cd"]);
}

/// `Amt` (with `Ccy`) and `CdtDbtInd` of a `Bal` or `Ntry`: the signed amount.
fn signed_amount(node: Node<'_, '_>) -> Result<(Amount, Currency), ParseError> {
    let amt = child(node, "Amt").ok_or_else(|| missing(node, "Amt"))?;
    let (value, ccy) = amount_of(amt)?;
    let ind = child(node, "CdtDbtInd").ok_or_else(|| missing(node, "CdtDbtInd"))?;
    let negative = match ind.text().map(str::trim) {
        Some("DBIT") => true,
        Some("CRDT") => false,
        other => {
            return Err(ParseError::new(
                Location::Path(path(ind)),
                format!(
                    "CdtDbtInd must be CRDT or DBIT, not '{}'",
                    other.unwrap_or("")
                ),
            ));
        }
    };
    Ok((
        if negative {
            Amount::from_cents(-value.cents())
        } else {
            value
        },
        ccy,
    ))
}

fn amount_of(amt: Node<'_, '_>) -> Result<(Amount, Currency), ParseError> {
    let text = amt.text().unwrap_or("").trim();
    let value = Amount::parse(text)
        .ok()
        .filter(|a| !a.is_negative())
        .ok_or_else(|| {
            ParseError::new(
                Location::Path(path(amt)),
                format!(
                    "'{text}' is not a non-negative decimal amount with at most 2 fraction digits"
                ),
            )
        })?;
    let ccy = amt.attribute("Ccy").unwrap_or("");
    let ccy = Currency::parse_historical(ccy).ok_or_else(|| {
        ParseError::new(
            Location::Path(format!("{}/@Ccy", path(amt))),
            format!("'{ccy}' is not an ISO 4217 currency code"),
        )
    })?;
    Ok((value, ccy))
}

fn currency_text(n: Node<'_, '_>) -> Result<Currency, ParseError> {
    let t = n.text().unwrap_or("").trim();
    Currency::parse_historical(t).ok_or_else(|| {
        ParseError::new(
            Location::Path(path(n)),
            format!("'{t}' is not an ISO 4217 currency code"),
        )
    })
}

/// `Dt` or `DtTm` inside a date choice element.
fn date_of(n: Node<'_, '_>) -> Result<Date, ParseError> {
    let inner = child(n, "Dt").or_else(|| child(n, "DtTm"));
    match inner {
        Some(i) => date_text(i),
        None => date_text(n),
    }
}

/// `YYYY-MM-DD` or an ISO date-time whose date part is taken as written
/// (a statement's dates are the bank's calendar days).
fn date_text(n: Node<'_, '_>) -> Result<Date, ParseError> {
    let t = n.text().unwrap_or("").trim();
    t.get(..10).and_then(Date::parse).ok_or_else(|| {
        ParseError::new(
            Location::Path(path(n)),
            format!("'{t}' is not a date (YYYY-MM-DD)"),
        )
    })
}

fn elements<'a, 'i>(n: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    n.children().filter(Node::is_element)
}

fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    elements(n).find(|c| c.tag_name().name() == name)
}

fn child_at<'a, 'i>(n: Node<'a, 'i>, names: &[&str]) -> Option<Node<'a, 'i>> {
    names.iter().try_fold(n, |cur, name| child(cur, name))
}

fn text_at(n: Node<'_, '_>, names: &[&str]) -> Option<String> {
    child_at(n, names).and_then(|c| c.text()).and_then(clean)
}

fn missing(n: Node<'_, '_>, what: &str) -> ParseError {
    ParseError::new(Location::Path(path(n)), format!("missing element {what}"))
}

/// `/Document/BkToCstmrStmt/Stmt[1]/Ntry[3]`: an index where the element has
/// siblings of the same name.
fn path(n: Node<'_, '_>) -> String {
    let mut parts: Vec<String> = Vec::new();
    for a in n.ancestors().filter(Node::is_element) {
        let name = a.tag_name().name();
        let same = |s: &Node<'_, '_>| s.is_element() && s.tag_name().name() == name;
        let siblings = a.parent().map_or(1, |p| p.children().filter(same).count());
        if siblings > 1 {
            let idx = a.prev_siblings().filter(same).count();
            parts.push(format!("{name}[{idx}]"));
        } else {
            parts.push(name.to_owned());
        }
    }
    parts.reverse();
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08";

    fn doc(entries: &str) -> String {
        format!(
            r#"<?xml version="1.0"?><Document xmlns="{NS}"><BkToCstmrStmt><Stmt><Id>S1</Id>
            <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
            <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">10.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Dt><Dt>2024-01-31</Dt></Dt></Bal>
            {entries}</Stmt></BkToCstmrStmt></Document>"#
        )
    }

    #[test]
    fn version_08_shapes() {
        let xml = doc(
            r#"<Ntry><Amt Ccy="EUR">49.90</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
            <BookgDt><DtTm>2024-01-15T10:00:00+01:00</DtTm></BookgDt>
            <BkTxCd><Prtry><Cd>NDDT+105+9310+997</Cd><Issr>DK</Issr></Prtry></BkTxCd>
            <NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId><MndtId>M1</MndtId></Refs>
            <RltdPties><Cdtr><Pty><Nm>HUK-COBURG</Nm><Id><PrvtId><Othr><Id>DE33ZZZ00000000001</Id><SchmeNm><Prtry>SEPA</Prtry></SchmeNm></Othr></PrvtId></Id></Pty></Cdtr>
            <CdtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></CdtrAcct></RltdPties>
            <RltdAgts><CdtrAgt><FinInstnId><BICFI>COBADEFFXXX</BICFI></FinInstnId></CdtrAgt></RltdAgts>
            <Purp><Cd>INSU</Cd></Purp>
            <RmtInf><Ustrd>Kfz-Versicherung</Ustrd><Ustrd>Vertrag 123</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
            <Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts><BookgDt><Dt>2024-01-16</Dt></BookgDt></Ntry>"#,
        );
        let s = parse(xml.as_bytes()).unwrap();
        let e = &s[0].entries[0];
        assert_eq!(e.amount.cents(), -49_90);
        assert_eq!(e.booking_date, Date::from_ymd(2024, 1, 15).unwrap());
        assert_eq!(e.gvc.as_deref(), Some("105"));
        assert_eq!(e.end_to_end_reference, None);
        assert_eq!(e.mandate_reference.as_deref(), Some("M1"));
        assert_eq!(e.counterpart_name.as_deref(), Some("HUK-COBURG"));
        assert_eq!(e.creditor_id.as_deref(), Some("DE33ZZZ00000000001"));
        assert_eq!(e.counterpart_bic.as_deref(), Some("COBADEFFXXX"));
        assert_eq!(e.sepa_purpose_code.as_deref(), Some("INSU"));
        assert_eq!(e.purpose.as_deref(), Some("Kfz-Versicherung Vertrag 123"));
        assert!(!s[0].entries[1].booked);
        assert_eq!(s[0].closing.unwrap().amount.cents(), -10_00);
    }

    #[test]
    fn camt_052_account_report() {
        let xml = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.02"><BkToCstmrAcctRpt>
            <Rpt><Id>R1</Id><Acct><Id><Othr><Id>0532013000</Id></Othr></Id></Acct>
            <Ntry><Amt Ccy="EUR">5.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2024-02-01</Dt></BookgDt></Ntry>
            <Ntry><Amt Ccy="EUR">7.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>INFO</Sts><BookgDt><Dt>2024-02-01</Dt></BookgDt></Ntry>
            </Rpt></BkToCstmrAcctRpt></Document>"#;
        let s = parse(xml.as_bytes()).unwrap();
        assert_eq!(s[0].account.raw, "0532013000");
        assert_eq!(s[0].entry_count, 2);
        assert_eq!(s[0].entries[0].amount.cents(), -5_00);
        assert!(!s[0].entries[1].booked);
    }

    /// Version 1 of CAMT.052 (2008): a `V01` container and a proprietary
    /// account number; an entry of an intraday report with neither booking
    /// nor value date takes the day the report was created, with a warning.
    #[test]
    fn version_1_reports_and_undated_entries() {
        let xml = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.01"><BkToCstmrAcctRptV01>
            <GrpHdr><MsgId>M</MsgId><CreDtTm>2024-05-02T09:00:00+01:00</CreDtTm></GrpHdr>
            <Rpt><Id>R1</Id><CreDtTm>2024-05-03T12:30:00+01:00</CreDtTm>
            <Acct><Id><PrtryAcct><Id>12345678</Id></PrtryAcct></Id></Acct>
            <Ntry><Amt Ccy="EUR">12.50</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts></Ntry>
            </Rpt></BkToCstmrAcctRptV01></Document>"#;
        let s = parse(xml.as_bytes()).unwrap();
        assert_eq!(s[0].account.raw, "12345678");
        let e = &s[0].entries[0];
        assert_eq!(e.amount.cents(), -1250);
        assert_eq!(e.booking_date, Date::parse("2024-05-03").unwrap());
        assert_eq!(s[0].warnings.len(), 1);
        assert!(
            s[0].warnings[0].message.contains("CreDtTm"),
            "{:?}",
            s[0].warnings
        );
        // Without any creation time there is no date to give: refused.
        let undated = xml
            .replace("<CreDtTm>2024-05-03T12:30:00+01:00</CreDtTm>", "")
            .replace("<CreDtTm>2024-05-02T09:00:00+01:00</CreDtTm>", "");
        assert!(parse(undated.as_bytes()).is_err());
    }

    /// CAMT.054: a batch entry with each transaction's details becomes one
    /// entry per transaction (their amounts add up to the batch's); a
    /// reversal (`RvslInd`) keeps the direction its indicator gives.
    #[test]
    fn camt_054_batch_and_reversal() {
        let xml = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn>
            <Ntfctn><Id>N1</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>
            <Ntry><Amt Ccy="EUR">150.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2024-03-01</Dt></BookgDt>
              <NtryDtls><Btch><PmtInfId>B-7</PmtInfId><NbOfTxs>2</NbOfTxs></Btch>
                <TxDtls><Amt Ccy="EUR">100.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><RltdPties><Cdtr><Pty><Nm>Vermieter</Nm></Pty></Cdtr></RltdPties><RmtInf><Ustrd>Miete</Ustrd></RmtInf></TxDtls>
                <TxDtls><Amt Ccy="EUR">50.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><RltdPties><Cdtr><Pty><Nm>Stadtwerke</Nm></Pty></Cdtr></RltdPties><RmtInf><Ustrd>Strom</Ustrd></RmtInf></TxDtls>
              </NtryDtls></Ntry>
            <Ntry><Amt Ccy="EUR">50.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><RvslInd>true</RvslInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2024-03-04</Dt></BookgDt>
              <NtryDtls><TxDtls><RltdPties><Cdtr><Pty><Nm>Stadtwerke</Nm></Pty></Cdtr></RltdPties><RtrInf><Rsn><Cd>MD06</Cd></Rsn></RtrInf></TxDtls></NtryDtls></Ntry>
            </Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"#;
        let s = parse(xml.as_bytes()).unwrap();
        assert_eq!(s[0].entry_count, 2, "the file counts the batch once");
        let amounts: Vec<i64> = s[0].entries.iter().map(|e| e.amount.cents()).collect();
        assert_eq!(amounts, [-100_00, -50_00, 50_00]);
        assert_eq!(
            s[0].entries[1].counterpart_name.as_deref(),
            Some("Stadtwerke")
        );
        assert!(s[0].entries[2].reversal && !s[0].entries[0].reversal);
        assert_eq!(s[0].entries[2].return_code.as_deref(), Some("MD06"));
    }

    #[test]
    fn errors_name_the_path() {
        let xml = doc(
            r#"<Ntry><Amt Ccy="EUR">1,00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2024-01-15</Dt></BookgDt></Ntry>"#,
        );
        let e = parse(xml.as_bytes()).unwrap_err();
        assert_eq!(
            e.location,
            Location::Path("/Document/BkToCstmrStmt/Stmt/Ntry/Amt".into())
        );
        let xml = doc(
            r#"<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2024-01-15</Dt></BookgDt></Ntry>
            <Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>X</CdtDbtInd></Ntry>"#,
        );
        let e = parse(xml.as_bytes()).unwrap_err();
        assert_eq!(
            e.location,
            Location::Path("/Document/BkToCstmrStmt/Stmt/Ntry[2]/CdtDbtInd".into())
        );
        assert!(parse(b"<Document><Other/></Document>").is_err());
        assert!(parse(b"<Document").is_err());
        assert!(parse(b"<!DOCTYPE x [<!ENTITY a 'b'>]><Document/>").is_err());
    }
}
