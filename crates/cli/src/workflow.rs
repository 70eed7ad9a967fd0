//! `tenderflow workflow …`: validate, register, list, show and draw definitions.

use crate::config::Config;
use anyhow::Context;
use clap::Subcommand;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use tenderflow_core::Workflow;

/// The definitions shipped in workflows/, built into the binary.
pub const SHIPPED: &[(&str, &[u8])] = &[
    (
        "partner-recruitment.json",
        include_bytes!("../../../workflows/partner-recruitment.json"),
    ),
    (
        "open-tender-prc.json",
        include_bytes!("../../../workflows/open-tender-prc.json"),
    ),
    (
        "gov-procurement-prc.json",
        include_bytes!("../../../workflows/gov-procurement-prc.json"),
    ),
    (
        "open-procedure-eu.json",
        include_bytes!("../../../workflows/open-procedure-eu.json"),
    ),
    (
        "invited-tender-prc.json",
        include_bytes!("../../../workflows/invited-tender-prc.json"),
    ),
];

#[derive(Debug, Subcommand)]
pub enum WorkflowCmd {
    /// Check definition files; print every problem with its JSON Pointer and code. Exits
    /// non-zero if any file is invalid.
    Validate {
        /// Definition files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Register a definition version in the database (identical content again is a no-op).
    Register {
        /// Definition file.
        file: PathBuf,
    },
    /// List registered definitions (the shipped ones are registered on first use).
    List {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print a definition: a file, a registered id, or a SHA-256.
    Show {
        /// File, id or SHA-256.
        definition: String,
    },
    /// Print a Mermaid state diagram of a definition.
    Graph {
        /// File, id or SHA-256.
        definition: String,
    },
}

pub async fn register_shipped(app: &tenderflow_app::App) -> anyhow::Result<()> {
    app.register_shipped(SHIPPED)
        .await
        .context("registering the shipped workflows")
}

async fn resolve(config: &Config, what: &str) -> anyhow::Result<std::sync::Arc<Workflow>> {
    let path = PathBuf::from(what);
    if path.exists() {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {what}"))?;
        return Ok(std::sync::Arc::new(tenderflow_core::load(what, &bytes)?));
    }
    if let Some((name, bytes)) = SHIPPED
        .iter()
        .find(|(n, _)| n.trim_end_matches(".json") == what)
    {
        return Ok(std::sync::Arc::new(tenderflow_core::load(name, bytes)?));
    }
    Ok(config.app().await?.workflow(what).await?)
}

pub async fn run(config: &Config, cmd: WorkflowCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        WorkflowCmd::Validate { files } => {
            let mut bad = 0;
            for f in &files {
                let name = f.display().to_string();
                let result = std::fs::read(f)
                    .map_err(|e| e.to_string())
                    .and_then(|b| tenderflow_core::load(&name, &b).map_err(|e| e.to_string()));
                match result {
                    Ok(wf) => println!(
                        "{name}: ok ({} {}, sha256 {})",
                        wf.definition().id,
                        wf.definition().version,
                        wf.sha256()
                    ),
                    Err(e) => {
                        bad += 1;
                        println!("{name}: {e}");
                    }
                }
            }
            Ok(if bad == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        WorkflowCmd::Register { file } => {
            let app = config.app().await?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            // Registering is an administrator's act: recorded with the operating-system user.
            let by = format!(
                "cli:{}",
                std::env::var("USER").unwrap_or_else(|_| "unknown".into())
            );
            let rec = app
                .register_workflow(
                    &tenderflow_app::Caller::operator(),
                    &file.display().to_string(),
                    &bytes,
                    &by,
                )
                .await?;
            println!(
                "registered {} {} (sha256 {})",
                rec.definition_id, rec.version, rec.sha256
            );
            for w in &rec.weakened {
                println!(
                    "  WEAKER than the previous version: {} ({})",
                    w.what, w.pointer
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        WorkflowCmd::List { json } => {
            let app = config.app().await?;
            register_shipped(&app).await?;
            let all = app.workflows().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{:<24} {:<9} {:<66} {:<20} {:<20} file",
                "id", "version", "sha256", "registered by", "registered (UTC)"
            );
            for w in all {
                let when = tenderflow_core::Timestamp::from_unix_millis(w.created_ms)
                    .map_or_else(|| w.created_ms.to_string(), |t| t.to_rfc3339());
                println!(
                    "{:<24} {:<9} {:<66} {:<20} {:<20} {}",
                    w.definition_id,
                    w.version,
                    w.sha256,
                    w.registered_by.as_deref().unwrap_or("-"),
                    when,
                    w.file_name
                );
                for weak in &w.weakened {
                    println!("    WEAKER: {} ({})", weak.what, weak.pointer);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        WorkflowCmd::Show { definition } => {
            let wf = resolve(config, &definition).await?;
            println!("{}", serde_json::to_string_pretty(wf.definition())?);
            Ok(ExitCode::SUCCESS)
        }
        WorkflowCmd::Graph { definition } => {
            let wf = resolve(config, &definition).await?;
            print!("{}", mermaid(&wf));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A Mermaid `stateDiagram-v2` of the definition's states and state-changing transitions.
pub fn mermaid(wf: &Workflow) -> String {
    let d = wf.definition();
    let mut out = String::from("stateDiagram-v2\n");
    out.push_str(&format!("    [*] --> {}\n", d.initial.state));
    let mut seen = BTreeSet::new();
    for s in &d.states {
        for t in wf.transitions_from(&s.id) {
            for (target, note) in [(&t.to, ""), (&t.fail_to, " (too few bids)")] {
                let Some(to) = target else { continue };
                if *to == s.id {
                    continue;
                }
                let label = match (t.command, t.timer) {
                    (Some(c), _) => {
                        let gates = if t.gates.is_empty() {
                            String::new()
                        } else {
                            format!(" [sign-off: {}]", t.gates.join(", "))
                        };
                        format!("{c} by {}{gates}{note}", t.roles.join("/"))
                    }
                    (None, Some(timer)) => format!("timer {timer}{note}"),
                    _ => continue,
                };
                if seen.insert((s.id.clone(), to.clone(), label.clone())) {
                    out.push_str(&format!("    {} --> {}: {}\n", s.id, to, label));
                }
            }
        }
    }
    for s in d.states.iter().filter(|s| s.terminal) {
        out.push_str(&format!("    {} --> [*]\n", s.id));
    }
    out
}
