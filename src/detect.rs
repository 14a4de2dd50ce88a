//! Format detection from content (never from the file name), and from its structure only: a
//! CSV's header cells, the keys of a JSON file's first record, XML element and attribute names.
//! Evidence controls string values (inbox rule names, folder paths, subjects), so no value is
//! ever searched for a marker.

pub mod inventory;
mod json_record;
pub mod xml_tag;

use crate::model::Format;

/// How a CSV export is laid out.
#[derive(Debug, Clone)]
pub struct CsvLayout {
    pub format: Format,
    pub delimiter: u8,
    /// Byte offset where the header line starts (after a BOM-less `#TYPE` line, if any).
    pub header_offset: usize,
    /// 1-based line number of the header.
    pub header_line: u64,
    /// Header cells as written (quotes removed).
    pub columns: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum Detected {
    Csv(CsvLayout),
    /// JSON array (`true`) or JSON Lines / concatenated objects (`false`).
    Json {
        array: bool,
    },
    Xml {
        admin: bool,
    },
    /// A JSON message inventory: Graph `exchangeMessageTrace`, or a PowerShell / Reporting Web
    /// Service message trace (`MessageTraceJson`).
    InventoryJson(Format),
    /// Not an audit export: the reason, for the skipped list.
    NotAudit(String),
}

impl Detected {
    pub fn format(&self) -> Option<Format> {
        match self {
            Detected::Csv(l) => Some(l.format),
            Detected::Json { array: true } => Some(Format::AuditDataJson),
            Detected::Json { array: false } => Some(Format::AuditDataJsonl),
            Detected::Xml { admin: true } => Some(Format::AdminAuditXml),
            Detected::Xml { admin: false } => Some(Format::MailboxAuditXml),
            Detected::InventoryJson(format) => Some(*format),
            Detected::NotAudit(_) => None,
        }
    }
}

/// The keys `detect` reads of a JSON text's first record (for the parsers' tests).
#[cfg(test)]
pub fn first_record_keys_for_tests(text: &str) -> Option<Vec<std::borrow::Cow<'_, str>>> {
    json_record::first_record_keys(text)
}

/// Whether the first record of JSON text is a Defender streaming API record (`category` and a
/// `properties` row): such files may mix the rows of several tables.
pub fn is_defender_stream(text: &str) -> bool {
    let head = &text[..floor_char_boundary(text, HEAD_BYTES)];
    json_record::first_record_keys(head).is_some_and(|keys| {
        let has = |k: &str| keys.iter().any(|key| key == k);
        has("category") && has("properties")
    })
}

/// How much of the start of a file the binary check reads.
const BINARY_SAMPLE: usize = 4096;

/// Control characters in the sample: of any kind (other than tab, CR, LF), and those no JSON or
/// XML text holds raw (C0 controls; DEL and C1 controls may stand raw in their strings, where
/// evidence puts them); and the sample's length.
struct Controls {
    any: usize,
    c0: usize,
    sampled: usize,
}

fn controls(text: &str) -> Controls {
    let sample = &text[..floor_char_boundary(text, BINARY_SAMPLE)];
    let mut counts = Controls {
        any: 0,
        c0: 0,
        sampled: sample.len(),
    };
    for c in sample.chars() {
        if c.is_control() && !matches!(c, '\t' | '\r' | '\n') {
            counts.any += 1;
            counts.c0 += usize::from(c < ' ');
        }
    }
    counts
}

/// The format of a file from its text. Only its start is read: detection works the same on
/// the first mebibyte of a file as on the whole (`ingest` relies on it to skip junk unread).
pub fn detect(text: &str) -> Detected {
    detect_with(text, None)
}

/// `detect`, where a CSV with the column `mapped_id` (the user's `--inventory-map`) that no
/// built-in shape knows is a mapped message inventory.
pub fn detect_with(text: &str, mapped_id: Option<&str>) -> Detected {
    let trimmed = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if trimmed.is_empty() {
        return Detected::NotAudit("empty file".into());
    }
    let Controls { any, c0, sampled } = controls(text);
    let binary = |n: usize| {
        Detected::NotAudit(format!(
            "binary content ({n} control byte(s) in the first {sampled})"
        ))
    };
    let head = &trimmed[..floor_char_boundary(trimmed, HEAD_BYTES)];
    // JSON and XML text have no raw C0 control characters, but exporters leave a few inside
    // strings (a NUL in a benign field), which the parsers repair and flag: only text that is
    // 1 % of them or more (as for CSV below) is something else.
    match trimmed.as_bytes()[0] {
        _ if c0 > 0 && c0 * 100 >= sampled && trimmed.starts_with(['<', '[', '{']) => binary(c0),
        b'<' => detect_xml(head),
        b'[' | b'{' => match json_record::first_record_keys(head)
            .and_then(|keys| inventory::json_inventory(&keys))
        {
            Some(format) => Detected::InventoryJson(format),
            None if trimmed.starts_with('[') => Detected::Json { array: true },
            None => Detected::Json { array: false },
        },
        // A CSV export header is trusted over a stray NUL in a damaged row (that row is
        // rejected); without one, a file that is more than 1 % control bytes is binary.
        _ => match detect_csv(text, mapped_id) {
            Detected::NotAudit(_) if any > 0 && any * 100 >= sampled => binary(any),
            d => d,
        },
    }
}

/// How much of a file detection reads: `ingest` sniffs this much before reading a file whole.
const HEAD_BYTES: usize = 1 << 20;

fn detect_xml(head: &str) -> Detected {
    let Some(pos) = find_event_tag(head) else {
        return if start_tags(head)
            .next()
            .is_some_and(|(_, name)| name == "SearchResults")
        {
            // An export with no events is still an export: zero records, not a skipped file.
            Detected::Xml { admin: false }
        } else {
            Detected::NotAudit(
                "XML without <Event> elements (not a SearchResult.xml audit export)".into(),
            )
        };
    };
    let tag = &head[pos + "<Event".len()..start_tag_end(head, pos)];
    let attributes = xml_tag::scan_attributes(tag);
    let has = |name: &str| attributes.contains_key(name);
    if has("cmdlet") || has("caller") {
        Detected::Xml { admin: true }
    } else if [
        "mailboxguid",
        "operation",
        "lastaccessed",
        "mailboxownerupn",
    ]
    .iter()
    .any(|a| has(a))
    {
        Detected::Xml { admin: false }
    } else {
        Detected::NotAudit(
            "XML <Event> elements carry neither mailbox-audit nor admin-audit attributes".into(),
        )
    }
}

/// Where the start tag at `pos` ends: its first `>` outside quoted attribute values (a value
/// may hold a raw `>`), or the end of the text.
fn start_tag_end(s: &str, pos: usize) -> usize {
    let mut quote = None;
    let end = s.as_bytes()[pos..].iter().position(|&b| {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), b) if b == q => quote = None,
            (None, b'>') => return true,
            _ => {}
        }
        false
    });
    end.map_or(s.len(), |e| pos + e)
}

/// Position of the first `<Event` start tag (not `<Events`), outside comments, CDATA
/// sections, processing instructions and declarations: an `<Event>` written inside those is
/// text, not a record.
pub fn find_event_tag(s: &str) -> Option<usize> {
    start_tags(s)
        .find(|(_, name)| *name == "Event")
        .map(|(at, _)| at)
}

/// The start tags of XML text in order, as (position of `<`, element name), outside comments,
/// CDATA sections, processing instructions and declarations. A name counts once something
/// ends it (space, `>`, `/`): a tag cut at the end of the text is no tag.
fn start_tags(s: &str) -> impl Iterator<Item = (usize, &str)> {
    const MAX_NAME: usize = 256;
    let b = s.as_bytes();
    let mut from = Some(0);
    std::iter::from_fn(move || {
        loop {
            let at = from? + memchr::memchr(b'<', &b[from?..])?;
            let rest = &s[at..];
            let skip_to = |end: &str| rest.find(end).map(|e| at + e + end.len());
            from = if rest.starts_with("<!--") {
                skip_to("-->")
            } else if rest.starts_with("<![CDATA[") {
                skip_to("]]>")
            } else if rest.starts_with("<?") {
                skip_to("?>")
            } else if rest.starts_with("<!") {
                // A declaration; a DOCTYPE's internal subset ends with "]>".
                match (rest.find('['), rest.find('>')) {
                    (Some(open), Some(close)) if open < close => skip_to("]>"),
                    _ => skip_to(">"),
                }
            } else {
                Some(at + 1)
            };
            if rest[1..].starts_with(['!', '?', '/']) {
                continue;
            }
            // Names are short: a bounded look keeps a text of many `<` linear.
            let name_len = rest[1..]
                .bytes()
                .take(MAX_NAME)
                .position(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/'));
            if let Some(n) = name_len.filter(|&n| n > 0) {
                return Some((at, &rest[1..1 + n]));
            }
        }
    })
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn detect_csv(text: &str, mapped_id: Option<&str>) -> Detected {
    let mut offset = 0usize;
    let mut line_no = 1u64;
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    offset += bom;
    // Windows PowerShell 5.1 writes `#TYPE …` before the header unless -NoTypeInformation;
    // Exchange's message tracking log (W3C extended) `#Software:`, `#Version:`, `#Log-type:` and
    // `#Date:` before its `#Fields:` header.
    const DIRECTIVES: [&str; 5] = ["#TYPE", "#Software:", "#Version:", "#Log-type:", "#Date:"];
    loop {
        let rest = &text[offset..];
        let line_end = rest.find('\n').map(|i| i + 1).unwrap_or(rest.len());
        let line = rest[..line_end].trim();
        if DIRECTIVES.iter().any(|d| line.starts_with(d)) || line.is_empty() {
            if line_end == 0 || line_end == rest.len() && line.is_empty() {
                return Detected::NotAudit("no header line".into());
            }
            offset += line_end;
            line_no += 1;
            continue;
        }
        break;
    }
    let rest = &text[offset..];
    let header_line = &rest[..rest.find('\n').unwrap_or(rest.len())];
    // The W3C header names its fields after `#Fields: ` (the CSV reader skips the line whole).
    let header_line = header_line
        .strip_prefix("#Fields:")
        .map_or(header_line, str::trim_start);
    let delimiter = pick_delimiter(header_line);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delimiter)
        .from_reader(header_line.as_bytes());
    let columns: Vec<String> = match rdr.records().next() {
        Some(Ok(r)) => r
            .iter()
            .map(|c| c.trim().trim_matches('"').to_string())
            .collect(),
        _ => return Detected::NotAudit("unreadable header line".into()),
    };
    let lower: Vec<String> = columns.iter().map(|c| c.to_ascii_lowercase()).collect();
    let has = |n: &str| lower.iter().any(|c| c == n);
    let format = if has("auditdata") && has("auditlogrecordtype") {
        // Graph audit log records as a collector writes them (Extractor-Suite Get-UALGraph).
        Format::GraphAuditCsv
    } else if has("auditdata") {
        if has("recordid") {
            Format::PurviewCsv
        } else if lower.len() == 4 && has("creationdate") && has("userids") && has("operations") {
            Format::ClassicCsv
        } else {
            Format::UnifiedAuditLogCsv
        }
    } else if has("lastaccessed")
        && has("operation")
        && (has("mailboxownerupn") || has("logontype") || has("mailboxguid"))
    {
        Format::MailboxAuditLogCsv
    } else if has("raweventdata") && has("actiontype") {
        Format::CloudAppEventsCsv
    } else if has("_raw") {
        Format::SplunkCsv
    } else if has("event.original") || lower.iter().any(|c| c.starts_with("o365.audit.")) {
        Format::ElasticCsv
    } else if lower.iter().any(|c| {
        // The portal suffixes datetime columns with their display zone; an analyst's column
        // pick may leave out TimeGenerated and keep Start_Time.
        let name = c
            .strip_suffix(" [utc]")
            .or_else(|| c.strip_suffix(" [local time]"))
            .unwrap_or(c);
        matches!(name, "timegenerated" | "start_time" | "elevationtime")
    }) && has("operation")
        && [
            "officeworkload",
            "client_ipaddress",
            "officeid",
            "mailboxownerupn",
        ]
        .iter()
        .any(|c| has(c))
    {
        Format::SentinelCsv
    } else if has("creationtime") && has("operation") && (has("id") || has("workload"))
        || has("auditdata.creationtime") && has("auditdata.operation")
    {
        // AuditData one column per field (Hawk, Extractor-Suite -AuditDataOnly; Power Query's
        // expansion of the AuditData column, each named `AuditData.<field>`).
        Format::AuditDataColumnsCsv
    } else if let Some(inventory) = inventory::recognize(&lower) {
        inventory
    } else if mapped_id.is_some_and(|id| has(&id.trim().to_ascii_lowercase())) {
        Format::MappedInventoryCsv
    } else if has("activity") && has("details") && has("date") {
        return Detected::NotAudit(
            "display-oriented \"Save loaded results\" CSV (Date, User, Activity, Item, Details): re-export with AuditData".into(),
        );
    } else {
        // What the file is not, never what it contains: a skipped file can be anything (a
        // planted link to a local secret), and reports travel.
        return Detected::NotAudit(format!(
            "not a recognised audit export or message inventory (its first line has {} field(s) but not the columns of one: AuditData; LastAccessed and Operation; RawEventData and ActionType; _raw; TimeGenerated and Operation; CreationTime and Operation; or a message inventory's; a CSV of messages is read with --inventory-map)",
            columns.len()
        ));
    };
    Detected::Csv(CsvLayout {
        format,
        delimiter,
        header_offset: offset,
        header_line: line_no,
        columns,
    })
}

/// Excel re-saves with the culture's list separator (`;` for fr-FR and others).
fn pick_delimiter(header: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut in_quotes = false;
    for b in header.bytes() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b',' if !in_quotes => counts[0] += 1,
            b';' if !in_quotes => counts[1] += 1,
            b'\t' if !in_quotes => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3)
        .max_by_key(|i| (counts[*i], std::cmp::Reverse(*i)))
        .unwrap();
    [b',', b';', b'\t'][best]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(s: &str) -> Option<Format> {
        detect(s).format()
    }

    #[test]
    fn detects_every_format() {
        assert_eq!(
            fmt("RecordId,CreationDate,RecordType,Operation,UserId,AuditData\r\n"),
            Some(Format::PurviewCsv)
        );
        assert_eq!(
            fmt("CreationDate,UserIds,Operations,AuditData\n"),
            Some(Format::ClassicCsv)
        );
        assert_eq!(
            fmt(
                "#TYPE Deserialized.Microsoft.Exchange.UnifiedAuditLogRecord\n\"RecordType\",\"CreationDate\",\"UserIds\",\"Operations\",\"AuditData\",\"Identity\"\n"
            ),
            Some(Format::UnifiedAuditLogCsv)
        );
        assert_eq!(
            fmt("Operation,OperationResult,LogonType,MailboxOwnerUPN,LastAccessed,Identity\n"),
            Some(Format::MailboxAuditLogCsv)
        );
        assert_eq!(
            fmt("RecordId;CreationDate;RecordType;Operation;UserId;AuditData\n"),
            Some(Format::PurviewCsv)
        );
        assert_eq!(fmt("[{\"Id\":1}]"), Some(Format::AuditDataJson));
        assert_eq!(
            fmt("{\"Id\":1}\n{\"Id\":2}\n"),
            Some(Format::AuditDataJsonl)
        );
        assert_eq!(
            fmt(
                "<?xml version=\"1.0\"?><SearchResults><Event MailboxGuid=\"x\" Operation=\"FolderBind\"/></SearchResults>"
            ),
            Some(Format::MailboxAuditXml)
        );
        assert_eq!(
            fmt("<SearchResults><Event Caller=\"a\" Cmdlet=\"Set-Mailbox\"/></SearchResults>"),
            Some(Format::AdminAuditXml)
        );
        assert!(matches!(
            detect("Date,User,Activity,Item,Details\n"),
            Detected::NotAudit(_)
        ));
        assert!(matches!(detect("name,size\n"), Detected::NotAudit(_)));
        assert!(matches!(detect(""), Detected::NotAudit(_)));
        assert_eq!(
            fmt(
                r#"{"value":[{"messageId":"<a@b>","senderAddress":"a@b","recipientAddress":"c@d"}]}"#
            ),
            Some(Format::GraphMessageTraceJson)
        );
        assert_eq!(
            fmt("<?xml version=\"1.0\"?>\n<!-- none yet -->\n<SearchResults>\n</SearchResults>\n"),
            Some(Format::MailboxAuditXml)
        );
    }

    #[test]
    fn values_written_by_the_attacker_never_decide_the_format() {
        let rule = r##"{"CreationTime":"2024-03-12T01:56:15","Operation":"New-InboxRule","Parameters":[{"Name":"Name","Value":"#microsoft.graph.exchangeMessageTrace"},{"Name":"From","Value":"senderAddress"},{"Name":"SentTo","Value":"recipientAddress"},{"Name":"HeaderContainsWords","Value":"messageId"}]}"##;
        assert_eq!(fmt(&format!("[{rule}]")), Some(Format::AuditDataJson));
        assert_eq!(fmt(&format!("{rule}\n")), Some(Format::AuditDataJsonl));
        // DEL and C1 controls may stand raw in a JSON or XML string; C0 controls may not.
        let controls = rule.replace("New-InboxRule", "New\u{7f}Inbox\u{85}Rule\u{9b}");
        assert_eq!(fmt(&controls), Some(Format::AuditDataJsonl));
        assert!(matches!(detect("{\"a\":\"\u{1}\"}"), Detected::NotAudit(_)));
        // A few raw C0 bytes inside the strings of a real record are repaired, not binary.
        let nul = rule.replace("New-InboxRule", "New-Inbox\u{0}Rule\u{1b}");
        assert_eq!(fmt(&format!("{nul}\n")), Some(Format::AuditDataJsonl));
        assert_eq!(fmt(&format!("[{nul}]")), Some(Format::AuditDataJson));
        // Attribute values of a mailbox event that name admin attributes, and a raw `>`.
        let event = r#"<SearchResults><Event ClientInfoString="Client=OWA>x" FolderPathName="\Cmdlet=Set-Mailbox" LogonUserDN="Caller=x &lt;Event Cmdlet=&quot;y&quot;" MailboxGuid="9a8c" Operation="FolderBind"/></SearchResults>"#;
        assert_eq!(fmt(event), Some(Format::MailboxAuditXml));
        let admin = r#"<SearchResults><Event ObjectModified="contoso\MailboxGuid=x Operation=y" Caller="a" Cmdlet="New-InboxRule"/></SearchResults>"#;
        assert_eq!(fmt(admin), Some(Format::AdminAuditXml));
        let no_root = r#"<Results Note="&lt;SearchResults"><Item/></Results>"#;
        assert!(matches!(detect(no_root), Detected::NotAudit(_)));
    }

    #[test]
    fn the_first_mebibyte_decides_as_the_whole_file_does() {
        let trace = r#"{"id":"7e000000-0000-4000-8000-000000000000","messageId":"<CAAL-lunch@AM0PR01MB1234.eurprd01.prod.outlook.com>","senderAddress":"dan@contoso.com","recipientAddress":"alice@contoso.com","subject":"Lunch","receivedDateTime":"2024-03-11T07:40:00Z","size":8120,"fromIP":"40.107.22.55","toIP":null,"status":"delivered"}"#;
        let audit = r#"{"id":"a1","createdDateTime":"2024-03-11T08:02:11Z","auditLogRecordType":"exchangeItemAggregated","operation":"MailItemsAccessed","auditData":{"Operation":"MailItemsAccessed","Parameters":[{"Name":"messageId","Value":"senderAddress"}],"Subject":"recipientAddress"}}"#;
        for (record, format) in [
            (trace, Format::GraphMessageTraceJson),
            (audit, Format::AuditDataJsonl),
        ] {
            // One page of more than a mebibyte: the head holds whole records of it only.
            let n = (3 << 20) / record.len();
            let page = format!(
                "{{\"@odata.context\":\"x\",\"value\":[{}]}}\n",
                vec![record; n].join(",")
            );
            assert_eq!(fmt(&page), Some(format));
            for cut in [record.len() + 40, (1 << 20) - 7, 1 << 20, 2 << 20] {
                assert_eq!(fmt(&page[..cut]), Some(format), "cut at {cut}");
            }
        }
    }
}
