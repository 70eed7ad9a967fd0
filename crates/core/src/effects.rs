//! Effects as data: which messages the definition's notification rules ask for after a
//! decision. The notify crate renders and sends them; the core only says what and to whom.

use crate::definition::{Audience, MessageKind, Workflow};
use crate::model::{ActorId, Event, EventBody, Tender};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A recipient: a known actor, everyone holding a role, those of a role who asked for
/// announcements, or the notice board's subscribers. The core decides who is told; the shell
/// only expands a role or the subscribers into addresses.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Recipient {
    /// One actor.
    Actor(ActorId),
    /// Everyone with this role.
    Role(String),
    /// Everyone with this role who asked to be told of announcements.
    RoleOptedIn(String),
    /// The notice board's confirmed subscribers.
    Subscribers,
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// Index of the causing event in the decided batch.
    pub event_index: usize,
    /// Template.
    pub message: MessageKind,
    /// Recipient.
    pub recipient: Recipient,
}

/// The notifications `events` cause, resolved against the state after them.
pub fn notifications(wf: &Workflow, after: &Tender, events: &[Event]) -> Vec<Notification> {
    let mut out = Vec::new();
    for (i, ev) in events.iter().enumerate() {
        let Some(name) = ev.body.name() else { continue };
        for rule in wf
            .definition()
            .notifications
            .iter()
            .filter(|r| r.on == name)
        {
            let mut to = BTreeSet::new();
            for aud in &rule.to {
                resolve(aud, after, ev, &mut to);
            }
            if rule.message == MessageKind::Announcement {
                // An announcement goes to those of a role who asked for announcements, and an
                // open procedure's (no invitees) to the notice board's subscribers too.
                to = to
                    .into_iter()
                    .map(|r| match r {
                        Recipient::Role(role) => Recipient::RoleOptedIn(role),
                        other => other,
                    })
                    .collect();
                if after.invitees.is_empty() {
                    to.insert(Recipient::Subscribers);
                }
            }
            out.extend(to.into_iter().map(|recipient| Notification {
                event_index: i,
                message: rule.message,
                recipient,
            }));
        }
    }
    out
}

fn winners(t: &Tender) -> BTreeSet<&ActorId> {
    t.awarded
        .as_ref()
        .or(t.proposed.as_ref())
        .map(|w| w.iter().map(|c| &c.bidder).collect())
        .unwrap_or_default()
}

fn resolve(aud: &Audience, t: &Tender, ev: &Event, to: &mut BTreeSet<Recipient>) {
    let actor = |id: &ActorId| Recipient::Actor(id.clone());
    match aud {
        Audience::AllBidders => to.extend(t.bids.keys().map(|k| actor(&k.bidder))),
        Audience::TheBidder => match &ev.body {
            EventBody::BidDisqualified { key, .. } => {
                to.insert(actor(&key.bidder));
            }
            EventBody::BidSubmitted { key, .. }
            | EventBody::BidReplaced { key, .. }
            | EventBody::BidWithdrawn { key } => {
                to.insert(actor(&key.bidder));
            }
            _ => {
                to.insert(actor(&ev.actor.id));
            }
        },
        Audience::Winners => to.extend(winners(t).into_iter().map(actor)),
        Audience::UnsuccessfulBidders => {
            let w = winners(t);
            to.extend(
                t.bids
                    .keys()
                    .filter(|k| !w.contains(&k.bidder))
                    .map(|k| actor(&k.bidder)),
            );
        }
        Audience::Invitees => to.extend(t.invitees.iter().map(actor)),
        Audience::Committee => to.extend(t.committee.iter().map(|m| actor(&m.id))),
        Audience::Objector => match &ev.body {
            EventBody::ObjectionAnswered { objector, .. } => {
                to.insert(actor(objector));
            }
            _ => {
                to.insert(actor(&ev.actor.id));
            }
        },
        Audience::Partner => {
            if let Some(p) = ev.body.partner() {
                to.insert(actor(p));
            }
        }
        Audience::Role(role) => {
            to.insert(Recipient::Role(role.0.clone()));
        }
    }
}
