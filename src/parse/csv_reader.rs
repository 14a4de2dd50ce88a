//! CSV records out of text already known to be UTF-8, with the csv crate's reading rules
//! (RFC 4180 quoting, `""` for a quote, `\r`, `\n` or `\r\n` ending a record, blank lines
//! skipped, a quote inside an unquoted field taken literally) but without its byte-at-a-time
//! state machine: fields are found with SIMD searches and borrowed from the text; only a field
//! with `""` in it is copied, once, into a buffer the reader reuses.

use memchr::memchr3;

/// Where one field's text is.
#[derive(Debug, Clone, Copy)]
enum Span {
    Text(usize, usize),
    Unescaped(usize, usize),
}

/// Reads the records of one chunk, one at a time, into reused buffers.
pub struct RecordReader<'t> {
    text: &'t str,
    pos: usize,
    delimiter: u8,
    spans: Vec<Span>,
    unescaped: String,
}

/// The fields of the record last read.
pub struct Row<'r> {
    text: &'r str,
    unescaped: &'r str,
    spans: &'r [Span],
}

impl Row<'_> {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&str> {
        Some(match *self.spans.get(i)? {
            Span::Text(a, b) => &self.text[a..b],
            Span::Unescaped(a, b) => &self.unescaped[a..b],
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

impl<'t> RecordReader<'t> {
    pub fn new(text: &'t str, delimiter: u8) -> RecordReader<'t> {
        RecordReader {
            text,
            pos: 0,
            delimiter,
            spans: Vec::new(),
            unescaped: String::new(),
        }
    }

    /// The next record and the byte offset where it starts, or `None` at the end.
    pub fn next_record(&mut self) -> Option<(usize, Row<'_>)> {
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
        let mut copied_from: Option<usize> = None;
        let mut segment = from;
        let mut i = from;
        // The closing quote (or the end of the text, for an unclosed field).
        let close = loop {
            // AuditData has a `""` every few bytes: a plain loop finds the next quote sooner
            // than a SIMD search would set up.
            let Some(k) = bytes[i..].iter().position(|&b| b == b'"') else {
                break n;
            };
            let quote = i + k;
            if bytes.get(quote + 1) != Some(&b'"') {
                break quote;
            }
            // `""`: keep one quote; the field is copied from here on.
            copied_from.get_or_insert(self.unescaped.len());
            self.unescaped.push_str(&self.text[segment..=quote]);
            i = quote + 2;
            segment = i;
        };
        // Text after the closing quote up to the delimiter or the end of the record belongs to
        // the field, quotes included.
        let after = (close + 1).min(n);
        let end = if after < n && !matches!(bytes[after], b'\n' | b'\r') && bytes[after] != delim {
            memchr3(delim, b'\n', b'\r', &bytes[after..]).map_or(n, |k| after + k)
        } else {
            after
        };
        if copied_from.is_none() && end == after {
            self.spans.push(Span::Text(from, close));
        } else {
            let at = copied_from.unwrap_or(self.unescaped.len());
            self.unescaped.push_str(&self.text[segment..close]);
            self.unescaped.push_str(&self.text[after..end]);
            self.spans.push(Span::Unescaped(at, self.unescaped.len()));
        }
        end
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
            out.push(row.iter().map(str::to_string).collect());
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
                prop_oneof![Just("a"), Just("é"), Just(","), Just(";"), Just("\""), Just("\"\""), Just("\n"), Just("\r"), Just(" ")],
                0..60,
            ).prop_map(|parts| parts.concat()),
            semicolon in any::<bool>(),
        ) {
            let d = if semicolon { b';' } else { b',' };
            prop_assert_eq!(with_ours(&text, d), with_csv_crate(&text, d));
        }
    }
}
