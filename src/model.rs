//! The normalized record every parser produces, whatever export it came from.

use serde::Serialize;
use std::borrow::Cow;

pub mod inventory_rows;
pub use inventory_rows::InventoryRows;

/// Microseconds since the Unix epoch, UTC. One integer keeps sorting and windowing exact.
pub type Micros = i64;

/// Every input format mailscope understands. Detected from content, never from the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// Purview audit search export: `RecordId,CreationDate,RecordType,Operation,UserId,AuditData[,…]`.
    PurviewCsv,
    /// Classic portal "Download all results": `CreationDate,UserIds,Operations,AuditData`.
    ClassicCsv,
    /// `Search-UnifiedAuditLog | Export-Csv` (any column order, `#TYPE` line, enum RecordType).
    UnifiedAuditLogCsv,
    /// `Search-MailboxAuditLog -ShowDetails | Export-Csv` (one column per property, no AuditData).
    MailboxAuditLogCsv,
    /// A JSON array of AuditData objects.
    AuditDataJson,
    /// JSON Lines, one AuditData object per line.
    AuditDataJsonl,
    /// EAC mailbox audit log export `SearchResult.xml`.
    MailboxAuditXml,
    /// EAC administrator audit log export `SearchResult.xml`.
    AdminAuditXml,
    /// Microsoft Sentinel / Log Analytics `OfficeActivity` rows, portal CSV export.
    SentinelCsv,
    /// `OfficeActivity` rows as JSON: the Log Analytics REST response, `az monitor
    /// log-analytics query` output, or a list of row objects.
    SentinelJson,
    /// Defender XDR advanced hunting `CloudAppEvents`, portal CSV export (`RawEventData` text).
    CloudAppEventsCsv,
    /// `CloudAppEvents` as JSON: the hunting API or Graph `runHuntingQuery` response, or the
    /// streaming API's Event Hub / storage records.
    CloudAppEventsJson,
    /// Microsoft Graph audit log query records (`auditLogRecord`), as a collector's CSV.
    GraphAuditCsv,
    /// Graph `auditLogRecord`s as JSON: response pages, arrays or JSON Lines.
    GraphAuditJson,
    /// Elastic `o365` integration documents (elasticdump, `_search` responses).
    ElasticJson,
    /// A Kibana CSV export of `o365.audit` documents.
    ElasticCsv,
    /// Splunk `o365:management:activity` search results as JSON (`result._raw`).
    SplunkJson,
    /// Splunk search results as CSV with a `_raw` column.
    SplunkCsv,
    /// AuditData with one column per field (Hawk, Extractor-Suite `-AuditDataOnly`,
    /// `ConvertFrom-Json | Export-Csv`), nested values as text or flattened (`Folders_0_Path`).
    AuditDataColumnsCsv,
    /// Message inventory: `Get-MessageTrace` / `Get-MessageTraceV2 | Export-Csv` (one row per
    /// recipient).
    MessageTraceCsv,
    /// Message inventory: a message trace report from the Exchange admin center (enhanced
    /// summary or extended; `sender_address`, `message_id`, often UTF-16).
    MessageTraceReportCsv,
    /// Message inventory: Graph `exchangeMessageTrace` JSON (pages, arrays, JSON Lines).
    GraphMessageTraceJson,
    /// Message inventory: `Get-MessageTrace` / `Get-MessageTraceV2 | ConvertTo-Json`, or the
    /// Reporting Web Service's `MessageTrace` OData JSON (`{"d":{"results":[…]}}`): PascalCase
    /// `MessageId`, `SenderAddress`, `RecipientAddress`, `Received` (one object per recipient).
    MessageTraceJson,
    /// Message inventory: an on-premises Exchange message tracking log (`MSGTRK*.LOG`: W3C
    /// `#Software`/`#Version`/`#Log-type`/`#Date`/`#Fields:` lines, then one CSV line per event).
    MessageTrackingLog,
    /// Message inventory: a Purview eDiscovery / Content search export item report.
    EdiscoveryItemsCsv,
    /// Message inventory: Defender XDR `EmailEvents` (one row per recipient).
    EmailEventsCsv,
    /// Message inventory: Defender XDR `EmailEvents` from the streaming API (Event Hub
    /// `{"records":[…]}` or storage `PT1H.json` lines), the row under `properties`.
    EmailEventsJson,
    /// Message inventory: any CSV whose columns the user mapped (`--inventory-map`).
    MappedInventoryCsv,
    /// Message inventory: Elastic's Microsoft Exchange Online Message Trace integration, its
    /// ECS documents (`microsoft.online_message_trace.*`, `email.*`; NDJSON, `_source` hits,
    /// a `_search` response), one per message and recipient.
    ElasticMessageTraceJson,
}

/// One name for a format everywhere (inspect text and JSON, the frame's `format` column, the
/// report): `as_str`.
impl Serialize for Format {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Format {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Format, D::Error> {
        let name = String::deserialize(d)?;
        Format::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown format '{name}'")))
    }
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::PurviewCsv => "purview-csv",
            Format::ClassicCsv => "classic-csv",
            Format::UnifiedAuditLogCsv => "unified-audit-log-csv",
            Format::MailboxAuditLogCsv => "mailbox-audit-log-csv",
            Format::AuditDataJson => "auditdata-json",
            Format::AuditDataJsonl => "auditdata-jsonl",
            Format::MailboxAuditXml => "mailbox-audit-xml",
            Format::AdminAuditXml => "admin-audit-xml",
            Format::SentinelCsv => "sentinel-officeactivity-csv",
            Format::SentinelJson => "sentinel-officeactivity-json",
            Format::CloudAppEventsCsv => "defender-cloudappevents-csv",
            Format::CloudAppEventsJson => "defender-cloudappevents-json",
            Format::GraphAuditCsv => "graph-auditlog-csv",
            Format::GraphAuditJson => "graph-auditlog-json",
            Format::ElasticJson => "elastic-o365-json",
            Format::ElasticCsv => "elastic-o365-csv",
            Format::SplunkJson => "splunk-o365-json",
            Format::SplunkCsv => "splunk-o365-csv",
            Format::AuditDataColumnsCsv => "auditdata-columns-csv",
            Format::MessageTraceCsv => "message-trace-csv",
            Format::MessageTraceReportCsv => "message-trace-report-csv",
            Format::GraphMessageTraceJson => "graph-message-trace-json",
            Format::MessageTraceJson => "message-trace-json",
            Format::MessageTrackingLog => "exchange-message-tracking-log",
            Format::EmailEventsJson => "defender-emailevents-json",
            Format::EdiscoveryItemsCsv => "ediscovery-items-csv",
            Format::EmailEventsCsv => "defender-emailevents-csv",
            Format::MappedInventoryCsv => "mapped-inventory-csv",
            Format::ElasticMessageTraceJson => "elastic-message-trace-json",
        }
    }

    /// A message inventory (subjects, senders, recipients), not audit records.
    pub fn is_inventory(self) -> bool {
        matches!(
            self,
            Format::MessageTraceCsv
                | Format::MessageTraceReportCsv
                | Format::GraphMessageTraceJson
                | Format::MessageTraceJson
                | Format::MessageTrackingLog
                | Format::EmailEventsJson
                | Format::EdiscoveryItemsCsv
                | Format::EmailEventsCsv
                | Format::MappedInventoryCsv
                | Format::ElasticMessageTraceJson
        )
    }

    /// AuditData fields the scope rules use that this shape never carries: the report says so
    /// per mailbox (a SIEM that dropped a field cannot show what the field would have shown).
    /// The `OfficeActivity` table has no SessionId, AppAccessContext or OperationCount column.
    pub fn dropped_fields(self) -> &'static [DroppedField] {
        match self {
            Format::SentinelCsv | Format::SentinelJson => {
                &[DroppedField::SessionId, DroppedField::OperationCount]
            }
            _ => &[],
        }
    }

    pub const ALL: [Format; 29] = [
        Format::PurviewCsv,
        Format::ClassicCsv,
        Format::UnifiedAuditLogCsv,
        Format::MailboxAuditLogCsv,
        Format::AuditDataJson,
        Format::AuditDataJsonl,
        Format::MailboxAuditXml,
        Format::AdminAuditXml,
        Format::SentinelCsv,
        Format::SentinelJson,
        Format::CloudAppEventsCsv,
        Format::CloudAppEventsJson,
        Format::GraphAuditCsv,
        Format::GraphAuditJson,
        Format::ElasticJson,
        Format::ElasticCsv,
        Format::SplunkJson,
        Format::SplunkCsv,
        Format::AuditDataColumnsCsv,
        Format::MessageTraceCsv,
        Format::MessageTraceReportCsv,
        Format::GraphMessageTraceJson,
        Format::EdiscoveryItemsCsv,
        Format::EmailEventsCsv,
        Format::MappedInventoryCsv,
        Format::MessageTraceJson,
        Format::MessageTrackingLog,
        Format::EmailEventsJson,
        Format::ElasticMessageTraceJson,
    ];

    /// The format `as_str` names.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

/// A field the scope rules use that a source shape does not carry (`Format::dropped_fields`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DroppedField {
    /// SessionId and AppAccessContext (AADSessionId, UniqueTokenId): session linking.
    SessionId,
    /// OperationCount: a bind that accessed more messages than it lists.
    OperationCount,
}

/// The values parsers give `Record::time_source`: which field and rule produced `time`.
pub mod time_source {
    pub const AUDITDATA_CREATION_TIME: &str = "AuditData.CreationTime";
    pub const CREATION_DATE: &str = "CreationDate";
    pub const LAST_ACCESSED: &str = "LastAccessed";
    pub const LAST_ACCESSED_WITH_OFFSET: &str = "LastAccessed (offset applied)";
    pub const RUN_DATE: &str = "RunDate";
    pub const CULTURE_MONTH_FIRST: &str = "culture date (month/day/year, UTC)";
    pub const CULTURE_DAY_FIRST: &str = "culture date (day/month/year, UTC)";
    pub const CULTURE_YEAR_FIRST: &str = "culture date (year first, UTC)";
    /// The time column of a SIEM or collector row (TimeGenerated, Timestamp, createdDateTime,
    /// @timestamp, _time) where the record's own CreationTime is missing.
    pub const SOURCE_TIME: &str = "source time column";
    /// A `[Local Time]` column (the portal's display zone set to local) read as UTC: no
    /// `--input-tz` said which zone.
    pub const LOCAL_AS_UTC: &str = "local time column read as UTC (no --input-tz)";
    /// A `[Local Time]` column read in the `--input-tz` zone.
    pub const LOCAL_INPUT_TZ: &str = "local time column read in --input-tz";
}

/// Every value of `time_source`.
pub const TIME_SOURCES: &[&str] = &[
    time_source::AUDITDATA_CREATION_TIME,
    time_source::CREATION_DATE,
    time_source::LAST_ACCESSED,
    time_source::LAST_ACCESSED_WITH_OFFSET,
    time_source::RUN_DATE,
    time_source::CULTURE_MONTH_FIRST,
    time_source::CULTURE_DAY_FIRST,
    time_source::CULTURE_YEAR_FIRST,
    time_source::SOURCE_TIME,
    time_source::LOCAL_AS_UTC,
    time_source::LOCAL_INPUT_TZ,
];

/// The static `time_source` with this text (`""` for none known): frames store it as a string.
pub fn time_source_name(text: &str) -> &'static str {
    TIME_SOURCES
        .iter()
        .find(|t| **t == text)
        .copied()
        .unwrap_or("")
}

/// One audit record, normalized. Strings that identify things (mailbox, IP) are normalized
/// here once so that every later stage compares like with like. Text is borrowed from the input
/// where it can be (`Record<'static>` owns all of it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record<'a> {
    pub time: Micros,
    /// Which field and rule produced `time` (e.g. `AuditData.CreationTime`), for the analyst.
    pub time_source: &'static str,
    pub record_id: Cow<'a, str>,
    /// Index into the list of input files of the run.
    pub file: u32,
    /// 1-based line where the record starts in its file.
    pub line: u64,
    pub format: Option<Format>,
    pub workload: Option<Cow<'a, str>>,
    pub operation: Cow<'a, str>,
    pub record_type: Option<Cow<'a, str>>,
    /// Lowercased mailbox UPN (or GUID / XML owner when no UPN): the mailbox accessed.
    pub mailbox: Option<Cow<'a, str>>,
    pub mailbox_guid: Option<Cow<'a, str>>,
    pub actor: Option<Cow<'a, str>>,
    pub actor_sid: Option<Cow<'a, str>>,
    pub logon_type: Option<Cow<'a, str>>,
    /// Normalized client IP (`[v6]:port` → `v6`, `v4:port` → `v4`, `::ffff:v4` → `v4`).
    pub client_ip: Option<Cow<'a, str>>,
    pub client_port: Option<u16>,
    /// A client name where an address was expected (`localhost`, a server name): never an IP.
    pub client_host: Option<Cow<'a, str>>,
    pub client_info: Option<Cow<'a, str>>,
    pub session_id: Option<Cow<'a, str>>,
    pub aad_session_id: Option<Cow<'a, str>>,
    pub token_id: Option<Cow<'a, str>>,
    pub app_id: Option<Cow<'a, str>>,
    pub client_app_id: Option<Cow<'a, str>>,
    /// `Bind` or `Sync` for MailItemsAccessed.
    pub mail_access_type: Option<Cow<'a, str>>,
    pub is_throttled: bool,
    pub operation_count: Option<i64>,
    pub result_status: Option<Cow<'a, str>>,
    /// Record-level folder (legacy `FolderPathName`, group record `Folder.Path`).
    pub folder_path: Option<Cow<'a, str>>,
    /// Short human summary of cmdlet parameters and other detail worth citing.
    pub detail: Option<Cow<'a, str>>,
    /// Where the record sends mail: the recipients an inbox rule forwards or redirects to, or a
    /// mailbox's forwarding address; lowercased, sorted, joined by `; `.
    pub forward_to: Option<Cow<'a, str>>,
    /// What the record changes about forwarding (`parse::forwarding`), as JSON.
    pub forwarding: Option<Cow<'a, str>>,
    /// A content-search step, a grant or a search text (`parse::exposure`), as JSON.
    pub exposure: Option<Cow<'a, str>>,
    pub items: Vec<Item<'a>>,
    /// What the parser had to make of a damaged or re-shaped field (`flag::…` bits). Counted
    /// per file into warnings (`parse::Flagged`); not a column of the frame.
    pub flags: u8,
}

/// `Record::flags`: what was wrong with a field the record was still read with.
pub mod flag {
    use crate::warning::WarningCode;

    /// `OperationCount` was no count (`1e29`, `inf`, `NaN`, negative, fractional): read as
    /// unknown instead of clamped.
    pub const UNREADABLE_COUNT: u8 = 1;
    /// A list or object arrived as text (JSON in a string, PowerShell `@{K=V}`) and was decoded.
    pub const FLATTENED_FIELDS: u8 = 2;
    /// Content was destroyed before the export (`System.Object[]`): what it held is unknown.
    pub const CONTENT_LOST: u8 = 4;
    /// `OperationProperties` lost: MailAccessType and IsThrottled unknown (scoped as a throttled
    /// Sync: the widest either could have been).
    pub const PROPERTIES_LOST: u8 = 8;
    /// `Folders` lost: the folders and messages a Bind named are unknown.
    pub const FOLDERS_LOST: u8 = 16;
    /// A string with an invalid escape or lone surrogate (`\ud800`): replaced by U+FFFD; or
    /// with a raw control character (a NUL some exporters leave): escaped.
    pub const REPAIRED_STRINGS: u8 = 32;
    /// Rebuilt from a SIEM's renamed and moved fields: the verbatim record was not exported.
    pub const RECONSTRUCTED: u8 = 64;
    /// The time was rebuilt: the row's time column held only the time of day (a spreadsheet's
    /// display format) or was not exported, and the date or the time came from an
    /// ingestion-side column.
    pub const TIME_RECONSTRUCTED: u8 = 128;

    /// Every flag, with the warning code and what it means, for the file's notes.
    pub const ALL: &[(u8, WarningCode, &str)] = &[
        (
            UNREADABLE_COUNT,
            WarningCode::UnreadableCount,
            "with an OperationCount that is not a count (1e29, inf, NaN, negative or fractional): read as unknown",
        ),
        (
            FLATTENED_FIELDS,
            WarningCode::FlattenedFields,
            "with nested values written as text (JSON in a string, PowerShell @{Name=…; Value=…}, a Python dict) or one column per field (Folders[0].Path, Folders_0_Path): decoded",
        ),
        (
            CONTENT_LOST,
            WarningCode::ContentLost,
            "with values destroyed before export (PowerShell's System.Object[], Power Query's [List]): unknown, and scope assumes the widest",
        ),
        (
            PROPERTIES_LOST,
            WarningCode::AccessTypeLost,
            "whose OperationProperties were lost: MailAccessType and IsThrottled unknown, read as '(lost in export)' and scoped as a throttled Sync",
        ),
        (
            FOLDERS_LOST,
            WarningCode::FoldersLost,
            "whose Folders were lost: a Bind's folder is '(folder lost in export)' and its messages unresolved",
        ),
        (
            REPAIRED_STRINGS,
            WarningCode::RepairedStrings,
            "with invalid escapes or lone surrogates in strings (\\ud800): replaced by U+FFFD, or raw control characters in strings: escaped",
        ),
        (
            RECONSTRUCTED,
            WarningCode::Reconstructed,
            "rebuilt from the SIEM's renamed fields (the verbatim record was not kept): fields the SIEM did not keep are unknown",
        ),
        (
            TIME_RECONSTRUCTED,
            WarningCode::TimeReconstructed,
            "whose time was rebuilt: TimeGenerated held only the time of day (the date taken from Start_Time or ElevationTime, the day before when the time of day is later), or was not exported (the time taken from Start_Time, the ingestion time, minutes after the event); times are to the minute or later than the event",
        ),
    ];

    /// The MailAccessType of a MailItemsAccessed record whose properties were lost.
    pub const ACCESS_TYPE_LOST: &str = "(lost in export)";
    /// The folder of a Bind whose Folders were lost.
    pub const FOLDER_LOST: &str = "(folder lost in export)";
}

/// One row of a message inventory: what it says about one message (a message trace has one
/// row per recipient; the rows of one message are merged later).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventoryRow {
    /// Normalized like `Item::internet_message_id` (no brackets, lowercase).
    pub internet_message_id: String,
    pub subject: Option<String>,
    /// Lowercased address.
    pub sender: Option<String>,
    /// Lowercased addresses.
    pub recipients: Vec<String>,
    pub received: Option<Micros>,
    pub size: Option<i64>,
    /// `inbound`, `outbound`, `intra-org`, or as written.
    pub direction: Option<String>,
    /// The mailbox the item was found in (eDiscovery location), lowercased.
    pub mailbox: Option<String>,
    pub folder: Option<String>,
    pub item_id: Option<String>,
    pub line: u64,
    /// How many rows of the file this is: rows of one message one after another that differ
    /// in their recipients only are read as one (0 counts as 1).
    pub rows: u32,
}

/// One item (message or folder) a record names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Item<'a> {
    pub folder_path: Option<Cow<'a, str>>,
    pub folder_id: Option<Cow<'a, str>>,
    /// Normalized: surrounding `<>` and whitespace stripped, lowercased.
    pub internet_message_id: Option<Cow<'a, str>>,
    pub internet_message_id_raw: Option<Cow<'a, str>>,
    pub subject: Option<Cow<'a, str>>,
    pub item_id: Option<Cow<'a, str>>,
    pub size: Option<i64>,
}

fn owned(s: Option<Cow<'_, str>>) -> Option<Cow<'static, str>> {
    s.map(|s| Cow::Owned(s.into_owned()))
}

impl<'a> Record<'a> {
    /// The client from `ip::pick`: the address (and port), and a name that was no address.
    #[allow(clippy::type_complexity)]
    pub fn set_client(
        &mut self,
        (address, host): (Option<(Cow<'a, str>, Option<u16>)>, Option<Cow<'a, str>>),
    ) {
        if let Some((ip, port)) = address {
            self.client_ip = Some(ip);
            self.client_port = port;
        }
        self.client_host = host;
    }

    /// The record with all its text owned, free of the input it was read from.
    pub fn into_owned(self) -> Record<'static> {
        Record {
            time: self.time,
            time_source: self.time_source,
            record_id: Cow::Owned(self.record_id.into_owned()),
            file: self.file,
            line: self.line,
            format: self.format,
            workload: owned(self.workload),
            operation: Cow::Owned(self.operation.into_owned()),
            record_type: owned(self.record_type),
            mailbox: owned(self.mailbox),
            mailbox_guid: owned(self.mailbox_guid),
            actor: owned(self.actor),
            actor_sid: owned(self.actor_sid),
            logon_type: owned(self.logon_type),
            client_ip: owned(self.client_ip),
            client_port: self.client_port,
            client_host: owned(self.client_host),
            client_info: owned(self.client_info),
            session_id: owned(self.session_id),
            aad_session_id: owned(self.aad_session_id),
            token_id: owned(self.token_id),
            app_id: owned(self.app_id),
            client_app_id: owned(self.client_app_id),
            mail_access_type: owned(self.mail_access_type),
            is_throttled: self.is_throttled,
            operation_count: self.operation_count,
            result_status: owned(self.result_status),
            folder_path: owned(self.folder_path),
            detail: owned(self.detail),
            forward_to: owned(self.forward_to),
            forwarding: owned(self.forwarding),
            exposure: owned(self.exposure),
            items: self.items.into_iter().map(Item::into_owned).collect(),
            flags: self.flags,
        }
    }
}

impl Item<'_> {
    pub fn into_owned(self) -> Item<'static> {
        Item {
            folder_path: owned(self.folder_path),
            folder_id: owned(self.folder_id),
            internet_message_id: owned(self.internet_message_id),
            internet_message_id_raw: owned(self.internet_message_id_raw),
            subject: owned(self.subject),
            item_id: owned(self.item_id),
            size: self.size,
        }
    }
}

/// Normalize an InternetMessageId for comparison: trim, strip `<>`, lowercase. Borrowed when
/// no letter needs lowering.
pub fn normalize_message_id(raw: &str) -> Option<Cow<'_, str>> {
    let t = raw.trim();
    let t = t.strip_prefix('<').unwrap_or(t);
    let t = t.strip_suffix('>').unwrap_or(t).trim();
    if t.is_empty() {
        None
    } else if t.bytes().any(|b| b.is_ascii_uppercase()) {
        Some(Cow::Owned(t.to_ascii_lowercase()))
    } else {
        Some(Cow::Borrowed(t))
    }
}

/// `normalize_message_id` of text that may be borrowed from the input, keeping the borrow.
pub fn normalized_message_id<'a>(raw: &Cow<'a, str>) -> Option<Cow<'a, str>> {
    match raw {
        Cow::Borrowed(s) => normalize_message_id(s),
        Cow::Owned(s) => normalize_message_id(s).map(|id| Cow::Owned(id.into_owned())),
    }
}

/// Lowercased (as `str::to_lowercase`), borrowed when it already is.
pub fn lowercased(s: Cow<'_, str>) -> Cow<'_, str> {
    if s.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        s
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

/// Empty strings in exports mean "absent".
pub fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    if t.is_empty() {
        None
    } else {
        Some(t.to_string())
    }
}

pub fn is_mail_items_accessed(op: &str) -> bool {
    op.eq_ignore_ascii_case("MailItemsAccessed")
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn message_ids_are_normalized() {
        assert_eq!(
            normalize_message_id(" <AbC@Host> ").as_deref(),
            Some("abc@host")
        );
        assert_eq!(normalize_message_id("x@y").as_deref(), Some("x@y"));
        assert_eq!(normalize_message_id("<>"), None);
    }

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.as_str()), Some(f));
        }
    }
}
