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
pub const WORKFLOW_SCHEMA: &str = include_str!("../../../workflows/schema/workflow.schema.json");

static SCHEMA_VALIDATOR: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    let schema: Value = serde_json::from_str(WORKFLOW_SCHEMA).expect("the shipped schema is JSON");
    jsonschema::validator_for(&schema).expect("the shipped schema compiles")
});

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
    for state in def.states.iter().filter(|s| !s.terminal) {
        for (i, t) in def.transitions.iter().enumerate() {
            let applies = t.from.iter().any(|f| f == "*" || *f == state.id);
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

/// JSON Pointers of keys that appear twice in one object (serde_json keeps the last).
fn duplicate_keys(bytes: &[u8]) -> Vec<String> {
    use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
    use std::cell::RefCell;
    struct Walk<'a> {
        path: String,
        out: &'a RefCell<Vec<String>>,
    }
    impl<'de> DeserializeSeed<'de> for Walk<'_> {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Walk<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_none<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut i = 0;
            while seq
                .next_element_seed(Walk {
                    path: format!("{}/{i}", self.path),
                    out: self.out,
                })?
                .is_some()
            {
                i += 1;
            }
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut seen = HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                let path = format!("{}/{}", self.path, ptr_escape(&key));
                if !seen.insert(key) {
                    self.out.borrow_mut().push(path.clone());
                }
                map.next_value_seed(Walk {
                    path,
                    out: self.out,
                })?;
            }
            Ok(())
        }
    }
    let out = RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let _ = Walk {
        path: String::new(),
        out: &out,
    }
    .deserialize(&mut de);
    out.into_inner()
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

fn check(
    def: &Definition,
    r: &mut Report<'_>,
    has_calendar: bool,
) -> HashMap<String, jsonschema::Validator> {
    use DefinitionErrorCode as C;
    let roles = check_unique(r, "/roles", def.roles.iter().map(|x| x.id.as_str()));
    let states = check_unique(r, "/states", def.states.iter().map(|x| x.id.as_str()));
    let gates = check_unique(r, "/gates", def.gates.iter().map(|x| x.id.as_str()));
    let rules = check_unique(r, "/rules", def.rules.iter().map(|x| x.id.as_str()));
    check_unique(
        r,
        "/schedule/obligations",
        def.schedule.obligations.iter().map(|o| o.id.as_str()),
    );
    let criteria = check_unique(
        r,
        "/evaluation/criteria",
        def.evaluation.criteria.iter().map(|x| &*x.id),
    );
    let terminal: HashSet<&str> = def
        .states
        .iter()
        .filter(|s| s.terminal)
        .map(|s| s.id.as_str())
        .collect();

    for needed in ["staff", "bidder", "evaluator", "inspector"] {
        if !roles.contains(needed) {
            r.push(
                "/roles",
                C::MissingRole,
                "no role `".to_owned() + needed + "`",
                format!("a role `{needed}`"),
            );
        }
    }
    let role_ref = |r: &mut Report<'_>, ptr: String, role: &str| {
        if !roles.contains(role) {
            r.push(
                ptr,
                C::UnknownRole,
                format!("`{role}`"),
                format!("one of the declared roles {}", list(&roles)),
            );
        }
    };
    let state_ref = |r: &mut Report<'_>, ptr: String, state: &str| {
        if !states.contains(state) {
            r.push(
                ptr,
                C::UnknownState,
                format!("`{state}`"),
                format!("one of the declared states {}", list(&states)),
            );
        }
    };
    let rule_ref = |r: &mut Report<'_>, ptr: String, rule: &Option<String>| {
        if let Some(rule) = rule {
            if !rules.contains(rule.as_str()) {
                r.push(
                    ptr,
                    C::UnknownRule,
                    format!("`{rule}`"),
                    format!("one of the declared rules {}", list(&rules)),
                );
            }
        }
    };

    // Rules and their basis.
    if def.rule_pack == RulePack::Adopted {
        for (i, rule) in def.rules.iter().enumerate() {
            if rule.basis == RuleBasis::Statutory {
                r.push(
                    format!("/rules/{i}/basis"),
                    C::RuleBasisMismatch,
                    "`statutory`",
                    "`adopted`: a definition with rule pack `adopted` follows no statute",
                );
            }
        }
    }

    // States, initial state, transitions.
    state_ref(r, "/initial/state".into(), &def.initial.state);
    for (i, role) in def.initial.roles.iter().enumerate() {
        role_ref(r, format!("/initial/roles/{i}"), role);
    }
    if terminal.is_empty() {
        r.push(
            "/states",
            C::NoTerminalState,
            "no state with `terminal: true`",
            "at least one terminal state",
        );
    }
    let mut seen_triggers: HashMap<(String, String), usize> = HashMap::new();
    for (i, t) in def.transitions.iter().enumerate() {
        let base = format!("/transitions/{i}");
        let trigger = t
            .command
            .map(|c| c.as_str().to_owned())
            .or_else(|| t.timer.map(|c| format!("timer:{}", c.as_str())))
            .unwrap_or_default();
        for (j, from) in t.from.iter().enumerate() {
            if from == "*" {
                continue;
            }
            state_ref(r, format!("{base}/from/{j}"), from);
            if terminal.contains(from.as_str()) {
                r.push(
                    format!("{base}/from/{j}"),
                    C::TerminalStateHasTransitions,
                    format!("a transition out of terminal state `{from}`"),
                    "no transitions out of a terminal state",
                );
            }
            if let Some(first) = seen_triggers.insert((from.clone(), trigger.clone()), i) {
                r.push(
                    format!("{base}/from/{j}"),
                    C::DuplicateTransition,
                    format!("`{trigger}` from `{from}` again (first at /transitions/{first})"),
                    "one transition per state and command or timer",
                );
            }
        }
        for (field, target) in [("to", &t.to), ("failTo", &t.fail_to)] {
            if let Some(target) = target {
                state_ref(r, format!("{base}/{field}"), target);
            }
        }
        for (j, role) in t.roles.iter().enumerate() {
            role_ref(r, format!("{base}/roles/{j}"), role);
        }
        for (j, gate) in t.gates.iter().enumerate() {
            if !gates.contains(gate.as_str()) {
                r.push(
                    format!("{base}/gates/{j}"),
                    C::UnknownGate,
                    format!("`{gate}`"),
                    format!("one of the declared gates {}", list(&gates)),
                );
            }
        }
        if let Some(form) = &t.form {
            if !def.forms.contains_key(form) {
                let names: HashSet<&str> = def.forms.keys().map(String::as_str).collect();
                r.push(
                    format!("{base}/form"),
                    C::UnknownForm,
                    format!("`{form}`"),
                    format!("one of the declared forms {}", list(&names)),
                );
            }
        }
    }
    check_graph(def, r, &terminal);

    // Forms.
    let mut forms = HashMap::new();
    for (name, schema) in &def.forms {
        match jsonschema::validator_for(schema) {
            Ok(v) => {
                forms.insert(name.clone(), v);
            }
            Err(e) => r.push(
                format!("/forms/{}", ptr_escape(name)),
                C::FormSchemaInvalid,
                short(&e.to_string()),
                "a valid JSON Schema (draft 2020-12)",
            ),
        }
    }

    // Evaluation.
    let ev = &def.evaluation;
    let bid_form = def
        .transitions
        .iter()
        .find(|t| t.command == Some(crate::definition::CommandName::SubmitBid))
        .and_then(|t| t.form.as_ref())
        .and_then(|f| def.forms.get(f));
    let field_ref = |r: &mut Report<'_>, ptr: String, field: &str, integer: bool| {
        let Some(form) = bid_form else { return };
        let mut node = form;
        let mut ok = field.starts_with('/');
        for part in field.split('/').skip(1) {
            match node.get("properties").and_then(|p| p.get(part)) {
                Some(n) => node = n,
                None => {
                    ok = false;
                    break;
                }
            }
        }
        let ty = node.get("type").and_then(Value::as_str).unwrap_or("");
        let numeric = if integer {
            ty == "integer"
        } else {
            ty == "integer" || ty == "number"
        };
        if !ok || !numeric {
            let want = if integer {
                "an integer property"
            } else {
                "a numeric property"
            };
            r.push(
                ptr,
                C::UnknownFormField,
                format!("`{field}`"),
                format!("a JSON Pointer to {want} of the bid form"),
            );
        }
    };
    field_ref(r, "/evaluation/priceField".into(), &ev.price_field, true);
    if ev.method == Method::Comprehensive {
        let sum: i64 = ev.criteria.iter().map(|c| c.weight.raw()).sum();
        if sum != SCALE {
            r.push(
                "/evaluation/criteria",
                C::WeightsNotOne,
                format!(
                    "weights summing to {}",
                    crate::numbers::Weight::from_raw(sum)
                ),
                "weights summing to exactly 1",
            );
        }
    }
    let mut price_criteria = 0;
    for (i, c) in ev.criteria.iter().enumerate() {
        match &c.source {
            CriterionSource::BidRatio { field } => {
                field_ref(
                    r,
                    format!("/evaluation/criteria/{i}/source/field"),
                    field,
                    false,
                );
            }
            CriterionSource::Price => price_criteria += 1,
            CriterionSource::Evaluators => {}
        }
    }
    if price_criteria > 1 {
        r.push(
            "/evaluation/criteria",
            C::DuplicateId,
            format!("{price_criteria} price criteria"),
            "at most one price criterion",
        );
    }
    for (i, tb) in ev.tie_break.iter().enumerate() {
        if let TieBreak::Criterion { criterion } = tb {
            if !criteria.contains(criterion.as_str()) {
                r.push(
                    format!("/evaluation/tieBreak/{i}/criterion"),
                    C::UnknownCriterion,
                    format!("`{criterion}`"),
                    format!("one of the criteria {}", list(&criteria)),
                );
            }
        }
    }
    if let Some(min) = ev.min_total {
        if min < Score::from_raw(0) || min > Score::MAX {
            r.push(
                "/evaluation/minTotal",
                C::ThresholdOutOfRange,
                min.to_string(),
                "a total between 0 and 100",
            );
        }
    }
    let c = &ev.committee;
    rule_ref(r, "/evaluation/committee/rule".into(), &c.rule);
    if c.min_members == 0 {
        r.push(
            "/evaluation/committee/minMembers",
            C::CommitteeInvalid,
            "0",
            "at least 1 member",
        );
    }
    if let Some(share) = c.min_expert_share {
        if share.raw() > SCALE || share.raw() < 0 {
            r.push(
                "/evaluation/committee/minExpertShare",
                C::CommitteeInvalid,
                share.to_string(),
                "a share between 0 and 1",
            );
        }
    }

    // Award.
    let a = &def.award;
    rule_ref(r, "/award/rule".into(), &a.rule);
    if a.mode == AwardMode::Single && a.winners_per_lot != 1 {
        r.push(
            "/award/winnersPerLot",
            C::TopNTooLarge,
            a.winners_per_lot.to_string(),
            "1 winner per lot with mode `single`",
        );
    }
    if let Some(max) = a.max_candidates_per_lot {
        if a.winners_per_lot > max {
            r.push(
                "/award/winnersPerLot",
                C::TopNTooLarge,
                a.winners_per_lot.to_string(),
                format!("at most maxCandidatesPerLot = {max}"),
            );
        }
    }
    if let Some(max) = a.max_bidders {
        if a.winners_per_lot > max {
            r.push(
                "/award/winnersPerLot",
                C::TopNTooLarge,
                a.winners_per_lot.to_string(),
                format!("at most maxBidders = {max}"),
            );
        }
    }

    // Gates and notifications.
    for (i, g) in def.gates.iter().enumerate() {
        state_ref(r, format!("/gates/{i}/state"), &g.state);
        for (j, role) in g.signers.iter().enumerate() {
            role_ref(r, format!("/gates/{i}/signers/{j}"), role);
        }
    }
    for (i, n) in def.notifications.iter().enumerate() {
        for (j, to) in n.to.iter().enumerate() {
            if let crate::definition::Audience::Role(role) = to {
                role_ref(r, format!("/notifications/{i}/to/{j}"), &role.0);
            }
        }
    }

    check_schedule(def, r, &rule_ref);
    check_more(def, r, has_calendar, &terminal);
    forms
}

/// Gates that can be signed, a bid form where bids are scored, a calendar for working days,
/// score sheets that ask for every criterion, and competition for every top-N place.
fn check_more(def: &Definition, r: &mut Report<'_>, has_calendar: bool, terminal: &HashSet<&str>) {
    use crate::definition::CommandName;
    use DefinitionErrorCode as C;
    let from = |t: &crate::definition::Transition, s: &str| {
        t.from
            .iter()
            .any(|f| f == s || (f == "*" && !terminal.contains(s)))
    };
    for (i, g) in def.gates.iter().enumerate() {
        let signable = def.transitions.iter().any(|t| {
            t.command == Some(CommandName::SignOff)
                && from(t, &g.state)
                && (g.committee || t.roles.iter().any(|role| g.signers.contains(role)))
        });
        if !signable {
            r.push(
                format!("/gates/{i}"),
                C::GateUnsignable,
                format!(
                    "gate `{}` in state `{}` with no `sign_off` there for {}",
                    g.id,
                    g.state,
                    g.signers.join(", ")
                ),
                "a sign_off transition from the gate's state open to one of its signers",
            );
        }
    }
    let ev = &def.evaluation;
    let scored_on_bids = ev.criteria.iter().any(|c| {
        matches!(
            c.source,
            CriterionSource::Price | CriterionSource::BidRatio { .. }
        )
    });
    for (i, t) in def.transitions.iter().enumerate() {
        if t.command == Some(CommandName::SubmitBid) && t.form.is_none() && scored_on_bids {
            r.push(
                format!("/transitions/{i}/form"),
                C::BidFormMissing,
                "no form",
                "a bid form declaring the price and the figures the criteria score",
            );
        }
        if t.command == Some(CommandName::SubmitScores) {
            let form = t.form.as_ref().and_then(|f| def.forms.get(f));
            let asked = |id: &str| {
                form.and_then(|f| {
                    f.pointer(&format!("/properties/scores/properties/{}", ptr_escape(id)))
                })
                .is_some()
            };
            for (j, c) in ev.criteria.iter().enumerate() {
                if matches!(c.source, CriterionSource::Evaluators) && !asked(&c.id) {
                    r.push(
                        format!("/evaluation/criteria/{j}"),
                        C::ScoreFormIncomplete,
                        format!(
                            "criterion `{}` that the score sheet ({}) does not ask for",
                            c.id,
                            t.form.as_deref().unwrap_or("no form")
                        ),
                        "a score-sheet form with a property under /properties/scores for every evaluators' criterion",
                    );
                }
            }
        }
    }
    if !has_calendar {
        let s = &def.schedule;
        let mut rules: Vec<(String, &crate::definition::TimeRule)> = schedule_rules(s)
            .map(|(n, tr)| (format!("/schedule/{n}/unit"), tr))
            .collect();
        rules.extend(
            s.obligations
                .iter()
                .enumerate()
                .map(|(i, o)| (format!("/schedule/obligations/{i}/within/unit"), &o.within)),
        );
        for (ptr, tr) in rules {
            if tr.unit == PeriodUnit::WorkingDays {
                r.push(
                    ptr,
                    C::CalendarMissing,
                    "working_days without a calendar",
                    "a `calendar` with the weekend and holidays, so working days are counted right",
                );
            }
        }
    }
    let a = &def.award;
    if a.max_candidates_per_lot.is_none() && a.winners_per_lot > a.min_valid_bids {
        r.push(
            "/award/winnersPerLot",
            C::TopNTooLarge,
            format!(
                "{} places with a minimum of {} valid bids and no candidate cap",
                a.winners_per_lot, a.min_valid_bids
            ),
            "at most minValidBids places (otherwise every bidder can win without competing)",
        );
    }
}

fn list(set: &HashSet<&str>) -> String {
    let sorted: BTreeSet<&&str> = set.iter().collect();
    let items: Vec<String> = sorted.iter().map(|s| format!("`{s}`")).collect();
    format!("[{}]", items.join(", "))
}

fn check_graph(def: &Definition, r: &mut Report<'_>, terminal: &HashSet<&str>) {
    use DefinitionErrorCode as C;
    let applies = |t: &crate::definition::Transition, s: &str| {
        t.from
            .iter()
            .any(|f| f == s || (f == "*" && !terminal.contains(s)))
    };
    let mut reached: HashSet<&str> = HashSet::new();
    let mut queue = VecDeque::from([def.initial.state.as_str()]);
    while let Some(s) = queue.pop_front() {
        if !reached.insert(s) {
            continue;
        }
        for t in def.transitions.iter().filter(|t| applies(t, s)) {
            for next in [&t.to, &t.fail_to].into_iter().flatten() {
                queue.push_back(next.as_str());
            }
        }
    }
    // States from which a terminal state can be reached (fixed point over the transitions).
    let mut ends: HashSet<&str> = terminal.clone();
    loop {
        let before = ends.len();
        for s in &def.states {
            if ends.contains(s.id.as_str()) {
                continue;
            }
            let out = def.transitions.iter().filter(|t| applies(t, &s.id));
            if out
                .flat_map(|t| [&t.to, &t.fail_to].into_iter().flatten())
                .any(|n| ends.contains(n.as_str()))
            {
                ends.insert(s.id.as_str());
            }
        }
        if ends.len() == before {
            break;
        }
    }
    for (i, s) in def.states.iter().enumerate() {
        if !reached.contains(s.id.as_str()) {
            r.push(
                format!("/states/{i}"),
                C::UnreachableState,
                format!(
                    "state `{}` that no transition from `{}` reaches",
                    s.id, def.initial.state
                ),
                "every state reachable from the initial state",
            );
        }
        let has_exit = def
            .transitions
            .iter()
            .filter(|t| applies(t, &s.id))
            .any(|t| {
                [&t.to, &t.fail_to]
                    .into_iter()
                    .flatten()
                    .any(|n| n != &s.id)
            });
        // A state with no exit at all is a dead end (below); one whose exits only lead
        // among states that never end is a trap.
        if !s.terminal
            && has_exit
            && reached.contains(s.id.as_str())
            && !ends.contains(s.id.as_str())
        {
            r.push(
                format!("/states/{i}"),
                C::NoWayToEnd,
                format!(
                    "state `{}` from which no terminal state can be reached",
                    s.id
                ),
                "a path from every state to a terminal state",
            );
        }
        if !s.terminal && !has_exit {
            r.push(
                format!("/states/{i}"),
                C::DeadEndState,
                format!(
                    "non-terminal state `{}` with no transition to another state",
                    s.id
                ),
                "a way out of every non-terminal state",
            );
        }
    }
}

/// A statutory floor of a rule pack.
struct Floor {
    field: &'static str,
    min: Period,
    article: &'static str,
}

const fn f(field: &'static str, amount: u32, unit: PeriodUnit, article: &'static str) -> Floor {
    Floor {
        field,
        min: Period { amount, unit },
        article,
    }
}

const CAL: PeriodUnit = PeriodUnit::CalendarDays;
const WORK: PeriodUnit = PeriodUnit::WorkingDays;
const BIDDING_LAW: &[Floor] = &[
    f("minBidPeriod", 20, CAL, "BL 24"),
    f("clarificationCutoff", 15, CAL, "BL 23, Reg 21"),
    f("objectionCutoff", 10, CAL, "Reg 22"),
    f("publicity", 3, CAL, "Reg 54"),
    f("documentsAvailable", 5, CAL, "Reg 16"),
];
const GOV_PROCUREMENT: &[Floor] = &[
    f("minBidPeriod", 20, CAL, "GPL 35"),
    f("clarificationCutoff", 15, CAL, "GPR 31"),
    f("documentsAvailable", 5, WORK, "GPR 31"),
    f("publicity", 7, WORK, "GPL 52"),
];
const EU_OPEN: &[Floor] = &[
    f("minBidPeriod", 30, CAL, "Art. 27"),
    f("clarificationCutoff", 6, CAL, "Art. 47(3)"),
    f("publicity", 10, CAL, "Directive 89/665 Art. 2a"),
];

fn floors(pack: RulePack) -> &'static [Floor] {
    match pack {
        RulePack::PrcBiddingLaw => BIDDING_LAW,
        RulePack::PrcGovProcurement => GOV_PROCUREMENT,
        RulePack::Eu201424 => EU_OPEN,
        RulePack::Adopted => &[],
    }
}

type RuleRef<'a> = dyn Fn(&mut Report<'_>, String, &Option<String>) + 'a;

/// The schedule's time limits that are set, by their field name.
fn schedule_rules(
    s: &crate::definition::Schedule,
) -> impl Iterator<Item = (&'static str, &crate::definition::TimeRule)> {
    [
        ("minBidPeriod", Some(&s.min_bid_period)),
        ("clarificationCutoff", s.clarification_cutoff.as_ref()),
        ("objectionCutoff", s.objection_cutoff.as_ref()),
        ("objectionAnswer", s.objection_answer.as_ref()),
        ("publicity", s.publicity.as_ref()),
        ("documentsAvailable", s.documents_available.as_ref()),
    ]
    .into_iter()
    .filter_map(|(n, tr)| tr.map(|tr| (n, tr)))
}

fn check_schedule(def: &Definition, r: &mut Report<'_>, rule_ref: &RuleRef<'_>) {
    use DefinitionErrorCode as C;
    let s = &def.schedule;
    for (name, tr) in schedule_rules(s) {
        rule_ref(r, format!("/schedule/{name}/rule"), &tr.rule);
    }
    for (i, o) in s.obligations.iter().enumerate() {
        rule_ref(
            r,
            format!("/schedule/obligations/{i}/within/rule"),
            &o.within.rule,
        );
    }
    if def.calendar.weekend.len() >= 7 {
        r.push(
            "/calendar/weekend",
            C::ScheduleContradiction,
            "every weekday a rest day",
            "at least one working weekday",
        );
    }
    let min_bid = s.min_bid_period.period();
    let mut contradiction = |ptr: &str, a: &str, ap: Period, b: &str, bp: Period| {
        r.push(
            ptr,
            C::ScheduleContradiction,
            format!("{a} of {ap} against {b} of {bp}"),
            format!("{a} shorter than {b}"),
        );
    };
    if let Some(cut) = &s.objection_cutoff {
        if cut.period().min_calendar_days() >= min_bid.max_calendar_days() {
            contradiction(
                "/schedule/objectionCutoff",
                "objectionCutoff",
                cut.period(),
                "minBidPeriod",
                min_bid,
            );
        }
        if let Some(ans) = &s.objection_answer {
            if ans.period().min_calendar_days() >= cut.period().max_calendar_days() {
                contradiction(
                    "/schedule/objectionAnswer",
                    "objectionAnswer",
                    ans.period(),
                    "objectionCutoff",
                    cut.period(),
                );
            }
        }
    }
    if let Some(cut) = &s.clarification_cutoff {
        if cut.period().min_calendar_days() > min_bid.max_calendar_days() {
            contradiction(
                "/schedule/clarificationCutoff",
                "clarificationCutoff",
                cut.period(),
                "minBidPeriod",
                min_bid,
            );
        }
    }
    if let Some(docs) = &s.documents_available {
        if docs.period().min_calendar_days() > min_bid.max_calendar_days() {
            contradiction(
                "/schedule/documentsAvailable",
                "documentsAvailable",
                docs.period(),
                "minBidPeriod",
                min_bid,
            );
        }
    }

    // Statutory floors of the rule pack.
    for floor in floors(def.rule_pack) {
        let got = schedule_rules(s)
            .find(|(n, _)| *n == floor.field)
            .map(|(_, t)| t);
        let ptr = format!("/schedule/{}", floor.field);
        let expected = format!(
            "at least {} ({}, rule pack {:?})",
            floor.min, floor.article, def.rule_pack
        );
        match got {
            None => r.push(ptr, C::BelowRulePack, "no constraint", expected),
            Some(tr) => {
                let p = tr.period();
                let ok = match (floor.min.unit, p.unit) {
                    (PeriodUnit::WorkingDays, PeriodUnit::WorkingDays) => {
                        p.amount >= floor.min.amount
                    }
                    (PeriodUnit::WorkingDays, _) => false,
                    _ => p.min_calendar_days() >= floor.min.min_calendar_days(),
                };
                if !ok {
                    r.push(ptr, C::BelowRulePack, p.to_string(), expected);
                }
            }
        }
    }
    let proc = &def.procedure;
    rule_ref(r, "/procedure/rule".into(), &proc.rule);
    if proc.kind == crate::definition::ProcedureKind::Invited
        && matches!(
            def.rule_pack,
            RulePack::PrcBiddingLaw | RulePack::PrcGovProcurement
        )
        && proc.min_invitees < 3
    {
        let article = if def.rule_pack == RulePack::PrcBiddingLaw {
            "BL 17"
        } else {
            "GPL 34"
        };
        r.push(
            "/procedure/minInvitees",
            C::BelowRulePack,
            proc.min_invitees.to_string(),
            format!("at least 3 invitees ({article})"),
        );
    }
    let statutory_committee = matches!(
        def.rule_pack,
        RulePack::PrcBiddingLaw | RulePack::PrcGovProcurement
    );
    let c = &def.evaluation.committee;
    if statutory_committee {
        let article = if def.rule_pack == RulePack::PrcBiddingLaw {
            "BL 37"
        } else {
            "Order 87 art. 47"
        };
        if c.min_members < 5 || !c.odd {
            r.push(
                "/evaluation/committee",
                C::BelowRulePack,
                format!("minMembers {} odd {}", c.min_members, c.odd),
                format!("at least 5 members, an odd number ({article})"),
            );
        }
        if c.min_expert_share.is_none_or(|s| s.raw() < 6666) {
            r.push(
                "/evaluation/committee/minExpertShare",
                C::BelowRulePack,
                c.min_expert_share.map_or("none".into(), |s| s.to_string()),
                format!("at least two thirds experts (0.6667, {article})"),
            );
        }
        if def.award.min_valid_bids < 3 {
            let article = if def.rule_pack == RulePack::PrcBiddingLaw {
                "BL 28"
            } else {
                "GPL 36"
            };
            r.push(
                "/award/minValidBids",
                C::BelowRulePack,
                def.award.min_valid_bids.to_string(),
                format!("at least 3 ({article})"),
            );
        }
    }
    if def.rule_pack == RulePack::PrcBiddingLaw
        && def.award.max_candidates_per_lot.is_none_or(|m| m > 3)
    {
        r.push(
            "/award/maxCandidatesPerLot",
            C::BelowRulePack,
            def.award
                .max_candidates_per_lot
                .map_or("none".into(), |m| m.to_string()),
            "at most 3 ranked candidates per lot (Reg 53)",
        );
    }
}
