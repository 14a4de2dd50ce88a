#![no_main]
//! SearchResult.xml, mailbox and admin variants: every event is a record or a rejection.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let opts = mailscope::parse::ParseOptions::default();
    for admin in [false, true] {
        let p = mailscope::parse::xml::parse(&text, admin, &opts);
        assert_eq!(p.rows, p.records.len() as u64 + p.rejects.len() as u64);
    }
});
