#![no_main]
//! Purview CSV rows with arbitrary content: every row is a record or a rejection, and the chunk
//! size never changes the result.
use libfuzzer_sys::fuzz_target;

const HEADER: &str = "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\r\n";

fuzz_target!(|data: &[u8]| {
    let body = String::from_utf8_lossy(data);
    let text = format!("{HEADER}{body}");
    let opts = mailscope::parse::ParseOptions::default();
    let mailscope::detect::Detected::Csv(layout) = mailscope::detect::detect(&text) else { return };
    let a = mailscope::parse::csv::parse_chunked(&text, &layout, &opts, 1 << 20);
    let b = mailscope::parse::csv::parse_chunked(&text, &layout, &opts, 7);
    assert_eq!(a.rows, a.records.len() as u64 + a.rejects.len() as u64);
    assert_eq!(a.records, b.records);
    assert_eq!(a.rejects, b.rejects);
});
