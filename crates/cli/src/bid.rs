//! `tenderflow bid commitment`: a bidder reproduces the commitment its receipt shows, from
//! the bid it sent, without the server — the check that the bid opened is the bid sent.

use clap::Subcommand;
use std::process::ExitCode;
use tenderflow_core::canonical::Recipe;
use tenderflow_core::model::Document;

#[derive(Debug, Subcommand)]
pub enum BidCmd {
    /// Print the commitment of a bid: the SHA-256 (hex) of the RFC 8785 (JCS) canonical
    /// form of the bid's content when it has no documents, or of `{"content": …,
    /// "documents": […]}` when it has (each document as its receipt lists it: id, name,
    /// media type, size and SHA-256). FILE holds the bid as submitted: `{"content": {…},
    /// "documents": […]}`, or the content alone.
    Commitment {
        /// The bid as JSON (`-` for standard input).
        file: std::path::PathBuf,
        /// The recipe: `jcs` (every new commitment) or `v1` (commitments recorded before
        /// recipes were named; the receipt says which).
        #[arg(long, default_value = "jcs", value_parser = ["jcs", "v1"])]
        recipe: String,
        /// The commitment on the receipt: exit 0 when the bid matches it, 1 when not.
        #[arg(long)]
        expect: Option<String>,
    },
}

/// The bid in a file: its content and its documents.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Submitted {
    content: serde_json::Value,
    #[serde(default)]
    documents: Vec<Document>,
}

pub fn run(cmd: BidCmd) -> anyhow::Result<ExitCode> {
    let BidCmd::Commitment {
        file,
        recipe,
        expect,
    } = cmd;
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(&file)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?
    };
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{} is not JSON: {e}", file.display()))?;
    // `{"content": …}` (with or without documents) is a submitted bid; anything else is the
    // content alone.
    let bid = match value.get("content") {
        Some(_) => serde_json::from_value::<Submitted>(value)
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?,
        None => Submitted {
            content: value,
            documents: Vec::new(),
        },
    };
    let recipe = if recipe == "v1" {
        Recipe::V1
    } else {
        Recipe::Jcs
    };
    let commitment = tenderflow_core::decide::bid_commitment(&bid.content, &bid.documents, recipe);
    println!("{commitment}");
    Ok(match expect {
        Some(e) if !e.trim().eq_ignore_ascii_case(&commitment) => {
            eprintln!("does NOT match the receipt's commitment {}", e.trim());
            ExitCode::FAILURE
        }
        Some(_) => {
            eprintln!("matches the receipt's commitment");
            ExitCode::SUCCESS
        }
        None => ExitCode::SUCCESS,
    })
}
