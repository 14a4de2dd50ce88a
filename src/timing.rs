//! Phase times for profiling: with MAILSCOPE_TIMINGS set, `phase` prints the seconds since the
//! first call (the start of the run) on stderr, and with MAILSCOPE_MEMSTATS also the anonymous
//! memory at that moment. Off, it costs nothing after the first call.

use std::sync::OnceLock;
use std::time::Instant;

static START: OnceLock<Instant> = OnceLock::new();

/// Start the clock (the first call wins).
pub fn start() {
    START.get_or_init(Instant::now);
}

/// Report that phase `name` has ended.
pub fn phase(name: &str) {
    static ON: OnceLock<(bool, bool)> = OnceLock::new();
    let (times, memory) = *ON.get_or_init(|| {
        (
            std::env::var_os("MAILSCOPE_TIMINGS").is_some(),
            std::env::var_os("MAILSCOPE_MEMSTATS").is_some(),
        )
    });
    if times {
        let t = START.get_or_init(Instant::now);
        let anon = if memory {
            format!("  (RssAnon {} MB)", rss_anon_kb() / 1000)
        } else {
            String::new()
        };
        eprintln!("{:>8.3} s  {name}{anon}", t.elapsed().as_secs_f64());
    }
}

/// Anonymous resident memory of this process now, in kB (0 where /proc is not there).
pub fn rss_anon_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("RssAnon:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
