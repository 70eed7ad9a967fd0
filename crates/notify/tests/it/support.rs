//! Test support: the seed case through the core, and an aiosmtpd server per test.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub fn require_services() -> bool {
    std::env::var("TENDERFLOW_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

pub fn workflow_bytes(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../workflows/{name}.json")),
    )
    .expect("definition")
}

/// A real SMTP server (aiosmtpd) on a free loopback port, storing messages in a directory.
pub struct Smtp {
    pub port: u16,
    pub dir: PathBuf,
    child: Option<Child>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl Smtp {
    /// Starts the server, or returns `None` (saying so) when aiosmtpd is not installed.
    pub fn start() -> Option<Self> {
        let ok = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            assert!(
                !require_services(),
                "aiosmtpd is required in CI (python3 -m pip install aiosmtpd)"
            );
            println!("skipped SMTP: aiosmtpd is not installed (python3 -m pip install aiosmtpd)");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("tenderflow-smtp-{}", uuid::Uuid::new_v4()));
        let mut s = Self {
            port: free_port(),
            dir,
            child: None,
        };
        s.restart();
        Some(s)
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn restart(&mut self) {
        self.stop();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(self.port.to_string())
            .arg(&self.dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start aiosmtpd");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("READY");
        assert_eq!(line.trim(), "READY");
        self.child = Some(child);
    }

    /// Messages received so far (raw RFC 5322 text).
    pub fn messages(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Ok(rd) = std::fs::read_dir(&self.dir) {
            for e in rd.flatten() {
                let p = e.path();
                // `.name.eml` is a message still being written (the server renames it when
                // complete).
                let complete = !e.file_name().to_string_lossy().starts_with('.');
                if complete && p.extension().is_some_and(|x| x == "eml") {
                    out.push(std::fs::read_to_string(p).expect("read"));
                }
            }
        }
        out
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The value of a header in a raw message (first occurrence, unfolded).
pub fn header(raw: &str, name: &str) -> Option<String> {
    let mut lines = raw.lines().peekable();
    while let Some(l) = lines.next() {
        if l.is_empty() {
            return None;
        }
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case(name) {
                let mut v = v.trim().to_owned();
                while let Some(next) = lines.peek() {
                    if next.starts_with(' ') || next.starts_with('\t') {
                        v.push_str(next.trim_start());
                        lines.next();
                    } else {
                        break;
                    }
                }
                return Some(v);
            }
        }
    }
    None
}
