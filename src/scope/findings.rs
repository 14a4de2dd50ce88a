//! What the scope engine finds, per mailbox and for the run: the verdict, the reasons and the
//! evidence behind each (record ids). Owned by the engine; `report` adds provenance and renders.

use serde::Serialize;
use std::sync::Arc;

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct RecordCounts {
    pub read: u64,
    pub unique: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// Rows of SIEM exports that are no Microsoft 365 audit record: skipped, counted.
    #[serde(skip_serializing_if = "is_zero")]
    pub not_mailbox_audit: u64,
    pub out_of_window: u64,
    pub attacker: u64,
    pub linked: u64,
    pub trusted: u64,
    pub other: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    None,
    Messages,
    Folders,
    EntireMailbox,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::None => "none",
            Verdict::Messages => "messages",
            Verdict::Folders => "folders",
            Verdict::EntireMailbox => "entire-mailbox",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct MailboxScope {
    pub mailbox: String,
    pub verdict: Verdict,
    pub reasons: Vec<Reason>,
    pub throttled_windows: Vec<ThrottledWindow>,
    pub synced_folders: Vec<FolderHit>,
    pub folders: Vec<FolderHit>,
    pub messages: Vec<MessageHit>,
    pub unresolved: Vec<Unresolved>,
    pub actions: Vec<Action>,
    pub contexts: Vec<AccessContext>,
    /// Records of this mailbox over time by attribution, for charts.
    pub timeline: Timeline,
    /// Any MailItemsAccessed / FolderBind / MessageBind record for this mailbox in the inputs.
    pub access_auditing: bool,
    /// What these findings cannot show because of the records' sources (a SIEM that dropped
    /// a field the rules use).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub caveats: Vec<String>,
    /// Inventory messages of this mailbox no audit record names, assumed compromised with the
    /// whole mailbox or their folder (`notification::join`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub assumed_messages: Vec<super::notification::AssumedMessage>,
    /// When the exposure ended (last attacker activity or unaudited window).
    #[serde(skip)]
    pub exposure_end: Option<crate::model::Micros>,
}

/// Counts of a mailbox's records in equal time buckets, split by attribution.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Timeline {
    pub start: String,
    pub bucket_seconds: i64,
    pub buckets: Vec<TimelineBucket>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct TimelineBucket {
    pub attacker: u64,
    pub linked: u64,
    pub trusted: u64,
    pub other: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Reason {
    pub rule: &'static str,
    pub detail: String,
    pub records: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ThrottledWindow {
    pub start: String,
    pub end: String,
    /// The throttled record that opened the (first) window.
    pub record_id: String,
    pub records: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FolderHit {
    pub path: String,
    pub reason: &'static str,
    pub first_seen: String,
    pub last_seen: String,
    pub records: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MessageHit {
    /// Empty for a message known only by its item id (`item_id`).
    pub internet_message_id: String,
    /// The store item id, for a message the record names without an InternetMessageId
    /// (AttachmentAccess).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_id: Option<String>,
    pub folder: Option<String>,
    pub subject: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
    /// `bind` (MailItemsAccessed), `message-bind` (legacy audit), `attachment`
    /// (AttachmentAccess: its attachments were read).
    pub access: String,
    pub attribution: String,
    pub records: Vec<String>,
    /// What a message inventory says of it (sender, recipients, date), when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<super::notification::Metadata>,
}

impl MessageHit {
    /// How the report names the message: its InternetMessageId, else its item id.
    pub fn label(&self) -> String {
        match &self.item_id {
            Some(id) if self.internet_message_id.is_empty() => format!("item {id}"),
            _ => self.internet_message_id.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Unresolved {
    pub record_id: String,
    pub time: String,
    pub folders: Vec<String>,
    pub operation_count: Option<i64>,
    pub message_ids_listed: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Action {
    pub time: String,
    pub operation: String,
    pub record_id: String,
    pub attribution: String,
    pub client_ip: Option<String>,
    pub session_id: Option<String>,
    pub folder: Option<String>,
    pub items: Vec<ActionItem>,
    pub detail: Option<String>,
    pub source: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ActionItem {
    pub internet_message_id: Option<String>,
    pub subject: Option<String>,
    pub item_id: Option<String>,
    pub folder: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AccessContext {
    pub client_ip: Option<Arc<str>>,
    pub session_id: Option<Arc<str>>,
    pub client_info: Option<Arc<str>>,
    pub app_id: Option<Arc<str>>,
    pub actor: Option<Arc<str>>,
    pub logon_type: Option<Arc<str>>,
    /// `attacker`, `linked`, `trusted` or `other`.
    pub attribution: &'static str,
    /// The indicator or session behind the attribution.
    pub why: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub records: u64,
    pub binds: u64,
    pub syncs: u64,
    pub messages: u64,
    pub folders: u64,
}
