//! Integration tests of tenderflow-notify: snapshots of every message, and delivery to a
//! real SMTP server (aiosmtpd).

mod render;
mod smtp;
