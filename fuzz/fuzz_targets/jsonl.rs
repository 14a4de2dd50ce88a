#![no_main]
//! JSON Lines and arrays of AuditData (and SIEM rows in them): every object is a record, a
//! rejection, or a skipped row of another application.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let opts = mailscope::parse::ParseOptions::default();
    for array in [false, true] {
        let p = mailscope::parse::json::parse(&text, array, &opts);
        assert_eq!(
            p.rows,
            p.records.len() as u64 + p.rejects.len() as u64 + p.skipped.len() as u64
        );
    }
});
