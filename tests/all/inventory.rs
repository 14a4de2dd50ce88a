//! Which mail, about whom (#16): message inventories joined to the scope. The sample incident
//! carries a message trace (`samples/message_trace.csv`); `tests/fixtures/inventory/` holds the
//! same messages in every other inventory shape (written by `make_fixtures.py`).

use crate::util::{assert_success, bin, fixture, mailbox, sample, scope_report};
use serde_json::Value;
use std::path::PathBuf;

fn inventory(name: &str) -> PathBuf {
    fixture(&format!("inventory/{name}"))
}

/// The audit exports of the sample incident, without its message trace.
fn audit_samples() -> Vec<PathBuf> {
    [
        "purview_audit_export.csv",
        "Search-UnifiedAuditLog_export.csv",
        "SearchResult.xml",
        "sentinel_officeactivity.csv",
    ]
    .iter()
    .map(|n| sample(n))
    .collect()
}

fn message<'m>(mb: &'m Value, id: &str) -> &'m Value {
    mb["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["internet_message_id"] == id)
        .unwrap_or_else(|| panic!("{id} not in scope of {}", mb["mailbox"]))
}

fn assumed_ids(mb: &Value) -> Vec<&str> {
    mb["assumed_messages"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| m["internet_message_id"].as_str().unwrap())
                .collect()
        })
        .unwrap_or_default()
}

const BUDGET: &str = "caal-budget-2024@am0pr01mb1234.eurprd01.prod.outlook.com";

#[test]
fn messages_in_scope_get_subject_sender_recipients_and_date_from_the_trace() {
    let report = scope_report(&[sample("")], &[]);
    let alice = mailbox(&report, "alice@contoso.com");
    let budget = message(alice, BUDGET);
    assert_eq!(budget["subject"], "FY2024 budget – final figures");
    assert_eq!(budget["metadata"]["sender"], "cfo@contoso.com");
    assert_eq!(
        budget["metadata"]["recipients"],
        serde_json::json!(["alice@contoso.com", "bob@contoso.com", "carol@contoso.com"]),
        "the trace's three per-recipient rows are one message"
    );
    assert_eq!(budget["metadata"]["date"], "2024-03-11T07:58:02Z");
    // The trace writes this id without brackets, the audit record too; others are bracketed
    // and upper-case in the trace, normalized in the audit records.
    let payroll = message(alice, "caal-payroll@contoso.com");
    assert_eq!(payroll["metadata"]["sender"], "payroll@contoso.com");
    // Older than the trace's reach: counted and listed, not guessed.
    let minutes = message(
        alice,
        "caal-board-minutes@am0pr01mb1234.eurprd01.prod.outlook.com",
    );
    assert!(minutes.get("metadata").is_none());
    let n = &report["notification"];
    assert!(
        n["without_metadata"]
            .as_array()
            .unwrap()
            .iter()
            .any(|id| id == "caal-board-minutes@am0pr01mb1234.eurprd01.prod.outlook.com")
    );
    assert_eq!(n["overall"]["messages_in_scope"], 9);
    assert_eq!(n["overall"]["with_metadata"], 6);
    assert_eq!(n["overall"]["without_metadata"], 3);
}

#[test]
fn entire_mailbox_verdicts_list_the_inventorys_messages_up_to_the_end_of_the_exposure() {
    let report = scope_report(&[sample("")], &[]);
    // bob synced his mailbox at 03:01 and bound drafts at 03:05: mail delivered before then
    // was exposed; his reply at 04:00 was not. The budget mail named for alice (a message seen
    // by two mailboxes) is assumed for bob.
    let bob = mailbox(&report, "bob@contoso.com");
    assert_eq!(bob["verdict"], "entire-mailbox");
    let ids = assumed_ids(bob);
    assert!(ids.contains(&BUDGET), "{ids:?}");
    assert!(ids.contains(&"bob-invoice-88412@am0pr01mb1234.eurprd01.prod.outlook.com"));
    assert!(!ids.contains(&"bob-reply-tailspin@am0pr01mb1234.eurprd01.prod.outlook.com"));
    let why = bob["assumed_messages"][0]["why"].as_str().unwrap();
    assert!(why.starts_with("entire mailbox (attacker-sync"), "{why}");
    // carol's throttled window runs to 2024-03-13T05:30: mail of 04:00 that day is in it, of
    // 09:00 is not.
    let carol = mailbox(&report, "carol@contoso.com");
    let ids = assumed_ids(carol);
    assert!(ids.contains(&"carol-benefits@am0pr01mb1234.eurprd01.prod.outlook.com"));
    assert!(!ids.contains(&"carol-after@am0pr01mb1234.eurprd01.prod.outlook.com"));
    // alice's verdict is messages: nothing is assumed beyond the named ones.
    assert!(assumed_ids(mailbox(&report, "alice@contoso.com")).is_empty());
    // A window end bounds the exposure instead.
    let windowed = scope_report(&[sample("")], &["--end", "2024-03-12T05:45:00Z"]);
    let ids = assumed_ids(mailbox(&windowed, "carol@contoso.com"));
    assert!(ids.contains(&"carol-status@am0pr01mb1234.eurprd01.prod.outlook.com"));
    assert!(!ids.contains(&"carol-leave@am0pr01mb1234.eurprd01.prod.outlook.com"));
}

#[test]
fn correspondents_are_counted_by_domain_internal_and_external() {
    let report = scope_report(&[sample("")], &[]);
    let n = &report["notification"];
    assert_eq!(n["internal_domains"], serde_json::json!(["contoso.com"]));
    let domains = n["overall"]["domains"].as_array().unwrap();
    let get = |d: &str| domains.iter().find(|x| x["domain"] == d).unwrap().clone();
    assert_eq!(get("tailspin-supplies.example")["internal"], false);
    assert_eq!(get("contoso.com")["internal"], true);
    assert_eq!(
        n["overall"]["external_correspondents"].as_u64().unwrap()
            + n["overall"]["internal_correspondents"].as_u64().unwrap(),
        n["overall"]["correspondents"].as_u64().unwrap()
    );
    // Told that contoso-hr.example is the organization's too, its address counts as internal.
    let told = scope_report(
        &[sample("")],
        &[
            "--internal-domain",
            "contoso.com",
            "--internal-domain",
            "contoso-hr.example",
        ],
    );
    let t = &told["notification"];
    assert_eq!(t["internal_domains_from"], "--internal-domain");
    assert_eq!(
        t["overall"]["internal_correspondents"].as_u64().unwrap(),
        n["overall"]["internal_correspondents"].as_u64().unwrap() + 1
    );
}

#[test]
fn every_inventory_shape_gives_the_same_metadata() {
    let shapes = [
        ("get_messagetrace_ps51_en-GB.csv", "message-trace-csv"),
        ("eac_enhanced_summary_utf16.csv", "message-trace-report-csv"),
        ("eac_extended_utf16.csv", "message-trace-report-csv"),
        ("graph_messagetrace_pages.json", "graph-message-trace-json"),
        ("defender_emailevents.csv", "defender-emailevents-csv"),
        (
            "get_messagetracev2_convertto-json.json",
            "message-trace-json",
        ),
        (
            "reporting_webservice_messagetrace_odata.json",
            "message-trace-json",
        ),
        ("MSGTRK2024031107-1.LOG", "exchange-message-tracking-log"),
        (
            "defender_emailevents_stream_eventhub.json",
            "defender-emailevents-json",
        ),
        (
            "elastic_exchange_online_message_trace.ndjson",
            "elastic-message-trace-json",
        ),
        (
            "elastic_exchange_online_message_trace_elasticdump.json",
            "elastic-message-trace-json",
        ),
    ];
    for (name, format) in shapes {
        let mut paths = audit_samples();
        paths.push(inventory(name));
        let report = scope_report(&paths, &[]);
        let input = report["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["path"].as_str().unwrap().ends_with(name))
            .unwrap();
        assert_eq!(input["format"], format, "{name}");
        let budget = message(mailbox(&report, "alice@contoso.com"), BUDGET);
        let meta = &budget["metadata"];
        assert_eq!(meta["sender"], "cfo@contoso.com", "{name}");
        assert_eq!(meta["recipients"].as_array().unwrap().len(), 3, "{name}");
        // Trace reports carry fractions of a second.
        assert!(
            meta["date"]
                .as_str()
                .unwrap()
                .starts_with("2024-03-11T07:58:02"),
            "{name}: {}",
            meta["date"]
        );
        let subject = budget["subject"].as_str().unwrap();
        // Windows PowerShell's ASCII Export-Csv turned the dash into '?'.
        assert!(
            subject.starts_with("FY2024 budget ") && subject.ends_with(" final figures"),
            "{name}: {subject}"
        );
    }
}

#[test]
fn utf16_reports_without_a_bom_and_day_first_cultures_are_read_and_said() {
    let out = bin()
        .args(["inspect", "--format", "json", "-q"])
        .arg(inventory("eac_enhanced_summary_utf16.csv"))
        .arg(inventory("get_messagetrace_ps51_en-GB.csv"))
        .output()
        .unwrap();
    assert_success(&out);
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["files"][0]["encoding"], "utf-16le");
    assert_eq!(j["files"][0]["inventory_rows"], 16);
    let notes = j["files"][1]["notes"].to_string();
    assert!(notes.contains("read as day/month/year"), "{notes}");
    assert_eq!(j["files"][1]["first_time"], "2024-03-11T07:40:00Z");
    assert_eq!(j["totals"]["inventory_messages"], 16);
}

#[test]
fn an_ediscovery_export_names_drafts_and_folders_the_trace_cannot() {
    // Drafts never crossed transport: no trace knows them, the mailbox's export does. An
    // archived 2019 message is in a synced folder.
    let mut paths = audit_samples();
    paths.push(inventory("ediscovery_results_bob.csv"));
    let report = scope_report(&paths, &[]);
    let bob = mailbox(&report, "bob@contoso.com");
    let draft = message(bob, "bob-draft-2@am0pr01mb1234.eurprd01.prod.outlook.com");
    assert_eq!(draft["subject"], "Salary review notes");
    assert_eq!(draft["metadata"]["sender"], "bob@contoso.com");
    let archive = bob["assumed_messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            m["internet_message_id"] == "bob-archive-2019@am0pr01mb1234.eurprd01.prod.outlook.com"
        })
        .unwrap();
    assert_eq!(archive["why"], "folder \\Archive");
    assert!(
        archive["recipients"]
            .to_string()
            .contains("eve.adams@woodgrove.example")
    );
}

#[test]
fn a_csv_of_messages_is_read_when_its_columns_are_mapped() {
    let mut paths = audit_samples();
    paths.push(inventory("pst_listing_carol.csv"));
    let unmapped = scope_report(&paths, &[]);
    assert!(unmapped["skipped"].to_string().contains("--inventory-map"));
    let mapped = scope_report(
        &paths,
        &[
            "--inventory-map",
            "internet_message_id=Message-ID,subject=Subject,sender=From,recipients=To,recipients=Cc,received=Date,folder=Folder",
        ],
    );
    let carol = mailbox(&mapped, "carol@contoso.com");
    let hr = message(
        carol,
        "carol-hr-case@am0pr01mb1234.eurprd01.prod.outlook.com",
    );
    assert_eq!(hr["subject"], "Confidential: HR case 2024-031");
    assert_eq!(hr["metadata"]["date"], "2024-03-11T15:00:00Z");
    // The folder names a folder, not a message: `Inbox` is no folder in carol's scope.
    assert!(assumed_ids(carol).contains(&"carol-leave@am0pr01mb1234.eurprd01.prod.outlook.com"));
}

#[test]
fn a_mapped_column_the_csv_lacks_makes_that_file_an_error_naming_it() {
    let mut paths = audit_samples();
    paths.push(inventory("pst_listing_carol.csv"));
    let report = scope_report(
        &paths,
        &[
            "--inventory-map",
            "internet_message_id=Message-ID,subject=Subject,sender=Form,recipients=To,received=Date",
        ],
    );
    let skipped = report["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(
        skipped[0]["path"]
            .as_str()
            .unwrap()
            .ends_with("pst_listing_carol.csv")
    );
    assert_eq!(skipped[0]["error"], true);
    let why = skipped[0]["reason"].as_str().unwrap();
    assert!(why.contains("'Form' (sender)"), "{why}");
    assert!(!why.contains("'Subject' (subject)"), "{why}");
    assert!(
        why.contains("its header has 'Folder', 'Date', 'From'"),
        "{why}"
    );
    // The other inputs are read all the same.
    assert_eq!(report["inputs"].as_array().unwrap().len(), paths.len() - 1);
    // An empty map is refused before anything is read.
    for empty in ["", " , ,"] {
        let out = bin()
            .arg("scope")
            .arg(sample(""))
            .args([
                "--attacker-ip",
                "203.0.113.66",
                "-q",
                "--inventory-map",
                empty,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("--inventory-map") && stderr.contains("the map is empty"),
            "{stderr}"
        );
    }
}

#[test]
fn internal_domains_are_normalized_and_those_matching_nothing_or_everything_refused() {
    let report = scope_report(&[sample("")], &["--internal-domain", "@Contoso.COM."]);
    assert_eq!(
        report["notification"]["internal_domains"],
        serde_json::json!(["contoso.com"])
    );
    let out = bin()
        .arg("scope")
        .arg(sample(""))
        .args([
            "--attacker-ip",
            "203.0.113.66",
            "-q",
            "--internal-domain",
            "*.contoso.com",
        ])
        .output()
        .unwrap();
    // A value clap refuses is a usage error: exit 1, as for every bad argument.
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--internal-domain")
            && stderr.contains("'*.contoso.com' is not a domain")
            && stderr.contains("give the parent domain ('contoso.com')"),
        "{stderr}"
    );
}

#[test]
fn no_subjects_leaves_every_subject_out_of_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let subjects = [
        "FY2024 budget",
        "Project Heron",
        "Re: my medical leave",
        "Security alert",
    ];
    for format in ["text", "json", "md", "html", "csv"] {
        let out_path = dir.path().join(format!("report-{format}"));
        let out = bin()
            .args([
                "scope",
                "--attacker-ip",
                "203.0.113.66",
                "-q",
                "--no-subjects",
                "--format",
                format,
                "--output",
            ])
            .arg(&out_path)
            .arg(sample(""))
            .output()
            .unwrap();
        assert_success(&out);
        let text = if out_path.is_dir() {
            std::fs::read_dir(&out_path)
                .unwrap()
                .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
                .collect::<String>()
        } else {
            std::fs::read_to_string(&out_path).unwrap()
        };
        for s in subjects {
            assert!(!text.contains(s), "{format} shows '{s}'");
        }
        assert!(
            text.contains("cfo@contoso.com"),
            "{format}: metadata other than subjects stays"
        );
    }
}

#[test]
fn the_notification_table_is_one_row_per_message_and_mailbox_and_neutralizes_formulas() {
    // An inventory subject an attacker chose: a spreadsheet formula.
    let dir = tempfile::tempdir().unwrap();
    let trace = std::fs::read_to_string(sample("message_trace.csv"))
        .unwrap()
        // Quotes doubled, as in a quoted CSV field.
        .replace(
            "\"Weekly update\"",
            "\"=HYPERLINK(\"\"http://x.example\"\",\"\"Weekly update\"\")\"",
        );
    let trace_path = dir.path().join("trace.csv");
    std::fs::write(&trace_path, trace).unwrap();
    let mut paths = audit_samples();
    paths.push(trace_path);
    let out_dir = dir.path().join("report");
    let out = bin()
        .args([
            "scope",
            "--attacker-ip",
            "203.0.113.66",
            "-q",
            "--format",
            "csv",
            "--output",
        ])
        .arg(&out_dir)
        .args(&paths)
        .output()
        .unwrap();
    assert_success(&out);
    let mut rdr = csv::Reader::from_path(out_dir.join("notification.csv")).unwrap();
    let h = rdr.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    // 9 messages in scope and 8 assumed across the mailboxes, and the one the attacker sent
    // from bob; the budget mail is a row for alice (named) and for bob and carol (assumed).
    assert_eq!(rows.len(), 9 + 8 + 1);
    let sent: Vec<&csv::StringRecord> = rows
        .iter()
        .filter(|r| &r[col("in_scope_because")] == "sent by the attacker")
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        &sent[0][col("recipients")],
        "mark@tailspin-supplies.example"
    );
    let budget: Vec<&str> = rows
        .iter()
        .filter(|r| &r[col("internet_message_id")] == BUDGET)
        .map(|r| &r[col("mailbox")])
        .collect();
    assert_eq!(
        budget,
        ["alice@contoso.com", "bob@contoso.com", "carol@contoso.com"]
    );
    let weekly = rows
        .iter()
        .find(|r| r[col("internet_message_id")].starts_with("bob-weekly"))
        .unwrap();
    assert!(
        weekly[col("subject")].starts_with("'="),
        "{}",
        &weekly[col("subject")]
    );
}

/// A scope report with the sample incident's audit exports and one inventory, without what
/// names the inventory file (its path, digest, format, size, coverage).
fn report_with_inventory(inventory: &std::path::Path, extra: &[&str]) -> Value {
    let mut paths = audit_samples();
    paths.push(inventory.to_path_buf());
    let mut report = scope_report(&paths, extra);
    for key in ["inputs", "inventories", "tool", "command_line"] {
        report.as_object_mut().unwrap().remove(key);
    }
    report
}

/// Every value of `key` in the JSON, anywhere, removed.
fn without_key(mut v: Value, key: &str) -> Value {
    fn strip(v: &mut Value, key: &str) {
        match v {
            Value::Object(m) => {
                m.remove(key);
                m.values_mut().for_each(|v| strip(v, key));
            }
            Value::Array(a) => a.iter_mut().for_each(|v| strip(v, key)),
            _ => {}
        }
    }
    strip(&mut v, key);
    v
}

#[test]
fn elastic_message_trace_documents_give_the_findings_of_the_trace_they_hold() {
    // The same API objects as `Get-MessageTraceV2 | ConvertTo-Json` writes them, and the
    // message trace CSV of the sample incident (culture dates, whole seconds).
    let json = report_with_inventory(&inventory("get_messagetracev2_convertto-json.json"), &[]);
    let csv = report_with_inventory(&sample("message_trace.csv"), &[]);
    for name in [
        "elastic_exchange_online_message_trace.ndjson",
        "elastic_exchange_online_message_trace_elasticdump.json",
    ] {
        let elastic = report_with_inventory(&inventory(name), &[]);
        // The integration says the direction (from its configured local domains); the
        // PowerShell objects do not.
        let alice = mailbox(&elastic, "alice@contoso.com");
        let budget = message(alice, BUDGET);
        assert_eq!(budget["metadata"]["direction"], "intra-org", "{name}");
        // Metadata says the file and line it came from.
        let elastic = without_key(without_key(elastic, "direction"), "source");
        let json = without_key(without_key(json.clone(), "direction"), "source");
        assert_eq!(elastic, json, "{name}");
        // The CSV has whole seconds: the same findings, dates aside (a forwarding window's
        // `unresolved_after` is the inventory's last time).
        assert_eq!(
            without_key(without_key(elastic, "date"), "unresolved_after"),
            without_key(
                without_key(
                    without_key(without_key(csv.clone(), "source"), "direction"),
                    "date"
                ),
                "unresolved_after"
            ),
            "{name}"
        );
    }
}

#[test]
fn a_line_of_elastic_documents_that_is_not_json_is_rejected_and_the_rest_read() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        std::fs::read_to_string(inventory("elastic_exchange_online_message_trace.ndjson")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let messages = lines.len() as u64;
    // A document cut short (a partial write), and one without any message id.
    let cut = &lines[4][..lines[4].len() / 2];
    lines.insert(5, cut);
    let no_id = r#"{"@timestamp":"2024-03-11T07:00:00.000Z","microsoft":{"online_message_trace":{"Status":"Failed"}},"email":{"subject":"x"}}"#;
    lines.insert(9, no_id);
    let path = dir.path().join("elastic.ndjson");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let ing = crate::util::read_one(&path);
    let f = &ing.files[0];
    assert_eq!(f.format.as_str(), "elastic-message-trace-json");
    assert_eq!(
        (f.rows, f.inventory_rows, f.rejected),
        (messages + 2, messages, 2)
    );
    assert_eq!(f.rejects[0].line, 6, "{:?}", f.rejects);
    assert!(
        f.rejects[0].reason.contains("not valid JSON"),
        "{:?}",
        f.rejects
    );
    assert_eq!(f.rejects[1].line, 10, "{:?}", f.rejects);
    assert!(
        f.rejects[1].reason.contains("no messageId"),
        "{:?}",
        f.rejects
    );
    // `inspect` names the file and the line.
    let out = bin()
        .args(["inspect", "--quiet", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_success(&out);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let file = &report["files"][0];
    assert!(
        file["path"].as_str().unwrap().ends_with("elastic.ndjson"),
        "{file}"
    );
    assert_eq!(file["rejects"][0]["line"], 6, "{file}");
    assert_eq!(file["rejects"][1]["line"], 10, "{file}");
}

/// The sample incident's trace as `ConvertTo-Json` objects, each `Received` written by `time`
/// (given the time in milliseconds), in a file of `dir`.
fn trace_objects_with(
    dir: &std::path::Path,
    name: &str,
    time: impl Fn(i64) -> Value,
    wrap: impl Fn(Value) -> Value,
) -> PathBuf {
    let text =
        std::fs::read_to_string(inventory("get_messagetracev2_convertto-json.json")).unwrap();
    let mut objects: Vec<Value> = serde_json::from_str(&text).unwrap();
    for o in &mut objects {
        let received = o["Received"].as_str().unwrap();
        let micros = mailscope::time::parse_iso(received).expect("a trace time");
        o["Received"] = time(micros.div_euclid(1000));
    }
    let path = dir.join(name);
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&wrap(Value::Array(objects))).unwrap(),
    )
    .unwrap();
    path
}

#[test]
fn windows_powershell_datetime_objects_give_the_times_of_plain_ones() {
    // Windows PowerShell 5.1 writes a DateTime that carries its extra properties as an object:
    // `{"value":"\/Date(ms)\/","DateTime":"Monday, March 11, 2024 9:00:00 AM"}`.
    let dir = tempfile::tempdir().unwrap();
    let plain = trace_objects_with(
        dir.path(),
        "plain.json",
        |ms| Value::String(format!("/Date({ms})/")),
        |v| v,
    );
    let wrapped = trace_objects_with(
        dir.path(),
        "wrapped.json",
        |ms| serde_json::json!({"value": format!("/Date({ms})/"), "DateTime": "Monday, March 11, 2024 9:00:00 AM"}),
        |v| v,
    );
    let plain = report_with_inventory(&plain, &[]);
    assert!(
        plain["mailboxes"]
            .to_string()
            .contains("\"date\":\"2024-03-"),
        "the plain times are read"
    );
    assert_eq!(
        without_key(report_with_inventory(&wrapped, &[]), "source"),
        without_key(plain, "source")
    );
    // An object with no `value` is no time: the row is rejected, saying so, not kept undated.
    let unreadable = trace_objects_with(
        dir.path(),
        "unreadable.json",
        |_| serde_json::json!({"DateTime": "Monday, March 11, 2024 9:00:00 AM"}),
        |v| v,
    );
    let ing = crate::util::read_one(&unreadable);
    let f = &ing.files[0];
    assert_eq!(f.inventory_rows, 0);
    assert_eq!(f.rejected, f.rows);
    assert!(
        f.rejects[0].reason.contains("without a `value` time"),
        "{:?}",
        f.rejects[0]
    );
}

#[test]
fn reporting_web_service_odata_version_1_lists_its_records_under_d() {
    // OData verbose version 1 answers `{"d":[…]}`; version 2 `{"d":{"results":[…]}}`.
    let dir = tempfile::tempdir().unwrap();
    let ms = |ms: i64| Value::String(format!("/Date({ms})/"));
    let array = trace_objects_with(dir.path(), "array.json", ms, |v| v);
    let v1 = trace_objects_with(dir.path(), "v1.json", ms, |v| serde_json::json!({"d": v}));
    let v2 = trace_objects_with(
        dir.path(),
        "v2.json",
        ms,
        |v| serde_json::json!({"d": {"results": v}}),
    );
    let array = without_key(report_with_inventory(&array, &[]), "source");
    for path in [v1, v2] {
        let ing = crate::util::read_one(&path);
        assert_eq!(ing.files[0].rejected, 0, "{path:?}");
        assert_eq!(
            without_key(report_with_inventory(&path, &[]), "source"),
            array,
            "{path:?}"
        );
    }
}

#[test]
fn a_tracking_log_with_a_second_header_block_reads_each_block_by_its_own_fields() {
    // A service restart, or logs of two servers joined into one file: the directives again,
    // and a `#Fields:` list in another order (here the subject and sender swapped).
    let text = std::fs::read_to_string(inventory("MSGTRK2024031107-1.LOG")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.starts_with("#Fields:"))
        .unwrap();
    let fields: Vec<&str> = lines[header]["#Fields: ".len()..].split(',').collect();
    let subject = fields.iter().position(|f| *f == "message-subject").unwrap();
    let sender = fields.iter().position(|f| *f == "sender-address").unwrap();
    let swap = |line: &str| {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(line.as_bytes());
        let mut cells: Vec<String> = rdr
            .records()
            .next()
            .unwrap()
            .unwrap()
            .iter()
            .map(str::to_string)
            .collect();
        cells.swap(subject, sender);
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        w.write_record(&cells).unwrap();
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    };
    let data = &lines[header + 1..];
    let half = data.len() / 2;
    let mut joined: String = lines[..=header]
        .iter()
        .map(|l| format!("{l}\r\n"))
        .collect();
    for l in &data[..half] {
        joined.push_str(&format!("{l}\r\n"));
    }
    for l in &lines[1..header] {
        joined.push_str(&format!("{l}\r\n"));
    }
    let mut swapped_fields = fields.clone();
    swapped_fields.swap(subject, sender);
    joined.push_str(&format!("#Fields: {}\r\n", swapped_fields.join(",")));
    for l in &data[half..] {
        joined.push_str(&swap(l).replace('\n', "\r\n"));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("MSGTRK2024031107-1.LOG");
    std::fs::write(&path, joined).unwrap();
    let ing = crate::util::read_one(&path);
    let f = &ing.files[0];
    assert_eq!(f.format.as_str(), "exchange-message-tracking-log");
    let rows = data.iter().filter(|l| !l.trim().is_empty()).count() as u64;
    assert_eq!((f.rejected, f.inventory_rows), (0, rows), "{:?}", f.rejects);
    assert_eq!(
        without_key(report_with_inventory(&path, &[]), "source"),
        without_key(
            report_with_inventory(&inventory("MSGTRK2024031107-1.LOG"), &[]),
            "source"
        )
    );
}
