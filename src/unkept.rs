//! Copies merged as one record agree on every field the frame keeps; their AuditData may still
//! differ in fields it does not keep (UserKey, Version, OriginatingServer, SIDs…), as when an
//! export was edited. Where copies hold the verbatim AuditData (Purview and PowerShell CSVs read
//! in this run), it is read again for the merged records only and compared as JSON (key order
//! and spacing aside), so that such a duplicate is said, with its places.

use crate::detect::{self, Detected};
use crate::model::Format;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// Shapes whose `AuditData` column is Microsoft's verbatim record.
fn verbatim(format: Format) -> bool {
    matches!(
        format,
        Format::PurviewCsv | Format::ClassicCsv | Format::UnifiedAuditLogCsv
    )
}

/// One copy: file index, line, its file's path and shape.
pub struct Place<'a> {
    pub file: u32,
    pub line: u64,
    pub path: &'a str,
    pub format: Option<Format>,
}

/// The records (id, places of their copies) whose verbatim copies differ. `copies` holds each
/// merged record's id and places; `direct[file]` says the file was read in this run (a case's
/// inputs are not re-read: the file at that path may not be the one it was).
pub fn differing(copies: &[(&str, Vec<Place>)], direct: &[bool]) -> Vec<(String, Vec<String>)> {
    // (file, line) of every verbatim copy to read, by file.
    let mut wanted: BTreeMap<u32, (&str, Vec<u64>)> = BTreeMap::new();
    for (_, places) in copies {
        let readable: Vec<&Place> = places
            .iter()
            .filter(|p| {
                p.format.is_some_and(verbatim) && direct.get(p.file as usize) == Some(&true)
            })
            .collect();
        if readable.len() < 2 {
            continue;
        }
        for p in readable {
            wanted
                .entry(p.file)
                .or_insert((p.path, Vec::new()))
                .1
                .push(p.line);
        }
    }
    // First the text as written: copies written alike are the same (the usual case).
    let mut raw: HashMap<(u32, u64), u64> = HashMap::new();
    for (&file, (path, lines)) in &wanted {
        for (line, cell) in auditdata_at(path, lines) {
            raw.insert((file, line), digest(&cell));
        }
    }
    let differs = |places: &[Place], digests: &HashMap<(u32, u64), u64>| {
        let known: Vec<u64> = places
            .iter()
            .filter_map(|p| digests.get(&(p.file, p.line)).copied())
            .collect();
        known.windows(2).any(|w| w[0] != w[1])
    };
    // Then, for copies written differently, their content as JSON (key order, spacing aside).
    let mut again: BTreeMap<u32, (&str, Vec<u64>)> = BTreeMap::new();
    for (_, places) in copies {
        if differs(places, &raw) {
            for p in places
                .iter()
                .filter(|p| raw.contains_key(&(p.file, p.line)))
            {
                again
                    .entry(p.file)
                    .or_insert((p.path, Vec::new()))
                    .1
                    .push(p.line);
            }
        }
    }
    let mut content: HashMap<(u32, u64), u64> = HashMap::new();
    for (file, (path, lines)) in again {
        for (line, cell) in auditdata_at(path, &lines) {
            let canonical = serde_json::from_str::<Value>(&cell)
                .map(|v| v.to_string())
                .unwrap_or(cell);
            content.insert((file, line), digest(&canonical));
        }
    }
    let mut out = Vec::new();
    for (id, places) in copies {
        if differs(places, &raw) && differs(places, &content) {
            let shown = places
                .iter()
                .filter(|p| content.contains_key(&(p.file, p.line)))
                .map(|p| format!("{}:{}", p.path, p.line))
                .collect();
            out.push((id.to_string(), shown));
        }
    }
    out
}

fn digest(text: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::quality::FixedState::with_seed(0x756e_6b65_7074).hash_one(text)
}

/// The AuditData cells of the records starting at `lines` of the CSV at `path`, in one pass
/// over the file. A file that cannot be read again gives nothing.
fn auditdata_at(path: &str, lines: &[u64]) -> Vec<(u64, String)> {
    // Mapped like every input (`input::read_file`): evidence is not copied into memory again.
    let Ok(bytes) = crate::input::read_file(std::path::Path::new(path), true) else {
        return Vec::new();
    };
    let decoded = crate::input::decode(&bytes);
    let text: &str = &decoded.text;
    let Detected::Csv(layout) = detect::detect(text) else {
        return Vec::new();
    };
    let Some(column) = layout.columns.iter().position(|c| c == "AuditData") else {
        return Vec::new();
    };
    let wanted: std::collections::HashSet<u64> = lines.iter().copied().collect();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(layout.delimiter)
        .from_reader(&text.as_bytes()[layout.header_offset..]);
    let body = &text.as_bytes()[layout.header_offset..];
    let mut record = csv::ByteRecord::new();
    let mut out = Vec::new();
    // Lines counted by the bytes before each record's first (the reader's own line count lags
    // behind a CRLF's line feed, which it takes as the next record's first byte).
    let (mut counted_to, mut line) = (0usize, layout.header_line);
    while let Ok(true) = reader.read_byte_record(&mut record) {
        let mut start = record.position().map_or(0, |p| p.byte() as usize);
        while body.get(start).is_some_and(|b| *b == b'\r' || *b == b'\n') {
            start += 1;
        }
        line += memchr::memchr_iter(b'\n', &body[counted_to..start.max(counted_to)]).count() as u64;
        counted_to = counted_to.max(start);
        if wanted.contains(&line) {
            if let Some(cell) = record.get(column) {
                out.push((line, String::from_utf8_lossy(cell).into_owned()));
            }
        }
    }
    out
}
