#![no_main]
//! Any bytes: decoding and format detection answer, never panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let decoded = mailscope::input::decode(data);
    let _ = mailscope::detect::detect(&decoded.text);
    let opts = mailscope::parse::ParseOptions::default();
    let _ = mailscope::ingest::parse_bytes(data, &opts);
});
