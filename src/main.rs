//! The `mailscope` command line: parse arguments, call the command, map outcomes to exit codes
//! (0 written, 1 input or usage error, 2 nothing could be read; `verify`: 0 the same, 1
//! differs, 2 cannot tell). The commands are in `cli`.

mod cli;

use clap::Parser;
use cli::Failure;
use cli::args::Cli;
use std::process::ExitCode;

#[cfg(feature = "fast-alloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    mailscope::alloc::no_huge_pages();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // `verify` keeps 1 for "the case differs": a usage error there is "cannot tell".
            let verify = std::env::args_os().skip(1).any(|a| a == "verify");
            let code = match (e.use_stderr(), verify) {
                (false, _) => 0,
                (true, false) => 1,
                (true, true) => 2,
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    // The one global pool, built once before any work (polars keeps its own).
    if cli.threads > 0 {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(cli.threads.into())
            .build_global()
        {
            eprintln!("mailscope: error: --threads {}: {e}", cli.threads);
            return ExitCode::from(1);
        }
    }
    let memstats = std::env::var_os("MAILSCOPE_MEMSTATS").is_some();
    let peak_anon = memstats.then(cli::memstats::sample_peak_anon);
    let result = cli::commands::run(cli);
    if memstats {
        cli::memstats::print_memstats();
        if let Some(peak) = peak_anon {
            eprintln!(
                "peak RssAnon (sampled every 5 ms): {} kB",
                peak.load(std::sync::atomic::Ordering::Relaxed)
            );
        }
    }
    let failure = match result {
        Ok(()) => return ExitCode::SUCCESS,
        Err(f) => f,
    };
    // Messages can quote evidence (a path, a value): shown inert like every text.
    match &failure {
        Failure::Usage(e) => {
            if is_broken_pipe(e) {
                return ExitCode::SUCCESS;
            }
            let message = format!("{e:#}");
            eprintln!(
                "mailscope: error: {}",
                mailscope::escape::terminal_lines(&message)
            );
        }
        Failure::Differs => {}
        Failure::SetsFailed { failed, total } => {
            eprintln!("mailscope: {failed} of {total} evidence set(s) failed: see the index");
        }
        Failure::CannotTell(e) => {
            let message = format!("{e:#}");
            eprintln!(
                "mailscope: cannot tell: {}",
                mailscope::escape::terminal_lines(&message)
            );
        }
        Failure::NothingRead(msg) => {
            eprintln!(
                "mailscope: nothing could be read: {}",
                mailscope::escape::terminal_lines(msg)
            );
        }
    }
    ExitCode::from(failure.exit_code())
}

/// `mailscope … | head` is a success.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
