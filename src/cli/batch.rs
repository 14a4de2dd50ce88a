//! `mailscope batch`: every immediate subfolder of each root is one evidence set, scoped on its
//! own as `scope` would scope that folder, with its own indicators. One set's failure is listed
//! in the index and the others go on. Sets run side by side as far as memory allows.

use super::Failure;
use super::args::{BatchArgs, FilterArgs, IndicatorArgs, ScopeFormat};
use super::commands::{
    command_line_indicators, display_zone, ingest_options, read_evidence, scope_config_of,
    write_scope_report,
};
use super::output::{Evidence, write_file};
use anyhow::{Context, Result, anyhow, bail};
use mailscope::frame::Columns;
use mailscope::progress::NoProgress;
use mailscope::report::index::{BatchIndex, HashedFile, SetEntry, SetStatus};
use mailscope::scope::indicators::{IndicatorFile, Indicators};
use mailscope::zone::DisplayZone;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};

/// A set's own indicators and window, in the format of `scope --indicators`.
const INDICATOR_FILE: &str = "mailscope.toml";
const INDEX_FILES: &[&str] = &["index.html", "index.json", "index.csv"];
/// An indicator file is a few lines; anything larger is not one.
const INDICATOR_FILE_MAX_BYTES: u64 = 1 << 20;

/// One evidence set: a subfolder of a root.
struct Set {
    name: String,
    path: PathBuf,
    /// Its folder under the output directory: the name made safe, unique among the sets.
    output: String,
    bytes: u64,
}

/// What every set shares: the command line's options.
struct Shared<'a> {
    args: &'a BatchArgs,
    formats: Vec<ScopeFormat>,
    tz: Option<DisplayZone>,
    command_line: Vec<String>,
    /// The evidence of the whole batch (read once): no set's output may go into any root.
    evidence: Evidence,
}

pub fn run(a: BatchArgs, quiet: bool) -> Result<(), Failure> {
    let tz = display_zone(&a.zone)?;
    let mut formats = if a.format.is_empty() {
        vec![ScopeFormat::Html, ScopeFormat::Json]
    } else {
        a.format.clone()
    };
    formats.sort();
    formats.dedup();
    // A root given twice (by two spellings) is one root.
    let mut roots: Vec<PathBuf> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for root in &a.input.paths {
        if seen.insert(std::fs::canonicalize(root).unwrap_or_else(|_| root.clone())) {
            roots.push(root.clone());
        }
    }
    let evidence = Evidence::of(&roots);
    evidence.check_folder(&a.output_dir, INDEX_FILES, a.force)?;
    let (sets, ignored) = find_sets(&roots)?;
    if sets.is_empty() {
        return Err(Failure::NothingRead(
            "no evidence set: the roots hold no subfolder".into(),
        ));
    }
    for path in &ignored {
        eprintln!(
            "mailscope: {}: not a folder (a file, or a link: not followed) directly under a root: in no set, not read",
            mailscope::escape::terminal(path)
        );
    }
    std::fs::create_dir_all(&a.output_dir)
        .with_context(|| format!("creating {}", a.output_dir.display()))?;
    // A panic in a set fails that set (see `scope_set`); its message may quote evidence.
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "mailscope: internal error: {}",
            mailscope::escape::terminal_lines(&info.to_string())
        );
    }));
    let shared = Shared {
        args: &a,
        formats,
        tz,
        command_line: std::env::args().collect(),
        evidence,
    };
    let bars = sets_bar(quiet, sets.len() as u64);
    let entries = run_sets(&sets, &shared, bars.as_ref());
    if let Some((_, bar)) = bars {
        bar.finish_and_clear();
    }
    let mut index = BatchIndex::new(shared.command_line.clone(), entries);
    index.ignored = ignored;
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let dir = &a.output_dir;
    write_file(&dir.join("index.json"), |w| {
        w.write_all(index.to_json().as_bytes())
    })?;
    write_file(&dir.join("index.csv"), |w| {
        w.write_all(index.to_csv().as_bytes())
    })?;
    write_file(&dir.join("index.html"), |w| {
        w.write_all(index.to_html(&now).as_bytes())
    })?;
    match index.failed() {
        0 => Ok(()),
        failed => Err(Failure::SetsFailed {
            failed,
            total: index.sets.len(),
        }),
    }
}

/// The subfolders of each root, sorted by name then path, each with an output folder of its
/// own; and the files lying directly under a root (no set holds them).
fn find_sets(roots: &[PathBuf]) -> Result<(Vec<Set>, Vec<String>)> {
    let mut found = Vec::new();
    let mut ignored = Vec::new();
    for root in roots {
        let entries =
            std::fs::read_dir(root).with_context(|| format!("reading {}", root.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("reading {}", root.display()))?;
            let path = entry.path();
            // Not followed: a link could lead anywhere, evidence of another case included.
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                let name = entry.file_name().to_string_lossy().into_owned();
                let bytes = folder_bytes(&path);
                found.push((name, path, bytes));
            } else {
                ignored.push(path.display().to_string());
            }
        }
    }
    found.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    ignored.sort();
    // The index's own files are no set's folder.
    let mut taken: std::collections::BTreeSet<String> =
        INDEX_FILES.iter().map(|f| f.to_string()).collect();
    let sets = found
        .into_iter()
        .map(|(name, path, bytes)| {
            let base = safe_folder_name(&name);
            let mut output = base.clone();
            let mut n = 2;
            while !taken.insert(output.to_lowercase()) {
                output = format!("{base}-{n}");
                n += 1;
            }
            Set {
                name,
                path,
                output,
                bytes,
            }
        })
        .collect();
    Ok((sets, ignored))
}

/// A folder name from an evidence folder's name: letters, digits, `.`, `-` and `_` kept, the
/// rest `_`; never empty, never `.`/`..` or hidden.
fn safe_folder_name(name: &str) -> String {
    let mut safe: String = name
        .chars()
        .take(100)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.is_empty() || safe.starts_with('.') {
        safe.insert(0, '_');
    }
    safe
}

/// Bytes of the files under `dir` (links not followed), to estimate what reading it takes.
fn folder_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => total += e.metadata().map(|m| m.len()).unwrap_or(0),
                _ => {}
            }
        }
    }
    total
}

/// The batch's bar (sets done of all) with room for each running set's bar under it.
type Bars = (indicatif::MultiProgress, indicatif::ProgressBar);

fn sets_bar(quiet: bool, total: u64) -> Option<Bars> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let multi = indicatif::MultiProgress::with_draw_target(
        indicatif::ProgressDrawTarget::stderr_with_hz(4),
    );
    let bar = multi.add(indicatif::ProgressBar::new(total));
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} evidence sets {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some((multi, bar))
}

/// Memory for sets read side by side: a set starts when what it is expected to take fits beside
/// the sets running, or when it runs alone.
struct MemoryGate {
    budget: u64,
    used: Mutex<u64>,
    freed: Condvar,
}

impl MemoryGate {
    fn new() -> MemoryGate {
        MemoryGate {
            budget: available_memory().unwrap_or(4 << 30) / 10 * 8,
            used: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    fn run<T>(&self, need: u64, work: impl FnOnce() -> T) -> T {
        let need = need.min(self.budget);
        {
            let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
            while *used > 0 && *used + need > self.budget {
                used = self.freed.wait(used).unwrap_or_else(|e| e.into_inner());
            }
            *used += need;
        }
        let out = work();
        *self.used.lock().unwrap_or_else(|e| e.into_inner()) -= need;
        self.freed.notify_all();
        out
    }
}

/// `MemAvailable` of /proc/meminfo, in bytes.
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Every set, largest first, on as many workers as cores; the entries in the sets' order.
fn run_sets(sets: &[Set], shared: &Shared, bars: Option<&Bars>) -> Vec<SetEntry> {
    let gate = MemoryGate::new();
    let mut order: Vec<usize> = (0..sets.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sets[i].bytes));
    let next = Mutex::new(order.into_iter());
    let results = Mutex::new(vec![None; sets.len()]);
    // As many sets at once as the run has threads (`--threads`, else one per core).
    let workers = rayon::current_num_threads().max(1).min(sets.len());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let Some(i) = next.lock().unwrap_or_else(|e| e.into_inner()).next() else {
                        break;
                    };
                    let set = &sets[i];
                    // Reading takes about three times the files' size at its peak.
                    let need = set.bytes.saturating_mul(3).saturating_add(256 << 20);
                    let entry = gate.run(need, || {
                        let set_bar = bars.and_then(|(multi, batch)| {
                            let b = super::bar::for_set(batch, &set.name)?;
                            multi.add(b.inner().clone());
                            Some(b)
                        });
                        let entry = scope_set(set, shared, set_bar.as_ref());
                        if let Some(b) = set_bar {
                            b.inner().finish_and_clear();
                        }
                        entry
                    });
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(entry);
                    if let Some((_, bar)) = bars {
                        bar.inc(1);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|e| e.expect("every set ran"))
        .collect()
}

/// One set, start to end; an error makes it `failed` with the error's text.
fn scope_set(set: &Set, shared: &Shared, bar: Option<&super::bar::Bar>) -> SetEntry {
    let mut entry = SetEntry::new(
        &set.name,
        &set.path.display().to_string(),
        &set.output,
        SetStatus::Done,
    );
    // A fault in one set (a bug the evidence reaches) fails that set, not the batch.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        scope_set_into(set, shared, bar, &mut entry)
    }));
    let error = match outcome {
        Ok(Ok(())) => return entry,
        // What was read before the failure (inputs, counts) stays listed.
        Ok(Err(e)) => {
            entry.status = SetStatus::Failed;
            entry.error = Some(format!("{e:#}"));
            return entry;
        }
        Err(panic) => format!(
            "internal error while scoping this set: {}",
            panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default()
        ),
    };
    let mut failed = SetEntry::new(
        &set.name,
        &set.path.display().to_string(),
        &set.output,
        SetStatus::Failed,
    );
    failed.error = Some(error);
    failed
}

fn scope_set_into(
    set: &Set,
    shared: &Shared,
    bar: Option<&super::bar::Bar>,
    entry: &mut SetEntry,
) -> Result<()> {
    let a = shared.args;
    let (indicators, start, end, from) = set_indicators(set, &a.ind, &a.filter)?;
    let opts = ingest_options(&a.input, Columns::Views);
    let progress: &dyn mailscope::progress::Progress = match bar {
        Some(b) => b,
        None => &NoProgress,
    };
    let mut ing = mailscope::ingest::ingest(std::slice::from_ref(&set.path), &opts, progress);
    entry.skipped = ing
        .skipped
        .iter()
        .map(|s| format!("{}: {}", s.path, s.reason))
        .collect();
    if ing.files.is_empty() {
        let why: Vec<String> = ing
            .skipped
            .iter()
            .map(|s| format!("{}: {}", s.path, s.reason))
            .collect();
        bail!(
            "nothing could be read: {}",
            if why.is_empty() {
                "no files".to_string()
            } else {
                why.join("; ")
            }
        );
    }
    let Some(from) = from else {
        entry.status = SetStatus::NoIndicators;
        entry.records_read = ing.rows();
        entry.rejected = ing.rejected();
        entry.inputs = ing
            .files
            .iter()
            .map(|f| HashedFile {
                path: f.path.clone(),
                sha256: f.sha256.clone(),
            })
            .collect();
        return Ok(());
    };
    entry.indicators_from = Some(from);
    let mut cfg = scope_config_of(indicators, start, end, &a.filter, &a.ind)?;
    a.report.apply(&mut cfg);
    let out = a.output_dir.join(&set.output);
    // The set's saved cases name folders of their own evidence: no report goes there either.
    let evidence = read_evidence(shared.evidence.clone(), &ing);
    let files: Vec<&str> = shared
        .formats
        .iter()
        .filter(|f| **f != ScopeFormat::Csv)
        .map(|f| file_name(*f))
        .collect();
    evidence.check_folder(&out, &files, a.force)?;
    if shared.formats.contains(&ScopeFormat::Csv) {
        evidence.check_folder(&out.join("csv"), mailscope::report::csv::FILES, a.force)?;
    }
    let frame = std::mem::replace(&mut ing.frame, mailscope::frame::Frame::empty());
    let scope = mailscope::scope::compute(&frame, &cfg).map_err(|e| anyhow!(e))?;
    drop(frame);
    let mut report =
        mailscope::report::build_report(ing.provenance(), scope, &cfg, shared.command_line.clone());
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    for format in &shared.formats {
        let written = write_report(&mut report, *format, &out, shared.tz)?;
        for path in written {
            entry.reports.push(HashedFile {
                sha256: sha256_of(&path)?,
                path: path
                    .strip_prefix(&a.output_dir)
                    .unwrap_or(&path)
                    .display()
                    .to_string(),
            });
        }
    }
    entry.found(&report);
    Ok(())
}

/// The set's indicators and window, field by field: each list (attacker IPs, sessions,
/// clients, apps, users, trusted IPs) and each bound of the window from the set's indicator file
/// where it gives one, else from the command line (its options and `--indicators` file). Where
/// the attacker indicators came from is `None` when neither names an attacker.
#[allow(clippy::type_complexity)]
fn set_indicators(
    set: &Set,
    cli: &IndicatorArgs,
    filter: &FilterArgs,
) -> Result<(Indicators, Option<String>, Option<String>, Option<String>)> {
    let (given, cli_start, cli_end) = command_line_indicators(cli, filter)?;
    let own = set.path.join(INDICATOR_FILE);
    let Ok(meta) = std::fs::symlink_metadata(&own) else {
        let from = (!given.is_empty()).then(|| "command line".to_string());
        return Ok((given, cli_start, cli_end, from));
    };
    // A link could lead to any local file, whose lines a parse error would quote.
    if !meta.is_file() || meta.len() > INDICATOR_FILE_MAX_BYTES {
        bail!("{INDICATOR_FILE}: not a regular file of at most {INDICATOR_FILE_MAX_BYTES} bytes");
    }
    let text =
        std::fs::read_to_string(&own).with_context(|| format!("reading {}", own.display()))?;
    let file = IndicatorFile::parse(&text, false)
        .map_err(|e| anyhow!("indicator file {}: {e}", own.display()))?;
    let f = file.indicators;
    let (mut from_file, mut from_cli) = (false, false);
    let mut attacker = |own: Vec<String>, cli: &[String]| {
        if own.is_empty() {
            from_cli |= !cli.is_empty();
            cli.to_vec()
        } else {
            from_file = true;
            own
        }
    };
    let chosen = Indicators {
        attacker_ip: attacker(f.attacker_ip, &given.attacker_ip),
        attacker_session: attacker(f.attacker_session, &given.attacker_session),
        attacker_client: attacker(f.attacker_client, &given.attacker_client),
        attacker_app: attacker(f.attacker_app, &given.attacker_app),
        attacker_user: attacker(f.attacker_user, &given.attacker_user),
        trusted_ip: if f.trusted_ip.is_empty() {
            given.trusted_ip.clone()
        } else {
            f.trusted_ip
        },
    };
    let mut indicators = Indicators::default();
    indicators.merge(chosen);
    let from = match (from_file, from_cli) {
        (true, true) => Some(format!("{INDICATOR_FILE} and command line")),
        (true, false) => Some(INDICATOR_FILE.to_string()),
        (false, true) => Some("command line".to_string()),
        (false, false) => None,
    };
    Ok((
        indicators,
        file.start.or(cli_start),
        file.end.or(cli_end),
        from,
    ))
}

fn file_name(format: ScopeFormat) -> &'static str {
    match format {
        ScopeFormat::Text => "scope.txt",
        ScopeFormat::Json => "scope.json",
        ScopeFormat::Csv => "csv",
        ScopeFormat::Md => "scope.md",
        ScopeFormat::Html => "scope.html",
    }
}

/// Writes `report` in `format` into `out`, as `scope --output` writes it; the files written.
fn write_report(
    report: &mut mailscope::report::Report,
    format: ScopeFormat,
    out: &Path,
    tz: Option<DisplayZone>,
) -> Result<Vec<PathBuf>> {
    let path = out.join(file_name(format));
    write_scope_report(report, format, &Some(path.clone()), tz)?;
    if format != ScopeFormat::Csv {
        return Ok(vec![path]);
    }
    Ok(mailscope::report::csv::FILES
        .iter()
        .map(|f| path.join(f))
        .filter(|p| p.is_file())
        .collect())
}

/// The SHA-256 of a report as written (read back from the disk).
fn sha256_of(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(mailscope::input::sha256_hex(&bytes))
}
