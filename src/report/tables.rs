//! The report's flat tables, one row per finding: the CSV folder writes one file per
//! `TableKind`, so the folder's file list is this enum's. Each row is typed cells, escaped by the
//! renderer (one CSV cell each).

use super::view::Cell;
use super::*;

/// A row: one cell per column.
pub type Row = Vec<Cell>;
/// Where rows go, one at a time (a large report is not held twice).
pub type Emit<'a> = &'a mut dyn FnMut(Row) -> std::io::Result<()>;

/// One flat table of the report; to add one, add a kind here, its columns and its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    Mailboxes,
    Messages,
    Folders,
    Windows,
    Actions,
    Unresolved,
    Notification,
    Forwarding,
    Sent,
    Gaps,
    ContentSearches,
    Grants,
    SearchedFor,
}

impl TableKind {
    pub const ALL: [TableKind; 13] = [
        TableKind::Mailboxes,
        TableKind::Messages,
        TableKind::Folders,
        TableKind::Windows,
        TableKind::Actions,
        TableKind::Unresolved,
        TableKind::Notification,
        TableKind::Forwarding,
        TableKind::Sent,
        TableKind::Gaps,
        TableKind::ContentSearches,
        TableKind::Grants,
        TableKind::SearchedFor,
    ];

    /// The table's file in the CSV folder.
    pub const fn file(self) -> &'static str {
        match self {
            TableKind::Mailboxes => "mailboxes.csv",
            TableKind::Messages => "messages.csv",
            TableKind::Folders => "folders.csv",
            TableKind::Windows => "windows.csv",
            TableKind::Actions => "actions.csv",
            TableKind::Unresolved => "unresolved.csv",
            TableKind::Notification => "notification.csv",
            TableKind::Forwarding => "forwarding.csv",
            TableKind::Sent => "sent.csv",
            TableKind::Gaps => "gaps.csv",
            TableKind::ContentSearches => "content_searches.csv",
            TableKind::Grants => "grants.csv",
            TableKind::SearchedFor => "searched_for.csv",
        }
    }

    /// The table's header.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            TableKind::Mailboxes => MAILBOXES,
            TableKind::Messages => MESSAGES,
            TableKind::Folders => FOLDERS,
            TableKind::Windows => WINDOWS,
            TableKind::Actions => ACTIONS,
            TableKind::Unresolved => UNRESOLVED,
            TableKind::Notification => NOTIFICATION,
            TableKind::Forwarding => FORWARDING,
            TableKind::Sent => SENT,
            TableKind::Gaps => GAPS,
            TableKind::ContentSearches => CONTENT_SEARCHES,
            TableKind::Grants => GRANTS,
            TableKind::SearchedFor => SEARCHED_FOR,
        }
    }

    /// The table's rows from the report, in order.
    pub fn rows(self, r: &Report, emit: Emit) -> std::io::Result<()> {
        match self {
            TableKind::Mailboxes => r.mailboxes.iter().try_for_each(|m| emit(mailbox_row(m))),
            TableKind::Messages => each(r, emit, |m, x| Some(message_row(m, x))),
            TableKind::Folders => folder_rows(r, emit),
            TableKind::Windows => throttled_rows(r, emit),
            TableKind::Actions => action_rows(r, emit),
            TableKind::Unresolved => unresolved_rows(r, emit),
            TableKind::Notification => notification_rows(r, emit),
            TableKind::Forwarding => forwarding_rows(r, emit),
            TableKind::Sent => sent_rows(r, emit),
            TableKind::Gaps => r.indicator_gaps.iter().try_for_each(|g| emit(gap_row(g))),
            TableKind::ContentSearches => search_rows(r, emit),
            TableKind::Grants => r.grants.iter().try_for_each(|g| emit(grant_row(g))),
            TableKind::SearchedFor => searched_rows(r, emit),
        }
    }
}

// Each table's columns, in order.
const MAILBOXES: &[&str] = &[
    "mailbox",
    "verdict",
    "reasons",
    "messages",
    "folders",
    "synced_folders",
    "throttled_windows",
    "unresolved",
    "actions",
    "access_auditing",
    "caveats",
];

const MESSAGES: &[&str] = &[
    "mailbox",
    "internet_message_id",
    "folder",
    "subject",
    "first_seen",
    "last_seen",
    "access",
    "attribution",
    "records",
    "sender",
    "recipients",
    "received",
];

const FOLDERS: &[&str] = &[
    "mailbox",
    "path",
    "reason",
    "first_seen",
    "last_seen",
    "records",
];

const WINDOWS: &[&str] = &["mailbox", "start", "end", "record_id", "records"];

const ACTIONS: &[&str] = &[
    "mailbox",
    "time",
    "operation",
    "record_id",
    "attribution",
    "client_ip",
    "session_id",
    "folder",
    "items",
    "detail",
    "source",
];

const UNRESOLVED: &[&str] = &[
    "mailbox",
    "record_id",
    "time",
    "folders",
    "operation_count",
    "message_ids_listed",
    "reason",
];

const NOTIFICATION: &[&str] = &[
    "mailbox",
    "internet_message_id",
    "subject",
    "sender",
    "recipients",
    "received",
    "in_scope_because",
    "evidence",
    "metadata",
];

const FORWARDING: &[&str] = &[
    "mailbox",
    "kind",
    "rule",
    "destinations",
    "external_destinations",
    "start",
    "end",
    "ended_by",
    "end_record",
    "conditions",
    "all_mail",
    "attribution",
    "records",
    "forwarded_messages",
    "confirmed",
    "unresolved_after",
];

const SENT: &[&str] = &[
    "mailbox",
    "time",
    "operation",
    "internet_message_id",
    "item_id",
    "subject",
    "attribution",
    "record_id",
    "recipients",
    "recipients_from",
    "source",
];

const GAPS: &[&str] = &[
    "signal",
    "value",
    "records",
    "record_ids",
    "mailboxes",
    "client_ips",
    "first_seen",
    "last_seen",
];

/// One row per mailbox a search exposed (the search's own row, mailbox empty, when it
/// exposed none).
const CONTENT_SEARCHES: &[&str] = &[
    "search",
    "mailbox",
    "exposed",
    "steps",
    "first_taken",
    "query",
    "all_mail",
    "all_mailboxes",
    "matched_messages",
    "unresolved",
    "purged",
    "record_ids",
];

const GRANTS: &[&str] = &[
    "time",
    "kind",
    "grantee",
    "mailbox",
    "folder",
    "rights",
    "attribution",
    "record_id",
    "removed",
    "removed_by",
    "linked_records",
    "linked_mailboxes",
];

/// One row per attacker search text; mailbox empty for a search that names none (SharePoint).
const SEARCHED_FOR: &[&str] = &[
    "mailbox",
    "time",
    "source",
    "text",
    "attribution",
    "record_id",
];

fn yes_no(b: bool) -> Cell {
    tool(if b { "yes" } else { "no" })
}

fn search_rows(r: &Report, emit: Emit) -> std::io::Result<()> {
    for c in &r.content_searches {
        let taken: Vec<(&str, &crate::scope::findings::SearchExposure)> = r
            .mailboxes
            .iter()
            .flat_map(|m| {
                m.content_searches
                    .iter()
                    .filter(|e| e.search == c.search)
                    .map(move |e| (m.mailbox.as_str(), e))
            })
            .collect();
        let all_ids: Vec<&str> = c.steps.iter().map(|s| s.record_id.as_str()).collect();
        if taken.is_empty() {
            emit(vec![
                ev(&c.search),
                ev(""),
                yes_no(c.exposed),
                tool(""),
                time(""),
                opt(&c.query, ev),
                tool(""),
                yes_no(c.all_mailboxes),
                tool(""),
                tool(""),
                yes_no(c.purged),
                id(&all_ids.join(" ")),
            ])?;
        }
        for (mailbox, e) in taken {
            emit(vec![
                ev(&c.search),
                ev(mailbox),
                yes_no(true),
                tool(e.steps.join(" ")),
                time(&e.time),
                opt(&e.query, ev),
                yes_no(e.all_mail),
                yes_no(e.by_all_locations),
                e.matched_messages.map_or_else(|| tool(""), Cell::Count),
                yes_no(e.unresolved),
                yes_no(c.purged),
                id(&e.records.join(" ")),
            ])?;
        }
    }
    Ok(())
}

fn grant_row(g: &crate::scope::findings::GrantLink) -> Row {
    vec![
        time(&g.time),
        tool(g.kind.clone()),
        ev(&g.grantee),
        opt(&g.mailbox, ev),
        opt(&g.folder, ev),
        ev(&g.rights.join("; ")),
        tool(g.attribution.to_string()),
        id(&g.record_id),
        opt(&g.removed, time),
        opt(&g.removed_by, id),
        Cell::Count(g.linked_records),
        ev(&g.mailboxes.join("; ")),
    ]
}

fn searched_rows(r: &Report, emit: Emit) -> std::io::Result<()> {
    let per_mailbox = r
        .mailboxes
        .iter()
        .flat_map(|m| m.searched_for.iter().map(move |s| (m.mailbox.as_str(), s)));
    let tenant = r.searched_for.iter().map(|s| ("", s));
    for (mailbox, s) in per_mailbox.chain(tenant) {
        emit(vec![
            ev(mailbox),
            time(&s.time),
            tool(s.source.clone()),
            opt(&s.text, ev),
            tool(s.attribution.to_string()),
            id(&s.record_id),
        ])?;
    }
    Ok(())
}

fn ev(s: &str) -> Cell {
    Cell::Evidence(s.to_string())
}

fn id(s: &str) -> Cell {
    Cell::Id(s.to_string())
}

fn time(s: &str) -> Cell {
    Cell::Time(s.to_string())
}

fn count(n: usize) -> Cell {
    Cell::Count(n as u64)
}

fn tool(s: impl Into<String>) -> Cell {
    Cell::Tool(s.into())
}

/// An optional value (empty when absent), of the kind `cell` makes.
fn opt(s: &Option<impl AsRef<str>>, cell: fn(&str) -> Cell) -> Cell {
    cell(s.as_ref().map(|s| s.as_ref()).unwrap_or_default())
}

/// Each message in scope of each mailbox, as `row` makes it.
fn each(
    r: &Report,
    emit: Emit,
    row: impl Fn(&MailboxScope, &MessageHit) -> Option<Row>,
) -> std::io::Result<()> {
    for m in &r.mailboxes {
        for x in &m.messages {
            if let Some(row) = row(m, x) {
                emit(row)?;
            }
        }
    }
    Ok(())
}

fn mailbox_row(m: &MailboxScope) -> Row {
    let rules: Vec<&str> = m.reasons.iter().map(|r| r.rule.as_str()).collect();
    vec![
        ev(&m.mailbox),
        Cell::Label(m.verdict.as_str()),
        tool(rules.join(" ")),
        count(m.messages.len()),
        count(m.folders.len()),
        count(m.synced_folders.len()),
        count(m.throttled_windows.len()),
        count(m.unresolved.len()),
        count(m.actions.len()),
        tool(m.access_auditing.to_string()),
        ev(&m.caveats.join(" | ")),
    ]
}

fn message_row(m: &MailboxScope, x: &MessageHit) -> Row {
    let meta = x.metadata.as_ref();
    vec![
        ev(&m.mailbox),
        id(&x.label()),
        opt(&x.folder, ev),
        opt(&x.subject, ev),
        time(&x.first_seen),
        time(&x.last_seen),
        tool(x.access.to_string()),
        tool(x.attribution.to_string()),
        id(&x.records.join(" ")),
        opt(&meta.and_then(|m| m.sender.as_ref()), ev),
        ev(&meta.map(|m| m.recipients.join("; ")).unwrap_or_default()),
        opt(&meta.and_then(|m| m.date.as_ref()), time),
    ]
}

fn folder_rows(r: &Report, emit: Emit) -> std::io::Result<()> {
    for m in &r.mailboxes {
        for f in m.synced_folders.iter().chain(&m.folders) {
            emit(vec![
                ev(&m.mailbox),
                ev(&f.path),
                tool(f.reason.to_string()),
                time(&f.first_seen),
                time(&f.last_seen),
                id(&f.records.join(" ")),
            ])?;
        }
    }
    Ok(())
}

fn throttled_rows(r: &Report, emit: Emit) -> std::io::Result<()> {
    for m in &r.mailboxes {
        for w in &m.throttled_windows {
            emit(vec![
                ev(&m.mailbox),
                time(&w.start),
                time(&w.end),
                id(&w.record_id),
                id(&w.records.join(" ")),
            ])?;
        }
    }
    Ok(())
}

/// Actions of each mailbox, then those outside any mailbox (`mailbox` empty).
fn action_rows(r: &Report, emit: Emit) -> std::io::Result<()> {
    let all = r
        .mailboxes
        .iter()
        .flat_map(|m| m.actions.iter().map(|a| (m.mailbox.as_str(), a)))
        .chain(r.tenant_actions.iter().map(|a| ("", a)));
    for (mailbox, a) in all {
        emit(action_row(mailbox, a))?;
    }
    Ok(())
}

fn action_row(mailbox: &str, a: &Action) -> Row {
    let items: Vec<String> = a
        .items
        .iter()
        .map(|i| {
            [&i.internet_message_id, &i.subject, &i.item_id, &i.folder]
                .iter()
                .filter_map(|x| x.as_deref())
                .collect::<Vec<_>>()
                .join(" / ")
        })
        .collect();
    vec![
        ev(mailbox),
        time(&a.time),
        ev(&a.operation),
        id(&a.record_id),
        tool(a.attribution.to_string()),
        opt(&a.client_ip, ev),
        opt(&a.session_id, id),
        opt(&a.folder, ev),
        ev(&items.join(" | ")),
        opt(&a.detail, ev),
        ev(&a.source),
    ]
}

fn unresolved_rows(r: &Report, emit: Emit) -> std::io::Result<()> {
    for m in &r.mailboxes {
        for u in &m.unresolved {
            emit(vec![
                ev(&m.mailbox),
                id(&u.record_id),
                time(&u.time),
                ev(&u.folders.join(" | ")),
                tool(u.operation_count.map(|c| c.to_string()).unwrap_or_default()),
                Cell::Count(u.message_ids_listed),
                ev(&u.reason),
            ])?;
        }
    }
    Ok(())
}

/// One row per message × mailbox that must be notified about, with why: messages in scope and
/// assumed compromised per mailbox, then the mail the attacker sent.
fn notification_rows(r: &Report, emit: Emit) -> std::io::Result<()> {
    for m in &r.mailboxes {
        for x in &m.messages {
            let meta = x.metadata.as_ref();
            emit(vec![
                ev(&m.mailbox),
                id(&x.label()),
                opt(&x.subject, ev),
                opt(&meta.and_then(|m| m.sender.as_ref()), ev),
                ev(&meta.map(|m| m.recipients.join("; ")).unwrap_or_default()),
                opt(&meta.and_then(|m| m.date.as_ref()), time),
                tool(format!("{} by the attacker", x.access)),
                id(&x.records.join(" ")),
                ev(meta.map_or("none", |m| m.source.as_str())),
            ])?;
        }
        for a in &m.assumed_messages {
            emit(vec![
                ev(&m.mailbox),
                id(&a.internet_message_id),
                opt(&a.subject, ev),
                opt(&a.sender, ev),
                ev(&a.recipients.join("; ")),
                opt(&a.date, time),
                ev(&a.why),
                tool(""),
                ev(&a.source),
            ])?;
        }
    }
    for m in &r.mailboxes {
        for x in m.sent_messages.iter().filter(|x| !x.recipients.is_empty()) {
            emit(vec![
                ev(&m.mailbox),
                opt(&x.internet_message_id, id),
                opt(&x.subject, ev),
                ev(&m.mailbox),
                ev(&x.recipients.join("; ")),
                time(&x.time),
                tool("sent by the attacker"),
                id(&x.record_id),
                opt(&x.source, ev),
            ])?;
        }
    }
    Ok(())
}

/// Forwarding windows of each mailbox, then the transport rules (`mailbox` empty).
fn forwarding_rows(r: &Report, emit: Emit) -> std::io::Result<()> {
    let all = r
        .mailboxes
        .iter()
        .flat_map(|m| m.forwarding.iter().map(|w| (m.mailbox.as_str(), w)))
        .chain(r.tenant_forwarding.iter().map(|w| ("", w)));
    for (mailbox, w) in all {
        emit(forwarding_row(mailbox, w))?;
    }
    Ok(())
}

fn forwarding_row(mailbox: &str, w: &ForwardingWindow) -> Row {
    let n = |n: Option<u64>| tool(n.map(|n| n.to_string()).unwrap_or_default());
    let addresses = |external_only: bool| {
        w.destinations
            .iter()
            .filter(|d| !external_only || d.external == Some(true))
            .map(|d| d.address.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let conditions: Vec<String> = w
        .conditions
        .iter()
        .map(|c| format!("{}={}", c.name, c.values.join(",")))
        .collect();
    vec![
        ev(mailbox),
        Cell::Label(w.kind.as_str()),
        opt(&w.rule, ev),
        ev(&addresses(false)),
        ev(&addresses(true)),
        time(&w.start),
        opt(&w.end, time),
        tool(w.ended_by.map(|e| e.as_str()).unwrap_or_default()),
        opt(&w.end_record, id),
        ev(&conditions.join("; ")),
        tool(w.all_mail.to_string()),
        tool(w.attribution.to_string()),
        id(&w.records.join(" ")),
        n(w.forwarded_messages),
        n(w.confirmed),
        opt(&w.unresolved_after, time),
    ]
}

fn sent_rows(r: &Report, emit: Emit) -> std::io::Result<()> {
    for m in &r.mailboxes {
        for x in &m.sent_messages {
            emit(vec![
                ev(&m.mailbox),
                time(&x.time),
                ev(&x.operation),
                opt(&x.internet_message_id, id),
                opt(&x.item_id, id),
                opt(&x.subject, ev),
                tool(x.attribution.to_string()),
                id(&x.record_id),
                ev(&x.recipients.join("; ")),
                opt(&x.recipients_from, ev),
                opt(&x.source, ev),
            ])?;
        }
    }
    Ok(())
}

fn gap_row(g: &IndicatorGap) -> Row {
    vec![
        Cell::Label(g.signal),
        ev(&g.value),
        Cell::Count(g.records),
        id(&g.record_ids.join(" ")),
        ev(&g.mailboxes.join("; ")),
        ev(&g.client_ips.join("; ")),
        time(&g.first_seen),
        time(&g.last_seen),
    ]
}
