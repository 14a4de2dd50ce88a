//! AuditData read in one pass, in place, for the common record: the text is read where it lies —
//! plain JSON (`Q = 1`), or JSON still inside a quoted CSV field where every quote is doubled
//! (`Q = 2`) — and values without escapes are borrowed from it. No unescaped copy of the field,
//! no serde machinery.
//!
//! It accepts only what it is sure serde would read the same way, and answers `None` for anything
//! else (escaped keys, floats or negative numbers in scalar fields, duplicate fields, a collector's
//! wrapper, a struct written as an array, nesting deeper than 64, invalid JSON): the caller then
//! uses the serde reader, which decides and words any error. So the two readers never disagree
//! on a record; the tests compare them.

use super::{
    AggFolder, AppAccessContext, AuditData, ExFolder, ExItem, FolderItem, NameValue, RawJson,
};
use crate::parse::flex::Flex;
use std::borrow::Cow;

/// Read one AuditData object; `None` when the serde reader must decide.
pub(super) fn read<const Q: usize>(text: &str) -> Option<AuditData<'_>> {
    let mut s = Scan::<Q> {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    let ad = s.audit_data()?;
    s.ws();
    (s.at == s.bytes.len()).then_some(ad)
}

struct Scan<'a, const Q: usize> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

/// Deeper unknown values are left to serde (its skipping has no depth limit; ours keeps the open
/// brackets in a 64-bit stack).
const MAX_SKIP_DEPTH: u32 = 64;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The first byte at or after `from` that is a quote, a backslash or a control character (the
/// bytes that end a run of plain string content), eight at a time.
#[inline]
fn next_special(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(word) = bytes.get(i..i + 8) {
        let w = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let quote = w ^ (ONES * b'"' as u64);
        let backslash = w ^ (ONES * b'\\' as u64);
        // Has-zero-byte on each, and has-byte-below-0x20; the lowest flagged byte is exact.
        let found = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (w.wrapping_sub(ONES * 0x20) & !w);
        let found = found & HIGHS;
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    bytes[i..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|k| i + k)
}

/// A string's content as it lies in the text, and whether it has escapes to decode.
struct RawStr<'a> {
    text: &'a str,
    escaped: bool,
}

impl<'a, const Q: usize> Scan<'a, Q> {
    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    #[inline]
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.bytes.get(self.at).copied()
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.at += 1)
    }

    /// A JSON quote at the cursor: `"`, or `""` in a CSV field.
    #[inline]
    fn at_quote(&self) -> bool {
        self.bytes.get(self.at) == Some(&b'"')
            && (Q == 1 || self.bytes.get(self.at + 1) == Some(&b'"'))
    }

    /// A string (the cursor on its opening quote, whitespace skipped).
    fn string(&mut self) -> Option<RawStr<'a>> {
        if !self.at_quote() {
            return None;
        }
        self.at += Q;
        let start = self.at;
        let mut escaped = false;
        loop {
            let k = next_special(self.bytes, self.at)?;
            match self.bytes[k] {
                b'"' => {
                    if Q == 2 && self.bytes.get(k + 1) != Some(&b'"') {
                        return None;
                    }
                    self.at = k + Q;
                    return Some(RawStr {
                        text: &self.text[start..k],
                        escaped,
                    });
                }
                b'\\' => {
                    escaped = true;
                    self.at = k + 2;
                    match *self.bytes.get(k + 1)? {
                        b'"' if Q == 2 => {
                            if self.bytes.get(k + 2) != Some(&b'"') {
                                return None;
                            }
                            self.at = k + 3;
                        }
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            let hex = self.bytes.get(k + 2..k + 6)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            self.at = k + 6;
                        }
                        _ => return None,
                    }
                }
                // A raw control character: invalid JSON.
                _ => return None,
            }
        }
    }

    /// A string's value: borrowed when it has no escapes, else decoded here — or by serde_json
    /// when it has a `\u` escape, so that surrogates are read exactly as the serde reader reads
    /// them.
    fn string_value(&mut self) -> Option<Cow<'a, str>> {
        let raw = self.string()?;
        if !raw.escaped {
            return Some(Cow::Borrowed(raw.text));
        }
        let text = if Q == 2 {
            Cow::Owned(raw.text.replace("\"\"", "\""))
        } else {
            Cow::Borrowed(raw.text)
        };
        if text.contains("\\u") {
            let quoted = format!("\"{text}\"");
            return serde_json::from_str::<String>(&quoted).ok().map(Cow::Owned);
        }
        // Every escape is one of the two-character ones `string` let through.
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_ref();
        while let Some(k) = rest.find('\\') {
            out.push_str(&rest[..k]);
            let escaped = rest.as_bytes()[k + 1];
            out.push(match escaped {
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                other => other as char, // `"`, `\`, `/`
            });
            rest = &rest[k + 2..];
        }
        out.push_str(rest);
        Some(Cow::Owned(out))
    }

    /// `true`, `false` or `null`.
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        (self.bytes.get(self.at..self.at + word.len())? == word).then(|| self.at += word.len())
    }

    /// A number by JSON's grammar; `Some(true)` when it is a plain non-negative integer of at
    /// most 18 digits (serde reads those as u64 and prints them back unchanged).
    fn number(&mut self) -> Option<bool> {
        let b = self.bytes;
        let start = self.at;
        let mut i = self.at;
        let negative = b.get(i) == Some(&b'-');
        if negative {
            i += 1;
        }
        let digits = |i: &mut usize| {
            let from = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - from
        };
        let int_from = i;
        let int_digits = digits(&mut i);
        if int_digits == 0 || (b[int_from] == b'0' && int_digits > 1) {
            return None;
        }
        let mut plain = !negative && int_digits <= 18;
        if b.get(i) == Some(&b'.') {
            i += 1;
            if digits(&mut i) == 0 {
                return None;
            }
            plain = false;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if digits(&mut i) == 0 {
                return None;
            }
            plain = false;
        }
        debug_assert!(i > start);
        self.at = i;
        Some(plain)
    }

    /// Any value, checked and passed over without recursion.
    fn skip(&mut self) -> Option<()> {
        // Bit k set: the container at depth k+1 is an object.
        let mut objects: u64 = 0;
        let mut depth: u32 = 0;
        loop {
            // A value is expected here.
            match self.peek()? {
                b'"' => {
                    self.string()?;
                }
                open @ (b'{' | b'[') => {
                    self.at += 1;
                    let close = if open == b'{' { b'}' } else { b']' };
                    if self.peek()? == close {
                        self.at += 1;
                    } else {
                        if depth == MAX_SKIP_DEPTH {
                            return None;
                        }
                        if open == b'{' {
                            objects |= 1 << depth;
                            self.key()?;
                        } else {
                            objects &= !(1 << depth);
                        }
                        depth += 1;
                        continue;
                    }
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => {
                    self.number()?;
                }
                _ => return None,
            }
            // After a value: a separator, or the ends of the containers it closes.
            loop {
                if depth == 0 {
                    return Some(());
                }
                let in_object = objects & (1 << (depth - 1)) != 0;
                match self.peek()? {
                    b',' => {
                        self.at += 1;
                        if in_object {
                            self.key()?;
                        }
                        break;
                    }
                    b'}' if in_object => {
                        self.at += 1;
                        depth -= 1;
                    }
                    b']' if !in_object => {
                        self.at += 1;
                        depth -= 1;
                    }
                    _ => return None,
                }
            }
        }
    }

    /// An object key and its colon. Keys with escapes are left to serde (it matches field names
    /// after decoding them).
    fn key(&mut self) -> Option<&'a str> {
        self.ws();
        let key = self.string()?;
        if key.escaped {
            return None;
        }
        self.eat(b':')?;
        Some(key.text)
    }

    /// The members of an object, each handed to `field` with the cursor on its value, which
    /// `field` reads (or skips).
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            let key = self.key()?;
            field(self, key)?;
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// `null` as `None`, else an array of `item`s.
    fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Option<Vec<T>>> {
        match self.peek()? {
            b'n' => {
                self.literal(b"null")?;
                Some(None)
            }
            b'[' => {
                self.at += 1;
                let mut out = Vec::with_capacity(4);
                if self.peek()? == b']' {
                    self.at += 1;
                    return Some(Some(out));
                }
                loop {
                    out.push(item(self)?);
                    match self.peek()? {
                        b',' => self.at += 1,
                        b']' => {
                            self.at += 1;
                            return Some(Some(out));
                        }
                        _ => return None,
                    }
                }
            }
            _ => None,
        }
    }

    /// `null` as `None`, else one `item` (an object: serde's structs also take arrays, which
    /// are left to it).
    fn optional<T>(&mut self, item: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        match self.peek()? {
            b'n' => {
                self.literal(b"null")?;
                Some(None)
            }
            b'{' => item(self).map(Some),
            _ => None,
        }
    }

    /// A lenient scalar, as `Flex` reads it: a string's text, `True`/`False`, an integer's digits,
    /// nothing for `null`, an object or an array.
    fn flex(&mut self) -> Option<Flex<'a>> {
        Some(Flex(match self.peek()? {
            b'"' => Some(self.string_value()?),
            b't' => {
                self.literal(b"true")?;
                Some(Cow::Borrowed("True"))
            }
            b'f' => {
                self.literal(b"false")?;
                Some(Cow::Borrowed("False"))
            }
            b'n' => {
                self.literal(b"null")?;
                None
            }
            b'{' | b'[' => {
                self.skip()?;
                None
            }
            b'-' | b'0'..=b'9' => {
                let start = self.at;
                if !self.number()? {
                    return None;
                }
                Some(Cow::Borrowed(&self.text[start..self.at]))
            }
            _ => return None,
        }))
    }

    fn name_value(&mut self) -> Option<NameValue<'a>> {
        let mut nv = NameValue::default();
        let mut seen = Seen::default();
        self.object(|s, key| match key {
            "Name" => set(&mut seen, 0, &mut nv.name, s.flex()?),
            "Value" => set(&mut seen, 1, &mut nv.value, s.flex()?),
            _ => s.skip(),
        })?;
        Some(nv)
    }

    /// A value kept as its JSON text (`RawJson`). In doubled-quote text (a CSV cell read in
    /// place) the quotes are undoubled, so these records stay on the scanner's path.
    fn raw_json(&mut self) -> Option<RawJson<'a>> {
        self.ws();
        let start = self.at;
        self.skip()?;
        let text = self.text.get(start..self.at)?;
        if text == "null" {
            return Some(RawJson::default());
        }
        Some(if Q == 2 {
            RawJson::owned(text.replace("\"\"", "\""))
        } else {
            RawJson::borrowed(Some(text))
        })
    }

    fn name_values(&mut self) -> Option<Option<Vec<NameValue<'a>>>> {
        self.list(|s| s.name_value())
    }

    fn folder_item(&mut self) -> Option<FolderItem<'a>> {
        let mut it = FolderItem::default();
        let mut seen = Seen::default();
        self.object(|s, key| match key {
            "InternetMessageId" => set(&mut seen, 0, &mut it.internet_message_id, s.flex()?),
            "Id" => set(&mut seen, 1, &mut it.id, s.flex()?),
            "Subject" => set(&mut seen, 2, &mut it.subject, s.flex()?),
            "SizeInBytes" => set(&mut seen, 3, &mut it.size, s.flex()?),
            _ => s.skip(),
        })?;
        Some(it)
    }

    fn agg_folder(&mut self) -> Option<AggFolder<'a>> {
        let mut f = AggFolder::default();
        let mut seen = Seen::default();
        self.object(|s, key| match key {
            "Id" => set(&mut seen, 0, &mut f.id, s.flex()?),
            "Path" => set(&mut seen, 1, &mut f.path, s.flex()?),
            "FolderItems" => set(&mut seen, 2, &mut f.items, s.list(|s| s.folder_item())?),
            _ => s.skip(),
        })?;
        Some(f)
    }

    fn ex_folder(&mut self) -> Option<ExFolder<'a>> {
        let mut f = ExFolder::default();
        let mut seen = Seen::default();
        self.object(|s, key| match key {
            "Id" => set(&mut seen, 0, &mut f.id, s.flex()?),
            "Path" => set(&mut seen, 1, &mut f.path, s.flex()?),
            "MemberUpn" => set(&mut seen, 2, &mut f.member_upn, s.flex()?),
            "MemberRights" => set(&mut seen, 3, &mut f.member_rights, s.flex()?),
            _ => s.skip(),
        })?;
        Some(f)
    }

    fn ex_item(&mut self) -> Option<ExItem<'a>> {
        let mut it = ExItem::default();
        let mut seen = Seen::default();
        self.object(|s, key| match key {
            "Id" => set(&mut seen, 0, &mut it.id, s.flex()?),
            "Subject" => set(&mut seen, 1, &mut it.subject, s.flex()?),
            "InternetMessageId" => set(&mut seen, 2, &mut it.internet_message_id, s.flex()?),
            "SizeInBytes" => set(&mut seen, 3, &mut it.size, s.flex()?),
            "ParentFolder" => set(&mut seen, 4, &mut it.parent, s.optional(|s| s.ex_folder())?),
            _ => s.skip(),
        })?;
        Some(it)
    }

    fn app_access_context(&mut self) -> Option<AppAccessContext<'a>> {
        let mut c = AppAccessContext::default();
        let mut seen = Seen::default();
        self.object(|s, key| match key {
            "AADSessionId" => set(&mut seen, 0, &mut c.aad_session_id, s.flex()?),
            "UniqueTokenId" => set(&mut seen, 1, &mut c.unique_token_id, s.flex()?),
            _ => s.skip(),
        })?;
        Some(c)
    }

    fn audit_data(&mut self) -> Option<AuditData<'a>> {
        let mut ad = AuditData::default();
        let mut seen = Seen::default();
        self.object(|s, key| {
            let seen = &mut seen;
            match key {
                "CreationTime" => set(seen, 0, &mut ad.creation_time, s.flex()?),
                "Id" => set(seen, 1, &mut ad.id, s.flex()?),
                "Operation" => set(seen, 2, &mut ad.operation, s.flex()?),
                "RecordType" => set(seen, 3, &mut ad.record_type, s.flex()?),
                "ResultStatus" => set(seen, 4, &mut ad.result_status, s.flex()?),
                "Workload" => set(seen, 5, &mut ad.workload, s.flex()?),
                "UserId" => set(seen, 6, &mut ad.user_id, s.flex()?),
                "ClientIP" => set(seen, 7, &mut ad.client_ip, s.flex()?),
                "ClientIPAddress" => set(seen, 8, &mut ad.client_ip_address, s.flex()?),
                "ActorIpAddress" => set(seen, 9, &mut ad.actor_ip_address, s.flex()?),
                "ClientInfoString" => set(seen, 10, &mut ad.client_info, s.flex()?),
                "SessionId" => set(seen, 11, &mut ad.session_id, s.flex()?),
                "AppId" => set(seen, 12, &mut ad.app_id, s.flex()?),
                "ClientAppId" => set(seen, 13, &mut ad.client_app_id, s.flex()?),
                "LogonType" => set(seen, 14, &mut ad.logon_type, s.flex()?),
                "MailboxOwnerUPN" => set(seen, 15, &mut ad.mailbox_owner_upn, s.flex()?),
                "MailboxGuid" => set(seen, 16, &mut ad.mailbox_guid, s.flex()?),
                "LogonUserSid" => set(seen, 17, &mut ad.logon_user_sid, s.flex()?),
                "OperationCount" => set(seen, 18, &mut ad.operation_count, s.flex()?),
                "ObjectId" => set(seen, 19, &mut ad.object_id, s.flex()?),
                "SendAsUserSmtp" => set(seen, 20, &mut ad.send_as, s.flex()?),
                "SendOnBehalfOfUserSmtp" => set(seen, 21, &mut ad.send_on_behalf, s.flex()?),
                "OperationProperties" => {
                    set(seen, 22, &mut ad.operation_properties, s.name_values()?)
                }
                "Parameters" => set(seen, 23, &mut ad.parameters, s.name_values()?),
                "ExtendedProperties" => {
                    set(seen, 24, &mut ad.extended_properties, s.name_values()?)
                }
                "DeviceProperties" => set(seen, 25, &mut ad.device_properties, s.name_values()?),
                "Folders" => set(seen, 26, &mut ad.folders, s.list(|s| s.agg_folder())?),
                "Folder" => set(seen, 27, &mut ad.folder, s.optional(|s| s.ex_folder())?),
                "DestFolder" => set(
                    seen,
                    28,
                    &mut ad.dest_folder,
                    s.optional(|s| s.ex_folder())?,
                ),
                "Item" => set(seen, 29, &mut ad.item, s.optional(|s| s.ex_item())?),
                "AffectedItems" => set(seen, 30, &mut ad.affected_items, s.list(|s| s.ex_item())?),
                "AppAccessContext" => set(
                    seen,
                    31,
                    &mut ad.app_access_context,
                    s.optional(|s| s.app_access_context())?,
                ),
                "Identity" => set(seen, 32, &mut ad.identity, s.flex()?),
                "CreationDate" => set(seen, 33, &mut ad.creation_date, s.flex()?),
                "UserAgent" => set(seen, 34, &mut ad.user_agent, s.flex()?),
                "QueryText" => set(seen, 35, &mut ad.query_text, s.flex()?),
                "Query" => set(seen, 36, &mut ad.query, s.flex()?),
                "Case" => set(seen, 37, &mut ad.case, s.flex()?),
                "Object1Name" => set(seen, 38, &mut ad.object1_name, s.flex()?),
                "ExchangeLocations" => set(seen, 39, &mut ad.exchange_locations, s.raw_json()?),
                "DataSources" => set(seen, 40, &mut ad.data_sources, s.raw_json()?),
                "ModifiedProperties" => set(seen, 41, &mut ad.modified_properties, s.raw_json()?),
                "Target" => set(seen, 42, &mut ad.target, s.raw_json()?),
                // A collector's wrapper: the serde reader unwraps it.
                "AuditData" => None,
                // AttachmentAccess's messages: rare, read by serde.
                "Messages" => None,
                _ => s.skip(),
            }
        })?;
        Some(ad)
    }
}

/// Which known fields an object has had (serde refuses a duplicate one).
#[derive(Default)]
struct Seen(u64);

/// Store a known field's value, once.
#[inline]
fn set<T>(seen: &mut Seen, bit: u32, slot: &mut T, value: T) -> Option<()> {
    if seen.0 & (1 << bit) != 0 {
        return None;
    }
    seen.0 |= 1 << bit;
    *slot = value;
    Some(())
}

#[cfg(test)]
mod tests {
    use super::super::{Parsed, convert, parse_with_serde};
    use super::read;
    use proptest::prelude::*;

    /// The in-place reader, plain and CSV-doubled, either leaves a text to serde or reads it
    /// exactly as serde does.
    fn agree(json: &str) -> bool {
        let serde = parse_with_serde(json);
        let same = |fast: Parsed| {
            let serde = serde.as_ref().expect("serde reads what the scanner reads");
            assert_eq!(fast.record, serde.record, "{json}");
            assert_eq!(fast.has_time, serde.has_time, "{json}");
            assert_eq!(fast.wrapper_date, serde.wrapper_date, "{json}");
        };
        let plain = read::<1>(json).map(|ad| convert(&ad));
        let doubled_text = json.replace('"', "\"\"");
        let doubled = read::<2>(&doubled_text).map(|ad| convert(&ad));
        assert_eq!(plain.is_some(), doubled.is_some(), "{json}");
        let read = plain.is_some();
        plain.into_iter().chain(doubled).for_each(same);
        read
    }

    #[test]
    fn common_records_are_read_in_place() {
        for json in [
            r#"{"CreationTime":"2020-04-07T23:47:30","Id":"f5493f9a","Operation":"MailItemsAccessed","RecordType":50,
              "UserId":"Tony@sample.com","ClientIPAddress":"[2001:bb6::1]:443","LogonType":0,"ExtraObj":{"a":[1,2.5e-3,{"b":null}],"c":true},
              "MailboxGuid":"0370F354","MailboxOwnerUPN":"Tony@Sample.com",
              "OperationProperties":[{"Name":"MailAccessType","Value":"Bind"},{"Name":"IsThrottled","Value":"False"}],
              "SessionId":"s1","Folders":[{"FolderItems":[{"InternetMessageId":"<A@B>","SizeInBytes":123},{"InternetMessageId":"c@d"}],"Id":"Lg","Path":"\\Inbox"}],
              "OperationCount":2}"#,
            r#" { "Id" : "x" , "Operation" : "Send" , "Item" : { "Subject" : "caf\u00e9 \"quoted\"" , "ParentFolder" : null } } "#,
            r#"{"Id":"x","Operation":"New-InboxRule","Parameters":[{"Name":"Identity","Value":"bob@x.com"},{"Name":"From","Value":"a\/b"}],"AppAccessContext":{"AADSessionId":"s","UniqueTokenId":"t"}}"#,
            r#"{"Id":"x","Operation":"MoveToDeletedItems","AffectedItems":[{"Id":"i","ParentFolder":{"Path":"\\Inbox","Id":"f"}}],"DestFolder":{"Path":"\\Deleted"},"Folder":{"Path":"\\Inbox"}}"#,
            r#"{"Id":"x","LogonType":true,"UserId":{"nested":[[],{}]},"Operation":null,"DeviceProperties":[{"Name":"SessionId","Value":"d1"}],"ExtendedProperties":[]}"#,
            // Exposure fields kept as JSON text: a consent, an eDiscovery export, a search text.
            r#"{"Id":"c","Operation":"Consent to application.","ModifiedProperties":[{"Name":"ConsentAction.Permissions","NewValue":"[] => [[ConsentType: Principal, Scope: Mail.Read \"x\", ]]","OldValue":""}],"Target":[{"ID":"Mail Helper","Type":1},{"ID":"7e3a9c2d-1b4f-4e8a-9c6d-5f2e1a0b3c4d","Type":4}]}"#,
            r#"{"Id":"e","Operation":"SearchExported","ObjectId":"Q3_Export","Query":"subject:\"pay\"","ExchangeLocations":["a@x.com",null,"b@x.com"],"DataSources":null}"#,
            r#"{"Id":"q","Operation":"SearchQueryInitiatedExchange","QueryText":"wire \"now\"","MailboxOwnerUPN":"a@x.com"}"#,
        ] {
            assert!(agree(json), "{json}");
        }
    }

    #[test]
    fn what_serde_must_decide_is_left_to_it() {
        for json in [
            r#"{"Id":"x","Id":"y"}"#,
            r#"{"Id":"x","OperationCount":1.0}"#,
            r#"{"Id":"x","OperationCount":-1}"#,
            r#"{"Id":"x","OperationCount":12345678901234567890}"#,
            r#"{"Id":"x","Folder":["id","path"]}"#,
            r#"{"Id":"x","OperationProperties":[["MailAccessType","Bind"]]}"#,
            r#"{"\u0049d":"x"}"#,
            r#"{"Identity":"a","AuditData":"{\"Id\":\"b\"}"}"#,
            r#"{"Id":"\ud800"}"#,
            r#"{"Id":"x",}"#,
            r#"{"Id":"x"} trailing"#,
            "{\"Id\":\"x\ny\"}",
            r#"{"Id":01}"#,
            r#"["x"]"#,
            "",
        ] {
            assert!(!agree(json), "{json}");
        }
        let deep = format!(
            "{{\"Id\":\"x\",\"Z\":{}{}}}",
            "[".repeat(100),
            "]".repeat(100)
        );
        assert!(!agree(&deep));
    }

    const KEYS: &[&str] = &[
        "ModifiedProperties",
        "Target",
        "ExchangeLocations",
        "QueryText",
        "CreationTime",
        "Id",
        "Operation",
        "RecordType",
        "UserId",
        "ClientIP",
        "ClientIPAddress",
        "LogonType",
        "MailboxOwnerUPN",
        "MailboxGuid",
        "OperationCount",
        "ObjectId",
        "SessionId",
        "OperationProperties",
        "Parameters",
        "DeviceProperties",
        "Folders",
        "Folder",
        "Item",
        "AffectedItems",
        "AppAccessContext",
        "AADSessionId",
        "Name",
        "Value",
        "Path",
        "FolderItems",
        "InternetMessageId",
        "Subject",
        "SizeInBytes",
        "ParentFolder",
        "Identity",
        "CreationDate",
        "AuditData",
        "UserAgent",
        "MemberUpn",
        "MemberRights",
        "Messages",
        "MessageItems",
        "Other",
    ];

    fn json_value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("\"2024-03-01T10:00:00\"".to_string()),
            Just("\"Alice@Contoso.com\"".to_string()),
            Just("\"<Msg1@Host>\"".to_string()),
            Just("\"\\\\Inbox\"".to_string()),
            Just("\"MailAccessType\"".to_string()),
            Just("\"Bind\"".to_string()),
            Just("\"IsThrottled\"".to_string()),
            Just("\"New-InboxRule\"".to_string()),
            Just("\"a\\\"b\\u00e9\\n\"".to_string()),
            Just("\"t\\tx\\/y\\\\z\\b\\f\\r\\\\users\"".to_string()),
            Just("\" padded \"".to_string()),
            Just("\"\"".to_string()),
            Just("0".to_string()),
            Just("17".to_string()),
            Just("-4".to_string()),
            Just("2.5".to_string()),
            Just("true".to_string()),
            Just("false".to_string()),
            Just("null".to_string()),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                proptest::collection::vec((proptest::sample::select(KEYS), inner), 0..6).prop_map(
                    |members| {
                        let m: Vec<String> = members
                            .iter()
                            .map(|(k, v)| format!("\"{k}\": {v}"))
                            .collect();
                        format!("{{{}}}", m.join(", "))
                    }
                ),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn any_record_reads_as_serde_reads_it(
            members in proptest::collection::vec((proptest::sample::select(KEYS), json_value()), 0..10),
            cut in any::<proptest::sample::Index>(),
            insert in proptest::option::of(proptest::sample::select(vec!["\"", ",", "}", "]", "\\", " ", "1", "{", "\n"])),
        ) {
            let m: Vec<String> = members.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            let mut json = format!("{{{}}}", m.join(","));
            // Sometimes damage it: one more character somewhere.
            if let Some(c) = insert {
                let mut at = cut.index(json.len() + 1);
                while !json.is_char_boundary(at) { at -= 1; }
                json.insert_str(at, c);
            }
            agree(&json);
        }
    }
}
