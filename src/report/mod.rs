//! The compromise-scope report: the engine's findings (`scope::findings`) with the inputs, their
//! provenance and the run's warnings, in one serializable struct (schema `mailscope.scope.v1`)
//! that every renderer (text, Markdown, JSON, CSV, HTML) takes by reference.

pub mod contexts;
pub mod csv;
pub mod exposure;
pub mod gaps;
pub mod html;
pub mod index;
pub mod outbound;
pub mod sections;
pub mod tables;

pub mod text;
pub mod timesketch;
pub mod view;

use crate::provenance::{Provenance, SavedCaseInput, SkippedOut};
use crate::scope::indicators::Indicators;
use crate::warning::Warning;
use crate::warning::WarningCode;
use serde::Serialize;

// Renderers (`use super::*`) see the engine's findings under their own names.
use crate::scope::findings::*;

pub const SCHEMA: &str = "mailscope.scope.v1";

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub tool: Tool,
    pub command_line: Vec<String>,
    pub window: Window,
    pub indicators: Indicators,
    pub session_linking: bool,
    pub grant_linking: bool,
    pub inputs: Vec<Input>,
    /// Saved cases read instead of the evidence (`inputs` are the cases' original inputs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cases: Vec<SavedCaseInput>,
    pub skipped: Vec<SkippedOut>,
    pub records: RecordCounts,
    pub mailboxes: Vec<MailboxScope>,
    /// Attacker actions outside any mailbox (organization-wide cmdlets, consents …).
    pub tenant_actions: Vec<Action>,
    /// Transport rules the attacker set to copy or redirect the organization's mail.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tenant_forwarding: Vec<crate::scope::findings::ForwardingWindow>,
    /// Content searches of the evidence: what they covered and whether the attacker took
    /// their results.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub content_searches: Vec<crate::scope::findings::ContentSearch>,
    /// Grants attacker records made, and what their grantees did while they held them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<crate::scope::findings::GrantLink>,
    /// The attacker's search texts in records that name no mailbox (SharePoint).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub searched_for: Vec<crate::scope::findings::SearchedFor>,
    /// Records left `other` that share a strong signal with the attacker's: the indicators
    /// may be incomplete.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub indicator_gaps: Vec<crate::scope::findings::IndicatorGap>,
    /// Mailboxes seen in the window with no attacker activity (not listed).
    pub mailboxes_without_attacker_activity: u64,
    pub caveats: Vec<view::Prose>,
    pub warnings: Vec<Warning>,
    /// The message inventories given, and what each covers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inventories: Vec<InventoryCoverage>,
    /// Who must be told: messages with and without metadata, correspondents and domains.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification: Option<crate::scope::notification::Notification>,
}

/// A message inventory given as input: what it holds and what it can cover at all.
#[derive(Debug, Clone, Serialize)]
pub struct InventoryCoverage {
    pub path: String,
    pub format: &'static str,
    pub rows: u64,
    pub first_time: Option<String>,
    pub last_time: Option<String>,
    pub covers: &'static str,
}

/// What each kind of inventory can list at all: mail outside it is not listed as assumed
/// compromised, though it may be.
pub fn coverage_of(format: crate::model::Format) -> &'static str {
    use crate::model::Format::*;
    match format {
        MessageTraceCsv => {
            "message trace: only mail that crossed Exchange Online transport in the searched window (Get-MessageTrace: the last 10 days; Get-MessageTraceV2: 90 days back, 10 days a query); not mail that was in the mailbox before, nor items created in it (drafts, notes)"
        }
        MessageTraceReportCsv => {
            "message trace report from the Exchange admin center: mail that crossed transport, up to 90 days back and usually not the last 24 hours, limited by the search's sender/recipient filter"
        }
        EmailEventsJson => {
            "Defender EmailEvents from the streaming API: mail Defender for Office 365 processed while the stream ran (not LatestDelivery* changes)"
        }
        MessageTrackingLog => {
            "on-premises Exchange message tracking log: mail that crossed this server's transport while the log was kept (30 days by default), one file per server and period: mail through other servers or Exchange Online is not in it"
        }
        MessageTraceJson => {
            "message trace (Get-MessageTrace / Get-MessageTraceV2 as JSON, or the Reporting Web Service): only mail that crossed Exchange Online transport in the searched window (Get-MessageTrace: the last 10 days; Get-MessageTraceV2: 90 days back, 10 days a query)"
        }
        ElasticMessageTraceJson => {
            "Elastic's Exchange Online message trace: mail that crossed Exchange Online transport while the integration polled (it asks for the last interval each time; mail before it was set up is not in it), as far as the index keeps it"
        }
        GraphMessageTraceJson => {
            "Graph message trace: mail that crossed transport in the queried window (90 days back at most)"
        }
        EdiscoveryItemsCsv => {
            "eDiscovery export: the items of the searched locations that matched the search's query and dates, mail that never crossed transport included"
        }
        EmailEventsCsv => {
            "Defender EmailEvents: mail Defender for Office 365 processed (30 days in advanced hunting unless streamed; at most 30,000 rows a portal query)"
        }
        _ => "a mapped inventory: its coverage is that of the tool that wrote it",
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl Default for Tool {
    fn default() -> Self {
        Tool {
            name: "mailscope",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Window {
    pub start: Option<String>,
    pub end: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Input {
    pub path: String,
    pub sha256: String,
    pub format: &'static str,
    pub encoding: &'static str,
    pub bytes: u64,
    pub rows: u64,
    pub records: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// Rows that are no Microsoft 365 audit record (other applications' events): skipped.
    #[serde(skip_serializing_if = "is_zero")]
    pub not_mailbox_audit: u64,
    /// Message inventory rows read.
    #[serde(skip_serializing_if = "is_zero")]
    pub inventory_rows: u64,
    pub first_time: Option<String>,
    pub last_time: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// serde_json's pretty format (two-space indentation) for a value nested `level` deep: the
/// lines of `to_string_pretty`'s output with `level` indents before each, written in one pass.
struct NestedPretty {
    level: usize,
    has_value: bool,
}

type IoResult = std::io::Result<()>;

impl NestedPretty {
    /// `[` or `{`: one level deeper.
    fn open<W: ?Sized + std::io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> IoResult {
        self.level += 1;
        self.has_value = false;
        w.write_all(bracket)
    }
    /// `]` or `}`, on a line of its own when the container has anything in it.
    fn close<W: ?Sized + std::io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> IoResult {
        self.level -= 1;
        if self.has_value {
            self.newline(w, b"\n")?;
        }
        w.write_all(bracket)
    }
    /// Before an element or a key: a new line at the current depth.
    fn item<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> IoResult {
        self.newline(w, if first { b"\n" } else { b",\n" })
    }
    fn newline<W: ?Sized + std::io::Write>(&self, w: &mut W, text: &[u8]) -> IoResult {
        w.write_all(text)?;
        (0..self.level).try_for_each(|_| w.write_all(b"  "))
    }
}

impl serde_json::ser::Formatter for NestedPretty {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> IoResult {
        self.open(w, b"[")
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> IoResult {
        self.close(w, b"]")
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> IoResult {
        self.item(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> IoResult {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> IoResult {
        self.open(w, b"{")
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> IoResult {
        self.close(w, b"}")
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> IoResult {
        self.item(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> IoResult {
        w.write_all(b": ")
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> IoResult {
        self.has_value = true;
        Ok(())
    }
}

impl Report {
    /// The report as pretty JSON with a final newline, streamed. The mailboxes (nearly all of a
    /// large report) are rendered in parallel, a batch at a time, and set into the rest at the
    /// indentation serde_json would give them: the bytes are those of `to_writer_pretty`.
    pub fn write_json(&mut self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        use rayon::prelude::*;
        const MARK: &str = "\n  \"mailboxes\": [],\n";
        let mailboxes = std::mem::take(&mut self.mailboxes);
        let rest = serde_json::to_string_pretty(self);
        self.mailboxes = mailboxes;
        let rest = rest?;
        let at = match rest.find(MARK) {
            Some(at) if !self.mailboxes.is_empty() => at,
            _ => {
                serde_json::to_writer_pretty(&mut *w, self)?;
                return w.write_all(b"\n");
            }
        };
        w.write_all(&rest.as_bytes()[..at])?;
        w.write_all(b"\n  \"mailboxes\": [\n")?;
        // Small batches: a batch is held rendered until it is written.
        for (n, batch) in self.mailboxes.chunks(16).enumerate() {
            let rendered: Vec<Vec<u8>> = batch
                .par_iter()
                .map(|m| {
                    // Array items sit two levels deep: four spaces before every line.
                    let mut out = b"    ".to_vec();
                    let pretty = NestedPretty {
                        level: 2,
                        has_value: false,
                    };
                    let mut ser = serde_json::Serializer::with_formatter(&mut out, pretty);
                    m.serialize(&mut ser).map(|()| out)
                })
                .collect::<Result<_, _>>()?;
            for (i, item) in rendered.iter().enumerate() {
                if n > 0 || i > 0 {
                    w.write_all(b",\n")?;
                }
                w.write_all(item)?;
            }
        }
        w.write_all(b"\n  ],\n")?;
        w.write_all(&rest.as_bytes()[at + MARK.len()..])?;
        w.write_all(b"\n")
    }
}

/// The caveat every report carries once (Microsoft's own de-duplication and aggregation).
pub const LOWER_BOUND_CAVEAT: &str = "Counts are lower bounds: Microsoft de-duplicates identical MailItemsAccessed accesses within one hour and aggregates binds within two minutes.";

/// Assemble the report: the engine's findings plus inputs, counts, window coverage and caveats.
pub fn build_report(
    provenance: Provenance,
    scope: crate::scope::Scope,
    cfg: &crate::scope::ScopeConfig,
    command_line: Vec<String>,
) -> Report {
    use crate::time::rfc3339;
    let mut warnings = provenance.warnings.to_vec();
    warnings.extend(scope.warnings);
    warnings.extend(window_coverage(provenance, cfg));
    warnings.sort();
    warnings.dedup();
    let caveats = caveats(
        &scope.indicator_gaps,
        scope.notification.as_ref(),
        &warnings,
        &scope.content_searches,
    );
    let mut counts = scope.counts;
    counts.read = provenance.rows();
    counts.duplicates = provenance.duplicates();
    counts.rejected = provenance.rejected();
    counts.not_mailbox_audit = provenance.not_mailbox_audit();
    let mut report = Report {
        schema: SCHEMA,
        tool: Tool::default(),
        command_line,
        window: Window {
            start: cfg.start.map(rfc3339),
            end: cfg.end.map(rfc3339),
        },
        indicators: cfg.indicators.clone(),
        session_linking: cfg.session_link,
        grant_linking: cfg.grant_link,
        inputs: provenance.files.iter().map(input_of).collect(),
        cases: provenance.cases.to_vec(),
        skipped: provenance.skipped.to_vec(),
        records: counts,
        mailboxes: scope.mailboxes,
        tenant_actions: scope.tenant_actions,
        tenant_forwarding: scope.tenant_forwarding,
        content_searches: scope.content_searches,
        grants: scope.grants,
        searched_for: scope.searched_for,
        indicator_gaps: scope.indicator_gaps,
        mailboxes_without_attacker_activity: scope.mailboxes_without_attacker_activity,
        caveats,
        warnings,
        inventories: inventories_of(provenance),
        notification: scope.notification,
    };
    if cfg.no_subjects {
        report.leave_out_subjects();
    }
    report
}

fn input_of(f: &crate::provenance::FileSummary) -> Input {
    Input {
        path: f.path.clone(),
        sha256: f.sha256.clone(),
        format: f.format.as_str(),
        encoding: f.encoding,
        bytes: f.bytes,
        rows: f.rows,
        records: f.records,
        duplicates: f.duplicates,
        rejected: f.rejected,
        not_mailbox_audit: f.not_mailbox_audit,
        inventory_rows: f.inventory_rows,
        first_time: f.first_time.clone(),
        last_time: f.last_time.clone(),
    }
}

fn inventories_of(provenance: Provenance) -> Vec<InventoryCoverage> {
    provenance
        .files
        .iter()
        .filter(|f| f.format.is_inventory() || f.inventory_rows > 0)
        .map(|f| InventoryCoverage {
            path: f.path.clone(),
            // A Defender streaming file of audit records and EmailEvents rows: the rows'.
            format: if f.format.is_inventory() {
                f.format.as_str()
            } else {
                crate::model::Format::EmailEventsJson.as_str()
            },
            rows: f.inventory_rows,
            first_time: f.first_time.clone(),
            last_time: f.last_time.clone(),
            covers: coverage_of(if f.format.is_inventory() {
                f.format
            } else {
                crate::model::Format::EmailEventsJson
            }),
        })
        .collect()
}

/// Time coverage of the inputs against the window: a warning when they miss part of it.
fn window_coverage(provenance: Provenance, cfg: &crate::scope::ScopeConfig) -> Option<Warning> {
    use crate::time::rfc3339;
    let first = provenance
        .files
        .iter()
        .filter_map(|f| f.first_micros)
        .min()?;
    let last = provenance
        .files
        .iter()
        .filter_map(|f| f.last_micros)
        .max()?;
    let uncovered_start = cfg.start.is_some_and(|s| s < first);
    let uncovered_end = cfg.end.is_some_and(|e| e > last + 1);
    let disjoint = cfg.start.is_some_and(|s| s > last) || cfg.end.is_some_and(|e| e <= first);
    let (code, message) = if disjoint {
        (
            WarningCode::WindowNotCovered,
            format!(
                "no input covers the window: the inputs span {} to {}",
                rfc3339(first),
                rfc3339(last)
            ),
        )
    } else if uncovered_start || uncovered_end {
        (
            WarningCode::WindowPartiallyCovered,
            format!(
                "the inputs span {} to {}, which does not cover the whole window: activity outside that span is not in evidence",
                rfc3339(first),
                rfc3339(last)
            ),
        )
    } else {
        return None;
    };
    Some(Warning {
        code,
        message,
        path: None,
        line: None,
    })
}

/// The paths of the warnings with one of `codes`.
fn paths_warned<'a>(warnings: &'a [Warning], codes: &[WarningCode]) -> Vec<&'a str> {
    warnings
        .iter()
        .filter(|w| codes.contains(&w.code))
        .filter_map(|w| w.path.as_deref())
        .collect()
}

/// The report's caveats: the lower bound always, then what the gaps, the warnings and the
/// inventories say about its completeness. File names in them are evidence.
fn caveats(
    gaps: &[IndicatorGap],
    notification: Option<&crate::scope::notification::Notification>,
    warnings: &[Warning],
    searches: &[crate::scope::findings::ContentSearch],
) -> Vec<view::Prose> {
    let mut caveats = vec![view::Prose::from(LOWER_BOUND_CAVEAT)];
    if !gaps.is_empty() {
        let records: u64 = gaps.iter().map(|g| g.records).sum();
        caveats.push(view::Prose::from(format!(
            "The indicators may be incomplete: {records} record(s) not attributed to the attacker share a session, an app, a scripting client, a new network or an account with the attacker's records (see 'Indicator gaps'); review them, with `mailscope hunt`, and scope again with the ones that are the attacker's."
        )));
    }
    let incomplete = paths_warned(
        warnings,
        &[
            WarningCode::IncompleteExport,
            WarningCode::ProbablyTruncated,
        ],
    );
    if !incomplete.is_empty() {
        caveats.push(
            view::Prose::default()
                .tool("Incomplete exports (")
                .evidence_list(incomplete, ", ")
                .tool("): activity in the results they are missing is not in evidence, and the scope may be wider than reported."),
        );
    }
    let local = paths_warned(warnings, &[WarningCode::LocalTime]);
    if !local.is_empty() {
        caveats.push(
            view::Prose::default()
                .tool("Times in '[Local Time]' columns (")
                .evidence_list(local, ", ")
                .tool(") were read as UTC: they are off by the exporter's offset from UTC, which may move records into or out of the window and reorder them. Run again with --input-tz ZONE."),
        );
    }
    if let Some(n) = notification {
        if n.overall.without_metadata > 0 {
            caveats.push(view::Prose::from(format!(
                "{} message(s) in scope are in no message inventory given: their subject, sender and recipients are unknown (listed as without metadata).",
                n.overall.without_metadata
            )));
        }
        caveats.push(view::Prose::from("Messages assumed compromised with their mailbox are listed only as far as the inventories reach (see each inventory's coverage): mail outside them may be exposed too."));
    }
    for c in searches.iter().filter(|c| c.exposed && c.all_mailboxes) {
        caveats.push(
            view::Prose::default()
                .tool("The attacker took the results of content search '")
                .evidence(&c.search)
                .tool("', which covered every mailbox: mailboxes outside the evidence and the inventories are exposed too, and are not listed here."),
        );
    }
    caveats
}

impl Report {
    /// `--no-subjects`: no message subject anywhere in the report.
    pub fn leave_out_subjects(&mut self) {
        let actions = self
            .mailboxes
            .iter_mut()
            .flat_map(|m| m.actions.iter_mut())
            .chain(self.tenant_actions.iter_mut());
        for a in actions {
            a.items.iter_mut().for_each(|i| i.subject = None);
        }
        for m in &mut self.mailboxes {
            m.messages.iter_mut().for_each(|x| x.subject = None);
            m.assumed_messages.iter_mut().for_each(|x| x.subject = None);
            m.sent_messages.iter_mut().for_each(|x| x.subject = None);
        }
    }
}
