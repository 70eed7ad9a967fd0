//! Test harness: load a shipped definition, play commands through decide/apply.

use std::sync::Arc;
use tenderflow_core::scenario::{self, Params, Step};
use tenderflow_core::{Command, Event, Rejection, Tender, Timestamp, Workflow, apply, decide};

pub fn workflow(name: &str) -> Arc<Workflow> {
    let bytes = tenderflow_testkit::workflow_bytes(name);
    Arc::new(tenderflow_core::load(name, &bytes).expect("valid definition"))
}

pub struct Run {
    pub wf: Arc<Workflow>,
    pub tender: Tender,
    pub events: Vec<Event>,
}

impl Run {
    pub fn new(wf: Arc<Workflow>) -> Self {
        Self {
            wf,
            tender: Tender::default(),
            events: Vec::new(),
        }
    }

    pub fn exec(&mut self, command: &Command, now: Timestamp) -> Result<Vec<Event>, Rejection> {
        let events = decide(&self.wf, &self.tender, command, now)?;
        for e in &events {
            self.tender = apply(std::mem::take(&mut self.tender), e);
        }
        self.events.extend(events.iter().cloned());
        Ok(events)
    }

    pub fn step(&mut self, step: &Step) {
        if let Err(r) = self.exec(&step.command, step.at) {
            panic!(
                "step {:?} by {} at {} rejected in state `{}`: {r} {}",
                step.command.body.name(),
                step.command.actor.id,
                step.at,
                self.tender.state,
                r.details
            );
        }
    }

    /// Plays the scenario script until the tender reaches `state` (or to the end).
    pub fn play_until(&mut self, steps: &[Step], state: Option<&str>) -> usize {
        for (i, s) in steps.iter().enumerate() {
            if state.is_some_and(|st| st == self.tender.state) {
                return i;
            }
            self.step(s);
        }
        steps.len()
    }
}

pub fn seed_params() -> Params {
    Params::default()
}

pub fn seed_script(wf: &Workflow) -> Vec<Step> {
    scenario::script(wf, &seed_params())
}
