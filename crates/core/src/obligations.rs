//! Obligations: deadlines on the procuring entity's own steps, computed from the history and
//! the definition's calendar. They are shown and flagged, not enforced — the law obliges
//! staff to act in time; lateness is a finding for the inspector, not a reason to refuse.

use crate::definition::Workflow;
use crate::model::Tender;
use crate::time::Timestamp;
use serde::Serialize;

/// The state of one obligation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// Obligation id.
    pub id: String,
    /// When its clock started.
    pub since: Timestamp,
    /// When it is due.
    pub due: Option<Timestamp>,
    /// When it was met, if it was.
    pub met_at: Option<Timestamp>,
    /// Met late, or unmet and past due at `now`.
    pub overdue: bool,
}

/// Every obligation whose clock has started, at `now`.
pub fn obligations(wf: &Workflow, t: &Tender, now: Timestamp) -> Vec<Status> {
    let d = wf.definition();
    d.schedule
        .obligations
        .iter()
        .filter_map(|o| {
            let (since, _) = *t.happened.get(&o.after)?;
            let due = d.calendar.add(since, o.within.period());
            let met_at = t
                .happened
                .get(&o.until)
                .map(|(_, last)| *last)
                .filter(|m| *m >= since);
            let overdue = match (met_at, due) {
                (Some(m), Some(due)) => m > due,
                (None, Some(due)) => now > due,
                _ => false,
            };
            Some(Status {
                id: o.id.clone(),
                since,
                due,
                met_at,
                overdue,
            })
        })
        .collect()
}
