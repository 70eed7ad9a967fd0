//! Integration tests of tenderflow-core.
