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

/// A config file naming the test's data directory and database.
fn config_file(db: &Db) -> std::path::PathBuf {
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
    config
}

#[tokio::test]
async fn an_administrator_runs_a_tender_from_the_command_line() {
    let db = Db::sqlite();
    let config = config_file(&db);
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
    // Lists answer JSON on request, with times as RFC 3339.
    let listed: serde_json::Value =
        serde_json::from_str(&ok(&tf(&config, &["workflow", "list", "--json"]))).expect("json");
    assert!(
        listed
            .as_array()
            .is_some_and(|a| a.iter().any(|w| w["definitionId"] == "open-tender-prc")),
        "{listed}"
    );
    let stuck: serde_json::Value =
        serde_json::from_str(&ok(&tf(&config, &["timers", "stuck", "--json"]))).expect("json");
    assert_eq!(stuck, serde_json::json!([]));
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
    let as_json: serde_json::Value =
        serde_json::from_str(&ok(&tf(&config, &["tender", "list", "--json"]))).expect("json");
    assert_eq!(as_json[0]["id"], "T-7", "{as_json}");
    let listed = ok(&tf(&config, &["tender", "list"]));
    assert!(
        listed.contains("T-7") && listed.contains("draft"),
        "{listed}"
    );
    // The event log: times in the definition's zone, or RFC 3339 in JSON.
    let log = ok(&tf(&config, &["tender", "events", "T-7"]));
    assert!(
        log.contains("(UTC+08:00)") && log.contains("draft_created"),
        "{log}"
    );
    let log: serde_json::Value =
        serde_json::from_str(&ok(&tf(&config, &["tender", "events", "T-7", "--json"])))
            .expect("json");
    assert_eq!(log[0]["type"], "draft_created", "{log}");
    assert!(
        log[0]["at"].as_str().is_some_and(|a| a.ends_with('Z')),
        "{log}"
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
    // Trust #15: the records carry the chain head; the database is checked against it.
    let records = ok(&tf(&config, &["tender", "records", "T-7"]));
    let signed = db.dir.join("signed-records.json");
    std::fs::write(&signed, &records).expect("write");
    let against = ok(&tf(
        &config,
        &[
            "audit",
            "verify",
            "--against",
            signed.to_str().expect("path"),
        ],
    ));
    assert!(
        against.contains("1 published head(s)") && against.contains("0 broken"),
        "{against}"
    );
}

/// Trust #7: a lost key file or a mistyped data directory stops every command (except
/// `migrate`) with a message saying what to do; a key is never made up in place of a lost one.
#[tokio::test]
async fn trust_07_a_missing_key_or_database_stops_the_command() {
    let dir = std::env::temp_dir().join(format!("tenderflow-mk-{}", uuid::Uuid::new_v4()));
    let run = |data_dir: &std::path::Path, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tenderflow"))
            .env_remove("TENDERFLOW_MASTER_KEY")
            .env_remove("TENDERFLOW_DATABASE_URL")
            .arg("--data-dir")
            .arg(data_dir)
            .args(args)
            .output()
            .expect("tenderflow")
    };
    let out = run(&dir, &["migrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("master.key").exists());
    let out = run(&dir, &["tender", "list"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A mistyped data directory: no new database, no new key.
    let typo = dir.with_extension("typo");
    let out = run(&typo, &["tender", "list"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no database at") && err.contains("--data-dir"),
        "{err}"
    );
    assert!(!typo.exists(), "nothing was created");

    // A deleted key file: refused, not regenerated.
    std::fs::remove_file(dir.join("master.key")).expect("rm");
    let out = run(&dir, &["tender", "list"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no master key at"), "{err}");
    assert!(!dir.join("master.key").exists(), "no key was made up");

    // `migrate` with a new key on the old database: refused by the check value.
    let out = run(&dir, &["migrate"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("master key does not match"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A closed pipe (`tenderflow workflow show … | head`) ends the command quietly with the
/// shell's SIGPIPE status, not a panic with a backtrace.
#[test]
fn a_closed_pipe_is_not_a_panic() {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_tenderflow"))
        .args(["workflow", "show", "partner-recruitment"])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("tenderflow");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(141), "{err}");
}

/// A refusal by a rule exits 3 for every command that runs one (`tender create` too).
#[tokio::test]
async fn a_refusal_exits_3_for_create_as_for_run() {
    let db = Db::sqlite();
    let config = config_file(&db);
    assert!(tf(&config, &["migrate"]).status.success());
    assert!(
        tf(
            &config,
            &[
                "account",
                "create",
                "--id",
                "li",
                "--role",
                "inspector",
                "--name",
                "李"
            ]
        )
        .status
        .success()
    );
    let out = tf(
        &config,
        &[
            "tender",
            "create",
            "--id",
            "T-8",
            "--workflow",
            "open-tender-prc",
            "--as",
            "li",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("[wrong_role]"));
}

#[test]
fn help_never_prints_secrets_from_the_environment() {
    let secrets = [
        (
            "TENDERFLOW_DATABASE_URL",
            "postgres://tf:db-s3cret@db.internal/tf",
        ),
        (
            "TENDERFLOW_SMTP_URL",
            "smtp://mailer:smtp-s3cret@smtp.internal:587",
        ),
        (
            "TENDERFLOW_MASTER_KEY",
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        ),
        ("TENDERFLOW_METRICS_TOKEN", "metrics-s3cret-token"),
    ];
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["worker", "--help"],
        &["migrate", "--help"],
        &["demo", "--help"],
        &["account", "create", "--help"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_tenderflow"))
            .args(args)
            .envs(secrets)
            .output()
            .expect("tenderflow");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {text}");
        for (var, value) in secrets {
            let tail = &value[value.len() - 12..];
            assert!(!text.contains(tail), "{args:?} prints {var}:\n{text}");
        }
    }
}

#[test]
fn an_empty_database_file_or_a_pending_migration_is_refused_but_by_migrate() {
    let dir = tenderflow_testkit::TempDir::new("empty-db");
    let key = crate::harness::master_key();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tenderflow"))
            .env("TENDERFLOW_DATA_DIR", dir.path())
            .env("TENDERFLOW_MASTER_KEY", &key)
            .env_remove("TENDERFLOW_DATABASE_URL")
            .args(args)
            .output()
            .expect("tenderflow")
    };
    // `: > tenderflow.sqlite`: an empty file is not a new database.
    std::fs::write(dir.path().join("tenderflow.sqlite"), b"").expect("empty file");
    for args in [
        &["account", "list"][..],
        &["workflow", "list"],
        &["timers", "stuck"],
    ] {
        let out = run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("tenderflow migrate"), "{args:?}: {stderr}");
    }
    let out = run(&["migrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["account", "list"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A migration recorded as not applied (an older installation): refused until `migrate`.
    let url = format!(
        "sqlite://{}",
        dir.path().join("tenderflow.sqlite").display()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        use sea_orm::ConnectionTrait;
        let db = sea_orm::Database::connect(&url).await.expect("connect");
        db.execute_unprepared(
            "DELETE FROM seaql_migrations WHERE version = (SELECT MAX(version) FROM seaql_migrations)",
        )
        .await
        .expect("forget the newest migration");
        let _ = db.close().await;
    });
    let out = run(&["account", "list"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("pending") && stderr.contains("tenderflow migrate"),
        "{stderr}"
    );
}

#[test]
fn the_demo_honours_the_global_mail_and_url_options() {
    let dir = tenderflow_testkit::TempDir::new("demo-options");
    let demo = dir.path().join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_tenderflow"))
        .env_remove("TENDERFLOW_SMTP_URL")
        .env_remove("TENDERFLOW_PUBLIC_URL")
        .env_remove("TENDERFLOW_MAIL_FROM")
        .args(["--data-dir"])
        .arg(dir.path())
        .args([
            "--public-url",
            "https://tenders.union.example",
            "--mail-from",
            "Union Recruitment <jobs@union.example>",
            "demo",
            "--bidders",
            "4",
            "--winners",
            "2",
            "--dir",
        ])
        .arg(&demo)
        .output()
        .expect("tenderflow demo");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let (mut mails, mut linked) = (0, 0);
    for entry in std::fs::read_dir(demo.join("mail")).expect("mail") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "eml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("eml");
        assert!(text.contains("jobs@union.example"), "{}", path.display());
        mails += 1;
        if text.contains("https://tenders.union.example/notices/") {
            linked += 1;
        }
    }
    assert!(mails > 0, "the demo wrote its mail");
    assert!(linked > 0, "mail links point at --public-url");
}

#[test]
fn a_bidder_reproduces_its_commitment_from_the_bid_it_sent() {
    use tenderflow_core::canonical::Recipe;
    let dir = tenderflow_testkit::TempDir::new("commitment");
    let content = serde_json::json!({ "organisation": "瓯江文化传播公司", "fee": 12_845_200, "freeOrDiscountedShare": 55.1 });
    let documents = serde_json::json!([{
        "id": "doc-1", "name": "服务方案.pdf", "mediaType": "application/pdf",
        "size": 624, "sha256": "ab".repeat(32), "slot": "servicePlan",
    }]);
    let docs: Vec<tenderflow_core::model::Document> =
        serde_json::from_value(documents.clone()).expect("documents");
    let run = |file: &std::path::Path, extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tenderflow"))
            .args(["bid", "commitment"])
            .arg(file)
            .args(extra)
            .output()
            .expect("tenderflow bid commitment")
    };
    // With documents: {content, documents}, as the receipt page lists them.
    let with_docs = dir.path().join("bid.json");
    std::fs::write(
        &with_docs,
        serde_json::to_vec(&serde_json::json!({ "content": content, "documents": documents }))
            .expect("json"),
    )
    .expect("write");
    let want = tenderflow_core::decide::bid_commitment(&content, &docs, Recipe::Jcs);
    let out = run(&with_docs, &["--expect", &want]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), want);
    // The content alone, and the recipe of older receipts.
    let alone = dir.path().join("content.json");
    std::fs::write(&alone, serde_json::to_vec(&content).expect("json")).expect("write");
    let v1 = tenderflow_core::decide::bid_commitment(&content, &[], Recipe::V1);
    let out = run(&alone, &["--recipe", "v1"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), v1);
    // Another bid does not match the receipt: exit 1, said so.
    let out = run(&alone, &["--expect", &want]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does NOT match"));
}

#[test]
fn the_demo_tells_names_money_and_local_times_and_checks_every_receipt() {
    let dir = tenderflow_testkit::TempDir::new("demo-told");
    let out = Command::new(env!("CARGO_BIN_EXE_tenderflow"))
        .env_remove("TENDERFLOW_SMTP_URL")
        .args(["--data-dir"])
        .arg(dir.path())
        .args(["demo", "--dir"])
        .arg(dir.path().join("demo"))
        .output()
        .expect("tenderflow demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // What the demo tells: names, money with its currency, local times, and every receipt
    // checked against the opened bids.
    let told = String::from_utf8_lossy(&out.stdout);
    assert!(
        told.contains("every opened bid matches its receipt's commitment: yes"),
        "{told}"
    );
    assert!(
        told.contains('¥') && told.contains("China Standard Time"),
        "{told}"
    );
    assert!(!told.contains("org-0"), "parties by name, not id: {told}");
}
