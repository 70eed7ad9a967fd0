//! Fixtures of the seed case (the union's partner recruitment): bids, accounts, a published
//! tender, registered definitions.

use crate::workflow_bytes;
use tenderflow_core::model::SubmitBid;
use tenderflow_core::scenario::{self, Input, Params, Step};
use tenderflow_core::{Actor, Command, CommandBody, Timestamp};
use tenderflow_store::{Account, Executed, Store, WorkflowRecord};

/// A valid partner-recruitment bid.
pub fn bid(org: &str, fee: i64) -> serde_json::Value {
    serde_json::json!({"organisation": org, "serviceArea": "sports_events", "servicePlan": "Weekly events for workers",
                       "freeOrDiscountedShare": 30, "feeMinor": fee})
}

/// A bid by `org` (its account id is the name as an id).
pub fn submit(org: &str, fee: i64) -> Command {
    let id = org.to_lowercase().replace(' ', "-");
    Command {
        actor: Actor::new(&id, "bidder").expect("actor"),
        body: CommandBody::SubmitBid(SubmitBid {
            documents: Vec::new(),
            lot: None,
            content: bid(org, fee).into(),
        }),
    }
}

/// An account with an `@example.org` address and English mail.
pub fn account(id: &str, role: &str) -> Account {
    account_in(id, role, "en")
}

/// An account with an `@example.org` address and mail in `locale`.
pub fn account_in(id: &str, role: &str, locale: &str) -> Account {
    Account {
        id: id.to_owned(),
        role: role.to_owned(),
        // The seed script's people under their registered names, as in the demo: what
        // people read names them, never by id.
        display_name: tenderflow_core::scenario::registered_name(id, locale)
            .unwrap_or_else(|| id.to_owned()),
        email: Some(format!("{id}@example.org")),
        locale: locale.to_owned(),
    }
}

/// The people of the seed script as (id, role): staff, inspector, `bidders` bidders and
/// `evaluators` evaluators.
pub fn seed_roles(bidders: u32, evaluators: u32) -> Vec<(String, &'static str)> {
    let mut people = vec![
        (scenario::STAFF.to_owned(), "staff"),
        (scenario::INSPECTOR.to_owned(), "inspector"),
    ];
    people.extend((0..bidders).map(|i| (scenario::bidder_id(i), "bidder")));
    people.extend((0..evaluators).map(|i| (scenario::evaluator_id(i), "evaluator")));
    people
}

/// [`seed_roles`] and the people the API tests add: an admin `root`, an `outsider` bidder
/// and a spare evaluator `expert-99`.
pub fn seed_people(bidders: u32, evaluators: u32) -> Vec<(String, &'static str)> {
    let mut people = seed_roles(bidders, evaluators);
    people.push(("root".to_owned(), "admin"));
    people.push(("outsider".to_owned(), "bidder"));
    people.push(("expert-99".to_owned(), "evaluator"));
    people
}

/// Registers the shipped partner-recruitment definition.
pub async fn register_seed(store: &Store) -> WorkflowRecord {
    store
        .register_workflow(
            "partner-recruitment.json",
            &workflow_bytes("partner-recruitment"),
        )
        .await
        .expect("register")
}

/// `n` bids from `org-0`…, a second apart from a minute after `at`, with command ids
/// `{prefix}{i}`.
pub async fn bids(store: &Store, tender: &str, at: Timestamp, n: i64, prefix: &str) {
    for i in 0..n {
        store
            .execute(
                tender,
                &format!("{prefix}{i}"),
                &submit(&format!("org-{i}"), 100 + i),
                at.plus_seconds(60 + i),
            )
            .await
            .expect("bid");
    }
}

/// A published partner-recruitment tender with no bids: its id, the publish time and the
/// deadline.
pub async fn published(store: &Store, id: &str) -> (String, Timestamp, Timestamp) {
    let rec = register_seed(store).await;
    let wf = store.workflow(&rec.sha256).await.expect("wf");
    let params = Params {
        bidders: 0,
        seed: 5,
        ..Params::default()
    };
    let steps = scenario::script(&wf, &params);
    store
        .create_tender(
            &rec.sha256,
            id,
            &format!("{id}-create"),
            &steps[0].actor,
            steps[0].at,
        )
        .await
        .expect("create");
    let publish = steps[1].command().expect("the script publishes second");
    let done = store
        .execute(id, &format!("{id}-publish"), &publish, steps[1].at)
        .await
        .expect("publish");
    let (_, t) = store.load(id).await.expect("load");
    assert_eq!(done.state, t.state);
    (id.to_owned(), steps[1].at, t.deadline.expect("deadline"))
}

/// Plays one scenario step on `store`: creates the tender from workflow `sha`, executes a
/// command, or fires the timers due at the step's time (answering the first that fired).
pub async fn play_step(
    store: &Store,
    sha: &str,
    tender_id: &str,
    command_id: &str,
    step: &Step,
) -> tenderflow_store::Result<Option<Executed>> {
    match &step.input {
        Input::Create(id) => store
            .create_tender(sha, id, command_id, &step.actor, step.at)
            .await
            .map(Some),
        Input::Command(body) => {
            let command = Command {
                actor: step.actor.clone(),
                body: body.clone(),
            };
            store
                .execute(tender_id, command_id, &command, step.at)
                .await
                .map(Some)
        }
        Input::Timer => Ok(store
            .fire_due_timers(step.at, "test")
            .await?
            .into_iter()
            .next()),
    }
}

/// A PDF of `len` bytes (a PDF header, then `marker` line after line): a document whose
/// text a test can look for at rest.
pub fn pdf(marker: &str, len: usize) -> Vec<u8> {
    let mut v = b"%PDF-1.7\n".to_vec();
    while v.len() < len {
        v.extend_from_slice(marker.as_bytes());
        v.push(b'\n');
    }
    v.truncate(len);
    v
}
