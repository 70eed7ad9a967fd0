//! Integration tests of tenderflow-core.

mod definitions;
mod seed;
mod support;
