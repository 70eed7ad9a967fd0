//! Read access by role: which roles read every tender whole. The roles themselves are
//! [`tenderflow_core::Role`].

pub use tenderflow_core::Role;

/// Roles that read every tender whole (within what the core's view shows them).
pub const OFFICIALS: &[Role] = &[Role::STAFF, Role::INSPECTOR, Role::ADMIN];

/// Whether the role called `name` reads every tender.
pub fn is_official(name: &str) -> bool {
    OFFICIALS.iter().any(|r| r.is(name))
}
