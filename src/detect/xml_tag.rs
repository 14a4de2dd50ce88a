//! The attributes of an XML start tag, read without a full parser: detection (element and
//! attribute names) and the XML reader (the values) share it.

use std::collections::BTreeMap;

/// Attribute map with case-insensitive lookup (keys stored lowercased).
pub type Attrs = BTreeMap<String, String>;

/// `key="value"` / `key='value'` pairs out of a raw start tag, whatever comes before them.
pub fn scan_attributes(tag: &str) -> Attrs {
    let mut out = Attrs::new();
    let b = tag.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            // Key: the name characters right before '=' (skipping spaces).
            let mut k_end = i;
            while k_end > 0 && b[k_end - 1] == b' ' {
                k_end -= 1;
            }
            let mut k_start = k_end;
            while k_start > 0
                && (b[k_start - 1].is_ascii_alphanumeric()
                    || matches!(b[k_start - 1], b'_' | b':' | b'-' | b'.'))
            {
                k_start -= 1;
            }
            let mut v = i + 1;
            while v < b.len() && matches!(b[v], b' ' | b'\t' | b'\r' | b'\n') {
                v += 1;
            }
            if v < b.len() && (b[v] == b'"' || b[v] == b'\'') {
                let q = b[v];
                if let Some(len) = b[v + 1..].iter().position(|c| *c == q) {
                    let key = &tag[k_start..k_end];
                    let raw = &tag[v + 1..v + 1 + len];
                    if !key.is_empty() {
                        // Unknown entities (a DOCTYPE's) are left as written, never expanded.
                        let value = quick_xml::escape::unescape(raw)
                            .map(|c| c.into_owned())
                            .unwrap_or_else(|_| raw.to_string());
                        out.entry(key.to_ascii_lowercase()).or_insert(value);
                    }
                    i = v + 1 + len + 1;
                    continue;
                }
            }
        }
        i += 1;
    }
    out
}
