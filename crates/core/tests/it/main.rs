//! Integration tests of tenderflow-core.

mod commands;
mod definitions;
mod seed;
mod support;
