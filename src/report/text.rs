//! Text (terminal) and Markdown renderings of the report: one loop over its `Section`s
//! (`sections::report`), each cell written by the format's `view::Target`. For people; JSON is
//! the stable format.

use super::Report;
use super::view::{Block, Format, Level, Markdown, Section, Table, Target, Text};
use crate::zone::DisplayZone;
use std::fmt::Write as _;

/// Display settings: Markdown or plain text, and the zone times are shown in.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub markdown: bool,
    pub tz: Option<DisplayZone>,
    /// How many messages / actions per mailbox the text shows before "… and N more".
    pub list_limit: usize,
}

pub fn render(r: &Report, style: &Style) -> String {
    let (format, target): (Format, &dyn Target) = if style.markdown {
        (Format::Markdown, &Markdown(style.tz))
    } else {
        (Format::Text, &Text(style.tz))
    };
    let mut w = Writer {
        o: String::new(),
        format,
        target,
        in_sub: false,
    };
    for s in super::sections::report(r, style.list_limit) {
        w.section(&s);
    }
    w.o
}

/// The output so far, its format, and whether lines now sit under a subsection heading.
struct Writer<'a> {
    o: String,
    format: Format,
    target: &'a dyn Target,
    in_sub: bool,
}

impl Writer<'_> {
    fn md(&self) -> bool {
        self.format == Format::Markdown
    }

    /// A titled section ends with a blank line.
    fn section(&mut self, s: &Section) {
        self.in_sub = false;
        if let Some((level, title)) = &s.heading {
            let title = title.to(self.target);
            self.heading(*level, &title);
        }
        for b in &s.blocks {
            self.block(b);
        }
        if s.heading.is_some() {
            self.o.push('\n');
        }
    }

    fn heading(&mut self, level: Level, t: &str) {
        let md = self.md();
        let o = &mut self.o;
        let underline = |c: &str, max: usize| c.repeat(t.chars().count().min(max));
        let _ = match (level, md) {
            (Level::Title, true) => writeln!(o, "# {t}\n"),
            (Level::Title, false) => writeln!(o, "{t}\n{}", underline("=", usize::MAX)),
            (Level::Part | Level::Section, true) => writeln!(o, "## {t}\n"),
            (Level::Part, false) => writeln!(o, "{t}\n{}", underline("-", 100)),
            (Level::Section, false) => writeln!(o, "{t}"),
            (Level::Sub, true) => writeln!(o, "\n### {t}\n"),
            (Level::Sub, false) => writeln!(o, "  {t}:"),
        };
        self.in_sub = level == Level::Sub;
    }

    fn lines(&mut self, prefix: &str, lines: &[super::view::Prose]) {
        for l in lines {
            let _ = writeln!(self.o, "{prefix}{}", l.to(self.target));
        }
    }

    fn block(&mut self, b: &Block) {
        let md = self.md();
        let t = self.target;
        match b {
            Block::Facts(lines) => self.lines(if md { "- " } else { "" }, lines),
            Block::Heading(level, title) => self.heading(*level, &title.to(t)),
            Block::List(lines) => {
                let prefix = match (md, self.in_sub) {
                    (true, _) => "- ",
                    (false, true) => "    ",
                    (false, false) => "  ",
                };
                self.lines(prefix, lines)
            }
            Block::Nested(lines) => self.lines(if md { "  - " } else { "    " }, lines),
            Block::Remark(p) => self.line(if md { "\n> " } else { "  " }, p, ""),
            Block::Closing(p) => self.line(if md { "\n" } else { "  " }, p, ""),
            Block::Intro(p) => {
                self.line(if md { "\n" } else { "  " }, p, if md { "\n" } else { "" })
            }
            Block::Note(p) => self.line(if md { "> Note: " } else { "Note: " }, p, ""),
            Block::Table(table) => self.table(table),
            Block::Only(format, b) if *format == self.format => self.block(b),
            Block::Only(..) => {}
        }
    }

    fn line(&mut self, before: &str, p: &super::view::Prose, after: &str) {
        let _ = writeln!(self.o, "{before}{}{after}", p.to(self.target));
    }

    /// A Markdown table (in text, a line per row).
    fn table(&mut self, table: &Table) {
        if self.md() {
            let names: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
            let _ = writeln!(self.o, "| {} |", names.join(" | "));
            let _ = writeln!(self.o, "|{}", "---|".repeat(table.columns.len()));
        }
        let (open, sep, close) = if self.md() {
            ("| ", " | ", " |")
        } else {
            ("  ", "  ", "")
        };
        for row in &table.rows {
            let cells: Vec<String> = row.iter().map(|c| c.to(self.target)).collect();
            let _ = writeln!(self.o, "{open}{}{close}", cells.join(sep));
        }
    }
}
