//! Delivery to a real SMTP server: every kind to the right people in their language; a server
//! that stops partway loses nothing; 550 makes a dead letter; 451 is retried.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tenderflow_core::Timestamp;
use tenderflow_core::scenario::{self, Params};
use tenderflow_notify::{Dispatcher, RetryPolicy, Transport};
use tenderflow_store::crypto::MasterKey;
use tenderflow_store::{Account, OutboxStatus, Store};
use tenderflow_testkit::fixtures::play_step;
use tenderflow_testkit::smtp::{Smtp, header};
use tenderflow_testkit::workflow_bytes;

async fn store() -> (Arc<Store>, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("tenderflow-notify-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.join("db.sqlite").display());
    (
        Arc::new(
            Store::connect(&url, MasterKey::generate().expect("key"))
                .await
                .expect("store"),
        ),
        dir,
    )
}

async fn add(store: &Store, id: &str, role: &str, locale: &str, email: &str) {
    let a = Account {
        id: id.into(),
        role: role.into(),
        display_name: id.into(),
        email: Some(email.into()),
        locale: locale.into(),
    };
    store.create_account(&a).await.expect("account");
}

fn now_ms() -> i64 {
    tenderflow_store::clock::wall_ms()
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        base: Duration::from_millis(50),
        max: Duration::from_millis(400),
        max_attempts: 200,
    }
}

async fn drain(d: &Dispatcher, store: &Store) {
    for _ in 0..400 {
        d.dispatch_due(now_ms()).await.expect("dispatch");
        if store
            .outbox(Some(OutboxStatus::Pending))
            .await
            .expect("outbox")
            .is_empty()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the outbox did not drain");
}

#[tokio::test]
async fn the_seed_case_mail_reaches_everyone_in_their_language() {
    let Some(smtp) = Smtp::start() else { return };
    let (store, dir) = store().await;
    let params = Params::default();
    add(
        &store,
        scenario::STAFF,
        "staff",
        "zh-CN",
        "staff@union.example",
    )
    .await;
    add(
        &store,
        scenario::INSPECTOR,
        "inspector",
        "zh-CN",
        "inspector@union.example",
    )
    .await;
    // The committee's experts get their appointment.
    for i in 0..params.evaluators {
        add(
            &store,
            &scenario::evaluator_id(i),
            "evaluator",
            "zh-CN",
            &format!("{}@experts.example", scenario::evaluator_id(i)),
        )
        .await;
    }
    for i in 0..params.bidders {
        let locale = if i % 2 == 0 { "zh-CN" } else { "en" };
        add(
            &store,
            &scenario::bidder_id(i),
            "bidder",
            locale,
            &format!("{}@partners.example", scenario::bidder_id(i)),
        )
        .await;
    }
    let sha = store
        .register_workflow(
            "partner-recruitment.json",
            &workflow_bytes("partner-recruitment"),
        )
        .await
        .expect("wf")
        .sha256;
    let wf = store.workflow(&sha).await.expect("wf");
    let steps = scenario::script(&wf, &params);
    let tender_id = scenario::tender_id(&params);
    for (i, s) in steps.iter().enumerate() {
        play_step(&store, &sha, &tender_id, &format!("c{i}"), s)
            .await
            .expect("step");
    }
    let queued = store
        .outbox(Some(OutboxStatus::Pending))
        .await
        .expect("outbox");
    let d = Dispatcher::new(
        store.clone(),
        Transport::smtp(&smtp.url(), 4, Duration::from_secs(10)).expect("smtp"),
        "招募工作组 <recruitment@union.example>",
        "w",
    )
    .expect("dispatcher")
    .with_retry(fast());
    drain(&d, &store).await;
    let mail = smtp.messages();
    assert_eq!(mail.len(), queued.len(), "one message per outbox row");
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for row in &queued {
        *by_kind.entry(row.message.as_str()).or_default() += 1;
    }
    assert_eq!(by_kind["bid_receipt"], 18);
    assert_eq!(by_kind["award_notice"], 7);
    assert_eq!(by_kind["regret_notice"], 11);
    let ids: BTreeSet<String> = mail
        .iter()
        .map(|m| header(m, "Message-ID").expect("message id"))
        .collect();
    assert_eq!(ids.len(), mail.len(), "stable, distinct Message-IDs");
    // Unique beyond this database: the installation's id is in every one.
    let install = store.installation_id();
    assert!(
        ids.iter()
            .all(|id| id.contains(&format!("tenderflow-{install}-outbox-")))
    );
    for row in &queued {
        let id = d.message_id(row.id);
        let m = mail
            .iter()
            .find(|m| header(m, "Message-ID").as_deref() == Some(id.as_str()))
            .expect("delivered");
        assert_eq!(
            header(m, "Auto-Submitted").as_deref(),
            Some("auto-generated")
        );
        // A tender's messages form one thread.
        let thread = d.thread_id(&row.tender_id);
        assert_eq!(header(m, "In-Reply-To").as_deref(), Some(thread.as_str()));
        assert_eq!(header(m, "References").as_deref(), Some(thread.as_str()));
        // Replies reach the procuring entity the definition names, not the no-reply sender.
        assert!(
            header(m, "Reply-To").is_some_and(|r| r.contains("recruitment@union.example")),
            "{:?}",
            header(m, "Reply-To")
        );
        let to = header(m, "To").expect("to");
        assert!(
            to.contains(&format!("{}@", row.recipient_id)) || to.contains("union.example"),
            "{to}"
        );
        let subject = header(m, "Subject").expect("subject");
        let account = store
            .account(&row.recipient_id)
            .await
            .expect("account")
            .expect("exists");
        assert_eq!(
            header(m, "Content-Language").as_deref(),
            Some(account.locale.as_str())
        );
        // Encoded-word subjects are ASCII on the wire; decoding is the mail client's job:
        // UTF-8 words mark the Chinese ones.
        let chinese = subject.contains("=?utf-8?") || subject.contains("=?UTF-8?");
        assert_eq!(
            chinese,
            account.locale == "zh-CN",
            "{} {subject}",
            row.message
        );
        assert!(
            m.contains("multipart/alternative")
                && m.contains("text/html")
                && m.contains("text/plain")
        );
    }
    drop(smtp);
    let _ = std::fs::remove_dir_all(dir);
}

/// A published tender and `n` registered bidders: the announcement queues `n` messages.
async fn announce_to(store: &Store, n: u32, email: impl Fn(u32) -> String) {
    for i in 0..n {
        add(
            store,
            &format!("bidder-{i:03}"),
            "bidder",
            if i % 2 == 0 { "en" } else { "zh-CN" },
            &email(i),
        )
        .await;
    }
    let sha = store
        .register_workflow(
            "partner-recruitment.json",
            &workflow_bytes("partner-recruitment"),
        )
        .await
        .expect("wf")
        .sha256;
    let wf = store.workflow(&sha).await.expect("wf");
    let steps = scenario::script(
        &wf,
        &Params {
            bidders: 0,
            ..Params::default()
        },
    );
    let tender_id = scenario::tender_id(&Params::default());
    for (i, s) in steps.iter().take(2).enumerate() {
        play_step(store, &sha, &tender_id, &format!("c{i}"), s)
            .await
            .expect("create and publish");
    }
    let _ = Timestamp::EPOCH;
}

#[tokio::test]
async fn a_server_that_stops_partway_loses_none_of_200_messages() {
    let Some(mut smtp) = Smtp::start() else {
        return;
    };
    let (store, dir) = store().await;
    announce_to(&store, 200, |i| format!("bidder-{i:03}@partners.example")).await;
    assert_eq!(
        store
            .outbox(Some(OutboxStatus::Pending))
            .await
            .expect("outbox")
            .len(),
        200
    );
    let d = Arc::new(
        Dispatcher::new(
            store.clone(),
            Transport::smtp(&smtp.url(), 2, Duration::from_secs(2)).expect("smtp"),
            "hr@union.example",
            "w",
        )
        .expect("dispatcher")
        .with_retry(fast())
        .with_concurrency(2),
    );
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let runner = {
        let d = d.clone();
        tokio::spawn(async move {
            d.run(async {
                let _ = stop_rx.await;
            })
            .await
        })
    };
    while smtp.messages().len() < 40 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    smtp.stop();
    let during = smtp.messages().len();
    assert!(during < 200, "stopped partway ({during} delivered)");
    tokio::time::sleep(Duration::from_millis(500)).await;
    smtp.restart();
    for _ in 0..600 {
        if store
            .outbox(Some(OutboxStatus::Pending))
            .await
            .expect("outbox")
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop_tx.send(());
    runner.await.expect("runner");
    assert_eq!(
        store
            .outbox(Some(OutboxStatus::Sent))
            .await
            .expect("sent")
            .len(),
        200
    );
    let ids: BTreeSet<String> = smtp
        .messages()
        .iter()
        .filter_map(|m| header(m, "Message-ID"))
        .collect();
    assert_eq!(
        ids.len(),
        200,
        "every message arrived (duplicates share a Message-ID)"
    );
    drop(smtp);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_550_makes_a_dead_letter_and_a_451_is_retried_then_delivered() {
    let Some(smtp) = Smtp::start() else { return };
    let (store, dir) = store().await;
    announce_to(&store, 3, |i| match i {
        0 => "bounce-0@partners.example".into(),
        1 => "tempfail-1@partners.example".into(),
        _ => "fine-2@partners.example".into(),
    })
    .await;
    let d = Dispatcher::new(
        store.clone(),
        Transport::smtp(&smtp.url(), 2, Duration::from_secs(5)).expect("smtp"),
        "hr@union.example",
        "w",
    )
    .expect("dispatcher")
    .with_retry(fast());
    let first = d.dispatch_due(now_ms()).await.expect("dispatch");
    assert_eq!(
        (first.sent, first.retried, first.dead),
        (1, 1, 1),
        "{first:?}"
    );
    drain(&d, &store).await;
    let dead = store.outbox(Some(OutboxStatus::Dead)).await.expect("dead");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].recipient_id, "bidder-000");
    assert!(
        dead[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("550") && e.contains("mailbox unavailable")),
        "{dead:?}"
    );
    let sent = store.outbox(Some(OutboxStatus::Sent)).await.expect("sent");
    let retried = sent
        .iter()
        .find(|r| r.recipient_id == "bidder-001")
        .expect("retried row");
    assert_eq!(retried.attempts, 3, "two 451s, then delivered");
    assert_eq!(smtp.messages().len(), 2);
    // Staff re-send the dead letter: it is queued again (and bounces again here).
    assert!(store.resend(dead[0].id).await.expect("resend"));
    assert_eq!(
        store
            .outbox(Some(OutboxStatus::Pending))
            .await
            .expect("pending")
            .len(),
        1
    );
    drop(smtp);
    let _ = std::fs::remove_dir_all(dir);
}

/// Trust #4: two workers share an outbox behind a relay slower than the claim's lease; the
/// claims are sized to what is sent at once and renewed while sending, so no message goes
/// out twice and no "sent" mark is lost.
#[tokio::test]
async fn trust_04_a_slow_relay_and_two_workers_send_each_message_once() {
    let Some(smtp) = Smtp::start() else {
        return;
    };
    let (store, dir) = store().await;
    announce_to(&store, 12, |i| format!("slow-{i:03}@partners.example")).await;
    let worker = |name: &str| {
        Arc::new(
            Dispatcher::new(
                store.clone(),
                Transport::smtp(&smtp.url(), 2, Duration::from_secs(5)).expect("smtp"),
                "hr@union.example",
                name,
            )
            .expect("dispatcher")
            .with_retry(fast())
            .with_concurrency(2)
            .with_lease(Duration::from_millis(200)),
        )
    };
    let mut runs = Vec::new();
    for d in [worker("w1"), worker("w2")] {
        let store = store.clone();
        runs.push(tokio::spawn(async move {
            let mut lost = 0;
            for _ in 0..400 {
                lost += d.dispatch_due(now_ms()).await.expect("dispatch").lost;
                if store
                    .outbox(Some(OutboxStatus::Pending))
                    .await
                    .expect("outbox")
                    .is_empty()
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            lost
        }));
    }
    for r in runs {
        assert_eq!(r.await.expect("join"), 0, "no claim was lost while sending");
    }
    assert_eq!(
        store
            .outbox(Some(OutboxStatus::Sent))
            .await
            .expect("sent")
            .len(),
        12
    );
    let messages = smtp.messages();
    let ids: BTreeSet<String> = messages
        .iter()
        .filter_map(|m| header(m, "Message-ID"))
        .collect();
    assert_eq!(
        (messages.len(), ids.len()),
        (12, 12),
        "each message exactly once"
    );
    drop(smtp);
    let _ = std::fs::remove_dir_all(dir);
}
