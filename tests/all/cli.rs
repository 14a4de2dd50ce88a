//! The command line as an analyst uses it, on the bundled sample incident.

use crate::util::*;
use serde_json::Value;

fn scope_json(extra: &[&str]) -> (Value, Vec<u8>) {
    let out = bin()
        .args([
            "scope",
            "--quiet",
            "--format",
            "json",
            "--attacker-ip",
            "203.0.113.66",
        ])
        .args(extra)
        .arg(sample(""))
        .output()
        .unwrap();
    assert_success(&out);
    (serde_json::from_slice(&out.stdout).unwrap(), out.stdout)
}

#[test]
fn the_sample_incident_shows_every_verdict() {
    let (j, _) = scope_json(&[]);
    assert_eq!(j["schema"], "mailscope.scope.v1");
    assert_eq!(
        verdicts(&j),
        vec![
            ("alice@contoso.com".into(), "messages".into()),
            ("bob@contoso.com".into(), "entire-mailbox".into()),
            ("carol@contoso.com".into(), "entire-mailbox".into()),
            ("dave@contoso.com".into(), "folders".into()),
            ("erin@contoso.com".into(), "entire-mailbox".into()),
            ("frank@contoso.com".into(), "none".into()),
        ]
    );
    let alice = &j["mailboxes"][0];
    let ids: Vec<&str> = alice["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["internet_message_id"].as_str().unwrap())
        .collect();
    // Four from the attacker IP, one from the attacker's session on another IP (linked).
    assert_eq!(
        ids,
        vec![
            "caal-board-minutes@am0pr01mb1234.eurprd01.prod.outlook.com",
            "caal-budget-2024@am0pr01mb1234.eurprd01.prod.outlook.com",
            "caal-merger-draft@am0pr01mb1234.eurprd01.prod.outlook.com",
            "caal-payroll@contoso.com",
            "caal-wire-instructions@am0pr01mb1234.eurprd01.prod.outlook.com",
        ]
    );
    let r = &j["records"];
    assert_eq!(
        r["read"].as_u64().unwrap(),
        r["unique"].as_u64().unwrap()
            + r["duplicates"].as_u64().unwrap()
            + r["rejected"].as_u64().unwrap()
    );
    // The Sentinel export repeats two Purview records: one record each, across shapes.
    assert_eq!(r["duplicates"], 3);
    // Five audit exports (one of eDiscovery activity) and a message trace.
    assert_eq!(j["inputs"].as_array().unwrap().len(), 6);
    // dave's attacker bind came from Sentinel: its message is in scope, and what the table
    // could not carry is said.
    let dave = &j["mailboxes"][3];
    assert_eq!(
        dave["messages"][0]["internet_message_id"],
        "dave-supplier-contract-v3@am0pr01mb1234.eurprd01.prod.outlook.com"
    );
    assert_eq!(dave["caveats"].as_array().unwrap().len(), 2);
    assert!(j["inputs"][0]["sha256"].as_str().unwrap().len() == 64);
    let erin = &j["mailboxes"][4];
    let rules: Vec<&str> = erin["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["forwarded", "unauditable"]);
    // The linked session's Set-Mailbox forwarding is a window still open at the end.
    assert_eq!(
        erin["forwarding"][0]["destinations"][0]["address"],
        "erin.backup@outlook-mail.example"
    );
    assert_eq!(erin["forwarding"][0]["attribution"], "linked");
    assert!(erin["actions"].as_array().unwrap().iter().any(|a| {
        a["operation"] == "Set-Mailbox"
            && a["detail"]
                .as_str()
                .unwrap()
                .contains("ForwardingSmtpAddress")
    }));
    assert_eq!(
        j["mailboxes"][2]["throttled_windows"][0]["start"],
        "2024-03-12T05:30:00Z"
    );
}

#[test]
fn running_twice_gives_byte_identical_json_whatever_the_thread_count() {
    let (_, a) = scope_json(&[]);
    let (_, b) = scope_json(&[]);
    let (_, c) = scope_json(&["--threads", "1"]);
    assert_eq!(a, b);
    // The command line is part of the report; everything else must match.
    let strip = |v: &[u8]| {
        let mut j: Value = serde_json::from_slice(v).unwrap();
        j["command_line"] = Value::Null;
        j
    };
    assert_eq!(strip(&a), strip(&c));
}

#[test]
fn scope_without_indicators_points_to_contexts() {
    let out = bin()
        .args(["scope", "--quiet"])
        .arg(sample(""))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mailscope contexts"));
}

#[test]
fn nothing_readable_exits_2_and_bad_usage_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "hello\n").unwrap();
    let out = bin()
        .args(["inspect", "--quiet"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("notes.txt"));
    let out = bin()
        .args(["scope", "--attacker-ip", "300.1.1.1"])
        .arg(sample(""))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("300.1.1.1"));
    let out = bin().args(["scope", "--bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn csv_report_is_a_folder_of_safe_tables() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("report");
    let out = bin()
        .args([
            "scope",
            "--quiet",
            "--format",
            "csv",
            "--attacker-ip",
            "203.0.113.66",
            "--output",
        ])
        .arg(&out_dir)
        .arg(sample(""))
        .output()
        .unwrap();
    assert_success(&out);
    for f in mailscope::report::csv::FILES {
        assert!(out_dir.join(f).exists(), "{f}");
    }
    let messages = std::fs::read_to_string(out_dir.join("messages.csv")).unwrap();
    assert_eq!(messages.lines().count(), 1 + 5 + 2 + 1 + 1, "{messages}");
    let mut rdr = csv::Reader::from_path(out_dir.join("folders.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert!(
        rows.iter().any(|r| &r[0] == "bob@contoso.com"
            && &r[1] == "\\Archive"
            && &r[2] == "attacker-sync")
    );
}

#[test]
fn outputs_never_overwrite_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let ev = dir.path().join("evidence");
    std::fs::create_dir(&ev).unwrap();
    std::fs::copy(fixture("classic_portal.csv"), ev.join("a.csv")).unwrap();
    let before = std::fs::read(ev.join("a.csv")).unwrap();
    for target in [ev.join("a.csv"), ev.join("report.json")] {
        let out = bin()
            .args([
                "scope",
                "--quiet",
                "--format",
                "json",
                "--attacker-ip",
                "1.2.3.4",
                "--force",
                "--output",
            ])
            .arg(&target)
            .arg(&ev)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", target.display());
        assert!(String::from_utf8_lossy(&out.stderr).contains("evidence is read-only"));
    }
    assert_eq!(std::fs::read(ev.join("a.csv")).unwrap(), before);
    assert!(!ev.join("report.json").exists());
    // An existing output needs --force.
    let existing = dir.path().join("out.json");
    std::fs::write(&existing, "x").unwrap();
    let out = bin()
        .args(["inspect", "--quiet", "--format", "json", "--output"])
        .arg(&existing)
        .arg(&ev)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "x");
}

#[test]
fn export_writes_parquet_csv_and_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    for ext in ["parquet", "csv", "jsonl"] {
        let p = dir.path().join(format!("frame.{ext}"));
        let out = bin()
            .args(["export", "--quiet", "--output"])
            .arg(&p)
            .arg(sample(""))
            .output()
            .unwrap();
        assert_success(&out);
        // A Parquet export is one file (a case); the text formats write their items beside.
        let items = dir.path().join(format!("frame.items.{ext}"));
        assert_eq!(items.exists(), ext != "parquet");
        let bytes = std::fs::read(&p).unwrap();
        match ext {
            "parquet" => assert_eq!(&bytes[..4], b"PAR1"),
            "csv" => {
                let text = String::from_utf8(bytes).unwrap();
                assert!(text.starts_with("time,time_source,record_id,source_file,source_line"));
                assert_eq!(text.lines().count(), 1 + 28);
            }
            _ => {
                let text = String::from_utf8(bytes).unwrap();
                assert_eq!(text.lines().count(), 28);
                let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
                assert!(first.get("record_id").is_some());
            }
        }
    }
}

#[test]
fn inspect_reports_formats_counts_and_histogram() {
    let out = bin()
        .args(["inspect", "--quiet", "--format", "json"])
        .arg(sample(""))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    let formats: Vec<&str> = j["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["format"].as_str().unwrap())
        .collect();
    assert_eq!(
        formats,
        vec![
            "unified-audit-log-csv",
            "mailbox-audit-xml",
            "message-trace-csv",
            "purview-csv",
            "purview-csv",
            "sentinel-officeactivity-csv"
        ]
    );
    assert_eq!(j["totals"]["records"], 28);
    assert_eq!(j["mail_items_accessed"]["sync"], 2);
    assert_eq!(j["mail_items_accessed"]["throttled"], 1);
    assert_eq!(j["operations"]["MailItemsAccessed"], 14);
    let text = bin()
        .args(["inspect", "--quiet"])
        .arg(sample(""))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("MailItemsAccessed: 12 bind, 2 sync"));
}

#[test]
fn contexts_list_the_access_contexts_with_attribution_when_indicators_are_given() {
    let out = bin()
        .args([
            "contexts",
            "--quiet",
            "--format",
            "json",
            "--mailbox",
            "alice@contoso.com",
            "--attacker-ip",
            "203.0.113.66",
        ])
        .arg(sample(""))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ctx = j["mailboxes"][0]["contexts"].as_array().unwrap();
    let att: Vec<&str> = ctx
        .iter()
        .map(|c| c["attribution"].as_str().unwrap())
        .collect();
    assert!(
        att.contains(&"attacker") && att.contains(&"linked") && att.contains(&"other"),
        "{att:?}"
    );
}

#[test]
fn timeline_is_a_timesketch_csv_with_attribution() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("timeline.csv");
    let out = bin()
        .args([
            "timeline",
            "--quiet",
            "--attacker-ip",
            "203.0.113.66",
            "--output",
        ])
        .arg(&p)
        .arg(sample(""))
        .output()
        .unwrap();
    assert_success(&out);
    let mut rdr = csv::Reader::from_path(&p).unwrap();
    let h = rdr.headers().unwrap().clone();
    assert_eq!(
        (&h[0], &h[1], &h[2]),
        ("message", "datetime", "timestamp_desc")
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 28);
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let linked: Vec<&csv::StringRecord> = rows
        .iter()
        .filter(|r| &r[col("attribution")] == "linked")
        .collect();
    assert_eq!(linked.len(), 2);
    assert!(rows.iter().all(|r| r[col("datetime")].ends_with('Z')));
}

#[test]
fn contexts_and_inspect_show_times_in_the_analysts_zone() {
    let run = |args: &[&str]| {
        let out = bin().args(args).arg(sample("")).output().unwrap();
        assert_success(&out);
        String::from_utf8(out.stdout).unwrap()
    };
    // Alice's owner context was first seen at 08:02:11 UTC on 11 March: 09:02:11 in Berlin (CET).
    let contexts = run(&[
        "contexts",
        "--quiet",
        "--mailbox",
        "alice@contoso.com",
        "--tz",
        "Europe/Berlin",
    ]);
    assert!(
        contexts.contains("2024-03-11T09:02:11+01:00 Europe/Berlin"),
        "{contexts}"
    );
    assert!(!contexts.contains("2024-03-11T08:02:11Z"), "{contexts}");
    let inspect = run(&["inspect", "--quiet", "--tz", "-05:00"]);
    assert!(
        inspect.contains("Time span: 2024-03-10T03:00:00-05:00 … 2024-03-12T05:15:00-05:00"),
        "{inspect}"
    );
    // Machine formats stay UTC.
    let json = run(&[
        "contexts",
        "--quiet",
        "--format",
        "json",
        "--tz",
        "Europe/Berlin",
    ]);
    assert!(json.contains("\"first_seen\": \"2024-03-11T08:02:11Z\""));
    let bad = bin()
        .args(["inspect", "--quiet", "--tz", "Mars/Olympus"])
        .arg(sample(""))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--tz 'Mars/Olympus'"));
}
