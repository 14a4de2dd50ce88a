//! Message inventories: what the analyst exported about the messages themselves (message
//! trace, Exchange admin center trace reports, Graph `exchangeMessageTrace`, eDiscovery item
//! reports, Defender `EmailEvents`, or any CSV mapped with `--inventory-map`). Each row becomes
//! an `InventoryRow` keyed by its InternetMessageId, normalized as the scope engine normalizes
//! audit records' ids, and is packed into the file's `InventoryRows`; rows of one message (one
//! per recipient, one per transport event) are merged later (`frame::messages`). The columns
//! and their sources: `docs/inventories.md`.

use super::{FileNote, ParsedFile, Reject, RejectKind};
use crate::model::{Format, InventoryRow, InventoryRows, normalize_message_id};
use crate::time::{self, DateOrder};
use crate::warning::WarningCode;
use serde_json::Value;
use std::collections::BTreeMap;

/// A field of the canonical message record, as `--inventory-map` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    InternetMessageId,
    Subject,
    Sender,
    Recipients,
    Received,
    Size,
    Direction,
    Mailbox,
    Folder,
    ItemId,
}

impl Field {
    const NAMES: [(&'static str, Field); 10] = [
        ("internet_message_id", Field::InternetMessageId),
        ("subject", Field::Subject),
        ("sender", Field::Sender),
        ("recipients", Field::Recipients),
        ("received", Field::Received),
        ("size", Field::Size),
        ("direction", Field::Direction),
        ("mailbox", Field::Mailbox),
        ("folder", Field::Folder),
        ("item_id", Field::ItemId),
    ];
    fn name(self) -> &'static str {
        Field::NAMES
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("", |(n, _)| n)
    }
    fn from_name(name: &str) -> Option<Field> {
        Field::NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
            .map(|(_, f)| *f)
    }
}

/// `--inventory-map internet_message_id=Message-ID,subject=Subject,…`: which header column
/// holds which field (`recipients` may be given several times: To, Cc, Bcc).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventoryMap {
    pub columns: Vec<(Field, String)>,
}

impl InventoryMap {
    /// `--inventory-map`'s value; an error says which pair is wrong.
    pub fn parse(text: &str) -> crate::error::Result<InventoryMap> {
        Self::columns_of(text).map_err(crate::error::Error::Usage)
    }

    fn columns_of(text: &str) -> Result<InventoryMap, String> {
        let mut columns = Vec::new();
        for pair in text.split(',').filter(|p| !p.trim().is_empty()) {
            let (field, column) = pair
                .split_once('=')
                .ok_or_else(|| format!("'{pair}' is not field=Column"))?;
            let f = Field::from_name(field).ok_or_else(|| {
                format!(
                    "unknown field '{}' (fields: {})",
                    field.trim(),
                    Field::NAMES.map(|(n, _)| n).join(", ")
                )
            })?;
            if column.trim().is_empty() {
                return Err(format!("'{}' names no column", pair.trim()));
            }
            columns.push((f, column.trim().to_string()));
        }
        if columns.is_empty() {
            return Err(
                "the map is empty: give field=Column pairs, e.g. internet_message_id=Message-ID,subject=Subject"
                    .into(),
            );
        }
        if !columns.iter().any(|(f, _)| *f == Field::InternetMessageId) {
            return Err("the map must name the internet_message_id column".into());
        }
        Ok(InventoryMap { columns })
    }

    /// The header column that holds the InternetMessageId.
    pub fn id_column(&self) -> &str {
        self.columns
            .iter()
            .find(|(f, _)| *f == Field::InternetMessageId)
            .map(|(_, c)| c.as_str())
            .unwrap_or_default()
    }

    /// Why a CSV with this header cannot be read with the map: the mapped columns it lacks (a
    /// typo would otherwise leave a field empty in every row, and its counts silently zero).
    pub fn unknown_columns(&self, header: &[String]) -> Option<String> {
        let lower = header_names(header);
        let missing: Vec<String> = self
            .columns
            .iter()
            .filter(|(_, c)| !lower.contains(&c.to_ascii_lowercase()))
            .map(|(f, c)| format!("'{c}' ({})", f.name()))
            .collect();
        if missing.is_empty() {
            return None;
        }
        // The header as the file has it, so that the typo is plain; bounded, as reports travel.
        const SHOWN: usize = 40;
        let mut has: Vec<String> = header
            .iter()
            .take(SHOWN)
            .map(|c| {
                let c = c.trim().trim_start_matches('\u{feff}');
                format!("'{}'", c.chars().take(60).collect::<String>())
            })
            .collect();
        if header.len() > SHOWN {
            has.push(format!("… {} more", header.len() - SHOWN));
        }
        Some(format!(
            "--inventory-map names column(s) this file does not have: {}; its header has {}",
            missing.join(", "),
            has.join(", ")
        ))
    }
}

/// Header cells as `--inventory-map` and the shapes name them: trimmed, lowercased.
fn header_names(header: &[String]) -> Vec<String> {
    header
        .iter()
        .map(|c| c.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect()
}

/// Header names (lowercased) per field, in preference order, for each inventory shape.
fn known_columns(format: Format) -> Vec<(Field, &'static [&'static str])> {
    use Field::*;
    match format {
        Format::MessageTraceCsv => vec![
            (InternetMessageId, &["messageid"]),
            (Subject, &["subject"]),
            (Sender, &["senderaddress"]),
            (Recipients, &["recipientaddress"]),
            (Received, &["received"]),
            (Size, &["size"]),
        ],
        Format::MessageTraceReportCsv => vec![
            (InternetMessageId, &["message_id"]),
            (Subject, &["message_subject"]),
            (Sender, &["sender_address"]),
            (
                Recipients,
                &[
                    "recipient_status",
                    "recipient_address",
                    "related_recipient_address",
                ],
            ),
            (
                Received,
                &["origin_timestamp_utc", "origin_timestamp", "date_time_utc"],
            ),
            (Size, &["total_bytes"]),
            (Direction, &["directionality"]),
        ],
        Format::EdiscoveryItemsCsv => vec![
            (
                InternetMessageId,
                &["internet message id", "internetmessageid", "message id"],
            ),
            (Subject, &["subject or title", "subject"]),
            (Sender, &["sender or created by", "sender", "from"]),
            (
                Recipients,
                &[
                    "recipients in to line",
                    "recipients in cc line",
                    "recipients in bcc line",
                    "to - expanded",
                    "cc - expanded",
                    "bcc - expanded",
                ],
            ),
            (Received, &["received or created", "received", "sent"]),
            (Size, &["size"]),
            (Mailbox, &["location", "location name", "custodian"]),
            (
                Folder,
                &[
                    "original path",
                    "folder path",
                    "target path",
                    "export item path",
                ],
            ),
        ],
        Format::MessageTrackingLog => vec![
            (InternetMessageId, &["message-id"]),
            (Subject, &["message-subject"]),
            (Sender, &["sender-address"]),
            (Recipients, &["recipient-address"]),
            (Received, &["date-time"]),
            (Size, &["total-bytes"]),
            (Direction, &["directionality"]),
        ],
        Format::EmailEventsCsv => vec![
            (InternetMessageId, &["internetmessageid"]),
            (Subject, &["subject"]),
            (Sender, &["senderfromaddress", "sendermailfromaddress"]),
            (Recipients, &["recipientemailaddress"]),
            (
                Received,
                &["timestamp", "timegenerated [utc]", "timegenerated"],
            ),
            (Direction, &["emaildirection"]),
        ],
        _ => Vec::new(),
    }
}

/// Where each field is in a CSV header: every column that may hold it, preferred first.
#[derive(Debug, Clone, Default)]
pub struct CsvFields {
    columns: BTreeMap<Field, Vec<(usize, String)>>,
}

impl CsvFields {
    /// The fields of `header` for an inventory shape, or from the user's map. `None` when the
    /// header has no InternetMessageId column.
    pub fn of(format: Format, header: &[String], map: Option<&InventoryMap>) -> Option<CsvFields> {
        let lower = header_names(header);
        let mut columns: BTreeMap<Field, Vec<(usize, String)>> = BTreeMap::new();
        let mut add = |field: Field, name: &str| {
            if let Some(i) = lower.iter().position(|c| c == &name.to_ascii_lowercase()) {
                columns
                    .entry(field)
                    .or_default()
                    .push((i, lower[i].clone()));
            }
        };
        match (format, map) {
            (Format::MappedInventoryCsv, Some(map)) => {
                for (field, column) in &map.columns {
                    add(*field, column);
                }
            }
            _ => {
                for (field, names) in known_columns(format) {
                    for name in names {
                        add(field, name);
                    }
                }
            }
        }
        columns
            .contains_key(&Field::InternetMessageId)
            .then_some(CsvFields { columns })
    }

    fn first<'r>(&self, field: Field, row: &'r ::csv::StringRecord) -> Option<&'r str> {
        self.columns
            .get(&field)?
            .iter()
            .filter_map(|(i, _)| row.get(*i))
            .map(str::trim)
            .find(|v| !v.is_empty())
    }
}

/// Addresses in a cell: `a@x; b@y`, `Name <a@x>, …`, EAC's `a@x##Receive, Deliver;b@y##…`.
pub fn addresses(cell: &str, column: &str) -> Vec<String> {
    let parts: Vec<&str> = if column == "recipient_status" {
        cell.split(';')
            .map(|p| p.split("##").next().unwrap_or(""))
            .collect()
    } else {
        cell.split([';', ',', '\n']).collect()
    };
    let mut out: Vec<String> = parts.into_iter().filter_map(address).collect();
    out.sort();
    out.dedup();
    out
}

/// The address in `Name <a@x>` or `a@x`, lowercased; `None` when there is none.
pub fn address(part: &str) -> Option<String> {
    let p = part.trim();
    let p = match (p.rfind('<'), p.rfind('>')) {
        (Some(a), Some(b)) if a < b => &p[a + 1..b],
        _ => p,
    };
    let p = p.trim().trim_matches(['"', '\'']);
    let p = p
        .strip_prefix("smtp:")
        .or(p.strip_prefix("SMTP:"))
        .unwrap_or(p);
    (p.contains('@') && !p.contains(char::is_whitespace) && p.len() <= 320)
        .then(|| p.to_lowercase())
}

fn direction(text: &str) -> String {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "incoming" | "inbound" => "inbound".into(),
        "2" | "originating" | "outgoing" | "outbound" => "outbound".into(),
        "intra-org" | "intraorg" | "intra org" => "intra-org".into(),
        other => other.to_string(),
    }
}

/// A date cell: ISO (UTC unless it says otherwise), or a culture date left for the file's rule.
enum When {
    At(crate::model::Micros),
    Culture(String),
    Unreadable(String),
}

fn when(text: &str) -> When {
    let t = text.trim().replacen(", ", " ", 1);
    if let Some(at) = time::parse_iso(&t) {
        return When::At(at);
    }
    // OData and Windows PowerShell's ConvertTo-Json: `/Date(1718270000000)/`, milliseconds since
    // the epoch in UTC, sometimes with the writer's offset after them (`/Date(…+0100)/`), which
    // does not change the instant.
    if let Some(ms) = t
        .strip_prefix("/Date(")
        .and_then(|r| r.strip_suffix(")/"))
        .map(|n| match n.get(1..).and_then(|r| r.rfind(['+', '-'])) {
            Some(at) if n.len() - (at + 1) == 5 => &n[..at + 1],
            _ => n,
        })
        .and_then(|n| n.parse::<i64>().ok())
    {
        return When::At(ms * 1000);
    }
    if time::parse_culture(&t, DateOrder::Mdy).is_some()
        || time::parse_culture(&t, DateOrder::Dmy).is_some()
    {
        When::Culture(t)
    } else {
        When::Unreadable(text.trim().chars().take(40).collect())
    }
}

/// A row read, with its culture date still to resolve.
struct Pending {
    row: InventoryRow,
    culture: Option<String>,
    /// The lines of the rows merged into this one after its own (`absorb`).
    more_lines: Vec<u64>,
}

impl Pending {
    /// Whether `next` is a row of the same message that differs in its recipients only (a
    /// trace's rows of one message, one per recipient, one after another): merged into this
    /// one (`absorb`), `frame::messages::merge` makes of the one row what it makes of the two.
    fn absorbs(&self, next: &Pending) -> bool {
        let (a, b) = (&self.row, &next.row);
        a.internet_message_id == b.internet_message_id
            && self.culture == next.culture
            && a.received == b.received
            && a.subject == b.subject
            && a.sender == b.sender
            && a.size == b.size
            && a.direction == b.direction
            && a.mailbox == b.mailbox
            && a.folder == b.folder
            && a.item_id == b.item_id
            && a.rows.max(1) < u32::MAX / 2
    }

    fn absorb(&mut self, mut next: Pending) {
        self.row.rows = self.row.rows.max(1) + next.row.rows.max(1);
        self.more_lines.push(next.row.line);
        self.more_lines.append(&mut next.more_lines);
        for r in next.row.recipients {
            if let Err(at) = self.row.recipients.binary_search(&r) {
                self.row.recipients.insert(at, r);
            }
        }
    }
}

/// A file's rows as they are read: each packed (`InventoryRows`) once the next shows it takes
/// no more rows in (a row struct per message held a large trace at over its size), with what
/// culture dates need until the file's day/month order is known.
#[derive(Default)]
struct Read {
    rows: InventoryRows,
    /// The last row read, which the next may still merge into (`Pending::absorb`).
    last: Option<Pending>,
    /// Culture-dated rows: the packed row and where its date ends in `culture_text`.
    cultures: Vec<(usize, usize)>,
    culture_text: String,
    /// The lines of the rows merged into a culture-dated row after its own: (packed row, line).
    more_lines: Vec<(usize, u64)>,
}

impl Read {
    /// Add `p`, merged into the last row when it can be (`Pending::absorb`).
    fn push_merged(&mut self, p: Pending) {
        match &mut self.last {
            Some(last) if last.absorbs(&p) => last.absorb(p),
            _ => {
                self.pack();
                self.last = Some(p);
            }
        }
    }

    /// Add `p` as a row of its own.
    fn push(&mut self, p: Pending) {
        self.pack();
        self.last = Some(p);
        self.pack();
    }

    fn pack(&mut self) {
        let Some(Pending {
            row,
            culture,
            more_lines,
        }) = self.last.take()
        else {
            return;
        };
        let at = self.rows.len();
        self.rows.push(&row);
        if let Some(c) = culture {
            self.culture_text.push_str(&c);
            self.cultures.push((at, self.culture_text.len()));
            self.more_lines
                .extend(more_lines.into_iter().map(|line| (at, line)));
        }
    }
}

/// Inventory rows of a CSV whose header is `layout.columns`.
pub fn parse_csv(
    text: &str,
    layout: &crate::detect::CsvLayout,
    map: Option<&InventoryMap>,
    date_order: Option<DateOrder>,
    read_behind: Option<&crate::parse::ReadBehind<'_>>,
) -> ParsedFile {
    if let Some(reason) = map
        .filter(|_| layout.format == Format::MappedInventoryCsv)
        .and_then(|m| m.unknown_columns(&layout.columns))
    {
        return ParsedFile {
            unreadable: Some(reason),
            ..ParsedFile::default()
        };
    }
    let Some(mut fields) = CsvFields::of(layout.format, &layout.columns, map) else {
        return ParsedFile {
            not_audit: Some("an inventory CSV without an InternetMessageId column".into()),
            ..ParsedFile::default()
        };
    };
    let mut width = layout.columns.len();
    // A tracking log starts a new header block where the service restarted or where logs of
    // several servers were joined: `#`-directives, and a `#Fields:` list the rows after it
    // follow (W3C extended log format). Data lines start with their date-time, never `#`.
    let directives = layout.format == Format::MessageTrackingLog;
    let mut fields_unknown: Option<u64> = None;
    let body = &text[layout.header_offset..];
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .delimiter(layout.delimiter)
        .from_reader(body.as_bytes());
    let mut read = Read::default();
    let mut rejects = Vec::new();
    let mut rows = 0u64;
    let mut record = ::csv::StringRecord::new();
    let first_line = layout.header_line;
    // The header read first: the reader's position is then that of the first row (else the
    // first row is said to be on the header's line).
    if let Err(e) = reader.headers() {
        return ParsedFile {
            unreadable: Some(format!("unreadable CSV header: {e}")),
            ..ParsedFile::default()
        };
    }
    // A row's line is counted by the bytes before its first (the reader's own line count lags
    // one behind after a row whose last field is quoted, as Export-Csv writes every field).
    let (mut counted_to, mut at_line) = (0usize, first_line);
    loop {
        let before = first_line + reader.position().line().saturating_sub(1);
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                rows += 1;
                rejects.push(Reject::new(
                    before,
                    RejectKind::BadRow,
                    format!("unreadable CSV row: {e}"),
                ));
                continue;
            }
        }
        let line = match record.position() {
            Some(p) => {
                let bytes = body.as_bytes();
                let mut start = (p.byte() as usize).min(bytes.len());
                while bytes.get(start).is_some_and(|b| *b == b'\r' || *b == b'\n') {
                    start += 1;
                }
                at_line += crate::input::count_newlines(&bytes[counted_to..start.max(counted_to)]);
                // Every 32 MB read, the text behind goes back (rows own their text).
                if let Some(release) = read_behind {
                    if start >> 25 != counted_to >> 25 {
                        release(
                            &text.as_bytes()[..layout.header_offset + (start & !((1 << 25) - 1))],
                        );
                    }
                }
                counted_to = counted_to.max(start);
                at_line
            }
            None => before,
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if directives && record.get(0).is_some_and(|c| c.starts_with('#')) {
            if let Some(first) = record.get(0).and_then(|c| c.strip_prefix("#Fields:")) {
                let columns: Vec<String> = std::iter::once(first)
                    .chain(record.iter().skip(1))
                    .map(|c| c.trim().to_string())
                    .collect();
                width = columns.len();
                match CsvFields::of(layout.format, &columns, None) {
                    Some(f) => {
                        fields = f;
                        fields_unknown = None;
                    }
                    None => fields_unknown = Some(line),
                }
            }
            continue;
        }
        rows += 1;
        if let Some(at) = fields_unknown {
            rejects.push(Reject::new(
                line,
                RejectKind::MissingField,
                format!("the #Fields: line at line {at} names no message-id field"),
            ));
            continue;
        }
        if record.len() != width {
            rejects.push(Reject::new(
                line,
                RejectKind::BadRow,
                format!("expected {width} columns, found {}", record.len()),
            ));
            continue;
        }
        match csv_row(&fields, &record, line) {
            Ok(p) => read.push_merged(p),
            Err(reason) => rejects.push(Reject::new(line, RejectKind::MissingField, reason)),
        }
    }
    finish(read, rejects, rows, date_order, layout.format)
}

fn csv_row(fields: &CsvFields, row: &::csv::StringRecord, line: u64) -> Result<Pending, String> {
    let raw_id = fields
        .first(Field::InternetMessageId, row)
        .ok_or("no InternetMessageId")?;
    let id = normalize_message_id(raw_id).ok_or("no InternetMessageId")?;
    let mut recipients = Vec::new();
    for (i, column) in fields.columns.get(&Field::Recipients).into_iter().flatten() {
        if let Some(cell) = row.get(*i) {
            recipients.extend(addresses(cell, column));
        }
    }
    recipients.sort();
    recipients.dedup();
    let text = |f: Field| fields.first(f, row).map(str::to_string);
    let mut culture = None;
    let received = match fields.first(Field::Received, row).map(when) {
        Some(When::At(t)) => Some(t),
        Some(When::Culture(c)) => {
            culture = Some(c);
            None
        }
        Some(When::Unreadable(t)) => return Err(format!("unreadable date '{t}'")),
        None => None,
    };
    Ok(Pending {
        row: InventoryRow {
            internet_message_id: id.into_owned(),
            subject: text(Field::Subject),
            sender: fields.first(Field::Sender, row).and_then(address),
            recipients,
            received,
            size: fields
                .first(Field::Size, row)
                .and_then(|s| s.replace([',', ' '], "").parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(|s| s as i64),
            direction: fields.first(Field::Direction, row).map(direction),
            mailbox: fields
                .first(Field::Mailbox, row)
                .map(|m| address(m).unwrap_or_else(|| m.to_string())),
            folder: text(Field::Folder),
            item_id: text(Field::ItemId),
            line,
            rows: 1,
        },
        culture,
        more_lines: Vec::new(),
    })
}

/// Resolve the file's culture dates with one day/month order (the file's own values, else
/// `--date-order`, else month first, as for audit exports) and say which.
fn finish(
    mut read: Read,
    mut rejects: Vec<Reject>,
    rows: u64,
    date_order: Option<DateOrder>,
    format: Format,
) -> ParsedFile {
    read.pack();
    let Read {
        rows: mut inventory,
        cultures,
        culture_text,
        more_lines,
        ..
    } = read;
    let culture = |k: usize| {
        let start = if k == 0 { 0 } else { cultures[k - 1].1 };
        &culture_text[start..cultures[k].1]
    };
    let dmy = (0..cultures.len())
        .filter(|&k| time::date_order_hint(culture(k)) == Some(DateOrder::Dmy))
        .count();
    let mdy = (0..cultures.len())
        .filter(|&k| time::date_order_hint(culture(k)) == Some(DateOrder::Mdy))
        .count();
    let order = date_order.unwrap_or(if dmy > 0 && mdy == 0 {
        DateOrder::Dmy
    } else {
        DateOrder::Mdy
    });
    let mut notes = Vec::new();
    if (0..cultures.len()).any(|k| time::is_order_dependent(culture(k))) {
        let rule = match (date_order, dmy > 0, mdy > 0) {
            (Some(_), _, _) => "--date-order".to_string(),
            (None, true, true) => "CONFLICTING values; pass --date-order".to_string(),
            (None, true, false) | (None, false, true) => {
                "inferred from values with a day above 12".to_string()
            }
            (None, false, false) => {
                "no value settles the order; month/day/year assumed (pass --date-order dmy if the export was made with a day-first culture)".to_string()
            }
        };
        notes.push(FileNote {
            code: if dmy > 0 && mdy > 0 {
                WarningCode::ConflictingDateOrder
            } else if dmy + mdy == 0 && date_order.is_none() {
                WarningCode::AmbiguousDateOrder
            } else {
                WarningCode::DateOrder
            },
            message: format!(
                "{} culture-formatted date(s) read as {} (UTC, as Exchange writes them): {rule}",
                cultures
                    .iter()
                    .map(|&(at, _)| u64::from(inventory.get(at).rows))
                    .sum::<u64>(),
                order.as_str()
            ),
        });
    }
    let mut keep = vec![true; inventory.len()];
    for (k, &(at, _)) in cultures.iter().enumerate() {
        let c = culture(k);
        match time::parse_culture(c, order) {
            Some(t) => inventory.set_received(at, t),
            None => {
                keep[at] = false;
                let more = more_lines.partition_point(|&(r, _)| r < at)
                    ..more_lines.partition_point(|&(r, _)| r <= at);
                let lines = more_lines[more].iter().map(|&(_, line)| line);
                for line in std::iter::once(inventory.get(at).line).chain(lines) {
                    rejects.push(Reject::new(
                        line,
                        RejectKind::BadTime,
                        format!("unreadable date '{c}' (read as {})", order.as_str()),
                    ));
                }
            }
        }
    }
    inventory.retain(&keep);
    inventory.seal();
    rejects.sort_by_key(|r| r.line);
    ParsedFile {
        rows,
        rejects,
        notes,
        inventory,
        format: Some(format),
        ..ParsedFile::default()
    }
}

/// JSON message-trace objects, each at the line where it starts: Graph `exchangeMessageTrace`
/// (pages with `value`, arrays, JSON Lines), or PowerShell's and the Reporting Web Service's
/// PascalCase objects (`ConvertTo-Json` arrays or a lone object, OData `{"d":{"results":[…]}}`).
pub fn parse_json(text: &str, format: Format, date_order: Option<DateOrder>) -> ParsedFile {
    use serde_json::value::RawValue;
    let offset_of = |raw: &RawValue| raw.get().as_ptr() as usize - text.as_ptr() as usize;
    // Every object with its offset, in file order.
    let mut objects: Vec<(usize, &RawValue)> = Vec::new();
    let mut errors = Vec::new();
    fn collect<'t>(
        raw: &'t RawValue,
        offset_of: &dyn Fn(&RawValue) -> usize,
        out: &mut Vec<(usize, &'t RawValue)>,
        depth: usize,
    ) {
        let t = raw.get().trim_start();
        if t.starts_with('[') && depth < 3 {
            if let Ok(list) = serde_json::from_str::<Vec<&RawValue>>(raw.get()) {
                list.into_iter()
                    .for_each(|r| collect(r, offset_of, out, depth + 1));
            }
        } else if t.starts_with('{') {
            // A response wraps its records: `value` (Graph), `d` and `results` (OData verbose),
            // or `d` alone (OData verbose version 1: `{"d":[…]}`).
            #[derive(serde::Deserialize)]
            struct Page<'a> {
                #[serde(borrow)]
                value: Option<&'a RawValue>,
                #[serde(borrow)]
                results: Option<&'a RawValue>,
                #[serde(borrow)]
                d: Option<&'a RawValue>,
                #[serde(borrow)]
                records: Option<&'a RawValue>,
                /// Elasticsearch's `_search` response: `{"hits":{"hits":[…]}}`.
                #[serde(borrow)]
                hits: Option<&'a RawValue>,
            }
            let wrapped = |p: Page<'t>| {
                let is = |open: char| move |r: &&RawValue| r.get().trim_start().starts_with(open);
                // The first wrapper that holds a list, as detection finds it.
                [p.value, p.results, p.d, p.records, p.hits]
                    .into_iter()
                    .flatten()
                    .find(is('['))
                    .or(p.d.filter(is('{')))
                    .or(p.hits.filter(is('{')))
            };
            match serde_json::from_str::<Page>(raw.get())
                .ok()
                .and_then(wrapped)
            {
                Some(inner) if depth < 3 => collect(inner, offset_of, out, depth + 1),
                _ => out.push((offset_of(raw), raw)),
            }
        }
    }
    // JSON Lines go on past a line that is not JSON (a document cut short, a line of a log
    // around the export): it is rejected and reading resumes on the next line that starts a
    // record. In an array an error leaves the rest unplaceable: it is rejected whole.
    let lines = !text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('[');
    let (mut from, mut from_line) = (0usize, 1u64);
    'text: while from < text.len() {
        let mut stream = serde_json::Deserializer::from_str(&text[from..]).into_iter::<&RawValue>();
        loop {
            match stream.next() {
                None => break 'text,
                Some(Ok(raw)) => collect(raw, &offset_of, &mut objects, 0),
                Some(Err(e)) => {
                    let line = from_line + e.line().saturating_sub(1) as u64;
                    errors.push(Reject::new(
                        line,
                        RejectKind::BadJson,
                        format!("not valid JSON: {}", without_position(&e.to_string())),
                    ));
                    // On at the next line after the error's that starts a record (a `{` in
                    // its first column: the lines of a pretty-printed record between are the
                    // broken one's).
                    let rest = &text[from..];
                    let error_line_start = rest
                        .split_inclusive('\n')
                        .take(e.line().saturating_sub(1))
                        .map(str::len)
                        .sum::<usize>();
                    match memchr::memmem::find(&rest.as_bytes()[error_line_start..], b"\n{") {
                        Some(nl) if lines => {
                            let skipped = &rest[error_line_start..error_line_start + nl + 1];
                            from += error_line_start + nl + 1;
                            from_line = line + crate::input::count_newlines(skipped.as_bytes());
                        }
                        _ => break 'text,
                    }
                    continue 'text;
                }
            }
        }
    }
    let mut read = Read::default();
    let mut rejects = errors;
    let rows = (objects.len() + rejects.len()) as u64;
    let (mut counted_to, mut line) = (0usize, 1u64);
    for (at, raw) in objects {
        line += crate::input::count_newlines(&text.as_bytes()[counted_to..at]);
        counted_to = at;
        let result = match serde_json::from_str::<serde_json::Map<String, Value>>(raw.get()) {
            // The streaming API's table row is under `properties`.
            Ok(obj) if format == Format::EmailEventsJson => match obj.get("properties") {
                Some(Value::Object(row)) => email_event(row, line),
                _ => Err("no properties object (the EmailEvents row)".into()),
            },
            Ok(obj) if format == Format::ElasticMessageTraceJson => elastic_document(&obj, line),
            Ok(obj) => trace_object(&obj, line),
            Err(e) => Err(format!("not a message trace object: {e}")),
        };
        match result {
            Ok(p) => read.push(p),
            Err(reason) => rejects.push(Reject::new(line, RejectKind::MissingField, reason)),
        }
    }
    finish(read, rejects, rows, date_order, format)
}

/// One message-trace object: Graph's camelCase fields or PowerShell's and the Reporting Web
/// Service's PascalCase ones (`MessageId`, `SenderAddress`, `RecipientAddress`, `Received`,
/// `Subject`, `Size`; times without a zone are UTC, OData's `/Date(ms)/` too).
fn trace_object(m: &serde_json::Map<String, Value>, line: u64) -> Result<Pending, String> {
    let text = |keys: [&str; 2]| {
        keys.iter()
            .filter_map(|k| m.get(*k).and_then(Value::as_str))
            .map(str::trim)
            .find(|s| !s.is_empty())
    };
    let id = text(["messageId", "MessageId"])
        .and_then(normalize_message_id)
        .ok_or("no messageId")?;
    let mut culture = None;
    // Windows PowerShell 5.1's ConvertTo-Json writes a DateTime that carries PowerShell's
    // extra properties as an object, `{"value":"\/Date(ms)\/","DateTime":"Monday, …"}`: its
    // `value` is the time. Anything else that is no text is no time it can read: said, not
    // dropped (a message with no time counts as in every window).
    let received_text = match ["receivedDateTime", "Received"]
        .iter()
        .filter_map(|k| m.get(*k))
        .find(|v| !v.is_null())
    {
        None => None,
        Some(Value::String(s)) => Some(s.trim()).filter(|s| !s.is_empty()),
        Some(Value::Object(o)) => match o.get("value").and_then(Value::as_str) {
            Some(s) => Some(s.trim()),
            None => return Err("unreadable date: an object without a `value` time".into()),
        },
        // Named by its kind: the value itself may be as large as the file.
        Some(other) => {
            let kind = match other {
                Value::Bool(_) => "true or false",
                Value::Number(_) => "a number",
                _ => "a list",
            };
            return Err(format!("unreadable date: {kind}, not a time"));
        }
    };
    let received = match received_text.map(when) {
        Some(When::At(t)) => Some(t),
        Some(When::Culture(c)) => {
            culture = Some(c);
            None
        }
        Some(When::Unreadable(t)) => return Err(format!("unreadable date '{t}'")),
        None => None,
    };
    Ok(Pending {
        row: InventoryRow {
            internet_message_id: id.into_owned(),
            subject: text(["subject", "Subject"]).map(str::to_string),
            sender: text(["senderAddress", "SenderAddress"]).and_then(address),
            recipients: text(["recipientAddress", "RecipientAddress"])
                .map(|r| addresses(r, "recipientAddress"))
                .unwrap_or_default(),
            received,
            // A number, or (OData, some collectors) a number as text.
            size: ["size", "Size"]
                .iter()
                .filter_map(|k| m.get(*k))
                .find_map(|v| match v {
                    Value::String(s) => s.trim().parse().ok(),
                    v => v.as_i64(),
                }),
            line,
            ..InventoryRow::default()
        },
        culture,
        more_lines: Vec::new(),
    })
}

/// serde_json's message without its `at line L column C` (the rejection names the file's
/// line; the column of a long line helps nobody).
fn without_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map_or(message, |at| &message[..at])
}

/// The value at a dotted path of an Elasticsearch document, its objects nested
/// (`{"email":{"message_id":…}}`) or its keys dotted (`{"email.message_id":…}`), or both.
fn at_path<'v>(m: &'v serde_json::Map<String, Value>, path: &str) -> Option<&'v Value> {
    if let Some(v) = m.get(path) {
        return Some(v);
    }
    let mut cut = path.len();
    while let Some(dot) = path[..cut].rfind('.') {
        if let Some(Value::Object(inner)) = m.get(&path[..dot])
            && let Some(v) = at_path(inner, &path[dot + 1..])
        {
            return Some(v);
        }
        cut = dot;
    }
    None
}

/// One document of Elastic's Exchange Online message trace integration (one per message and
/// recipient; a hit's `_source`). The API's object is read first, as the integration keeps it
/// (`event.original`, verbatim when the `preserve_original_event` tag was set, else
/// `microsoft.online_message_trace`); the ECS fields it copied them to fill what is missing
/// (`email.message_id`, `email.from.address`, `email.to.address` (a list or one string),
/// `email.subject`, `email.delivery_timestamp`, then `@timestamp`, `email.attachments.file.size`).
/// `email.direction` is the integration's own, from its configured local domains.
fn elastic_document(m: &serde_json::Map<String, Value>, line: u64) -> Result<Pending, String> {
    let m = match m.get("_source") {
        Some(Value::Object(source)) => source,
        _ => m,
    };
    let mut api = match at_path(m, "microsoft.online_message_trace") {
        Some(Value::Object(o)) => o.clone(),
        _ => serde_json::Map::new(),
    };
    if let Some(Value::Object(original)) = at_path(m, "event.original")
        .and_then(Value::as_str)
        .and_then(|o| serde_json::from_str::<Value>(o).ok())
    {
        api.extend(original);
    }
    // Dotted keys under `microsoft.online_message_trace.` (a flattened document).
    for key in [
        "MessageId",
        "SenderAddress",
        "RecipientAddress",
        "Subject",
        "Received",
        "Size",
    ] {
        if !api.contains_key(key)
            && let Some(v) = at_path(m, &format!("microsoft.online_message_trace.{key}"))
        {
            api.insert(key.into(), v.clone());
        }
    }
    let text = |v: &Value| -> Option<String> {
        match v {
            Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            Value::Array(list) => {
                let all: Vec<&str> = list
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|s| !s.trim().is_empty())
                    .collect();
                (!all.is_empty()).then(|| all.join(";"))
            }
            _ => None,
        }
    };
    let has = |api: &serde_json::Map<String, Value>, key: &str| {
        api.get(key)
            .and_then(|v| text(v).or(v.as_i64().map(|n| n.to_string())))
            .is_some()
    };
    for (key, ecs) in [
        ("MessageId", &["email.message_id"][..]),
        (
            "SenderAddress",
            &["email.from.address", "source.user.email"][..],
        ),
        (
            "RecipientAddress",
            &["email.to.address", "destination.user.email"][..],
        ),
        ("Subject", &["email.subject"][..]),
        ("Received", &["email.delivery_timestamp", "@timestamp"][..]),
    ] {
        if !has(&api, key)
            && let Some(v) = ecs.iter().find_map(|p| at_path(m, p).and_then(text))
        {
            api.insert(key.into(), Value::String(v));
        }
    }
    if !has(&api, "Size")
        && let Some(size) = at_path(m, "email.attachments.file.size")
    {
        api.insert("Size".into(), size.clone());
    }
    let mut pending = trace_object(&api, line)?;
    pending.row.direction = at_path(m, "email.direction")
        .and_then(Value::as_str)
        .map(|d| match d.trim().to_ascii_lowercase().as_str() {
            "internal" => "intra-org".to_string(),
            other => direction(other),
        });
    Ok(pending)
}

/// One Defender `EmailEvents` row (the streaming API's `properties`): one per recipient.
fn email_event(m: &serde_json::Map<String, Value>, line: u64) -> Result<Pending, String> {
    let text = |k: &str| {
        m.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let id = text("InternetMessageId")
        .and_then(normalize_message_id)
        .ok_or("no InternetMessageId")?;
    let received = match text("Timestamp").map(when) {
        Some(When::At(t)) => Some(t),
        Some(When::Culture(t) | When::Unreadable(t)) => {
            return Err(format!("unreadable date '{t}'"));
        }
        None => None,
    };
    Ok(Pending {
        row: InventoryRow {
            internet_message_id: id.into_owned(),
            subject: text("Subject").map(str::to_string),
            sender: text("SenderFromAddress")
                .or(text("SenderMailFromAddress"))
                .and_then(address),
            recipients: text("RecipientEmailAddress")
                .map(|r| addresses(r, "RecipientEmailAddress"))
                .unwrap_or_default(),
            received,
            direction: text("EmailDirection").map(direction),
            line,
            ..InventoryRow::default()
        },
        culture: None,
        more_lines: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::inventory::json_inventory;

    #[test]
    fn addresses_in_every_written_form() {
        assert_eq!(
            addresses("Bob <Bob@Contoso.com>; carol@contoso.com", "to"),
            vec!["bob@contoso.com", "carol@contoso.com"]
        );
        assert_eq!(
            addresses(
                "bob@x.com##Receive, Deliver;SMTP:eve@y.net##Receive, Fail",
                "recipient_status"
            ),
            vec!["bob@x.com", "eve@y.net"]
        );
        assert_eq!(address("Undisclosed recipients"), None);
    }

    #[test]
    fn odata_and_powershell_dates_are_utc_milliseconds_whatever_offset_follows() {
        for (text, iso) in [
            ("/Date(1710143882000)/", "2024-03-11T07:58:02Z"),
            ("/Date(1710143882000+0100)/", "2024-03-11T07:58:02Z"),
            ("/Date(1710143882000-0500)/", "2024-03-11T07:58:02Z"),
            (
                "2024-03-11T07:58:02.1234567",
                "2024-03-11T07:58:02.1234567Z",
            ),
        ] {
            let want = time::parse_iso(iso).unwrap();
            assert!(matches!(when(text), When::At(t) if t == want), "{text}");
        }
    }

    #[test]
    fn json_inventories_are_told_apart_by_their_keys_case() {
        assert_eq!(
            json_inventory(&["messageId", "senderAddress", "recipientAddress"]),
            Some(Format::GraphMessageTraceJson)
        );
        assert_eq!(
            json_inventory(&[
                "__metadata",
                "MessageId",
                "SenderAddress",
                "RecipientAddress"
            ]),
            Some(Format::MessageTraceJson)
        );
        assert_eq!(json_inventory(&["MessageId", "SenderAddress"]), None);
        assert_eq!(
            json_inventory(&[
                "category",
                "properties.InternetMessageId",
                "properties.NetworkMessageId",
                "properties.RecipientEmailAddress",
                "properties",
            ]),
            Some(Format::EmailEventsJson)
        );
        // The keys of a record's own, not of its properties.
        assert_eq!(
            json_inventory(&[
                "InternetMessageId",
                "NetworkMessageId",
                "RecipientEmailAddress"
            ]),
            None
        );
    }

    #[test]
    fn elastic_documents_nested_dotted_or_in_a_search_response() {
        let keys = |text: &str| {
            crate::detect::first_record_keys_for_tests(text).and_then(|k| json_inventory(&k))
        };
        let nested = r#"{"@timestamp":"2024-03-11T07:58:02.123Z","email":{"message_id":"\u003cA@B\u003e","local_id":"7e","to":{"address":"Bob@X.com"},"from":{"address":["cfo@x.com"]},"delivery_timestamp":"2024-03-11T09:58:02.1234567+02:00"},"microsoft":{"online_message_trace":{"Status":"Delivered"}}}"#;
        let dotted = r#"{"@timestamp":"2024-03-11T07:58:02.123Z","microsoft.online_message_trace.MessageId":"<a@b>","microsoft.online_message_trace.RecipientAddress":"bob@x.com","email.to.address":["bob@x.com"]}"#;
        let search = format!(
            r#"{{"took":3,"hits":{{"total":{{"value":1}},"hits":[{{"_index":"x","_id":"1","_source":{nested}}}]}}}}"#
        );
        for text in [nested, dotted, &search] {
            assert_eq!(keys(text), Some(Format::ElasticMessageTraceJson), "{text}");
            let parsed = parse_json(text, Format::ElasticMessageTraceJson, None);
            assert_eq!((parsed.rows, parsed.rejects.len()), (1, 0), "{text}");
            let row = &parsed.inventory.to_rows()[0];
            assert_eq!(row.internet_message_id, "a@b");
            assert_eq!(row.recipients, ["bob@x.com"]);
        }
        // A zone is honoured: 09:58 at +02:00 is 07:58 UTC.
        let row = &parse_json(nested, Format::ElasticMessageTraceJson, None)
            .inventory
            .to_rows()[0];
        assert_eq!(
            row.received,
            time::parse_iso("2024-03-11T07:58:02.1234567Z")
        );
        assert_eq!(row.sender.as_deref(), Some("cfo@x.com"));
        // A record broken inside, pretty-printed: one rejection, read on at the next record.
        let one = r#"{"MessageId":"<a@b>","SenderAddress":"x@y.com","RecipientAddress":"b@y.com"}"#;
        let pretty = format!(
            "{one}\n{{\n  \"MessageId\": \"<c@d>\",\n  \"Size\": 12x,\n  \"Nested\": {{\"a\": 1}},\n  \"Subject\": \"s\"\n}}\n{one}\n"
        );
        let parsed = parse_json(&pretty, Format::MessageTraceJson, None);
        let lines: Vec<u64> = parsed.rejects.iter().map(|r| r.line).collect();
        assert_eq!(
            (parsed.rows, parsed.inventory.len(), lines),
            (3, 2, vec![4])
        );
        assert_eq!(parsed.inventory.get(1).line, 8);
        // The API's objects as the integration receives them (its pipeline test input, one
        // per line, ids escaped): a PowerShell-shaped trace.
        let raw = r#"{"Organization":"contoso.com","MessageId":"\u003cGVAP278MB0375@GVAP278MB0375.CHEP278.PROD.OUTLOOK.COM\u003e","Received":"2022-10-21T17:25:36.969376Z","SenderAddress":"noreply@azure.microsoft.com","RecipientAddress":"linus@contoso.com","Subject":"testmail 2","Status":"Delivered","ToIP":null,"FromIP":"40.107.23.54","Size":22761,"MessageTraceId":"a5e6dc0f-23df-4b20-d240-08dab38944a1","StartDate":"2022-10-21T09:40:10Z","EndDate":"2022-10-22T09:40:10Z","Index":0}"#;
        assert_eq!(keys(raw), Some(Format::MessageTraceJson));
        let parsed = parse_json(raw, Format::MessageTraceJson, None);
        assert_eq!(
            parsed.inventory.get(0).internet_message_id,
            "gvap278mb0375@gvap278mb0375.chep278.prod.outlook.com"
        );
        // An audit record's values and other nested keys never make it one.
        let audit = r#"{"Operation":"Send","Item":{"InternetMessageId":"<a@b>"},"Parameters":[{"Name":"microsoft.online_message_trace.MessageId"}],"email":{"subject":"x"}}"#;
        assert_eq!(keys(audit), None);
    }

    #[test]
    fn a_traces_rows_of_one_message_are_read_as_one_and_counted_as_theirs() {
        let csv = |date: &str| {
            format!(
                "MessageTraceId,MessageId,Received,SenderAddress,RecipientAddress,Subject,Size\n\
                 t1,<A@x>,{date},cfo@x.com,bob@x.com,Q1,10\n\
                 t1,<A@x>,{date},cfo@x.com,carol@x.com,Q1,10\n\
                 t2,<B@x>,{date},cfo@x.com,bob@x.com,Q2,10\n\
                 t1,<A@x>,{date},cfo@x.com,dan@x.com,Q1,10\n"
            )
        };
        let text = csv("25/3/2024 10:00:00");
        let crate::detect::Detected::Csv(layout) = crate::detect::detect(&text) else {
            panic!("not a trace")
        };
        let parsed = parse_csv(&text, &layout, None, None, None);
        let rows: Vec<(&str, u32, usize)> = parsed
            .inventory
            .iter()
            .map(|r| (r.internet_message_id, r.rows, r.recipients().count()))
            .collect();
        assert_eq!(rows, [("a@x", 2, 2), ("b@x", 1, 1), ("a@x", 1, 1)]);
        assert_eq!((parsed.rows, parsed.rejects.len()), (4, 0));
        let merged = crate::frame::messages::merge_files(vec![("t", parsed.inventory)]);
        let merged = crate::frame::messages::read(&merged.unwrap()).unwrap();
        assert_eq!((merged[0].sources, merged[0].recipients.len()), (3, 3));
        assert_eq!(merged[0].source_line, 2);
        // A day-first date read month first: every row of the merged one is rejected.
        let parsed = parse_csv(&text, &layout, None, Some(DateOrder::Mdy), None);
        let lines: Vec<u64> = parsed.rejects.iter().map(|r| r.line).collect();
        assert_eq!((parsed.rows, lines), (4, vec![2, 3, 4, 5]));
    }

    #[test]
    fn a_map_must_name_the_id_column() {
        let map = InventoryMap::parse(
            "internet_message_id=Message-ID, subject=Subject,recipients=To,recipients=Cc",
        )
        .unwrap();
        assert_eq!(map.id_column(), "Message-ID");
        assert_eq!(map.columns.len(), 4);
        assert!(InventoryMap::parse("subject=Subject").is_err());
        assert!(InventoryMap::parse("title=Subject,internet_message_id=Id").is_err());
        for empty in ["", " ", ",,", " , "] {
            assert!(
                InventoryMap::parse(empty)
                    .unwrap_err()
                    .to_string()
                    .contains("empty")
            );
        }
        assert!(
            InventoryMap::parse("internet_message_id=Id,sender= ")
                .unwrap_err()
                .to_string()
                .contains("'sender=' names no column")
        );
    }

    #[test]
    fn a_mapped_column_the_header_lacks_is_named_with_the_header() {
        let map = InventoryMap::parse("internet_message_id=Message-ID,sender=Form,subject=subject")
            .unwrap();
        let header: Vec<String> = ["Date", "From", "Subject", "\u{feff}Message-ID"]
            .map(String::from)
            .to_vec();
        let why = map.unknown_columns(&header).unwrap();
        assert!(why.contains("'Form' (sender)"), "{why}");
        assert!(
            !why.contains("Message-ID' (") && !why.contains("'subject' ("),
            "{why}"
        );
        assert!(why.contains("'Date', 'From', 'Subject'"), "{why}");
        let header = ["Form", "Subject", "Message-ID"].map(String::from).to_vec();
        assert_eq!(map.unknown_columns(&header), None);
    }
}
