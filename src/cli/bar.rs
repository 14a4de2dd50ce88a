//! The progress bar: indicatif over bytes, on stderr, only on a terminal and never with --quiet.

use mailscope::progress::Progress;
use std::io::IsTerminal;

/// A bar for a run, or `None` where none should be drawn.
pub fn for_run(quiet: bool) -> Option<Bar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(0),
        indicatif::ProgressDrawTarget::stderr_with_hz(4),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} reading {bytes}/{total_bytes} ({bytes_per_sec}, {eta}) {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(Bar {
        bar,
        records: Default::default(),
    })
}

/// A bar over the bytes of one evidence set of a batch, drawn under the batch's own bar.
pub fn for_set(batch: &indicatif::ProgressBar, name: &str) -> Option<Bar> {
    if batch.is_hidden() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("  {prefix} {bytes}/{total_bytes} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_prefix(mailscope::escape::terminal(name).into_owned());
    Some(Bar {
        bar,
        records: Default::default(),
    })
}

impl Bar {
    pub fn inner(&self) -> &indicatif::ProgressBar {
        &self.bar
    }
}

/// indicatif bar over bytes, on stderr, only on a terminal.
pub struct Bar {
    bar: indicatif::ProgressBar,
    records: std::sync::atomic::AtomicU64,
}

impl Progress for Bar {
    fn start(&self, total: u64) {
        self.bar.set_length(total);
    }
    fn advance(&self, bytes: u64, records: u64) {
        self.bar.inc(bytes);
        let n = self
            .records
            .fetch_add(records, std::sync::atomic::Ordering::Relaxed)
            + records;
        let secs = self.bar.elapsed().as_secs_f64().max(0.001);
        self.bar
            .set_message(format!("{n} records, {:.0} records/s", n as f64 / secs));
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
