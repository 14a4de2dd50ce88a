//! Text from the evidence is untrusted: attackers choose user agents, subjects, folder and rule
//! names, even file names. One function per place it is shown makes it inert there:
//! `terminal` (and `terminal_lines` for whole texts), `markdown`, `html` and `csv`.
//!
//! Shared by all four: C0 and C1 control characters (ESC, BEL, CSI …) and the Unicode
//! bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C), which make
//! text display reversed or reordered, are shown as visible escapes: `\x1b`, `\u{202e}`.

use std::borrow::Cow;
use std::fmt::Write as _;

fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

fn must_show_escaped(c: char, keep_newlines: bool) -> bool {
    (c.is_control() && !(keep_newlines && c == '\n')) || is_bidi_control(c)
}

fn push_visible(out: &mut String, c: char) {
    let _ = if (c as u32) < 0x80 {
        write!(out, "\\x{:02x}", c as u32)
    } else {
        write!(out, "\\u{{{:04x}}}", c as u32)
    };
}

fn escape_controls(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !s.chars().any(|c| must_show_escaped(c, keep_newlines)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if must_show_escaped(c, keep_newlines) {
            push_visible(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One value for a terminal or a text file: every control character, line breaks included
/// (a value stays on its line), and every bidi control shown as an escape.
pub fn terminal(s: &str) -> Cow<'_, str> {
    escape_controls(s, false)
}

/// A whole text for a terminal or a text file (a rendered report, a message): as `terminal`,
/// but its own line breaks stay. Applied to everything mailscope prints as text, so that no
/// path from the evidence can reach the terminal raw.
pub fn terminal_lines(s: &str) -> Cow<'_, str> {
    escape_controls(s, true)
}

/// ASCII punctuation that starts Markdown or HTML structure: emphasis, code, links and images
/// (`[`, `]`, `!`: without them parentheses are plain text), raw HTML and entities, table cells,
/// headings, strikethrough, math.
const MARKDOWN_ACTIVE: &[u8] = b"\\`*_[]<>#+!|~&$^";

/// One value for a Markdown line or table cell: `terminal`, then each active punctuation mark
/// backslash-escaped (CommonMark lets any ASCII punctuation be escaped), so that no link,
/// image, HTML, emphasis or cell break can come from the evidence. GitHub-flavoured bare links
/// (`scheme://…`, `www.…`) are broken too: the `:` before `//` and the `.` after `www` escaped.
pub fn markdown(s: &str) -> String {
    let text = terminal(s);
    let mut out = String::with_capacity(text.len() + 8);
    for (i, c) in text.char_indices() {
        let rest = &text[i..];
        let autolink = (c == ':' && rest.starts_with("://"))
            || (c == '.' && i >= 3 && text.as_bytes()[i - 3..i].eq_ignore_ascii_case(b"www"));
        if autolink || c.is_ascii() && MARKDOWN_ACTIVE.contains(&(c as u8)) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One value for HTML text or a quoted attribute: the five HTML-special characters as
/// entities, controls and bidi controls as visible escapes (line breaks and tabs stay:
/// whitespace to HTML).
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if must_show_escaped(c, false) => push_visible(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// Excel's cell limit: longer text would be cut silently by the spreadsheet; cut it visibly.
pub const MAX_CSV_CELL_CHARS: usize = 32_767;
const TRUNCATED: &str = "…[truncated]";

/// One value for a CSV cell a spreadsheet will open: a leading `= + - @`, tab or CR (which make
/// spreadsheets evaluate the cell) neutralized with `'`; controls other than line breaks and
/// tabs, and bidi controls, as visible escapes; at most the spreadsheet's cell limit.
pub fn csv(s: &str) -> String {
    let keep_whitespace = |c: char| matches!(c, '\n' | '\r' | '\t');
    let mut out = String::with_capacity(s.len() + 1);
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        out.push('\'');
    }
    for c in s.chars() {
        if must_show_escaped(c, false) && !keep_whitespace(c) {
            push_visible(&mut out, c);
        } else {
            out.push(c);
        }
    }
    if out.chars().count() > MAX_CSV_CELL_CHARS {
        let keep = MAX_CSV_CELL_CHARS - TRUNCATED.chars().count();
        out = out.chars().take(keep).collect::<String>() + TRUNCATED;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "inv\u{1b}]8;;http://x\u{7}oice\u{202e}fdp.exe\u{9b}2J\r\nnext";

    #[test]
    fn no_target_lets_a_control_or_bidi_character_through() {
        let raw = |s: &str| s.chars().any(|c| must_show_escaped(c, true) && c != '\r');
        assert_eq!(
            terminal(HOSTILE),
            "inv\\x1b]8;;http://x\\x07oice\\u{202e}fdp.exe\\u{009b}2J\\x0d\\x0anext"
        );
        assert_eq!(terminal_lines("a\u{1b}[31mred\nb"), "a\\x1b[31mred\nb");
        for out in [markdown(HOSTILE), html(HOSTILE), csv(HOSTILE)] {
            assert!(!raw(&out), "{out:?}");
            assert!(out.contains("\\u{202e}"), "{out:?}");
        }
        assert_eq!(terminal("\\Inbox"), "\\Inbox");
    }

    #[test]
    fn markdown_structure_cannot_come_from_evidence() {
        assert_eq!(
            markdown("![x](http://evil/b.png) <script>|*a* www.evil.example"),
            "\\!\\[x\\](http\\://evil/b.png) \\<script\\>\\|\\*a\\* www\\.evil.example"
        );
        assert_eq!(markdown("\\Inbox\\Finance"), "\\\\Inbox\\\\Finance");
    }

    #[test]
    fn html_and_csv_targets() {
        assert_eq!(
            html("<img src=x onerror='a'>&"),
            "&lt;img src=x onerror=&#39;a&#39;&gt;&amp;"
        );
        assert_eq!(csv("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv("+1"), "'+1");
        assert_eq!(csv("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv("plain"), "plain");
        assert_eq!(csv("two\nlines"), "two\nlines");
        let long = "a".repeat(40_000);
        let c = csv(&long);
        assert_eq!(c.chars().count(), MAX_CSV_CELL_CHARS);
        assert!(c.ends_with(TRUNCATED));
    }
}

/// A writer for JSON that may be shown on a terminal. serde_json escapes C0 controls but writes
/// C1 controls (U+0080–U+009F, 8-bit CSI among them) and bidi controls as they are; this turns
/// them into `\uXXXX` escapes. They can only stand inside JSON strings, so the JSON means the
/// same. A character split across two writes is held until the rest arrives.
pub struct JsonForTerminal<W: std::io::Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: std::io::Write> JsonForTerminal<W> {
    pub fn new(inner: W) -> Self {
        JsonForTerminal {
            inner,
            pending: Vec::new(),
        }
    }
}

impl<W: std::io::Write> std::io::Write for JsonForTerminal<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let joined;
        let data: &[u8] = if self.pending.is_empty() {
            buf
        } else {
            joined = [self.pending.as_slice(), buf].concat();
            &joined
        };
        let (mut i, mut from) = (0, 0);
        // The lead bytes of U+0080–U+009F (C2), U+061C (D8) and U+200E–U+2069 (E2), found with
        // a vector search: the JSON report can be hundreds of megabytes. `i` ends at the end of
        // the data, or at a character split by the end of this write (kept for the next).
        loop {
            let Some(k) = memchr::memchr3(0xC2, 0xD8, 0xE2, &data[i..]) else {
                i = data.len();
                break;
            };
            i += k;
            let width = if data[i] == 0xE2 { 3 } else { 2 };
            if i + width > data.len() {
                break;
            }
            let c = std::str::from_utf8(&data[i..i + width])
                .ok()
                .and_then(|s| s.chars().next());
            if let Some(c) = c.filter(|&c| must_show_escaped(c, true)) {
                self.inner.write_all(&data[from..i])?;
                write!(self.inner, "\\u{:04x}", c as u32)?;
                from = i + width;
            }
            i += width;
        }
        self.inner.write_all(&data[from..i])?;
        self.pending = data[i..].to_vec();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let pending = std::mem::take(&mut self.pending);
        self.inner.write_all(&pending)?;
        self.inner.flush()
    }
}

#[cfg(test)]
mod json_tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn json_keeps_its_meaning_and_loses_raw_c1_and_bidi() {
        let value = serde_json::json!({"subject": "inv\u{202e}fdp.exe \u{9b}2J \u{1b}[31m ok é"});
        let text = serde_json::to_string(&value).unwrap();
        // Written a byte at a time: no character is split badly.
        let mut out = JsonForTerminal::new(Vec::new());
        for b in text.as_bytes() {
            out.write_all(std::slice::from_ref(b)).unwrap();
        }
        out.flush().unwrap();
        let written = String::from_utf8(out.inner).unwrap();
        assert!(
            !written.chars().any(|c| must_show_escaped(c, true)),
            "{written}"
        );
        assert!(
            written.contains("\\u202e") && written.contains("\\u009b"),
            "{written}"
        );
        let back: serde_json::Value = serde_json::from_str(&written).unwrap();
        assert_eq!(back, value);
    }
}
