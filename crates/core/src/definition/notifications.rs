//! Sign-off gates and notification rules.

use super::*;
use serde::{Deserialize, Serialize};

/// A sign-off gate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Gate {
    /// Gate id.
    pub id: String,
    /// Display name.
    pub title: Localized,
    /// The state in which it is signed.
    pub state: String,
    /// Roles whose signature counts.
    pub signers: Vec<String>,
    /// Signatures needed.
    #[serde(default = "one")]
    pub min_signatures: u32,
    /// Every active member of the evaluation committee must sign (the evaluation report,
    /// "signed by all members"; a dissent goes into the sign-off form).
    #[serde(default)]
    pub committee: bool,
    /// Signed once per winner's agreement, naming the partner (agreement and termination
    /// gates after the award).
    #[serde(default)]
    pub partner: bool,
    /// When the procedure is delegated, the delegating body's inspectors (its overseers)
    /// may sign this gate too.
    #[serde(default)]
    pub overseers: bool,
}

/// Who receives a message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Every bidder with a bid on the tender.
    AllBidders,
    /// The bidder who caused the event.
    TheBidder,
    /// The winners.
    Winners,
    /// Bidders who did not win.
    UnsuccessfulBidders,
    /// The organisations an invited procedure invites.
    Invitees,
    /// Members of the evaluation committee.
    Committee,
    /// The person who raised the objection being answered.
    Objector,
    /// The partner whose agreement the event concerns (the stage after the award).
    Partner,
    /// Everyone holding a role (staff, inspector, registered bidders); the shell resolves it.
    #[serde(untagged)]
    Role(RoleAudience),
}

/// `role:<id>` in a notification rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleAudience(pub String);

impl Serialize for RoleAudience {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("role:{}", self.0))
    }
}

impl<'de> Deserialize<'de> for RoleAudience {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.strip_prefix("role:")
            .map(|r| Self(r.to_owned()))
            .ok_or_else(|| serde::de::Error::custom(format!("unknown audience `{s}`")))
    }
}

/// A notification rule: when `on` happens, send `message` to `to`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationRule {
    /// The event.
    pub on: EventName,
    /// The template.
    pub message: MessageKind,
    /// The recipients.
    pub to: Vec<Audience>,
}
