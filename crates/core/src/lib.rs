//! Tenderflow's core: workflow definitions, their validation, and the pure procurement state
//! machine.
//!
//! Like quinn-proto, this crate is deterministic: no I/O, no clock, no randomness. Time, ids
//! and random seeds come in as arguments; effects (messages to send, timers to set) go out as
//! data.
//!
//! - [`load`] checks a definition (JSON, JSON Schema, meaning) and gives a [`Workflow`].
//! - [`decide`] turns a [`Command`] into [`Event`]s or a [`Rejection`] with a stable code.
//! - [`apply`] folds an event into a [`Tender`]; [`replay`] folds a history.
//! - [`view`] is what one actor may see; [`notifications`] and [`next_timer`] are the effects.

pub mod canonical;
pub mod compare;
pub mod decide;
pub mod definition;
pub mod draw;
pub mod effects;
pub mod ids;
pub mod messages;
pub mod model;
pub mod numbers;
pub mod obligations;
pub mod ocds;
#[cfg(feature = "openapi")]
mod openapi;
pub mod present;
pub mod quarterly;
pub mod records;
pub mod red_flags;
#[cfg(feature = "scenario")]
pub mod scenario;
pub mod scoring;
pub mod text;
pub mod time;
pub mod validate;
pub mod view;

pub use decide::{Rejection, RejectionCode, create, decide, fire_timer, next_timer};
pub use definition::{Definition, Workflow};
pub use effects::{Notification, Recipient, notifications};
pub use model::{
    Actor, ActorId, Command, CommandBody, Event, EventBody, Role, Tender, apply, replay,
};
pub use numbers::{Money, Score, Weight};
pub use time::{Calendar, Period, PeriodUnit, Timestamp};
pub use validate::{DefinitionError, DefinitionErrorCode, DefinitionErrors, load};
pub use view::view;
