//! Integration tests of tenderflow-core.

mod commands;
mod definitions;
mod ocds;
mod properties;
mod seed;
mod support;
mod trust;
