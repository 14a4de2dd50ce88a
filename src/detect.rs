//! Format detection from content (never from the file name).

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
    /// A Graph `exchangeMessageTrace` message inventory.
    InventoryJson,
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
            Detected::InventoryJson => Some(Format::GraphMessageTraceJson),
            Detected::NotAudit(_) => None,
        }
    }
}

/// How much of the start of a file the binary check reads.
const BINARY_SAMPLE: usize = 4096;

/// Control characters (other than tab, CR, LF) in the sample, and the sample's length.
fn control_share(text: &str) -> (usize, usize) {
    let sample = &text[..floor_char_boundary(text, BINARY_SAMPLE)];
    let controls = sample
        .chars()
        .filter(|&c| c.is_control() && !matches!(c, '\t' | '\r' | '\n'))
        .count();
    (controls, sample.len())
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
    let (controls, sampled) = control_share(text);
    let binary = || {
        Detected::NotAudit(format!(
            "binary content ({controls} control byte(s) in the first {sampled})"
        ))
    };
    // JSON and XML text have no raw control characters: any makes it something else.
    match trimmed.as_bytes()[0] {
        _ if controls > 0 && trimmed.starts_with(['<', '[', '{']) => binary(),
        b'<' => detect_xml(trimmed),
        b'[' | b'{'
            if crate::parse::inventory::is_graph_message_trace(
                &text[..floor_char_boundary(text, 1 << 20)],
            ) =>
        {
            Detected::InventoryJson
        }
        b'[' => Detected::Json { array: true },
        b'{' => Detected::Json { array: false },
        // A CSV export header is trusted over a stray NUL in a damaged row (that row is
        // rejected); without one, a file that is more than 1 % control bytes is binary.
        _ => match detect_csv(text, mapped_id) {
            Detected::NotAudit(_) if controls > 0 && controls * 100 >= sampled => binary(),
            d => d,
        },
    }
}

fn detect_xml(text: &str) -> Detected {
    let head = &text[..floor_char_boundary(text, 1 << 20)];
    let Some(pos) = find_event_tag(head) else {
        return if head.contains("<SearchResults") {
            // An export with no events is still an export: zero records, not a skipped file.
            Detected::Xml { admin: false }
        } else {
            Detected::NotAudit(
                "XML without <Event> elements (not a SearchResult.xml audit export)".into(),
            )
        };
    };
    let tag_end = head[pos..].find('>').map(|e| pos + e).unwrap_or(head.len());
    let tag = &head[pos..tag_end];
    if tag.contains("Cmdlet=") || tag.contains("Caller=") {
        Detected::Xml { admin: true }
    } else if [
        "MailboxGuid=",
        "Operation=",
        "LastAccessed=",
        "MailboxOwnerUPN=",
    ]
    .iter()
    .any(|a| tag.contains(a))
    {
        Detected::Xml { admin: false }
    } else {
        Detected::NotAudit(
            "XML <Event> elements carry neither mailbox-audit nor admin-audit attributes".into(),
        )
    }
}

/// Position of the first `<Event` start tag (not `<Events`), outside comments, CDATA
/// sections, processing instructions and declarations: an `<Event>` written inside those is
/// text, not a record.
pub fn find_event_tag(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(i) = memchr::memchr(b'<', &b[from..]) {
        let at = from + i;
        let rest = &s[at..];
        let skip_to = |end: &str| rest.find(end).map(|e| at + e + end.len());
        let next = if rest.starts_with("<!--") {
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
        } else if rest.starts_with("<Event")
            && matches!(
                b.get(at + 6),
                Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/')
            )
        {
            return Some(at);
        } else {
            Some(at + 1)
        };
        from = next?;
    }
    None
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
    // Windows PowerShell 5.1 writes `#TYPE …` before the header unless -NoTypeInformation.
    loop {
        let rest = &text[offset..];
        let line_end = rest.find('\n').map(|i| i + 1).unwrap_or(rest.len());
        let line = rest[..line_end].trim();
        if line.starts_with("#TYPE") || line.is_empty() {
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
    } else if (has("timegenerated [utc]") || has("timegenerated"))
        && has("operation")
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
    } else if has("creationtime") && has("operation") && (has("id") || has("workload")) {
        // AuditData one column per field (Hawk, Extractor-Suite -AuditDataOnly).
        Format::AuditDataColumnsCsv
    } else if let Some(inventory) = crate::parse::inventory::recognize(&lower) {
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
            "not a recognised audit export or message inventory (its first line has {} field(s) and none of the columns AuditData, RecordId, LastAccessed, RawEventData, _raw, TimeGenerated, CreationTime or a message inventory's; a CSV of messages is read with --inventory-map)",
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
    }
}
