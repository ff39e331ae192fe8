//! The finseg domain core: plain data and pure functions.
//!
//! Invariant: nothing in this crate does I/O, reads a clock or knows about
//! HTTP or a database. Callers pass "today" in where it matters.
// Three hot accessors are `unsafe`, each allowed where it stands with its
// safety argument: `segment_index::prefetch`, `text::Text::as_str`,
// `currency::Currency::as_str`.
#![deny(unsafe_code)]

pub mod account;
pub mod bulk;
pub mod corrections;
pub mod currency;
pub mod date;
pub mod iban;
pub mod id;
pub mod json;
pub mod segment_index;

pub mod input;
pub mod insurance_vocabulary;
pub mod labelling;
pub mod labels;
pub mod money;
pub mod normalise;
pub mod providers;
pub mod purpose_fields;
pub mod record;
pub mod recurring;
pub mod segment_types;
pub mod segments;
pub mod text;
pub mod transfers;

pub use account::AccountType;
pub use currency::Currency;
pub use date::Date;
pub use iban::Iban;
pub use id::ExternalId;
pub use money::{Amount, Total};
pub use text::Text;

/// One problem with one field of an input document, located by a JSON pointer
/// (RFC 6901) relative to the document the caller sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub pointer: String,
    pub detail: String,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldError {
            pointer: pointer.into(),
            detail: detail.into(),
        }
    }

    /// The same error located under `prefix` (e.g. `/3` for the 4th array element).
    pub fn under(mut self, prefix: &str) -> Self {
        self.pointer = format!("{prefix}{}", self.pointer);
        self
    }
}
