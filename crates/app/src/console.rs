//! The officials' console and the evaluators' scoring desk: what each tender is waiting for
//! (gates to sign, questions to answer, overdue obligations), what the caller may do now
//! (the definition's transitions from the current state for the caller's role), its red
//! flags; and for an evaluator, the opened bids beside the criteria with its own sheets.
//! Everything is read from the definition and the state; doing goes through `execute`.

use crate::roles::{self, Role};
use crate::{App, AppError, Caller, Result};
use serde_json::Value;
use std::collections::BTreeMap;
use tenderflow_core::definition::{CommandName, Localized};
use tenderflow_core::{Tender, Timestamp, Workflow};

/// A gate waiting for signatures in the current state.
#[derive(Debug, Clone)]
pub struct Waiting {
    /// The gate's id.
    pub gate: String,
    /// Its title.
    pub title: Localized,
    /// The roles whose signature counts.
    pub signers: Vec<String>,
}

/// Something the caller may do now, by the definition.
#[derive(Debug, Clone)]
pub struct Available {
    /// The command.
    pub command: CommandName,
    /// The form its payload must satisfy, if any (a JSON Schema).
    pub form: Option<Value>,
    /// Gates not yet signed that it needs.
    pub missing_gates: Vec<Localized>,
}

/// A tender in the console.
#[derive(Debug, Clone)]
pub struct ConsoleTender {
    /// Tender id.
    pub id: String,
    /// The announcement (`Null` before publication).
    pub announcement: Value,
    /// The definition's title.
    pub definition: Localized,
    /// State id.
    pub state: String,
    /// The state's title.
    pub state_title: Localized,
    /// Whether an irregularity halts it.
    pub halted: bool,
    /// Bid deadline.
    pub deadline: Option<Timestamp>,
    /// The definition's zone, minutes east of UTC.
    pub utc_offset_minutes: i32,
    /// Overdue obligations (their titles).
    pub overdue: Vec<Localized>,
    /// Gates of the current state still to be signed.
    pub waiting: Vec<Waiting>,
    /// Questions not yet answered: (number, text).
    pub open_questions: Vec<(u32, String)>,
    /// Objections not yet answered: (number, what the objection says).
    pub open_objections: Vec<(u32, String)>,
    /// Irregularities not yet resolved: (number, what was raised).
    pub open_irregularities: Vec<(u32, String)>,
    /// The expert pool: every evaluator who may be appointed or drawn, with whether it sits
    /// on the committee now (filled by `console_tender`).
    pub evaluators: Vec<(tenderflow_store::experts::ExpertProfile, bool)>,
    /// Whether the definition is an invited procedure (only invitees may bid).
    pub invited: bool,
    /// Registered organisations (bidder accounts) that may be invited: (id, name) (filled by
    /// `console_tender`).
    pub organisations: Vec<(String, String)>,
    /// What the caller may do now.
    pub available: Vec<Available>,
    /// How many red flags it has.
    pub red_flags: usize,
    /// Its current (not superseded) tender documents as (id, name): what a new one may
    /// replace.
    pub documents: Vec<(String, String)>,
}

impl ConsoleTender {
    /// The announcement's title in `language`, or as given, or the id.
    pub fn title(&self, language: &str) -> String {
        self.announcement[format!("title_{language}")]
            .as_str()
            .or_else(|| self.announcement["title"].as_str())
            .map_or_else(|| self.id.clone(), str::to_owned)
    }
}

/// Whether transition sources `from` include `state`.
fn applies(wf: &Workflow, from: &[String], state: &str) -> bool {
    from.iter()
        .any(|f| f == state || (f == "*" && !wf.is_terminal(state)))
}

fn console_tender(wf: &Workflow, t: &Tender, caller: &Caller, now: Timestamp) -> ConsoleTender {
    let d = wf.definition();
    let signed = |gate: &str| t.signoffs.iter().any(|s| s.gate == gate);
    let state_title = d
        .states
        .iter()
        .find(|s| s.id == t.state)
        .map(|s| s.title.clone())
        .unwrap_or_else(|| Localized {
            zh_cn: t.state.to_string(),
            en: t.state.to_string(),
        });
    let waiting = d
        .gates
        .iter()
        .filter(|g| g.state == *t.state && !signed(&g.id))
        .map(|g| Waiting {
            gate: g.id.clone(),
            title: g.title.clone(),
            signers: g.signers.clone(),
        })
        .collect();
    let overdue = tenderflow_core::obligations::obligations(wf, t, now)
        .into_iter()
        .filter(|o| o.overdue)
        .filter_map(|o| {
            d.schedule
                .obligations
                .iter()
                .find(|x| x.id == o.id)
                .map(|x| x.title.clone())
        })
        .collect();
    let available = d
        .transitions
        .iter()
        .filter(|tr| applies(wf, &tr.from, &t.state))
        .filter(|tr| tr.roles.iter().any(|r| r == caller.role()))
        .filter_map(|tr| {
            Some(Available {
                command: tr.command?,
                form: tr.form.as_ref().and_then(|f| d.forms.get(f)).cloned(),
                missing_gates: tr
                    .gates
                    .iter()
                    .filter(|g| !signed(g))
                    .filter_map(|g| d.gates.iter().find(|x| x.id == *g))
                    .map(|g| g.title.clone())
                    .collect(),
            })
        })
        .collect();
    ConsoleTender {
        id: t.id.to_string(),
        announcement: t.announcement.as_deref().cloned().unwrap_or(Value::Null),
        definition: d.title.clone(),
        state: t.state.to_string(),
        state_title,
        halted: t.halted(),
        deadline: t.deadline,
        utc_offset_minutes: d.calendar.utc_offset_minutes,
        overdue,
        waiting,
        open_questions: t
            .questions
            .iter()
            .filter(|q| q.answer.is_none())
            .map(|q| (q.id, q.text.clone()))
            .collect(),
        open_objections: t
            .objections
            .iter()
            .filter(|o| o.answer.is_none())
            .map(|o| (o.id, summary(&o.content)))
            .collect(),
        open_irregularities: t
            .irregularities
            .iter()
            .filter(|i| i.resolution.is_none())
            .map(|i| (i.id, summary(&i.content)))
            .collect(),
        evaluators: Vec::new(),
        invited: d.procedure.kind == tenderflow_core::definition::ProcedureKind::Invited,
        organisations: Vec::new(),
        available,
        red_flags: 0,
        documents: t
            .documents
            .iter()
            .filter(|p| p.superseded_at.is_none())
            .map(|p| (p.document.id.clone(), p.document.name.clone()))
            .collect(),
    }
}

/// A form's content in one line: its `text`, `statement` or `reason`, or the JSON.
fn summary(content: &Value) -> String {
    ["text", "statement", "reason", "grounds"]
        .iter()
        .find_map(|k| content[*k].as_str())
        .map_or_else(|| content.to_string(), str::to_owned)
}

/// One opened bid on the scoring desk.
#[derive(Debug, Clone)]
pub struct DeskBid {
    /// The bidder.
    pub bidder: String,
    /// Its receipt number.
    pub receipt: Option<u64>,
    /// Its content.
    pub content: Value,
    /// The evaluator's own submitted sheet for it, if any.
    pub sheet: Option<Value>,
    /// The evaluator's draft for it (while not submitted), if any.
    pub draft: Option<Value>,
    /// Whether the evaluator declared a conflict with this bidder.
    pub conflict: bool,
    /// The bid's documents (readable by the committee once opened).
    pub documents: Vec<tenderflow_core::model::Document>,
}

/// The evaluator's scoring desk for one tender.
#[derive(Debug, Clone)]
pub struct Desk {
    /// The tender.
    pub tender: ConsoleTender,
    /// The criteria scored by evaluators: (id, title, weight).
    pub criteria: Vec<(String, Localized, tenderflow_core::Weight)>,
    /// The currency of the bids' prices (ISO 4217).
    pub currency: String,
    /// Every opened bid.
    pub bids: Vec<DeskBid>,
    /// The score sheet form (a JSON Schema).
    pub form: Value,
    /// Sheets submitted by this evaluator.
    pub done: usize,
}

impl App {
    /// Every tender in the console (staff, inspectors, admins), with its red flags counted.
    pub async fn console(&self, caller: &Caller) -> Result<Vec<ConsoleTender>> {
        caller.require(roles::OFFICIALS)?;
        let now = self.clock().now();
        // Every tender's flags at once: the flags across tenders read each log once.
        let flags = self.all_red_flags(caller).await?;
        let mut out = Vec::new();
        for row in self.store.tenders().await? {
            let (wf, t) = self.store.load(&row.tender_id).await?;
            let mut c = console_tender(&wf, &t, caller, now);
            c.red_flags = flags
                .iter()
                .filter(|f| f.tenders.contains(&row.tender_id))
                .count();
            out.push(c);
        }
        Ok(out)
    }

    /// One tender in the console.
    pub async fn console_tender(&self, caller: &Caller, id: &str) -> Result<ConsoleTender> {
        caller.require(roles::OFFICIALS)?;
        crate::views::check_id("tender", id)?;
        let (wf, t) = self.store.load(id).await?;
        // `red_flags` stays 0 here: the flags across tenders read every tender's log, so a
        // page that shows them counts the list it asks for (`tender_red_flags`) itself.
        let mut c = console_tender(&wf, &t, caller, self.clock().now());
        c.evaluators = self
            .store
            .expert_pool()
            .await?
            .into_iter()
            .map(|e| {
                let on = t.committee.iter().any(|m| m.id.as_str() == e.id);
                (e, on)
            })
            .collect();
        if c.invited {
            c.organisations = self.organisations(caller).await?;
        }
        Ok(c)
    }

    /// Sets the calling evaluator's fields of expertise and declared ties (organisation
    /// account ids): a drawn expert with a tie to a bidder is passed over.
    pub async fn set_expert_profile(
        &self,
        caller: &Caller,
        fields: &[String],
        ties: &[String],
    ) -> Result<()> {
        caller.require(&[Role::EVALUATOR])?;
        for t in ties {
            crate::views::check_id("tie", t)?;
        }
        Ok(self
            .store
            .set_expert_profile(&caller.account.id, fields, ties)
            .await?)
    }

    /// The organisations (bidder accounts) an evaluator may declare ties to: (id, name).
    pub async fn organisations(&self, caller: &Caller) -> Result<Vec<(String, String)>> {
        caller.require(&[Role::EVALUATOR, Role::STAFF, Role::INSPECTOR, Role::ADMIN])?;
        Ok(self
            .store
            .accounts()
            .await?
            .into_iter()
            .filter(|a| a.role == Role::BIDDER.as_str() && a.disabled_ms.is_none())
            .map(|a| (a.id, a.display_name))
            .collect())
    }

    /// The calling evaluator's own pool entry.
    pub async fn expert_profile(
        &self,
        caller: &Caller,
    ) -> Result<Option<tenderflow_store::experts::ExpertProfile>> {
        caller.require(&[Role::EVALUATOR])?;
        Ok(self
            .store
            .expert_pool()
            .await?
            .into_iter()
            .find(|e| e.id == caller.account.id))
    }

    /// Saves the calling evaluator's draft sheet for a bid: private to it, not an event; the
    /// desk fills the sheet from it until the sheet is submitted.
    pub async fn save_score_draft(
        &self,
        caller: &Caller,
        id: &str,
        bidder: &str,
        sheet: &Value,
    ) -> Result<()> {
        let desk = self.desk(caller, id).await?;
        let Some(bid) = desk.bids.iter().find(|b| b.bidder == bidder) else {
            return Err(AppError::NotFound(format!("no opened bid from `{bidder}`")));
        };
        if bid.sheet.is_some() {
            return Err(AppError::not_now(
                "already_submitted",
                "the sheet is submitted; a change is a correction with its reason",
            ));
        }
        Ok(self
            .store
            .save_score_draft(id, &caller.account.id, bidder, sheet)
            .await?)
    }

    /// The registered definitions staff may create a tender from, newest first, each with
    /// what binds it (rule pack, rules, periods, criteria: the definition itself).
    pub async fn definitions(
        &self,
        caller: &Caller,
    ) -> Result<Vec<(tenderflow_store::WorkflowRecord, std::sync::Arc<Workflow>)>> {
        caller.require(&[Role::STAFF, Role::ADMIN])?;
        let mut out = Vec::new();
        let mut records = self.store.workflows().await?;
        records.sort_by_key(|r| std::cmp::Reverse(r.created_ms));
        for r in records {
            let wf = self.store.workflow(&r.sha256).await?;
            out.push((r, wf));
        }
        Ok(out)
    }

    /// The tenders on whose committee the calling evaluator sits.
    pub async fn evaluator_tenders(&self, caller: &Caller) -> Result<Vec<ConsoleTender>> {
        caller.require(&[Role::EVALUATOR])?;
        let now = self.clock().now();
        let mut out = Vec::new();
        for row in self.store.tenders().await? {
            let (wf, t) = self.store.load(&row.tender_id).await?;
            if t.committee.iter().any(|m| m.id == caller.actor.id) {
                out.push(console_tender(&wf, &t, caller, now));
            }
        }
        Ok(out)
    }

    /// The calling evaluator's scoring desk: the opened bids beside the criteria, with its
    /// own sheets (never another's before the report is final).
    pub async fn desk(&self, caller: &Caller, id: &str) -> Result<Desk> {
        caller.require(&[Role::EVALUATOR])?;
        let (wf, t) = self.readable(caller, id).await?;
        if !t.opened() {
            return Err(AppError::not_now(
                "not_opened",
                "the bids are not opened yet",
            ));
        }
        let view = tenderflow_core::view(&wf, &t, &caller.actor);
        let d = wf.definition();
        let mine: BTreeMap<String, Value> = view["scores"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["evaluator"] == caller.account.id.as_str())
            .map(|s| {
                (
                    s["bidder"].as_str().unwrap_or_default().to_owned(),
                    s["scores"].clone(),
                )
            })
            .collect();
        let mut drafts = self.store.score_drafts(id, &caller.account.id).await?;
        let bids: Vec<DeskBid> = view["bids"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|b| {
                let bidder = b["bidder"].as_str().unwrap_or_default().to_owned();
                let sheet = mine.get(&bidder).cloned();
                DeskBid {
                    documents: serde_json::from_value(b["documents"].clone()).unwrap_or_default(),
                    receipt: b["receipt"].as_u64(),
                    content: b["content"].clone(),
                    draft: drafts.remove(&bidder).filter(|_| sheet.is_none()),
                    sheet,
                    conflict: t
                        .recused
                        .get(&caller.actor.id)
                        .is_some_and(|(b, _)| b.as_str() == bidder),
                    bidder,
                }
            })
            .collect();
        Ok(Desk {
            tender: console_tender(&wf, &t, caller, self.clock().now()),
            criteria: d
                .evaluation
                .criteria
                .iter()
                .map(|c| (c.id.to_string(), c.title.clone(), c.weight))
                .collect(),
            currency: d
                .publication
                .currency
                .clone()
                .unwrap_or_else(|| "CNY".to_owned()),
            done: bids.iter().filter(|b| b.sheet.is_some()).count(),
            bids,
            form: d.forms.get("score_sheet").cloned().unwrap_or(Value::Null),
        })
    }
}
