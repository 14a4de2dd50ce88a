//! `mailscope inspect`: what was read, per file and overall.

use crate::escape::terminal as clean;
use crate::ingest::{FileSummary, Ingest, SkippedOut};
use crate::model::is_mail_items_accessed;
use crate::warning::Warning;
use crate::zone::{DisplayZone, show};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

#[derive(Debug, Serialize)]
pub struct InspectReport {
    pub schema: &'static str,
    pub files: Vec<FileSummary>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cases: Vec<crate::ingest::SavedCaseInput>,
    pub skipped: Vec<SkippedOut>,
    pub totals: Totals,
    pub operations: BTreeMap<String, u64>,
    pub mailboxes: Vec<String>,
    pub mail_items_accessed: MiaCounts,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Serialize, Default)]
pub struct Totals {
    pub files_read: u64,
    pub rows: u64,
    pub records: u64,
    pub duplicates: u64,
    pub rejected: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub not_mailbox_audit: u64,
    /// Rows of the message inventories, and the messages they name.
    #[serde(skip_serializing_if = "is_zero")]
    pub inventory_rows: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub inventory_messages: u64,
    pub first_time: Option<String>,
    pub last_time: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Serialize, Default)]
pub struct MiaCounts {
    pub bind: u64,
    pub sync: u64,
    pub other: u64,
    pub throttled: u64,
}

pub fn build(ing: &Ingest) -> InspectReport {
    // Read through the engine's views: a frame of text columns or of categoricals alike.
    let v = ing
        .frame
        .records_view()
        .expect("the ingest frame has the viewed columns");
    // Counted by borrowed value first: a string is copied once per distinct value, not per row.
    let mut operations: BTreeMap<&str, u64> = BTreeMap::new();
    let mut mailboxes = BTreeSet::new();
    let mut mia = MiaCounts::default();
    // Mailboxes as `scope` names them: an alias or AD path of one mailbox of the inputs is it.
    let names = crate::scope::MailboxNames::new(&v);
    for i in 0..v.time.len() {
        let op = v.operation.text(i);
        *operations.entry(op).or_default() += 1;
        if let Some(m) = names.of(&v, i) {
            mailboxes.insert(m);
        }
        if is_mail_items_accessed(op) {
            match v.mail_access_type.at(i) {
                Some(t) if t.eq_ignore_ascii_case("bind") => mia.bind += 1,
                Some(t) if t.eq_ignore_ascii_case("sync") => mia.sync += 1,
                _ => mia.other += 1,
            }
            if v.is_throttled[i] {
                mia.throttled += 1;
            }
        }
    }
    let operations: BTreeMap<String, u64> = operations
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let mailboxes: BTreeSet<String> = mailboxes.into_iter().map(str::to_string).collect();
    let totals = Totals {
        files_read: ing.files.len() as u64,
        rows: ing.rows(),
        records: ing.record_count() as u64,
        duplicates: ing.duplicates(),
        rejected: ing.rejected(),
        not_mailbox_audit: ing.not_mailbox_audit(),
        inventory_rows: ing.files.iter().map(|f| f.inventory_rows).sum(),
        inventory_messages: ing.frame.messages.height() as u64,
        // The frame is sorted by time.
        first_time: (ing.frame.height() > 0).then(|| crate::time::rfc3339(ing.frame.key_at(0).0)),
        last_time: (ing.frame.height() > 0)
            .then(|| crate::time::rfc3339(ing.frame.key_at(ing.frame.height() - 1).0)),
    };
    InspectReport {
        schema: "mailscope.inspect.v1",
        files: ing.files.clone(),
        cases: ing.cases.clone(),
        skipped: ing.skipped.clone(),
        totals,
        operations,
        mailboxes: mailboxes.into_iter().collect(),
        mail_items_accessed: mia,
        warnings: ing.warnings.clone(),
    }
}

/// The count of rows that are no Microsoft 365 audit record, where there are any.
fn not_audit_count(n: u64, label: &str) -> String {
    if n == 0 {
        String::new()
    } else {
        format!("{label}{n}")
    }
}

/// How many rejected rows per file the text shows.
const SHOW_REJECTS: usize = 5;

/// The report for a terminal, times in `tz` (UTC without one).
pub fn render_text(r: &InspectReport, tz: Option<DisplayZone>) -> String {
    let mut o = String::new();
    for f in &r.files {
        let _ = writeln!(o, "{}", clean(&f.path));
        let _ = writeln!(
            o,
            "  format {}  encoding {}  {} bytes  sha256 {}",
            f.format.as_str(),
            f.encoding,
            f.bytes,
            f.sha256
        );
        if f.format.is_inventory() {
            let _ = writeln!(
                o,
                "  message inventory: rows {}  kept {}  rejected {}{}",
                f.rows,
                f.inventory_rows,
                f.rejected,
                not_audit_count(f.not_mailbox_audit, "  not mailbox audit (skipped) ")
            );
        } else {
            if f.inventory_rows > 0 {
                let _ = writeln!(o, "  message inventory rows {}", f.inventory_rows);
            }
            let _ = writeln!(
                o,
                "  rows {}  records {}  duplicates {}  rejected {}{}",
                f.rows,
                f.records,
                f.duplicates,
                f.rejected,
                not_audit_count(f.not_mailbox_audit, "  not mailbox audit (skipped) ")
            );
        }
        if let (Some(a), Some(b)) = (&f.first_time, &f.last_time) {
            let _ = writeln!(o, "  time span {} … {}", show(a, tz), show(b, tz));
        }
        for j in f.rejects.iter().take(SHOW_REJECTS) {
            let _ = writeln!(o, "  rejected line {}: {}", j.line, clean(&j.reason));
        }
        if f.rejects.len() > SHOW_REJECTS {
            let _ = writeln!(
                o,
                "  … {} more rejected rows (see --format json)",
                f.rejects.len() - SHOW_REJECTS
            );
        }
        for n in &f.notes {
            let _ = writeln!(o, "  note [{}]: {}", n.code, clean(&n.message));
        }
    }
    for c in &r.cases {
        let _ = writeln!(
            o,
            "{}\n  saved case {}: {} input(s) above, sha256 {}",
            clean(&c.path),
            c.schema,
            c.inputs,
            c.sha256
        );
    }
    for s in &r.skipped {
        let _ = writeln!(
            o,
            "{}\n  skipped{}: {}",
            clean(&s.path),
            if s.error { " (error)" } else { "" },
            clean(&s.reason)
        );
    }
    let t = &r.totals;
    let _ = writeln!(
        o,
        "\nTotal: {} file(s) read, {} skipped; {} rows → {} records, {} duplicates, {} rejected{}",
        t.files_read,
        r.skipped.len(),
        t.rows,
        t.records,
        t.duplicates,
        t.rejected,
        not_audit_count(t.not_mailbox_audit, ", not mailbox audit (skipped) ")
    );
    if let (Some(a), Some(b)) = (&t.first_time, &t.last_time) {
        let _ = writeln!(o, "Time span: {} … {}", show(a, tz), show(b, tz));
    }
    if t.inventory_rows > 0 {
        let _ = writeln!(
            o,
            "Message inventories: {} row(s) → {} message(s)",
            t.inventory_rows, t.inventory_messages
        );
    }
    let m = &r.mail_items_accessed;
    let _ = writeln!(
        o,
        "MailItemsAccessed: {} bind, {} sync, {} other, {} throttled",
        m.bind, m.sync, m.other, m.throttled
    );
    let _ = writeln!(o, "Mailboxes: {}", r.mailboxes.len());
    for mb in &r.mailboxes {
        let _ = writeln!(o, "  {}", clean(mb));
    }
    let _ = writeln!(o, "Operations:");
    let mut ops: Vec<(&String, &u64)> = r.operations.iter().collect();
    ops.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (op, n) in ops {
        let _ = writeln!(o, "  {n:>8}  {}", clean(op));
    }
    let _ = writeln!(
        o,
        "Warnings: {}",
        if r.warnings.is_empty() { "none" } else { "" }
    );
    for w in &r.warnings {
        let _ = writeln!(o, "  [{}] {}", w.code, clean(&w.message));
    }
    o
}
