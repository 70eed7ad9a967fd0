//! The command line as an administrator uses it: a config file, accounts, staff actions,
//! refusals with their code and exit status, the Mermaid graph and definition validation.

use crate::harness::Db;
use std::process::Command;

fn tf(config: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tenderflow"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("tenderflow")
}

#[tokio::test]
async fn an_administrator_runs_a_tender_from_the_command_line() {
    let db = Db::sqlite().await;
    let config = db.dir.join("tenderflow.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\ndatabase_url = {:?}\n",
            db.dir.display().to_string(),
            db.url
        ),
    )
    .expect("config");
    let ok = |out: &std::process::Output| {
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    ok(&tf(&config, &["migrate"]));
    ok(&tf(
        &config,
        &[
            "account", "create", "--id", "zhang", "--role", "staff", "--name", "张明",
        ],
    ));
    ok(&tf(
        &config,
        &[
            "tender",
            "create",
            "--id",
            "T-7",
            "--workflow",
            "open-tender-prc",
            "--as",
            "zhang",
        ],
    ));
    let too_soon = r#"{"command":"publish","announcement":{"title":"Road works","summary":"Resurfacing"},"channels":["national-platform"],"deadline":"2000-01-01T00:00:00Z"}"#;
    let out = tf(
        &config,
        &["tender", "run", "T-7", "--as", "zhang", too_soon],
    );
    assert_eq!(out.status.code(), Some(3), "a refusal exits 3");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("[schedule_violation]"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = ok(&tf(&config, &["tender", "list"]));
    assert!(
        listed.contains("T-7") && listed.contains("draft"),
        "{listed}"
    );
    let graph = ok(&tf(&config, &["workflow", "graph", "partner-recruitment"]));
    assert!(
        graph.starts_with("stateDiagram-v2")
            && graph.contains(
                "submission_closed --> evaluation: open_bids by staff [sign-off: opening]"
            ),
        "{graph}"
    );
    let bad = db.dir.join("bad.json");
    std::fs::write(&bad, "{\"id\": 1}").expect("write");
    let out = tf(
        &config,
        &["workflow", "validate", bad.to_str().expect("path")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("[schema_violation]"));
    let audit = ok(&tf(&config, &["audit", "verify"]));
    assert!(audit.contains("0 broken"), "{audit}");
}
