//! Per-format parsers. Each turns decoded text into row outcomes; the policy for what happens
//! to a row (kept, waiting for a date rule, rejected) lives here once.

pub mod auditdata;
pub mod csv;
pub mod csv_reader;
pub mod exposure;
pub mod flex;
pub mod forwarding;
pub mod inventory;
pub mod json;
pub mod lenient;
pub mod mailbox;
pub mod pwsh;
pub mod siem;
pub mod xml;

pub use crate::error::RejectKind;
use crate::frame::Frame;
use crate::model::{Record, flag, time_source};
use crate::time::{self, DateOrder};
use crate::warning::WarningCode;

/// A row that could not become a record, with where and why.
///
/// A case and a report keep the line and the reason only (their bytes predate the offset and
/// the kind), so equality is over those two: a reject read back from a case equals the one a
/// fresh read of the same evidence makes.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Reject {
    pub line: u64,
    /// Byte offset of the row in the file's decoded text, where the parser knows it.
    #[serde(skip)]
    pub offset: Option<u64>,
    #[serde(skip)]
    pub kind: RejectKind,
    pub reason: String,
}

impl Reject {
    pub fn new(line: u64, kind: RejectKind, reason: impl Into<String>) -> Reject {
        Reject {
            line,
            offset: None,
            kind,
            reason: reason.into(),
        }
    }

    /// The reject placed at a byte offset.
    pub fn at(mut self, offset: usize) -> Reject {
        self.offset = Some(offset as u64);
        self
    }

    /// The reject as an error of the file `path`: what a user is shown of it.
    pub fn to_error(&self, path: &str) -> crate::error::Error {
        crate::error::Error::Parse {
            path: path.to_string(),
            line: self.line,
            offset: self.offset,
            kind: self.kind,
            detail: self.reason.clone(),
        }
    }
}

impl PartialEq for Reject {
    fn eq(&self, other: &Reject) -> bool {
        (self.line, &self.reason) == (other.line, &other.reason)
    }
}

impl Eq for Reject {}

pub enum RowOutcome<'a> {
    Ok(Record<'a>),
    /// A record whose only time is a culture-rendered date: resolved per file, see `finish`.
    NeedsDate(Record<'a>, String),
    Rejected(Reject),
    /// A row that is no Microsoft 365 audit record (another application's event in a SIEM
    /// export): counted, not rejected.
    Skipped(Reject),
}

/// What a parser made of one file.
#[derive(Default)]
pub struct ParsedFile {
    /// Data rows (CSV rows, JSON objects, XML events) read.
    pub rows: u64,
    /// The records, in file order (when `ParseOptions::columnar` is off).
    pub records: Vec<Record<'static>>,
    /// The records as frame blocks, in file order (when `ParseOptions::columnar` is on).
    pub blocks: Vec<Frame>,
    pub rejects: Vec<Reject>,
    /// Rows that are no Microsoft 365 audit record (`RowOutcome::Skipped`).
    pub skipped: Vec<Reject>,
    /// Message inventory rows (an inventory file has these and no records).
    pub inventory: crate::model::InventoryRows,
    /// The file's shape when its records say more than its detection did (a JSON file of
    /// SIEM rows).
    pub format: Option<crate::model::Format>,
    /// Notes for the analyst about this file (date rules used, assumptions).
    pub notes: Vec<FileNote>,
    /// Set when the content, read through, shows the file is no audit export after all (JSON
    /// in which no object has a CreationTime or an Operation): the reason to skip it.
    pub not_audit: Option<String>,
    /// Set when the file is what the run was asked to read but cannot be read as asked (a
    /// mapped inventory without a column the map names): the reason, reported as an error.
    pub unreadable: Option<String>,
}

impl ParsedFile {
    /// Records kept, whether as rows or in blocks.
    pub fn record_count(&self) -> usize {
        self.records.len() + self.blocks.iter().map(Frame::height).sum::<usize>()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileNote {
    pub code: WarningCode,
    pub message: String,
}

/// Options that change how values are read.
#[derive(Clone, Copy, Default)]
pub struct ParseOptions<'a> {
    /// Day/month order for culture dates when a file's own values do not settle it.
    pub date_order: Option<DateOrder>,
    /// Told of each parsed chunk (bytes, records), so a large file moves a progress bar.
    pub progress: Option<&'a dyn crate::progress::Progress>,
    /// Turn records into frame blocks as soon as each chunk is parsed (`ParsedFile::blocks`),
    /// so that a large file is never held as rows and columns at once.
    pub columnar: bool,
    /// The columns of those blocks.
    pub columns: crate::frame::Columns,
    /// How to read a CSV inventory no built-in shape knows (`--inventory-map`).
    pub inventory_map: Option<&'a inventory::InventoryMap>,
    /// The zone of times an export wrote in local time (`--input-tz`); without it they are read
    /// as UTC, and the file's notes say so.
    pub input_tz: Option<crate::zone::DisplayZone>,
    /// Told of text read that will not be looked at again (the text's first bytes), so that
    /// the pages a large message inventory is mapped into can go back as it is read.
    pub read_behind: Option<&'a ReadBehind<'a>>,
}

/// Told of the bytes of a file's text read and not needed again (`ParseOptions::read_behind`).
pub type ReadBehind<'a> = dyn Fn(&[u8]) + Sync + 'a;

/// A record whose time came from a local-time column, converted to UTC in the `--input-tz`
/// zone (once: the converted record no longer has that source).
fn localize(r: &mut Record, opts: &ParseOptions) {
    if r.time_source != time_source::LOCAL_AS_UTC {
        return;
    }
    if let Some(zone) = opts.input_tz {
        r.time = crate::zone::local_to_utc(r.time, zone);
        r.time_source = time_source::LOCAL_INPUT_TZ;
    }
}

impl RowOutcome<'_> {
    fn into_owned(self) -> RowOutcome<'static> {
        match self {
            RowOutcome::Ok(r) => RowOutcome::Ok(r.into_owned()),
            RowOutcome::NeedsDate(r, d) => RowOutcome::NeedsDate(r.into_owned(), d),
            RowOutcome::Rejected(r) => RowOutcome::Rejected(r),
            RowOutcome::Skipped(r) => RowOutcome::Skipped(r),
        }
    }
}

/// Records read with a damaged field, per `model::flag` bit: how many, and the first line.
/// Empty (no allocation) while nothing was flagged, the usual case.
#[derive(Debug, Default, Clone)]
pub struct Flagged(Vec<(u64, u64)>);

impl Flagged {
    fn hit(&mut self, bit: usize, n: u64, line: u64) {
        if self.0.len() <= bit {
            self.0.resize(bit + 1, (0, 0));
        }
        let (count, first) = &mut self.0[bit];
        *first = if *count == 0 {
            line
        } else {
            (*first).min(line)
        };
        *count += n;
    }
    fn count(&mut self, r: &Record) {
        for bit in 0..8 {
            if r.flags & (1 << bit) != 0 {
                self.hit(bit, 1, r.line);
            }
        }
        // Times from local-time columns, counted after the flag bits.
        if r.time_source == time_source::LOCAL_AS_UTC {
            self.hit(LOCAL_AS_UTC, 1, r.line);
        } else if r.time_source == time_source::LOCAL_INPUT_TZ {
            self.hit(LOCAL_INPUT_TZ, 1, r.line);
        }
    }
    fn add(&mut self, other: &Flagged) {
        for (bit, &(n, first)) in other.0.iter().enumerate() {
            if n > 0 {
                self.hit(bit, n, first);
            }
        }
    }
    /// One note per kind of damage seen.
    fn notes(&self) -> impl Iterator<Item = FileNote> + '_ {
        let flags = flag::ALL
            .iter()
            .map(|(bit, code, what)| (bit.trailing_zeros() as usize, *code, *what));
        let local: [(usize, WarningCode, &'static str); 2] = [
            (
                LOCAL_AS_UTC,
                WarningCode::LocalTime,
                "with times from '[Local Time]' columns (the portal's display zone was set to local) read as UTC: they are off by that zone's offset from UTC; pass --input-tz ZONE (the zone of whoever exported the file)",
            ),
            (
                LOCAL_INPUT_TZ,
                WarningCode::InputTz,
                "with times from '[Local Time]' columns read in the zone given by --input-tz",
            ),
        ];
        flags.chain(local).filter_map(move |(slot, code, what)| {
            let (n, first) = self.0.get(slot).copied().unwrap_or_default();
            (n > 0).then(|| FileNote {
                code,
                message: format!("{n} record(s) {what} (first at line {first})"),
            })
        })
    }
}

/// `Flagged` slots after the flag bits: records whose time came from a local-time column.
const LOCAL_AS_UTC: usize = 8;
const LOCAL_INPUT_TZ: usize = 9;

/// What one parallel chunk of a file became.
pub enum ChunkOutcome {
    /// Rows still to finish: some wait for the file's date rule, or rows were asked for.
    Rows(Vec<RowOutcome<'static>>),
    /// Every row settled: the records as a frame block, the rejected rows, the damage seen,
    /// the skipped rows.
    Block(Frame, Vec<Reject>, Flagged, Vec<Reject>),
}

impl ChunkOutcome {
    /// Settle a chunk at once when nothing in it waits for the file's date rule and the caller
    /// wants columns; otherwise keep its rows for `finish_chunks`.
    pub fn new(mut outcomes: Vec<RowOutcome<'_>>, opts: &ParseOptions) -> ChunkOutcome {
        for o in &mut outcomes {
            if let RowOutcome::Ok(r) = o {
                localize(r, opts);
            }
        }
        let waiting = outcomes
            .iter()
            .any(|o| matches!(o, RowOutcome::NeedsDate(..)));
        if !opts.columnar || waiting {
            return ChunkOutcome::Rows(outcomes.into_iter().map(RowOutcome::into_owned).collect());
        }
        // The block is built from the records where they lie (a record is hundreds of bytes).
        let records: Vec<&Record> = outcomes
            .iter()
            .filter_map(|o| match o {
                RowOutcome::Ok(r) => Some(r),
                _ => None,
            })
            .collect();
        let block = block_of(&records, opts.columns);
        let mut flagged = Flagged::default();
        records.iter().for_each(|r| flagged.count(r));
        // Pushed into a vector of their own: `collect` from `outcomes.into_iter()` would reuse
        // the outcomes' allocation (megabytes a chunk) for the few rejects and keep it alive.
        let (mut rejects, mut skipped) = (Vec::new(), Vec::new());
        for o in outcomes {
            match o {
                RowOutcome::Rejected(r) => rejects.push(r),
                RowOutcome::Skipped(r) => skipped.push(r),
                _ => {}
            }
        }
        ChunkOutcome::Block(block, rejects, flagged, skipped)
    }
}

/// A frame block of records sorted by time then record id (stable: equal keys keep file order).
/// Exports are written in time order, newest or oldest first, so sorted blocks seldom overlap
/// and the merge can usually put them in order without moving rows.
fn block_of(records: &[&Record<'_>], columns: crate::frame::Columns) -> Frame {
    // Sorted as indices: a record is hundreds of bytes to move.
    let mut order: Vec<u32> = (0..records.len() as u32).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&records[a as usize], &records[b as usize]);
        (a.time, &a.record_id).cmp(&(b.time, &b.record_id))
    });
    Frame::from_records_in(records, &order, &[], columns).expect("builder columns are consistent")
}

/// `finish_chunks` for a parser that reads a file as one piece.
pub fn finish(
    outcomes: Vec<RowOutcome<'static>>,
    rows: u64,
    opts: &ParseOptions,
    notes: Vec<FileNote>,
) -> ParsedFile {
    finish_chunks(vec![ChunkOutcome::Rows(outcomes)], rows, opts, notes)
}

/// Resolve culture dates for a whole file at once: the day/month order comes from the file's own
/// values where any settles it (`13/1/…`), else from `--date-order`, else month-first (the order
/// of every Microsoft export observed) — and the note says which rule was used. Chunks stay in
/// file order.
pub fn finish_chunks(
    chunks: Vec<ChunkOutcome>,
    rows: u64,
    opts: &ParseOptions,
    mut notes: Vec<FileNote>,
) -> ParsedFile {
    let mut dmy = 0usize;
    let mut mdy = 0usize;
    let mut dependent = 0usize;
    for c in &chunks {
        let ChunkOutcome::Rows(outcomes) = c else {
            continue;
        };
        for o in outcomes {
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
                WarningCode::ConflictingDateOrder
            } else if dmy + mdy == 0 && opts.date_order.is_none() {
                WarningCode::AmbiguousDateOrder
            } else {
                WarningCode::DateOrder
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
    let mut flagged = Flagged::default();
    for chunk in chunks {
        let outcomes = match chunk {
            ChunkOutcome::Block(block, rejects, seen, skipped) => {
                out.blocks.push(block);
                out.rejects.extend(rejects);
                out.skipped.extend(skipped);
                flagged.add(&seen);
                continue;
            }
            ChunkOutcome::Rows(outcomes) => outcomes,
        };
        let mut records = Vec::with_capacity(outcomes.len());
        for o in outcomes {
            match o {
                RowOutcome::Ok(mut r) => {
                    localize(&mut r, opts);
                    records.push(r);
                }
                RowOutcome::Rejected(r) => out.rejects.push(r),
                RowOutcome::Skipped(r) => out.skipped.push(r),
                RowOutcome::NeedsDate(mut r, d) => match time::parse_culture(&d, order) {
                    Some(t) => {
                        r.time = t;
                        r.time_source = if time::is_order_dependent(&d) {
                            match order {
                                DateOrder::Mdy => time_source::CULTURE_MONTH_FIRST,
                                DateOrder::Dmy => time_source::CULTURE_DAY_FIRST,
                            }
                        } else {
                            time_source::CULTURE_YEAR_FIRST
                        };
                        records.push(r);
                    }
                    None => out.rejects.push(Reject::new(
                        r.line,
                        RejectKind::BadTime,
                        format!("unreadable date '{d}' (read as {})", order.as_str()),
                    )),
                },
            }
        }
        records.iter().for_each(|r| flagged.count(r));
        if opts.columnar {
            out.blocks
                .push(block_of(&records.iter().collect::<Vec<_>>(), opts.columns));
        } else {
            out.records.extend(records);
        }
    }
    out.notes.extend(flagged.notes());
    out.notes.extend(not_audit_note(&out.skipped));
    out
}

/// The note that counts a file's rows of other applications, when it has any.
pub fn not_audit_note(skipped: &[Reject]) -> Option<FileNote> {
    let first = skipped.iter().min_by_key(|s| s.line)?;
    Some(FileNote {
        code: WarningCode::NotMailboxAudit,
        message: format!(
            "{} row(s) are no Microsoft 365 audit record, skipped and counted (first at line {}: {})",
            skipped.len(),
            first.line,
            first.reason
        ),
    })
}

/// A stable id for records whose export carries none (XML events, id-less rows): a hash of their
/// canonical content, so the same event in two files is still recognized as one.
pub fn derived_id(prefix: &str, canonical: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(canonical.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{prefix}-{hex}")
}
