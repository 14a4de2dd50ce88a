//! Text (terminal) and Markdown renderings of the report. For people; JSON is the stable format.

use super::outbound;
use super::view::Prose;
use super::*;
use crate::escape;
use crate::zone::{self, DisplayZone};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Display settings: Markdown or plain text, and the zone times are shown in.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub markdown: bool,
    pub tz: Option<DisplayZone>,
    /// How many messages / actions per mailbox the text shows before "… and N more".
    pub list_limit: usize,
}

fn show(t: &str, style: &Style) -> String {
    zone::show(t, style.tz)
}

/// A value from the evidence, made inert for the target (see `escape`).
fn cell(s: &str, style: &Style) -> String {
    if style.markdown {
        escape::markdown(s)
    } else {
        escape::terminal(s).into_owned()
    }
}

/// Record ids (evidence too: a collector or an attacker may have written them). Markdown, the
/// report for documents, cites every one.
fn short_ids(ids: &[String], max: usize, style: &Style) -> String {
    let max = if style.markdown { usize::MAX } else { max };
    let shown: Vec<String> = ids.iter().take(max).map(|i| cell(i, style)).collect();
    if ids.len() <= max {
        shown.join(", ")
    } else {
        format!("{}, … (+{} more)", shown.join(", "), ids.len() - max)
    }
}

/// A section's heading: a Markdown `##` heading, or a plain line.
/// A SHA-256 shortened for a line of text: its first 16 characters (characters, not bytes:
/// whatever a hash from a saved case holds, this cannot split one).
fn short_hash(sha256: &str) -> String {
    sha256.chars().take(16).collect()
}

fn heading(o: &mut String, title: &str, style: &Style) {
    if style.markdown {
        let _ = writeln!(o, "## {title}\n");
    } else {
        let _ = writeln!(o, "{title}");
    }
}

/// A heading and its list of lines (already escaped), or nothing when the list is empty.
fn listed_section(
    o: &mut String,
    title: &str,
    lines: impl ExactSizeIterator<Item = String>,
    style: &Style,
) {
    if lines.len() == 0 {
        return;
    }
    heading(o, title, style);
    for line in lines {
        let _ = writeln!(o, "{}{line}", if style.markdown { "- " } else { "  " });
    }
    o.push('\n');
}

pub fn render(r: &Report, style: &Style) -> String {
    let mut o = String::new();
    let h1 = |o: &mut String, t: &str| {
        if style.markdown {
            let _ = writeln!(o, "# {t}\n");
        } else {
            let _ = writeln!(o, "{t}\n{}", "=".repeat(t.chars().count()));
        }
    };
    h1(&mut o, "mailscope compromise-scope report");
    let window = match (&r.window.start, &r.window.end) {
        (None, None) => "all records (no window given)".to_string(),
        (s, e) => format!(
            "[{}, {})",
            s.as_deref().map(|t| show(t, style)).unwrap_or("-∞".into()),
            e.as_deref().map(|t| show(t, style)).unwrap_or("+∞".into())
        ),
    };
    let bullet = if style.markdown { "- " } else { "" };
    let _ = writeln!(
        o,
        "{bullet}Tool: {} {} ({})",
        r.tool.name, r.tool.version, r.schema
    );
    let _ = writeln!(o, "{bullet}Window: {window}");
    let _ = writeln!(
        o,
        "{bullet}Indicators: {}",
        cell(&indicator_line(&r.indicators, r.session_linking), style)
    );
    let c = &r.records;
    let _ = writeln!(
        o,
        "{bullet}Records: {} read, {} unique, {} duplicates, {} rejected, {}{} out of window; attributed: {} attacker, {} linked, {} trusted, {} other",
        c.read,
        c.unique,
        c.duplicates,
        c.rejected,
        if c.not_mailbox_audit > 0 {
            format!("{} not mailbox audit (skipped), ", c.not_mailbox_audit)
        } else {
            String::new()
        },
        c.out_of_window,
        c.attacker,
        c.linked,
        c.trusted,
        c.other
    );
    let mut by_verdict: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &r.mailboxes {
        *by_verdict.entry(m.verdict.as_str()).or_default() += 1;
    }
    let summary: Vec<String> = [
        Verdict::EntireMailbox,
        Verdict::Folders,
        Verdict::Messages,
        Verdict::None,
    ]
    .iter()
    .filter_map(|v| {
        by_verdict
            .get(v.as_str())
            .map(|n| format!("{n} {}", v.as_str()))
    })
    .collect();
    let _ = writeln!(
        o,
        "{bullet}Mailboxes with attacker activity: {}{}; {} other mailbox(es) in the window without attacker activity",
        r.mailboxes.len(),
        if summary.is_empty() {
            String::new()
        } else {
            format!(" ({})", summary.join(", "))
        },
        r.mailboxes_without_attacker_activity
    );
    o.push('\n');

    for m in &r.mailboxes {
        mailbox(&mut o, m, style);
    }
    tenant(&mut o, r, style);
    indicator_gaps(&mut o, r, style);
    notification(&mut o, r, style);

    if style.markdown {
        let _ = writeln!(
            o,
            "## Inputs\n\n| file | format | encoding | rows | records | duplicates | rejected | first | last | sha256 |\n|---|---|---|---|---|---|---|---|---|---|"
        );
        for i in &r.inputs {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | `{}` |",
                cell(&i.path, style),
                i.format,
                i.encoding,
                i.rows,
                i.records,
                i.duplicates,
                i.rejected,
                i.first_time
                    .as_deref()
                    .map(|t| show(t, style))
                    .unwrap_or_default(),
                i.last_time
                    .as_deref()
                    .map(|t| show(t, style))
                    .unwrap_or_default(),
                i.sha256
            );
        }
        o.push('\n');
    } else {
        let _ = writeln!(o, "Inputs");
        for i in &r.inputs {
            let _ = writeln!(
                o,
                "  {}  {} ({}): {} rows, {} records, {} duplicates, {} rejected  sha256 {}",
                cell(&i.path, style),
                i.format,
                i.encoding,
                i.rows,
                i.records,
                i.duplicates,
                i.rejected,
                short_hash(&i.sha256)
            );
        }
        o.push('\n');
    }
    let cases = r.cases.iter().map(|c| {
        format!(
            "{} ({}, {} input(s), sha256 {})",
            cell(&c.path, style),
            c.schema,
            c.inputs,
            c.sha256
        )
    });
    listed_section(&mut o, "Read from saved cases", cases, style);
    let skipped = r
        .skipped
        .iter()
        .map(|s| format!("{}: {}", cell(&s.path, style), cell(&s.reason, style)));
    listed_section(&mut o, "Skipped paths", skipped, style);
    heading(&mut o, "Warnings", style);
    if r.warnings.is_empty() {
        let _ = writeln!(o, "{}none", if style.markdown { "- " } else { "  " });
    }
    for w in &r.warnings {
        let loc = w.location();
        let _ = writeln!(
            o,
            "{}[{}] {}{}",
            if style.markdown { "- " } else { "  " },
            w.code,
            cell(&w.message, style),
            cell(&loc, style)
        );
    }
    o.push('\n');
    for c in &r.caveats {
        let c = prose(c, style);
        let _ = writeln!(o, "{}Note: {c}", if style.markdown { "> " } else { "" });
    }
    o
}

/// `  from a@x to b@y, c@z (+3 more), received …` for a message's metadata.
fn people(
    sender: Option<&str>,
    recipients: &[String],
    date: Option<&str>,
    style: &Style,
) -> String {
    let mut out = String::new();
    if let Some(s) = sender {
        out.push_str(&format!("  from {}", cell(s, style)));
    }
    if !recipients.is_empty() {
        let shown: Vec<String> = recipients.iter().take(3).map(|r| cell(r, style)).collect();
        out.push_str(&format!("  to {}", shown.join(", ")));
        if recipients.len() > 3 {
            out.push_str(&format!(" (+{} more)", recipients.len() - 3));
        }
    }
    if let Some(d) = date {
        out.push_str(&format!("  received {}", show(d, style)));
    }
    out
}

/// Who must be told: the inventories and what they cover, the counts, the correspondents'
/// domains, the messages without metadata.
fn notification(o: &mut String, r: &Report, style: &Style) {
    let Some(n) = &r.notification else {
        return;
    };
    let (h, ind, sub) = if style.markdown {
        ("## ", "- ", "  - ")
    } else {
        ("", "  ", "    ")
    };
    let _ = writeln!(
        o,
        "{h}Notification summary{}",
        if style.markdown { "\n" } else { "" }
    );
    for i in &r.inventories {
        let _ = writeln!(
            o,
            "{ind}Inventory {} ({}, {} row(s){}): {}",
            cell(&i.path, style),
            i.format,
            i.rows,
            match (&i.first_time, &i.last_time) {
                (Some(a), Some(b)) => format!(", {} … {}", show(a, style), show(b, style)),
                _ => String::new(),
            },
            i.covers
        );
    }
    let _ = writeln!(
        o,
        "{ind}Internal domains: {} ({})",
        cell(&n.internal_domains.join(", "), style),
        n.internal_domains_from
    );
    let line = |o: &mut String,
                label: &str,
                c: &crate::scope::notification::NotificationCounts,
                prefix: &str| {
        let _ = writeln!(
            o,
            "{prefix}{label}: {} message(s) in scope ({} with metadata, {} without), {} assumed compromised from the inventory; {} correspondent(s): {} internal, {} external",
            c.messages_in_scope,
            c.with_metadata,
            c.without_metadata,
            c.assumed_from_inventory,
            c.correspondents,
            c.internal_correspondents,
            c.external_correspondents
        );
    };
    line(o, "Overall", &n.overall, ind);
    let external: Vec<String> = n
        .overall
        .domains
        .iter()
        .filter(|d| !d.internal)
        .map(|d| {
            format!(
                "{} ({} address(es), {} message(s))",
                cell(&d.domain, style),
                d.addresses,
                d.messages
            )
        })
        .collect();
    if !external.is_empty() {
        let _ = writeln!(o, "{sub}external domains: {}", external.join("; "));
    }
    let internal: Vec<String> = n
        .overall
        .domains
        .iter()
        .filter(|d| d.internal)
        .map(|d| {
            format!(
                "{} ({} address(es), {} message(s))",
                cell(&d.domain, style),
                d.addresses,
                d.messages
            )
        })
        .collect();
    if !internal.is_empty() {
        let _ = writeln!(o, "{sub}internal domains: {}", internal.join("; "));
    }
    for m in &n.mailboxes {
        line(o, &cell(&m.mailbox, style), &m.counts, ind);
    }
    let sent = std::iter::once((
        Prose::from("Recipients of mail the attacker sent, overall"),
        &n.overall,
    ))
    .chain(n.mailboxes.iter().map(|m| {
        (
            Prose::from("Recipients of mail the attacker sent from ").evidence(&m.mailbox),
            &m.counts,
        )
    }));
    for (label, counts) in sent {
        if let Some(s) = &counts.attacker_sent {
            let _ = writeln!(
                o,
                "{ind}{}",
                prose(&outbound::sent_recipients(label, s), style)
            );
        }
    }
    if !n.without_metadata.is_empty() {
        let shown: Vec<String> = n
            .without_metadata
            .iter()
            .take(style.list_limit)
            .map(|id| cell(id, style))
            .collect();
        let _ = writeln!(
            o,
            "{ind}In scope without metadata (in no inventory): {}{}",
            shown.join(", "),
            if n.without_metadata.len() > style.list_limit {
                format!(
                    " … and {} more",
                    n.without_metadata.len() - style.list_limit
                )
            } else {
                String::new()
            }
        );
    }
    o.push('\n');
}

pub fn indicator_line(i: &crate::scope::indicators::Indicators, linking: bool) -> String {
    let mut parts = Vec::new();
    for (name, v) in [
        ("attacker-ip", &i.attacker_ip),
        ("attacker-session", &i.attacker_session),
        ("attacker-client", &i.attacker_client),
        ("attacker-app", &i.attacker_app),
        ("attacker-user", &i.attacker_user),
        ("trusted-ip", &i.trusted_ip),
    ] {
        if !v.is_empty() {
            parts.push(format!("{name} {}", v.join(", ")));
        }
    }
    if !linking {
        parts.push("session linking off".into());
    }
    parts.join("; ")
}

fn mailbox(o: &mut String, m: &MailboxScope, style: &Style) {
    let head = format!(
        "{} — {} ({} message(s), {} folder(s), {} synced folder(s), {} throttled window(s), {} unresolved bind(s), {} action(s))",
        cell(&m.mailbox, style),
        m.verdict.as_str().to_uppercase(),
        m.messages.len(),
        m.folders.len(),
        m.synced_folders.len(),
        m.throttled_windows.len(),
        m.unresolved.len(),
        m.actions.len()
    );
    if style.markdown {
        let _ = writeln!(o, "## {head}\n");
    } else {
        let _ = writeln!(o, "{head}\n{}", "-".repeat(head.chars().count().min(100)));
    }
    let ind = if style.markdown { "- " } else { "  " };
    for r in &m.reasons {
        let _ = writeln!(
            o,
            "{ind}why [{}]: {} (records: {})",
            r.rule,
            cell(&r.detail, style),
            short_ids(&r.records, 5, style)
        );
    }
    if m.reasons.is_empty() {
        let _ = writeln!(
            o,
            "{ind}why: attacker activity without access to mail content in the audit records (see actions)"
        );
    }
    let sub = |o: &mut String, t: &str| {
        if style.markdown {
            let _ = writeln!(o, "\n### {t}\n");
        } else {
            let _ = writeln!(o, "  {t}:");
        }
    };
    let item = if style.markdown { "- " } else { "    " };
    if !m.throttled_windows.is_empty() {
        sub(o, "Throttled windows (access not audited)");
        for w in &m.throttled_windows {
            let _ = writeln!(
                o,
                "{item}[{}, {})  record {}",
                show(&w.start, style),
                show(&w.end, style),
                cell(&w.record_id, style)
            );
        }
    }
    if !m.synced_folders.is_empty() {
        sub(o, "Synced folders");
        for f in &m.synced_folders {
            let _ = writeln!(
                o,
                "{item}{}  {} … {}  ({})",
                cell(&f.path, style),
                show(&f.first_seen, style),
                show(&f.last_seen, style),
                short_ids(&f.records, 3, style)
            );
        }
    }
    if !m.folders.is_empty() {
        sub(o, "Folders in scope");
        for f in &m.folders {
            let _ = writeln!(
                o,
                "{item}{}  [{}]  {} … {}  ({})",
                cell(&f.path, style),
                f.reason,
                show(&f.first_seen, style),
                show(&f.last_seen, style),
                short_ids(&f.records, 3, style)
            );
        }
    }
    if !m.messages.is_empty() {
        sub(o, "Messages in scope");
        for msg in m.messages.iter().take(style.list_limit) {
            let _ = writeln!(
                o,
                "{item}{}  {}  {}{}{}  [{}; {}]",
                show(&msg.first_seen, style),
                cell(&msg.label(), style),
                cell(msg.folder.as_deref().unwrap_or("(folder unknown)"), style),
                msg.subject
                    .as_deref()
                    .map(|s| format!("  \"{}\"", cell(s, style)))
                    .unwrap_or_default(),
                msg.metadata
                    .as_ref()
                    .map(|m| people(m.sender.as_deref(), &m.recipients, m.date.as_deref(), style))
                    .unwrap_or_default(),
                msg.access,
                short_ids(&msg.records, 2, style)
            );
        }
        if m.messages.len() > style.list_limit {
            let _ = writeln!(
                o,
                "{item}… and {} more (see --format json or csv)",
                m.messages.len() - style.list_limit
            );
        }
    }
    if !m.assumed_messages.is_empty() {
        sub(
            o,
            &format!(
                "Assumed compromised from the message inventory ({}; no audit record names them)",
                m.assumed_messages.len()
            ),
        );
        for a in m.assumed_messages.iter().take(style.list_limit) {
            let _ = writeln!(
                o,
                "{item}{}  {}{}{}  [{}]",
                a.date
                    .as_deref()
                    .map(|d| show(d, style))
                    .unwrap_or_else(|| "(date unknown)".into()),
                cell(&a.internet_message_id, style),
                a.subject
                    .as_deref()
                    .map(|s| format!("  \"{}\"", cell(s, style)))
                    .unwrap_or_default(),
                people(a.sender.as_deref(), &a.recipients, None, style),
                cell(&a.why, style)
            );
        }
        if m.assumed_messages.len() > style.list_limit {
            let _ = writeln!(
                o,
                "{item}… and {} more (see --format json or csv)",
                m.assumed_messages.len() - style.list_limit
            );
        }
    }
    outbound_sections(o, m, style, &sub, item);
    if !m.unresolved.is_empty() {
        sub(o, "Unresolved binds (messages not named)");
        for u in m.unresolved.iter().take(style.list_limit) {
            let _ = writeln!(
                o,
                "{item}{}  record {}  folders: {}  {}",
                show(&u.time, style),
                cell(&u.record_id, style),
                cell(&u.folders.join(", "), style),
                cell(&u.reason, style)
            );
        }
    }
    if !m.actions.is_empty() {
        sub(o, "Attacker actions");
        actions(o, &m.actions, style, item);
    }
    let attacker_contexts = m
        .contexts
        .iter()
        .filter(|c| c.attribution.is_attacker_activity())
        .count();
    for caveat in &m.caveats {
        let _ = writeln!(
            o,
            "{}caveat: {}",
            if style.markdown { "\n> " } else { "  " },
            cell(caveat, style)
        );
    }
    let _ = writeln!(
        o,
        "{}{} access context(s), {} of them attacker/linked; access auditing present: {}",
        if style.markdown { "\n" } else { "  " },
        m.contexts.len(),
        attacker_contexts,
        if m.access_auditing { "yes" } else { "NO" }
    );
    o.push('\n');
}

/// Report text built once for every format (`view::Prose`), written for this one.
fn prose(p: &Prose, style: &Style) -> String {
    if style.markdown {
        p.to(&super::view::Markdown(style.tz))
    } else {
        p.to(&super::view::Text(style.tz))
    }
}

/// What left the mailbox: forwarding windows, then the mail the attacker sent.
fn outbound_sections(
    o: &mut String,
    m: &MailboxScope,
    style: &Style,
    sub: &dyn Fn(&mut String, &str),
    item: &str,
) {
    if !m.forwarding.is_empty() {
        sub(
            o,
            "Forwarding windows (mail delivered while one was in place left the mailbox)",
        );
        for w in &m.forwarding {
            let line = prose(&outbound::window(w, Some(&m.mailbox)), style);
            let _ = writeln!(o, "{item}{line}");
        }
    }
    if !m.sent_messages.is_empty() {
        sub(
            o,
            &format!("Mail the attacker sent ({})", m.sent_messages.len()),
        );
        for s in m.sent_messages.iter().take(style.list_limit) {
            let _ = writeln!(o, "{item}{}", prose(&outbound::sent(s), style));
        }
        if m.sent_messages.len() > style.list_limit {
            let _ = writeln!(
                o,
                "{item}… and {} more (see --format json or csv)",
                m.sent_messages.len() - style.list_limit
            );
        }
    }
}

/// Actions, one a line with the record behind it, up to the list limit.
fn actions(o: &mut String, list: &[Action], style: &Style, item: &str) {
    for a in list.iter().take(style.list_limit) {
        let items: Vec<String> = a
            .items
            .iter()
            .map(|i| {
                i.subject
                    .clone()
                    .or(i.internet_message_id.clone())
                    .or(i.item_id.clone())
                    .unwrap_or_default()
            })
            .collect();
        let _ = writeln!(
            o,
            "{item}{}  {}  [{}]  ip {}{}{}  (record {})",
            show(&a.time, style),
            cell(&a.operation, style),
            a.attribution,
            cell(a.client_ip.as_deref().unwrap_or("-"), style),
            if items.is_empty() {
                String::new()
            } else {
                format!("  items: {}", cell(&items.join("; "), style))
            },
            a.detail
                .as_deref()
                .map(|d| format!("  {}", cell(&truncate(d, 160), style)))
                .unwrap_or_default(),
            cell(&a.record_id, style)
        );
    }
    if list.len() > style.list_limit {
        let _ = writeln!(o, "{item}… and {} more", list.len() - style.list_limit);
    }
}

/// Records the indicators may have missed, one line each up to the list limit.
fn indicator_gaps(o: &mut String, r: &Report, style: &Style) {
    if r.indicator_gaps.is_empty() {
        return;
    }
    heading(o, super::gaps::TITLE, style);
    let item = if style.markdown { "- " } else { "  " };
    for g in r.indicator_gaps.iter().take(style.list_limit) {
        let _ = writeln!(o, "{item}{}", prose(&super::gaps::line(g), style));
    }
    if r.indicator_gaps.len() > style.list_limit {
        let _ = writeln!(
            o,
            "{item}… and {} more (see --format json or csv)",
            r.indicator_gaps.len() - style.list_limit
        );
    }
    o.push('\n');
}

/// Attacker records that name no mailbox: organization-wide changes the attacker made.
fn tenant(o: &mut String, r: &Report, style: &Style) {
    if r.tenant_actions.is_empty() && r.tenant_forwarding.is_empty() {
        return;
    }
    let title = "Attacker actions outside any mailbox";
    let item = if style.markdown {
        let _ = writeln!(o, "## {title}\n");
        "- "
    } else {
        let _ = writeln!(o, "{title}\n{}", "-".repeat(title.len()));
        "  "
    };
    actions(o, &r.tenant_actions, style, item);
    if !r.tenant_forwarding.is_empty() {
        let _ = writeln!(
            o,
            "{}Transport rules the attacker set (the organization's mail copied or redirected):{}",
            if style.markdown { "\n" } else { "  " },
            if style.markdown { "\n" } else { "" }
        );
        for w in &r.tenant_forwarding {
            let _ = writeln!(o, "{item}{}", prose(&outbound::window(w, None), style));
        }
    }
    o.push('\n');
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_hash_is_shortened_by_characters_whatever_it_holds() {
        assert_eq!(super::short_hash(&"ab".repeat(32)), "abababababababab");
        assert_eq!(super::short_hash(&"é".repeat(40)), "é".repeat(16));
        assert_eq!(super::short_hash("abc"), "abc");
    }
}
