//! Validates workflow definition files: prints every problem with its JSON Pointer and code,
//! and exits non-zero if any file is invalid. `cargo run -p tenderflow-core --example validate -- workflows/*.json`

use std::process::ExitCode;

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: validate FILE...");
        return ExitCode::from(2);
    }
    let mut bad = 0;
    for file in &files {
        let bytes = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{file}: cannot read: {e}");
                bad += 1;
                continue;
            }
        };
        match tenderflow_core::load(file, &bytes) {
            Ok(wf) => println!(
                "{file}: ok ({} {}, sha256 {})",
                wf.definition().id,
                wf.definition().version,
                wf.sha256()
            ),
            Err(errors) => {
                bad += 1;
                println!("{file}: {} problem(s)", errors.0.len());
                for e in &errors.0 {
                    println!("  {e}");
                }
            }
        }
    }
    if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
