//! A warning for the analyst: something in the evidence or the run that limits what the report
//! can say. Every stage (ingest, scope, report) raises them; one type so they sort together.
//! Each code is explained once, in `docs/warnings.md` (a test holds the two together).

use serde::Serialize;

macro_rules! warning_codes {
    ($($variant:ident = $name:literal,)*) => {
        /// What a warning or a file's note is about. A new code is a variant here and a section
        /// of `docs/warnings.md`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum WarningCode {
            $($variant,)*
        }

        impl WarningCode {
            pub const ALL: &[WarningCode] = &[$(WarningCode::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(WarningCode::$variant => $name,)*
                }
            }

            /// The code of a name as written in a report or a saved case.
            pub fn from_name(name: &str) -> Option<WarningCode> {
                match name {
                    $($name => Some(WarningCode::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

warning_codes! {
    // The run and its inputs.
    Unreadable = "unreadable",
    Encoding = "encoding",
    FileChangedWhileRead = "file-changed-while-read",
    CrLineEnds = "cr-line-ends",
    ProbablyTruncated = "probably-truncated",
    IncompleteExport = "incomplete-export",
    UnterminatedArray = "unterminated-array",
    SplunkPreview = "splunk-preview",
    CompletenessUnknown = "completeness-unknown",
    GraphAuditQuery = "graph-audit-query",
    ResavedCsv = "resaved-csv",
    TimezoneAssumedUtc = "timezone-assumed-utc",
    LocalTime = "local-time",
    InputTz = "input-tz",
    DateOrder = "date-order",
    AmbiguousDateOrder = "ambiguous-date-order",
    ConflictingDateOrder = "conflicting-date-order",
    RejectedRows = "rejected-rows",
    // Exports saved as Excel workbooks.
    Workbook = "workbook",
    CellError = "cell-error",
    CellPrecision = "cell-precision",
    CellLimit = "cell-limit",
    NotMailboxAudit = "not-mailbox-audit",
    // Records damaged before the export, read as far as they go.
    UnreadableCount = "unreadable-count",
    FlattenedFields = "flattened-fields",
    ContentLost = "content-lost",
    AccessTypeLost = "access-type-lost",
    FoldersLost = "folders-lost",
    RepairedStrings = "repaired-strings",
    Reconstructed = "reconstructed",
    TimeReconstructed = "time-reconstructed",
    // Copies of one record and saved cases.
    IdCollision = "id-collision",
    CopiesDifferUnkept = "copies-differ-unkept",
    CaseConflict = "case-conflict",
    CaseV1 = "case-v1",
    CaseWithoutForwarding = "case-without-forwarding",
    CaseWithoutExposure = "case-without-exposure",
    // What the scope could not see.
    AttackerPurgedSearch = "attacker-purged-search",
    NoAttackerActivity = "no-attacker-activity",
    NoAccessAuditing = "no-access-auditing",
    ThrottledNoAttacker = "throttled-no-attacker",
    TrustedHidesAttacker = "trusted-hides-attacker",
    WindowNotCovered = "window-not-covered",
    WindowPartiallyCovered = "window-partially-covered",
}

/// Codes sort by name: warnings list in the order they always have.
impl Ord for WarningCode {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for WarningCode {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// A code equals its documented name (tests and callers check reports by name).
impl PartialEq<&str> for WarningCode {
    fn eq(&self, name: &&str) -> bool {
        self.as_str() == *name
    }
}

impl std::fmt::Display for WarningCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for WarningCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Warning {
    pub code: WarningCode,
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

#[cfg(test)]
mod tests {
    use super::WarningCode;

    /// `docs/warnings.md` explains every code under a `### \`code\`` heading, and no other.
    #[test]
    fn every_code_is_documented_once_and_only_codes_are() {
        let doc = include_str!("../docs/warnings.md");
        let documented: Vec<&str> = doc
            .lines()
            .filter_map(|l| l.strip_prefix("### `")?.strip_suffix('`'))
            .collect();
        for code in WarningCode::ALL {
            let times = documented.iter().filter(|d| **d == code.as_str()).count();
            assert_eq!(
                times, 1,
                "{code} is documented {times} times in docs/warnings.md"
            );
        }
        for d in &documented {
            assert!(
                WarningCode::from_name(d).is_some(),
                "docs/warnings.md documents {d}, which is no code"
            );
        }
    }
}
