//! What inspectors watch: the red flags of a tender (from its event log, with the flags
//! across the buyer's awarded tenders that involve it) and of every tender at once.

use crate::{App, Caller, Result, roles};
use tenderflow_core::Workflow;
use tenderflow_core::model::Event;
use tenderflow_core::red_flags::{RedFlag, TenderOutcome, across_tenders, red_flags};

/// The buyer a definition names (its publication's buyer), for the flags across tenders.
fn buyer(wf: &Workflow) -> String {
    wf.definition()
        .publication
        .buyer
        .as_ref()
        .map_or_else(|| wf.definition().id.clone(), |b| b.id.clone())
}

impl App {
    async fn decoded(&self, id: &str) -> Result<(std::sync::Arc<Workflow>, Vec<Event>)> {
        let (wf, _) = self.store.load(id).await?;
        let events = self
            .store
            .events_between(id, 1, i64::MAX)
            .await?
            .into_iter()
            .map(|(_, e)| e)
            .collect();
        Ok((wf, events))
    }

    /// Every tender's red flags, then the flags across tenders (staff, inspectors).
    pub async fn all_red_flags(&self, caller: &Caller) -> Result<Vec<RedFlag>> {
        caller.require(roles::OFFICIALS)?;
        let mut flags = Vec::new();
        let mut outcomes = Vec::new();
        for row in self.store.tenders().await? {
            let (wf, events) = self.decoded(&row.tender_id).await?;
            flags.extend(red_flags(&wf, &row.tender_id, &events, &self.red_flags));
            outcomes.extend(TenderOutcome::of(&row.tender_id, &buyer(&wf), &events));
        }
        flags.extend(across_tenders(&outcomes, &self.red_flags));
        Ok(flags)
    }

    /// One tender's red flags, with the flags across tenders that involve it (staff,
    /// inspectors).
    pub async fn tender_red_flags(&self, caller: &Caller, id: &str) -> Result<Vec<RedFlag>> {
        caller.require(roles::OFFICIALS)?;
        crate::views::check_id("tender", id)?;
        let (wf, events) = self.decoded(id).await?;
        let mut flags = red_flags(&wf, id, &events, &self.red_flags);
        let mine = buyer(&wf);
        let mut outcomes = Vec::new();
        for row in self.store.tenders().await? {
            let (other_wf, other) = if row.tender_id == id {
                (wf.clone(), events.clone())
            } else {
                self.decoded(&row.tender_id).await?
            };
            if buyer(&other_wf) == mine {
                outcomes.extend(TenderOutcome::of(&row.tender_id, &mine, &other));
            }
        }
        flags.extend(
            across_tenders(&outcomes, &self.red_flags)
                .into_iter()
                .filter(|f| f.tenders.iter().any(|t| t == id)),
        );
        Ok(flags)
    }
}
