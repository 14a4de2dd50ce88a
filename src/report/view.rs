//! The report's presentation model. Text a renderer writes is built from typed pieces: the
//! tool's own words, or text that came from the evidence (file names, subjects, rule names,
//! record ids). Each renderer decides per piece how to make it inert for its target, so evidence
//! text cannot reach an output unescaped because one format forgot it.

use serde::Serialize;

/// One piece of report text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Written by mailscope: safe as it is in plain text, still escaped for HTML.
    Tool(String),
    /// From the evidence or the command line: untrusted in every format.
    Evidence(String),
    /// An RFC 3339 time, shown in the report's time zone (tool text).
    Time(String),
}

/// A sentence of the report: tool text with evidence text in it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Prose(Vec<Piece>);

impl Prose {
    pub fn tool(mut self, text: impl Into<String>) -> Prose {
        self.0.push(Piece::Tool(text.into()));
        self
    }

    pub fn evidence(mut self, text: impl Into<String>) -> Prose {
        self.0.push(Piece::Evidence(text.into()));
        self
    }

    pub fn time(mut self, t: impl Into<String>) -> Prose {
        self.0.push(Piece::Time(t.into()));
        self
    }

    /// Another sentence's pieces, in place.
    pub fn then(mut self, other: Prose) -> Prose {
        self.0.extend(other.0);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Evidence values separated by `separator` (tool text).
    pub fn evidence_list<'a>(
        mut self,
        values: impl IntoIterator<Item = &'a str>,
        separator: &str,
    ) -> Prose {
        for (n, v) in values.into_iter().enumerate() {
            if n > 0 {
                self = self.tool(separator);
            }
            self = self.evidence(v);
        }
        self
    }

    /// The text as it reads, for JSON and for tests (JSON escapes it itself).
    pub fn plain(&self) -> String {
        self.render(|t| t.into(), |e| e.into())
    }

    /// The text with each piece written by the renderer's function for its kind.
    pub fn render(
        &self,
        tool: impl Fn(&str) -> String,
        evidence: impl Fn(&str) -> String,
    ) -> String {
        self.render_times(&tool, evidence, &tool)
    }

    /// `render`, with times written by `time` (a renderer's time zone).
    pub fn render_times(
        &self,
        tool: impl Fn(&str) -> String,
        evidence: impl Fn(&str) -> String,
        time: impl Fn(&str) -> String,
    ) -> String {
        self.0
            .iter()
            .map(|p| match p {
                Piece::Tool(t) => tool(t),
                Piece::Evidence(e) => evidence(e),
                Piece::Time(t) => time(t),
            })
            .collect()
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

#[cfg(test)]
mod tests {
    use super::Prose;

    #[test]
    fn each_piece_goes_through_the_function_for_its_kind() {
        let p = Prose::default()
            .tool("files (")
            .evidence_list(["a<b>.csv", "c.csv"], ", ")
            .tool(")");
        assert_eq!(p.plain(), "files (a<b>.csv, c.csv)");
        let marked = p.render(|t| t.to_string(), |e| format!("[{e}]"));
        assert_eq!(marked, "files ([a<b>.csv], [c.csv])");
    }
}
