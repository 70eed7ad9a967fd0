//! The `tenderflow` binary: a thin shell over the core, the store and the mailer.

mod accounts;
mod audit;
mod bid;
mod config;
mod demo;
mod documents;
mod export;
mod queues;
mod report;
mod serve;
mod setup;
mod signals;
mod tender;
mod workflow;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;

/// Tenderflow: open procurement and partner recruitment from declarative workflow definitions.
#[derive(Debug, Parser)]
#[command(name = "tenderflow", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    config: config::Config,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run the seed case (a union recruits 7 partners out of 18 bidders) end to end on an
    /// embedded SQLite database, with a simulated clock and email written as .eml files.
    Demo(demo::DemoArgs),
    /// Bring the database schema up to date.
    Migrate,
    /// Validate, list, show or draw workflow definitions.
    #[command(subcommand)]
    Workflow(workflow::WorkflowCmd),
    /// Manage accounts and their API tokens.
    #[command(subcommand)]
    Account(accounts::AccountCmd),
    /// Verify the tamper-evident event log.
    #[command(subcommand)]
    Audit(audit::AuditCmd),
    /// Inspect tenders.
    #[command(subcommand)]
    Tender(tender::TenderCmd),
    /// A bidder's own checks: reproduce a bid's commitment from the bid sent.
    #[command(subcommand)]
    Bid(bid::BidCmd),
    /// Inspect the mail outbox and re-send dead letters.
    #[command(subcommand)]
    Outbox(queues::OutboxCmd),
    /// Deadlines that failed to fire (isolated and retried with backoff).
    #[command(subcommand)]
    Timers(queues::TimersCmd),
    /// Deliver due timers and the outbox until stopped (Ctrl-C).
    Worker,
    /// Export open contracting data.
    #[command(subcommand)]
    Export(export::ExportCmd),
    /// Reports for the body's leadership (the quarterly report as PDF and CSV).
    #[command(subcommand)]
    Report(report::ReportCmd),
    /// Serve the HTTP API, fire deadlines and deliver mail until stopped (Ctrl-C).
    Serve(serve::ServeArgs),
}

/// Exit codes: 0 ok, 1 error, 2 usage (bad flags or config), 3 refused by a rule of the
/// workflow, 141 when the reader of our output went away (`tenderflow tender show | head`).
fn main() -> ExitCode {
    quiet_on_closed_pipe();
    // The config file's keys become arguments (see `config::file_args`); a later flag
    // overrides an earlier one, so the command line wins.
    let command = Cli::command().args_override_self(true);
    let args = match config::file_args(std::env::args_os().collect(), &command) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let matches = command.get_matches_from(args);
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    // Servers log what an operator needs (info); the demo and one-shot commands only warnings.
    let default_log = match cli.command {
        Cmd::Serve(_) | Cmd::Worker => "info",
        _ => "warn",
    };
    config::init_logging(&cli.config, default_log);
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
    let result = rt.block_on(async {
        match cli.command {
            Cmd::Demo(args) => demo::run(&cli.config, args).await,
            Cmd::Migrate => setup::migrate(&cli.config).await,
            Cmd::Workflow(cmd) => workflow::run(&cli.config, cmd).await,
            Cmd::Account(cmd) => accounts::account(&cli.config, cmd).await,
            Cmd::Audit(cmd) => audit::audit(&cli.config, cmd).await,
            Cmd::Tender(cmd) => tender::tender(&cli.config, cmd).await,
            Cmd::Bid(cmd) => bid::run(cmd),
            Cmd::Outbox(cmd) => queues::outbox(&cli.config, cmd).await,
            Cmd::Timers(cmd) => queues::timers(&cli.config, cmd).await,
            Cmd::Worker => queues::worker(&cli.config).await,
            Cmd::Serve(args) => serve::run(&cli.config, args).await,
            Cmd::Export(cmd) => export::export(&cli.config, cmd).await,
            Cmd::Report(cmd) => report::report(&cli.config, cmd).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `println!` panics when stdout is a pipe whose reader has gone (`… | head`). That is not an
/// error of ours: leave quietly with the shell's status for SIGPIPE instead of a backtrace.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.contains("Broken pipe") || message.contains("os error 32") {
            std::process::exit(141);
        }
        default(info);
    }));
}

/// A refusal by a rule or by the caller's rights: printed with its code, exit 3.
fn refused(e: tenderflow_app::AppError) -> anyhow::Result<ExitCode> {
    match e.code() {
        Some(code)
            if !matches!(
                e,
                tenderflow_app::AppError::Integrity { .. }
                    | tenderflow_app::AppError::Corrupt { .. }
            ) =>
        {
            let message = match &e {
                tenderflow_app::AppError::Rejected(r) => r.message.clone(),
                other => other.to_string(),
            };
            eprintln!("refused [{code}]: {message}");
            Ok(ExitCode::from(3))
        }
        _ => Err(e.into()),
    }
}
