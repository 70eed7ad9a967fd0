//! What a new version of a definition weakens compared with the version it replaces: gates,
//! time limits, committee rules and the documents a bid must carry that protect bidders and the inspectors' oversight. A
//! registration that weakens any of them is flagged to inspectors (it is not refused: a
//! body may have good reasons, but it must not go unnoticed).

use crate::definition::{Definition, TimeRule};
use serde::Serialize;

/// One way in which `new` is weaker than `old`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Weakening {
    /// JSON Pointer into the new definition (or the old one, for something removed).
    pub pointer: String,
    /// What changed, for people.
    pub what: String,
}

fn push(out: &mut Vec<Weakening>, pointer: impl Into<String>, what: impl Into<String>) {
    out.push(Weakening {
        pointer: pointer.into(),
        what: what.into(),
    });
}

fn rule_text(r: &TimeRule) -> String {
    format!("{} {}", r.amount, r.unit.as_str())
}

/// A shorter (or removed) period where a longer one protects people.
fn period(out: &mut Vec<Weakening>, name: &str, old: Option<&TimeRule>, new: Option<&TimeRule>) {
    let pointer = format!("/schedule/{name}");
    match (old, new) {
        (Some(o), None) => push(
            out,
            pointer,
            format!("{name} removed (was {})", rule_text(o)),
        ),
        (Some(o), Some(n)) => {
            let shorter = if o.unit == n.unit {
                n.amount < o.amount
            } else {
                n.period().min_calendar_days() < o.period().min_calendar_days()
            };
            if shorter {
                push(
                    out,
                    pointer,
                    format!("{name} shortened from {} to {}", rule_text(o), rule_text(n)),
                );
            }
        }
        _ => {}
    }
}

/// Every weakening of `new` against `old`.
pub fn weakenings(old: &Definition, new: &Definition) -> Vec<Weakening> {
    let mut out = Vec::new();
    let (os, ns) = (&old.schedule, &new.schedule);
    period(
        &mut out,
        "minBidPeriod",
        Some(&os.min_bid_period),
        Some(&ns.min_bid_period),
    );
    period(
        &mut out,
        "clarificationCutoff",
        os.clarification_cutoff.as_ref(),
        ns.clarification_cutoff.as_ref(),
    );
    period(
        &mut out,
        "publicity",
        os.publicity.as_ref(),
        ns.publicity.as_ref(),
    );
    period(
        &mut out,
        "documentsAvailable",
        os.documents_available.as_ref(),
        ns.documents_available.as_ref(),
    );

    for (i, g) in old.gates.iter().enumerate() {
        match new.gates.iter().position(|n| n.id == g.id) {
            None => push(
                &mut out,
                format!("/gates/{i}"),
                format!("gate `{}` removed", g.id),
            ),
            Some(j) => {
                let n = &new.gates[j];
                if n.min_signatures < g.min_signatures {
                    push(
                        &mut out,
                        format!("/gates/{j}/minSignatures"),
                        format!(
                            "gate `{}` needs {} signatures instead of {}",
                            g.id, n.min_signatures, g.min_signatures
                        ),
                    );
                }
                if g.committee && !n.committee {
                    push(
                        &mut out,
                        format!("/gates/{j}/committee"),
                        format!("gate `{}` no longer needs every committee member", g.id),
                    );
                }
                for s in g.signers.iter().filter(|s| !n.signers.contains(s)) {
                    push(
                        &mut out,
                        format!("/gates/{j}/signers"),
                        format!("gate `{}` no longer signed by `{s}`", g.id),
                    );
                }
                for s in n.signers.iter().filter(|s| !g.signers.contains(s)) {
                    push(
                        &mut out,
                        format!("/gates/{j}/signers"),
                        format!("gate `{}` may now be signed by `{s}`", g.id),
                    );
                }
            }
        }
    }
    // A transition that needed a gate and no longer does.
    for t in &old.transitions {
        let Some(cmd) = t.command else { continue };
        for (j, n) in new.transitions.iter().enumerate() {
            if n.command == Some(cmd) && n.from.iter().any(|f| t.from.contains(f)) {
                for g in t.gates.iter().filter(|g| !n.gates.contains(g)) {
                    push(
                        &mut out,
                        format!("/transitions/{j}/gates"),
                        format!(
                            "`{cmd}` from {} no longer waits for gate `{g}`",
                            n.from.join(", ")
                        ),
                    );
                }
            }
        }
    }

    let (oc, nc) = (&old.evaluation.committee, &new.evaluation.committee);
    if nc.min_members < oc.min_members {
        push(
            &mut out,
            "/evaluation/committee/minMembers",
            format!(
                "committee of at least {} instead of {}",
                nc.min_members, oc.min_members
            ),
        );
    }
    if oc.odd && !nc.odd {
        push(
            &mut out,
            "/evaluation/committee/odd",
            "the committee no longer needs an odd number of members",
        );
    }
    match (oc.min_expert_share, nc.min_expert_share) {
        (Some(o), None) => push(
            &mut out,
            "/evaluation/committee/minExpertShare",
            format!("no expert share required (was {o})"),
        ),
        (Some(o), Some(n)) if n < o => push(
            &mut out,
            "/evaluation/committee/minExpertShare",
            format!("expert share {n} instead of {o}"),
        ),
        _ => {}
    }
    // A document every bid had to carry that a bid may now leave out.
    let (oslots, nslots) = (&old.documents.bid.slots, &new.documents.bid.slots);
    for (i, o) in oslots.iter().enumerate().filter(|(_, o)| o.required) {
        match nslots.iter().position(|n| n.id == o.id) {
            None => push(
                &mut out,
                format!("/documents/bid/slots/{i}"),
                format!("required bid document `{}` removed", o.id),
            ),
            Some(j) if !nslots[j].required => push(
                &mut out,
                format!("/documents/bid/slots/{j}/required"),
                format!("bid document `{}` no longer required", o.id),
            ),
            Some(_) => {}
        }
    }
    out
}
