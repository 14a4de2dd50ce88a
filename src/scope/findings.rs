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

macro_rules! rules {
    ($($variant:ident = $name:literal => $verdict:ident,)*) => {
        /// A scope rule of `docs/scope-rules.md`, named in the JSON as there. A new rule is a
        /// line here, with the verdict it widens the scope to: it cannot be added without one.
        #[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Rule {
            $(#[serde(rename = $name)] $variant,)*
        }

        impl Rule {
            pub const ALL: &[Rule] = &[$(Rule::$variant,)*];

            /// The verdict the rule gives when it fires.
            pub fn verdict(self) -> Verdict {
                match self {
                    $(Rule::$variant => Verdict::$verdict,)*
                }
            }

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Rule::$variant => $name,)*
                }
            }
        }
    };
}

rules! {
    Throttled = "throttled" => EntireMailbox,
    AttackerSync = "attacker-sync" => EntireMailbox,
    Unauditable = "unauditable" => EntireMailbox,
    FolderBind = "folder-bind" => Folders,
    UnresolvedBind = "unresolved-bind" => Folders,
    Bind = "bind" => Messages,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Party {
    Attacker,
    Linked,
    Other,
    OutOfWindow,
    Trusted,
}

impl Party {
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Attacker => "attacker",
            Party::Linked => "linked",
            Party::Other => "other",
            Party::OutOfWindow => "out-of-window",
            Party::Trusted => "trusted",
        }
    }

    /// The attacker's own records and those linked to them by a session.
    pub fn is_attacker_activity(self) -> bool {
        matches!(self, Party::Attacker | Party::Linked)
    }
}

/// How a message in scope was reached: a MailItemsAccessed bind, a legacy MessageBind, or its
/// attachments read (AttachmentAccess). Variants in the order of their names.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum MessageAccess {
    Attachment,
    Bind,
    MessageBind,
}

impl MessageAccess {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageAccess::Attachment => "attachment",
            MessageAccess::Bind => "bind",
            MessageAccess::MessageBind => "message-bind",
        }
    }
}

macro_rules! display_as_name {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}
display_as_name!(Rule, Party, MessageAccess);

/// A set of names, written (JSON, CSV, text) as the names joined by commas.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameSet<T: Ord>(pub std::collections::BTreeSet<T>);

impl<T: Ord + std::fmt::Display> std::fmt::Display for NameSet<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (n, t) in self.0.iter().enumerate() {
            if n > 0 {
                f.write_str(",")?;
            }
            write!(f, "{t}")?;
        }
        Ok(())
    }
}

impl<T: Ord + std::fmt::Display> Serialize for NameSet<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
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
    pub assumed_messages: Vec<AssumedMessage>,
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
    pub rule: Rule,
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
    pub reason: Rule,
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
    pub access: NameSet<MessageAccess>,
    pub attribution: NameSet<Party>,
    pub records: Vec<String>,
    /// What a message inventory says of it (sender, recipients, date), when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
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
    pub attribution: Party,
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
    pub attribution: Party,
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

/// A message of the inventory that must be assumed compromised although no audit record names
/// it: its mailbox's whole content (or its folder) was exposed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AssumedMessage {
    pub internet_message_id: String,
    pub subject: Option<String>,
    pub sender: Option<String>,
    pub recipients: Vec<String>,
    pub date: Option<String>,
    /// `entire-mailbox (…rules)` or `folder \X`.
    pub why: String,
    /// The inventory row that lists it (`file:line`).
    pub source: String,
}

/// What a message inventory says about a message (`MessageHit::metadata`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Metadata {
    pub sender: Option<String>,
    pub recipients: Vec<String>,
    pub date: Option<String>,
    pub direction: Option<String>,
    pub source: String,
}

#[cfg(test)]
mod tests {
    use super::{Rule, Verdict};

    /// `docs/scope-rules.md` lists every rule with the verdict the code gives it, and no other.
    #[test]
    fn the_rule_table_of_the_rules_document_is_the_code() {
        let doc = include_str!("../../docs/scope-rules.md");
        let table = doc
            .split("`Rule::verdict` (`src/scope/findings.rs`), the whole table")
            .nth(1)
            .expect("the verdict table in docs/scope-rules.md");
        let rows: Vec<(String, String)> = table
            .lines()
            .skip_while(|l| !l.starts_with("| `"))
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                (cells[1].trim_matches('`').to_string(), cells[2].to_string())
            })
            .collect();
        let code: Vec<(String, String)> = Rule::ALL
            .iter()
            .map(|r| (r.as_str().to_string(), r.verdict().as_str().to_string()))
            .collect();
        assert_eq!(rows, code);
        assert!(Rule::ALL.iter().all(|r| r.verdict() != Verdict::None));
    }
}
