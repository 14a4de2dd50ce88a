//! Golden outputs: every report format over the samples, a spread of fixtures and one generated
//! incident, compared byte for byte with the files under `tests/golden/`. A change to any of
//! them is deliberate: look at the diff, then bless it with
//! `MAILSCOPE_BLESS=1 cargo test --release golden` and say so in the commit.
//!
//! Masked before comparing: the binary's path in the command line (it depends on the build
//! folder), the generated incident's temporary folder, and the HTML report's generation time.

use crate::synth;
use crate::util::{bin, root};
use std::path::{Path, PathBuf};

const ATTACKER: [&str; 2] = ["--attacker-ip", "203.0.113.66"];

/// Fixture files with the shapes, damage and quirks the engine handles; named one by one so a
/// new fixture does not move these outputs.
const FIXTURES: &[&str] = &[
    "tests/fixtures/classic_portal.csv",
    "tests/fixtures/mailbox_audit_log_showdetails.csv",
    "tests/fixtures/purview_2022_6col.csv",
    "tests/fixtures/purview_damaged.csv",
    "tests/fixtures/searchresult_admin.xml",
    "tests/fixtures/auditdata.jsonl",
    "tests/fixtures/copies/purview.csv",
    "tests/fixtures/copies/OfficeActivity.csv",
    "tests/fixtures/rules/purview_rules.csv",
    "tests/fixtures/siem/sentinel_officeactivity_portal.csv",
    "tests/fixtures/siem/defender_advanced_hunting_union.csv",
    "tests/fixtures/siem/graph_auditlog_pages.jsonl",
    "tests/fixtures/siem/auditdata_control_characters.jsonl",
    "tests/fixtures/inventory/get_messagetracev2_convertto-json.json",
    "tests/fixtures/inventory/eac_extended_utf16.csv",
];

/// Where a command writes: standard output, the file `--output` names, or a folder of CSVs.
#[derive(PartialEq)]
enum Written {
    Stdout,
    File,
    Folder,
}

/// One command and the golden file (or folder) its output is kept in.
struct Golden {
    name: String,
    args: Vec<String>,
    written: Written,
}

fn golden(name: &str, args: &[&str]) -> Golden {
    Golden {
        name: name.into(),
        args: args.iter().map(|a| a.to_string()).collect(),
        written: Written::Stdout,
    }
}

/// Every scope format, and the other commands, over `inputs`, named `prefix-…`.
fn all_formats(prefix: &str, inputs: &[&str]) -> Vec<Golden> {
    let scope = |name: &str, extra: &[&str]| {
        let mut args = vec!["scope", "-q"];
        args.extend(inputs);
        args.extend(ATTACKER);
        args.extend(extra);
        golden(&format!("{prefix}-{name}"), &args)
    };
    let other = |name: &str, command: &str, extra: &[&str]| {
        let mut args = vec![command, "-q"];
        args.extend(inputs);
        args.extend(extra);
        golden(&format!("{prefix}-{name}"), &args)
    };
    let mut csv = scope("scope-csv", &["--format", "csv"]);
    csv.written = Written::Folder;
    let mut timeline = other("timeline.csv", "timeline", &ATTACKER);
    timeline.written = Written::File;
    vec![
        scope("scope.txt", &[]),
        scope("scope.md", &["--format", "md"]),
        scope("scope.json", &["--format", "json"]),
        scope("scope.html", &["--format", "html"]),
        csv,
        timeline,
        other("contexts.txt", "contexts", &ATTACKER),
        other(
            "contexts.json",
            "contexts",
            &[&ATTACKER[..], &["--format", "json"]].concat(),
        ),
        other("inspect.txt", "inspect", &[]),
        other("inspect.json", "inspect", &["--format", "json"]),
    ]
}

fn goldens(generated: &str) -> Vec<Golden> {
    let mut all = all_formats("samples", &["samples/"]);
    all.push(golden(
        "samples-scope-berlin.txt",
        &[
            "scope",
            "-q",
            "samples/",
            "--attacker-ip",
            "203.0.113.66",
            "--tz",
            "Europe/Berlin",
        ],
    ));
    all.push(golden(
        "samples-scope-no-subjects.md",
        &[
            "scope",
            "-q",
            "samples/",
            "--attacker-ip",
            "203.0.113.66",
            "--no-subjects",
            "--format",
            "md",
        ],
    ));
    all.extend(all_formats("fixtures", FIXTURES));
    // The generated incident's timeline and contexts list every record: large, and no shape the
    // fixtures lack.
    all.extend(
        all_formats("generated", &[generated])
            .into_iter()
            .filter(|g| !g.name.contains("timeline") && !g.name.contains("contexts")),
    );
    all
}

/// What differs between two runs on two machines, replaced by fixed text.
fn mask(text: &str, generated: &str) -> String {
    let binary = env!("CARGO_BIN_EXE_mailscope");
    let mut text = text
        .replace(binary, "mailscope")
        .replace(generated, "GENERATED");
    let marker = "<th>Generated</th><td>";
    if let Some(at) = text.find(marker) {
        let start = at + marker.len();
        if let Some(len) = text[start..].find("</td>") {
            text.replace_range(start..start + len, "(masked)");
        }
    }
    text
}

/// Runs `g` and returns its outputs as (file name under tests/golden, masked text).
fn run(g: &Golden, scratch: &Path, generated: &str) -> Vec<(PathBuf, String)> {
    let mut command = bin();
    command.current_dir(root()).args(&g.args);
    let written = scratch.join(&g.name);
    if g.written != Written::Stdout {
        command.arg("--output").arg(&written);
    }
    let out = command.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}: {}",
        g.name,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = match g.written {
        Written::Stdout => String::from_utf8(out.stdout).expect("UTF-8 output"),
        Written::File => std::fs::read_to_string(&written).unwrap(),
        Written::Folder => String::new(),
    };
    if g.written != Written::Folder {
        return vec![(PathBuf::from(&g.name), mask(&text, generated))];
    }
    let mut files: Vec<_> = std::fs::read_dir(&written)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let name = Path::new(&g.name).join(p.file_name().unwrap());
            (name, mask(&text, generated))
        })
        .collect()
}

/// The first line where `want` and `got` differ, for a readable failure.
fn first_difference(want: &str, got: &str) -> String {
    for (n, (w, g)) in want.lines().zip(got.lines()).enumerate() {
        if w != g {
            return format!("line {}:\n  golden: {w}\n  now:    {g}", n + 1);
        }
    }
    format!(
        "lengths differ: golden {} lines, now {} lines",
        want.lines().count(),
        got.lines().count()
    )
}

#[test]
fn outputs_match_the_golden_files() {
    let scratch = tempfile::tempdir().unwrap();
    let incident = scratch.path().join("incident");
    std::fs::create_dir(&incident).unwrap();
    synth::generate(1_000, 11, "csv", &incident.join("purview.csv"));
    synth::generate(300, 12, "xml", &incident.join("SearchResult.xml"));
    let generated = incident.to_str().unwrap().to_string();

    let bless = std::env::var_os("MAILSCOPE_BLESS").is_some();
    let golden_root = root().join("tests/golden");
    let mut failures = Vec::new();
    let mut kept = std::collections::BTreeSet::new();
    for g in goldens(&generated) {
        for (name, got) in run(&g, scratch.path(), &generated) {
            let path = golden_root.join(&name);
            kept.insert(path.clone());
            if bless {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &got).unwrap();
                continue;
            }
            match std::fs::read_to_string(&path) {
                Ok(want) if want == got => {}
                Ok(want) => failures.push(format!(
                    "{}: {}",
                    name.display(),
                    first_difference(&want, &got)
                )),
                Err(e) => failures.push(format!("{}: {e}", path.display())),
            }
        }
    }
    // A golden file no command writes any more is stale: it would hide a lost output.
    for entry in walk(&golden_root) {
        if !kept.contains(&entry) {
            if bless {
                std::fs::remove_file(&entry).unwrap();
            } else {
                failures.push(format!("{}: no command writes it", entry.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "outputs differ from tests/golden (bless a deliberate change with \
         MAILSCOPE_BLESS=1 cargo test --release golden):\n{}",
        failures.join("\n")
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}
