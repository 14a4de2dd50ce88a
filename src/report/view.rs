//! The report's presentation model. What a renderer writes is built once from typed cells: the
//! tool's own words, or text that came from the evidence (file names, subjects, rule names,
//! record ids), times, counts. Each renderer is a `Target`: one function per cell kind makes a
//! cell inert for that format, so evidence text cannot reach an output unescaped because one
//! format forgot it. Cells make up `Prose` (a sentence), prose makes up `Section`s (a heading
//! and its blocks) and `Table`s (typed columns); the CSV folder is one file of rows of cells per
//! `tables::TableKind`. See `docs/report-model.md`.

use crate::escape;
use crate::zone::{self, DisplayZone};
use serde::Serialize;

/// One cell of report text: its kind decides how each format escapes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Written by mailscope: safe as it is in plain text, still escaped for HTML.
    Tool(String),
    /// From the evidence or the command line: untrusted in every format.
    Evidence(String),
    /// An identifier from the evidence (record id, message id, hash): untrusted like evidence.
    Id(String),
    /// An RFC 3339 time, shown in the report's time zone.
    Time(String),
    /// A number the tool counted.
    Count(u64),
    /// A word of the tool's vocabulary (verdict, attribution, access, reason).
    Label(&'static str),
    /// Record ids behind a finding: every one in a document, the first `shown` in text.
    Records(Vec<String>, usize),
    /// The renderer's own markup (a line break, a muted span): HTML only, nothing elsewhere.
    /// `&'static`: written in the code, so no evidence can be markup.
    Markup(&'static str),
}

impl Cell {
    /// The text as it reads, unescaped: for JSON, CSV (escaped per whole cell) and tests.
    pub fn plain(&self) -> String {
        match self {
            Cell::Tool(s) | Cell::Evidence(s) | Cell::Id(s) | Cell::Time(s) => s.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::Label(s) => s.to_string(),
            Cell::Records(ids, _) => ids.join(", "),
            Cell::Markup(_) => String::new(),
        }
    }
}

/// A format: how it writes each kind of cell.
pub trait Target {
    fn tool(&self, s: &str) -> String;
    fn evidence(&self, s: &str) -> String;
    fn time(&self, t: &str) -> String;

    fn cell(&self, c: &Cell) -> String {
        match c {
            Cell::Tool(s) => self.tool(s),
            Cell::Label(s) => self.tool(s),
            Cell::Evidence(s) | Cell::Id(s) => self.evidence(s),
            Cell::Time(t) => self.time(t),
            Cell::Count(n) => n.to_string(),
            Cell::Records(ids, shown) => self.records(ids, *shown),
            Cell::Markup(m) => self.markup(m),
        }
    }

    /// Markup is the HTML renderer's alone.
    fn markup(&self, _markup: &'static str) -> String {
        String::new()
    }

    /// Record ids: all of them, each escaped as evidence.
    fn records(&self, ids: &[String], _shown: usize) -> String {
        let all: Vec<String> = ids.iter().map(|i| self.evidence(i)).collect();
        all.join(", ")
    }
}

/// A time as the display zone shows it; `None` for text that is no RFC 3339 time (a renderer
/// then writes it as evidence: a time cell cannot carry markup or control characters either).
fn shown_time(t: &str, tz: Option<DisplayZone>) -> Option<String> {
    chrono::DateTime::parse_from_rfc3339(t)
        .is_ok()
        .then(|| zone::show(t, tz))
}

/// Plain text for a terminal or a file; times in the display zone.
pub struct Text(pub Option<DisplayZone>);
/// Markdown: evidence with its active punctuation escaped; times in the display zone.
pub struct Markdown(pub Option<DisplayZone>);
/// HTML text: everything entity-escaped, times as recorded (UTC).
pub struct Html;

impl Target for Text {
    fn tool(&self, s: &str) -> String {
        s.to_string()
    }
    fn evidence(&self, s: &str) -> String {
        escape::terminal(s).into_owned()
    }
    fn time(&self, t: &str) -> String {
        shown_time(t, self.0).unwrap_or_else(|| self.evidence(t))
    }
    /// A line of text shows the first few.
    fn records(&self, ids: &[String], shown: usize) -> String {
        let first: Vec<String> = ids.iter().take(shown).map(|i| self.evidence(i)).collect();
        if ids.len() <= shown {
            first.join(", ")
        } else {
            format!("{}, … (+{} more)", first.join(", "), ids.len() - shown)
        }
    }
}

impl Target for Markdown {
    fn tool(&self, s: &str) -> String {
        s.to_string()
    }
    fn evidence(&self, s: &str) -> String {
        escape::markdown(s)
    }
    fn time(&self, t: &str) -> String {
        shown_time(t, self.0).unwrap_or_else(|| self.evidence(t))
    }
}

impl Target for Html {
    fn tool(&self, s: &str) -> String {
        escape::html(s)
    }
    fn evidence(&self, s: &str) -> String {
        escape::html(s)
    }
    fn time(&self, t: &str) -> String {
        escape::html(t)
    }
    /// Every id, in monospace.
    fn records(&self, ids: &[String], _shown: usize) -> String {
        let ids: Vec<String> = ids.iter().map(|i| self.evidence(i)).collect();
        format!("<span class=\"mono\">{}</span>", ids.join(" "))
    }
    fn markup(&self, markup: &'static str) -> String {
        markup.to_string()
    }
}

/// A sentence of the report: tool text with evidence text in it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Prose(Vec<Cell>);

impl Prose {
    fn push(mut self, c: Cell) -> Prose {
        self.0.push(c);
        self
    }

    pub fn tool(self, text: impl Into<String>) -> Prose {
        self.push(Cell::Tool(text.into()))
    }

    pub fn evidence(self, text: impl Into<String>) -> Prose {
        self.push(Cell::Evidence(text.into()))
    }

    pub fn id(self, text: impl Into<String>) -> Prose {
        self.push(Cell::Id(text.into()))
    }

    pub fn time(self, t: impl Into<String>) -> Prose {
        self.push(Cell::Time(t.into()))
    }

    pub fn count(self, n: impl TryInto<u64>) -> Prose {
        self.push(Cell::Count(n.try_into().unwrap_or(u64::MAX)))
    }

    pub fn label(self, word: &'static str) -> Prose {
        self.push(Cell::Label(word))
    }

    /// The HTML renderer's own markup (see `Cell::Markup`).
    pub fn markup(self, markup: &'static str) -> Prose {
        self.push(Cell::Markup(markup))
    }

    /// An optional evidence value: nothing when absent.
    pub fn maybe(self, text: &Option<impl AsRef<str>>) -> Prose {
        match text {
            Some(t) => self.evidence(t.as_ref()),
            None => self,
        }
    }

    /// An optional time: nothing when absent.
    pub fn maybe_time(self, t: &Option<impl AsRef<str>>) -> Prose {
        match t {
            Some(t) => self.time(t.as_ref()),
            None => self,
        }
    }

    /// Record ids, the first `shown` of them where a line must stay short.
    pub fn records(self, ids: &[String], shown: usize) -> Prose {
        self.push(Cell::Records(ids.to_vec(), shown))
    }

    /// Another sentence's cells, in place.
    pub fn then(mut self, other: Prose) -> Prose {
        self.0.extend(other.0);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Evidence values separated by `separator` (tool text).
    pub fn evidence_list<'a>(
        self,
        values: impl IntoIterator<Item = &'a str>,
        separator: &str,
    ) -> Prose {
        self.list(values, separator, |v| Cell::Evidence(v.to_string()))
    }

    /// Identifiers separated by `separator` (tool text).
    pub fn id_list<'a>(self, values: impl IntoIterator<Item = &'a str>, separator: &str) -> Prose {
        self.list(values, separator, |v| Cell::Id(v.to_string()))
    }

    fn list<'a>(
        mut self,
        values: impl IntoIterator<Item = &'a str>,
        separator: &str,
        cell: impl Fn(&str) -> Cell,
    ) -> Prose {
        for (n, v) in values.into_iter().enumerate() {
            if n > 0 {
                self = self.tool(separator);
            }
            self = self.push(cell(v));
        }
        self
    }

    /// The text as it reads, for JSON and for tests (JSON escapes it itself).
    pub fn plain(&self) -> String {
        self.0.iter().map(Cell::plain).collect()
    }

    /// The text with each cell written by the target's function for its kind.
    pub fn to(&self, target: &dyn Target) -> String {
        self.0.iter().map(|c| target.cell(c)).collect()
    }
}

impl From<&str> for Prose {
    fn from(text: &str) -> Prose {
        Prose::default().tool(text)
    }
}

impl From<String> for Prose {
    fn from(text: String) -> Prose {
        Prose::default().tool(text)
    }
}

/// JSON keeps the plain sentence: its schema is the contract.
impl Serialize for Prose {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.plain())
    }
}

/// How deep a heading sits: the report's title, a part of it (a mailbox, the tenant), a
/// summary section, a subsection of a part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Title,
    Part,
    Section,
    Sub,
}

/// The kinds of finding a mailbox's part lists: a subsection in text and Markdown
/// (`sections::finding`), a table or list in HTML (`html::finding`). Both match on every kind,
/// so a new one does not build until each format shows it. Each format keeps its own order
/// (the golden outputs hold them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingKind {
    Throttled,
    SyncedFolders,
    Folders,
    Messages,
    Assumed,
    Forwarding,
    Sent,
    ContentSearches,
    SearchedFor,
    Unresolved,
    Actions,
}

impl FindingKind {
    /// Text and Markdown: what was read, then what left, then what is unresolved and done.
    pub const TEXT_ORDER: [FindingKind; 11] = [
        FindingKind::Throttled,
        FindingKind::SyncedFolders,
        FindingKind::Folders,
        FindingKind::Messages,
        FindingKind::Assumed,
        FindingKind::Forwarding,
        FindingKind::Sent,
        FindingKind::ContentSearches,
        FindingKind::SearchedFor,
        FindingKind::Unresolved,
        FindingKind::Actions,
    ];
    /// HTML: the attacker's actions before the unresolved binds.
    pub const HTML_ORDER: [FindingKind; 11] = [
        FindingKind::Throttled,
        FindingKind::SyncedFolders,
        FindingKind::Folders,
        FindingKind::Messages,
        FindingKind::Assumed,
        FindingKind::Forwarding,
        FindingKind::Sent,
        FindingKind::ContentSearches,
        FindingKind::SearchedFor,
        FindingKind::Actions,
        FindingKind::Unresolved,
    ];
}

/// The text formats that share `Section`s; a block may be for one of them only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
}

/// What a section holds, in order.
#[derive(Debug, Clone)]
pub enum Block {
    /// Key/value lines at the top of the report (bullets in Markdown).
    Facts(Vec<Prose>),
    /// A subsection heading.
    Heading(Level, Prose),
    /// One item a line.
    List(Vec<Prose>),
    /// Items under another item (nested one level).
    Nested(Vec<Prose>),
    /// A closing remark of a part (a caveat, a count): quoted in Markdown.
    Remark(Prose),
    /// A closing line of a part (set apart by a blank line in Markdown).
    Closing(Prose),
    /// A line introducing the list after it, within a part.
    Intro(Prose),
    /// A note on the whole report.
    Note(Prose),
    /// A table with typed columns (rows of cells; a cell may be several).
    Table(Table),
    /// A block only one format shows.
    Only(Format, Box<Block>),
}

/// A heading and its blocks; `None` heading: blocks that follow the previous section.
#[derive(Debug, Clone)]
pub struct Section {
    pub heading: Option<(Level, Prose)>,
    pub blocks: Vec<Block>,
}

impl Section {
    pub fn new(level: Level, title: impl Into<Prose>) -> Section {
        Section {
            heading: Some((level, title.into())),
            blocks: Vec::new(),
        }
    }

    pub fn untitled() -> Section {
        Section {
            heading: None,
            blocks: Vec::new(),
        }
    }

    pub fn with(mut self, block: Block) -> Section {
        self.blocks.push(block);
        self
    }

    pub fn push(&mut self, block: Block) {
        self.blocks.push(block);
    }
}

/// A table: its typed columns and rows of prose (one per column).
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Prose>>,
}

/// How a column's values read: as text, as identifiers (monospace), as numbers (aligned).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Text,
    Id,
    Number,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: ColumnKind,
}

impl Column {
    pub fn text(name: &'static str) -> Column {
        Column {
            name,
            kind: ColumnKind::Text,
        }
    }
    pub fn id(name: &'static str) -> Column {
        Column {
            name,
            kind: ColumnKind::Id,
        }
    }
    pub fn number(name: &'static str) -> Column {
        Column {
            name,
            kind: ColumnKind::Number,
        }
    }
}

impl Table {
    pub fn new(columns: Vec<Column>) -> Table {
        Table {
            columns,
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<Prose>) {
        self.rows.push(cells);
    }
}

#[cfg(test)]
mod tests {
    use super::{Cell, Html, Markdown, Prose, Target, Text};

    #[test]
    fn each_cell_goes_through_the_function_for_its_kind() {
        let p = Prose::default()
            .tool("files (")
            .evidence_list(["a<b>.csv", "c.csv"], ", ")
            .tool(")");
        assert_eq!(p.plain(), "files (a<b>.csv, c.csv)");
        assert_eq!(p.to(&Html), "files (a&lt;b&gt;.csv, c.csv)");
        assert_eq!(p.to(&Markdown(None)), "files (a\\<b\\>.csv, c.csv)");
        let line = Prose::default().tool("a\nb ").evidence("c\nd");
        assert_eq!(line.to(&Text(None)), "a\nb c\\x0ad");
    }

    #[test]
    fn an_identifier_is_evidence_and_a_count_is_a_number() {
        assert_eq!(Html.cell(&Cell::Id("<x>".into())), "&lt;x&gt;");
        assert_eq!(Markdown(None).cell(&Cell::Id("a_b".into())), "a\\_b");
        assert_eq!(Text(None).cell(&Cell::Count(7)), "7");
    }

    #[test]
    fn a_time_cell_that_is_no_time_is_escaped_as_evidence() {
        let t = Cell::Time("2024-03-12T09:45:12Z".into());
        assert_eq!(Markdown(None).cell(&t), "2024-03-12T09:45:12Z");
        let forged = Cell::Time("[x](https://evil.example)\n# y".into());
        assert_eq!(
            Text(None).cell(&forged),
            "[x](https://evil.example)\\x0a# y"
        );
        assert!(
            Markdown(None)
                .cell(&forged)
                .starts_with("\\[x\\](https\\://")
        );
    }
}
