//! Hostile evidence, round 2 (issue #14, items 1–3 and 9–13): what an attacker controls, and
//! what a tired analyst may point the tool at, never crashes it, leaks local files into a
//! report, or reaches the analyst's terminal or documents as live control or markup.

use crate::util::*;
use std::path::Path;

const ATTACKER_IP: &str = "203.0.113.66";

fn run_scope(format: &str, input: &Path) -> (Option<i32>, String, String) {
    let out = bin()
        .args([
            "scope",
            "--quiet",
            "--attacker-ip",
            ATTACKER_IP,
            "--format",
            format,
        ])
        .arg(input)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_evidence_is_not_followed_and_no_skipped_file_is_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("shadow");
    std::fs::write(
        &secret,
        "root:*:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\n",
    )
    .unwrap();
    let evidence = dir.path().join("evidence");
    std::fs::create_dir(&evidence).unwrap();
    std::fs::copy(
        sample("purview_audit_export.csv"),
        evidence.join("purview.csv"),
    )
    .unwrap();
    std::os::unix::fs::symlink(&secret, evidence.join("notes.txt")).unwrap();
    // A link that stays inside the evidence is still followed.
    std::os::unix::fs::symlink(evidence.join("purview.csv"), evidence.join("same.csv")).unwrap();
    // A local CSV that is not an export: named for what it is not, not for what it holds.
    std::fs::write(
        evidence.join("accounts.csv"),
        "username,password_hash,api_key\nalice,$6$salt$hash,sk-live-123\n",
    )
    .unwrap();
    for format in ["text", "json", "md", "html"] {
        let (code, out, err) = run_scope(format, &evidence);
        assert_eq!(code, Some(0), "{format}: {err}");
        for leaked in ["root:*", "daemon", "password_hash", "api_key", "sk-live"] {
            assert!(!out.contains(leaked), "{format} report quotes {leaked}");
        }
    }
    let (_, json, _) = run_scope("json", &evidence);
    let j: serde_json::Value = serde_json::from_str(&json).unwrap();
    let skipped: Vec<(String, String)> = j["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["path"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        skipped
            .iter()
            .any(|(p, r)| p == "notes.txt" && r.contains("outside the input folder")),
        "{skipped:?}"
    );
    assert!(
        skipped
            .iter()
            .any(|(p, r)| p == "accounts.csv" && r.contains("not a recognised audit export")),
        "{skipped:?}"
    );
    // One export, read once (the inside link is the same file).
    assert_eq!(j["inputs"].as_array().unwrap().len(), 1);
}

/// The attacker's ANSI/OSC sequences, bidi overrides, Markdown and HTML, in the fields they
/// control: user agent, session, folder and rule names, message ids, cmdlet parameters (the
/// mailbox name of a rule comes from its Identity), and a record id a collector rewrote.
fn hostile_export() -> String {
    let osc_link = "\u{1b}]8;;http://evil.example/\u{7}click\u{1b}]8;;\u{7}";
    let records = [
        serde_json::json!({
            "CreationTime": "2024-03-12T02:14:07", "Id": "<script>alert(1)</script>\u{1b}[2J",
            "Operation": "MailItemsAccessed", "OrganizationId": "4f1c2a9e-0000-4000-8000-00000000c0de",
            "RecordType": 50, "ResultStatus": "Succeeded", "UserType": 0, "Version": 1,
            "Workload": "Exchange", "UserId": "alice@contoso.com", "ClientIPAddress": ATTACKER_IP,
            "ClientInfoString": format!("Client=REST;{osc_link};UserAgent=\u{1b}[31mpython\u{9b}2J"),
            "ExternalAccess": false, "LogonType": 0, "MailboxGuid": "a40df04b-212b-4d7e-8e27-84b50e221de7",
            "MailboxOwnerUPN": "alice@contoso.com",
            "OperationProperties": [{"Name": "MailAccessType", "Value": "Bind"}, {"Name": "IsThrottled", "Value": "False"}],
            "SessionId": "8d2c6b1e\u{1b}[8m-attacker", "AppId": "00000002-0000-0ff1-ce00-000000000000",
            "Folders": [{"Id": "LgAAAAB+7ILpFNx8TrktaK8VYWerAQBe9CuwLc2fTK7W46L1SAp9AAAA2lHHAAAB",
                "Path": "\\Inbox\\<img src=x onerror=alert(1)>\u{202e}gpj.exe",
                "FolderItems": [{"InternetMessageId": "<![x](http://evil.example/beacon.png)@evil.example>", "SizeInBytes": 48213},
                                {"InternetMessageId": "<[invoice](http://evil.example/phish)\u{2066}@evil.example>", "SizeInBytes": 1200}]}]
        }),
        serde_json::json!({
            "CreationTime": "2024-03-12T02:20:00", "Id": "e4140002-0000-4000-8000-000000000099",
            "Operation": "New-InboxRule", "OrganizationId": "4f1c2a9e-0000-4000-8000-00000000c0de",
            "RecordType": 1, "ResultStatus": "True", "UserType": 0, "Version": 1, "Workload": "Exchange",
            "UserId": "alice@contoso.com", "ClientIP": format!("{ATTACKER_IP}:51234"),
            "ObjectId": "contoso.onmicrosoft.com\\victim", "AppId": "00000002-0000-0ff1-ce00-000000000000",
            "Parameters": [
                {"Name": "Identity", "Value": "victim\u{1b}[2J\u{202e}@contoso.com"},
                {"Name": "Name", "Value": "![x](http://evil.example/beacon.png) <script>x</script> [click](http://evil.example/p)"},
                {"Name": "MoveToFolder", "Value": "RSS \u{7}Feeds"},
                {"Name": "SubjectContainsWords", "Value": "=HYPERLINK(\"http://evil.example/x\",\"invoice\")"}],
            "SessionId": "55555555-eeee-4eee-8eee-attacker0005",
            "ClientInfoString": "=HYPERLINK(\"http://evil.example/x\",\"Outlook\")"
        }),
    ];
    let mut w = csv::Writer::from_writer(Vec::new());
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
    for r in &records {
        w.write_record([
            r["Id"].as_str().unwrap(),
            "3/12/2024 2:14:07 AM",
            &r["RecordType"].to_string(),
            r["Operation"].as_str().unwrap(),
            "alice@contoso.com",
            &r.to_string(),
            "",
            "",
        ])
        .unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

/// Raw characters that drive a terminal or reorder text: none may reach an output.
fn assert_inert(what: &str, out: &str) {
    let bad: Vec<String> = out
        .chars()
        .filter(|&c| {
            (c.is_control() && c != '\n' && c != '\r')
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
        })
        .map(|c| format!("U+{:04X}", c as u32))
        .collect();
    assert!(bad.is_empty(), "{what} carries raw {bad:?}");
}

#[test]
fn evidence_text_reaches_no_output_as_control_bidi_markdown_or_html() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("evidence");
    std::fs::create_dir(&evidence).unwrap();
    // File names are evidence too.
    std::fs::write(evidence.join("audit\u{202e}vsc.csv"), hostile_export()).unwrap();
    std::fs::write(evidence.join("\u{1b}[2Jnotes.txt"), "not an export\n").unwrap();

    for format in ["text", "md", "html", "json"] {
        let (code, out, err) = run_scope(format, &evidence);
        assert_eq!(code, Some(0), "{format}: {err}");
        assert_inert(format, &out);
        assert_inert("stderr", &err);
        if format == "text" {
            assert!(out.contains("\\x1b[2J"), "escapes are visible: {out}");
            assert!(out.contains("\\u{202e}"), "{out}");
        }
        if format == "md" {
            let mut html = String::new();
            pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new(&out));
            for tag in ["<img", "<a ", "<script"] {
                assert!(!html.contains(tag), "Markdown renders {tag}: {html}");
            }
            // The text is still there for the reader, as text.
            assert!(html.contains("evil.example/beacon.png"));
        }
        if format == "html" {
            for tag in ["<img", "<script", "<a "] {
                assert!(!out.contains(tag), "HTML carries {tag}");
            }
        }
    }
    let run = |args: &[&str]| {
        let out = bin().args(args).arg(&evidence).output().unwrap();
        assert_success(&out);
        String::from_utf8(out.stdout).unwrap()
    };
    for args in [
        &["contexts", "--quiet"][..],
        &["contexts", "--quiet", "--format", "json"],
        &["inspect", "--quiet"],
        &["inspect", "--quiet", "--format", "json"],
    ] {
        assert_inert(&args.join(" "), &run(args));
    }
    let tables = dir.path().join("tables");
    run_csv(&evidence, &tables);
    for f in mailscope::report::csv::FILES {
        assert_inert(f, &std::fs::read_to_string(tables.join(f)).unwrap());
    }
    // The frame as CSV (opened in spreadsheets too): inert, and no cell a formula.
    let frame_csv = dir.path().join("frame.csv");
    let out = bin()
        .args(["export", "--quiet", "--output"])
        .arg(&frame_csv)
        .arg(&evidence)
        .output()
        .unwrap();
    assert_success(&out);
    for table in [frame_csv.clone(), dir.path().join("frame.items.csv")] {
        let text = std::fs::read_to_string(&table).unwrap();
        assert_inert("export csv", &text);
        let mut cells = csv::Reader::from_reader(text.as_bytes());
        for row in cells.records() {
            for cell in row.unwrap().iter() {
                assert!(
                    !cell.starts_with(['=', '+', '@']),
                    "{}: a formula cell {cell:?}",
                    table.display()
                );
            }
        }
        if table == frame_csv {
            assert!(
                text.contains("'=HYPERLINK"),
                "the rule's words are kept, neutralized"
            );
        }
    }
    // Nothing readable: the message names the file, inert.
    let junk = dir.path().join("junk");
    std::fs::create_dir(&junk).unwrap();
    std::fs::write(junk.join("\u{1b}]0;pwned\u{7}.txt"), "hello\n").unwrap();
    let out = bin()
        .args(["inspect", "--quiet"])
        .arg(&junk)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_inert("nothing-read message", &err);
    assert!(err.contains("\\x1b]0;pwned\\x07.txt"), "{err}");
}

fn run_csv(evidence: &Path, tables: &Path) {
    let out = bin()
        .args([
            "scope",
            "--quiet",
            "--attacker-ip",
            ATTACKER_IP,
            "--format",
            "csv",
            "--output",
        ])
        .arg(tables)
        .arg(evidence)
        .output()
        .unwrap();
    assert_success(&out);
}

/// A MailItemsAccessed record as Microsoft writes it, wrapped `depth` times in a collector's
/// envelope (`{"Identity": …, "CreationDate": …, "AuditData": {…}}`).
fn enveloped(id: &str, depth: usize) -> String {
    let mut json = serde_json::json!({
        "CreationTime": "2024-03-12T02:14:07", "Id": id, "Operation": "MailItemsAccessed",
        "RecordType": 50, "ResultStatus": "Succeeded", "Workload": "Exchange",
        "UserId": "alice@contoso.com", "ClientIPAddress": ATTACKER_IP,
        "MailboxOwnerUPN": "alice@contoso.com",
        "OperationProperties": [{"Name": "MailAccessType", "Value": "Bind"}],
        "Folders": [{"Path": "\\Inbox", "FolderItems": [{"InternetMessageId": format!("<{id}@contoso.com>")}]}]
    });
    for level in 0..depth {
        json = serde_json::json!({
            "Identity": format!("{id}-envelope-{level}"),
            "CreationDate": "2024-03-12T02:14:07Z",
            "AuditData": json,
        });
    }
    json.to_string()
}

#[test]
fn hundreds_of_nested_envelopes_reject_that_record_only() {
    let dir = tempfile::tempdir().unwrap();
    // serde_json's own recursion limit (128) must not be what stops it: 400 levels overflowed
    // the stack before, as JSON Lines and inside a Purview AuditData cell.
    let jsonl = dir.path().join("collector.jsonl");
    std::fs::write(
        &jsonl,
        [
            enveloped("ok-1", 0),
            enveloped("deep-400", 400),
            enveloped("ok-2", 2),
        ]
        .join("\n")
            + "\n",
    )
    .unwrap();
    let (code, j, err) = {
        let out = bin()
            .args(["inspect", "--quiet", "--format", "json"])
            .arg(&jsonl)
            .output()
            .unwrap();
        (
            out.status.code(),
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or_default(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(code, Some(0), "{err}");
    let file = &j["files"][0];
    assert_eq!(file["rows"], 3);
    assert_eq!(file["records"], 2);
    assert_eq!(file["rejected"], 1);
    assert_eq!(file["rejects"][0]["line"], 2);
    let reason = file["rejects"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("nested"), "{reason}");

    let purview = dir.path().join("purview.csv");
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "RecordId",
        "CreationDate",
        "RecordType",
        "Operation",
        "UserId",
        "AuditData",
    ])
    .unwrap();
    for (id, depth) in [("cell-ok", 1), ("cell-deep", 400), ("cell-ok-2", 0)] {
        w.write_record([
            id,
            "3/12/2024 2:14:07 AM",
            "50",
            "MailItemsAccessed",
            "alice@contoso.com",
            &enveloped(id, depth),
        ])
        .unwrap();
    }
    std::fs::write(&purview, w.into_inner().unwrap()).unwrap();
    let (code, out, err) = run_scope("json", &purview);
    assert_eq!(code, Some(0), "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["records"]["read"], 3);
    assert_eq!(j["records"]["rejected"], 1);
    let messages: Vec<&str> = j["mailboxes"][0]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["internet_message_id"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["cell-ok-2@contoso.com", "cell-ok@contoso.com"]);
}

#[test]
fn large_junk_is_skipped_from_its_first_bytes_not_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("evidence");
    std::fs::create_dir(&evidence).unwrap();
    std::fs::copy(
        sample("purview_audit_export.csv"),
        evidence.join("purview.csv"),
    )
    .unwrap();
    // A 9 GiB sparse file (a disk image left in the folder): reading it whole allocated its
    // size up front with --no-mmap and aborted the run.
    let image = std::fs::File::create(evidence.join("disk.img")).unwrap();
    image.set_len(9 << 30).unwrap();
    // 8 MiB of pseudo-random bytes (a zip, a PST fragment).
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let random: Vec<u8> = (0..8 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    std::fs::write(evidence.join("attachments.bin"), random).unwrap();
    // UTF-32 is named as such.
    let utf32: Vec<u8> = "RecordId,CreationDate,RecordType,Operation,UserId,AuditData\r\n"
        .chars()
        .flat_map(|c| (c as u32).to_le_bytes())
        .collect();
    std::fs::write(
        evidence.join("utf32.csv"),
        [&[0xFF, 0xFE, 0, 0][..], &utf32].concat(),
    )
    .unwrap();
    for mmap in [true, false] {
        let mut cmd = bin();
        cmd.args(["inspect", "--quiet", "--format", "json"]);
        if !mmap {
            cmd.arg("--no-mmap");
        }
        let out = cmd.arg(&evidence).output().unwrap();
        assert_success(&out);
        let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(j["totals"]["records"], 16);
        let reasons: Vec<(String, String)> = j["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let path = s["path"].as_str().unwrap();
                (
                    path.rsplit('/').next().unwrap().to_string(),
                    s["reason"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let reason_of = |name: &str| {
            reasons
                .iter()
                .find(|(p, _)| p == name)
                .map(|(_, r)| r.as_str())
                .unwrap_or_else(|| panic!("{name} not skipped: {reasons:?}"))
        };
        assert!(
            reason_of("disk.img").starts_with("binary content"),
            "{reasons:?}"
        );
        assert!(
            reason_of("attachments.bin").starts_with("binary content"),
            "{reasons:?}"
        );
        assert!(reason_of("utf32.csv").contains("UTF-32"), "{reasons:?}");
    }
}

#[test]
fn a_nul_in_one_row_rejects_that_row_not_the_export() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(sample("purview_audit_export.csv")).unwrap();
    // A NUL inside the second record's AuditData, within the first 4 KiB.
    let at = text.match_indices("\"\"Operation\"\"").nth(1).unwrap().0;
    let damaged = format!("{}\0{}", &text[..at], &text[at..]);
    assert!(at < 4096);
    let p = dir.path().join("damaged.csv");
    std::fs::write(&p, damaged).unwrap();
    let out = bin()
        .args(["inspect", "--quiet", "--format", "json"])
        .arg(&p)
        .output()
        .unwrap();
    assert_success(&out);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["files"][0]["rows"], 16);
    assert_eq!(j["files"][0]["rejected"], 1);
    assert_eq!(j["files"][0]["rejects"][0]["line"], 3);
}

fn inspect(path: &Path) -> serde_json::Value {
    let out = bin()
        .args(["inspect", "--quiet", "--format", "json"])
        .arg(path)
        .output()
        .unwrap();
    assert_success(&out);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn notes(file: &serde_json::Value) -> Vec<(String, String)> {
    file["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["code"].as_str().unwrap().to_string(),
                n["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn each_garbage_line_of_json_lines_is_a_rejected_row_and_a_cut_array_is_noted() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("collector.jsonl");
    let garbage: String = (0..3000).map(|i| format!("junk line {i}\n")).collect();
    std::fs::write(
        &jsonl,
        format!(
            "{}\n{garbage}{}\n",
            enveloped("ok-1", 0),
            enveloped("ok-2", 0)
        ),
    )
    .unwrap();
    let file = inspect(&jsonl)["files"][0].clone();
    assert_eq!(file["rows"], 3002);
    assert_eq!(file["records"], 2);
    assert_eq!(file["rejected"], 3000);
    assert_eq!(file["rejects"][2999]["line"], 3001);

    let array = dir.path().join("export.json");
    std::fs::write(
        &array,
        format!("[\n{},\n{},\n", enveloped("a-1", 0), enveloped("a-2", 0)),
    )
    .unwrap();
    let file = inspect(&array)["files"][0].clone();
    assert_eq!(file["records"], 2);
    assert!(
        notes(&file)
            .iter()
            .any(|(c, m)| c == "unterminated-array" && m.contains("not closed")),
        "{file}"
    );
}

#[test]
fn events_inside_comments_cdata_and_instructions_are_not_records() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("SearchResult.xml");
    let event = |guid: &str, op: &str| {
        format!(
            r#"<Event MailboxGuid="{guid}" Owner="contoso\dave" LastAccessed="2024-03-12T00:31:10.000-08:00" Operation="{op}" OperationResult="Succeeded" LogonType="Delegate" FolderPathName="\Finance" ClientIPAddress="{ATTACKER_IP}" MailboxOwnerUPN="dave@contoso.com" LogonUserDN="Attacker"></Event>"#
        )
    };
    std::fs::write(
        &xml,
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!DOCTYPE SearchResults [<!ENTITY e \"{}\">]>\n<SearchResults>\n<!-- {} -->\n{}\n<![CDATA[{}]]>\n<?note {} ?>\n{}\n</SearchResults>\n",
            event("d0000000-0000-4000-8000-000000000001", "FolderBind").replace('"', "'"),
            event("d0000000-0000-4000-8000-000000000002", "FolderBind"),
            event("d0000000-0000-4000-8000-000000000003", "FolderBind"),
            event("d0000000-0000-4000-8000-000000000004", "MessageBind"),
            event("d0000000-0000-4000-8000-000000000005", "HardDelete"),
            event("d0000000-0000-4000-8000-000000000006", "SoftDelete"),
        ),
    )
    .unwrap();
    let j = inspect(&xml);
    assert_eq!(j["files"][0]["format"], "mailbox-audit-xml");
    assert_eq!(j["files"][0]["rows"], 2, "{j}");
    assert_eq!(j["operations"]["FolderBind"], 1);
    assert_eq!(j["operations"]["SoftDelete"], 1);
}

#[test]
fn impossible_times_and_counts_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let record = |id: &str, time: &str, count: &str| {
        format!(
            r#"{{"CreationTime":"{time}","Id":"{id}","Operation":"MailItemsAccessed","RecordType":50,"Workload":"Exchange","UserId":"kim@contoso.com","ClientIPAddress":"{ATTACKER_IP}","MailboxOwnerUPN":"kim@contoso.com","OperationCount":{count},"OperationProperties":[{{"Name":"MailAccessType","Value":"Bind"}}],"Folders":[{{"Path":"\\Inbox","FolderItems":[{{"InternetMessageId":"<{id}@contoso.com>"}}]}}]}}"#
        )
    };
    let lines = [
        record("feb30", "2024-02-30T10:00:00", "1"),
        record("leap", "2024-03-12T23:59:60", "1"),
        record("text", "yesterday", "1"),
        record("huge", "2024-03-12T10:00:00", "1e29"),
        record("nan", "2024-03-12T10:00:01", "\"NaN\""),
        record("inf", "2024-03-12T10:00:02", "\"inf\""),
        record("fine", "2024-03-12T10:00:03", "\"2\""),
    ];
    let p = dir.path().join("records.jsonl");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    let file = inspect(&p)["files"][0].clone();
    let reasons: Vec<&str> = file["rejects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    for (reason, time) in
        reasons
            .iter()
            .zip(["2024-02-30T10:00:00", "2024-03-12T23:59:60", "yesterday"])
    {
        assert_eq!(
            *reason,
            format!("no time: unreadable CreationTime '{time}'")
        );
    }
    assert_eq!(file["records"], 4);
    let counted = notes(&file);
    assert!(
        counted.iter().any(|(c, m)| c == "unreadable-count"
            && m.starts_with("3 record(s)")
            && m.contains("first at line 4")),
        "{counted:?}"
    );
}

#[test]
fn a_trusted_range_that_hides_the_attacker_is_warned_about() {
    let out = bin()
        .args([
            "scope",
            "--quiet",
            "--format",
            "json",
            "--attacker-ip",
            ATTACKER_IP,
            "--trusted-ip",
            "0.0.0.0/0",
        ])
        .arg(sample(""))
        .output()
        .unwrap();
    assert_success(&out);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warning = j["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "trusted-hides-attacker")
        .expect("a warning");
    assert!(warning["message"].as_str().unwrap().contains("0.0.0.0/0"));
    // The sample's attacker records from 203.0.113.66 are all hidden by it.
    assert_eq!(j["records"]["attacker"], 0);
}
