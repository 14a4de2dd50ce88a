//! A warning for the analyst: something in the evidence or the run that limits what the report
//! can say. Every stage (ingest, scope, report) raises them; one type so they sort together.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Warning {
    pub code: String,
    pub message: String,
    pub path: Option<String>,
    pub line: Option<u64>,
}

impl Warning {
    /// ` (path:line)`, ` (path)` or nothing: where the warning points.
    pub fn location(&self) -> String {
        match (&self.path, self.line) {
            (Some(p), Some(l)) => format!(" ({p}:{l})"),
            (Some(p), None) => format!(" ({p})"),
            _ => String::new(),
        }
    }
}
