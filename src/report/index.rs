//! The batch index (`mailscope batch`): one entry per evidence set with its status, what its
//! scope found, its inputs and the report files written for it, each with its SHA-256 (a
//! manifest for chain of custody). Built from each set's `Report`; written as JSON (the
//! contract), CSV and one HTML page. Set names and paths are evidence: escaped in every format.

use super::{Report, Tool, Verdict};
use crate::escape;
use serde::Serialize;
use std::fmt::Write as _;

pub const SCHEMA: &str = "mailscope.batch.v1";

#[derive(Debug, Clone, Serialize)]
pub struct BatchIndex {
    pub schema: &'static str,
    pub tool: Tool,
    pub command_line: Vec<String>,
    /// Every set, by name (then path): the order they were found in does not matter.
    pub sets: Vec<SetEntry>,
    /// Files lying directly under a root: no set holds them, so they were not read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum SetStatus {
    /// Scoped; its reports are written.
    Done,
    /// Not scoped: the error says why (nothing readable, a bad indicator file, an output
    /// refused).
    Failed,
    /// Read, not scoped: neither the set nor the command line names an attacker.
    NoIndicators,
}

impl SetStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SetStatus::Done => "done",
            SetStatus::Failed => "failed",
            SetStatus::NoIndicators => "no-indicators",
        }
    }
}

/// A file and its SHA-256.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HashedFile {
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct VerdictCounts {
    pub entire_mailbox: u64,
    pub folders: u64,
    pub messages: u64,
    pub none: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SetEntry {
    /// The set's folder name.
    pub name: String,
    /// The set's folder as given.
    pub path: String,
    /// The set's folder under the output directory.
    pub output: String,
    pub status: SetStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Where the indicators came from: the set's indicator file, or the command line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indicators_from: Option<String>,
    pub verdicts: VerdictCounts,
    /// Mailboxes whose verdict is not none.
    pub mailboxes_in_scope: Vec<String>,
    pub messages_named: u64,
    pub records_read: u64,
    pub rejected: u64,
    pub caveats: Vec<String>,
    pub warnings: u64,
    pub inputs: Vec<HashedFile>,
    /// Paths of the set not read, with why (`path: reason`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
    pub reports: Vec<HashedFile>,
}

impl SetEntry {
    /// A set not (yet) scoped: its status and why.
    pub fn new(name: &str, path: &str, output: &str, status: SetStatus) -> SetEntry {
        SetEntry {
            name: name.into(),
            path: path.into(),
            output: output.into(),
            status,
            error: None,
            indicators_from: None,
            verdicts: VerdictCounts::default(),
            mailboxes_in_scope: Vec::new(),
            messages_named: 0,
            records_read: 0,
            rejected: 0,
            caveats: Vec::new(),
            warnings: 0,
            inputs: Vec::new(),
            skipped: Vec::new(),
            reports: Vec::new(),
        }
    }

    /// What the set's scope report found.
    pub fn found(&mut self, r: &Report) {
        for m in &r.mailboxes {
            let count = match m.verdict {
                Verdict::EntireMailbox => &mut self.verdicts.entire_mailbox,
                Verdict::Folders => &mut self.verdicts.folders,
                Verdict::Messages => &mut self.verdicts.messages,
                Verdict::None => &mut self.verdicts.none,
            };
            *count += 1;
            if m.verdict != Verdict::None {
                self.mailboxes_in_scope.push(m.mailbox.clone());
            }
            self.messages_named += m.messages.len() as u64;
        }
        self.records_read = r.records.read;
        self.rejected = r.records.rejected;
        self.caveats = r.caveats.iter().map(|c| c.plain()).collect();
        self.warnings = r.warnings.len() as u64;
        self.inputs = r
            .inputs
            .iter()
            .map(|i| HashedFile {
                path: i.path.clone(),
                sha256: i.sha256.clone(),
            })
            .collect();
    }
}

impl BatchIndex {
    pub fn new(command_line: Vec<String>, mut sets: Vec<SetEntry>) -> BatchIndex {
        sets.sort_by(|a, b| (&a.name, &a.path).cmp(&(&b.name, &b.path)));
        BatchIndex {
            schema: SCHEMA,
            tool: Tool::default(),
            command_line,
            sets,
            ignored: Vec::new(),
        }
    }

    pub fn failed(&self) -> usize {
        self.sets
            .iter()
            .filter(|s| s.status == SetStatus::Failed)
            .count()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the index serializes") + "\n"
    }

    /// One row per set; lists joined with spaces (paths and hashes as `path sha256` pairs).
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let header = [
            "set",
            "path",
            "output",
            "status",
            "error",
            "indicators_from",
            "entire_mailbox",
            "folders",
            "messages",
            "none",
            "mailboxes_in_scope",
            "messages_named",
            "records_read",
            "rejected",
            "caveats",
            "warnings",
            "inputs",
            "reports",
        ];
        w.write_record(header).expect("in memory");
        let files = |list: &[HashedFile]| {
            list.iter()
                .map(|f| format!("{} {}", f.path, f.sha256))
                .collect::<Vec<_>>()
                .join("\n")
        };
        for s in &self.sets {
            let row = [
                s.name.clone(),
                s.path.clone(),
                s.output.clone(),
                s.status.as_str().to_string(),
                s.error.clone().unwrap_or_default(),
                s.indicators_from.clone().unwrap_or_default(),
                s.verdicts.entire_mailbox.to_string(),
                s.verdicts.folders.to_string(),
                s.verdicts.messages.to_string(),
                s.verdicts.none.to_string(),
                s.mailboxes_in_scope.join(" "),
                s.messages_named.to_string(),
                s.records_read.to_string(),
                s.rejected.to_string(),
                s.caveats.join("\n"),
                s.warnings.to_string(),
                files(&s.inputs),
                files(&s.reports),
            ];
            w.write_record(row.iter().map(|c| escape::csv(c)))
                .expect("in memory");
        }
        String::from_utf8(w.into_inner().expect("in memory")).expect("UTF-8 cells")
    }

    /// One self-contained page: a table of the sets, then each set's inputs and reports.
    pub fn to_html(&self, generated_at: &str) -> String {
        let esc = escape::html;
        let mut o = String::new();
        let _ = write!(
            o,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
             <title>mailscope batch index</title><style>\
             body{{font:14px system-ui,sans-serif;margin:2em}}table{{border-collapse:collapse}}\
             td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}}\
             .failed{{background:#fde2e2}}.no-indicators{{background:#fff4d6}}.mono{{font-family:monospace;font-size:12px}}\
             </style></head><body>\n<h1>mailscope batch index</h1>\n\
             <p>{} evidence set(s), {} failed. Tool {} {}; generated {}.</p>\n",
            self.sets.len(),
            self.failed(),
            self.tool.name,
            self.tool.version,
            esc(generated_at)
        );
        o.push_str(
            "<table><tr><th>Set</th><th>Status</th><th>Entire mailbox</th><th>Folders</th>\
             <th>Messages</th><th>None</th><th>Messages named</th><th>Rejected rows</th>\
             <th>Warnings</th><th>Report</th></tr>\n",
        );
        for s in &self.sets {
            set_row(&mut o, s);
        }
        o.push_str("</table>\n");
        if !self.ignored.is_empty() {
            o.push_str("<h2>Files in no set (not read)</h2>\n");
            for path in &self.ignored {
                let _ = writeln!(o, "<p class=\"mono\">{}</p>", esc(path));
            }
        }
        for s in &self.sets {
            set_details(&mut o, s);
        }
        o.push_str("</body></html>\n");
        o
    }
}

/// A set's row in the index table: its verdict counts and a link to its report.
fn set_row(o: &mut String, s: &SetEntry) {
    let esc = escape::html;
    let report = s
        .reports
        .iter()
        .find(|r| r.path.ends_with(".html"))
        .or(s.reports.first())
        .map(|r| format!("<a href=\"{}\">{}</a>", esc(&r.path), esc(&r.path)))
        .unwrap_or_default();
    let status = match &s.error {
        Some(e) => format!("{}: {}", s.status.as_str(), esc(e)),
        None => s.status.as_str().to_string(),
    };
    let _ = writeln!(
        o,
        "<tr class=\"{}\"><td>{}</td><td>{status}</td><td>{}</td><td>{}</td><td>{}</td>\
         <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{report}</td></tr>",
        s.status.as_str(),
        esc(&s.name),
        s.verdicts.entire_mailbox,
        s.verdicts.folders,
        s.verdicts.messages,
        s.verdicts.none,
        s.messages_named,
        s.rejected,
        s.warnings,
    );
}

/// A set's details: where it was, what is in scope, its inputs and reports with their hashes.
fn set_details(o: &mut String, s: &SetEntry) {
    let esc = escape::html;
    let _ = writeln!(o, "<h2>{}</h2>", esc(&s.name));
    let _ = writeln!(o, "<p class=\"mono\">{}</p>", esc(&s.path));
    if !s.mailboxes_in_scope.is_empty() {
        let _ = writeln!(
            o,
            "<p>Mailboxes in scope: {}</p>",
            esc(&s.mailboxes_in_scope.join(", "))
        );
    }
    for c in &s.caveats {
        let _ = writeln!(o, "<p>Caveat: {}</p>", esc(c));
    }
    for skipped in &s.skipped {
        let _ = writeln!(o, "<p class=\"mono\">Not read: {}</p>", esc(skipped));
    }
    for (title, list) in [("Inputs", &s.inputs), ("Reports", &s.reports)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(
            o,
            "<h3>{title}</h3><table><tr><th>File</th><th>SHA-256</th></tr>"
        );
        for f in list {
            let _ = writeln!(
                o,
                "<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td></tr>",
                esc(&f.path),
                esc(&f.sha256)
            );
        }
        o.push_str("</table>\n");
    }
}
