//! Files → records: discover, read, decode, detect, parse (files and chunks in parallel), then
//! merge in a fixed order and de-duplicate by record id. Every row read ends up counted as a
//! record, a duplicate or a rejection; every path as read or skipped with a reason.

use crate::detect::{self, Detected};
use crate::frame::{Columns, Frame, ItemsOf, col, str_col, time_col};
use crate::input::{self, Skipped};
use crate::model::{Format, Micros, Record};
use crate::parse::{self, FileNote, ParseOptions, ParsedFile};
use crate::progress::Progress;
use crate::time::DateOrder;
use crate::warning::Warning;
use crate::warning::WarningCode;
use polars::prelude::{IntoColumn, StringChunked};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// How much of a file is read to decide whether it could be an export at all.
const SNIFF_BYTES: usize = 1 << 20;

/// Row counts at which an export was probably cut off by a portal or cmdlet limit.
pub const CAPPED_ROW_COUNTS: &[u64] = &[5_000, 10_000, 50_000, 100_000, 500_000, 1_000_000];

#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub use_mmap: bool,
    pub date_order: Option<DateOrder>,
    /// The frame's columns: all, or only what the scope engine reads.
    pub columns: Columns,
    /// How to read a CSV message inventory no built-in shape knows (`--inventory-map`).
    pub inventory_map: Option<std::sync::Arc<parse::inventory::InventoryMap>>,
    /// The zone of times exports wrote in local time (`--input-tz`).
    pub input_tz: Option<crate::zone::DisplayZone>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            use_mmap: true,
            date_order: None,
            columns: Columns::All,
            inventory_map: None,
            input_tz: None,
        }
    }
}

pub use crate::provenance::{FileSummary, Provenance, SavedCaseInput, SkippedOut};

/// Everything read in one run.
pub struct Ingest {
    pub files: Vec<FileSummary>,
    pub skipped: Vec<SkippedOut>,
    /// Saved cases read (their original inputs are in `files`).
    pub cases: Vec<SavedCaseInput>,
    /// Unique records, sorted by time then record id, with their items.
    pub frame: Frame,
    pub warnings: Vec<Warning>,
}

impl Ingest {
    /// Where the records came from, without the records: what a report is built from.
    pub fn provenance(&self) -> Provenance<'_> {
        Provenance {
            files: &self.files,
            skipped: &self.skipped,
            cases: &self.cases,
            warnings: &self.warnings,
        }
    }
    /// Rows of the audit exports (message inventories' rows are counted apart).
    pub fn rows(&self) -> u64 {
        self.provenance().rows()
    }
    pub fn duplicates(&self) -> u64 {
        self.provenance().duplicates()
    }
    pub fn rejected(&self) -> u64 {
        self.provenance().rejected()
    }
    pub fn not_mailbox_audit(&self) -> u64 {
        self.provenance().not_mailbox_audit()
    }
    pub fn file_paths(&self) -> Vec<String> {
        self.files.iter().map(|f| f.path.clone()).collect()
    }
    /// Unique records kept.
    pub fn record_count(&self) -> usize {
        self.frame.height()
    }
    /// The records as rows (sorted like the frame): for small inputs and tests; the scope engine
    /// reads the frame's columns.
    pub fn records(&self) -> Vec<Record<'static>> {
        self.frame
            .to_records(&self.file_paths())
            .expect("the frame has every column")
    }
}

// One per input file, moved once: boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
enum FileResult {
    Read {
        summary: FileSummary,
        parsed: ParsedFile,
    },
    /// A saved case: its original inputs, each with its share of the case's rows.
    Case {
        file: SavedCaseInput,
        inputs: Vec<(FileSummary, ParsedFile)>,
        skipped: Vec<SkippedOut>,
        messages: Vec<crate::frame::messages::Message>,
        warnings: Vec<Warning>,
    },
    /// A workbook: each sheet read as an input of its own (`path#sheet`), and the sheets not
    /// read.
    Workbook {
        inputs: Vec<(FileSummary, ParsedFile)>,
        skipped: Vec<SkippedOut>,
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
        columnar: true,
        columns: opts.columns,
        inventory_map: opts.inventory_map.as_deref(),
        input_tz: opts.input_tz,
        read_behind: None,
    };
    let results: Vec<FileResult> = files
        .par_iter()
        .map(|p| read_one(p, opts, &popts, progress))
        .collect();
    progress.finish();
    // Parsing freed every row it built; the frame is what is left.
    crate::alloc::release_freed();
    crate::timing::phase("files parsed");

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
    let mut cases = Vec::new();
    let mut case_messages = Vec::new();
    let mut case_warnings = Vec::new();
    let mut listed = Vec::new();
    // Which inputs were read in this run from a file of their own (a case's original inputs
    // were not; a workbook's sheets are parts of one).
    let mut direct = Vec::new();
    for r in results {
        match r {
            FileResult::Read { summary, parsed } => {
                listed.push(Listed::of(None, &summary));
                direct.push(true);
                summaries.push(summary);
                parsed_files.push(parsed);
            }
            FileResult::Case {
                file,
                inputs,
                skipped: case_skipped,
                messages,
                warnings,
            } => {
                listed.extend(inputs.iter().map(|(s, _)| Listed::of(Some(&file.path), s)));
                case_warnings.extend(warnings);
                cases.push(file);
                for (summary, parsed) in inputs {
                    direct.push(false);
                    summaries.push(summary);
                    parsed_files.push(parsed);
                }
                skipped.extend(case_skipped);
                case_messages.push(messages);
            }
            FileResult::Workbook {
                inputs,
                skipped: sheets_skipped,
            } => {
                for (summary, parsed) in inputs {
                    listed.push(Listed::of(None, &summary));
                    // A sheet is no file that can be read again (`unkept`).
                    direct.push(false);
                    summaries.push(summary);
                    parsed_files.push(parsed);
                }
                skipped.extend(sheets_skipped);
            }
            FileResult::Skipped(s) => skipped.push(s),
        }
    }
    skipped.sort();
    skipped.dedup();

    // Inventory rows leave with their file's path; the records go on to the merge.
    let mut inventory = Vec::new();
    for (summary, parsed) in summaries.iter_mut().zip(parsed_files.iter_mut()) {
        let rows = std::mem::take(&mut parsed.inventory);
        if rows.is_empty() && summary.inventory_rows > 0 {
            // An inventory read by the run that saved a case: its rows are messages already.
            inventory.push(rows);
            continue;
        }
        summary.inventory_rows = rows.file_rows();
        if !summary.format.is_inventory() {
            // A Defender streaming file of audit records too: its span is its records'.
            inventory.push(rows);
            continue;
        }
        let times = rows.received();
        summary.first_micros = times.clone().min();
        summary.last_micros = times.max();
        inventory.push(rows);
    }
    let inventory = summaries
        .iter()
        .zip(inventory)
        .filter(|(_, rows)| !rows.is_empty())
        .map(|(summary, rows)| (summary.path.as_str(), rows))
        .collect();
    let messages =
        crate::frame::messages::merge_files(inventory).expect("message columns are consistent");
    // The rows' buffers are free: what comes next reuses them.
    crate::alloc::release_freed();
    crate::timing::phase("inventory merged");
    let messages = if case_messages.is_empty() {
        messages
    } else {
        // Saved cases bring messages, not rows: merged with the inventories' as messages.
        let read = crate::frame::messages::read(&messages).expect("the table has every column");
        drop(messages);
        let merged =
            crate::frame::messages::merge_messages(std::iter::once(read).chain(case_messages));
        crate::frame::messages::into_table(merged).expect("message columns are consistent")
    };
    if frame_messages_were_large(&messages) {
        crate::alloc::release_freed();
    }
    crate::timing::phase("messages table");
    let (mut frame, mut warnings) = merge(&mut summaries, parsed_files, &direct);
    frame.messages = messages;
    warnings.extend(case_warnings);
    warnings.extend(case_conflicts(&listed));
    crate::timing::phase("rows selected");
    for summary in summaries.iter_mut() {
        summary.first_time = summary.first_micros.map(crate::time::rfc3339);
        summary.last_time = summary.last_micros.map(crate::time::rfc3339);
        if CAPPED_ROW_COUNTS.contains(&summary.rows) {
            warnings.push(Warning {
                code: WarningCode::ProbablyTruncated,
                message: format!(
                    "{} holds exactly {} data rows, a portal/cmdlet export limit: the export was probably cut off; export a shorter time span",
                    summary.path, summary.rows
                ),
                path: Some(summary.path.clone()),
                line: None,
            });
        }
        for n in &summary.notes {
            if n.code != WarningCode::DateOrder {
                warnings.push(Warning {
                    code: n.code,
                    message: n.message.clone(),
                    path: Some(summary.path.clone()),
                    line: None,
                });
            }
        }
        if summary.rejected > 0 {
            // A case is validated when read, and says which row it rejected first; this does
            // not rely on it.
            let first = summary.rejects.first();
            warnings.push(Warning {
                code: WarningCode::RejectedRows,
                message: match first {
                    Some(first) => format!(
                        "{} row(s) rejected; first at line {}: {}",
                        summary.rejected, first.line, first.reason
                    ),
                    None => format!("{} row(s) rejected", summary.rejected),
                },
                path: Some(summary.path.clone()),
                line: first.map(|f| f.line),
            });
        }
    }
    for s in &skipped {
        if s.error {
            warnings.push(Warning {
                code: WarningCode::Unreadable,
                message: s.reason.clone(),
                path: Some(s.path.clone()),
                line: None,
            });
        }
    }
    Ingest {
        files: summaries,
        skipped,
        cases,
        frame,
        warnings,
    }
}

/// One frame of the files' blocks: sorted by time then record id, each record id once (see
/// `first_occurrences`). Every block is sorted already; when the blocks, ordered by their first
/// row, do not overlap (an export in time order, either way), stacking them in that order sorts
/// the frame without moving a row.
fn merge(
    summaries: &mut [FileSummary],
    parsed_files: Vec<ParsedFile>,
    direct: &[bool],
) -> (Frame, Vec<Warning>) {
    let mut blocks: Vec<(usize, Frame)> = Vec::new();
    for (file, (summary, parsed)) in summaries.iter().zip(parsed_files).enumerate() {
        debug_assert!(parsed.records.is_empty(), "ingest parses to blocks");
        for mut block in parsed.blocks {
            block
                .set_source_file(&summary.path)
                .expect("blocks have a source_file column");
            if block.height() > 0 {
                blocks.push((file, block));
            }
        }
    }
    let ranges: Vec<((Micros, String), (Micros, String))> = blocks
        .iter()
        .map(|(_, b)| (b.key_at(0), b.key_at(b.height() - 1)))
        .collect();
    let mut order: Vec<usize> = (0..blocks.len()).collect();
    order.sort_by(|&a, &b| ranges[a].0.cmp(&ranges[b].0).then(a.cmp(&b)));
    let in_order = order.windows(2).all(|w| ranges[w[0]].1 <= ranges[w[1]].0);
    if in_order {
        let mut slots: Vec<Option<(usize, Frame)>> = blocks.into_iter().map(Some).collect();
        blocks = order
            .iter()
            .map(|&i| slots[i].take().expect("each block once"))
            .collect();
    }
    let mut file_of_row = Vec::new();
    for (file, block) in &blocks {
        file_of_row.extend(std::iter::repeat_n(*file as u32, block.height()));
    }
    let all =
        Frame::concat(blocks.into_iter().map(|(_, b)| b)).expect("frame blocks share one schema");
    crate::timing::phase("blocks stacked");
    let ids: Vec<&str> = str_col(&all.records, col::RECORD_ID)
        .expect("record_id is a string column")
        .into_iter()
        .map(|s| s.unwrap_or(""))
        .collect();
    let times = time_col(&all.records).expect("time is a datetime column");
    let MergedRecords {
        mut kept,
        cells,
        items_from,
        copies,
        collisions,
        unkept,
    } = merge_copies(&all, &ids, &file_of_row, summaries, direct);
    let mut warnings = collision_warning(&collisions, summaries);
    warnings.extend(unkept_warning(&unkept));
    drop(collisions);
    crate::timing::phase("de-duplicated");
    if !in_order {
        // Records sharing an id and a time keep their stacking order: the order is total, the
        // unstable sort deterministic.
        kept.par_sort_unstable_by(|&a, &b| {
            let (a, b) = (a as usize, b as usize);
            times[a]
                .cmp(&times[b])
                .then_with(|| ids[a].cmp(ids[b]))
                .then(a.cmp(&b))
        });
    }
    let mut frame = if cells.is_empty()
        && kept.len() == all.height()
        && (in_order || kept.iter().enumerate().all(|(i, &r)| i == r as usize))
    {
        all
    } else {
        let position: HashMap<u32, usize> = if cells.is_empty() {
            HashMap::new()
        } else {
            kept.iter().enumerate().map(|(i, &r)| (r, i)).collect()
        };
        let cells: Vec<(&str, usize, u32)> = cells
            .iter()
            .map(|&(name, base, from)| (name, position[&base], from))
            .collect();
        let items_from: Vec<u32> = kept
            .iter()
            .map(|r| items_from.get(r).copied().unwrap_or(*r))
            .collect();
        all.select_merged(&kept, &cells, &items_from)
            .expect("selected rows exist in the frame")
    };
    if !copies.is_empty() {
        let earlier = str_col(&frame.records, col::COPIES).expect("copies is a string column");
        let copies: StringChunked = kept
            .iter()
            .zip(earlier)
            .map(|(row, earlier)| copies.get(row).map(String::as_str).or(earlier))
            .collect();
        frame
            .records
            .replace(
                col::COPIES,
                copies.with_name(col::COPIES.into()).into_column(),
            )
            .expect("the frame has a copies column");
    }
    frame.rechunk().expect("the frame's columns can be joined");
    crate::timing::phase("rechunked");
    (frame, warnings)
}

/// The records of the stacked frame (`copies::records`), counted into the files' summaries.
struct MergedRecords<'i> {
    /// Each record's base row, in row order.
    kept: Vec<u32>,
    /// (column, base row, row the cell is taken from): what merged records take from copies
    /// other than their base; `copies` is among them, from a column of its own.
    cells: Vec<(&'static str, u32, u32)>,
    /// Base row → the row whose items the record has, where that is another copy.
    items_from: HashMap<u32, u32>,
    /// Base row → the `copies` cell of a merged record.
    copies: HashMap<u32, String>,
    collisions: Vec<Collision<'i>>,
    /// Merged records whose verbatim copies differ in fields the frame does not keep.
    unkept: Vec<(String, Vec<String>)>,
}

/// Which rows are one record (`copies::records`). Counts each file's kept records (a record
/// counts in the file of its base copy), duplicates (every other copy, in its own file) and time
/// span into its summary, and writes each merged record's places into the `copies` column.
fn merge_copies<'i>(
    all: &Frame,
    ids: &[&'i str],
    file_of_row: &[u32],
    summaries: &mut [FileSummary],
    direct: &[bool],
) -> MergedRecords<'i> {
    let lines: Vec<u64> = all
        .records
        .column(col::SOURCE_LINE)
        .and_then(|c| Ok(c.u64()?.iter().map(|l| l.unwrap_or(0)).collect()))
        .expect("source_line is a u64 column");
    let times = time_col(&all.records).expect("time is a datetime column");
    let paths: Vec<String> = summaries.iter().map(|s| s.path.clone()).collect();
    let place = |row: usize| (paths[file_of_row[row] as usize].as_str(), lines[row]);
    let v = all
        .records_view()
        .expect("the frame has the engine's columns");
    let items = all
        .items_view()
        .expect("the frame has the engine's item columns");
    let items_of = ItemsOf::new(&items.record_row, ids.len()).expect("items grouped by record");
    let has_column = |name: &str| all.records.get_column_index(name).is_some();
    // Null masks of the columns only a full frame has, read only where ids repeat.
    let masks: Vec<(&str, Vec<bool>)> = crate::copies::FILL_ONLY
        .iter()
        .filter_map(|&name| {
            let column = all.records.column(name).ok()?;
            let nulls = column.is_null();
            Some((name, nulls.iter().map(|b| b.unwrap_or(true)).collect()))
        })
        .collect();
    let is_null = |name: &str, row: usize| {
        masks
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, mask)| mask[row])
    };
    let records = crate::copies::records(&crate::copies::Rows {
        v: &v,
        items: &items,
        items_of: &items_of,
        ids,
        place: &place,
        has_column: &has_column,
        is_null: &is_null,
    });
    for &row in &records.kept {
        let summary = &mut summaries[file_of_row[row as usize] as usize];
        let t = times[row as usize];
        summary.first_micros = Some(summary.first_micros.map_or(t, |f| f.min(t)));
        summary.last_micros = Some(summary.last_micros.map_or(t, |l| l.max(t)));
        summary.records += 1;
    }
    let mut cells = Vec::new();
    let mut items_from = HashMap::new();
    let earlier_copies = str_col(&all.records, col::COPIES).ok();
    let mut copies = HashMap::new();
    for (&base, m) in &records.merged {
        for &row in &m.rows[1..] {
            summaries[file_of_row[row as usize] as usize].duplicates += 1;
        }
        cells.extend(m.columns.iter().map(|&(name, from)| (name, base, from)));
        if m.items_from != base {
            items_from.insert(base, m.items_from);
        }
        // Every copy's place: its own, and those a case recorded when it merged them.
        let mut places = std::collections::BTreeSet::new();
        for &row in &m.rows {
            let (path, line) = place(row as usize);
            places.insert(format!("{path}:{line}"));
            let earlier = earlier_copies.as_ref().and_then(|c| c[row as usize]);
            if let Some(list) = earlier.and_then(|t| serde_json::from_str::<Vec<String>>(t).ok()) {
                places.extend(list);
            }
        }
        let places: Vec<String> = places.into_iter().collect();
        copies.insert(
            base,
            serde_json::to_string(&places).expect("strings serialize"),
        );
    }
    let mut collisions: Vec<Collision> = records
        .collisions
        .iter()
        .map(|bases| {
            let id = ids[bases[0] as usize];
            let mut places: Vec<(u32, u64)> = bases
                .iter()
                .map(|&r| (file_of_row[r as usize], lines[r as usize]))
                .collect();
            // By path, not by file index: the index follows the order of the arguments.
            places.sort_by(|a, b| (&paths[a.0 as usize], a.1).cmp(&(&paths[b.0 as usize], b.1)));
            (id, places)
        })
        .collect();
    collisions.sort_by_key(|(id, _)| *id);
    let mut merged: Vec<&crate::copies::MergedCopies> = records.merged.values().collect();
    merged.sort_by_key(|m| (ids[m.rows[0] as usize], place(m.rows[0] as usize)));
    let places: Vec<(&str, Vec<crate::unkept::Place>)> = merged
        .iter()
        .map(|m| {
            let id = ids[m.rows[0] as usize];
            let places = m
                .rows
                .iter()
                .map(|&row| crate::unkept::Place {
                    file: file_of_row[row as usize],
                    line: lines[row as usize],
                    path: paths[file_of_row[row as usize] as usize].as_str(),
                    format: v.format.at(row as usize).and_then(Format::from_name),
                })
                .collect();
            (id, places)
        })
        .collect();
    let unkept = crate::unkept::differing(&places, direct);
    MergedRecords {
        kept: records.kept,
        cells,
        items_from,
        copies,
        collisions,
        unkept,
    }
}

/// `copies-differ-unkept`: records counted once although the AuditData of their copies differ
/// in fields the frame does not keep.
fn unkept_warning(unkept: &[(String, Vec<String>)]) -> Option<Warning> {
    if unkept.is_empty() {
        return None;
    }
    let shown: Vec<String> = unkept
        .iter()
        .take(5)
        .map(|(id, places)| format!("'{id}' ({})", places.join(", ")))
        .collect();
    Some(Warning {
        code: WarningCode::CopiesDifferUnkept,
        message: format!(
            "{} record(s) were merged from copies whose AuditData differ in fields the frame does not keep (the fields the scope uses agree; one copy was edited?): {}{}",
            unkept.len(),
            shown.join("; "),
            if unkept.len() > 5 { "; …" } else { "" }
        ),
        path: None,
        line: None,
    })
}

/// A record id carried by records that differ, with each one's place (file index, line).
type Collision<'i> = (&'i str, Vec<(u32, u64)>);

/// `id-collision`: records that share an id but differ were all kept; say which, and where
/// (each record's file index and line, as `first_occurrences` returns them).
fn collision_warning(collisions: &[Collision], summaries: &[FileSummary]) -> Vec<Warning> {
    if collisions.is_empty() {
        return Vec::new();
    }
    let place = |&(file, line): &(u32, u64)| format!("{}:{line}", summaries[file as usize].path);
    let records: usize = collisions.iter().map(|(_, rows)| rows.len()).sum();
    let shown: Vec<String> = collisions
        .iter()
        .take(5)
        .map(|(id, rows)| {
            let places: Vec<String> = rows.iter().take(4).map(place).collect();
            let more = rows.len().saturating_sub(4);
            format!(
                "'{id}' ({} records: {}{})",
                rows.len(),
                places.join(", "),
                if more > 0 {
                    format!(", +{more} more")
                } else {
                    String::new()
                }
            )
        })
        .collect();
    vec![Warning {
        code: WarningCode::IdCollision,
        message: format!(
            "{} record id(s) are each carried by records that differ ({records} records in all): all are kept, none counted as a duplicate (anonymized or re-keyed exports do this); {}{}",
            collisions.len(),
            shown.join("; "),
            if collisions.len() > 5 { "; …" } else { "" }
        ),
        path: None,
        line: None,
    }]
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

/// Why a file's bytes were not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotRead {
    pub reason: String,
    /// The file is of a kind the run reads but could not be read as asked (an
    /// `--inventory-map` column it lacks): an error, not a file that is simply no export.
    pub error: bool,
}

impl NotRead {
    fn not_audit(reason: String) -> NotRead {
        NotRead {
            reason,
            error: false,
        }
    }
}

/// Whether building the messages table freed enough (the messages' text) to hand back.
fn frame_messages_were_large(messages: &polars::prelude::DataFrame) -> bool {
    messages.height() > 10_000
}

/// Decode, detect and parse one file's bytes: (encoding, first lossy offset, format, parse).
/// `Err` is why the bytes were not read: not an audit export, or not readable as asked.
pub fn parse_bytes(
    bytes: &[u8],
    popts: &ParseOptions,
) -> Result<(&'static str, Option<usize>, Format, ParsedFile), NotRead> {
    let read_behind = popts.read_behind.unwrap_or(&|_| {});
    let decoded = input::decode_read_behind(bytes, read_behind);
    // Excel for Mac's "CSV (Macintosh)" ends lines with CR alone: read them as line breaks.
    let cr_only = input::cr_only_lines_read_behind(&decoded.text, read_behind);
    let text: std::borrow::Cow<str> = if cr_only {
        decoded.text.replace('\r', "\n").into()
    } else {
        std::borrow::Cow::Borrowed(decoded.text.as_ref())
    };
    let text = text.as_ref();
    crate::timing::phase("decoded");
    let detected = detect::detect_with(text, popts.inventory_map.map(|m| m.id_column()));
    let mut parsed = match &detected {
        Detected::Csv(layout) if layout.format.is_inventory() => parse::inventory::parse_csv(
            text,
            layout,
            popts.inventory_map,
            popts.date_order,
            popts.read_behind,
        ),
        // A streaming file's first record does not say what the others are: a file that mixes
        // EmailEvents rows with other tables' is read for both (`parse_defender_stream`).
        Detected::InventoryJson(Format::EmailEventsJson) => {
            let array = text
                .trim_start_matches('\u{feff}')
                .trim_start()
                .starts_with('[');
            parse::json::parse_defender_stream(text, array, popts).unwrap_or_else(|| {
                parse::inventory::parse_json(text, Format::EmailEventsJson, popts.date_order)
            })
        }
        Detected::InventoryJson(format) => {
            parse::inventory::parse_json(text, *format, popts.date_order)
        }
        Detected::Csv(layout) => parse::csv::parse(text, layout, popts),
        Detected::Json { array } => detect::is_defender_stream(text)
            .then(|| parse::json::parse_defender_stream(text, *array, popts))
            .flatten()
            .unwrap_or_else(|| parse::json::parse(text, *array, popts)),
        Detected::Xml { admin } => parse::xml::parse(text, *admin, popts),
        Detected::NotAudit(reason) => return Err(NotRead::not_audit(reason.clone())),
    };
    if let Some(reason) = parsed.unreadable.take() {
        return Err(NotRead {
            reason,
            error: true,
        });
    }
    if let Some(reason) = parsed.not_audit.take() {
        return Err(NotRead::not_audit(reason));
    }
    if cr_only {
        parsed.notes.push(FileNote {
            code: WarningCode::CrLineEnds,
            message: "lines end with CR alone (Excel for Mac's \"CSV (Macintosh)\" or a classic Mac tool): read as line breaks; the file was probably re-saved, values may have been altered".into(),
        });
    }
    let format = parsed
        .format
        .or(detected.format())
        .expect("audit formats have a format");
    Ok((decoded.encoding, decoded.lossy_at, format, parsed))
}

/// An input as one source lists it: a saved case (its path), or the run itself (`None`).
struct Listed {
    case: Option<String>,
    path: String,
    sha256: String,
    bytes: u64,
    format: Format,
    rows: u64,
    rejected: u64,
}

impl Listed {
    fn of(case: Option<&str>, s: &FileSummary) -> Listed {
        Listed {
            case: case.map(str::to_string),
            path: s.path.clone(),
            sha256: s.sha256.clone(),
            bytes: s.bytes,
            format: s.format,
            rows: s.rows,
            rejected: s.rejected,
        }
    }

    fn source(&self) -> String {
        match &self.case {
            Some(c) => format!("the case {c}"),
            None => "this run".into(),
        }
    }
}

/// `case-conflict`: an input path that a saved case lists with another content (SHA-256,
/// size, format) or other counts (rows, rejected) than another case, or than this run read
/// it: they are not the same file, or were not read alike, and the report holds both. Only the
/// first difference of each path, once per pair of sources. (Duplicates are not compared:
/// they depend on the files exported together.)
fn case_conflicts(listed: &[Listed]) -> Vec<Warning> {
    let mut by_path: BTreeMap<&str, Vec<&Listed>> = BTreeMap::new();
    for l in listed {
        by_path.entry(l.path.as_str()).or_default().push(l);
    }
    let mut warnings = Vec::new();
    for (path, all) in by_path {
        if all.iter().all(|l| l.case.is_none()) {
            continue;
        }
        let mut said = std::collections::BTreeSet::new();
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                let what = if a.sha256 != b.sha256 {
                    format!("SHA-256 {} and {}", a.sha256, b.sha256)
                } else if a.bytes != b.bytes {
                    format!("{} and {} bytes", a.bytes, b.bytes)
                } else if a.format != b.format {
                    format!("format {} and {}", a.format.as_str(), b.format.as_str())
                } else if a.rows != b.rows {
                    format!("{} and {} rows", a.rows, b.rows)
                } else if a.rejected != b.rejected {
                    format!("{} and {} rejected rows", a.rejected, b.rejected)
                } else {
                    continue;
                };
                if !said.insert((a.source(), b.source())) {
                    continue;
                }
                warnings.push(Warning {
                    code: WarningCode::CaseConflict,
                    message: format!(
                        "{path} is listed by {} and by {} with {what}: not the same file, or not read alike; both are in the report",
                        a.source(),
                        b.source()
                    ),
                    path: Some(path.to_string()),
                    line: None,
                });
            }
        }
    }
    warnings
}

/// A saved case: read whole, its rows handed to their original inputs so that the merge counts
/// and de-duplicates them as it did when the case was written.
fn read_case(
    path: &std::path::Path,
    display: String,
    opts: &IngestOptions,
    progress: &dyn Progress,
) -> FileResult {
    let skip = |reason: String, error: bool| {
        FileResult::Skipped(SkippedOut {
            path: display.clone(),
            reason,
            error,
        })
    };
    let case = match crate::case::open(path, opts.columns, opts.use_mmap) {
        Ok(c) => c,
        Err(crate::case::NotRead::NotCase(reason)) => return skip(reason, false),
        Err(crate::case::NotRead::Unreadable(reason)) => return skip(reason, true),
    };
    // Rows by the input they came from, in frame order.
    let index: HashMap<&str, usize> = case
        .inputs
        .iter()
        .enumerate()
        .map(|(i, f)| (f.path.as_str(), i))
        .collect();
    let mut rows: Vec<Vec<u32>> = vec![Vec::new(); case.inputs.len()];
    let files = str_col(&case.frame.records, col::SOURCE_FILE).unwrap_or_default();
    for (row, file) in files.iter().enumerate() {
        match file.and_then(|f| index.get(f)) {
            Some(&i) => rows[i].push(row as u32),
            None => {
                return skip(
                    format!(
                        "damaged mailscope case: row {} names an input the case does not list",
                        row + 1
                    ),
                    true,
                );
            }
        }
    }
    crate::timing::phase("case: rows placed");
    progress.advance(case.bytes, case.frame.height() as u64);
    // A case of one input (or whose records all came from one) hands its frame on whole.
    let whole = rows.iter().position(|r| r.len() == case.frame.height());
    let mut frame = Some(case.frame);
    let mut inputs = Vec::with_capacity(case.inputs.len());
    for (i, (mut summary, rows)) in case.inputs.into_iter().zip(rows).enumerate() {
        // An inventory's time span is its own, not its records'.
        if summary.format.is_inventory() {
            summary.first_micros = summary
                .first_time
                .as_deref()
                .and_then(crate::time::parse_iso);
            summary.last_micros = summary
                .last_time
                .as_deref()
                .and_then(crate::time::parse_iso);
        }
        let mut parsed = ParsedFile {
            rows: summary.rows,
            ..ParsedFile::default()
        };
        if whole == Some(i) {
            parsed.blocks.extend(frame.take());
        } else if !rows.is_empty() {
            let all = frame
                .as_ref()
                .expect("taken only by the input that has every row");
            match all.clone().select_rows(&rows) {
                Ok(block) => parsed.blocks.push(block),
                Err(e) => return skip(format!("damaged mailscope case: {e}"), true),
            }
        }
        inputs.push((summary, parsed));
    }
    let mut warnings = Vec::new();
    if case.schema == crate::case::SCHEMA_V1 {
        warnings.push(Warning {
            code: WarningCode::CaseV1,
            message: format!(
                "{display} is a {} case, written by an earlier build: its checksum covers its data pages only, not its metadata (the inputs' SHA-256, counts, rejected rows, messages), which could have been altered unseen; export it again for a case whose every byte is checked",
                crate::case::SCHEMA_V1
            ),
            path: Some(display.clone()),
            line: None,
        });
    }
    if case.without_forwarding {
        warnings.push(Warning {
            code: WarningCode::CaseWithoutForwarding,
            message: format!(
                "{display} was written by an earlier build, before forwarding changes were read: its inbox-rule, mailbox-forwarding and transport-rule records open no forwarding window, so mail that left the mailbox is not scoped from it; scope the evidence itself, or export the case again"
            ),
            path: Some(display.clone()),
            line: None,
        });
    }
    if case.without_exposure && !case.without_forwarding {
        warnings.push(Warning {
            code: WarningCode::CaseWithoutExposure,
            message: format!(
                "{display} was written by an earlier build, before content searches, grants and search texts were read: its eDiscovery, permission and consent records expose no mailbox and link no grantee; scope the evidence itself, or export the case again"
            ),
            path: Some(display.clone()),
            line: None,
        });
    }
    FileResult::Case {
        file: SavedCaseInput {
            input_paths: inputs.iter().map(|(s, _)| s.path.clone()).collect(),
            path: display,
            sha256: case.sha256,
            bytes: case.bytes,
            schema: case.schema,
            inputs: inputs.len() as u64,
        },
        inputs,
        skipped: case.skipped,
        messages: case.messages,
        warnings,
    }
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
    // Junk in an evidence folder (a disk image, a sparse file) costs its first mebibyte, not
    // its size: a file is read whole only if its start could be an export.
    let mut in_order = false;
    match input::read_prefix(path, SNIFF_BYTES) {
        Ok(head) if crate::case::is_parquet(&head) => {
            return read_case(path, display, opts, progress);
        }
        Ok(head) if crate::workbook::container(&head).is_some() => {
            return read_workbook(path, display, opts, popts, progress);
        }
        Ok(head) => {
            let not_audit = match input::unsupported_encoding(&head) {
                Some(reason) => Some(reason.to_string()),
                None => match detect::detect_with(
                    &input::decode(&head).text,
                    opts.inventory_map.as_deref().map(|m| m.id_column()),
                ) {
                    Detected::NotAudit(reason) => Some(reason),
                    Detected::Csv(layout) => {
                        // An inventory CSV is parsed by one thread, row after row.
                        in_order = layout.format.is_inventory();
                        None
                    }
                    _ => None,
                },
            };
            if let Some(reason) = not_audit {
                return FileResult::Skipped(SkippedOut {
                    path: display,
                    reason,
                    error: false,
                });
            }
        }
        Err(e) => {
            return FileResult::Skipped(SkippedOut {
                path: display,
                reason: format!("cannot read: {e}"),
                error: true,
            });
        }
    }
    // A file read in order is mapped page by page as it is read, and every pass over it lets
    // the pages behind it go (the others fault them in again from the page cache if they still
    // need them): it is never in memory whole. The others' parsers read it in parallel chunks,
    // all pages at once.
    let bytes = match input::read_file_with(path, opts.use_mmap, !in_order) {
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
    let read_behind = |done: &[u8]| {
        if in_order {
            bytes.release_before(done.as_ptr_range().end)
        }
    };
    let (sha256, result) = rayon::join(
        || {
            let hex = input::sha256_hex_read_behind(&bytes, &read_behind);
            crate::timing::phase("hashed");
            hex
        },
        || {
            parse_bytes(
                &bytes,
                &ParseOptions {
                    progress: Some(&counting),
                    read_behind: in_order.then_some(&read_behind as &parse::ReadBehind),
                    ..*popts
                },
            )
        },
    );
    // What the parser did not report chunk by chunk (other formats, decoding differences).
    let parsed_records = result
        .as_ref()
        .map(|r| r.3.record_count() as u64)
        .unwrap_or(0);
    progress.advance(
        (bytes.len() as u64).saturating_sub(counting.bytes.load(Ordering::Relaxed)),
        parsed_records.saturating_sub(counting.records.load(Ordering::Relaxed)),
    );
    let (encoding, lossy_at, format, mut parsed) = match result {
        Ok(x) => x,
        Err(NotRead { reason, error }) => {
            return FileResult::Skipped(SkippedOut {
                path: display,
                reason,
                error,
            });
        }
    };
    let after = stamp(path);
    if bytes.shrank_while_read() {
        parsed.notes.push(FileNote {
            code: WarningCode::FileChangedWhileRead,
            message: format!(
                "the file shrank while it was read: what lay past its new end ({} bytes were mapped) was read as zero bytes, and rows there rejected; read a stable copy of the evidence",
                bytes.len()
            ),
        });
    } else if before != after {
        parsed.notes.push(FileNote {
            code: WarningCode::FileChangedWhileRead,
            message: format!(
                "the file changed while it was read ({} bytes read, {} bytes now): read a stable copy of the evidence",
                bytes.len(),
                after.map(|a| a.0).unwrap_or(0)
            ),
        });
    }
    if let Some(at) = lossy_at {
        parsed.notes.push(FileNote {
            code: WarningCode::Encoding,
            message: format!(
                "bytes that are not valid {} from byte offset {at} (0x{at:08x}) were replaced or read as {encoding}",
                if encoding.starts_with("utf-16") { "UTF-16" } else { "UTF-8" },
            ),
        });
    }
    let summary = summary_of(
        display,
        sha256,
        bytes.len() as u64,
        format,
        encoding,
        &mut parsed,
    );
    FileResult::Read { summary, parsed }
}

/// The summary of an input read: it owns the rejects and notes; the records go on to the merge.
fn summary_of(
    display: String,
    sha256: String,
    bytes: u64,
    format: Format,
    encoding: &'static str,
    parsed: &mut ParsedFile,
) -> FileSummary {
    let mut rejects = std::mem::take(&mut parsed.rejects);
    rejects.sort_by_key(|r| r.line);
    FileSummary {
        path: display,
        sha256,
        bytes,
        format,
        encoding,
        rows: parsed.rows,
        records: 0,
        duplicates: 0,
        rejected: rejects.len() as u64,
        not_mailbox_audit: parsed.skipped.len() as u64,
        inventory_rows: 0,
        first_time: None,
        last_time: None,
        first_micros: None,
        last_micros: None,
        rejects,
        notes: std::mem::take(&mut parsed.notes),
    }
}

/// A workbook: its sheets, each written back as the CSV text it was before Excel (see
/// `workbook`) and read as an input of its own, named `path#sheet`. Rejected rows and record
/// places give the sheet's row numbers.
fn read_workbook(
    path: &std::path::Path,
    display: String,
    opts: &IngestOptions,
    popts: &ParseOptions,
    progress: &dyn Progress,
) -> FileResult {
    let skip = |reason: String, error: bool| {
        FileResult::Skipped(SkippedOut {
            path: display.clone(),
            reason,
            error,
        })
    };
    if let Some(reason) = crate::workbook::zip_file_without_workbook(path) {
        return skip(reason, false);
    }
    let bytes = match input::read_file(path, opts.use_mmap) {
        Ok(b) => b,
        Err(e) => return skip(format!("cannot read: {e}"), true),
    };
    // Hashed once known to be a workbook: a large file that is none is not read whole.
    let sheets = parse_workbook(&bytes, &display, popts);
    let sha256 = match sheets {
        Ok(_) => input::sha256_hex(&bytes),
        Err(_) => String::new(),
    };
    progress.advance(bytes.len() as u64, 0);
    if bytes.shrank_while_read() {
        return skip(
            "the file shrank while it was read: read a stable copy of the evidence".into(),
            true,
        );
    }
    let (mut inputs, skipped) = match sheets {
        Ok(sheets) => sheets,
        Err(NotRead { reason, error }) => return skip(reason, error),
    };
    for (summary, parsed) in &mut inputs {
        summary.sha256.clone_from(&sha256);
        progress.advance(0, parsed.record_count() as u64);
    }
    FileResult::Workbook { inputs, skipped }
}

/// The sheets of a workbook's bytes (named `display#sheet`), each read as the CSV it was:
/// those read (their summaries without a SHA-256) and those skipped; `Err` when the bytes are
/// no workbook or a damaged one.
#[allow(clippy::type_complexity)]
pub fn parse_workbook(
    bytes: &[u8],
    display: &str,
    popts: &ParseOptions,
) -> Result<(Vec<(FileSummary, ParsedFile)>, Vec<SkippedOut>), NotRead> {
    use crate::workbook::{Opened, SheetOutcome};
    let (kind, sheets) =
        match crate::workbook::open(bytes, crate::workbook::budget_for(bytes.len())) {
            Opened::Workbook(kind, sheets) => (kind, sheets),
            Opened::NotWorkbook(reason) => return Err(NotRead::not_audit(reason)),
            Opened::Damaged(reason) => {
                return Err(NotRead {
                    reason,
                    error: true,
                });
            }
        };
    let mut inputs = Vec::new();
    let mut skipped = Vec::new();
    for sheet in sheets {
        // The sheet name is evidence text: it goes into the report as written (renderers escape
        // it) and never into a path that is opened.
        let name = format!("{display}#{}", sheet.name);
        let sheet_text = match sheet.outcome {
            SheetOutcome::Text(t) => t,
            SheetOutcome::Skipped(reason) => {
                skipped.push(SkippedOut {
                    path: name,
                    reason,
                    error: false,
                });
                continue;
            }
            SheetOutcome::Unreadable(reason) => {
                skipped.push(SkippedOut {
                    path: name,
                    reason,
                    error: true,
                });
                continue;
            }
        };
        let (format, mut parsed) = match parse_bytes(sheet_text.text.as_bytes(), popts) {
            Ok((_, _, format, parsed)) => (format, parsed),
            Err(NotRead { reason, error }) => {
                skipped.push(SkippedOut {
                    path: name,
                    reason: format!("sheet of an {kind} workbook: {reason}"),
                    error,
                });
                continue;
            }
        };
        sheet_rows(&sheet_text, &mut parsed);
        let mut notes = sheet_text.notes;
        notes.append(&mut parsed.notes);
        parsed.notes = notes;
        let summary = summary_of(
            name,
            String::new(),
            bytes.len() as u64,
            format,
            kind,
            &mut parsed,
        );
        inputs.push((summary, parsed));
    }
    if inputs.is_empty() && skipped.is_empty() {
        return Err(NotRead::not_audit(format!(
            "{kind} workbook without sheets"
        )));
    }
    Ok((inputs, skipped))
}

/// Lines of a sheet's CSV text turned back into sheet rows, where a cell's line break parted
/// them; rows whose cell was cut at Excel's limit say so.
fn sheet_rows(sheet: &crate::workbook::SheetText, parsed: &mut ParsedFile) {
    for r in parsed.rejects.iter_mut().chain(parsed.skipped.iter_mut()) {
        r.line = sheet.row_of_line(r.line);
    }
    if sheet.lines_shifted() {
        for block in &mut parsed.blocks {
            block
                .map_source_lines(|l| sheet.row_of_line(l))
                .expect("blocks have a source_line column");
        }
    }
    let mut uncut = Vec::new();
    for (row, cell) in &sheet.full_cells {
        match parsed.rejects.iter_mut().find(|r| r.line == *row) {
            Some(r) => {
                r.reason = format!(
                    "cell {cell} holds {} characters, Excel's limit for a cell: its text was cut when the export went through Excel ({})",
                    crate::workbook::CELL_LIMIT,
                    r.reason
                )
            }
            None => uncut.push(cell.as_str()),
        }
    }
    if !uncut.is_empty() {
        parsed.notes.push(FileNote {
            code: WarningCode::CellLimit,
            message: format!(
                "{} cell(s) hold {} characters, Excel's limit for a cell: their text was probably cut when the export went through Excel ({})",
                uncut.len(),
                crate::workbook::CELL_LIMIT,
                uncut.join(", ")
            ),
        });
    }
}
