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

use crate::model::{InventoryRow, Micros};
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

/// Merge inventory rows (with the path of their file, in the run's file order) into messages,
/// sorted by id.
pub fn merge<'p>(rows: impl IntoIterator<Item = (&'p str, InventoryRow)>) -> Vec<Message> {
    merge_files(
        rows.into_iter()
            .map(|(path, row)| (path, vec![row]))
            .collect(),
    )
}

/// Merge the inventory rows of files (each with its path, in the run's file order) into
/// messages, sorted by id. The rows are sorted where they are, by index, and their text moved
/// into the messages: no copy of them is made (a message trace's rows are most of a run's
/// memory).
pub fn merge_files(mut files: Vec<(&str, Vec<InventoryRow>)>) -> Vec<Message> {
    let mut order: Vec<(u32, u32)> = Vec::with_capacity(files.iter().map(|(_, r)| r.len()).sum());
    for (f, (_, rows)) in files.iter().enumerate() {
        order.extend((0..rows.len()).map(|i| (f as u32, i as u32)));
    }
    let id = |(f, i): (u32, u32)| files[f as usize].1[i as usize].internet_message_id.as_str();
    // Stable: the rows of one id stay in the run's order.
    order.sort_by(|a, b| id(*a).cmp(id(*b)));
    // As many messages as distinct ids, allocated once: a growing list would hold twice the
    // messages' size while it is copied.
    let distinct = order.len() - order.windows(2).filter(|w| id(w[0]) == id(w[1])).count();
    let mut out: Vec<Message> = Vec::with_capacity(distinct);
    for (f, i) in order {
        let path = files[f as usize].0;
        let row = std::mem::take(&mut files[f as usize].1[i as usize]);
        let m = match out.last_mut() {
            Some(m) if m.internet_message_id == row.internet_message_id => m,
            _ => {
                out.push(Message {
                    internet_message_id: row.internet_message_id,
                    source_file: path.to_string(),
                    source_line: row.line,
                    ..Message::default()
                });
                out.last_mut().expect("pushed")
            }
        };
        m.sources += row.rows.max(1);
        m.subject = m.subject.take().or(row.subject);
        m.sender = m.sender.take().or(row.sender);
        m.direction = m.direction.take().or(row.direction);
        m.received = match (m.received, row.received) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        m.size = m.size.max(row.size);
        m.recipients.extend(row.recipients);
        m.mailboxes.extend(row.mailbox);
        m.folders.extend(row.folder);
        m.item_ids.extend(row.item_id);
    }
    drop(files);
    for m in &mut out {
        for list in [
            &mut m.recipients,
            &mut m.mailboxes,
            &mut m.folders,
            &mut m.item_ids,
        ] {
            list.sort_unstable();
            list.dedup();
            list.shrink_to_fit();
        }
    }
    out
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
}
