//! Phase times for profiling: with MAILSCOPE_TIMINGS set, `phase` prints the seconds since the
//! first call (the start of the run) on stderr. Off, it costs one environment lookup.

use std::sync::OnceLock;
use std::time::Instant;

static START: OnceLock<Instant> = OnceLock::new();

/// Start the clock (the first call wins).
pub fn start() {
    START.get_or_init(Instant::now);
}

/// Report that phase `name` has ended.
pub fn phase(name: &str) {
    static ON: OnceLock<bool> = OnceLock::new();
    if *ON.get_or_init(|| std::env::var_os("MAILSCOPE_TIMINGS").is_some()) {
        let t = START.get_or_init(Instant::now);
        eprintln!("{:>8.3} s  {name}", t.elapsed().as_secs_f64());
    }
}
