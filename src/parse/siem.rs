//! AuditData as SIEMs, hunting tools and collectors re-shape it: Sentinel `OfficeActivity`
//! rows, Defender `CloudAppEvents` (`RawEventData`), Graph `auditLogRecord`s, Elastic `o365`
//! documents, Splunk results (`_raw`), and AuditData written one column per field. Each row is
//! turned back into the AuditData object it came from (canonical JSON, read by `auditdata`),
//! with its source shape, and the caller is told what the shape lost. Shapes are recognized by
//! their keys, never by file name. The field-by-field mapping and its sources:
//! `docs/formats-siem.md`.

use super::auditdata;
use super::{FileNote, Reject, RejectKind, RowOutcome};
use crate::model::{Format, flag, time_source};
use crate::warning::WarningCode;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// One source row turned back into AuditData, or what else it was.
#[derive(Debug)]
pub enum Reshaped {
    Record(Canonical),
    /// An event of another application (CloudAppEvents holds every cloud app's; a Splunk
    /// search can mix sourcetypes): not a Microsoft 365 audit record. Counted, not rejected.
    Other(String),
    Rejected(String),
    /// Not a row: what the export says about itself (a Graph audit query's completeness, a
    /// Splunk preview result).
    Meta(Meta),
}

#[derive(Debug)]
pub enum Meta {
    /// A Splunk `"preview": true` result: the final results repeat it.
    Preview,
    /// A note for the file (a query that hit its record limit or did not finish).
    Note(FileNote),
}

/// A record rebuilt as AuditData JSON, with the values its row carried outside the AuditData.
#[derive(Debug)]
pub struct Canonical {
    pub audit_data: Map<String, Value>,
    pub format: Format,
    /// The row's time column, for a record whose CreationTime is missing.
    pub time: Option<String>,
    /// The row's record id column, for a record whose Id is missing.
    pub id: Option<String>,
    /// `model::flag` bits: what the shape lost of this record.
    pub damage: u8,
    /// `model::flag` bits for how `time` was made, applied when the record's time is `time`.
    pub time_flags: u8,
    /// Where `time` came from (`model::time_source`), when the record's time is `time`.
    pub time_source: &'static str,
}

impl Canonical {
    fn new(audit_data: Map<String, Value>, format: Format) -> Canonical {
        Canonical {
            audit_data,
            format,
            time: None,
            id: None,
            damage: 0,
            time_flags: 0,
            time_source: time_source::SOURCE_TIME,
        }
    }
}

/// The record a `Reshaped::Record` reads as, through the AuditData reader every export uses.
pub fn into_outcome(c: Canonical, line: u64) -> RowOutcome<'static> {
    let json = Value::Object(c.audit_data).to_string();
    let parsed = match auditdata::parse(&json) {
        Ok(p) => p.into_owned(),
        Err(reason) => return RowOutcome::Rejected(Reject::new(line, RejectKind::BadJson, reason)),
    };
    let mut r = parsed.record;
    auditdata::apply_damage(&mut r, c.damage);
    r.line = line;
    r.format = Some(c.format);
    if r.record_id.is_empty() {
        r.record_id = match c.id {
            Some(id) => id.into(),
            None => super::derived_id(c.format.as_str(), &json).into(),
        };
    }
    if parsed.has_time {
        return RowOutcome::Ok(r);
    }
    let (source, time_flags) = match c.time {
        Some(_) => (c.time_source, c.time_flags),
        None => (time_source::SOURCE_TIME, 0),
    };
    let Some(text) = c.time.or(parsed.wrapper_date) else {
        return RowOutcome::Rejected(Reject::new(
            line,
            RejectKind::BadTime,
            format!(
                "no time: {} and the row has no time column",
                auditdata::no_time_reason(&parsed.unreadable_time)
            ),
        ));
    };
    match source_time(&text) {
        Some(t) => {
            r.time = t;
            r.time_source = source;
            r.flags |= time_flags;
            RowOutcome::Ok(r)
        }
        None => RowOutcome::NeedsDate(r, text.trim().replacen(", ", " ", 1)),
    }
}

/// A row's time column read as UTC: ISO 8601, or the Log Analytics portal's display form
/// `4/28/2021, 2:54:37.000 PM` (en-US, month first: the comma and the AM/PM say which form it
/// is). `None` for other culture forms, which wait for the file's date rule.
fn source_time(text: &str) -> Option<crate::model::Micros> {
    let portal_display =
        text.contains(", ") && (text.trim_end().ends_with("AM") || text.trim_end().ends_with("PM"));
    let text = text.trim().replacen(", ", " ", 1);
    crate::time::parse_iso(&text).or_else(|| {
        portal_display
            .then(|| crate::time::parse_culture(&text, crate::time::DateOrder::Mdy))
            .flatten()
    })
}

/// A time of day alone (`12:36 PM`, `14:05:09.120`), as microseconds after midnight: what a
/// spreadsheet shows of a timestamp cell formatted as a time, and saves as such.
fn time_of_day(text: &str) -> Option<crate::model::Micros> {
    let t = text.trim();
    if !t.contains(':') || t.contains(['/', '-', ',', 'T']) {
        return None;
    }
    let midnight = crate::time::parse_culture("2000-01-01", crate::time::DateOrder::Mdy)?;
    let at = crate::time::parse_culture(&format!("2000-01-01 {t}"), crate::time::DateOrder::Mdy)?;
    Some(at - midnight)
}

/// A reshaped row as the outcome of a row at `line`: skipped rows carry their reason.
pub fn row_outcome(reshaped: Reshaped, line: u64) -> Option<RowOutcome<'static>> {
    match reshaped {
        Reshaped::Record(c) => Some(into_outcome(c, line)),
        Reshaped::Other(reason) => Some(RowOutcome::Skipped(Reject::new(
            line,
            RejectKind::NotAudit,
            reason,
        ))),
        Reshaped::Rejected(reason) => Some(RowOutcome::Rejected(Reject::new(
            line,
            RejectKind::NotRecord,
            reason,
        ))),
        Reshaped::Meta(_) => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Values as SIEMs write them

/// JSON text where a list or object was (Log Analytics `dynamic` and string columns, CSV
/// cells, Splunk `_raw`), decoded: also when encoded twice (a JSON string of JSON).
fn decoded(v: Value) -> Value {
    decoded_repairing(v, &mut 0)
}

/// `decoded`, with the strings of that text repaired as AuditData's are when they hold raw
/// control characters (a NUL some exporters leave), invalid escapes or lone surrogates:
/// `REPAIRED_STRINGS` is added to `damage` then.
fn decoded_repairing(v: Value, damage: &mut u8) -> Value {
    let mut v = v;
    for _ in 0..3 {
        let Value::String(s) = &v else {
            return v;
        };
        let t = s.trim();
        if !(t.starts_with('[') || t.starts_with('{') || t.starts_with('"')) {
            return v;
        }
        match serde_json::from_str::<Value>(t) {
            Ok(inner) => v = inner,
            Err(_) => match auditdata::repair_strings(t)
                .and_then(|r| serde_json::from_str::<Value>(&r).ok())
            {
                Some(inner) => {
                    *damage |= flag::REPAIRED_STRINGS;
                    v = inner;
                }
                None => return v,
            },
        }
    }
    v
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn get_text(m: &Map<String, Value>, key: &str) -> Option<String> {
    m.get(key).and_then(text)
}

/// Whether an object is a Microsoft 365 unified audit record: an operation and the service or
/// record type it belongs to.
fn is_audit_record(m: &Map<String, Value>) -> bool {
    m.contains_key("Operation") && (m.contains_key("Workload") || m.contains_key("RecordType"))
}

/// The AuditData `RecordType` number for the names SIEMs write instead (`ExchangeItem`,
/// Graph's `exchangeItemAggregated`); other text is kept as it is.
fn record_type_number(name: &str) -> Value {
    const NAMES: &[(&str, u32)] = &[
        ("ExchangeAdmin", 1),
        ("ExchangeItem", 2),
        ("ExchangeItemGroup", 3),
        ("SharePoint", 4),
        ("SharePointFileOperation", 6),
        ("AzureActiveDirectory", 8),
        ("AzureActiveDirectoryAccountLogon", 9),
        ("SharePointSharingOperation", 14),
        ("AzureActiveDirectoryStsLogon", 15),
        ("ExchangeAggregatedOperation", 19),
        ("MicrosoftTeams", 25),
        ("ExchangeItemAggregated", 50),
    ];
    let name = name.trim();
    if let Ok(n) = name.parse::<u32>() {
        return Value::from(n);
    }
    NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map_or_else(|| Value::from(name), |(_, n)| Value::from(*n))
}

/// Nested AuditData fields: SIEMs and collectors write them as JSON text.
const NESTED_FIELDS: &[&str] = &[
    "Folders",
    "OperationProperties",
    "Item",
    "AffectedItems",
    "Folder",
    "DestFolder",
    "Parameters",
    "ExtendedProperties",
    "ModifiedProperties",
    "ExtraProperties",
    "AppAccessContext",
    "Messages",
];

/// For a MailItemsAccessed record rebuilt from columns: the fields the rules need that the
/// row did not have are lost, and scope assumes the widest (`auditdata::apply_damage`).
fn missing_access_fields(ad: &Map<String, Value>) -> u8 {
    let is_mia = ad
        .get("Operation")
        .and_then(Value::as_str)
        .is_some_and(crate::model::is_mail_items_accessed);
    if !is_mia {
        return 0;
    }
    let mut damage = 0;
    if !ad.contains_key("OperationProperties") {
        damage |= flag::PROPERTIES_LOST;
    }
    if !ad.contains_key("Folders") {
        damage |= flag::FOLDERS_LOST;
    }
    damage
}

// ---------------------------------------------------------------------------------------------
// Sentinel / Log Analytics `OfficeActivity`

/// One `OfficeActivity` row (portal CSV, REST API, `az` CLI, any list of row objects).
/// `az_cli`: every value went through Python's `str()`, so `"None"` is null.
pub fn sentinel_row(row: Map<String, Value>, format: Format, az_cli: bool) -> Reshaped {
    let mut ad = Map::new();
    let mut generated = None;
    let mut ingested = Vec::new();
    let mut fallbacks: Vec<(String, Value)> = Vec::new();
    let mut source_record_id = None;
    let mut repaired = 0;
    for (key, value) in row {
        if value.is_null() || text(&value).is_none() && value.is_string() {
            continue;
        }
        if az_cli && value.as_str() == Some("None") {
            continue;
        }
        let key = key.trim();
        match key {
            // The workspace, the table, the ingestion agent: not the record's.
            "TenantId" | "Type" | "SourceSystem" | "TableName" | "_ResourceId" | "_BilledSize"
            | "_IsBillable" | "_SubscriptionId" => {}
            // Other datetime columns hold ingestion-side times on ordinary rows: the time only
            // when TimeGenerated is gone (`sentinel_time`).
            k if time_column(k).is_some() => {
                let (name, local) = time_column(k).expect("matched above");
                match (name, text(&value)) {
                    ("TimeGenerated", Some(t)) => generated = Some((t, local)),
                    ("Start_Time" | "ElevationTime", Some(t)) => ingested.push((t, local)),
                    _ => {}
                }
            }
            "Client_IPAddress" => {
                ad.insert("ClientIPAddress".into(), value);
            }
            "Logon_Type" => {
                ad.insert("LogonType".into(), value);
            }
            "OfficeId" => {
                ad.insert("Id".into(), value);
            }
            "SourceRecordId" => source_record_id = text(&value),
            "OfficeWorkload" => {
                ad.insert("Workload".into(), value);
            }
            "OfficeObjectId" => {
                ad.insert("ObjectId".into(), value);
            }
            "RecordType" => {
                if let Some(t) = text(&value) {
                    ad.insert("RecordType".into(), record_type_number(&t));
                }
            }
            // Older exports repeat some columns with a trailing underscore: fallbacks only.
            k if k.ends_with('_') && k.len() > 1 => {
                fallbacks.push((k.trim_end_matches('_').to_string(), value));
            }
            k if NESTED_FIELDS.contains(&k) => {
                ad.insert(k.to_string(), decoded_repairing(value, &mut repaired));
            }
            k => {
                ad.insert(k.to_string(), value);
            }
        }
    }
    for (key, value) in fallbacks {
        ad.entry(key).or_insert(value);
    }
    // The table fills `UserAgent` from an Entra ID record's ExtendedProperties: the record has
    // it there, not as a field of its own (SharePoint records do have one).
    if let Some(agent) = ad.get("UserAgent").and_then(text) {
        let extended = ad.get("ExtendedProperties").and_then(Value::as_array);
        let derived = extended.is_some_and(|props| {
            props.iter().any(|p| {
                p.get("Name").and_then(Value::as_str) == Some("UserAgent")
                    && p.get("Value").and_then(text).as_deref() == Some(agent.as_str())
            })
        });
        if derived {
            ad.remove("UserAgent");
        }
    }
    let damage = missing_access_fields(&ad) | repaired;
    let (time, time_flags, local) = sentinel_time(generated, &ingested);
    Reshaped::Record(Canonical {
        time,
        id: source_record_id,
        damage,
        time_flags,
        // Converted to UTC with `--input-tz` once the file is read (`parse::localize`).
        time_source: if local {
            time_source::LOCAL_AS_UTC
        } else {
            time_source::SOURCE_TIME
        },
        ..Canonical::new(ad, format)
    })
}

/// A datetime column as the Log Analytics portal names it: its name, and whether the portal
/// wrote it in the analyst's local zone (`TimeGenerated [Local Time]`, the display zone set to
/// local) rather than UTC (`TimeGenerated [UTC]`; bare names are the API's, UTC).
fn time_column(key: &str) -> Option<(&str, bool)> {
    const LOCAL: &str = " [Local Time]";
    if let Some(name) = key.strip_suffix(" [UTC]") {
        return Some((name, false));
    }
    let cut = key.len().checked_sub(LOCAL.len());
    if let Some((name, suffix)) = cut.and_then(|n| Some((key.get(..n)?, key.get(n..)?))) {
        if suffix.eq_ignore_ascii_case(LOCAL) {
            return Some((name, true));
        }
    }
    matches!(key, "TimeGenerated" | "Start_Time" | "ElevationTime").then_some((key, false))
}

/// The row's time, whether it is flagged as rebuilt, and whether it is in local time.
/// `TimeGenerated` as it is; when a spreadsheet left only its time of day (`12:36 PM`), that
/// time on the date of the row's earliest full ingestion-side timestamp (`Start_Time`,
/// `ElevationTime`: minutes after the event, so the nearest), the day before when the time of
/// day is later than that timestamp's; with no `TimeGenerated` column at all (an analyst's
/// column pick), that timestamp itself.
fn sentinel_time(
    generated: Option<(String, bool)>,
    ingested: &[(String, bool)],
) -> (Option<String>, u8, bool) {
    const DAY: crate::model::Micros = 86_400_000_000;
    let earliest = ingested
        .iter()
        .filter_map(|(t, local)| Some((source_time(t)?, *local)))
        .min();
    match generated {
        Some((t, local)) => match (source_time(&t), time_of_day(&t), earliest) {
            (None, Some(tod), Some((full, full_local))) => {
                let midnight = full.div_euclid(DAY) * DAY;
                let day_before = if tod > full - midnight { DAY } else { 0 };
                let at = midnight + tod - day_before;
                (
                    Some(crate::time::rfc3339(at)),
                    flag::TIME_RECONSTRUCTED,
                    local || full_local,
                )
            }
            _ => (Some(t), 0, local),
        },
        None => match earliest {
            Some((full, local)) => (
                Some(crate::time::rfc3339(full)),
                flag::TIME_RECONSTRUCTED,
                local,
            ),
            None => (None, 0, false),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Defender XDR `CloudAppEvents`

/// One `CloudAppEvents` row: the AuditData is its `RawEventData` (an object, or JSON text).
pub fn cloud_app_events_row(mut row: Map<String, Value>, format: Format) -> Reshaped {
    let mut damage = 0;
    let raw = match row
        .remove("RawEventData")
        .map(|v| decoded_repairing(v, &mut damage))
    {
        // pandas and notebook exports write a dynamic column as Python's repr of a dict.
        Some(Value::String(s)) => match super::lenient::python_literal(&s) {
            Some(v @ Value::Object(_)) => {
                damage |= flag::FLATTENED_FIELDS;
                Some(v)
            }
            _ => Some(Value::String(s)),
        },
        other => other,
    };
    let application = get_text(&row, "Application").unwrap_or_else(|| "unnamed".into());
    let empty = match &raw {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => matches!(s.trim(), "" | "None" | "null"),
        _ => false,
    };
    if empty {
        if let Some(columns) = other_table_columns(&row) {
            return Reshaped::Other(format!(
                "a row of another advanced hunting table ({} {}; it has {columns}, which CloudAppEvents has not), not a Microsoft 365 audit record",
                application,
                get_text(&row, "ActionType").unwrap_or_else(|| "without ActionType".into()),
            ));
        }
    }
    let action = get_text(&row, "ActionType").unwrap_or_else(|| "no ActionType".into());
    let mut ad = match raw {
        Some(Value::Object(ad)) => ad,
        // Text that is neither JSON nor a Python dict (a repr holding `datetime(…)`, text cut
        // by a cell limit): the record is there but unreadable, not missing.
        Some(v) if !empty => {
            let length = text(&v).map_or(0, |t| t.chars().count());
            return Reshaped::Rejected(format!(
                "CloudAppEvents row ({action}) whose RawEventData ({length} characters) is neither a JSON object nor a Python dict"
            ));
        }
        _ => {
            return Reshaped::Rejected(format!(
                "CloudAppEvents row ({action}) without RawEventData: the audit record itself is not in the export (include RawEventData in the query's columns)"
            ));
        }
    };
    if !is_audit_record(&ad) {
        return Reshaped::Other(format!(
            "a CloudAppEvents event of {application}, not a Microsoft 365 audit record"
        ));
    }
    // Defender brackets IPv6 addresses with a port: `[2603:…]:51234` (ip::pick reads it).
    if !ad.contains_key("ClientIP") && !ad.contains_key("ClientIPAddress") {
        if let Some(ip) = row.remove("IPAddress") {
            ad.insert("ClientIP".into(), ip);
        }
    }
    let time = get_text(&row, "Timestamp").or_else(|| get_text(&row, "TimeGenerated"));
    Reshaped::Record(Canonical {
        time,
        damage,
        ..Canonical::new(ad, format)
    })
}

/// The columns of `CloudAppEvents` (Defender advanced hunting schema, with the columns Sentinel
/// adds when the table is streamed to a workspace).
const CLOUD_APP_EVENTS_COLUMNS: &[&str] = &[
    "Timestamp",
    "ActionType",
    "Application",
    "ApplicationId",
    "AppInstanceId",
    "AccountObjectId",
    "AccountId",
    "AccountDisplayName",
    "IsAdminOperation",
    "DeviceType",
    "OSPlatform",
    "IPAddress",
    "IsAnonymousProxy",
    "CountryCode",
    "City",
    "Isp",
    "UserAgent",
    "ActivityType",
    "ActivityObjects",
    "ObjectName",
    "ObjectType",
    "ObjectId",
    "ReportId",
    "AccountType",
    "IsExternalUser",
    "IsImpersonated",
    "IPTags",
    "IPCategory",
    "UserAgentTags",
    "RawEventData",
    "AdditionalFields",
    "LastSeenForUser",
    "UncommonForUser",
    "AuditSource",
    "SessionData",
    "OAuthAppId",
    "TimeGenerated",
    "TenantId",
    "SourceSystem",
    "Type",
    "MachineGroup",
];

/// The filled columns of a row that `CloudAppEvents` does not have, when there are any: the
/// row is another table's in a `union` (IdentityQueryEvents' `QueryType`, `Protocol` …),
/// told by its columns, not by its values.
fn other_table_columns(row: &Map<String, Value>) -> Option<String> {
    let foreign: Vec<&str> = row
        .iter()
        .filter(|(k, v)| {
            // pandas writes its index as a first column with no name; `_ResourceId` … are
            // the workspace's.
            !k.trim().is_empty()
                && !k.starts_with('_')
                && !CLOUD_APP_EVENTS_COLUMNS.contains(&k.trim())
                && text(v).is_some_and(|t| t != "None")
        })
        .map(|(k, _)| k.as_str())
        .take(3)
        .collect();
    (!foreign.is_empty()).then(|| foreign.join(", "))
}

/// Why a streaming file's `EmailEvents` row is no audit record: it is a message inventory's row
/// (`json::parse_defender_stream` reads it as one, and does not count it as skipped).
pub const EMAIL_EVENTS_ROW: &str = "a Defender streaming EmailEvents row: a message inventory row, not a Microsoft 365 audit record";

/// A Defender streaming API record (`{time, category, properties: {row}}`).
fn defender_stream_record(mut rec: Map<String, Value>) -> Reshaped {
    if let Some(Value::Object(row)) = rec.get("properties") {
        let keys: Vec<String> = row.keys().map(|k| format!("properties.{k}")).collect();
        if crate::detect::inventory::json_inventory(&keys) == Some(Format::EmailEventsJson) {
            return Reshaped::Other(EMAIL_EVENTS_ROW.into());
        }
    }
    let category = get_text(&rec, "category").unwrap_or_default();
    if !category.eq_ignore_ascii_case("AdvancedHunting-CloudAppEvents") {
        return Reshaped::Other(format!(
            "a Defender streaming record of {category}, not a Microsoft 365 audit record"
        ));
    }
    match rec.remove("properties").map(decoded) {
        Some(Value::Object(row)) => cloud_app_events_row(row, Format::CloudAppEventsJson),
        _ => Reshaped::Rejected("Defender streaming record without properties".into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Microsoft Graph audit log query (`auditLogRecord`)

/// Graph's camelCase record type names (`exchangeItemAggregated`) as AuditData numbers.
fn graph_record(mut rec: Map<String, Value>, format: Format) -> Reshaped {
    let inner = rec.remove("auditData").map(decoded);
    let (mut ad, damage) = match inner {
        Some(Value::Object(mut ad)) => {
            ad.retain(|k, _| !k.starts_with("@odata."));
            (ad, 0)
        }
        // Rebuilt from the record's own properties: what only the AuditData held is unknown.
        _ => (Map::new(), flag::RECONSTRUCTED),
    };
    for (from, to) in [
        ("id", "Id"),
        ("operation", "Operation"),
        ("userId", "UserId"),
        ("organizationId", "OrganizationId"),
        ("objectId", "ObjectId"),
        ("service", "Workload"),
        ("clientIp", "ClientIP"),
        ("userType", "UserType"),
    ] {
        if !ad.contains_key(to) {
            if let Some(v) = rec.get(from).filter(|v| text(v).is_some()) {
                ad.insert(to.into(), v.clone());
            }
        }
    }
    if !ad.contains_key("RecordType") {
        if let Some(t) = get_text(&rec, "auditLogRecordType") {
            ad.insert("RecordType".into(), record_type_number(&t));
        }
    }
    if ad.get("UserId").is_none() {
        if let Some(upn) = rec.get("userPrincipalName").filter(|v| text(v).is_some()) {
            ad.insert("UserId".into(), upn.clone());
        }
    }
    let damage = damage
        | if damage != 0 {
            missing_access_fields(&ad)
        } else {
            0
        };
    if damage & flag::RECONSTRUCTED != 0 && !ad.contains_key("MailboxOwnerUPN") {
        // Which mailbox a rebuilt access record was about is not in the record's properties:
        // the object it names when that is an address, else the signed-in user's own mailbox
        // (the owner's access, the usual case) — never no mailbox, which would leave the access
        // outside every mailbox's scope.
        let is_access = get_text(&ad, "Operation").is_some_and(|op| {
            crate::model::is_mail_items_accessed(&op)
                || ["FolderBind", "MessageBind", "AttachmentAccess"]
                    .iter()
                    .any(|o| o.eq_ignore_ascii_case(&op))
        });
        let address = |key: &str| get_text(&rec, key).filter(|t| t.contains('@'));
        let owner = address("objectId")
            .or_else(|| address("userPrincipalName"))
            .or_else(|| address("userId"));
        if let (true, Some(owner)) = (is_access, owner) {
            ad.insert("MailboxOwnerUPN".into(), Value::String(owner));
        }
    }
    Reshaped::Record(Canonical {
        time: get_text(&rec, "createdDateTime"),
        id: get_text(&rec, "id"),
        damage,
        ..Canonical::new(ad, format)
    })
}

/// A Graph `auditLogQuery` object: says whether its records are the whole result.
fn graph_query(q: &Map<String, Value>) -> Reshaped {
    let name = get_text(q, "displayName")
        .or_else(|| get_text(q, "id"))
        .unwrap_or_else(|| "unnamed".into());
    let status = get_text(q, "status").unwrap_or_default();
    let exceeded = q
        .get("isRecordCountLimitExceeded")
        .is_some_and(|v| v.as_bool() == Some(true) || v.as_str() == Some("true"));
    let mut problems = Vec::new();
    if exceeded {
        problems.push(format!(
            "the query exceeded its record limit ({} records): not every matching record was returned",
            get_text(q, "recordCountLimit").unwrap_or_else(|| "limit not given".into())
        ));
    }
    if !status.is_empty() && !status.eq_ignore_ascii_case("succeeded") {
        problems.push(format!("the query's status is '{status}', not 'succeeded'"));
    }
    if problems.is_empty() {
        return Reshaped::Meta(Meta::Note(FileNote {
            code: WarningCode::GraphAuditQuery,
            message: format!("Graph audit log query '{name}' succeeded within its record limit"),
        }));
    }
    Reshaped::Meta(Meta::Note(FileNote {
        code: WarningCode::IncompleteExport,
        message: format!(
            "Graph audit log query '{name}': {}; run the query again over smaller time spans",
            problems.join("; ")
        ),
    }))
}

// ---------------------------------------------------------------------------------------------
// Elastic `o365` integration

/// Dotted keys (`o365.audit.Operation`, as Kibana and some exporters write them) as nested
/// objects, merged with keys that were nested already.
fn nest_dotted(m: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in m {
        let value = match value {
            Value::Object(inner) => Value::Object(nest_dotted(inner)),
            v => v,
        };
        let mut parts: Vec<&str> = key.split('.').collect();
        // `@timestamp` and names with no dot stay as they are; so does a name of more parts
        // than any ECS field has (a deep tree is costly to build, print and drop).
        if parts.len() == 1 || parts.len() > MAX_KEY_PARTS || parts.iter().any(|p| p.is_empty()) {
            merge_into(&mut out, key.clone(), value);
            continue;
        }
        let last = parts.pop().expect("two parts at least");
        let mut at = &mut out;
        for p in parts {
            let slot = at
                .entry(p.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            at = slot.as_object_mut().expect("made an object above");
        }
        merge_into(at, last.to_string(), value);
    }
    out
}

/// Parts of a dotted or flattened key that are rebuilt as nesting, at most.
const MAX_KEY_PARTS: usize = 8;

fn merge_into(m: &mut Map<String, Value>, key: String, value: Value) {
    match (m.get_mut(&key), value) {
        (Some(Value::Object(existing)), Value::Object(new)) => {
            for (k, v) in new {
                merge_into(existing, k, v);
            }
        }
        (_, value) => {
            m.insert(key, value);
        }
    }
}

fn path<'v>(m: &'v Map<String, Value>, keys: &[&str]) -> Option<&'v Value> {
    let (first, rest) = keys.split_first()?;
    let v = m.get(*first)?;
    if rest.is_empty() {
        Some(v)
    } else {
        path(v.as_object()?, rest)
    }
}

fn path_text(m: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    path(m, keys).and_then(text)
}

/// A map of name → value (how the integration stores Parameters and ExtendedProperties) as
/// AuditData's `[{"Name":…,"Value":…}]`.
fn name_value_list(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Array(
            m.into_iter()
                .map(|(k, v)| {
                    let value = text(&v).unwrap_or_else(|| v.to_string());
                    serde_json::json!({"Name": k, "Value": value})
                })
                .collect(),
        ),
        other => other,
    }
}

/// One Elastic document (`_source` or the document itself; nested or dotted keys).
fn elastic_doc(doc: Map<String, Value>, format: Format) -> Reshaped {
    let doc = nest_dotted(doc);
    let src = match doc.get("_source") {
        Some(Value::Object(s)) => s.clone(),
        _ => doc,
    };
    let timestamp = path_text(&src, &["@timestamp"]);
    if let Some(dataset) = path_text(&src, &["event", "dataset"]) {
        if dataset != "o365.audit" {
            return Reshaped::Other(format!("an Elastic document of {dataset}, not o365.audit"));
        }
    }
    // The verbatim record, when the integration kept it (`preserve_original_event`).
    if let Some(Value::Object(ad)) = path(&src, &["event", "original"]).cloned().map(decoded) {
        return Reshaped::Record(Canonical {
            time: timestamp,
            id: path_text(&src, &["event", "id"]),
            ..Canonical::new(ad, format)
        });
    }
    let Some(Value::Object(audit)) = path(&src, &["o365", "audit"]).cloned() else {
        return Reshaped::Other(
            "an Elastic document without o365.audit fields or event.original".into(),
        );
    };
    let mut ad = Map::new();
    for (key, value) in audit {
        let key = match key.as_str() {
            "ExchangeAggregatedFolders" => "Folders".to_string(),
            "ExchangeAggregatedMessages" => "Messages".to_string(),
            _ => key,
        };
        let value = match key.as_str() {
            "Parameters" | "ExtendedProperties" | "ModifiedProperties" => name_value_list(value),
            k if NESTED_FIELDS.contains(&k) => decoded(value),
            _ => value,
        };
        ad.insert(key, value);
    }
    let ecs: &[(&str, &[&str])] = &[
        ("Id", &["event", "id"]),
        ("Operation", &["event", "action"]),
        ("Workload", &["event", "provider"]),
        ("OrganizationId", &["organization", "id"]),
        ("UserId", &["user", "id"]),
        ("ClientIPAddress", &["client", "address"]),
        ("ClientIP", &["client", "ip"]),
        ("LogonUserDisplayName", &["user", "full_name"]),
        ("ClientProcessName", &["process", "name"]),
        ("OrganizationName", &["organization", "name"]),
    ];
    for (field, keys) in ecs {
        let has_ip = ad.contains_key("ClientIPAddress") || ad.contains_key("ClientIP");
        if ad.contains_key(*field) || field.starts_with("ClientIP") && has_ip {
            continue;
        }
        if let Some(v) = path_text(&src, keys) {
            ad.insert(field.to_string(), Value::String(v));
        }
    }
    // The integration moves MailboxOwnerUPN to user.email on ExchangeItem (type 2) records.
    if !ad.contains_key("MailboxOwnerUPN") {
        let record_type = ad.get("RecordType").and_then(text).unwrap_or_default();
        if record_type == "2" {
            if let Some(email) = path_text(&src, &["user", "email"]) {
                ad.insert("MailboxOwnerUPN".into(), Value::String(email));
            }
        }
    }
    let damage = flag::RECONSTRUCTED | missing_access_fields(&ad);
    Reshaped::Record(Canonical {
        time: timestamp,
        id: path_text(&src, &["event", "id"]),
        damage,
        ..Canonical::new(ad, format)
    })
}

// ---------------------------------------------------------------------------------------------
// Splunk

/// One Splunk result (`{"_raw": …, "_time": …}`), or a line of the export API
/// (`{"preview": …, "result": {…}}`).
fn splunk_result(mut obj: Map<String, Value>, format: Format) -> Reshaped {
    if let Some(Value::Object(result)) = obj.remove("result") {
        if obj
            .get("preview")
            .is_some_and(|p| p.as_bool() == Some(true))
        {
            return Reshaped::Meta(Meta::Preview);
        }
        obj = result;
    }
    let sourcetype = get_text(&obj, "sourcetype");
    let management = sourcetype
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("o365:management:activity"));
    match obj.remove("_raw").map(decoded) {
        Some(Value::Object(ad)) if is_audit_record(&ad) => Reshaped::Record(Canonical {
            time: get_text(&obj, "_time"),
            ..Canonical::new(ad, format)
        }),
        None if management => Reshaped::Rejected(
            "Splunk result without _raw: the audit record itself is not in the export (search for the events, or `table _raw`)".into(),
        ),
        Some(_) if management => Reshaped::Rejected(
            "Splunk o365:management:activity event whose _raw is not an audit record (not JSON with Operation and Workload)".into(),
        ),
        _ => Reshaped::Other(format!(
            "a Splunk event of {}, not an Office 365 audit record",
            sourcetype.unwrap_or_else(|| "an unnamed sourcetype".into())
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// AuditData one column per field (Hawk, Extractor-Suite -AuditDataOnly)

/// Hawk's "Simple" CSV flattens nested values into `Folders_0_FolderItems_1_InternetMessageId`,
/// `OperationProperties_0_Name`, `AppAccessContext_ClientAppId`; other collectors (pandas
/// `json_normalize`, PowerShell flatteners) into `Folders[0].FolderItems[1].InternetMessageId`,
/// `Parameters[0].Name`, `AppAccessContext.AADSessionId`: rebuilt by those segments. Whether
/// any was rebuilt is returned too.
fn unflatten(row: Map<String, Value>) -> (Map<String, Value>, bool) {
    let mut out = Map::new();
    let mut rebuilt = false;
    for (key, value) in row {
        let parts = key_parts(&key);
        let root = parts.first().copied().unwrap_or_default();
        // No AuditData name holds a bracket or a dot: such a key is a flattening whatever its
        // root (`DeviceProperties[0].Name`); underscores are in names (`Client_IPAddress`).
        let nested = NESTED_FIELDS.contains(&root) || key.contains(['[', '.']);
        if parts.len() > 1 && parts.len() <= MAX_KEY_PARTS && nested {
            insert_path(&mut out, &parts, value);
            rebuilt = true;
        } else if !(out.contains_key(&key) && value.is_string()) {
            // Flattened columns say more than their parent's `System.Object[]` text.
            out.insert(key, value);
        }
    }
    (out, rebuilt)
}

/// The segments of a flattened key: `A[0].B` and `A.0.B` as `A`, `0`, `B`; a key without
/// brackets or dots by its underscores (`A_0_B`). A key with a stray bracket is one segment.
fn key_parts(key: &str) -> Vec<&str> {
    if !key.contains(['[', '.']) {
        return key.split('_').collect();
    }
    let mut parts = Vec::new();
    for dotted in key.split('.') {
        if dotted.is_empty() {
            return vec![key];
        }
        let (name, mut rest) = dotted.split_once('[').unwrap_or((dotted, ""));
        if !name.is_empty() {
            parts.push(name);
        }
        while !rest.is_empty() {
            let Some((index, after)) = rest.split_once(']') else {
                return vec![key];
            };
            parts.push(index);
            rest = match after.strip_prefix('[') {
                Some(next) => next,
                None if after.is_empty() => "",
                None => return vec![key],
            };
        }
    }
    if parts.iter().any(|p| p.is_empty()) {
        return vec![key];
    }
    parts
}

fn insert_path(m: &mut Map<String, Value>, parts: &[&str], value: Value) {
    let Some((first, rest)) = parts.split_first() else {
        return;
    };
    if rest.is_empty() {
        m.insert(first.to_string(), value);
        return;
    }
    let container = || match rest[0].parse::<usize>() {
        Ok(_) => Value::Array(Vec::new()),
        Err(_) => Value::Object(Map::new()),
    };
    let slot = m.entry(first.to_string()).or_insert_with(container);
    if !(slot.is_array() || slot.is_object()) {
        *slot = container();
    }
    insert_into(slot, rest, value);
}

const MAX_FLATTENED_INDEX: usize = 1_000;

fn insert_into(slot: &mut Value, parts: &[&str], value: Value) {
    match (slot, parts[0].parse::<usize>()) {
        // Real records list at most a few hundred folders or items; a larger index is no
        // flattening of one (and must not cost a huge list per row).
        (Value::Array(items), Ok(i)) if i < MAX_FLATTENED_INDEX => {
            while items.len() <= i {
                items.push(Value::Object(Map::new()));
            }
            match (&mut items[i], parts.len()) {
                (item, 1) => *item = value,
                (Value::Object(m), _) => insert_path(m, &parts[1..], value),
                _ => {}
            }
        }
        (Value::Object(m), _) => insert_path(m, parts, value),
        _ => {}
    }
}

/// Power Query's "Expand" of a parsed AuditData column beside the export's own columns
/// (`RecordId`, …, `AuditData.CreationTime`, `AuditData.Id`, …): the record is the expanded
/// fields, the export's `RecordId` its id when it has none. A list or record left unexpanded
/// shows as `[List]` / `[Record]`: its content is not in the file, flagged as lost (scope
/// assumes the widest).
fn expanded_row(row: Map<String, Value>, format: Format) -> Reshaped {
    const PREFIX: &str = "AuditData.";
    let mut ad = Map::new();
    let mut record_id = None;
    let mut lost = 0;
    let mut properties_lost = false;
    for (key, value) in row {
        let field = key
            .get(..PREFIX.len())
            .filter(|p| p.eq_ignore_ascii_case(PREFIX))
            .map(|_| &key[PREFIX.len()..]);
        match field {
            Some(field) if matches!(text(&value).as_deref(), Some("[List]" | "[Record]")) => {
                lost |= match field {
                    "Folders" => flag::FOLDERS_LOST,
                    "OperationProperties" => flag::PROPERTIES_LOST,
                    _ => flag::CONTENT_LOST,
                };
                properties_lost |= field == "OperationProperties";
            }
            Some(field) => {
                ad.insert(field.to_string(), value);
            }
            None if key.eq_ignore_ascii_case("RecordId") => record_id = Some(value),
            // The export's other columns repeat the record's fields.
            None => {}
        }
    }
    if let (false, Some(id)) = (ad.contains_key("Id"), record_id) {
        ad.insert("Id".into(), id);
    }
    // Only a MailItemsAccessed record's OperationProperties say how mail was accessed; another
    // record's (an Outlook rule's) are content lost.
    let is_mia =
        get_text(&ad, "Operation").is_some_and(|op| crate::model::is_mail_items_accessed(&op));
    if properties_lost && !is_mia {
        lost = (lost & !flag::PROPERTIES_LOST) | flag::CONTENT_LOST;
    }
    match columns_row(ad, format) {
        Reshaped::Record(mut c) => {
            c.damage |= lost;
            Reshaped::Record(c)
        }
        other => other,
    }
}

/// Whether a row's columns are Power Query's expansion of AuditData (`AuditData.Operation`).
fn is_expanded(row: &Map<String, Value>) -> bool {
    row.keys().any(|k| {
        k.get(.."AuditData.".len())
            .is_some_and(|p| p.eq_ignore_ascii_case("AuditData."))
    })
}

/// One row of AuditData written one column per field.
pub fn columns_row(row: Map<String, Value>, format: Format) -> Reshaped {
    let (ad, rebuilt) = unflatten(row);
    // A culture-formatted CreationTime (PowerShell 7 `ConvertFrom-Json` made it a DateTime)
    // is left to the file's date rule.
    let time = get_text(&ad, "CreationTime");
    Reshaped::Record(Canonical {
        time,
        damage: if rebuilt { flag::FLATTENED_FIELDS } else { 0 },
        ..Canonical::new(ad, format)
    })
}

// ---------------------------------------------------------------------------------------------
// Recognition of JSON objects, and the lists that hold them

/// Which row shape an object with these keys has, `None` for AuditData (or anything else).
fn row_shape<'k>(keys: impl Iterator<Item = &'k str> + Clone) -> Option<RowShape> {
    let has = |k: &str| keys.clone().any(|key| key == k);
    if has("RawEventData") {
        return Some(RowShape::CloudAppEvents);
    }
    if has("category") && has("properties") {
        return Some(RowShape::DefenderStream);
    }
    if has("auditLogRecordType") || has("auditData") && has("createdDateTime") {
        return Some(RowShape::GraphRecord);
    }
    if is_graph_query(&has) && !ROW_LISTS.iter().any(|k| has(k)) {
        return Some(RowShape::GraphQuery);
    }
    if has("_source")
        || has("o365")
        || has("event.original")
        || keys.clone().any(|k| k.starts_with("o365.audit."))
        || has("@timestamp") && has("event")
    {
        return Some(RowShape::Elastic);
    }
    if has("_raw") || has("preview") && has("result") {
        return Some(RowShape::Splunk);
    }
    let time = keys.clone().any(|k| {
        time_column(k).is_some_and(|(name, _)| {
            matches!(name, "TimeGenerated" | "Start_Time" | "ElevationTime")
        })
    });
    let office = [
        "OfficeWorkload",
        "Client_IPAddress",
        "OfficeId",
        "MailboxOwnerUPN",
    ]
    .iter()
    .any(|k| has(k));
    if time && has("Operation") && office {
        return Some(RowShape::Sentinel {
            az_cli: has("TableName"),
        });
    }
    None
}

fn is_graph_query(has: &dyn Fn(&str) -> bool) -> bool {
    has("isRecordCountLimitExceeded") || has("filterStartDateTime") && has("status")
}

#[derive(Debug, Clone, Copy)]
enum RowShape {
    Sentinel { az_cli: bool },
    CloudAppEvents,
    DefenderStream,
    GraphRecord,
    GraphQuery,
    Elastic,
    Splunk,
}

fn reshape_row(shape: RowShape, m: Map<String, Value>) -> Reshaped {
    match shape {
        RowShape::Sentinel { az_cli } => sentinel_row(m, Format::SentinelJson, az_cli),
        RowShape::CloudAppEvents => cloud_app_events_row(m, Format::CloudAppEventsJson),
        RowShape::DefenderStream => defender_stream_record(m),
        RowShape::GraphRecord => graph_record(m, Format::GraphAuditJson),
        RowShape::GraphQuery => graph_query(&m),
        RowShape::Elastic => elastic_doc(m, Format::ElasticJson),
        RowShape::Splunk => splunk_result(m, Format::SplunkJson),
    }
}

/// What one top-level JSON object became: rows, each at its byte offset within the object.
pub type Rows = Vec<(usize, Reshaped)>;

/// Keys whose value is a list of rows in the responses and files SIEMs write.
const ROW_LISTS: &[&str] = &["value", "records", "Results", "results"];

/// A top-level JSON object that is a SIEM row, or a response holding rows: each row
/// reshaped, with its offset in `json`. `None` when the object is none of these (AuditData,
/// or something the AuditData reader will judge). A response is read with its rows borrowed
/// (never as one tree of values), and its rows are reshaped in parallel.
pub fn reshape_object(json: &str) -> Option<Rows> {
    let offset_of = |raw: &RawValue| raw.get().as_ptr() as usize - json.as_ptr() as usize;
    let top: std::collections::BTreeMap<String, &RawValue> = serde_json::from_str(json).ok()?;
    if let Some(shape) = row_shape(top.keys().map(String::as_str)) {
        let Ok(Value::Object(m)) = serde_json::from_str::<Value>(json) else {
            return None;
        };
        return Some(vec![(0, reshape_row(shape, m))]);
    }
    if top.contains_key("tables") {
        return log_analytics_tables(json, &offset_of);
    }
    if let Some(hits) = top.get("hits") {
        #[derive(serde::Deserialize)]
        struct HitList<'a> {
            #[serde(borrow)]
            hits: Vec<&'a RawValue>,
        }
        let list: HitList = serde_json::from_str(hits.get()).ok()?;
        return Some(rows_of(list.hits, &offset_of, Some(RowShape::Elastic)));
    }
    let list = ROW_LISTS.iter().find_map(|k| top.get(*k))?;
    let list: Vec<&RawValue> = serde_json::from_str(list.get()).ok()?;
    let mut rows: Rows = Vec::new();
    // A Graph query object with its records: its completeness first.
    if is_graph_query(&|k| top.contains_key(k)) {
        let Ok(Value::Object(mut query)) = serde_json::from_str::<Value>(json) else {
            return None;
        };
        ROW_LISTS.iter().for_each(|k| {
            query.remove(*k);
        });
        rows.push((0, graph_query(&query)));
    }
    let listed = rows_of(list, &offset_of, None);
    // A list of nothing this reader knows is not a SIEM response (a config file's `value`).
    if !listed.is_empty()
        && listed
            .iter()
            .all(|(_, r)| matches!(r, Reshaped::Rejected(_)))
    {
        return None;
    }
    rows.extend(listed);
    Some(rows)
}

/// Rows from a list, in parallel: each reshaped by its own shape (or `shape` for all).
fn rows_of(
    list: Vec<&RawValue>,
    offset_of: &(dyn Fn(&RawValue) -> usize + Sync),
    shape: Option<RowShape>,
) -> Rows {
    use rayon::prelude::*;
    list.par_iter()
        .map(|raw| {
            let at = offset_of(raw);
            let reshaped = match serde_json::from_str::<Value>(raw.get()) {
                Ok(Value::Object(m)) => match shape.or_else(|| row_shape(m.keys().map(String::as_str))) {
                    Some(s) => reshape_row(s, m),
                    None if m.contains_key("CreationTime") || is_audit_record(&m) => {
                        Reshaped::Record(Canonical::new(m, Format::AuditDataJson))
                    }
                    None => Reshaped::Rejected(
                        "an object in a result list that is neither an audit record nor a known SIEM row".into(),
                    ),
                },
                Ok(_) => Reshaped::Rejected("a result list entry that is not an object".into()),
                Err(e) => Reshaped::Rejected(format!("result list entry is not valid JSON: {e}")),
            };
            (at, reshaped)
        })
        .collect()
}

/// The Log Analytics query API response: `{"tables":[{"columns":[…],"rows":[[…],…]}]}`, every
/// row a list of values in column order.
fn log_analytics_tables(
    json: &str,
    offset_of: &(dyn Fn(&RawValue) -> usize + Sync),
) -> Option<Rows> {
    use rayon::prelude::*;
    #[derive(serde::Deserialize)]
    struct Response<'a> {
        #[serde(borrow)]
        tables: Vec<Table<'a>>,
        #[serde(default)]
        error: Option<Value>,
    }
    #[derive(serde::Deserialize)]
    struct Table<'a> {
        columns: Vec<Column>,
        #[serde(borrow)]
        rows: Vec<&'a RawValue>,
    }
    #[derive(serde::Deserialize)]
    struct Column {
        name: String,
    }
    let response: Response = serde_json::from_str(json).ok()?;
    let mut out: Rows = Vec::new();
    if let Some(error) = &response.error {
        out.push((
            0,
            Reshaped::Meta(Meta::Note(FileNote {
                code: WarningCode::IncompleteExport,
                message: format!(
                    "the Log Analytics response carries an error next to its rows (a partial result): {}",
                    error
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("no message")
                        .chars()
                        .take(200)
                        .collect::<String>()
                ),
            })),
        ));
    }
    for table in response.tables {
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        let cae = names.contains(&"RawEventData");
        let rows: Rows = table
            .rows
            .par_iter()
            .map(|raw| {
                let at = offset_of(raw);
                let values: Vec<Value> = match serde_json::from_str(raw.get()) {
                    Ok(v) => v,
                    Err(e) => {
                        return (
                            at,
                            Reshaped::Rejected(format!("row is not a JSON list: {e}")),
                        );
                    }
                };
                if values.len() != names.len() {
                    let reason = format!(
                        "row has {} values for {} columns",
                        values.len(),
                        names.len()
                    );
                    return (at, Reshaped::Rejected(reason));
                }
                let m: Map<String, Value> =
                    names.iter().map(|n| n.to_string()).zip(values).collect();
                let reshaped = if cae {
                    cloud_app_events_row(m, Format::CloudAppEventsJson)
                } else {
                    sentinel_row(m, Format::SentinelJson, false)
                };
                (at, reshaped)
            })
            .collect();
        out.extend(rows);
    }
    Some(out)
}

/// A CSV row of a SIEM shape, as name → text (empty cells left out), reshaped.
pub fn csv_row(format: Format, row: Map<String, Value>) -> Reshaped {
    match format {
        Format::SentinelCsv => sentinel_row(row, format, false),
        Format::CloudAppEventsCsv => cloud_app_events_row(row, format),
        Format::GraphAuditCsv => graph_record(row, format),
        Format::ElasticCsv => elastic_doc(row, format),
        Format::SplunkCsv => splunk_result(row, format),
        _ if is_expanded(&row) => expanded_row(row, format),
        _ => columns_row(row, format),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(r: Reshaped) -> Canonical {
        match r {
            Reshaped::Record(c) => c,
            other => panic!("not a record: {other:?}"),
        }
    }

    #[test]
    fn sentinel_rows_rename_decode_and_drop_workspace_columns() {
        let row: Map<String, Value> = serde_json::from_str(r#"{
            "TenantId":"7c759f10-0000-4000-8000-000000000001","RecordType":"ExchangeItemAggregated",
            "TimeGenerated [UTC]":"4/28/2021, 2:54:37.000 PM","Operation":"MailItemsAccessed",
            "OfficeId":"2ad854c0-1","SourceRecordId":"2ad854c0-1","Logon_Type":"Owner",
            "Client_IPAddress":"[2603:10b6:5:345::11]:50412","OfficeWorkload":"Exchange",
            "Folders":"[{\"Path\":\"\\\\Inbox\",\"FolderItems\":[{\"InternetMessageId\":\"<a@b>\"}]}]",
            "OperationProperties":"[{\"Value\":\"Bind\",\"Name\":\"MailAccessType\"}]",
            "UserId_":"adelev@contoso.com","Start_Time [UTC]":"4/28/2021, 3:10:00.000 PM"}"#).unwrap();
        let c = record(sentinel_row(row, Format::SentinelCsv, false));
        assert_eq!(c.audit_data["Id"], "2ad854c0-1");
        assert_eq!(c.audit_data["RecordType"], 50);
        assert_eq!(c.audit_data["LogonType"], "Owner");
        assert_eq!(c.audit_data["UserId"], "adelev@contoso.com");
        assert!(c.audit_data["Folders"].is_array());
        assert!(!c.audit_data.contains_key("TenantId"));
        assert_eq!(c.time.as_deref(), Some("4/28/2021, 2:54:37.000 PM"));
        assert_eq!(c.damage, 0);
        let RowOutcome::Ok(r) = into_outcome(c, 7) else {
            panic!("the portal's display form is month first");
        };
        assert_eq!(crate::time::rfc3339(r.time), "2021-04-28T14:54:37Z");
        assert_eq!(r.client_ip.as_deref(), Some("2603:10b6:5:345::11"));
        assert_eq!(r.items[0].internet_message_id.as_deref(), Some("a@b"));
        assert_eq!(r.format, Some(Format::SentinelCsv));
    }

    #[test]
    fn a_mail_items_accessed_row_without_its_properties_is_scoped_widest() {
        let row: Map<String, Value> = serde_json::from_str(r#"{"TimeGenerated":"2024-03-12T02:14:07Z",
            "Operation":"MailItemsAccessed","OfficeId":"x","OfficeWorkload":"Exchange","MailboxOwnerUPN":"a@contoso.com"}"#).unwrap();
        let c = record(sentinel_row(row, Format::SentinelJson, false));
        assert_eq!(c.damage, flag::PROPERTIES_LOST | flag::FOLDERS_LOST);
        let RowOutcome::Ok(r) = into_outcome(c, 1) else {
            panic!("ISO time")
        };
        assert!(r.is_throttled);
        assert_eq!(r.mail_access_type.as_deref(), Some(flag::ACCESS_TYPE_LOST));
    }

    #[test]
    fn cloud_app_events_keep_microsoft_365_records_and_skip_other_apps() {
        let row: Map<String, Value> = serde_json::from_str(r#"{"Timestamp":"2024-03-12T02:14:07Z","ActionType":"MailItemsAccessed",
            "Application":"Microsoft Exchange Online","IPAddress":"[2001:db8::66]:4431",
            "RawEventData":"{\"Id\":\"r1\",\"Operation\":\"MailItemsAccessed\",\"Workload\":\"Exchange\",\"CreationTime\":\"2024-03-12T02:14:07\"}"}"#).unwrap();
        let c = record(cloud_app_events_row(row, Format::CloudAppEventsCsv));
        assert_eq!(c.audit_data["ClientIP"], "[2001:db8::66]:4431");
        let other: Map<String, Value> = serde_json::from_str(
            r#"{"Timestamp":"2024-03-12T02:14:07Z","ActionType":"Edit","Application":"Google Workspace","RawEventData":{"kind":"admin#reports#activity"}}"#,
        )
        .unwrap();
        assert!(
            matches!(cloud_app_events_row(other, Format::CloudAppEventsCsv), Reshaped::Other(why) if why.contains("Google Workspace"))
        );
    }

    #[test]
    fn dotted_and_nested_keys_read_alike_and_flattened_columns_rebuild() {
        let dotted: Map<String, Value> =
            serde_json::from_str(r#"{"o365.audit.Operation":"Send","event.id":"e1","o365":{"audit":{"Workload":"Exchange"}}}"#)
                .unwrap();
        let c = record(elastic_doc(dotted, Format::ElasticJson));
        assert_eq!(c.audit_data["Operation"], "Send");
        assert_eq!(c.audit_data["Workload"], "Exchange");
        assert_eq!(c.audit_data["Id"], "e1");
        assert_eq!(c.damage & flag::RECONSTRUCTED, flag::RECONSTRUCTED);
        let flat: Map<String, Value> = serde_json::from_str(
            r#"{"Operation":"MailItemsAccessed","Folders_0_Path":"\\Inbox","Folders_0_FolderItems_1_InternetMessageId":"<b@c>","OperationProperties_0_Name":"MailAccessType","OperationProperties_0_Value":"Bind"}"#,
        )
        .unwrap();
        let c = record(columns_row(flat, Format::AuditDataColumnsCsv));
        assert_eq!(
            c.audit_data["Folders"][0]["FolderItems"][1]["InternetMessageId"],
            "<b@c>"
        );
        assert_eq!(c.audit_data["OperationProperties"][0]["Value"], "Bind");
    }

    #[test]
    fn a_time_of_day_takes_the_date_of_the_nearest_full_timestamp() {
        let at = |tg: &str, start: &str| {
            let (t, flags, local) =
                sentinel_time(Some((tg.to_string(), false)), &[(start.to_string(), false)]);
            assert_eq!(flags, flag::TIME_RECONSTRUCTED);
            assert!(!local);
            t.unwrap()
        };
        assert_eq!(
            at("12:36 PM", "6/15/2026, 12:40:59.556 PM"),
            "2026-06-15T12:36:00Z"
        );
        // Ingested after midnight: the event was the day before.
        assert_eq!(
            at("11:58 PM", "6/16/2026, 12:03:10.000 AM"),
            "2026-06-15T23:58:00Z"
        );
        assert_eq!(
            at("23:58:30", "2026-06-16T00:01:00Z"),
            "2026-06-15T23:58:30Z"
        );
        // A full TimeGenerated is kept as it is; no TimeGenerated takes Start_Time, flagged.
        let (t, flags, _) = sentinel_time(
            Some(("6/15/2026, 12:36:01.000 PM".into(), false)),
            &[("6/15/2026, 12:40:59.556 PM".into(), false)],
        );
        assert_eq!(
            (t.as_deref(), flags),
            (Some("6/15/2026, 12:36:01.000 PM"), 0)
        );
        let (t, flags, local) = sentinel_time(
            None,
            &[
                ("6/15/2026, 12:44:00.000 PM".into(), true),
                ("6/15/2026, 12:40:59.556 PM".into(), true),
            ],
        );
        assert_eq!(t.as_deref(), Some("2026-06-15T12:40:59.556Z"));
        assert_eq!(flags, flag::TIME_RECONSTRUCTED);
        assert!(local);
        assert_eq!(
            time_column("TimeGenerated [Local Time]"),
            Some(("TimeGenerated", true))
        );
        assert_eq!(time_column("Start_Time [UTC]"), Some(("Start_Time", false)));
        assert_eq!(time_column("Operation"), None);
    }

    #[test]
    fn python_dicts_decode_with_their_escapes_and_quotes() {
        let repr = r#"{'CreationTime': '2024-03-12T00:33:20', 'Folders': [{'Path': '\\Inbox', 'FolderItems': []}], 'IsThrottled': False, 'Subject': "it's \"q\"", 'Name': 'say "hi"\x00\n', 'N': -1.5e3, 'T': (1, None), 'U': '\u00e9\U0001F600'}"#;
        let v = crate::parse::lenient::python_literal(repr).expect("a Python dict");
        assert_eq!(v["Folders"][0]["Path"], "\\Inbox");
        assert_eq!(v["IsThrottled"], false);
        assert_eq!(v["Subject"], "it's \"q\"");
        assert_eq!(v["Name"], "say \"hi\"\u{0}\n");
        assert_eq!(v["N"], -1500.0);
        assert_eq!(v["T"], serde_json::json!([1, null]));
        assert_eq!(v["U"], "é😀");
        for not in ["None", "{'a': b'x'}", "{'a': 'open}", "{'a': nan}"] {
            assert!(
                crate::parse::lenient::python_literal(not).is_none(),
                "{not}"
            );
        }
    }

    #[test]
    fn rows_of_other_hunting_tables_are_told_by_their_columns() {
        let ldap: Map<String, Value> = serde_json::from_str(r#"{"":"5","Timestamp":"2024-03-12T01:52:44Z","ActionType":"LdapSearch","Application":"Active Directory","RawEventData":"None","QueryType":"AllGroupsOfUser","Protocol":"Ldap","OAuthAppId":"None"}"#).unwrap();
        assert!(
            matches!(cloud_app_events_row(ldap, Format::CloudAppEventsCsv), Reshaped::Other(why) if why.contains("QueryType"))
        );
        // Without columns of another table, a row that lost its RawEventData is rejected.
        let lost: Map<String, Value> = serde_json::from_str(
            r#"{"":"3","Timestamp":"2024-03-12T01:52:44Z","ActionType":"MailItemsAccessed","RawEventData":"None"}"#,
        )
        .unwrap();
        assert!(matches!(
            cloud_app_events_row(lost, Format::CloudAppEventsCsv),
            Reshaped::Rejected(why) if why.contains("without RawEventData")
        ));
        let unreadable: Map<String, Value> = serde_json::from_str(
            r#"{"ActionType":"MailItemsAccessed","RawEventData":"{'CreationTime': datetime.datetime(2024, 3, 12, 0, 33, 20)}"}"#,
        )
        .unwrap();
        assert!(matches!(
            cloud_app_events_row(unreadable, Format::CloudAppEventsCsv),
            Reshaped::Rejected(why) if why.contains("neither a JSON object nor a Python dict")
        ));
    }

    #[test]
    fn bracket_and_dot_keys_split_like_underscore_keys() {
        assert_eq!(
            key_parts("Folders[0].FolderItems[12].InternetMessageId"),
            ["Folders", "0", "FolderItems", "12", "InternetMessageId"]
        );
        assert_eq!(
            key_parts("AppAccessContext.AADSessionId"),
            ["AppAccessContext", "AADSessionId"]
        );
        assert_eq!(key_parts("Folders_0_Path"), ["Folders", "0", "Path"]);
        let row: Map<String, Value> = serde_json::from_str(
            r#"{"Operation":"UserLoggedIn","DeviceProperties[0].Name":"OS","DeviceProperties[0].Value":"Windows 10","Client_IPAddress":"x"}"#,
        )
        .unwrap();
        let c = record(columns_row(row, Format::AuditDataColumnsCsv));
        assert_eq!(c.audit_data["DeviceProperties"][0]["Value"], "Windows 10");
        assert_eq!(c.audit_data["Client_IPAddress"], "x");
        assert_eq!(c.damage, flag::FLATTENED_FIELDS);
        assert_eq!(key_parts("Parameters[0]x.Name"), ["Parameters[0]x.Name"]);
        assert_eq!(key_parts("Parameters[0.Name"), ["Parameters[0.Name"]);
        assert_eq!(key_parts("Folders..Path"), ["Folders..Path"]);
    }

    #[test]
    fn keys_of_hostile_depth_stay_flat() {
        let deep_dots = format!("o365.audit.{}x", "a.".repeat(100_000));
        let deep_flat = format!("Folders_{}x", "0_".repeat(100_000));
        let row: Map<String, Value> = [
            (deep_dots, Value::from("v")),
            (deep_flat, Value::from("v")),
            ("Operation".to_string(), Value::from("Send")),
            ("Folders_1000000_Path".to_string(), Value::from("\\Inbox")),
        ]
        .into_iter()
        .collect();
        assert!(matches!(
            elastic_doc(row.clone(), Format::ElasticCsv),
            Reshaped::Other(_)
        ));
        let c = record(columns_row(row, Format::AuditDataColumnsCsv));
        assert_eq!(c.audit_data["Operation"], "Send");
        assert!(
            c.audit_data["Folders"]
                .as_array()
                .is_none_or(|f| f.len() < 2)
        );
    }

    #[test]
    fn responses_hold_rows_at_their_offsets() {
        let page = r##"{"@odata.context":"x","value":[{"id":"g1","createdDateTime":"2024-03-12T02:14:07Z","auditLogRecordType":"exchangeItemAggregated","operation":"MailItemsAccessed","auditData":{"@odata.type":"#microsoft.graph.security.auditData","Id":"g1","Operation":"MailItemsAccessed","Workload":"Exchange"}}],"@odata.nextLink":"y"}"##;
        let rows = reshape_object(page).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(&page[rows[0].0..rows[0].0 + 6], r#"{"id":"#);
        let c = record(rows.into_iter().next().unwrap().1);
        assert!(!c.audit_data.contains_key("@odata.type"));
        assert_eq!(c.audit_data["RecordType"], 50);
        assert!(
            reshape_object(r#"{"CreationTime":"2024-03-12T02:14:07","Operation":"Send"}"#)
                .is_none()
        );
    }
}
