//! Exports opened in Excel and saved as a workbook (#23 item 9): each sheet read like the CSV it
//! was, recognised by content. `tests/fixtures/workbook/` holds the sample exports as Excel saves
//! them (date serials, numbers, booleans; written by `make_workbooks.py`).

use crate::util::{assert_success, bin, fixture, read, read_one, sample, scope_report, t};
use mailscope::model::Format;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn workbook(name: &str) -> PathBuf {
    fixture(&format!("workbook/{name}"))
}

/// What a responder reads off a scope report (mailboxes, verdicts, messages, folders, actions,
/// the notification and the inventories), with the input's paths made one: a record's place
/// in the CSV (`file:line`) and in the sheet (`file#sheet:row`) name the same line.
fn findings(report: &Value, inputs: &[(&Path, &str)]) -> String {
    let mut text = serde_json::to_string_pretty(&serde_json::json!({
        "mailboxes": report["mailboxes"],
        "tenant_actions": report["tenant_actions"],
        "mailboxes_without_attacker_activity": report["mailboxes_without_attacker_activity"],
        "notification": report["notification"],
        "records": report["records"],
    }))
    .unwrap();
    for (path, name) in inputs {
        text = text.replace(&path.display().to_string(), name);
    }
    text
}

fn same_findings(csv: &str, book: &str, sheet: &str, with: &[PathBuf]) {
    let csv_path = sample(csv);
    let book_path = workbook(book);
    let sheet_path = PathBuf::from(format!("{}#{sheet}", book_path.display()));
    let mut a: Vec<PathBuf> = with.to_vec();
    a.push(csv_path.clone());
    let mut b: Vec<PathBuf> = with.to_vec();
    b.push(book_path.clone());
    let from_csv = scope_report(&a, &[]);
    let from_book = scope_report(&b, &[]);
    assert!(
        from_book["inputs"]
            .to_string()
            .contains(&format!("\"{}\"", sheet_path.display())),
        "the sheet is an input of its own"
    );
    let from_csv = findings(&from_csv, &[(&csv_path, "INPUT")]);
    let from_book = findings(&from_book, &[(&sheet_path, "INPUT")]);
    assert_eq!(from_book, from_csv);
}

#[test]
fn a_purview_export_saved_as_a_workbook_gives_the_findings_of_the_csv() {
    same_findings(
        "purview_audit_export.csv",
        "purview_audit_export.xlsx",
        "purview_audit_export",
        &[],
    );
    let ingest = read_one(&workbook("purview_audit_export.xlsx"));
    let sheet = &ingest.files[0];
    assert_eq!(sheet.format, Format::PurviewCsv);
    assert_eq!(sheet.encoding, "xlsx");
    assert_eq!((sheet.rows, sheet.records, sheet.rejected), (16, 16, 0));
}

#[test]
fn a_search_unifiedauditlog_export_saved_as_a_workbook_gives_the_findings_of_the_csv() {
    // The #TYPE line stays in A1, the header in row 2; CreationDate was day-first text.
    same_findings(
        "Search-UnifiedAuditLog_export.csv",
        "Search-UnifiedAuditLog_export.xlsx",
        "Search-UnifiedAuditLog_export",
        &[sample("purview_audit_export.csv")],
    );
    let ingest = read_one(&workbook("Search-UnifiedAuditLog_export.xlsx"));
    let sheet = &ingest.files[0];
    assert_eq!(sheet.format, Format::UnifiedAuditLogCsv);
    assert_eq!((sheet.rows, sheet.records, sheet.rejected), (5, 5, 0));
    // ResultIndex and ResultCount became numbers in Excel: back as digits, the coverage check
    // finds every index (no note of missing results).
    assert!(
        !sheet.notes.iter().any(|n| n.code == "incomplete-export"),
        "{:?}",
        sheet.notes
    );
}

#[test]
fn a_message_trace_saved_as_a_workbook_gives_the_inventory_and_notification_of_the_csv() {
    let audit = [sample("purview_audit_export.csv")];
    same_findings(
        "message_trace.csv",
        "message_trace.xlsx",
        "message_trace",
        &audit,
    );
    let report = scope_report(&[audit[0].clone(), workbook("message_trace.xlsx")], &[]);
    let inventories = report["inventories"].to_string();
    assert!(inventories.contains("message_trace.xlsx#message_trace"));
    let ingest = read_one(&workbook("message_trace.xlsx"));
    let sheet = &ingest.files[0];
    assert_eq!(sheet.format, Format::MessageTraceCsv);
    assert_eq!((sheet.inventory_rows, sheet.rejected), (19, 0));
}

#[test]
fn date_serials_come_back_as_the_utc_instants_the_export_wrote() {
    // The trace's Received was `3/11/2024 7:58:02 AM` (UTC) in the CSV; Excel kept a serial.
    let report = scope_report(
        &[
            sample("purview_audit_export.csv"),
            workbook("message_trace.xlsx"),
        ],
        &[],
    );
    let alice = report["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mailbox"] == "alice@contoso.com")
        .unwrap();
    let budget = alice["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            m["internet_message_id"] == "caal-budget-2024@am0pr01mb1234.eurprd01.prod.outlook.com"
        })
        .unwrap();
    assert_eq!(budget["metadata"]["date"], "2024-03-11T07:58:02Z");
    let trace = read_one(&workbook("message_trace.xlsx"));
    assert_eq!(
        (trace.files[0].first_micros, trace.files[0].last_micros),
        (
            Some(t("2024-03-11T07:40:00Z")),
            Some(t("2024-03-13T09:00:00Z"))
        )
    );
    // Every record at the instant the CSV gives it.
    let times = |p: PathBuf| {
        let mut v: Vec<(String, i64)> = read_one(&p)
            .records()
            .into_iter()
            .map(|r| (r.record_id.to_string(), r.time))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        times(workbook("Search-UnifiedAuditLog_export.xlsx")),
        times(sample("Search-UnifiedAuditLog_export.csv"))
    );
    assert_eq!(
        times(workbook("purview_audit_export.xlsx")),
        times(sample("purview_audit_export.csv"))
    );
}

#[test]
fn each_sheet_is_reported_like_a_file_and_a_notes_sheet_is_skipped_with_why() {
    let book = workbook("purview_with_notes.xlsx");
    let ingest = read_one(&book);
    let name = |sheet: &str| format!("{}#{sheet}", book.display());
    assert_eq!(ingest.files.len(), 1, "one sheet holds records");
    let audit = &ingest.files[0];
    assert_eq!(audit.path, name("Audit log"));
    assert_eq!(audit.format, Format::PurviewCsv);
    assert_eq!(
        (audit.rows, audit.records, audit.rejected),
        (17, 16, 1),
        "16 records, and the row whose AuditData Excel cut"
    );
    // The cut AuditData is rejected, naming the sheet (in the path), the row and the cell.
    let cut = &audit.rejects[0];
    assert_eq!(cut.line, 18);
    assert!(
        cut.reason.contains("cell F18") && cut.reason.contains("32767 characters"),
        "{}",
        cut.reason
    );
    // A cell Excel shows as #N/A is read as empty, and said.
    let error = audit.notes.iter().find(|n| n.code == "cell-error").unwrap();
    assert!(error.message.contains("G3"), "{}", error.message);
    let skipped: Vec<(&str, &str, bool)> = ingest
        .skipped
        .iter()
        .map(|s| (s.path.as_str(), s.reason.as_str(), s.error))
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    let notes = skipped.iter().find(|s| s.0 == name("Notes")).unwrap();
    assert!(
        notes.1.contains("not a recognised audit export") && !notes.2,
        "{notes:?}"
    );
    let empty = skipped.iter().find(|s| s.0 == name("Sheet3")).unwrap();
    assert!(empty.1.contains("empty sheet") && !empty.2, "{empty:?}");
    assert!(
        ingest.warnings.iter().any(|w| w.code == "rejected-rows"
            && w.path.as_deref() == Some(name("Audit log").as_str())
            && w.line == Some(18)),
        "the warning names the file and sheet, and the row"
    );
}

#[test]
fn a_workbook_is_known_by_its_content_not_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let renamed = dir.path().join("purview_audit_export.csv");
    std::fs::copy(workbook("purview_audit_export.xlsx"), &renamed).unwrap();
    let ingest = read_one(&renamed);
    assert_eq!(ingest.files.len(), 1, "{:?}", ingest.skipped);
    let sheet = &ingest.files[0];
    assert_eq!(
        sheet.path,
        format!("{}#purview_audit_export", renamed.display())
    );
    assert_eq!((sheet.format, sheet.records), (Format::PurviewCsv, 16));
    // And a zip that holds no workbook is said to be one, not read nor taken for an error.
    let zip = read_one(&workbook("exports.zip"));
    assert!(zip.files.is_empty());
    assert!(
        zip.skipped[0]
            .reason
            .contains("zip archive without a workbook part")
            && !zip.skipped[0].error,
        "{:?}",
        zip.skipped
    );
}

#[test]
fn a_damaged_workbook_is_one_error_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(workbook("purview_audit_export.xlsx")).unwrap();
    let cut = dir.path().join("cut_short.xlsx");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let ingest = read(&[
        cut.clone(),
        sample("message_trace.csv"),
        sample("purview_audit_export.csv"),
    ]);
    let damaged: Vec<_> = ingest
        .skipped
        .iter()
        .filter(|s| s.path == cut.display().to_string())
        .collect();
    assert_eq!(damaged.len(), 1, "{:?}", ingest.skipped);
    assert!(damaged[0].error);
    assert!(
        damaged[0].reason.contains("damaged Excel workbook"),
        "{}",
        damaged[0].reason
    );
    assert!(
        ingest
            .warnings
            .iter()
            .any(|w| w.code == "unreadable"
                && w.path.as_deref() == Some(&*cut.display().to_string()))
    );
    // The other files are read as ever.
    assert_eq!(ingest.files.len(), 2);
    assert_eq!(ingest.record_count(), 16);
    // And the command line says it, and still reports.
    let report = scope_report(&[cut, sample("purview_audit_export.csv")], &[]);
    assert!(
        report["skipped"]
            .to_string()
            .contains("damaged Excel workbook")
    );
    assert!(!report["mailboxes"].as_array().unwrap().is_empty());
}

#[test]
fn an_excel_97_2003_workbook_is_an_error_saying_to_save_it_as_xlsx() {
    // A compound file with a Workbook stream (written by xlwt): calamine's .xls reader builds
    // each sheet as a rectangle to its farthest cells while opening the file, which a damaged
    // file of a few kilobytes turns into gigabytes (found by fuzzing): said, not read.
    let xls = workbook("message_trace.xls");
    let ingest = read(&[xls.clone(), sample("purview_audit_export.csv")]);
    assert_eq!(ingest.files.len(), 1, "the CSV is read, the .xls not");
    let skipped = &ingest.skipped[0];
    assert_eq!(skipped.path, xls.display().to_string());
    assert!(skipped.error);
    assert!(
        skipped.reason.contains("Excel 97-2003") && skipped.reason.contains(".xlsx"),
        "{}",
        skipped.reason
    );
}

#[test]
fn a_case_of_a_workbook_holds_its_sheets_and_verifies_against_it() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case.parquet");
    let book = workbook("purview_with_notes.xlsx");
    let out = bin()
        .args(["export", "-q", "--output"])
        .arg(&case)
        .arg(&book)
        .output()
        .unwrap();
    assert_success(&out);
    let out = bin().arg("verify").arg(&case).arg(&book).output().unwrap();
    assert_success(&out);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("holds exactly what the evidence gives"),
        "{said}"
    );
    // Scoped from the case, the findings are those of the workbook.
    let from_case = scope_report(std::slice::from_ref(&case), &[]);
    let from_book = scope_report(std::slice::from_ref(&book), &[]);
    assert_eq!(from_case["mailboxes"], from_book["mailboxes"]);
    assert!(
        from_case["inputs"]
            .to_string()
            .contains("purview_with_notes.xlsx#Audit log")
    );
}
