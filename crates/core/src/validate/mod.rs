//! Loading a definition: JSON, then the JSON Schema, then every semantic check, reporting all
//! problems at once with a file, a JSON Pointer, what was found, what was expected and a code.

use crate::definition::{
    AwardMode, CriterionSource, Definition, Method, RuleBasis, RulePack, TieBreak, Workflow,
};
use crate::numbers::{SCALE, Score};
use crate::time::{Period, PeriodUnit};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::LazyLock;

/// The JSON Schema of the definition format, shipped in `workflows/schema/`.
pub const WORKFLOW_SCHEMA: &str = include_str!("../../../../workflows/schema/workflow.schema.json");

static SCHEMA_VALIDATOR: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    let schema: Value = serde_json::from_str(WORKFLOW_SCHEMA).expect("the shipped schema is JSON");
    jsonschema::validator_for(&schema).expect("the shipped schema compiles")
});

mod contracts;
mod graph;
mod json;
mod references;
mod schedule;

use contracts::*;
use graph::*;
use json::*;
use references::*;
use schedule::*;

macro_rules! codes {
    ($($(#[$m:meta])* $variant:ident = $text:literal),* $(,)?) => {
        /// Stable codes of definition errors.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum DefinitionErrorCode { $($(#[$m])* $variant,)* }
        impl DefinitionErrorCode {
            /// Every code.
            pub const ALL: &'static [Self] = &[$(Self::$variant),*];
            /// The code as printed.
            pub fn as_str(self) -> &'static str { match self { $(Self::$variant => $text),* } }
        }
    };
}

codes! {
    /// The file is not JSON.
    InvalidJson = "invalid_json",
    /// The JSON Schema of the format rejects the file.
    SchemaViolation = "schema_violation",
    /// Two things of one kind share an id.
    DuplicateId = "duplicate_id",
    /// One of the roles the engine needs (staff, bidder, evaluator, inspector) is missing.
    MissingRole = "missing_role",
    /// A reference to a state that is not declared.
    UnknownState = "unknown_state",
    /// A reference to a role that is not declared.
    UnknownRole = "unknown_role",
    /// A reference to a gate that is not declared.
    UnknownGate = "unknown_gate",
    /// A reference to a form that is not declared.
    UnknownForm = "unknown_form",
    /// A reference to a rule that is not declared.
    UnknownRule = "unknown_rule",
    /// A reference to a criterion that is not declared.
    UnknownCriterion = "unknown_criterion",
    /// A bid field used by evaluation is not a numeric property of the bid form.
    UnknownFormField = "unknown_form_field",
    /// No state ends the procedure.
    NoTerminalState = "no_terminal_state",
    /// A terminal state has outgoing transitions.
    TerminalStateHasTransitions = "terminal_state_has_transitions",
    /// Two transitions from one state for the same command or timer.
    DuplicateTransition = "duplicate_transition",
    /// No path from the initial state reaches this state.
    UnreachableState = "unreachable_state",
    /// A non-terminal state with no way out.
    DeadEndState = "dead_end_state",
    /// A form is not a valid JSON Schema.
    FormSchemaInvalid = "form_schema_invalid",
    /// Criterion weights do not sum to 1.
    WeightsNotOne = "weights_not_one",
    /// A score threshold outside 0–100.
    ThresholdOutOfRange = "threshold_out_of_range",
    /// Committee rules that no committee can meet.
    CommitteeInvalid = "committee_invalid",
    /// More winners than the rules or the bidders allow.
    TopNTooLarge = "top_n_too_large",
    /// Time limits that contradict each other.
    ScheduleContradiction = "schedule_contradiction",
    /// A limit below what the definition's rule pack requires by law.
    BelowRulePack = "below_rule_pack",
    /// A rule marked statutory in a definition that only adopts rules.
    RuleBasisMismatch = "rule_basis_mismatch",
    /// A key appears twice in one JSON object (the second would silently win).
    DuplicateKey = "duplicate_key",
    /// A state from which no terminal state can be reached (states that only lead to each
    /// other).
    NoWayToEnd = "no_way_to_end",
    /// A gate that can never be signed: no `sign_off` transition in its state for any of
    /// its signers.
    GateUnsignable = "gate_unsignable",
    /// Bids are scored on their price or figures, but `submit_bid` declares no form.
    BidFormMissing = "bid_form_missing",
    /// Working-day periods without a declared calendar (holidays would be ignored).
    CalendarMissing = "calendar_missing",
    /// The score-sheet form does not ask for every criterion the evaluators score.
    ScoreFormIncomplete = "score_form_incomplete",
    /// The stage after the award is declared without the transitions that allow its
    /// commands, or its commands are allowed without the stage being declared.
    StageUnreachable = "stage_unreachable",
    /// A notification addressed to people its event cannot know yet (the winners of an
    /// announcement, the objector of a bid): nobody would receive it.
    AudienceNeverKnown = "audience_never_known",
}

impl fmt::Display for DefinitionErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem in a definition file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionError {
    /// The file (as given to [`load`]).
    pub file: String,
    /// JSON Pointer to the offending value (`""` is the whole document).
    pub pointer: String,
    /// Stable code.
    pub code: DefinitionErrorCode,
    /// What was found.
    pub found: String,
    /// What was expected.
    pub expected: String,
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(
            f,
            "{}: {} [{}]: found {}; expected {}",
            self.file, pointer, self.code, self.found, self.expected
        )
    }
}

/// Every problem found in one definition file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} problem(s) in the workflow definition:\n{}", .0.len(), .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
pub struct DefinitionErrors(pub Vec<DefinitionError>);

struct Report<'a> {
    file: &'a str,
    errors: Vec<DefinitionError>,
}

impl Report<'_> {
    fn push(
        &mut self,
        pointer: impl Into<String>,
        code: DefinitionErrorCode,
        found: impl Into<String>,
        expected: impl Into<String>,
    ) {
        self.errors.push(DefinitionError {
            file: self.file.to_owned(),
            pointer: pointer.into(),
            code,
            found: found.into(),
            expected: expected.into(),
        });
    }
}

/// Loads and validates a definition. `file` names it in errors; `bytes` is its content.
pub fn load(file: &str, bytes: &[u8]) -> Result<Workflow, DefinitionErrors> {
    use DefinitionErrorCode as C;
    let mut r = Report {
        file,
        errors: Vec::new(),
    };
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            r.push("", C::InvalidJson, format!("{e}"), "a JSON document");
            return Err(DefinitionErrors(r.errors));
        }
    };
    for pointer in duplicate_keys(bytes) {
        r.push(
            pointer,
            C::DuplicateKey,
            "the key a second time",
            "each key once per object (the second would silently win)",
        );
    }
    for e in SCHEMA_VALIDATOR.iter_errors(&value) {
        r.push(
            e.instance_path().to_string(),
            C::SchemaViolation,
            short(&e.instance().to_string()),
            e.to_string(),
        );
    }
    let has_calendar = value.get("calendar").is_some();
    // Schema errors do not hide the meaning's errors: whatever deserialises is checked too.
    let def: Definition = match serde_path_to_error::deserialize(&value) {
        Ok(d) => d,
        Err(e) => {
            if r.errors.is_empty() {
                r.push(
                    serde_pointer(e.path()),
                    C::SchemaViolation,
                    e.inner().to_string(),
                    "the definition format",
                );
            }
            return Err(DefinitionErrors(r.errors));
        }
    };
    let forms = check(&def, &mut r, has_calendar);
    if !r.errors.is_empty() {
        return Err(DefinitionErrors(r.errors));
    }
    let terminal = def
        .states
        .iter()
        .filter(|s| s.terminal)
        .map(|s| (s.id.clone(), s.outcome))
        .collect();
    let mut by_command: HashMap<String, HashMap<crate::definition::CommandName, usize>> =
        HashMap::new();
    // The same rule as `Workflow::transitions_from`: `*` applies to every state but the
    // terminal ones; the first transition listed wins.
    for state in &def.states {
        for (i, t) in def.transitions.iter().enumerate() {
            let applies = t
                .from
                .iter()
                .any(|f| *f == state.id || (f == "*" && !state.terminal));
            if let (true, Some(c)) = (applies, t.command) {
                by_command
                    .entry(state.id.clone())
                    .or_default()
                    .entry(c)
                    .or_insert(i);
            }
        }
    }
    Ok(Workflow {
        by_command,
        def,
        forms,
        terminal,
        sha256: hex::encode(Sha256::digest(bytes)),
    })
}

/// A serde path as a JSON Pointer.
fn serde_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                out.push('/');
                out.push_str(&ptr_escape(key));
            }
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    out
}

fn short(s: &str) -> String {
    if s.chars().count() > 80 {
        let cut: String = s.chars().take(77).collect();
        format!("{cut}...")
    } else {
        s.to_owned()
    }
}

fn ptr_escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

fn check_unique<'a>(
    r: &mut Report<'_>,
    base: &str,
    ids: impl Iterator<Item = &'a str>,
) -> HashSet<&'a str> {
    let mut seen = HashSet::new();
    for (i, id) in ids.enumerate() {
        if !seen.insert(id) {
            r.push(
                format!("{base}/{i}/id"),
                DefinitionErrorCode::DuplicateId,
                format!("`{id}` declared again"),
                "a unique id",
            );
        }
    }
    seen
}

type RuleRef<'a> = dyn Fn(&mut Report<'_>, String, &Option<String>) + 'a;
