//! Integration tests of tenderflow-core.

mod commands;
mod contracts;
mod definitions;
mod documents;
mod ocds;
mod procedures;
mod properties;
mod red_flags;
mod rules_table;
mod seed;
mod support;
mod trust;
mod views_and_roles;
