//! The normalized record every parser produces, whatever export it came from.

use serde::Serialize;

/// Microseconds since the Unix epoch, UTC. One integer keeps sorting and windowing exact.
pub type Micros = i64;

/// Every input format mailscope understands. Detected from content, never from the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
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
        }
    }

    pub const ALL: [Format; 8] = [
        Format::PurviewCsv,
        Format::ClassicCsv,
        Format::UnifiedAuditLogCsv,
        Format::MailboxAuditLogCsv,
        Format::AuditDataJson,
        Format::AuditDataJsonl,
        Format::MailboxAuditXml,
        Format::AdminAuditXml,
    ];

    /// The format `as_str` names.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

/// Every value the parsers give `Record::time_source`.
pub const TIME_SOURCES: &[&str] = &[
    "AuditData.CreationTime",
    "CreationDate",
    "LastAccessed",
    "LastAccessed (offset applied)",
    "RunDate",
    "culture date (month/day/year, UTC)",
    "culture date (day/month/year, UTC)",
    "culture date (year first, UTC)",
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
/// here once so that every later stage compares like with like.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    pub time: Micros,
    /// Which field and rule produced `time` (e.g. `AuditData.CreationTime`), for the analyst.
    pub time_source: &'static str,
    pub record_id: String,
    /// Index into the list of input files of the run.
    pub file: u32,
    /// 1-based line where the record starts in its file.
    pub line: u64,
    pub format: Option<Format>,
    pub workload: Option<String>,
    pub operation: String,
    pub record_type: Option<String>,
    /// Lowercased mailbox UPN (or GUID / XML owner when no UPN): the mailbox accessed.
    pub mailbox: Option<String>,
    pub mailbox_guid: Option<String>,
    pub actor: Option<String>,
    pub actor_sid: Option<String>,
    pub logon_type: Option<String>,
    /// Normalized client IP (`[v6]:port` → `v6`, `v4:port` → `v4`, `::ffff:v4` → `v4`).
    pub client_ip: Option<String>,
    pub client_port: Option<u16>,
    pub client_info: Option<String>,
    pub session_id: Option<String>,
    pub aad_session_id: Option<String>,
    pub token_id: Option<String>,
    pub app_id: Option<String>,
    pub client_app_id: Option<String>,
    /// `Bind` or `Sync` for MailItemsAccessed.
    pub mail_access_type: Option<String>,
    pub is_throttled: bool,
    pub operation_count: Option<i64>,
    pub result_status: Option<String>,
    /// Record-level folder (legacy `FolderPathName`, group record `Folder.Path`).
    pub folder_path: Option<String>,
    /// Short human summary of cmdlet parameters and other detail worth citing.
    pub detail: Option<String>,
    pub items: Vec<Item>,
}

/// One item (message or folder) a record names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Item {
    pub folder_path: Option<String>,
    pub folder_id: Option<String>,
    /// Normalized: surrounding `<>` and whitespace stripped, lowercased.
    pub internet_message_id: Option<String>,
    pub internet_message_id_raw: Option<String>,
    pub subject: Option<String>,
    pub item_id: Option<String>,
    pub size: Option<i64>,
}

/// Normalize an InternetMessageId for comparison: trim, strip `<>`, lowercase.
pub fn normalize_message_id(raw: &str) -> Option<String> {
    let t = raw.trim();
    let t = t.strip_prefix('<').unwrap_or(t);
    let t = t.strip_suffix('>').unwrap_or(t).trim();
    if t.is_empty() {
        None
    } else {
        Some(t.to_ascii_lowercase())
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
