use mailscope::ingest::{Ingest, IngestOptions, ingest};
use mailscope::progress::NoProgress;
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

pub fn sample(name: &str) -> PathBuf {
    root().join("samples").join(name)
}

pub fn read(paths: &[PathBuf]) -> Ingest {
    ingest(paths, &IngestOptions::default(), &NoProgress)
}

pub fn read_one(p: &Path) -> Ingest {
    read(&[p.to_path_buf()])
}

pub fn t(s: &str) -> i64 {
    mailscope::time::parse_iso(s).expect("test time")
}

pub fn bin() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_mailscope"))
}

/// The command exited 0; otherwise fail showing what it printed on stderr.
pub fn assert_success(out: &std::process::Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `scope --format json` over `paths` with the sample incident's attacker IP and `extra`.
pub fn scope_report(paths: &[PathBuf], extra: &[&str]) -> serde_json::Value {
    let out = bin()
        .arg("scope")
        .args(paths)
        .args(["--attacker-ip", "203.0.113.66", "--format", "json", "-q"])
        .args(extra)
        .output()
        .unwrap();
    assert_success(&out);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Each mailbox of a JSON scope report with its verdict, in report order.
pub fn verdicts(report: &serde_json::Value) -> Vec<(String, String)> {
    report["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["mailbox"].as_str().unwrap().to_string(),
                m["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The header of a Purview audit search export (8 columns), as the portal writes it.
pub const PURVIEW_HEADER: &str = "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\r\n";

/// A Purview audit search export (8 columns) of these AuditData objects, as the portal writes it.
pub fn purview_export(records: &[serde_json::Value]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    w.write_record([
        "RecordId",
        "CreationDate",
        "RecordType",
        "Operation",
        "UserId",
        "AuditData",
        "AssociatedAdminUnits",
        "AssociatedAdminUnitsNames",
    ])
    .unwrap();
    for r in records {
        w.write_record([
            r["Id"].as_str().unwrap(),
            "3/12/2024 2:14:07 AM",
            &r["RecordType"].to_string(),
            r["Operation"].as_str().unwrap(),
            r["UserId"].as_str().unwrap(),
            &r.to_string(),
            "",
            "",
        ])
        .unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

/// The sample folder as the committed v1 and v2 cases read it: before the attacker's forwarding
/// rule and sent message joined the PowerShell export (its two last results; the others said
/// "of 3"), and before the eDiscovery export. Byte for byte what those cases hash, in a folder of `dir`.
pub fn samples_before_outbound_mail(dir: &Path) -> PathBuf {
    let out = dir.join("samples");
    std::fs::create_dir_all(&out).unwrap();
    for e in std::fs::read_dir(sample("")).unwrap() {
        let e = e.unwrap();
        // The attacker's content search joined the samples after the cases were written.
        if e.file_name() == "purview_ediscovery_export.csv" {
            continue;
        }
        std::fs::copy(e.path(), out.join(e.file_name())).unwrap();
    }
    let name = "Search-UnifiedAuditLog_export.csv";
    let text = std::fs::read_to_string(sample(name)).unwrap();
    let kept: Vec<String> = text
        .split("\r\n")
        .filter(|l| {
            !l.contains("a1c0a0f2-0000-4000-8000-0000000000f2\",")
                && !l.contains("b0b0b0f1-0000-4000-8000-0000000000f1\",")
        })
        .map(|l| {
            (1..=3).fold(l.to_string(), |l, n| {
                l.replace(&format!(",\"{n}\",\"5\","), &format!(",\"{n}\",\"3\","))
            })
        })
        .collect();
    std::fs::write(out.join(name), kept.join("\r\n")).unwrap();
    out
}

/// One mailbox of a JSON scope report, by name.
pub fn mailbox<'r>(report: &'r serde_json::Value, name: &str) -> &'r serde_json::Value {
    report["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mailbox"] == name)
        .unwrap_or_else(|| panic!("{name} is not in the report"))
}
