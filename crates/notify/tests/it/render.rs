//! Snapshot tests: every message kind in both languages, rendered from real events of the
//! seed case (and of side branches for amendments, objections, irregularities, cancellation
//! and failure).

use serde_json::json;
use std::collections::BTreeMap;
use tenderflow_core::definition::MessageKind;
use tenderflow_core::messages::message_data;
use tenderflow_core::model::{
    Amend, AnswerObjection, AnswerQuestion, AskQuestion, Cancel, RaiseIrregularity, RaiseObjection,
    ResolveIrregularity, SignOff, TerminateAgreement, WithdrawBid,
};
use tenderflow_core::scenario::{self, INSPECTOR, Params, STAFF};
use tenderflow_core::{
    Actor, Command, CommandBody, Event, Tender, Timestamp, Workflow, apply, decide, notifications,
};
use tenderflow_notify::{Renderer, context};
use tenderflow_store::Account;
use tenderflow_testkit::workflow_bytes;

struct Play {
    wf: Workflow,
    t: Tender,
    /// For each message kind, the first (state after, event) that sends it.
    first: BTreeMap<MessageKind, (Tender, Event)>,
}

impl Play {
    fn exec(&mut self, actor: (&str, &str), body: CommandBody, now: Timestamp) {
        let cmd = Command {
            actor: Actor::new(actor.0, actor.1).expect("actor"),
            body,
        };
        let events = decide(&self.wf, &self.t, &cmd, now).unwrap_or_else(|r| panic!("{r}"));
        self.record(&events);
    }
    fn record(&mut self, events: &[Event]) {
        for e in events {
            self.t = apply(std::mem::take(&mut self.t), e);
        }
        for n in notifications(&self.wf, &self.t, events) {
            self.first
                .entry(n.message)
                .or_insert_with(|| (self.t.clone(), events[n.event_index].clone()));
        }
    }
    fn steps(&mut self, steps: &[scenario::Step]) {
        for s in steps {
            let events = s
                .decide(&self.wf, &self.t)
                .unwrap_or_else(|r| panic!("{r}"));
            self.record(&events);
        }
    }
}

fn all_kinds() -> BTreeMap<MessageKind, (Tender, Event)> {
    let wf = tenderflow_core::load(
        "partner-recruitment.json",
        &workflow_bytes("partner-recruitment"),
    )
    .expect("wf");
    let steps = scenario::script(&wf, &Params::default());
    let mut main = Play {
        wf,
        t: Tender::default(),
        first: BTreeMap::new(),
    };
    main.steps(&steps[..2]);
    let t0 = steps[1].at.plus_seconds(3600);
    main.exec(
        (STAFF, "staff"),
        CommandBody::Amend(Amend {
            documents: Vec::new(),
            text: "The venue is the Workers' Cultural Palace, hall B.".into(),
            affects_bids: true,
            new_deadline: None,
        }),
        t0,
    );
    main.exec(
        ("org-02", "bidder"),
        CommandBody::AskQuestion(AskQuestion {
            text: "May one organisation run services in two venues?".into(),
        }),
        t0,
    );
    main.exec(
        (STAFF, "staff"),
        CommandBody::AnswerQuestion(AnswerQuestion {
            documents: Vec::new(),
            question: 1,
            answer: "Yes; describe each venue's plan separately.".into(),
            affects_bids: false,
        }),
        t0,
    );
    main.exec(
        ("org-01", "bidder"),
        CommandBody::RaiseObjection(RaiseObjection {
            content: json!({"subject": "Eligibility rule 3", "grounds": "Too narrow"}).into(),
        }),
        t0,
    );
    main.exec(
        (STAFF, "staff"),
        CommandBody::AnswerObjection(AnswerObjection {
            objection: 1,
            answer: "Rule 3 follows the recruitment documents.".into(),
            upheld: false,
        }),
        t0,
    );
    main.exec(
        (INSPECTOR, "inspector"),
        CommandBody::RaiseIrregularity(RaiseIrregularity {
            content: json!({"text": "The newspaper notice omits the deadline."}).into(),
        }),
        t0,
    );
    main.exec(
        (INSPECTOR, "inspector"),
        CommandBody::ResolveIrregularity(ResolveIrregularity {
            irregularity: 1,
            resolution: "Corrected notice printed.".into(),
        }),
        t0,
    );
    main.steps(&steps[2..]);
    // The stage after the award: agreements, deliveries (one partner behind), a warning and
    // the warned partner's termination.
    let contract =
        scenario::contract_script(&main.wf, &main.t, &scenario::ContractParams::default());
    main.steps(&contract);
    let warned = main
        .t
        .agreements
        .values()
        .find(|a| a.warnings() > 0)
        .expect("a warned partner")
        .partner
        .clone();
    let later = main.t.last_at.expect("events").plus_seconds(3600);
    main.exec(
        (INSPECTOR, "inspector"),
        CommandBody::SignOff(SignOff {
            gate: "termination".into(),
            partner: Some(warned.clone()),
            content: json!({"statement": "The termination follows the rules."}).into(),
        }),
        later,
    );
    main.exec(
        (STAFF, "staff"),
        CommandBody::TerminateAgreement(TerminateAgreement {
            partner: warned,
            reason: "Free places below the promised share after a warning.".into(),
        }),
        later,
    );
    // Withdraw and cancel on a fresh tender.
    let wf2 = tenderflow_core::load(
        "partner-recruitment.json",
        &workflow_bytes("partner-recruitment"),
    )
    .expect("wf");
    let mut side = Play {
        wf: wf2,
        t: Tender::default(),
        first: BTreeMap::new(),
    };
    side.steps(&steps[..3]);
    side.exec(
        ("org-01", "bidder"),
        CommandBody::WithdrawBid(WithdrawBid { lot: None }),
        steps[2].at,
    );
    side.exec(
        (STAFF, "staff"),
        CommandBody::Cancel(Cancel {
            reason: "The venue is closed for repairs.".into(),
        }),
        steps[2].at,
    );
    // Too few bids.
    let wf3 = tenderflow_core::load(
        "partner-recruitment.json",
        &workflow_bytes("partner-recruitment"),
    )
    .expect("wf");
    let few = scenario::script(
        &wf3,
        &Params {
            bidders: 2,
            ..Params::default()
        },
    );
    let mut failed = Play {
        wf: wf3,
        t: Tender::default(),
        first: BTreeMap::new(),
    };
    failed.steps(
        &few[..few
            .iter()
            .position(|s| s.input == scenario::Input::Command(CommandBody::OpenBids {}))
            .expect("open")
            + 1],
    );
    let mut first = main.first;
    for (k, v) in side.first.into_iter().chain(failed.first) {
        first.entry(k).or_insert(v);
    }
    first
}

fn account(locale: &str) -> Account {
    let name = if locale == "en" {
        "Partner organisation 03"
    } else {
        "合作单位三号"
    };
    Account {
        id: "org-03".into(),
        role: "bidder".into(),
        display_name: name.into(),
        email: Some("org-03@example.org".into()),
        locale: locale.into(),
    }
}

#[test]
fn every_message_kind_renders_in_both_languages() {
    let wf = tenderflow_core::load(
        "partner-recruitment.json",
        &workflow_bytes("partner-recruitment"),
    )
    .expect("wf");
    let renderer = Renderer::new();
    let first = all_kinds();
    let missing: Vec<&str> = MessageKind::ALL
        .iter()
        .filter(|k| !first.contains_key(k))
        .map(|k| k.as_str())
        .collect();
    assert!(missing.is_empty(), "no event sent {missing:?}");
    for (kind, (tender, event)) in &first {
        for locale in ["zh-CN", "en"] {
            let r = renderer
                .render(
                    *kind,
                    locale,
                    &context(
                        &message_data(&wf, tender, event, "org-03"),
                        &account(locale),
                    ),
                )
                .unwrap_or_else(|e| panic!("{kind} {locale}: {e}"));
            assert_eq!(r.locale, locale);
            let zh = r
                .subject
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
            assert_eq!(zh, locale == "zh-CN", "{kind} {locale}: {}", r.subject);
            assert!(r.html.contains(&format!("lang=\"{locale}\"")));
            insta::assert_snapshot!(
                format!("{kind}-{locale}"),
                format!("Subject: {}\n\n{}", r.subject, r.text)
            );
        }
    }
}

#[test]
fn html_escapes_what_users_wrote() {
    let wf = tenderflow_core::load(
        "partner-recruitment.json",
        &workflow_bytes("partner-recruitment"),
    )
    .expect("wf");
    let first = all_kinds();
    let (tender, event) = &first[&MessageKind::Cancellation];
    let mut ctx = context(&message_data(&wf, tender, event, "org-03"), &account("en"));
    ctx["reason"] = json!("<script>alert(1)</script> & more");
    let r = Renderer::new()
        .render(MessageKind::Cancellation, "en", &ctx)
        .expect("render");
    assert!(
        r.html
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"),
        "{}",
        r.html
    );
    assert!(
        r.text.contains("<script>"),
        "plain text keeps the text as written"
    );
}

/// With a public URL configured, every message of every kind links to its tender's notice.
#[test]
fn every_message_links_to_its_notice_when_the_server_has_a_public_url() {
    let wf = tenderflow_core::load(
        "partner-recruitment.json",
        &workflow_bytes("partner-recruitment"),
    )
    .expect("wf");
    let renderer = Renderer::new();
    for (kind, (tender, event)) in &all_kinds() {
        for locale in ["zh-CN", "en"] {
            let mut ctx = context(
                &message_data(&wf, tender, event, "org-03"),
                &account(locale),
            );
            ctx["tender"]["url"] = json!("https://tenders.union.example/notices/T-2021");
            let r = renderer.render(*kind, locale, &ctx).expect("render");
            assert!(
                r.text
                    .contains("https://tenders.union.example/notices/T-2021"),
                "{kind} {locale}: {}",
                r.text
            );
        }
    }
}

/// Operators replace a template from a directory; a broken one is refused at start, naming
/// its file.
#[test]
fn templates_can_be_overridden_from_a_directory() {
    let dir = tenderflow_testkit::TempDir::new("templates");
    std::fs::create_dir_all(dir.path().join("en")).expect("dir");
    std::fs::write(
        dir.path().join("en/cancellation.txt"),
        "Subject: Withdrawn: {{ tender.title }}\n\nThe union withdrew it: {{ reason }}\n",
    )
    .expect("write");
    let r = Renderer::with_overrides(dir.path()).expect("loads");
    let (tender, event) = &all_kinds()[&MessageKind::Cancellation];
    let wf = tenderflow_core::load(
        "partner-recruitment.json",
        &workflow_bytes("partner-recruitment"),
    )
    .expect("wf");
    let ctx = context(&message_data(&wf, tender, event, "org-03"), &account("en"));
    let en = r.render(MessageKind::Cancellation, "en", &ctx).expect("en");
    assert!(en.subject.starts_with("Withdrawn: "), "{}", en.subject);
    // The other language and the other kinds keep the shipped text.
    let zh = r
        .render(MessageKind::Cancellation, "zh-CN", &ctx)
        .expect("zh");
    assert_eq!(
        zh,
        Renderer::new()
            .render(MessageKind::Cancellation, "zh-CN", &ctx)
            .expect("shipped")
    );
    std::fs::write(dir.path().join("en/amendment.txt"), "Subject: {% if %}\n").expect("write");
    let err = Renderer::with_overrides(dir.path()).expect_err("broken");
    assert!(err.to_string().contains("amendment.txt"), "{err}");
}

/// The HTML part is a layout, not the text in paragraphs: the opening record is a table,
/// addresses are links, and it says it was sent automatically.
#[test]
fn the_html_part_lays_out_the_opening_record_as_a_table() {
    let wf = tenderflow_core::load(
        "partner-recruitment.json",
        &workflow_bytes("partner-recruitment"),
    )
    .expect("wf");
    let (tender, event) = &all_kinds()[&MessageKind::OpeningNotice];
    let mut ctx = context(
        &message_data(&wf, tender, event, "org-03"),
        &account("zh-CN"),
    );
    ctx["tender"]["url"] = json!("https://tenders.union.example/notices/T-2021");
    let r = Renderer::new()
        .render(MessageKind::OpeningNotice, "zh-CN", &ctx)
        .expect("render");
    let bids = ctx["opening"]["entries"].as_array().map_or(0, Vec::len);
    assert!(bids > 0);
    assert!(r.html.contains("<th"), "{}", r.html);
    assert_eq!(r.html.matches("<tr><td").count(), bids, "{}", r.html);
    assert!(r.html.contains("投标人"));
    assert!(
        r.html
            .contains("<a href=\"https://tenders.union.example/notices/T-2021\">")
    );
    assert!(r.html.contains("自动发送"));
    // The text part keeps the record as lines.
    assert!(r.text.lines().filter(|l| l.contains(". org-")).count() >= bids);
}

#[test]
fn every_message_names_the_parties_not_their_ids() {
    let wf = tenderflow_core::load(
        "partner-recruitment.json",
        &workflow_bytes("partner-recruitment"),
    )
    .expect("wf");
    let renderer = Renderer::new();
    let names: tenderflow_core::present::Names = (0..18)
        .map(tenderflow_core::scenario::bidder_id)
        .map(|id| {
            let name = tenderflow_core::scenario::registered_name(&id, "zh-CN").expect("name");
            (id, name)
        })
        .collect();
    let names = std::sync::Arc::new(names);
    for (kind, (tender, event)) in &all_kinds() {
        for locale in ["zh-CN", "en"] {
            let r = renderer
                .render_named(
                    *kind,
                    locale,
                    &context(
                        &message_data(&wf, tender, event, "org-03"),
                        &account(locale),
                    ),
                    &names,
                )
                .unwrap_or_else(|e| panic!("{kind} {locale}: {e}"));
            for part in [&r.subject, &r.text, &r.html] {
                let ids: Vec<&str> = part
                    .match_indices("org-")
                    .filter(|(i, _)| part.as_bytes().get(i + 4).is_some_and(u8::is_ascii_digit))
                    .map(|(i, _)| &part[i..(i + 6).min(part.len())])
                    .collect();
                assert!(
                    ids.is_empty(),
                    "{kind} {locale} names parties by id: {ids:?}\n{part}"
                );
            }
        }
    }
    // The opening notice names every bidder, in its text and its HTML table.
    let (tender, event) = &all_kinds()[&MessageKind::OpeningNotice];
    let r = renderer
        .render_named(
            MessageKind::OpeningNotice,
            "zh-CN",
            &context(
                &message_data(&wf, tender, event, "org-03"),
                &account("zh-CN"),
            ),
            &names,
        )
        .expect("render");
    assert!(r.text.contains("之江星光艺术团"), "{}", r.text);
    assert!(r.html.contains("之江星光艺术团"), "{}", r.html);
}
