//! The use cases as the API, the web pages and the CLI call them.

use std::sync::Arc;
use tenderflow_app::commands::{Answer, Submission};
use tenderflow_app::views::TenderFilter;
use tenderflow_app::{App, AppError, Caller};
use tenderflow_core::model::{SubmitBid, WithdrawBid};
use tenderflow_core::scenario::{self, Params};
use tenderflow_core::{CommandBody, Timestamp};
use tenderflow_store::clock::ManualClock;
use tenderflow_store::{Store, Tuning};
use tenderflow_testkit::db::Scratch;
use tenderflow_testkit::fixtures::{account, bid, register_seed};

struct World {
    app: App,
    clock: Arc<ManualClock>,
    steps: Vec<scenario::Step>,
    _db: Scratch,
}

async fn caller(app: &App, id: &str, role: &str) -> Caller {
    let token = app
        .store
        .create_account(&account(id, role))
        .await
        .expect("account");
    app.authenticate(&token)
        .await
        .expect("authenticate")
        .expect("a valid token")
}

/// An app on a manual clock with a published seed tender `T-1` (no bids yet).
async fn world() -> (World, Caller) {
    let db = Scratch::sqlite();
    let wf = tenderflow_core::load(
        "partner-recruitment.json",
        &tenderflow_testkit::workflow_bytes("partner-recruitment"),
    )
    .expect("definition");
    let steps = scenario::script(
        &wf,
        &Params {
            bidders: 0,
            ..Params::default()
        },
    );
    let clock = Arc::new(ManualClock::new(steps[0].at));
    let key = tenderflow_store::crypto::MasterKey::generate().expect("key");
    let store = Store::connect_with(&db.url, key, clock.clone(), Tuning::default())
        .await
        .expect("store");
    let app = App::with_manual_clock(Arc::new(store), clock.clone());
    register_seed(&app.store).await;
    let staff = caller(&app, scenario::STAFF, "staff").await;
    app.create_tender(&staff, "partner-recruitment", "T-1", None)
        .await
        .expect("create");
    clock.set(steps[1].at);
    app.execute(
        &staff,
        Submission {
            tender_id: "T-1".into(),
            body: steps[1].command().expect("publish").body,
            key: None,
            if_match: None,
        },
    )
    .await
    .expect("publish");
    (
        World {
            app,
            clock,
            steps,
            _db: db,
        },
        staff,
    )
}

fn bid_on(tender: &str, key: Option<&str>) -> Submission {
    Submission {
        tender_id: tender.into(),
        body: CommandBody::SubmitBid(SubmitBid {
            documents: Vec::new(),
            lot: None,
            content: bid("Org A", 100).into(),
        }),
        key: key.map(str::to_owned),
        if_match: None,
    }
}

#[tokio::test]
async fn a_bid_gets_a_receipt_code_and_no_sequence_numbers() {
    let (w, _) = world().await;
    w.clock.set(w.steps[1].at.plus_seconds(60));
    let org = caller(&w.app, "org-a", "bidder").await;
    let done = w
        .app
        .execute(&org, bid_on("T-1", Some("bid-1")))
        .await
        .expect("bid");
    let answer = Answer::of(&done, &org);
    let receipt = answer.receipt.as_ref().expect("a receipt");
    assert!(!receipt.code.is_empty());
    assert!(answer.events.iter().all(|e| e.seq.is_none()), "{answer:?}");
    // The same key again: the first answer, nothing new.
    let again = w
        .app
        .execute(&org, bid_on("T-1", Some("bid-1")))
        .await
        .expect("repeat");
    assert!(again.repeated);
    // The same key for another request is refused.
    let mut other = bid_on("T-1", Some("bid-1"));
    other.body = CommandBody::WithdrawBid(WithdrawBid { lot: None });
    let err = w.app.execute(&org, other).await.expect_err("reused key");
    assert!(matches!(err, AppError::KeyReused { .. }), "{err}");
}

#[tokio::test]
async fn a_stale_view_tag_is_refused_and_the_current_one_accepted() {
    let (w, _) = world().await;
    w.clock.set(w.steps[1].at.plus_seconds(60));
    let org = caller(&w.app, "org-a", "bidder").await;
    let current = w.app.tender_view(&org, "T-1").await.expect("view").tag;
    let mut stale = bid_on("T-1", None);
    stale.if_match = Some("\"0000\"".into());
    let err = w.app.execute(&org, stale).await.expect_err("stale");
    assert!(
        matches!(&err, AppError::Stale { current: c } if *c == current),
        "{err}"
    );
    let mut fresh = bid_on("T-1", None);
    fresh.if_match = Some(current);
    w.app.execute(&org, fresh).await.expect("current tag");
}

#[tokio::test]
async fn read_access_follows_the_role() {
    let (w, staff) = world().await;
    let outsider = caller(&w.app, "expert-x", "evaluator").await;
    let err = w
        .app
        .tender_view(&outsider, "T-1")
        .await
        .expect_err("not on the committee");
    assert!(matches!(err, AppError::Forbidden(_)), "{err}");
    // A draft is invisible to bidders.
    w.app
        .create_tender(&staff, "partner-recruitment", "T-2", None)
        .await
        .expect("draft");
    let org = caller(&w.app, "org-a", "bidder").await;
    let err = w.app.tender_view(&org, "T-2").await.expect_err("draft");
    assert!(matches!(err, AppError::NotFound(_)), "{err}");
    let page = w
        .app
        .tenders(&org, &TenderFilter::default())
        .await
        .expect("list");
    let ids: Vec<&str> = page.items.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["T-1"]);
    assert_eq!(
        page.items[0].events, None,
        "no event count before the opening"
    );
    let all = w
        .app
        .tenders(&staff, &TenderFilter::default())
        .await
        .expect("list");
    assert_eq!(all.items.len(), 2);
    assert!(all.items.iter().all(|t| t.events.is_some()));
    // Operations are for their roles only.
    let err = w
        .app
        .outbox(&org, None, None, None)
        .await
        .expect_err("outbox");
    assert!(matches!(err, AppError::Forbidden(_)), "{err}");
    let err = w
        .app
        .set_clock(&staff, Timestamp::EPOCH)
        .await
        .expect_err("admins only");
    assert!(matches!(err, AppError::Forbidden(_)), "{err}");
}

#[tokio::test]
async fn the_background_work_fires_due_timers_and_stops_on_shutdown() {
    let (w, staff) = world().await;
    let (_, t) = w.app.store.load("T-1").await.expect("load");
    let deadline = t.deadline.expect("deadline");
    w.clock.set(deadline.plus_seconds(1));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = w.app.clone();
    let running = tokio::spawn(async move {
        tenderflow_app::background::run(&app, None, "bg", Default::default(), async {
            let _ = stopped.await;
        })
        .await;
    });
    let mut state = String::new();
    for _ in 0..100 {
        state = w.app.tender_view(&staff, "T-1").await.expect("view").view["state"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if state != "announced" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_ne!(state, "announced", "the deadline fired");
    let _ = stop.send(());
    tokio::time::timeout(std::time::Duration::from_secs(5), running)
        .await
        .expect("stops on shutdown")
        .expect("join");
}
