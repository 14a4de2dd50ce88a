//! Lose nothing the attacker did (issue #13): records as collectors, anonymizers and merged
//! exports re-shape them are read without narrowing the scope, and every loss is said.

use crate::util::*;
use serde_json::json;

const ATTACKER_IP: &str = "203.0.113.66";

/// A Purview audit search export (8 columns) of these AuditData objects, as the portal writes it.
fn purview_export(records: &[serde_json::Value]) -> String {
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
