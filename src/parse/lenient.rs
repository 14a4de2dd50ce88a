//! Lists in AuditData as collectors and SIEMs re-shape them. Microsoft writes
//! `OperationProperties`, `Folders`, `FolderItems`, `AffectedItems` … as arrays of objects; in the
//! field they also arrive as JSON text in a string (SIEMs), as PowerShell hashtable text
//! (`"@{Name=MailAccessType; Value=Bind}"`, `ConvertTo-Json` past its depth) or as
//! `"System.Object[]"`, where PowerShell threw the content away. Each shape is read into the same
//! list; what had to be decoded or was lost is recorded (`take_damage`) so that the record
//! carries it (`model::flag`) and the file's warnings say it. Nothing here fails a record.

use crate::model::flag;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;

thread_local! {
    /// `model::flag` bits of the record being deserialized on this thread.
    static DAMAGE: Cell<u8> = const { Cell::new(0) };
}

fn damaged(bits: u8) {
    DAMAGE.with(|d| d.set(d.get() | bits));
}

/// The damage recorded since the last call, on this thread (one record is read at a time).
pub fn take_damage() -> u8 {
    DAMAGE.with(|d| d.replace(0))
}

/// The damage recorded so far for the record being read, left in place.
pub fn peek_damage() -> u8 {
    DAMAGE.with(|d| d.get())
}

/// Python's `repr` of a dict or list (`{'Path': '\\Inbox', 'IsThrottled': False}`), as
/// pandas and notebook exports write a dynamic column, read as JSON: strings in either quote
/// with Python's escapes (the other quote stands unescaped inside), `True`/`False`/`None`,
/// tuples as lists. `None` when the text is no such literal.
pub fn python_literal(text: &str) -> Option<Value> {
    let t = text.trim();
    if !t.starts_with(['{', '[']) {
        return None;
    }
    let mut out = String::with_capacity(t.len() + 16);
    let mut it = t.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\'' | '"' => {
                let s = python_string(&mut it, c)?;
                out.push_str(&serde_json::to_string(&s).ok()?);
            }
            '(' => out.push('['),
            ')' => out.push(']'),
            '{' | '}' | '[' | ']' | ':' | ',' => out.push(c),
            c if c.is_whitespace() => out.push(c),
            c if c.is_ascii_digit() || c == '-' => {
                out.push(c);
                while let Some(&n) = it.peek() {
                    if !(n.is_ascii_digit() || matches!(n, '.' | 'e' | 'E' | '+' | '-')) {
                        break;
                    }
                    out.push(n);
                    it.next();
                }
            }
            c if c.is_ascii_alphabetic() => {
                let mut word = String::from(c);
                while let Some(&n) = it.peek().filter(|n| n.is_ascii_alphanumeric()) {
                    word.push(n);
                    it.next();
                }
                out.push_str(match word.as_str() {
                    "True" => "true",
                    "False" => "false",
                    "None" => "null",
                    _ => return None,
                });
            }
            _ => return None,
        }
    }
    serde_json::from_str(&out).ok()
}

/// The rest of a Python string literal opened by `quote`, its escapes decoded (a lone
/// surrogate `\ud800` as U+FFFD).
fn python_string(it: &mut std::iter::Peekable<std::str::Chars>, quote: char) -> Option<String> {
    let mut s = String::new();
    loop {
        let c = it.next()?;
        if c == quote {
            return Some(s);
        }
        if c != '\\' {
            s.push(c);
            continue;
        }
        let e = it.next()?;
        let mut hex = |n: usize| -> Option<char> {
            let digits: String = (0..n).map(|_| it.next()).collect::<Option<String>>()?;
            let code = u32::from_str_radix(&digits, 16).ok()?;
            Some(char::from_u32(code).unwrap_or('\u{fffd}'))
        };
        match e {
            '\\' | '\'' | '"' => s.push(e),
            'n' => s.push('\n'),
            'r' => s.push('\r'),
            't' => s.push('\t'),
            'a' => s.push('\u{7}'),
            'b' => s.push('\u{8}'),
            'f' => s.push('\u{c}'),
            'v' => s.push('\u{b}'),
            'x' => s.push(hex(2)?),
            'u' => s.push(hex(4)?),
            'U' => s.push(hex(8)?),
            '0'..='7' => {
                let mut code = e.to_digit(8)?;
                for _ in 0..2 {
                    match it.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            code = code * 8 + d;
                            it.next();
                        }
                        None => break,
                    }
                }
                s.push(char::from_u32(code).unwrap_or('\u{fffd}'));
            }
            // A backslash before a line break continues the line.
            '\n' => {}
            // Python keeps the backslash of an escape it does not know.
            other => {
                s.push('\\');
                s.push(other);
            }
        }
    }
}

/// `@{Name=MailAccessType; Value=Bind}` as a JSON object of strings.
fn hashtable(text: &str) -> Option<Value> {
    let body = text.trim().strip_prefix("@{")?.strip_suffix('}')?;
    let mut map = serde_json::Map::new();
    for pair in body.split("; ") {
        let (k, v) = pair.split_once('=')?;
        map.insert(k.trim().to_string(), Value::String(v.to_string()));
    }
    Some(Value::Object(map))
}

/// Text where a list or an object was expected, as JSON values: JSON in the string, hashtable
/// text, or nothing (content lost, or text that is neither).
fn values_of_text(text: &str) -> Vec<Value> {
    let t = text.trim();
    if t.is_empty() {
        return Vec::new();
    }
    if t.starts_with('[') || t.starts_with('{') {
        if let Ok(v) = serde_json::from_str::<Value>(t) {
            damaged(flag::FLATTENED_FIELDS);
            return match v {
                Value::Array(items) => items,
                other => vec![other],
            };
        }
    }
    if let Some(v) = hashtable(t) {
        damaged(flag::FLATTENED_FIELDS);
        return vec![v];
    }
    // Security & Compliance cmdlet records write their parameters as PowerShell argument text:
    // their native shape, so nothing was lost or re-shaped.
    if let Some(args) = super::pwsh::arguments(t) {
        return args
            .into_iter()
            .map(|(name, value)| serde_json::json!({"Name": name, "Value": value}))
            .collect();
    }
    // A type name (System.Object[]) or text that is neither JSON nor a hashtable: what it held
    // cannot be read, so it counts as lost (and is scoped as such), never as decoded.
    damaged(flag::CONTENT_LOST);
    Vec::new()
}

/// Values as list elements: objects are read, text inside is decoded again (one level: a
/// hashtable's values are text), anything else is dropped as lost.
fn elements_of<'de, T: Deserialize<'de>>(values: Vec<Value>, out: &mut Vec<T>) {
    for v in values {
        match v {
            Value::Object(_) => match T::deserialize(v) {
                Ok(t) => out.push(t),
                Err(_) => damaged(flag::CONTENT_LOST),
            },
            Value::String(s) => {
                for inner in values_of_text(&s) {
                    if inner.is_object() {
                        if let Ok(t) = T::deserialize(inner) {
                            out.push(t);
                            continue;
                        }
                    }
                    damaged(flag::CONTENT_LOST);
                }
            }
            Value::Null => {}
            _ => damaged(flag::CONTENT_LOST),
        }
    }
}

/// One element of a list: an object as it is, or text to decode.
struct Element<T>(Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Element<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Element<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object or its text")
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(m)).map(|t| Element(vec![t]))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                let mut out = Vec::new();
                elements_of(values_of_text(v), &mut out);
                Ok(Element(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Element(Vec::new()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                // A list inside a list: its objects are the elements.
                let mut out = Vec::new();
                while let Some(Element(mut e)) = s.next_element::<Element<T>>()? {
                    out.append(&mut e);
                }
                Ok(Element(out))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                damaged(flag::CONTENT_LOST);
                Ok(Element(Vec::new()))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                self.visit_bool(false)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                self.visit_bool(false)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                self.visit_bool(false)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// `deserialize_with` for a list field: an array (of objects or of their text), one object, a
/// string holding either, or a lost value. `None` only for null; never an error but the
/// parser's own (the JSON itself is damaged).
pub fn list<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    // A field reads as one element does, with a list's elements flattened into it.
    Ok(Option::<Element<T>>::deserialize(d)?.map(|e| e.0))
}

/// `deserialize_with` for an object field (`Item`, `Folder`, `AppAccessContext`): the object,
/// or its JSON or hashtable text.
pub fn object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(list::<D, T>(d)?.and_then(|mut v| {
        if v.len() > 1 {
            damaged(flag::FLATTENED_FIELDS);
        }
        (!v.is_empty()).then(|| v.swap_remove(0))
    }))
}

/// `list`, with content lost in it recorded as `lost` too (which field lost it matters to scope).
fn list_noting<'de, D, T>(d: D, lost: u8) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let before = take_damage();
    let out = list(d);
    let now = take_damage();
    let extra = if now & flag::CONTENT_LOST != 0 {
        lost
    } else {
        0
    };
    damaged(before | now | extra);
    out
}

/// `OperationProperties`: when lost, MailAccessType and IsThrottled are unknown.
pub fn properties<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    list_noting(d, flag::PROPERTIES_LOST)
}

/// `Folders`: when lost, which folders and messages a Bind named is unknown.
pub fn folders<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    list_noting(d, flag::FOLDERS_LOST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashtable_text_reads_as_an_object() {
        assert_eq!(
            hashtable("@{Value=Bind; Name=MailAccessType}").unwrap(),
            serde_json::json!({"Value": "Bind", "Name": "MailAccessType"})
        );
        assert_eq!(
            hashtable("@{Id=LgAAAA; Path=\\Inbox; FolderItems=System.Object[]}").unwrap()["Path"],
            "\\Inbox"
        );
    }
}
