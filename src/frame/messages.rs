//! The frame's third table, `messages`: one row per message a message inventory knows, the
//! rows of one message (one per recipient, one per transport event, one per file) merged.
//!
//! | column | type | meaning |
//! |---|---|---|
//! | internet_message_id | str | normalized like `items.internet_message_id` |
//! | subject | str | the first non-empty subject (trace sources cut it at 256 characters) |
//! | sender | str | lowercased address |
//! | recipients | str | lowercased addresses, sorted, joined with `; ` |
//! | received | datetime[µs, UTC] | the earliest time a row gives |
//! | size | i64 | bytes, the largest a row gives |
//! | direction | str | `inbound` / `outbound` / `intra-org` when the source says |
//! | mailbox | str | mailboxes the item was found in (eDiscovery), joined with `; ` |
//! | folder | str | folders the item was found in, joined with `; ` |
//! | item_id | str | store item ids, joined with `; ` |
//! | source_file, source_line | str, u64 | the first row that named the message |
//! | sources | u32 | how many rows named it |

use super::Columns;
use super::build::{Repeats, StrColumn};
use crate::model::inventory_rows::RowRef;
use crate::model::{InventoryRows, Micros};
use polars::prelude::*;
use std::collections::BTreeMap;

pub mod col {
    pub const INTERNET_MESSAGE_ID: &str = "internet_message_id";
    pub const SUBJECT: &str = "subject";
    pub const SENDER: &str = "sender";
    pub const RECIPIENTS: &str = "recipients";
    pub const RECEIVED: &str = "received";
    pub const SIZE: &str = "size";
    pub const DIRECTION: &str = "direction";
    pub const MAILBOX: &str = "mailbox";
    pub const FOLDER: &str = "folder";
    pub const ITEM_ID: &str = "item_id";
    pub const SOURCE_FILE: &str = "source_file";
    pub const SOURCE_LINE: &str = "source_line";
    pub const SOURCES: &str = "sources";
}

/// One message of the inventories.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Message {
    pub internet_message_id: String,
    pub subject: Option<String>,
    pub sender: Option<String>,
    pub recipients: Vec<String>,
    pub received: Option<Micros>,
    pub size: Option<i64>,
    pub direction: Option<String>,
    pub mailboxes: Vec<String>,
    pub folders: Vec<String>,
    pub item_ids: Vec<String>,
    pub source_file: String,
    pub source_line: u64,
    pub sources: u32,
}

impl Message {
    /// Whether the message was delivered to, sent from, or found in `mailbox` (a lowercased
    /// address).
    pub fn concerns(&self, mailbox: &str) -> bool {
        self.sender.as_deref() == Some(mailbox)
            || self.recipients.iter().any(|r| r == mailbox)
            || self.mailboxes.iter().any(|m| m == mailbox)
    }
}

/// A text column of the table, built only once it has a value: a trace gives no mailbox,
/// folder or item id, and a null view is 16 bytes a message all the same.
struct Text {
    name: &'static str,
    repeats: Repeats,
    capacity: usize,
    nulls: usize,
    built: Option<StrColumn>,
}

impl Text {
    fn new(name: &'static str, repeats: Repeats, capacity: usize) -> Text {
        Text {
            name,
            repeats,
            capacity,
            nulls: 0,
            built: None,
        }
    }

    fn push(&mut self, value: Option<&str>) {
        match (&mut self.built, value) {
            (Some(column), value) => column.push(value),
            (None, None) => self.nulls += 1,
            (None, Some(value)) => {
                let mut column =
                    StrColumn::new(self.name, self.repeats, self.capacity, Columns::All, false);
                (0..self.nulls).for_each(|_| column.push(None));
                column.push(Some(value));
                self.built = Some(column);
            }
        }
    }

    fn finish(self) -> Column {
        match self.built.and_then(StrColumn::finish) {
            Some(column) => column,
            None => StringChunked::full_null(self.name.into(), self.nulls).into_column(),
        }
    }
}

/// Values of a list column: sorted, each once, joined with `; ` into `joined`; false when there
/// are none (the cell is null).
fn join_into(values: &mut Vec<&str>, joined: &mut String) -> bool {
    values.sort_unstable();
    values.dedup();
    joined.clear();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            joined.push_str("; ");
        }
        joined.push_str(v);
    }
    !values.is_empty()
}

/// Merge the inventory rows of files (each with its path, in the run's file order) into the
/// `messages` table, sorted by id. The rows are sorted by index and each message written
/// straight into the table's columns: a message trace is most of a run's memory, and no row or
/// message becomes a struct of strings of its own.
pub fn merge_files(files: Vec<(&str, InventoryRows)>) -> PolarsResult<DataFrame> {
    let mut order: Vec<(u32, u32)> = Vec::with_capacity(files.iter().map(|(_, r)| r.len()).sum());
    for (f, (_, rows)) in files.iter().enumerate() {
        let f = u32::try_from(f).expect("fewer than 2^32 files");
        let n = u32::try_from(rows.len()).expect("fewer than 2^32 rows in a file");
        order.extend((0..n).map(|i| (f, i)));
    }
    let id = |(f, i): (u32, u32)| files[f as usize].1.id(i as usize);
    // Stable: the rows of one id stay in the run's order.
    order.sort_by(|a, b| id(*a).cmp(id(*b)));
    let distinct = order.chunk_by(|a, b| id(*a) == id(*b)).count();
    let mut ids = Text::new(col::INTERNET_MESSAGE_ID, Repeats::Rare, distinct);
    let mut subjects = Text::new(col::SUBJECT, Repeats::Interned, distinct);
    let mut senders = Text::new(col::SENDER, Repeats::Interned, distinct);
    // One recipient (a mailbox's mail) is the most common list.
    let mut recipients = Text::new(col::RECIPIENTS, Repeats::Interned, distinct);
    let mut directions = Text::new(col::DIRECTION, Repeats::Interned, distinct);
    let mut mailboxes = Text::new(col::MAILBOX, Repeats::Interned, distinct);
    let mut folders = Text::new(col::FOLDER, Repeats::Interned, distinct);
    let mut item_ids = Text::new(col::ITEM_ID, Repeats::Rare, distinct);
    let mut source_files = Text::new(col::SOURCE_FILE, Repeats::Interned, distinct);
    let mut received = Vec::with_capacity(distinct);
    let mut sizes = Vec::with_capacity(distinct);
    let mut source_lines = Vec::with_capacity(distinct);
    let mut sources = Vec::with_capacity(distinct);
    let (mut rows, mut values, mut joined) = (Vec::new(), Vec::new(), String::new());
    for group in order.chunk_by(|a, b| id(*a) == id(*b)) {
        rows.clear();
        rows.extend(
            group
                .iter()
                .map(|&(f, i)| (files[f as usize].0, files[f as usize].1.get(i as usize))),
        );
        let (path, first) = rows[0];
        let rows = rows.iter().map(|(_, r)| r);
        ids.push(Some(first.internet_message_id));
        subjects.push(rows.clone().find_map(|r| r.subject));
        senders.push(rows.clone().find_map(|r| r.sender));
        values.clear();
        values.extend(rows.clone().flat_map(|r| r.recipients()));
        recipients.push(join_into(&mut values, &mut joined).then_some(joined.as_str()));
        received.push(rows.clone().filter_map(|r| r.received).min());
        sizes.push(rows.clone().map(|r| r.size).max().flatten());
        directions.push(rows.clone().find_map(|r| r.direction));
        for (column, value) in [
            (
                &mut mailboxes,
                (|r| r.mailbox) as fn(RowRef<'_>) -> Option<&str>,
            ),
            (&mut folders, |r| r.folder),
            (&mut item_ids, |r| r.item_id),
        ] {
            values.clear();
            values.extend(rows.clone().filter_map(|r| value(*r)));
            column.push(join_into(&mut values, &mut joined).then_some(joined.as_str()));
        }
        source_files.push(Some(path));
        source_lines.push(first.line);
        sources.push(rows.fold(0u32, |n, r| n.saturating_add(r.rows)));
    }
    drop(values);
    drop(order);
    drop(files);
    let received = Int64Chunked::from_iter_options(col::RECEIVED.into(), received.into_iter())
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        .into_series()
        .into_column();
    let columns = vec![
        ids.finish(),
        subjects.finish(),
        senders.finish(),
        recipients.finish(),
        received,
        Column::new(col::SIZE.into(), sizes),
        directions.finish(),
        mailboxes.finish(),
        folders.finish(),
        item_ids.finish(),
        source_files.finish(),
        Column::new(col::SOURCE_LINE.into(), source_lines),
        Column::new(col::SOURCES.into(), sources),
    ];
    DataFrame::new(distinct, columns)
}

/// Messages of several sources (saved cases) as one list, sorted by id: two of one id are one
/// message, as rows are in `merge`.
pub fn merge_messages(lists: impl IntoIterator<Item = Vec<Message>>) -> Vec<Message> {
    let mut by_id: BTreeMap<String, Message> = BTreeMap::new();
    for m in lists.into_iter().flatten() {
        match by_id.get_mut(&m.internet_message_id) {
            None => {
                by_id.insert(m.internet_message_id.clone(), m);
            }
            Some(a) => {
                a.sources += m.sources;
                a.subject = a.subject.take().or(m.subject);
                a.sender = a.sender.take().or(m.sender);
                a.direction = a.direction.take().or(m.direction);
                a.received = match (a.received, m.received) {
                    (Some(x), Some(y)) => Some(x.min(y)),
                    (x, y) => x.or(y),
                };
                a.size = a.size.max(m.size);
                for (into, from) in [
                    (&mut a.recipients, m.recipients),
                    (&mut a.mailboxes, m.mailboxes),
                    (&mut a.folders, m.folders),
                    (&mut a.item_ids, m.item_ids),
                ] {
                    into.extend(from);
                    into.sort();
                    into.dedup();
                }
            }
        }
    }
    by_id.into_values().collect()
}

fn joined(list: &[String]) -> Option<String> {
    (!list.is_empty()).then(|| list.join("; "))
}

fn split(text: Option<&str>) -> Vec<String> {
    text.map(|t| t.split("; ").map(str::to_string).collect())
        .unwrap_or_default()
}

/// The table of `messages`.
pub fn table(messages: &[Message]) -> PolarsResult<DataFrame> {
    let strs = |f: &dyn Fn(&Message) -> Option<String>| -> Vec<Option<String>> {
        messages.iter().map(f).collect()
    };
    let received =
        Int64Chunked::from_iter_options(col::RECEIVED.into(), messages.iter().map(|m| m.received))
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
            .into_series()
            .into_column();
    let columns = vec![
        Column::new(
            col::INTERNET_MESSAGE_ID.into(),
            strs(&|m| Some(m.internet_message_id.clone())),
        ),
        Column::new(col::SUBJECT.into(), strs(&|m| m.subject.clone())),
        Column::new(col::SENDER.into(), strs(&|m| m.sender.clone())),
        Column::new(col::RECIPIENTS.into(), strs(&|m| joined(&m.recipients))),
        received,
        Column::new(
            col::SIZE.into(),
            messages.iter().map(|m| m.size).collect::<Vec<_>>(),
        ),
        Column::new(col::DIRECTION.into(), strs(&|m| m.direction.clone())),
        Column::new(col::MAILBOX.into(), strs(&|m| joined(&m.mailboxes))),
        Column::new(col::FOLDER.into(), strs(&|m| joined(&m.folders))),
        Column::new(col::ITEM_ID.into(), strs(&|m| joined(&m.item_ids))),
        Column::new(
            col::SOURCE_FILE.into(),
            strs(&|m| Some(m.source_file.clone())),
        ),
        Column::new(
            col::SOURCE_LINE.into(),
            messages.iter().map(|m| m.source_line).collect::<Vec<_>>(),
        ),
        Column::new(
            col::SOURCES.into(),
            messages.iter().map(|m| m.sources).collect::<Vec<_>>(),
        ),
    ];
    DataFrame::new(messages.len(), columns)
}

/// The table of `messages`, their text moved into it rather than copied (a trace's messages
/// are most of a run's memory).
pub fn into_table(mut messages: Vec<Message>) -> PolarsResult<DataFrame> {
    let n = messages.len();
    // Each column's text taken out of the messages, copied into the column and freed before
    // the next.
    let mut text = |name: &str, f: &dyn Fn(&mut Message) -> Option<String>| -> Column {
        let values: Vec<Option<String>> = messages.iter_mut().map(f).collect();
        Column::new(name.into(), values)
    };
    let ids = text(col::INTERNET_MESSAGE_ID, &|m| {
        Some(std::mem::take(&mut m.internet_message_id))
    });
    let subjects = text(col::SUBJECT, &|m| m.subject.take());
    let senders = text(col::SENDER, &|m| m.sender.take());
    let recipients = text(col::RECIPIENTS, &|m| {
        joined(&std::mem::take(&mut m.recipients))
    });
    let directions = text(col::DIRECTION, &|m| m.direction.take());
    let mailboxes = text(col::MAILBOX, &|m| joined(&std::mem::take(&mut m.mailboxes)));
    let folders = text(col::FOLDER, &|m| joined(&std::mem::take(&mut m.folders)));
    let item_ids = text(col::ITEM_ID, &|m| joined(&std::mem::take(&mut m.item_ids)));
    let files = text(col::SOURCE_FILE, &|m| {
        Some(std::mem::take(&mut m.source_file))
    });
    let received =
        Int64Chunked::from_iter_options(col::RECEIVED.into(), messages.iter().map(|m| m.received))
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
            .into_series()
            .into_column();
    let columns = vec![
        ids,
        subjects,
        senders,
        recipients,
        received,
        Column::new(
            col::SIZE.into(),
            messages.iter().map(|m| m.size).collect::<Vec<_>>(),
        ),
        directions,
        mailboxes,
        folders,
        item_ids,
        files,
        Column::new(
            col::SOURCE_LINE.into(),
            messages.iter().map(|m| m.source_line).collect::<Vec<_>>(),
        ),
        Column::new(
            col::SOURCES.into(),
            messages.iter().map(|m| m.sources).collect::<Vec<_>>(),
        ),
    ];
    DataFrame::new(n, columns)
}

/// A table with no messages (and every column).
pub fn empty() -> DataFrame {
    table(&[]).expect("the empty messages table has consistent columns")
}

/// One message of a `messages` table, borrowed from its columns: the scope reads the table
/// without a second copy of its text (a million-message trace would double the run's memory).
#[derive(Debug, Clone, Copy, Default)]
pub struct MessageRef<'a> {
    pub internet_message_id: &'a str,
    pub subject: Option<&'a str>,
    pub sender: Option<&'a str>,
    recipients: Option<&'a str>,
    pub received: Option<Micros>,
    pub size: Option<i64>,
    pub direction: Option<&'a str>,
    mailboxes: Option<&'a str>,
    folders: Option<&'a str>,
    item_ids: Option<&'a str>,
    pub source_file: &'a str,
    pub source_line: u64,
    pub sources: u32,
}

/// The values of a list column (joined with `; `).
fn values(text: Option<&str>) -> impl Iterator<Item = &str> + Clone {
    text.into_iter().flat_map(|t| t.split("; "))
}

impl<'a> MessageRef<'a> {
    pub fn recipients(&self) -> impl Iterator<Item = &'a str> + Clone {
        values(self.recipients)
    }
    pub fn mailboxes(&self) -> impl Iterator<Item = &'a str> + Clone {
        values(self.mailboxes)
    }
    pub fn folders(&self) -> impl Iterator<Item = &'a str> + Clone {
        values(self.folders)
    }
    pub fn item_ids(&self) -> impl Iterator<Item = &'a str> + Clone {
        values(self.item_ids)
    }

    /// Whether the message was delivered to, sent from, or found in `mailbox` (a lowercased
    /// address).
    pub fn concerns(&self, mailbox: &str) -> bool {
        self.sender == Some(mailbox)
            || self.recipients().any(|r| r == mailbox)
            || self.mailboxes().any(|m| m == mailbox)
    }

    pub fn to_message(&self) -> Message {
        let owned = |v: Option<&str>| v.map(str::to_string);
        Message {
            internet_message_id: self.internet_message_id.to_string(),
            subject: owned(self.subject),
            sender: owned(self.sender),
            recipients: split(self.recipients),
            received: self.received,
            size: self.size,
            direction: owned(self.direction),
            mailboxes: split(self.mailboxes),
            folders: split(self.folders),
            item_ids: split(self.item_ids),
            source_file: self.source_file.to_string(),
            source_line: self.source_line,
            sources: self.sources,
        }
    }
}

/// The messages of a `messages` table, borrowed, sorted by id as it was written.
pub fn view(df: &DataFrame) -> PolarsResult<Vec<MessageRef<'_>>> {
    // Columns read by index: no per-column list beside the messages.
    let s = |name: &str| -> PolarsResult<&StringChunked> { df.column(name)?.str() };
    let (ids, subjects, senders, recipients) = (
        s(col::INTERNET_MESSAGE_ID)?,
        s(col::SUBJECT)?,
        s(col::SENDER)?,
        s(col::RECIPIENTS)?,
    );
    let (directions, mailboxes, folders, item_ids, files) = (
        s(col::DIRECTION)?,
        s(col::MAILBOX)?,
        s(col::FOLDER)?,
        s(col::ITEM_ID)?,
        s(col::SOURCE_FILE)?,
    );
    let received = df
        .column(col::RECEIVED)?
        .as_materialized_series()
        .to_physical_repr()
        .into_owned();
    let received = received.i64()?;
    let sizes = df.column(col::SIZE)?.i64()?;
    let lines = df.column(col::SOURCE_LINE)?.u64()?;
    let sources = df.column(col::SOURCES)?.u32()?;
    Ok((0..df.height())
        .map(|i| MessageRef {
            internet_message_id: ids.get(i).unwrap_or_default(),
            subject: subjects.get(i),
            sender: senders.get(i),
            recipients: recipients.get(i),
            received: received.get(i),
            size: sizes.get(i),
            direction: directions.get(i),
            mailboxes: mailboxes.get(i),
            folders: folders.get(i),
            item_ids: item_ids.get(i),
            source_file: files.get(i).unwrap_or_default(),
            source_line: lines.get(i).unwrap_or(0),
            sources: sources.get(i).unwrap_or(0),
        })
        .collect())
}

/// The messages of a `messages` table, owned, sorted by id as it was written.
pub fn read(df: &DataFrame) -> PolarsResult<Vec<Message>> {
    Ok(view(df)?.iter().map(MessageRef::to_message).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::InventoryRow;

    /// Rows of files, each with its path: rows of one path one after another are one file.
    fn merge<'p>(rows: impl IntoIterator<Item = (&'p str, InventoryRow)>) -> Vec<Message> {
        let mut files: Vec<(&str, InventoryRows)> = Vec::new();
        for (path, row) in rows {
            match files.last_mut() {
                Some((p, rows)) if *p == path => rows.push(&row),
                _ => {
                    let mut rows = InventoryRows::default();
                    rows.push(&row);
                    files.push((path, rows));
                }
            }
        }
        read(&merge_files(files).unwrap()).unwrap()
    }

    #[test]
    fn rows_of_one_message_merge_and_the_table_reads_back() {
        let row = |id: &str, to: &str, t: Micros, line: u64| InventoryRow {
            internet_message_id: id.into(),
            subject: Some("Q1 budget".into()),
            sender: Some("cfo@contoso.com".into()),
            recipients: vec![to.into()],
            received: Some(t),
            size: Some(24576),
            line,
            ..InventoryRow::default()
        };
        let merged = merge([
            ("trace.csv", row("a@b", "bob@contoso.com", 20, 3)),
            ("trace.csv", row("a@b", "alice@contoso.com", 10, 4)),
            ("trace.csv", row("c@d", "alice@contoso.com", 30, 5)),
        ]);
        assert_eq!(merged.len(), 2);
        assert_eq!(
            merged[0].recipients,
            vec!["alice@contoso.com", "bob@contoso.com"]
        );
        assert_eq!(merged[0].received, Some(10));
        assert_eq!((merged[0].source_line, merged[0].sources), (3, 2));
        assert!(merged[0].concerns("bob@contoso.com"));
        assert!(!merged[1].concerns("bob@contoso.com"));
        assert_eq!(read(&table(&merged).unwrap()).unwrap(), merged);
        assert_eq!(read(&into_table(merged.clone()).unwrap()).unwrap(), merged);
    }

    #[test]
    fn rows_of_several_files_merge_field_by_field_in_the_runs_order() {
        let row = |id: &str, line: u64| InventoryRow {
            internet_message_id: id.into(),
            line,
            ..InventoryRow::default()
        };
        let merged = merge([
            ("a.csv", row("m@x", 7)),
            (
                "a.csv",
                InventoryRow {
                    subject: Some("first said".into()),
                    size: Some(10),
                    mailbox: Some("bob@x.com".into()),
                    folder: Some("\\Inbox".into()),
                    rows: 3,
                    ..row("m@x", 8)
                },
            ),
            // A message before any row with a direction: its cell null once the column is.
            ("a.csv", row("a@x", 9)),
            (
                "b.csv",
                InventoryRow {
                    subject: Some("said later".into()),
                    sender: Some("cfo@x.com".into()),
                    received: Some(5),
                    size: Some(4),
                    direction: Some("inbound".into()),
                    mailbox: Some("alice@x.com".into()),
                    folder: Some("\\Inbox".into()),
                    item_id: Some("AAMk".into()),
                    ..row("m@x", 2)
                },
            ),
        ]);
        let want = [
            Message {
                internet_message_id: "a@x".into(),
                source_file: "a.csv".into(),
                source_line: 9,
                sources: 1,
                ..Message::default()
            },
            Message {
                internet_message_id: "m@x".into(),
                subject: Some("first said".into()),
                sender: Some("cfo@x.com".into()),
                received: Some(5),
                size: Some(10),
                direction: Some("inbound".into()),
                mailboxes: vec!["alice@x.com".into(), "bob@x.com".into()],
                folders: vec!["\\Inbox".into()],
                item_ids: vec!["AAMk".into()],
                source_file: "a.csv".into(),
                source_line: 7,
                sources: 5,
                ..Message::default()
            },
        ];
        assert_eq!(merged, want);
        // No row with a value: the column is there, all null.
        let table = merge_files(vec![("a.csv", {
            let mut rows = InventoryRows::default();
            rows.push(&row("a@x", 2));
            rows
        })])
        .unwrap();
        assert_eq!(table.column(col::DIRECTION).unwrap().null_count(), 1);
        assert_eq!(table.schema(), empty().schema());
    }
}
