//! A real SMTP server for tests: aiosmtpd (PyPI) on a free loopback port, storing each message
//! it accepts as a file (`smtp_server.py`). Never a hand-written fake.

use crate::{TempDir, skip};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running aiosmtpd; stopped when dropped.
#[derive(Debug)]
pub struct Smtp {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Where it writes messages.
    pub dir: TempDir,
    child: Option<Child>,
}

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl Smtp {
    /// Starts the server, or returns `None` (a printed skip) when aiosmtpd is not installed.
    pub fn start() -> Option<Self> {
        let installed = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            skip(
                "SMTP",
                "aiosmtpd is not installed (python3 -m pip install aiosmtpd)",
            );
            return None;
        }
        let mut s = Self {
            port: free_port(),
            dir: TempDir::new("smtp"),
            child: None,
        };
        s.restart();
        Some(s)
    }

    /// Its URL (`smtp://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Stops the server (messages stay).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// (Re)starts the server on the same port and directory.
    pub fn restart(&mut self) {
        self.stop();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("smtp_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(self.port.to_string())
            .arg(self.dir.path())
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
        for e in std::fs::read_dir(self.dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            // `.name.eml` is a message still being written (renamed when complete).
            let complete = !e.file_name().to_string_lossy().starts_with('.');
            if complete && e.path().extension().is_some_and(|x| x == "eml") {
                out.push(std::fs::read_to_string(e.path()).expect("read"));
            }
        }
        out
    }

    /// The Message-IDs of the messages received so far.
    pub fn message_ids(&self) -> Vec<String> {
        self.messages()
            .iter()
            .filter_map(|m| header(m, "Message-ID"))
            .collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        self.stop();
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
