//! Integration tests of tenderflow-core.

mod commands;
mod definitions;
mod properties;
mod seed;
mod support;
