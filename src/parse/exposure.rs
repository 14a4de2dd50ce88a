//! What a record does that exposes mail beyond the mailbox it names, read from its structure
//! (operation, parameter names, the eDiscovery and Entra ID fields), never from the values an
//! actor chose (a search's name, its query, a folder's name):
//! - a step of a **content search** (Security & Compliance cmdlets `New-`/`Set-`/
//!   `Start-ComplianceSearch`, `New-ComplianceSearchAction`; the eDiscovery activities
//!   `SearchCreated` … `SearchExportDownloaded`; the unified eDiscovery `PurviewSearch…` jobs);
//! - a **grant** that opens mailboxes to another account or an app (mailbox and folder
//!   permissions, SendAs, send on behalf, ApplicationImpersonation, consent to an app with mail
//!   permissions), or its removal;
//! - the text of a **mailbox or SharePoint search** (`SearchQueryInitiatedExchange` /
//!   `…SharePoint`, field `QueryText`).
//!
//! Sources, per family: `docs/admin-exposure.md`. Stored as JSON in the frame's `exposure`
//! column; the scope engine assembles searches and grant windows from it (`scope::searches`,
//! `scope::grants`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Exposure {
    Search(SearchStep),
    Grant(Grant),
    SearchText(SearchText),
}

/// One step in the life of a content search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchStep {
    /// The search's name as later records name it (lowercased); `None` when the record does not
    /// say (then it joins no search).
    pub search: Option<String>,
    /// The name as written, for the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    pub step: Step,
    /// The mailboxes searched, when the record gives them (`All` kept as written); an empty list
    /// means the record set none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locations: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add_locations: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_locations: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
    /// The record's parameters could not be read: the search may now cover anything.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unreadable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Created,
    Updated,
    Started,
    Stopped,
    Removed,
    /// The results were exported (prepared for download).
    Exported,
    /// The export was downloaded.
    Downloaded,
    /// The results were previewed (items listed or shown).
    Previewed,
    /// One previewed item was downloaded.
    PreviewItemDownloaded,
    /// The results were copied into a review set, where they can be read and exported.
    AddedToReviewSet,
    /// The export was looked at on the Exports tab (nothing read).
    ExportViewed,
    /// A report of counts was exported (no content).
    Report,
    /// The items found were deleted (`New-ComplianceSearchAction -Purge`).
    Purged,
}

impl Step {
    /// The step put the results' content in someone's hands.
    pub fn exposes(self) -> bool {
        matches!(
            self,
            Step::Exported
                | Step::Downloaded
                | Step::Previewed
                | Step::PreviewItemDownloaded
                | Step::AddedToReviewSet
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Created => "created",
            Step::Updated => "updated",
            Step::Started => "started",
            Step::Stopped => "stopped",
            Step::Removed => "removed",
            Step::Exported => "exported",
            Step::Downloaded => "downloaded",
            Step::Previewed => "previewed",
            Step::PreviewItemDownloaded => "preview-item-downloaded",
            Step::AddedToReviewSet => "added-to-review-set",
            Step::ExportViewed => "export-viewed",
            Step::Report => "report",
            Step::Purged => "purged",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum GrantKind {
    /// `Add-MailboxPermission` FullAccess (or the rights to give oneself FullAccess).
    MailboxPermission,
    /// `Add-`/`Set-MailboxFolderPermission`, and the mailbox audit's `AddFolderPermissions`.
    FolderPermission,
    /// `Add-RecipientPermission` SendAs.
    SendAs,
    /// `Set-Mailbox -GrantSendOnBehalfTo`.
    SendOnBehalf,
    /// `New-ManagementRoleAssignment -Role ApplicationImpersonation`: every mailbox.
    Impersonation,
    /// Consent to, or a role granted to, an app with mail permissions: the grantee is its app id.
    AppConsent,
}

impl GrantKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantKind::MailboxPermission => "mailbox-permission",
            GrantKind::FolderPermission => "folder-permission",
            GrantKind::SendAs => "send-as",
            GrantKind::SendOnBehalf => "send-on-behalf",
            GrantKind::Impersonation => "impersonation",
            GrantKind::AppConsent => "app-consent",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub kind: GrantKind,
    /// Who receives the access: an account (lowercased; an AD path cut to its last element) or
    /// an app id (lowercased).
    pub grantee: String,
    /// The mailbox opened (lowercased, as the record names it); `None` for every mailbox
    /// (impersonation, an app's tenant-wide permission) or when the record does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mailbox: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rights: Vec<String>,
    /// The record takes the access away.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removes: bool,
    /// Further grantees of the same record (`GrantSendOnBehalfTo @{Add="a","b"}`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more: Vec<String>,
    /// How an app holds its permission: removing a delegated grant leaves an app role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_channel: Option<AppChannel>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppChannel {
    /// Delegated permissions (consent, a delegated permission grant).
    Delegated,
    /// Application permissions (an app role assignment).
    AppRole,
    /// The service principal itself: removing it ends both.
    ServicePrincipal,
}

/// Where a search was made: a closed set, so a saved case cannot bring report text in here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SearchSource {
    /// Outlook (`SearchQueryInitiatedExchange`).
    Exchange,
    Sharepoint,
}

impl SearchSource {
    pub fn as_str(self) -> &'static str {
        match self {
            SearchSource::Exchange => "exchange",
            SearchSource::Sharepoint => "sharepoint",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchText {
    /// `exchange` or `sharepoint`.
    pub source: SearchSource,
    pub text: String,
}

/// What `exposure` reads of a record besides its parameters.
#[derive(Default)]
pub struct Fields<'x> {
    pub operation: &'x str,
    /// Name/value parameters (Exchange admin records; Security & Compliance argument text read
    /// into pairs by `pwsh`).
    pub params: &'x [(String, String)],
    pub object_id: Option<&'x str>,
    /// The record's own mailbox (a mailbox audit folder-permission record).
    pub mailbox: Option<&'x str>,
    pub query_text: Option<&'x str>,
    pub query: Option<&'x str>,
    pub case: Option<&'x str>,
    pub object_name: Option<&'x str>,
    /// JSON texts of list fields.
    pub exchange_locations: Option<&'x str>,
    pub data_sources: Option<&'x str>,
    pub modified_properties: Option<&'x str>,
    pub target: Option<&'x str>,
    /// A folder-permission member (`Item.ParentFolder.MemberUpn` / `MemberRights`).
    pub member: Option<(&'x str, Option<&'x str>)>,
    pub folder: Option<&'x str>,
    /// Part of the record could not be read (`flag::CONTENT_LOST`).
    pub damaged: bool,
    /// `ResultStatus` says the operation failed.
    pub failed: bool,
}

pub fn to_column(e: &Exposure) -> String {
    serde_json::to_string(e).expect("exposure serializes")
}

pub fn from_column(text: &str) -> Option<Exposure> {
    serde_json::from_str(text).ok()
}

/// The record's exposure, if it has one.
pub fn exposure(f: &Fields) -> Option<Exposure> {
    let op = f.operation.trim();
    let op = op.strip_suffix('.').unwrap_or(op);
    // Every record passes here: the operation is lowercased on the stack, once. None of the
    // operations read is longer than the buffer.
    let mut buf = [0u8; 64];
    let lower = buf.get_mut(..op.len())?;
    lower.copy_from_slice(op.as_bytes());
    lower.make_ascii_lowercase();
    let lower = std::str::from_utf8(lower).ok()?;
    if let Some(step) = search_step(lower, f) {
        return Some(Exposure::Search(step));
    }
    if let Some(g) = grant(lower, f) {
        // A removal that failed removed nothing (a failed grant still counts: it is the wider).
        if g.removes && f.failed {
            return None;
        }
        return Some(Exposure::Grant(g));
    }
    let source = match lower {
        "searchqueryinitiatedexchange" => SearchSource::Exchange,
        "searchqueryinitiatedsharepoint" => SearchSource::Sharepoint,
        _ => return None,
    };
    Some(Exposure::SearchText(SearchText {
        source,
        text: f.query_text.unwrap_or_default().to_string(),
    }))
}

fn param<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A parameter's values: a list written `a,b`, `a;b`, `{a, b}` or PowerShell's `@("a","b")`.
fn values(text: &str) -> Vec<String> {
    let t = text.trim();
    let t = t
        .strip_prefix("@(")
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(t);
    let t = t
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(t);
    t.split([',', ';'])
        .map(|v| v.trim().trim_matches(['"', '\'']).trim())
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

const ACTION_SUFFIXES: [&str; 5] = ["_export", "_preview", "_purge", "_reportsonly", "_report"];

/// A search's key: its name, lowercased. Only an action's own name (the `ObjectId` of an action
/// record) loses its `_Export` / `_Preview` / `_Purge` suffix: the service names a search's
/// actions after it, while a search's own name, however it ends, is the actor's choice.
fn search_key(name: &str, action_object: bool) -> Option<String> {
    let lower = name.trim().to_lowercase();
    let lower = if action_object {
        ACTION_SUFFIXES
            .iter()
            .find_map(|s| lower.strip_suffix(s).map(str::to_string))
            .unwrap_or(lower)
    } else {
        lower
    };
    (!lower.is_empty()).then_some(lower)
}

fn json_strings(text: Option<&str>) -> Option<Vec<String>> {
    let text = text?.trim();
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => Some(
            items
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.trim().to_string()),
                    Value::Object(o) => ["Name", "Id", "Value", "SmtpAddress"]
                        .iter()
                        .find_map(|k| o.get(*k).and_then(Value::as_str))
                        .map(str::to_string),
                    _ => None,
                })
                .filter(|s| !s.is_empty())
                .collect(),
        ),
        Ok(Value::String(s)) => Some(values(&s)),
        Ok(Value::Null) => None,
        Ok(_) => None,
        Err(_) => Some(values(text)),
    }
}

/// `lower`: the operation, lowercased.
fn search_step(lower: &str, f: &Fields) -> Option<SearchStep> {
    let p = f.params;
    let (step, name, from_action_object) = match lower {
        // Security & Compliance cmdlets (RecordType 18).
        "new-compliancesearch" => (Step::Created, param(p, "Name").or(f.object_id), false),
        "set-compliancesearch" => (Step::Updated, param(p, "Identity").or(f.object_id), false),
        "start-compliancesearch" => (Step::Started, param(p, "Identity").or(f.object_id), false),
        "stop-compliancesearch" => (Step::Stopped, param(p, "Identity").or(f.object_id), false),
        "remove-compliancesearch" => (Step::Removed, param(p, "Identity").or(f.object_id), false),
        "new-compliancesearchaction" => {
            let on = |n: &str| param(p, n).is_some_and(|v| !v.eq_ignore_ascii_case("false"));
            let step = if on("Purge") {
                Step::Purged
            } else if on("Export") {
                Step::Exported
            } else if on("Preview") {
                Step::Previewed
            } else if on("Report") {
                Step::Report
            } else {
                // Which action is not recorded: it may have been an export.
                Step::Exported
            };
            match param(p, "SearchName") {
                Some(name) => (step, Some(name), false),
                None => (step, f.object_id, true),
            }
        }
        // eDiscovery activities (RecordType 24).
        "searchcreated" => (Step::Created, f.object_id, false),
        "searchupdated" => (Step::Updated, f.object_id, false),
        "searchstarted" => (Step::Started, f.object_id, false),
        "searchstopped" => (Step::Stopped, f.object_id, false),
        "searchremoved" => (Step::Removed, f.object_id, false),
        "searchexported" => (Step::Exported, f.object_id, true),
        "searchexportdownloaded" => (Step::Downloaded, f.object_id, true),
        "searchpreviewed" | "previewitemlisted" | "previewitemrendered" => {
            (Step::Previewed, f.object_id, true)
        }
        "previewitemdownloaded" => (Step::PreviewItemDownloaded, f.object_id, true),
        "searchresultssenttozoom" => (Step::AddedToReviewSet, f.object_id, true),
        "viewedsearchexported" => (Step::ExportViewed, f.object_id, true),
        "searchreport" => (Step::Report, f.object_id, true),
        "searchresultspurged" => (Step::Purged, f.object_id, true),
        // Unified eDiscovery (the experience after classic eDiscovery's retirement).
        "purviewsearchadded" => (Step::Created, f.object_name.or(f.object_id), false),
        "purviewsearchupdated" => (Step::Updated, f.object_name.or(f.object_id), false),
        "purviewsearchdeleted" => (Step::Removed, f.object_name.or(f.object_id), false),
        "purviewsearchstatisticsjobsubmitted" => {
            (Step::Started, f.object_name.or(f.object_id), false)
        }
        "purviewsearchsamplejobsubmitted" | "sampleresultsviewed" => {
            (Step::Previewed, f.object_name.or(f.object_id), false)
        }
        "purviewsearchexportjobsubmitted" => (Step::Exported, f.object_name.or(f.object_id), false),
        "purviewsearchaddtoreviewsetjobsubmitted" => {
            (Step::AddedToReviewSet, f.object_name.or(f.object_id), false)
        }
        _ => return None,
    };
    let cmdlet = lower.contains('-');
    let (locations, add_locations, remove_locations, query) = if cmdlet {
        (
            param(p, "ExchangeLocation").map(values),
            param(p, "AddExchangeLocation")
                .map(values)
                .unwrap_or_default(),
            param(p, "RemoveExchangeLocation")
                .map(values)
                .unwrap_or_default(),
            param(p, "ContentMatchQuery").map(str::to_string),
        )
    } else {
        // An activity record repeats the search's locations and query when it has them; an
        // empty list or query there (a download's record) says nothing about the search.
        (
            json_strings(f.exchange_locations)
                .filter(|l| !l.is_empty())
                .or_else(|| json_strings(f.data_sources).filter(|l| !l.is_empty())),
            Vec::new(),
            Vec::new(),
            // A search created or changed without a query takes all mail.
            f.query
                .or(f.query_text)
                .filter(|q| !q.trim().is_empty() || matches!(step, Step::Created | Step::Updated))
                .map(str::to_string),
        )
    };
    let display = name.map(|n| {
        let n = n.trim();
        // An action's name shown as its search's.
        let cut = from_action_object
            .then(|| {
                ACTION_SUFFIXES.iter().find_map(|s| {
                    let at = n.len().checked_sub(s.len())?;
                    n.get(at..)
                        .filter(|t| t.eq_ignore_ascii_case(s))
                        .and_then(|_| n.get(..at))
                })
            })
            .flatten();
        cut.unwrap_or(n).to_string()
    });
    Some(SearchStep {
        search: name.and_then(|n| search_key(n, from_action_object)),
        display: display.filter(|n| !n.is_empty()),
        step,
        locations,
        add_locations,
        remove_locations,
        query,
        case: f.case.map(str::to_string).filter(|c| !c.is_empty()),
        unreadable: f.damaged && cmdlet,
    })
}

/// An account as records name it: lowercased, an AD path or `DOMAIN\name` cut to its last
/// element.
fn account(text: &str) -> Option<String> {
    let t = text.trim().trim_matches('"');
    let t = t.rsplit(['/', '\\']).next().unwrap_or(t).trim();
    (!t.is_empty()).then(|| t.to_lowercase())
}

/// Rights that let the grantee read the mailbox, or give itself the right to.
const MAILBOX_RIGHTS: &[&str] = &["fullaccess", "changepermission", "changeowner"];
/// Folder roles and rights that read nothing.
const NO_READ_FOLDER_RIGHTS: &[&str] = &["none", "availabilityonly", "limiteddetails"];

/// `lower`: the operation, lowercased.
fn grant(lower: &str, f: &Fields) -> Option<Grant> {
    let p = f.params;
    let rights = |name: &str| param(p, name).map(values).unwrap_or_default();
    let g = |kind, grantee: Option<&str>, mailbox: Option<&str>, rights, removes| {
        Some(Grant {
            kind,
            grantee: account(grantee?)?,
            mailbox: mailbox.and_then(account),
            folder: None,
            rights,
            removes,
            more: Vec::new(),
            app_channel: None,
        })
    };
    match lower {
        "add-mailboxpermission" | "remove-mailboxpermission" => {
            let r = rights("AccessRights");
            // A removal without rights removes them all.
            let removes = lower.starts_with("remove");
            let reads = r
                .iter()
                .any(|x| MAILBOX_RIGHTS.contains(&x.to_ascii_lowercase().as_str()));
            // A removal without rights removes them all.
            let removes_all = removes && r.is_empty();
            if !reads && !removes_all {
                return None;
            }
            g(
                GrantKind::MailboxPermission,
                param(p, "User"),
                param(p, "Identity"),
                r,
                removes,
            )
        }
        "add-mailboxfolderpermission"
        | "set-mailboxfolderpermission"
        | "remove-mailboxfolderpermission" => {
            let r = rights("AccessRights");
            let reads_nothing = r
                .iter()
                .all(|x| NO_READ_FOLDER_RIGHTS.contains(&x.to_ascii_lowercase().as_str()));
            let removes = lower.starts_with("remove") || (!r.is_empty() && reads_nothing);
            if !removes && r.is_empty() {
                return None;
            }
            // Rights set to none take every right away.
            let r = if removes { Vec::new() } else { r };
            let identity = param(p, "Identity").unwrap_or_default();
            let (mailbox, folder) = match identity.split_once(":\\") {
                Some((m, f)) => (Some(m), Some(format!("\\{f}"))),
                None => (Some(identity), None),
            };
            let mut out = g(
                GrantKind::FolderPermission,
                param(p, "User"),
                mailbox.filter(|m| !m.is_empty()),
                r,
                removes,
            )?;
            out.folder = folder;
            Some(out)
        }
        "addfolderpermissions" | "modifyfolderpermissions" | "removefolderpermissions" => {
            let (member, member_rights) = f.member?;
            let r = member_rights.map(values).unwrap_or_default();
            let reads_nothing = !r.is_empty()
                && r.iter()
                    .all(|x| NO_READ_FOLDER_RIGHTS.contains(&x.to_ascii_lowercase().as_str()));
            let removes = lower.starts_with("remove") || reads_nothing;
            let mut out = g(
                GrantKind::FolderPermission,
                Some(member),
                f.mailbox,
                if removes { Vec::new() } else { r },
                removes,
            )?;
            out.folder = f.folder.map(str::to_string);
            Some(out)
        }
        "add-recipientpermission" | "remove-recipientpermission" => g(
            GrantKind::SendAs,
            param(p, "Trustee"),
            param(p, "Identity"),
            rights("AccessRights"),
            lower.starts_with("remove"),
        ),
        "set-mailbox" => {
            let value = param(p, "GrantSendOnBehalfTo")?;
            let (removes, who) = send_on_behalf(value);
            let mut out = g(
                GrantKind::SendOnBehalf,
                who.first().map(String::as_str),
                param(p, "Identity"),
                Vec::new(),
                removes,
            )?;
            out.more = who.iter().skip(1).filter_map(|w| account(w)).collect();
            Some(out)
        }
        "new-managementroleassignment" => {
            let role = param(p, "Role")?;
            if !role.eq_ignore_ascii_case("ApplicationImpersonation") {
                return None;
            }
            let who = param(p, "User")
                .or_else(|| param(p, "App"))
                .or_else(|| param(p, "SecurityGroup"));
            g(
                GrantKind::Impersonation,
                who,
                None,
                vec!["ApplicationImpersonation".into()],
                false,
            )
        }
        "consent to application"
        | "add delegated permission grant"
        | "add app role assignment to service principal"
        | "remove delegated permission grant"
        | "remove app role assignment from service principal"
        | "remove service principal" => app_grant(lower, f),
        _ => None,
    }
}

/// `GrantSendOnBehalfTo`: `x`, `a,b`, `@{Add="a","b"}`, `@{Remove="x"}` or `$null`/empty
/// (cleared: no grantee, so it matches no grant by name and closes nothing).
fn send_on_behalf(value: &str) -> (bool, Vec<String>) {
    let v = value.trim();
    if v.is_empty() || v.eq_ignore_ascii_case("$null") {
        return (true, Vec::new());
    }
    if let Some(body) = v.strip_prefix("@{").and_then(|b| b.strip_suffix('}')) {
        let (key, who) = body.split_once('=').unwrap_or(("Add", body));
        let removes = key.trim().eq_ignore_ascii_case("remove");
        return (removes, values(who));
    }
    (false, values(v))
}

/// Permissions that read mail (Microsoft Graph, Exchange Web Services, IMAP, POP).
const MAIL_PERMISSIONS: &[&str] = &[
    "mail.read",
    "mail.readwrite",
    "mail.readbasic",
    "mail.read.shared",
    "mail.readwrite.shared",
    "mail.readbasic.shared",
    "mail.read.all",
    "mail.readwrite.all",
    "mail.readbasic.all",
    "full_access_as_app",
    "full_access_as_user",
    "ews.accessasuser.all",
    "imap.accessasuser.all",
    "pop.accessasuser.all",
    "imap.accessasapp",
    "pop.accessasapp",
    "exchange.manageasapp",
    "exchange.manageasappv2",
];

fn is_guid(s: &str) -> bool {
    let s = s.trim();
    s.len() == 36
        && s.chars().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A modified property's new and old values (one layer of JSON quoting taken off).
fn modified(f: &Fields) -> Vec<(String, String, String)> {
    let Some(Ok(Value::Array(items))) = f.modified_properties.map(serde_json::from_str) else {
        return Vec::new();
    };
    let text = |v: Option<&Value>| -> String {
        let s = match v {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let t = s.trim();
        t.strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(t)
            .to_string()
    };
    items
        .iter()
        .filter_map(|i| {
            let name = i.get("Name")?.as_str()?.to_string();
            Some((name, text(i.get("NewValue")), text(i.get("OldValue"))))
        })
        .collect()
}

fn property<'m>(
    m: &'m [(String, String, String)],
    name: &str,
) -> Option<&'m (String, String, String)> {
    m.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(name))
}

/// The scopes in `Scope: a b c,` segments of `ConsentAction.Permissions`, or a space list.
fn scopes(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    if text.contains("Scope:") {
        for part in text.split("Scope:").skip(1) {
            let end = part.find([',', ']']).unwrap_or(part.len());
            out.extend(part[..end].split_whitespace().map(str::to_string));
        }
    } else {
        out.extend(text.split_whitespace().map(str::to_string));
    }
    out
}

/// The client app id of an Entra ID record: a `Target` of type 4 (service principal name) that is
/// a GUID, `ServicePrincipal.AppId`, or a GUID among `TargetId.ServicePrincipalNames` /
/// `ServicePrincipal.Name`.
fn app_id(f: &Fields, m: &[(String, String, String)], from_target: bool) -> Option<String> {
    if let Some((_, v, _)) = property(m, "ServicePrincipal.AppId") {
        if is_guid(v) {
            return Some(v.trim().to_lowercase());
        }
    }
    if from_target {
        if let Some(Ok(Value::Array(targets))) = f.target.map(serde_json::from_str::<Value>) {
            let spn = targets.iter().find_map(|t| {
                let id = t.get("ID")?.as_str()?;
                let ty = t.get("Type")?;
                let is_spn = ty.as_i64() == Some(4) || ty.as_str() == Some("4");
                (is_spn && is_guid(id)).then(|| id.trim().to_lowercase())
            });
            if spn.is_some() {
                return spn;
            }
        }
        for name in ["TargetId.ServicePrincipalNames"] {
            if let Some((_, v, _)) = property(m, name) {
                if let Some(g) = v.split([';', ',']).map(str::trim).find(|s| is_guid(s)) {
                    return Some(g.to_lowercase());
                }
            }
        }
    }
    if let Some((_, v, _)) = property(m, "ServicePrincipal.Name") {
        if let Some(g) = v.split([';', ',', '/']).map(str::trim).find(|s| is_guid(s)) {
            return Some(g.to_lowercase());
        }
    }
    None
}

fn app_grant(op: &str, f: &Fields) -> Option<Grant> {
    let m = modified(f);
    let removes = op.starts_with("remove");
    let channel = match op {
        "add app role assignment to service principal"
        | "remove app role assignment from service principal" => AppChannel::AppRole,
        "remove service principal" => AppChannel::ServicePrincipal,
        _ => AppChannel::Delegated,
    };
    let (granted, from_target): (Vec<String>, bool) = match op {
        "consent to application" => {
            let (_, new, old) = property(&m, "ConsentAction.Permissions")
                .cloned()
                .unwrap_or_default();
            let old = scopes(&old);
            // `[old] => [new]` in one value: the new side is after the arrow.
            let new_side = new.rsplit("=>").next().unwrap_or(&new);
            let mut added: Vec<String> = scopes(new_side);
            if !old.is_empty() {
                added.retain(|s| !old.contains(s));
            }
            (added, true)
        }
        "add delegated permission grant" => {
            let (_, new, old) = property(&m, "DelegatedPermissionGrant.Scope")
                .cloned()
                .unwrap_or_default();
            let old = scopes(&old);
            let mut added = scopes(&new);
            added.retain(|s| !old.contains(s));
            (added, false)
        }
        "add app role assignment to service principal" => {
            let role = property(&m, "AppRole.Value")
                .map(|(_, v, _)| v.clone())
                .unwrap_or_default();
            (scopes(&role), false)
        }
        _ => (Vec::new(), true),
    };
    let mail: Vec<String> = granted
        .iter()
        .filter(|s| MAIL_PERMISSIONS.contains(&s.to_ascii_lowercase().as_str()))
        .cloned()
        .collect();
    // A consent whose permissions are not recorded may have been for mail: it counts.
    let unrecorded = !removes && granted.is_empty() && op == "consent to application";
    if !removes && mail.is_empty() && !unrecorded {
        return None;
    }
    let rights = if unrecorded {
        vec!["(permissions not recorded)".to_string()]
    } else {
        mail
    };
    Some(Grant {
        kind: GrantKind::AppConsent,
        grantee: app_id(f, &m, from_target)?,
        mailbox: None,
        folder: None,
        rights,
        removes,
        more: Vec::new(),
        app_channel: Some(channel),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn compliance_cmdlets_read_as_search_steps() {
        let p = crate::parse::pwsh::arguments(
            r#"-Name "Payroll Q3" -ExchangeLocation ("ceo@contoso.com","cfo@contoso.com") -ContentMatchQuery "subject:payroll""#,
        )
        .unwrap();
        let e = exposure(&Fields {
            operation: "New-ComplianceSearch",
            params: &p,
            ..Fields::default()
        })
        .unwrap();
        let Exposure::Search(s) = e else { panic!() };
        assert_eq!(s.search.as_deref(), Some("payroll q3"));
        assert_eq!(s.step, Step::Created);
        assert_eq!(
            s.locations,
            Some(vec!["ceo@contoso.com".into(), "cfo@contoso.com".into()])
        );
        assert_eq!(s.query.as_deref(), Some("subject:payroll"));

        let p = pairs(&[("SearchName", "Payroll Q3"), ("Export", "True")]);
        let Some(Exposure::Search(s)) = exposure(&Fields {
            operation: "New-ComplianceSearchAction",
            params: &p,
            ..Fields::default()
        }) else {
            panic!()
        };
        assert_eq!(
            (s.step, s.search.as_deref()),
            (Step::Exported, Some("payroll q3"))
        );
        assert!(s.step.exposes());
    }

    #[test]
    fn ediscovery_activities_take_the_search_from_object_id() {
        let Some(Exposure::Search(s)) = exposure(&Fields {
            operation: "SearchExportDownloaded",
            object_id: Some("Payroll Q3_Export"),
            exchange_locations: Some(r#"["ceo@contoso.com"]"#),
            query: Some("subject:payroll"),
            ..Fields::default()
        }) else {
            panic!()
        };
        assert_eq!(s.search.as_deref(), Some("payroll q3"));
        assert_eq!(s.step, Step::Downloaded);
        assert_eq!(s.locations, Some(vec!["ceo@contoso.com".into()]));
    }

    #[test]
    fn a_search_named_like_a_grant_stays_a_search() {
        // The name is the actor's choice; the operation decides.
        let p = pairs(&[
            ("Name", "Add-MailboxPermission -User x"),
            ("ExchangeLocation", "All"),
        ]);
        let e = exposure(&Fields {
            operation: "New-ComplianceSearch",
            params: &p,
            ..Fields::default()
        });
        assert!(matches!(e, Some(Exposure::Search(_))));
    }

    #[test]
    fn mailbox_folder_and_app_grants() {
        let p = pairs(&[
            (
                "Identity",
                "EURPR01A002.prod.outlook.com/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/ceo",
            ),
            ("User", "mallory@contoso.com"),
            ("AccessRights", "FullAccess"),
            ("InheritanceType", "All"),
        ]);
        let Some(Exposure::Grant(g)) = exposure(&Fields {
            operation: "Add-MailboxPermission",
            params: &p,
            ..Fields::default()
        }) else {
            panic!()
        };
        assert_eq!(g.kind, GrantKind::MailboxPermission);
        assert_eq!(g.grantee, "mallory@contoso.com");
        assert_eq!(g.mailbox.as_deref(), Some("ceo"));
        assert!(!g.removes);
        // Rights that read nothing are no grant.
        let p = pairs(&[
            ("Identity", "ceo"),
            ("User", "x"),
            ("AccessRights", "ReadPermission"),
        ]);
        assert!(
            exposure(&Fields {
                operation: "Add-MailboxPermission",
                params: &p,
                ..Fields::default()
            })
            .is_none()
        );

        let p = pairs(&[
            ("Identity", "ceo@contoso.com:\\Inbox"),
            ("User", "mallory@contoso.com"),
            ("AccessRights", "Reviewer"),
        ]);
        let Some(Exposure::Grant(g)) = exposure(&Fields {
            operation: "Add-MailboxFolderPermission",
            params: &p,
            ..Fields::default()
        }) else {
            panic!()
        };
        assert_eq!(g.mailbox.as_deref(), Some("ceo@contoso.com"));
        assert_eq!(g.folder.as_deref(), Some("\\Inbox"));

        let modified = r#"[{"Name":"ConsentContext.IsAdminConsent","NewValue":"True","OldValue":""},{"Name":"ConsentAction.Permissions","NewValue":"[] => [[Id: abc, ClientId: d2892cdb-5b43-4f85-992f-dd8f44f823fe, PrincipalId: 5e6933c8-cdc3-4f8f-9f48-3a7383381404, ResourceId: 5b859783-d78a-4029-8970-c4df8cf3df18, ConsentType: Principal, Scope: Mail.Read offline_access, CreatedDateTime: , LastModifiedDateTime ]];","OldValue":""}]"#;
        let target = r#"[{"ID":"ServicePrincipal_d2892cdb-5b43-4f85-992f-dd8f44f823fe","Type":2},{"ID":"d2892cdb-5b43-4f85-992f-dd8f44f823fe","Type":2},{"ID":"ServicePrincipal","Type":2},{"ID":"Mail Helper","Type":1},{"ID":"CA7F46B4-AB03-4AA9-81E1-A9508E0115E0","Type":4}]"#;
        let Some(Exposure::Grant(g)) = exposure(&Fields {
            operation: "Consent to application.",
            modified_properties: Some(modified),
            target: Some(target),
            ..Fields::default()
        }) else {
            panic!()
        };
        assert_eq!(g.kind, GrantKind::AppConsent);
        assert_eq!(g.grantee, "ca7f46b4-ab03-4aa9-81e1-a9508e0115e0");
        assert_eq!(g.rights, vec!["Mail.Read".to_string()]);
        // A consent to profile scopes only opens no mailbox.
        let plain = modified.replace("Mail.Read offline_access", "User.Read openid");
        assert!(
            exposure(&Fields {
                operation: "Consent to application.",
                modified_properties: Some(&plain),
                target: Some(target),
                ..Fields::default()
            })
            .is_none()
        );
    }

    #[test]
    fn search_text() {
        let e = exposure(&Fields {
            operation: "SearchQueryInitiatedExchange",
            query_text: Some("wire instructions"),
            ..Fields::default()
        });
        assert_eq!(
            e,
            Some(Exposure::SearchText(SearchText {
                source: SearchSource::Exchange,
                text: "wire instructions".into()
            }))
        );
    }
}
