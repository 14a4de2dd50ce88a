//! The `mailscope` command line: parse arguments, build a configuration, call the library, map
//! outcomes to exit codes (0 written, 1 input or usage error, 2 nothing could be read).

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use mailscope::frame::{Columns, ExportFormat, Frame, items_path, write_table};
use mailscope::ingest::{self, Ingest, IngestOptions, Progress};
use mailscope::report::text::{Style, parse_tz};
use mailscope::scope::ScopeConfig;
use mailscope::scope::indicators::{CaseFile, Indicators};
use mailscope::time::DateOrder;
use mailscope::timing;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[cfg(feature = "fast-alloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "mailscope",
    version,
    about = "Which mail did the attacker see? Compromise scope from Microsoft 365 / Exchange mailbox-audit exports, offline."
)]
#[command(
    after_help = "Example:\n  mailscope inspect evidence/\n  mailscope contexts evidence/ --mailbox alice@contoso.com\n  mailscope scope evidence/ --attacker-ip 203.0.113.66 --format json --output scope.json"
)]
struct Cli {
    /// No progress bar.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Worker threads (0 = one per core).
    #[arg(long, global = true, default_value_t = 0)]
    threads: usize,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// What was read: per file format, encoding, rows, records, duplicates, rejects, time span.
    Inspect {
        #[command(flatten)]
        input: InputArgs,
        #[arg(long, value_enum, default_value_t = InspectFormat::Text)]
        format: InspectFormat,
        /// Write here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        #[arg(long)]
        force: bool,
    },
    /// Write the normalized frame (records, and items next to it) as Parquet, CSV or JSON Lines.
    Export {
        #[command(flatten)]
        input: InputArgs,
        /// FILE.parquet, FILE.csv or FILE.jsonl; items go to FILE.items.<ext>.
        #[arg(long)]
        output: PathBuf,
        #[arg(long)]
        force: bool,
    },
    /// The compromise scope per mailbox.
    Scope {
        #[command(flatten)]
        input: InputArgs,
        #[command(flatten)]
        ind: IndicatorArgs,
        #[command(flatten)]
        filter: FilterArgs,
        #[arg(long, value_enum, default_value_t = ScopeFormat::Text)]
        format: ScopeFormat,
        /// File (or folder for csv) to write; standard output when absent (not for csv).
        #[arg(long)]
        output: Option<PathBuf>,
        #[arg(long)]
        force: bool,
        /// Display times in this zone (UTC, +02:00, or an IANA name like Europe/Berlin); JSON, CSV and HTML stay UTC.
        #[arg(long)]
        tz: Option<String>,
    },
    /// One CSV row per record with its attribution, in Timesketch's import format.
    Timeline {
        #[command(flatten)]
        input: InputArgs,
        #[command(flatten)]
        ind: IndicatorArgs,
        #[command(flatten)]
        filter: FilterArgs,
        /// The CSV to write.
        #[arg(long)]
        output: PathBuf,
        #[arg(long)]
        force: bool,
    },
    /// Access contexts per mailbox (IP, session, client, app, actor, logon type), to pick indicators.
    Contexts {
        #[command(flatten)]
        input: InputArgs,
        #[command(flatten)]
        ind: IndicatorArgs,
        #[command(flatten)]
        filter: FilterArgs,
        #[arg(long, value_enum, default_value_t = ContextsFmt::Text)]
        format: ContextsFmt,
        #[arg(long)]
        output: Option<PathBuf>,
        #[arg(long)]
        force: bool,
    },
}

#[derive(Args)]
struct InputArgs {
    /// Export files or evidence folders (walked recursively).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Day/month order for culture-formatted dates when a file does not settle it.
    #[arg(long, value_enum)]
    date_order: Option<DateOrderArg>,
    /// Read files instead of memory-mapping them (live or network files).
    #[arg(long)]
    no_mmap: bool,
}

#[derive(Args, Default)]
struct IndicatorArgs {
    /// Attacker IP or CIDR (IPv4/IPv6); repeatable.
    #[arg(long = "attacker-ip", value_name = "IP|CIDR")]
    attacker_ip: Vec<String>,
    /// Attacker SessionId or AADSessionId; repeatable.
    #[arg(long = "attacker-session", value_name = "ID")]
    attacker_session: Vec<String>,
    /// Substring of the attacker's ClientInfoString; repeatable.
    #[arg(long = "attacker-client", value_name = "TEXT")]
    attacker_client: Vec<String>,
    /// Attacker AppId / ClientAppId; repeatable.
    #[arg(long = "attacker-app", value_name = "GUID")]
    attacker_app: Vec<String>,
    /// Attacker actor (UPN or SID); repeatable.
    #[arg(long = "attacker-user", value_name = "UPN|SID")]
    attacker_user: Vec<String>,
    /// Never attacker (IP or CIDR); repeatable.
    #[arg(long = "trusted-ip", value_name = "IP|CIDR")]
    trusted_ip: Vec<String>,
    /// Case file (TOML, or JSON by .json extension) with the same indicators, and start/end.
    #[arg(long, value_name = "FILE")]
    indicators: Option<PathBuf>,
    /// Do not link records to the attacker through shared sessions.
    #[arg(long)]
    no_session_link: bool,
}

#[derive(Args, Default)]
struct FilterArgs {
    /// Window start (RFC 3339 or YYYY-MM-DD, UTC), inclusive.
    #[arg(long)]
    start: Option<String>,
    /// Window end (RFC 3339 or YYYY-MM-DD, UTC), exclusive.
    #[arg(long)]
    end: Option<String>,
    /// Limit to these mailboxes; repeatable.
    #[arg(long)]
    mailbox: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum DateOrderArg {
    Mdy,
    Dmy,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum InspectFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum ContextsFmt {
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

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum ScopeFormat {
    Text,
    Json,
    Csv,
    Md,
    Html,
}

/// Failures and the exit code each maps to.
enum Failure {
    Usage(anyhow::Error),
    NothingRead(String),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Usage(e)
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if cli.threads > 0 {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(cli.threads)
            .build_global();
    }
    let memstats = std::env::var_os("MAILSCOPE_MEMSTATS").is_some();
    let peak_anon = memstats.then(sample_peak_anon);
    let result = run(cli);
    if memstats {
        print_memstats();
        if let Some(peak) = peak_anon {
            eprintln!(
                "peak RssAnon (sampled every 5 ms): {} kB",
                peak.load(std::sync::atomic::Ordering::Relaxed)
            );
        }
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(e)) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("mailscope: error: {e:#}");
            ExitCode::from(1)
        }
        Err(Failure::NothingRead(msg)) => {
            eprintln!("mailscope: nothing could be read: {msg}");
            ExitCode::from(2)
        }
    }
}

/// The kernel reports a peak only for all resident memory (VmHWM, which counts the mapped input
/// too); the peak of anonymous memory — what the run itself allocates — is sampled here.
fn sample_peak_anon() -> std::sync::Arc<std::sync::atomic::AtomicU64> {
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let p = peak.clone();
    std::thread::spawn(move || {
        loop {
            p.fetch_max(timing::rss_anon_kb(), std::sync::atomic::Ordering::Relaxed);
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    });
    peak
}

/// Peak and current memory from the kernel (for the benchmark): VmHWM is peak resident memory,
/// RssAnon the heap now, RssFile the mapped input pages now.
fn print_memstats() {
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        let wanted = ["VmHWM", "RssAnon", "RssFile"];
        let line: Vec<String> = status
            .lines()
            .filter(|l| wanted.iter().any(|w| l.starts_with(w)))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        eprintln!("{}", line.join(", "));
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// indicatif bar over bytes, on stderr, only on a terminal.
struct Bar {
    bar: indicatif::ProgressBar,
    records: std::sync::atomic::AtomicU64,
}

impl Progress for Bar {
    fn start(&self, total: u64) {
        self.bar.set_length(total);
    }
    fn advance(&self, bytes: u64, records: u64) {
        self.bar.inc(bytes);
        let n = self
            .records
            .fetch_add(records, std::sync::atomic::Ordering::Relaxed)
            + records;
        let secs = self.bar.elapsed().as_secs_f64().max(0.001);
        self.bar
            .set_message(format!("{n} records, {:.0} records/s", n as f64 / secs));
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn read_inputs(input: &InputArgs, quiet: bool, columns: Columns) -> Result<Ingest, Failure> {
    let opts = IngestOptions {
        columns,
        use_mmap: !input.no_mmap,
        date_order: input.date_order.map(|d| match d {
            DateOrderArg::Mdy => DateOrder::Mdy,
            DateOrderArg::Dmy => DateOrder::Dmy,
        }),
    };
    let show = !quiet && std::io::stderr().is_terminal();
    let ing = if show {
        let pb = indicatif::ProgressBar::with_draw_target(
            Some(0),
            indicatif::ProgressDrawTarget::stderr_with_hz(4),
        );
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} reading {bytes}/{total_bytes} ({bytes_per_sec}, {eta}) {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        ingest::ingest(
            &input.paths,
            &opts,
            &Bar {
                bar: pb,
                records: Default::default(),
            },
        )
    } else {
        ingest::ingest(&input.paths, &opts, &ingest::NoProgress)
    };
    if ing.files.is_empty() {
        let why = ing
            .skipped
            .iter()
            .map(|s| format!("{}: {}", s.path, s.reason))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Failure::NothingRead(if why.is_empty() {
            "no files found".into()
        } else {
            why
        }));
    }
    Ok(ing)
}

/// Refuse to write over evidence: not an input file, not inside an input folder, and not over
/// an existing file unless --force.
fn check_output(out: &Path, inputs: &[PathBuf], force: bool, is_dir: bool) -> Result<()> {
    let abs = |p: &Path| std::fs::canonicalize(p).ok();
    let out_abs = abs(out).or_else(|| {
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        abs(parent).map(|p| p.join(out.file_name().unwrap_or_default()))
    });
    if let Some(o) = &out_abs {
        for i in inputs {
            if let Some(ia) = abs(i) {
                if *o == ia || o.starts_with(&ia) && ia.is_dir() {
                    bail!(
                        "refusing to write {}: it is an input or inside an input folder (evidence is read-only)",
                        out.display()
                    );
                }
            }
        }
    }
    if out.exists() && !force {
        let empty_dir = is_dir
            && out.is_dir()
            && std::fs::read_dir(out)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
        if !empty_dir {
            bail!("{} exists; pass --force to overwrite", out.display());
        }
    }
    Ok(())
}

/// Stream output to `--output` or stdout (a large report is never held whole as text).
fn write_with(
    output: &Option<PathBuf>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    match output {
        Some(p) => {
            if let Some(parent) = p.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            let file =
                std::fs::File::create(p).with_context(|| format!("writing {}", p.display()))?;
            let mut w = std::io::BufWriter::new(file);
            write(&mut w)
                .and_then(|()| w.flush())
                .with_context(|| format!("writing {}", p.display()))
        }
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            write(&mut w)?;
            w.flush()?;
            Ok(())
        }
    }
}

fn write_out(output: &Option<PathBuf>, text: &str) -> Result<()> {
    write_with(output, |w| w.write_all(text.as_bytes()))
}

fn scope_config(ind: &IndicatorArgs, filter: &FilterArgs) -> Result<ScopeConfig> {
    let mut indicators = Indicators {
        attacker_ip: ind.attacker_ip.clone(),
        attacker_session: ind.attacker_session.clone(),
        attacker_client: ind.attacker_client.clone(),
        attacker_app: ind.attacker_app.clone(),
        attacker_user: ind.attacker_user.clone(),
        trusted_ip: ind.trusted_ip.clone(),
    };
    let (mut start, mut end) = (filter.start.clone(), filter.end.clone());
    if let Some(path) = &ind.indicators {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading case file {}", path.display()))?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let case = CaseFile::parse(&text, is_json)
            .map_err(|e| anyhow!("case file {}: {e}", path.display()))?;
        indicators.merge(case.indicators);
        start = start.or(case.start);
        end = end.or(case.end);
    } else {
        indicators.merge(Indicators::default());
    }
    indicators.compile().map_err(|e| anyhow!(e))?;
    let bound = |s: &Option<String>, flag: &str| -> Result<Option<i64>> {
        s.as_deref()
            .map(|v| {
                mailscope::time::parse_bound(v)
                    .ok_or_else(|| anyhow!("{flag} '{v}': expected RFC 3339 or YYYY-MM-DD"))
            })
            .transpose()
    };
    let cfg = ScopeConfig {
        indicators,
        start: bound(&start, "--start")?,
        end: bound(&end, "--end")?,
        mailboxes: filter
            .mailbox
            .iter()
            .map(|m| m.trim().to_lowercase())
            .collect(),
        session_link: !ind.no_session_link,
    };
    if let (Some(s), Some(e)) = (cfg.start, cfg.end) {
        if s >= e {
            bail!("--start must be before --end");
        }
    }
    Ok(cfg)
}

fn run(cli: Cli) -> Result<(), Failure> {
    let command_line: Vec<String> = std::env::args().collect();
    match cli.command {
        Command::Inspect {
            input,
            format,
            output,
            force,
        } => {
            if let Some(o) = &output {
                check_output(o, &input.paths, force, false)?;
            }
            let ing = read_inputs(&input, cli.quiet, Columns::Views)?;
            let rep = mailscope::inspect::build(&ing);
            let text = match format {
                InspectFormat::Text => mailscope::inspect::render_text(&rep),
                InspectFormat::Json => {
                    serde_json::to_string_pretty(&rep).map_err(anyhow::Error::from)? + "\n"
                }
            };
            write_out(&output, &text)?;
        }
        Command::Export {
            input,
            output,
            force,
        } => {
            let fmt = ExportFormat::from_path(&output).ok_or_else(|| {
                anyhow!(
                    "--output {}: use a .parquet, .csv or .jsonl file name",
                    output.display()
                )
            })?;
            let items_out = items_path(&output);
            check_output(&output, &input.paths, force, false)?;
            check_output(&items_out, &input.paths, force, false)?;
            let mut ing = read_inputs(&input, cli.quiet, Columns::All)?;
            let mut frame = std::mem::replace(&mut ing.frame, Frame::empty());
            for (df, path) in [
                (&mut frame.records, &output),
                (&mut frame.items, &items_out),
            ] {
                let f = std::fs::File::create(path)
                    .with_context(|| format!("creating {}", path.display()))?;
                let mut w = std::io::BufWriter::new(f);
                write_table(df, fmt, &mut w)
                    .with_context(|| format!("writing {}", path.display()))?;
                w.flush().map_err(anyhow::Error::from)?;
            }
            if !cli.quiet {
                eprintln!(
                    "wrote {} records to {} and {} items to {} ({} rows read, {} duplicates, {} rejected)",
                    frame.records.height(),
                    output.display(),
                    frame.items.height(),
                    items_out.display(),
                    ing.rows(),
                    ing.duplicates(),
                    ing.rejected()
                );
            }
        }
        Command::Scope {
            input,
            ind,
            filter,
            format,
            output,
            force,
            tz,
        } => {
            let cfg = scope_config(&ind, &filter)?;
            if cfg.indicators.is_empty() {
                return Err(Failure::Usage(anyhow!(
                    "no attacker indicator given (--attacker-ip, --attacker-session, --attacker-client, --attacker-app, --attacker-user or --indicators FILE).\n\
                     Run `mailscope contexts {}` to see the access contexts per mailbox and pick the attacker's.",
                    input
                        .paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                )));
            }
            let tz = match &tz {
                Some(t) => parse_tz(t).map_err(|e| anyhow!(e))?,
                None => None,
            };
            if format == ScopeFormat::Csv && output.is_none() {
                return Err(Failure::Usage(anyhow!(
                    "--format csv writes a folder: give it with --output DIR"
                )));
            }
            if let Some(o) = &output {
                check_output(o, &input.paths, force, format == ScopeFormat::Csv)?;
            }
            timing::start();
            let mut ing = read_inputs(&input, cli.quiet, Columns::Views)?;
            timing::phase("read, parse and frame");
            let frame = std::mem::replace(&mut ing.frame, Frame::empty());
            if std::env::var_os("MAILSCOPE_MEMSTATS").is_some() {
                let (held, views) = frame.held_bytes();
                eprintln!(
                    "frame: {} MB held, {} MB of it string views",
                    held / 1_000_000,
                    views / 1_000_000
                );
                for (table, name, views, data) in frame.column_bytes() {
                    eprintln!(
                        "  {table}.{name}: {} MB views, {} MB data",
                        views / 1_000_000,
                        data / 1_000_000
                    );
                }
            }
            let scope = mailscope::scope::compute(&frame, &cfg).map_err(|e| anyhow!(e))?;
            // The report needs the findings, not the columns: their pages go back before the
            // report is rendered.
            drop(frame);
            mailscope::alloc::release_freed();
            timing::phase("scope");
            let mut report = mailscope::report::build_report(&ing, scope, &cfg, command_line);
            timing::phase("report built");
            let style = |markdown| Style {
                markdown,
                tz,
                list_limit: if markdown { usize::MAX } else { 20 },
            };
            match format {
                ScopeFormat::Json => write_with(&output, |w| report.write_json(w))?,
                ScopeFormat::Text => write_out(
                    &output,
                    &mailscope::report::text::render(&report, &style(false)),
                )?,
                ScopeFormat::Md => write_out(
                    &output,
                    &mailscope::report::text::render(&report, &style(true)),
                )?,
                ScopeFormat::Html => {
                    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                    write_out(&output, &mailscope::report::html::render(&report, &now))?
                }
                ScopeFormat::Csv => {
                    let dir = output.as_ref().expect("checked above");
                    mailscope::report::csv::write_folder(&report, dir)
                        .with_context(|| format!("writing {}", dir.display()))?;
                }
            }
            timing::phase("report written");
        }
        Command::Timeline {
            input,
            ind,
            filter,
            output,
            force,
        } => {
            let cfg = scope_config(&ind, &filter)?;
            check_output(&output, &input.paths, force, false)?;
            let mut ing = read_inputs(&input, cli.quiet, Columns::Views)?;
            let frame = std::mem::replace(&mut ing.frame, Frame::empty());
            let file = std::fs::File::create(&output)
                .with_context(|| format!("creating {}", output.display()))?;
            let rows =
                mailscope::report::timesketch::write(&frame, &cfg, std::io::BufWriter::new(file))
                    .map_err(|e| anyhow!(e))?;
            if !cli.quiet {
                eprintln!("wrote {rows} timeline rows to {}", output.display());
            }
        }
        Command::Contexts {
            input,
            ind,
            filter,
            format,
            output,
            force,
        } => {
            let cfg = scope_config(&ind, &filter)?;
            if let Some(o) = &output {
                check_output(o, &input.paths, force, false)?;
            }
            let mut ing = read_inputs(&input, cli.quiet, Columns::Views)?;
            let frame = std::mem::replace(&mut ing.frame, Frame::empty());
            let all = mailscope::scope::all_contexts(&frame, &cfg).map_err(|e| anyhow!(e))?;
            let text = mailscope::report::contexts::render(
                &all,
                format.to_string().as_str(),
                !cfg.indicators.is_empty(),
            )
            .map_err(|e| anyhow!(e))?;
            write_out(&output, &text)?;
        }
    }
    Ok(())
}
