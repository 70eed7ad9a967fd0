//! Reports for the body's leadership: the quarterly report of the stage after the award
//! (per venue and partner), compiled by the core from every tender that has agreements.

use crate::{App, AppError, Caller, Result, roles};
use tenderflow_core::quarterly::{self, Quarter, QuarterlyReport};
use tenderflow_core::{Tender, Workflow};

/// `text` as a quarter (`2026-Q2`), or a clear error with a stable code.
pub fn parse_quarter(text: &str) -> Result<Quarter> {
    text.trim().parse().map_err(|message| AppError::Invalid {
        code: "invalid_quarter",
        message,
    })
}

impl App {
    /// The quarter the store's clock is in (UTC).
    pub fn current_quarter(&self) -> Quarter {
        let now = self.clock().now();
        Quarter::of(tenderflow_core::Calendar::default().local_date(now))
    }

    /// The quarterly report of `quarter` (staff, inspectors, administrators): every tender
    /// with agreements, each read once.
    pub async fn quarterly_report(
        &self,
        caller: &Caller,
        quarter: Quarter,
    ) -> Result<QuarterlyReport> {
        caller.require(roles::OFFICIALS)?;
        let mut loaded: Vec<(std::sync::Arc<Workflow>, Tender)> = Vec::new();
        for row in self.store.tenders().await? {
            let (wf, t) = self.store.load(&row.tender_id).await?;
            if wf.contracts().is_some() && !t.agreements.is_empty() {
                loaded.push((wf, t));
            }
        }
        let refs: Vec<(&Workflow, &Tender)> = loaded.iter().map(|(w, t)| (&**w, t)).collect();
        let mut report = quarterly::compile(&refs, quarter);
        report.name_partners(&self.names().await?);
        Ok(report)
    }
}
