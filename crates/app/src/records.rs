//! The records the inspector signs (with the chain head they describe) and the OCDS
//! publication: releases a page at a time, a record per tender, an export.

use crate::roles;
use crate::{App, AppError, Caller, PublishedHead, Result};
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;
use tenderflow_core::present::Names;
use tenderflow_core::records::Records;
use tenderflow_core::{Timestamp, Workflow};

/// A procedure's records with the chain head they describe.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenderRecords {
    /// The records.
    #[serde(flatten)]
    pub records: Records,
    /// The head of the tender's chain when they were read.
    pub chain_head: PublishedHead,
}

/// The records as people read them: with the definition (its labels, zone and currency) and
/// the names of every party they mention.
#[derive(Debug, Clone)]
pub struct ReadableRecords {
    /// The records and their chain head.
    pub records: TenderRecords,
    /// The definition the tender runs on.
    pub workflow: Arc<Workflow>,
    /// The parties' registered names.
    pub names: Names,
}

impl App {
    /// The procedure's records, with the chain head they describe (to be published with
    /// them: `tenderflow audit verify --against`).
    pub async fn records(&self, caller: &Caller, id: &str) -> Result<TenderRecords> {
        Ok(self.records_with_workflow(caller, id).await?.0)
    }

    /// The records with what presenting them needs: the definition and the parties' names.
    pub async fn readable_records(&self, caller: &Caller, id: &str) -> Result<ReadableRecords> {
        let (records, workflow) = self.records_with_workflow(caller, id).await?;
        Ok(ReadableRecords {
            records,
            workflow,
            names: self.names().await?,
        })
    }

    /// The records and the definition they were built with.
    async fn records_with_workflow(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<(TenderRecords, Arc<Workflow>)> {
        caller.require(roles::OFFICIALS)?;
        let (wf, t) = self.store.load(id).await?;
        let records = TenderRecords {
            records: tenderflow_core::records::records(&wf, &t),
            chain_head: self.store.chain_head(id).await?,
        };
        Ok((records, wf))
    }

    /// How OCDS is published now: the configured options with the parties' registered names.
    async fn ocds_options(&self) -> Result<tenderflow_core::ocds::Options> {
        Ok(tenderflow_core::ocds::Options {
            names: self.names().await?,
            ..(*self.ocds).clone()
        })
    }

    /// Every account's registered name by its id (organisations and people), for
    /// presenting records, mail and reports by names rather than ids.
    pub async fn names(&self) -> Result<Names> {
        Ok(self
            .store
            .accounts()
            .await?
            .into_iter()
            .map(|a| (a.id, a.display_name))
            .collect())
    }

    /// The OCDS releases of every tender (or one), at or after `since`, by date and id.
    pub async fn ocds_releases(
        &self,
        tender: Option<&str>,
        since: Option<Timestamp>,
    ) -> Result<Vec<Value>> {
        let ids: Vec<String> = match tender {
            Some(t) => vec![t.to_owned()],
            None => self
                .store
                .tenders()
                .await?
                .into_iter()
                .map(|t| t.tender_id)
                .collect(),
        };
        let opts = self.ocds_options().await?;
        let mut releases = Vec::new();
        for id in &ids {
            releases.extend(
                self.store
                    .ocds_releases(id, &opts)
                    .await?
                    .into_iter()
                    .filter(|r| {
                        since.is_none_or(|s| {
                            r["date"]
                                .as_str()
                                .and_then(Timestamp::parse)
                                .is_some_and(|d| d >= s)
                        })
                    }),
            );
        }
        releases.sort_by(|a, b| {
            a["date"]
                .as_str()
                .cmp(&b["date"].as_str())
                .then(a["id"].as_str().cmp(&b["id"].as_str()))
        });
        Ok(releases)
    }

    /// A release package of `releases`, published now.
    pub fn ocds_package(&self, releases: Vec<Value>) -> Value {
        tenderflow_core::ocds::package(releases, &self.ocds, self.clock().now())
    }

    /// Page `page` (from 1) of the release package, `per` releases a page, with a link to
    /// the next page.
    pub async fn ocds_page(&self, page: usize, per: usize) -> Result<Value> {
        if page == 0 || per == 0 || per > crate::views::MAX_PAGE {
            return Err(AppError::invalid(
                "invalid_query",
                "page ≥ 1 and 1 ≤ perPage ≤ 1000",
            ));
        }
        let releases = self.ocds_releases(None, None).await?;
        let total = releases.len();
        let slice: Vec<Value> = releases
            .into_iter()
            .skip((page - 1).saturating_mul(per))
            .take(per)
            .collect();
        let mut pkg = self.ocds_package(slice);
        let next = (page.saturating_mul(per) < total)
            .then(|| format!("/ocds/releases?page={}&perPage={per}", page + 1));
        pkg["links"] = json!({ "next": next });
        Ok(pkg)
    }

    /// The OCDS record package of one tender, by its OCID.
    pub async fn ocds_record(&self, ocid: &str) -> Result<Value> {
        let prefix = format!("{}-", self.ocds.ocid_prefix);
        let tender = ocid
            .strip_prefix(&prefix)
            .ok_or_else(|| AppError::NotFound(format!("no record `{ocid}`")))?;
        let releases = self
            .store
            .ocds_releases(tender, &self.ocds_options().await?)
            .await?;
        if releases.is_empty() {
            return Err(AppError::NotFound(format!(
                "no public release of `{ocid}` yet"
            )));
        }
        Ok(json!({
            "uri": format!("{}/records/{ocid}.json", self.ocds.uri),
            "version": "1.1",
            "extensions": [tenderflow_core::ocds::BID_EXTENSION, tenderflow_core::ocds::LOTS_EXTENSION, tenderflow_core::ocds::ENQUIRY_EXTENSION],
            "publishedDate": self.clock().now(),
            "publisher": { "name": self.ocds.publisher },
            "records": [tenderflow_core::ocds::record(releases)],
        }))
    }
}
