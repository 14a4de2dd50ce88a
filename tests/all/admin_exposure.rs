//! Exposure at admin scale (#29): content searches the attacker exported, grants that open
//! mailboxes to another account or an app, and what the attacker searched for. The fixture's
//! scenario is written out in `tests/fixtures/admin/make_fixtures.py`.

use crate::util::{bin, fixture, mailbox, purview_export, scope_report, verdicts};
use serde_json::{Value, json};
use std::path::PathBuf;

const ADMIN: [&str; 2] = ["--attacker-user", "it-admin@contoso.com"];

fn audit() -> PathBuf {
    fixture("admin/purview_admin.csv")
}

fn trace() -> PathBuf {
    fixture("admin/message_trace.csv")
}

fn rules(mb: &Value) -> Vec<String> {
    mb["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap().to_string())
        .collect()
}

/// Inventory messages assumed compromised, by id (the part before `@`) and why.
fn assumed(mb: &Value) -> Vec<(String, String)> {
    mb["assumed_messages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let id = a["internet_message_id"].as_str().unwrap();
            (
                id.split('@').next().unwrap().to_string(),
                a["why"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn message_ids(mb: &Value) -> Vec<String> {
    mb["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let id = m["internet_message_id"].as_str().unwrap();
            id.split('@').next().unwrap().to_string()
        })
        .collect()
}

fn search<'r>(r: &'r Value, name: &str) -> &'r Value {
    r["content_searches"]
        .as_array()
        .expect("content searches")
        .iter()
        .find(|s| s["search"] == name)
        .unwrap_or_else(|| panic!("search {name}"))
}

#[test]
fn an_exported_search_exposes_the_messages_its_query_can_match() {
    let r = scope_report(&[audit(), trace()], &ADMIN);
    for name in ["ceo@contoso.com", "cfo@contoso.com"] {
        let mb = mailbox(&r, name);
        assert!(rules(mb).contains(&"content-search-export".to_string()));
        assert_eq!(mb["verdict"], "messages");
        let e = &mb["content_searches"][0];
        assert_eq!(e["search"], "Q3 review");
        assert_eq!(e["steps"], json!(["exported", "downloaded"]));
        assert_eq!(e["matched_messages"], 1);
        assert_eq!(e["unresolved"], false);
    }
    // The subject and date restrictions are decided on the trace's fields: payroll mail of
    // April is in; older wire mail (before the date range), a lunch invitation (subject) and
    // May's payroll (after the download) are not.
    assert_eq!(
        assumed(mailbox(&r, "ceo@contoso.com")),
        vec![(
            "ceo-payroll-apr".to_string(),
            "content-search-export (Q3 review)".to_string()
        )]
    );
    assert_eq!(
        assumed(mailbox(&r, "cfo@contoso.com")),
        vec![(
            "cfo-wire-vendor".to_string(),
            "content-search-export (Q3 review)".to_string()
        )]
    );
    let q3 = search(&r, "Q3 review");
    assert_eq!(q3["exposed"], true);
    assert_eq!(
        q3["mailboxes"],
        json!(["ceo@contoso.com", "cfo@contoso.com"])
    );
    // Both families' records of each step are cited: the cmdlet and the activity.
    let steps: Vec<&str> = q3["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "created",
            "created",
            "started",
            "started",
            "exported",
            "exported",
            "downloaded"
        ]
    );
}

#[test]
fn without_an_inventory_the_query_is_an_unresolved_exposure() {
    let r = scope_report(&[audit()], &ADMIN);
    let ceo = mailbox(&r, "ceo@contoso.com");
    assert_eq!(ceo["verdict"], "messages");
    let e = &ceo["content_searches"][0];
    assert_eq!(e["unresolved"], true);
    assert!(e.get("matched_messages").is_none());
    assert_eq!(
        e["query"],
        "(subject:payroll OR subject:wire) AND received>=2024-04-01"
    );
    let text = scope_text(&[audit()], &[]);
    assert!(
        text.contains("unresolved: all mail matching the query in ceo@contoso.com"),
        "{text}"
    );
}

#[test]
fn searches_never_exported_or_exported_by_someone_else_expose_nothing() {
    let r = scope_report(&[audit(), trace()], &ADMIN);
    let names: Vec<String> = verdicts(&r).into_iter().map(|(m, _)| m).collect();
    // dave@: the attacker's search was only started; erin@: the real administrator's export.
    assert!(
        !names.contains(&"dave@contoso.com".to_string()),
        "{names:?}"
    );
    assert!(
        !names.contains(&"erin@contoso.com".to_string()),
        "{names:?}"
    );
    assert_eq!(search(&r, "HR audit")["exposed"], false);
    let legal = search(&r, "Legal hold check");
    assert_eq!(legal["exposed"], false);
    assert_eq!(legal["steps"][1]["attribution"], "other");
}

#[test]
fn all_locations_and_an_empty_query_expose_every_mailbox_entirely() {
    let r = scope_report(&[fixture("admin/purview_search_all.csv"), trace()], &ADMIN);
    assert_eq!(
        verdicts(&r),
        vec![
            ("ceo@contoso.com".into(), "entire-mailbox".into()),
            ("cfo@contoso.com".into(), "entire-mailbox".into()),
            ("dave@contoso.com".into(), "entire-mailbox".into()),
        ]
    );
    assert!(rules(mailbox(&r, "dave@contoso.com")).contains(&"content-search-export".into()));
    // dave@'s salary mail is in no audit record: assumed with the whole mailbox.
    assert_eq!(assumed(mailbox(&r, "dave@contoso.com"))[0].0, "dave-salary");
    let everything = search(&r, "Everything");
    assert_eq!(everything["all_mailboxes"], true);
    assert_eq!(everything["purged"], true);
    let caveats = r["caveats"].to_string();
    assert!(
        caveats.contains("mailboxes outside the evidence and the inventories are exposed too"),
        "{caveats}"
    );
    let codes: Vec<&str> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"attacker-purged-search"), "{codes:?}");
}

#[test]
fn a_grantees_reads_are_linked_from_the_grant_until_its_removal() {
    let r = scope_report(&[audit(), trace()], &ADMIN);
    // mallory-svc read the CEO's mailbox before the grant, during it and after its removal:
    // only the read in between is the attacker's.
    let ceo = mailbox(&r, "ceo@contoso.com");
    assert_eq!(message_ids(ceo), vec!["ceo-board-minutes"]);
    assert_eq!(ceo["messages"][0]["attribution"], "linked");
    let grants = r["grants"].as_array().unwrap();
    let full = grants
        .iter()
        .find(|g| g["kind"] == "mailbox-permission")
        .unwrap();
    assert_eq!(full["grantee"], "mallory-svc@contoso.com");
    assert_eq!(full["mailbox"], "ceo@contoso.com");
    assert_eq!(full["removed"], "2024-05-01T15:00:00Z");
    assert_eq!(full["linked_records"], 1);
    // The grant's record is cited in the linked context's reason.
    let linked = ceo["contexts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["attribution"] == "linked")
        .unwrap();
    assert!(
        linked["why"]
            .as_str()
            .unwrap()
            .contains("a0d1b01f-0000-4000-8000-00000000001f"),
        "{linked}"
    );

    let off = scope_report(
        &[audit(), trace()],
        &[ADMIN[0], ADMIN[1], "--no-grant-link"],
    );
    assert!(message_ids(mailbox(&off, "ceo@contoso.com")).is_empty());
    assert_eq!(off["grant_linking"], false);
    assert_eq!(off["grants"][0]["linked_records"], 0);
}

#[test]
fn consent_to_a_mail_app_links_the_apps_reads() {
    let r = scope_report(&[audit(), trace()], &ADMIN);
    let cfo = mailbox(&r, "cfo@contoso.com");
    // The app's read at 09:00, before the consent, is not the attacker's.
    assert_eq!(message_ids(cfo), vec!["cfo-bank-change"]);
    let app = r["grants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["kind"] == "app-consent")
        .unwrap();
    assert_eq!(app["grantee"], "7e3a9c2d-1b4f-4e8a-9c6d-5f2e1a0b3c4d");
    assert_eq!(app["rights"], json!(["Mail.Read"]));
    assert_eq!(app["mailboxes"], json!(["cfo@contoso.com"]));
    assert!(app["removed"].is_null());
}

#[test]
fn a_consent_to_profile_scopes_only_links_nothing() {
    let text = std::fs::read_to_string(audit()).unwrap();
    let plain = text.replace(
        "Mail.Read offline_access User.Read",
        "openid profile User.Read",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.csv");
    std::fs::write(&path, plain).unwrap();
    let r = scope_report(&[path], &ADMIN);
    assert!(
        r["grants"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["kind"] != "app-consent")
    );
    assert!(message_ids(mailbox(&r, "cfo@contoso.com")).is_empty());
}

#[test]
fn what_the_attacker_searched_for_is_listed_unless_left_out() {
    let r = scope_report(&[audit()], &ADMIN);
    let ceo = mailbox(&r, "ceo@contoso.com");
    let searched = ceo["searched_for"].as_array().unwrap();
    // The CEO's own search from the office is not the attacker's.
    assert_eq!(searched.len(), 1);
    assert_eq!(searched[0]["text"], "wire instructions");
    assert_eq!(searched[0]["source"], "exchange");
    assert_eq!(r["searched_for"][0]["text"], "passwords.xlsx");
    assert_eq!(r["searched_for"][0]["source"], "sharepoint");

    // --no-subjects does not hide search text; --no-search-text does, everywhere.
    let no_subjects = scope_text(&[audit()], &["--no-subjects"]);
    assert!(no_subjects.contains("wire instructions"));
    let hidden = scope_report(&[audit()], &[ADMIN[0], ADMIN[1], "--no-search-text"]);
    assert!(!hidden.to_string().contains("wire instructions"));
    assert!(!hidden.to_string().contains("passwords.xlsx"));
    assert!(mailbox(&hidden, "ceo@contoso.com")["searched_for"][0]["text"].is_null());
    for format in ["text", "md", "html"] {
        let out = scope_text_format(&[audit()], &["--no-search-text"], format);
        assert!(!out.contains("wire instructions"), "{format}");
    }
}

#[test]
fn a_search_name_or_query_is_evidence_text_in_every_format() {
    let text = std::fs::read_to_string(audit()).unwrap();
    let hostile = text.replace(
        "Q3 review",
        "Q3 <img src=x onerror=alert(1)> [x](http://evil.example)\\nNote: forged",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.csv");
    std::fs::write(&path, hostile).unwrap();
    let html = scope_text_format(std::slice::from_ref(&path), &[], "html");
    assert!(!html.contains("<img src=x"), "raw markup in HTML");
    let md = scope_text_format(std::slice::from_ref(&path), &[], "md");
    assert!(
        !md.contains("[x](http://evil.example)"),
        "live link in Markdown"
    );
    let txt = scope_text_format(&[path], &[], "text");
    assert!(
        !txt.lines().any(|l| l.starts_with("Note: forged")),
        "forged line in text"
    );
}

#[test]
fn a_search_record_alone_in_a_generated_export_is_read_in_both_families() {
    // The cmdlet record with a PowerShell argument string is read as parameters, not as lost
    // content: no warning about the export's shape.
    let record = json!({
        "CmdletVersion": "1.2",
        "Parameters": "-SearchName \"Board\" -Preview \"True\"",
        "ObjectId": "Board_Preview",
        "ResultStatus": "Success",
        "UserKey": "it-admin@contoso.com",
        "Operation": "New-ComplianceSearchAction",
        "Workload": "SecurityComplianceCenter",
        "NonPIIParameters": "-SearchName \"<SNIP-PII>\" -Preview \"True\"",
        "ClientApplication": "EMC",
        "RecordType": 18,
        "Version": 1,
        "UserId": "it-admin@contoso.com",
        "CreationTime": "2024-05-01T12:00:00",
        "Id": "b0ad0001-0000-4000-8000-000000000001",
        "UserType": 2
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.csv");
    std::fs::write(&path, purview_export(&[record])).unwrap();
    let r = scope_report(&[path, fixture("admin/purview_search_all.csv")], &ADMIN);
    let codes = r["warnings"].to_string();
    assert!(!codes.contains("content-lost"), "{codes}");
    assert!(!codes.contains("flattened-fields"), "{codes}");
    let board = search(&r, "Board");
    assert_eq!(board["steps"][0]["step"], "previewed");
    // Created before the evidence: its locations are unknown, so every mailbox counts.
    assert_eq!(board["all_mailboxes"], true);
}

fn scope_text(paths: &[PathBuf], extra: &[&str]) -> String {
    scope_text_format(paths, extra, "text")
}

fn scope_text_format(paths: &[PathBuf], extra: &[&str], format: &str) -> String {
    let out = bin()
        .arg("scope")
        .args(paths)
        .args(["--attacker-ip", "203.0.113.66", "-q", "--format", format])
        .args(ADMIN)
        .args(extra)
        .output()
        .unwrap();
    crate::util::assert_success(&out);
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn an_undecidable_query_matches_every_message_up_to_the_export() {
    // A bare keyword may be in any body: every message of the mailbox up to the download counts,
    // the May payroll (after it) does not.
    let text = std::fs::read_to_string(audit()).unwrap();
    let q = "(subject:payroll OR subject:wire) AND received>=2024-04-01";
    assert!(text.contains(q));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.csv");
    std::fs::write(&path, text.replace(q, "merger NEAR(5) heron")).unwrap();
    let r = scope_report(&[path, trace()], &ADMIN);
    let ceo = mailbox(&r, "ceo@contoso.com");
    let mut ids: Vec<String> = assumed(ceo).into_iter().map(|(id, _)| id).collect();
    ids.sort();
    assert_eq!(ids, ["ceo-lunch", "ceo-payroll-apr", "ceo-wire-old"]);
    assert_eq!(ceo["content_searches"][0]["matched_messages"], 4);
    assert_eq!(ceo["verdict"], "messages");
}

#[test]
fn two_copies_of_a_search_record_that_differ_give_the_wider_scope_in_any_order() {
    // One SearchCreated record id, held in two files: one copy over the CEO with a narrow
    // query, the other over all mailboxes with none. Both are kept, and at one instant neither
    // comes first: the search covers both, with no query.
    let text = std::fs::read_to_string(audit()).unwrap();
    let narrow = text.replace(
        "\"\"ExchangeLocations\"\":[\"\"ceo@contoso.com\"\",\"\"cfo@contoso.com\"\"]",
        "\"\"ExchangeLocations\"\":[\"\"ceo@contoso.com\"\"]",
    );
    let wide = text.replace(
        "\"\"ExchangeLocations\"\":[\"\"ceo@contoso.com\"\",\"\"cfo@contoso.com\"\"]",
        "\"\"ExchangeLocations\"\":[\"\"All\"\"]",
    );
    assert_ne!(narrow, text);
    assert_ne!(wide, text);
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    std::fs::write(&a, narrow).unwrap();
    std::fs::write(&b, wide).unwrap();
    let one = scope_report(&[a.clone(), b.clone(), trace()], &ADMIN);
    let other = scope_report(&[b, a, trace()], &ADMIN);
    assert_eq!(one["mailboxes"], other["mailboxes"]);
    assert_eq!(one["content_searches"], other["content_searches"]);
    // dave@ and erin@ are exposed through the `All` copy.
    let names: Vec<String> = verdicts(&one).into_iter().map(|(m, _)| m).collect();
    assert!(names.contains(&"dave@contoso.com".to_string()), "{names:?}");
}

#[test]
fn cmdlet_records_without_an_ip_are_named_as_a_gap_when_scoped_by_ip_alone() {
    // Security & Compliance cmdlet records carry no client IP: scoped by the attacker's IP only,
    // the searches it-admin@ made by cmdlet are not the attacker's, and the report says so.
    let r = scope_report(&[audit()], &[]);
    let gaps = r["indicator_gaps"].as_array().unwrap();
    let account = gaps
        .iter()
        .find(|g| g["signal"] == "same-account-no-ip")
        .expect("a gap for the account");
    assert_eq!(account["value"], "it-admin@contoso.com");
    assert!(account["records"].as_u64().unwrap() >= 3);
}
