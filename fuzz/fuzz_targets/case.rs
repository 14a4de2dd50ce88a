#![no_main]
//! Saved cases, two ways (the first byte chooses):
//! - any bytes (not starting with `e` or `j`) as a case: the reader answers (a case, not a
//!   case, or unreadable) and never ends the process. A panic inside polars' Parquet reader is
//!   caught, as `ingest` catches it; what this finds is what catching cannot mend: aborts,
//!   runaway allocation, hangs.
//! - `e` then edits, or `j` then JSON: a real case (the samples') whose metadata the bytes edit
//!   or replace, signed again as someone who alters a case would (`tests/all/case_edit.rs`). It
//!   passes the checksum, so the reader must validate it, and the run goes on through ingest
//!   and every report. No panic there is caught: anything that trusts the metadata (indexes a
//!   list, slices a hash, sums counts) is a finding.
use libfuzzer_sys::fuzz_target;
use mailscope::frame::Columns;
use serde_json::Value;

#[path = "../../tests/all/case_edit.rs"]
mod case_edit;

/// A case of the samples written by this build (`export samples/ --output …`).
const SEED: &[u8] = include_bytes!("../../tests/fixtures/case/samples_v3.parquet");

fuzz_target!(|data: &[u8]| match data.split_first() {
    Some((b'e', edits)) => run(&case_edit::with_provenance(
        SEED,
        &edited(&case_edit::provenance(SEED), edits),
    )),
    // The provenance replaced whole: JSON the bytes are.
    Some((b'j', json)) => run(&case_edit::with_provenance(
        SEED,
        &String::from_utf8_lossy(json),
    )),
    _ => {
        static QUIET: std::sync::Once = std::sync::Once::new();
        QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
        for columns in [Columns::Views, Columns::All] {
            let _ = std::panic::catch_unwind(|| mailscope::case::read(data, columns));
        }
    }
});

/// Every value in the JSON, by its pointer (`/inputs/0/sha256`).
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => o.iter().for_each(|(k, v)| {
            pointers(
                v,
                format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                out,
            )
        }),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, v)| pointers(v, format!("{at}/{i}"), out)),
        _ => {}
    }
    out.push(at);
}

/// The provenance with edits the bytes choose, 4 bytes an edit: which value (2 bytes), what to
/// put there (1), a length (1) of the bytes that follow, used as the new value's text or number.
fn edited(json: &str, mut bytes: &[u8]) -> String {
    let mut v: Value = serde_json::from_str(json).expect("the seed's provenance is JSON");
    while bytes.len() >= 4 {
        let mut paths = Vec::new();
        pointers(&v, String::new(), &mut paths);
        let path = &paths[usize::from(u16::from_le_bytes([bytes[0], bytes[1]])) % paths.len()];
        let (op, len) = (bytes[2], usize::from(bytes[3]));
        bytes = &bytes[4..];
        let take = len.min(bytes.len());
        let (arg, after) = bytes.split_at(take);
        bytes = after;
        let number = {
            let mut b = [0u8; 8];
            b[..arg.len().min(8)].copy_from_slice(&arg[..arg.len().min(8)]);
            u64::from_le_bytes(b)
        };
        let new = match op % 12 {
            0 => Value::String(String::from_utf8_lossy(arg).into_owned()),
            1 => Value::from(number),
            2 => Value::from(number as i64),
            3 => Value::from(f64::from_bits(number)),
            4 => Value::Null,
            5 => Value::Bool(number & 1 == 1),
            6 => Value::Array(Vec::new()),
            7 => Value::Object(Default::default()),
            // A 64-character text, of hex digits or not.
            // (An empty text repeats as 'a': repeating "" forever would never yield a char.)
            8 => Value::String({
                let text = String::from_utf8_lossy(arg);
                let text = if text.is_empty() { "a".into() } else { text };
                text.chars().cycle().take(64).collect()
            }),
            // Small numbers: counts that nearly add up.
            9 => Value::from(number % 32),
            10 => {
                // Remove the value (from its object or list).
                remove(&mut v, path);
                continue;
            }
            _ => {
                // Copy it over another of its list (a duplicate input, message, reject).
                duplicate(&mut v, path);
                continue;
            }
        };
        if let Some(slot) = v.pointer_mut(path) {
            *slot = new;
        }
    }
    v.to_string()
}

fn parent(path: &str) -> Option<(&str, &str)> {
    let i = path.rfind('/')?;
    Some((&path[..i], &path[i + 1..]))
}

fn remove(v: &mut Value, path: &str) {
    let Some((up, last)) = parent(path) else {
        return;
    };
    match v.pointer_mut(up) {
        Some(Value::Object(o)) => {
            o.remove(&last.replace("~1", "/").replace("~0", "~"));
        }
        Some(Value::Array(a)) => {
            if let Some(i) = last.parse::<usize>().ok().filter(|&i| i < a.len()) {
                a.remove(i);
            }
        }
        _ => {}
    }
}

fn duplicate(v: &mut Value, path: &str) {
    let Some((up, last)) = parent(path) else {
        return;
    };
    let Some(Value::Array(a)) = v.pointer_mut(up) else {
        return;
    };
    if let Some(i) = last.parse::<usize>().ok().filter(|&i| i < a.len()) {
        let copy = a[i].clone();
        a.push(copy);
    }
}

/// The case through what the commands do with it: ingest, inspect, scope and every report.
fn run(case: &[u8]) {
    use mailscope::report::text::Style;
    let path = std::env::temp_dir().join(format!(
        "mailscope-fuzz-case-{}.parquet",
        std::process::id()
    ));
    std::fs::write(&path, case).expect("a temporary file");
    for columns in [Columns::Views, Columns::All] {
        let opts = mailscope::ingest::IngestOptions {
            columns,
            use_mmap: false,
            ..Default::default()
        };
        let ing = mailscope::ingest::ingest(
            std::slice::from_ref(&path),
            &opts,
            &mailscope::progress::NoProgress,
        );
        let inspect = mailscope::inspect::build(&ing);
        let _ = mailscope::inspect::render_text(&inspect, None);
        if columns == Columns::All {
            continue;
        }
        let mut cfg = mailscope::scope::ScopeConfig {
            session_link: true,
            ..Default::default()
        };
        cfg.indicators.attacker_ip = vec!["203.0.113.66".into()];
        let Ok(scope) = mailscope::scope::compute(&ing.frame, &cfg) else {
            continue;
        };
        let mut report = mailscope::report::build_report(ing.provenance(), scope, &cfg, Vec::new());
        for markdown in [false, true] {
            let style = Style {
                markdown,
                tz: None,
                list_limit: 20,
            };
            let _ = mailscope::report::text::render(&report, &style);
        }
        let _ = mailscope::report::html::render(&report, "2024-01-01T00:00:00Z");
        let _ = report.write_json(&mut std::io::sink());
    }
}
