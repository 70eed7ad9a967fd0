//! Starting the real binary, a real SMTP server and a database per test.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub use tenderflow_testkit::db::Scratch as Db;
pub use tenderflow_testkit::master_key_hex as master_key;
pub use tenderflow_testkit::smtp::Smtp;

/// Runs `tenderflow` with the database, key and SMTP server of a test.
pub struct Env<'a> {
    pub db: &'a Db,
    pub key: String,
    pub smtp: &'a Smtp,
}

impl Env<'_> {
    pub fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tenderflow"));
        c.env("TENDERFLOW_DATABASE_URL", &self.db.url)
            .env("TENDERFLOW_MASTER_KEY", &self.key)
            .env("TENDERFLOW_DATA_DIR", self.db.dir.path())
            .env(
                "TENDERFLOW_SMTP_URL",
                format!("smtp://127.0.0.1:{}", self.smtp.port),
            )
            .env(
                "TENDERFLOW_MAIL_FROM",
                "Recruitment <recruitment@union.example>",
            );
        c
    }

    /// Sets up the database as an administrator does first (`tenderflow migrate`).
    pub fn migrate(&self) {
        let out = self.command().arg("migrate").output().expect("migrate");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Sets up the database (`migrate`), creates accounts with the CLI and returns their
    /// tokens.
    pub fn accounts(&self, people: &[(String, &str)]) -> BTreeMap<String, String> {
        self.migrate();
        let mut tokens = BTreeMap::new();
        for (id, role) in people {
            let out = self
                .command()
                .args([
                    "account",
                    "create",
                    "--id",
                    id,
                    "--role",
                    role,
                    "--name",
                    id,
                    "--email",
                    &format!("{id}@example.org"),
                    "--locale",
                    "en",
                ])
                .output()
                .expect("tenderflow account create");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let token = text.lines().last().expect("token").trim().to_owned();
            tokens.insert(id.clone(), token);
        }
        tokens
    }

    /// Starts `tenderflow serve` on a free port with a manual clock.
    pub fn serve(&self, start: &str) -> Server {
        let mut child = self
            .command()
            .args(["serve", "--listen", "127.0.0.1:0", "--manual-clock", start])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("tenderflow serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("address");
        let base = line
            .trim()
            .strip_prefix("tenderflow listening on ")
            .unwrap_or_else(|| panic!("unexpected: {line}"))
            .to_owned();
        Server {
            base,
            child,
            http: reqwest::Client::new(),
        }
    }
}

pub struct Server {
    pub base: String,
    child: Child,
    http: reqwest::Client,
}

impl Server {
    pub async fn call(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("HTTP");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn clock(&self, admin: &str, at: &tenderflow_core::Timestamp) {
        let (s, v) = self
            .call(
                admin,
                reqwest::Method::POST,
                "/admin/clock",
                Some(json!({ "now": at })),
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
