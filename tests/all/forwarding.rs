//! What left the mailbox (#24): forwarding windows opened and closed by every kind of
//! forwarding, their conditions deciding which delivered mail was forwarded, transport rules,
//! and the mail the attacker sent with its recipients from the trace. The fixture's scenario is
//! `tests/fixtures/forwarding/EXPECTED.md`.

use crate::util::{fixture, mailbox, scope_report};
use serde_json::Value;
use std::path::PathBuf;

fn audit() -> PathBuf {
    fixture("forwarding/purview_forwarding.csv")
}

fn trace_fixture() -> PathBuf {
    fixture("forwarding/message_trace.csv")
}

/// The messages of a mailbox in scope as forwarded, by id (the part before `@`).
fn forwarded(mb: &Value) -> Vec<String> {
    mb["assumed_messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["why"] == "forwarded")
        .map(|a| {
            let id = a["internet_message_id"].as_str().unwrap();
            id.split('@').next().unwrap().to_string()
        })
        .collect()
}

fn windows(mb: &Value) -> &Vec<Value> {
    mb["forwarding"].as_array().expect("forwarding windows")
}

#[test]
fn each_kind_of_forwarding_opens_a_window_that_its_removal_closes() {
    let r = scope_report(
        &[audit(), trace_fixture()],
        &["--attacker-ip", "203.0.113.66"],
    );
    // Inbox rule (cmdlet), removed by the victim.
    let grace = mailbox(&r, "grace@contoso.com");
    let w = &windows(grace)[0];
    assert_eq!(w["kind"], "inbox-rule");
    assert_eq!(w["rule"], "..");
    assert_eq!(w["start"], "2024-03-12T02:00:00Z");
    assert_eq!(w["end"], "2024-03-13T10:00:00Z");
    assert_eq!(w["ended_by"], "removed");
    assert_eq!(w["end_record"], "f0f0a011-0000-4000-8000-000000000011");
    assert_eq!(
        w["destinations"][0]["address"],
        "grace.archive@proton-mail.example"
    );
    assert_eq!(w["destinations"][0]["external"], true);
    assert!(
        grace["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["rule"] == "forwarded")
    );
    // Mailbox forwarding, cleared by an admin.
    let heidi = windows(mailbox(&r, "heidi@contoso.com"));
    assert_eq!(heidi[0]["kind"], "mailbox");
    assert_eq!(heidi[0]["ended_by"], "cleared");
    assert_eq!(heidi[0]["end"], "2024-03-12T15:00:00Z");
    // Outlook's rule, disabled by the victim.
    let ivan = windows(mailbox(&r, "ivan@contoso.com"));
    assert_eq!(ivan[0]["rule"], "board notes");
    assert_eq!(ivan[0]["ended_by"], "disabled");
    // Never removed: open at the end of the evidence; a condition change splits it.
    let judy = windows(mailbox(&r, "judy@contoso.com"));
    assert_eq!(judy.len(), 2);
    assert_eq!(judy[0]["ended_by"], "conditions-changed");
    assert_eq!(judy[1]["end"], Value::Null);
    // Transport rule: the organization's mail.
    let t = &r["tenant_forwarding"][0];
    assert_eq!(t["kind"], "transport-rule");
    assert_eq!(t["ended_by"], "removed");
    assert_eq!(t["forwarded_messages"], 1);
}

#[test]
fn conditions_decide_which_delivered_mail_was_forwarded() {
    let r = scope_report(
        &[audit(), trace_fixture()],
        &["--attacker-ip", "203.0.113.66"],
    );
    let grace = mailbox(&r, "grace@contoso.com");
    // Inside the window with the words; not the lunch mail, not before, not after removal.
    assert_eq!(forwarded(grace), vec!["grace-invoice-9902"]);
    let hit = &grace["assumed_messages"][0]["forwarded_by"][0];
    assert_eq!(
        hit["confirmed"], true,
        "the FW: copy in the trace confirms it"
    );
    assert_eq!(
        forwarded(mailbox(&r, "heidi@contoso.com")),
        vec!["heidi-po-5521", "heidi-review"]
    );
    assert_eq!(
        forwarded(mailbox(&r, "ivan@contoso.com")),
        vec!["ivan-board-pack"]
    );
    // From the payroll sender only, and the exception keeps the newsletter out.
    assert_eq!(
        forwarded(mailbox(&r, "judy@contoso.com")),
        vec!["judy-payslip"]
    );
    // A body condition cannot be decided: the window counts, with nothing to name here.
    // The trace holds no mail of mallory's at all: unresolved, not "none forwarded".
    let mallory = windows(mailbox(&r, "mallory@contoso.com"));
    assert_eq!(mallory[0]["conditions"][0]["decidable"], false);
    assert_eq!(mallory[0]["forwarded_messages"], Value::Null);
}

#[test]
fn without_an_inventory_a_window_is_unresolved_and_the_verdict_is_at_least_messages() {
    let r = scope_report(&[audit()], &["--attacker-ip", "203.0.113.66"]);
    let ivan = mailbox(&r, "ivan@contoso.com");
    assert_eq!(ivan["verdict"], "messages");
    assert_eq!(windows(ivan)[0]["forwarded_messages"], Value::Null);
    assert!(forwarded(ivan).is_empty());
}

#[test]
fn the_mail_the_attacker_sent_gets_its_recipients_and_the_notification_counts_them() {
    let r = scope_report(
        &[audit(), trace_fixture()],
        &["--attacker-ip", "203.0.113.66"],
    );
    let sent = |name: &str| mailbox(&r, name)["sent_messages"][0].clone();
    let grace = sent("grace@contoso.com");
    assert_eq!(grace["recipients_from"], "internet-message-id");
    assert_eq!(grace["recipients"].as_array().unwrap().len(), 3);
    // No message id in the record: found by sender, subject and time, and said so.
    let heidi = sent("heidi@contoso.com");
    assert_eq!(heidi["recipients_from"], "sender-subject-time");
    assert_eq!(heidi["recipients"][0], "accounts@fabrikam-payables.example");
    let judy = sent("judy@contoso.com");
    assert_eq!(judy["recipients_from"], Value::Null);
    assert_eq!(judy["operation"], "SendAs");
    let overall = &r["notification"]["overall"]["attacker_sent"];
    assert_eq!(overall["messages"], 3);
    assert_eq!(overall["with_recipients"], 2);
    assert_eq!(overall["external_recipients"], 3);
    assert_eq!(overall["internal_recipients"], 1);
    // --no-subjects keeps the sent mail's subjects out too.
    let r = scope_report(
        &[audit(), trace_fixture()],
        &["--attacker-ip", "203.0.113.66", "--no-subjects"],
    );
    let text = r.to_string();
    assert!(!text.contains("Updated bank details") && !text.contains("Invoice 4471"));
}

#[test]
fn the_windows_are_the_same_for_every_order_of_the_inputs() {
    let a = scope_report(
        &[audit(), trace_fixture()],
        &["--attacker-ip", "203.0.113.66"],
    );
    let b = scope_report(
        &[trace_fixture(), audit()],
        &["--attacker-ip", "203.0.113.66"],
    );
    for mb in ["grace@contoso.com", "judy@contoso.com"] {
        assert_eq!(mailbox(&a, mb)["forwarding"], mailbox(&b, mb)["forwarding"]);
        assert_eq!(
            mailbox(&a, mb)["assumed_messages"],
            mailbox(&b, mb)["assumed_messages"]
        );
    }
}

// Shapes the fixture does not hold, each as the audit log writes it: one export and one trace
// per test, in a folder of their own.

const OFFICE_IP: &str = "198.51.100.20";
const ATTACKER_IP: &str = "203.0.113.66";

/// A cmdlet record of the unified audit log (RecordType 1, ExchangeAdmin) for `mailbox`.
fn cmdlet(n: u32, time: &str, op: &str, mailbox: &str, ip: &str, params: &[(&str, &str)]) -> Value {
    serde_json::json!({
        "CreationTime": time,
        "Id": format!("7e570000-0000-4000-8000-{n:012}"),
        "Operation": op,
        "OrganizationId": "4f1c2a9e-0000-4000-8000-00000000c0de",
        "RecordType": 1,
        "ResultStatus": "True",
        "UserKey": "1003BFFD0000F00D",
        "UserType": if ip == ATTACKER_IP { 0 } else { 2 },
        "Version": 1,
        "Workload": "Exchange",
        "ClientIP": format!("{ip}:50{n:03}"),
        "ObjectId": mailbox,
        "UserId": if ip == ATTACKER_IP { mailbox } else { "admin@contoso.com" },
        "AppId": "00000002-0000-0ff1-ce00-000000000000",
        "ClientAppId": "",
        "ExternalAccess": false,
        "OrganizationName": "contoso.onmicrosoft.com",
        "OriginatingServer": "AM0PR01MB1234 (15.20.7409.012)\r\n",
        "Parameters": params
            .iter()
            .map(|(k, v)| serde_json::json!({"Name": k, "Value": v}))
            .collect::<Vec<_>>(),
        "SessionId": if ip == ATTACKER_IP { "77777777-0000-4777-8777-attacker0077" } else { "0ff1ce00-0000-4000-8000-000000000077" },
    })
}

/// A `Get-MessageTrace | Export-Csv` of (id, received, sender, recipient, subject) rows.
fn trace(rows: &[(&str, &str, &str, &str, &str)]) -> String {
    let mut out = String::from(
        "\"PSComputerName\",\"RunspaceId\",\"PSShowComputerName\",\"Organization\",\"MessageId\",\"Received\",\"SenderAddress\",\"RecipientAddress\",\"Subject\",\"Status\",\"ToIP\",\"FromIP\",\"Size\",\"MessageTraceId\",\"StartDate\",\"EndDate\",\"Index\"\r\n",
    );
    for (k, (id, received, from, to, subject)) in rows.iter().enumerate() {
        out.push_str(&format!(
            "\"outlook.office365.com\",\"5f0c1c2e-7a43-4b1e-9c7d-2d2b1d0f4e11\",\"False\",\"contoso.onmicrosoft.com\",\"<{id}@mail.example>\",\"{received}\",\"{from}\",\"{to}\",\"{subject}\",\"Delivered\",\"\",\"\",\"20480\",\"7e000000-0000-4000-8000-{k:012}\",\"3/11/2024 12:00:00 AM\",\"3/14/2024 12:00:00 AM\",\"{k}\"\r\n"
        ));
    }
    out
}

fn scope_of(records: &[Value], messages: &[(&str, &str, &str, &str, &str)]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("evidence");
    std::fs::create_dir(&evidence).unwrap();
    std::fs::write(
        evidence.join("audit.csv"),
        crate::util::purview_export(records),
    )
    .unwrap();
    if !messages.is_empty() {
        std::fs::write(evidence.join("trace.csv"), trace(messages)).unwrap();
    }
    scope_report(&[evidence], &[])
}

#[test]
fn clearing_one_destination_leaves_the_others_forwarding() {
    let mb = "kim@contoso.com";
    let r = scope_of(
        &[
            cmdlet(
                1,
                "2024-03-12T02:00:00",
                "New-InboxRule",
                mb,
                ATTACKER_IP,
                &[
                    ("Name", "x"),
                    ("ForwardTo", "a@drop.example"),
                    ("RedirectTo", "b@drop.example"),
                ],
            ),
            cmdlet(
                2,
                "2024-03-12T04:00:00",
                "Set-InboxRule",
                mb,
                OFFICE_IP,
                &[("Identity", "kim@contoso.com\\x"), ("ForwardTo", "")],
            ),
            cmdlet(
                3,
                "2024-03-12T02:00:00",
                "Set-Mailbox",
                "lee@contoso.com",
                ATTACKER_IP,
                &[
                    ("Identity", "lee@contoso.com"),
                    ("ForwardingSmtpAddress", "smtp:lee.copy@drop.example"),
                ],
            ),
            cmdlet(
                4,
                "2024-03-12T05:00:00",
                "Set-Mailbox",
                "lee@contoso.com",
                OFFICE_IP,
                &[("Identity", "lee@contoso.com"), ("ForwardingAddress", "")],
            ),
        ],
        &[(
            "after",
            "3/12/2024 6:00:00 AM",
            "ceo@contoso.com",
            mb,
            "Plans",
        )],
    );
    let kim = windows(mailbox(&r, mb));
    assert_eq!(kim.len(), 2, "{kim:?}");
    assert_eq!(kim[0]["ended_by"], "overwritten");
    // The redirect is still the attacker's, and still in place.
    assert_eq!(kim[1]["destinations"].as_array().unwrap().len(), 1);
    assert_eq!(kim[1]["destinations"][0]["address"], "b@drop.example");
    assert_eq!(kim[1]["attribution"], "attacker");
    assert_eq!(kim[1]["end"], Value::Null);
    assert_eq!(forwarded(mailbox(&r, mb)), vec!["after"]);
    // Clearing the recipient-object forwarding leaves the SMTP forwarding.
    let lee = windows(mailbox(&r, "lee@contoso.com"));
    assert_eq!((lee.len(), &lee[0]["end"]), (1, &Value::Null));
}

#[test]
fn conditions_the_trace_cannot_decide_never_exclude_mail() {
    let mb = "kim@contoso.com";
    let r = scope_of(
        &[
            // A display name beside an address, and a sender the trace shows as a bounce
            // address: neither can be compared with the trace's envelope sender.
            cmdlet(
                1,
                "2024-03-12T02:00:00",
                "New-InboxRule",
                mb,
                ATTACKER_IP,
                &[
                    ("Name", "a"),
                    ("From", "Payroll Team;ceo@contoso.com"),
                    ("ForwardTo", "a@drop.example"),
                ],
            ),
            cmdlet(
                2,
                "2024-03-12T02:00:00",
                "New-InboxRule",
                "lee@contoso.com",
                ATTACKER_IP,
                &[
                    ("Name", "b"),
                    ("From", "billing@supplier.example"),
                    ("SentTo", "finance-dl@contoso.com"),
                    ("ExceptIfSubjectContainsWords", "news"),
                    ("ForwardTo", "b@drop.example"),
                ],
            ),
        ],
        &[
            (
                "payroll",
                "3/12/2024 6:00:00 AM",
                "payroll@contoso.com",
                mb,
                "March payroll",
            ),
            (
                "invoice",
                "3/12/2024 6:00:00 AM",
                "bounces+123-lee=contoso.com@em.esp-mailer.example",
                "lee@contoso.com",
                "Invoice 9 and newsletter",
            ),
            (
                "other",
                "3/12/2024 6:00:00 AM",
                "friend@contoso.com",
                "lee@contoso.com",
                "News",
            ),
        ],
    );
    assert_eq!(forwarded(mailbox(&r, mb)), vec!["payroll"]);
    // "newsletter" is no whole word "news"; the DL in SentTo is not in the trace, which
    // decides nothing; a sender that is no rewritten address and not the rule's does.
    assert_eq!(forwarded(mailbox(&r, "lee@contoso.com")), vec!["invoice"]);
}

#[test]
fn many_changes_to_a_rule_cite_two_records_a_window() {
    let mb = "kim@contoso.com";
    let mut records = vec![cmdlet(
        0,
        "2024-03-12T02:00:00",
        "New-InboxRule",
        mb,
        ATTACKER_IP,
        &[("Name", "x"), ("ForwardTo", "a@drop.example")],
    )];
    for n in 1..200u32 {
        let time = format!("2024-03-12T{:02}:{:02}:00", 3 + n / 60, n % 60);
        let words = format!("word{n}");
        records.push(cmdlet(
            n,
            &time,
            "Set-InboxRule",
            mb,
            OFFICE_IP,
            &[
                ("Identity", "kim@contoso.com\\x"),
                ("SubjectContainsWords", &words),
            ],
        ));
    }
    let r = scope_of(&records, &[]);
    let w = windows(mailbox(&r, mb));
    assert_eq!(w.len(), 200);
    assert!(
        w.iter()
            .all(|w| w["records"].as_array().unwrap().len() <= 2)
    );
    assert!(
        w[1..].iter().all(|x| x["records"][0] == w[0]["records"][0]),
        "{:?}",
        &w[..3]
    );
}

#[test]
fn transport_rules_that_copy_mail_without_an_address_open_a_window_too() {
    let r = scope_of(
        &[
            cmdlet(
                1,
                "2024-03-12T02:00:00",
                "New-TransportRule",
                "Audit",
                ATTACKER_IP,
                &[
                    ("Name", "Audit"),
                    ("GenerateIncidentReport", "ir@drop.example"),
                    ("IncidentReportContent", "AttachOriginalMessage"),
                ],
            ),
            cmdlet(
                2,
                "2024-03-12T02:00:00",
                "New-TransportRule",
                "Mgr",
                ATTACKER_IP,
                &[("Name", "Mgr"), ("AddManagerAsRecipientType", "Bcc")],
            ),
            // A parameter written twice: the empty copy does not hide the address.
            cmdlet(
                3,
                "2024-03-12T02:00:00",
                "New-InboxRule",
                "kim@contoso.com",
                ATTACKER_IP,
                &[
                    ("Name", "y"),
                    ("ForwardTo", ""),
                    ("ForwardTo", "c@drop.example"),
                ],
            ),
        ],
        &[],
    );
    let tenant = r["tenant_forwarding"].as_array().unwrap();
    let to: Vec<&str> = tenant
        .iter()
        .map(|w| w["destinations"][0]["address"].as_str().unwrap())
        .collect();
    assert_eq!(to, ["ir@drop.example", "(the sender's manager)"]);
    let kim = windows(mailbox(&r, "kim@contoso.com"));
    assert_eq!(kim[0]["destinations"][0]["address"], "c@drop.example");
}

/// A mailbox-audit record (RecordType 2/3, ExchangeItem / ExchangeItemGroup) of the attacker.
fn item_record(n: u32, time: &str, op: &str, mailbox: &str, items: Value) -> Value {
    let mut r = serde_json::json!({
        "CreationTime": time,
        "Id": format!("17e40000-0000-4000-8000-{n:012}"),
        "Operation": op,
        "OrganizationId": "4f1c2a9e-0000-4000-8000-00000000c0de",
        "RecordType": if op == "Create" { 2 } else { 3 },
        "ResultStatus": "Succeeded",
        "UserKey": "1003BFFD0000F00D",
        "UserType": 0,
        "Version": 1,
        "Workload": "Exchange",
        "UserId": mailbox,
        "ClientIPAddress": ATTACKER_IP,
        "ClientInfoString": "Client=OWA;Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        "ExternalAccess": false,
        "InternalLogonType": 0,
        "LogonType": 0,
        "MailboxGuid": "71eb72c7-3869-4aae-8f7e-a9a1f0f95000",
        "MailboxOwnerUPN": mailbox,
        "OrganizationName": "contoso.onmicrosoft.com",
        "OriginatingServer": "AM0PR01MB1234 (15.20.7409.012)\r\n",
        "SessionId": "77777777-0000-4777-8777-attacker0077",
        "CrossMailboxOperation": false,
    });
    let key = if op == "Create" {
        "Item"
    } else {
        "AffectedItems"
    };
    r[key] = items;
    r
}

#[test]
fn a_message_created_in_sent_items_is_sent_and_a_deleted_alert_is_named_by_subject() {
    let mb = "kim@contoso.com";
    let r = scope_of(
        &[
            item_record(
                1,
                "2024-03-12T03:00:00",
                "Create",
                mb,
                serde_json::json!({
                    "Id": "RgAAAABrQsWN1X22SKsI3ZybZGsPBwAosCmlAAAB",
                    "InternetMessageId": "<sent-1@mail.example>",
                    "ParentFolder": {"Id": "LgAAAABrQsWN1X22SKsI3ZybZGsPAQAosCml", "Path": "\\Sent Items"},
                    "Subject": "Updated remittance details",
                    "SizeInBytes": 4096
                }),
            ),
            item_record(
                2,
                "2024-03-12T03:05:00",
                "Create",
                mb,
                serde_json::json!({
                    "Id": "RgAAAABrQsWN1X22SKsI3ZybZGsPBwAosCmlAAAC",
                    "InternetMessageId": "<draft-1@mail.example>",
                    "ParentFolder": {"Id": "LgAAAABrQsWN1X22SKsI3ZybZGsPAQAosCmm", "Path": "\\Drafts"},
                    "Subject": "note to self"
                }),
            ),
            // The alert deleted without its message id: the trace has one with that subject.
            item_record(
                3,
                "2024-03-12T03:10:00",
                "HardDelete",
                mb,
                serde_json::json!([{
                    "Id": "RgAAAABrQsWN1X22SKsI3ZybZGsPBwAosCmlAAAD",
                    "ParentFolder": {"Id": "LgAAAABrQsWN1X22SKsI3ZybZGsPAQAosCml", "Path": "\\Inbox"},
                    "Subject": "Security alert: new sign-in"
                }]),
            ),
        ],
        &[
            (
                "sent-1",
                "3/12/2024 3:00:02 AM",
                mb,
                "payments@fabrikam.example",
                "Updated remittance details",
            ),
            (
                "alert-1",
                "3/12/2024 2:55:00 AM",
                "no-reply@accountprotection.example",
                mb,
                "Security alert: new sign-in",
            ),
        ],
    );
    let kim = mailbox(&r, mb);
    let sent = kim["sent_messages"].as_array().unwrap();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["operation"], "Create");
    assert_eq!(sent[0]["recipients"][0], "payments@fabrikam.example");
    let deleted = kim["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["operation"] == "HardDelete")
        .unwrap();
    assert_eq!(
        deleted["items"][0]["internet_message_id"],
        "alert-1@mail.example"
    );
    assert!(
        deleted["items"][0]["named_from"]
            .as_str()
            .unwrap()
            .ends_with("(by subject)")
    );
}

/// Outlook's rule change (`UpdateInboxRules`, RecordType 2) by `ip`.
fn outlook_rule(n: u32, time: &str, mailbox: &str, ip: &str, props: &[(&str, &str)]) -> Value {
    let mut r = item_record(n, time, "UpdateInboxRules", mailbox, Value::Null);
    r.as_object_mut().unwrap().remove("AffectedItems");
    r["RecordType"] = Value::from(2);
    r["ClientIPAddress"] = Value::from(ip);
    if ip != ATTACKER_IP {
        r["SessionId"] = Value::from("0ff1ce00-0000-4000-8000-000000000078");
    }
    r["OperationProperties"] = props
        .iter()
        .map(|(k, v)| serde_json::json!({"Name": k, "Value": v}))
        .collect();
    r
}

#[test]
fn the_victims_own_changes_never_end_forwarding_they_did_not_stop() {
    let mb = "kim@contoso.com";
    let redirect = r#"[{"ActionType":"Redirect","Recipients":["x@drop.example"]}]"#;
    let rule = |state: &'static str, actions: Option<&'static str>| {
        let mut p = vec![
            ("RuleName", "Notes"),
            ("RuleOperation", "ModifyMailboxRule"),
            ("RuleState", state),
        ];
        if let Some(a) = actions {
            p.push(("RuleActions", a));
        }
        p
    };
    let r = scope_of(
        &[
            outlook_rule(1, "2024-03-12T03:00:00", mb, ATTACKER_IP, &{
                let mut p = rule("Enabled", Some(redirect));
                p[1] = ("RuleOperation", "AddMailboxRule");
                p
            }),
            // Disabled and enabled again in Outlook by the victim: forwarding again.
            outlook_rule(
                2,
                "2024-03-12T04:00:00",
                mb,
                OFFICE_IP,
                &rule("Disabled", Some(redirect)),
            ),
            outlook_rule(
                3,
                "2024-03-12T05:00:00",
                mb,
                OFFICE_IP,
                &rule("Enabled", Some(redirect)),
            ),
            // A change that carries no actions leaves the destinations as they were.
            outlook_rule(
                4,
                "2024-03-12T05:30:00",
                mb,
                OFFICE_IP,
                &rule("Enabled", None),
            ),
            // Lee's forwarding cleared by an admin and set again to the attacker's address.
            cmdlet(
                5,
                "2024-03-12T03:00:00",
                "Set-Mailbox",
                "lee@contoso.com",
                ATTACKER_IP,
                &[
                    ("Identity", "lee@contoso.com"),
                    ("ForwardingSmtpAddress", "smtp:lee.copy@drop.example"),
                ],
            ),
            cmdlet(
                6,
                "2024-03-12T04:00:00",
                "Set-Mailbox",
                "lee@contoso.com",
                OFFICE_IP,
                &[
                    ("Identity", "lee@contoso.com"),
                    ("ForwardingSmtpAddress", ""),
                ],
            ),
            cmdlet(
                7,
                "2024-03-12T05:00:00",
                "Set-Mailbox",
                "lee@contoso.com",
                OFFICE_IP,
                &[
                    ("Identity", "lee@contoso.com"),
                    ("ForwardingSmtpAddress", "lee.copy@drop.example"),
                ],
            ),
            // An exception on recipients: the trace's recipients cannot decide it.
            cmdlet(
                8,
                "2024-03-12T03:00:00",
                "New-InboxRule",
                "max@contoso.com",
                ATTACKER_IP,
                &[
                    ("Name", "m"),
                    ("ExceptIfSentTo", "ceo@contoso.com"),
                    ("ForwardTo", "m@drop.example"),
                ],
            ),
        ],
        &[
            (
                "kim-6",
                "3/12/2024 6:00:00 AM",
                "cfo@contoso.com",
                mb,
                "Budget",
            ),
            (
                "lee-6",
                "3/12/2024 6:00:00 AM",
                "cfo@contoso.com",
                "lee@contoso.com",
                "Budget",
            ),
            (
                "max-6",
                "3/12/2024 6:00:00 AM",
                "cfo@contoso.com",
                "max@contoso.com",
                "Budget",
            ),
            (
                "max-6",
                "3/12/2024 6:00:00 AM",
                "cfo@contoso.com",
                "ceo@contoso.com",
                "Budget",
            ),
        ],
    );
    let kim = windows(mailbox(&r, mb));
    assert_eq!(kim.len(), 2, "{kim:?}");
    assert_eq!(kim[0]["ended_by"], "disabled");
    assert_eq!(
        (&kim[1]["start"], &kim[1]["end"]),
        (&Value::from("2024-03-12T05:00:00Z"), &Value::Null)
    );
    assert_eq!(kim[1]["attribution"], "attacker");
    assert_eq!(forwarded(mailbox(&r, mb)), vec!["kim-6"]);
    let lee = windows(mailbox(&r, "lee@contoso.com"));
    assert_eq!(lee.len(), 2, "{lee:?}");
    assert_eq!(forwarded(mailbox(&r, "lee@contoso.com")), vec!["lee-6"]);
    assert_eq!(forwarded(mailbox(&r, "max@contoso.com")), vec!["max-6"]);
}

#[test]
fn only_new_messages_in_the_top_sent_items_folder_are_sent_and_subjects_name_received_mail() {
    let mb = "kim@contoso.com";
    let item = |id: &str, folder: &str, subject: &str| {
        serde_json::json!({
            "Id": id,
            "ParentFolder": {"Id": "LgAAAABrQsWN1X22SKsI3ZybZGsPAQAosCml", "Path": folder},
            "Subject": subject
        })
    };
    let r = scope_of(
        &[
            item_record(
                1,
                "2024-03-12T03:00:00",
                "Create",
                mb,
                item("ITEM1", "\\Gesendete Elemente", "Neue Bankverbindung"),
            ),
            item_record(
                2,
                "2024-03-12T03:01:00",
                "Create",
                mb,
                item("ITEM2", "\\Inbox\\Not Sent Items", "x"),
            ),
            item_record(
                3,
                "2024-03-12T03:02:00",
                "Update",
                mb,
                item("ITEM3", "\\Sent Items", "Lunch?"),
            ),
            item_record(
                4,
                "2024-03-12T03:10:00",
                "SoftDelete",
                mb,
                serde_json::json!([item("ITEM4", "\\Inbox", "Invoice")]),
            ),
        ],
        // The only "Invoice" of the trace is one kim sent: no Inbox item of hers.
        &[(
            "sent-invoice",
            "3/12/2024 2:00:00 AM",
            mb,
            "ap@vendor.example",
            "Invoice",
        )],
    );
    let kim = mailbox(&r, mb);
    let sent: Vec<&str> = kim["sent_messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["item_id"].as_str().unwrap())
        .collect();
    assert_eq!(sent, ["ITEM1"]);
    assert!(!kim["actions"].to_string().contains("named_from"));
}
