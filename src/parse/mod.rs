//! Per-format parsers. Each turns decoded text into row outcomes; the policy for what happens
//! to a row (kept, waiting for a date rule, rejected) lives here once.

pub mod auditdata;
pub mod csv;
pub mod flex;
pub mod json;
pub mod mailbox;
pub mod xml;

use crate::model::Record;
use crate::time::{self, DateOrder};

/// A row that could not become a record, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reject {
    pub line: u64,
    pub reason: String,
}

pub enum RowOutcome {
    Ok(Record),
    /// A record whose only time is a culture-rendered date: resolved per file, see `finish`.
    NeedsDate(Record, String),
    Rejected(Reject),
}

/// What a parser made of one file.
#[derive(Default)]
pub struct ParsedFile {
    /// Data rows (CSV rows, JSON objects, XML events) read.
    pub rows: u64,
    pub records: Vec<Record>,
    pub rejects: Vec<Reject>,
    /// Notes for the analyst about this file (date rules used, assumptions).
    pub notes: Vec<FileNote>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileNote {
    pub code: &'static str,
    pub message: String,
}

/// Options that change how values are read.
#[derive(Clone, Copy, Default)]
pub struct ParseOptions<'a> {
    /// Day/month order for culture dates when a file's own values do not settle it.
    pub date_order: Option<DateOrder>,
    /// Told of each parsed chunk (bytes, records), so a large file moves a progress bar.
    pub progress: Option<&'a dyn crate::ingest::Progress>,
}

/// Resolve culture dates for a whole file at once: the day/month order comes from the file's own
/// values where any settles it (`13/1/…`), else from `--date-order`, else month-first (the order
/// of every Microsoft export observed) — and the note says which rule was used.
pub fn finish(
    outcomes: Vec<RowOutcome>,
    rows: u64,
    opts: &ParseOptions,
    mut notes: Vec<FileNote>,
) -> ParsedFile {
    let mut dmy = 0usize;
    let mut mdy = 0usize;
    let mut dependent = 0usize;
    for o in &outcomes {
        if let RowOutcome::NeedsDate(_, d) = o {
            if time::is_order_dependent(d) {
                dependent += 1;
            }
            match time::date_order_hint(d) {
                Some(DateOrder::Dmy) => dmy += 1,
                Some(DateOrder::Mdy) => mdy += 1,
                None => {}
            }
        }
    }
    let (order, rule) = match (opts.date_order, dmy > 0, mdy > 0) {
        (Some(o), _, _) => (o, format!("--date-order {}", o.as_str())),
        (None, true, false) => (DateOrder::Dmy, format!("inferred from {dmy} value(s) with a day above 12")),
        (None, false, true) => (DateOrder::Mdy, format!("inferred from {mdy} value(s) with a day above 12 in second place")),
        (None, true, true) => (
            DateOrder::Mdy,
            "CONFLICTING: values fit both orders; read as month/day/year — pass --date-order to decide".to_string(),
        ),
        (None, false, false) => (DateOrder::Mdy, "no value settles the order; month/day/year assumed (pass --date-order dmy if the export was made with a day-first culture)".to_string()),
    };
    if dependent > 0 {
        notes.push(FileNote {
            code: if dmy > 0 && mdy > 0 {
                "conflicting-date-order"
            } else if dmy + mdy == 0 && opts.date_order.is_none() {
                "ambiguous-date-order"
            } else {
                "date-order"
            },
            message: format!(
                "{dependent} culture-formatted date(s) read as {}: {rule}",
                order.as_str()
            ),
        });
    }
    let mut out = ParsedFile {
        rows,
        notes,
        ..ParsedFile::default()
    };
    out.records.reserve_exact(outcomes.len());
    for o in outcomes {
        match o {
            RowOutcome::Ok(r) => out.records.push(r),
            RowOutcome::Rejected(r) => out.rejects.push(r),
            RowOutcome::NeedsDate(mut r, d) => match time::parse_culture(&d, order) {
                Some(t) => {
                    r.time = t;
                    r.time_source = if time::is_order_dependent(&d) {
                        match order {
                            DateOrder::Mdy => "culture date (month/day/year, UTC)",
                            DateOrder::Dmy => "culture date (day/month/year, UTC)",
                        }
                    } else {
                        "culture date (year first, UTC)"
                    };
                    out.records.push(r);
                }
                None => out.rejects.push(Reject {
                    line: r.line,
                    reason: format!("unreadable date '{d}' (read as {})", order.as_str()),
                }),
            },
        }
    }
    out
}

/// A stable id for records whose export carries none (XML events, id-less rows): a hash of their
/// canonical content, so the same event in two files is still recognized as one.
pub fn derived_id(prefix: &str, canonical: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(canonical.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{prefix}-{hex}")
}
