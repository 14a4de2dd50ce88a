//! Every input format, read from the project's own fixtures and samples.

use crate::util::*;
use mailscope::frame::Frame;
use mailscope::model::Format;
use mailscope::time::rfc3339;

#[test]
fn purview_2022_six_columns_with_affected_items() {
    let ing = read_one(&fixture("purview_2022_6col.csv"));
    assert_eq!(ing.files[0].format, Format::PurviewCsv);
    assert_eq!(
        (
            ing.files[0].rows,
            ing.files[0].records,
            ing.files[0].rejected
        ),
        (1, 1, 0)
    );
    let r = &ing.records()[0];
    assert_eq!(rfc3339(r.time), "2022-06-26T05:40:02Z");
    assert_eq!(r.time_source, "AuditData.CreationTime");
    assert_eq!(r.operation, "HardDelete");
    assert_eq!(r.mailbox.as_deref(), Some("test@email.com"));
    assert_eq!(r.client_ip.as_deref(), Some("180.150.36.168"));
    assert_eq!(r.line, 2);
    assert_eq!(r.items.len(), 1);
    assert_eq!(
        r.items[0].internet_message_id.as_deref(),
        Some("1234@sy4p282mb3551.ausp282.prod.outlook.com")
    );
    assert_eq!(
        r.items[0].internet_message_id_raw.as_deref(),
        Some("<1234@SY4P282MB3551.AUSP282.PROD.OUTLOOK.COM>")
    );
    assert_eq!(r.items[0].subject.as_deref(), Some("Action"));
    assert_eq!(r.folder_path.as_deref(), Some("\\Inbox"));
}

#[test]
fn purview_2026_quoted_iso_date_with_trailing_space_is_the_fallback_time() {
    let ing = read_one(&fixture("purview_2026_isodate.csv"));
    let r = &ing.records()[0];
    assert_eq!(rfc3339(r.time), "2026-01-24T06:54:24Z");
    assert_eq!(r.time_source, "CreationDate");
    assert_eq!(r.client_ip.as_deref(), Some("2001:db8::abcd"));
    assert_eq!(r.client_port, Some(12345));
}

#[test]
fn classic_portal_four_columns() {
    let ing = read_one(&fixture("classic_portal.csv"));
    assert_eq!(ing.files[0].format, Format::ClassicCsv);
    let r = &ing.records()[0];
    assert_eq!(r.operation, "MailboxLogin");
    assert_eq!(r.client_ip.as_deref(), Some("10.11.12.13"));
    assert_eq!(rfc3339(r.time), "2021-11-02T14:03:09Z");
}

#[test]
fn powershell_export_with_bom_type_line_quotes_and_culture_dates() {
    let ing = read_one(&sample("Search-UnifiedAuditLog_export.csv"));
    let f = &ing.files[0];
    assert_eq!(
        (f.format, f.encoding),
        (Format::UnifiedAuditLogCsv, "utf-8-bom")
    );
    assert_eq!((f.rows, f.records, f.rejected), (5, 5, 0));
    // Line 1 is #TYPE, line 2 the header: the first record is on line 3.
    let lines: Vec<u64> = ing.records().iter().map(|r| r.line).collect();
    assert!(lines.contains(&3), "{lines:?}");
    assert!(
        ing.records()
            .iter()
            .all(|r| r.time_source == "AuditData.CreationTime")
    );
}

fn utf16le_with_bom(s: &str) -> Vec<u8> {
    [0xFF, 0xFE]
        .into_iter()
        .chain(s.encode_utf16().flat_map(|u| u.to_le_bytes()))
        .collect()
}

#[test]
fn utf16_exports_read_the_same_as_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(sample("Search-UnifiedAuditLog_export.csv")).unwrap();
    let p = dir.path().join("ual_utf16.csv");
    std::fs::write(&p, utf16le_with_bom(text.trim_start_matches('\u{feff}'))).unwrap();
    let be = dir.path().join("xml_utf16be.xml");
    let xml = std::fs::read_to_string(sample("SearchResult.xml")).unwrap();
    std::fs::write(
        &be,
        [0xFE, 0xFF]
            .into_iter()
            .chain(xml.encode_utf16().flat_map(|u| u.to_be_bytes()))
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let a = read_one(&p);
    let b = read_one(&sample("Search-UnifiedAuditLog_export.csv"));
    assert_eq!(a.files[0].encoding, "utf-16le-bom");
    let strip = |v: &[mailscope::model::Record<'static>]| {
        v.iter()
            .map(|r| (r.record_id.clone(), r.time, r.items.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&a.records()), strip(&b.records()));
    let c = read_one(&be);
    assert_eq!(
        (c.files[0].encoding, c.records().len()),
        ("utf-16be-bom", 4)
    );
}

#[test]
fn excel_resaved_semicolon_csv() {
    let dir = tempfile::tempdir().unwrap();
    let mut rdr = csv::Reader::from_path(fixture("purview_2022_6col.csv")).unwrap();
    let p = dir.path().join("resaved.csv");
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_path(&p)
        .unwrap();
    w.write_record(rdr.headers().unwrap()).unwrap();
    for r in rdr.records() {
        w.write_record(&r.unwrap()).unwrap();
    }
    w.flush().unwrap();
    let ing = read_one(&p);
    assert_eq!(ing.records().len(), 1);
    assert_eq!(ing.records()[0].operation, "HardDelete");
    assert!(
        ing.warnings.iter().any(|w| w.code == "resaved-csv"),
        "{:?}",
        ing.warnings
    );
}

#[test]
fn mailbox_audit_log_showdetails_without_auditdata() {
    let ing = read_one(&fixture("mailbox_audit_log_showdetails.csv"));
    let f = &ing.files[0];
    assert_eq!(f.format, Format::MailboxAuditLogCsv);
    assert_eq!((f.rows, f.records, f.rejected), (3, 3, 0));
    // 25/04/2024 can only be day-first: the whole file is read day-first, and the note says so.
    assert!(
        f.notes
            .iter()
            .any(|n| n.code == "date-order" && n.message.contains("day/month/year")),
        "{:?}",
        f.notes
    );
    assert!(f.notes.iter().any(|n| n.code == "timezone-assumed-utc"));
    let records = ing.records();
    let by_id = |id: &str| records.iter().find(|r| r.record_id == id).unwrap();
    let bind = by_id("RgAAAAlee1");
    assert_eq!(rfc3339(bind.time), "2024-04-25T14:03:10Z");
    assert_eq!(bind.mailbox.as_deref(), Some("lee@fabrikam.com"));
    assert_eq!(bind.mail_access_type.as_deref(), Some("Bind"));
    assert_eq!(bind.operation_count, Some(2));
    let ids: Vec<_> = bind
        .items
        .iter()
        .filter_map(|i| i.internet_message_id.clone())
        .collect();
    assert_eq!(ids, vec!["m1@fabrikam.com", "m2@fabrikam.com"]);
    let sync = by_id("RgAAAAlee2");
    assert_eq!(rfc3339(sync.time), "2024-05-03T09:00:00Z");
    assert!(sync.is_throttled);
    assert_eq!(sync.mail_access_type.as_deref(), Some("Sync"));
    let del = by_id("RgAAAAlee3");
    assert_eq!(del.logon_type.as_deref(), Some("Delegate"));
    assert_eq!(del.items[0].subject.as_deref(), Some("Quarterly numbers"));
}

#[test]
fn ambiguous_culture_dates_are_flagged_and_follow_date_order() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("mal.csv");
    std::fs::write(&p, "Operation,LogonType,MailboxOwnerUPN,LastAccessed,Identity\r\nFolderBind,Delegate,a@x.com,01/02/2024 10:00:00,id1\r\n").unwrap();
    let ing = read_one(&p);
    assert_eq!(rfc3339(ing.records()[0].time), "2024-01-02T10:00:00Z");
    assert!(
        ing.warnings
            .iter()
            .any(|w| w.code == "ambiguous-date-order"),
        "{:?}",
        ing.warnings
    );
    let dmy = mailscope::ingest::ingest(
        std::slice::from_ref(&p),
        &mailscope::ingest::IngestOptions {
            date_order: Some(mailscope::time::DateOrder::Dmy),
            ..Default::default()
        },
        &mailscope::progress::NoProgress,
    );
    assert_eq!(rfc3339(dmy.records()[0].time), "2024-02-01T10:00:00Z");
}

#[test]
fn json_lines_and_arrays() {
    let l = read_one(&fixture("auditdata.jsonl"));
    let f = &l.files[0];
    assert_eq!(
        (f.format, f.rows, f.records, f.rejected),
        (Format::AuditDataJsonl, 3, 2, 1)
    );
    assert_eq!(f.rejects[0].line, 3);
    assert!(
        f.rejects[0].reason.contains("truncated"),
        "{}",
        f.rejects[0].reason
    );
    let z = &l.records()[0];
    assert_eq!(z.logon_type.as_deref(), Some("Owner"));
    assert_eq!(z.client_ip.as_deref(), Some("198.51.100.77"));
    assert_eq!(z.aad_session_id.as_deref(), Some("aad-zoe-1"));
    assert_eq!(z.items[0].size, Some(1156492));
    assert_eq!(
        l.records()[1].items[0].folder_path.as_deref(),
        Some("\\Sent Items")
    );

    let a = read_one(&fixture("auditdata_array.json"));
    assert_eq!(
        (a.files[0].format, a.records().len(), a.rejected()),
        (Format::AuditDataJson, 2, 0)
    );
    assert_eq!(a.records()[0].line, 2);
}

#[test]
fn mailbox_searchresult_xml_applies_offsets_and_reads_the_doc_style_item() {
    let ing = read_one(&sample("SearchResult.xml"));
    let f = &ing.files[0];
    assert_eq!(
        (f.format, f.rows, f.records, f.rejected),
        (Format::MailboxAuditXml, 4, 4, 0)
    );
    let times: Vec<String> = ing.records().iter().map(|r| rfc3339(r.time)).collect();
    assert_eq!(
        times,
        [
            "2024-03-10T08:00:00Z",
            "2024-03-12T00:30:00.125Z",
            "2024-03-12T00:31:10Z",
            "2024-03-12T00:35:42.500Z"
        ]
    );
    let records = ing.records();
    let del = records
        .iter()
        .find(|r| r.operation == "HardDelete")
        .unwrap();
    assert_eq!(
        del.items[0].subject.as_deref(),
        Some("Security alert: new sign-in to your account")
    );
    assert_eq!(del.mailbox.as_deref(), Some("dave@contoso.com"));
    assert_eq!(del.actor.as_deref(), Some("Eve Attacker"));
    assert!(del.record_id.starts_with("xml-"));
}

#[test]
fn admin_searchresult_xml_becomes_records() {
    let ing = read_one(&fixture("searchresult_admin.xml"));
    assert_eq!(ing.files[0].format, Format::AdminAuditXml);
    assert_eq!(ing.records().len(), 2);
    let set = &ing.records()[0];
    assert_eq!(set.operation, "Set-Mailbox");
    assert_eq!(rfc3339(set.time), "2015-10-18T22:48:15Z");
    assert_eq!(set.mailbox.as_deref(), Some("david"));
    assert!(
        set.detail
            .as_deref()
            .unwrap()
            .contains("ForwardingSmtpAddress=smtp:drop@example.net")
    );
    assert_eq!(
        ing.records()[1].mailbox.as_deref(),
        Some("david@contoso.com")
    );
}

#[test]
fn damaged_rows_are_rejected_with_line_and_reason_and_the_rest_is_read() {
    let ing = read_one(&fixture("purview_damaged.csv"));
    let f = &ing.files[0];
    assert_eq!((f.rows, f.records, f.duplicates, f.rejected), (5, 1, 1, 3));
    assert_eq!(f.rows, f.records + f.duplicates + f.rejected);
    let rej: Vec<(u64, &str)> = f
        .rejects
        .iter()
        .map(|r| (r.line, r.reason.as_str()))
        .collect();
    assert_eq!(rej[0].0, 3);
    assert!(
        rej[0].1.contains("AuditData is not valid JSON"),
        "{}",
        rej[0].1
    );
    assert_eq!(rej[1], (4, "expected 8 columns, found 3"));
    assert_eq!(rej[2].0, 5);
    assert!(rej[2].1.contains("not a date"), "{}", rej[2].1);
}

#[test]
fn duplicates_across_files_are_kept_once() {
    let ing = read(&[sample("")]);
    // Five audit exports (one of eDiscovery activity) and a message trace (its rows are no
    // audit rows).
    assert_eq!(ing.files.len(), 6);
    // One within the exports of the incident, two that Sentinel repeats from Purview.
    assert_eq!(ing.duplicates(), 3);
    let records = ing.records();
    let ids: std::collections::HashSet<_> = records.iter().map(|r| &*r.record_id).collect();
    assert_eq!(ids.len(), records.len());
    assert_eq!(
        ing.rows(),
        ing.records().len() as u64 + ing.duplicates() + ing.rejected() + ing.not_mailbox_audit()
    );
    // The same export twice (a copy) adds nothing but duplicates.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        sample("purview_audit_export.csv"),
        dir.path().join("copy.csv"),
    )
    .unwrap();
    let twice = read(&[
        sample("purview_audit_export.csv"),
        dir.path().join("copy.csv"),
    ]);
    // Each record is kept once, in whichever file sorts first by path (not by argument).
    let kept: u64 = twice.files.iter().map(|f| f.records).sum();
    assert_eq!(kept, twice.files[0].rows);
    assert_eq!(twice.duplicates(), kept);
    assert_eq!(twice.records().len() as u64, kept);
}

#[test]
fn folders_are_walked_and_non_exports_skipped_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("nested")).unwrap();
    std::fs::copy(
        fixture("classic_portal.csv"),
        dir.path().join("nested/a.csv"),
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "case notes\n").unwrap();
    std::fs::write(dir.path().join("empty.csv"), "").unwrap();
    let ing = read(&[dir.path().to_path_buf()]);
    assert_eq!(ing.files.len(), 1);
    assert_eq!(ing.skipped.len(), 2);
    assert!(ing.skipped.iter().all(|s| !s.error));
    assert!(ing.skipped.iter().any(
        |s| s.path.ends_with("notes.txt") && s.reason.contains("not a recognised audit export")
    ));
}

#[test]
fn capped_exports_are_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("capped.csv");
    let mut s = String::from("CreationDate,UserIds,Operations,AuditData\n");
    for i in 0..5000 {
        s.push_str(&format!(
            "2024-01-01T00:00:00Z,u@x.com,MailboxLogin,\"{{\"\"Id\"\":\"\"id{i}\"\",\"\"Operation\"\":\"\"MailboxLogin\"\",\"\"CreationTime\"\":\"\"2024-01-01T00:00:00\"\"}}\"\n"
        ));
    }
    std::fs::write(&p, s).unwrap();
    let ing = read_one(&p);
    assert_eq!(ing.records().len(), 5000);
    assert!(ing.warnings.iter().any(|w| w.code == "probably-truncated"));
}

#[test]
fn the_frame_has_one_row_per_record_and_per_item() {
    let ing = read(&[sample("")]);
    let frame = Frame::from_records(&ing.records(), &ing.file_paths()).unwrap();
    assert_eq!(frame.records.height(), ing.records().len());
    assert_eq!(
        frame.items.height(),
        ing.records().iter().map(|r| r.items.len()).sum::<usize>()
    );
    let names: Vec<String> = frame
        .records
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    for c in [
        "time",
        "record_id",
        "source_file",
        "source_line",
        "mailbox",
        "client_ip",
        "client_port",
        "mail_access_type",
        "is_throttled",
    ] {
        assert!(names.iter().any(|n| n == c), "missing column {c}");
    }
}

#[test]
fn building_the_frame_block_by_block_gives_the_same_frame() {
    // More records than one block, each with items, so row offsets of items are exercised.
    let records: Vec<mailscope::model::Record> = (0..70_001)
        .map(|i| mailscope::model::Record {
            record_id: format!("r{i}").into(),
            time: i as i64 * 1_000_000,
            operation: "MailItemsAccessed".into(),
            mailbox: Some(format!("m{}@x.com", i % 17).into()),
            items: (0..(i % 3))
                .map(|k| mailscope::model::Item {
                    internet_message_id: Some(format!("{i}-{k}@x").into()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    let files = vec!["f".to_string()];
    let whole = Frame::from_records(&records, &files).unwrap();
    let blocks = Frame::concat(
        records
            .chunks(999)
            .map(|c| Frame::from_records(c, &files).unwrap()),
    )
    .unwrap();
    assert!(whole.records.equals_missing(&blocks.records));
    assert!(whole.items.equals_missing(&blocks.items));
    assert_eq!(blocks.items.height(), 70_000);
}

/// Classic-portal rows for records `ids` (record i at minute i), in the order given.
fn classic_csv(ids: &[u32]) -> String {
    let mut s = String::from("CreationDate,UserIds,Operations,AuditData\n");
    for i in ids {
        s.push_str(&format!(
            "2024-01-01T00:{i:02}:00Z,u@x.com,MailboxLogin,\"{{\"\"Id\"\":\"\"id{i:02}\"\",\"\"Operation\"\":\"\"MailboxLogin\"\",\"\"CreationTime\"\":\"\"2024-01-01T00:{i:02}:00\"\"}}\"\n"
        ));
    }
    s
}

#[test]
fn records_come_out_in_time_order_whatever_the_order_of_files_and_rows() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, ids: &[u32]| {
        let p = dir.path().join(name);
        std::fs::write(&p, classic_csv(ids)).unwrap();
        p
    };
    // Newest first, files in reverse time order (blocks that do not overlap).
    let late = write("late.csv", &[19, 18, 17, 16, 15, 14, 13, 12, 11, 10]);
    let early = write("early.csv", &[9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    // Interleaved times across files, and one record in both (blocks that overlap).
    let odd = write("odd.csv", &[1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
    let even = write("even.csv", &[18, 16, 14, 12, 10, 8, 6, 4, 2, 0, 3]);
    let ids = |ing: &mailscope::ingest::Ingest| -> Vec<String> {
        ing.records()
            .into_iter()
            .map(|r| r.record_id.into_owned())
            .collect()
    };
    let expected: Vec<String> = (0..20).map(|i| format!("id{i:02}")).collect();

    let apart = read(&[late.clone(), early.clone()]);
    assert_eq!(ids(&apart), expected);
    assert_eq!((apart.files[0].records, apart.files[1].records), (10, 10));
    assert_eq!(
        apart.files[0].first_time.as_deref(),
        Some("2024-01-01T00:10:00Z")
    );

    let mixed = read(&[odd.clone(), even.clone()]);
    assert_eq!(ids(&mixed), expected);
    // id03 is in both, alike: which copy is kept is decided by the copies (then their paths),
    // never by the order of the arguments: even.csv's, odd.csv's counted as a duplicate.
    assert_eq!(
        (mixed.files[0].duplicates, mixed.files[1].duplicates),
        (1, 0)
    );
    let id03 = |ing: &mailscope::ingest::Ingest| {
        let r = ing
            .records()
            .into_iter()
            .find(|r| r.record_id == "id03")
            .unwrap();
        (r.file, r.line)
    };
    assert_eq!(id03(&mixed), (1, 12));
    // The other order of arguments keeps the same copy.
    let swapped = read(&[even, odd]);
    assert_eq!(
        (swapped.files[0].duplicates, swapped.files[1].duplicates),
        (0, 1)
    );
    assert_eq!(id03(&swapped), (0, 12));
}
