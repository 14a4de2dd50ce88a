//! Files → records: discover, read, decode, detect, parse (files and chunks in parallel), then
//! merge in a fixed order and de-duplicate by record id. Every row read ends up counted as a
//! record, a duplicate or a rejection; every path as read or skipped with a reason.

use crate::detect::{self, Detected};
use crate::input::{self, Skipped};
use crate::model::{Format, Micros, Record};
use crate::parse::{self, FileNote, ParseOptions, ParsedFile, Reject};
use crate::time::DateOrder;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// Row counts at which an export was probably cut off by a portal or cmdlet limit.
pub const CAPPED_ROW_COUNTS: &[u64] = &[5_000, 10_000, 50_000, 100_000, 500_000, 1_000_000];

#[derive(Debug, Clone, Copy)]
pub struct IngestOptions {
    pub use_mmap: bool,
    pub date_order: Option<DateOrder>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            use_mmap: true,
            date_order: None,
        }
    }
}

/// Progress reporting without the library knowing how it is shown.
pub trait Progress: Sync {
    fn start(&self, _total_bytes: u64) {}
    fn advance(&self, _bytes: u64, _records: u64) {}
    fn finish(&self) {}
}

pub struct NoProgress;
impl Progress for NoProgress {}

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
    pub first_time: Option<String>,
    pub last_time: Option<String>,
    #[serde(skip)]
    pub first_micros: Option<Micros>,
    #[serde(skip)]
    pub last_micros: Option<Micros>,
    pub rejects: Vec<Reject>,
    pub notes: Vec<FileNote>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Warning {
    pub code: String,
    pub message: String,
    pub path: Option<String>,
    pub line: Option<u64>,
}

impl Warning {
    /// ` (path:line)`, ` (path)` or nothing: where the warning points.
    pub fn location(&self) -> String {
        match (&self.path, self.line) {
            (Some(p), Some(l)) => format!(" ({p}:{l})"),
            (Some(p), None) => format!(" ({p})"),
            _ => String::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct SkippedOut {
    pub path: String,
    pub reason: String,
    /// `true` when the path could not be read at all (an error), `false` when it was read and is
    /// simply not an audit export.
    pub error: bool,
}

/// Everything read in one run.
pub struct Ingest {
    pub files: Vec<FileSummary>,
    pub skipped: Vec<SkippedOut>,
    /// Unique records, sorted by time then record id.
    pub records: Vec<Record>,
    pub warnings: Vec<Warning>,
}

impl Ingest {
    pub fn rows(&self) -> u64 {
        self.files.iter().map(|f| f.rows).sum()
    }
    pub fn duplicates(&self) -> u64 {
        self.files.iter().map(|f| f.duplicates).sum()
    }
    pub fn rejected(&self) -> u64 {
        self.files.iter().map(|f| f.rejected).sum()
    }
    pub fn file_paths(&self) -> Vec<String> {
        self.files.iter().map(|f| f.path.clone()).collect()
    }
}

enum FileResult {
    Read {
        summary: FileSummary,
        parsed: ParsedFile,
    },
    Skipped(SkippedOut),
}

pub fn ingest(paths: &[PathBuf], opts: &IngestOptions, progress: &dyn Progress) -> Ingest {
    let (files, problems) = input::discover(paths);
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    progress.start(total);
    let popts = ParseOptions {
        progress: None,
        date_order: opts.date_order,
    };
    let results: Vec<FileResult> = files
        .par_iter()
        .map(|p| read_one(p, opts, &popts, progress))
        .collect();
    progress.finish();

    let mut skipped: Vec<SkippedOut> = problems
        .into_iter()
        .map(|Skipped { path, reason }| SkippedOut {
            path,
            reason,
            error: true,
        })
        .collect();
    let mut summaries = Vec::new();
    let mut parsed_files = Vec::new();
    for r in results {
        match r {
            FileResult::Read { summary, parsed } => {
                summaries.push(summary);
                parsed_files.push(parsed);
            }
            FileResult::Skipped(s) => skipped.push(s),
        }
    }
    skipped.sort();

    // Merge in file order; the first occurrence of a record id wins, later ones are duplicates.
    let mut seen: HashSet<String> = HashSet::new();
    let mut records = Vec::with_capacity(parsed_files.iter().map(|p| p.records.len()).sum());
    let mut warnings = Vec::new();
    for (idx, (summary, parsed)) in summaries.iter_mut().zip(parsed_files).enumerate() {
        let mut kept = 0u64;
        for mut r in parsed.records {
            if seen.contains(&r.record_id) {
                summary.duplicates += 1;
                continue;
            }
            seen.insert(r.record_id.clone());
            r.file = idx as u32;
            summary.first_micros = Some(summary.first_micros.map_or(r.time, |t| t.min(r.time)));
            summary.last_micros = Some(summary.last_micros.map_or(r.time, |t| t.max(r.time)));
            kept += 1;
            records.push(r);
        }
        summary.records = kept;
        summary.first_time = summary.first_micros.map(crate::time::rfc3339);
        summary.last_time = summary.last_micros.map(crate::time::rfc3339);
        if CAPPED_ROW_COUNTS.contains(&summary.rows) {
            warnings.push(Warning {
                code: "probably-truncated".into(),
                message: format!(
                    "{} holds exactly {} data rows, a portal/cmdlet export limit: the export was probably cut off; export a shorter time span",
                    summary.path, summary.rows
                ),
                path: Some(summary.path.clone()),
                line: None,
            });
        }
        for n in &summary.notes {
            if n.code != "date-order" {
                warnings.push(Warning {
                    code: n.code.to_string(),
                    message: n.message.clone(),
                    path: Some(summary.path.clone()),
                    line: None,
                });
            }
        }
        if summary.rejected > 0 {
            let first = &summary.rejects[0];
            warnings.push(Warning {
                code: "rejected-rows".into(),
                message: format!(
                    "{} row(s) rejected; first at line {}: {}",
                    summary.rejected, first.line, first.reason
                ),
                path: Some(summary.path.clone()),
                line: Some(first.line),
            });
        }
    }
    records.sort_by(|a, b| {
        a.time
            .cmp(&b.time)
            .then_with(|| a.record_id.cmp(&b.record_id))
    });
    for s in &skipped {
        if s.error {
            warnings.push(Warning {
                code: "unreadable".into(),
                message: s.reason.clone(),
                path: Some(s.path.clone()),
                line: None,
            });
        }
    }
    Ingest {
        files: summaries,
        skipped,
        records,
        warnings,
    }
}

/// Passes progress on and remembers how much was reported.
struct Counting<'a> {
    inner: &'a dyn Progress,
    bytes: AtomicU64,
    records: AtomicU64,
}

impl Progress for Counting<'_> {
    fn advance(&self, bytes: u64, records: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.records.fetch_add(records, Ordering::Relaxed);
        self.inner.advance(bytes, records);
    }
}

/// Decode, detect and parse one file's bytes: (encoding, first lossy offset, format, parse).
/// `Err` is the reason the bytes are not an audit export.
pub fn parse_bytes(
    bytes: &[u8],
    popts: &ParseOptions,
) -> Result<(&'static str, Option<usize>, Format, ParsedFile), String> {
    let decoded = input::decode(bytes);
    let text = decoded.text.as_ref();
    let detected = detect::detect(text);
    let parsed = match &detected {
        Detected::Csv(layout) => parse::csv::parse(text, layout, popts),
        Detected::Json { array } => parse::json::parse(text, *array, popts),
        Detected::Xml { admin } => parse::xml::parse(text, *admin, popts),
        Detected::NotAudit(reason) => return Err(reason.clone()),
    };
    let format = detected.format().expect("audit formats have a format");
    Ok((decoded.encoding, decoded.lossy_at, format, parsed))
}

fn read_one(
    path: &PathBuf,
    opts: &IngestOptions,
    popts: &ParseOptions,
    progress: &dyn Progress,
) -> FileResult {
    let display = path.display().to_string();
    let stamp = |p: &PathBuf| {
        std::fs::metadata(p)
            .ok()
            .map(|m| (m.len(), m.modified().ok()))
    };
    let before = stamp(path);
    let bytes = match input::read_file(path, opts.use_mmap) {
        Ok(b) => b,
        Err(e) => {
            return FileResult::Skipped(SkippedOut {
                path: display,
                reason: format!("cannot read: {e}"),
                error: true,
            });
        }
    };
    let counting = Counting {
        inner: progress,
        bytes: AtomicU64::new(0),
        records: AtomicU64::new(0),
    };
    // Hashing runs beside parsing so that one large file does not pay for both in sequence.
    let (sha256, result) = rayon::join(
        || {
            use sha2::{Digest, Sha256};
            Sha256::digest(&bytes[..])
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        },
        || {
            parse_bytes(
                &bytes,
                &ParseOptions {
                    progress: Some(&counting),
                    ..*popts
                },
            )
        },
    );
    // What the parser did not report chunk by chunk (other formats, decoding differences).
    let parsed_records = result
        .as_ref()
        .map(|r| r.3.records.len() as u64)
        .unwrap_or(0);
    progress.advance(
        (bytes.len() as u64).saturating_sub(counting.bytes.load(Ordering::Relaxed)),
        parsed_records.saturating_sub(counting.records.load(Ordering::Relaxed)),
    );
    let (encoding, lossy_at, format, mut parsed) = match result {
        Ok(x) => x,
        Err(reason) => {
            return FileResult::Skipped(SkippedOut {
                path: display,
                reason,
                error: false,
            });
        }
    };
    let after = stamp(path);
    if before != after {
        parsed.notes.push(FileNote {
            code: "file-changed-while-read",
            message: format!(
                "the file changed while it was read ({} bytes read, {} bytes now): read a stable copy of the evidence",
                bytes.len(),
                after.map(|a| a.0).unwrap_or(0)
            ),
        });
    }
    if let Some(at) = lossy_at {
        parsed.notes.push(FileNote {
            code: "encoding",
            message: format!(
                "bytes that are not valid {} from byte offset {at} (0x{at:08x}) were replaced or read as {encoding}",
                if encoding.starts_with("utf-16") { "UTF-16" } else { "UTF-8" },
            ),
        });
    }
    // The summary owns the rejects and notes; the records go on to the merge.
    let mut rejects = std::mem::take(&mut parsed.rejects);
    rejects.sort_by_key(|r| r.line);
    let summary = FileSummary {
        path: display,
        sha256,
        bytes: bytes.len() as u64,
        format,
        encoding,
        rows: parsed.rows,
        records: 0,
        duplicates: 0,
        rejected: rejects.len() as u64,
        first_time: None,
        last_time: None,
        first_micros: None,
        last_micros: None,
        rejects,
        notes: std::mem::take(&mut parsed.notes),
    };
    FileResult::Read { summary, parsed }
}
