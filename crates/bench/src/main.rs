//! `tenderflow-bench`: load benchmarks of the whole server (bids over HTTP against an
//! in-process `tenderflow serve`) and of mail dispatch. Figures and commands are recorded in
//! docs/PERFORMANCE.md. A separate binary, so that the server does not link the benchmark's
//! HTTP client.

mod bench;
mod footprint;

use clap::Parser;
use std::process::ExitCode;

/// Load benchmarks of Tenderflow.
#[derive(Debug, Parser)]
#[command(name = "tenderflow-bench", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    #[command(flatten)]
    Bench(bench::BenchCmd),
    /// Footprint and scale: fills a database with many tenders (most finished), starts
    /// `tenderflow serve` processes on it, times their start, bids over HTTP to the active
    /// tenders while sampling each server's memory, and counts the events replayed per load.
    Footprint(footprint::FootprintArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let work = async {
        match cli.command {
            Command::Bench(cmd) => bench::run(cmd).await,
            Command::Footprint(args) => footprint::run(args).await,
        }
    };
    match rt.block_on(work) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
