//! Reading a segment type's parameters from a job request: every bad
//! field is named with its JSON pointer, and a member the type does not
//! know is refused with the closest known name.

use serde_json::{Map, Value};

use crate::{AccountType, Amount, Date, FieldError};

/// Levenshtein distance of two short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// A job request's parameters as one segment type reads them: each
/// reading names the field it asked for, so that the rest can be refused.
pub struct ParamReader<'a> {
    obj: &'a Map<String, Value>,
    errors: Vec<FieldError>,
    /// The parameters the segment asked for, whether given or not.
    known: std::cell::RefCell<Vec<String>>,
}

/// Members of every job's body that are not the segment's parameters.
pub const JOB_ENVELOPE: [&str; 2] = ["callbackURL", "callbackUrl"];

impl ParamReader<'_> {
    pub fn err(&mut self, field: &str, detail: impl Into<String>) {
        self.errors
            .push(FieldError::new(format!("/{field}"), detail));
    }

    pub fn get(&self, field: &str) -> Option<&Value> {
        let mut known = self.known.borrow_mut();
        if !known.iter().any(|k| k == field) {
            known.push(field.to_owned());
        }
        self.obj.get(field).filter(|v| !v.is_null())
    }

    /// A member the segment does not know is refused, not ignored: a
    /// misspelt parameter would otherwise fall back to its default, and
    /// the bank would get another segment than it asked for.
    fn refuse_unknown(&mut self) {
        let known = self.known.borrow().clone();
        let candidates = || known.iter().map(String::as_str).chain(JOB_ENVELOPE);
        let mut unknown: Vec<&String> = self
            .obj
            .keys()
            .filter(|k| !candidates().any(|c| c == k.as_str()))
            .collect();
        unknown.sort();
        for k in unknown {
            let closest = candidates()
                .map(|c| {
                    (
                        edit_distance(&k.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                        c,
                    )
                })
                .min()
                .filter(|(d, c)| *d <= 3.max(c.len() / 4));
            let detail = match closest {
                Some((_, c)) => format!("is not a parameter of this segment; did you mean '{c}'?"),
                None => format!(
                    "is not a parameter of this segment (its parameters: {})",
                    known.join(", ")
                ),
            };
            self.err(k, detail);
        }
    }

    pub fn amount(&mut self, field: &str) -> Option<Amount> {
        let Some(v) = self.get(field) else {
            self.err(field, "is required");
            return None;
        };
        let text = match v {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => {
                self.err(field, "must be a decimal amount");
                return None;
            }
        };
        match Amount::parse(&text) {
            Ok(a) => Some(a),
            Err(e) => {
                self.err(field, e.to_string());
                None
            }
        }
    }

    pub fn months(&mut self, field: &str, default: u32, max: u32) -> u32 {
        match self.get(field) {
            None => default,
            Some(v) => match v.as_u64() {
                Some(n) if (1..=u64::from(max)).contains(&n) => n as u32,
                _ => {
                    self.err(field, format!("must be an integer from 1 to {max}"));
                    default
                }
            },
        }
    }

    pub fn account_types(&mut self, field: &str) -> Option<Vec<AccountType>> {
        let v = self.get(field)?.clone();
        let Some(items) = v.as_array().filter(|a| !a.is_empty()) else {
            self.err(field, "must be a non-empty array of account types");
            return None;
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.as_str().and_then(AccountType::parse) {
                Some(t) if !out.contains(&t) => out.push(t),
                Some(_) => {}
                None => self.err(
                    &format!("{field}/{i}"),
                    format!("unknown account type {item}"),
                ),
            }
        }
        Some(out)
    }

    pub fn date(&mut self, field: &str) -> Option<Date> {
        let v = self.get(field)?;
        match v.as_str().and_then(Date::parse) {
            Some(d) => Some(d),
            None => {
                self.err(field, "must be a calendar date YYYY-MM-DD");
                None
            }
        }
    }

    pub fn bool(&mut self, field: &str) -> bool {
        match self.get(field) {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.err(field, "must be true or false");
                false
            }
        }
    }
}

/// Reads one segment type's parameters from `body` (a JSON object, or
/// null for none) with `read`, then refuses the members it did not ask for.
pub(super) fn read<T>(
    body: &Value,
    read: impl FnOnce(&mut ParamReader<'_>) -> Option<T>,
) -> Result<T, Vec<FieldError>> {
    let empty = Map::new();
    let Some(obj) = body.as_object().or(body.is_null().then_some(&empty)) else {
        return Err(vec![FieldError::new("", "must be a JSON object")]);
    };
    let mut r = ParamReader {
        obj,
        errors: Vec::new(),
        known: Default::default(),
    };
    let params = read(&mut r);
    r.refuse_unknown();
    match params {
        Some(p) if r.errors.is_empty() => Ok(p),
        _ => Err(r.errors),
    }
}

/// The fields `read` asks for when reading `body`.
#[cfg(test)]
pub(super) fn fields_asked<T>(
    body: &Map<String, Value>,
    read: impl FnOnce(&mut ParamReader<'_>) -> Option<T>,
) -> Vec<String> {
    let mut r = ParamReader {
        obj: body,
        errors: Vec::new(),
        known: Default::default(),
    };
    let _ = read(&mut r);
    r.known.into_inner()
}
