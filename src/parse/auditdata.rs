//! AuditData JSON (the UAL / Management Activity API record shape) → `Record`.
//! The in-place scanner (`scan`) reads the common record; serde reads what it leaves, with the
//! same fields borrowed. Everything not named here is skipped.

use super::flex::Flex;
use super::lenient;
use super::mailbox::{
    derive_mailbox, forward_to, logon_type_name, summarize_params, summarize_rule_actions,
};
use crate::ip;
use crate::model::{Item, Record, flag, lowercased, normalized_message_id, time_source};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

mod scan;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct NameValue<'a> {
    #[serde(rename = "Name", borrow)]
    pub name: Flex<'a>,
    #[serde(rename = "Value", borrow)]
    pub value: Flex<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FolderItem<'a> {
    #[serde(rename = "InternetMessageId", borrow)]
    internet_message_id: Flex<'a>,
    #[serde(rename = "Id", borrow)]
    id: Flex<'a>,
    #[serde(rename = "Subject", borrow)]
    subject: Flex<'a>,
    #[serde(rename = "SizeInBytes", borrow)]
    size: Flex<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AggFolder<'a> {
    #[serde(rename = "Id", borrow)]
    id: Flex<'a>,
    #[serde(rename = "Path", borrow)]
    path: Flex<'a>,
    #[serde(rename = "FolderItems", borrow, deserialize_with = "lenient::list")]
    items: Option<Vec<FolderItem<'a>>>,
}

/// `Messages[]` of an `AttachmentAccess` record (ExchangeAggregatedMessage): the messages whose
/// attachments were read, by item id.
#[derive(Deserialize, Default)]
#[serde(default)]
struct AggMessage<'a> {
    #[serde(rename = "Path", borrow)]
    path: Flex<'a>,
    #[serde(rename = "MessageItems", borrow, deserialize_with = "lenient::list")]
    items: Option<Vec<FolderItem<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ExFolder<'a> {
    #[serde(rename = "Id", borrow)]
    id: Flex<'a>,
    #[serde(rename = "Path", borrow)]
    path: Flex<'a>,
    /// Folder permission changes: who was given rights, and which.
    #[serde(rename = "MemberUpn", borrow)]
    member_upn: Flex<'a>,
    #[serde(rename = "MemberRights", borrow)]
    member_rights: Flex<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ExItem<'a> {
    #[serde(rename = "Id", borrow)]
    id: Flex<'a>,
    #[serde(rename = "Subject", borrow)]
    subject: Flex<'a>,
    #[serde(rename = "InternetMessageId", borrow)]
    internet_message_id: Flex<'a>,
    #[serde(rename = "SizeInBytes", borrow)]
    size: Flex<'a>,
    #[serde(rename = "ParentFolder", borrow, deserialize_with = "lenient::object")]
    parent: Option<ExFolder<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AppAccessContext<'a> {
    #[serde(rename = "AADSessionId", borrow)]
    aad_session_id: Flex<'a>,
    #[serde(rename = "UniqueTokenId", borrow)]
    unique_token_id: Flex<'a>,
}

/// The fields of an AuditData object that mailscope uses.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct AuditData<'a> {
    #[serde(rename = "CreationTime", borrow)]
    creation_time: Flex<'a>,
    #[serde(rename = "Id", borrow)]
    id: Flex<'a>,
    #[serde(rename = "Operation", borrow)]
    operation: Flex<'a>,
    #[serde(rename = "RecordType", borrow)]
    record_type: Flex<'a>,
    #[serde(rename = "ResultStatus", borrow)]
    result_status: Flex<'a>,
    #[serde(rename = "Workload", borrow)]
    workload: Flex<'a>,
    #[serde(rename = "UserId", borrow)]
    user_id: Flex<'a>,
    #[serde(rename = "ClientIP", borrow)]
    client_ip: Flex<'a>,
    #[serde(rename = "ClientIPAddress", borrow)]
    client_ip_address: Flex<'a>,
    #[serde(rename = "ActorIpAddress", borrow)]
    actor_ip_address: Flex<'a>,
    #[serde(rename = "ClientInfoString", borrow)]
    client_info: Flex<'a>,
    #[serde(rename = "SessionId", borrow)]
    session_id: Flex<'a>,
    #[serde(rename = "AppId", borrow)]
    app_id: Flex<'a>,
    #[serde(rename = "ClientAppId", borrow)]
    client_app_id: Flex<'a>,
    #[serde(rename = "LogonType", borrow)]
    logon_type: Flex<'a>,
    #[serde(rename = "MailboxOwnerUPN", borrow)]
    mailbox_owner_upn: Flex<'a>,
    #[serde(rename = "MailboxGuid", borrow)]
    mailbox_guid: Flex<'a>,
    #[serde(rename = "LogonUserSid", borrow)]
    logon_user_sid: Flex<'a>,
    #[serde(rename = "OperationCount", borrow)]
    operation_count: Flex<'a>,
    #[serde(rename = "ObjectId", borrow)]
    object_id: Flex<'a>,
    #[serde(rename = "SendAsUserSmtp", borrow)]
    send_as: Flex<'a>,
    #[serde(rename = "SendOnBehalfOfUserSmtp", borrow)]
    send_on_behalf: Flex<'a>,
    #[serde(
        rename = "OperationProperties",
        borrow,
        deserialize_with = "lenient::properties"
    )]
    operation_properties: Option<Vec<NameValue<'a>>>,
    #[serde(rename = "Parameters", borrow, deserialize_with = "lenient::list")]
    parameters: Option<Vec<NameValue<'a>>>,
    #[serde(
        rename = "ExtendedProperties",
        borrow,
        deserialize_with = "lenient::list"
    )]
    extended_properties: Option<Vec<NameValue<'a>>>,
    #[serde(
        rename = "DeviceProperties",
        borrow,
        deserialize_with = "lenient::list"
    )]
    device_properties: Option<Vec<NameValue<'a>>>,
    #[serde(rename = "Folders", borrow, deserialize_with = "lenient::folders")]
    folders: Option<Vec<AggFolder<'a>>>,
    #[serde(rename = "Messages", borrow, deserialize_with = "lenient::list")]
    messages: Option<Vec<AggMessage<'a>>>,
    #[serde(rename = "Folder", borrow, deserialize_with = "lenient::object")]
    folder: Option<ExFolder<'a>>,
    #[serde(rename = "DestFolder", borrow, deserialize_with = "lenient::object")]
    dest_folder: Option<ExFolder<'a>>,
    #[serde(rename = "Item", borrow, deserialize_with = "lenient::object")]
    item: Option<ExItem<'a>>,
    #[serde(rename = "AffectedItems", borrow, deserialize_with = "lenient::list")]
    affected_items: Option<Vec<ExItem<'a>>>,
    #[serde(
        rename = "AppAccessContext",
        borrow,
        deserialize_with = "lenient::object"
    )]
    app_access_context: Option<AppAccessContext<'a>>,
    /// Collectors sometimes wrap the record: `{"Identity": …, "AuditData": {…} or "…"}`.
    #[serde(rename = "AuditData", borrow)]
    wrapped: Option<&'a RawValue>,
    #[serde(rename = "Identity", borrow)]
    identity: Flex<'a>,
    /// The client of non-Exchange records (SharePoint, Entra ID) that have no ClientInfoString.
    #[serde(rename = "UserAgent", borrow)]
    user_agent: Flex<'a>,
    #[serde(rename = "CreationDate", borrow)]
    creation_date: Flex<'a>,
    /// Search text (`SearchQueryInitiated…`, unified eDiscovery).
    #[serde(rename = "QueryText", borrow)]
    query_text: Flex<'a>,
    /// An eDiscovery activity's search query.
    #[serde(rename = "Query", borrow)]
    query: Flex<'a>,
    #[serde(rename = "Case", borrow)]
    case: Flex<'a>,
    #[serde(rename = "Object1Name", borrow)]
    object1_name: Flex<'a>,
    #[serde(rename = "ExchangeLocations")]
    exchange_locations: RawJson<'a>,
    #[serde(rename = "DataSources")]
    data_sources: RawJson<'a>,
    #[serde(rename = "ModifiedProperties")]
    modified_properties: RawJson<'a>,
    #[serde(rename = "Target")]
    target: RawJson<'a>,
}

/// A field kept as its JSON text, read only by the records that need it (`parse::exposure`):
/// whatever its shape, it never makes a record unreadable or damaged.
#[derive(Default)]
pub(crate) struct RawJson<'a>(Option<Cow<'a, str>>);

impl<'de, 'a> Deserialize<'de> for RawJson<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Ok(RawJson((!v.is_null()).then(|| Cow::Owned(v.to_string()))))
    }
}

impl<'a> RawJson<'a> {
    fn get(&self) -> Option<&str> {
        self.0.as_deref()
    }

    fn borrowed(text: Option<&'a str>) -> RawJson<'a> {
        RawJson(text.map(Cow::Borrowed))
    }

    fn owned(text: String) -> RawJson<'a> {
        RawJson(Some(Cow::Owned(text)))
    }
}

/// A record from AuditData with the values the caller may need to fill in from other columns.
pub struct Parsed<'a> {
    pub record: Record<'a>,
    /// `false` when AuditData had no usable CreationTime: the caller falls back to its columns.
    pub has_time: bool,
    /// A `CreationDate` found in a collector's wrapper object, for the caller's fallback.
    pub wrapper_date: Option<String>,
    /// `CreationTime` when it is there but is no time (Feb 30, 23:59:60, text), for the reason.
    pub unreadable_time: Option<String>,
}

/// Why a record has no time of its own (`Parsed::unreadable_time`).
pub fn no_time_reason(unreadable_time: &Option<String>) -> String {
    match unreadable_time {
        Some(t) => format!("unreadable CreationTime '{t}'"),
        None => "object has no CreationTime".into(),
    }
}

impl Parsed<'_> {
    pub fn into_owned(self) -> Parsed<'static> {
        Parsed {
            record: self.record.into_owned(),
            has_time: self.has_time,
            wrapper_date: self.wrapper_date,
            unreadable_time: self.unreadable_time,
        }
    }
}

fn find<'b, 'a>(list: &'b Option<Vec<NameValue<'a>>>, name: &str) -> Option<&'b NameValue<'a>> {
    list.as_ref()?
        .iter()
        .find(|nv| nv.name.get().is_some_and(|n| n.eq_ignore_ascii_case(name)))
}

/// The trimmed value of the first `Name`/`Value` pair called `name`.
fn value_of<'b>(list: &'b Option<Vec<NameValue>>, name: &str) -> Option<&'b str> {
    find(list, name).and_then(|nv| nv.value.get())
}

/// `value_of`, borrowed from the input where the value was.
fn value_cow<'a>(list: &Option<Vec<NameValue<'a>>>, name: &str) -> Option<Cow<'a, str>> {
    find(list, name).and_then(|nv| nv.value.cow())
}

/// A count: a whole, non-negative number that a double holds exactly (`2`, `"2"`, `2.0`).
fn count_of(text: &str) -> Option<i64> {
    let f = text.trim().parse::<f64>().ok()?;
    (f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f <= (1u64 << 53) as f64).then_some(f as i64)
}

fn size_of(f: &Flex) -> Option<i64> {
    f.get()
        .and_then(|s| s.parse::<f64>().ok())
        .map(|f| f as i64)
}

/// Parse one AuditData JSON text. Errors are the JSON parser's message (with column).
pub fn parse(json: &str) -> Result<Parsed<'_>, String> {
    match scan::read::<1>(json) {
        Some(ad) => Ok(convert(&ad)),
        None => parse_with_serde(json),
    }
}

/// `parse` of AuditData as it lies inside a quoted CSV field, every quote doubled, read in place.
pub fn parse_doubled(field: &str) -> Result<Parsed<'_>, String> {
    match scan::read::<2>(field) {
        Some(ad) => Ok(convert(&ad)),
        // The scanner has read this text already (doubled quotes are no obstacle to it).
        None => parse_with_serde(&field.replace("\"\"", "\"")).map(Parsed::into_owned),
    }
}

/// Collectors wrap a record in an envelope (`{"Identity": …, "AuditData": …}`) once, sometimes
/// twice; deeper nesting is not a record (and unwrapping it must not cost the stack).
pub const MAX_ENVELOPES: usize = 8;

/// An envelope's own fields, and the text of what it wraps (JSON, or a JSON string of JSON).
struct Envelope {
    identity: Option<String>,
    creation_date: Option<String>,
    inner: String,
}

impl Envelope {
    /// `ad` as an envelope: it has no record fields of its own but wraps an AuditData.
    fn of(ad: &AuditData) -> Option<Envelope> {
        if ad.id.get().is_some() || ad.operation.get().is_some() {
            return None;
        }
        let inner = ad.wrapped?;
        Some(Envelope {
            identity: ad.identity.owned(),
            creation_date: ad.creation_date.owned(),
            inner: serde_json::from_str::<String>(inner.get())
                .unwrap_or_else(|_| inner.get().to_string()),
        })
    }
}

/// The reader of last resort: serde decides every record the in-place reader leaves to it.
/// Envelopes are unwrapped in a loop, at most `MAX_ENVELOPES` deep.
/// Strings with an invalid escape or a lone surrogate (attacker-controlled user agents,
/// subjects, folder names) are repaired with U+FFFD rather than losing the record.
fn parse_with_serde(json: &str) -> Result<Parsed<'_>, String> {
    lenient::take_damage();
    match read_with_serde(json) {
        Ok(ad) => unwrap_and_convert(ad),
        Err(error) => {
            let Some(repaired) = repair_strings(json) else {
                return Err(error);
            };
            let ad = read_with_serde(&repaired).map_err(|_| error)?;
            let mut p = unwrap_and_convert(ad)?.into_owned();
            p.record.flags |= flag::REPAIRED_STRINGS;
            Ok(p)
        }
    }
}

/// `text` with each invalid escape and lone surrogate escape inside strings replaced by
/// `\uFFFD` (the character after an invalid backslash is kept), and each raw control character
/// escaped; `None` when there is none.
pub(crate) fn repair_strings(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let hex4 = |at: usize| -> Option<u32> {
        let h = std::str::from_utf8(b.get(at..at + 4)?).ok()?;
        u32::from_str_radix(h, 16).ok()
    };
    let mut out = String::with_capacity(text.len());
    let (mut from, mut i, mut in_string, mut changed) = (0, 0, false, false);
    while i < b.len() {
        match b[i] {
            b'"' => in_string = !in_string,
            b'\\' if in_string => {
                let (valid, len) = match b.get(i + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => (true, 2),
                    Some(b'u') => match hex4(i + 2) {
                        Some(0xD800..=0xDBFF) => {
                            let low = (b.get(i + 6..i + 8) == Some(b"\\u"))
                                .then(|| hex4(i + 8))
                                .flatten();
                            match low {
                                Some(0xDC00..=0xDFFF) => (true, 12),
                                _ => (false, 6),
                            }
                        }
                        Some(0xDC00..=0xDFFF) => (false, 6),
                        Some(_) => (true, 6),
                        None => (false, 1),
                    },
                    _ => (false, 1),
                };
                if !valid {
                    out.push_str(&text[from..i]);
                    out.push_str("\\uFFFD");
                    changed = true;
                    from = i + len;
                }
                i += len;
                continue;
            }
            // A raw control character (a NUL left by an exporter): escaped, value kept.
            c if in_string && c < 0x20 => {
                out.push_str(&text[from..i]);
                out.push_str(&format!("\\u{c:04x}"));
                changed = true;
                from = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push_str(&text[from..]);
    changed.then_some(out)
}

/// A record read by serde, unwrapped from collector envelopes, converted, with the damage the
/// lenient readers recorded applied.
fn unwrap_and_convert(ad: AuditData<'_>) -> Result<Parsed<'_>, String> {
    let mut p = unwrap_envelopes(ad)?;
    apply_damage(&mut p.record, lenient::take_damage());
    Ok(p)
}

/// What a lost field means for scope: unknown is never narrower than what it could have been.
pub(crate) fn apply_damage(r: &mut Record, mut damage: u8) {
    // Folders whose items were lost but whose paths are known are not lost folders.
    if r.items.iter().any(|i| i.folder_path.is_some()) {
        damage &= !flag::FOLDERS_LOST;
    }
    r.flags |= damage;
    if !crate::model::is_mail_items_accessed(&r.operation) {
        return;
    }
    if damage & flag::PROPERTIES_LOST != 0 && r.mail_access_type.is_none() {
        // Whether it was a Sync and whether it was throttled are both unknown: the widest.
        r.mail_access_type = Some(Cow::Borrowed(flag::ACCESS_TYPE_LOST));
        r.is_throttled = true;
    }
    if damage & flag::FOLDERS_LOST != 0 && r.items.iter().all(|i| i.folder_path.is_none()) {
        r.items.push(Item {
            folder_path: Some(Cow::Borrowed(flag::FOLDER_LOST)),
            ..Item::default()
        });
    }
}

fn unwrap_envelopes(ad: AuditData<'_>) -> Result<Parsed<'_>, String> {
    let Some(outer) = Envelope::of(&ad) else {
        return Ok(convert(&ad));
    };
    // The record takes the outermost envelope's date and the innermost identity given.
    let wrapper_date = outer.creation_date;
    let mut identity = outer.identity;
    let mut text = outer.inner;
    for _ in 0..MAX_ENVELOPES {
        let inner = match scan::read::<1>(&text) {
            Some(ad) => ad,
            None => read_with_serde(&text)?,
        };
        let Some(next) = Envelope::of(&inner) else {
            let mut p = convert(&inner).into_owned();
            if p.record.record_id.is_empty() {
                p.record.record_id = Cow::Owned(identity.unwrap_or_default());
            }
            p.wrapper_date = wrapper_date;
            return Ok(p);
        };
        identity = next.identity.or(identity);
        text = next.inner;
    }
    Err(format!(
        "more than {MAX_ENVELOPES} nested AuditData envelopes: not read as a record"
    ))
}

fn read_with_serde(text: &str) -> Result<AuditData<'_>, String> {
    serde_json::from_str(text).map_err(|e| match e.classify() {
        // Valid JSON that still does not fit is never called invalid JSON.
        serde_json::error::Category::Data => {
            format!("AuditData has a field of an unexpected shape: {e}")
        }
        _ => format!("AuditData is not valid JSON: {e}"),
    })
}

fn convert<'a>(ad: &AuditData<'a>) -> Parsed<'a> {
    let mut r = Record::default();
    let time = ad.creation_time.get().and_then(crate::time::parse_iso);
    if let Some(t) = time {
        r.time = t;
        r.time_source = time_source::AUDITDATA_CREATION_TIME;
    }
    r.record_id = ad.id.cow().unwrap_or_default();
    r.operation = ad.operation.cow().unwrap_or_default();
    r.record_type = ad.record_type.cow();
    r.result_status = ad.result_status.cow();
    r.workload = ad.workload.cow();
    r.actor = ad.user_id.cow();
    r.actor_sid = ad.logon_user_sid.cow();
    // Mailbox records: ClientIPAddress first, then ClientIP, then ActorIpAddress (the rules' order).
    // A name where an address was expected falls back to the next field that is an address.
    r.set_client(ip::pick(
        [&ad.client_ip_address, &ad.client_ip, &ad.actor_ip_address]
            .into_iter()
            .filter_map(Flex::cow),
    ));
    r.client_info = ad.client_info.cow().or_else(|| ad.user_agent.cow());
    r.session_id = ad
        .session_id
        .cow()
        .or_else(|| value_cow(&ad.device_properties, "SessionId"));
    if let Some(aac) = &ad.app_access_context {
        r.aad_session_id = aac.aad_session_id.cow();
        r.token_id = aac.unique_token_id.cow();
    }
    r.app_id = ad.app_id.cow();
    r.client_app_id = ad.client_app_id.cow();
    r.logon_type = ad.logon_type.get().map(logon_type_name).map(Cow::Owned);
    r.mailbox_guid = ad.mailbox_guid.cow().map(|g| match g {
        Cow::Borrowed(s) if !s.bytes().any(|b| b.is_ascii_uppercase()) => Cow::Borrowed(s),
        g => Cow::Owned(g.to_ascii_lowercase()),
    });
    r.mail_access_type = value_cow(&ad.operation_properties, "MailAccessType")
        .or_else(|| value_cow(&ad.operation_properties, "AttachmentAccessType"));
    r.is_throttled = value_of(&ad.operation_properties, "IsThrottled")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if let Some(text) = ad.operation_count.get() {
        r.operation_count = count_of(text);
        if r.operation_count.is_none() {
            r.flags |= flag::UNREADABLE_COUNT;
        }
    }
    r.folder_path = ad.folder.as_ref().and_then(|f| f.path.cow());

    let params: Vec<(String, String)> = ad
        .parameters
        .iter()
        .flatten()
        .filter_map(|nv| Some((nv.name.owned()?, nv.value.owned().unwrap_or_default())))
        .collect();
    // The owner's UPN, the rules' first choice, is borrowed; the other rules build a name.
    r.mailbox = match ad.mailbox_owner_upn.cow() {
        Some(upn) => Some(lowercased(upn)),
        None => derive_mailbox(
            None,
            r.mailbox_guid.as_deref(),
            None,
            &r.operation,
            &params,
            ad.object_id.get(),
            r.actor.as_deref(),
        )
        .map(Cow::Owned),
    };
    r.detail = detail(ad, &params).map(Cow::Owned);
    r.forward_to = forward_to(&params, rule_actions(ad)).map(Cow::Owned);
    r.forwarding = crate::parse::forwarding::forwarding_change(&r.operation, &params, |name| {
        value_of(&ad.operation_properties, name)
    })
    .map(|c| Cow::Owned(crate::parse::forwarding::to_column(&c)));
    let parent = ad.item.as_ref().and_then(|i| i.parent.as_ref());
    let member = parent
        .and_then(|f| f.member_upn.get().map(|m| (m, f.member_rights.get())))
        .or_else(|| {
            let f = ad.folder.as_ref()?;
            Some((f.member_upn.get()?, f.member_rights.get()))
        });
    r.exposure = crate::parse::exposure::exposure(&crate::parse::exposure::Fields {
        operation: &r.operation,
        params: &params,
        object_id: ad.object_id.get(),
        mailbox: r.mailbox.as_deref(),
        query_text: ad.query_text.get(),
        query: ad.query.get(),
        case: ad.case.get(),
        object_name: ad.object1_name.get(),
        exchange_locations: ad.exchange_locations.get(),
        data_sources: ad.data_sources.get(),
        modified_properties: ad.modified_properties.get(),
        target: ad.target.get(),
        member,
        folder: parent
            .and_then(|f| f.path.get())
            .or_else(|| ad.folder.as_ref().and_then(|f| f.path.get())),
        damaged: (r.flags | lenient::peek_damage()) & flag::CONTENT_LOST != 0,
        failed: r.result_status.as_deref().is_some_and(|s| {
            ["false", "failed", "failure"]
                .iter()
                .any(|f| s.trim().eq_ignore_ascii_case(f))
        }),
    })
    .map(|e| {
        // The search text is the action's detail (the report hides it with --no-search-text).
        if let crate::parse::exposure::Exposure::SearchText(t) = &e {
            if !t.text.is_empty() {
                let q = format!("QueryText={}", t.text);
                r.detail = Some(Cow::Owned(match r.detail.take() {
                    Some(d) => format!("{d}; {q}"),
                    None => q,
                }));
            }
        }
        Cow::Owned(crate::parse::exposure::to_column(&e))
    });

    // The items' count is known: one vector of the right size, not a few regrown ones.
    let item_count = ad
        .folders
        .iter()
        .flatten()
        .map(|f| f.items.as_ref().map_or(1, |i| i.len().max(1)))
        .sum::<usize>()
        + usize::from(ad.item.is_some())
        + ad.affected_items.as_ref().map_or(0, Vec::len);
    r.items.reserve_exact(item_count);
    for f in ad.folders.iter().flatten() {
        let path = f.path.cow();
        let fid = f.id.cow();
        let items = f.items.as_deref().unwrap_or(&[]);
        if items.is_empty() {
            r.items.push(Item {
                folder_path: path.clone(),
                folder_id: fid.clone(),
                ..Item::default()
            });
        }
        for it in items {
            let raw = it.internet_message_id.cow();
            r.items.push(Item {
                folder_path: path.clone(),
                folder_id: fid.clone(),
                internet_message_id: raw.as_ref().and_then(normalized_message_id),
                internet_message_id_raw: raw,
                subject: it.subject.cow(),
                item_id: it.id.cow(),
                size: size_of(&it.size),
            });
        }
    }
    for m in ad.messages.iter().flatten() {
        for it in m.items.iter().flatten() {
            let raw = it.internet_message_id.cow();
            r.items.push(Item {
                folder_path: m.path.cow(),
                internet_message_id: raw.as_ref().and_then(normalized_message_id),
                internet_message_id_raw: raw,
                subject: it.subject.cow(),
                item_id: it.id.cow(),
                size: size_of(&it.size),
                ..Item::default()
            });
        }
    }
    for it in ad.item.iter().chain(ad.affected_items.iter().flatten()) {
        let raw = it.internet_message_id.cow();
        let parent = it.parent.as_ref();
        r.items.push(Item {
            folder_path: parent
                .and_then(|p| p.path.cow())
                .or_else(|| r.folder_path.clone()),
            folder_id: parent.and_then(|p| p.id.cow()),
            internet_message_id: raw.as_ref().and_then(normalized_message_id),
            internet_message_id_raw: raw,
            subject: it.subject.cow(),
            item_id: it.id.cow(),
            size: size_of(&it.size),
        });
    }
    Parsed {
        record: r,
        has_time: time.is_some(),
        wrapper_date: None,
        unreadable_time: match (time, ad.creation_time.get()) {
            (None, Some(text)) => Some(text.chars().take(40).collect()),
            _ => None,
        },
    }
}

fn detail(ad: &AuditData, params: &[(String, String)]) -> Option<String> {
    let mut parts = Vec::new();
    if !params.is_empty() {
        parts.push(summarize_params(params));
    }
    if let Some(s) = ad.send_as.get() {
        parts.push(format!("SendAsUserSmtp={s}"));
    }
    if let Some(s) = ad.send_on_behalf.get() {
        parts.push(format!("SendOnBehalfOfUserSmtp={s}"));
    }
    if let Some(d) = ad.dest_folder.as_ref().and_then(|f| f.path.get()) {
        parts.push(format!("DestFolder={d}"));
    }
    // Delegation is how attackers come back: who was given which rights on which folder.
    if let Some(folder) = ad.item.as_ref().and_then(|i| i.parent.as_ref()) {
        for (name, value) in [
            ("MemberUpn", &folder.member_upn),
            ("MemberRights", &folder.member_rights),
        ] {
            if let Some(v) = value.get() {
                parts.push(format!("{name}={v}"));
            }
        }
    }
    if let Some(ua) = value_of(&ad.extended_properties, "UserAgent") {
        parts.push(format!("UserAgent={ua}"));
    }
    parts.extend(rule_detail(|name| value_of(&ad.operation_properties, name)));
    if parts.is_empty() {
        None
    } else {
        Some(parts.join("; "))
    }
}

/// An Outlook rule (`UpdateInboxRules`) from its `OperationProperties`: what it does, to whom,
/// on which mail, as detail parts (`RuleActions=Forward to x@y.example`). The names Microsoft
/// writes (`Rule…`), and the shorter ones a DFIR tool reads.
pub(crate) fn rule_detail<'p>(property: impl Fn(&str) -> Option<&'p str>) -> Vec<String> {
    let mut parts = Vec::new();
    for name in [
        "RuleOperation",
        "RuleName",
        "RuleState",
        "RuleActions",
        "RuleCondition",
        "Name",
        "Actions",
        "Conditions",
    ] {
        if let Some(v) = property(name) {
            let v = if name.ends_with("Actions") {
                summarize_rule_actions(v)
            } else {
                v.to_string()
            };
            parts.push(format!("{name}={v}"));
        }
    }
    parts
}

/// A rule's actions (`RuleActions`, or `Actions` as some tools name it).
fn rule_actions<'b>(ad: &'b AuditData) -> Option<&'b str> {
    value_of(&ad.operation_properties, "RuleActions")
        .or_else(|| value_of(&ad.operation_properties, "Actions"))
}

/// Items from a `Folders` JSON list on its own (Search-MailboxAuditLog's
/// `AggregatedRecordFoldersData` column carries the same shape as AuditData's `Folders`).
pub fn parse_folders(json: &str) -> Option<Vec<Item<'_>>> {
    let folders: Vec<AggFolder> = serde_json::from_str(json).ok()?;
    let ad = AuditData {
        folders: Some(folders),
        ..AuditData::default()
    };
    Some(convert(&ad).record.items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_record_with_folders() {
        let json = r#"{"CreationTime":"2020-04-07T23:47:30","Id":"f5493f9a","Operation":"MailItemsAccessed","RecordType":50,
          "UserId":"Tony@sample.com","ClientIPAddress":"2001:bb6:5f4f:f058:4163:e14a:1332:27c7","LogonType":0,
          "MailboxGuid":"0370F354","MailboxOwnerUPN":"Tony@Sample.com",
          "OperationProperties":[{"Name":"MailAccessType","Value":"Bind"},{"Name":"IsThrottled","Value":"False"}],
          "SessionId":"s1","Folders":[{"FolderItems":[{"InternetMessageId":"<A@B>"},{"InternetMessageId":"c@d"}],"Id":"Lg","Path":"\\Inbox"}],
          "OperationCount":2}"#;
        let p = parse(json).unwrap();
        let r = p.record;
        assert!(p.has_time);
        assert_eq!(r.mailbox.as_deref(), Some("tony@sample.com"));
        assert_eq!(r.logon_type.as_deref(), Some("Owner"));
        assert_eq!(r.mail_access_type.as_deref(), Some("Bind"));
        assert!(!r.is_throttled);
        assert_eq!(r.operation_count, Some(2));
        assert_eq!(r.items.len(), 2);
        assert_eq!(r.items[0].internet_message_id.as_deref(), Some("a@b"));
        assert_eq!(r.items[0].internet_message_id_raw.as_deref(), Some("<A@B>"));
        assert_eq!(r.items[0].folder_path.as_deref(), Some("\\Inbox"));
    }

    #[test]
    fn string_typed_numbers_and_wrapped_records() {
        let p = parse(r#"{"Id":"x","Operation":"HardDelete","LogonType":"2","RecordType":"3","CreationTime":"2022-06-26T05:40:02"}"#).unwrap();
        assert_eq!(p.record.logon_type.as_deref(), Some("Delegate"));
        assert_eq!(p.record.record_type.as_deref(), Some("3"));
        let p = parse(r#"{"Identity":"abc","CreationDate":"2024-01-01","AuditData":"{\"Id\":\"abc\",\"Operation\":\"Send\"}"}"#).unwrap();
        assert_eq!(p.record.operation, "Send");
        assert!(!p.has_time);
        assert_eq!(p.wrapper_date.as_deref(), Some("2024-01-01"));
    }

    #[test]
    fn truncated_json_is_an_error_with_position() {
        let e = parse(r#"{"Id":"x","Operation":"Mail"#).err().unwrap();
        assert!(e.contains("EOF"), "{e}");
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let deep = format!(
            "{{\"Id\":\"x\",\"Operation\":\"y\",\"Z\":{}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        // Skipped unknown values are walked without recursion; known ones hit serde_json's depth
        // limit. Either way: an answer, not a stack overflow.
        assert_eq!(parse(&deep).unwrap().record.operation, "y");
        let deep_known = format!(
            "{{\"Id\":\"x\",\"Folders\":{}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let _ = parse(&deep_known);
    }

    #[test]
    fn envelopes_unwrap_up_to_the_bound_and_keep_the_innermost_identity() {
        let wrap = |depth: usize| {
            let mut json = r#"{"CreationTime":"2024-03-12T02:14:07","Operation":"Send","UserId":"a@contoso.com"}"#.to_string();
            for level in 0..depth {
                let identity = if level == 1 { "" } else { "id-" };
                json = format!(
                    r#"{{"Identity":"{identity}{level}","CreationDate":"2024-03-1{level}","AuditData":{json}}}"#
                );
            }
            json
        };
        let deepest_read = wrap(MAX_ENVELOPES);
        let p = parse(&deepest_read).unwrap();
        assert_eq!(p.record.operation, "Send");
        assert_eq!(p.record.record_id, "id-0");
        assert_eq!(p.wrapper_date.as_deref(), Some("2024-03-17"));
        let too_deep = parse(&wrap(MAX_ENVELOPES + 1)).err().unwrap();
        assert!(
            too_deep.contains("nested AuditData envelopes"),
            "{too_deep}"
        );
    }
}
