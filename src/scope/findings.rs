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
    // One rule id, two verdicts: a search whose query selects all mail exposed the whole
    // mailbox; any other query, the messages it can match.
    ContentSearchExportAllMail = "content-search-export" => EntireMailbox,
    FolderBind = "folder-bind" => Folders,
    UnresolvedBind = "unresolved-bind" => Folders,
    Bind = "bind" => Messages,
    Forwarded = "forwarded" => Messages,
    ContentSearchExport = "content-search-export" => Messages,
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
    /// The contexts that bear on the verdict: with attacker or linked records, or records an
    /// indicator gap cites. A mailbox has thousands of others at tenant scale; they are only
    /// counted (`contexts_left_out`) and `mailscope contexts` lists them.
    pub contexts: Vec<AccessContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contexts_left_out: Option<ContextsLeftOut>,
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
    /// Windows in which a forwarding the attacker set sent this mailbox's mail elsewhere
    /// (`scope::forwarding`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub forwarding: Vec<ForwardingWindow>,
    /// Mail the attacker sent from this mailbox.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sent_messages: Vec<SentMessage>,
    /// Content searches over this mailbox whose results the attacker exported, downloaded or
    /// previewed (`scope::searches`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub content_searches: Vec<SearchExposure>,
    /// What the attacker searched this mailbox for (`SearchQueryInitiated…`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub searched_for: Vec<SearchedFor>,
    /// When the exposure ended (last attacker activity or unaudited window).
    #[serde(skip)]
    pub exposure_end: Option<crate::model::Micros>,
}

/// A content search the attacker took the results of, as it concerns one mailbox.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SearchExposure {
    /// The search's name as the records write it.
    pub search: String,
    /// What the attacker did with the results: `exported`, `downloaded`, `previewed` …
    pub steps: Vec<String>,
    /// The first time the attacker took the results: mail that arrived later was not in them.
    pub time: String,
    /// The query the results were found with; `None` when no record gives it (taken as all
    /// mail).
    pub query: Option<String>,
    /// The query selects all mail (empty, `*`, or not recorded): the entire mailbox.
    pub all_mail: bool,
    /// The mailbox is in the search by `All` locations (or locations no record gives).
    pub by_all_locations: bool,
    pub records: Vec<String>,
    /// Inventory messages of the mailbox, up to `time`, that the query can match (with an
    /// inventory that has mail of the mailbox).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_messages: Option<u64>,
    /// No inventory shows the mailbox's mail: every message matching the query is exposed,
    /// unlisted.
    pub unresolved: bool,
    /// The last time the attacker took the results: the mail the results can hold.
    #[serde(skip)]
    pub until: crate::model::Micros,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SearchedFor {
    pub time: String,
    /// `exchange` (Outlook) or `sharepoint`.
    pub source: String,
    /// `None` with `--no-search-text`.
    pub text: Option<String>,
    pub record_id: String,
    pub attribution: Party,
}

/// A content search as its records show it (run level).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ContentSearch {
    pub search: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
    /// Locations as last recorded; `None` when no record gives them.
    pub locations: Option<Vec<String>>,
    /// Locations that name no mailbox of the evidence or the inventories (a group, a site, an
    /// unknown address): exposed too, but not listed as mailboxes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unresolved_locations: Vec<String>,
    pub query: Option<String>,
    pub steps: Vec<SearchStepSeen>,
    /// The attacker exported, downloaded or previewed its results.
    pub exposed: bool,
    /// Every mailbox: `All` locations (or none recorded): mailboxes outside the evidence too.
    pub all_mailboxes: bool,
    /// Mailboxes of the report this search exposed.
    pub mailboxes: Vec<String>,
    /// The attacker purged what it found: evidence destroyed.
    pub purged: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SearchStepSeen {
    pub step: String,
    pub time: String,
    pub record_id: String,
    pub attribution: Party,
    pub source: String,
}

/// A grant an attacker record made that opened mailboxes to an account or app, and what its
/// grantee did while it held it (run level).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GrantLink {
    pub kind: String,
    pub grantee: String,
    /// The mailbox opened; `None` for every mailbox (impersonation, an app's permission).
    pub mailbox: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
    pub rights: Vec<String>,
    pub time: String,
    pub record_id: String,
    pub attribution: Party,
    /// When and by which record the grant was taken away; `None`: held to the end of the
    /// evidence.
    pub removed: Option<String>,
    pub removed_by: Option<String>,
    /// Records of the grantee attributed `linked` by this grant, and their mailboxes.
    pub linked_records: u64,
    pub mailboxes: Vec<String>,
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
    /// The inventory row (`file:line`) that named an item the record gives by item id only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub named_from: Option<String>,
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
    /// ASN, organisation and country of the IP, from `--ip-db` (`contexts` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_info: Option<crate::ipdb::IpInfo>,
    /// The signals of the indicator gaps that cite its records (`scope::gaps`): why the scope
    /// report lists a context neither attacker nor linked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub indicator_gaps: Vec<&'static str>,
    /// Its records a gap of its share cites, with the signal: a run in several shares keeps
    /// the context only for those the run's gaps cite (`contexts::keep_the_runs_citations`).
    #[serde(skip)]
    pub gap_citations: Vec<(&'static str, String)>,
}

/// The access contexts of a mailbox the scope report does not list.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ContextsLeftOut {
    pub contexts: u64,
    pub records: u64,
    /// Where the full list is.
    pub listed_by: &'static str,
}

impl ContextsLeftOut {
    pub const LISTED_BY: &'static str = "mailscope contexts, on the same inputs (--mailbox for this mailbox), lists every access context";
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
    /// `entire-mailbox (…rules)`, `folder \X` or `forwarded`.
    pub why: String,
    /// The forwardings (the mailbox's windows, and transport rules) that sent it on, with
    /// whether the inventory shows the copy arriving.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub forwarded_by: Vec<ForwardedBy>,
    /// The inventory row that lists it (`file:line`).
    pub source: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ForwardedBy {
    pub kind: ForwardingKind,
    pub rule: Option<String>,
    /// The record that set the forwarding up.
    pub record: String,
    pub destinations: Vec<String>,
    /// The inventory shows a copy reaching a destination (the same message, or a forward of it
    /// sent from the mailbox within minutes).
    pub confirmed: bool,
}

pub use crate::parse::forwarding::ForwardingKind;

/// How a forwarding window ended.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum WindowEnd {
    Removed,
    Disabled,
    /// The forwarding address was cleared.
    Cleared,
    /// The rule was set to forward elsewhere.
    Overwritten,
    /// The rule's conditions changed: the next window goes on with the new ones.
    #[serde(rename = "conditions-changed")]
    Changed,
}

impl WindowEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            WindowEnd::Removed => "removed",
            WindowEnd::Disabled => "disabled",
            WindowEnd::Cleared => "cleared",
            WindowEnd::Overwritten => "overwritten",
            WindowEnd::Changed => "conditions-changed",
        }
    }
}

impl ForwardingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ForwardingKind::InboxRule => "inbox rule",
            ForwardingKind::Mailbox => "mailbox forwarding",
            ForwardingKind::TransportRule => "transport rule",
        }
    }
}

/// A time in which a forwarding the attacker (or a linked record) set sent mail elsewhere:
/// rule `forwarded` of `docs/scope-rules.md`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ForwardingWindow {
    pub kind: ForwardingKind,
    /// The rule's name as the records give it (lowercased); none for mailbox forwarding.
    pub rule: Option<String>,
    pub destinations: Vec<Destination>,
    pub start: String,
    /// `None`: still in place at the end of the evidence (mail delivered later is forwarded
    /// too).
    pub end: Option<String>,
    pub ended_by: Option<WindowEnd>,
    pub end_record: Option<String>,
    /// What mail the rule takes, as its records set it.
    pub conditions: Vec<RuleCondition>,
    /// The rule has no condition, or its conditions changed while the window was open or could
    /// not be read: every message delivered in the window counts.
    pub all_mail: bool,
    pub attribution: Party,
    /// The records that set it up and changed it while it was open.
    pub records: Vec<String>,
    /// Messages an inventory shows delivered in the window that the conditions can match;
    /// `None` without an inventory (the window is then unresolved).
    pub forwarded_messages: Option<u64>,
    /// Of those, the ones whose copy the inventory shows arriving.
    pub confirmed: Option<u64>,
    /// A transport rule's matched messages per internal address (sender or recipient): whose
    /// mail it took.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mailboxes: Vec<MailboxMessages>,
    /// The inventories' last message is before the window's end (or the window never
    /// ended): mail delivered after this time is not named, though it was forwarded too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unresolved_after: Option<String>,
    #[serde(skip)]
    pub start_micros: crate::model::Micros,
    #[serde(skip)]
    pub end_micros: Option<crate::model::Micros>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MailboxMessages {
    pub mailbox: String,
    pub messages: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Destination {
    pub address: String,
    /// Outside the organization's domains (`None` when the address has no domain: a contact's
    /// name).
    pub external: Option<bool>,
}

/// A rule's condition or exception (`ExceptIf…`), with its values.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RuleCondition {
    pub name: String,
    pub values: Vec<String>,
    /// Whether a message inventory can decide it (subject, sender, recipients); the others
    /// count as matching.
    pub decidable: bool,
}

/// A message the attacker sent from the mailbox (`Send`, `SendAs`, `SendOnBehalf`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SentMessage {
    pub time: String,
    pub operation: String,
    pub internet_message_id: Option<String>,
    pub item_id: Option<String>,
    pub subject: Option<String>,
    pub attribution: Party,
    pub record_id: String,
    /// Its recipients, from a message inventory.
    pub recipients: Vec<String>,
    /// How the inventory's message was found: `internet-message-id`, or
    /// `sender-subject-time` when the record has no id (a match to check); `None` when no
    /// inventory holds it.
    pub recipients_from: Option<String>,
    /// The inventory row (`file:line`).
    pub source: Option<String>,
}

/// Records the indicators left `other` that share a strong signal with the attacker's
/// (`scope::gaps`): the indicators may be incomplete.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IndicatorGap {
    /// `same-session`, `same-app`, `same-scripting-client` or `new-network`.
    pub signal: &'static str,
    /// The session id, app id, client string or network shared.
    pub value: String,
    pub records: u64,
    /// The smallest record ids (up to 5): the same whichever share of a distributed run held them.
    pub record_ids: Vec<String>,
    pub mailboxes: Vec<String>,
    /// Their smallest client IPs (up to 5).
    pub client_ips: Vec<String>,
    pub first_seen: String,
    pub last_seen: String,
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
