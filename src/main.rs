//! The gohsp binary: parse the command line, set up logging, run the command, map errors to exit codes (2 = your input).
#![forbid(unsafe_code)]

use clap::Parser;
use gohsp::cli::{Cli, LogFormat};
use gohsp::commands::dispatch::dispatch;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

fn main() {
    gohsp::malloc_tuning::tune_malloc();
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let code = match dispatch(&cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            err.exit_code()
        }
    };
    std::process::exit(code);
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_env("GOHSP_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
