//! One function per command: read the inputs, run the library, write the output.

use super::Failure;
use super::args::*;
use super::bar;
use super::output::{Evidence, sha256sum_line, write_file, write_json, write_out, write_text};
use anyhow::{Context, Result, anyhow, bail};
use mailscope::frame::{Columns, ExportFormat, Frame, items_path, messages_path, write_table};
use mailscope::ingest::{self, Ingest, IngestOptions};
use mailscope::progress::NoProgress;
use mailscope::report::text::Style;
use mailscope::scope::ScopeConfig;
use mailscope::scope::indicators::{IndicatorFile, Indicators};
use mailscope::time::DateOrder;
use mailscope::timing;
use mailscope::zone::{DisplayZone, parse_tz};

pub fn run(cli: Cli) -> Result<(), Failure> {
    let quiet = cli.quiet;
    match cli.command {
        Command::Inspect(a) => inspect(a, quiet),
        Command::Export(a) => export(a, quiet),
        Command::Scope(a) => scope(a, quiet),
        Command::Timeline(a) => timeline(a, quiet),
        Command::Contexts(a) => contexts(a, quiet),
        Command::Hunt(a) => super::hunt::run(a, quiet),
        Command::Verify(a) => verify(a, quiet),
        Command::Batch(a) => super::batch::run(a, quiet),
    }
}

pub(super) fn read_inputs(
    input: &InputArgs,
    quiet: bool,
    columns: Columns,
) -> Result<Ingest, Failure> {
    let ing = ingest_inputs(input, quiet, columns);
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

fn ingest_inputs(input: &InputArgs, quiet: bool, columns: Columns) -> Ingest {
    let opts = ingest_options(input, columns);
    match bar::for_run(quiet) {
        Some(bar) => ingest::ingest(&input.paths, &opts, &bar),
        None => ingest::ingest(&input.paths, &opts, &NoProgress),
    }
}

/// How the inputs are read, from the command line.
pub(super) fn ingest_options(input: &InputArgs, columns: Columns) -> IngestOptions {
    IngestOptions {
        columns,
        use_mmap: !input.no_mmap,
        date_order: input.date_order.map(|d| match d {
            DateOrderArg::Mdy => DateOrder::Mdy,
            DateOrderArg::Dmy => DateOrder::Dmy,
        }),
        inventory_map: input.inventory_map.clone().map(std::sync::Arc::new),
        input_tz: input.input_tz,
    }
}

/// The inputs' evidence once they are read: the saved cases among them name the folders of
/// their original inputs, which no output may go into either. Outputs are checked before
/// anything is read (a refused output costs no reading) and again with this.
pub(super) fn read_evidence(evidence: Evidence, ing: &Ingest) -> Evidence {
    evidence.with_case_inputs(&ing.cases)
}

fn scope_config(ind: &IndicatorArgs, filter: &FilterArgs) -> Result<ScopeConfig> {
    let (indicators, start, end) = command_line_indicators(ind, filter)?;
    scope_config_of(indicators, start, end, filter, ind)
}

/// The indicators and window of the command line: its options, and its `--indicators` file
/// (the options' window wins over the file's).
pub(super) fn command_line_indicators(
    ind: &IndicatorArgs,
    filter: &FilterArgs,
) -> Result<(Indicators, Option<String>, Option<String>)> {
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
            .with_context(|| format!("reading indicator file {}", path.display()))?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let file = IndicatorFile::parse(&text, is_json)
            .map_err(|e| anyhow!("indicator file {}: {e}", path.display()))?;
        indicators.merge(file.indicators);
        start = start.or(file.start);
        end = end.or(file.end);
    } else {
        indicators.merge(Indicators::default());
    }
    Ok((indicators, start, end))
}

/// The scope's settings from indicators and a window already gathered (`batch` gathers them
/// per set).
pub(super) fn scope_config_of(
    indicators: Indicators,
    start: Option<String>,
    end: Option<String>,
    filter: &FilterArgs,
    links: &IndicatorArgs,
) -> Result<ScopeConfig> {
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
        session_link: !links.no_session_link,
        grant_link: !links.no_grant_link,
        internal_domains: Vec::new(),
        no_subjects: false,
        no_search_text: false,
    };
    if let (Some(s), Some(e)) = (cfg.start, cfg.end) {
        if s >= e {
            bail!("--start must be before --end");
        }
    }
    Ok(cfg)
}

/// `--tz`, checked before anything is read.
pub(super) fn display_zone(z: &ZoneArgs) -> Result<Option<DisplayZone>> {
    match &z.tz {
        Some(t) => parse_tz(t).map_err(|e| anyhow!(e)),
        None => Ok(None),
    }
}

fn inspect(a: InspectArgs, quiet: bool) -> Result<(), Failure> {
    let tz = display_zone(&a.zone)?;
    let evidence = Evidence::of(&a.input.paths);
    if let Some(o) = &a.out.output {
        evidence.check_file(o, a.out.force)?;
    }
    let ing = read_inputs(&a.input, quiet, Columns::Views)?;
    if let Some(o) = &a.out.output {
        read_evidence(evidence, &ing).check_file(o, a.out.force)?;
    }
    let rep = mailscope::inspect::build(&ing);
    match a.format {
        InspectFormat::Text => {
            write_text(&a.out.output, &mailscope::inspect::render_text(&rep, tz))?
        }
        InspectFormat::Json => {
            let text = serde_json::to_string_pretty(&rep).map_err(anyhow::Error::from)? + "\n";
            write_json(&a.out.output, |w| w.write_all(text.as_bytes()))?
        }
    }
    Ok(())
}

fn export(a: ExportArgs, quiet: bool) -> Result<(), Failure> {
    let output = &a.out.output;
    let fmt = ExportFormat::from_path(output).ok_or_else(|| {
        anyhow!(
            "--output {}: use a .parquet, .csv or .jsonl file name",
            output.display()
        )
    })?;
    let evidence = Evidence::of(&a.input.paths);
    evidence.check_file(output, a.out.force)?;
    if fmt == ExportFormat::Parquet {
        // One file: the frame and the provenance of every input (a case `scope` can read).
        let sha256_out = a.sha256_file.then(|| {
            let mut name = output.as_os_str().to_owned();
            name.push(".sha256");
            std::path::PathBuf::from(name)
        });
        if let Some(s) = &sha256_out {
            evidence.check_file(s, a.out.force)?;
        }
        let ing = read_inputs(&a.input, quiet, Columns::All)?;
        let evidence = read_evidence(evidence, &ing);
        evidence.check_file(output, a.out.force)?;
        if let Some(s) = &sha256_out {
            evidence.check_file(s, a.out.force)?;
        }
        let mut sha256 = String::new();
        write_file(output, |w| {
            sha256 = mailscope::case::write(&ing.frame, &ing.files, &ing.skipped, w)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            Ok(())
        })?;
        // What the case was when written, for the chain of custody: on standard output (the
        // command's result, not hidden by --quiet), as `sha256sum` prints it, and beside the
        // case with --sha256-file (the file name alone: `sha256sum -c` in that folder).
        let line = sha256sum_line(&sha256, output.as_os_str());
        {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(&line)
                .and_then(|()| stdout.flush())
                .map_err(anyhow::Error::from)?;
        }
        if let Some(s) = &sha256_out {
            let name = output.file_name().unwrap_or(output.as_os_str());
            let line = sha256sum_line(&sha256, name);
            write_file(s, |w| w.write_all(&line))?;
        }
        if !quiet {
            eprintln!(
                "wrote the case {} ({} records, {} items, {} messages, {} inputs; {} rows read, {} duplicates, {} rejected){}",
                output.display(),
                ing.frame.records.height(),
                ing.frame.items.height(),
                ing.frame.messages.height(),
                ing.files.len(),
                ing.rows(),
                ing.duplicates(),
                ing.rejected(),
                match &sha256_out {
                    Some(s) => format!(" and its SHA-256 to {}", s.display()),
                    None => String::new(),
                }
            );
        }
        return Ok(());
    }
    if a.sha256_file {
        return Err(Failure::Usage(anyhow!(
            "--sha256-file is for a case (--output FILE.parquet); hash CSV or JSON Lines exports with sha256sum"
        )));
    }
    let items_out = items_path(output);
    let messages_out = messages_path(output);
    evidence.check_file(&items_out, a.out.force)?;
    let mut ing = read_inputs(&a.input, quiet, Columns::All)?;
    let evidence = read_evidence(evidence, &ing);
    evidence.check_file(output, a.out.force)?;
    evidence.check_file(&items_out, a.out.force)?;
    let mut frame = std::mem::replace(&mut ing.frame, Frame::empty());
    let mut tables = vec![(&mut frame.records, output), (&mut frame.items, &items_out)];
    // The messages table is written when a message inventory was read.
    if frame.messages.height() > 0 {
        evidence.check_file(&messages_out, a.out.force)?;
        tables.push((&mut frame.messages, &messages_out));
    }
    for (df, path) in tables {
        write_file(path, |w| {
            write_table(df, fmt, w).map_err(|e| std::io::Error::other(e.to_string()))
        })?;
    }
    if !quiet {
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
    Ok(())
}

fn scope(a: ScopeArgs, quiet: bool) -> Result<(), Failure> {
    let command_line: Vec<String> = std::env::args().collect();
    let mut cfg = scope_config(&a.ind, &a.filter)?;
    a.report.apply(&mut cfg);
    let ipdb = a.ip_db.open()?;
    if cfg.indicators.is_empty() {
        return Err(Failure::Usage(anyhow!(
            "no attacker indicator given (--attacker-ip, --attacker-session, --attacker-client, --attacker-app, --attacker-user or --indicators FILE).\n\
             Run `mailscope contexts {}` to see the access contexts per mailbox and pick the attacker's.",
            a.input
                .paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        )));
    }
    let tz = display_zone(&a.zone)?;
    let output = &a.out.output;
    if a.format == ScopeFormat::Csv && output.is_none() {
        return Err(Failure::Usage(anyhow!(
            "--format csv writes a folder: give it with --output DIR"
        )));
    }
    let check = |evidence: &Evidence| -> Result<()> {
        if let Some(o) = output {
            if a.format == ScopeFormat::Csv {
                evidence.check_folder(o, mailscope::report::csv::FILES, a.out.force)?;
            } else {
                evidence.check_file(o, a.out.force)?;
            }
        }
        Ok(())
    };
    let evidence = Evidence::of(&a.input.paths);
    check(&evidence)?;
    timing::start();
    let mut ing = read_inputs(&a.input, quiet, Columns::Views)?;
    check(&read_evidence(evidence, &ing))?;
    timing::phase("read, parse and frame");
    let frame = std::mem::replace(&mut ing.frame, Frame::empty());
    if std::env::var_os("MAILSCOPE_MEMSTATS").is_some() {
        super::memstats::print_frame(&frame);
    }
    let mut scope = mailscope::scope::compute(&frame, &cfg).map_err(|e| anyhow!(e))?;
    if let Some(db) = &ipdb {
        mailscope::scope::enrich(
            scope
                .mailboxes
                .iter_mut()
                .flat_map(|m| m.contexts.iter_mut()),
            db,
        );
    }
    // The report needs the findings, not the columns: their pages go back before the
    // report is rendered.
    drop(frame);
    mailscope::alloc::release_freed();
    timing::phase("scope");
    let mut report = mailscope::report::build_report(ing.provenance(), scope, &cfg, command_line);
    timing::phase("report built");
    write_scope_report(&mut report, a.format, output, tz)?;
    timing::phase("report written");
    Ok(())
}

/// The report in `format` to `output` (standard output when absent; the folder for csv), each
/// format through its own escaping writer. `scope` and `batch` write reports only through this.
pub(super) fn write_scope_report(
    report: &mut mailscope::report::Report,
    format: ScopeFormat,
    output: &Option<std::path::PathBuf>,
    tz: Option<DisplayZone>,
) -> Result<()> {
    let style = |markdown| Style {
        markdown,
        tz,
        list_limit: if markdown { usize::MAX } else { 20 },
    };
    match format {
        ScopeFormat::Json => write_json(output, |w| report.write_json(w))?,
        ScopeFormat::Text => write_text(
            output,
            &mailscope::report::text::render(report, &style(false)),
        )?,
        ScopeFormat::Md => write_text(
            output,
            &mailscope::report::text::render(report, &style(true)),
        )?,
        ScopeFormat::Html => {
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            write_out(output, &mailscope::report::html::render(report, &now))?
        }
        ScopeFormat::Csv => {
            let dir = output.as_ref().expect("csv is written to a folder");
            mailscope::report::csv::write_folder(report, dir)
                .with_context(|| format!("writing {}", dir.display()))?;
        }
    }
    Ok(())
}

fn timeline(a: TimelineArgs, quiet: bool) -> Result<(), Failure> {
    let cfg = scope_config(&a.ind, &a.filter)?;
    let ipdb = a.ip_db.open()?;
    let evidence = Evidence::of(&a.input.paths);
    evidence.check_file(&a.out.output, a.out.force)?;
    let mut ing = read_inputs(&a.input, quiet, Columns::Views)?;
    read_evidence(evidence, &ing).check_file(&a.out.output, a.out.force)?;
    let frame = std::mem::replace(&mut ing.frame, Frame::empty());
    let mut rows = 0;
    write_file(&a.out.output, |w| {
        rows = mailscope::report::timesketch::write(&frame, &cfg, ipdb.as_ref(), w)
            .map_err(std::io::Error::other)?;
        Ok(())
    })?;
    if !quiet {
        eprintln!("wrote {rows} timeline rows to {}", a.out.output.display());
    }
    Ok(())
}

fn contexts(a: ContextsArgs, quiet: bool) -> Result<(), Failure> {
    let cfg = scope_config(&a.ind, &a.filter)?;
    let tz = display_zone(&a.zone)?;
    let ipdb = a.ip_db.open()?;
    let evidence = Evidence::of(&a.input.paths);
    if let Some(o) = &a.out.output {
        evidence.check_file(o, a.out.force)?;
    }
    let mut ing = read_inputs(&a.input, quiet, Columns::Views)?;
    if let Some(o) = &a.out.output {
        read_evidence(evidence, &ing).check_file(o, a.out.force)?;
    }
    let frame = std::mem::replace(&mut ing.frame, Frame::empty());
    let mut all = mailscope::scope::all_contexts(&frame, &cfg).map_err(|e| anyhow!(e))?;
    if let Some(db) = &ipdb {
        mailscope::scope::enrich(all.iter_mut().flat_map(|(_, cs)| cs.iter_mut()), db);
    }
    let text = mailscope::report::contexts::render(
        &all,
        a.format.to_string().as_str(),
        !cfg.indicators.is_empty(),
        tz,
        ipdb.is_some(),
    )
    .map_err(|e| anyhow!(e))?;
    match a.format {
        ContextsFmt::Text => write_text(&a.out.output, &text)?,
        ContextsFmt::Json => write_json(&a.out.output, |w| w.write_all(text.as_bytes()))?,
        ContextsFmt::Csv => write_out(&a.out.output, &text)?,
    }
    Ok(())
}

/// `verify`: the case against what `export` would write from the evidence now. Exit 0 the
/// same, 1 differences (printed), 2 cannot tell.
fn verify(a: VerifyArgs, quiet: bool) -> Result<(), Failure> {
    let cannot = |e: anyhow::Error| Failure::CannotTell(e);
    let case_path = a.case.display().to_string();
    if Evidence::of(&a.input.paths).holds(&a.case) {
        return Err(cannot(anyhow!(
            "the case {case_path} lies among the evidence given, where it would be read as evidence: give the evidence without it"
        )));
    }
    let case = match mailscope::case::open(&a.case, Columns::All, !a.input.no_mmap) {
        Ok(c) => c,
        Err(mailscope::case::NotRead::NotCase(why) | mailscope::case::NotRead::Unreadable(why)) => {
            return Err(cannot(anyhow!("{case_path}: {why}")));
        }
    };
    let ing = ingest_inputs(&a.input, quiet, Columns::All);
    let unreadable = mailscope::verify::unreadable(&case, &ing);
    if !unreadable.is_empty() {
        let why: Vec<String> = unreadable
            .iter()
            .take(5)
            .map(|s| format!("{}: {}", s.path, s.reason))
            .collect();
        return Err(cannot(anyhow!(
            "evidence that cannot be read: {}{}",
            why.join("; "),
            if unreadable.len() > 5 { "; …" } else { "" }
        )));
    }
    let cmp = mailscope::verify::compare(&case, &ing, a.limit)
        .map_err(|e| cannot(anyhow!("comparing {case_path} with the evidence: {e}")))?;
    let mut out = String::new();
    use std::fmt::Write as _;
    let v1 = if case.schema == mailscope::case::SCHEMA_V1 {
        format!(
            "\nnote: a {} case: its checksum covers its data pages only, not its metadata",
            mailscope::case::SCHEMA_V1
        )
    } else {
        String::new()
    };
    if cmp.same() {
        let _ = writeln!(
            out,
            "{case_path} holds exactly what the evidence gives: {} inputs, {} records, {} items, {} messages (case SHA-256 {}, {}){v1}",
            case.inputs.len(),
            case.frame.records.height(),
            case.frame.items.height(),
            case.messages.len(),
            case.sha256,
            case.schema
        );
        write_text(&None, &out).map_err(cannot)?;
        return Ok(());
    }
    let _ = writeln!(
        out,
        "{case_path} differs from the evidence (case SHA-256 {}, {}){v1}",
        case.sha256, case.schema
    );
    for line in &cmp.shown {
        let _ = writeln!(out, "  {line}");
    }
    let more = cmp.total - cmp.shown.len();
    if more > 0 {
        let _ = writeln!(out, "  … {more} more ({} differences in all)", cmp.total);
    } else if cmp.total == 1 {
        let _ = writeln!(out, "1 difference");
    } else {
        let _ = writeln!(out, "{} differences", cmp.total);
    }
    write_text(&None, &out).map_err(cannot)?;
    Err(Failure::Differs)
}
