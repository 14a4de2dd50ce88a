//! The keys of the first record in JSON text, read from its structure: the top-level keys of
//! the first object of an array or of JSON Lines, or of the first object a response lists under
//! `value` (a Graph page) or `results` (OData verbose, itself under `d`: the Reporting Web
//! Service's `{"d":{"results":[…]}}`) or `records` (Defender's streaming API). A record's
//! `properties` object (the streaming API's table row) gives its keys too, as
//! `properties.<key>`; an Elasticsearch document (a hit's `_source`, itself under `hits.hits`
//! in a `_search` response) gives those of its ECS objects `email` and `microsoft` as dotted
//! paths (`email.message_id`). Evidence controls string values, and keys of other nested
//! objects (AuditData's `Parameters`): neither is ever looked at. Only whole objects count, so the
//! first mebibyte of a file, cut anywhere, gives the same answer as the whole file.

use std::borrow::Cow;

/// Responses nest their records this deep at most (as `parse::inventory::parse_json`
/// reads them: a list of pages, each with its `value` list).
const MAX_DEPTH: usize = 3;

/// The objects of an Elasticsearch (ECS) document whose keys are given as dotted paths: those
/// that tell an inventory document from an audit one.
const ECS_OBJECTS: [&str; 2] = ["email", "microsoft"];

/// The top-level keys of the first record, `None` when the text has no whole record (cut
/// short, or not JSON where a record should be).
pub fn first_record_keys(text: &str) -> Option<Vec<Cow<'_, str>>> {
    let mut scanner = Scanner { text, at: 0 };
    match scanner.top_level() {
        Err(Stop::Found(keys)) => Some(keys),
        Ok(()) | Err(Stop::Unreadable) => None,
    }
}

enum Stop<'t> {
    Found(Vec<Cow<'t, str>>),
    /// Cut short, or not JSON: whatever comes after is not read.
    Unreadable,
}

type Step<'t> = Result<(), Stop<'t>>;

struct Scanner<'t> {
    text: &'t str,
    at: usize,
}

impl<'t> Scanner<'t> {
    /// The next byte that is not whitespace (left unread).
    fn peek(&mut self) -> Option<u8> {
        let b = self.text.as_bytes();
        while b
            .get(self.at)
            .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
        {
            self.at += 1;
        }
        b.get(self.at).copied()
    }

    /// One array, or objects one after another (JSON Lines, concatenated objects).
    fn top_level(&mut self) -> Step<'t> {
        if self.peek() == Some(b'[') {
            return self.list(0);
        }
        loop {
            match self.peek() {
                None => return Ok(()),
                Some(b'{') => self.object(0)?,
                Some(b',') => self.at += 1,
                Some(_) => return Err(Stop::Unreadable),
            }
        }
    }

    fn list(&mut self, depth: usize) -> Step<'t> {
        self.at += 1;
        loop {
            match self.peek().ok_or(Stop::Unreadable)? {
                b']' => {
                    self.at += 1;
                    return Ok(());
                }
                b',' => self.at += 1,
                b'{' => self.object(depth)?,
                b'[' if depth < MAX_DEPTH => self.list(depth + 1)?,
                _ => self.skip_value()?,
            }
        }
    }

    /// An object: a record (its keys are the answer), or a response whose `value` lists them.
    fn object(&mut self, depth: usize) -> Step<'t> {
        self.at += 1;
        let mut keys = Vec::new();
        let mut lists_records = false;
        loop {
            match self.peek().ok_or(Stop::Unreadable)? {
                b'}' => {
                    self.at += 1;
                    break;
                }
                b',' => self.at += 1,
                b'"' => {
                    let key = self.string()?;
                    if self.peek() != Some(b':') {
                        return Err(Stop::Unreadable);
                    }
                    self.at += 1;
                    // `d` lists them itself in OData verbose version 1 (`{"d":[…]}`).
                    let lists =
                        matches!(key.as_ref(), "value" | "results" | "records" | "hits" | "d");
                    let wraps = matches!(key.as_ref(), "d" | "hits");
                    if lists && depth < MAX_DEPTH && self.peek() == Some(b'[') {
                        lists_records = true;
                        self.list(depth + 1)?;
                    } else if wraps && depth < MAX_DEPTH && self.peek() == Some(b'{') {
                        // OData verbose: the response is under `d`; Elasticsearch's `_search`:
                        // under `hits`, which lists them under `hits`.
                        lists_records = true;
                        self.object(depth + 1)?;
                    } else if key == "_source" && self.peek() == Some(b'{') {
                        // An Elasticsearch hit: the document is its `_source`.
                        keys.extend(self.document_paths("", 0)?);
                    } else if ECS_OBJECTS.contains(&key.as_ref()) && self.peek() == Some(b'{') {
                        keys.extend(self.document_paths(&format!("{key}."), 1)?);
                    } else if key == "properties" && self.peek() == Some(b'{') {
                        let nested = self.keys_of_object()?;
                        keys.extend(
                            nested
                                .into_iter()
                                .map(|k| Cow::Owned(format!("properties.{k}"))),
                        );
                    } else {
                        self.skip_value()?;
                    }
                    keys.push(key);
                }
                _ => return Err(Stop::Unreadable),
            }
        }
        if lists_records {
            Ok(())
        } else {
            Err(Stop::Found(keys))
        }
    }

    /// The key paths of an Elasticsearch document at `{`: its keys, and those of its ECS
    /// objects (`email`, `microsoft`) as dotted paths (`email.message_id`,
    /// `microsoft.online_message_trace.MessageId`), as a document written with dotted keys has
    /// them; other values skipped.
    fn document_paths(
        &mut self,
        prefix: &str,
        depth: usize,
    ) -> Result<Vec<Cow<'t, str>>, Stop<'t>> {
        self.at += 1;
        let mut keys: Vec<Cow<'t, str>> = Vec::new();
        loop {
            match self.peek().ok_or(Stop::Unreadable)? {
                b'}' => {
                    self.at += 1;
                    return Ok(keys);
                }
                b',' => self.at += 1,
                b'"' => {
                    let key = self.string()?;
                    if self.peek() != Some(b':') {
                        return Err(Stop::Unreadable);
                    }
                    self.at += 1;
                    let path = format!("{prefix}{key}");
                    let ecs = depth > 0 || ECS_OBJECTS.contains(&key.as_ref());
                    if ecs && depth < MAX_DEPTH && self.peek() == Some(b'{') {
                        keys.extend(self.document_paths(&format!("{path}."), depth + 1)?);
                    } else {
                        self.skip_value()?;
                    }
                    keys.push(Cow::Owned(path));
                }
                _ => return Err(Stop::Unreadable),
            }
        }
    }

    /// The keys of the object at `{`, its values skipped.
    fn keys_of_object(&mut self) -> Result<Vec<Cow<'t, str>>, Stop<'t>> {
        self.at += 1;
        let mut keys = Vec::new();
        loop {
            match self.peek().ok_or(Stop::Unreadable)? {
                b'}' => {
                    self.at += 1;
                    return Ok(keys);
                }
                b',' => self.at += 1,
                b'"' => {
                    keys.push(self.string()?);
                    if self.peek() != Some(b':') {
                        return Err(Stop::Unreadable);
                    }
                    self.at += 1;
                    self.skip_value()?;
                }
                _ => return Err(Stop::Unreadable),
            }
        }
    }

    /// A string at `"`, decoded.
    fn string(&mut self) -> Result<Cow<'t, str>, Stop<'t>> {
        let start = self.at;
        self.skip_string()?;
        let raw = &self.text[start + 1..self.at - 1];
        if raw.contains('\\') {
            serde_json::from_str::<String>(&self.text[start..self.at])
                .map(Cow::Owned)
                .map_err(|_| Stop::Unreadable)
        } else {
            Ok(Cow::Borrowed(raw))
        }
    }

    /// Past the string at `"` (escapes honoured). Only ASCII bytes are compared, so a UTF-8
    /// continuation byte is never taken for a quote or a backslash.
    fn skip_string(&mut self) -> Step<'t> {
        let b = self.text.as_bytes();
        let mut i = self.at + 1;
        loop {
            match b.get(i) {
                None => return Err(Stop::Unreadable),
                Some(b'\\') => i += 2,
                Some(b'"') => break,
                Some(_) => i += 1,
            }
        }
        self.at = i + 1;
        Ok(())
    }

    /// Past any value, nested ones without recursion.
    fn skip_value(&mut self) -> Step<'t> {
        let b = self.text.as_bytes();
        match self.peek().ok_or(Stop::Unreadable)? {
            b'"' => self.skip_string(),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match b.get(self.at).ok_or(Stop::Unreadable)? {
                        b'"' => {
                            self.skip_string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.at += 1;
                                return Ok(());
                            }
                        }
                        _ => {}
                    }
                    self.at += 1;
                }
            }
            _ => {
                let start = self.at;
                while b.get(self.at).is_some_and(|c| {
                    !matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n')
                }) {
                    self.at += 1;
                }
                if self.at == start {
                    return Err(Stop::Unreadable);
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> Option<Vec<String>> {
        first_record_keys(text).map(|k| k.into_iter().map(Cow::into_owned).collect())
    }

    #[test]
    fn the_first_whole_record_of_arrays_lines_and_pages() {
        let expect = Some(vec!["a".to_string(), "b".to_string()]);
        assert_eq!(keys(r#"[{"a":1,"b":{"c":[1,"]"]}},{"x":1}]"#), expect);
        assert_eq!(keys("{\"a\":\"}\\\"{\",\"b\":null}\n{\"x\":1}\n"), expect);
        assert_eq!(
            keys(r#"{"@odata.context":"x","value":[{"a":true,"b":-1.5e3}],"@odata.nextLink":"y"}"#),
            expect
        );
        assert_eq!(keys(r#"[{"value":[]},{"value":[{"a":1,"b":2}]}]"#), expect);
        assert_eq!(keys(r#"{"a\u0062":1}"#), Some(vec!["ab".to_string()]));
        // Defender's streaming API: the row's keys under `properties`.
        assert_eq!(
            keys(r#"{"records":[{"a":1,"properties":{"b":{"c":2},"d":"x"}}]}"#),
            Some(vec![
                "a".to_string(),
                "properties.b".to_string(),
                "properties.d".to_string(),
                "properties".to_string()
            ])
        );
        // OData verbose (the Reporting Web Service).
        assert_eq!(
            keys(r#"{"d":{"results":[{"a":"\/Date(1)\/","b":2}],"__next":"x"}}"#),
            expect
        );
    }

    #[test]
    fn values_and_nested_keys_never_count() {
        let record = r#"{"Operation":"New-InboxRule","Parameters":[{"Name":"messageId","Value":"senderAddress"}],"Rule":"{\"senderAddress\":1}"}"#;
        assert_eq!(
            keys(record),
            Some(vec![
                "Operation".to_string(),
                "Parameters".to_string(),
                "Rule".to_string()
            ])
        );
    }

    #[test]
    fn a_record_cut_short_is_no_record() {
        let page = r#"{"value":[{"a":1,"b":2},{"c":3}]}"#;
        for cut in 0..page.len() {
            let got = keys(&page[..cut]);
            // The first record is whole once its closing brace is in.
            if cut > page.find('}').unwrap() {
                assert_eq!(got, Some(vec!["a".to_string(), "b".to_string()]), "{cut}");
            } else {
                assert_eq!(got, None, "{cut}");
            }
        }
        assert_eq!(keys("not json"), None);
        assert_eq!(keys(r#"[1,"a",{"#), None);
    }
}
