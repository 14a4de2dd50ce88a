//! `--format html`: one self-contained page for the people who decide (inline CSS and SVG, no
//! script, nothing fetched). Renders the same `Report` the JSON serializes. Every text that comes
//! from the evidence is escaped.

use super::view::{Column, ColumnKind, FindingKind, Html, Prose, Table};
use super::*;
// Every evidence text goes through the one HTML escaping function, mostly as `Prose` cells.
use crate::escape::html as esc;
use std::fmt::Write as _;

const CSS: &str = r#"
body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px} h2{font-size:19px;margin:28px 0 8px} h3{font-size:15px;margin:18px 0 6px}
section.mb{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:4px 20px 16px;margin:18px 0}
table{border-collapse:collapse;width:100%;margin:6px 0 10px;font-size:13px}
th,td{border-bottom:1px solid #e4e7eb;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f0f2f5;font-weight:600} td.num,th.num{text-align:right}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
.badge{display:inline-block;padding:2px 9px;border-radius:12px;font-weight:700;font-size:12px;letter-spacing:.03em;color:#fff}
.v-entire-mailbox{background:#b42318}.v-folders{background:#c4320a}.v-messages{background:#b54708}.v-none{background:#667085}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.card{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:10px 16px;min-width:140px}
.card b{display:block;font-size:22px}
.warn{background:#fffaeb;border-left:4px solid #f79009;padding:6px 10px;margin:4px 0}
.caveat{background:#eff8ff;border-left:4px solid #2e90fa;padding:6px 10px;margin:4px 0}
.muted{color:#667085} .legend span{display:inline-block;margin-right:14px}
.sw{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
svg text{font:11px -apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:#475467}
"#;

const COLORS: [(&str, &str); 4] = [
    ("attacker", "#d92d20"),
    ("linked", "#f79009"),
    ("trusted", "#12b76a"),
    ("other", "#98a2b3"),
];

/// Render the page. `generated_at` is shown in the provenance (the JSON report carries no clock
/// time, so that it stays byte-identical between runs).
pub fn render(r: &Report, generated_at: &str) -> String {
    let mut o = String::with_capacity(64 * 1024);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>mailscope compromise scope</title><style>{CSS}</style></head><body><main>\n"
    );
    let _ = writeln!(
        o,
        "<h1>Mailbox compromise scope</h1><p class=\"muted\">{} {} · schema {}</p>",
        r.tool.name, r.tool.version, r.schema
    );
    summary(&mut o, r);
    for m in &r.mailboxes {
        mailbox(&mut o, m, r);
    }
    tenant(&mut o, r);
    admin_exposure(&mut o, r);
    prose_list(
        &mut o,
        &format!("<section><h2>{}</h2>", esc(super::gaps::TITLE)),
        r.indicator_gaps.iter().map(super::gaps::line),
    );
    if !r.indicator_gaps.is_empty() {
        o.push_str("</section>\n");
    }
    notification(&mut o, r);
    provenance(&mut o, r, generated_at);
    o.push_str("</main></body></html>\n");
    o
}

/// Report text built once for every format (`view::Prose`), written for HTML.
fn html(p: &Prose) -> String {
    p.to(&Html)
}

/// A table's header and rows, each cell written for HTML by its kind; the caller closes it.
fn table_rows(o: &mut String, t: &Table) {
    o.push_str("<table><tr>");
    for c in &t.columns {
        let class = if c.kind == ColumnKind::Number {
            " class=\"num\""
        } else {
            ""
        };
        let _ = write!(o, "<th{class}>{}</th>", esc(c.name));
    }
    o.push_str("</tr>\n");
    for row in &t.rows {
        o.push_str("<tr>");
        for (c, cell) in t.columns.iter().zip(row) {
            let class = match c.kind {
                ColumnKind::Text => "",
                ColumnKind::Id => " class=\"mono\"",
                ColumnKind::Number => " class=\"num\"",
            };
            let _ = write!(o, "<td{class}>{}</td>", html(cell));
        }
        o.push_str("</tr>\n");
    }
}

fn table(o: &mut String, t: &Table) {
    table_rows(o, t);
    o.push_str("</table>\n");
}

/// A table of key/value rows on one line.
fn key_values(o: &mut String, rows: &[(&str, ColumnKind, Prose)]) {
    o.push_str("<table>");
    for (key, kind, value) in rows {
        let class = if *kind == ColumnKind::Id {
            " class=\"mono\""
        } else {
            ""
        };
        let _ = write!(o, "<tr><th>{key}</th><td{class}>{}</td></tr>", html(value));
    }
    o.push_str("</table>\n");
}

fn summary(o: &mut String, r: &Report) {
    cards(o, r);
    facts(o, r);
    summary_caveats(o, r);
    if !r.warnings.is_empty() {
        let _ = writeln!(o, "<h3>Warnings</h3>");
        for w in &r.warnings {
            let line = Prose::default().evidence(&w.message).evidence(w.location());
            let _ = writeln!(
                o,
                "<div class=\"warn\"><code>{}</code> {}</div>",
                w.code,
                html(&line)
            );
        }
    }
}

/// The mailboxes by verdict, and how many messages and folders are named.
fn cards(o: &mut String, r: &Report) {
    let count = |v: Verdict| r.mailboxes.iter().filter(|m| m.verdict == v).count();
    let _ = writeln!(o, "<h2>Summary</h2><div class=\"cards\">");
    for v in [
        Verdict::EntireMailbox,
        Verdict::Folders,
        Verdict::Messages,
        Verdict::None,
    ] {
        let _ = writeln!(
            o,
            "<div class=\"card\"><b>{}</b><span class=\"badge v-{v}\">{v}</span> mailboxes</div>",
            count(v),
            v = v.as_str()
        );
    }
    let messages: usize = r.mailboxes.iter().map(|m| m.messages.len()).sum();
    let folders: usize = r
        .mailboxes
        .iter()
        .map(|m| m.folders.len() + m.synced_folders.len())
        .sum();
    let _ = writeln!(
        o,
        "<div class=\"card\"><b>{messages}</b>messages named</div><div class=\"card\"><b>{folders}</b>folders in scope</div></div>"
    );
}

/// The window, indicators, record counts and attribution.
fn facts(o: &mut String, r: &Report) {
    let window = match (&r.window.start, &r.window.end) {
        (None, None) => Prose::from("all records (no window given)"),
        (s, e) => {
            let bound = |p: Prose, t: &Option<String>, open: &str| match t {
                Some(t) => p.time(t),
                None => p.tool(open),
            };
            bound(bound(Prose::from("["), s, "−∞").tool(", "), e, "+∞").tool(")")
        }
    };
    let indicators = super::sections::indicator_line(&r.indicators, r.session_linking);
    let c = &r.records;
    let records = format!(
        "{} read · {} unique · {} duplicates · {} rejected · {} out of window",
        c.read, c.unique, c.duplicates, c.rejected, c.out_of_window
    );
    let attribution = format!(
        "{} attacker · {} linked by session · {} trusted · {} other",
        c.attacker, c.linked, c.trusted, c.other
    );
    let others = format!(
        "{} mailbox(es) in the window without attacker activity (not listed)",
        r.mailboxes_without_attacker_activity
    );
    key_values(
        o,
        &[
            ("Investigation window", ColumnKind::Text, window),
            (
                "Indicators",
                ColumnKind::Id,
                Prose::default().evidence(indicators),
            ),
            ("Records", ColumnKind::Text, records.into()),
            ("Attribution", ColumnKind::Text, attribution.into()),
            ("Other mailboxes", ColumnKind::Text, others.into()),
        ],
    );
}

/// The report's caveats, then the mailboxes whose access is not (all) audited.
fn summary_caveats(o: &mut String, r: &Report) {
    let _ = writeln!(o, "<h3>Caveats</h3>");
    let throttled = r
        .mailboxes
        .iter()
        .filter(|m| !m.throttled_windows.is_empty());
    let unauditable = r.mailboxes.iter().filter(|m| !m.access_auditing);
    let listed = [
        (
            "Throttled mailboxes (24 h of access unaudited): ",
            throttled.map(|m| m.mailbox.as_str()).collect::<Vec<_>>(),
        ),
        (
            "No access auditing in the evidence (scope cannot be narrowed): ",
            unauditable.map(|m| m.mailbox.as_str()).collect(),
        ),
    ];
    let listed = listed
        .into_iter()
        .filter(|(_, mailboxes)| !mailboxes.is_empty())
        .map(|(what, mailboxes)| Prose::from(what).evidence_list(mailboxes, ", "));
    for caveat in r.caveats.iter().cloned().chain(listed) {
        let _ = writeln!(o, "<div class=\"caveat\">{}</div>", html(&caveat));
    }
}

fn secs(t: &str) -> Option<i64> {
    crate::time::parse_iso(t).map(|m| m.div_euclid(1_000_000))
}

/// The timeline's geometry: its size, margins, time span and tallest bar.
struct Plot {
    w: f64,
    h: f64,
    left: f64,
    bottom: f64,
    top: f64,
    t0: i64,
    t1: i64,
    max: f64,
}

impl Plot {
    fn x(&self, t: i64) -> f64 {
        let span = self.t1 - self.t0;
        self.left + (t - self.t0).clamp(0, span) as f64 / span as f64 * (self.w - self.left - 4.0)
    }
    fn plot_h(&self) -> f64 {
        self.h - self.bottom - self.top
    }
}

/// Stacked bars per time bucket, by attribution; throttled windows, forwarding windows and the
/// investigation window shaded.
fn timeline_svg(o: &mut String, m: &MailboxScope, r: &Report) {
    let tl = &m.timeline;
    let Some(t0) = secs(&tl.start) else { return };
    if tl.buckets.is_empty() {
        return;
    }
    let max = tl
        .buckets
        .iter()
        .map(|b| b.attacker + b.linked + b.trusted + b.other)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let p = Plot {
        w: 1080.0,
        h: 150.0,
        left: 40.0,
        bottom: 22.0,
        top: 8.0,
        t0,
        t1: t0 + tl.bucket_seconds * tl.buckets.len() as i64,
        max,
    };
    let (w, h) = (p.w, p.h);
    let _ = writeln!(
        o,
        "<svg viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"records over time by attribution\">"
    );
    outside_window(o, &p, r);
    throttled_bands(o, &p, m);
    forwarding_bands(o, &p, m);
    bars(o, &p, tl);
    axis(o, &p);
    legend(o, tl);
}

/// The investigation window: what lies outside it shaded.
fn outside_window(o: &mut String, p: &Plot, r: &Report) {
    let (left, top, plot_h) = (p.left, p.top, p.plot_h());
    if let Some(s) = r
        .window
        .start
        .as_deref()
        .and_then(secs)
        .filter(|s| *s > p.t0)
    {
        let _ = writeln!(
            o,
            "<rect x=\"{left}\" y=\"{top}\" width=\"{:.1}\" height=\"{plot_h}\" fill=\"#eaecf0\"><title>before the investigation window</title></rect>",
            p.x(s) - left
        );
    }
    if let Some(e) = r.window.end.as_deref().and_then(secs).filter(|e| *e < p.t1) {
        let _ = writeln!(
            o,
            "<rect x=\"{:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{plot_h}\" fill=\"#eaecf0\"><title>after the investigation window</title></rect>",
            p.x(e),
            p.w - 4.0 - p.x(e)
        );
    }
}

fn throttled_bands(o: &mut String, p: &Plot, m: &MailboxScope) {
    let (top, plot_h) = (p.top, p.plot_h());
    for tw in &m.throttled_windows {
        if let (Some(s), Some(e)) = (secs(&tw.start), secs(&tw.end)) {
            let _ = writeln!(
                o,
                "<rect x=\"{:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{plot_h}\" fill=\"#e9d7fe\" opacity=\"0.8\"><title>throttled: access not audited {} – {}</title></rect>",
                p.x(s),
                (p.x(e) - p.x(s)).max(1.0),
                html(&Prose::default().time(&tw.start)),
                html(&Prose::default().time(&tw.end))
            );
        }
    }
}

/// Forwarding windows on the timeline: a band along the top, to the plot's end when still open.
fn forwarding_bands(o: &mut String, p: &Plot, m: &MailboxScope) {
    let top = p.top;
    for fw in &m.forwarding {
        let Some(s) = secs(&fw.start) else { continue };
        let e = fw.end.as_deref().and_then(secs).unwrap_or(p.t1);
        let destinations = fw.destinations.iter().map(|d| d.address.as_str());
        let title = Prose::from("forwarding to ")
            .evidence_list(destinations, ", ")
            .tool(" from ")
            .time(&fw.start)
            .tool(" to ")
            .then(match &fw.end {
                Some(end) => Prose::default().time(end),
                None => Prose::from("the end of the evidence"),
            });
        let _ = writeln!(
            o,
            "<rect x=\"{:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"6\" fill=\"#0e9384\"><title>{}</title></rect>",
            p.x(s),
            (p.x(e) - p.x(s)).max(1.0),
            html(&title)
        );
    }
}

/// One stacked bar per bucket, attribution by attribution.
fn bars(o: &mut String, p: &Plot, tl: &Timeline) {
    let bw = (p.w - p.left - 4.0) / tl.buckets.len() as f64;
    for (k, b) in tl.buckets.iter().enumerate() {
        let mut y = p.h - p.bottom;
        for (label, color) in COLORS {
            let v = match label {
                "attacker" => b.attacker,
                "linked" => b.linked,
                "trusted" => b.trusted,
                _ => b.other,
            };
            if v == 0 {
                continue;
            }
            let bh = v as f64 / p.max * p.plot_h();
            y -= bh;
            let _ = writeln!(
                o,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{color}\"><title>{v} {label}</title></rect>",
                p.left + k as f64 * bw + 0.5,
                (bw - 1.0).max(1.0)
            );
        }
    }
}

/// The base line, the tallest bar's count and the first and last time.
fn axis(o: &mut String, p: &Plot) {
    let (w, h, left) = (p.w, p.h, p.left);
    let _ = writeln!(
        o,
        "<line x1=\"{left}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"#98a2b3\"/>",
        h - p.bottom,
        w - 4.0
    );
    let _ = writeln!(
        o,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
        left - 4.0,
        p.top + 10.0,
        p.max as u64
    );
    let label = |t: i64| crate::time::rfc3339(t * 1_000_000);
    let _ = writeln!(
        o,
        "<text x=\"{left}\" y=\"{}\">{}</text>",
        h - 6.0,
        label(p.t0)
    );
    let _ = writeln!(
        o,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
        w - 4.0,
        h - 6.0,
        label(p.t1)
    );
    let _ = writeln!(o, "</svg>");
}

fn legend(o: &mut String, tl: &Timeline) {
    let _ = write!(o, "<div class=\"legend muted\">");
    for (label, color) in COLORS {
        let _ = write!(
            o,
            "<span><i class=\"sw\" style=\"background:{color}\"></i>{label}</span>"
        );
    }
    let _ = writeln!(
        o,
        "<span><i class=\"sw\" style=\"background:#e9d7fe\"></i>throttled window</span><span><i class=\"sw\" style=\"background:#0e9384\"></i>forwarding window</span><span><i class=\"sw\" style=\"background:#eaecf0\"></i>outside the investigation window</span> · one bar = {} min</div>",
        tl.bucket_seconds / 60
    );
}

/// Record ids, all of them (`Html` writes them in monospace).
fn records(ids: &[String]) -> Prose {
    Prose::default().records(ids, usize::MAX)
}

/// Actions as a table, each with its record and where it was read.
fn actions_table(o: &mut String, list: &[Action]) {
    let mut t = Table::new(vec![
        Column::text("time"),
        Column::text("operation"),
        Column::text("attribution"),
        Column::id("IP"),
        Column::text("items"),
        Column::text("detail"),
        Column::text("record"),
    ]);
    for a in list {
        let mut items = Prose::default();
        for (k, i) in a.items.iter().enumerate() {
            if k > 0 {
                items = items.markup("<br>");
            }
            let parts = [&i.subject, &i.internet_message_id, &i.item_id, &i.folder];
            let parts = parts.into_iter().filter_map(|x| x.as_deref());
            items = items.evidence_list(parts, " · ");
        }
        t.row(vec![
            Prose::default().time(&a.time),
            Prose::default().evidence(&a.operation),
            Prose::default().label(a.attribution.as_str()),
            Prose::default().maybe(&a.client_ip),
            items,
            Prose::default().maybe(&a.detail),
            records(std::slice::from_ref(&a.record_id))
                .markup("<br><span class=\"muted\">")
                .evidence(&a.source)
                .markup("</span>"),
        ]);
    }
    table(o, &t);
}

/// Who must be told: inventories and coverage, counts, correspondents' domains.
fn notification(o: &mut String, r: &Report) {
    let Some(n) = &r.notification else {
        return;
    };
    o.push_str("<section><h2>Notification summary</h2>\n");
    for i in &r.inventories {
        let line = Prose::from("Inventory ")
            .markup("<span class=\"mono\">")
            .evidence(&i.path)
            .markup("</span>")
            .tool(format!(" ({}, {} rows, ", i.format, i.rows))
            .maybe_time(&i.first_time)
            .tool(" … ")
            .maybe_time(&i.last_time)
            .tool(format!("): {}", i.covers));
        let _ = writeln!(o, "<div class=\"caveat\">{}</div>", html(&line));
    }
    let domains = Prose::from("Internal domains: ")
        .markup("<span class=\"mono\">")
        .evidence_list(n.internal_domains.iter().map(String::as_str), ", ")
        .markup("</span>")
        .tool(" (")
        .evidence(&n.internal_domains_from)
        .tool(")");
    let _ = writeln!(o, "<p>{}</p>", html(&domains));
    table(o, &notification_counts(n));
    o.push_str("<h3>Correspondents by domain</h3>");
    table(o, &domains_table(n));
    prose_list(o, "", super::sections::sent_recipients(n).into_iter());
    if !n.without_metadata.is_empty() {
        let ids = n.without_metadata.iter().map(String::as_str);
        let line = Prose::from("In scope without metadata (in no inventory): ")
            .markup("<span class=\"mono\">")
            .id_list(ids, ", ")
            .markup("</span>");
        let _ = writeln!(o, "<p>{}</p>", html(&line));
    }
    o.push_str("</section>\n");
}

/// Per mailbox and overall: messages in scope, with and without metadata, correspondents.
fn notification_counts(n: &crate::scope::notification::Notification) -> Table {
    let mut t = Table::new(vec![
        Column::text("mailbox"),
        Column::number("in scope"),
        Column::number("with metadata"),
        Column::number("without"),
        Column::number("assumed (inventory)"),
        Column::number("correspondents"),
        Column::number("internal"),
        Column::number("external"),
    ]);
    let rows = n
        .mailboxes
        .iter()
        .map(|m| (Prose::default().evidence(&m.mailbox), &m.counts))
        .chain(std::iter::once((Prose::from("all mailboxes"), &n.overall)));
    for (name, c) in rows {
        let count = |v: u64| Prose::default().count(v);
        t.row(vec![
            name,
            count(c.messages_in_scope),
            count(c.with_metadata),
            count(c.without_metadata),
            count(c.assumed_from_inventory),
            count(c.correspondents),
            count(c.internal_correspondents),
            count(c.external_correspondents),
        ]);
    }
    t
}

fn domains_table(n: &crate::scope::notification::Notification) -> Table {
    let mut t = Table::new(vec![
        Column::id("domain"),
        Column::text(""),
        Column::number("addresses"),
        Column::number("messages"),
    ]);
    for d in &n.overall.domains {
        let side = if d.internal {
            Prose::from("internal")
        } else {
            Prose::default()
                .markup("<b>")
                .tool("external")
                .markup("</b>")
        };
        t.row(vec![
            Prose::default().evidence(&d.domain),
            side,
            Prose::default().count(d.addresses),
            Prose::default().count(d.messages),
        ]);
    }
    t
}

/// A heading and a list of lines, or nothing for no lines.
fn prose_list(o: &mut String, heading: &str, lines: impl Iterator<Item = Prose>) {
    let items: Vec<String> = lines.map(|p| format!("<li>{}</li>", html(&p))).collect();
    if items.is_empty() {
        return;
    }
    let _ = writeln!(o, "{heading}<ul>{}</ul>", items.concat());
}

/// Content searches, the attacker's grants, and searches that name no mailbox (run level).
fn admin_exposure(o: &mut String, r: &Report) {
    if r.content_searches.is_empty() && r.grants.is_empty() && r.searched_for.is_empty() {
        return;
    }
    o.push_str("<section><h2>Content searches, grants and searches</h2>");
    prose_list(
        o,
        "<h3>Content searches in the evidence</h3>",
        r.content_searches
            .iter()
            .map(super::exposure::content_search),
    );
    let heading = if r.grant_linking {
        "<h3>Grants the attacker made</h3><p class=\"muted\">Their grantees' records, while they held the grant, are linked.</p>"
    } else {
        "<h3>Grants the attacker made</h3><p class=\"muted\">Grant linking is off: nothing linked.</p>"
    };
    prose_list(o, heading, r.grants.iter().map(super::exposure::grant));
    prose_list(
        o,
        "<h3>What the attacker searched for outside any mailbox</h3>",
        r.searched_for.iter().map(super::exposure::searched_for),
    );
    o.push_str("</section>");
}

fn tenant(o: &mut String, r: &Report) {
    if r.tenant_actions.is_empty() && r.tenant_forwarding.is_empty() {
        return;
    }
    o.push_str("<section><h2>Attacker actions outside any mailbox</h2><p class=\"muted\">Organization-wide changes made from the attacker's contexts (transport rules, audit configuration, consents …).</p>");
    actions_table(o, &r.tenant_actions);
    prose_list(
        o,
        "<h3>Transport rules the attacker set</h3><p class=\"muted\">The organization's mail copied or redirected while one was in place.</p>",
        r.tenant_forwarding
            .iter()
            .map(|w| super::outbound::window(w, None)),
    );
    o.push_str("</section>\n");
}

/// One mailbox: verdict, timeline, why, each kind of finding as a table, contexts, caveats.
fn mailbox(o: &mut String, m: &MailboxScope, r: &Report) {
    let head = Prose::default()
        .evidence(&m.mailbox)
        .markup(" <span class=\"badge v-")
        .label(m.verdict.as_str())
        .markup("\">")
        .label(m.verdict.as_str())
        .markup("</span>");
    let _ = writeln!(o, "<section class=\"mb\"><h2>{}</h2>", html(&head));
    timeline_svg(o, m, r);
    why(o, m);
    for kind in FindingKind::HTML_ORDER {
        finding(o, m, kind);
    }
    o.push_str("<h3>Access contexts</h3>");
    table_rows(o, &contexts_table(m));
    o.push_str("</table>");
    if let Some(line) = super::sections::contexts_left_out(m) {
        let _ = writeln!(o, "<p class=\"muted\">{}</p>", html(&line));
    }
    for caveat in &m.caveats {
        let caveat = Prose::default().evidence(caveat);
        let _ = writeln!(o, "<div class=\"caveat\">{}</div>", html(&caveat));
    }
    let _ = writeln!(
        o,
        "<p class=\"muted\">Access auditing present: {}</p></section>",
        if m.access_auditing {
            "yes"
        } else {
            "<b>no</b>"
        }
    );
}

/// One kind of finding of a mailbox: a table, or a list of the lines text shows too (nothing
/// when the mailbox has none).
fn finding(o: &mut String, m: &MailboxScope, kind: FindingKind) {
    match kind {
        FindingKind::Throttled => {
            if !m.throttled_windows.is_empty() {
                o.push_str("<h3>Throttled windows</h3>");
                table(o, &throttled_table(m));
            }
        }
        FindingKind::SyncedFolders => {
            if !m.synced_folders.is_empty() {
                o.push_str("<h3>Synced folders</h3>");
                table(o, &folders_table(&m.synced_folders));
            }
        }
        FindingKind::Folders => {
            if !m.folders.is_empty() {
                o.push_str("<h3>Folders in scope</h3>");
                table(o, &folders_table(&m.folders));
            }
        }
        FindingKind::Messages => {
            if !m.messages.is_empty() {
                let _ = write!(o, "<h3>Messages in scope ({})</h3>", m.messages.len());
                table(o, &messages_table(m));
            }
        }
        FindingKind::Assumed => {
            if !m.assumed_messages.is_empty() {
                let _ = write!(
                    o,
                    "<h3>Assumed compromised from the message inventory ({})</h3><p class=\"muted\">No audit record names these messages; the mailbox's exposure covers them.</p>",
                    m.assumed_messages.len()
                );
                table(o, &assumed_table(m));
            }
        }
        FindingKind::Forwarding => prose_list(
            o,
            "<h3>Forwarding windows</h3><p class=\"muted\">Mail delivered while one was in place left the mailbox.</p>",
            m.forwarding
                .iter()
                .map(|w| super::outbound::window(w, Some(&m.mailbox))),
        ),
        FindingKind::Sent => prose_list(
            o,
            &format!(
                "<h3>Mail the attacker sent ({})</h3>",
                m.sent_messages.len()
            ),
            m.sent_messages.iter().map(super::outbound::sent),
        ),
        FindingKind::ContentSearches => prose_list(
            o,
            "<h3>Content searches the attacker took the results of</h3>",
            m.content_searches
                .iter()
                .map(|e| super::exposure::search_exposure(e, &m.mailbox)),
        ),
        FindingKind::SearchedFor => prose_list(
            o,
            "<h3>What the attacker searched for</h3>",
            m.searched_for.iter().map(super::exposure::searched_for),
        ),
        FindingKind::Actions => {
            if !m.actions.is_empty() {
                o.push_str("<h3>Attacker actions</h3>");
                actions_table(o, &m.actions);
            }
        }
        FindingKind::Unresolved => {
            if !m.unresolved.is_empty() {
                o.push_str("<h3>Unresolved binds</h3>");
                table(o, &unresolved_table(m));
            }
        }
    }
}

fn why(o: &mut String, m: &MailboxScope) {
    let _ = writeln!(o, "<h3>Why</h3><ul>");
    for reason in &m.reasons {
        let line = Prose::default()
            .markup("<code>")
            .tool(reason.rule.to_string())
            .markup("</code> ")
            .evidence(&reason.detail)
            .tool(" — records ")
            .then(records(&reason.records));
        let _ = writeln!(o, "<li>{}</li>", html(&line));
    }
    if m.reasons.is_empty() {
        let _ = writeln!(
            o,
            "<li>Attacker activity, but no access to mail content in the audit records (see actions).</li>"
        );
    }
    let _ = writeln!(o, "</ul>");
}

fn throttled_table(m: &MailboxScope) -> Table {
    let mut t = Table::new(vec![
        Column::text("start"),
        Column::text("end"),
        Column::text("records"),
    ]);
    for w in &m.throttled_windows {
        let time = |s: &str| Prose::default().time(s);
        t.row(vec![time(&w.start), time(&w.end), records(&w.records)]);
    }
    t
}

fn folders_table(list: &[FolderHit]) -> Table {
    let mut t = Table::new(
        ["folder", "reason", "first seen", "last seen", "records"]
            .map(Column::text)
            .to_vec(),
    );
    for f in list {
        t.row(vec![
            Prose::default().evidence(&f.path),
            Prose::from(f.reason.to_string()),
            Prose::default().time(&f.first_seen),
            Prose::default().time(&f.last_seen),
            records(&f.records),
        ]);
    }
    t
}

fn messages_table(m: &MailboxScope) -> Table {
    let mut columns = vec![Column::id("InternetMessageId")];
    columns.extend(
        [
            "folder",
            "subject",
            "from",
            "to",
            "received",
            "first seen",
            "last seen",
            "access",
            "records",
        ]
        .map(Column::text),
    );
    let mut t = Table::new(columns);
    for x in &m.messages {
        let meta = x.metadata.as_ref();
        let recipients = meta.map(|m| m.recipients.join(", ")).unwrap_or_default();
        t.row(vec![
            Prose::default().id(x.label()),
            Prose::default().maybe(&x.folder),
            Prose::default().maybe(&x.subject),
            Prose::default().maybe(&meta.and_then(|m| m.sender.as_ref())),
            Prose::default().evidence(recipients),
            Prose::default().maybe_time(&meta.and_then(|m| m.date.as_ref())),
            Prose::default().time(&x.first_seen),
            Prose::default().time(&x.last_seen),
            Prose::from(format!("{} ({})", x.access, x.attribution)),
            records(&x.records),
        ]);
    }
    t
}

fn assumed_table(m: &MailboxScope) -> Table {
    let mut t = Table::new(vec![
        Column::text("received"),
        Column::id("InternetMessageId"),
        Column::text("subject"),
        Column::text("from"),
        Column::text("to"),
        Column::text("why"),
        Column::id("source"),
    ]);
    for a in &m.assumed_messages {
        t.row(vec![
            Prose::default().maybe_time(&a.date),
            Prose::default().id(&a.internet_message_id),
            Prose::default().maybe(&a.subject),
            Prose::default().maybe(&a.sender),
            Prose::default().evidence(a.recipients.join(", ")),
            Prose::default().evidence(&a.why),
            Prose::default().evidence(&a.source),
        ]);
    }
    t
}

fn unresolved_table(m: &MailboxScope) -> Table {
    let mut t = Table::new(vec![
        Column::text("time"),
        Column::text("record"),
        Column::text("folders"),
        Column::number("OperationCount"),
        Column::number("ids listed"),
        Column::text("reason"),
    ]);
    for u in &m.unresolved {
        t.row(vec![
            Prose::default().time(&u.time),
            records(std::slice::from_ref(&u.record_id)),
            Prose::default().evidence(u.folders.join(", ")),
            Prose::from(u.operation_count.map(|c| c.to_string()).unwrap_or_default()),
            Prose::default().count(u.message_ids_listed),
            Prose::default().evidence(&u.reason),
        ]);
    }
    t
}

/// Who read the mailbox from where; with --ip-db, the IP's ASN, organisation and country.
fn contexts_table(m: &MailboxScope) -> Table {
    let mut t = Table::new(vec![
        Column::text("attribution"),
        Column::id("IP"),
        Column::id("session"),
        Column::text("client"),
        Column::text("actor"),
        Column::text("logon"),
        Column::text("first seen"),
        Column::text("last seen"),
        Column::number("records"),
        Column::number("binds"),
        Column::number("syncs"),
    ]);
    for c in &m.contexts {
        let mut ip = Prose::default().maybe(&c.client_ip);
        if let Some(i) = &c.ip_info {
            ip = ip.tool(" (").evidence(i.summary()).tool(")");
        }
        let mut attribution = Prose::default().label(c.attribution.as_str());
        if !c.indicator_gaps.is_empty() {
            attribution = attribution.tool(format!(" (gap: {})", c.indicator_gaps.join(", ")));
        }
        t.row(vec![
            attribution,
            ip,
            Prose::default().maybe(&c.session_id),
            Prose::default().maybe(&c.client_info),
            Prose::default().maybe(&c.actor),
            Prose::default().maybe(&c.logon_type),
            Prose::default().time(&c.first_seen),
            Prose::default().time(&c.last_seen),
            Prose::default().count(c.records),
            Prose::default().count(c.binds),
            Prose::default().count(c.syncs),
        ]);
    }
    t
}

/// The inputs with their hashes, the saved cases and skipped paths, and how the report was made.
fn provenance(o: &mut String, r: &Report, generated_at: &str) {
    let mut t = Table::new(vec![
        Column::text("file"),
        Column::text("format"),
        Column::text("encoding"),
        Column::number("rows"),
        Column::number("records"),
        Column::number("dup."),
        Column::number("rejected"),
        Column::id("SHA-256"),
    ]);
    for i in &r.inputs {
        let count = |n: u64| Prose::default().count(n);
        t.row(vec![
            Prose::default().evidence(&i.path),
            Prose::from(i.format),
            Prose::from(i.encoding),
            count(i.rows),
            count(i.records),
            count(i.duplicates),
            count(i.rejected),
            Prose::default().id(&i.sha256),
        ]);
    }
    o.push_str("<h2>Provenance</h2>");
    table(o, &t);
    for c in &r.cases {
        let line = Prose::from("read from the saved case ")
            .markup("<span class=\"mono\">")
            .evidence(&c.path)
            .markup("</span>")
            .tool(format!(" ({}, {} inputs, SHA-256 ", c.schema, c.inputs))
            .markup("<span class=\"mono\">")
            .id(&c.sha256)
            .markup("</span>")
            .tool(")");
        let _ = writeln!(o, "<div class=\"caveat\">{}</div>", html(&line));
    }
    for s in &r.skipped {
        let line = Prose::from("skipped ")
            .evidence(&s.path)
            .tool(": ")
            .evidence(&s.reason);
        let _ = writeln!(o, "<div class=\"warn\">{}</div>", html(&line));
    }
    let tool = format!("{} {}", r.tool.name, r.tool.version);
    let command_line = Prose::default().evidence(r.command_line.join(" "));
    key_values(
        o,
        &[
            ("Tool", ColumnKind::Text, tool.into()),
            ("Command line", ColumnKind::Id, command_line),
            ("Generated", ColumnKind::Text, Prose::from(generated_at)),
        ],
    );
}
