//! The public notice board: every tender with a public release, as its compiled OCDS release
//! (the same facts as the OCDS feed, never more), with the time zone its definition keeps.

use crate::{App, AppError, Result};
use serde_json::Value;

/// One tender on the notice board.
#[derive(Debug, Clone)]
pub struct Notice {
    /// Tender id.
    pub id: String,
    /// Its OCID.
    pub ocid: String,
    /// The compiled release of its public releases.
    pub release: Value,
    /// The definition's time zone, minutes east of UTC.
    pub utc_offset_minutes: i32,
}

impl Notice {
    /// A member of the compiled release's `tender` as text.
    pub fn tender_text(&self, key: &str) -> Option<&str> {
        self.release["tender"][key].as_str()
    }
}

impl App {
    /// Every tender that has been announced, the one closing soonest first and finished
    /// procedures last.
    pub async fn notices(&self) -> Result<Vec<Notice>> {
        let mut out = Vec::new();
        for t in self.store.tenders().await? {
            if let Some(n) = self.compiled(&t.tender_id).await? {
                out.push(n);
            }
        }
        out.sort_by(|a, b| {
            let open = |n: &Notice| n.tender_text("status") != Some("active");
            let end = |n: &Notice| {
                n.release["tender"]["tenderPeriod"]["endDate"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            };
            (open(a), end(a), &a.id).cmp(&(open(b), end(b), &b.id))
        });
        Ok(out)
    }

    /// One tender's notice; not found before its announcement is public.
    pub async fn notice(&self, tender_id: &str) -> Result<Notice> {
        crate::views::check_id("tender", tender_id)?;
        self.compiled(tender_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no public notice of `{tender_id}`")))
    }

    async fn compiled(&self, tender_id: &str) -> Result<Option<Notice>> {
        let releases = match self.ocds_releases(Some(tender_id), None).await {
            Err(AppError::NotFound(_)) => return Ok(None),
            other => other?,
        };
        if releases.is_empty() {
            return Ok(None);
        }
        let release = tenderflow_core::ocds::compile(&releases);
        let sha = release["tenderflowDefinition"]["sha256"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let utc_offset_minutes = match self.store.workflow(&sha).await {
            Ok(wf) => wf.definition().calendar.utc_offset_minutes,
            Err(_) => 0,
        };
        Ok(Some(Notice {
            id: tender_id.to_owned(),
            ocid: release["ocid"].as_str().unwrap_or_default().to_owned(),
            release,
            utc_offset_minutes,
        }))
    }
}
