//! A deterministic generator of German retail-banking populations.
//!
//! Every user is generated from `(seed, user number)` alone, so a population
//! streams in constant memory, any slice of it can be regenerated, and the
//! same seed always gives the same bytes. Output is the bulk import format
//! (NDJSON with `kind`). No labels are emitted: labelling is finseg's job.
#![forbid(unsafe_code)]

mod catalog;
mod rng;

use std::fmt::Write as _;

use finseg_core::{Amount, Date};

use catalog::{INSURERS, Insurer};
use rng::Rng;

/// Iterator over the NDJSON lines of a population.
pub struct Population {
    users: u64,
    seed: u64,
    /// User ids are `{prefix}-user-NNNNNN`.
    prefix: String,
    today: Date,
    next_user: u64,
    buffer: std::vec::IntoIter<String>,
}

impl Population {
    /// `users` users, history up to and including `today`.
    pub fn new(users: u64, seed: u64, today: Date) -> Self {
        Population {
            users,
            seed,
            prefix: "demo".to_owned(),
            today,
            next_user: 1,
            buffer: Vec::new().into_iter(),
        }
    }
}

impl Population {
    /// The same population with user ids `{prefix}-user-NNNNNN` (and
    /// account and transaction ids that start with them), so that it does
    /// not collide with the demo's.
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.to_owned();
        self
    }
}

impl Iterator for Population {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        loop {
            if let Some(line) = self.buffer.next() {
                return Some(line);
            }
            if self.next_user > self.users {
                return None;
            }
            let lines = user_lines(self.seed, self.next_user, self.today, &self.prefix);
            self.next_user += 1;
            self.buffer = lines.into_iter();
        }
    }
}

/// Groups lines into newline-terminated chunks of about `size` bytes.
pub fn chunks(lines: impl Iterator<Item = String>, size: usize) -> impl Iterator<Item = Vec<u8>> {
    let mut lines = lines.peekable();
    std::iter::from_fn(move || {
        lines.peek()?;
        let mut buf = Vec::with_capacity(size + 4096);
        while buf.len() < size {
            let Some(l) = lines.next() else { break };
            buf.extend_from_slice(l.as_bytes());
            buf.push(b'\n');
        }
        Some(buf)
    })
}

/// The id of user number `n` (1-based) of the demo population.
pub fn user_id(n: u64) -> String {
    prefixed_user_id("demo", n)
}

fn prefixed_user_id(prefix: &str, n: u64) -> String {
    format!("{prefix}-user-{n:06}")
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    finseg_core::json::push_string(&mut out, s);
    out
}

/// One generated booking before it is written out.
struct Tx {
    account: usize,
    day: Date,
    cents: i64,
    purpose: String,
    counterpart: Option<&'static str>,
    counterpart_iban: Option<String>,
    creditor_id: Option<String>,
    mandate: Option<String>,
    code: Option<&'static str>,
    sepa_purpose: Option<&'static str>,
    mcc: Option<u16>,
}

impl Tx {
    fn new(account: usize, day: Date, cents: i64, purpose: String) -> Self {
        Tx {
            account,
            day,
            cents,
            purpose,
            counterpart: None,
            counterpart_iban: None,
            creditor_id: None,
            mandate: None,
            code: None,
            sepa_purpose: None,
            mcc: None,
        }
    }
}

/// Moves a Saturday or Sunday to the following Monday (banks book on weekdays).
fn business_day(d: Date) -> Date {
    match d.weekday() {
        5 => d.add_days(2),
        6 => d.add_days(1),
        _ => d,
    }
}

fn day_in(month: finseg_core::date::Month, day: u32) -> Date {
    let last = month.last_day();
    let (_, _, last_d) = last.ymd();
    Date::from_ymd(month.year(), month.month(), day.min(last_d)).unwrap_or(last)
}

/// A German IBAN with a valid checksum for a bank code and account number.
pub fn german_iban(blz: u64, account: u64) -> String {
    let bban = format!("{blz:08}{account:010}");
    // Move "DE00" to the end (D=13, E=14) and take mod 97.
    let digits = format!("{bban}131400");
    let rem = digits
        .bytes()
        .fold(0u64, |acc, c| (acc * 10 + u64::from(c - b'0')) % 97);
    format!("DE{:02}{bban}", 98 - rem)
}

/// A SEPA creditor id (`DEkkZZZ0…`) with a valid ISO 7064 check.
pub fn creditor_id(national: u64) -> String {
    let nat = format!("{national:011}");
    let digits = format!("{nat}131400");
    let rem = digits
        .bytes()
        .fold(0u64, |acc, c| (acc * 10 + u64::from(c - b'0')) % 97);
    format!("DE{:02}ZZZ{nat}", 98 - rem)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Persona {
    Employee,
    Pensioner,
    Student,
    SelfEmployed,
}

const EMPLOYERS: &[&str] = &[
    "Siemens AG",
    "Robert Bosch GmbH",
    "Deutsche Bahn AG",
    "Stadt Köln",
    "Klinikum Nürnberg",
    "Müller Logistik GmbH",
    "SAP SE",
    "Edeka Zentrale AG",
    "Land Berlin LBV",
    "Schmidt & Partner Steuerberater",
];
const LANDLORDS: &[&str] = &[
    "Vonovia SE",
    "LEG Wohnen NRW GmbH",
    "Hausverwaltung Becker",
    "GAG Immobilien AG",
    "Wohnungsbau Genossenschaft eG",
    "Deutsche Wohnen SE",
    "Grundstücksverwaltung Maier",
];
const ENERGY: &[&str] = &[
    "Stadtwerke München",
    "E.ON Energie Deutschland",
    "Vattenfall Europe Sales",
    "EnBW",
    "Stadtwerke Düsseldorf",
];
const TELECOM: &[&str] = &[
    "Telekom Deutschland GmbH",
    "Vodafone GmbH",
    "Telefonica Germany (O2)",
    "1&1 Telecom GmbH",
];
const GROCERS: &[(&str, u16)] = &[
    ("REWE Markt", 5411),
    ("EDEKA", 5411),
    ("ALDI SUED", 5411),
    ("LIDL", 5411),
    ("PENNY", 5411),
    ("NETTO Marken-Discount", 5411),
    ("dm-drogerie markt", 5912),
    ("ROSSMANN", 5912),
];
const LEISURE: &[(&str, u16)] = &[
    ("Restaurant Da Luigi", 5812),
    ("McDonalds", 5814),
    ("ARAL Tankstelle", 5541),
    ("Shell", 5541),
    ("Amazon EU", 5999),
    ("Zalando SE", 5651),
    ("MediaMarkt", 5732),
    ("Kino Cinemaxx", 7832),
    ("IKEA", 5712),
    ("Deutsche Bahn Fernverkehr", 4112),
];
const SUBSCRIPTIONS: &[(&str, i64)] = &[
    ("Netflix International B.V.", 1399),
    ("Spotify AB", 1099),
    ("Amazon Prime", 899),
    ("DAZN", 4499),
];

// Over 120 lines on purpose: one user's history in the order of its random
// draws, which is what makes a seed always give the same bytes.
/// Lines of one user: the user, their accounts, then their transactions.
fn user_lines(seed: u64, n: u64, today: Date, prefix: &str) -> Vec<String> {
    let mut rng = Rng::new(seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let uid = prefixed_user_id(prefix, n);
    let persona = match rng.below(100) {
        0..=69 => Persona::Employee,
        70..=84 => Persona::Pensioner,
        85..=94 => Persona::Student,
        _ => Persona::SelfEmployed,
    };
    let months_back = 12 + rng.below(13) as i32; // 12–24 months of history
    let first_month = today.month().plus(-months_back);
    let data_since = first_month.first_day();
    let has_savings = rng.below(100) < 60;
    let has_card = rng.below(100) < 30;
    let overdrafter = rng.below(100) < 15;
    let high_saver = has_savings && rng.below(100) < 18;
    let has_kids = persona == Persona::Employee && rng.below(100) < 35;
    let gambler = rng.below(100) < 3;

    // Accounts: 0 = checking, then optional savings and credit card.
    let mut accounts = vec![("checking", "CHECKING")];
    if has_savings {
        accounts.push(("savings", "SAVINGS"));
    }
    if has_card {
        accounts.push(("card", "CREDIT_CARD"));
    }
    let acc_id = |i: usize| format!("{uid}-{}", accounts[i].0);
    let savings_idx = accounts.iter().position(|a| a.0 == "savings");
    let card_idx = accounts.iter().position(|a| a.0 == "card");
    let own_iban = |i: usize| german_iban(10_020_030 + (i as u64) * 7, n * 10 + i as u64);

    let income: i64 = match persona {
        Persona::Employee => 1_800_00 + rng.below(3_200_00) as i64,
        Persona::Pensioner => 1_100_00 + rng.below(1_400_00) as i64,
        Persona::Student => 650_00 + rng.below(500_00) as i64,
        Persona::SelfEmployed => 2_500_00 + rng.below(5_000_00) as i64,
    };
    let rent: i64 = income * (25 + rng.below(13) as i64) / 100 / 100 * 100;
    let employer = rng.pick(EMPLOYERS);
    let landlord = rng.pick(LANDLORDS);
    let energy = rng.pick(ENERGY);
    let telecom = rng.pick(TELECOM);
    let energy_amount = 60_00 + rng.below(90_00) as i64;
    let telecom_amount = 20_00 + rng.below(40_00) as i64;
    let salary_day = 25 + rng.below(4) as u32;

    // Insurance contracts: (insurer, product index, monthly-equivalent premium, months between payments, contract no).
    let mut contracts: Vec<(&Insurer, usize, i64, i32, u64)> = Vec::new();
    let n_contracts = match persona {
        Persona::Student => rng.below(2),
        _ => 1 + rng.below(4),
    };
    for _ in 0..n_contracts {
        let ins = &INSURERS[rng.below(INSURERS.len() as u64) as usize];
        let p = rng.below(ins.products.len() as u64) as usize;
        if contracts.iter().any(|c| std::ptr::eq(c.0, ins) && c.1 == p) {
            continue;
        }
        let (_, lo, hi) = ins.products[p];
        let interval = *rng.pick(&[1, 1, 1, 3, 6, 12]);
        let premium = (lo + rng.below((hi - lo).max(1) as u64) as i64) * i64::from(interval);
        contracts.push((
            ins,
            p,
            premium,
            interval,
            10_000_000 + rng.below(89_999_999),
        ));
    }
    let subscription = (rng.below(100) < 45).then(|| *rng.pick(SUBSCRIPTIONS));
    let loan = (rng.below(100) < 12).then(|| 150_00 + rng.below(350_00) as i64);
    let savings_rate = if has_savings {
        50_00 + rng.below(if high_saver { 900_00 } else { 250_00 }) as i64
    } else {
        0
    };

    let mut txs: Vec<Tx> = Vec::with_capacity(64 * months_back as usize);
    let mut month = first_month;
    let mut month_no = 0;
    while month <= today.month() {
        // Salary, pension or stipend.
        let pay_day = business_day(day_in(month, salary_day));
        let mut t = match persona {
            Persona::Employee | Persona::SelfEmployed => {
                let mut t = Tx::new(
                    0,
                    pay_day,
                    income,
                    format!("LOHN/GEHALT {:02}/{}", month.month(), month.year()),
                );
                t.counterpart = Some(employer);
                t.sepa_purpose = Some("SALA");
                t.code = Some("153");
                t
            }
            Persona::Pensioner => {
                let mut t = Tx::new(
                    0,
                    business_day(day_in(month, 30)),
                    income,
                    format!(
                        "RV-RENTE {:02}/{} 12 150667 M 004",
                        month.month(),
                        month.year()
                    ),
                );
                t.counterpart = Some("Deutsche Rentenversicherung Bund");
                t.sepa_purpose = Some("PENS");
                t.code = Some("166");
                t
            }
            Persona::Student => {
                let mut t = Tx::new(
                    0,
                    business_day(day_in(month, 1)),
                    income,
                    "BAfoeG Leistungen Amt fuer Ausbildungsfoerderung".to_owned(),
                );
                t.counterpart = Some("Studierendenwerk");
                t.code = Some("166");
                t
            }
        };
        if persona == Persona::SelfEmployed {
            t.purpose = format!(
                "Rechnung RE-{}-{:03} Beratungsleistung",
                month.year(),
                month_no + 1
            );
            t.sepa_purpose = None;
            t.code = Some("166");
        }
        t.counterpart_iban = Some(german_iban(50_010_517, 5_000_000 + rng.below(1_000_000)));
        txs.push(t);
        if has_kids {
            let mut t = Tx::new(
                0,
                business_day(day_in(month, 5)),
                255_00,
                "KINDERGELD FK 123 KG 456789".to_owned(),
            );
            t.counterpart = Some("Bundesagentur fuer Arbeit - Familienkasse");
            t.sepa_purpose = Some("BENE");
            txs.push(t);
        }
        // Rent.
        let mut t = Tx::new(
            0,
            business_day(day_in(month, 1)),
            -rent,
            format!(
                "Miete {:02}/{} Whg. 3 OG links",
                month.month(),
                month.year()
            ),
        );
        t.counterpart = Some(landlord);
        t.counterpart_iban = Some(german_iban(
            37_040_044,
            600_000 + u64::from(landlord.len() as u32),
        ));
        t.sepa_purpose = Some("RENT");
        t.code = Some("116");
        txs.push(t);
        // Energy, telecom.
        let mut t = Tx::new(
            0,
            business_day(day_in(month, 15)),
            -energy_amount,
            format!("Abschlag Strom Vertragskonto 30{:07}", n % 10_000_000),
        );
        t.counterpart = Some(energy);
        t.creditor_id = Some(creditor_id(500_000_000 + energy.len() as u64));
        t.mandate = Some(format!("EV{:09}", n));
        t.code = Some("105");
        txs.push(t);
        let mut t = Tx::new(
            0,
            business_day(day_in(month, 10)),
            -telecom_amount,
            format!(
                "Kundennr. {:010} Rechnung {:02}.{}",
                n,
                month.month(),
                month.year()
            ),
        );
        t.counterpart = Some(telecom);
        t.creditor_id = Some(creditor_id(300_000_000 + telecom.len() as u64));
        t.mandate = Some(format!("TK{:09}", n));
        t.code = Some("105");
        txs.push(t);
        // Broadcast fee, quarterly.
        if month.month() % 3 == 1 {
            let mut t = Tx::new(
                0,
                business_day(day_in(month, 15)),
                -55_08,
                format!("Rundfunkbeitrag Beitragsnr. {:09}", 400_000_000 + n),
            );
            t.counterpart = Some("Rundfunk ARD, ZDF, DRadio");
            t.creditor_id = Some(creditor_id(700_000_034));
            t.code = Some("105");
            txs.push(t);
        }
        // Insurance direct debits.
        for (ins, p, premium, interval, contract) in &contracts {
            if (month_no + (*contract % 12) as i32) % interval != 0 {
                continue;
            }
            let (product, _, _) = ins.products[*p];
            let mut t = Tx::new(
                0,
                business_day(day_in(month, 1 + (*contract % 5) as u32)),
                -premium,
                format!(
                    "{product} Vers.-Nr. {contract} Beitrag {:02}/{}",
                    month.month(),
                    month.year()
                ),
            );
            t.counterpart = Some(ins.name);
            t.creditor_id = Some(creditor_id(ins.creditor_seed));
            t.mandate = Some(format!("{}{contract}", ins.mandate_prefix));
            t.sepa_purpose = Some("INSU");
            t.code = Some("105");
            txs.push(t);
        }
        if let Some((name, cents)) = subscription {
            let card_or_checking = card_idx.unwrap_or(0);
            let mut t = Tx::new(
                card_or_checking,
                day_in(month, 7),
                -cents,
                format!("{name} Abo"),
            );
            t.counterpart = Some(name);
            t.mcc = Some(4899);
            txs.push(t);
        }
        if let Some(rate) = loan {
            let mut t = Tx::new(
                0,
                business_day(day_in(month, 1)),
                -rate,
                format!("Rate Kreditvertrag {:08}", 20_000_000 + n),
            );
            t.counterpart = Some("Santander Consumer Bank AG");
            t.creditor_id = Some(creditor_id(100_000_777));
            t.code = Some("105");
            txs.push(t);
        }
        // Savings transfer between own accounts.
        if let Some(si) = savings_idx {
            let d = business_day(day_in(month, salary_day.min(28)).add_days(2));
            let mut out = Tx::new(0, d, -savings_rate, "Dauerauftrag Sparen".to_owned());
            out.counterpart = Some("Eigenes Tagesgeld");
            out.counterpart_iban = Some(own_iban(si));
            out.code = Some("117");
            let mut inn = Tx::new(si, d, savings_rate, "Dauerauftrag Sparen".to_owned());
            inn.counterpart = Some("Eigenes Girokonto");
            inn.counterpart_iban = Some(own_iban(0));
            inn.code = Some("166");
            txs.push(out);
            txs.push(inn);
            if month.month() == 12 {
                let interest = savings_rate * i64::from(months_back) / 40 + 1;
                txs.push(Tx::new(
                    si,
                    business_day(day_in(month, 31).add_days(-1)),
                    interest,
                    "Zinsgutschrift".to_owned(),
                ));
            }
        }
        // Everyday spending: groceries, drugstore, leisure; on the card for card holders.
        // What is left after the fixed payments (premiums spread over the
        // months, the quarterly broadcast fee, subscriptions, cash).
        let fixed: i64 = rent
            + energy_amount
            + telecom_amount
            + savings_rate
            + loan.unwrap_or(0)
            + contracts.iter().map(|c| c.2 / i64::from(c.3)).sum::<i64>()
            + 18_36
            + subscription.map_or(0, |s| s.1)
            + 75_00;
        let spend_budget = income + if has_kids { 255_00 } else { 0 } - fixed;
        // Most households spend a little less than they have left; overdrafters more.
        let spend_percent = if overdrafter { 104 } else { 93 };
        let mut left = spend_budget * spend_percent / 100;
        // A few card and direct payments spread over the month use the budget.
        let purchases = 3 + rng.below(4) as u32;
        for k in 0..purchases {
            if left <= 0 {
                break;
            }
            let d = day_in(month, 2 + k * 26 / purchases + rng.below(3) as u32);
            let (name, mcc) = if rng.below(3) == 0 {
                *rng.pick(LEISURE)
            } else {
                *rng.pick(GROCERS)
            };
            let share = left / i64::from(purchases - k);
            let cents = (share * (60 + rng.below(80) as i64) / 100).clamp(100, left.max(100));
            let on_card = card_idx.filter(|_| rng.below(2) == 0);
            let mut t = Tx::new(
                on_card.unwrap_or(0),
                d,
                -cents,
                format!("{name} SAGT DANKE {:06}", rng.below(999_999)),
            );
            t.counterpart = Some(name);
            t.mcc = Some(mcc);
            t.code = Some(if on_card.is_some() { "106" } else { "005" });
            txs.push(t);
            left -= cents;
        }
        if rng.below(2) == 0 {
            let mut t = Tx::new(
                0,
                business_day(day_in(month, 12)),
                -(50_00 + 50_00 * rng.below(4) as i64),
                "GA NR00001234 BLZ10020030 0".to_owned(),
            );
            t.counterpart = Some("Geldautomat Sparkasse");
            t.code = Some("083");
            txs.push(t);
        }
        if gambler && rng.below(2) == 0 {
            let mut t = Tx::new(
                0,
                day_in(month, 20),
                -(20_00 + rng.below(200_00) as i64),
                "TIPICO Einzahlung".to_owned(),
            );
            t.counterpart = Some("Tipico Co. Ltd.");
            t.mcc = Some(7995);
            txs.push(t);
        }
        month = month.succ();
        month_no += 1;
    }
    // Credit-card settlement: last month's card spending, debited from checking.
    if let Some(ci) = card_idx {
        let mut by_month: std::collections::BTreeMap<i32, i64> = std::collections::BTreeMap::new();
        for t in txs.iter().filter(|t| t.account == ci) {
            *by_month.entry(t.day.month().index()).or_default() += t.cents;
        }
        for (m, sum) in by_month {
            let d = business_day(day_in(
                finseg_core::date::Month::from_ym(m / 12, (m % 12 + 1) as u32).succ(),
                3,
            ));
            if sum == 0 || d > today {
                continue;
            }
            let mut out = Tx::new(0, d, sum, "KREDITKARTENABRECHNUNG VISA".to_owned());
            out.counterpart = Some("Kreditkartenabrechnung");
            out.counterpart_iban = Some(own_iban(ci));
            out.code = Some("106");
            let mut inn = Tx::new(ci, d, -sum, "AUSGLEICH KARTENKONTO".to_owned());
            inn.counterpart = Some("Girokonto");
            inn.counterpart_iban = Some(own_iban(0));
            txs.push(out);
            txs.push(inn);
        }
    }
    txs.retain(|t| t.day <= today && t.day >= data_since);
    txs.sort_by_key(|t| (t.account, t.day));

    // Balances: start values chosen per persona; the reported balance is the end.
    let mut lines = Vec::with_capacity(txs.len() + 4);
    lines.push(format!(r#"{{"kind":"user","id":{}}}"#, esc(&uid)));
    for (i, (_, ty)) in accounts.iter().enumerate() {
        let opening: i64 = match (i, *ty) {
            (0, _) if overdrafter => -(rng.below(300_00) as i64),
            (0, _) => 300_00 + rng.below(4_000_00) as i64,
            (_, "SAVINGS") if high_saver => 12_000_00 + rng.below(150_000_00) as i64,
            (_, "SAVINGS") => rng.below(8_000_00) as i64,
            _ => 0,
        };
        let sum: i64 = txs.iter().filter(|t| t.account == i).map(|t| t.cents).sum();
        let overdraft = if i == 0 {
            r#","overdraftLimit":"2000.00""#
        } else {
            ""
        };
        lines.push(format!(
            r#"{{"kind":"account","id":{},"userId":{},"type":"{ty}","currency":"EUR","balance":"{}","balanceDate":"{today}","iban":"{}","dataSince":"{data_since}"{overdraft}}}"#,
            esc(&acc_id(i)),
            esc(&uid),
            Amount::from_cents(opening + sum),
            own_iban(i),
        ));
    }
    for (seq, t) in txs.iter().enumerate() {
        let mut l = format!(
            r#"{{"kind":"transaction","id":"{}-{seq:05}","accountId":{},"amount":"{}","currency":"EUR","bookingDate":"{}","valueDate":"{}","purpose":{}"#,
            acc_id(t.account),
            esc(&acc_id(t.account)),
            Amount::from_cents(t.cents),
            t.day,
            t.day,
            esc(&t.purpose)
        );
        if let Some(c) = t.counterpart {
            let _ = write!(l, r#","counterpartName":{}"#, esc(c));
        }
        if let Some(i) = &t.counterpart_iban {
            let _ = write!(l, r#","counterpartIban":"{i}""#);
        }
        if let Some(c) = &t.creditor_id {
            let _ = write!(l, r#","creditorId":"{c}""#);
        }
        if let Some(m) = &t.mandate {
            let _ = write!(l, r#","mandateReference":"{m}""#);
        }
        if let Some(c) = t.code {
            let _ = write!(l, r#","bankTransactionCode":"{c}""#);
        }
        if let Some(p) = t.sepa_purpose {
            let _ = write!(l, r#","sepaPurposeCode":"{p}""#);
        }
        if let Some(m) = t.mcc {
            let _ = write!(l, r#","mcc":"{m:04}""#);
        }
        l.push('}');
        lines.push(l);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use finseg_core::input::bulk_record;
    use finseg_core::record::Record;

    fn today() -> Date {
        Date::parse("2026-11-25").unwrap()
    }

    #[test]
    fn deterministic_and_valid() {
        let a: Vec<String> = Population::new(30, 7, today()).collect();
        let b: Vec<String> = Population::new(30, 7, today()).collect();
        assert_eq!(a, b);
        let c: Vec<String> = Population::new(30, 8, today()).collect();
        assert_ne!(a, c);
        let mut users = 0;
        let mut txs = 0;
        for l in &a {
            match bulk_record(l).unwrap_or_else(|e| panic!("{l}: {e:?}")) {
                Record::User(_) => users += 1,
                Record::Transaction(t) => {
                    txs += 1;
                    assert!(t.booking_date <= today());
                }
                _ => {}
            }
        }
        assert_eq!(users, 30);
        assert!(txs > 30 * 12 * 10, "{txs} transactions");
    }

    #[test]
    fn ibans_and_creditor_ids_are_valid() {
        assert!(finseg_core::Iban::parse(&german_iban(37_040_044, 532_013_000)).is_ok());
        assert_eq!(
            german_iban(37_040_044, 532_013_000),
            "DE89370400440532013000"
        );
        let cid = creditor_id(12_345_678_901);
        assert_eq!(cid.len(), 18);
        assert!(cid.starts_with("DE") && cid[4..7] == *"ZZZ");
    }

    #[test]
    fn chunks_keep_whole_lines() {
        let lines: Vec<String> = Population::new(3, 1, today()).collect();
        let joined: Vec<u8> = chunks(lines.clone().into_iter(), 1000).flatten().collect();
        let expected: String = lines.iter().map(|l| format!("{l}\n")).collect();
        assert_eq!(String::from_utf8(joined).unwrap(), expected);
    }
}
