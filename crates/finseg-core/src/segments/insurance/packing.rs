//! The stored form of a member (see [`PACKED`]) and the member read back.

use super::INSURANCE_TYPES;
use crate::providers::{self};
use crate::recurring::Frequency;
use crate::{Amount, Date};
use std::borrow::Cow;

use super::*;

/// How a member is stored: [`PACKED`], then tokens, each a number ended by
/// `;`, a text as `length:bytes`, `-` for none or `=` for "as derived".
/// The account ids come first, front-coded against the user id (bytes
/// shared, then the rest); then the missing types as a bit set over
/// [`COMMON_TYPES`]; then per contract: account, amount, frequency, the
/// annual amount (`=`: amount × payments a year), contract number,
/// creditor id, the first payment's day number, the last's and the next
/// expected day as steps from the one before, mandate reference, type,
/// provider (`=`: the directory's name for the provider id), provider id,
/// the number of ids, the payment count (`=`: as many as ids), and the
/// transaction ids, each after the one before it (the account id for the
/// first): `+step;` when only its trailing number grew, else front-coded.
/// [`unpack`] reads the member back: a fifth of its JSON's bytes, where
/// the results' bytes are most of a large job's cost.
pub const PACKED: &str = "~J";

/// The stored form before [`PACKED`] (no derived fields, ids front-coded
/// only): still read, since results outlive an upgrade.
pub(super) const PACKED_V1: &str = "~I";

pub(super) const FREQUENCIES: [Frequency; 6] = [
    Frequency::Monthly,
    Frequency::Bimonthly,
    Frequency::Quarterly,
    Frequency::HalfYearly,
    Frequency::Yearly,
    Frequency::Irregular,
];

pub(super) fn put_num(o: &mut String, n: i64) {
    crate::json::push_int(o, n);
    o.push(';');
}

pub(super) fn put_text(o: &mut String, s: Option<&str>) {
    match s {
        Some(s) => {
            crate::json::push_int(o, s.len());
            o.push(':');
            o.push_str(s);
        }
        None => o.push('-'),
    }
}

/// `s` front-coded against `previous`: the bytes shared, then the rest.
pub(super) fn put_front_coded(o: &mut String, previous: &str, s: &str) {
    let shared = shared_prefix(previous, s);
    put_num(o, shared as i64);
    put_text(o, Some(&s[shared..]));
}

/// The bytes `id` shares with `previous` at its start, cut back to a
/// character boundary (front coding of transaction ids).
pub fn shared_prefix(previous: &str, id: &str) -> usize {
    let shared = previous
        .bytes()
        .zip(id.bytes())
        .take_while(|(x, y)| x == y)
        .count();
    (0..=shared)
        .rev()
        .find(|n| id.is_char_boundary(*n))
        .unwrap_or(0)
}

/// Where the run of ASCII digits that ends `s` starts, and its value: at
/// most 18 digits, so that it fits a `u64`.
pub(super) fn trailing_number(s: &str) -> Option<(usize, u64)> {
    let digits = s.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 18 {
        return None;
    }
    let start = s.len() - digits;
    Some((start, s[start..].parse().ok()?))
}

/// How far `id`'s trailing number is past `previous`'s, when that is all
/// that tells them apart (same text before it, same width): banks number
/// their bookings, so a contract's ids are often a few apart.
pub(super) fn number_step(previous: &str, id: &str) -> Option<u64> {
    let (start, before) = trailing_number(previous)?;
    let (id_start, value) = trailing_number(id)?;
    (start == id_start
        && previous.len() == id.len()
        && previous[..start] == id[..start]
        && value > before)
        .then(|| value - before)
}

/// `previous` with its trailing number advanced by `step` (the inverse of
/// [`number_step`]); `None` when the number would outgrow its width.
pub(super) fn advance_number(previous: &str, step: u64) -> Option<String> {
    let (start, value) = trailing_number(previous)?;
    let digits = value.checked_add(step)?.to_string();
    let width = previous.len() - start;
    if digits.len() > width {
        return None;
    }
    let mut id = String::with_capacity(previous.len());
    id.push_str(&previous[..start]);
    id.extend(std::iter::repeat_n('0', width - digits.len()));
    id.push_str(&digits);
    Some(id)
}

pub(super) fn pack(user_id: &str, listed: &[Listed<'_>], missing: &[&str]) -> String {
    let mut o = String::with_capacity(64 + listed.len() * 128);
    o.push_str(PACKED);
    let mut accounts: Vec<&str> = Vec::new();
    for c in listed {
        if !accounts.contains(&c.account_id) {
            accounts.push(c.account_id);
        }
    }
    put_num(&mut o, accounts.len() as i64);
    for a in &accounts {
        put_front_coded(&mut o, user_id, a);
    }
    let bits = COMMON_TYPES
        .iter()
        .enumerate()
        .filter(|(_, t)| missing.contains(t))
        .fold(0, |b, (i, _)| b | (1 << i));
    put_num(&mut o, bits);
    put_num(&mut o, listed.len() as i64);
    for c in listed {
        let account = accounts.iter().position(|a| *a == c.account_id);
        put_num(&mut o, account.expect("listed above") as i64);
        put_num(&mut o, c.amount.cents());
        let f = FREQUENCIES.iter().position(|f| *f == c.frequency);
        put_num(&mut o, f.expect("every frequency") as i64);
        if c.frequency.annual(c.amount) == Some(c.annual_amount) {
            o.push('=');
        } else {
            put_num(&mut o, c.annual_amount.cents());
        }
        put_text(&mut o, c.contract_number);
        put_text(&mut o, c.creditor_id);
        put_num(&mut o, c.first.days().into());
        put_num(&mut o, (c.last.days() - c.first.days()).into());
        match c.next_expected {
            Some(d) => put_num(&mut o, (d.days() - c.last.days()).into()),
            None => o.push('-'),
        }
        put_text(&mut o, c.mandate_reference);
        let t = INSURANCE_TYPES.iter().position(|(t, _)| *t == c.itype);
        put_num(&mut o, t.expect("a taxonomy type") as i64);
        let directory_name = c.provider_id.and_then(providers::by_id).map(|p| &*p.name);
        if directory_name == Some(c.provider) {
            o.push('=');
        } else {
            put_text(&mut o, Some(c.provider));
        }
        put_text(&mut o, c.provider_id);
        put_num(&mut o, c.transaction_ids.len() as i64);
        if c.count == c.transaction_ids.len() {
            o.push('=');
        } else {
            put_num(&mut o, c.count as i64);
        }
        let mut previous: &str = c.account_id;
        for id in &c.transaction_ids {
            match number_step(previous, id) {
                Some(step) => {
                    o.push('+');
                    put_num(&mut o, step as i64);
                }
                None => put_front_coded(&mut o, previous, id),
            }
            previous = id;
        }
    }
    o
}

/// Reads the tokens of a packed member.
pub(super) struct Tokens<'a> {
    pub(super) rest: &'a str,
}

impl<'a> Tokens<'a> {
    fn num(&mut self) -> Option<i64> {
        let (n, rest) = self.rest.split_once(';')?;
        self.rest = rest;
        n.parse().ok()
    }
    fn index(&mut self) -> Option<usize> {
        usize::try_from(self.num()?).ok()
    }
    /// Whether the next token is `mark`, and if so, past it.
    fn marked(&mut self, mark: char) -> bool {
        match self.rest.strip_prefix(mark) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }
    fn opt_num(&mut self) -> Option<Option<i64>> {
        if self.marked('-') {
            return Some(None);
        }
        self.num().map(Some)
    }
    fn text(&mut self) -> Option<Option<&'a str>> {
        if self.marked('-') {
            return Some(None);
        }
        let (len, rest) = self.rest.split_once(':')?;
        let len: usize = len.parse().ok()?;
        let text = rest.get(..len)?;
        self.rest = &rest[len..];
        Some(Some(text))
    }
    fn day(&mut self) -> Option<Date> {
        Some(Date::from_days(i32::try_from(self.num()?).ok()?))
    }
    fn day_after(&mut self, before: Date) -> Option<Date> {
        let step = i32::try_from(self.num()?).ok()?;
        Some(Date::from_days(before.days().checked_add(step)?))
    }
    /// A front-coded text: the bytes it shares with `previous`, then the rest.
    fn front_coded(&mut self, previous: &str) -> Option<String> {
        let shared = self.index()?;
        let mut s = previous.get(..shared)?.to_owned();
        s.push_str(self.text()??);
        Some(s)
    }
}

/// The member from its stored form; `None` when `stored` is not one.
pub fn unpack(user_id: &str, stored: &str) -> Option<Member> {
    let (current, rest) = match stored.strip_prefix(PACKED) {
        Some(rest) => (true, rest),
        None => (false, stored.strip_prefix(PACKED_V1)?),
    };
    let mut t = Tokens { rest };
    let accounts = (0..t.num()?)
        .map(|_| {
            if current {
                t.front_coded(user_id)
            } else {
                t.text()?.map(str::to_owned)
            }
        })
        .collect::<Option<Vec<String>>>()?;
    let accounts: Vec<&str> = accounts.iter().map(String::as_str).collect();
    let (missing, listed) = if current {
        contracts_v2(&mut t, &accounts)?
    } else {
        contracts_v1(&mut t, &accounts)?
    };
    t.rest
        .is_empty()
        .then(|| member(user_id, &listed, &missing))
}

pub(super) fn missing_types(bits: i64) -> Vec<&'static str> {
    COMMON_TYPES
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, t)| *t)
        .collect()
}

type Decoded<'a> = (Vec<&'static str>, Vec<Listed<'a>>);

/// The missing types and contracts of a [`PACKED`] member.
pub(super) fn contracts_v2<'a>(t: &mut Tokens<'a>, accounts: &[&'a str]) -> Option<Decoded<'a>> {
    let missing = missing_types(t.num()?);
    let mut listed = Vec::new();
    for _ in 0..t.num()? {
        let account_id = *accounts.get(t.index()?)?;
        let amount = Amount::from_cents(t.num()?);
        let frequency = *FREQUENCIES.get(t.index()?)?;
        let annual_amount = if t.marked('=') {
            frequency.annual(amount)?
        } else {
            Amount::from_cents(t.num()?)
        };
        let contract_number = t.text()?;
        let creditor_id = t.text()?;
        let first = t.day()?;
        let last = t.day_after(first)?;
        let next_expected = if t.marked('-') {
            None
        } else {
            Some(t.day_after(last)?)
        };
        let mandate_reference = t.text()?;
        let itype = INSURANCE_TYPES.get(t.index()?)?.0;
        let named = t.marked('=');
        let provider = if named { None } else { Some(t.text()??) };
        let provider_id = t.text()?;
        let provider = match provider {
            Some(p) => p,
            None => &providers::by_id(provider_id?)?.name,
        };
        let ids = t.index()?;
        let count = if t.marked('=') { ids } else { t.index()? };
        // Every id takes two bytes at least: a damaged count is no allocation.
        let mut transaction_ids: Vec<Cow<'_, str>> = Vec::with_capacity(ids.min(t.rest.len() / 2));
        let mut previous = account_id.to_owned();
        for _ in 0..ids {
            let id = if t.marked('+') {
                advance_number(&previous, u64::try_from(t.num()?).ok()?)?
            } else {
                t.front_coded(&previous)?
            };
            previous.clone_from(&id);
            transaction_ids.push(Cow::Owned(id));
        }
        listed.push(Listed {
            account_id,
            amount,
            annual_amount,
            contract_number,
            creditor_id,
            first,
            frequency,
            itype,
            last,
            mandate_reference,
            next_expected,
            count,
            provider,
            provider_id,
            transaction_ids,
        });
    }
    Some((missing, listed))
}

/// The missing types and contracts of a [`PACKED_V1`] member.
pub(super) fn contracts_v1<'a>(t: &mut Tokens<'a>, accounts: &[&'a str]) -> Option<Decoded<'a>> {
    let missing = missing_types(t.num()?);
    let mut listed = Vec::new();
    for _ in 0..t.num()? {
        // `~I` lists the fields in the struct's order, and a struct
        // expression evaluates its fields in the order written.
        listed.push(Listed {
            account_id: accounts.get(t.index()?)?,
            amount: Amount::from_cents(t.num()?),
            annual_amount: Amount::from_cents(t.num()?),
            contract_number: t.text()?,
            creditor_id: t.text()?,
            first: t.day()?,
            frequency: *FREQUENCIES.get(t.index()?)?,
            itype: INSURANCE_TYPES.get(t.index()?)?.0,
            last: t.day()?,
            mandate_reference: t.text()?,
            next_expected: match t.opt_num()? {
                Some(d) => Some(Date::from_days(i32::try_from(d).ok()?)),
                None => None,
            },
            count: t.index()?,
            provider: t.text()??,
            provider_id: t.text()?,
            transaction_ids: {
                let mut ids: Vec<Cow<'_, str>> = Vec::new();
                let mut previous = String::new();
                for _ in 0..t.num()? {
                    let id = t.front_coded(&previous)?;
                    previous.clone_from(&id);
                    ids.push(Cow::Owned(id));
                }
                ids
            },
        });
    }
    Some((missing, listed))
}
