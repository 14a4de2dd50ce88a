//! The hunt's renderers: text for people (every evidence value escaped), CSV (cells
//! neutralized), JSON (serde), and the `--suggest` indicator file.

use super::{Hunt, Kind, SUGGEST_THRESHOLD, Suspect, signals};
use crate::escape;
use std::fmt::Write as _;

/// Mailboxes shown per suspect in text.
const TEXT_MAILBOXES: usize = 8;
/// Record ids shown per reason in text (JSON has all that were kept).
const TEXT_RECORDS: usize = 3;

fn record_list(ids: &[String]) -> String {
    let mut shown: Vec<String> = ids
        .iter()
        .take(TEXT_RECORDS)
        .map(|x| escape::terminal(x).into_owned())
        .collect();
    if ids.len() > TEXT_RECORDS {
        shown.push("…".into());
    }
    shown.join(", ")
}

/// The top `top` suspects as text.
pub fn text(h: &Hunt, top: usize) -> String {
    let mut out = String::new();
    let e = |s: &str| escape::terminal(s).into_owned();
    if h.suspects.is_empty() {
        out.push_str("No suspects: no record shows a signal (docs/hunting.md).\n");
    } else {
        let _ = writeln!(
            out,
            "Suspects, strongest first ({} of {}; a starting point for review, never a verdict):",
            top.min(h.suspects.len()),
            h.suspects.len()
        );
    }
    for (n, s) in h.suspects.iter().take(top).enumerate() {
        let _ = writeln!(
            out,
            "\n{:>2}. {} {}  score {}  ({} records, {} … {})",
            n + 1,
            s.kind.as_str(),
            e(&s.value),
            s.score,
            s.records,
            s.first_seen,
            s.last_seen
        );
        let shown: Vec<String> = s
            .mailboxes
            .iter()
            .take(TEXT_MAILBOXES)
            .map(|m| e(m))
            .collect();
        let more = s.mailboxes.len().saturating_sub(TEXT_MAILBOXES);
        let _ = writeln!(
            out,
            "    mailboxes: {}{}",
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
        if let Some(info) = &s.ip_info {
            let _ = writeln!(out, "    ip-db: {}", e(&info.summary()));
        }
        for r in &s.reasons {
            let _ = writeln!(
                out,
                "    +{:<3} {:<19} {}  [{}]",
                r.weight,
                r.code,
                e(&r.text),
                record_list(&r.records)
            );
        }
    }
    if !h.ordinary.is_empty() {
        let _ = writeln!(
            out,
            "\nNot scored: seen for (nearly) every mailbox since the start of the evidence (an office\n\
             network, a backup, archiving or eDiscovery service — ordinary here):"
        );
        for o in &h.ordinary {
            let _ = writeln!(
                out,
                "  {} {} ({} mailboxes, from {})",
                o.kind.as_str(),
                e(&o.value),
                o.mailboxes,
                o.first_seen
            );
        }
    }
    out
}

pub const CSV_HEADER: [&str; 10] = [
    "rank",
    "kind",
    "value",
    "score",
    "reasons",
    "records",
    "first_seen",
    "last_seen",
    "mailboxes",
    "record_ids",
];

/// One row per suspect (the first `top`), every cell neutralized for spreadsheets.
pub fn csv(h: &Hunt, top: usize) -> std::io::Result<String> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    // With --ip-db, three more columns: asn, as_org, country.
    let mut header: Vec<&str> = CSV_HEADER.to_vec();
    if h.ip_db {
        header.extend(["asn", "as_org", "country"]);
    }
    w.write_record(header)?;
    for (n, s) in h.suspects.iter().take(top).enumerate() {
        let mut ids: Vec<&str> = s
            .reasons
            .iter()
            .flat_map(|r| r.records.iter().map(String::as_str))
            .collect();
        ids.sort();
        ids.dedup();
        let mut cells = vec![
            (n + 1).to_string(),
            s.kind.as_str().to_string(),
            s.value.clone(),
            s.score.to_string(),
            s.reasons
                .iter()
                .map(|r| format!("{}(+{})", r.code, r.weight))
                .collect::<Vec<_>>()
                .join(";"),
            s.records.to_string(),
            s.first_seen.clone(),
            s.last_seen.clone(),
            s.mailboxes.join(";"),
            ids.join(";"),
        ];
        if h.ip_db {
            let info = s.ip_info.clone().unwrap_or_default();
            cells.push(info.asn.map(|n| format!("AS{n}")).unwrap_or_default());
            cells.push(info.as_org.unwrap_or_default());
            cells.push(info.country.unwrap_or_default());
        }
        w.write_record(cells.iter().map(|c| escape::csv(c)))?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes).expect("csv of strings"))
}

/// JSON: `{"suspects": [...], "ordinary": [...]}`, pretty, with a final newline.
pub fn json(h: &Hunt, top: usize) -> String {
    let mut h2 = h.clone();
    h2.suspects.truncate(top);
    serde_json::to_string_pretty(&h2).expect("hunt serializes") + "\n"
}

/// Which indicator key a suspect would be, if it may be suggested at all: actor accounts
/// never (the owner's own activity would be taken for the attacker's), first-party apps never
/// (every mailbox is read through them).
fn indicator_key(s: &Suspect) -> Option<&'static str> {
    match s.kind {
        Kind::Ip | Kind::Network => Some("attacker_ip"),
        Kind::Session => Some("attacker_session"),
        Kind::Client => Some("attacker_client"),
        Kind::App if !signals::is_first_party(&s.value) => Some("attacker_app"),
        Kind::App | Kind::User => None,
    }
}

/// A TOML basic string holding exactly `s`: quotes and backslashes escaped, and every control
/// or bidi character as a `\u` escape, so that the file shows the value as it is.
fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if escape::terminal(c.encode_utf8(&mut [0; 4])) != c.to_string() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A comment line: evidence text on one line, controls shown as escapes.
fn comment(s: &str) -> String {
    escape::terminal(s).into_owned()
}

/// An indicator file (`scope --indicators`) of the suspects scoring `SUGGEST_THRESHOLD` or
/// more, each preceded by its reasons as comments. The number suggested is returned too.
pub fn suggest(h: &Hunt) -> (String, usize) {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Suggested by `mailscope hunt`: suspects scoring {SUGGEST_THRESHOLD} or more (docs/hunting.md).\n\
         # A starting point for review, never a verdict: check each indicator, delete the\n\
         # ones that are not the attacker, then run `mailscope scope EVIDENCE --indicators FILE`.\n\
         # Actor accounts and first-party apps are never suggested."
    );
    let mut n = 0;
    for key in [
        "attacker_ip",
        "attacker_session",
        "attacker_client",
        "attacker_app",
    ] {
        let chosen: Vec<&Suspect> = h
            .suspects
            .iter()
            .filter(|s| s.score >= SUGGEST_THRESHOLD && indicator_key(s) == Some(key))
            .collect();
        let _ = writeln!(out, "\n{key} = [");
        for s in &chosen {
            let _ = writeln!(
                out,
                "  # {} {} — score {}, {} records, {} … {}, mailboxes: {}",
                s.kind.as_str(),
                comment(&s.value),
                s.score,
                s.records,
                s.first_seen,
                s.last_seen,
                comment(&s.mailboxes.join(", "))
            );
            for r in &s.reasons {
                let _ = writeln!(
                    out,
                    "  #   +{} {}: {} [{}]",
                    r.weight,
                    r.code,
                    comment(&r.text),
                    comment(&r.records.join(", "))
                );
            }
            let _ = writeln!(out, "  {},", toml_str(&s.value));
            n += 1;
        }
        let _ = writeln!(out, "]");
    }
    (out, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_strings_round_trip_and_show_controls() {
        for v in ["plain", "a\"b\\c", "x\u{1b}[2J\u{202e}y\nz\u{7f}", "ü — ok"] {
            let line = format!("attacker_client = [{}]", toml_str(v));
            assert!(
                !line.contains(['\u{1b}', '\u{202e}', '\n', '\u{7f}']),
                "{line}"
            );
            let f = crate::scope::indicators::IndicatorFile::parse(&line, false).unwrap();
            assert_eq!(f.indicators.attacker_client, vec![v.to_string()]);
        }
    }
}
