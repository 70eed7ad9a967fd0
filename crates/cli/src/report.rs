//! `tenderflow report quarterly`: the quarterly report of the stage after the award, written
//! as a PDF (with its chart) and a CSV, for the body's leadership.

use crate::config::Config;
use anyhow::Context;
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tenderflow_core::quarterly::QuarterlyReport;
use tenderflow_web::Lang;

#[derive(Debug, Subcommand)]
pub enum ReportCmd {
    /// Write the quarterly report (PDF and CSV): per venue and partner, places delivered
    /// against promised, evaluations, complaints, terminations and the inspectors' record.
    Quarterly {
        /// The quarter, e.g. 2026-Q2 (default: the current one).
        #[arg(long)]
        quarter: Option<String>,
        /// The directory to write `quarterly-<quarter>.pdf` and `.csv` into.
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// The PDF's language: zh-CN or en.
        #[arg(long, default_value = "zh-CN", value_parser = ["zh-CN", "en"])]
        lang: String,
    },
}

pub async fn report(config: &Config, cmd: ReportCmd) -> anyhow::Result<ExitCode> {
    let ReportCmd::Quarterly { quarter, out, lang } = cmd;
    let app = config.app().await?;
    let quarter = match quarter {
        Some(q) => tenderflow_app::reports::parse_quarter(&q)?,
        None => app.current_quarter(),
    };
    let report = app
        .quarterly_report(&tenderflow_app::Caller::operator(), quarter)
        .await?;
    let lang = if lang == "en" { Lang::En } else { Lang::Zh };
    let (pdf, csv) = write(&report, &out, lang)?;
    eprintln!(
        "{}: {} partner(s), {} activities; written {} and {}",
        report.quarter,
        report.partners.len(),
        report.totals.activities,
        pdf.display(),
        csv.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes the report's PDF and CSV into `dir` (made if missing): their paths.
pub fn write(
    report: &QuarterlyReport,
    dir: &Path,
    lang: Lang,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let pdf = dir.join(format!("quarterly-{}.pdf", report.quarter));
    let csv = dir.join(format!("quarterly-{}.csv", report.quarter));
    let bytes = tenderflow_web::quarterly_report_pdf(report, lang)
        .map_err(|e| anyhow::anyhow!("the PDF could not be made: {e}"))?;
    std::fs::write(&pdf, bytes).with_context(|| format!("writing {}", pdf.display()))?;
    std::fs::write(&csv, report.to_csv()).with_context(|| format!("writing {}", csv.display()))?;
    Ok((pdf, csv))
}
