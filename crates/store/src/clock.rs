//! Where "now" comes from. The server runs on the system clock; tests and the demo on a clock
//! they set. A command is decided at a time read *under the tender's lock*, so commands on
//! one tender reach `decide` in time order however many writers race for it.

use std::sync::{Arc, Mutex};
use tenderflow_core::Timestamp;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_millis(wall_ms()).unwrap_or(Timestamp::EPOCH)
    }
}

/// A clock set by hand; it never goes back.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    /// A clock showing `t`.
    pub fn new(t: Timestamp) -> Self {
        Self(Mutex::new(t))
    }
    /// Moves the clock forward (never back) and returns the time it shows.
    pub fn set(&self, t: Timestamp) -> Timestamp {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if t > *now {
            *now = t;
        }
        *now
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The time a command is decided at: a fixed time (scripts, timers, the demo) or a clock read
/// once the tender is locked (live requests).
#[derive(Debug, Clone)]
pub enum Now {
    /// This time.
    At(Timestamp),
    /// The clock's time when the command's tender has been locked.
    Clock(Arc<dyn Clock>),
}

impl Now {
    /// The time, read now.
    pub fn read(&self) -> Timestamp {
        match self {
            Self::At(t) => *t,
            Self::Clock(c) => c.now(),
        }
    }
}

impl From<Timestamp> for Now {
    fn from(t: Timestamp) -> Self {
        Self::At(t)
    }
}

impl From<Arc<dyn Clock>> for Now {
    fn from(c: Arc<dyn Clock>) -> Self {
        Self::Clock(c)
    }
}

/// Real time in ms since the epoch, for what coordinates processes rather than procedures:
/// leases, retry schedules and the outbox's bookkeeping. They must move while a rehearsal's
/// manual clock stands still or jumps; the procedure's time always comes from a [`Clock`].
pub fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
