//! Documents in the core: tender documents published, replaced and kept; a bid's documents
//! checked against the definition's slots; sealed until opening; in OCDS.

use crate::commands::cmd;
use crate::support::{Run, seed_script};
use serde_json::json;
use std::sync::Arc;
use tenderflow_core::RejectionCode as C;
use tenderflow_core::model::{Amend, Document, SubmitBid};
use tenderflow_core::ocds::{self, Options};
use tenderflow_core::scenario::Input;
use tenderflow_core::view::document_access;
use tenderflow_core::{CommandBody, Timestamp, Workflow};

/// The shipped seed definition with its service plan required.
fn strict() -> Arc<Workflow> {
    let mut def: serde_json::Value =
        serde_json::from_slice(&tenderflow_testkit::workflow_bytes("partner-recruitment"))
            .expect("json");
    def["documents"]["bid"]["slots"][0]["required"] = json!(true);
    let bytes = serde_json::to_vec(&def).expect("bytes");
    Arc::new(tenderflow_core::load("strict.json", &bytes).expect("valid"))
}

fn doc(id: &str, name: &str, media_type: &str, size: u64, slot: Option<&str>) -> Document {
    Document {
        id: id.into(),
        name: name.into(),
        media_type: media_type.into(),
        size,
        sha256: format!("{:0>64}", id.len()),
        slot: slot.map(str::to_owned),
        replaces: None,
    }
}

fn bid(org: &str, docs: Vec<Document>) -> tenderflow_core::Command {
    cmd(
        org,
        "bidder",
        CommandBody::SubmitBid(SubmitBid {
            lot: None,
            content:
                json!({"organisation": org, "serviceArea": "sports_events", "servicePlan": "p",
                            "freeOrDiscountedShare": 30, "feeMinor": 100})
                .into(),
            documents: docs,
        }),
    )
}

fn amend(docs: Vec<Document>) -> tenderflow_core::Command {
    cmd(
        "staff-zhang",
        "staff",
        CommandBody::Amend(Amend {
            text: "Documents".into(),
            affects_bids: false,
            new_deadline: None,
            documents: docs,
        }),
    )
}

#[test]
fn tender_documents_are_published_replaced_and_public() {
    let wf = strict();
    let steps = seed_script(&wf);
    let mut run = Run::new(wf.clone());
    run.step(&steps[0]);
    run.step(&steps[1]);
    let at = steps[1].at.plus_seconds(10);
    let terms = doc("d-terms", "招募文件.pdf", "application/pdf", 1000, None);
    run.exec(&amend(vec![terms.clone()]), at)
        .expect("published");
    // Refusals: a type the definition does not accept, too large, the same id again, a slot.
    for (bad, code) in [
        (
            doc("d-x", "a.exe", "application/x-msdownload", 10, None),
            C::DocumentTypeNotAllowed,
        ),
        (
            doc("d-y", "big.pdf", "application/pdf", 60 * 1024 * 1024, None),
            C::DocumentTooLarge,
        ),
        (terms.clone(), C::DocumentInvalid),
        (
            doc("d-z", "s.pdf", "application/pdf", 10, Some("servicePlan")),
            C::DocumentInvalid,
        ),
        (
            doc("d-w", "../etc.pdf", "application/pdf", 10, None),
            C::DocumentInvalid,
        ),
    ] {
        let err = run
            .exec(&amend(vec![bad.clone()]), at)
            .expect_err("refused");
        assert_eq!(err.code, code, "{bad:?}: {err}");
    }
    // A replacement keeps the old one, superseded.
    let mut v2 = doc(
        "d-terms-2",
        "招募文件 v2.pdf",
        "application/pdf",
        1200,
        None,
    );
    v2.replaces = Some("d-terms".into());
    run.exec(&amend(vec![v2.clone()]), at.plus_seconds(5))
        .expect("replaced");
    let old = &run.tender.documents[0];
    assert_eq!(old.superseded_by.as_deref(), Some("d-terms-2"));
    assert_eq!(old.superseded_at, Some(at.plus_seconds(5)));
    // Replacing it again is refused: it is no longer current.
    let mut again = doc("d-terms-3", "v3.pdf", "application/pdf", 10, None);
    again.replaces = Some("d-terms".into());
    assert_eq!(
        run.exec(&amend(vec![again]), at.plus_seconds(6))
            .expect_err("superseded")
            .code,
        C::UnknownDocument
    );
    // Public to anyone, before any opening.
    let outsider = tenderflow_core::Actor::new("anyone", "bidder").expect("actor");
    assert_eq!(
        document_access(&run.tender, &outsider, "d-terms").expect("public"),
        &terms
    );
    // In OCDS, with the hash and the replacement, valid against the schema.
    let releases = ocds::releases(&run.wf, &run.history(), &Options::default());
    let last = releases.last().expect("release");
    let docs = last["tender"]["documents"].as_array().expect("documents");
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0]["title"], "招募文件.pdf");
    assert!(
        docs[0]["description"]
            .as_str()
            .expect("d")
            .contains(&terms.sha256)
    );
    assert!(
        docs[0]["description"]
            .as_str()
            .expect("d")
            .contains("superseded")
    );
    assert_eq!(docs[1]["format"], "application/pdf");
    let pkg = ocds::package(releases, &Options::default(), Timestamp::EPOCH);
    let errors: Vec<String> = tenderflow_testkit::ocds::validator()
        .iter_errors(&pkg)
        .map(|e| format!("{} {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn a_bids_documents_follow_its_slots_and_stay_sealed_until_opening() {
    let wf = strict();
    let steps = seed_script(&wf);
    let mut run = Run::new(wf.clone());
    run.step(&steps[0]);
    run.step(&steps[1]);
    let at = steps[1].at.plus_seconds(60);
    let plan = doc(
        "d-plan",
        "服务方案.pdf",
        "application/pdf",
        5000,
        Some("servicePlan"),
    );
    for (docs, code) in [
        (vec![], C::DocumentMissing),
        (
            vec![doc("d-1", "a.pdf", "application/pdf", 1, None)],
            C::DocumentInvalid,
        ),
        (
            vec![doc("d-1", "a.pdf", "application/pdf", 1, Some("nope"))],
            C::DocumentInvalid,
        ),
        (
            vec![doc(
                "d-1",
                "a.docx",
                "application/msword",
                1,
                Some("servicePlan"),
            )],
            C::DocumentTypeNotAllowed,
        ),
        (
            vec![
                plan.clone(),
                doc("d-2", "b.pdf", "application/pdf", 1, Some("servicePlan")),
            ],
            C::DocumentInvalid,
        ),
        (
            vec![
                plan.clone(),
                doc(
                    "d-3",
                    "c.pdf",
                    "application/pdf",
                    30 * 1024 * 1024,
                    Some("registrationCertificate"),
                ),
            ],
            C::DocumentTooLarge,
        ),
    ] {
        let err = run
            .exec(&bid("org-a", docs.clone()), at)
            .expect_err("refused");
        assert_eq!(err.code, code, "{docs:?}: {err}");
    }
    // Several references are fine in a `multiple` slot.
    let refs = vec![
        plan.clone(),
        doc("d-r1", "r1.pdf", "application/pdf", 10, Some("references")),
        doc("d-r2", "r2.png", "image/png", 10, Some("references")),
    ];
    run.exec(&bid("org-a", refs.clone()), at).expect("bid");
    let b = run.tender.bids.values().next().expect("bid");
    assert_eq!(b.documents, refs);
    assert_eq!(
        b.commitment,
        tenderflow_core::decide::bid_commitment(&b.content, &refs, b.commitment_recipe)
    );
    // Sealed until opening, for everyone.
    for (id, role) in [
        ("org-a", "bidder"),
        ("staff-zhang", "staff"),
        ("inspector-li", "inspector"),
    ] {
        let who = tenderflow_core::Actor::new(id, role).expect("actor");
        assert_eq!(
            document_access(&run.tender, &who, "d-plan")
                .expect_err("sealed")
                .code,
            C::DocumentSealed,
            "{id}"
        );
    }
    // Another bidder is told nothing about it.
    let other = tenderflow_core::Actor::new("org-b", "bidder").expect("actor");
    assert_eq!(
        document_access(&run.tender, &other, "d-plan")
            .expect_err("unknown")
            .code,
        C::UnknownDocument
    );
    // The staff's view shows no bid document before opening; the bidder's own does.
    let staff = tenderflow_core::Actor::new("staff-zhang", "staff").expect("actor");
    let v = tenderflow_core::view(&run.wf, &run.tender, &staff);
    assert!(v["bids"][0]["documents"].is_null());
    let own = tenderflow_core::Actor::new("org-a", "bidder").expect("actor");
    let v = tenderflow_core::view(&run.wf, &run.tender, &own);
    assert_eq!(v["bids"][0]["documents"][0]["name"], "服务方案.pdf");
    // The shipped script's bids carry no document: the seed definition's slots are optional.
    assert!(
        matches!(&steps[2].input, Input::Command(CommandBody::SubmitBid(b)) if b.documents.is_empty())
    );
}

#[test]
fn a_required_document_made_optional_or_removed_is_a_weakening() {
    let strict = strict();
    let shipped = crate::support::workflow("partner-recruitment");
    let w = tenderflow_core::compare::weakenings(strict.definition(), shipped.definition());
    assert!(
        w.iter()
            .any(|w| w.pointer == "/documents/bid/slots/0/required"
                && w.what.contains("servicePlan")),
        "{w:?}"
    );
    let mut def = strict.definition().clone();
    def.documents.bid.slots.remove(0);
    let w = tenderflow_core::compare::weakenings(strict.definition(), &def);
    assert!(w.iter().any(|w| w.what.contains("removed")), "{w:?}");
    assert!(
        tenderflow_core::compare::weakenings(strict.definition(), strict.definition()).is_empty()
    );
}
