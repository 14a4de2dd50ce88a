//! Every CSV layout: Purview, classic portal, `Search-UnifiedAuditLog | Export-Csv` (AuditData
//! rows), and `Search-MailboxAuditLog -ShowDetails | Export-Csv` (one column per property).
//! The file is split at record boundaries (newlines outside quotes: by quote parity, or by an
//! exact scan where quoting is irregular) and chunks parse in parallel.

use super::auditdata;
use super::csv_reader::{Field, RecordReader, Row, next_quote};
use super::mailbox::{derive_mailbox, logon_type_name};
use super::{
    ChunkOutcome, FileNote, ParseOptions, ParsedFile, Reject, RejectKind, RowOutcome, derived_id,
    finish_chunks, siem,
};
use crate::detect::CsvLayout;
use crate::ip;
use crate::model::{Format, Item, Record, non_empty, normalize_message_id, time_source};
use crate::warning::WarningCode;
use rayon::prelude::*;
use std::borrow::Cow;

/// Target bytes per parallel chunk.
const CHUNK_BYTES: usize = 4 << 20;

/// A record-aligned slice of the file: [start, end) and the 1-based line it starts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    pub start: usize,
    pub end: usize,
    pub first_line: u64,
}

/// Split `text[from..]` into chunks of about `target` bytes, cutting only at a newline that ends
/// a record, and hand each chunk to `emit` as soon as it is found, so that parsing starts while
/// the scan goes on. The scan follows the csv reader's own quoting rules (a quote opens a quoted
/// field only at the start of a field; `""` inside one is a quote; a quote elsewhere is a
/// character), so chunk boundaries agree with where the reader itself would end records. It is
/// sequential: one table-driven pass with searches inside fields, and no branch per byte but the
/// rare cut check.
pub fn scan_chunks(
    text: &str,
    from: usize,
    first_line: u64,
    target: usize,
    delimiter: u8,
    mut emit: impl FnMut(Chunk),
) {
    // Byte classes and states.
    const OTHER: usize = 0;
    const QUOTE: usize = 1;
    const DELIM: usize = 2;
    const LF: usize = 3;
    const CR: usize = 4;
    const FIELD_START: u8 = 0;
    const UNQUOTED: u8 = 1;
    const QUOTED: u8 = 2;
    const QUOTE_IN_QUOTED: u8 = 3;
    const RECORD_END: u8 = 4; // after a LF that ends a record; behaves as FIELD_START
    let mut class = [OTHER as u8; 256];
    class[b'"' as usize] = QUOTE as u8;
    class[delimiter as usize] = DELIM as u8;
    class[b'\n' as usize] = LF as u8;
    class[b'\r' as usize] = CR as u8;
    // NEXT[state][class]
    const NEXT: [[u8; 5]; 5] = [
        //           OTHER     QUOTE            DELIM        LF          CR
        /* start */
        [UNQUOTED, QUOTED, FIELD_START, RECORD_END, FIELD_START],
        /* unq   */ [UNQUOTED, UNQUOTED, FIELD_START, RECORD_END, FIELD_START],
        /* quoted*/ [QUOTED, QUOTE_IN_QUOTED, QUOTED, QUOTED, QUOTED],
        /* q-in-q*/ [UNQUOTED, QUOTED, FIELD_START, RECORD_END, FIELD_START],
        /* end   */ [UNQUOTED, QUOTED, FIELD_START, RECORD_END, FIELD_START],
    ];
    let bytes = text.as_bytes();
    let mut line = first_line;
    let mut cut = |last_cut: &mut usize, at: usize| {
        if at > *last_cut {
            emit(Chunk {
                start: *last_cut,
                end: at,
                first_line: line,
            });
            line += crate::input::count_newlines(&bytes[*last_cut..at]);
            *last_cut = at;
        }
    };
    let mut state = FIELD_START;
    let mut last_cut = from;
    let mut i = from;
    while i < bytes.len() {
        match state {
            // Inside a quoted field only a quote can change anything: jump to the next one, and
            // step over a `""` here rather than through the state table (AuditData has one
            // every few bytes).
            QUOTED => {
                let Some(quote) = next_quote(bytes, i) else {
                    break;
                };
                i = quote + 1;
                if bytes.get(i) == Some(&b'"') {
                    i += 1;
                    continue;
                }
                state = QUOTE_IN_QUOTED;
            }
            // Inside an unquoted field quotes are plain characters: jump to its end.
            UNQUOTED => match memchr::memchr3(delimiter, b'\n', b'\r', &bytes[i..]) {
                Some(k) => {
                    i += k;
                    state = NEXT[UNQUOTED as usize][class[bytes[i] as usize] as usize];
                    i += 1;
                }
                None => break,
            },
            _ => {
                state = NEXT[state as usize][class[bytes[i] as usize] as usize];
                i += 1;
            }
        }
        if state == RECORD_END && i - last_cut >= target {
            cut(&mut last_cut, i);
        }
    }
    cut(&mut last_cut, bytes.len());
}

/// Split `text[from..]` into chunks of about `target` bytes at newlines where the quotes before
/// are even, with no sequential pass: quotes and newlines are counted a segment at a time in
/// parallel, and each segment's first such newline is found from its own start. Where every
/// quote is field quoting (RFC 4180: what exports write) these are exactly the newlines that end
/// records; the chunk readers check that (`RecordReader::irregular`).
pub fn parity_chunks(text: &str, from: usize, first_line: u64, target: usize) -> Vec<Chunk> {
    let bytes = text.as_bytes();
    let starts: Vec<usize> = (from..bytes.len()).step_by(target).collect();
    let counts: Vec<(u64, u64)> = starts
        .par_iter()
        .map(|&s| {
            let segment = &bytes[s..s.saturating_add(target).min(bytes.len())];
            (
                memchr::memchr_iter(b'"', segment).count() as u64,
                crate::input::count_newlines(segment),
            )
        })
        .collect();
    // Quote parity and line number at each segment's start.
    let mut at_start = Vec::with_capacity(starts.len());
    let (mut quotes, mut line) = (0u64, first_line);
    for (q, n) in &counts {
        at_start.push((quotes % 2 == 1, line));
        quotes += q;
        line += n;
    }
    // The first newline at even parity from each segment's start (the first segment's start is
    // a record's).
    let cuts: Vec<Option<(usize, u64)>> = starts
        .par_iter()
        .zip(&at_start)
        .skip(1)
        .map(|(&s, &(mut odd, mut line))| {
            for k in memchr::memchr2_iter(b'"', b'\n', &bytes[s..]) {
                if bytes[s + k] == b'"' {
                    odd = !odd;
                } else {
                    line += 1;
                    if !odd {
                        return Some((s + k + 1, line));
                    }
                }
            }
            None
        })
        .collect();
    let mut chunks = Vec::with_capacity(starts.len());
    let (mut start, mut start_line) = (from, first_line);
    for (cut, line) in cuts.into_iter().flatten() {
        if cut > start && cut < bytes.len() {
            chunks.push(Chunk {
                start,
                end: cut,
                first_line: start_line,
            });
            (start, start_line) = (cut, line);
        }
    }
    if start < bytes.len() {
        chunks.push(Chunk {
            start,
            end: bytes.len(),
            first_line: start_line,
        });
    }
    chunks
}

/// `Search-UnifiedAuditLog` numbers its results: every row carries `ResultIndex` (1…) and
/// `ResultCount` (the query's total). Indices missing from 1..=ResultCount mean an export that is
/// not the whole result (a session cut short, pages not fetched, rows deleted by hand); an
/// index of -1 means the search itself timed out. Rows of several queries are told apart by
/// their count. `body` is the text after the header line.
fn result_coverage(body: &str, layout: &CsvLayout) -> Option<FileNote> {
    let pos = |name: &str| {
        layout
            .columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
    };
    let (index_at, count_at) = (pos("ResultIndex")?, pos("ResultCount")?);
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(layout.delimiter)
        .from_reader(body.as_bytes());
    let mut seen: std::collections::BTreeMap<u64, std::collections::BTreeSet<u64>> =
        Default::default();
    let mut timed_out = 0u64;
    for row in reader.records().flatten() {
        let number = |at: usize| row.get(at).and_then(|v| v.trim().parse::<i64>().ok());
        match (number(index_at), number(count_at)) {
            (Some(-1), _) => timed_out += 1,
            (Some(i), Some(n)) if i >= 1 && n >= 1 => {
                seen.entry(n as u64).or_default().insert(i as u64);
            }
            _ => {}
        }
    }
    let mut gaps = Vec::new();
    let (mut present, mut expected) = (0u64, 0u64);
    for (count, indices) in &seen {
        expected += count;
        present += indices.range(1..=*count).count() as u64;
        let mut next = 1u64;
        for &i in indices
            .range(1..=*count)
            .chain(std::iter::once(&(count + 1)))
        {
            if i > next {
                gaps.push(if i - 1 == next {
                    format!("{next}")
                } else {
                    format!("{next}–{}", i - 1)
                });
            }
            next = i + 1;
        }
    }
    if gaps.is_empty() && timed_out == 0 {
        return None;
    }
    let mut message = String::new();
    if !gaps.is_empty() {
        let shown: Vec<&str> = gaps.iter().take(10).map(String::as_str).collect();
        message = format!(
            "{present} of {expected} search results present (ResultIndex/ResultCount): missing {}{}",
            shown.join(", "),
            if gaps.len() > 10 { ", …" } else { "" }
        );
    }
    if timed_out > 0 {
        if !message.is_empty() {
            message.push_str("; ");
        }
        message.push_str(&format!(
            "{timed_out} row(s) with ResultIndex -1: the search timed out and its results are incomplete"
        ));
    }
    Some(FileNote {
        code: WarningCode::IncompleteExport,
        message: message + "; run the search again (smaller time spans, -HighCompleteness)",
    })
}

struct Columns {
    count: usize,
    audit_data: Option<usize>,
    record_id: Option<usize>,
    identity: Option<usize>,
    creation_date: Option<usize>,
    operation: Option<usize>,
    user: Option<usize>,
    record_type: Option<usize>,
    /// Lowercased header names, for the one-column-per-property layout.
    names: Vec<String>,
    /// Header names as written, for rows read by name (SIEM shapes).
    header: Vec<String>,
}

impl Columns {
    fn new(cols: &[String]) -> Columns {
        let names: Vec<String> = cols.iter().map(|c| c.to_ascii_lowercase()).collect();
        let pos = |alts: &[&str]| names.iter().position(|n| alts.contains(&n.as_str()));
        Columns {
            count: cols.len(),
            audit_data: pos(&["auditdata"]),
            record_id: pos(&["recordid"]),
            identity: pos(&["identity"]),
            creation_date: pos(&["creationdate"]),
            operation: pos(&["operation", "operations"]),
            user: pos(&["userid", "userids"]),
            record_type: pos(&["recordtype"]),
            names,
            header: cols
                .iter()
                .map(|c| c.trim_start_matches('\u{feff}').to_string())
                .collect(),
        }
    }
    fn get<'r>(&self, row: &'r Row, name: &str) -> Option<&'r str> {
        cell(row, self.names.iter().position(|n| n == name))
    }
}

pub fn parse(text: &str, layout: &CsvLayout, opts: &ParseOptions) -> ParsedFile {
    parse_chunked(text, layout, opts, CHUNK_BYTES)
}

/// `parse` with a chosen chunk size (the result does not depend on it; tests check that).
pub fn parse_chunked(
    text: &str,
    layout: &CsvLayout,
    opts: &ParseOptions,
    chunk_bytes: usize,
) -> ParsedFile {
    let cols = Columns::new(&layout.columns);
    let header_end = text[layout.header_offset..]
        .find('\n')
        .map(|i| layout.header_offset + i + 1)
        .unwrap_or(text.len());
    let first_line = layout.header_line + 1;
    let chunk_bytes = chunk_bytes.max(1);
    // `counted`: whether the chunk moves the progress bar (a file cut again by scanning has
    // been counted once already).
    let parse = |c: Chunk, counted: bool| {
        let (rows, outcomes, irregular) =
            parse_chunk(&text[c.start..c.end], c.start, c.first_line, layout, &cols);
        if let Some(p) = opts.progress.filter(|_| counted) {
            p.advance((c.end - c.start) as u64, outcomes.len() as u64);
        }
        (rows, ChunkOutcome::new(outcomes, opts), irregular)
    };
    // Cut where quote parity says records end, all chunks at once; if any chunk read a quote
    // that is not field quoting, parity may have cut inside a record: cut again by scanning.
    let chunks = parity_chunks(text, header_end, first_line, chunk_bytes);
    crate::timing::phase("chunks found");
    let mut parts: Vec<(u64, ChunkOutcome)> = Vec::with_capacity(chunks.len());
    let mut irregular = false;
    for (rows, outcome, odd) in chunks
        .into_par_iter()
        .map(|c| parse(c, true))
        .collect::<Vec<_>>()
    {
        irregular |= odd;
        parts.push((rows, outcome));
    }
    if irregular {
        drop(parts);
        crate::timing::phase("irregular quoting: chunks found again by scanning");
        // Chunks are parsed while the scan is still finding the next ones.
        let parsed: std::sync::Mutex<Vec<(usize, u64, ChunkOutcome)>> = Default::default();
        rayon::scope(|s| {
            let mut index = 0;
            scan_chunks(
                text,
                header_end,
                first_line,
                chunk_bytes,
                layout.delimiter,
                |c| {
                    let (parsed, parse) = (&parsed, &parse);
                    s.spawn(move |_| {
                        let (rows, outcome, _) = parse(c, false);
                        parsed
                            .lock()
                            .expect("no chunk parser panics")
                            .push((index, rows, outcome));
                    });
                    index += 1;
                },
            );
        });
        let mut scanned = parsed.into_inner().expect("no chunk parser panics");
        scanned.sort_by_key(|p| p.0);
        parts = scanned.into_iter().map(|p| (p.1, p.2)).collect();
    }
    let rows = parts.iter().map(|p| p.0).sum();
    let parts: Vec<ChunkOutcome> = parts.into_iter().map(|p| p.1).collect();
    crate::timing::phase("chunks parsed");
    let mut notes = Vec::new();
    if layout.delimiter != b',' {
        notes.push(FileNote {
            code: WarningCode::ResavedCsv,
            message: format!(
                "delimiter '{}' (not ','): probably re-saved by Excel; values may have been altered",
                layout.delimiter as char
            ),
        });
    }
    notes.extend(result_coverage(&text[header_end..], layout));
    if layout.format == Format::MailboxAuditLogCsv {
        notes.push(FileNote {
            code: WarningCode::TimezoneAssumedUtc,
            message:
                "LastAccessed values without an offset are read as UTC (the export does not say)"
                    .into(),
        });
    }
    finish_chunks(parts, rows, opts, notes)
}

/// `base`: the chunk's byte offset in the file's text, so that rejects say where they are.
fn parse_chunk<'t>(
    chunk: &'t str,
    base: usize,
    first_line: u64,
    layout: &CsvLayout,
    cols: &Columns,
) -> (u64, Vec<RowOutcome<'t>>, bool) {
    let raw_column = raw_audit_data_column(layout.format, cols);
    let mut reader = RecordReader::new(chunk, layout.delimiter).with_raw_column(raw_column);
    let mut out = Vec::with_capacity(chunk.len() / 1024 + 1);
    let mut rows = 0u64;
    // Lines are counted from byte offsets, incrementally.
    let bytes = chunk.as_bytes();
    let mut counted_to = 0usize;
    let mut line_at_counted = first_line;
    while let Some((start, row)) = reader.next_record() {
        // Blank lines between records are not data rows.
        if row.len() == 1 && row.get(0).is_some_and(|f| f.trim().is_empty()) {
            continue;
        }
        rows += 1;
        line_at_counted += crate::input::count_newlines(&bytes[counted_to..start]);
        counted_to = start;
        if row.len() == cols.count {
            let outcome = convert_row(&row, line_at_counted, layout.format, cols);
            out.push(placed(outcome, base + start));
            continue;
        }
        let found = row.len();
        let end = reader.position();
        match resync(
            &chunk[start..end],
            base + start,
            line_at_counted,
            found,
            layout,
            cols,
        ) {
            Some((extra_rows, outcomes)) => {
                rows += extra_rows;
                out.extend(outcomes);
            }
            None => out.push(RowOutcome::Rejected(
                Reject::new(
                    line_at_counted,
                    RejectKind::BadRow,
                    format!("expected {} columns, found {found}", cols.count),
                )
                .at(base + start),
            )),
        }
    }
    (rows, out, reader.irregular())
}

/// A row's outcome with its byte offset, when it is a reject (records keep only lines).
fn placed(outcome: RowOutcome<'_>, offset: usize) -> RowOutcome<'_> {
    match outcome {
        RowOutcome::Rejected(r) => RowOutcome::Rejected(r.at(offset)),
        RowOutcome::Skipped(r) => RowOutcome::Skipped(r.at(offset)),
        other => other,
    }
}

/// A record with the wrong number of fields that runs over several lines: most likely a quote
/// left open on its first line (a damaged or hand-edited row), which swallowed the rows after
/// it. Its first line is rejected as the damaged row and the lines after it are read again as
/// rows of their own. `None` when that finds no whole row (the record stays one rejection):
/// then it was one damaged record, not a swallowing one.
fn resync<'t>(
    record: &'t str,
    offset: usize,
    line: u64,
    found: usize,
    layout: &CsvLayout,
    cols: &Columns,
) -> Option<(u64, Vec<RowOutcome<'t>>)> {
    let first_end = record.find('\n')? + 1;
    let rest = &record[first_end..];
    let spanned =
        crate::input::count_newlines(record.trim_end_matches(['\r', '\n']).as_bytes()) + 1;
    let raw_column = raw_audit_data_column(layout.format, cols);
    let mut reader = RecordReader::new(rest, layout.delimiter).with_raw_column(raw_column);
    let mut outcomes = vec![RowOutcome::Rejected(
        Reject::new(
            line,
            RejectKind::BadRow,
            format!(
                "expected {} columns, found {found}: a quote opened on this line was never closed, and the field ran over {spanned} lines; the lines after this one were read again as rows",
                cols.count
            ),
        )
        .at(offset),
    )];
    let mut whole_rows = 0;
    let (mut counted_to, mut at_line) = (0, line + 1);
    while let Some((start, row)) = reader.next_record() {
        if row.len() == 1 && row.get(0).is_some_and(|f| f.trim().is_empty()) {
            continue;
        }
        at_line += crate::input::count_newlines(&rest.as_bytes()[counted_to..start]);
        counted_to = start;
        if row.len() == cols.count {
            whole_rows += 1;
        }
        let outcome = convert_row(&row, at_line, layout.format, cols);
        outcomes.push(placed(outcome, offset + first_end + start));
    }
    (whole_rows > 0).then(|| (outcomes.len() as u64 - 1, outcomes))
}

/// The AuditData column, read where it lies in the chunk with its quotes still doubled; `None`
/// for layouts whose rows are read by name.
fn raw_audit_data_column(format: Format, cols: &Columns) -> Option<usize> {
    match format {
        Format::PurviewCsv | Format::ClassicCsv | Format::UnifiedAuditLogCsv => cols.audit_data,
        _ => None,
    }
}

/// Layouts whose rows are SIEM or collector re-shapes (`siem`).
fn is_reshaped(format: Format) -> bool {
    matches!(
        format,
        Format::SentinelCsv
            | Format::CloudAppEventsCsv
            | Format::GraphAuditCsv
            | Format::ElasticCsv
            | Format::SplunkCsv
            | Format::AuditDataColumnsCsv
    )
}

/// A SIEM row: its non-empty cells by header name, reshaped into AuditData.
fn reshaped_row(
    row: &Row<'_, '_>,
    line: u64,
    format: Format,
    cols: &Columns,
) -> RowOutcome<'static> {
    let mut named = serde_json::Map::new();
    for (i, name) in cols.header.iter().enumerate() {
        if let Some(Field::Text(t)) = row.field(i) {
            if !t.trim().is_empty() {
                named.insert(name.clone(), serde_json::Value::String(t.to_string()));
            }
        }
    }
    siem::row_outcome(siem::csv_row(format, named), line).unwrap_or_else(|| {
        RowOutcome::Rejected(Reject::new(
            line,
            RejectKind::NotRecord,
            "row holds no record",
        ))
    })
}

fn convert_row<'t>(row: &Row<'_, 't>, line: u64, format: Format, cols: &Columns) -> RowOutcome<'t> {
    if row.len() != cols.count {
        return RowOutcome::Rejected(Reject::new(
            line,
            RejectKind::BadRow,
            format!("expected {} columns, found {}", cols.count, row.len()),
        ));
    }
    if is_reshaped(format) {
        return reshaped_row(row, line, format, cols);
    }
    let outcome = if format == Format::MailboxAuditLogCsv {
        mailbox_audit_row(row, cols)
    } else {
        audit_data_row(row, cols)
    };
    match outcome {
        Ok((mut r, date)) => {
            r.line = line;
            r.format = Some(format);
            match date {
                None => RowOutcome::Ok(r),
                Some(d) => RowOutcome::NeedsDate(r, d),
            }
        }
        Err((kind, reason)) => RowOutcome::Rejected(Reject::new(line, kind, reason)),
    }
}

/// `Ok((record, None))` when the time is known, `Ok((record, Some(culture date)))` when it waits
/// for the file's date rule.
type RowResult<'t> = Result<(Record<'t>, Option<String>), (RejectKind, String)>;

/// An AuditData text that is no record: the JSON reader's reason.
fn bad_json(reason: String) -> (RejectKind, String) {
    (RejectKind::BadJson, reason)
}

/// A field's trimmed text, `None` when empty. Not for the raw AuditData column, which is read
/// with `Row::field` (its doubled text reads as absent here).
fn cell<'r>(row: &Row<'r, '_>, i: Option<usize>) -> Option<&'r str> {
    match row.field(i?)? {
        Field::Text(t) => Some(t.trim()).filter(|s| !s.is_empty()),
        Field::Doubled(_) => None,
    }
}

/// `cell` as a value that outlives the row: borrowed from the text where the field lies in it.
fn cell_cow<'t>(row: &Row<'_, 't>, i: Option<usize>) -> Option<Cow<'t, str>> {
    match row.in_text(i?) {
        Some(Field::Text(t)) => Some(Cow::Borrowed(t.trim())).filter(|s| !s.is_empty()),
        Some(Field::Doubled(_)) => None,
        None => cell(row, i).map(|t| Cow::Owned(t.to_string())),
    }
}

const NO_AUDIT_DATA: &str = "AuditData column is empty";

fn no_audit_data() -> (RejectKind, String) {
    (RejectKind::MissingField, NO_AUDIT_DATA.into())
}

/// The trimmed AuditData text, an error when there is none.
fn non_blank(t: &str) -> Result<&str, (RejectKind, String)> {
    Some(t.trim())
        .filter(|s| !s.is_empty())
        .ok_or_else(no_audit_data)
}

fn audit_data_row<'t>(row: &Row<'_, 't>, cols: &Columns) -> RowResult<'t> {
    let i = cols.audit_data.ok_or_else(no_audit_data)?;
    let field = row.field(i).ok_or_else(no_audit_data)?;
    let parsed = match row.in_text(i) {
        Some(Field::Doubled(raw)) => auditdata::parse_doubled(raw.trim()).map_err(bad_json)?,
        Some(Field::Text(t)) => auditdata::parse(non_blank(t)?).map_err(bad_json)?,
        // Unescaped into the reader's buffer: the record cannot borrow from it.
        None => match field {
            Field::Text(t) => auditdata::parse(non_blank(t)?)
                .map_err(bad_json)?
                .into_owned(),
            Field::Doubled(_) => unreachable!("a doubled field lies in the text"),
        },
    };
    let mut r = parsed.record;
    if r.record_id.is_empty() {
        r.record_id = cell_cow(row, cols.record_id)
            .or(cell_cow(row, cols.identity))
            .unwrap_or_else(|| {
                let json = match field {
                    Field::Text(t) => t.trim().to_string(),
                    Field::Doubled(raw) => raw.trim().replace("\"\"", "\""),
                };
                Cow::Owned(derived_id("row", &json))
            });
    }
    if r.operation.is_empty() {
        r.operation = cell_cow(row, cols.operation).unwrap_or_default();
    }
    if r.actor.is_none() {
        r.actor = cell_cow(row, cols.user);
    }
    if r.record_type.is_none() {
        r.record_type = cell_cow(row, cols.record_type);
    }
    if parsed.has_time {
        return Ok((r, None));
    }
    let no_time = auditdata::no_time_reason(&parsed.unreadable_time);
    let date = cell(row, cols.creation_date)
        .map(str::to_string)
        .or(parsed.wrapper_date);
    time_from_column(r, date, time_source::CREATION_DATE).map_err(|_| {
        (
            RejectKind::BadTime,
            format!("no time: {no_time} and CreationDate is empty"),
        )
    })
}

fn time_from_column<'t>(
    mut r: Record<'t>,
    date: Option<String>,
    column: &'static str,
) -> RowResult<'t> {
    let Some(d) = date else {
        return Err((
            RejectKind::BadTime,
            format!("no time: AuditData has no CreationTime and {column} is empty"),
        ));
    };
    if let Some(t) = crate::time::parse_iso(&d) {
        r.time = t;
        r.time_source = column;
        return Ok((r, None));
    }
    Ok((r, Some(d)))
}

fn mailbox_audit_row(row: &Row, cols: &Columns) -> RowResult<'static> {
    let g = |n: &str| cols.get(row, n);
    let mut r = Record {
        operation: own(g("operation").unwrap_or_default()),
        result_status: g("operationresult").map(own),
        logon_type: g("logontype").map(|t| Cow::Owned(logon_type_name(t))),
        client_info: g("clientinfostring").map(own),
        mailbox_guid: g("mailboxguid").map(|g| Cow::Owned(g.to_ascii_lowercase())),
        actor: g("logonuserdisplayname").map(own),
        actor_sid: g("logonusersid").map(own),
        session_id: g("sessionid").map(own),
        app_id: g("appid").map(own),
        client_app_id: g("clientappid").map(own),
        folder_path: g("folderpathname").map(own),
        workload: Some("Exchange".into()),
        ..Record::default()
    };
    if r.operation.is_empty() {
        return Err((RejectKind::MissingField, "Operation is empty".into()));
    }
    r.set_client(ip::pick(
        [g("clientipaddress"), g("clientip")]
            .into_iter()
            .flatten()
            .map(|s| Cow::Owned(s.to_string())),
    ));
    // OperationProperties is flattened to `Name:Value` pairs (Microsoft filters it with
    // `-like "*MailAccessType:Sync*"`).
    if let Some(props) = g("operationproperties") {
        r.mail_access_type = flattened_value(props, "MailAccessType").map(Cow::Owned);
        r.is_throttled =
            flattened_value(props, "IsThrottled").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if r.operation.eq_ignore_ascii_case("UpdateInboxRules") {
            outlook_rule_of_flattened(&mut r, props);
        }
    }
    r.operation_count = g("auditoperationscountinaggregatedrecord").and_then(|v| v.parse().ok());
    r.mailbox = derive_mailbox(
        g("mailboxownerupn"),
        r.mailbox_guid.as_deref(),
        None,
        &r.operation,
        &[],
        None,
        r.actor.as_deref(),
    )
    .map(Cow::Owned);

    if let Some(data) = g("aggregatedrecordfoldersdata") {
        r.items = auditdata::parse_folders(data)
            .map(|items| items.into_iter().map(Item::into_owned).collect())
            .unwrap_or_else(|| scan_message_ids(data, r.folder_path.as_deref()));
    }
    if let Some(raw) = g("iteminternetmessageid") {
        r.items.push(Item {
            folder_path: r.folder_path.clone(),
            internet_message_id: normalize_message_id(raw).map(|id| own(&id)),
            internet_message_id_raw: Some(own(raw)),
            subject: g("itemsubject").map(own),
            item_id: g("itemid").map(own),
            ..Item::default()
        });
    } else if g("itemsubject").is_some() || g("itemid").is_some() {
        r.items.push(Item {
            folder_path: r.folder_path.clone(),
            subject: g("itemsubject").map(own),
            item_id: g("itemid").map(own),
            ..Item::default()
        });
    }
    if let Some(list) = g("sourceiteminternetmessageidslist") {
        r.items
            .extend(scan_message_ids(list, r.folder_path.as_deref()));
    }
    r.record_id = match g("identity") {
        Some(id) => own(id),
        None => Cow::Owned(derived_id(
            "row",
            &row.iter().collect::<Vec<_>>().join("\u{1f}"),
        )),
    };
    let date = g("lastaccessed").map(str::to_string);
    time_from_column(r, date, time_source::LAST_ACCESSED)
}

fn own(s: &str) -> Cow<'static, str> {
    Cow::Owned(s.to_string())
}

/// An Outlook rule (`UpdateInboxRules`) from `OperationProperties` flattened to `Name:Value`
/// pairs: its detail, forwarding recipients and forwarding change, as from AuditData. When a
/// name is there twice, a value (the rule's name, the attacker's) holds what looks like a
/// property and Microsoft's cannot be told: the detail is the text whole, and every address in
/// it is a forwarding recipient (never fewer than the rule has).
fn outlook_rule_of_flattened(r: &mut Record, props: &str) {
    match space_joined_properties(props) {
        Some(pairs) => {
            let get = |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
            let detail = auditdata::rule_detail(get);
            r.detail = (!detail.is_empty()).then(|| Cow::Owned(detail.join("; ")));
            r.forward_to = super::mailbox::forward_to(&[], get("RuleActions")).map(Cow::Owned);
            r.forwarding = crate::parse::forwarding::forwarding_change(&r.operation, &[], get)
                .map(|c| Cow::Owned(crate::parse::forwarding::to_column(&c)));
        }
        None => {
            r.detail = Some(Cow::Owned(format!("OperationProperties={props}")));
            r.forward_to = super::mailbox::forward_to(&[], Some(props)).map(Cow::Owned);
        }
    }
}

/// The names `Search-MailboxAuditLog -ShowDetails` writes in `OperationProperties`.
const FLATTENED_PROPERTIES: [&str; 9] = [
    "MailAccessType",
    "IsThrottled",
    "RuleOperation",
    "RuleId",
    "RuleState",
    "RuleName",
    "RuleProvider",
    "RuleActions",
    "RuleCondition",
];

/// `OperationProperties` as `Search-MailboxAuditLog -ShowDetails | Export-Csv` writes it: `Name:Value`
/// pairs joined by spaces, values with spaces of their own (`RuleState:Enabled,
/// ExitAfterExecution RuleActions:[{"ActionType":"Forward",…}]`). A pair starts at a known name
/// after a space; a value that is JSON runs to its closing bracket first. `None` when a name
/// is there twice.
fn space_joined_properties(props: &str) -> Option<Vec<(&str, &str)>> {
    let b = props.as_bytes();
    // (where the name starts, where its value starts, the name)
    let mut starts: Vec<(usize, usize, &str)> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let at_word = i == 0 || b[i - 1] == b' ';
        let name = at_word
            .then(|| {
                FLATTENED_PROPERTIES
                    .iter()
                    .find(|n| b[i..].starts_with(n.as_bytes()) && b.get(i + n.len()) == Some(&b':'))
            })
            .flatten();
        let Some(name) = name else {
            i += 1;
            continue;
        };
        if starts.iter().any(|(_, _, n)| n == name) {
            return None;
        }
        let value = i + name.len() + 1;
        starts.push((i, value, name));
        i = match b.get(value) {
            Some(b'[' | b'{') => json_end(b, value),
            _ => value,
        };
    }
    let ends = starts.iter().skip(1).map(|s| s.0).chain([b.len()]);
    Some(
        starts
            .iter()
            .zip(ends)
            .map(|(&(_, value, name), end)| (name, props[value..end.max(value)].trim()))
            .collect(),
    )
}

/// Where the JSON value starting at `from` (`[` or `{`) ends: after its closing bracket, or
/// the end of the text.
fn json_end(b: &[u8], from: usize) -> usize {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, &c) in b.iter().enumerate().skip(from) {
        match c {
            _ if escaped => escaped = false,
            b'\\' if in_string => escaped = true,
            b'"' => in_string = !in_string,
            b'[' | b'{' if !in_string => depth += 1,
            b']' | b'}' if !in_string => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    b.len()
}

/// `Name:Value` out of a flattened property string (`MailAccessType:Bind IsThrottled:False`,
/// also tolerating `Name=Value` and JSON-ish `"Name":"MailAccessType","Value":"Bind"`).
fn flattened_value(props: &str, name: &str) -> Option<String> {
    let lower = props.to_ascii_lowercase();
    let key = name.to_ascii_lowercase();
    if let Some(i) = lower.find(&format!("\"{key}\",\"value\":\"")) {
        let start = i + key.len() + 12;
        return props[start..].split('"').next().and_then(non_empty);
    }
    let i = lower.find(&key)? + key.len();
    let rest = props[i..].trim_start_matches([':', '=', ' ']);
    let value: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    non_empty(&value)
}

/// Message ids in angle brackets anywhere in a text (practitioners regex `<…>` out of
/// `AggregatedRecordFoldersData` the same way).
fn scan_message_ids(text: &str, folder: Option<&str>) -> Vec<Item<'static>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else { break };
        let inner = &after[..close];
        if inner.contains('@') && !inner.contains(['<', ' ', '"']) {
            out.push(Item {
                folder_path: folder.map(own),
                internet_message_id: normalize_message_id(inner).map(|id| own(&id)),
                internet_message_id_raw: Some(Cow::Owned(format!("<{inner}>"))),
                ..Item::default()
            });
        }
        rest = &after[close + 1..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chunks put back together are the text, none splits a quoted field, lines are right.
    fn assert_record_aligned(text: &str, target: usize, chunks: &[Chunk]) {
        let joined: String = chunks.iter().map(|c| &text[c.start..c.end]).collect();
        assert_eq!(joined, &text[2..]);
        for c in chunks {
            let quotes = text[c.start..c.end].matches('"').count();
            assert_eq!(quotes % 2, 0, "chunk {c:?} at target {target}");
            assert_eq!(c.first_line, crate::input::line_of(text, c.start));
        }
    }

    #[test]
    fn chunks_never_split_a_quoted_field() {
        let text = "h\na,\"x\ny\"\nb,c\nd,\"\"\"q\n\"\ne,f\n\"\"\n\n";
        for target in 1..text.len() + 2 {
            let mut scanned = Vec::new();
            scan_chunks(text, 2, 2, target, b',', |c| scanned.push(c));
            assert_record_aligned(text, target, &scanned);
            assert_record_aligned(text, target, &parity_chunks(text, 2, 2, target));
        }
    }

    #[test]
    fn flattened_properties() {
        assert_eq!(
            flattened_value("MailAccessType:Sync IsThrottled:True", "IsThrottled").as_deref(),
            Some("True")
        );
        assert_eq!(
            flattened_value(
                "{\"Name\":\"MailAccessType\",\"Value\":\"Bind\"}",
                "MailAccessType"
            )
            .as_deref(),
            Some("Bind")
        );
        assert_eq!(flattened_value("", "MailAccessType"), None);
    }
}
