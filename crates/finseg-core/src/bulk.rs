//! The bulk import format as batches: lines cut from a body, and the same
//! lines parsed into records and labelled. Plain data between the import
//! pipeline's stages (`finseg-import`): the store writes what it is given.

use crate::FieldError;
use crate::labelling::{Labelled, Labeller, Scratch};
use crate::record::Record;

/// Lines of the bulk format cut from a request body, in one buffer: one
/// allocation a batch rather than one a line.
#[derive(Debug, Default)]
pub struct LineBatch {
    text: String,
    /// Each line's number in the body and the end of its text in `text`.
    lines: Vec<(u64, usize)>,
}

impl LineBatch {
    pub fn with_capacity(lines: usize, bytes: usize) -> Self {
        LineBatch {
            text: String::with_capacity(bytes),
            lines: Vec::with_capacity(lines),
        }
    }

    pub fn push(&mut self, line: u64, text: &str) {
        self.text.push_str(text);
        self.lines.push((line, self.text.len()));
    }

    /// Lines held.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Bytes of text held.
    pub fn bytes(&self) -> usize {
        self.text.len()
    }

    /// The number of the last line held (0 when empty).
    pub fn last_line(&self) -> u64 {
        self.lines.last().map_or(0, |l| l.0)
    }

    /// The `i`th line's text.
    pub fn text(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.lines[i - 1].1 };
        &self.text[start..self.lines[i].1]
    }

    pub fn iter(&self) -> impl Iterator<Item = (u64, &str)> {
        (0..self.lines.len()).map(|i| (self.lines[i].0, self.text(i)))
    }
}

/// One line of the bulk format with the outcome of parsing it.
pub struct ParsedLine {
    pub line: u64,
    pub record: Result<Record, Vec<FieldError>>,
    /// Rule labels of a transaction, when the parsing thread computed them.
    pub labelled: Option<Labelled>,
}

/// A batch of lines with the outcome of parsing each; the text is kept
/// for records that wait for their user or account.
pub struct ParsedBatch {
    pub text: LineBatch,
    pub lines: Vec<ParsedLine>,
}

impl ParsedBatch {
    /// Parses and labels, so that the writing thread only writes.
    pub fn parse_labelled(text: LineBatch, labeller: &Labeller, scratch: &mut Scratch) -> Self {
        let lines = text
            .iter()
            .map(|(line, json)| {
                let record = crate::input::bulk_record(json);
                let labelled = match &record {
                    Ok(Record::Transaction(t)) => {
                        Some(labeller.apply(&crate::labelling::signals(t), scratch))
                    }
                    _ => None,
                };
                ParsedLine {
                    line,
                    record,
                    labelled,
                }
            })
            .collect();
        ParsedBatch { text, lines }
    }
}
