//! Outputs never touch evidence, whatever path reaches it, and bad worker counts are refused
//! (issue #14, items 4–8). Each case checks the exit code, the message, and that the evidence is
//! byte for byte what it was.

use crate::util::*;
use std::path::{Path, PathBuf};

/// An evidence folder holding a copy of the sample Purview export.
struct Case {
    _dir: tempfile::TempDir,
    root: PathBuf,
    evidence: PathBuf,
    export: PathBuf,
    original: Vec<u8>,
}

impl Case {
    fn new() -> Case {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let evidence = root.join("evidence");
        std::fs::create_dir(&evidence).unwrap();
        let export = evidence.join("purview_audit_export.csv");
        std::fs::copy(sample("purview_audit_export.csv"), &export).unwrap();
        let original = std::fs::read(&export).unwrap();
        Case {
            _dir: dir,
            root,
            evidence,
            export,
            original,
        }
    }

    /// Run `args` with `--output out` and the evidence folder; expect a refusal.
    fn refused(&self, args: &[&str], out: &Path, why: &str) {
        let run = bin()
            .args(args)
            .arg("--output")
            .arg(out)
            .arg(&self.evidence)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(
            run.status.code(),
            Some(1),
            "{args:?} {}: {stderr}",
            out.display()
        );
        assert!(
            stderr.contains("refusing to write") && stderr.contains(why),
            "{args:?} {}: {stderr}",
            out.display()
        );
        assert_eq!(std::fs::read(&self.export).unwrap(), self.original);
    }

    /// Every file under the evidence folder, as (name, bytes).
    fn evidence_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.evidence)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }
}

const SCOPE_JSON: &[&str] = &[
    "scope",
    "--quiet",
    "--attacker-ip",
    "203.0.113.66",
    "--format",
    "json",
    "--force",
];
const SCOPE_CSV: &[&str] = &[
    "scope",
    "--quiet",
    "--attacker-ip",
    "203.0.113.66",
    "--format",
    "csv",
    "--force",
];

#[test]
fn an_output_in_a_new_folder_inside_the_evidence_is_refused_for_every_command() {
    let c = Case::new();
    let nested = c.evidence.join("newdir").join("deeper").join("report.txt");
    for args in [
        SCOPE_JSON,
        &["inspect", "--quiet", "--force"],
        &["contexts", "--quiet", "--force"],
        &["timeline", "--quiet", "--force"],
    ] {
        c.refused(args, &nested, "inside an input folder");
    }
    c.refused(
        SCOPE_CSV,
        &c.evidence.join("newdir"),
        "inside an input folder",
    );
    c.refused(
        &["export", "--quiet", "--force"],
        &c.evidence.join("newdir").join("case.parquet"),
        "inside an input folder",
    );
    assert_eq!(c.evidence_files(), ["purview_audit_export.csv"]);
}

#[cfg(unix)]
#[test]
fn a_hard_link_to_evidence_is_refused_even_with_force() {
    let c = Case::new();
    let link = c.root.join("report.json");
    std::fs::hard_link(&c.export, &link).unwrap();
    c.refused(SCOPE_JSON, &link, "the same file by another name");
    c.refused(
        &["inspect", "--quiet", "--force"],
        &link,
        "the same file by another name",
    );
    assert_eq!(std::fs::read(&link).unwrap(), c.original);
}

#[cfg(unix)]
#[test]
fn a_symlink_as_output_is_refused_dangling_or_not() {
    let c = Case::new();
    let dangling = c.root.join("report.txt");
    let target = c.evidence.join("planted.txt");
    std::os::unix::fs::symlink(&target, &dangling).unwrap();
    c.refused(SCOPE_JSON, &dangling, "symbolic link");
    assert!(
        !target.exists(),
        "nothing was created where the link points"
    );
    let to_export = c.root.join("out.json");
    std::os::unix::fs::symlink(&c.export, &to_export).unwrap();
    c.refused(SCOPE_JSON, &to_export, "symbolic link");
    let to_folder = c.root.join("tables");
    std::os::unix::fs::symlink(&c.evidence, &to_folder).unwrap();
    c.refused(SCOPE_CSV, &to_folder, "symbolic link");
    assert_eq!(c.evidence_files(), ["purview_audit_export.csv"]);
}

#[cfg(unix)]
#[test]
fn every_table_of_a_csv_report_is_checked_not_only_its_folder() {
    let c = Case::new();
    let tables = c.root.join("tables");
    std::fs::create_dir(&tables).unwrap();
    std::fs::hard_link(&c.export, tables.join("messages.csv")).unwrap();
    c.refused(SCOPE_CSV, &tables, "the same file by another name");
    std::fs::remove_file(tables.join("messages.csv")).unwrap();
    std::os::unix::fs::symlink(&c.export, tables.join("folders.csv")).unwrap();
    c.refused(SCOPE_CSV, &tables, "symbolic link");
    std::fs::remove_file(tables.join("folders.csv")).unwrap();
    // A clean folder is written whole, with no temporary files left behind.
    let run = bin()
        .args(SCOPE_CSV)
        .arg("--output")
        .arg(&tables)
        .arg(&c.evidence)
        .output()
        .unwrap();
    assert_success(&run);
    let mut written: Vec<String> = std::fs::read_dir(&tables)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    written.sort();
    let mut expected: Vec<String> = mailscope::report::csv::FILES
        .iter()
        .map(|s| s.to_string())
        .collect();
    expected.sort();
    assert_eq!(written, expected);
}

#[test]
fn an_existing_report_is_replaced_only_with_force() {
    let c = Case::new();
    let report = c.root.join("scope.json");
    std::fs::write(&report, "previous report").unwrap();
    let args = [
        "scope",
        "--quiet",
        "--attacker-ip",
        "203.0.113.66",
        "--format",
        "json",
    ];
    let run = bin()
        .args(args)
        .arg("--output")
        .arg(&report)
        .arg(&c.evidence)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("pass --force"));
    assert_eq!(std::fs::read_to_string(&report).unwrap(), "previous report");
    let run = bin()
        .args(args)
        .arg("--force")
        .arg("--output")
        .arg(&report)
        .arg(&c.evidence)
        .output()
        .unwrap();
    assert_success(&run);
    let j: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(j["schema"], "mailscope.scope.v1");
}

#[test]
fn worker_counts_out_of_range_are_refused_not_a_panic() {
    for threads in ["5000", "1025", "many"] {
        let run = bin()
            .args(["inspect", "--quiet", "--threads", threads])
            .arg(sample(""))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "--threads {threads}: {stderr}");
        assert!(stderr.contains("--threads"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    for threads in ["0", "1", "3"] {
        let run = bin()
            .args(["inspect", "--quiet", "--threads", threads])
            .arg(sample(""))
            .output()
            .unwrap();
        assert_success(&run);
    }
}
