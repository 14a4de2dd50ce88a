//! CSV records out of text already known to be UTF-8, with the csv crate's reading rules
//! (RFC 4180 quoting, `""` for a quote, `\r`, `\n` or `\r\n` ending a record, blank lines
//! skipped, a quote inside an unquoted field taken literally) but without its byte-at-a-time
//! state machine: fields are found with SIMD searches and borrowed from the text; only a field
//! with `""` in it is copied, once, into a buffer the reader reuses — or, for the one column the
//! caller reads in place (AuditData), not copied at all.

use memchr::memchr3;
use std::borrow::Cow;

/// Where one field's text is.
#[derive(Debug, Clone, Copy)]
enum Span {
    Text(usize, usize),
    Unescaped(usize, usize),
    /// A quoted field's content as it lies in the text, every quote still doubled.
    Doubled(usize, usize),
}

/// A field as the reader found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field<'r> {
    /// Its text.
    Text(&'r str),
    /// Its text with every quote doubled (the raw column only; it has at least one quote).
    Doubled(&'r str),
}

/// Reads the records of one chunk, one at a time, into reused buffers.
pub struct RecordReader<'t> {
    text: &'t str,
    pos: usize,
    delimiter: u8,
    /// The column left as it lies when quoted (`Span::Doubled`), if any.
    raw_column: Option<usize>,
    /// A quote was read that is not field quoting: inside an unquoted field, text after a
    /// closing quote, or a quoted field the text ends in.
    irregular: bool,
    spans: Vec<Span>,
    /// Fields with `""` in them, unescaped: bytes of UTF-8 text less some ASCII quotes, so
    /// still UTF-8 (checked where a field is read).
    unescaped: Vec<u8>,
}

/// The fields of the record last read: borrowed from the reader (`'r`, until the next record)
/// or, where a field lies in the text as it is, from the text (`'t`).
pub struct Row<'r, 't: 'r> {
    text: &'t str,
    unescaped: &'r [u8],
    spans: &'r [Span],
}

impl<'r, 't: 'r> Row<'r, 't> {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Field `i`'s text (a doubled raw field is unescaped here, into a new string).
    pub fn get(&self, i: usize) -> Option<Cow<'r, str>> {
        Some(match self.field(i)? {
            Field::Text(t) => Cow::Borrowed(t),
            Field::Doubled(t) => Cow::Owned(t.replace("\"\"", "\"")),
        })
    }

    /// Field `i` as the reader found it.
    pub fn field(&self, i: usize) -> Option<Field<'r>> {
        Some(match *self.spans.get(i)? {
            Span::Unescaped(a, b) => Field::Text(
                std::str::from_utf8(&self.unescaped[a..b])
                    .expect("UTF-8 text less some ASCII quotes is UTF-8"),
            ),
            _ => self.in_text(i)?,
        })
    }

    /// Field `i` when it lies in the text as it is (not unescaped into the reader's buffer), so
    /// that it can outlive the row.
    pub fn in_text(&self, i: usize) -> Option<Field<'t>> {
        match *self.spans.get(i)? {
            Span::Text(a, b) => Some(Field::Text(&self.text[a..b])),
            Span::Doubled(a, b) => Some(Field::Doubled(&self.text[a..b])),
            Span::Unescaped(..) => None,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = Cow<'r, str>> {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

impl<'t> RecordReader<'t> {
    pub fn new(text: &'t str, delimiter: u8) -> RecordReader<'t> {
        RecordReader {
            text,
            pos: 0,
            delimiter,
            raw_column: None,
            irregular: false,
            spans: Vec::new(),
            unescaped: Vec::new(),
        }
    }

    /// Leave quoted fields of `column` as they lie, quotes doubled (`Row::field`), when they
    /// end at their closing quote: the caller reads them in place instead of from a copy.
    pub fn with_raw_column(mut self, column: Option<usize>) -> RecordReader<'t> {
        self.raw_column = column;
        self
    }

    /// Whether any quote read so far was not field quoting (see `irregular`): where there is
    /// none, a newline ends a record exactly when the quotes before it are even.
    pub fn irregular(&self) -> bool {
        self.irregular
    }

    /// Where the next record's search begins: just past the last record read.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The next record and the byte offset where it starts, or `None` at the end.
    pub fn next_record(&mut self) -> Option<(usize, Row<'_, 't>)> {
        let bytes = self.text.as_bytes();
        let n = bytes.len();
        let delim = self.delimiter;
        let is_end = |b: u8| b == b'\n' || b == b'\r';
        let mut i = self.pos;
        while i < n && is_end(bytes[i]) {
            i += 1;
        }
        if i >= n {
            self.pos = n;
            return None;
        }
        let start = i;
        self.spans.clear();
        self.unescaped.clear();
        loop {
            if i < n && bytes[i] == b'"' {
                i = self.quoted_field(i + 1);
            } else {
                let end = memchr3(delim, b'\n', b'\r', &bytes[i..]).map_or(n, |k| i + k);
                self.irregular |= memchr::memchr(b'"', &bytes[i..end]).is_some();
                self.spans.push(Span::Text(i, end));
                i = end;
            }
            // Now at a delimiter, the end of the record, or the end of the text.
            if i < n && bytes[i] == delim {
                i += 1;
                continue;
            }
            self.pos = (i + 1).min(n);
            return Some((
                start,
                Row {
                    text: self.text,
                    unescaped: &self.unescaped,
                    spans: &self.spans,
                },
            ));
        }
    }

    /// Read a quoted field whose content starts at `from`; returns where the field ends.
    fn quoted_field(&mut self, from: usize) -> usize {
        let bytes = self.text.as_bytes();
        let n = bytes.len();
        let delim = self.delimiter;
        if self.raw_column == Some(self.spans.len()) {
            if let Some(end) = self.doubled_field(from) {
                return end;
            }
        }
        let out = &mut self.unescaped;
        let copied_from = out.len();
        let mut copied = false;
        // The closing quote (or the end of the text, for an unclosed field). Up to the first
        // `""` the field is borrowed; from there on it is copied.
        let close = match next_quote(bytes, from) {
            None => n,
            Some(quote) if bytes.get(quote + 1) != Some(&b'"') => quote,
            Some(quote) => {
                copied = true;
                out.extend_from_slice(&bytes[from..=quote]);
                copy_unescaping(bytes, quote + 2, out)
            }
        };
        // Text after the closing quote up to the delimiter or the end of the record belongs to
        // the field, quotes included.
        let after = (close + 1).min(n);
        let end = if after < n && !matches!(bytes[after], b'\n' | b'\r') && bytes[after] != delim {
            memchr3(delim, b'\n', b'\r', &bytes[after..]).map_or(n, |k| after + k)
        } else {
            after
        };
        self.irregular |= close == n || end != after;
        if !copied && end == after {
            self.spans.push(Span::Text(from, close));
        } else {
            if !copied {
                out.extend_from_slice(&bytes[from..close]);
            }
            out.extend_from_slice(&bytes[after..end]);
            self.spans.push(Span::Unescaped(copied_from, out.len()));
        }
        end
    }
}

impl RecordReader<'_> {
    /// A quoted field whose content starts at `from` and that ends at its closing quote, kept as
    /// it lies; `None` (nothing recorded) for one with text after its closing quote or none.
    fn doubled_field(&mut self, from: usize) -> Option<usize> {
        let bytes = self.text.as_bytes();
        let mut doubled = false;
        let mut i = from;
        let close = loop {
            let quote = next_quote(bytes, i)?;
            if bytes.get(quote + 1) != Some(&b'"') {
                break quote;
            }
            doubled = true;
            i = quote + 2;
        };
        let after = close + 1;
        if after < bytes.len()
            && !matches!(bytes[after], b'\n' | b'\r')
            && bytes[after] != self.delimiter
        {
            return None;
        }
        self.spans.push(if doubled {
            Span::Doubled(from, close)
        } else {
            Span::Text(from, close)
        });
        Some(after)
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;
const QUOTES: u64 = ONES * b'"' as u64;

/// Which of eight bytes is the first quote, if any (the classic has-zero-byte test on
/// `word ^ QUOTES`; the lowest flagged byte is always exact).
#[inline]
fn first_quote_in(word: [u8; 8]) -> Option<usize> {
    let x = u64::from_le_bytes(word) ^ QUOTES;
    let found = x.wrapping_sub(ONES) & !x & HIGHS;
    (found != 0).then(|| (found.trailing_zeros() / 8) as usize)
}

/// The first `"` in `bytes[from..]`, eight bytes at a time. In AuditData a quote comes every
/// few bytes: too often for a SIMD search to pay for its setup, too seldom for a byte loop.
#[inline]
pub fn next_quote(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(word) = bytes.get(i..i + 8) {
        let word: [u8; 8] = word.try_into().expect("eight bytes");
        if let Some(k) = first_quote_in(word) {
            return Some(i + k);
        }
        i += 8;
    }
    bytes[i..].iter().position(|&b| b == b'"').map(|k| i + k)
}

/// Copy a quoted field's content from `from` into `out`, `""` as `"`, up to its closing quote
/// (returned; the end of the text if it has none). Whole words are copied and the bytes past a
/// quote cut off again: fixed-size copies compile to single moves, where a copy of each short
/// run between quotes would be a call.
fn copy_unescaping(bytes: &[u8], from: usize, out: &mut Vec<u8>) -> usize {
    let mut i = from;
    while let Some(word) = bytes.get(i..i + 8) {
        let word: [u8; 8] = word.try_into().expect("eight bytes");
        out.extend_from_slice(&word);
        let Some(k) = first_quote_in(word) else {
            i += 8;
            continue;
        };
        out.truncate(out.len() - 8 + k);
        let quote = i + k;
        if bytes.get(quote + 1) != Some(&b'"') {
            return quote;
        }
        out.push(b'"');
        i = quote + 2;
    }
    loop {
        let Some(k) = bytes[i..].iter().position(|&b| b == b'"') else {
            out.extend_from_slice(&bytes[i..]);
            return bytes.len();
        };
        let quote = i + k;
        out.extend_from_slice(&bytes[i..quote]);
        if bytes.get(quote + 1) != Some(&b'"') {
            return quote;
        }
        out.push(b'"');
        i = quote + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn with_ours(text: &str, delimiter: u8) -> Vec<Vec<String>> {
        let mut r = RecordReader::new(text, delimiter);
        let mut out = Vec::new();
        while let Some((_, row)) = r.next_record() {
            out.push(row.iter().map(Cow::into_owned).collect());
        }
        out
    }

    fn with_csv_crate(text: &str, delimiter: u8) -> Vec<Vec<String>> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        rdr.records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect()
    }

    #[test]
    fn reads_like_the_csv_crate() {
        for text in [
            "a,b,c\n1,2,3\n",
            "a,\"b,\"\"x\"\"\",c\r\n\r\n\n1,2,\n",
            "\"unclosed,x\ny",
            "\"q\"tail\"more,x\n",
            "a\"b,c\rd,e",
            ",,\n,",
            "\"\"\"\"\n\"\"",
            "x,\"\"",
            "1,\"{\"\"Id\"\":\"\"a1\"\",\"\"Folders\"\":[{\"\"Path\"\":\"\"\\\\Inbox\"\"}],\"\"N\"\":12345678}\",x\r\n2,\"\"",
        ] {
            assert_eq!(
                with_ours(text, b','),
                with_csv_crate(text, b','),
                "{text:?}"
            );
        }
    }

    #[test]
    fn record_offsets_point_at_the_first_byte() {
        let text = "\r\n\nab,c\n\"d\ne\",f\n";
        let mut r = RecordReader::new(text, b',');
        let mut starts = Vec::new();
        while let Some((at, _)) = r.next_record() {
            starts.push(at);
        }
        assert_eq!(starts, vec![3, 8]);
    }

    proptest! {
        #[test]
        fn any_text_reads_like_the_csv_crate(
            text in proptest::collection::vec(
                prop_oneof![Just("a"), Just("abcdefghij"), Just("é"), Just(","), Just(";"), Just("\""), Just("\"\""), Just("\n"), Just("\r"), Just(" ")],
                0..300,
            ).prop_map(|parts| parts.concat()),
            semicolon in any::<bool>(),
        ) {
            let d = if semicolon { b';' } else { b',' };
            prop_assert_eq!(with_ours(&text, d), with_csv_crate(&text, d));
        }
    }
}
