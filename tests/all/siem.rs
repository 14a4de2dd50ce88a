//! The sample incident as SIEMs, hunting tools and collectors deliver it (#15): each re-shape
//! of `samples/purview_audit_export.csv` in `tests/fixtures/siem/` (written by
//! `make_fixtures.py`) must give the findings of the Purview export, apart from what the shape
//! lacks, which the report must say.

use crate::util::{assert_success, bin, fixture, sample, scope_report};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const ATTACKER_IP: &str = "203.0.113.66";

fn siem(name: &str) -> PathBuf {
    fixture(&format!("siem/{name}"))
}

fn scope_json(paths: &[PathBuf], extra: &[&str]) -> Value {
    scope_report(paths, extra)
}

/// What an analyst reads off a mailbox: verdict, why (rule and records), messages, folders,
/// synced folders, throttled windows and attacker actions — not counts of contexts or
/// provenance, which differ between sources by nature.
pub(crate) fn findings(report: &Value) -> BTreeMap<String, Value> {
    let pick = |v: &Value, keys: &[&str]| -> Value {
        let list = v.as_array().cloned().unwrap_or_default();
        Value::Array(
            list.iter()
                .map(|x| Value::Array(keys.iter().map(|k| x[*k].clone()).collect()))
                .collect(),
        )
    };
    report["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let f = serde_json::json!({
                "verdict": m["verdict"],
                "reasons": pick(&m["reasons"], &["rule", "records"]),
                "messages": pick(&m["messages"], &["internet_message_id", "folder", "first_seen", "records"]),
                "folders": pick(&m["folders"], &["path", "reason", "records"]),
                "synced_folders": pick(&m["synced_folders"], &["path", "records"]),
                "throttled_windows": m["throttled_windows"],
                "unresolved": pick(&m["unresolved"], &["record_id", "operation_count"]),
                "actions": pick(&m["actions"], &["time", "operation", "record_id", "attribution", "client_ip", "detail"]),
            });
            (m["mailbox"].as_str().unwrap().to_string(), f)
        })
        .collect()
}

pub(crate) fn purview() -> PathBuf {
    sample("purview_audit_export.csv")
}

#[test]
fn every_full_fidelity_shape_gives_the_purview_findings() {
    let expected = findings(&scope_json(&[purview()], &[]));
    assert_eq!(
        expected.len(),
        5,
        "the sample incident has five mailboxes in scope"
    );
    for name in [
        "defender_cloudappevents_portal.csv",
        "defender_cloudappevents_api.json",
        "defender_stream_eventhub.json",
        "defender_stream_blob_PT1H.json",
        "graph_auditlog_extractor.json",
        "graph_auditlog_extractor.csv",
        "graph_auditlog_pages.jsonl",
        "elastic_o365_elasticdump.ndjson",
        "splunk_o365_export.jsonl",
        "splunk_o365_search.csv",
    ] {
        let report = scope_json(&[siem(name)], &[]);
        assert_eq!(findings(&report), expected, "{name}");
        assert_eq!(report["records"]["rejected"], 0, "{name}");
        assert_eq!(report["records"]["unique"], 16, "{name}");
        for m in report["mailboxes"].as_array().unwrap() {
            assert!(m.get("caveats").is_none(), "{name}: {}", m["caveats"]);
        }
    }
}

#[test]
fn sentinel_findings_match_apart_from_what_the_table_drops_and_the_report_says_so() {
    // OfficeActivity has no SessionId: compare with the Purview export read without session
    // linking. It has no OperationCount: bob's bind that named 2 of 5 messages cannot be seen
    // as short, and the caveat says so.
    let mut expected = findings(&scope_json(&[purview()], &["--no-session-link"]));
    let bob = expected.get_mut("bob@contoso.com").unwrap();
    bob["reasons"] = Value::Array(
        bob["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r[0] != "unresolved-bind")
            .cloned()
            .collect(),
    );
    bob["folders"] = serde_json::json!([]);
    bob["unresolved"] = serde_json::json!([]);
    for name in [
        "sentinel_officeactivity_portal.csv",
        "sentinel_officeactivity_api.json",
        "sentinel_officeactivity_azcli.json",
    ] {
        let report = scope_json(&[siem(name)], &[]);
        assert_eq!(findings(&report), expected, "{name}");
        for m in report["mailboxes"].as_array().unwrap() {
            let caveats: Vec<&str> = m["caveats"]
                .as_array()
                .unwrap_or_else(|| panic!("{name}: {} has no caveats", m["mailbox"]))
                .iter()
                .map(|c| c.as_str().unwrap())
                .collect();
            assert!(
                caveats
                    .iter()
                    .any(|c| c.starts_with("Session linking could not run")),
                "{name}: {caveats:?}"
            );
            let binds = m["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["rule"] == "bind");
            assert_eq!(
                caveats.iter().any(|c| c.contains("no OperationCount")),
                binds,
                "{name} {}: {caveats:?}",
                m["mailbox"]
            );
        }
    }
    // The caveat reaches the analyst's report.
    let out = bin()
        .args(["scope", "--attacker-ip", ATTACKER_IP, "-q"])
        .arg(siem("sentinel_officeactivity_portal.csv"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("caveat: 1 attacker bind record(s) read from sentinel-officeactivity-csv, which has no OperationCount"), "{text}");
}

#[test]
fn the_same_record_from_purview_and_from_each_siem_is_one_record() {
    let mut paths = vec![purview()];
    for name in [
        "sentinel_officeactivity_portal.csv",
        "sentinel_officeactivity_api.json",
        "defender_cloudappevents_portal.csv",
        "defender_stream_eventhub.json",
        "graph_auditlog_extractor.csv",
        "graph_auditlog_pages.jsonl",
        "elastic_o365_elasticdump.ndjson",
        "splunk_o365_export.jsonl",
    ] {
        paths.push(siem(name));
    }
    let report = scope_json(&paths, &[]);
    assert_eq!(report["records"]["unique"], 16);
    assert_eq!(report["records"]["duplicates"], 16 * 8);
    assert_eq!(report["records"]["not_mailbox_audit"], 2 + 1 + 1);
    let codes: Vec<&str> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert!(!codes.contains(&"id-collision"), "{codes:?}");
    // The Purview copy, read first, is the one kept: session linking runs on it.
    assert_eq!(findings(&report), findings(&scope_json(&[purview()], &[])));
}

#[test]
fn other_applications_rows_are_counted_and_skipped_not_rejected() {
    let report = scope_json(&[siem("defender_cloudappevents_portal.csv")], &[]);
    assert_eq!(report["records"]["read"], 18);
    assert_eq!(report["records"]["not_mailbox_audit"], 2);
    assert_eq!(report["records"]["rejected"], 0);
    let input = &report["inputs"][0];
    assert_eq!(input["format"], "defender-cloudappevents-csv");
    assert_eq!(input["not_mailbox_audit"], 2);
    let out = bin()
        .args(["inspect", "-q"])
        .arg(siem("defender_cloudappevents_portal.csv"))
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "rows 18  records 16  duplicates 0  rejected 0  not mailbox audit (skipped) 2"
        ),
        "{text}"
    );
    assert!(text.contains("a CloudAppEvents event of Dropbox"), "{text}");
}

#[test]
fn inspect_names_each_shape_by_content_not_by_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let shapes = [
        (
            "sentinel_officeactivity_portal.csv",
            "sentinel-officeactivity-csv",
        ),
        (
            "sentinel_officeactivity_azcli.json",
            "sentinel-officeactivity-json",
        ),
        (
            "defender_cloudappevents_api.json",
            "defender-cloudappevents-json",
        ),
        (
            "defender_stream_blob_PT1H.json",
            "defender-cloudappevents-json",
        ),
        ("graph_auditlog_extractor.csv", "graph-auditlog-csv"),
        ("graph_auditlog_pages.jsonl", "graph-auditlog-json"),
        ("elastic_o365_search.json", "elastic-o365-json"),
        ("splunk_o365_search.csv", "splunk-o365-csv"),
        ("splunk_o365_export.jsonl", "splunk-o365-json"),
        ("hawk_mailitemsaccessed_bob.csv", "auditdata-columns-csv"),
    ];
    // Names that say nothing, or the wrong thing.
    for (i, (name, _)) in shapes.iter().enumerate() {
        std::fs::copy(siem(name), dir.path().join(format!("export{i}.txt"))).unwrap();
    }
    let out = bin()
        .args(["inspect", "--format", "json", "-q"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_success(&out);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let by_name: BTreeMap<String, &str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let path = Path::new(f["path"].as_str().unwrap());
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                f["format"].as_str().unwrap(),
            )
        })
        .collect();
    for (i, (name, format)) in shapes.iter().enumerate() {
        assert_eq!(by_name[&format!("export{i}.txt")], *format, "{name}");
    }
}

#[test]
fn a_graph_query_that_hit_its_record_limit_is_an_incomplete_export() {
    let report = scope_json(&[siem("graph_auditlog_pages.jsonl")], &[]);
    let caveats = report["caveats"].to_string();
    assert!(caveats.contains("Incomplete exports"), "{caveats}");
    assert!(
        report["warnings"]
            .to_string()
            .contains("exceeded its record limit")
    );
    // A collector's file without the query object: completeness unknown, said.
    let report = scope_json(&[siem("graph_auditlog_extractor.json")], &[]);
    assert!(
        report["warnings"]
            .to_string()
            .contains("completeness-unknown"),
        "{}",
        report["warnings"]
    );
}

#[test]
fn elastic_records_rebuilt_from_renamed_fields_keep_the_findings() {
    // Without event.original the record is rebuilt from o365.audit.* and ECS fields (half the
    // documents with dotted keys). The integration stores cmdlet parameters as a map: their
    // order is lost, nothing else.
    let sorted_detail = |mut f: BTreeMap<String, Value>| {
        for m in f.values_mut() {
            for a in m["actions"].as_array_mut().unwrap() {
                if let Some(d) = a[5].as_str() {
                    let mut parts: Vec<&str> = d.split("; ").collect();
                    parts.sort();
                    a[5] = Value::String(parts.join("; "));
                }
            }
        }
        f
    };
    let report = scope_json(&[siem("elastic_o365_search.json")], &[]);
    assert_eq!(
        sorted_detail(findings(&report)),
        sorted_detail(findings(&scope_json(&[purview()], &[])))
    );
    assert!(report["warnings"].to_string().contains("\"reconstructed\""));
}

#[test]
fn collector_csvs_that_lost_nested_values_widen_the_scope_never_narrow_it() {
    // Hawk's CSV: Folders and OperationProperties became System.Object[]. Every one of bob's
    // MailItemsAccessed records is then of unknown kind: scoped as a throttled Sync.
    let report = scope_json(&[siem("hawk_mailitemsaccessed_bob.csv")], &[]);
    let bob = &report["mailboxes"][0];
    assert_eq!(bob["mailbox"], "bob@contoso.com");
    assert_eq!(bob["verdict"], "entire-mailbox");
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("content-lost") && warnings.contains("access-type-lost"));
    // Hawk's Simple CSV: the header came from bob's first record, so the second message of a
    // later bind lost its columns; that bind's OperationCount still puts its folder in scope.
    let report = scope_json(&[siem("hawk_simple_mailitemsaccessed_bob.csv")], &[]);
    let bob = &report["mailboxes"][0];
    assert_eq!(bob["verdict"], "entire-mailbox");
    let folders = bob["folders"].to_string();
    assert!(
        folders.contains("\\\\Drafts") && folders.contains("unresolved-bind"),
        "{folders}"
    );
}

#[test]
fn a_defender_stream_that_mixes_tables_reads_each_record_by_its_own_shape() {
    // Event Hub sends the rows of every table the streaming export is set for in one message,
    // in any order: EmailEvents rows are messages, CloudAppEvents rows audit records, the other
    // tables' rows (EmailUrlInfo, EmailAttachmentInfo) counted as not mailbox audit; whichever
    // comes first.
    let text = std::fs::read_to_string(siem("defender_stream_eventhub_mixed_tables.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let records = v["records"].as_array().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for order in [[0, 1, 2, 3, 4, 5], [4, 5, 0, 1, 2, 3], [1, 3, 4, 0, 2, 5]] {
        let path = dir.path().join(format!("eventhub-{}.json", order[0]));
        let reordered: Vec<&Value> = order.iter().map(|&i| &records[i]).collect();
        std::fs::write(
            &path,
            serde_json::json!({ "records": reordered }).to_string(),
        )
        .unwrap();
        let report = scope_json(&[path], &["--attacker-ip", "198.18.7.77"]);
        assert_eq!(report["records"]["read"], 4, "{order:?}");
        assert_eq!(report["records"]["unique"], 2, "{order:?}");
        assert_eq!(report["records"]["rejected"], 0, "{order:?}");
        assert_eq!(report["records"]["not_mailbox_audit"], 2, "{order:?}");
        let input = &report["inputs"][0];
        assert_eq!(input["rows"], 6, "{order:?}");
        assert_eq!(input["inventory_rows"], 2, "{order:?}");
        assert_eq!(report["inventories"][0]["rows"], 2, "{order:?}");
        let nina = report["mailboxes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["mailbox"] == "nina@fabrikam.com")
            .unwrap_or_else(|| panic!("{order:?}: {report}"));
        let subjects: Vec<&str> = nina["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["subject"].as_str())
            .collect();
        assert_eq!(
            subjects,
            ["Q1 payroll – draft", "Updated bank details, invoice 7781"],
            "{order:?}"
        );
        let forwards = nina["forwarding"].to_string();
        assert!(
            forwards.contains("mail-drop.example"),
            "{order:?}: {forwards}"
        );
    }
}
