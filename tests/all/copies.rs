//! Copies of one record from several sources (#21): merged field by field, never narrower than
//! any copy, and the same report whatever the order or names of the files.

use crate::util::{assert_success, bin, fixture, mailbox, sample, scope_report};
use proptest::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

const ATTACKER_IP: &str = "203.0.113.66";

fn copies(name: &str) -> PathBuf {
    fixture(&format!("copies/{name}"))
}

/// `from` copied into a fresh folder under `names`, in that order.
fn folder(files: &[(&Path, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (from, name) in files {
        std::fs::copy(from, dir.path().join(name)).unwrap();
    }
    dir
}

fn warning_codes(report: &Value) -> Vec<String> {
    report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap().to_string())
        .collect()
}

/// A Graph `auditLogRecord` as the API returns it when the query's `auditData` was not kept
/// (a collector that saved the record's properties only).
fn graph_without_auditdata(id: &str, time: &str, user: &str, ip: &str) -> String {
    serde_json::json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#security/auditLog/queries('5f2e9c1a-0d3b-4a6e-9b8c-7d1e2f3a4b5c')/records",
        "value": [{
            "id": id,
            "createdDateTime": time,
            "auditLogRecordType": "exchangeItemAggregated",
            "operation": "MailItemsAccessed",
            "organizationId": "4f1c2a9e-0000-4000-8000-00000000c0de",
            "userType": "regular",
            "userId": user,
            "service": "Exchange",
            "objectId": "",
            "userPrincipalName": user,
            "clientIp": ip,
            "administrativeUnits": []
        }]
    })
    .to_string()
}

#[test]
fn a_sentinel_copy_read_first_gives_the_purview_findings_without_caveats() {
    let alone = scope_report(&[copies("purview.csv")], &[]);
    for names in [
        ["OfficeActivity.csv", "purview.csv"],
        ["z_OfficeActivity.csv", "a_purview.csv"],
    ] {
        let dir = folder(&[
            (&copies("OfficeActivity.csv"), names[0]),
            (&copies("purview.csv"), names[1]),
        ]);
        let both = scope_report(&[dir.path().to_path_buf()], &[]);
        for name in ["dave@contoso.com", "gina@contoso.com"] {
            let (a, b) = (mailbox(&alone, name), mailbox(&both, name));
            assert_eq!(a["verdict"], b["verdict"], "{name} with {names:?}");
            assert_eq!(a["reasons"], b["reasons"], "{name} with {names:?}");
            assert_eq!(a["unresolved"], b["unresolved"], "{name} with {names:?}");
            // Every field the Sentinel copy lacks is held by the Purview copy.
            assert!(
                b.get("caveats").is_none(),
                "{name} with {names:?}: {}",
                b["caveats"]
            );
        }
        assert_eq!(mailbox(&both, "dave@contoso.com")["verdict"], "folders");
        assert!(!warning_codes(&both).contains(&"id-collision".to_string()));
    }
}

#[test]
fn a_merged_record_lists_every_copy_in_the_exported_frame() {
    let dir = folder(&[
        (&copies("OfficeActivity.csv"), "OfficeActivity.csv"),
        (&copies("purview.csv"), "purview.csv"),
    ]);
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("frame.csv");
    let run = bin()
        .args(["export", "--quiet", "--output"])
        .arg(&out)
        .arg(dir.path())
        .output()
        .unwrap();
    assert_success(&run);
    let mut rows = csv::Reader::from_path(&out).unwrap();
    let header = rows.headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 2, "two records, the third row a copy");
    let dave = records
        .iter()
        .find(|r| r[at("record_id")].starts_with("da7e0003"))
        .unwrap();
    // The base is the full copy; the record keeps OperationCount and SessionId from it.
    assert_eq!(&dave[at("format")], "purview-csv");
    assert_eq!(&dave[at("operation_count")], "4");
    assert!(!dave[at("session_id")].is_empty());
    let places: Vec<String> = serde_json::from_str(&dave[at("copies")]).unwrap();
    let show = |p: &Path, line: u32| format!("{}:{line}", p.display());
    assert_eq!(
        places,
        vec![
            show(&dir.path().join("OfficeActivity.csv"), 2),
            show(&dir.path().join("purview.csv"), 2),
        ]
    );
    let gina = records
        .iter()
        .find(|r| r[at("record_id")].starts_with("61a40001"))
        .unwrap();
    assert_eq!(&gina[at("copies")], "", "a record read once has no copies");
}

#[test]
fn a_graph_record_without_auditdata_is_scoped_in_its_mailbox_at_its_widest() {
    let dir = tempfile::tempdir().unwrap();
    let graph = dir.path().join("graph_records.jsonl");
    std::fs::write(
        &graph,
        graph_without_auditdata(
            "c7a10001-0000-4000-8000-000000000001",
            "2024-03-12T03:10:00Z",
            "hank@contoso.com",
            ATTACKER_IP,
        ),
    )
    .unwrap();
    let report = scope_report(&[graph], &[]);
    let hank = mailbox(&report, "hank@contoso.com");
    assert_eq!(hank["verdict"], "entire-mailbox", "{hank}");
}

#[test]
fn a_graph_copy_without_auditdata_merges_into_the_full_record() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(copies("purview.csv"), dir.path().join("purview.csv")).unwrap();
    // The Graph copy names the signed-in user, not the mailbox the delegate opened.
    std::fs::write(
        dir.path().join("graph_records.jsonl"),
        graph_without_auditdata(
            "da7e0003-0000-4000-8000-000000000003",
            "2024-03-12T00:33:20Z",
            "eve.attacker@contoso.com",
            ATTACKER_IP,
        ),
    )
    .unwrap();
    let report = scope_report(&[dir.path().to_path_buf()], &[]);
    assert!(
        !warning_codes(&report).contains(&"id-collision".to_string()),
        "{}",
        report["warnings"]
    );
    assert_eq!(mailbox(&report, "dave@contoso.com")["verdict"], "folders");
    assert!(
        report["mailboxes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["mailbox"] != "eve.attacker@contoso.com"),
        "the Graph copy's guess of a mailbox gives way to the record's own"
    );
    assert_eq!(report["records"]["duplicates"], 1, "{}", report["records"]);
}

/// The AuditData of record `id` in a Purview CSV.
fn auditdata_of(purview_csv: &Path, id: &str) -> serde_json::Map<String, Value> {
    let mut rows = csv::Reader::from_path(purview_csv).unwrap();
    let header = rows.headers().unwrap().clone();
    let audit = header.iter().position(|h| h == "AuditData").unwrap();
    let row = rows
        .records()
        .map(Result::unwrap)
        .find(|r| r[0].starts_with(id))
        .unwrap();
    serde_json::from_str(&row[audit]).unwrap()
}

/// The report of the Sentinel copy of dave's bind beside another copy, `name` with `contents`.
fn beside_the_sentinel_copy(name: &str, contents: &[u8]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        copies("OfficeActivity.csv"),
        dir.path().join("OfficeActivity.csv"),
    )
    .unwrap();
    std::fs::write(dir.path().join(name), contents).unwrap();
    scope_report(&[dir.path().to_path_buf()], &[])
}

/// A Defender `CloudAppEvents` copy of a Purview record, as `ConvertTo-Json` past its depth
/// leaves it: the folders' items became `System.Object[]` and the properties hashtable text.
fn defender_flattened(purview_csv: &Path, id: &str) -> String {
    let mut ad = auditdata_of(purview_csv, id);
    for folder in ad["Folders"].as_array_mut().unwrap() {
        folder["FolderItems"] = Value::from("System.Object[]");
    }
    let props: Vec<Value> = ad["OperationProperties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            Value::from(format!(
                "@{{Name={}; Value={}}}",
                p["Name"].as_str().unwrap(),
                p["Value"].as_str().unwrap()
            ))
        })
        .collect();
    ad.insert("OperationProperties".into(), Value::Array(props));
    ad.insert("AppAccessContext".into(), Value::from("@{AADSessionId=00a1b2c3-d4e5-46f7-8899-aabbccddeeff; IssuedAtTime=2024-03-12T00:12:40; UniqueTokenId=Zq8dTjU1b0KwJ7n3aLqBAA}"));
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "Timestamp",
        "ActionType",
        "Application",
        "ApplicationId",
        "AccountObjectId",
        "AccountDisplayName",
        "IPAddress",
        "RawEventData",
        "ReportId",
    ])
    .unwrap();
    out.write_record([
        "2024-03-12T00:33:20.0000000Z",
        "MailItemsAccessed",
        "Microsoft Exchange Online",
        "20893",
        "6e6f7665-0000-4000-8000-000000000666",
        "Eve Attacker",
        ATTACKER_IP,
        &Value::Object(ad).to_string(),
        "da7e0003-0000-4000-8000-000000000003-2024031200",
    ])
    .unwrap();
    String::from_utf8(out.into_inner().unwrap()).unwrap()
}

#[test]
fn a_copy_whose_nested_fields_powershell_destroyed_is_the_same_record() {
    let report = beside_the_sentinel_copy(
        "CloudAppEvents.csv",
        defender_flattened(&copies("purview.csv"), "da7e0003").as_bytes(),
    );
    assert!(
        !warning_codes(&report).contains(&"id-collision".to_string()),
        "{}",
        report["warnings"]
    );
    let dave = mailbox(&report, "dave@contoso.com");
    assert_eq!(report["records"]["duplicates"], 1, "{}", report["records"]);
    // The message comes from the Sentinel copy, the session and count from Defender's.
    let ids: Vec<&str> = dave["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["internet_message_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["dave-supplier-contract-v3@am0pr01mb1234.eurprd01.prod.outlook.com"]
    );
    assert_eq!(
        dave["verdict"], "folders",
        "OperationCount 4 with 1 id listed"
    );
}

/// Every input of a permutation test: the samples and SIEM copies of the same incident.
fn incident() -> Vec<(PathBuf, &'static str)> {
    vec![
        (sample("purview_audit_export.csv"), "purview.csv"),
        (sample("Search-UnifiedAuditLog_export.csv"), "ual.csv"),
        (sample("SearchResult.xml"), "searchresult.xml"),
        (sample("sentinel_officeactivity.csv"), "sentinel.csv"),
        (sample("message_trace.csv"), "trace.csv"),
        (
            fixture("siem/sentinel_officeactivity_portal.csv"),
            "officeactivity.csv",
        ),
        (
            fixture("siem/defender_cloudappevents_portal.csv"),
            "cloudappevents.csv",
        ),
        (fixture("siem/graph_auditlog_pages.jsonl"), "graph.jsonl"),
        (
            fixture("siem/elastic_o365_elasticdump.ndjson"),
            "elastic.ndjson",
        ),
        (copies("OfficeActivity.csv"), "dave_officeactivity.csv"),
        (copies("purview.csv"), "dave_purview.csv"),
    ]
}

/// The JSON report with the run's own facts masked (command line, time of writing, where the
/// files were) and the file names given back: what must not depend on the order.
fn normalized(report: &str, dir: &Path, prefixes: &[String]) -> Value {
    let mut text = report.replace(&format!("{}/", dir.display()), "");
    for p in prefixes {
        text = text.replace(p.as_str(), "");
    }
    let mut v: Value = serde_json::from_str(&text).unwrap();
    for key in ["command_line", "generated_at", "generated"] {
        v.as_object_mut().unwrap().remove(key);
    }
    // The list of inputs is in path order, which the names decide.
    if let Some(inputs) = v["inputs"].as_array_mut() {
        inputs.sort_by_key(|i| i["path"].as_str().unwrap_or_default().to_string());
    }
    v
}

fn report_of(order: &[usize], twice: Option<usize>) -> Value {
    let files = incident();
    let dir = tempfile::tempdir().unwrap();
    // Names that sort in the order given: the order the files are read and merged in.
    let mut prefixes = Vec::new();
    let mut args = Vec::new();
    for (rank, &i) in order.iter().enumerate() {
        let prefix = format!("{:02}q", rank);
        let path = dir.path().join(format!("{prefix}{}", files[i].1));
        std::fs::copy(&files[i].0, &path).unwrap();
        prefixes.push(prefix);
        args.push(path);
    }
    if let Some(i) = twice {
        // A second copy of a whole file, in a folder of its own (its path differs).
        let again = dir.path().join("again");
        std::fs::create_dir(&again).unwrap();
        std::fs::copy(&files[i].0, again.join(files[i].1)).unwrap();
        args.push(again.join(files[i].1));
    }
    args.reverse();
    let out = bin()
        .args([
            "scope",
            "--quiet",
            "--format",
            "json",
            "--attacker-ip",
            ATTACKER_IP,
        ])
        .args(&args)
        .output()
        .unwrap();
    assert_success(&out);
    normalized(
        &String::from_utf8(out.stdout).unwrap(),
        dir.path(),
        &prefixes,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Files read in any order, under any names, and whole files given twice: one report.
    #[test]
    fn the_report_is_the_same_for_every_order_of_the_inputs(
        order in Just((0..incident().len()).collect::<Vec<usize>>()).prop_shuffle(),
    ) {
        let n = incident().len();
        let forward: Vec<usize> = (0..n).collect();
        let expected = report_of(&forward, None);
        let got = report_of(&order, None);
        let (expected, got) = (
            serde_json::to_string_pretty(&expected).unwrap(),
            serde_json::to_string_pretty(&got).unwrap(),
        );
        let first_difference = expected
            .lines()
            .zip(got.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b);
        prop_assert!(expected == got, "first difference (line, expected, got): {:?}", first_difference);
    }
}

#[test]
fn a_whole_file_given_twice_changes_only_the_counts() {
    let n = incident().len();
    let forward: Vec<usize> = (0..n).collect();
    let once = report_of(&forward, None);
    // The Sentinel copy of the sample incident, again under another path.
    let twice = report_of(&forward, Some(3));
    assert_eq!(once["mailboxes"], twice["mailboxes"]);
    assert!(
        twice["records"]["duplicates"].as_u64().unwrap()
            > once["records"]["duplicates"].as_u64().unwrap()
    );
}

/// A JSON value as Python's `repr` writes the dict a notebook exported (`str(row)`): single
/// quotes, `True`/`False`/`None`.
fn python_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(python_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("'{k}': {}", python_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[test]
fn a_defender_copy_written_as_a_python_dict_is_the_same_record() {
    let ad = Value::Object(auditdata_of(&copies("purview.csv"), "da7e0003"));
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "",
        "Timestamp",
        "ActionType",
        "Application",
        "IPAddress",
        "RawEventData",
    ])
    .unwrap();
    out.write_record([
        "0",
        "2024-03-12 00:33:20+00:00",
        "MailItemsAccessed",
        "Microsoft Exchange Online",
        ATTACKER_IP,
        &python_repr(&ad),
    ])
    .unwrap();
    let report =
        beside_the_sentinel_copy("cloudappevents_notebook.csv", &out.into_inner().unwrap());
    assert!(
        !warning_codes(&report).contains(&"id-collision".to_string()),
        "{}",
        report["warnings"]
    );
    assert_eq!(report["records"]["duplicates"], 1, "{}", report["records"]);
    assert_eq!(report["records"]["rejected"], 0, "{}", report["records"]);
    // OperationCount and the session come from the Defender copy, the Sentinel copy lacks them.
    let dave = mailbox(&report, "dave@contoso.com");
    assert_eq!(dave["verdict"], "folders", "{dave}");
    assert!(dave.get("caveats").is_none(), "{}", dave["caveats"]);
}

#[test]
fn copies_that_differ_only_in_fields_the_frame_does_not_keep_are_said() {
    let original = std::fs::read_to_string(copies("purview.csv")).unwrap();
    // The same export, one record's UserKey and OriginatingServer edited: nothing the scope
    // reads changes, so the copies still merge; the edit must not pass unsaid.
    let edited = original
        .replacen("1003BFFD0000EEE6", "1003BFFD0000FFFF", 1)
        .replacen("15.20.7409.012", "15.20.7409.099", 1);
    assert_ne!(original, edited);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("purview.csv"), &original).unwrap();
    std::fs::write(dir.path().join("purview_again.csv"), &edited).unwrap();
    let report = scope_report(&[dir.path().to_path_buf()], &[]);
    assert_eq!(report["records"]["duplicates"], 2, "{}", report["records"]);
    let warning = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "copies-differ-unkept")
        .unwrap_or_else(|| panic!("{}", report["warnings"]));
    let message = warning["message"].as_str().unwrap();
    assert!(message.starts_with("1 record(s)"), "{message}");
    assert!(
        message.contains("da7e0003-0000-4000-8000-000000000003")
            && message.contains("purview.csv:2")
            && message.contains("purview_again.csv:2"),
        "{message}"
    );
    // The same with LF line ends (the fixture has CRLF, as Purview writes).
    std::fs::write(
        dir.path().join("purview.csv"),
        original.replace("\r\n", "\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("purview_again.csv"),
        edited.replace("\r\n", "\n"),
    )
    .unwrap();
    let lf = scope_report(&[dir.path().to_path_buf()], &[]);
    assert!(lf["warnings"].to_string().contains("copies-differ-unkept"));
    std::fs::write(dir.path().join("purview.csv"), &original).unwrap();
    // An identical second copy draws no such warning.
    std::fs::write(dir.path().join("purview_again.csv"), &original).unwrap();
    let report = scope_report(&[dir.path().to_path_buf()], &[]);
    assert!(
        !report["warnings"]
            .to_string()
            .contains("copies-differ-unkept")
    );
}
