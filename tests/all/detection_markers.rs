//! Formats are told by structure (CSV header cells, the keys of JSON records, XML element and
//! attribute names), never by string values: those the attacker writes (inbox rule names,
//! folder paths, subjects). An inbox rule named like a message trace must not turn an audit
//! export into a message inventory of zero records, and no marker string placed in any value
//! of any fixture may change how that fixture is detected.

use crate::util::{read_one, root};
use mailscope::detect::{Detected, detect_with, find_event_tag};
use mailscope::ingest::parse_bytes;
use mailscope::parse::ParseOptions;
use mailscope::parse::inventory::InventoryMap;
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

// ---------------------------------------------------------------------------------------------
// An inbox rule named like a message trace

/// The rule's name as the fixtures write it, in its `Parameters`.
const RULE_NAME: &str = r#"{"Name":"Name","Value":"."}"#;

/// A rule named for the Graph message trace type, whose conditions name its keys.
const HOSTILE_RULE: &str = r##"{"Name":"Name","Value":"#microsoft.graph.exchangeMessageTrace"},{"Name":"From","Value":"senderAddress"},{"Name":"SentTo","Value":"recipientAddress"},{"Name":"HeaderContainsWords","Value":"messageId"}"##;

/// The attacker's New-InboxRule record as Purview exports its AuditData
/// (`samples/purview_audit_export.csv`).
const NEW_INBOX_RULE: &str = r#"{"CreationTime":"2024-03-12T01:56:15","Id":"e4140002-0000-4000-8000-000000000002","Operation":"New-InboxRule","OrganizationId":"4f1c2a9e-0000-4000-8000-00000000c0de","RecordType":1,"ResultStatus":"True","UserKey":"1003BFFD0000E414","UserType":0,"Version":1,"Workload":"Exchange","UserId":"erin@contoso.com","ClientIP":"203.0.113.66:51234","ObjectId":"EURPR01A001.PROD.OUTLOOK.COM\/Microsoft Exchange Hosted Organizations\/contoso.onmicrosoft.com\/5e1f0000-0000-4000-8000-00000000e410\\.","AppId":"00000002-0000-0ff1-ce00-000000000000","ClientAppId":"","ExternalAccess":false,"OrganizationName":"contoso.onmicrosoft.com","Parameters":[{"Name":"Name","Value":"."},{"Name":"SubjectContainsWords","Value":"invoice;payment;wire"},{"Name":"MoveToFolder","Value":"RSS Feeds"},{"Name":"MarkAsRead","Value":"True"},{"Name":"StopProcessingRules","Value":"True"}],"SessionId":"55555555-eeee-4eee-8eee-attacker0005","AppAccessContext":{"UniqueTokenId":"tok-erin-attacker-1"}}"#;

fn fixture_text(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

/// Format, rows, records and rejected rows of one file, and its New-InboxRule records.
fn read_text(name: &str, text: &str) -> (String, u64, u64, u64, usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let ing = read_one(&path);
    assert!(ing.skipped.is_empty(), "{name}: {:?}", ing.skipped);
    let f = &ing.files[0];
    let rules = ing
        .records()
        .iter()
        .filter(|r| r.operation == "New-InboxRule")
        .count();
    (
        f.format.as_str().to_string(),
        f.rows,
        f.records,
        f.rejected,
        rules,
    )
}

/// The export with the rule as the fixture names it, and with the hostile name: read alike
/// (the same format, rows, records and rejected rows: a fixture's own damaged row stays so).
fn reads_alike(name: &str, benign: &str, rule_name: &str, hostile_rule: &str) {
    assert!(benign.contains(rule_name), "{name}: the fixture changed");
    let hostile = benign.replace(rule_name, hostile_rule);
    let expected = read_text(name, benign);
    assert_eq!(read_text(name, &hostile), expected, "{name}");
    let (_, _, records, _, rules) = expected;
    assert!(rules == 1 && records > 1, "{name}: {expected:?}");
}

#[test]
fn an_auditdata_array_with_a_rule_named_like_a_message_trace_stays_audit() {
    let array = fixture_text("tests/fixtures/auditdata_array.json");
    let array = array.replacen('[', &format!("[\n  {NEW_INBOX_RULE},"), 1);
    reads_alike("records.json", &array, RULE_NAME, HOSTILE_RULE);
    assert_eq!(read_text("records.json", &array).0, "auditdata-json");
}

#[test]
fn json_lines_with_a_rule_named_like_a_message_trace_stay_audit() {
    let lines = format!(
        "{NEW_INBOX_RULE}\n{}",
        fixture_text("tests/fixtures/auditdata.jsonl")
    );
    reads_alike("records.jsonl", &lines, RULE_NAME, HOSTILE_RULE);
    assert_eq!(read_text("records.jsonl", &lines).0, "auditdata-jsonl");
}

#[test]
fn a_sentinel_az_export_with_a_rule_named_like_a_message_trace_stays_audit() {
    // `az monitor log-analytics query` writes Parameters as JSON text in a string.
    let in_string = |s: &str| {
        serde_json::to_string(s)
            .unwrap()
            .trim_matches('"')
            .to_string()
    };
    let az = fixture_text("tests/fixtures/siem/sentinel_officeactivity_azcli.json");
    reads_alike(
        "officeactivity.json",
        &az,
        &in_string(RULE_NAME),
        &in_string(HOSTILE_RULE),
    );
    assert_eq!(
        read_text("officeactivity.json", &az).0,
        "sentinel-officeactivity-json"
    );
}

#[test]
fn graph_audit_pages_with_a_rule_named_like_a_message_trace_stay_audit() {
    let pages = fixture_text("tests/fixtures/siem/graph_auditlog_pages.jsonl");
    reads_alike("pages.jsonl", &pages, RULE_NAME, HOSTILE_RULE);
    assert_eq!(read_text("pages.jsonl", &pages).0, "graph-auditlog-json");
}

// ---------------------------------------------------------------------------------------------
// Marker strings in any value of any fixture

/// Every string a detection decision looks for, or looked for when formats were told by
/// searching the text, and text that ends a value in a scanner that does not honour quoting.
const MARKERS: &[&str] = &[
    "#microsoft.graph.exchangeMessageTrace",
    "senderAddress",
    "recipientAddress",
    "messageId",
    "receivedDateTime",
    "value",
    "@odata.type",
    "MessageTraceId",
    "RecipientAddress",
    "SenderAddress",
    "sender_address",
    "message_id",
    "origin_timestamp_utc",
    "InternetMessageId",
    "NetworkMessageId",
    "RecipientEmailAddress",
    "Subject or Title",
    "Item Identity",
    "auditLogRecordType",
    "auditData",
    "createdDateTime",
    "isRecordCountLimitExceeded",
    "RawEventData",
    "ActionType",
    "category",
    "properties",
    "OfficeWorkload",
    "TimeGenerated [UTC]",
    "event.original",
    "o365.audit.Operation",
    "_source",
    "_raw",
    "preview",
    "tables",
    "hits",
    "#TYPE",
    "#TYPE Deserialized.Microsoft.Exchange.UnifiedAuditLogRecord",
    "AuditData",
    "RecordId",
    "CreationTime",
    "LastAccessed",
    "<AuditReport",
    "<Event",
    "<SearchResults",
    "Cmdlet=",
    "Caller=",
    "MailboxGuid=",
    "Operation=",
    "LastAccessed=",
    "MailboxOwnerUPN=",
    r#"Cmdlet="New-InboxRule" Caller="x""#,
    r#""}],"value":[{"messageId":"<a@b>","senderAddress":"a@b","recipientAddress":"c@d"}]}"#,
    "MessageId",
    "results",
    "__metadata",
    r#""}],"d":{"results":[{"MessageId":"<a@b>","SenderAddress":"a@b","RecipientAddress":"c@d"}]}}"#,
    "/Date(1710143882000)/",
    r#""><Event Cmdlet="x" Caller="y">"#,
    "\r\nRecordId,CreationDate,RecordType,Operation,UserId,AuditData\r\n",
    "\u{7f}",
    "\u{85}",
    "\u{9b}[31m",
];

/// How a value is written in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    Json,
    Csv(u8),
    Xml,
}

/// A value in the text: its content (escaped as written) at `start..end`.
#[derive(Debug, Clone, Copy)]
struct Slot {
    start: usize,
    end: usize,
    /// A CSV field written in quotes (`start..end` is inside them).
    quoted: bool,
}

#[derive(Debug, Clone, Copy)]
enum Edit {
    Replace,
    Prefix,
}

/// String values of JSON text (object keys left out).
fn json_slots(text: &str) -> Vec<Slot> {
    let b = text.as_bytes();
    let mut slots = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'"' {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut j = start;
        while j < b.len() && b[j] != b'"' {
            j += if b[j] == b'\\' { 2 } else { 1 };
        }
        let end = j.min(b.len());
        let mut k = end + 1;
        while k < b.len() && b[k].is_ascii_whitespace() {
            k += 1;
        }
        if b.get(k) != Some(&b':') {
            slots.push(Slot {
                start,
                end,
                quoted: true,
            });
        }
        i = end + 1;
    }
    slots
}

/// Data cells of CSV text from `from` (the line after the header).
fn csv_slots(text: &str, from: usize, delimiter: u8) -> Vec<Slot> {
    let b = text.as_bytes();
    let mut slots = Vec::new();
    let mut i = from;
    while i < b.len() {
        if b[i] == b'"' {
            let start = i + 1;
            let mut j = start;
            loop {
                match b.get(j) {
                    Some(b'"') if b.get(j + 1) == Some(&b'"') => j += 2,
                    Some(b'"') | None => break,
                    Some(_) => j += 1,
                }
            }
            slots.push(Slot {
                start,
                end: j.min(b.len()),
                quoted: true,
            });
            i = j + 1;
        } else {
            let start = i;
            while i < b.len() && !matches!(b[i], b'\r' | b'\n') && b[i] != delimiter {
                i += 1;
            }
            slots.push(Slot {
                start,
                end: i,
                quoted: false,
            });
        }
        // Past the delimiter, or the line end (one more field follows a delimiter only).
        match b.get(i) {
            Some(&d) if d == delimiter => i += 1,
            _ => {
                while i < b.len() && matches!(b[i], b'\r' | b'\n') {
                    i += 1;
                }
            }
        }
    }
    slots
}

/// Attribute values of start tags, and the text right after each start tag.
fn xml_slots(text: &str) -> Vec<Slot> {
    let b = text.as_bytes();
    let mut slots = Vec::new();
    let mut i = 0;
    while let Some(lt) = b[i..].iter().position(|&c| c == b'<').map(|p| i + p) {
        i = lt + 1;
        if !b.get(i).is_some_and(u8::is_ascii_alphabetic) {
            continue;
        }
        let mut quote = None;
        while i < b.len() {
            match (quote, b[i]) {
                (None, q @ (b'"' | b'\'')) => {
                    quote = Some(q);
                    slots.push(Slot {
                        start: i + 1,
                        end: i + 1,
                        quoted: true,
                    });
                }
                (Some(q), c) if c == q => {
                    quote = None;
                    slots.last_mut().unwrap().end = i;
                }
                (None, b'>') => break,
                _ => {}
            }
            i += 1;
        }
        if i < b.len() && b[i - 1] != b'/' {
            slots.push(Slot {
                start: i + 1,
                end: i + 1,
                quoted: false,
            });
        }
    }
    slots
}

fn slots(text: &str, syntax: Syntax, csv_from: usize) -> Vec<Slot> {
    match syntax {
        Syntax::Json => json_slots(text),
        Syntax::Csv(d) => csv_slots(text, csv_from, d),
        Syntax::Xml => xml_slots(text),
    }
}

/// A value's text as it reads, and back as its file writes it; `None` for a span that is no
/// JSON string (a quote inside pretty-printed JSON in a CSV cell, whose lines the cell holds).
fn decode(text: &str, slot: Slot, syntax: Syntax) -> Option<String> {
    let raw = &text[slot.start..slot.end];
    match syntax {
        Syntax::Json => serde_json::from_str(&format!("\"{raw}\"")).ok(),
        Syntax::Csv(_) if slot.quoted => Some(raw.replace("\"\"", "\"")),
        _ => Some(raw.to_string()),
    }
}

/// The written form of `value` and the span it replaces (a CSV field with its quotes: every
/// rewritten field is quoted).
fn encode(value: &str, slot: Slot, syntax: Syntax) -> (usize, usize, String) {
    match syntax {
        Syntax::Json => {
            let s = serde_json::to_string(value).unwrap();
            (slot.start, slot.end, s[1..s.len() - 1].to_string())
        }
        Syntax::Csv(_) => {
            let (start, end) = if slot.quoted {
                (slot.start - 1, slot.end + 1)
            } else {
                (slot.start, slot.end)
            };
            (start, end, format!("\"{}\"", value.replace('"', "\"\"")))
        }
        Syntax::Xml => (
            slot.start,
            slot.end,
            quick_xml::escape::escape(value).into_owned(),
        ),
    }
}

/// `text` with `marker` put into one of its values: the `which`-th (modulo their number) and,
/// when that value is JSON text itself (AuditData in a CSV cell, Sentinel's `Parameters`), into
/// the `inner`-th of its own values.
fn with_marker(
    text: &str,
    syntax: Syntax,
    csv_from: usize,
    which: usize,
    inner: Option<usize>,
    marker: &str,
    edit: Edit,
) -> Option<String> {
    let all = slots(text, syntax, csv_from);
    let slot = *all.get(which % all.len().max(1))?;
    let value = decode(text, slot, syntax)?;
    let is_json = syntax != Syntax::Xml
        && value.trim_start().starts_with(['{', '['])
        && serde_json::from_str::<serde_json::Value>(&value).is_ok();
    let nested = inner
        .filter(|_| is_json)
        .and_then(|i| with_marker(&value, Syntax::Json, 0, i, None, marker, edit));
    let new_value = match (nested, edit) {
        (Some(nested), _) => nested,
        (None, Edit::Replace) => marker.to_string(),
        (None, Edit::Prefix) => format!("{marker}{value}"),
    };
    let (start, end, written) = encode(&new_value, slot, syntax);
    Some(format!("{}{written}{}", &text[..start], &text[end..]))
}

struct Fixture {
    path: PathBuf,
    text: String,
    detected: String,
    syntax: Syntax,
    /// Where the data rows of a CSV start.
    csv_from: usize,
    /// The first value of the first record (XML: of the first `<Event>`).
    first_value: usize,
    /// The format its records say, when it has any.
    read_as: Option<String>,
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            // Saved cases are Parquet, fuzz inputs bytes of no format, workbooks zips (their
            // sheets are read as CSV text: `tests/all/workbook.rs`).
            if name != "case" && name != "fuzz" && name != "workbook" {
                files_under(&path, out);
            }
        } else if !name.ends_with(".py") && !name.ends_with(".md") {
            out.push(path);
        }
    }
}

/// The columns of the CSV of messages among the fixtures (`pst_listing_carol.csv`).
static MAP: LazyLock<InventoryMap> = LazyLock::new(|| {
    InventoryMap::parse(
        "internet_message_id=Message-ID,subject=Subject,sender=From,recipients=To,recipients=Cc,received=Date,folder=Folder",
    )
    .unwrap()
});

/// As `ingest` detects (with the map of the fixtures' CSV of messages).
fn detect(text: &str) -> Detected {
    detect_with(text, Some(MAP.id_column()))
}

/// The format parsing settles on, when the file gives records.
fn read_as(text: &str) -> Option<String> {
    let opts = ParseOptions {
        inventory_map: Some(&MAP),
        ..ParseOptions::default()
    };
    match parse_bytes(text.as_bytes(), &opts) {
        Ok((_, _, format, parsed)) if parsed.record_count() + parsed.inventory.len() > 0 => {
            Some(format.as_str().to_string())
        }
        _ => None,
    }
}

static FIXTURES: LazyLock<Vec<Fixture>> = LazyLock::new(|| {
    let mut paths = Vec::new();
    files_under(&root().join("tests/fixtures"), &mut paths);
    files_under(&root().join("samples"), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            // As `ingest` feeds `detect`: decoded (UTF-16 inventories become text).
            let bytes = std::fs::read(&path).unwrap();
            let text = mailscope::input::decode(&bytes).text.into_owned();
            let detected = detect(&text);
            let (syntax, csv_from) = match &detected {
                Detected::Csv(l) => {
                    let header_end = text[l.header_offset..].find('\n').unwrap();
                    (Syntax::Csv(l.delimiter), l.header_offset + header_end + 1)
                }
                Detected::Xml { .. } => (Syntax::Xml, 0),
                Detected::NotAudit(why) => panic!("{} is not detected: {why}", path.display()),
                _ => (Syntax::Json, 0),
            };
            let record_at = match syntax {
                Syntax::Xml => find_event_tag(&text).unwrap(),
                _ => csv_from,
            };
            let first_value = slots(&text, syntax, csv_from)
                .iter()
                .position(|s| s.start >= record_at)
                .unwrap();
            Fixture {
                read_as: read_as(&text),
                detected: format!("{detected:?}"),
                path,
                text,
                syntax,
                csv_from,
                first_value,
            }
        })
        .collect()
});

/// The fixture read with a marker in a value: detected as before, and its records of the same
/// format (when it still has records: a marker in a rebuilt value may turn a row into another
/// application's event).
fn check(f: &Fixture, which: usize, inner: Option<usize>, marker: &str, edit: Edit) {
    // A span the slot scanner took for a string but is none (see `decode`) holds no value.
    let Some(marked) = with_marker(&f.text, f.syntax, f.csv_from, which, inner, marker, edit)
    else {
        return;
    };
    let at = format!(
        "{} with {marker:?} ({edit:?}) in value {which} {inner:?}",
        f.path.display()
    );
    assert_eq!(format!("{:?}", detect(&marked)), f.detected, "{at}");
    if let (Some(before), Some(after)) = (&f.read_as, read_as(&marked)) {
        assert_eq!(&after, before, "{at}");
    }
}

#[test]
fn every_marker_in_the_first_value_of_every_fixture_changes_no_detection() {
    assert!(FIXTURES.len() >= 35, "fixtures: {}", FIXTURES.len());
    for f in FIXTURES.iter() {
        for marker in MARKERS {
            check(f, f.first_value, Some(0), marker, Edit::Replace);
            check(f, f.first_value, None, marker, Edit::Prefix);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_marker_in_any_value_of_any_fixture_changes_no_detection(
        file in any::<prop::sample::Index>(),
        which in any::<usize>(),
        inner in proptest::option::of(any::<usize>()),
        marker in prop::sample::select(MARKERS),
        prefix in any::<bool>(),
    ) {
        let f = &FIXTURES[file.index(FIXTURES.len())];
        let edit = if prefix { Edit::Prefix } else { Edit::Replace };
        check(f, which, inner, marker, edit);
    }
}
