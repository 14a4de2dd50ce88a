//! The command line: arguments (`args`), one function per command (`commands`), where output may
//! go (`output`), the progress bar (`bar`) and the benchmark's memory figures (`memstats`).

pub mod args;
mod bar;
mod batch;
pub mod commands;
mod hunt;
pub mod memstats;
mod output;

/// Why a command failed, and so its exit code.
pub enum Failure {
    /// Exit 1: bad arguments, an unreadable case file, an output refused or not written.
    Usage(anyhow::Error),
    /// Exit 2: no input could be read at all.
    NothingRead(String),
    /// Exit 1, nothing more to say: `verify` found differences and printed them.
    Differs,
    /// Exit 2: `verify` cannot tell (the case or the evidence cannot be read).
    CannotTell(anyhow::Error),
    /// Exit 3: `batch` ran and wrote its index, but these many of its sets failed.
    SetsFailed { failed: usize, total: usize },
}

impl Failure {
    /// The process's exit code for this failure: chosen here, from the kind of failure, and
    /// never from its message.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) | Failure::Differs => 1,
            Failure::NothingRead(_) | Failure::CannotTell(_) => 2,
            Failure::SetsFailed { .. } => 3,
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Usage(e)
    }
}
