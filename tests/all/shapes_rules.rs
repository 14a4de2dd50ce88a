//! Inbox rules and forwarding (#23): Outlook's `UpdateInboxRules` rules reach the action detail
//! and every report, forwarding recipients have a column of their own (`forward_to`), and a
//! rule's `mailbox\rule name` identity or a short alias belongs to the mailbox it names.

use crate::util::{assert_success, bin, fixture, mailbox, sample, scope_report};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn rules() -> PathBuf {
    fixture("rules/purview_rules.csv")
}

/// The records of `inputs` as `export` writes them to JSON Lines, by record id.
fn exported(inputs: &[PathBuf], dir: &Path) -> Vec<Value> {
    let out = dir.join("records.jsonl");
    let run = bin()
        .args(["export", "-q", "--force", "--output"])
        .arg(&out)
        .args(inputs)
        .output()
        .unwrap();
    assert_success(&run);
    std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn record<'r>(records: &'r [Value], id: &str) -> &'r Value {
    records
        .iter()
        .find(|r| r["record_id"] == id)
        .unwrap_or_else(|| panic!("{id} not exported"))
}

fn action_ids(actions: &Value) -> Vec<&str> {
    actions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["record_id"].as_str().unwrap())
        .collect()
}

const ALICE_RULE: &str = "a1c0f001-0000-4000-8000-000000000001";
const BOB_RULE: &str = "b0bf0002-0000-4000-8000-000000000002";
const ALICE_SET: &str = "a1c0f003-0000-4000-8000-000000000003";
const BOB_REMOVE: &str = "b0bf0004-0000-4000-8000-000000000004";
const CAROL_NEW: &str = "ca401005-0000-4000-8000-000000000005";
const DAVE_FORWARDING: &str = "da4e0006-0000-4000-8000-000000000006";

#[test]
fn outlook_rules_name_their_actions_recipients_and_conditions_in_the_detail() {
    let dir = tempfile::tempdir().unwrap();
    let records = exported(&[rules()], dir.path());
    let alice = record(&records, ALICE_RULE)["detail"].as_str().unwrap();
    for part in [
        "RuleOperation=AddMailboxRule",
        "RuleName=..",
        "RuleState=Enabled",
        "RuleActions=Forward(Recipients=Attacker.Drop@protonmail.example), Delete",
        "RuleCondition={\"Type\":\"AndCondition\"",
        "invoice",
    ] {
        assert!(alice.contains(part), "{part} not in {alice}");
    }
    let bob = record(&records, BOB_RULE)["detail"].as_str().unwrap();
    assert!(
        bob.contains("RuleOperation=ModifyMailboxRule")
            && bob.contains(
                "Redirect(Recipients=eve.archive@outlook-mail.example, BOB.Backup@gmx-mail.example)"
            )
            && bob.contains("ForwardAsAttachment(Recipients=eve.archive@outlook-mail.example)")
            && bob.contains("MarkAsRead"),
        "{bob}"
    );
}

#[test]
fn forward_to_holds_every_forwarding_recipient_lowercased_sorted_once() {
    let dir = tempfile::tempdir().unwrap();
    let records = exported(&[rules()], dir.path());
    let expected = [
        (ALICE_RULE, Some("attacker.drop@protonmail.example")),
        (
            BOB_RULE,
            Some("bob.backup@gmx-mail.example; eve.archive@outlook-mail.example"),
        ),
        (ALICE_SET, Some("attacker.drop@protonmail.example")),
        (BOB_REMOVE, None),
        (
            CAROL_NEW,
            Some("attacker.drop@protonmail.example; relay@evil-mail.example"),
        ),
        (DAVE_FORWARDING, Some("dave.offsite@outlook-mail.example")),
    ];
    for (id, forward_to) in expected {
        let r = record(&records, id);
        assert!(r.get("forward_to").is_some(), "{id}: no forward_to column");
        assert_eq!(r["forward_to"].as_str(), forward_to, "{id}");
    }
    // The sample incident's Set-Mailbox forwarding too.
    let samples = exported(&[sample("purview_audit_export.csv")], dir.path());
    let forwarding: Vec<&str> = samples
        .iter()
        .filter_map(|r| r["forward_to"].as_str())
        .collect();
    assert_eq!(forwarding, ["erin.backup@outlook-mail.example"]);
}

#[test]
fn a_case_written_before_forward_to_reads_it_as_null() {
    let dir = tempfile::tempdir().unwrap();
    let records = exported(
        &[fixture("case/samples_v2_before_forward_to.parquet")],
        dir.path(),
    );
    assert!(!records.is_empty());
    for r in &records {
        assert!(r.get("forward_to").is_some_and(Value::is_null), "{r}");
    }
}

#[test]
fn every_report_format_shows_the_rules_recipients() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = [sample(""), rules()];
    let wanted = "Forward(Recipients=Attacker.Drop@protonmail.example)";
    for format in ["text", "md", "json", "html"] {
        let out = bin()
            .arg("scope")
            .args(&inputs)
            .args(["--attacker-ip", "203.0.113.66", "-q", "--format", format])
            .output()
            .unwrap();
        assert_success(&out);
        let report = String::from_utf8(out.stdout).unwrap();
        assert!(
            report.contains(wanted),
            "{format}: {wanted} not in the report"
        );
        assert!(
            report.contains("eve.archive@outlook-mail.example"),
            "{format}: bob's redirect not in the report"
        );
    }
    let tables = dir.path().join("tables");
    let out = bin()
        .arg("scope")
        .args(&inputs)
        .args(["--attacker-ip", "203.0.113.66", "-q", "--format", "csv"])
        .arg("--output")
        .arg(&tables)
        .output()
        .unwrap();
    assert_success(&out);
    let actions = std::fs::read_to_string(tables.join("actions.csv")).unwrap();
    assert!(actions.contains(wanted), "{actions}");
}

#[test]
fn a_rules_identity_and_a_short_alias_belong_to_the_mailbox_they_name() {
    let report = scope_report(&[sample(""), rules()], &[]);
    for m in report["mailboxes"].as_array().unwrap() {
        let name = m["mailbox"].as_str().unwrap();
        assert!(
            !name.contains('\\') && !name.contains("cleanup") && !name.contains('/'),
            "a rule became a mailbox: {name}"
        );
    }
    let alice = action_ids(&mailbox(&report, "alice@contoso.com")["actions"]);
    assert!(
        alice.contains(&ALICE_SET) && alice.contains(&ALICE_RULE),
        "{alice:?}"
    );
    let bob = action_ids(&mailbox(&report, "bob@contoso.com")["actions"]);
    assert!(
        bob.contains(&BOB_REMOVE) && bob.contains(&BOB_RULE),
        "{bob:?}"
    );
    // `carol`, the UserId of a hybrid session, is carol@contoso.com's alias.
    let carol = action_ids(&mailbox(&report, "carol@contoso.com")["actions"]);
    assert!(carol.contains(&CAROL_NEW), "{carol:?}");
    let tenant = action_ids(&report["tenant_actions"]);
    assert!(!tenant.contains(&CAROL_NEW), "{tenant:?}");
}

#[test]
fn a_rule_named_by_an_ad_path_of_an_alias_no_mailbox_has_is_the_actors() {
    // nina@fabrikam.com's own rule, its ObjectId an AD path ending in her alias `NKowalski`
    // (not her UPN's local part); an admin's rule in omar's mailbox by the AD path of `omar`.
    let report = scope_report(
        &[fixture("rules/purview_rule_alias_not_localpart.csv")],
        &["--attacker-ip", "198.18.7.77"],
    );
    for m in report["mailboxes"].as_array().unwrap() {
        let name = m["mailbox"].as_str().unwrap();
        assert!(
            name.ends_with("@fabrikam.com"),
            "a mailbox named by an AD path or alias: {name}"
        );
    }
    let nina = action_ids(&mailbox(&report, "nina@fabrikam.com")["actions"]);
    assert!(
        nina.contains(&"e2e20023-1111-4222-8333-000000000023"),
        "{nina:?}"
    );
    let omar = action_ids(&mailbox(&report, "omar@fabrikam.com")["actions"]);
    assert!(
        omar.contains(&"e2e20023-1111-4222-8333-000000000026"),
        "{omar:?}"
    );
}

#[test]
fn search_mailboxauditlog_rules_flattened_to_name_value_pairs_are_read() {
    // `Search-MailboxAuditLog -ShowDetails | Export-Csv` joins OperationProperties as
    // `Name:Value` pairs with spaces, values with spaces of their own.
    let report = scope_report(
        &[fixture("rules/search_mailboxauditlog_updateinboxrules.csv")],
        &["--attacker-ip", "198.18.7.77"],
    );
    let nina = mailbox(&report, "nina@fabrikam.com");
    let detail = |id: &str| {
        nina["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["record_id"] == id)
            .unwrap_or_else(|| panic!("{id}: {}", nina["actions"]))["detail"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let rule = detail("RgAAAAn2");
    assert!(
        rule.contains("RuleState=Enabled, ExitAfterExecution")
            && rule.contains("RuleActions=Forward(Recipients=exfil.box@mail-drop.example)")
            && rule.contains("RuleCondition={((Subject Contains invoice))}"),
        "{rule}"
    );
    let windows = nina["forwarding"].to_string();
    assert!(windows.contains("exfil.box@mail-drop.example"), "{windows}");
    // A rule name that reads like a property: the text whole, and its every address counts.
    assert!(detail("RgAAAAn3").starts_with("OperationProperties="));
    let exported = exported(
        &[fixture("rules/search_mailboxauditlog_updateinboxrules.csv")],
        tempfile::tempdir().unwrap().path(),
    );
    assert_eq!(
        record(&exported, "RgAAAAn3")["forward_to"],
        "drop.box@proton-mail.example"
    );
}

#[test]
fn rule_recipients_as_objects_names_with_backslashes_and_rules_without_conditions() {
    let csv = fixture("rules/purview_rule_variants.csv");
    let dir = tempfile::tempdir().unwrap();
    let records = exported(std::slice::from_ref(&csv), dir.path());
    // Recipients written as objects: the address, not the display name.
    assert_eq!(
        record(&records, "e2e2002a-1111-4222-8333-00000000002a")["forward_to"],
        "b.out@mail-drop.example"
    );
    let report = scope_report(&[csv], &["--attacker-ip", "198.18.7.77"]);
    let windows = |name: &str| {
        mailbox(&report, name)["forwarding"]
            .as_array()
            .unwrap()
            .clone()
    };
    // A rule name may hold a backslash: the mailbox ends at the first.
    let pia = windows("pia@fabrikam.com");
    assert_eq!(pia[0]["rule"], "clients\\invoices", "{pia:?}");
    // Outlook's `{}` condition takes all mail, in the JSON as in the text.
    let omar = windows("omar@fabrikam.com");
    let sync = omar.iter().find(|w| w["rule"] == "sync").unwrap();
    assert_eq!(sync["all_mail"], true, "{sync}");
}

#[test]
fn inspect_names_a_mailbox_given_by_its_alias_as_scope_does() {
    let out = bin()
        .args(["inspect", "-q", "--format", "json"])
        .arg(sample(""))
        .arg(rules())
        .output()
        .unwrap();
    assert_success(&out);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mailboxes: Vec<&str> = report["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert!(
        mailboxes.contains(&"carol@contoso.com") && !mailboxes.contains(&"carol"),
        "{mailboxes:?}"
    );
    assert!(
        !mailboxes.iter().any(|m| m.contains(['\\', '/'])),
        "{mailboxes:?}"
    );
}
