//! Integration tests of tenderflow-app: the use cases without HTTP, over a real store.

mod abuse;
mod use_cases;
