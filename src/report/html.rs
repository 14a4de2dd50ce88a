//! `--format html`: one self-contained page for the people who decide (inline CSS and SVG, no
//! script, nothing fetched). Renders the same `Report` the JSON serializes. Every text that comes
//! from the evidence is escaped.

use super::*;
// Every evidence text goes through the one HTML escaping function.
use crate::escape::html as esc;
use std::fmt::Write as _;

fn opt(s: &Option<impl AsRef<str>>) -> String {
    s.as_ref().map(|s| esc(s.as_ref())).unwrap_or_default()
}

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

fn summary(o: &mut String, r: &Report) {
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
    let window = match (&r.window.start, &r.window.end) {
        (None, None) => "all records (no window given)".to_string(),
        (s, e) => format!(
            "[{}, {})",
            s.as_deref().unwrap_or("−∞"),
            e.as_deref().unwrap_or("+∞")
        ),
    };
    let c = &r.records;
    let _ = writeln!(
        o,
        "<table><tr><th>Investigation window</th><td>{}</td></tr><tr><th>Indicators</th><td class=\"mono\">{}</td></tr>\
         <tr><th>Records</th><td>{} read · {} unique · {} duplicates · {} rejected · {} out of window</td></tr>\
         <tr><th>Attribution</th><td>{} attacker · {} linked by session · {} trusted · {} other</td></tr>\
         <tr><th>Other mailboxes</th><td>{} mailbox(es) in the window without attacker activity (not listed)</td></tr></table>",
        esc(&window),
        esc(&super::sections::indicator_line(
            &r.indicators,
            r.session_linking
        )),
        c.read,
        c.unique,
        c.duplicates,
        c.rejected,
        c.out_of_window,
        c.attacker,
        c.linked,
        c.trusted,
        c.other,
        r.mailboxes_without_attacker_activity
    );
    let _ = writeln!(o, "<h3>Caveats</h3>");
    for cav in &r.caveats {
        let _ = writeln!(
            o,
            "<div class=\"caveat\">{}</div>",
            cav.to(&super::view::Html)
        );
    }
    let throttled: Vec<&str> = r
        .mailboxes
        .iter()
        .filter(|m| !m.throttled_windows.is_empty())
        .map(|m| m.mailbox.as_str())
        .collect();
    if !throttled.is_empty() {
        let _ = writeln!(
            o,
            "<div class=\"caveat\">Throttled mailboxes (24 h of access unaudited): {}</div>",
            esc(&throttled.join(", "))
        );
    }
    let unauditable: Vec<&str> = r
        .mailboxes
        .iter()
        .filter(|m| !m.access_auditing)
        .map(|m| m.mailbox.as_str())
        .collect();
    if !unauditable.is_empty() {
        let _ = writeln!(
            o,
            "<div class=\"caveat\">No access auditing in the evidence (scope cannot be narrowed): {}</div>",
            esc(&unauditable.join(", "))
        );
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(o, "<h3>Warnings</h3>");
        for w in &r.warnings {
            let loc = w.location();
            let _ = writeln!(
                o,
                "<div class=\"warn\"><code>{}</code> {}{}</div>",
                w.code,
                esc(&w.message),
                esc(&loc)
            );
        }
    }
}

fn secs(t: &str) -> Option<i64> {
    crate::time::parse_iso(t).map(|m| m.div_euclid(1_000_000))
}

/// Stacked bars per time bucket, by attribution; throttled windows and the investigation
/// window shaded.
/// Forwarding windows on the timeline: a band along the top, to the plot's end when still open.
fn forwarding_bands(o: &mut String, m: &MailboxScope, x: &dyn Fn(i64) -> f64, t1: i64, top: f64) {
    for fw in &m.forwarding {
        let Some(s) = secs(&fw.start) else { continue };
        let e = fw.end.as_deref().and_then(secs).unwrap_or(t1);
        let _ = writeln!(
            o,
            "<rect x=\"{:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"6\" fill=\"#0e9384\"><title>forwarding to {} from {} to {}</title></rect>",
            x(s),
            (x(e) - x(s)).max(1.0),
            esc(&fw
                .destinations
                .iter()
                .map(|d| d.address.as_str())
                .collect::<Vec<_>>()
                .join(", ")),
            esc(&fw.start),
            esc(fw.end.as_deref().unwrap_or("the end of the evidence"))
        );
    }
}

fn timeline_svg(o: &mut String, m: &MailboxScope, r: &Report) {
    let tl = &m.timeline;
    let Some(t0) = secs(&tl.start) else { return };
    if tl.buckets.is_empty() {
        return;
    }
    let (w, h, left, bottom, top) = (1080.0f64, 150.0f64, 40.0f64, 22.0f64, 8.0f64);
    let n = tl.buckets.len() as f64;
    let t1 = t0 + tl.bucket_seconds * tl.buckets.len() as i64;
    let x = |t: i64| left + (t - t0).clamp(0, t1 - t0) as f64 / (t1 - t0) as f64 * (w - left - 4.0);
    let max = tl
        .buckets
        .iter()
        .map(|b| b.attacker + b.linked + b.trusted + b.other)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let plot_h = h - bottom - top;
    let _ = writeln!(
        o,
        "<svg viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"records over time by attribution\">"
    );
    // Investigation window: shade what lies outside it.
    let ws = r.window.start.as_deref().and_then(secs);
    let we = r.window.end.as_deref().and_then(secs);
    if let Some(s) = ws.filter(|s| *s > t0) {
        let _ = writeln!(
            o,
            "<rect x=\"{left}\" y=\"{top}\" width=\"{:.1}\" height=\"{plot_h}\" fill=\"#eaecf0\"><title>before the investigation window</title></rect>",
            x(s) - left
        );
    }
    if let Some(e) = we.filter(|e| *e < t1) {
        let _ = writeln!(
            o,
            "<rect x=\"{:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{plot_h}\" fill=\"#eaecf0\"><title>after the investigation window</title></rect>",
            x(e),
            w - 4.0 - x(e)
        );
    }
    for tw in &m.throttled_windows {
        if let (Some(s), Some(e)) = (secs(&tw.start), secs(&tw.end)) {
            let _ = writeln!(
                o,
                "<rect x=\"{:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{plot_h}\" fill=\"#e9d7fe\" opacity=\"0.8\"><title>throttled: access not audited {} – {}</title></rect>",
                x(s),
                (x(e) - x(s)).max(1.0),
                esc(&tw.start),
                esc(&tw.end)
            );
        }
    }
    forwarding_bands(o, m, &x, t1, top);
    let bw = (w - left - 4.0) / n;
    for (k, b) in tl.buckets.iter().enumerate() {
        let mut y = h - bottom;
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
            let bh = v as f64 / max * plot_h;
            y -= bh;
            let _ = writeln!(
                o,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{color}\"><title>{v} {label}</title></rect>",
                left + k as f64 * bw + 0.5,
                (bw - 1.0).max(1.0)
            );
        }
    }
    let _ = writeln!(
        o,
        "<line x1=\"{left}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"#98a2b3\"/>",
        h - bottom,
        w - 4.0
    );
    let _ = writeln!(
        o,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
        left - 4.0,
        top + 10.0,
        max as u64
    );
    let label = |t: i64| crate::time::rfc3339(t * 1_000_000);
    let _ = writeln!(
        o,
        "<text x=\"{left}\" y=\"{}\">{}</text>",
        h - 6.0,
        label(t0)
    );
    let _ = writeln!(
        o,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
        w - 4.0,
        h - 6.0,
        label(t1)
    );
    let _ = writeln!(o, "</svg>");
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

/// Actions as a table, each with its record and where it was read.
fn actions_table(o: &mut String, list: &[Action]) {
    o.push_str("<table><tr><th>time</th><th>operation</th><th>attribution</th><th>IP</th><th>items</th><th>detail</th><th>record</th></tr>\n");
    for a in list {
        let items: Vec<String> = a
            .items
            .iter()
            .map(|i| {
                [&i.subject, &i.internet_message_id, &i.item_id, &i.folder]
                    .iter()
                    .filter_map(|x| x.as_deref())
                    .map(esc)
                    .collect::<Vec<_>>()
                    .join(" · ")
            })
            .collect();
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}<br><span class=\"muted\">{}</span></td></tr>",
            esc(&a.time),
            esc(&a.operation),
            a.attribution.as_str(),
            opt(&a.client_ip),
            items.join("<br>"),
            opt(&a.detail),
            records(std::slice::from_ref(&a.record_id)),
            esc(&a.source)
        );
    }
    o.push_str("</table>\n");
}

/// Attacker records that name no mailbox.
/// Who must be told: inventories and coverage, counts, correspondents' domains.
fn notification(o: &mut String, r: &Report) {
    let Some(n) = &r.notification else {
        return;
    };
    o.push_str("<section><h2>Notification summary</h2>\n");
    for i in &r.inventories {
        let _ = writeln!(
            o,
            "<div class=\"caveat\">Inventory <span class=\"mono\">{}</span> ({}, {} rows, {} … {}): {}</div>",
            esc(&i.path),
            i.format,
            i.rows,
            opt(&i.first_time),
            opt(&i.last_time),
            esc(i.covers)
        );
    }
    let _ = writeln!(
        o,
        "<p>Internal domains: <span class=\"mono\">{}</span> ({})</p>",
        esc(&n.internal_domains.join(", ")),
        esc(&n.internal_domains_from)
    );
    o.push_str("<table><tr><th>mailbox</th><th class=\"num\">in scope</th><th class=\"num\">with metadata</th><th class=\"num\">without</th><th class=\"num\">assumed (inventory)</th><th class=\"num\">correspondents</th><th class=\"num\">internal</th><th class=\"num\">external</th></tr>\n");
    let row = |o: &mut String, name: &str, c: &crate::scope::notification::NotificationCounts| {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(name),
            c.messages_in_scope,
            c.with_metadata,
            c.without_metadata,
            c.assumed_from_inventory,
            c.correspondents,
            c.internal_correspondents,
            c.external_correspondents
        );
    };
    for m in &n.mailboxes {
        row(o, &m.mailbox, &m.counts);
    }
    row(o, "all mailboxes", &n.overall);
    o.push_str("</table>\n<h3>Correspondents by domain</h3><table><tr><th>domain</th><th></th><th class=\"num\">addresses</th><th class=\"num\">messages</th></tr>\n");
    for d in &n.overall.domains {
        let _ = writeln!(
            o,
            "<tr><td class=\"mono\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&d.domain),
            if d.internal {
                "internal"
            } else {
                "<b>external</b>"
            },
            d.addresses,
            d.messages
        );
    }
    o.push_str("</table>\n");
    let sent = std::iter::once((
        super::view::Prose::from("Recipients of mail the attacker sent, overall"),
        &n.overall,
    ))
    .chain(n.mailboxes.iter().map(|m| {
        (
            super::view::Prose::from("Recipients of mail the attacker sent from ")
                .evidence(&m.mailbox),
            &m.counts,
        )
    }))
    .filter_map(|(label, c)| {
        c.attacker_sent
            .as_ref()
            .map(|s| super::outbound::sent_recipients(label, s))
    });
    prose_list(o, "", sent);
    if !n.without_metadata.is_empty() {
        let _ = writeln!(
            o,
            "<p>In scope without metadata (in no inventory): <span class=\"mono\">{}</span></p>",
            esc(&n.without_metadata.join(", "))
        );
    }
    o.push_str("</section>\n");
}

/// Report text built once for every format (`view::Prose`), escaped for HTML.
fn prose(p: &super::view::Prose) -> String {
    p.to(&super::view::Html)
}

/// A heading and a list of lines, or nothing for no lines.
fn prose_list(o: &mut String, heading: &str, lines: impl Iterator<Item = super::view::Prose>) {
    let items: Vec<String> = lines.map(|p| format!("<li>{}</li>", prose(&p))).collect();
    if items.is_empty() {
        return;
    }
    let _ = writeln!(o, "{heading}<ul>{}</ul>", items.concat());
}

/// What left the mailbox: forwarding windows and the mail the attacker sent.
fn outbound_sections(o: &mut String, m: &MailboxScope) {
    prose_list(
        o,
        "<h3>Forwarding windows</h3><p class=\"muted\">Mail delivered while one was in place left the mailbox.</p>",
        m.forwarding
            .iter()
            .map(|w| super::outbound::window(w, Some(&m.mailbox))),
    );
    prose_list(
        o,
        &format!(
            "<h3>Mail the attacker sent ({})</h3>",
            m.sent_messages.len()
        ),
        m.sent_messages.iter().map(super::outbound::sent),
    );
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

fn records(ids: &[String]) -> String {
    format!("<span class=\"mono\">{}</span>", esc(&ids.join(" ")))
}

fn mailbox(o: &mut String, m: &MailboxScope, r: &Report) {
    let _ = writeln!(
        o,
        "<section class=\"mb\"><h2>{} <span class=\"badge v-{}\">{}</span></h2>",
        esc(&m.mailbox),
        m.verdict.as_str(),
        m.verdict.as_str()
    );
    timeline_svg(o, m, r);
    let _ = writeln!(o, "<h3>Why</h3><ul>");
    for reason in &m.reasons {
        let _ = writeln!(
            o,
            "<li><code>{}</code> {} — records {}</li>",
            reason.rule,
            esc(&reason.detail),
            records(&reason.records)
        );
    }
    if m.reasons.is_empty() {
        let _ = writeln!(
            o,
            "<li>Attacker activity, but no access to mail content in the audit records (see actions).</li>"
        );
    }
    let _ = writeln!(o, "</ul>");
    if !m.throttled_windows.is_empty() {
        let _ = writeln!(
            o,
            "<h3>Throttled windows</h3><table><tr><th>start</th><th>end</th><th>records</th></tr>"
        );
        for w in &m.throttled_windows {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&w.start),
                esc(&w.end),
                records(&w.records)
            );
        }
        o.push_str("</table>\n");
    }
    for (title, list) in [
        ("Synced folders", &m.synced_folders),
        ("Folders in scope", &m.folders),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(
            o,
            "<h3>{title}</h3><table><tr><th>folder</th><th>reason</th><th>first seen</th><th>last seen</th><th>records</th></tr>"
        );
        for f in list {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&f.path),
                f.reason,
                esc(&f.first_seen),
                esc(&f.last_seen),
                records(&f.records)
            );
        }
        o.push_str("</table>\n");
    }
    if !m.messages.is_empty() {
        let _ = writeln!(
            o,
            "<h3>Messages in scope ({})</h3><table><tr><th>InternetMessageId</th><th>folder</th><th>subject</th><th>from</th><th>to</th><th>received</th><th>first seen</th><th>last seen</th><th>access</th><th>records</th></tr>",
            m.messages.len()
        );
        for x in &m.messages {
            let meta = x.metadata.as_ref();
            let _ = writeln!(
                o,
                "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} ({})</td><td>{}</td></tr>",
                esc(&x.label()),
                opt(&x.folder),
                opt(&x.subject),
                opt(&meta.and_then(|m| m.sender.as_ref())),
                esc(&meta.map(|m| m.recipients.join(", ")).unwrap_or_default()),
                opt(&meta.and_then(|m| m.date.as_ref())),
                esc(&x.first_seen),
                esc(&x.last_seen),
                x.access,
                x.attribution,
                records(&x.records)
            );
        }
        o.push_str("</table>\n");
    }
    if !m.assumed_messages.is_empty() {
        let _ = writeln!(
            o,
            "<h3>Assumed compromised from the message inventory ({})</h3><p class=\"muted\">No audit record names these messages; the mailbox's exposure covers them.</p><table><tr><th>received</th><th>InternetMessageId</th><th>subject</th><th>from</th><th>to</th><th>why</th><th>source</th></tr>",
            m.assumed_messages.len()
        );
        for a in &m.assumed_messages {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td></tr>",
                opt(&a.date),
                esc(&a.internet_message_id),
                opt(&a.subject),
                opt(&a.sender),
                esc(&a.recipients.join(", ")),
                esc(&a.why),
                esc(&a.source)
            );
        }
        o.push_str("</table>\n");
    }
    outbound_sections(o, m);
    if !m.actions.is_empty() {
        o.push_str("<h3>Attacker actions</h3>");
        actions_table(o, &m.actions);
    }
    if !m.unresolved.is_empty() {
        let _ = writeln!(
            o,
            "<h3>Unresolved binds</h3><table><tr><th>time</th><th>record</th><th>folders</th><th class=\"num\">OperationCount</th><th class=\"num\">ids listed</th><th>reason</th></tr>"
        );
        for u in &m.unresolved {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                esc(&u.time),
                records(std::slice::from_ref(&u.record_id)),
                esc(&u.folders.join(", ")),
                u.operation_count.map(|c| c.to_string()).unwrap_or_default(),
                u.message_ids_listed,
                esc(&u.reason)
            );
        }
        o.push_str("</table>\n");
    }
    let _ = writeln!(
        o,
        "<h3>Access contexts</h3><table><tr><th>attribution</th><th>IP</th><th>session</th><th>client</th><th>actor</th><th>logon</th><th>first seen</th><th>last seen</th><th class=\"num\">records</th><th class=\"num\">binds</th><th class=\"num\">syncs</th></tr>"
    );
    for c in &m.contexts {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            c.attribution.as_str(),
            match &c.ip_info {
                // With --ip-db: the IP's ASN, organisation and country after it.
                Some(i) => format!("{} ({})", opt(&c.client_ip), esc(&i.summary())),
                None => opt(&c.client_ip),
            },
            opt(&c.session_id),
            opt(&c.client_info),
            opt(&c.actor),
            opt(&c.logon_type),
            esc(&c.first_seen),
            esc(&c.last_seen),
            c.records,
            c.binds,
            c.syncs
        );
    }
    let _ = write!(o, "</table>");
    for caveat in &m.caveats {
        let _ = writeln!(o, "<div class=\"caveat\">{}</div>", esc(caveat));
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

fn provenance(o: &mut String, r: &Report, generated_at: &str) {
    let _ = writeln!(
        o,
        "<h2>Provenance</h2><table><tr><th>file</th><th>format</th><th>encoding</th><th class=\"num\">rows</th><th class=\"num\">records</th><th class=\"num\">dup.</th><th class=\"num\">rejected</th><th>SHA-256</th></tr>"
    );
    for i in &r.inputs {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"mono\">{}</td></tr>",
            esc(&i.path),
            i.format,
            i.encoding,
            i.rows,
            i.records,
            i.duplicates,
            i.rejected,
            i.sha256
        );
    }
    o.push_str("</table>\n");
    for c in &r.cases {
        let _ = writeln!(
            o,
            "<div class=\"caveat\">read from the saved case <span class=\"mono\">{}</span> ({}, {} inputs, SHA-256 <span class=\"mono\">{}</span>)</div>",
            esc(&c.path),
            c.schema,
            c.inputs,
            c.sha256
        );
    }
    for s in &r.skipped {
        let _ = writeln!(
            o,
            "<div class=\"warn\">skipped {}: {}</div>",
            esc(&s.path),
            esc(&s.reason)
        );
    }
    let _ = writeln!(
        o,
        "<table><tr><th>Tool</th><td>{} {}</td></tr><tr><th>Command line</th><td class=\"mono\">{}</td></tr><tr><th>Generated</th><td>{}</td></tr></table>",
        r.tool.name,
        r.tool.version,
        esc(&r.command_line.join(" ")),
        esc(generated_at)
    );
}
