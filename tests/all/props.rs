//! Properties of the readers, over generated inputs.

use mailscope::detect::{Detected, detect};
use mailscope::ingest::{IngestOptions, ingest, parse_bytes};
use mailscope::parse::ParseOptions;
use mailscope::progress::NoProgress;
use proptest::prelude::*;

use crate::util::PURVIEW_HEADER as HEADER;

fn row(i: usize, secs: u32, subject: &str) -> String {
    let ad = serde_json::json!({
        "CreationTime": mailscope::time::rfc3339(1_700_000_000_000_000 + secs as i64 * 1_000_000).trim_end_matches('Z'),
        "Id": format!("rec-{i:05}"), "Operation": "MailItemsAccessed", "MailboxOwnerUPN": "p@x.com",
        "OperationProperties": [{"Name": "MailAccessType", "Value": "Bind"}],
        "Folders": [{"Path": "\\Inbox", "FolderItems": [{"InternetMessageId": format!("<{i}@x>"), "Subject": subject}]}]
    });
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    w.write_record([
        format!("rec-{i:05}"),
        "1/1/2024 1:00:00 AM".into(),
        "50".into(),
        "MailItemsAccessed".into(),
        "p@x.com".into(),
        ad.to_string(),
        String::new(),
        subject.to_string(),
    ])
    .unwrap();
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

fn export(rows: &[(u32, String)]) -> String {
    let mut s = String::from(HEADER);
    for (i, (secs, subject)) in rows.iter().enumerate() {
        s.push_str(&row(i, *secs, subject));
    }
    s
}

/// Text with the characters that break naive CSV handling (quotes, commas, CR/LF), placed both
/// inside AuditData (JSON-escaped) and raw in the last column (CSV-quoted, with real newlines).
fn subject() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-z\",\\r\\n;\\\\ é]{0,20}").unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_give_records_or_a_reason_never_a_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let opts = ParseOptions::default();
        if let Ok((_, _, _, p)) = parse_bytes(&data, &opts) {
            prop_assert_eq!(p.rows, p.records.len() as u64 + p.rejects.len() as u64);
        }
    }

    #[test]
    fn chunked_parallel_parsing_equals_one_chunk(rows in proptest::collection::vec((0u32..100_000, subject()), 1..40), chunk in 1usize..4096) {
        let text = export(&rows);
        let Detected::Csv(layout) = detect(&text) else { panic!("not csv") };
        let opts = ParseOptions::default();
        let whole = mailscope::parse::csv::parse_chunked(&text, &layout, &opts, usize::MAX);
        let chunked = mailscope::parse::csv::parse_chunked(&text, &layout, &opts, chunk);
        prop_assert_eq!(whole.records.len(), rows.len());
        prop_assert_eq!(&whole.records, &chunked.records);
        prop_assert_eq!(&whole.rejects, &chunked.rejects);
    }

    #[test]
    fn a_stray_quote_outside_quoted_fields_reads_as_in_one_chunk(rows in proptest::collection::vec((0u32..100_000, subject(), any::<bool>()), 1..40), chunk in 1usize..4096) {
        // A quote inside an unquoted field is a plain character to a CSV reader, but it breaks
        // quote parity: chunks cut by parity must then be cut again by scanning.
        let mut text = String::from(HEADER);
        for (i, (secs, subject, stray)) in rows.iter().enumerate() {
            let line = row(i, *secs, subject);
            text.push_str(&if *stray { line.replacen(",50,", ",5\"0,", 1) } else { line });
        }
        let Detected::Csv(layout) = detect(&text) else { panic!("not csv") };
        let opts = ParseOptions::default();
        let whole = mailscope::parse::csv::parse_chunked(&text, &layout, &opts, usize::MAX);
        let chunked = mailscope::parse::csv::parse_chunked(&text, &layout, &opts, chunk);
        prop_assert_eq!(whole.records.len(), rows.len());
        prop_assert_eq!(&whole.records, &chunked.records);
        prop_assert_eq!(&whole.rejects, &chunked.rejects);
    }

    #[test]
    fn reading_twice_or_split_in_two_equals_reading_once(rows in proptest::collection::vec((0u32..100_000, subject()), 2..30), cut in 1usize..29) {
        let cut = cut.min(rows.len() - 1);
        let dir = tempfile::tempdir().unwrap();
        let whole = dir.path().join("whole.csv");
        std::fs::write(&whole, export(&rows)).unwrap();
        let text = export(&rows);
        // Split after `cut` records: the second file gets its own header.
        let lines: Vec<&str> = text.split_inclusive("\r\n").collect();
        let mut first = String::new();
        let mut second = String::from(HEADER);
        let mut record = 0;
        let mut in_first = true;
        let mut buf = String::new();
        for l in lines.iter().skip(1) {
            buf.push_str(l);
            if buf.matches('"').count() % 2 == 0 {
                if in_first { first.push_str(&buf) } else { second.push_str(&buf) }
                buf.clear();
                record += 1;
                if record == cut { in_first = false; }
            }
        }
        let a = dir.path().join("a.csv");
        let b = dir.path().join("b.csv");
        std::fs::write(&a, format!("{HEADER}{first}")).unwrap();
        std::fs::write(&b, &second).unwrap();
        let copy = dir.path().join("copy.csv");
        std::fs::copy(&whole, &copy).unwrap();
        let read = |paths: Vec<std::path::PathBuf>| ingest(&paths, &IngestOptions::default(), &NoProgress);
        let key = |ing: &mailscope::ingest::Ingest| ing.records().iter().map(|r| (r.record_id.clone(), r.time, r.items.clone())).collect::<Vec<_>>();
        let once = read(vec![whole.clone()]);
        let twice = read(vec![whole, copy]);
        let split = read(vec![a, b]);
        prop_assert_eq!(key(&once), key(&twice));
        prop_assert_eq!(twice.duplicates(), rows.len() as u64);
        prop_assert_eq!(key(&once), key(&split));
    }
}
