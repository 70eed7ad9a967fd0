//! A deterministic scenario: the seed case (or any definition's) as a timed script of
//! commands. The demo, the benchmarks and the tests all play it.
//!
//! Pure like the rest of the core: the random figures come from `seed` through splitmix64.
//! Bid contents are made from the definition's bid form, so every shipped definition can run.

use crate::definition::{CriterionSource, Workflow};
use crate::model::{Actor, Command, CommandBody, Event, Member, Rejection, Role, Tender};
use crate::model::{
    AppointCommittee, FinalizeEvaluation, Publish, SignOff, SubmitBid, SubmitScores,
};
use crate::time::{Period, Timestamp};
use serde_json::{Map, Value, json};

mod contracts;
pub use contracts::{ContractParams, contract_script, delivery_quarter};

/// Parameters of a scenario run.
#[derive(Debug, Clone)]
pub struct Params {
    /// Number of bidders (the seed case: 18).
    pub bidders: u32,
    /// Number of evaluators (the seed case: 5).
    pub evaluators: u32,
    /// Seed of every generated figure.
    pub seed: u64,
    /// When the draft is created.
    pub start: Timestamp,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            bidders: 18,
            evaluators: 5,
            seed: 2021,
            // 2026-01-05 09:00 China Standard Time.
            start: Timestamp::from_unix(1_767_574_800).unwrap_or(Timestamp::EPOCH),
        }
    }
}

/// One timed step of the script.
#[derive(Debug, Clone)]
pub struct Step {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: Actor,
    /// What.
    pub input: Input,
}

/// What a step does to the tender: create it, a command, or the clock firing its timer.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// [`crate::create`] the tender with this id.
    Create(String),
    /// [`crate::decide`] a command.
    Command(CommandBody),
    /// [`crate::fire_timer`] (the step's actor is the system).
    Timer,
}

impl Input {
    /// What the step is called: `create`, the command's name, or `timer`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Create(_) => "create",
            Self::Command(body) => body.name().as_str(),
            Self::Timer => "timer",
        }
    }
}

impl Step {
    /// The step's command, when it is one.
    pub fn command(&self) -> Option<Command> {
        match &self.input {
            Input::Command(body) => Some(Command {
                actor: self.actor.clone(),
                body: body.clone(),
            }),
            Input::Create(_) | Input::Timer => None,
        }
    }

    /// Decides the step against `t` at its own time.
    pub fn decide(&self, wf: &Workflow, t: &Tender) -> Result<Vec<Event>, Rejection> {
        match &self.input {
            Input::Create(id) => crate::create(wf, t, &self.actor, id, self.at),
            Input::Command(body) => crate::decide(
                wf,
                t,
                &Command {
                    actor: self.actor.clone(),
                    body: body.clone(),
                },
                self.at,
            ),
            Input::Timer => crate::fire_timer(wf, t, self.at),
        }
    }
}

/// The id of the scenario's tender.
pub fn tender_id(p: &Params) -> String {
    format!("T-{}", p.seed)
}

/// The script under construction.
struct Steps(Vec<Step>);

impl Steps {
    fn push(&mut self, at: Timestamp, actor: &Actor, body: CommandBody) {
        self.0.push(Step {
            at,
            actor: actor.clone(),
            input: Input::Command(body),
        });
    }
    fn timer(&mut self, at: Timestamp) {
        self.0.push(Step {
            at,
            actor: Actor::system(),
            input: Input::Timer,
        });
    }
}

/// The three channels of the seed case's announcement.
pub const CHANNELS: [&str; 3] = [
    "public-resource-trading-platform",
    "union-website",
    "zhejiang-workers-daily",
];

/// A small deterministic generator (splitmix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = (hi - lo + 1) as u64;
        lo + (self.next_u64() % span) as i64
    }
}

/// Names of bidders: real-sounding partner organisations for the seed case.
pub fn bidder_id(i: u32) -> String {
    format!("org-{:02}", i + 1)
}

/// Evaluator ids.
pub fn evaluator_id(i: u32) -> String {
    format!("expert-{}", i + 1)
}

/// The staff member, inspector ids.
pub const STAFF: &str = "staff-zhang";
/// The inspector.
pub const INSPECTOR: &str = "inspector-li";

/// Partner organisations of the seed case as (Chinese, English) names (illustrative).
pub const ORGANISATIONS: &[(&str, &str)] = &[
    ("之江星光艺术团", "Zhijiang Starlight Arts Troupe"),
    ("钱塘体育赛事服务中心", "Qiantang Sports Events Centre"),
    ("西子公益活动策划社", "Xizi Public-Benefit Planning"),
    ("浙东民乐团", "East Zhejiang Folk Orchestra"),
    ("运河健身俱乐部", "Grand Canal Fitness Club"),
    ("湖畔读书会", "Lakeside Reading Society"),
    ("江南戏曲传习社", "Jiangnan Opera Workshop"),
    ("青山户外运动协会", "Green Hills Outdoor Association"),
    ("新安职工合唱团", "Xin'an Workers' Choir"),
    ("瓯江文化传播公司", "Oujiang Culture Media"),
    ("天目山志愿服务队", "Tianmu Volunteer Corps"),
    ("百川篮球训练营", "Baichuan Basketball Camp"),
    ("明州舞蹈工作室", "Mingzhou Dance Studio"),
    ("富春江龙舟俱乐部", "Fuchun River Dragon Boat Club"),
    ("乐活社区服务社", "Lohas Community Services"),
    ("东海书画院", "East Sea Painting Academy"),
    ("越韵茶艺社", "Yueyun Tea Arts"),
    ("启航公益基金会", "Qihang Public-Benefit Foundation"),
];

/// The registered name of bidder `i` (0-based) in Chinese and English: the seed's
/// organisations, numbered when there are more bidders than organisations.
pub fn organisation_name(i: u32) -> (String, String) {
    let (zh, en) = ORGANISATIONS[i as usize % ORGANISATIONS.len()];
    let round = i as usize / ORGANISATIONS.len();
    if round == 0 {
        (zh.to_owned(), en.to_owned())
    } else {
        (format!("{zh}{}", round + 1), format!("{en} {}", round + 1))
    }
}

/// The name a person or organisation of the seed script registers under, in `locale`
/// (`en` or else Chinese); `None` for an id the script does not use.
pub fn registered_name(id: &str, locale: &str) -> Option<String> {
    let en = locale == "en";
    if id == STAFF {
        return Some("张明（招募工作组）".to_owned());
    }
    if id == INSPECTOR {
        return Some("李华（机关纪委）".to_owned());
    }
    if let Some(n) = id.strip_prefix("org-").and_then(|n| n.parse::<u32>().ok()) {
        let (zh, english) = organisation_name(n.checked_sub(1)?);
        return Some(if en { english } else { zh });
    }
    let n = id.strip_prefix("expert-")?.parse::<u32>().ok()?;
    Some(format!("评审专家 {n}"))
}

fn actor(id: &str, role: &str) -> Actor {
    Actor::new(id, role).unwrap_or_else(Actor::system)
}

/// Fills a value for `schema`; `hint` labels text fields.
fn fake(schema: &Value, rng: &mut Rng, hint: &str) -> Value {
    if let Some(choices) = schema.get("enum").and_then(Value::as_array) {
        let i = rng.range(0, choices.len() as i64 - 1) as usize;
        return choices.get(i).cloned().unwrap_or(Value::Null);
    }
    let min = schema.get("minimum").and_then(Value::as_f64);
    let max = schema.get("maximum").and_then(Value::as_f64);
    match schema.get("type").and_then(Value::as_str) {
        Some("integer") => {
            let lo = min.map_or(1, |m| m as i64);
            let hi = max.map_or(lo + 1000, |m| m as i64);
            json!(rng.range(lo, hi))
        }
        Some("number") => {
            // One decimal place, within the bounds.
            let lo = (min.unwrap_or(0.0) * 10.0).ceil() as i64;
            let hi = (max.unwrap_or(100.0) * 10.0).floor() as i64;
            json!(rng.range(lo, hi) as f64 / 10.0)
        }
        Some("boolean") => json!(rng.range(0, 1) == 1),
        Some("object") => {
            let mut out = Map::new();
            let props = schema.get("properties").and_then(Value::as_object);
            for (k, v) in props.into_iter().flatten() {
                out.insert(k.clone(), fake(v, rng, k));
            }
            Value::Object(out)
        }
        Some("array") => json!([]),
        _ => json!(format!("{hint} text")),
    }
}

/// The bid of bidder `i` for `wf`'s bid form, with a plausible price and figures.
pub fn bid_content(wf: &Workflow, i: u32, rng: &mut Rng) -> Value {
    let d = wf.definition();
    let form = d
        .transitions
        .iter()
        .find(|t| t.command == Some(crate::definition::CommandName::SubmitBid))
        .and_then(|t| t.form.as_ref())
        .and_then(|f| d.forms.get(f))
        .cloned()
        .unwrap_or_else(|| json!({"type": "object"}));
    let mut bid = fake(&form, rng, "proposal");
    if let Some(obj) = bid.as_object_mut() {
        if obj.contains_key("organisation") {
            obj.insert(
                "organisation".into(),
                json!(format!("Partner organisation {:02}", i + 1)),
            );
        }
    }
    // Price: 80 000–150 000 yuan in fen; ratio figures: within the form's bounds (set by fake).
    let price = rng.range(80_000, 150_000) * 100;
    set_pointer(&mut bid, &d.evaluation.price_field, json!(price));
    for c in &d.evaluation.criteria {
        if let CriterionSource::BidRatio { field } = &c.source {
            if bid.pointer(field).is_none() {
                set_pointer(&mut bid, field, json!(rng.range(20, 60)));
            }
        }
    }
    bid
}

fn set_pointer(v: &mut Value, pointer: &str, new: Value) {
    let mut node = v;
    let parts: Vec<&str> = pointer.split('/').skip(1).collect();
    for (i, part) in parts.iter().enumerate() {
        let Some(obj) = node.as_object_mut() else {
            return;
        };
        if i + 1 == parts.len() {
            obj.insert((*part).to_owned(), new);
            return;
        }
        node = obj.entry((*part).to_owned()).or_insert_with(|| json!({}));
    }
}

/// The score sheet evaluator `e` gives bidder `b`: a bidder quality plus the evaluator's own
/// judgement, one decimal, 40–100.
pub fn score_sheet(wf: &Workflow, quality: i64, rng: &mut Rng) -> Value {
    let mut scores = Map::new();
    for c in &wf.definition().evaluation.criteria {
        if matches!(c.source, CriterionSource::Evaluators) {
            let tenths = (quality * 10 + rng.range(-80, 80)).clamp(400, 1000);
            scores.insert(c.id.to_string(), json!(tenths as f64 / 10.0));
        }
    }
    json!({ "scores": scores, "comment": "Scored against the published criteria." })
}

/// The whole procedure as a script, from draft to award.
pub fn script(wf: &Workflow, p: &Params) -> Vec<Step> {
    let d = wf.definition();
    let mut rng = Rng::new(p.seed);
    let staff = actor(STAFF, Role::STAFF.as_str());
    let inspector = actor(INSPECTOR, Role::INSPECTOR.as_str());
    let mut steps = Steps(Vec::new());
    steps.0.push(Step {
        at: p.start,
        actor: staff.clone(),
        input: Input::Create(tender_id(p)),
    });
    let t0 = p.start;
    let published = t0.plus_seconds(3600);
    let deadline = d
        .calendar
        .add(published, d.schedule.min_bid_period.period())
        .unwrap_or(published)
        .plus_seconds(86_400);
    steps.push(
        published,
        &staff,
        CommandBody::Publish(Publish { documents: Vec::new(),
            announcement: json!({
                "title": d.title.en,
                "title_zh-CN": d.title.zh_cn,
                "summary": "Recruitment of partner organisations to run public-benefit services in workers' venues.",
                "summary_zh-CN": "招募社会组织合作运营职工服务阵地，提供公益性服务。",
                "eligibility": "Registered organisations with a record in arts, sports or public-benefit activities.",
                "contact": "Workers' service centre, recruitment team"
            }).into(),
            channels: CHANNELS.iter().map(|c| (*c).to_owned()).collect(),
            deadline,
            lots: Vec::new(),
            estimated_price: None,
            bid_security: None,
            // An invited procedure invites exactly the bidders of the scenario.
            invitees: if d.procedure.kind == crate::definition::ProcedureKind::Invited {
                (0..p.bidders).filter_map(|i| crate::model::ActorId::parse(&bidder_id(i))).collect()
            } else {
                Vec::new()
            },
        }),
    );
    // Bids arrive spread over the period, the last ones in the final hours.
    let span = deadline.unix() - published.unix() - 7200;
    for i in 0..p.bidders {
        let offset = 3600 + span * i64::from(i + 1) / i64::from(p.bidders + 1);
        let content = bid_content(wf, i, &mut rng);
        steps.push(
            published.plus_seconds(offset),
            &actor(&bidder_id(i), Role::BIDDER.as_str()),
            CommandBody::SubmitBid(SubmitBid {
                documents: Vec::new(),
                lot: None,
                content: content.into(),
            }),
        );
    }
    steps.timer(deadline);
    let signoff = |stage: &str| json!({ "statement": format!("I witnessed the {stage} and found it in order."), "observations": "" });
    // The inspector commits to a draw value when signing off the opening and reveals it to
    // staff at finalisation: the tie-break seed is fixed before anyone knows the ranking.
    let reveal = format!("inspector-draw-{}", p.seed);
    let opening_gate = d.gates.iter().any(|g| g.id == "opening");
    if opening_gate {
        let mut content = signoff("opening");
        content["drawCommitment"] = crate::canonical::sha256_text(&reveal).into();
        steps.push(
            deadline.plus_seconds(300),
            &inspector,
            CommandBody::SignOff(SignOff {
                gate: "opening".into(),
                partner: None,
                content: content.into(),
            }),
        );
    }
    steps.push(deadline.plus_seconds(600), &staff, CommandBody::OpenBids {});
    let members: Vec<Member> = (0..p.evaluators)
        .map(|e| Member {
            id: crate::model::ActorId::parse(&evaluator_id(e))
                .unwrap_or_else(|| Actor::system().id),
            expert: e > 0 || p.evaluators < 3,
        })
        .collect();
    steps.push(
        deadline.plus_seconds(900),
        &staff,
        CommandBody::AppointCommittee(AppointCommittee {
            members,
            removals: Vec::new(),
            draw: None,
        }),
    );
    let qualities: Vec<i64> = (0..p.bidders).map(|_| rng.range(45, 95)).collect();
    let mut at = deadline.plus_seconds(3600);
    for e in 0..p.evaluators {
        let ev = actor(&evaluator_id(e), Role::EVALUATOR.as_str());
        for (i, q) in qualities.iter().enumerate() {
            let sheet = score_sheet(wf, *q, &mut rng);
            let bidder = crate::model::ActorId::parse(&bidder_id(i as u32))
                .unwrap_or_else(|| Actor::system().id);
            steps.push(
                at,
                &ev,
                CommandBody::SubmitScores(SubmitScores {
                    lot: None,
                    bidder,
                    sheet: sheet.into(),
                    correction: None,
                }),
            );
            at = at.plus_seconds(60);
        }
    }
    let finalized = at.plus_seconds(1800);
    steps.push(
        finalized,
        &staff,
        CommandBody::FinalizeEvaluation(FinalizeEvaluation {
            draw_reveal: opening_gate.then_some(reveal),
        }),
    );
    // Gates every committee member signs (the report "signed by all members").
    for g in d
        .gates
        .iter()
        .filter(|g| g.committee && g.state == "evaluated")
    {
        for e in 0..p.evaluators {
            let content =
                json!({ "statement": "I sign the evaluation report.", "observations": "" });
            steps.push(
                finalized.plus_seconds(300),
                &actor(&evaluator_id(e), Role::EVALUATOR.as_str()),
                CommandBody::SignOff(SignOff {
                    gate: g.id.clone(),
                    partner: None,
                    content: content.into(),
                }),
            );
        }
    }
    if d.gates.iter().any(|g| g.id == "evaluation_report") {
        steps.push(
            finalized.plus_seconds(600),
            &inspector,
            CommandBody::SignOff(SignOff {
                gate: "evaluation_report".into(),
                partner: None,
                content: signoff("evaluation").into(),
            }),
        );
    }
    let proposed = finalized.plus_seconds(1200);
    steps.push(proposed, &staff, CommandBody::ProposeAward {});
    let publicity = d
        .schedule
        .publicity
        .as_ref()
        .map_or(Period::calendar_days(0), |p| p.period());
    let ends = d.calendar.add(proposed, publicity).unwrap_or(proposed);
    steps.timer(ends);
    if d.gates.iter().any(|g| g.id == "award") {
        steps.push(
            ends.plus_seconds(600),
            &inspector,
            CommandBody::SignOff(SignOff {
                gate: "award".into(),
                partner: None,
                content: signoff("award").into(),
            }),
        );
    }
    steps.push(ends.plus_seconds(1200), &staff, CommandBody::Award {});
    steps.0
}
