//! The segment types: each one a module behind the [`Segment`] trait,
//! listed once in the registry at the end of this file.
//!
//! A type's module holds everything about it: its parameters and how they
//! are read from a request, the period and the bookings a job reads, its
//! rule on rows and on the segment index, its member (a typed struct that
//! serialises to the JSON answer), how a member is stored and read back,
//! and its CSV rows. The rules of the first five types
//! live in [`crate::segments`], because the segment index shares their
//! parts; a new type may keep its rule in its own module.
//!
//! The registry turns the list into [`SegmentType`] (the names),
//! [`Params`] and [`Member`] (one variant per type) whose methods dispatch
//! to the traits, so the job engine, the API and the exports name no type.

mod params;

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::segment_index::ColumnarUser;
use crate::segments::{LoadSpec, Period, Rendered, UserData, Verdict};
use crate::{Date, FieldError};

pub use params::{JOB_ENVELOPE, ParamReader};

/// What a job does with one segment type's parameters. Object-safe, so
/// that [`Params`] hands out the variant's parameters as `&dyn`.
pub trait SegmentParams: fmt::Debug + Send + Sync {
    /// The parameters as understood, with defaults filled in: stored with
    /// the job, shown in its result, and read back by [`Segment::parse`].
    fn to_json(&self) -> Value;
    /// The days the job evaluates, given its creation date.
    fn period(&self, creation_date: Date) -> Period;
    /// Which bookings a partition loads from the database.
    fn load_spec(&self, creation_date: Date) -> LoadSpec;
    /// What the job engine stores for one user read from rows: the
    /// member's JSON, or a packed form that [`Segment::decode`] reads back.
    fn render(&self, creation_date: Date, user: &UserData) -> Rendered;
    /// Whether the segment index can answer these parameters.
    fn served_by_index(&self) -> bool {
        true
    }
    /// The rule on one user of the segment index, stored exactly as
    /// [`SegmentParams::render`] stores it; `None` when the index cannot
    /// answer ([`SegmentParams::served_by_index`] is false).
    fn render_indexed(&self, creation_date: Date, user: &ColumnarUser) -> Option<Rendered>;
    /// Starts loading into cache what [`SegmentParams::render_indexed`]
    /// reads of `next`, the user after the one being evaluated.
    fn prefetch(&self, next: &ColumnarUser);
}

/// One segment type: its name, how its parameters are read, and how its
/// members are written out.
pub trait Segment: SegmentParams + Clone + PartialEq + Eq + Sized + 'static {
    /// The name in URLs, stored jobs and results (`lowBalance`).
    const NAME: &'static str;
    /// The CSV columns of a result, `userId` first; one row per account,
    /// group or contract of a member.
    const CSV_HEADER: &'static str;
    /// What a member is, in a sentence or two (for the API reference).
    const DESCRIPTION: &'static str;

    /// A member: the user's entry with its evidence. Serialised, it is the
    /// member's JSON in an answer.
    type Member: Serialize + DeserializeOwned + fmt::Debug + Clone + PartialEq + Send;

    /// Reads the parameters from a request's body. Every field is read
    /// through `r`, which names each bad one; `None` when one is missing
    /// or bad.
    fn parse(r: &mut ParamReader<'_>) -> Option<Self>;

    /// What [`Segment::parse`] reads, as a JSON Schema object's
    /// `properties` and `required` (with descriptions), for the OpenAPI
    /// document. `$ref`s name the document's shared schemas (`Amount`,
    /// `AccountType`, `Date`); a test holds it to what `parse` reads.
    fn parameters_schema() -> Value;

    /// A member's JSON as a JSON Schema, for the OpenAPI document (a test
    /// holds each member of a job to it).
    fn member_schema() -> Value;

    /// The rule on one user's rows.
    fn evaluate(&self, creation_date: Date, user: &UserData) -> Verdict<Self::Member>;

    /// A stored member read back: what [`SegmentParams::render`] stored
    /// (JSON here; a type that stores a packed form reads it too). `None`
    /// when `stored` is neither, a damaged row.
    fn decode(_user_id: &str, stored: &str) -> Option<Self::Member> {
        serde_json::from_str(stored).ok()
    }

    /// The CSV rows of one member: for each row the cells after `userId`
    /// (an empty string for an empty cell).
    fn csv_rows(member: &Self::Member) -> Vec<Vec<String>>;
}

/// Shorthands for the schemas of the OpenAPI document that members use.
pub mod schema {
    use serde_json::{Value, json};

    pub fn amount() -> Value {
        json!({"$ref": "#/components/schemas/Amount"})
    }
    pub fn date() -> Value {
        json!({"$ref": "#/components/schemas/Date"})
    }
    pub fn account_type() -> Value {
        json!({"$ref": "#/components/schemas/AccountType"})
    }
    pub fn or_null(schema: Value) -> Value {
        json!({"anyOf": [schema, {"type": "null"}]})
    }
    /// An object with these properties, the `required` ones always present.
    pub fn object(properties: Value, required: &[&str]) -> Value {
        json!({"type": "object", "properties": properties, "required": required})
    }
    pub fn array(items: Value) -> Value {
        json!({"type": "array", "items": items})
    }
}

/// What the registry keeps of a type's static side.
struct Kind {
    name: &'static str,
    csv_header: &'static str,
    description: &'static str,
    parse: fn(&mut ParamReader<'_>) -> Option<Params>,
    parameters_schema: fn() -> Value,
    member_schema: fn() -> Value,
    decode: fn(&str, &str) -> Option<Member>,
}

impl SegmentType {
    fn kind(self) -> &'static Kind {
        &KINDS[self as usize]
    }

    /// The name in URLs, stored jobs and results.
    pub fn as_str(self) -> &'static str {
        self.kind().name
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.as_str() == name)
    }

    /// The parameters' JSON Schema (see [`Segment::parameters_schema`]).
    pub fn parameters_schema(self) -> Value {
        (self.kind().parameters_schema)()
    }

    /// A member's JSON Schema (see [`Segment::member_schema`]).
    pub fn member_schema(self) -> Value {
        (self.kind().member_schema)()
    }

    /// What a member is (see [`Segment::DESCRIPTION`]).
    pub fn description(self) -> &'static str {
        self.kind().description
    }

    /// The CSV columns of a result.
    pub fn csv_header(self) -> &'static str {
        self.kind().csv_header
    }

    /// A stored member of this type read back (see [`Segment::decode`]).
    pub fn decode(self, user_id: &str, stored: &str) -> Option<Member> {
        (self.kind().decode)(user_id, stored)
    }
}

/// A CSV cell of a JSON field: empty for none.
pub fn cell<T: fmt::Display>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

impl Params {
    /// Reads the parameters of `segment` from a job request's body.
    pub fn parse(segment: SegmentType, body: &Value) -> Result<Params, Vec<FieldError>> {
        params::read(body, segment.kind().parse)
    }

    /// Reads back what [`SegmentParams::to_json`] wrote (for stored jobs).
    pub fn from_stored(segment: SegmentType, stored: &Value) -> Result<Params, Vec<FieldError>> {
        Params::parse(segment, stored)
    }

    pub fn to_json(&self) -> Value {
        self.rule().to_json()
    }

    pub fn period(&self, creation_date: Date) -> Period {
        self.rule().period(creation_date)
    }

    pub fn load_spec(&self, creation_date: Date) -> LoadSpec {
        self.rule().load_spec(creation_date)
    }

    pub fn render(&self, creation_date: Date, user: &UserData) -> Rendered {
        self.rule().render(creation_date, user)
    }

    pub fn served_by_index(&self) -> bool {
        self.rule().served_by_index()
    }

    pub fn render_indexed(&self, creation_date: Date, user: &ColumnarUser) -> Option<Rendered> {
        self.rule().render_indexed(creation_date, user)
    }

    pub fn prefetch(&self, next: &ColumnarUser) {
        self.rule().prefetch(next)
    }
}

/// Declares the modules of the listed types and the enums that name them.
macro_rules! registry {
    ($($module:ident::$name:ident),+ $(,)?) => {
        $(mod $module;)+
        $(pub use $module::$name;)+

        /// The segment types, in registry order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum SegmentType {
            $($name),+
        }

        impl SegmentType {
            pub const ALL: &'static [SegmentType] = &[$(SegmentType::$name),+];
        }

        /// A job's parameters: one segment type's, read and validated.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Params {
            $($name($name)),+
        }

        $(impl From<$name> for Params {
            fn from(p: $name) -> Params {
                Params::$name(p)
            }
        })+

        /// A member of any type: typed until it is written out.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Member {
            $($name(<$name as Segment>::Member)),+
        }

        impl Serialize for Member {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(Member::$name(m) => m.serialize(s)),+
                }
            }
        }

        impl Member {
            /// The CSV rows (see [`Segment::csv_rows`]).
            pub fn csv_rows(&self) -> Vec<Vec<String>> {
                match self {
                    $(Member::$name(m) => <$name as Segment>::csv_rows(m)),+
                }
            }
        }

        /// Indexed by `SegmentType as usize`.
        const KINDS: &[Kind] = &[$(Kind {
            name: <$name as Segment>::NAME,
            csv_header: <$name as Segment>::CSV_HEADER,
            description: <$name as Segment>::DESCRIPTION,
            parse: |r| <$name as Segment>::parse(r).map(Params::$name),
            parameters_schema: <$name as Segment>::parameters_schema,
            member_schema: <$name as Segment>::member_schema,
            decode: |u, s| <$name as Segment>::decode(u, s).map(Member::$name),
        }),+];

        impl Params {
            pub fn segment_type(&self) -> SegmentType {
                match self {
                    $(Params::$name(_) => SegmentType::$name),+
                }
            }

            fn rule(&self) -> &dyn SegmentParams {
                match self {
                    $(Params::$name(p) => p),+
                }
            }

            /// The rule on one user's rows (see [`Segment::evaluate`]).
            pub fn evaluate(&self, creation_date: Date, user: &UserData) -> Verdict<Member> {
                match self {
                    $(Params::$name(p) => p.evaluate(creation_date, user).map(Member::$name)),+
                }
            }
        }
    };
}

// One line per segment type: its module and its parameter type.
registry![
    low_balance::LowBalance,
    high_balance::HighBalance,
    financial_breakdown::FinancialBreakdown,
    insurance::Insurance,
    income_spending_summary::IncomeSpendingSummary,
];

#[cfg(test)]
mod tests;
