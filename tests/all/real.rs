//! The real Purview export in ../shared (never copied into this repository).

use crate::util::*;
use std::collections::BTreeMap;

fn real_sample() -> Option<std::path::PathBuf> {
    let p = root().join("../shared/samples/real/purview_rogue_inbox_2023.csv");
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: {} is absent (shared/ not beside the checkout)",
            p.display()
        );
        None
    }
}

#[test]
fn real_purview_export_reads_all_219_records_with_the_right_times_operations_and_ips() {
    let Some(path) = real_sample() else { return };
    let ing = read_one(&path);
    let f = &ing.files[0];
    assert_eq!(f.format, mailscope::model::Format::PurviewCsv);
    assert_eq!(
        (f.rows, f.records, f.duplicates, f.rejected),
        (219, 219, 0, 0)
    );
    assert_eq!(
        f.sha256,
        "2f1d6a1d043bc04268fbdfb52395c3127ffb3ff4f1f1c2c78ddb7e465dc56b30"
    );

    // Compare every record with the file's own columns, read independently with the csv crate.
    let mut rdr = csv::Reader::from_path(&path).unwrap();
    let mut expected: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    for row in rdr.records() {
        let row = row.unwrap();
        let ad: serde_json::Value = serde_json::from_str(&row[5]).unwrap();
        let ip = ad
            .get("ClientIP")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string();
        expected.insert(
            row[0].to_string(),
            (
                ad["CreationTime"].as_str().unwrap().to_string(),
                row[3].to_string(),
                ip,
            ),
        );
    }
    assert_eq!(expected.len(), 219);
    let mut ports = 0;
    for r in &ing.records() {
        let (time, op, raw_ip) = &expected[&*r.record_id];
        assert_eq!(
            mailscope::time::rfc3339(r.time),
            format!("{time}Z"),
            "{}",
            r.record_id
        );
        assert_eq!(&r.operation, op);
        if raw_ip.is_empty() {
            continue;
        }
        // Ports are split off; the address is what precedes them.
        let addr = raw_ip.split(':').next().unwrap();
        assert_eq!(r.client_ip.as_deref(), Some(addr), "{}", r.record_id);
        if r.client_port.is_some() {
            ports += 1;
            assert_eq!(r.operation, "New-InboxRule");
        }
    }
    assert_eq!(
        ports, 38,
        "every New-InboxRule row carries a port in ClientIP"
    );
    let ops = mailscope::inspect::build(&ing).operations;
    assert_eq!(ops["New-InboxRule"], 38);
    assert_eq!(ops["UserLoggedIn"], 20);
    assert_eq!(ops["Set-Mailbox"], 8);
}

#[test]
fn real_export_scope_of_the_rogue_inbox_attacker_is_unauditable() {
    let Some(path) = real_sample() else { return };
    let out = bin()
        .args([
            "scope",
            "--quiet",
            "--format",
            "json",
            "--attacker-ip",
            "185.73.124.135",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert_success(&out);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let debra = j["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mailbox"] == "debrab@m365b132131.onmicrosoft.com")
        .unwrap();
    // Inbox rules and sign-ins from the attacker, and no MailItemsAccessed in the export.
    assert_eq!(debra["verdict"], "entire-mailbox");
    assert_eq!(debra["reasons"][0]["rule"], "unauditable");
    assert!(
        debra["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["operation"] == "New-InboxRule")
    );
    assert!(
        j["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["code"] == "no-access-auditing")
    );
}
