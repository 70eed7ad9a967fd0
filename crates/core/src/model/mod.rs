//! Commands, events and the tender state they build, with `apply`; the evaluation report as
//! data. The layout is a straight line of dependencies: actor → command → event → report →
//! tender (scoring computes reports from a tender; the model never calls it).

mod actor;
mod agreement;
mod command;
mod document;
mod draw;
mod event;
mod rejection;
mod report;
mod tender;

pub use actor::*;
pub use agreement::*;
pub use command::*;
pub use document::*;
pub use draw::{DrawRecord, PoolEntry, Skip};
pub use event::*;
pub use rejection::{Rejection, RejectionCode};
pub use report::*;
pub use tender::*;
