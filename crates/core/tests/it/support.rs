//! Test harness: load a shipped definition, play commands through decide/apply.

use std::sync::Arc;
use tenderflow_core::scenario::{self, Params, Step};
use tenderflow_core::{
    Actor, Command, Event, Rejection, Tender, Timestamp, Workflow, apply, decide,
};

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
        Ok(self.apply(events))
    }

    /// The events so far with their sequence numbers, as the store would number them.
    pub fn history(&self) -> Vec<(i64, Event)> {
        (1..).zip(self.events.iter().cloned()).collect()
    }

    /// Fires the due timer at `now`.
    pub fn tick(&mut self, now: Timestamp) -> Result<Vec<Event>, Rejection> {
        let events = tenderflow_core::fire_timer(&self.wf, &self.tender, now)?;
        Ok(self.apply(events))
    }

    /// Creates the tender.
    pub fn create(
        &mut self,
        actor: &Actor,
        id: &str,
        now: Timestamp,
    ) -> Result<Vec<Event>, Rejection> {
        let events = tenderflow_core::create(&self.wf, &self.tender, actor, id, now)?;
        Ok(self.apply(events))
    }

    /// Plays one step of a script (a creation, a command or a timer).
    pub fn play(&mut self, step: &Step) -> Result<Vec<Event>, Rejection> {
        let events = step.decide(&self.wf, &self.tender)?;
        Ok(self.apply(events))
    }

    /// Plays one step of a script at another time than its own.
    pub fn play_at(&mut self, step: &Step, now: Timestamp) -> Result<Vec<Event>, Rejection> {
        let step = Step {
            at: now,
            ..step.clone()
        };
        self.play(&step)
    }

    fn apply(&mut self, events: Vec<Event>) -> Vec<Event> {
        for e in &events {
            self.tender = apply(std::mem::take(&mut self.tender), e);
        }
        self.events.extend(events.iter().cloned());
        events
    }

    pub fn step(&mut self, step: &Step) {
        if let Err(r) = self.play(step) {
            panic!(
                "step {:?} by {} at {} rejected in state `{}`: {r} {}",
                step.input, step.actor.id, step.at, self.tender.state, r.details
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
