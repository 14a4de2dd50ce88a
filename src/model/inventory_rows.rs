//! A message inventory's rows as read, packed: every id one after another in one string, every
//! other text (subject, sender, addresses, …) stored once per file however often it recurs, and
//! each row a few numbers into them. A million-row message trace held as `InventoryRow`s (a
//! struct and an allocation per string) took more memory than the file.

use super::{InventoryRow, Micros};
use hashbrown::HashTable;

/// Text stored once however often it is pushed: a value is its number, 1 and up (0 is none).
#[derive(Debug, Default, Clone)]
struct Pool {
    text: String,
    /// Where each value ends in `text`; each starts where the one before ends.
    ends: Vec<usize>,
    /// Every value's number, by the hash of its text.
    index: HashTable<u32>,
}

fn hash_of(text: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::default().hash_one(text)
}

fn nth<'p>(text: &'p str, ends: &[usize], n: u32) -> &'p str {
    let i = n as usize - 1;
    let start = if i == 0 { 0 } else { ends[i - 1] };
    &text[start..ends[i]]
}

impl Pool {
    fn intern(&mut self, value: &str) -> u32 {
        let Pool { text, ends, index } = self;
        let hash = hash_of(value);
        if let Some(&n) = index.find(hash, |&n| nth(text, ends, n) == value) {
            return n;
        }
        text.push_str(value);
        ends.push(text.len());
        let n = u32::try_from(ends.len()).expect("fewer than 2^32 distinct values in a file");
        index.insert_unique(hash, n, |&n| hash_of(nth(text, ends, n)));
        n
    }

    fn get(&self, n: u32) -> Option<&str> {
        (n != 0).then(|| nth(&self.text, &self.ends, n))
    }
}

/// The text fields of a row other than its id and recipients, in `Texts` order.
#[derive(Debug, Clone, Copy)]
enum Text {
    Subject,
    Sender,
    Direction,
    Mailbox,
    Folder,
    ItemId,
}

/// A row's values of `Text`, each a `Pool` number.
type Texts = [u32; 6];

/// The rows of one inventory file, in file order (see the module's comment).
#[derive(Debug, Default, Clone)]
pub struct InventoryRows {
    ids: String,
    /// Where each row's id ends in `ids`.
    id_ends: Vec<usize>,
    pool: Pool,
    texts: Vec<Texts>,
    /// Every row's recipients (`Pool` numbers), one row's after the other's.
    recipients: Vec<u32>,
    /// Where each row's recipients end in `recipients`.
    recipient_ends: Vec<usize>,
    received: Vec<Option<Micros>>,
    size: Vec<Option<i64>>,
    line: Vec<u64>,
    rows: Vec<u32>,
}

/// One row of `InventoryRows`, borrowed (no `Debug`: it would print the file's every value).
#[derive(Clone, Copy)]
pub struct RowRef<'a> {
    pub internet_message_id: &'a str,
    pub subject: Option<&'a str>,
    pub sender: Option<&'a str>,
    recipients: &'a [u32],
    pool: &'a Pool,
    pub received: Option<Micros>,
    pub size: Option<i64>,
    pub direction: Option<&'a str>,
    pub mailbox: Option<&'a str>,
    pub folder: Option<&'a str>,
    pub item_id: Option<&'a str>,
    pub line: u64,
    /// How many rows of the file this is (at least 1).
    pub rows: u32,
}

impl<'a> RowRef<'a> {
    /// Lowercased addresses, sorted, each once.
    pub fn recipients(self) -> impl Iterator<Item = &'a str> + 'a {
        let pool = self.pool;
        self.recipients
            .iter()
            .map(move |&n| pool.get(n).unwrap_or_default())
    }

    pub fn to_row(&self) -> InventoryRow {
        let owned = |v: Option<&str>| v.map(str::to_string);
        InventoryRow {
            internet_message_id: self.internet_message_id.to_string(),
            subject: owned(self.subject),
            sender: owned(self.sender),
            recipients: self.recipients().map(str::to_string).collect(),
            received: self.received,
            size: self.size,
            direction: owned(self.direction),
            mailbox: owned(self.mailbox),
            folder: owned(self.folder),
            item_id: owned(self.item_id),
            line: self.line,
            rows: self.rows,
        }
    }
}

impl InventoryRows {
    pub fn len(&self) -> usize {
        self.line.len()
    }

    pub fn is_empty(&self) -> bool {
        self.line.is_empty()
    }

    /// Add a row after the others; its recipients are kept sorted, each once.
    pub fn push(&mut self, row: &InventoryRow) {
        self.ids.push_str(&row.internet_message_id);
        self.id_ends.push(self.ids.len());
        let mut text = |v: &Option<String>| v.as_deref().map_or(0, |v| self.pool.intern(v));
        let texts = [
            text(&row.subject),
            text(&row.sender),
            text(&row.direction),
            text(&row.mailbox),
            text(&row.folder),
            text(&row.item_id),
        ];
        self.texts.push(texts);
        let start = self.recipients.len();
        for r in &row.recipients {
            let n = self.pool.intern(r);
            self.recipients.push(n);
        }
        let pool = &self.pool;
        let mine = &mut self.recipients[start..];
        mine.sort_unstable_by(|a, b| pool.get(*a).cmp(&pool.get(*b)));
        let mut kept = start;
        for i in start..self.recipients.len() {
            if kept == start || self.recipients[kept - 1] != self.recipients[i] {
                self.recipients[kept] = self.recipients[i];
                kept += 1;
            }
        }
        self.recipients.truncate(kept);
        self.recipient_ends.push(kept);
        self.received.push(row.received);
        self.size.push(row.size);
        self.line.push(row.line);
        self.rows.push(row.rows.max(1));
    }

    /// Row `i` (in file order).
    pub fn get(&self, i: usize) -> RowRef<'_> {
        let start = |ends: &[usize]| if i == 0 { 0 } else { ends[i - 1] };
        let texts = &self.texts[i];
        let text = |t: Text| self.pool.get(texts[t as usize]);
        RowRef {
            internet_message_id: &self.ids[start(&self.id_ends)..self.id_ends[i]],
            subject: text(Text::Subject),
            sender: text(Text::Sender),
            recipients: &self.recipients[start(&self.recipient_ends)..self.recipient_ends[i]],
            pool: &self.pool,
            received: self.received[i],
            size: self.size[i],
            direction: text(Text::Direction),
            mailbox: text(Text::Mailbox),
            folder: text(Text::Folder),
            item_id: text(Text::ItemId),
            line: self.line[i],
            rows: self.rows[i],
        }
    }

    /// The id of row `i`, alone (the merge sorts the rows by it).
    pub fn id(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.id_ends[i - 1] };
        &self.ids[start..self.id_ends[i]]
    }

    pub fn iter(&self) -> impl Iterator<Item = RowRef<'_>> {
        (0..self.len()).map(|i| self.get(i))
    }

    /// The rows as owned structs (tests; small files).
    pub fn to_rows(&self) -> Vec<InventoryRow> {
        self.iter().map(|r| r.to_row()).collect()
    }

    /// How many rows of the file the rows are.
    pub fn file_rows(&self) -> u64 {
        self.rows.iter().map(|&r| u64::from(r)).sum()
    }

    /// The times the rows give.
    pub fn received(&self) -> impl Iterator<Item = Micros> + Clone + '_ {
        self.received.iter().flatten().copied()
    }

    pub fn set_received(&mut self, i: usize, at: Micros) {
        self.received[i] = Some(at);
    }

    /// Keep the rows `keep` says (one `bool` a row); the others' text goes too, unless
    /// another row shares it.
    pub fn retain(&mut self, keep: &[bool]) {
        debug_assert_eq!(keep.len(), self.len());
        if keep.iter().all(|&k| k) {
            return;
        }
        let (mut ids, mut id_ends) = (String::new(), Vec::new());
        let (mut recipients, mut recipient_ends) = (Vec::new(), Vec::new());
        for i in (0..self.len()).filter(|&i| keep[i]) {
            ids.push_str(self.id(i));
            id_ends.push(ids.len());
            let start = if i == 0 {
                0
            } else {
                self.recipient_ends[i - 1]
            };
            recipients.extend_from_slice(&self.recipients[start..self.recipient_ends[i]]);
            recipient_ends.push(recipients.len());
        }
        (self.ids, self.id_ends) = (ids, id_ends);
        (self.recipients, self.recipient_ends) = (recipients, recipient_ends);
        fn kept<T: Copy>(v: &mut Vec<T>, keep: &[bool]) {
            let mut i = 0;
            v.retain(|_| {
                i += 1;
                keep[i - 1]
            });
        }
        kept(&mut self.texts, keep);
        kept(&mut self.received, keep);
        kept(&mut self.size, keep);
        kept(&mut self.line, keep);
        kept(&mut self.rows, keep);
    }

    /// No more rows will be pushed: the index that finds a value again goes (a row pushed
    /// after would store its text anew, which is still right).
    pub fn seal(&mut self) {
        self.pool.index = HashTable::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, to: &[&str], line: u64) -> InventoryRow {
        InventoryRow {
            internet_message_id: id.into(),
            subject: Some("Q1 budget".into()),
            sender: Some("cfo@contoso.com".into()),
            recipients: to.iter().map(|s| s.to_string()).collect(),
            received: Some(line as i64 * 10),
            size: (line % 2 == 0).then_some(24576),
            folder: Some("".into()),
            line,
            ..InventoryRow::default()
        }
    }

    #[test]
    fn rows_come_back_as_pushed_their_recipients_sorted_once() {
        let mut rows = InventoryRows::default();
        let pushed = [
            row("a@b", &["bob@x.com", "alice@x.com", "bob@x.com"], 2),
            row("c@d", &[], 3),
            row("", &["carol@x.com"], 4),
        ];
        for r in &pushed {
            rows.push(r);
        }
        let back = rows.to_rows();
        assert_eq!(back[0].recipients, ["alice@x.com", "bob@x.com"]);
        assert_eq!(back[0].rows, 1);
        let mut want = pushed[0].clone();
        want.recipients = vec!["alice@x.com".into(), "bob@x.com".into()];
        want.rows = 1;
        assert_eq!(back[0], want);
        // An empty value is a value, not none.
        assert_eq!(back[1].folder.as_deref(), Some(""));
        assert_eq!(back[2].internet_message_id, "");
        assert_eq!(rows.file_rows(), 3);
        // The sender and subject, shared by every row, stored once.
        assert_eq!(rows.pool.ends.len(), 6);

        rows.retain(&[false, true, true]);
        let kept = rows.to_rows();
        assert_eq!(kept.len(), 2);
        assert_eq!((kept[0].line, kept[1].line), (3, 4));
        assert_eq!(kept[1].recipients, ["carol@x.com"]);
        assert_eq!(kept[0].size, None);
        assert_eq!(rows.id(1), "");
    }
}
