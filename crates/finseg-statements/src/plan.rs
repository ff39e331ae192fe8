//! From parsed statements to the records finseg stores for one account:
//! transactions with deterministic ids, end-of-day balances, the account's
//! latest balance and `dataSince`.

use std::collections::{BTreeMap, HashMap};

use finseg_core::record::{DailyBalanceRecord, TransactionRecord};
use finseg_core::{Amount, Currency, Date, ExternalId, Iban, Text};
use sha2::{Digest, Sha256};

use crate::{BalanceKind, Entry, ParseError, Statement, Warning};

/// What importing a file into one account writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportPlan {
    pub statements: usize,
    /// Every entry in the file, booked or not.
    pub entries: usize,
    /// Pending and information-only entries: counted, not imported.
    pub skipped_not_booked: usize,
    pub transactions: Vec<TransactionRecord>,
    /// Final closing balances, one per day (the last statement's wins).
    pub daily_balances: Vec<DailyBalanceRecord>,
    /// The latest final closing balance: the account's balance at that date.
    pub latest_balance: Option<(Date, Amount)>,
    /// The first day the file covers completely.
    pub data_since: Option<Date>,
    /// Deviations the parser read past, in file order.
    pub warnings: Vec<Warning>,
    /// The IBAN the statements name (one, since a file for several
    /// accounts is refused): an account without one takes it.
    pub iban: Option<Iban>,
}

/// Plans the import of `statements` into the account `account_id` held in
/// `currency` (with `iban`, when known). Statements for another account, or
/// entries in another currency, are refused with their location.
pub fn plan(
    account_id: &ExternalId,
    iban: Option<&Iban>,
    currency: Currency,
    statements: &[Statement],
) -> Result<ImportPlan, ParseError> {
    // One account per file: statements are told apart by IBAN where they
    // name one, else by the identification as written.
    let mut first_ident: Option<String> = None;
    for s in statements {
        if let (Some(mine), Some(theirs)) = (iban, s.account.iban.as_ref())
            && mine != theirs
        {
            return Err(ParseError::new(
                s.location.clone(),
                format!(
                    "the statement is for account {}, not for this account's IBAN {}",
                    theirs.as_str(),
                    mine.as_str()
                ),
            ));
        }
        let ident = match &s.account.iban {
            Some(i) => i.as_str().to_owned(),
            None => s.account.raw.clone(),
        };
        if !ident.is_empty() {
            match &first_ident {
                None => first_ident = Some(ident),
                Some(first) if *first != ident => {
                    return Err(ParseError::new(
                        s.location.clone(),
                        format!(
                            "the file holds statements for several accounts ('{first}' and '{ident}'); import each account's statements separately"
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        if let Some(c) = s.currency
            && c != currency
        {
            return Err(ParseError::new(
                s.location.clone(),
                format!("the statement is in {c}; the account is held in {currency}"),
            ));
        }
    }
    let mut plan = ImportPlan {
        statements: statements.len(),
        entries: 0,
        skipped_not_booked: 0,
        transactions: Vec::new(),
        daily_balances: Vec::new(),
        latest_balance: None,
        data_since: None,
        warnings: statements
            .iter()
            .flat_map(|s| s.warnings.iter().cloned())
            .collect(),
        iban: statements.iter().find_map(|s| s.account.iban.clone()),
    };
    let mut occurrences: HashMap<[u8; 32], u32> = HashMap::new();
    let mut closing: BTreeMap<Date, Amount> = BTreeMap::new();
    let mut since: Option<Date> = None;
    let mut earliest = |d: Date| since = Some(since.map_or(d, |s| s.min(d)));
    for s in statements {
        if let Some(b) = s.closing.filter(|b| b.kind == BalanceKind::Final) {
            closing.insert(b.date, b.amount);
        }
        if let Some(from) = s.from {
            earliest(from);
        } else if let Some(o) = s.opening.filter(|b| b.kind == BalanceKind::Final) {
            // The opening balance is the end of its day: coverage starts the day after.
            earliest(o.date.add_days(1));
        }
        plan.entries += s.entry_count;
        for e in &s.entries {
            if !e.booked {
                plan.skipped_not_booked += 1;
                continue;
            }
            if let Some(c) = e.currency
                && c != currency
            {
                return Err(ParseError::new(
                    e.location.clone(),
                    format!("the entry is in {c}; the account is held in {currency}"),
                ));
            }
            earliest(e.booking_date);
            let key = identity(account_id, e);
            let n = occurrences.entry(key).or_insert(0);
            let id = transaction_id(&key, *n);
            *n += 1;
            plan.transactions.push(record(id, account_id, currency, e));
        }
    }
    plan.data_since = since;
    plan.latest_balance = closing.iter().next_back().map(|(d, a)| (*d, *a));
    plan.daily_balances = closing
        .into_iter()
        .map(|(date, balance)| DailyBalanceRecord {
            account_id: account_id.clone(),
            date,
            balance,
        })
        .collect();
    Ok(plan)
}

fn is_reference(r: &Option<String>) -> Option<&str> {
    r.as_deref()
        .filter(|v| !v.eq_ignore_ascii_case("NONREF") && !v.eq_ignore_ascii_case("NOTPROVIDED"))
}

/// What makes an entry the same entry in two overlapping files: the bank's
/// own reference where it gives one, else everything the entry says.
/// Identical entries on one day are told apart by their order of occurrence.
fn identity(account_id: &ExternalId, e: &Entry) -> [u8; 32] {
    let mut h = Sha256::new();
    let mut put = |s: &str| {
        h.update(s.as_bytes());
        h.update([0x1f]);
    };
    put(account_id.as_str());
    put(&e.booking_date.days().to_string());
    put(&e.amount.cents().to_string());
    let currency = e
        .currency
        .map(|c| c.as_str().to_owned())
        .unwrap_or_default();
    put(&currency);
    match is_reference(&e.bank_reference) {
        Some(r) => {
            put("ref");
            put(r);
            put(e.end_to_end_reference.as_deref().unwrap_or(""));
            put(e.counterpart_account.as_deref().unwrap_or(""));
        }
        None => {
            put("content");
            put(&e.value_date.map_or(String::new(), |d| d.days().to_string()));
            for f in [
                is_reference(&e.customer_reference),
                e.end_to_end_reference.as_deref(),
                e.mandate_reference.as_deref(),
                e.counterpart_account.as_deref(),
                e.counterpart_name.as_deref(),
                e.purpose.as_deref(),
                e.type_code.as_deref(),
                e.gvc.as_deref(),
                e.additional_info.as_deref(),
            ] {
                put(f.unwrap_or(""));
            }
        }
    }
    h.finalize().into()
}

fn transaction_id(key: &[u8; 32], occurrence: u32) -> ExternalId {
    let mut h = Sha256::new();
    h.update(key);
    h.update(occurrence.to_be_bytes());
    let digest = h.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    ExternalId::parse(&format!("st-{hex}")).expect("hex is a valid id")
}

fn code(v: &Option<String>, max: usize) -> Option<String> {
    v.as_ref().map(|s| crate::text::truncate(s.clone(), max))
}

fn record(
    id: ExternalId,
    account_id: &ExternalId,
    currency: Currency,
    e: &Entry,
) -> TransactionRecord {
    // Labelling reads purpose and counterpart; a statement without a purpose
    // often carries the text in its additional information or posting text.
    let purpose = e
        .purpose
        .clone()
        .or_else(|| e.additional_info.clone())
        .or_else(|| e.posting_text.clone())
        .map(|p| crate::text::truncate(p, 1000).into());
    TransactionRecord {
        id,
        account_id: account_id.clone(),
        amount: e.amount,
        currency,
        booking_date: e.booking_date,
        value_date: e.value_date,
        purpose,
        counterpart_name: e
            .counterpart_name
            .clone()
            .map(|n| crate::text::truncate(n, 200).into()),
        counterpart_iban: e.counterpart_iban.clone(),
        counterpart_bic: e
            .counterpart_bic
            .as_deref()
            .filter(|b| {
                (b.len() == 8 || b.len() == 11) && b.bytes().all(|c| c.is_ascii_alphanumeric())
            })
            .map(Text::from),
        creditor_id: code(&e.creditor_id, 35).map(Text::from),
        mandate_reference: code(&e.mandate_reference, 35).map(Text::from),
        end_to_end_reference: code(&e.end_to_end_reference, 35).map(Text::from),
        bank_transaction_code: code(&e.bank_transaction_code, 35).map(Text::from),
        sepa_purpose_code: e
            .sepa_purpose_code
            .as_deref()
            .filter(|c| c.len() <= 4)
            .map(Text::from),
        mcc: None,
        labels: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mt940;

    const FILE_A: &str = ":20:A\n:25:DE89370400440532013000\n:60F:C240101EUR100,\n\
        :61:2401020102D10,NTRFNONREF\n:86:166?00GUTSCHRIFT?20Kaffee\n\
        :61:2401020102D10,NTRFNONREF\n:86:166?00GUTSCHRIFT?20Kaffee\n\
        :62F:C240102EUR80,\n-\n";
    const FILE_B: &str = ":20:B\n:25:DE89370400440532013000\n:60F:C240101EUR100,\n\
        :61:2401020102D10,NTRFNONREF\n:86:166?00GUTSCHRIFT?20Kaffee\n\
        :61:2401020102D10,NTRFNONREF\n:86:166?00GUTSCHRIFT?20Kaffee\n\
        :62F:C240102EUR80,\n-\n:20:C\n:25:DE89370400440532013000\n:60F:C240102EUR80,\n\
        :61:2401030103D10,NTRFNONREF\n:86:166?00GUTSCHRIFT?20Kaffee\n:62F:C240103EUR70,\n-\n";

    fn planned(text: &str) -> ImportPlan {
        let id = ExternalId::parse("acc-1").unwrap();
        let iban = Iban::parse("DE89370400440532013000").unwrap();
        plan(
            &id,
            Some(&iban),
            Currency::EUR,
            &mt940::parse(text.as_bytes()).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn identical_entries_are_kept_and_overlaps_map_to_the_same_ids() {
        let a = planned(FILE_A);
        let b = planned(FILE_B);
        assert_eq!(a.transactions.len(), 2);
        assert_ne!(
            a.transactions[0].id, a.transactions[1].id,
            "two coffees on one day"
        );
        assert_eq!(a.transactions[0].id, b.transactions[0].id);
        assert_eq!(a.transactions[1].id, b.transactions[1].id);
        assert_eq!(b.transactions.len(), 3);
        assert_eq!(
            b.latest_balance,
            Some((
                Date::from_ymd(2024, 1, 3).unwrap(),
                Amount::from_cents(70_00)
            ))
        );
        assert_eq!(b.daily_balances.len(), 2);
        assert_eq!(b.data_since, Date::from_ymd(2024, 1, 2));
    }

    #[test]
    fn another_accounts_statement_is_refused() {
        let id = ExternalId::parse("acc-1").unwrap();
        let other = Iban::parse("GB82WEST12345698765432").unwrap();
        let s = mt940::parse(FILE_A.as_bytes()).unwrap();
        let e = plan(&id, Some(&other), Currency::EUR, &s).unwrap_err();
        assert!(e.message.contains("DE89370400440532013000"), "{e}");
        let e = plan(&id, None, Currency::parse("CHF").unwrap(), &s).unwrap_err();
        assert!(e.message.contains("EUR"), "{e}");
        // Two accounts without IBAN in one file: refused even into an account with an IBAN.
        let two = ":20:A\n:25:10020030/111\n:60F:C240101EUR1,\n-\n:20:B\n:25:10020030/222\n:60F:C240101EUR1,\n-\n";
        let s = mt940::parse(two.as_bytes()).unwrap();
        let mine = Iban::parse("DE89370400440532013000").unwrap();
        let e = plan(&id, Some(&mine), Currency::EUR, &s).unwrap_err();
        assert!(e.message.contains("several accounts"), "{e}");
    }
}
