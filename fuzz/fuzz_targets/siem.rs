#![no_main]
//! SIEM and collector shapes (Sentinel, CloudAppEvents, Graph, Elastic, Splunk, Hawk), as
//! whole files: every row is a record, a rejection, a skipped row of another application or a
//! message inventory's row (a Defender streaming file mixes EmailEvents rows with others).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = mailscope::parse::ParseOptions::default();
    if let Ok((_, _, _, p)) = mailscope::ingest::parse_bytes(data, &opts) {
        let inventory: u64 = p.inventory.iter().map(|r| u64::from(r.rows.max(1))).sum();
        assert_eq!(
            p.rows,
            p.records.len() as u64 + p.rejects.len() as u64 + p.skipped.len() as u64 + inventory
        );
    }
});
