//! The report as `Section`s of typed cells, built once for the text and Markdown renderers:
//! the run summary, one part per mailbox, then the tenant, the indicator gaps, the
//! notification summary and the provenance. A renderer is a loop over them (`text::render`).

use super::view::{Block, FindingKind, Format, Level, Prose, Section, Table};
use super::*;
use super::{exposure, outbound};
use std::collections::BTreeMap;

/// Every section of the report in order; a mailbox's part is built when it is reached.
pub fn report(r: &Report, limit: usize) -> impl Iterator<Item = Section> + '_ {
    std::iter::once(summary(r))
        .chain(r.mailboxes.iter().map(move |m| mailbox(m, limit)))
        .chain(std::iter::once(r).flat_map(move |r| closing(r, limit)))
}

/// What follows the mailboxes; sections with nothing to show are left out.
fn closing(r: &Report, limit: usize) -> Vec<Section> {
    [
        tenant(r, limit),
        admin_exposure(r, limit),
        indicator_gaps(r, limit),
        notification(r, limit),
        Some(inputs(r)),
        listed("Read from saved cases", r.cases.iter().map(case_line)),
        listed("Skipped paths", r.skipped.iter().map(skipped_line)),
        Some(warnings(r)),
        Some(caveats(r)),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The `--attacker-*` and `--trusted-ip` values, and whether session linking was off.
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

fn summary(r: &Report) -> Section {
    let window = match (&r.window.start, &r.window.end) {
        (None, None) => Prose::from("all records (no window given)"),
        (s, e) => {
            let bound = |p: Prose, t: &Option<String>, open: &str| match t {
                Some(t) => p.time(t),
                None => p.tool(open),
            };
            bound(bound(Prose::from("["), s, "-∞").tool(", "), e, "+∞").tool(")")
        }
    };
    let c = &r.records;
    let not_audit = if c.not_mailbox_audit > 0 {
        format!("{} not mailbox audit (skipped), ", c.not_mailbox_audit)
    } else {
        String::new()
    };
    let facts = vec![
        Prose::from(format!(
            "Tool: {} {} ({})",
            r.tool.name, r.tool.version, r.schema
        )),
        Prose::from("Window: ").then(window),
        Prose::from("Indicators: ").evidence(indicator_line(&r.indicators, r.session_linking)),
        Prose::from(format!(
            "Records: {} read, {} unique, {} duplicates, {} rejected, {not_audit}{} out of window; attributed: {} attacker, {} linked, {} trusted, {} other",
            c.read,
            c.unique,
            c.duplicates,
            c.rejected,
            c.out_of_window,
            c.attacker,
            c.linked,
            c.trusted,
            c.other
        )),
        mailbox_counts(r),
    ];
    Section::new(Level::Title, "mailscope compromise-scope report").with(Block::Facts(facts))
}

fn mailbox_counts(r: &Report) -> Prose {
    let mut by_verdict: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &r.mailboxes {
        *by_verdict.entry(m.verdict.as_str()).or_default() += 1;
    }
    let verdicts = [
        Verdict::EntireMailbox,
        Verdict::Folders,
        Verdict::Messages,
        Verdict::None,
    ];
    let counted: Vec<String> = verdicts
        .iter()
        .filter_map(|v| {
            by_verdict
                .get(v.as_str())
                .map(|n| format!("{n} {}", v.as_str()))
        })
        .collect();
    Prose::from(format!(
        "Mailboxes with attacker activity: {}{}; {} other mailbox(es) in the window without attacker activity",
        r.mailboxes.len(),
        if counted.is_empty() {
            String::new()
        } else {
            format!(" ({})", counted.join(", "))
        },
        r.mailboxes_without_attacker_activity
    ))
}

/// A list of at most `limit` lines, then how many more there are (`more` after the count).
fn limited<T>(all: &[T], limit: usize, line: impl Fn(&T) -> Prose, more: &str) -> Block {
    let mut lines: Vec<Prose> = all.iter().take(limit).map(line).collect();
    if all.len() > limit {
        lines.push(Prose::from(format!(
            "… and {} more{more}",
            all.len() - limit
        )));
    }
    Block::List(lines)
}

const SEE_OTHER_FORMATS: &str = " (see --format json or csv)";

/// A subsection with its lines, or nothing when there are none.
fn sub(s: &mut Section, title: impl Into<Prose>, list: Block) {
    if matches!(&list, Block::List(lines) if lines.is_empty()) {
        return;
    }
    s.push(Block::Heading(Level::Sub, title.into()));
    s.push(list);
}

/// One mailbox: its verdict and why, then each kind of finding, its caveats and contexts.
fn mailbox(m: &MailboxScope, limit: usize) -> Section {
    let head = Prose::default().evidence(&m.mailbox).tool(format!(
        " — {} ({} message(s), {} folder(s), {} synced folder(s), {} throttled window(s), {} unresolved bind(s), {} action(s))",
        m.verdict.as_str().to_uppercase(),
        m.messages.len(),
        m.folders.len(),
        m.synced_folders.len(),
        m.throttled_windows.len(),
        m.unresolved.len(),
        m.actions.len()
    ));
    let mut s = Section::new(Level::Part, head).with(Block::List(reasons(m)));
    findings(&mut s, m, limit);
    for caveat in &m.caveats {
        s.push(Block::Remark(Prose::from("caveat: ").evidence(caveat)));
    }
    let attacker_contexts = m
        .contexts
        .iter()
        .filter(|c| c.attribution.is_attacker_activity())
        .count();
    let left_out = m.contexts_left_out.as_ref().map_or(0, |l| l.contexts);
    if let Some(line) = contexts_left_out(m) {
        s.push(Block::Remark(line));
    }
    s.with(Block::Closing(Prose::from(format!(
        "{} access context(s), {} of them attacker/linked; access auditing present: {}",
        m.contexts.len() as u64 + left_out,
        attacker_contexts,
        if m.access_auditing { "yes" } else { "NO" }
    ))))
}

/// The line that says which of a mailbox's access contexts the report leaves out, and where
/// they are (text, Markdown and HTML).
pub fn contexts_left_out(m: &MailboxScope) -> Option<Prose> {
    let l = m.contexts_left_out.as_ref()?;
    Some(
        Prose::default()
            .count(l.contexts)
            .tool(" access context(s) with ")
            .count(l.records)
            .tool(" record(s) left out (neither attacker, linked nor cited by an indicator gap): mailscope contexts --mailbox ")
            .evidence(&m.mailbox)
            .tool(" lists every context"),
    )
}

/// Each kind of finding of a mailbox, as a subsection of its part.
fn findings(s: &mut Section, m: &MailboxScope, limit: usize) {
    for kind in FindingKind::TEXT_ORDER {
        finding(s, m, limit, kind);
    }
}

/// One kind of finding's subsection (nothing when the mailbox has none).
fn finding(s: &mut Section, m: &MailboxScope, limit: usize, kind: FindingKind) {
    let all = usize::MAX;
    let (title, lines): (Prose, Block) = match kind {
        FindingKind::Throttled => (
            "Throttled windows (access not audited)".into(),
            limited(&m.throttled_windows, all, throttled_line, ""),
        ),
        FindingKind::SyncedFolders => (
            "Synced folders".into(),
            limited(&m.synced_folders, all, |f| folder_line(f, false), ""),
        ),
        FindingKind::Folders => (
            "Folders in scope".into(),
            limited(&m.folders, all, |f| folder_line(f, true), ""),
        ),
        FindingKind::Messages => (
            "Messages in scope".into(),
            limited(&m.messages, limit, message_line, SEE_OTHER_FORMATS),
        ),
        FindingKind::Assumed => (
            format!(
                "Assumed compromised from the message inventory ({}; no audit record names them)",
                m.assumed_messages.len()
            )
            .into(),
            limited(&m.assumed_messages, limit, assumed_line, SEE_OTHER_FORMATS),
        ),
        FindingKind::Forwarding => (
            "Forwarding windows (mail delivered while one was in place left the mailbox)".into(),
            limited(
                &m.forwarding,
                all,
                |w| outbound::window(w, Some(&m.mailbox)),
                "",
            ),
        ),
        FindingKind::Sent => (
            format!("Mail the attacker sent ({})", m.sent_messages.len()).into(),
            limited(&m.sent_messages, limit, outbound::sent, SEE_OTHER_FORMATS),
        ),
        FindingKind::ContentSearches => (
            "Content searches the attacker took the results of".into(),
            limited(
                &m.content_searches,
                all,
                |e| exposure::search_exposure(e, &m.mailbox),
                "",
            ),
        ),
        FindingKind::SearchedFor => (
            "What the attacker searched for".into(),
            limited(&m.searched_for, limit, exposure::searched_for, ""),
        ),
        // No "… and N more" line: the unresolved binds' count is in the heading of the part.
        FindingKind::Unresolved => (
            "Unresolved binds (messages not named)".into(),
            Block::List(
                m.unresolved
                    .iter()
                    .take(limit)
                    .map(unresolved_line)
                    .collect(),
            ),
        ),
        FindingKind::Actions => (
            "Attacker actions".into(),
            limited(&m.actions, limit, action_line, ""),
        ),
    };
    sub(s, title, lines);
}

fn reasons(m: &MailboxScope) -> Vec<Prose> {
    if m.reasons.is_empty() {
        return vec![Prose::from(
            "why: attacker activity without access to mail content in the audit records (see actions)",
        )];
    }
    m.reasons
        .iter()
        .map(|r| {
            Prose::from(format!("why [{}]: ", r.rule))
                .evidence(&r.detail)
                .tool(" (records: ")
                .records(&r.records, 5)
                .tool(")")
        })
        .collect()
}

fn throttled_line(w: &ThrottledWindow) -> Prose {
    Prose::from("[")
        .time(&w.start)
        .tool(", ")
        .time(&w.end)
        .tool(")  record ")
        .id(&w.record_id)
}

/// A folder, with the reason it is in scope (`reason`: not for synced folders).
fn folder_line(f: &FolderHit, reason: bool) -> Prose {
    let p = Prose::default().evidence(&f.path);
    let p = if reason {
        p.tool(format!("  [{}]  ", f.reason))
    } else {
        p.tool("  ")
    };
    p.time(&f.first_seen)
        .tool(" … ")
        .time(&f.last_seen)
        .tool("  (")
        .records(&f.records, 3)
        .tool(")")
}

/// `  from a@x  to b@y, c@z (+3 more)  received …` for a message's metadata.
fn people(p: Prose, sender: Option<&str>, recipients: &[String], date: Option<&str>) -> Prose {
    let mut p = p;
    if let Some(s) = sender {
        p = p.tool("  from ").evidence(s);
    }
    if !recipients.is_empty() {
        p = p
            .tool("  to ")
            .evidence_list(recipients.iter().take(3).map(String::as_str), ", ");
        if recipients.len() > 3 {
            p = p.tool(format!(" (+{} more)", recipients.len() - 3));
        }
    }
    match date {
        Some(d) => p.tool("  received ").time(d),
        None => p,
    }
}

fn subject(p: Prose, subject: Option<&str>) -> Prose {
    match subject {
        Some(s) => p.tool("  \"").evidence(s).tool("\""),
        None => p,
    }
}

fn message_line(x: &MessageHit) -> Prose {
    let p = Prose::default()
        .time(&x.first_seen)
        .tool("  ")
        .id(x.label())
        .tool("  ")
        .evidence(x.folder.as_deref().unwrap_or("(folder unknown)"));
    let p = subject(p, x.subject.as_deref());
    let p = match &x.metadata {
        Some(m) => people(p, m.sender.as_deref(), &m.recipients, m.date.as_deref()),
        None => p,
    };
    p.tool(format!("  [{}; ", x.access))
        .records(&x.records, 2)
        .tool("]")
}

fn assumed_line(a: &AssumedMessage) -> Prose {
    let p = match &a.date {
        Some(d) => Prose::default().time(d),
        None => Prose::from("(date unknown)"),
    };
    let p = subject(
        p.tool("  ").id(&a.internet_message_id),
        a.subject.as_deref(),
    );
    people(p, a.sender.as_deref(), &a.recipients, None)
        .tool("  [")
        .evidence(&a.why)
        .tool("]")
}

fn unresolved_line(u: &Unresolved) -> Prose {
    Prose::default()
        .time(&u.time)
        .tool("  record ")
        .id(&u.record_id)
        .tool("  folders: ")
        .evidence(u.folders.join(", "))
        .tool("  ")
        .evidence(&u.reason)
}

/// An action with the record behind it.
fn action_line(a: &Action) -> Prose {
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
    let mut p = Prose::default()
        .time(&a.time)
        .tool("  ")
        .evidence(&a.operation)
        .tool(format!("  [{}]  ip ", a.attribution))
        .evidence(a.client_ip.as_deref().unwrap_or("-"));
    if !items.is_empty() {
        p = p.tool("  items: ").evidence(items.join("; "));
    }
    if let Some(d) = &a.detail {
        p = p.tool("  ").evidence(truncate(d, 160));
    }
    p.tool("  (record ").id(&a.record_id).tool(")")
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// Attacker records that name no mailbox: organization-wide changes the attacker made.
fn tenant(r: &Report, limit: usize) -> Option<Section> {
    if r.tenant_actions.is_empty() && r.tenant_forwarding.is_empty() {
        return None;
    }
    let mut s = Section::new(Level::Part, "Attacker actions outside any mailbox").with(limited(
        &r.tenant_actions,
        limit,
        action_line,
        "",
    ));
    if !r.tenant_forwarding.is_empty() {
        s.push(Block::Intro(Prose::from(
            "Transport rules the attacker set (the organization's mail copied or redirected):",
        )));
        let windows = r.tenant_forwarding.iter();
        s.push(Block::List(
            windows.map(|w| super::outbound::window(w, None)).collect(),
        ));
    }
    Some(s)
}

/// Content searches, the attacker's grants and searches that name no mailbox (run level).
fn admin_exposure(r: &Report, limit: usize) -> Option<Section> {
    if r.content_searches.is_empty() && r.grants.is_empty() && r.searched_for.is_empty() {
        return None;
    }
    let mut s = Section::new(Level::Part, "Content searches, grants and searches");
    sub(
        &mut s,
        "Content searches in the evidence",
        limited(
            &r.content_searches,
            limit,
            exposure::content_search,
            SEE_OTHER_FORMATS,
        ),
    );
    let title = if r.grant_linking {
        "Grants the attacker made (their grantees' records are linked)"
    } else {
        "Grants the attacker made (grant linking off: nothing linked)"
    };
    sub(
        &mut s,
        title,
        limited(&r.grants, limit, exposure::grant, SEE_OTHER_FORMATS),
    );
    sub(
        &mut s,
        "What the attacker searched for outside any mailbox",
        limited(&r.searched_for, limit, exposure::searched_for, ""),
    );
    Some(s)
}

/// Records the indicators may have missed.
fn indicator_gaps(r: &Report, limit: usize) -> Option<Section> {
    if r.indicator_gaps.is_empty() {
        return None;
    }
    let lines = limited(
        &r.indicator_gaps,
        limit,
        super::gaps::line,
        SEE_OTHER_FORMATS,
    );
    Some(Section::new(Level::Section, super::gaps::TITLE).with(lines))
}

/// Who must be told: the inventories and what they cover, the counts, the correspondents'
/// domains, the messages without metadata.
fn notification(r: &Report, limit: usize) -> Option<Section> {
    let n = r.notification.as_ref()?;
    let mut lines: Vec<Prose> = r.inventories.iter().map(inventory_line).collect();
    lines.push(
        Prose::from("Internal domains: ")
            .evidence(n.internal_domains.join(", "))
            .tool(" (")
            .evidence(&n.internal_domains_from)
            .tool(")"),
    );
    lines.push(counts_line(Prose::from("Overall"), &n.overall));
    let mut s = Section::new(Level::Section, "Notification summary").with(Block::List(lines));
    for (internal, name) in [(false, "external"), (true, "internal")] {
        let domains: Vec<&crate::scope::notification::DomainCount> = n
            .overall
            .domains
            .iter()
            .filter(|d| d.internal == internal)
            .collect();
        if domains.is_empty() {
            continue;
        }
        let mut p = Prose::from(format!("{name} domains: "));
        for (k, d) in domains.iter().enumerate() {
            p = p
                .tool(if k > 0 { "; " } else { "" })
                .evidence(&d.domain)
                .tool(format!(
                    " ({} address(es), {} message(s))",
                    d.addresses, d.messages
                ));
        }
        s.push(Block::Nested(vec![p]));
    }
    let mut lines: Vec<Prose> = n
        .mailboxes
        .iter()
        .map(|m| counts_line(Prose::default().evidence(&m.mailbox), &m.counts))
        .collect();
    lines.extend(sent_recipients(n));
    if !n.without_metadata.is_empty() {
        let shown = n.without_metadata.iter().take(limit).map(String::as_str);
        let mut p =
            Prose::from("In scope without metadata (in no inventory): ").id_list(shown, ", ");
        if n.without_metadata.len() > limit {
            p = p.tool(format!(" … and {} more", n.without_metadata.len() - limit));
        }
        lines.push(p);
    }
    Some(s.with(Block::List(lines)))
}

fn inventory_line(i: &InventoryCoverage) -> Prose {
    let p = Prose::from("Inventory ")
        .evidence(&i.path)
        .tool(format!(" ({}, {} row(s)", i.format, i.rows));
    let p = match (&i.first_time, &i.last_time) {
        (Some(a), Some(b)) => p.tool(", ").time(a).tool(" … ").time(b),
        _ => p,
    };
    p.tool(format!("): {}", i.covers))
}

fn counts_line(label: Prose, c: &crate::scope::notification::NotificationCounts) -> Prose {
    label.tool(format!(
        ": {} message(s) in scope ({} with metadata, {} without), {} assumed compromised from the inventory; {} correspondent(s): {} internal, {} external",
        c.messages_in_scope,
        c.with_metadata,
        c.without_metadata,
        c.assumed_from_inventory,
        c.correspondents,
        c.internal_correspondents,
        c.external_correspondents
    ))
}

/// Who received the mail the attacker sent: overall, then per mailbox.
pub fn sent_recipients(n: &crate::scope::notification::Notification) -> Vec<Prose> {
    let overall = (
        Prose::from("Recipients of mail the attacker sent, overall"),
        &n.overall,
    );
    let per_mailbox = n.mailboxes.iter().map(|m| {
        let label = Prose::from("Recipients of mail the attacker sent from ").evidence(&m.mailbox);
        (label, &m.counts)
    });
    std::iter::once(overall)
        .chain(per_mailbox)
        .filter_map(|(label, c)| {
            let s = c.attacker_sent.as_ref()?;
            Some(super::outbound::sent_recipients(label, s))
        })
        .collect()
}

/// A heading and its lines, or nothing when there are none.
fn listed(title: &str, lines: impl Iterator<Item = Prose>) -> Option<Section> {
    let lines: Vec<Prose> = lines.collect();
    (!lines.is_empty()).then(|| Section::new(Level::Section, title).with(Block::List(lines)))
}

fn case_line(c: &crate::provenance::SavedCaseInput) -> Prose {
    Prose::default()
        .evidence(&c.path)
        .tool(format!(" ({}, {} input(s), sha256 ", c.schema, c.inputs))
        .id(&c.sha256)
        .tool(")")
}

fn skipped_line(s: &crate::provenance::SkippedOut) -> Prose {
    Prose::default()
        .evidence(&s.path)
        .tool(": ")
        .evidence(&s.reason)
}

/// The inputs: a table in Markdown, a line each in text (with the hash shortened).
fn inputs(r: &Report) -> Section {
    let columns = [
        "file",
        "format",
        "encoding",
        "rows",
        "records",
        "duplicates",
        "rejected",
        "first",
        "last",
        "sha256",
    ]
    .map(super::view::Column::text)
    .to_vec();
    let time = |t: &Option<String>| {
        t.as_ref()
            .map_or(Prose::default(), |t| Prose::default().time(t))
    };
    let rows = r.inputs.iter().map(|i| {
        vec![
            Prose::default().evidence(&i.path),
            Prose::from(i.format),
            Prose::from(i.encoding),
            Prose::default().count(i.rows),
            Prose::default().count(i.records),
            Prose::default().count(i.duplicates),
            Prose::default().count(i.rejected),
            time(&i.first_time),
            time(&i.last_time),
            Prose::from("`").id(&i.sha256).tool("`"),
        ]
    });
    let table = Table {
        columns,
        rows: rows.collect(),
    };
    let lines = r.inputs.iter().map(|i| {
        Prose::default()
            .evidence(&i.path)
            .tool(format!(
                "  {} ({}): {} rows, {} records, {} duplicates, {} rejected  sha256 ",
                i.format, i.encoding, i.rows, i.records, i.duplicates, i.rejected
            ))
            .id(short_hash(&i.sha256))
    });
    Section::new(Level::Section, "Inputs")
        .with(Block::Only(Format::Markdown, Box::new(Block::Table(table))))
        .with(Block::Only(
            Format::Text,
            Box::new(Block::List(lines.collect())),
        ))
}

/// A SHA-256 shortened for a line of text: its first 16 characters (characters, not bytes:
/// whatever a hash from a saved case holds, this cannot split one).
fn short_hash(sha256: &str) -> String {
    sha256.chars().take(16).collect()
}

fn warnings(r: &Report) -> Section {
    let mut lines: Vec<Prose> = r
        .warnings
        .iter()
        .map(|w| {
            Prose::from(format!("[{}] ", w.code))
                .evidence(&w.message)
                .evidence(w.location())
        })
        .collect();
    if lines.is_empty() {
        lines.push(Prose::from("none"));
    }
    Section::new(Level::Section, "Warnings").with(Block::List(lines))
}

fn caveats(r: &Report) -> Section {
    let mut s = Section::untitled();
    for c in &r.caveats {
        s.push(Block::Note(c.clone()));
    }
    s
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
