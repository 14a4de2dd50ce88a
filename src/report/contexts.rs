//! `mailscope contexts`: access contexts per mailbox, for choosing indicators.

use super::AccessContext;
use super::csv::o;
use crate::escape::{self, terminal as clean};
use crate::zone::{DisplayZone, show};
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Serialize)]
struct MailboxContexts<'a> {
    mailbox: &'a str,
    contexts: &'a [AccessContext],
}

pub fn render(
    all: &[(String, Vec<AccessContext>)],
    format: &str,
    with_attribution: bool,
    tz: Option<DisplayZone>,
    ip_db: bool,
) -> Result<String, String> {
    match format {
        "json" => json(all),
        "csv" => csv(all, ip_db),
        _ => Ok(text(all, with_attribution, tz)),
    }
}

fn json(all: &[(String, Vec<AccessContext>)]) -> Result<String, String> {
    let v: Vec<MailboxContexts> = all
        .iter()
        .map(|(m, c)| MailboxContexts {
            mailbox: m,
            contexts: c,
        })
        .collect();
    serde_json::to_string_pretty(
        &serde_json::json!({"schema": "mailscope.contexts.v1", "mailboxes": v}),
    )
    .map(|s| s + "\n")
    .map_err(|e| e.to_string())
}

const CSV_HEADER: &[&str] = &[
    "mailbox",
    "client_ip",
    "session_id",
    "client_info",
    "app_id",
    "actor",
    "logon_type",
    "attribution",
    "why",
    "first_seen",
    "last_seen",
    "records",
    "binds",
    "syncs",
    "messages",
    "folders",
];

fn csv(all: &[(String, Vec<AccessContext>)], ip_db: bool) -> Result<String, String> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let mut header = CSV_HEADER.to_vec();
    // With --ip-db, three more columns.
    if ip_db {
        header.extend(["asn", "as_org", "country"]);
    }
    w.write_record(header).map_err(|e| e.to_string())?;
    for (mb, cs) in all {
        for c in cs {
            w.write_record(csv_row(mb, c, ip_db).iter().map(|c| escape::csv(c)))
                .map_err(|e| e.to_string())?;
        }
    }
    String::from_utf8(w.into_inner().map_err(|e| e.to_string())?).map_err(|e| e.to_string())
}

fn csv_row(mb: &str, c: &AccessContext, ip_db: bool) -> Vec<String> {
    let mut row = vec![
        mb.to_string(),
        o(&c.client_ip),
        o(&c.session_id),
        o(&c.client_info),
        o(&c.app_id),
        o(&c.actor),
        o(&c.logon_type),
        c.attribution.to_string(),
        o(&c.why),
        c.first_seen.clone(),
        c.last_seen.clone(),
        c.records.to_string(),
        c.binds.to_string(),
        c.syncs.to_string(),
        c.messages.to_string(),
        c.folders.to_string(),
    ];
    if ip_db {
        let info = c.ip_info.clone().unwrap_or_default();
        row.push(info.asn.map(|n| format!("AS{n}")).unwrap_or_default());
        row.push(info.as_org.unwrap_or_default());
        row.push(info.country.unwrap_or_default());
    }
    row
}

fn text(
    all: &[(String, Vec<AccessContext>)],
    with_attribution: bool,
    tz: Option<DisplayZone>,
) -> String {
    let mut o = String::new();
    for (mb, cs) in all {
        let _ = writeln!(o, "{}  ({} context(s))", clean(mb), cs.len());
        let _ = writeln!(
            o,
            "  {:<20} {:<9} {:>7} {:>6} {:>6} {:>6} {:>7}  {:<26} {:<36} client / actor / logon",
            "first seen",
            "attrib.",
            "records",
            "binds",
            "syncs",
            "msgs",
            "folders",
            "ip",
            "session"
        );
        for c in cs {
            text_row(&mut o, c, with_attribution, tz);
        }
        o.push('\n');
    }
    if all.is_empty() {
        o.push_str("no mailbox records in the inputs (or the window)\n");
    }
    o
}

fn text_row(o: &mut String, c: &AccessContext, with_attribution: bool, tz: Option<DisplayZone>) {
    let attribution = if with_attribution {
        c.attribution.as_str()
    } else {
        "-"
    };
    let net = c
        .ip_info
        .as_ref()
        .map(|i| format!("  [{}]", clean(&i.summary())))
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "  {:<20} {:<9} {:>7} {:>6} {:>6} {:>6} {:>7}  {:<26} {:<36} {} / {} / {}{}",
        show(&c.first_seen, tz),
        attribution,
        c.records,
        c.binds,
        c.syncs,
        c.messages,
        c.folders,
        clean(c.client_ip.as_deref().unwrap_or("-")),
        clean(c.session_id.as_deref().unwrap_or("-")),
        clean(c.client_info.as_deref().unwrap_or("-")),
        clean(c.actor.as_deref().unwrap_or("-")),
        clean(c.logon_type.as_deref().unwrap_or("-")),
        net,
    );
}
