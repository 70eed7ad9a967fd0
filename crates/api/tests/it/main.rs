//! Integration tests of tenderflow-api, in process (the router without a socket).

mod api;
mod conventions;
mod documents;
mod openapi;
mod trust;
