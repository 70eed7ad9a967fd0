//! Starting the real binary, a real SMTP server and a database per test.

use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub fn require_services() -> bool {
    std::env::var("TENDERFLOW_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}{nanos}", std::process::id())
}

/// A database for one test: an SQLite file, or a fresh PostgreSQL database.
pub struct Db {
    pub name: &'static str,
    pub url: String,
    pub dir: PathBuf,
    pg: Option<(String, String)>,
}

impl Db {
    pub async fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(format!("tenderflow-e2e-{}", unique()));
        std::fs::create_dir_all(&dir).expect("dir");
        Self {
            name: "sqlite",
            url: format!("sqlite://{}?mode=rwc", dir.join("db.sqlite").display()),
            dir,
            pg: None,
        }
    }

    pub async fn postgres() -> Option<Self> {
        let Ok(admin) = std::env::var("TENDERFLOW_TEST_POSTGRES_URL") else {
            assert!(
                !require_services(),
                "TENDERFLOW_TEST_POSTGRES_URL is required in CI"
            );
            println!("skipped PostgreSQL: TENDERFLOW_TEST_POSTGRES_URL is not set");
            return None;
        };
        let name = format!("tf_e2e_{}", unique());
        let conn = Database::connect(&admin).await.expect("PostgreSQL");
        conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create database");
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        let dir = std::env::temp_dir().join(format!("tenderflow-e2e-{}", unique()));
        std::fs::create_dir_all(&dir).expect("dir");
        Some(Self {
            name: "postgres",
            url: format!("{base}/{name}"),
            dir,
            pg: Some((admin, name)),
        })
    }

    pub async fn all() -> Vec<Self> {
        let mut v = vec![Self::sqlite().await];
        v.extend(Self::postgres().await);
        v
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some((admin, name)) = self.pg.take() {
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("rt");
                rt.block_on(async {
                    if let Ok(c) = Database::connect(&admin).await {
                        let _ = c
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

/// A real SMTP server (aiosmtpd) storing messages in a directory.
pub struct Smtp {
    pub port: u16,
    pub dir: PathBuf,
    child: Child,
}

impl Smtp {
    pub fn start() -> Option<Self> {
        let ok = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            assert!(!require_services(), "aiosmtpd is required in CI");
            println!("skipped SMTP: aiosmtpd is not installed (python3 -m pip install aiosmtpd)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let dir = std::env::temp_dir().join(format!("tenderflow-e2e-smtp-{}", unique()));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../notify/tests/smtp_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(&dir)
            .stdout(Stdio::piped())
            .spawn()
            .expect("aiosmtpd");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("READY");
        Some(Self { port, dir, child })
    }

    pub fn message_ids(&self) -> Vec<String> {
        let mut ids = Vec::new();
        for e in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            let complete = !e.file_name().to_string_lossy().starts_with('.');
            if complete && e.path().extension().is_some_and(|x| x == "eml") {
                let text = std::fs::read_to_string(e.path()).expect("read");
                if let Some(l) = text
                    .lines()
                    .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
                {
                    ids.push(l[11..].trim().to_owned());
                }
            }
        }
        ids
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

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
            .env("TENDERFLOW_DATA_DIR", &self.db.dir)
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

pub fn master_key() -> String {
    let mut s = String::new();
    let seed = unique();
    for (i, b) in seed.bytes().cycle().take(32).enumerate() {
        s.push_str(&format!("{:02x}", b.wrapping_mul(31).wrapping_add(i as u8)));
    }
    s
}
