//! `--format csv`: a folder of flat tables, one item per row, safe to open in a spreadsheet.

use super::*;
use crate::escape;
use crate::outfile::OutFile;
use std::path::Path;

/// An optional value as a cell (empty when absent).
pub(super) fn o(s: &Option<impl AsRef<str>>) -> String {
    s.as_ref()
        .map(|s| s.as_ref().to_string())
        .unwrap_or_default()
}

struct Table {
    w: ::csv::Writer<OutFile>,
}

impl Table {
    fn create(dir: &Path, name: &str, header: &[&str]) -> std::io::Result<Table> {
        let mut w = ::csv::Writer::from_writer(OutFile::create(&dir.join(name))?);
        w.write_record(header)?;
        Ok(Table { w })
    }
    /// Put the table in place (see `OutFile`), once every table is written.
    fn commit(self) -> std::io::Result<()> {
        self.w.into_inner().map_err(|e| e.into_error())?.commit()
    }
    fn row(&mut self, cells: Vec<String>) -> std::io::Result<()> {
        self.w
            .write_record(cells.iter().map(|c| escape::csv(c)).collect::<Vec<_>>())?;
        Ok(())
    }
}

/// One row of `actions.csv` per action (`mailbox` empty for actions outside any mailbox).
fn action_rows(table: &mut Table, mailbox: &str, list: &[Action]) -> std::io::Result<()> {
    for a in list {
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
        table.row(vec![
            mailbox.to_string(),
            a.time.clone(),
            a.operation.clone(),
            a.record_id.clone(),
            a.attribution.to_string(),
            o(&a.client_ip),
            o(&a.session_id),
            o(&a.folder),
            items.join(" | "),
            o(&a.detail),
            a.source.clone(),
        ])?;
    }
    Ok(())
}

fn forwarding_row(mailbox: &str, w: &ForwardingWindow) -> Vec<String> {
    let count = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
    vec![
        mailbox.to_string(),
        w.kind.as_str().to_string(),
        o(&w.rule),
        w.destinations
            .iter()
            .map(|d| d.address.as_str())
            .collect::<Vec<_>>()
            .join("; "),
        w.destinations
            .iter()
            .filter(|d| d.external == Some(true))
            .map(|d| d.address.as_str())
            .collect::<Vec<_>>()
            .join("; "),
        w.start.clone(),
        o(&w.end),
        w.ended_by
            .map(|e| e.as_str().to_string())
            .unwrap_or_default(),
        o(&w.end_record),
        w.conditions
            .iter()
            .map(|c| format!("{}={}", c.name, c.values.join(",")))
            .collect::<Vec<_>>()
            .join("; "),
        w.all_mail.to_string(),
        w.attribution.to_string(),
        w.records.join(" "),
        count(w.forwarded_messages),
        count(w.confirmed),
        o(&w.unresolved_after),
    ]
}

pub const FILES: &[&str] = &[
    "mailboxes.csv",
    "messages.csv",
    "folders.csv",
    "windows.csv",
    "actions.csv",
    "unresolved.csv",
    "notification.csv",
    "forwarding.csv",
    "sent.csv",
    "gaps.csv",
];

/// Write the tables into `dir` (created if missing).
pub fn write_folder(r: &Report, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut mb = Table::create(
        dir,
        "mailboxes.csv",
        &[
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
        ],
    )?;
    let mut msgs = Table::create(
        dir,
        "messages.csv",
        &[
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
        ],
    )?;
    let mut forwarding = Table::create(
        dir,
        "forwarding.csv",
        &[
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
        ],
    )?;
    let mut gaps = Table::create(
        dir,
        "gaps.csv",
        &[
            "signal",
            "value",
            "records",
            "record_ids",
            "mailboxes",
            "client_ips",
            "first_seen",
            "last_seen",
        ],
    )?;
    for g in &r.indicator_gaps {
        gaps.row(vec![
            g.signal.to_string(),
            g.value.clone(),
            g.records.to_string(),
            g.record_ids.join(" "),
            g.mailboxes.join("; "),
            g.client_ips.join("; "),
            g.first_seen.clone(),
            g.last_seen.clone(),
        ])?;
    }
    let mut sent = Table::create(
        dir,
        "sent.csv",
        &[
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
        ],
    )?;
    // One row per message × mailbox that must be notified about, with why.
    let mut notify = Table::create(
        dir,
        "notification.csv",
        &[
            "mailbox",
            "internet_message_id",
            "subject",
            "sender",
            "recipients",
            "received",
            "in_scope_because",
            "evidence",
            "metadata",
        ],
    )?;
    let mut folders = Table::create(
        dir,
        "folders.csv",
        &[
            "mailbox",
            "path",
            "reason",
            "first_seen",
            "last_seen",
            "records",
        ],
    )?;
    let mut windows = Table::create(
        dir,
        "windows.csv",
        &["mailbox", "start", "end", "record_id", "records"],
    )?;
    let mut actions = Table::create(
        dir,
        "actions.csv",
        &[
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
        ],
    )?;
    let mut unresolved = Table::create(
        dir,
        "unresolved.csv",
        &[
            "mailbox",
            "record_id",
            "time",
            "folders",
            "operation_count",
            "message_ids_listed",
            "reason",
        ],
    )?;
    for m in &r.mailboxes {
        mb.row(vec![
            m.mailbox.clone(),
            m.verdict.as_str().into(),
            m.reasons
                .iter()
                .map(|r| r.rule.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            m.messages.len().to_string(),
            m.folders.len().to_string(),
            m.synced_folders.len().to_string(),
            m.throttled_windows.len().to_string(),
            m.unresolved.len().to_string(),
            m.actions.len().to_string(),
            m.access_auditing.to_string(),
            m.caveats.join(" | "),
        ])?;
        for x in &m.messages {
            msgs.row(vec![
                m.mailbox.clone(),
                x.label(),
                o(&x.folder),
                o(&x.subject),
                x.first_seen.clone(),
                x.last_seen.clone(),
                x.access.to_string(),
                x.attribution.to_string(),
                x.records.join(" "),
                o(&x.metadata.as_ref().and_then(|m| m.sender.as_ref())),
                x.metadata
                    .as_ref()
                    .map(|m| m.recipients.join("; "))
                    .unwrap_or_default(),
                o(&x.metadata.as_ref().and_then(|m| m.date.as_ref())),
            ])?;
            notify.row(vec![
                m.mailbox.clone(),
                x.label(),
                o(&x.subject),
                o(&x.metadata.as_ref().and_then(|m| m.sender.as_ref())),
                x.metadata
                    .as_ref()
                    .map(|m| m.recipients.join("; "))
                    .unwrap_or_default(),
                o(&x.metadata.as_ref().and_then(|m| m.date.as_ref())),
                format!("{} by the attacker", x.access),
                x.records.join(" "),
                x.metadata
                    .as_ref()
                    .map_or("none".to_string(), |m| m.source.clone()),
            ])?;
        }
        for a in &m.assumed_messages {
            notify.row(vec![
                m.mailbox.clone(),
                a.internet_message_id.clone(),
                o(&a.subject),
                o(&a.sender),
                a.recipients.join("; "),
                o(&a.date),
                a.why.clone(),
                String::new(),
                a.source.clone(),
            ])?;
        }
        for f in m.synced_folders.iter().chain(&m.folders) {
            folders.row(vec![
                m.mailbox.clone(),
                f.path.clone(),
                f.reason.to_string(),
                f.first_seen.clone(),
                f.last_seen.clone(),
                f.records.join(" "),
            ])?;
        }
        for w in &m.throttled_windows {
            windows.row(vec![
                m.mailbox.clone(),
                w.start.clone(),
                w.end.clone(),
                w.record_id.clone(),
                w.records.join(" "),
            ])?;
        }
        action_rows(&mut actions, &m.mailbox, &m.actions)?;
        for u in &m.unresolved {
            unresolved.row(vec![
                m.mailbox.clone(),
                u.record_id.clone(),
                u.time.clone(),
                u.folders.join(" | "),
                u.operation_count.map(|c| c.to_string()).unwrap_or_default(),
                u.message_ids_listed.to_string(),
                u.reason.clone(),
            ])?;
        }
    }
    // Attacker actions that name no mailbox.
    action_rows(&mut actions, "", &r.tenant_actions)?;
    let windows_of = r
        .mailboxes
        .iter()
        .flat_map(|m| m.forwarding.iter().map(|w| (m.mailbox.as_str(), w)))
        .chain(r.tenant_forwarding.iter().map(|w| ("", w)));
    for (mailbox, w) in windows_of {
        forwarding.row(forwarding_row(mailbox, w))?;
    }
    for m in &r.mailboxes {
        for x in &m.sent_messages {
            sent.row(vec![
                m.mailbox.clone(),
                x.time.clone(),
                x.operation.clone(),
                o(&x.internet_message_id),
                o(&x.item_id),
                o(&x.subject),
                x.attribution.to_string(),
                x.record_id.clone(),
                x.recipients.join("; "),
                o(&x.recipients_from),
                o(&x.source),
            ])?;
            if !x.recipients.is_empty() {
                notify.row(vec![
                    m.mailbox.clone(),
                    o(&x.internet_message_id),
                    o(&x.subject),
                    m.mailbox.clone(),
                    x.recipients.join("; "),
                    x.time.clone(),
                    "sent by the attacker".to_string(),
                    x.record_id.clone(),
                    o(&x.source),
                ])?;
            }
        }
    }
    for t in [
        mb, msgs, folders, windows, actions, unresolved, notify, forwarding, sent, gaps,
    ] {
        t.commit()?;
    }
    Ok(())
}
