//! Test helpers shared by every crate's tests and the end-to-end tests, so that none is
//! written twice: where the repository's files are, whether services are required, scratch
//! databases ([`db`]), a real SMTP server ([`smtp`]), fixtures of the seed case
//! ([`fixtures`]) and the API in process ([`app`]).
//!
//! Services follow one rule: a test that needs PostgreSQL or aiosmtpd prints that it skipped
//! when the service is missing, unless `TENDERFLOW_TEST_REQUIRE_SERVICES=1` (CI), where a
//! missing service fails the test.

pub mod app;
pub mod db;
pub mod fixtures;
pub mod ocds;
pub mod s3;
pub mod smtp;

use std::path::{Path, PathBuf};

/// Whether missing services fail tests instead of skipping them (CI sets it).
pub fn require_services() -> bool {
    std::env::var("TENDERFLOW_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// Reports a missing service: a failure when services are required, else a printed skip.
pub fn skip(service: &str, how: &str) {
    assert!(
        !require_services(),
        "{service} is required when TENDERFLOW_TEST_REQUIRE_SERVICES=1 ({how})"
    );
    println!("skipped {service}: {how}");
}

/// The repository's root directory.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The path of a shipped workflow definition (`workflows/{name}.json`).
pub fn workflow_path(name: &str) -> PathBuf {
    repo_root().join(format!("workflows/{name}.json"))
}

/// The bytes of a shipped workflow definition.
pub fn workflow_bytes(name: &str) -> Vec<u8> {
    let path = workflow_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A name no other test (or test process) uses at the same time.
pub fn unique() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A fresh master key as 64 hex digits.
pub fn master_key_hex() -> String {
    unique() + &unique()
}

/// A temporary directory, removed when dropped.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new empty directory named after `what`.
    pub fn new(what: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("tenderflow-{what}-{}", unique()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        Self(dir)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
