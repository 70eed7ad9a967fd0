//! Integration tests of tenderflow-core.

mod definitions;
