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
    let mut read: HashMap<(u32, u64), Value> = HashMap::new();
    for (file, (path, lines)) in wanted {
        for (line, value) in auditdata_at(path, &lines) {
            read.insert((file, line), value);
        }
    }
    let mut out = Vec::new();
    for (id, places) in copies {
        let values: Vec<(&Place, &Value)> = places
            .iter()
            .filter_map(|p| read.get(&(p.file, p.line)).map(|v| (p, v)))
            .collect();
        if values.windows(2).any(|w| w[0].1 != w[1].1) {
            let shown = values
                .iter()
                .map(|(p, _)| format!("{}:{}", p.path, p.line))
                .collect();
            out.push((id.to_string(), shown));
        }
    }
    out
}

/// The AuditData of the records starting at `lines` of the CSV at `path`, as JSON values. A
/// file that cannot be read again, or a record whose AuditData is no JSON, gives nothing.
fn auditdata_at(path: &str, lines: &[u64]) -> Vec<(u64, Value)> {
    let Ok(bytes) = std::fs::read(path) else {
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
    // Byte offset where each line starts.
    let mut starts = vec![0usize];
    starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
    let mut out = Vec::new();
    for &line in lines {
        let Some(&start) = starts.get(line.saturating_sub(1) as usize) else {
            continue;
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(layout.delimiter)
            .from_reader(&text.as_bytes()[start..]);
        let mut record = csv::StringRecord::new();
        if !matches!(reader.read_record(&mut record), Ok(true)) {
            continue;
        }
        if let Some(value) = record
            .get(column)
            .and_then(|cell| serde_json::from_str::<Value>(cell).ok())
        {
            out.push((line, value));
        }
    }
    out
}
