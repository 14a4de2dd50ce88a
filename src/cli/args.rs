//! The command line's arguments (clap derive), grouped as the commands share them.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "mailscope",
    version,
    about = "Which mail did the attacker see? Compromise scope from Microsoft 365 / Exchange mailbox-audit exports, offline."
)]
#[command(
    after_help = "Example:\n  mailscope inspect evidence/\n  mailscope contexts evidence/ --mailbox alice@contoso.com\n  mailscope scope evidence/ --attacker-ip 203.0.113.66 --format json --output scope.json"
)]
pub struct Cli {
    /// No progress bar.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Worker threads (0 = one per core; at most 1024).
    #[arg(long, global = true, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=1024))]
    pub threads: u16,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// What was read: per file format, encoding, rows, records, duplicates, rejects, time span.
    Inspect(InspectArgs),
    /// Write the normalized frame (records, and items next to it) as Parquet, CSV or JSON Lines.
    Export(ExportArgs),
    /// The compromise scope per mailbox.
    Scope(ScopeArgs),
    /// One CSV row per record with its attribution, in Timesketch's import format.
    Timeline(TimelineArgs),
    /// Access contexts per mailbox (IP, session, client, app, actor, logon type), to pick indicators.
    Contexts(ContextsArgs),
    /// With no indicator: rank the suspects (IPs, networks, sessions, apps, clients, accounts)
    /// by how strongly the records say "compromise", each with its reasons (docs/hunting.md).
    Hunt(HuntArgs),
    /// Whether a saved case holds exactly what the evidence gives: exit 0 if so, 1 with the
    /// first differences if not, 2 when it cannot be told.
    Verify(VerifyArgs),
    /// Many evidence sets in one run: every subfolder of each ROOT is one incident, scoped on its
    /// own (indicators from its mailscope.toml, else the command line), with an index of all.
    /// Exit 0 when every set was done, 3 when some failed (the others are still written).
    Batch(BatchArgs),
}

#[derive(Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[arg(long, value_enum, default_value_t = InspectFormat::Text)]
    pub format: InspectFormat,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub zone: ZoneArgs,
}

#[derive(Args)]
#[command(mut_arg("output", |a| a.help(
    "FILE.parquet, FILE.csv or FILE.jsonl; items go to FILE.items.<ext>. A case's SHA-256 is printed on standard output, as `sha256sum` prints it"
)))]
pub struct ExportArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub out: OutputFileArgs,
    /// Also write the case's SHA-256 beside it, in FILE.parquet.sha256 (`<hex>  <file name>`,
    /// which `sha256sum -c` checks in that folder).
    #[arg(long)]
    pub sha256_file: bool,
}

#[derive(Args)]
#[command(after_help = "\
Verify builds what `export` would put in a case from the evidence given (the same reading,
with the same --date-order, --inventory-map and --input-tz as the export was given) and compares it with
the case, by content (Parquet bytes may differ between writes): the inputs (SHA-256, format,
encoding, size, rows, records, duplicates, rejected rows, notes), the paths skipped, every
record with its items, and the inventories' messages.

Paths: a case records its input paths as `export` was given them, perhaps on another machine.
An input of the case and a file of the evidence are the same input when their paths end alike
(at least the file name; the longest common ending wins, then equal SHA-256), so the evidence
can be verified from another folder or machine. A file that is found under another name with
the same SHA-256 is a difference (renamed). The order of the evidence does not matter: which
copy of a record is kept is decided by the copies, then by their paths.

Exit codes: 0 the case holds exactly what the evidence gives; 1 it does not (the first
differences on standard output, then how many in all); 2 cannot tell (the case is unreadable,
damaged or no case, an evidence path cannot be read, or bad arguments).

Example:
  mailscope export evidence/ --output case.parquet --sha256-file
  mailscope verify case.parquet evidence/")]
pub struct VerifyArgs {
    /// The saved case (a .parquet file `export` wrote).
    #[arg(value_name = "CASE")]
    pub case: PathBuf,
    #[command(flatten)]
    pub input: InputArgs,
    /// How many differences to show (all are counted).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub limit: usize,
}

#[derive(Args)]
#[command(mut_arg("output", |a| a.help(
    "File (or folder for csv) to write; standard output when absent (not for csv)"
)))]
pub struct ScopeArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub ind: IndicatorArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[arg(long, value_enum, default_value_t = ScopeFormat::Text)]
    pub format: ScopeFormat,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub zone: ZoneArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub ip_db: IpDbArgs,
}

#[derive(Args)]
#[command(
    after_help = "A set's indicator file is `mailscope.toml` in its folder (the format of \
`scope --indicators`); its indicators and window replace the command line's for that set. \
Outputs: DIR/<set>/scope.<format> (csv: DIR/<set>/csv/), DIR/index.html, index.json, index.csv.\n\n\
Example:\n  mailscope batch tenants/ --output-dir reports/ --format html --format json",
    mut_arg("internal_domain", |a| a.help("A domain of the organization; repeatable (see `scope --internal-domain`)")),
    mut_arg("no_subjects", |a| a.help("Leave message subjects out of every report"))
)]
pub struct BatchArgs {
    /// Folders whose subfolders are the evidence sets.
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub ind: IndicatorArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Report formats for each set; repeatable. Default: html and json.
    #[arg(long, value_enum)]
    pub format: Vec<ScopeFormat>,
    /// Where the index and each set's reports go: outside every evidence set.
    #[arg(long, value_name = "DIR")]
    pub output_dir: PathBuf,
    /// Write over reports of an earlier batch in DIR.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub zone: ZoneArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Args)]
#[command(mut_arg("output", |a| a.help("The CSV to write")))]
pub struct TimelineArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub ind: IndicatorArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub out: OutputFileArgs,
    #[command(flatten)]
    pub ip_db: IpDbArgs,
}

#[derive(Args)]
#[command(mut_arg("output", |a| a.help(None::<&str>)))]
pub struct ContextsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub ind: IndicatorArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[arg(long, value_enum, default_value_t = ContextsFmt::Text)]
    pub format: ContextsFmt,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub zone: ZoneArgs,
    #[command(flatten)]
    pub ip_db: IpDbArgs,
}

/// Where a report goes: a file instead of standard output, and whether an existing one may be
/// replaced. A command whose `--output` means more says so with `mut_arg` on its own struct.
#[derive(Args)]
pub struct OutputArgs {
    /// Write here instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
    #[arg(long)]
    pub force: bool,
}

/// The file a command must write (each command says what it is with `mut_arg`), and whether
/// an existing one may be replaced.
#[derive(Args)]
pub struct OutputFileArgs {
    #[arg(long)]
    pub output: PathBuf,
    #[arg(long)]
    pub force: bool,
}

/// What a scope report says of messages: which domains are the organization's, and whether
/// subjects appear.
#[derive(Args)]
pub struct ReportArgs {
    /// A domain of the organization (correspondents elsewhere are external); repeatable.
    /// Default: the domains of the mailboxes in the evidence.
    #[arg(long = "internal-domain", value_name = "DOMAIN", value_parser = mailscope::scope::notification::internal_domain)]
    pub internal_domain: Vec<String>,
    /// Leave message subjects out of every part of the report (for reports that circulate
    /// widely).
    #[arg(long)]
    pub no_subjects: bool,
    /// Leave the text of the attacker's mailbox and SharePoint searches out of the report
    /// (`--no-subjects` keeps it).
    #[arg(long)]
    pub no_search_text: bool,
}

impl ReportArgs {
    /// The scope's settings for these options.
    pub fn apply(&self, cfg: &mut mailscope::scope::ScopeConfig) {
        cfg.internal_domains = self
            .internal_domain
            .iter()
            .map(|d| d.trim().trim_start_matches('@').to_lowercase())
            .filter(|d| !d.is_empty())
            .collect();
        cfg.no_subjects = self.no_subjects;
        cfg.no_search_text = self.no_search_text;
    }
}

/// Offline IP enrichment (docs/hunting.md, "IP databases").
#[derive(Args)]
pub struct IpDbArgs {
    /// A MaxMind GeoLite2/GeoIP2 (ASN, City, Country) or ipinfo lite database in MMDB format:
    /// adds ASN, organisation and country to IPs (repeatable; each field from the first
    /// database that has it). Read offline, never a network call.
    #[arg(long = "ip-db", value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

impl IpDbArgs {
    /// The databases, opened; `None` when none is given.
    pub fn open(&self) -> anyhow::Result<Option<mailscope::ipdb::IpDbs>> {
        if self.files.is_empty() {
            return Ok(None);
        }
        mailscope::ipdb::IpDbs::open(&self.files)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("--ip-db {e}"))
    }
}

#[derive(Args)]
#[command(after_help = "\
A starting point for the analyst, never a verdict: review the suspects and their records, then
scope with the ones that are the attacker.

Example:
  mailscope hunt evidence/ --suggest suspects.toml
  (review and edit suspects.toml)
  mailscope scope evidence/ --indicators suspects.toml")]
pub struct HuntArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[arg(long, value_enum, default_value_t = ContextsFmt::Text)]
    pub format: ContextsFmt,
    /// How many suspects to show (default: 20 for text, all for json and csv).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Write here instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Also write an indicator file (`scope --indicators`) of the suspects scoring 50 or more,
    /// each with its reasons as comments.
    #[arg(long, value_name = "FILE")]
    pub suggest: Option<PathBuf>,
    /// Write over an existing --output or --suggest file.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub ip_db: IpDbArgs,
}

#[derive(Args)]
pub struct InputArgs {
    /// Export files or evidence folders (walked recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Day/month order for culture-formatted dates when a file does not settle it.
    #[arg(long, value_enum)]
    pub date_order: Option<DateOrderArg>,
    /// Read files instead of memory-mapping them (live or network files).
    #[arg(long)]
    pub no_mmap: bool,
    /// Columns of a CSV message inventory no built-in shape knows, e.g.
    /// `internet_message_id=Message-ID,subject=Subject,sender=From,recipients=To,recipients=Cc,received=Date`
    /// (fields: internet_message_id, subject, sender, recipients, received, size, direction,
    /// mailbox, folder, item_id).
    #[arg(long, value_name = "FIELD=COLUMN,…", value_parser = mailscope::parse::inventory::InventoryMap::parse)]
    pub inventory_map: Option<mailscope::parse::inventory::InventoryMap>,
    /// Zone of times an export wrote in local time (Sentinel `… [Local Time]` columns): UTC,
    /// +02:00, -05:00, or an IANA name like Europe/Berlin. Without it they are read as UTC,
    /// with a warning.
    // A negative offset starts with a hyphen: it is the value, not another option.
    #[arg(long, value_name = "ZONE", allow_hyphen_values = true, value_parser = parse_input_tz)]
    pub input_tz: Option<mailscope::zone::DisplayZone>,
}

/// `--input-tz` as `--tz` reads it; UTC is a zone too here (the analyst's clock was UTC).
fn parse_input_tz(text: &str) -> Result<mailscope::zone::DisplayZone, mailscope::error::Error> {
    let utc = mailscope::zone::DisplayZone::Fixed(chrono::FixedOffset::east_opt(0).expect("zero"));
    mailscope::zone::parse_zone("--input-tz", text).map(|z| z.unwrap_or(utc))
}

#[derive(Args, Default)]
pub struct IndicatorArgs {
    /// Attacker IP or CIDR (IPv4/IPv6); repeatable.
    #[arg(long = "attacker-ip", value_name = "IP|CIDR")]
    pub attacker_ip: Vec<String>,
    /// Attacker SessionId or AADSessionId; repeatable.
    #[arg(long = "attacker-session", value_name = "ID")]
    pub attacker_session: Vec<String>,
    /// Substring of the attacker's ClientInfoString; repeatable.
    #[arg(long = "attacker-client", value_name = "TEXT")]
    pub attacker_client: Vec<String>,
    /// Attacker AppId / ClientAppId; repeatable.
    #[arg(long = "attacker-app", value_name = "GUID")]
    pub attacker_app: Vec<String>,
    /// Attacker actor (UPN or SID); repeatable.
    #[arg(long = "attacker-user", value_name = "UPN|SID")]
    pub attacker_user: Vec<String>,
    /// Never attacker (IP or CIDR); repeatable.
    #[arg(long = "trusted-ip", value_name = "IP|CIDR")]
    pub trusted_ip: Vec<String>,
    /// Indicator file (TOML, or JSON by .json extension) with the same indicators, and start/end.
    #[arg(long, value_name = "FILE")]
    pub indicators: Option<PathBuf>,
    /// Do not link records to the attacker through shared sessions.
    #[arg(long)]
    pub no_session_link: bool,
    /// Do not link the grantees of the attacker's grants (FullAccess, folder permissions,
    /// SendAs, impersonation, consent to a mail app) to the attacker.
    #[arg(long)]
    pub no_grant_link: bool,
}

#[derive(Args)]
pub struct ZoneArgs {
    /// Display times in this zone (UTC, +02:00, -05:00, or an IANA name like Europe/Berlin); JSON, CSV and HTML stay UTC.
    // A negative offset starts with a hyphen: it is the value, not another option.
    #[arg(long, allow_hyphen_values = true)]
    pub tz: Option<String>,
}

#[derive(Args, Default)]
pub struct FilterArgs {
    /// Window start (RFC 3339 or YYYY-MM-DD, UTC), inclusive.
    #[arg(long)]
    pub start: Option<String>,
    /// Window end (RFC 3339 or YYYY-MM-DD, UTC), exclusive.
    #[arg(long)]
    pub end: Option<String>,
    /// Limit to these mailboxes; repeatable.
    #[arg(long)]
    pub mailbox: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum DateOrderArg {
    Mdy,
    Dmy,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum InspectFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum ContextsFmt {
    Text,
    Json,
    Csv,
}
impl std::fmt::Display for ContextsFmt {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(match self {
            ContextsFmt::Text => "text",
            ContextsFmt::Json => "json",
            ContextsFmt::Csv => "csv",
        })
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, PartialOrd, Ord)]
pub enum ScopeFormat {
    Text,
    Json,
    Csv,
    Md,
    Html,
}
