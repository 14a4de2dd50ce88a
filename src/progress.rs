//! Progress reporting without the library knowing how it is shown: the command line draws a bar,
//! tests count bytes, and the parsers only call `advance`. Below `ingest` and `parse` alike.

pub trait Progress: Sync {
    fn start(&self, _total_bytes: u64) {}
    fn advance(&self, _bytes: u64, _records: u64) {}
    fn finish(&self) {}
}

/// For callers that show nothing.
pub struct NoProgress;
impl Progress for NoProgress {}
