//! Sample files from public parsers' test suites, checked against the
//! expected values shipped with them; and fuzzing of every parser.

mod fuzz;
mod samples;
