//! The per-mailbox scope rules of `shared/docs/scope-rules.md` ("Scope, per mailbox"), one
//! function each and in the doc's order. Each reads one mailbox's rows (the attacker's: records
//! attributed `attacker` or `linked`, unless the rule says otherwise) and returns its findings with
//! the reason and the record ids behind them. `mailbox_scope` (in `mod.rs`) calls them in order and
//! takes the widest verdict (`verdict`).

use super::attribution::Attribution;
use super::findings::*;
use super::{Span, ids};
use crate::frame::{ItemsOf, ItemsView, RecordsView};
use crate::model::{Micros, is_mail_items_accessed};
use crate::time::{DAY, rfc3339};
use std::collections::{BTreeMap, BTreeSet};

/// The frame's columns and each record's attribution, as every rule reads them.
#[derive(Clone, Copy)]
pub struct Rows<'a> {
    pub v: &'a RecordsView,
    pub items: &'a ItemsView,
    pub items_of: &'a ItemsOf,
    pub attr: &'a [Attribution],
}

/// The kind of access a record is, as far as the rules are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// MailItemsAccessed, `MailAccessType` = Sync — or unknown because an export lost it
    /// (`model::flag::ACCESS_TYPE_LOST`): unknown is scoped as its widest.
    Sync,
    /// MailItemsAccessed with any other access type, or none: it names messages like a Bind.
    Bind,
    /// Legacy mailbox audit `FolderBind`.
    FolderBind,
    /// Legacy mailbox audit `MessageBind`.
    MessageBind,
    /// `AttachmentAccess`: attachments of the messages it names were read.
    Attachment,
    /// Anything else: an action (cmdlet, send, delete, move, sign-in …).
    Other,
}

/// Shown where a folder rule fires on a record that names no folder.
const FOLDER_NOT_RECORDED: &str = "(folder not recorded)";

impl<'a> Rows<'a> {
    pub fn access(&self, i: usize) -> Access {
        let op = self.v.operation.text(i);
        if is_mail_items_accessed(op) {
            let sync = self.v.mail_access_type.at(i).is_some_and(|a| {
                a.eq_ignore_ascii_case("sync") || a == crate::model::flag::ACCESS_TYPE_LOST
            });
            if sync { Access::Sync } else { Access::Bind }
        } else if op.eq_ignore_ascii_case("FolderBind") {
            Access::FolderBind
        } else if op.eq_ignore_ascii_case("MessageBind") {
            Access::MessageBind
        } else if op.eq_ignore_ascii_case("AttachmentAccess") {
            Access::Attachment
        } else {
            Access::Other
        }
    }

    fn of<'r>(&self, rows: &'r [usize], kind: Access) -> impl Iterator<Item = usize> + 'r
    where
        'a: 'r,
    {
        let me = *self;
        rows.iter().copied().filter(move |&i| me.access(i) == kind)
    }

    fn id(&self, i: usize) -> &'a str {
        self.v.record_id.text(i)
    }

    fn time(&self, i: usize) -> Micros {
        self.v.time[i]
    }

    /// The folders a record names (its items' and its own), sorted, once each.
    fn folders(&self, i: usize) -> Vec<String> {
        let mut f: BTreeSet<String> = self
            .items_of
            .of(i)
            .filter_map(|k| self.items.folder_path.at(k))
            .map(str::to_string)
            .collect();
        if let Some(p) = self.v.folder_path.at(i) {
            f.insert(p.to_string());
        }
        f.into_iter().collect()
    }

    /// Record `i` as an action, with those of its items that `keep`.
    fn action(&self, i: usize, keep: impl Fn(usize) -> bool) -> Action {
        let (v, items) = (self.v, self.items);
        Action {
            time: rfc3339(self.time(i)),
            operation: v.operation.text(i).to_string(),
            record_id: self.id(i).to_string(),
            attribution: self.attr[i].party(),
            client_ip: v.client_ip.at(i).map(str::to_string),
            session_id: v.session_id.at(i).map(str::to_string),
            folder: v.folder_path.at(i).map(str::to_string),
            items: self
                .items_of
                .of(i)
                .filter(|&k| keep(k))
                .map(|k| ActionItem {
                    internet_message_id: items.internet_message_id.at(k).map(str::to_string),
                    subject: items.subject.at(k).map(str::to_string),
                    item_id: items.item_id.at(k).map(str::to_string),
                    folder: items.folder_path.at(k).map(str::to_string),
                    named_from: None,
                })
                .collect(),
            detail: v.detail.at(i).map(str::to_string),
            source: format!(
                "{}:{}",
                v.source_file.at(i).unwrap_or("?"),
                v.source_line[i]
            ),
        }
    }

    /// As `folders`, but never empty: a folder rule still fires on a record without one.
    fn folders_or_unrecorded(&self, i: usize) -> Vec<String> {
        let f = self.folders(i);
        if f.is_empty() {
            vec![FOLDER_NOT_RECORDED.to_string()]
        } else {
            f
        }
    }
}

/// Folders found by one rule, and why.
#[derive(Debug, Default)]
pub struct FolderFindings {
    pub folders: Vec<FolderHit>,
    pub reason: Option<Reason>,
}

impl FolderFindings {
    /// The folders of `hits` under `rule`, with the reason `detail(how many folders)`.
    fn new(
        hits: BTreeMap<String, Span>,
        rule: Rule,
        detail: impl FnOnce(usize) -> String,
    ) -> FolderFindings {
        let folders: Vec<FolderHit> = hits
            .into_iter()
            .map(|(path, s)| FolderHit {
                path,
                reason: rule,
                first_seen: rfc3339(s.first),
                last_seen: rfc3339(s.last),
                records: s.records.into_iter().collect(),
            })
            .collect();
        let reason = (!folders.is_empty()).then(|| Reason {
            rule,
            detail: detail(folders.len()),
            records: ids(folders
                .iter()
                .flat_map(|f| f.records.iter().map(String::as_str))),
        });
        FolderFindings { folders, reason }
    }
}

/// The folders the `kind` records among `rows` name (or "(folder not recorded)"), with when and
/// by which records.
fn folders_of(r: Rows, rows: &[usize], kind: Access) -> BTreeMap<String, Span> {
    let mut folders = BTreeMap::new();
    for i in r.of(rows, kind) {
        hit_folders(&mut folders, r.folders_or_unrecorded(i), r.time(i), r.id(i));
    }
    folders
}

fn hit_folders(hits: &mut BTreeMap<String, Span>, folders: Vec<String>, t: Micros, id: &str) {
    for p in folders {
        hits.entry(p).or_insert_with(|| Span::new(t)).hit(t, id);
    }
}

/// A MailItemsAccessed record of the mailbox with `IsThrottled` = True, in any context.
pub fn throttled_rows(r: Rows, mailbox_rows: &[usize]) -> Vec<usize> {
    mailbox_rows
        .iter()
        .copied()
        .filter(|&i| is_mail_items_accessed(r.v.operation.text(i)) && r.v.is_throttled[i])
        .collect()
}

/// Rule 1, throttling: for 24 hours after each throttled record access went unaudited. One window
/// `[t, t+24h)` per record, overlapping windows merged. Widens to the entire mailbox.
pub fn throttling(r: Rows, throttled: &[usize]) -> (Vec<ThrottledWindow>, Option<Reason>) {
    let mut sorted = throttled.to_vec();
    sorted.sort_by_key(|&i| (r.time(i), r.id(i)));
    let mut windows: Vec<(Micros, Micros, Vec<&str>)> = Vec::new();
    for i in sorted {
        let (s, e) = (r.time(i), r.time(i) + DAY);
        match windows.last_mut() {
            Some(w) if s <= w.1 => {
                w.1 = w.1.max(e);
                w.2.push(r.id(i));
            }
            _ => windows.push((s, e, vec![r.id(i)])),
        }
    }
    let windows = windows
        .iter()
        .map(|(s, e, records)| ThrottledWindow {
            start: rfc3339(*s),
            end: rfc3339(*e),
            record_id: records[0].to_string(),
            records: ids(records.iter().copied()),
        })
        .collect();
    let reason = (!throttled.is_empty()).then(|| Reason {
        rule: Rule::Throttled,
        detail: format!(
            "{} throttled MailItemsAccessed record(s): for 24 h after each, access was not audited; all mail is assumed compromised",
            throttled.len()
        ),
        records: ids(throttled.iter().map(|&i| r.id(i))),
    });
    (windows, reason)
}

/// Rule 2, sync: every folder the attacker synced. A sync in the attacker's context means the
/// whole mailbox was probably copied to the attacker's client: widens to the entire mailbox.
pub fn attacker_sync(r: Rows, attacker_rows: &[usize]) -> FolderFindings {
    FolderFindings::new(
        folders_of(r, attacker_rows, Access::Sync),
        Rule::AttackerSync,
        |n| {
            format!(
                "the attacker synced {n} folder(s): assume all mail was synced to the attacker's client"
            )
        },
    )
}

/// A message a record names: the raw material of rules 3 and 5 (`named_messages` merges them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting<'a> {
    pub row: usize,
    /// Empty when the record names the message by its item id only.
    pub internet_message_id: &'a str,
    pub item_id: Option<&'a str>,
    pub folder: Option<&'a str>,
    pub subject: Option<&'a str>,
    /// `bind` or `message-bind`.
    pub access: MessageAccess,
}

fn sightings<'a>(
    r: Rows<'a>,
    rows: impl Iterator<Item = usize>,
    access: MessageAccess,
) -> Vec<Sighting<'a>> {
    let mut out = Vec::new();
    for i in rows {
        for k in r.items_of.of(i) {
            if let Some(mid) = r.items.internet_message_id.at(k) {
                out.push(Sighting {
                    row: i,
                    internet_message_id: mid,
                    item_id: None,
                    folder: r.items.folder_path.at(k),
                    subject: r.items.subject.at(k),
                    access,
                });
            }
        }
    }
    out
}

/// Rule 5 for `AttachmentAccess` (RecordType 50, beside MailItemsAccessed): each message whose
/// attachments the attacker read, by InternetMessageId, else by its item id.
pub fn attachment_access<'a>(r: Rows<'a>, attacker_rows: &[usize]) -> Vec<Sighting<'a>> {
    let mut out = Vec::new();
    for i in r.of(attacker_rows, Access::Attachment) {
        for k in r.items_of.of(i) {
            let mid = r.items.internet_message_id.at(k);
            let item_id = r.items.item_id.at(k);
            if mid.is_none() && item_id.is_none() {
                continue;
            }
            out.push(Sighting {
                row: i,
                internet_message_id: mid.unwrap_or(""),
                item_id: mid.is_none().then_some(item_id).flatten(),
                folder: r.items.folder_path.at(k),
                subject: r.items.subject.at(k),
                access: MessageAccess::Attachment,
            });
        }
    }
    out
}

/// Rule 3, bind: each InternetMessageId an attacker Bind names.
pub fn bind<'a>(r: Rows<'a>, attacker_rows: &[usize]) -> Vec<Sighting<'a>> {
    sightings(r, r.of(attacker_rows, Access::Bind), MessageAccess::Bind)
}

/// Rule 4, binds without message ids: an attacker Bind that names no message, or fewer than its
/// `OperationCount`. Listed as unresolved; each folder it names becomes folder scope.
pub fn unresolved_binds(r: Rows, attacker_rows: &[usize]) -> (Vec<Unresolved>, FolderFindings) {
    let mut unresolved = Vec::new();
    let mut folders = BTreeMap::new();
    for i in r.of(attacker_rows, Access::Bind) {
        let listed: BTreeSet<&str> = r
            .items_of
            .of(i)
            .filter_map(|k| r.items.internet_message_id.at(k))
            .collect();
        let count = r.v.operation_count[i];
        let short = count.is_some_and(|c| c > listed.len() as i64);
        if !listed.is_empty() && !short {
            continue;
        }
        // A bind that names no folder either accessed unknown mail somewhere in the mailbox:
        // the unrecorded folder is scoped, never nothing.
        let named = r.folders_or_unrecorded(i);
        hit_folders(&mut folders, named.clone(), r.time(i), r.id(i));
        unresolved.push(Unresolved {
            record_id: r.id(i).to_string(),
            time: rfc3339(r.time(i)),
            folders: named,
            operation_count: count,
            message_ids_listed: listed.len() as u64,
            reason: if listed.is_empty() {
                "bind record names no message ids".into()
            } else {
                format!(
                    "OperationCount {} is larger than the {} message id(s) listed",
                    count.unwrap_or(0),
                    listed.len()
                )
            },
        });
    }
    sort_by_time(&mut unresolved, |u| (&u.time, &u.record_id));
    let found = FolderFindings::new(folders, Rule::UnresolvedBind, |n| {
        format!("{n} folder(s) with attacker binds whose messages are not all named")
    });
    (unresolved, found)
}

/// Rule 5, legacy `FolderBind`: the folder was opened.
pub fn legacy_folder_bind(r: Rows, attacker_rows: &[usize]) -> FolderFindings {
    let folders = folders_of(r, attacker_rows, Access::FolderBind);
    FolderFindings::new(folders, Rule::FolderBind, |n| {
        format!("{n} folder(s) opened by the attacker (FolderBind)")
    })
}

/// Rule 5, legacy `MessageBind`: the message was opened.
pub fn legacy_message_bind<'a>(r: Rows<'a>, attacker_rows: &[usize]) -> Vec<Sighting<'a>> {
    sightings(
        r,
        r.of(attacker_rows, Access::MessageBind),
        MessageAccess::MessageBind,
    )
}

/// Rule 5, the attacker's other actions (copy, move, delete, send, inbox rules, forwarding,
/// sign-ins …) with the items they touched; no scope by themselves. A MessageBind whose items
/// carry no message id is listed here too, so that it is not lost.
pub fn legacy_actions(r: Rows, attacker_rows: &[usize]) -> Vec<Action> {
    let mut actions = Vec::new();
    for &i in attacker_rows {
        let access = r.access(i);
        // An AttachmentAccess that names no message (no items, or folders only) is listed
        // here, so that it is cited: `attachment_access` scopes only items with an id.
        let unnamed_attachment = access == Access::Attachment
            && r.items_of.of(i).all(|k| {
                r.items.internet_message_id.at(k).is_none() && r.items.item_id.at(k).is_none()
            });
        if !matches!(access, Access::Other | Access::MessageBind) && !unnamed_attachment {
            continue;
        }
        let message_bind = access == Access::MessageBind;
        let action = r.action(i, |k| {
            !(message_bind && r.items.internet_message_id.at(k).is_some())
        });
        // A MessageBind whose items all named messages is fully in rule 5's message scope.
        if message_bind && action.items.is_empty() && !r.items_of.of(i).is_empty() {
            continue;
        }
        actions.push(action);
    }
    sort_by_time(&mut actions, |a| (&a.time, &a.record_id));
    actions
}

/// The attacker's records that name no mailbox (organization-wide cmdlets: transport rules,
/// audit configuration, app consent …): every one listed, whatever its kind, so that no
/// attacker record is missing from the report.
pub fn tenant_actions(r: Rows, attacker_rows: &[usize]) -> Vec<Action> {
    let mut actions: Vec<Action> = attacker_rows
        .iter()
        .map(|&i| r.action(i, |_| true))
        .collect();
    sort_by_time(&mut actions, |a| (&a.time, &a.record_id));
    actions
}

/// Rules 3 and 5 together: one line per message (ids compare normalized), with every record
/// that named it. Folder and subject come from the first record, in frame order, that has them.
pub fn named_messages(r: Rows, mut seen: Vec<Sighting>) -> (Vec<MessageHit>, Option<Reason>) {
    struct Msg {
        item_id: Option<String>,
        span: Span,
        folder: Option<String>,
        subject: Option<String>,
        access: BTreeSet<MessageAccess>,
        attribution: BTreeSet<Party>,
    }
    // Frame order decides which folder and subject are shown (stable: a record's items in order).
    seen.sort_by_key(|s| s.row);
    let mut messages: BTreeMap<String, Msg> = BTreeMap::new();
    for s in seen {
        let t = r.time(s.row);
        // A message known only by its item id is kept apart from named ones.
        let key = match s.item_id {
            Some(id) if s.internet_message_id.is_empty() => format!("\u{1}item {id}"),
            _ => s.internet_message_id.to_string(),
        };
        let m = messages.entry(key).or_insert_with(|| Msg {
            item_id: s.item_id.map(str::to_string),
            span: Span::new(t),
            folder: None,
            subject: None,
            access: BTreeSet::new(),
            attribution: BTreeSet::new(),
        });
        m.span.hit(t, r.id(s.row));
        if m.folder.is_none() {
            m.folder = s.folder.map(str::to_string);
        }
        if m.subject.is_none() {
            m.subject = s.subject.map(str::to_string);
        }
        m.access.insert(s.access);
        m.attribution.insert(r.attr[s.row].party());
    }
    let hits: Vec<MessageHit> = messages
        .into_iter()
        .map(|(key, m)| MessageHit {
            internet_message_id: if m.item_id.is_some() {
                String::new()
            } else {
                key
            },
            item_id: m.item_id,
            folder: m.folder,
            subject: m.subject,
            first_seen: rfc3339(m.span.first),
            last_seen: rfc3339(m.span.last),
            access: NameSet(m.access),
            attribution: NameSet(m.attribution),
            records: m.span.records.into_iter().collect(),
            metadata: None,
        })
        .collect();
    let reason = (!hits.is_empty()).then(|| Reason {
        rule: Rule::Bind,
        detail: format!("{} message(s) named by attacker bind records", hits.len()),
        records: ids(hits
            .iter()
            .flat_map(|m| m.records.iter().map(String::as_str))),
    });
    (hits, reason)
}

/// "What the report must also say": attacker activity in a mailbox with no access auditing at
/// all (no MailItemsAccessed, FolderBind or MessageBind record, any context, any time) cannot be
/// scoped from audit data. Widens to the entire mailbox.
pub fn unauditable(r: Rows, attacker_rows: &[usize], access_auditing: bool) -> Option<Reason> {
    (!access_auditing).then(|| Reason {
        rule: Rule::Unauditable,
        detail: "attacker activity, but the inputs hold no MailItemsAccessed or FolderBind/MessageBind record for this mailbox: absence of records is not absence of access".into(),
        records: ids(attacker_rows.iter().map(|&i| r.id(i))),
    })
}

/// The widest verdict of the rules that fired.
pub fn verdict(reasons: &[Reason]) -> Verdict {
    reasons
        .iter()
        .map(|r| r.rule.verdict())
        .max()
        .unwrap_or(Verdict::None)
}

/// Sort by (time, record id), stable: lists read in time order whatever the frame's order.
fn sort_by_time<T>(list: &mut [T], key: impl Fn(&T) -> (&String, &String)) {
    list.sort_by(|a, b| key(a).cmp(&key(b)));
}

#[cfg(test)]
mod tests {
    //! Each rule on its own, on one mailbox's records as a Purview export would give them.
    use super::*;
    use crate::frame::Frame;
    use crate::model::{Item, Record, normalize_message_id, time_source};
    use crate::time::parse_iso;

    const MAILBOX: &str = "alice@contoso.com";
    const ATTACKER_IP: &str = "203.0.113.66";
    const OWNER_IP: &str = "198.51.100.10";
    const ATTACKER_SESSION: &str = "8d2c6b1e-5a7f-4e61-9c3d-0a1b2c3d4e5f";

    /// A MailItemsAccessed record as the Purview export gives it (AuditData fields normalized).
    fn mia(id: &str, time: &str, ip: &str, access: &str) -> Record<'static> {
        let attacker = ip == ATTACKER_IP;
        Record {
            time: parse_iso(time).unwrap(),
            time_source: time_source::AUDITDATA_CREATION_TIME,
            record_id: id.to_string().into(),
            line: 2,
            workload: Some("Exchange".into()),
            operation: "MailItemsAccessed".into(),
            record_type: Some("ExchangeItemAggregated".into()),
            mailbox: Some(MAILBOX.into()),
            mailbox_guid: Some("7d6a1c2e-0b1f-4c3e-9a8d-2f4e6b8a0c11".into()),
            actor: Some(MAILBOX.into()),
            logon_type: Some("Owner".into()),
            client_ip: Some(ip.to_string().into()),
            client_info: Some(if attacker {
                "Client=REST;Client=RESTSystem;UserAgent=python-requests/2.31".into()
            } else {
                "Client=OWA;Action=ViaProxy".into()
            }),
            session_id: Some(
                if attacker {
                    ATTACKER_SESSION
                } else {
                    "0f9e8d7c-1111-2222-3333-444455556666"
                }
                .into(),
            ),
            app_id: Some("00000002-0000-0ff1-ce00-000000000000".into()),
            mail_access_type: Some(access.to_string().into()),
            operation_count: Some(1),
            result_status: Some("Succeeded".into()),
            ..Record::default()
        }
    }

    fn with_message(
        mut r: Record<'static>,
        folder: &str,
        raw_id: &str,
        subject: &str,
    ) -> Record<'static> {
        r.items.push(Item {
            folder_path: Some(folder.to_string().into()),
            folder_id: Some(
                "LgAAAAAVyO4v1e4iR4Ey2d2ruAJbAQBl8wKVVLcDRa2cDvFqGHEkAAAAAAEMAAAB".into(),
            ),
            internet_message_id: normalize_message_id(raw_id).map(|m| m.into_owned().into()),
            internet_message_id_raw: Some(raw_id.to_string().into()),
            subject: Some(subject.to_string().into()),
            size: Some(48_213),
            ..Item::default()
        });
        r
    }

    fn with_folder(mut r: Record<'static>, folder: &str) -> Record<'static> {
        r.items.push(Item {
            folder_path: Some(folder.to_string().into()),
            ..Item::default()
        });
        r
    }

    /// A legacy mailbox-audit record (SearchResult.xml / Search-MailboxAuditLog).
    fn legacy(id: &str, time: &str, ip: &str, op: &str) -> Record<'static> {
        Record {
            time: parse_iso(time).unwrap(),
            time_source: time_source::LAST_ACCESSED_WITH_OFFSET,
            record_id: id.to_string().into(),
            operation: op.to_string().into(),
            mailbox: Some(MAILBOX.into()),
            actor: Some(MAILBOX.into()),
            logon_type: Some("Owner".into()),
            client_ip: Some(ip.to_string().into()),
            client_info: Some("Microsoft Outlook 16.0".into()),
            result_status: Some("Succeeded".into()),
            ..Record::default()
        }
    }

    /// One mailbox's frame, attributed by IP as `--attacker-ip 203.0.113.66` would.
    struct Case {
        v: RecordsView,
        items: ItemsView,
        items_of: ItemsOf,
        attr: Vec<Attribution>,
    }

    impl Case {
        fn new(records: Vec<Record<'static>>) -> Case {
            let frame =
                Frame::from_records(&records, &["/evidence/audit.csv".to_string()]).unwrap();
            let v = frame.records_view().unwrap();
            let items = frame.items_view().unwrap();
            let items_of = ItemsOf::new(&items.record_row, records.len()).unwrap();
            let attr = (0..records.len())
                .map(|i| match v.client_ip.at(i) {
                    Some(ATTACKER_IP) => Attribution::Attacker(format!("ip {ATTACKER_IP}")),
                    _ => Attribution::Other,
                })
                .collect();
            Case {
                v,
                items,
                items_of,
                attr,
            }
        }
        fn rows(&self) -> Rows<'_> {
            Rows {
                v: &self.v,
                items: &self.items,
                items_of: &self.items_of,
                attr: &self.attr,
            }
        }
        fn all(&self) -> Vec<usize> {
            (0..self.attr.len()).collect()
        }
        fn attacker(&self) -> Vec<usize> {
            self.all()
                .into_iter()
                .filter(|&i| self.attr[i].is_attacker_activity())
                .collect()
        }
    }

    fn rule_of(reason: &Option<Reason>) -> (Rule, Vec<String>) {
        let r = reason.as_ref().expect("the rule fires");
        (r.rule, r.records.clone())
    }

    #[test]
    fn throttling_opens_24_hour_windows_in_any_context_and_merges_overlaps() {
        let mut owner = mia("t-owner", "2024-03-12T05:30:00Z", OWNER_IP, "Bind");
        owner.is_throttled = true;
        let mut attacker = mia("t-attacker", "2024-03-12T08:00:00Z", ATTACKER_IP, "Bind");
        attacker.is_throttled = true;
        let mut later = mia("t-later", "2024-03-14T09:00:00Z", ATTACKER_IP, "Sync");
        later.is_throttled = true;
        let unthrottled = mia("plain", "2024-03-12T06:00:00Z", ATTACKER_IP, "Bind");
        let c = Case::new(vec![owner, unthrottled, attacker, later]);
        let throttled = throttled_rows(c.rows(), &c.all());
        assert_eq!(throttled.len(), 3);
        let (windows, reason) = throttling(c.rows(), &throttled);
        assert_eq!(windows.len(), 2);
        assert_eq!(
            (windows[0].start.as_str(), windows[0].end.as_str()),
            ("2024-03-12T05:30:00Z", "2024-03-13T08:00:00Z")
        );
        assert_eq!(windows[0].record_id, "t-owner");
        assert_eq!(windows[0].records, ["t-attacker", "t-owner"]);
        assert_eq!(windows[1].start, "2024-03-14T09:00:00Z");
        assert_eq!(
            rule_of(&reason),
            (
                Rule::Throttled,
                vec!["t-attacker".into(), "t-later".into(), "t-owner".into()]
            )
        );
        assert!(throttling(c.rows(), &[]).1.is_none());
    }

    #[test]
    fn attacker_sync_lists_synced_folders_and_ignores_the_owners() {
        let c = Case::new(vec![
            with_folder(
                mia("s1", "2024-03-12T01:00:00Z", ATTACKER_IP, "Sync"),
                "\\Inbox",
            ),
            with_folder(
                mia("s2", "2024-03-12T01:05:00Z", ATTACKER_IP, "Sync"),
                "\\Sent Items",
            ),
            with_folder(
                mia("s3", "2024-03-12T01:10:00Z", ATTACKER_IP, "Sync"),
                "\\Inbox",
            ),
            mia("s4", "2024-03-12T01:15:00Z", ATTACKER_IP, "Sync"),
            with_folder(
                mia("owner", "2024-03-12T02:00:00Z", OWNER_IP, "Sync"),
                "\\Archive",
            ),
        ]);
        let found = attacker_sync(c.rows(), &c.attacker());
        let paths: Vec<&str> = found.folders.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, [FOLDER_NOT_RECORDED, "\\Inbox", "\\Sent Items"]);
        let inbox = &found.folders[1];
        assert_eq!(inbox.records, ["s1", "s3"]);
        assert_eq!(
            (inbox.first_seen.as_str(), inbox.last_seen.as_str()),
            ("2024-03-12T01:00:00Z", "2024-03-12T01:10:00Z")
        );
        assert_eq!(rule_of(&found.reason).0, Rule::AttackerSync);
        assert_eq!(verdict(&[found.reason.unwrap()]), Verdict::EntireMailbox);
    }

    #[test]
    fn bind_names_each_message_of_the_attackers_binds_only() {
        let bound = with_message(
            with_message(
                mia("b1", "2024-03-12T09:45:12Z", ATTACKER_IP, "Bind"),
                "\\Inbox",
                "<CAAL-Board-Minutes@AM0PR01MB1234.eurprd01.prod.outlook.com>",
                "Board minutes",
            ),
            "\\Inbox",
            "<payroll-2024-03@contoso.com>",
            "Payroll March",
        );
        let owner = with_message(
            mia("b2", "2024-03-12T10:00:00Z", OWNER_IP, "Bind"),
            "\\Inbox",
            "<private@contoso.com>",
            "Private",
        );
        let sync = with_message(
            mia("b3", "2024-03-12T10:05:00Z", ATTACKER_IP, "Sync"),
            "\\Inbox",
            "<synced@contoso.com>",
            "Synced",
        );
        let c = Case::new(vec![bound, owner, sync]);
        let seen = bind(c.rows(), &c.attacker());
        let ids: Vec<&str> = seen.iter().map(|s| s.internet_message_id).collect();
        assert_eq!(
            ids,
            [
                "caal-board-minutes@am0pr01mb1234.eurprd01.prod.outlook.com",
                "payroll-2024-03@contoso.com"
            ]
        );
        assert!(
            seen.iter().all(|s| s.access == MessageAccess::Bind
                && s.folder == Some("\\Inbox")
                && s.row == 0)
        );
    }

    #[test]
    fn unresolved_binds_are_listed_and_their_folders_scoped() {
        let no_ids = with_folder(
            mia("u1", "2024-03-12T03:00:00Z", ATTACKER_IP, "Bind"),
            "\\Finance",
        );
        let mut short = with_message(
            mia("u2", "2024-03-12T03:10:00Z", ATTACKER_IP, "Bind"),
            "\\Inbox",
            "<one@contoso.com>",
            "One",
        );
        short.operation_count = Some(3);
        let complete = with_message(
            mia("u3", "2024-03-12T03:20:00Z", ATTACKER_IP, "Bind"),
            "\\Inbox",
            "<two@contoso.com>",
            "Two",
        );
        let nowhere = mia("u4", "2024-03-12T03:30:00Z", ATTACKER_IP, "Bind");
        let owner = with_folder(mia("u5", "2024-03-12T03:40:00Z", OWNER_IP, "Bind"), "\\HR");
        let c = Case::new(vec![no_ids, short, complete, nowhere, owner]);
        let (unresolved, found) = unresolved_binds(c.rows(), &c.attacker());
        let listed: Vec<(&str, &str)> = unresolved
            .iter()
            .map(|u| (u.record_id.as_str(), u.reason.as_str()))
            .collect();
        assert_eq!(
            listed,
            [
                ("u1", "bind record names no message ids"),
                (
                    "u2",
                    "OperationCount 3 is larger than the 1 message id(s) listed"
                ),
                ("u4", "bind record names no message ids"),
            ]
        );
        assert_eq!(unresolved[1].folders, ["\\Inbox"]);
        // u4 names neither a message nor a folder: its unknown folder is scoped.
        let paths: Vec<&str> = found.folders.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["(folder not recorded)", "\\Finance", "\\Inbox"]);
        assert_eq!(
            rule_of(&found.reason),
            (
                Rule::UnresolvedBind,
                vec!["u1".into(), "u2".into(), "u4".into()]
            )
        );
    }

    #[test]
    fn an_attachment_access_naming_only_its_folder_is_cited_as_an_action() {
        let mut aa = legacy(
            "a1",
            "2024-03-12T04:00:00Z",
            ATTACKER_IP,
            "AttachmentAccess",
        );
        aa = with_folder(aa, "\\Inbox");
        let c = Case::new(vec![aa]);
        assert!(attachment_access(c.rows(), &c.attacker()).is_empty());
        let actions = legacy_actions(c.rows(), &c.attacker());
        let ids: Vec<&str> = actions.iter().map(|a| a.record_id.as_str()).collect();
        assert_eq!(ids, ["a1"], "no attacker record goes uncited");
    }

    #[test]
    fn legacy_folder_bind_scopes_the_opened_folders() {
        let mut fb = legacy("f1", "2024-03-12T00:31:10Z", ATTACKER_IP, "FolderBind");
        fb.folder_path = Some("\\Finance\\Contracts".into());
        let mut owner = legacy("f2", "2024-03-12T00:40:00Z", OWNER_IP, "FolderBind");
        owner.folder_path = Some("\\Inbox".into());
        let c = Case::new(vec![fb, owner]);
        let found = legacy_folder_bind(c.rows(), &c.attacker());
        assert_eq!(found.folders.len(), 1);
        assert_eq!(found.folders[0].path, "\\Finance\\Contracts");
        assert_eq!(found.folders[0].reason, Rule::FolderBind);
        assert_eq!(
            rule_of(&found.reason),
            (Rule::FolderBind, vec!["f1".into()])
        );
        assert_eq!(verdict(&[found.reason.unwrap()]), Verdict::Folders);
    }

    #[test]
    fn legacy_message_bind_names_messages_and_keeps_items_without_ids_as_actions() {
        let named = with_message(
            legacy("m1", "2024-03-12T00:33:00Z", ATTACKER_IP, "MessageBind"),
            "\\Inbox",
            "<invoice-4471@fabrikam.com>",
            "Invoice 4471",
        );
        let mut anonymous = legacy("m2", "2024-03-12T00:34:00Z", ATTACKER_IP, "MessageBind");
        anonymous.items.push(Item {
            folder_path: Some("\\Inbox".into()),
            item_id: Some("RgAAAAAVyO4v1e4iR4Ey2d2ruAJbBwBl8wKVVLcDRa2cDvFqGHEkAAAAAAEMAAA".into()),
            subject: Some("Wire instructions".into()),
            ..Item::default()
        });
        let c = Case::new(vec![named, anonymous]);
        let seen = legacy_message_bind(c.rows(), &c.attacker());
        assert_eq!(seen.len(), 1);
        assert_eq!(
            (seen[0].internet_message_id, seen[0].access),
            ("invoice-4471@fabrikam.com", MessageAccess::MessageBind)
        );
        let actions = legacy_actions(c.rows(), &c.attacker());
        assert_eq!(
            actions.len(),
            1,
            "the MessageBind fully named is not an action"
        );
        assert_eq!(actions[0].record_id, "m2");
        assert_eq!(
            actions[0].items[0].subject.as_deref(),
            Some("Wire instructions")
        );
    }

    #[test]
    fn legacy_actions_list_the_attackers_other_operations_in_time_order() {
        let mut rule = legacy("a2", "2024-03-12T01:56:15Z", ATTACKER_IP, "New-InboxRule");
        rule.detail = Some(
            "Name=.; SubjectContainsWords=invoice;payment;wire; MoveToFolder=RSS Feeds".into(),
        );
        let mut delete = legacy("a1", "2024-03-12T00:35:42.500Z", ATTACKER_IP, "HardDelete");
        delete.items.push(Item {
            folder_path: Some("\\Deleted Items".into()),
            subject: Some("Security alert: new sign-in to your account".into()),
            ..Item::default()
        });
        let owner = legacy("a3", "2024-03-12T02:00:00Z", OWNER_IP, "Send");
        let bind = with_message(
            mia("a4", "2024-03-12T02:10:00Z", ATTACKER_IP, "Bind"),
            "\\Inbox",
            "<x@contoso.com>",
            "X",
        );
        let c = Case::new(vec![rule, delete, owner, bind]);
        let actions = legacy_actions(c.rows(), &c.attacker());
        let listed: Vec<(&str, &str)> = actions
            .iter()
            .map(|a| (a.record_id.as_str(), a.operation.as_str()))
            .collect();
        assert_eq!(listed, [("a1", "HardDelete"), ("a2", "New-InboxRule")]);
        assert_eq!(actions[0].attribution, Party::Attacker);
        assert_eq!(actions[0].client_ip.as_deref(), Some(ATTACKER_IP));
        assert_eq!(actions[0].source, "/evidence/audit.csv:0");
        assert!(
            actions[1]
                .detail
                .as_deref()
                .unwrap()
                .contains("SubjectContainsWords")
        );
    }

    #[test]
    fn named_messages_merge_bind_and_message_bind_of_one_message() {
        let a = with_message(
            mia("n1", "2024-03-12T04:00:00Z", ATTACKER_IP, "Bind"),
            "\\Inbox",
            "<Deal@Contoso.com>",
            "Deal",
        );
        let b = with_message(
            legacy("n2", "2024-03-12T05:00:00Z", ATTACKER_IP, "MessageBind"),
            "\\Archive",
            "deal@contoso.com",
            "Deal (fwd)",
        );
        let c = Case::new(vec![a, b]);
        let mut seen = legacy_message_bind(c.rows(), &c.attacker());
        seen.extend(bind(c.rows(), &c.attacker()));
        let (hits, reason) = named_messages(c.rows(), seen);
        assert_eq!(hits.len(), 1);
        let m = &hits[0];
        assert_eq!(m.internet_message_id, "deal@contoso.com");
        assert_eq!(m.access.to_string(), "bind,message-bind");
        assert_eq!(
            m.folder.as_deref(),
            Some("\\Inbox"),
            "the earliest record's folder"
        );
        assert_eq!(m.records, ["n1", "n2"]);
        assert_eq!(
            (m.first_seen.as_str(), m.last_seen.as_str()),
            ("2024-03-12T04:00:00Z", "2024-03-12T05:00:00Z")
        );
        assert_eq!(
            rule_of(&reason),
            (Rule::Bind, vec!["n1".into(), "n2".into()])
        );
        assert_eq!(verdict(&[reason.unwrap()]), Verdict::Messages);
    }

    #[test]
    fn unauditable_mailbox_cites_every_attacker_record() {
        let rule = legacy("r1", "2024-03-12T01:56:15Z", ATTACKER_IP, "New-InboxRule");
        let login = legacy("r2", "2024-03-12T01:50:00Z", ATTACKER_IP, "UserLoggedIn");
        let c = Case::new(vec![login, rule]);
        let reason = unauditable(c.rows(), &c.attacker(), false);
        assert_eq!(
            rule_of(&reason),
            (Rule::Unauditable, vec!["r1".into(), "r2".into()])
        );
        assert_eq!(verdict(&[reason.unwrap()]), Verdict::EntireMailbox);
        assert!(unauditable(c.rows(), &c.attacker(), true).is_none());
    }

    #[test]
    fn verdict_is_the_widest_rule_that_fired() {
        let reason = |rule| Reason {
            rule,
            detail: String::new(),
            records: vec![],
        };
        assert_eq!(verdict(&[]), Verdict::None);
        assert_eq!(verdict(&[reason(Rule::Bind)]), Verdict::Messages);
        assert_eq!(
            verdict(&[reason(Rule::Bind), reason(Rule::UnresolvedBind)]),
            Verdict::Folders
        );
        assert_eq!(
            verdict(&[
                reason(Rule::FolderBind),
                reason(Rule::Throttled),
                reason(Rule::Bind)
            ]),
            Verdict::EntireMailbox
        );
        for &rule in Rule::ALL {
            assert_eq!(verdict(&[reason(rule)]), rule.verdict());
        }
    }
}
