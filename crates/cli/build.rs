//! Names the commit the binary is built from (`TENDERFLOW_COMMIT`, which `serve` gives the
//! API for `/version` and `tenderflow_build_info`): `git rev-parse --short=12 HEAD`, or
//! `unknown` where there is no git or no checkout. Only this binary's crate rebuilds when
//! the commit changes.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=TENDERFLOW_COMMIT={commit}");
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        for watched in ["HEAD", "refs/heads", "packed-refs"] {
            println!("cargo:rerun-if-changed={dir}/{watched}");
        }
    }
}
