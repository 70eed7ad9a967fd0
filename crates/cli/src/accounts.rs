//! `tenderflow account …`: accounts, their page passwords and their API tokens (create, list,
//! disable, enable, email, password; issue, list, rotate, revoke), as text or JSON.

use crate::config::Config;
use clap::Subcommand;
use std::process::ExitCode;
use tenderflow_app::administration::NewAccount;

#[derive(Debug, Subcommand)]
pub enum AccountCmd {
    /// Create an account and print its API token (shown once; only its hash is stored).
    Create {
        /// Account id (the actor id in commands).
        #[arg(long)]
        id: String,
        /// Role: staff, bidder, evaluator, inspector or admin.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(tenderflow_core::Role::PEOPLE.map(tenderflow_core::Role::as_str)))]
        role: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Email address for notifications.
        #[arg(long)]
        email: Option<String>,
        /// Language of the mail it receives.
        #[arg(long, default_value = "zh-CN", value_parser = ["zh-CN", "en"])]
        locale: String,
        /// Print {"id", "token"} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List accounts.
    List {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Disable an account: its tokens stop working at once.
    Disable {
        /// Account id.
        id: String,
    },
    /// Enable a disabled account again.
    Enable {
        /// Account id.
        id: String,
    },
    /// Change (or, without EMAIL, remove) an account's email address.
    Email {
        /// Account id.
        id: String,
        /// The new address.
        email: Option<String>,
    },
    /// Set the password an account signs in to the pages with, read from the first line of
    /// standard input (10–128 characters); every session of the account ends.
    Password {
        /// Account id.
        id: String,
    },
    /// API tokens: issue, list, rotate, revoke.
    #[command(subcommand)]
    Token(TokenCmd),
}

/// API tokens of an account.
#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Issue another token (shown once).
    Issue {
        /// Account id.
        id: String,
        /// What it is for (e.g. "integration", "laptop").
        #[arg(long, default_value = "token")]
        label: String,
        /// Days until it expires (default: never).
        #[arg(long)]
        expires_days: Option<u32>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// List an account's tokens (never the tokens themselves).
    List {
        /// Account id.
        id: String,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token: it stops working at once.
    Revoke {
        /// Token id (tok_…).
        token: String,
    },
    /// Replace a token by a new one (same label and expiry) and revoke the old.
    Rotate {
        /// Token id (tok_…).
        token: String,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

fn millis(ms: Option<i64>) -> String {
    ms.and_then(tenderflow_core::Timestamp::from_unix_millis)
        .map_or_else(|| "-".to_owned(), |t| t.to_string())
}

fn print_issued(t: &tenderflow_app::IssuedToken, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(t)?);
    } else {
        println!(
            "token {} ({}) for {}, expires {}",
            t.info.id,
            t.info.label,
            t.info.account_id,
            millis(t.info.expires_ms)
        );
        println!("API token (shown once): {}", t.token);
    }
    Ok(())
}

pub async fn account(config: &Config, cmd: AccountCmd) -> anyhow::Result<ExitCode> {
    let app = config.app().await?;
    let operator = tenderflow_app::Caller::operator();
    match cmd {
        AccountCmd::Create {
            id,
            role,
            name,
            email,
            locale,
            json,
        } => {
            let token = app
                .create_account(
                    &operator,
                    NewAccount {
                        id: id.clone(),
                        role,
                        name,
                        email,
                        locale,
                    },
                )
                .await?;
            if json {
                println!("{}", serde_json::json!({ "id": id, "token": token }));
            } else {
                println!("account {id} created; API token (shown once):\n{token}");
            }
        }
        AccountCmd::List { json } => {
            let all = app.accounts(&operator).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else {
                println!(
                    "{:<24} {:<10} {:<8} {:<32} name",
                    "id", "role", "status", "email"
                );
                for a in all {
                    println!(
                        "{:<24} {:<10} {:<8} {:<32} {}",
                        a.id,
                        a.role,
                        if a.disabled_ms.is_some() {
                            "disabled"
                        } else {
                            "active"
                        },
                        a.email.as_deref().unwrap_or("-"),
                        a.display_name
                    );
                }
            }
        }
        AccountCmd::Disable { id } => {
            app.set_account_disabled(&operator, &id, true).await?;
            println!("account {id} disabled; its tokens no longer work");
        }
        AccountCmd::Enable { id } => {
            app.set_account_disabled(&operator, &id, false).await?;
            println!("account {id} enabled");
        }
        AccountCmd::Email { id, email } => {
            app.set_account_email(&operator, &id, email.as_deref())
                .await?;
            println!(
                "account {id}: email {}",
                email.as_deref().unwrap_or("removed")
            );
        }
        AccountCmd::Password { id } => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            let password = line.trim_end_matches(['\r', '\n']);
            app.set_password(&id, password)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("account {id}: password set; its sessions ended");
        }
        AccountCmd::Token(TokenCmd::Issue {
            id,
            label,
            expires_days,
            json,
        }) => {
            print_issued(
                &app.issue_token(&operator, &id, &label, expires_days)
                    .await?,
                json,
            )?;
        }
        AccountCmd::Token(TokenCmd::List { id, json }) => {
            let tokens = app.tokens(&operator, &id).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&tokens)?);
            } else {
                for t in tokens {
                    println!(
                        "{:<22} {:<16} issued {} expires {} revoked {}",
                        t.id,
                        t.label,
                        millis(Some(t.created_ms)),
                        millis(t.expires_ms),
                        millis(t.revoked_ms)
                    );
                }
            }
        }
        AccountCmd::Token(TokenCmd::Revoke { token }) => {
            let t = app.revoke_token(&operator, &token).await?;
            println!(
                "token {} of {} revoked at {}",
                t.id,
                t.account_id,
                millis(t.revoked_ms)
            );
        }
        AccountCmd::Token(TokenCmd::Rotate { token, json }) => {
            print_issued(&app.rotate_token(&operator, &token).await?, json)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
