//! The roles the application knows by name. Definitions may declare more; these are the ones
//! whose read access the application decides (who sees which tender, list or record).

/// Procurement staff.
pub const STAFF: &str = "staff";
/// Bidders.
pub const BIDDER: &str = "bidder";
/// Members of an evaluation committee.
pub const EVALUATOR: &str = "evaluator";
/// Discipline inspectors.
pub const INSPECTOR: &str = "inspector";
/// Administrators.
pub const ADMIN: &str = "admin";

/// Roles that read every tender whole (within what the core's view shows them).
pub const OFFICIALS: &[&str] = &[STAFF, INSPECTOR, ADMIN];

/// Whether `role` reads every tender.
pub fn is_official(role: &str) -> bool {
    OFFICIALS.contains(&role)
}
