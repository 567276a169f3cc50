//! The mobieus binary: parses the command line, opens the store, and runs one command.
//! The only place where every crate is wired together.

mod cli;
mod commands;
mod error;

use clap::Parser;
use cli::{Cli, Command};
use error::CliError;
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.command);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.one_line());
            ExitCode::from(e.exit_code())
        }
    }
}

/// Logs go to stderr (stdout is for output scripts read). Servers log requests at
/// `info`; one-shot commands only warnings, unless `RUST_LOG` says otherwise.
fn init_logging(command: &Command) {
    let default = match command {
        Command::Serve(_) | Command::Demo(_) | Command::Worker(_) => "info",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

/// For `?` in command code.
type Result<T = ()> = std::result::Result<T, CliError>;
