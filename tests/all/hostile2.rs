//! Hostile evidence, round 2 (issue #14, items 1–3 and 9–13): what an attacker controls, and
//! what a tired analyst may point the tool at, never crashes it, leaks local files into a
//! report, or reaches the analyst's terminal or documents as live control or markup.

use crate::util::*;
use std::path::Path;

const ATTACKER_IP: &str = "203.0.113.66";

fn run_scope(format: &str, input: &Path) -> (Option<i32>, String, String) {
    let out = bin()
        .args([
            "scope",
            "--quiet",
            "--attacker-ip",
            ATTACKER_IP,
            "--format",
            format,
        ])
        .arg(input)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_evidence_is_not_followed_and_no_skipped_file_is_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("shadow");
    std::fs::write(
        &secret,
        "root:*:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\n",
    )
    .unwrap();
    let evidence = dir.path().join("evidence");
    std::fs::create_dir(&evidence).unwrap();
    std::fs::copy(
        sample("purview_audit_export.csv"),
        evidence.join("purview.csv"),
    )
    .unwrap();
    std::os::unix::fs::symlink(&secret, evidence.join("notes.txt")).unwrap();
    // A link that stays inside the evidence is still followed.
    std::os::unix::fs::symlink(evidence.join("purview.csv"), evidence.join("same.csv")).unwrap();
    // A local CSV that is not an export: named for what it is not, not for what it holds.
    std::fs::write(
        evidence.join("accounts.csv"),
        "username,password_hash,api_key\nalice,$6$salt$hash,sk-live-123\n",
    )
    .unwrap();
    for format in ["text", "json", "md", "html"] {
        let (code, out, err) = run_scope(format, &evidence);
        assert_eq!(code, Some(0), "{format}: {err}");
        for leaked in ["root:*", "daemon", "password_hash", "api_key", "sk-live"] {
            assert!(!out.contains(leaked), "{format} report quotes {leaked}");
        }
    }
    let (_, json, _) = run_scope("json", &evidence);
    let j: serde_json::Value = serde_json::from_str(&json).unwrap();
    let skipped: Vec<(String, String)> = j["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["path"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        skipped
            .iter()
            .any(|(p, r)| p == "notes.txt" && r.contains("outside the input folder")),
        "{skipped:?}"
    );
    assert!(
        skipped
            .iter()
            .any(|(p, r)| p == "accounts.csv" && r.contains("not a recognised audit export")),
        "{skipped:?}"
    );
    // One export, read once (the inside link is the same file).
    assert_eq!(j["inputs"].as_array().unwrap().len(), 1);
}
