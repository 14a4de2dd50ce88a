//! JSON array or JSON Lines of AuditData objects. A single scan finds the top-level objects
//! (string- and escape-aware, no recursion), then objects parse in parallel. A damaged object
//! costs only itself; text between objects that is not `,`/whitespace is reported.

use super::{
    ChunkOutcome, FileNote, ParseOptions, ParsedFile, Reject, RejectKind, RowOutcome, auditdata,
    derived_id, finish_chunks, siem,
};
use crate::input::{count_newlines, lines_of_sorted};
use crate::model::Format;
use crate::warning::WarningCode;
use rayon::prelude::*;

#[derive(Debug, PartialEq, Eq)]
enum Span {
    Object { start: usize, end: usize },
    Garbage { start: usize, what: String },
}

/// What the scan found: the spans, and for an array whether its closing `]` was there.
struct Scanned {
    spans: Vec<Span>,
    array_closed: bool,
}

/// Find top-level objects: depth 0 for JSON Lines, depth 1 inside a top-level array. In JSON
/// Lines every line of garbage is a row of its own (each is counted as a rejection).
fn scan(text: &str, array: bool) -> Scanned {
    let b = text.as_bytes();
    let object_depth = if array { 1 } else { 0 };
    let mut spans = Vec::new();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut obj_start = None;
    let mut garbage_start: Option<usize> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if in_string {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        let at_record_level = depth == object_depth && obj_start.is_none();
        match c {
            b'"' if !at_record_level => in_string = true,
            b'{' | b'[' => {
                if at_record_level && c == b'{' {
                    if let Some(g) = garbage_start.take() {
                        spans.push(Span::Garbage {
                            start: g,
                            what: snippet(&text[g..i]),
                        });
                    }
                    obj_start = Some(i);
                } else if at_record_level
                    && !(c == b'[' && depth == 0 && array)
                    && depth >= object_depth
                {
                    garbage_start.get_or_insert(i);
                }
                depth += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == object_depth {
                    if let Some(s) = obj_start.take() {
                        spans.push(Span::Object {
                            start: s,
                            end: i + 1,
                        });
                    }
                }
            }
            b'\n' if !array && at_record_level => {
                if let Some(g) = garbage_start.take() {
                    spans.push(Span::Garbage {
                        start: g,
                        what: snippet(&text[g..i]),
                    });
                }
            }
            b',' | b' ' | b'\t' | b'\r' | b'\n' => {}
            _ if at_record_level => {
                garbage_start.get_or_insert(i);
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(s) = obj_start {
        spans.push(Span::Garbage {
            start: s,
            what: "object not closed before end of file (truncated)".into(),
        });
    } else if let Some(g) = garbage_start {
        spans.push(Span::Garbage {
            start: g,
            what: snippet(&text[g..]),
        });
    }
    Scanned {
        spans,
        array_closed: !array || depth == 0 && text.trim_end().ends_with(']'),
    }
}

/// What one top-level object became: one row, or the rows of a SIEM response.
struct SpanRows<'t> {
    outcomes: Vec<RowOutcome<'t>>,
    notes: Vec<FileNote>,
    format: Option<Format>,
    previews: u64,
}

impl<'t> SpanRows<'t> {
    fn one(outcome: RowOutcome<'t>) -> SpanRows<'t> {
        SpanRows {
            outcomes: vec![outcome],
            notes: Vec::new(),
            format: None,
            previews: 0,
        }
    }
}

/// Rows reshaped from an object that starts at `line`, each at its own line.
fn reshaped_rows(rows: siem::Rows, json: &str, line: u64) -> SpanRows<'static> {
    let mut out = SpanRows {
        outcomes: Vec::with_capacity(rows.len()),
        notes: Vec::new(),
        format: None,
        previews: 0,
    };
    let (mut counted_to, mut at_line) = (0usize, line);
    for (at, reshaped) in rows {
        if at >= counted_to {
            at_line += count_newlines(&json.as_bytes()[counted_to..at]);
            counted_to = at;
        }
        match reshaped {
            siem::Reshaped::Meta(siem::Meta::Preview) => out.previews += 1,
            siem::Reshaped::Meta(siem::Meta::Note(note)) => out.notes.push(note),
            siem::Reshaped::Record(c) => {
                out.format = out.format.or(Some(c.format));
                out.outcomes.push(siem::into_outcome(c, at_line));
            }
            other => out.outcomes.extend(siem::row_outcome(other, at_line)),
        }
    }
    out
}

fn snippet(s: &str) -> String {
    let t: String = s.trim().chars().take(40).collect();
    format!("unexpected text '{t}'")
}

pub fn parse(text: &str, array: bool, opts: &ParseOptions) -> ParsedFile {
    let Scanned {
        spans,
        array_closed,
    } = scan(text, array);
    let mut notes = Vec::new();
    if !array_closed {
        notes.push(FileNote {
            code: WarningCode::UnterminatedArray,
            message: "the JSON array is not closed with ']': the file may have been cut off (copied or exported incompletely)".into(),
        });
    }
    let format = if array {
        Format::AuditDataJson
    } else {
        Format::AuditDataJsonl
    };
    // Spans come in file order, so their lines are counted in one pass.
    let lines = lines_of_sorted(
        text,
        spans.iter().map(|s| match s {
            Span::Object { start, .. } | Span::Garbage { start, .. } => *start,
        }),
    );
    // Objects that look like audit records at all (a time or an operation of their own).
    let audit_like = std::sync::atomic::AtomicUsize::new(0);
    let found = |n: usize| audit_like.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    let per_span: Vec<SpanRows> = spans
        .par_iter()
        .zip(lines.par_iter())
        .map(|(s, &line)| match s {
            Span::Object { start, end } => {
                let json = &text[*start..*end];
                let parsed = auditdata::parse(json);
                // An object without a CreationTime of its own may be a SIEM's row or response.
                if let Ok(p) = &parsed {
                    if !p.has_time {
                        if let Some(rows) = siem::reshape_object(json) {
                            found(1);
                            return reshaped_rows(rows, json, line);
                        }
                    }
                }
                SpanRows::one(match parsed {
                    Ok(p) => {
                        if p.has_time
                            || p.wrapper_date.is_some()
                            || p.unreadable_time.is_some()
                            || !p.record.operation.is_empty()
                        {
                            found(1);
                        }
                        let mut r = p.record;
                        r.line = line;
                        r.format = Some(format);
                        if r.record_id.is_empty() {
                            r.record_id = derived_id("json", json).into();
                        }
                        if p.has_time {
                            RowOutcome::Ok(r)
                        } else if let Some(d) = p.wrapper_date {
                            match crate::time::parse_iso(&d) {
                                Some(t) => {
                                    r.time = t;
                                    r.time_source = crate::model::time_source::CREATION_DATE;
                                    RowOutcome::Ok(r)
                                }
                                None => RowOutcome::NeedsDate(r, d),
                            }
                        } else {
                            RowOutcome::Rejected(
                                Reject::new(
                                    line,
                                    RejectKind::BadTime,
                                    format!(
                                        "no time: {}",
                                        auditdata::no_time_reason(&p.unreadable_time)
                                    ),
                                )
                                .at(*start),
                            )
                        }
                    }
                    Err(reason) => RowOutcome::Rejected(
                        Reject::new(line, RejectKind::BadJson, reason).at(*start),
                    ),
                })
            }
            Span::Garbage { start, what } => SpanRows::one(RowOutcome::Rejected(
                Reject::new(line, RejectKind::BadJson, what.clone()).at(*start),
            )),
        })
        .collect();
    // The file is of the first SIEM shape its records have; its notes are the responses'.
    let mut shape = None;
    let mut previews = 0u64;
    let mut outcomes: Vec<RowOutcome> = Vec::with_capacity(per_span.len());
    for span in per_span {
        shape = shape.or(span.format);
        previews += span.previews;
        notes.extend(span.notes);
        outcomes.extend(span.outcomes);
    }
    if previews > 0 {
        notes.push(FileNote {
            code: WarningCode::SplunkPreview,
            message: format!(
                "{previews} Splunk preview result(s) skipped: the export's final results repeat them"
            ),
        });
    }
    if shape == Some(Format::GraphAuditJson)
        && !notes.iter().any(|n| n.code == WarningCode::GraphAuditQuery)
        && !notes
            .iter()
            .any(|n| n.code == WarningCode::IncompleteExport)
    {
        notes.push(FileNote {
            code: WarningCode::CompletenessUnknown,
            message: "Graph audit log records without their query object: whether the query hit its record limit (isRecordCountLimitExceeded) cannot be told from this file (Extractor-Suite's Get-UALGraph does not save it)".into(),
        });
    }
    let rows = outcomes.len() as u64;
    let objects = spans
        .iter()
        .filter(|s| matches!(s, Span::Object { .. }))
        .count();
    let mut parsed = finish_chunks(vec![ChunkOutcome::new(outcomes, opts)], rows, opts, notes);
    parsed.format = shape;
    if objects > 0 && audit_like.into_inner() == 0 {
        parsed.not_audit = Some(format!(
            "JSON, but none of its {objects} object(s) has a CreationTime or an Operation: not an audit export"
        ));
    }
    parsed
}

/// Defender's streaming API (Event Hub `{"records":[…]}`, storage `PT1H.json` lines) sends the
/// rows of every table the export is set for in one file, in any order: each record is told by
/// its own structure (`EmailEvents` by the keys of its `properties`, as `detect` tells a file
/// of them). `None` unless the file mixes `EmailEvents` rows with other records: such a file is
/// read twice, once for its audit records (every `EmailEvents` row skipped there, and not
/// counted: it is read as an inventory row instead) and once for its messages (the text with
/// all but the `EmailEvents` rows blanked, so lines and offsets stay those of the file).
pub fn parse_defender_stream(text: &str, array: bool, opts: &ParseOptions) -> Option<ParsedFile> {
    let (email, others) = email_events_spans(text, array);
    if email.is_empty() || !others {
        return None;
    }
    let mut audit = parse(text, array, opts);
    audit.not_audit = None;
    let before = audit.skipped.len();
    audit.skipped.retain(|s| s.reason != siem::EMAIL_EVENTS_ROW);
    if before - audit.skipped.len() != email.len() {
        // The audit pass took some of those rows for something else (an object with a
        // CreationTime of its own is AuditData): read as one kind only, never counted twice.
        return None;
    }
    audit
        .notes
        .retain(|n| n.code != WarningCode::NotMailboxAudit);
    audit.notes.extend(super::not_audit_note(&audit.skipped));
    // Everything but the EmailEvents rows becomes blanks (newlines kept): what is left is
    // those rows as concatenated objects, where they stood.
    let mut masked = text.as_bytes().to_vec();
    let mut keep = email.iter().peekable();
    let mut i = 0;
    while i < masked.len() {
        if let Some(&&(start, end)) = keep.peek() {
            if i >= start {
                i = end;
                keep.next();
                continue;
            }
        }
        if masked[i] != b'\n' {
            masked[i] = b' ';
        }
        i += 1;
    }
    let masked = String::from_utf8(masked).expect("ASCII blanks around whole UTF-8 spans");
    let mut inventory =
        super::inventory::parse_json(&masked, Format::EmailEventsJson, opts.date_order);
    audit.inventory = std::mem::take(&mut inventory.inventory);
    audit.rejects.extend(inventory.rejects);
    audit.notes.extend(inventory.notes);
    // The file is an audit export when it holds any audit record, else an inventory (whose
    // other tables' rows are counted as not mailbox audit).
    if audit.format.is_none() {
        audit.format = Some(Format::EmailEventsJson);
    }
    Some(audit)
}

/// The byte spans of the `EmailEvents` rows of a streaming file (top-level records, or those a
/// top-level object lists under `records`), in file order; and whether it holds anything else.
fn email_events_spans(text: &str, array: bool) -> (Vec<(usize, usize)>, bool) {
    use serde_json::value::RawValue;
    let mut email = Vec::new();
    let mut others = false;
    let offset_of = |raw: &RawValue| raw.get().as_ptr() as usize - text.as_ptr() as usize;
    let is_email_events = |raw: &RawValue| {
        #[derive(serde::Deserialize)]
        struct Row<'a> {
            category: Option<serde::de::IgnoredAny>,
            #[serde(borrow)]
            properties: Option<&'a RawValue>,
        }
        let Ok(Row {
            category: Some(_),
            properties: Some(properties),
        }) = serde_json::from_str::<Row>(raw.get())
        else {
            return false;
        };
        let Ok(keys) = serde_json::from_str::<
            std::collections::BTreeMap<String, serde::de::IgnoredAny>,
        >(properties.get()) else {
            return false;
        };
        let keys: Vec<String> = keys
            .into_keys()
            .map(|k| format!("properties.{k}"))
            .collect();
        crate::detect::inventory::json_inventory(&keys) == Some(Format::EmailEventsJson)
    };
    for span in scan(text, array).spans {
        let Span::Object { start, end } = span else {
            others = true;
            continue;
        };
        let Ok(raw) = serde_json::from_str::<&RawValue>(&text[start..end]) else {
            others = true;
            continue;
        };
        #[derive(serde::Deserialize)]
        struct Envelope<'a> {
            #[serde(borrow)]
            records: Vec<&'a RawValue>,
        }
        let rows = match serde_json::from_str::<Envelope>(raw.get()) {
            Ok(envelope) => envelope.records,
            Err(_) => vec![raw],
        };
        for row in rows {
            if is_email_events(row) {
                let at = offset_of(row);
                email.push((at, at + row.get().len()));
            } else {
                others = true;
            }
        }
    }
    (email, others)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(text: &str, array: bool) -> Vec<&str> {
        scan(text, array)
            .spans
            .into_iter()
            .filter_map(|s| match s {
                Span::Object { start, end } => Some(&text[start..end]),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn finds_objects_in_arrays_and_lines() {
        let a = r#"[{"a":"}{"},{"b":[{"c":1}]}]"#;
        assert_eq!(
            objects(a, true),
            vec![r#"{"a":"}{"}"#, r#"{"b":[{"c":1}]}"#]
        );
        let l = "{\"a\":\"x\\\"}\"}\n{\"b\":2}\n";
        assert_eq!(objects(l, false).len(), 2);
    }

    #[test]
    fn truncation_and_garbage_are_reported() {
        let spans = scan("{\"a\":1}\nnot json\n{\"b\":", false).spans;
        assert_eq!(spans.len(), 3);
        assert!(matches!(&spans[1], Span::Garbage { what, .. } if what.contains("not json")));
        assert!(matches!(&spans[2], Span::Garbage { what, .. } if what.contains("truncated")));
    }
}
