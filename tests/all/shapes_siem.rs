//! Evidence after a spreadsheet, a portal setting or a collector touched it (#23): each shape in
//! `tests/fixtures/siem/` (written by `make_fixtures.py` from the sample incident) is read whole,
//! gives the findings its source allows, and the report says what was rebuilt or assumed.

use crate::siem::{findings, purview};
use crate::util::{bin, fixture, scope_report};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn siem(name: &str) -> PathBuf {
    fixture(&format!("siem/{name}"))
}

fn warning<'r>(report: &'r Value, code: &str) -> Option<&'r Value> {
    report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == code)
}

fn read_whole(report: &Value, unique: u64) {
    assert_eq!(report["records"]["rejected"], 0, "{}", report["warnings"]);
    assert_eq!(
        report["records"]["unique"], unique,
        "{}",
        report["warnings"]
    );
}

/// What the Sentinel table keeps of the incident (no SessionId, no OperationCount): the
/// Purview findings without session linking and without bob's short bind.
fn sentinel_expected() -> BTreeMap<String, Value> {
    let mut expected = findings(&scope_report(&[purview()], &["--no-session-link"]));
    let bob = expected.get_mut("bob@contoso.com").unwrap();
    let reasons = bob["reasons"].as_array().unwrap().clone();
    bob["reasons"] = reasons
        .into_iter()
        .filter(|r| r[0] != "unresolved-bind")
        .collect();
    bob["folders"] = serde_json::json!([]);
    bob["unresolved"] = serde_json::json!([]);
    expected
}

/// Findings with every time cut to the minute (`2024-03-12T02:14`).
fn to_the_minute(findings: BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    fn cut(v: Value) -> Value {
        match v {
            Value::String(s) if s.len() >= 20 && s.as_bytes()[10] == b'T' && s.ends_with('Z') => {
                Value::String(s[..16].to_string())
            }
            Value::Array(a) => a.into_iter().map(cut).collect(),
            Value::Object(m) => m.into_iter().map(|(k, v)| (k, cut(v))).collect(),
            v => v,
        }
    }
    findings.into_iter().map(|(k, v)| (k, cut(v))).collect()
}

#[test]
fn a_sentinel_time_cut_to_the_time_of_day_by_a_spreadsheet_takes_its_date_from_start_time() {
    let report = scope_report(
        &[siem("sentinel_officeactivity_excel_time_of_day.csv")],
        &["--no-session-link"],
    );
    read_whole(&report, 16);
    let note = warning(&report, "time-reconstructed").expect("the rebuilt times are reported");
    assert!(
        note["message"]
            .as_str()
            .unwrap()
            .starts_with("16 record(s)")
    );
    assert_eq!(
        to_the_minute(findings(&report)),
        to_the_minute(sentinel_expected())
    );
}

#[test]
fn a_sentinel_export_without_time_generated_is_read_by_its_start_time() {
    let path = siem("sentinel_officeactivity_columns_picked.csv");
    let report = scope_report(std::slice::from_ref(&path), &["--no-session-link"]);
    read_whole(&report, 16);
    assert_eq!(report["inputs"][0]["format"], "sentinel-officeactivity-csv");
    assert!(warning(&report, "time-reconstructed").is_some());
    // Start_Time is at most a few minutes after the event: the same verdicts and messages.
    let expected = sentinel_expected();
    let got = findings(&report);
    assert_eq!(got.len(), expected.len());
    for (mailbox, f) in &expected {
        assert_eq!(got[mailbox]["verdict"], f["verdict"], "{mailbox}");
        let ids = |f: &Value| -> Vec<Value> {
            f["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m[0].clone())
                .collect()
        };
        assert_eq!(ids(&got[mailbox]), ids(f), "{mailbox}");
    }
}

#[test]
fn local_time_columns_are_read_in_the_input_zone_or_as_utc_with_a_caveat() {
    let path = siem("sentinel_officeactivity_local_time.csv");
    let expected = sentinel_expected();
    for zone in ["Europe/Berlin", "+01:00"] {
        let report = scope_report(
            std::slice::from_ref(&path),
            &["--no-session-link", "--input-tz", zone],
        );
        read_whole(&report, 16);
        assert_eq!(findings(&report), expected, "{zone}");
        assert!(warning(&report, "local-time").is_none());
        assert!(warning(&report, "input-tz").is_some());
    }
    let report = scope_report(std::slice::from_ref(&path), &["--no-session-link"]);
    read_whole(&report, 16);
    let note = warning(&report, "local-time").expect("local times read as UTC are reported");
    assert!(note["message"].as_str().unwrap().contains("--input-tz"));
    assert!(
        note["path"]
            .as_str()
            .unwrap()
            .ends_with("sentinel_officeactivity_local_time.csv")
    );
    let caveats = report["caveats"].to_string();
    assert!(
        caveats.contains("sentinel_officeactivity_local_time.csv")
            && caveats.contains("--input-tz"),
        "{caveats}"
    );
    // Read as UTC, every time is an hour late.
    let erin = &findings(&report)["erin@contoso.com"];
    assert!(
        erin["actions"].to_string().contains("2024-03-12T02:56:15Z"),
        "{erin}"
    );
    let bad = bin()
        .args(["scope", "--input-tz", "Mars/Olympus", "-q"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--input-tz"));
}

#[test]
fn rows_of_other_hunting_tables_in_a_union_are_not_mailbox_audit() {
    let expected = findings(&scope_report(&[purview()], &[]));
    for name in [
        "defender_advanced_hunting_union.csv",
        "defender_advanced_hunting_union_pandas.csv",
    ] {
        let report = scope_report(&[siem(name)], &[]);
        read_whole(&report, 16);
        // Two other cloud apps' events, an LdapSearch and a replication.
        assert_eq!(report["records"]["not_mailbox_audit"], 4, "{name}");
        assert_eq!(findings(&report), expected, "{name}");
    }
    // pandas wrote RawEventData as Python's repr of a dict: decoded, and said so.
    let report = scope_report(&[siem("defender_advanced_hunting_union_pandas.csv")], &[]);
    let note = warning(&report, "flattened-fields").expect("the Python dicts are reported");
    assert!(
        note["message"]
            .as_str()
            .unwrap()
            .starts_with("16 record(s)")
    );
}

#[test]
fn audit_data_flattened_in_bracket_and_dot_columns_is_put_back_together() {
    let report = scope_report(&[siem("auditdata_columns_flattened_dotted.csv")], &[]);
    read_whole(&report, 16);
    assert_eq!(
        findings(&report),
        findings(&scope_report(&[purview()], &[]))
    );
    assert!(warning(&report, "flattened-fields").is_some());
}

#[test]
fn raw_control_characters_in_strings_are_repaired_not_rejected() {
    let expected = findings(&scope_report(&[purview()], &[]));
    for name in [
        "purview_control_characters.csv",
        "auditdata_control_characters.jsonl",
    ] {
        let report = scope_report(&[siem(name)], &[]);
        read_whole(&report, 16);
        assert_eq!(findings(&report), expected, "{name}");
        let note = warning(&report, "repaired-strings").expect("the repair is reported");
        assert!(
            note["message"].as_str().unwrap().starts_with("1 record(s)"),
            "{name}"
        );
    }
}

/// The file's text with each raw C0 control character (other than tab, CR, LF) written as the
/// JSON escape it should have been: what the exporter ought to have written.
fn controls_escaped(path: &std::path::Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .chars()
        .map(|c| match c {
            '\t' | '\r' | '\n' => c.to_string(),
            c if c < ' ' => format!("\\u{:04x}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

#[test]
fn raw_control_characters_early_in_a_file_or_in_a_siem_cell_are_repaired() {
    // A NUL or other C0 byte in a benign field: in a JSON file's first 4 KiB it had the file
    // skipped whole as binary; in CloudAppEvents' RawEventData it rejected the row; in
    // Sentinel's OperationProperties (the rule's name) it lost the rule's actions.
    let dir = tempfile::tempdir().unwrap();
    let attacker = ["--attacker-ip", "198.18.7.77"];
    for name in [
        "auditdata_control_characters_first.jsonl",
        "auditdata_control_characters_array.json",
        "defender_cloudappevents_control_characters.csv",
        "sentinel_officeactivity_control_characters.csv",
    ] {
        let escaped = dir.path().join(name);
        std::fs::write(&escaped, controls_escaped(&siem(name))).unwrap();
        let expected = scope_report(&[escaped], &attacker);
        let report = scope_report(&[siem(name)], &attacker);
        assert_eq!(report["skipped"], expected["skipped"], "{name}");
        let unique = expected["records"]["unique"].as_u64().unwrap();
        assert!(unique >= 4, "{name}: {unique}");
        read_whole(&report, unique);
        assert_eq!(findings(&report), findings(&expected), "{name}");
        assert!(warning(&report, "repaired-strings").is_some(), "{name}");
        assert!(warning(&report, "content-lost").is_none(), "{name}");
    }
    // The Outlook rule's forwarding survives in Sentinel's OperationProperties.
    let report = scope_report(
        &[siem("sentinel_officeactivity_control_characters.csv")],
        &attacker,
    );
    let nina = crate::util::mailbox(&report, "nina@fabrikam.com");
    let windows = nina["forwarding"].to_string();
    assert!(windows.contains("exfil.box@mail-drop.example"), "{nina}");
}

#[test]
fn power_query_expanded_auditdata_is_read_and_its_unexpanded_lists_flagged_as_lost() {
    // Excel's Power Query "Expand" of the parsed AuditData column: `AuditData.<field>` columns
    // beside the export's own, lists left unexpanded shown as `[List]`.
    let report = scope_report(
        &[siem("purview_powerquery_expanded.csv")],
        &["--attacker-ip", "198.18.7.77"],
    );
    read_whole(&report, 8);
    assert_eq!(report["inputs"][0]["format"], "auditdata-columns-csv");
    // The binds' OperationProperties and Folders are lost: each is scoped widest, and said;
    // the rules' OperationProperties are content lost, not an access type.
    let lost = |code: &str| {
        warning(&report, code).map_or(String::new(), |w| {
            w["message"].as_str().unwrap().to_string()
        })
    };
    assert!(
        lost("access-type-lost").starts_with("3 record(s)"),
        "{}",
        report["warnings"]
    );
    assert!(
        lost("content-lost").starts_with("5 record(s)"),
        "{}",
        report["warnings"]
    );
    for name in ["nina@fabrikam.com", "omar@fabrikam.com", "pia@fabrikam.com"] {
        assert_eq!(
            crate::util::mailbox(&report, name)["verdict"],
            "entire-mailbox",
            "{name}"
        );
    }
}
