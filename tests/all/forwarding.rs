//! What left the mailbox (#24): forwarding windows opened and closed by every kind of
//! forwarding, their conditions deciding which delivered mail was forwarded, transport rules,
//! and the mail the attacker sent with its recipients from the trace. The fixture's scenario is
//! `tests/fixtures/forwarding/EXPECTED.md`.

use crate::util::{fixture, scope_report};
use serde_json::Value;
use std::path::PathBuf;

fn audit() -> PathBuf {
    fixture("forwarding/purview_forwarding.csv")
}

fn trace() -> PathBuf {
    fixture("forwarding/message_trace.csv")
}

fn mailbox<'r>(report: &'r Value, name: &str) -> &'r Value {
    report["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mailbox"] == name)
        .unwrap_or_else(|| panic!("{name} not in the report"))
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
    let r = scope_report(&[audit(), trace()], &["--attacker-ip", "203.0.113.66"]);
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
    let r = scope_report(&[audit(), trace()], &["--attacker-ip", "203.0.113.66"]);
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
    let mallory = windows(mailbox(&r, "mallory@contoso.com"));
    assert_eq!(mallory[0]["conditions"][0]["decidable"], false);
    assert!(mallory[0]["unresolved_after"].is_string());
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
    let r = scope_report(&[audit(), trace()], &["--attacker-ip", "203.0.113.66"]);
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
        &[audit(), trace()],
        &["--attacker-ip", "203.0.113.66", "--no-subjects"],
    );
    let text = r.to_string();
    assert!(!text.contains("Updated bank details") && !text.contains("Invoice 4471"));
}

#[test]
fn the_windows_are_the_same_for_every_order_of_the_inputs() {
    let a = scope_report(&[audit(), trace()], &["--attacker-ip", "203.0.113.66"]);
    let b = scope_report(&[trace(), audit()], &["--attacker-ip", "203.0.113.66"]);
    for mb in ["grace@contoso.com", "judy@contoso.com"] {
        assert_eq!(mailbox(&a, mb)["forwarding"], mailbox(&b, mb)["forwarding"]);
        assert_eq!(
            mailbox(&a, mb)["assumed_messages"],
            mailbox(&b, mb)["assumed_messages"]
        );
    }
}
