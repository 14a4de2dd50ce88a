//! `MAILSCOPE_MEMSTATS`: the memory figures the benchmark reads, printed on stderr.

use mailscope::timing;

/// The kernel reports a peak only for all resident memory (VmHWM, which counts the mapped input
/// too); the peak of anonymous memory — what the run itself allocates — is sampled here.
pub fn sample_peak_anon() -> std::sync::Arc<std::sync::atomic::AtomicU64> {
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let p = peak.clone();
    std::thread::spawn(move || {
        loop {
            p.fetch_max(timing::rss_anon_kb(), std::sync::atomic::Ordering::Relaxed);
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    });
    peak
}

/// Peak and current memory from the kernel (for the benchmark): VmHWM is peak resident memory,
/// RssAnon the heap now, RssFile the mapped input pages now.
pub fn print_memstats() {
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        let wanted = ["VmHWM", "RssAnon", "RssFile"];
        let line: Vec<String> = status
            .lines()
            .filter(|l| wanted.iter().any(|w| l.starts_with(w)))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        eprintln!("{}", line.join(", "));
    }
}

/// The bytes the frame holds, column by column (polars' own estimate leaves views out).
pub fn print_frame(frame: &mailscope::frame::Frame) {
    let (held, views) = frame.held_bytes();
    eprintln!(
        "frame: {} MB held, {} MB of it string views",
        held / 1_000_000,
        views / 1_000_000
    );
    for (table, name, views, data) in frame.column_bytes() {
        eprintln!(
            "  {table}.{name}: {} MB views, {} MB data",
            views / 1_000_000,
            data / 1_000_000
        );
    }
}
