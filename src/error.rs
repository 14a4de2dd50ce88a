//! The library's errors, typed with where they happened (file, line, byte offset) and what kind
//! they are, so that the command line picks exit codes from kinds and never from message text.
//! Each `Display` is the human message the run has always printed.

use std::fmt;

/// What was wrong with a row that could not become a record. The reason text says the
/// specifics; the kind is for counting and deciding, not for reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RejectKind {
    /// JSON that does not parse, or parses to something that is not a record (AuditData, a
    /// JSON Lines object).
    BadJson,
    /// An XML event that does not parse.
    BadXml,
    /// A CSV row with the wrong number of fields, or a row unreadable as CSV.
    BadRow,
    /// A row or object that holds no record (a SIEM row without its audit data).
    NotRecord,
    /// A field a record needs is empty or absent.
    MissingField,
    /// No time, or a time that no rule reads.
    BadTime,
    /// Past a limit that keeps hostile input from costing the run (nesting, size).
    TooLarge,
    /// No Microsoft 365 audit record (another application's event).
    NotAudit,
    /// A reason carried from where no kind was recorded (a case saved before kinds existed).
    #[default]
    Other,
}

impl RejectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectKind::BadJson => "bad-json",
            RejectKind::BadXml => "bad-xml",
            RejectKind::BadRow => "bad-row",
            RejectKind::NotRecord => "not-record",
            RejectKind::MissingField => "missing-field",
            RejectKind::BadTime => "bad-time",
            RejectKind::TooLarge => "too-large",
            RejectKind::NotAudit => "not-audit",
            RejectKind::Other => "other",
        }
    }
}

impl fmt::Display for RejectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A library error: what failed, with the path and place it failed at.
#[derive(Debug)]
pub enum Error {
    /// A file could not be read or written.
    Io {
        path: String,
        source: std::io::Error,
    },
    /// A row or a file's content could not be read as what it claims to be.
    Parse {
        path: String,
        line: u64,
        /// Byte offset in the file's decoded text, where the parser knows it.
        offset: Option<u64>,
        kind: RejectKind,
        detail: String,
    },
    /// A file that is not of the kind it was given as (an `--ip-db` that is no MMDB).
    Invalid { path: String, detail: String },
    /// A saved case that cannot be trusted or read.
    Case { path: String, detail: String },
    /// A value given to the run (an option, an indicator file's entry) that cannot be used.
    Usage(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{path}: {source}"),
            Error::Parse {
                path,
                line,
                offset,
                detail,
                ..
            } => match offset {
                Some(at) => write!(f, "{path}: line {line}, byte offset {at}: {detail}"),
                None => write!(f, "{path}: line {line}: {detail}"),
            },
            Error::Invalid { path, detail } | Error::Case { path, detail } => {
                write!(f, "{path}: {detail}")
            }
            Error::Usage(detail) => f.write_str(detail),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parse_error_names_file_line_and_offset() {
        let e = Error::Parse {
            path: "audit.csv".into(),
            line: 3,
            offset: Some(412),
            kind: RejectKind::BadJson,
            detail: "AuditData is not valid JSON".into(),
        };
        assert_eq!(
            e.to_string(),
            "audit.csv: line 3, byte offset 412: AuditData is not valid JSON"
        );
    }

    #[test]
    fn io_errors_keep_their_source() {
        let e = Error::Io {
            path: "gone.csv".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "No such file"),
        };
        assert_eq!(e.to_string(), "gone.csv: No such file");
        assert!(std::error::Error::source(&e).is_some());
    }
}
