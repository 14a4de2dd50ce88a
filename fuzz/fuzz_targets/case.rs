#![no_main]
//! Any bytes as a saved case: the reader answers (a case, not a case, or unreadable) and never
//! ends the process. A panic inside polars' Parquet reader is caught, as `ingest` catches it;
//! what this target finds is what catching cannot mend: aborts, runaway allocation, hangs.
use libfuzzer_sys::fuzz_target;
use mailscope::frame::Columns;

fuzz_target!(|data: &[u8]| {
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    for columns in [Columns::Views, Columns::All] {
        let _ = std::panic::catch_unwind(|| mailscope::case::read(data, columns));
    }
});
