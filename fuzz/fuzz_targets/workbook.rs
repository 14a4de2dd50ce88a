#![no_main]
//! Any bytes as a workbook (seeded with `tests/fixtures/workbook`): calamine opens it or says
//! why not, each sheet is written back as CSV text and read by the CSV detection and parsers;
//! nothing panics, allocates without bound or hangs.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = mailscope::parse::ParseOptions::default();
    let _ = mailscope::ingest::parse_workbook(data, "fuzz.xlsx", &opts);
});
