//! End-to-end tests of the whole system: the real `tenderflow serve` process over HTTP, on
//! SQLite and PostgreSQL, with a real SMTP server (aiosmtpd).

mod cli;
mod docs;
mod harness;
mod layers;
mod seed;
