//! `mailscope timeline`: one CSV row per record in Timesketch's import shape (`message`,
//! `datetime`, `timestamp_desc`, then context columns), with each record's attribution.

use crate::escape;
use crate::frame::Frame;
use crate::ipdb::{IpDbs, IpInfo};
use crate::scope::{Attributed, ScopeConfig, attributed};
use std::io::Write;

pub const HEADER: &[&str] = &[
    "message",
    "datetime",
    "timestamp_desc",
    "mailbox",
    "operation",
    "attribution",
    "attribution_reason",
    "actor",
    "client_ip",
    "session_id",
    "client_info",
    "logon_type",
    "app_id",
    "mail_access_type",
    "is_throttled",
    "operation_count",
    "folders",
    "internet_message_ids",
    "record_id",
    "source_file",
    "source_line",
];

/// Columns added after `HEADER` with `--ip-db`.
pub const IP_DB_HEADER: &[&str] = &["asn", "as_org", "country"];

/// Write the timeline; returns the number of rows written. Out-of-window records are left out.
/// With `--ip-db` databases each row also has the ASN, organisation and country of its IP.
pub fn write(
    frame: &Frame,
    cfg: &ScopeConfig,
    ipdb: Option<&IpDbs>,
    out: impl Write,
) -> Result<u64, String> {
    let at = attributed(frame, cfg)?;
    let mut w = ::csv::Writer::from_writer(out);
    let mut header = HEADER.to_vec();
    if ipdb.is_some() {
        header.extend(IP_DB_HEADER);
    }
    w.write_record(header).map_err(|e| e.to_string())?;
    // Each address looked up once.
    let mut seen: std::collections::HashMap<&str, Option<IpInfo>> = Default::default();
    let mut n = 0u64;
    for (i, a) in at.attr.iter().enumerate() {
        if a.label() == "out-of-window" {
            continue;
        }
        if !cfg.mailboxes.is_empty()
            && !at
                .v
                .mailbox
                .at(i)
                .is_some_and(|m| cfg.mailboxes.iter().any(|x| x == m))
        {
            continue;
        }
        let mut row = row(&at, i);
        if let Some(db) = ipdb {
            let info =
                at.v.client_ip
                    .at(i)
                    .and_then(|ip| seen.entry(ip).or_insert_with(|| db.lookup(ip)).clone())
                    .unwrap_or_default();
            row.push(info.asn.map(|n| format!("AS{n}")).unwrap_or_default());
            row.push(info.as_org.unwrap_or_default());
            row.push(info.country.unwrap_or_default());
        }
        w.write_record(row.iter().map(|c| escape::csv(c)))
            .map_err(|e| e.to_string())?;
        n += 1;
    }
    w.flush().map_err(|e| e.to_string())?;
    Ok(n)
}

/// Record `i`'s row, `HEADER`'s columns.
fn row(at: &Attributed, i: usize) -> Vec<String> {
    let Attributed {
        v,
        items,
        attr,
        items_of,
    } = at;
    let a = &attr[i];
    let o = |s: Option<&str>| s.unwrap_or("").to_string();
    let mut folders: Vec<&str> = items_of
        .of(i)
        .filter_map(|k| items.folder_path.at(k))
        .chain(v.folder_path.at(i))
        .collect();
    folders.sort_unstable();
    folders.dedup();
    let ids: Vec<&str> = items_of
        .of(i)
        .filter_map(|k| items.internet_message_id.at(k))
        .collect();
    let message = format!(
        "{} on {} by {} from {} [{}]{}",
        v.operation.text(i),
        v.mailbox.at(i).unwrap_or("(no mailbox)"),
        v.actor.at(i).unwrap_or("?"),
        v.client_ip.at(i).unwrap_or("?"),
        a.label(),
        if ids.is_empty() {
            String::new()
        } else {
            format!(" — {} message(s)", ids.len())
        }
    );
    vec![
        message,
        crate::time::rfc3339(v.time[i]),
        format!("{} (audit record)", v.operation.text(i)),
        o(v.mailbox.at(i)),
        v.operation.text(i).to_string(),
        a.label().to_string(),
        o(a.why()),
        o(v.actor.at(i)),
        o(v.client_ip.at(i)),
        o(v.session_id.at(i).or(v.aad_session_id.at(i))),
        o(v.client_info.at(i)),
        o(v.logon_type.at(i)),
        o(v.app_id.at(i).or(v.client_app_id.at(i))),
        o(v.mail_access_type.at(i)),
        v.is_throttled[i].to_string(),
        v.operation_count[i]
            .map(|c| c.to_string())
            .unwrap_or_default(),
        folders.join(" | "),
        ids.join(" "),
        v.record_id.text(i).to_string(),
        o(v.source_file.at(i)),
        v.source_line[i].to_string(),
    ]
}
