//! `mailscope batch`: many evidence sets in one run, each scoped as `scope` scopes it alone, one
//! failing set listed and the others done, an index with every set's status and files.

use crate::synth;
use crate::util::{bin, sample};
use serde_json::Value;
use std::path::{Path, PathBuf};

const SAMPLE_TOML: &str = "attacker_ip = [\"203.0.113.66\"]\n";

/// Two roots: `a` holds the sample incident (with its indicator file), junk only, and a set
/// whose indicator file is broken; `b` a generated incident and a set with no indicators. A file
/// lies loose under `a`.
fn evidence() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let set = |root: &str, name: &str| {
        let p = dir.path().join(root).join(name);
        std::fs::create_dir_all(&p).unwrap();
        p
    };
    let acme = set("a", "acme");
    for f in std::fs::read_dir(sample("")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, acme.join(f.file_name().unwrap())).unwrap();
    }
    std::fs::write(acme.join("mailscope.toml"), SAMPLE_TOML).unwrap();
    let junk = set("a", "junk");
    std::fs::write(junk.join("readme.txt"), "collected by hand, nothing here\n").unwrap();
    std::fs::write(junk.join("mailscope.toml"), SAMPLE_TOML).unwrap();
    let broken = set("a", "broken-indicators");
    std::fs::copy(
        sample("purview_audit_export.csv"),
        broken.join("purview.csv"),
    )
    .unwrap();
    std::fs::write(
        broken.join("mailscope.toml"),
        "attacker_ip = [203.0.113.66\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("a/loose.csv"), "not in a set\n").unwrap();
    let generated = set("b", "generated");
    synth::generate(800, 21, "csv", &generated.join("purview.csv"));
    std::fs::write(
        generated.join("mailscope.toml"),
        "attacker_ip = [\"203.0.113.66\"]\nstart = \"2024-03-01\"\n",
    )
    .unwrap();
    let unnamed = set("b", "unnamed");
    std::fs::copy(sample("SearchResult.xml"), unnamed.join("SearchResult.xml")).unwrap();
    dir
}

fn batch(roots: &[PathBuf], out: &Path, extra: &[&str]) -> std::process::Output {
    bin()
        .arg("batch")
        .args(roots)
        .arg("--output-dir")
        .arg(out)
        .args([
            "-q", "--format", "json", "--format", "md", "--format", "csv",
        ])
        .args(extra)
        .output()
        .unwrap()
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn set<'a>(index: &'a Value, name: &str) -> &'a Value {
    index["sets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no set {name} in {index}"))
}

/// A JSON report without the command line, which differs between `batch` and `scope`.
fn findings(mut report: Value) -> Value {
    report.as_object_mut().unwrap().remove("command_line");
    report
}

#[test]
fn every_set_is_scoped_as_scope_alone_would_and_the_index_lists_them_all() {
    let dir = evidence();
    let roots = [dir.path().join("a"), dir.path().join("b")];
    let out = dir.path().join("reports");
    let run = batch(&roots, &out, &[]);
    assert_eq!(
        run.status.code(),
        Some(3),
        "two sets fail: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("2 of 5 evidence set(s) failed"), "{stderr}");
    assert!(stderr.contains("loose.csv"), "{stderr}");

    let index = read_json(&out.join("index.json"));
    assert_eq!(index["schema"], "mailscope.batch.v1");
    let names: Vec<&str> = index["sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["acme", "broken-indicators", "generated", "junk", "unnamed"]
    );
    assert!(index["ignored"][0].as_str().unwrap().ends_with("loose.csv"));

    let acme = set(&index, "acme");
    assert_eq!(acme["status"], "done");
    assert_eq!(acme["indicators_from"], "mailscope.toml");
    assert_eq!(
        acme["verdicts"],
        serde_json::json!({"entire_mailbox": 3, "folders": 1, "messages": 1, "none": 1})
    );
    // The set's report is scope's report of that folder with the same indicators.
    let alone = bin()
        .arg("scope")
        .arg(dir.path().join("a/acme"))
        .args(["--attacker-ip", "203.0.113.66", "--format", "json", "-q"])
        .output()
        .unwrap();
    assert_eq!(alone.status.code(), Some(0));
    let alone: Value = serde_json::from_slice(&alone.stdout).unwrap();
    assert_eq!(
        findings(read_json(&out.join("acme/scope.json"))),
        findings(alone)
    );
    // Every report file is listed with the SHA-256 it has on disk.
    let reports = acme["reports"].as_array().unwrap();
    assert!(reports.len() >= 3, "{reports:?}");
    for r in reports {
        let path = out.join(r["path"].as_str().unwrap());
        let digest = mailscope::input::sha256_hex(&std::fs::read(&path).unwrap());
        assert_eq!(r["sha256"], digest.as_str(), "{}", path.display());
    }
    assert!(out.join("acme/scope.md").is_file() && out.join("acme/csv/mailboxes.csv").is_file());
    // Inputs are listed with their hashes for the chain of custody.
    assert_eq!(acme["inputs"].as_array().unwrap().len(), 6);

    let generated = set(&index, "generated");
    assert_eq!(generated["status"], "done");
    assert!(generated["records_read"].as_u64().unwrap() >= 800);

    let broken = set(&index, "broken-indicators");
    assert_eq!(broken["status"], "failed");
    assert!(
        broken["error"].as_str().unwrap().contains("mailscope.toml"),
        "{broken}"
    );
    assert!(!out.join("broken-indicators").exists());

    let junk = set(&index, "junk");
    assert_eq!(junk["status"], "failed");
    assert!(
        junk["error"]
            .as_str()
            .unwrap()
            .starts_with("nothing could be read"),
        "{junk}"
    );

    let unnamed = set(&index, "unnamed");
    assert_eq!(unnamed["status"], "no-indicators");
    assert_eq!(unnamed["inputs"].as_array().unwrap().len(), 1);

    let csv = std::fs::read_to_string(out.join("index.csv")).unwrap();
    assert_eq!(csv.lines().next().unwrap().split(',').next(), Some("set"));
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("acme/scope.") && html.contains("no-indicators"));
}

#[test]
fn the_index_does_not_depend_on_the_order_of_the_roots() {
    let dir = evidence();
    let forward = [dir.path().join("a"), dir.path().join("b")];
    let backward = [dir.path().join("b"), dir.path().join("a")];
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    batch(&forward, &one, &[]);
    batch(&backward, &two, &[]);
    let index = |p: &Path| {
        let mut v = findings(read_json(&p.join("index.json")));
        // Report paths are relative to the output directory; the inputs' are the same paths.
        v["sets"].as_array_mut().unwrap().iter_mut().for_each(|s| {
            s.as_object_mut()
                .unwrap()
                .remove("reports")
                .map(|_| ())
                .unwrap_or(())
        });
        v
    };
    assert_eq!(index(&one), index(&two));
    assert_eq!(
        std::fs::read(one.join("acme/scope.md")).unwrap(),
        std::fs::read(two.join("acme/scope.md")).unwrap()
    );
}

#[test]
fn an_output_directory_inside_the_evidence_is_refused_before_anything_is_read() {
    let dir = evidence();
    let inside = dir.path().join("a/acme/reports");
    let run = batch(&[dir.path().join("a")], &inside, &[]);
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("evidence is read-only"), "{stderr}");
    assert!(!inside.exists());
}

#[test]
fn a_set_named_like_the_index_a_rerun_with_force_and_a_partial_indicator_file_all_hold() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tenants");
    // A set whose folder is named like the index: it gets a folder of its own.
    let odd = root.join("index.html");
    std::fs::create_dir_all(&odd).unwrap();
    std::fs::copy(sample("purview_audit_export.csv"), odd.join("purview.csv")).unwrap();
    // A set whose mailscope.toml gives only a window and a trusted range: the attacker comes
    // from the command line, the window and the trusted range from the file.
    let partial = root.join("partial");
    std::fs::create_dir_all(&partial).unwrap();
    std::fs::copy(
        sample("purview_audit_export.csv"),
        partial.join("purview.csv"),
    )
    .unwrap();
    std::fs::write(
        partial.join("mailscope.toml"),
        "start = \"2024-03-01\"\ntrusted_ip = [\"198.51.100.0/24\"]\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let args = ["--attacker-ip", "203.0.113.66", "--format", "csv"];
    let first = batch(std::slice::from_ref(&root), &out, &args);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(out.join("index.html").is_file());
    let index = read_json(&out.join("index.json"));
    let odd = set(&index, "index.html");
    assert_eq!(odd["status"], "done");
    assert_ne!(odd["output"], "index.html");

    let partial = set(&index, "partial");
    assert_eq!(partial["indicators_from"], "command line");
    let report = read_json(&out.join("partial/scope.json"));
    assert_eq!(report["window"]["start"], "2024-03-01T00:00:00Z");
    assert_eq!(report["indicators"]["trusted_ip"][0], "198.51.100.0/24");
    assert_eq!(report["indicators"]["attacker_ip"][0], "203.0.113.66");

    // The same batch again over its own output, CSV folders included.
    let again = batch(
        std::slice::from_ref(&root),
        &out,
        &[&args[..], &["--force"]].concat(),
    );
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}
