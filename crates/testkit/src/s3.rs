//! A real S3-compatible server for tests: moto's server (PyPI `moto[server]`) on a free
//! loopback port, with one bucket. Never a hand-written fake.

use crate::skip;
use crate::smtp::free_port;
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running moto server with a bucket; stopped when dropped.
#[derive(Debug)]
pub struct S3 {
    /// Its endpoint (`http://127.0.0.1:PORT`).
    pub endpoint: String,
    /// The bucket made for the test.
    pub bucket: String,
    child: Child,
}

impl S3 {
    /// Starts the server and makes a bucket, or returns `None` (a printed skip) when moto is
    /// not installed.
    pub fn start() -> Option<Self> {
        let installed = Command::new("python3")
            .args(["-c", "import moto.server"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            skip(
                "S3",
                "moto's server is not installed (python3 -m pip install 'moto[server]')",
            );
            return None;
        }
        let port = free_port();
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto");
        let s3 = Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: "tenderflow-docs".to_owned(),
            child,
        };
        // Ready when it answers; then the bucket (path-style, as the store addresses it).
        let started = Instant::now();
        loop {
            if let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) {
                let request = format!(
                    "PUT /{} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    s3.bucket
                );
                c.write_all(request.as_bytes()).expect("create the bucket");
                let mut answer = String::new();
                let _ = c.read_to_string(&mut answer);
                assert!(answer.starts_with("HTTP/1.1 200"), "bucket: {answer}");
                return Some(s3);
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "moto did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
