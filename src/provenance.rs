//! Where the records came from: each input file and what became of it, and each path skipped.
//! Written into reports, and into a saved case (`case`) so that a report from the case lists
//! the original inputs.

use crate::model::{Format, Micros};
use crate::parse::{FileNote, Reject};
use serde::{Deserialize, Serialize};

/// One input file and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    pub format: Format,
    pub encoding: &'static str,
    /// Data rows read (CSV rows, JSON objects, XML events).
    pub rows: u64,
    /// Records kept (unique so far in the run's order).
    pub records: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// Rows that are no Microsoft 365 audit record (other applications' events in a SIEM
    /// export): skipped and counted, not rejected.
    #[serde(skip_serializing_if = "is_zero")]
    pub not_mailbox_audit: u64,
    /// Message inventory rows read (a message trace has one per recipient).
    #[serde(skip_serializing_if = "is_zero")]
    pub inventory_rows: u64,
    pub first_time: Option<String>,
    pub last_time: Option<String>,
    #[serde(skip)]
    pub first_micros: Option<Micros>,
    #[serde(skip)]
    pub last_micros: Option<Micros>,
    pub rejects: Vec<Reject>,
    pub notes: Vec<FileNote>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct SkippedOut {
    pub path: String,
    pub reason: String,
    /// `true` when the path could not be read at all (an error), `false` when it was read and is
    /// simply not an audit export.
    pub error: bool,
}

/// A name read back from a saved case where the run keeps a `&'static str` (encodings, note
/// codes): the same few names recur, so each is kept once for the life of the process.
pub fn intern(name: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{LazyLock, Mutex};
    static NAMES: LazyLock<Mutex<HashSet<&'static str>>> = LazyLock::new(Default::default);
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(known) = names.get(name) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.insert(leaked);
    leaked
}

/// A saved case given as input (`case`): the file itself; its inputs are `Provenance::files`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SavedCaseInput {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    pub schema: &'static str,
    /// How many original inputs it carries.
    pub inputs: u64,
    /// Their paths, as the run that wrote the case was given them (they are listed in
    /// `Provenance::files`): where evidence was, which no report may be written into.
    #[serde(skip)]
    pub input_paths: Vec<String>,
}

/// Everything known of a run's inputs, borrowed from it (`ingest::Ingest::provenance`): the
/// files read, the paths skipped, the saved cases read and the warnings raised while reading.
#[derive(Clone, Copy)]
pub struct Provenance<'a> {
    pub files: &'a [FileSummary],
    pub skipped: &'a [SkippedOut],
    pub cases: &'a [SavedCaseInput],
    pub warnings: &'a [crate::warning::Warning],
}

impl Provenance<'_> {
    /// Rows of the audit exports (message inventories' rows are counted apart, also those of a
    /// Defender streaming file that holds audit records too).
    pub fn rows(&self) -> u64 {
        self.files
            .iter()
            .filter(|f| !f.format.is_inventory())
            .fold(0, |n, f| {
                n.saturating_add(f.rows.saturating_sub(f.inventory_rows))
            })
    }
    // Counts from saved cases are bounded when a case is read; the sums saturate all the same.
    pub fn duplicates(&self) -> u64 {
        self.files
            .iter()
            .fold(0, |n, f| n.saturating_add(f.duplicates))
    }
    pub fn rejected(&self) -> u64 {
        self.files
            .iter()
            .fold(0, |n, f| n.saturating_add(f.rejected))
    }
    pub fn not_mailbox_audit(&self) -> u64 {
        self.files
            .iter()
            .fold(0, |n, f| n.saturating_add(f.not_mailbox_audit))
    }
}
