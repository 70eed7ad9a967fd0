//! The OCDS export validates against the OCDS 1.1.5 release package schema (with the bids and
//! lots extensions patched in) and uses only codelist values, for every shipped definition.

use crate::support::{Run, seed_script, workflow};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use tenderflow_core::ocds::{self, Options};
use tenderflow_core::{EventBody, Timestamp};
use tenderflow_testkit::ocds::{data, validator};

fn codelist(name: &str) -> BTreeSet<String> {
    let base = data().join("codelists").join(name);
    let path = if base.exists() {
        base
    } else {
        data()
            .join("extensions/ocds_bid_extension-v1.1.5/codelists")
            .join(name)
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .map(|c| c.trim_matches('"').to_owned())
        .collect()
}

/// Every codelist-controlled value in a release, with the codelist it must come from.
fn coded(r: &Value) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let s = |v: &Value| v.as_str().unwrap_or("<missing>").to_owned();
    for t in r["tag"].as_array().into_iter().flatten() {
        out.push(("releaseTag.csv", s(t)));
    }
    out.push(("initiationType.csv", s(&r["initiationType"])));
    out.push(("tenderStatus.csv", s(&r["tender"]["status"])));
    out.push(("method.csv", s(&r["tender"]["procurementMethod"])));
    out.push(("awardCriteria.csv", s(&r["tender"]["awardCriteria"])));
    out.push((
        "procurementCategory.csv",
        s(&r["tender"]["mainProcurementCategory"]),
    ));
    for m in r["tender"]["submissionMethod"]
        .as_array()
        .into_iter()
        .flatten()
    {
        out.push(("submissionMethod.csv", s(m)));
    }
    for p in r["parties"].as_array().into_iter().flatten() {
        for role in p["roles"].as_array().into_iter().flatten() {
            out.push(("partyRole.csv", s(role)));
        }
    }
    for a in r["awards"].as_array().into_iter().flatten() {
        out.push(("awardStatus.csv", s(&a["status"])));
        out.push(("currency.csv", s(&a["value"]["currency"])));
    }
    for b in r["bids"]["details"].as_array().into_iter().flatten() {
        out.push(("bidStatus.csv", s(&b["status"])));
        out.push(("currency.csv", s(&b["value"]["currency"])));
    }
    out
}

fn export(name: &str) -> (Vec<Value>, Vec<(i64, tenderflow_core::Event)>) {
    let wf = workflow(name);
    let steps = seed_script(&wf);
    let mut run = Run::new(wf.clone());
    run.play_until(&steps, None);
    let events = run.history();
    (ocds::releases(&wf, &events, &Options::default()), events)
}

#[test]
fn every_shipped_definition_exports_valid_ocds() {
    let v = validator();
    let mut lists: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for name in [
        "partner-recruitment",
        "open-tender-prc",
        "gov-procurement-prc",
        "open-procedure-eu",
        "invited-tender-prc",
    ] {
        let (releases, _) = export(name);
        let pkg = ocds::package(
            releases.clone(),
            &Options::default(),
            Timestamp::parse("2026-02-01T00:00:00Z").expect("ts"),
        );
        let errors: Vec<String> = v
            .iter_errors(&pkg)
            .map(|e| format!("{} {e}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{name}: {} schema errors:\n{}",
            errors.len(),
            errors.join("\n")
        );
        for r in &releases {
            for (list, code) in coded(r) {
                let codes = lists.entry(list).or_insert_with(|| codelist(list));
                assert!(codes.contains(&code), "{name}: `{code}` is not in {list}");
            }
        }
        let record = ocds::record(releases);
        assert_eq!(record["compiledRelease"]["tag"][0], "compiled");
    }
}

#[test]
fn the_seed_case_publishes_one_release_per_public_event_with_18_bids_and_7_awards() {
    let (releases, events) = export("partner-recruitment");
    let public = events
        .iter()
        .filter(|(_, e)| {
            matches!(
                e.body,
                EventBody::AnnouncementPublished { .. }
                    | EventBody::AmendmentPublished { .. }
                    | EventBody::BidsOpened { .. }
                    | EventBody::AwardProposed { .. }
                    | EventBody::Awarded { .. }
                    | EventBody::Cancelled { .. }
                    | EventBody::ProcedureFailed { .. }
            )
        })
        .count();
    assert_eq!(releases.len(), public);
    let tags: Vec<&str> = releases
        .iter()
        .map(|r| r["tag"][0].as_str().unwrap_or_default())
        .collect();
    assert_eq!(tags, ["tender", "tenderUpdate", "award", "award"]);
    // Before opening nothing about bids is published.
    assert!(releases[0].get("bids").is_none());
    assert_eq!(
        releases[0]["parties"].as_array().map(Vec::len),
        Some(1),
        "only the buyer before opening"
    );
    let ids: BTreeSet<&str> = releases.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(ids.len(), releases.len(), "release ids are distinct");
    let record = ocds::record(releases.clone());
    let compiled = &record["compiledRelease"];
    assert_eq!(
        compiled["bids"]["details"].as_array().map(Vec::len),
        Some(18)
    );
    let active = compiled["awards"]
        .as_array()
        .expect("awards")
        .iter()
        .filter(|a| a["status"] == "active")
        .count();
    assert_eq!(active, 7);
    assert_eq!(compiled["tender"]["status"], "complete");
    assert_eq!(compiled["tender"]["numberOfTenderers"], 18);
    // No evaluator's score is ever published.
    let text = serde_json::to_string(&record).expect("ser");
    assert!(!text.contains("service_plan") && !text.contains("scoreTable"));
    // Stable across exports.
    let (again, _) = export("partner-recruitment");
    assert_eq!(again, releases);
}

#[test]
fn the_validator_catches_a_broken_release() {
    let (mut releases, _) = export("partner-recruitment");
    releases[0].as_object_mut().expect("release").remove("ocid");
    releases[1]["tender"]["tenderPeriod"]["endDate"] = Value::from(17);
    let pkg = ocds::package(releases, &Options::default(), Timestamp::EPOCH);
    let errors: Vec<String> = validator()
        .iter_errors(&pkg)
        .map(|e| e.instance_path().to_string())
        .collect();
    assert!(errors.iter().any(|p| p == "/releases/0"), "{errors:?}");
    assert!(
        errors
            .iter()
            .any(|p| p.contains("/releases/1/tender/tenderPeriod/endDate")),
        "{errors:?}"
    );
}

/// The buyer, currency and category come from the definition (then the configuration, then
/// the rule pack's currency): the EU definition publishes euros and no seed buyer; the seed
/// definition publishes its own buyer.
#[test]
fn buyer_and_currency_come_from_the_definition_not_the_seed() {
    let (eu, _) = export("open-procedure-eu");
    let last = eu.last().expect("releases");
    let text = last.to_string();
    assert!(
        !text.contains("浙江省职工服务中心") && !text.contains("CN-ZJ-FTU-WSC"),
        "{text}"
    );
    assert!(last.get("buyer").is_none());
    let currencies: BTreeSet<&str> = eu
        .iter()
        .flat_map(|r| r["bids"]["details"].as_array().into_iter().flatten())
        .filter_map(|b| b["value"]["currency"].as_str())
        .collect();
    assert_eq!(currencies.into_iter().collect::<Vec<_>>(), ["EUR"]);
    let (seed, _) = export("partner-recruitment");
    assert_eq!(seed[0]["buyer"]["id"], "CN-ZJ-FTU-WSC");
    // The configuration fills in what the definition leaves open.
    let wf = workflow("open-procedure-eu");
    let (_, events) = export("open-procedure-eu");
    let opts = Options {
        buyer: Some(("EU-CITY-1".into(), "City of Example".into())),
        ..Options::default()
    };
    let configured = ocds::releases(&wf, &events, &opts);
    assert_eq!(configured[0]["buyer"]["name"], "City of Example");
}

/// #13: answered clarification questions are OCDS enquiries (the enquiry extension) that
/// validate, and never name who asked.
#[test]
fn answered_questions_are_valid_enquiries_without_their_author() {
    use tenderflow_core::model::{Actor, AnswerQuestion, AskQuestion, Command, CommandBody};
    let wf = workflow("partner-recruitment");
    let steps = seed_script(&wf);
    let mut run = Run::new(wf.clone());
    run.play_until(&steps, Some("announced"));
    let at = run.tender.last_at.expect("published").plus_seconds(3600);
    let asker = Actor::new("org-asker", "bidder").expect("actor");
    run.exec(
        &Command {
            actor: asker,
            body: CommandBody::AskQuestion(AskQuestion {
                text: "May one organisation run two venues?".into(),
            }),
        },
        at,
    )
    .expect("ask");
    run.exec(
        &Command {
            actor: Actor::new("staff-zhang", "staff").expect("actor"),
            body: CommandBody::AnswerQuestion(AnswerQuestion {
                documents: Vec::new(),
                question: 1,
                answer: "Yes, with a plan for each.".into(),
                affects_bids: false,
            }),
        },
        at,
    )
    .expect("answer");
    let events = run.history();
    let releases = ocds::releases(&wf, &events, &Options::default());
    let pkg = ocds::package(
        releases.clone(),
        &Options::default(),
        Timestamp::parse("2026-02-01T00:00:00Z").expect("ts"),
    );
    let errors: Vec<String> = validator()
        .iter_errors(&pkg)
        .map(|e| format!("{} {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let last = releases.last().expect("release");
    assert_eq!(last["tag"][0], "tenderUpdate");
    assert_eq!(last["tender"]["hasEnquiries"], true);
    assert_eq!(
        last["tender"]["enquiries"][0]["answer"],
        "Yes, with a plan for each."
    );
    assert!(
        !pkg.to_string().contains("org-asker"),
        "the asker is not published"
    );
    assert!(
        pkg["extensions"]
            .to_string()
            .contains("ocds_enquiry_extension")
    );
}

/// The stage after the award: a `contract` release per agreement in force, an
/// `implementationUpdate` per verified delivery and performance round, a
/// `contractTermination`; valid against the schema, with codelist values.
#[test]
fn agreements_and_their_implementation_are_published() {
    use tenderflow_core::model::{SignOff, TerminateAgreement};
    use tenderflow_core::scenario::{self, ContractParams, INSPECTOR, STAFF};
    use tenderflow_core::{Actor, Command, CommandBody};
    let wf = workflow("partner-recruitment");
    let mut run = Run::new(wf.clone());
    run.play_until(&seed_script(&wf), None);
    let steps = scenario::contract_script(&wf, &run.tender, &ContractParams::default());
    run.play_until(&steps, None);
    let warned = run
        .tender
        .agreements
        .values()
        .find(|a| a.warnings() > 0)
        .expect("warned")
        .partner
        .clone();
    let now = run.tender.last_at.expect("events").plus_seconds(60);
    let exec = |run: &mut Run, id: &str, role: &str, body: CommandBody| {
        let c = Command {
            actor: Actor::new(id, role).expect("actor"),
            body,
        };
        run.exec(&c, now).expect("accepted");
    };
    exec(
        &mut run,
        INSPECTOR,
        "inspector",
        CommandBody::SignOff(SignOff {
            gate: "termination".into(),
            partner: Some(warned.clone()),
            content: serde_json::json!({"statement": "In order."}).into(),
        }),
    );
    exec(
        &mut run,
        STAFF,
        "staff",
        CommandBody::TerminateAgreement(TerminateAgreement {
            partner: warned.clone(),
            reason: "Below the promised share after a warning.".into(),
        }),
    );
    let releases = ocds::releases(&wf, &run.history(), &Options::default());
    let tags: BTreeMap<&str, usize> = releases.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(r["tag"][0].as_str().unwrap_or_default())
            .or_default() += 1;
        m
    });
    assert_eq!(tags.get("contract"), Some(&7));
    assert_eq!(tags.get("contractTermination"), Some(&1));
    assert_eq!(tags.get("implementationUpdate"), Some(&(7 * 10 + 7)));
    let pkg = ocds::package(releases.clone(), &Options::default(), now);
    let errors: Vec<String> = validator()
        .iter_errors(&pkg)
        .map(|e| format!("{} {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    for r in &releases {
        for t in r["tag"].as_array().into_iter().flatten() {
            assert!(codelist("releaseTag.csv").contains(t.as_str().unwrap_or_default()));
        }
        for c in r["contracts"].as_array().into_iter().flatten() {
            assert!(codelist("contractStatus.csv").contains(c["status"].as_str().unwrap_or("")));
            for m in c["implementation"]["milestones"]
                .as_array()
                .into_iter()
                .flatten()
            {
                assert!(codelist("milestoneType.csv").contains(m["type"].as_str().unwrap_or("")));
                assert!(
                    codelist("milestoneStatus.csv").contains(m["status"].as_str().unwrap_or(""))
                );
            }
        }
    }
    let record = ocds::record(releases);
    let contracts = record["compiledRelease"]["contracts"]
        .as_array()
        .expect("contracts");
    assert_eq!(contracts.len(), 7);
    let ended = contracts
        .iter()
        .find(|c| c["status"] == "terminated")
        .expect("the terminated agreement");
    assert!(
        ended["description"]
            .as_str()
            .unwrap_or("")
            .contains("Below the promised share")
    );
    let milestones = ended["implementation"]["milestones"]
        .as_array()
        .expect("milestones");
    assert_eq!(
        milestones.len(),
        11,
        "10 deliveries and a performance round"
    );
    assert!(
        ended["implementation"]["transactions"]
            .as_array()
            .is_some_and(|t| t.len() == 10)
    );
    assert!(ended["items"].as_array().is_some_and(|i| i.len() == 2));
}
