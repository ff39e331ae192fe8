//! Cutting a body into numbered lines and the lines into batches.

use finseg_core::bulk::LineBatch;

/// Longest accepted NDJSON line; longer lines are rejected, not buffered.
pub const MAX_LINE: usize = 1024 * 1024;
/// Lines per transaction of the bulk import. Fewer, larger commits rewrite
/// fewer B-tree pages that every commit touches (16 KiB each), and keep the
/// pipeline's threads busier; a batch still holds the write lock only
/// briefly.
pub const IMPORT_BATCH: usize = 20_000;
/// Bytes of text after which a batch is cut before it has
/// [`IMPORT_BATCH`] lines: with about six batches in flight, long lines
/// (up to [`MAX_LINE`]) would otherwise hold gigabytes.
pub const IMPORT_BATCH_BYTES: usize = 8 * 1024 * 1024;

/// What [`LineCutter`] found: a line's text, or why a line was refused
/// before parsing.
pub enum Cut<'a> {
    Line(u64, &'a str),
    Rejected(u64, &'static str),
}

/// Cuts an NDJSON body into numbered lines, whatever the boundaries of the
/// chunks it arrives in. Blank lines are skipped (but numbered), a
/// trailing `\r` is dropped, and a line longer than [`MAX_LINE`] or not in
/// UTF-8 is refused; a long line is never buffered beyond [`MAX_LINE`].
#[derive(Default)]
pub struct LineCutter {
    /// The start of a line whose end has not arrived yet.
    pending: Vec<u8>,
    /// The current line is too long and was refused: drop until its end.
    skipping_long_line: bool,
    /// Lines completed so far.
    line_no: u64,
}

impl LineCutter {
    /// A cutter whose first line is numbered `first_line`.
    pub fn numbered_from(first_line: u64) -> Self {
        LineCutter {
            line_no: first_line.saturating_sub(1),
            ..LineCutter::default()
        }
    }

    pub fn feed(&mut self, chunk: &[u8], out: &mut dyn FnMut(Cut<'_>)) {
        let mut rest = chunk;
        // memchr scans a word at a time: this loop sees every byte of the body.
        while let Some(pos) = memchr::memchr(b'\n', rest) {
            self.line_no += 1;
            if self.skipping_long_line {
                self.skipping_long_line = false;
            } else if self.pending.is_empty() {
                // The whole line is in this chunk: no copy.
                Self::line(&rest[..pos], self.line_no, out);
            } else {
                self.pending.extend_from_slice(&rest[..pos]);
                Self::line(&self.pending, self.line_no, out);
            }
            self.pending.clear();
            rest = &rest[pos + 1..];
        }
        if !self.skipping_long_line {
            self.pending.extend_from_slice(rest);
            if self.pending.len() > MAX_LINE {
                self.pending.clear();
                self.skipping_long_line = true;
                out(Cut::Rejected(self.line_no + 1, LONG_LINE));
            }
        }
    }

    /// The last line, when the body does not end with a newline.
    pub fn finish(&mut self, out: &mut dyn FnMut(Cut<'_>)) {
        if !self.pending.is_empty() && !self.skipping_long_line {
            self.line_no += 1;
            Self::line(&self.pending, self.line_no, out);
        }
        self.pending.clear();
    }

    fn line(raw: &[u8], line_no: u64, out: &mut dyn FnMut(Cut<'_>)) {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        if raw.len() > MAX_LINE {
            out(Cut::Rejected(line_no, LONG_LINE));
            return;
        }
        match std::str::from_utf8(raw) {
            Ok(s) => out(Cut::Line(line_no, s)),
            Err(_) => out(Cut::Rejected(line_no, "the line is not valid UTF-8")),
        }
    }
}

pub const LONG_LINE: &str = "the line is longer than 1 MiB";

/// Whether a batch is to be sent before another line joins it.
pub fn batch_is_full(batch: &LineBatch) -> bool {
    batch.len() >= IMPORT_BATCH || batch.bytes() >= IMPORT_BATCH_BYTES
}

pub fn new_batch() -> LineBatch {
    // Room for a batch of typical lines (about 340 bytes), but not beyond
    // the size at which a batch is cut anyway.
    LineBatch::with_capacity(IMPORT_BATCH, (IMPORT_BATCH * 512).min(IMPORT_BATCH_BYTES))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(cut: Cut<'_>) -> (u64, Result<String, &'static str>) {
        match cut {
            Cut::Line(n, t) => (n, Ok(t.to_owned())),
            Cut::Rejected(n, r) => (n, Err(r)),
        }
    }

    /// The cuts of `chunks` fed one after the other.
    fn cut(chunks: &[&[u8]]) -> Vec<(u64, Result<String, &'static str>)> {
        let mut out = Vec::new();
        let mut cutter = LineCutter::default();
        for c in chunks {
            cutter.feed(c, &mut |cut| out.push(owned(cut)));
        }
        cutter.finish(&mut |cut| out.push(owned(cut)));
        out
    }

    #[test]
    fn lines_are_the_same_whatever_the_chunks() {
        let mut body = Vec::new();
        body.extend_from_slice(b"{\"a\":1}\n\n  \n{\"b\":2}\r\n");
        body.extend_from_slice(&vec![b'x'; MAX_LINE + 10]); // line 5: too long
        body.extend_from_slice(b"\n{\"c\":\xff}\n"); // line 6: not UTF-8
        body.extend_from_slice(&vec![b'y'; MAX_LINE]); // line 7: just fits
        // Lines 8 and 9: past a long run of ASCII, an encoded surrogate
        // (not UTF-8) and a euro sign.
        let z = "z".repeat(100);
        body.extend_from_slice(format!("\n{{\"e\":\"{z}").as_bytes());
        body.extend_from_slice(b"\xed\xa0\x80\"}\n");
        body.extend_from_slice(format!("{{\"f\":\"{z}\u{20ac}\"}}").as_bytes());
        body.extend_from_slice(b"\n{\"d\":\"\xc3\xa4\"}"); // line 10, no newline
        let expected = vec![
            (1, Ok("{\"a\":1}".to_owned())),
            (4, Ok("{\"b\":2}".to_owned())),
            (5, Err(LONG_LINE)),
            (6, Err("the line is not valid UTF-8")),
            (7, Ok("y".repeat(MAX_LINE))),
            (8, Err("the line is not valid UTF-8")),
            (9, Ok(format!("{{\"f\":\"{z}€\"}}"))),
            (10, Ok("{\"d\":\"ä\"}".to_owned())),
        ];
        assert_eq!(cut(&[&body]), expected);
        // Chunks of pseudo-random sizes, from one byte to beyond a line's
        // limit, cutting lines, `\r\n` and UTF-8 sequences anywhere.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for round in 0..40 {
            let mut chunks = Vec::new();
            let mut rest = &body[..];
            while !rest.is_empty() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let max = [7, 4096, 70_000, 2 * MAX_LINE][round % 4];
                let n = (1 + seed as usize % max).min(rest.len());
                chunks.push(&rest[..n]);
                rest = &rest[n..];
            }
            assert_eq!(cut(&chunks), expected, "round {round}");
        }
    }

    #[test]
    fn batches_are_cut_by_lines_or_by_bytes() {
        let mut batch = new_batch();
        let short = "{}";
        for n in 1..IMPORT_BATCH as u64 {
            batch.push(n, short);
        }
        assert!(!batch_is_full(&batch));
        batch.push(IMPORT_BATCH as u64, short);
        assert!(batch_is_full(&batch));
        assert_eq!(batch.last_line(), IMPORT_BATCH as u64);

        // Lines of 1 MiB: eight fill a batch.
        let long = "z".repeat(MAX_LINE);
        let mut batch = new_batch();
        for n in 1..=7 {
            batch.push(n, &long);
            assert!(!batch_is_full(&batch));
        }
        batch.push(8, &long);
        assert!(batch_is_full(&batch));
        assert_eq!(batch.len(), 8);
        assert_eq!(
            batch.iter().map(|(n, t)| (n, t.len())).last(),
            Some((8, MAX_LINE))
        );
    }
}
