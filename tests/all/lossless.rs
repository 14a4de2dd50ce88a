//! Lose nothing the attacker did (issue #13): records as collectors, anonymizers and merged
//! exports re-shape them are read without narrowing the scope, and every loss is said.

use crate::util::*;
use serde_json::json;

const ATTACKER_IP: &str = "203.0.113.66";

/// An attacker's MailItemsAccessed Bind of one message, with every field Microsoft writes.
fn bind(id: &str, time: &str, mailbox: &str, message: &str) -> serde_json::Value {
    json!({
        "CreationTime": time, "Id": id, "Operation": "MailItemsAccessed",
        "OrganizationId": "4f1c2a9e-0000-4000-8000-00000000c0de", "RecordType": 50,
        "ResultStatus": "Succeeded", "UserKey": "1003BFFD0000A1C0", "UserType": 0, "Version": 1,
        "Workload": "Exchange", "UserId": mailbox, "ClientIPAddress": ATTACKER_IP,
        "ClientInfoString": "Client=REST;Client=RESTSystem;;", "ExternalAccess": false,
        "InternalLogonType": 0, "LogonType": 0, "LogonUserSid": "S-1-5-21-1000-2000-3000-3913",
        "MailboxGuid": "a40df04b-212b-4d7e-8e27-84b50e221de7", "MailboxOwnerSid": "S-1-5-21-1000-2000-3000-1",
        "MailboxOwnerUPN": mailbox,
        "OperationProperties": [{"Name": "MailAccessType", "Value": "Bind"}, {"Name": "IsThrottled", "Value": "False"}],
        "OrganizationName": "contoso.onmicrosoft.com", "OriginatingServer": "AM0PR01MB1234 (15.20.7409.012)\r\n",
        "SessionId": "8d2c6b1e-5a7f-4e61-9c3d-attacker0001", "AppId": "00000002-0000-0ff1-ce00-000000000000",
        "ClientAppId": "", "OperationCount": 1,
        "Folders": [{"Id": "LgAAAAB+7ILpFNx8TrktaK8VYWerAQBe9CuwLc2fTK7W46L1SAp9AAAA2lHHAAAB", "Path": "\\Inbox",
            "FolderItems": [{"InternetMessageId": message, "SizeInBytes": 48213}]}]
    })
}

fn scope_json(path: &std::path::Path) -> serde_json::Value {
    let out = bin()
        .args([
            "scope",
            "--quiet",
            "--format",
            "json",
            "--attacker-ip",
            ATTACKER_IP,
        ])
        .arg(path)
        .output()
        .unwrap();
    assert_success(&out);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn messages(j: &serde_json::Value, mailbox: &str) -> Vec<String> {
    j["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mailbox"] == mailbox)
        .map(|m| {
            m["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["internet_message_id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn records_sharing_an_id_but_differing_are_all_kept_and_named() {
    let dir = tempfile::tempdir().unwrap();
    // An anonymized export: every Id replaced by the same token.
    let anonymized = dir.path().join("anonymized.csv");
    std::fs::write(
        &anonymized,
        purview_export(&[
            bind(
                "ANONYMIZED",
                "2024-03-12T02:14:07",
                "alice@contoso.com",
                "<board-minutes@contoso.com>",
            ),
            bind(
                "ANONYMIZED",
                "2024-03-12T02:15:30",
                "alice@contoso.com",
                "<payroll-2024-03@contoso.com>",
            ),
            bind(
                "ANONYMIZED",
                "2024-03-12T02:16:02",
                "bob@contoso.com",
                "<merger-draft@contoso.com>",
            ),
        ]),
    )
    .unwrap();
    let j = scope_json(&anonymized);
    assert_eq!(
        messages(&j, "alice@contoso.com"),
        ["board-minutes@contoso.com", "payroll-2024-03@contoso.com"]
    );
    assert_eq!(
        messages(&j, "bob@contoso.com"),
        ["merger-draft@contoso.com"]
    );
    assert_eq!(j["records"]["read"], 3);
    assert_eq!(j["records"]["unique"], 3);
    assert_eq!(j["records"]["duplicates"], 0);
    let warning = j["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "id-collision")
        .expect("id-collision warning");
    let message = warning["message"].as_str().unwrap();
    assert!(message.contains("'ANONYMIZED' (3 records"), "{message}");
    assert!(
        message.contains("anonymized.csv:2") && message.contains("anonymized.csv:4"),
        "{message}"
    );

    // The same record in two exports (a re-run of the same search) is still one record.
    let again = dir.path().join("again.csv");
    std::fs::write(
        &again,
        purview_export(&[bind(
            "a1c0a002-0000-4000-8000-000000000002",
            "2024-03-12T02:14:07",
            "alice@contoso.com",
            "<board-minutes@contoso.com>",
        )]),
    )
    .unwrap();
    let twice = dir.path().join("twice");
    std::fs::create_dir(&twice).unwrap();
    std::fs::copy(&again, twice.join("a.csv")).unwrap();
    std::fs::copy(&again, twice.join("b.csv")).unwrap();
    let j = scope_json(&twice);
    assert_eq!(
        (
            j["records"]["unique"].as_u64(),
            j["records"]["duplicates"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert!(
        !j["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["code"] == "id-collision")
    );
}

mod reshaped {
    //! The property of issue #13: records re-shaped the ways collectors, SIEMs and PowerShell
    //! re-shape them are never lost, and never give a narrower verdict than the intact records.
    use super::*;
    use mailscope::scope::findings::Verdict;
    use mailscope::scope::indicators::Indicators;
    use mailscope::scope::{ScopeConfig, compute};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// How a nested list arrives.
    #[derive(Debug, Clone, Copy)]
    enum Shape {
        Intact,
        /// A SIEM's JSON text in a string.
        JsonText,
        /// PowerShell `ConvertTo-Json` past its depth: each element as `@{K=V; …}` text.
        Hashtable,
        /// PowerShell threw the content away.
        Lost,
    }

    fn shape() -> impl Strategy<Value = Shape> {
        prop_oneof![
            Just(Shape::Intact),
            Just(Shape::JsonText),
            Just(Shape::Hashtable),
            Just(Shape::Lost)
        ]
    }

    fn hashtable_text(v: &serde_json::Value) -> String {
        let pairs: Vec<String> = v
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}={s}"),
                serde_json::Value::Array(_) => format!("{k}=System.Object[]"),
                other => format!("{k}={other}"),
            })
            .collect();
        format!("@{{{}}}", pairs.join("; "))
    }

    fn reshape(list: &serde_json::Value, shape: Shape) -> serde_json::Value {
        match shape {
            Shape::Intact => list.clone(),
            Shape::JsonText => json!(list.to_string()),
            Shape::Hashtable => json!(
                list.as_array()
                    .unwrap()
                    .iter()
                    .map(hashtable_text)
                    .collect::<Vec<_>>()
            ),
            Shape::Lost => json!("System.Object[]"),
        }
    }

    /// One attacker or owner MailItemsAccessed record of one of three mailboxes.
    #[derive(Debug, Clone)]
    struct Case {
        mailbox: u8,
        attacker: bool,
        sync: bool,
        throttled: bool,
        messages: u8,
        properties: Shape,
        folders: Shape,
        count_as_text: bool,
    }

    fn case() -> impl Strategy<Value = Case> {
        (
            0u8..3,
            any::<bool>(),
            any::<bool>(),
            proptest::bool::weighted(0.1),
            0u8..3,
            shape(),
            shape(),
            any::<bool>(),
        )
            .prop_map(
                |(
                    mailbox,
                    attacker,
                    sync,
                    throttled,
                    messages,
                    properties,
                    folders,
                    count_as_text,
                )| Case {
                    mailbox,
                    attacker,
                    sync,
                    throttled,
                    messages,
                    properties,
                    folders,
                    count_as_text,
                },
            )
    }

    fn record(i: usize, c: &Case, damaged: bool) -> String {
        let mailbox = format!("user{}@contoso.com", c.mailbox);
        let properties = json!([
            {"Name": "MailAccessType", "Value": if c.sync { "Sync" } else { "Bind" }},
            {"Name": "IsThrottled", "Value": if c.throttled { "True" } else { "False" }}
        ]);
        let items: Vec<serde_json::Value> = (0..c.messages)
            .map(|k| json!({"InternetMessageId": format!("<m{i}-{k}@contoso.com>"), "SizeInBytes": 4096}))
            .collect();
        let folders = json!([{"Id": "LgAAAAB+7ILpFNx8TrktaK8VYWerAQBe9CuwLc2fTK7W46L1SAp9AAAA2lHHAAAB",
            "Path": format!("\\Folder{}", i % 4), "FolderItems": items}]);
        let mut r = json!({
            "CreationTime": format!("2024-03-12T{:02}:{:02}:00", 2 + i / 60, i % 60),
            "Id": format!("c0de{i:04}-0000-4000-8000-000000000000"), "Operation": "MailItemsAccessed",
            "RecordType": 50, "ResultStatus": "Succeeded", "Workload": "Exchange",
            "UserId": mailbox, "MailboxOwnerUPN": mailbox,
            "ClientIPAddress": if c.attacker { ATTACKER_IP } else { "198.51.100.10" },
            "SessionId": format!("session-{}", i % 5), "OperationCount": c.messages.max(1),
            "OperationProperties": properties, "Folders": folders,
        });
        if damaged {
            r["OperationProperties"] = reshape(&r["OperationProperties"], c.properties);
            r["Folders"] = reshape(&r["Folders"], c.folders);
            if c.count_as_text {
                r["OperationCount"] = json!(c.messages.max(1).to_string());
            }
        }
        r.to_string()
    }

    fn verdicts(cases: &[Case], damaged: bool) -> (u64, BTreeMap<String, Verdict>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("collector.jsonl");
        let lines: Vec<String> = cases
            .iter()
            .enumerate()
            .map(|(i, c)| record(i, c, damaged))
            .collect();
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let ing = read_one(&path);
        let cfg = ScopeConfig {
            indicators: Indicators {
                attacker_ip: vec![ATTACKER_IP.into()],
                ..Default::default()
            },
            session_link: false,
            ..ScopeConfig::default()
        };
        let scope = compute(&ing.frame, &cfg).unwrap();
        let v = scope
            .mailboxes
            .iter()
            .map(|m| (m.mailbox.clone(), m.verdict))
            .collect();
        (ing.frame.height() as u64, v)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn reshaped_records_are_never_lost_nor_scoped_narrower(cases in proptest::collection::vec(case(), 1..12)) {
            let (intact_records, intact) = verdicts(&cases, false);
            let (damaged_records, damaged) = verdicts(&cases, true);
            prop_assert_eq!(intact_records, cases.len() as u64);
            prop_assert_eq!(damaged_records, cases.len() as u64);
            for (mailbox, verdict) in &intact {
                let now = damaged.get(mailbox).copied().unwrap_or(Verdict::None);
                prop_assert!(now >= *verdict, "{}: {:?} intact, {:?} re-shaped", mailbox, verdict, now);
            }
        }
    }
}

/// The shapes of issue #13, item 2, as a collector's JSON Lines would carry them.
fn reshaped_export() -> String {
    let base = |id: serde_json::Value| {
        let mut r = bind(
            "x",
            "2024-03-12T02:14:07",
            "alice@contoso.com",
            "<x@contoso.com>",
        );
        r["Id"] = id;
        r
    };
    let mut records = Vec::new();
    // PowerShell ConvertTo-Json past its depth (a Golden-SAML mail-theft record was lost so).
    let mut r = base(json!("a7c2e9d0-5f1b-4c3e-9d8a-0000000000e1"));
    r["OperationProperties"] = json!([
        "@{Value=Bind; Name=MailAccessType}",
        "@{Value=False; Name=IsThrottled}"
    ]);
    r["Folders"] = json!([
        "@{Id=LgAAAAB+7ILpFNx8TrktaK8VYWerAQBe9CuwLc2fTK7W46L1SAp9AAAA2lHHAAAB; Path=\\Inbox; FolderItems=System.Object[]}"
    ]);
    records.push(r);
    // A SIEM's JSON text, numbers as strings.
    let mut r = base(json!("a7c2e9d0-5f1b-4c3e-9d8a-0000000000e2"));
    r["OperationProperties"] = json!(
        r#"[{"Name":"MailAccessType","Value":"Bind"},{"Name":"IsThrottled","Value":"False"}]"#
    );
    r["Folders"] = json!(
        r#"[{"Path":"\\Finance","FolderItems":[{"InternetMessageId":"<deal-memo@contoso.com>","SizeInBytes":"1156492.00"}]}]"#
    );
    r["OperationCount"] = json!("1");
    records.push(r);
    // Strings as numbers.
    let mut r = base(json!(6));
    r["UserId"] = json!(1);
    r["Folders"][0]["FolderItems"][0]["InternetMessageId"] = json!("<numbers@contoso.com>");
    records.push(r);
    // Folders destroyed entirely.
    let mut r = base(json!("a7c2e9d0-5f1b-4c3e-9d8a-0000000000e4"));
    r["Folders"] = json!("System.Object[]");
    records.push(r);
    let mut lines: Vec<String> = records.iter().map(|r| r.to_string()).collect();
    // A lone surrogate and an invalid escape in the attacker's user agent.
    let mut r = base(json!("a7c2e9d0-5f1b-4c3e-9d8a-0000000000e5"));
    r["ClientInfoString"] = json!("USER_AGENT");
    r["Folders"][0]["FolderItems"][0]["InternetMessageId"] = json!("<repaired@contoso.com>");
    lines.push(
        r.to_string()
            .replace("USER_AGENT", r"Mozilla\ud800/5.0 \x1b[2J"),
    );
    lines.join("\n") + "\n"
}

#[test]
fn reshaped_fields_are_decoded_and_what_was_lost_widens_the_scope() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("collector.jsonl");
    std::fs::write(&path, reshaped_export()).unwrap();
    let j = scope_json(&path);
    assert_eq!(j["records"]["read"], 5);
    assert_eq!(j["records"]["rejected"], 0);
    let alice = j["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mailbox"] == "alice@contoso.com")
        .unwrap();
    let mut messages = messages(&j, "alice@contoso.com");
    messages.sort();
    assert_eq!(
        messages,
        [
            "deal-memo@contoso.com",
            "numbers@contoso.com",
            "repaired@contoso.com"
        ]
    );
    // The flattened record's messages were destroyed: its folder is unresolved; the record
    // whose folders were destroyed is an unresolved bind in an unknown folder.
    let folders: Vec<&str> = alice["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(folders, ["(folder lost in export)", "\\Inbox"]);
    assert_eq!(alice["verdict"], "folders");
    let codes: Vec<&str> = j["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    for code in [
        "flattened-fields",
        "content-lost",
        "folders-lost",
        "repaired-strings",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    let repaired = j["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "repaired-strings")
        .unwrap();
    assert!(
        repaired["message"]
            .as_str()
            .unwrap()
            .contains("first at line 5")
    );

    // Lost OperationProperties: access type and throttling unknown, scoped as the widest.
    let lost = dir.path().join("lost.jsonl");
    let mut r = bind(
        "a7c2e9d0-5f1b-4c3e-9d8a-0000000000e6",
        "2024-03-12T02:14:07",
        "carol@contoso.com",
        "<c@contoso.com>",
    );
    r["OperationProperties"] = json!("System.Object[]");
    std::fs::write(&lost, r.to_string() + "\n").unwrap();
    let j = scope_json(&lost);
    let carol = &j["mailboxes"][0];
    assert_eq!(carol["verdict"], "entire-mailbox");
    assert!(
        j["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["code"] == "access-type-lost")
    );
}

#[test]
fn cr_only_line_ends_are_read_as_lines() {
    let dir = tempfile::tempdir().unwrap();
    // Excel for Mac, "CSV (Macintosh)": the sample export with every line break a lone CR.
    let text = std::fs::read_to_string(sample("purview_audit_export.csv")).unwrap();
    let mac = text.replace("\r\n", "\r");
    assert!(!mac.contains('\n'));
    let p = dir.path().join("mac.csv");
    std::fs::write(&p, mac).unwrap();
    let out = bin()
        .args(["inspect", "--quiet", "--format", "json"])
        .arg(&p)
        .output()
        .unwrap();
    assert_success(&out);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["files"][0]["rows"], 16);
    assert_eq!(j["files"][0]["records"], 16);
    assert!(
        j["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["code"] == "cr-line-ends")
    );
}

#[test]
fn json_without_audit_records_is_skipped_and_formats_have_one_name() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("evidence");
    std::fs::create_dir(&evidence).unwrap();
    std::fs::write(
        evidence.join("package.json"),
        r#"{"name": "collector", "version": "1.2.0", "dependencies": {"graph": "^2.0"}}"#,
    )
    .unwrap();
    std::fs::write(
        evidence.join("records.jsonl"),
        bind(
            "b1",
            "2024-03-12T02:14:07",
            "alice@contoso.com",
            "<m@contoso.com>",
        )
        .to_string()
            + "\n",
    )
    .unwrap();
    let out = bin()
        .args(["inspect", "--quiet", "--format", "json"])
        .arg(&evidence)
        .output()
        .unwrap();
    assert_success(&out);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["files"].as_array().unwrap().len(), 1);
    assert_eq!(j["files"][0]["format"], "auditdata-jsonl");
    let skipped = &j["skipped"][0];
    assert!(skipped["path"].as_str().unwrap().ends_with("package.json"));
    assert!(
        skipped["reason"]
            .as_str()
            .unwrap()
            .contains("not an audit export")
    );
    // The same name in the text and in the frame's format column.
    let text = bin()
        .args(["inspect", "--quiet"])
        .arg(&evidence)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("format auditdata-jsonl"));
    let csv_out = dir.path().join("frame.csv");
    let run = bin()
        .args(["export", "--quiet", "--output"])
        .arg(&csv_out)
        .arg(&evidence)
        .output()
        .unwrap();
    assert_success(&run);
    assert!(
        std::fs::read_to_string(&csv_out)
            .unwrap()
            .contains("auditdata-jsonl")
    );
    // Nothing but non-audit JSON: nothing could be read.
    let only = dir.path().join("only");
    std::fs::create_dir(&only).unwrap();
    std::fs::copy(evidence.join("package.json"), only.join("package.json")).unwrap();
    let run = bin()
        .args(["inspect", "--quiet"])
        .arg(&only)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
}

#[test]
fn an_export_missing_search_results_is_flagged_in_warnings_and_caveats() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(sample("Search-UnifiedAuditLog_export.csv")).unwrap();
    // The sample's five results, ResultIndex 1-5 of 5; keep the header and result 1 only, and
    // say the query had 7 results (a session cut short).
    let mut lines: Vec<&str> = text.lines().collect();
    let data = lines.split_off(2);
    let first = data
        .iter()
        .find(|l| l.contains(r#","1","5","#))
        .unwrap()
        .replace(r#","1","5","#, r#","1","7","#);
    let cut = dir.path().join("cut.csv");
    std::fs::write(&cut, format!("{}\r\n{first}\r\n", lines.join("\r\n"))).unwrap();
    let out = bin()
        .args([
            "scope",
            "--quiet",
            "--format",
            "json",
            "--attacker-ip",
            ATTACKER_IP,
        ])
        .arg(&cut)
        .output()
        .unwrap();
    assert_success(&out);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warning = j["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "incomplete-export")
        .expect("incomplete-export");
    assert!(
        warning["message"]
            .as_str()
            .unwrap()
            .starts_with("1 of 7 search results present (ResultIndex/ResultCount): missing 2–7"),
        "{warning}"
    );
    assert!(
        j["caveats"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().contains("cut.csv"))
    );
    // The whole export is not flagged.
    let out = bin()
        .args(["inspect", "--quiet", "--format", "json"])
        .arg(sample("Search-UnifiedAuditLog_export.csv"))
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        !j["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["code"] == "incomplete-export")
    );
}

#[test]
fn an_ip_in_any_of_its_shapes_is_matched_and_a_host_name_is_no_ip() {
    let dir = tempfile::tempdir().unwrap();
    // An admin cmdlet whose ClientIP names the front-end server and the address it saw.
    let rule = json!({
        "CreationTime": "2024-03-12T01:56:15", "Id": "e4140002-0000-4000-8000-000000000777",
        "Operation": "New-InboxRule", "OrganizationId": "4f1c2a9e-0000-4000-8000-00000000c0de",
        "RecordType": 1, "ResultStatus": "True", "UserType": 0, "Version": 1, "Workload": "Exchange",
        "UserId": "erin@contoso.com", "ClientIP": format!("EXCH-FE01 ({ATTACKER_IP})"),
        "ObjectId": "EURPR01A001.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/erin",
        "Parameters": [{"Name": "Identity", "Value": "erin@contoso.com"}, {"Name": "Name", "Value": "."},
            {"Name": "MoveToFolder", "Value": "RSS Feeds"}],
        "SessionId": "55555555-eeee-4eee-8eee-000000000005"
    });
    // A bind whose ClientIPAddress is a name: the address is in ClientIP.
    let mut named = bind(
        "a1c0a002-0000-4000-8000-000000000888",
        "2024-03-12T02:14:07",
        "alice@contoso.com",
        "<named@contoso.com>",
    );
    named["ClientIPAddress"] = json!("localhost");
    named["ClientIP"] = json!(format!("{ATTACKER_IP}:51234"));
    let p = dir.path().join("export.csv");
    std::fs::write(&p, purview_export(&[rule, named])).unwrap();
    let j = scope_json(&p);
    assert_eq!(j["records"]["attacker"], 2, "{}", j["records"]);
    assert_eq!(messages(&j, "alice@contoso.com"), ["named@contoso.com"]);
    // The frame keeps the name apart from the address.
    let frame = dir.path().join("frame.jsonl");
    assert_success(
        &bin()
            .args(["export", "--quiet", "--output"])
            .arg(&frame)
            .arg(&p)
            .output()
            .unwrap(),
    );
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(&frame)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let bound = rows
        .iter()
        .find(|r| r["operation"] == "MailItemsAccessed")
        .unwrap();
    assert_eq!(bound["client_ip"], ATTACKER_IP);
    assert_eq!(bound["client_host"], "localhost");
    let rule = rows
        .iter()
        .find(|r| r["operation"] == "New-InboxRule")
        .unwrap();
    assert_eq!(rule["client_ip"], ATTACKER_IP);
}

/// Organization-wide cmdlets from the attacker's IP: they name no mailbox.
fn tenant_records() -> Vec<serde_json::Value> {
    let admin = |id: &str, time: &str, op: &str, params: serde_json::Value| {
        json!({
            "CreationTime": time, "Id": id, "Operation": op,
            "OrganizationId": "4f1c2a9e-0000-4000-8000-00000000c0de", "RecordType": 1,
            "ResultStatus": "True", "UserKey": "1003BFFD0000E414", "UserType": 2, "Version": 1,
            "Workload": "Exchange", "UserId": "admin@contoso.onmicrosoft.com",
            "ClientIP": format!("{ATTACKER_IP}:50123"),
            "ObjectId": "", "AppId": "fb78d390-0c51-40cd-8e17-fdbfab77341b", "Parameters": params,
            "SessionId": "77777777-aaaa-4aaa-8aaa-attacker0777"
        })
    };
    vec![
        admin(
            "0f0f0001-0000-4000-8000-000000000001",
            "2024-03-12T03:00:00",
            "New-TransportRule",
            json!([{"Name": "Name", "Value": "Archive copy"}, {"Name": "BlindCopyTo", "Value": "archive@outlook-mail.example"},
                   {"Name": "SentToScope", "Value": "InOrganization"}]),
        ),
        admin(
            "0f0f0002-0000-4000-8000-000000000002",
            "2024-03-12T03:05:00",
            "Set-AdminAuditLogConfig",
            json!([{"Name": "UnifiedAuditLogIngestionEnabled", "Value": "False"}]),
        ),
    ]
}

#[test]
fn every_attacker_record_is_cited_in_every_report_format() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("evidence");
    std::fs::create_dir(&evidence).unwrap();
    for f in [
        "purview_audit_export.csv",
        "Search-UnifiedAuditLog_export.csv",
        "SearchResult.xml",
    ] {
        std::fs::copy(sample(f), evidence.join(f)).unwrap();
    }
    std::fs::write(
        evidence.join("admin.csv"),
        purview_export(&tenant_records()),
    )
    .unwrap();
    let scope = |format: &str| {
        let out = bin()
            .args([
                "scope",
                "--quiet",
                "--attacker-ip",
                ATTACKER_IP,
                "--format",
                format,
            ])
            .arg(&evidence)
            .output()
            .unwrap();
        assert_success(&out);
        String::from_utf8(out.stdout).unwrap()
    };
    // The attacker's and linked records, from the timeline (one row per record).
    let timeline = dir.path().join("timeline.csv");
    assert_success(
        &bin()
            .args([
                "timeline",
                "--quiet",
                "--attacker-ip",
                ATTACKER_IP,
                "--output",
            ])
            .arg(&timeline)
            .arg(&evidence)
            .output()
            .unwrap(),
    );
    let mut rows = csv::Reader::from_path(&timeline).unwrap();
    let headers = rows.headers().unwrap().clone();
    let at = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (attribution, record_id) = (at("attribution"), at("record_id"));
    let wanted: Vec<String> = rows
        .records()
        .map(|r| r.unwrap())
        .filter(|r| matches!(&r[attribution], "attacker" | "linked"))
        .map(|r| r[record_id].to_string())
        .collect();
    assert!(wanted.len() >= 16, "{wanted:?}");
    for tenant in [
        "0f0f0001-0000-4000-8000-000000000001",
        "0f0f0002-0000-4000-8000-000000000002",
    ] {
        assert!(wanted.iter().any(|w| w == tenant));
    }
    let json = scope("json");
    let j: serde_json::Value = serde_json::from_str(&json).unwrap();
    let tenant_ops: Vec<&str> = j["tenant_actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["operation"].as_str().unwrap())
        .collect();
    assert_eq!(tenant_ops, ["New-TransportRule", "Set-AdminAuditLogConfig"]);
    let md = scope("md");
    assert!(md.contains("## Attacker actions outside any mailbox"));
    let html = scope("html");
    let tables = dir.path().join("tables");
    assert_success(
        &bin()
            .args([
                "scope",
                "--quiet",
                "--attacker-ip",
                ATTACKER_IP,
                "--format",
                "csv",
                "--output",
            ])
            .arg(&tables)
            .arg(&evidence)
            .output()
            .unwrap(),
    );
    let csv_text: String = mailscope::report::csv::FILES
        .iter()
        .map(|f| std::fs::read_to_string(tables.join(f)).unwrap())
        .collect();
    // Markdown escapes some punctuation; record ids here are hex and hyphens.
    for (format, text) in [
        ("json", &json),
        ("md", &md),
        ("html", &html),
        ("csv", &csv_text),
    ] {
        let missing: Vec<&String> = wanted
            .iter()
            .filter(|id| !text.contains(id.as_str()))
            .collect();
        assert!(missing.is_empty(), "{format} does not cite {missing:?}");
    }
}

#[test]
fn attachment_access_is_access_auditing_and_names_its_messages() {
    let dir = tempfile::tempdir().unwrap();
    // As the Elastic integration's test record has it (RecordType 50, Operation AttachmentAccess).
    let access = json!({
        "CreationTime": "2024-03-12T04:10:00", "Id": "8f3a2b1c-0000-4000-8000-00000000a77a",
        "Operation": "AttachmentAccess", "OrganizationId": "4f1c2a9e-0000-4000-8000-00000000c0de",
        "RecordType": 50, "ResultStatus": "Succeeded", "UserKey": "1003BFFD0000D4A1", "UserType": 0,
        "Version": 1, "Workload": "Exchange", "UserId": "dana@contoso.com",
        "ClientIPAddress": ATTACKER_IP, "ClientInfoString": "Client=OWA;Action=ViaProxy",
        "ExternalAccess": false, "LogonType": 0, "MailboxGuid": "c1d2e3f4-0000-4000-8000-00000000da4a",
        "MailboxOwnerUPN": "dana@contoso.com",
        "OperationProperties": [{"Name": "AttachmentAccessType", "Value": "Bind"}],
        "OperationCount": 1, "SessionId": "8d2c6b1e-5a7f-4e61-9c3d-attacker0001",
        "Messages": [{"Path": "Messages", "Id": "LgAAAAAVyO4v1e4iR4Ey2d2ruAJbAQBl8wKVVLcDRa2cDvFqGHEkAAAAAAEMAAAB",
            "MessageItems": [{"Id": "RgAAAAAVyO4v1e4iR4Ey2d2ruAJbBwBl8wKVVLcDRa2cDvFqGHEkAAAAAAEMAAAQ", "SizeInBytes": 1156492.00}]}]
    });
    let p = dir.path().join("attachments.csv");
    std::fs::write(&p, purview_export(&[access])).unwrap();
    let j = scope_json(&p);
    let dana = &j["mailboxes"][0];
    assert_eq!(dana["mailbox"], "dana@contoso.com");
    assert_eq!(
        dana["access_auditing"], true,
        "AttachmentAccess is access auditing"
    );
    assert_eq!(dana["verdict"], "messages");
    let message = &dana["messages"][0];
    assert_eq!(
        message["item_id"],
        "RgAAAAAVyO4v1e4iR4Ey2d2ruAJbBwBl8wKVVLcDRa2cDvFqGHEkAAAAAAEMAAAQ"
    );
    assert_eq!(message["access"], "attachment");
    assert_eq!(
        message["records"][0],
        "8f3a2b1c-0000-4000-8000-00000000a77a"
    );
}

#[test]
fn ad_paths_and_aliases_are_one_identity() {
    let dir = tempfile::tempdir().unwrap();
    // An admin cmdlet whose caller and target are AD paths, as the admin audit log names them.
    let rule = json!({
        "CreationTime": "2024-03-12T01:56:15", "Id": "e4140002-0000-4000-8000-0000000000ad",
        "Operation": "New-InboxRule", "OrganizationId": "4f1c2a9e-0000-4000-8000-00000000c0de",
        "RecordType": 1, "ResultStatus": "True", "UserType": 2, "Version": 1, "Workload": "Exchange",
        "UserId": "corp.contoso.com/Users/David", "ClientIP": "198.51.100.77:50444",
        "ObjectId": "NAMPR01A001.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/erin\\.",
        "Parameters": [
            {"Name": "Identity", "Value": "NAMPR01A001.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/erin"},
            {"Name": "Name", "Value": "."}, {"Name": "DeleteMessage", "Value": "True"}],
        "SessionId": "55555555-eeee-4eee-8eee-0000000000ad"
    });
    // Erin's own mailbox access, by her UPN.
    let mut own = bind(
        "a1c0a002-0000-4000-8000-0000000000e1",
        "2024-03-12T02:00:00",
        "erin@contoso.com",
        "<own@contoso.com>",
    );
    own["ClientIPAddress"] = json!("198.51.100.10");
    let p = dir.path().join("admin.csv");
    std::fs::write(&p, purview_export(&[rule, own])).unwrap();
    for user in ["david", "david@contoso.com", "CORP.CONTOSO.COM/Users/david"] {
        let out = bin()
            .args([
                "scope",
                "--quiet",
                "--format",
                "json",
                "--attacker-user",
                user,
            ])
            .arg(&p)
            .output()
            .unwrap();
        assert_success(&out);
        let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(j["records"]["attacker"], 1, "--attacker-user {user}");
        let mailboxes: Vec<&str> = j["mailboxes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["mailbox"].as_str().unwrap())
            .collect();
        assert_eq!(mailboxes, ["erin@contoso.com"], "--attacker-user {user}");
        let action = &j["mailboxes"][0]["actions"][0];
        assert_eq!(action["operation"], "New-InboxRule");
        assert!(
            action["detail"]
                .as_str()
                .unwrap()
                .contains("Hosted Organizations"),
            "the original is kept"
        );
    }
}

#[test]
fn delegation_details_and_non_exchange_user_agents_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let permission = json!({
        "CreationTime": "2024-03-12T02:30:00", "Id": "f01de400-0000-4000-8000-000000000001",
        "Operation": "AddFolderPermissions", "OrganizationId": "4f1c2a9e-0000-4000-8000-00000000c0de",
        "RecordType": 2, "ResultStatus": "Succeeded", "UserType": 0, "Version": 1, "Workload": "Exchange",
        "UserId": "alice@contoso.com", "ClientIPAddress": ATTACKER_IP, "ClientInfoString": "Client=OWA;Action=ViaProxy",
        "MailboxOwnerUPN": "alice@contoso.com", "MailboxGuid": "a40df04b-212b-4d7e-8e27-84b50e221de7",
        "LogonType": 0, "SessionId": "8d2c6b1e-5a7f-4e61-9c3d-attacker0001",
        "Item": {"Id": "LgAAAAB+7ILpFNx8TrktaK8VYWerAQBe9CuwLc2fTK7W46L1SAp9AAAA2lHHAAAB",
            "ParentFolder": {"Id": "LgAAAAB+7ILpFNx8TrktaK8VYWerAQBe9CuwLc2fTK7W46L1SAp9AAAA2lHHAAAB",
                "Path": "\\Inbox", "Name": "Inbox", "MemberUpn": "helpdesk-sync@outlook-mail.example",
                "MemberRights": "ReadAny, Create, EditAny, DeleteAny", "MemberSid": "S-1-5-21-1000-2000-3000-9999"}}
    });
    let download = json!({
        "CreationTime": "2024-03-12T02:40:00", "Id": "5b0a2c1d-0000-4000-8000-000000000002",
        "Operation": "FileDownloaded", "OrganizationId": "4f1c2a9e-0000-4000-8000-00000000c0de",
        "RecordType": 6, "UserType": 0, "Version": 1, "Workload": "SharePoint",
        "UserId": "alice@contoso.com", "ClientIP": ATTACKER_IP,
        "UserAgent": "python-requests/2.31", "ObjectId": "https://contoso.sharepoint.com/sites/finance/Shared Documents/payroll.xlsx",
        "SourceFileName": "payroll.xlsx"
    });
    let p = dir.path().join("export.csv");
    std::fs::write(&p, purview_export(&[permission, download])).unwrap();
    let j = scope_json(&p);
    let action = &j["mailboxes"][0]["actions"][0];
    assert_eq!(action["operation"], "AddFolderPermissions");
    let detail = action["detail"].as_str().unwrap();
    assert!(
        detail.contains("MemberUpn=helpdesk-sync@outlook-mail.example")
            && detail.contains("MemberRights=ReadAny, Create, EditAny, DeleteAny"),
        "{detail}"
    );
    assert_eq!(j["tenant_actions"][0]["operation"], "FileDownloaded");
    let frame_file = dir.path().join("frame.jsonl");
    assert_success(
        &bin()
            .args(["export", "--quiet", "--output"])
            .arg(&frame_file)
            .arg(&p)
            .output()
            .unwrap(),
    );
    let frame = std::fs::read_to_string(&frame_file).unwrap();
    assert!(
        frame.contains("\"client_info\":\"python-requests/2.31\""),
        "{frame}"
    );
}
