//! Hostile and broken evidence: for each case the exit code, the message with file and
//! line/offset, and the count of records still read.

use crate::util::*;
use std::path::Path;

fn purview_row(id: &str, extra: &str) -> String {
    let ad = format!(
        r#"{{"CreationTime":"2024-05-01T10:00:00","Id":"{id}","Operation":"MailItemsAccessed","MailboxOwnerUPN":"kim@x.com","ClientIPAddress":"203.0.113.66","OperationProperties":[{{"Name":"MailAccessType","Value":"Bind"}}],"Folders":[{{"Path":"\\Inbox","FolderItems":[{{"InternetMessageId":"<{id}@x>"}}]}}]{extra}}}"#
    );
    format!(
        "{id},5/1/2024 10:00:00 AM,50,MailItemsAccessed,kim@x.com,\"{}\",,\r\n",
        ad.replace('"', "\"\"")
    )
}

fn inspect_json(path: &Path) -> (Option<i32>, serde_json::Value, String) {
    let out = bin()
        .args(["inspect", "--quiet", "--format", "json"])
        .arg(path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code(), json, stderr)
}

#[test]
fn empty_file_and_header_only() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let (code, _, err) = inspect_json(&empty);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("empty.csv") && err.contains("empty file"),
        "{err}"
    );

    let header = dir.path().join("header.csv");
    std::fs::write(&header, PURVIEW_HEADER).unwrap();
    let (code, j, _) = inspect_json(&header);
    assert_eq!(code, Some(0));
    assert_eq!(
        (
            j["totals"]["rows"].as_u64(),
            j["totals"]["records"].as_u64()
        ),
        (Some(0), Some(0))
    );
}

#[test]
fn a_50_mb_single_line_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("huge.csv");
    let pad = "x".repeat(50 << 20);
    let row = purview_row("huge0001", &format!(r#","Padding":"{pad}""#));
    std::fs::write(
        &p,
        format!("{PURVIEW_HEADER}{row}{}", purview_row("small0001", "")),
    )
    .unwrap();
    let ing = read_one(&p);
    assert_eq!((ing.rows(), ing.records().len()), (2, 2));
}

#[test]
fn deeply_nested_auditdata_does_not_overflow_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("deep.csv");
    let nest = format!(r#","Deep":{}{}"#, "[".repeat(200_000), "]".repeat(200_000));
    let folders = format!(
        r#","Folders":{}{}"#,
        "{\"a\":".repeat(100_000),
        "}".repeat(100_000)
    );
    std::fs::write(
        &p,
        format!(
            "{PURVIEW_HEADER}{}{}",
            purview_row("deep0001", &nest),
            purview_row("deep0002", &folders)
        ),
    )
    .unwrap();
    let ing = read_one(&p);
    assert_eq!(ing.rows(), 2);
    assert_eq!(ing.records().len() as u64 + ing.rejected(), 2);
    assert_eq!(ing.records()[0].record_id, "deep0001");
}

#[test]
fn billion_laughs_is_not_expanded() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("SearchResult.xml");
    let mut ents = String::from("<!ENTITY lol \"lol\">");
    for i in 1..=9 {
        let prev = if i == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", i - 1)
        };
        ents.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">",
            format!("&{prev};").repeat(10)
        ));
    }
    let xml = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [{ents}]>\n<SearchResults>\n<Event MailboxOwnerUPN=\"a@x.com\" Operation=\"FolderBind\" LastAccessed=\"2024-01-01T00:00:00Z\" FolderPathName=\"&lol9;\" ClientIPAddress=\"203.0.113.66\"/>\n</SearchResults>\n"
    );
    std::fs::write(&p, xml).unwrap();
    let ing = read_one(&p);
    assert_eq!(ing.records().len(), 1);
    assert_eq!(ing.records()[0].folder_path.as_deref(), Some("&lol9;"));
}

#[test]
fn xml_truncated_mid_element_keeps_the_complete_events() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cut.xml");
    let full = std::fs::read_to_string(sample("SearchResult.xml")).unwrap();
    let cut = &full[..full.find("Subject=").unwrap() + 12];
    std::fs::write(&p, cut).unwrap();
    let (code, j, _) = inspect_json(&p);
    assert_eq!(code, Some(0));
    assert_eq!(j["totals"]["records"], 2);
    assert_eq!(j["totals"]["rejected"], 1);
    let rej = &j["files"][0]["rejects"][0];
    assert_eq!(rej["line"], 7);
    assert!(rej["reason"].as_str().unwrap().contains("truncated"));
}

#[test]
fn invalid_utf8_in_one_row_is_flagged_with_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("latin1.csv");
    let mut bytes = format!("{PURVIEW_HEADER}{}", purview_row("ok000001", "")).into_bytes();
    let bad_at = bytes.len() + 30;
    let mut row = purview_row("bad00001", r#","Subject":"Caf_ au lait""#).into_bytes();
    let pos = row.windows(4).position(|w| w == b"Caf_").unwrap() + 3;
    row[pos] = 0xE9;
    bytes.extend(row);
    std::fs::write(&p, &bytes).unwrap();
    let _ = bad_at;
    let (code, j, _) = inspect_json(&p);
    assert_eq!(code, Some(0));
    assert_eq!(j["totals"]["records"], 2);
    assert_eq!(j["files"][0]["encoding"], "windows-1252");
    let note = j["files"][0]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["code"] == "encoding")
        .unwrap();
    assert!(
        note["message"].as_str().unwrap().contains("byte offset"),
        "{note}"
    );
}

#[test]
fn utf16_without_bom_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("u16.csv");
    let text = std::fs::read_to_string(fixture("classic_portal.csv")).unwrap();
    std::fs::write(
        &p,
        text.encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let ing = read_one(&p);
    assert_eq!(
        (ing.files[0].encoding, ing.records().len()),
        ("utf-16le", 1)
    );
}

#[test]
fn a_stray_quote_costs_only_its_own_line_and_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("stray.csv");
    let stray = "stray001,\"5/1/2024 10:00:00 AM,50,MailItemsAccessed,kim@x.com,{},,\r\n";
    std::fs::write(
        &p,
        format!(
            "{PURVIEW_HEADER}{}{stray}{}",
            purview_row("good0001", ""),
            purview_row("good0002", "")
        ),
    )
    .unwrap();
    let (code, j, _) = inspect_json(&p);
    assert_eq!(code, Some(0));
    // Issue #14: the quote left open on line 3 swallowed good0002 on line 4; the reader
    // re-synchronises at line 4, so only the damaged line is lost, and it says so.
    assert_eq!(j["totals"]["records"], 2);
    assert_eq!(j["totals"]["rejected"], 1);
    assert_eq!(j["totals"]["rows"], 3);
    let reject = &j["files"][0]["rejects"][0];
    assert_eq!(reject["line"], 3);
    let reason = reject["reason"].as_str().unwrap();
    assert!(
        reason.contains("never closed") && reason.contains("ran over 2 lines"),
        "{reason}"
    );
}

#[test]
fn a_row_with_a_quote_left_open_and_the_rows_read_again_keep_their_byte_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("stray.csv");
    let good1 = purview_row("good0001", "");
    let stray = "stray001,\"5/1/2024 10:00:00 AM,50,MailItemsAccessed,kim@x.com,{},,\r\n";
    let bad = "bad00002,5/1/2024 10:00:00 AM,50,MailItemsAccessed,kim@x.com,not json,,\r\n";
    std::fs::write(&p, format!("{PURVIEW_HEADER}{good1}{stray}{bad}")).unwrap();
    let ing = read_one(&p);
    let file = &ing.files[0];
    let placed: Vec<(u64, Option<u64>)> = file.rejects.iter().map(|r| (r.line, r.offset)).collect();
    let at = (PURVIEW_HEADER.len() + good1.len()) as u64;
    // The damaged row where it starts, and the row after it (re-read on its own) where it starts.
    assert_eq!(
        placed,
        [(3, Some(at)), (4, Some(at + stray.len() as u64))],
        "{:?}",
        file.rejects
    );
    assert_eq!(file.rejects[1].kind, mailscope::parse::RejectKind::BadJson);
}

#[test]
fn a_json_lines_object_that_does_not_parse_is_placed_by_its_byte_offset() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("audit.jsonl");
    let good = r#"{"CreationTime":"2024-05-01T10:00:00","Id":"j1","Operation":"MailItemsAccessed","MailboxOwnerUPN":"kim@x.com"}"#;
    let bad = r#"{"CreationTime":"2024-05-01T10:00:00","Id":"j2","Operation":}"#;
    std::fs::write(&p, format!("{good}\n{bad}\n")).unwrap();
    let ing = read_one(&p);
    let file = &ing.files[0];
    assert_eq!(ing.records().len(), 1, "{:?}", file.rejects);
    let reject = &file.rejects[0];
    assert_eq!(
        (reject.line, reject.offset),
        (2, Some(good.len() as u64 + 1))
    );
    assert_eq!(reject.kind, mailscope::parse::RejectKind::BadJson);
    let shown = reject.to_error(&file.path).to_string();
    assert!(
        shown.contains(&format!(
            "audit.jsonl: line 2, byte offset {}: ",
            good.len() + 1
        )),
        "{shown}"
    );
}

/// A file whose quoting makes the reader cut it again by scanning moves the progress bar once:
/// to exactly its size, not past it.
#[test]
fn a_file_cut_again_by_scanning_is_counted_once_by_the_progress_bar() {
    use mailscope::ingest::{IngestOptions, ingest};
    use mailscope::progress::Progress;
    use std::sync::atomic::{AtomicU64, Ordering};
    #[derive(Default)]
    struct Sum(AtomicU64);
    impl Progress for Sum {
        fn advance(&self, bytes: u64, _records: u64) {
            self.0.fetch_add(bytes, Ordering::Relaxed);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("stray.csv");
    let stray = "stray001,\"5/1/2024 10:00:00 AM,50,MailItemsAccessed,kim@x.com,{},,\r\n";
    let text = format!(
        "{PURVIEW_HEADER}{}{stray}{}",
        purview_row("good0001", ""),
        purview_row("good0002", "")
    );
    std::fs::write(&p, &text).unwrap();
    let sum = Sum::default();
    let ing = ingest(&[p], &IngestOptions::default(), &sum);
    // good0002, swallowed by the open quote before issue #14, is read again.
    assert_eq!(ing.files[0].records, 2);
    assert_eq!(sum.0.load(Ordering::Relaxed), text.len() as u64);
}

#[cfg(unix)]
#[test]
fn dangling_links_special_files_and_symlink_loops_are_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let ev = dir.path().join("ev");
    std::fs::create_dir(&ev).unwrap();
    std::fs::copy(fixture("classic_portal.csv"), ev.join("a.csv")).unwrap();
    std::os::unix::fs::symlink(ev.join("missing.csv"), ev.join("dangling.csv")).unwrap();
    std::os::unix::fs::symlink(&ev, ev.join("loop")).unwrap();
    let fifo = ev.join("pipe");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let (code, j, _) = inspect_json(&ev);
    assert_eq!(code, Some(0));
    assert_eq!(j["totals"]["records"], 1);
    let skipped = j["skipped"].as_array().unwrap();
    let reason = |name: &str| {
        skipped
            .iter()
            .find(|s| s["path"].as_str().unwrap().ends_with(name))
            .map(|s| s["reason"].as_str().unwrap().to_string())
    };
    assert!(reason("dangling.csv").unwrap().contains("No such file"));
    assert!(reason("loop").unwrap().contains("already visited"));
    assert!(reason("pipe").unwrap().contains("not a regular file"));
}

#[test]
fn a_file_that_grows_while_being_read_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("live.csv");
    let mut text = String::from(PURVIEW_HEADER);
    for i in 0..60_000 {
        text.push_str(&purview_row(&format!("live{i:05}"), ""));
    }
    std::fs::write(&p, &text).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (p, stop) = (p.clone(), stop.clone());
        std::thread::spawn(move || {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                f.write_all(purview_row(&format!("grow{n:07}"), "").as_bytes())
                    .unwrap();
                n += 1;
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(20));
    let ing = read_one(&p);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    assert!(ing.records().len() >= 60_000);
    assert_eq!(
        ing.rows(),
        ing.records().len() as u64 + ing.rejected() + ing.duplicates()
    );
    assert!(
        ing.warnings
            .iter()
            .any(|w| w.code == "file-changed-while-read"),
        "{:?}",
        ing.warnings
    );
}

/// Inputs that once crashed a fuzz target: each must now give records or a reason.
#[test]
fn fuzz_regressions() {
    let dir = fixture("fuzz");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let opts = mailscope::parse::ParseOptions::default();
        if let Ok((_, _, _, p)) = mailscope::ingest::parse_bytes(&bytes, &opts) {
            assert_eq!(
                p.rows,
                p.records.len() as u64 + p.rejects.len() as u64,
                "{}",
                path.display()
            );
        }
        seen += 1;
    }
    assert!(seen >= 1);
}

#[test]
fn malformed_auditdata_is_placed_by_file_line_and_byte_offset() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("audit.csv");
    let good = purview_row("ok000001", "");
    let bad = "bad00001,5/1/2024 10:00:00 AM,50,MailItemsAccessed,kim@x.com,\"{\"\"CreationTime\"\":\"\"2024-05-01T10:00:00\"\",\"\"Id\"\":\r\n";
    let bad = bad.replace("\r\n", "\"\"}\",,\r\n");
    std::fs::write(&p, format!("{PURVIEW_HEADER}{good}{bad}")).unwrap();
    let ing = read_one(&p);
    assert_eq!((ing.rows(), ing.records().len()), (2, 1));
    let file = &ing.files[0];
    let reject = &file.rejects[0];
    assert_eq!(reject.kind, mailscope::parse::RejectKind::BadJson);
    // The byte where the rejected row starts: after the header and the good row.
    let offset = PURVIEW_HEADER.len() + good.len();
    let shown = reject.to_error(&file.path).to_string();
    assert!(
        shown.starts_with(&format!("{}: line 3, byte offset {offset}: ", p.display())),
        "{shown}"
    );
    assert!(shown.ends_with(&reject.reason), "{shown}");
    // Reports keep their text: the reject serializes as line and reason, as before.
    let json = serde_json::to_value(reject).unwrap();
    assert_eq!(
        json.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["line", "reason"]
    );
}
