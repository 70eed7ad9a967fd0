//! Integration tests of tenderflow-core.

mod commands;
mod definitions;
mod ocds;
mod procedures;
mod properties;
mod rules_table;
mod seed;
mod support;
mod trust;
mod views_and_roles;
