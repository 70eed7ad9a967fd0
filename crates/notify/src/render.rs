//! Rendering messages: a template per kind and locale (`templates/{locale}/{kind}.txt`, the
//! first line `Subject: …`), filled from a context built out of the tender, the event that
//! caused the message and the recipient. HTML is made from the same text, so the two parts
//! never say different things.

use crate::NotifyError;
use minijinja::Environment;
use serde_json::{Value, json};
use std::sync::Arc;
use tenderflow_core::present::Names;
use tenderflow_store::{Account, Mail};

macro_rules! templates {
    ($($kind:literal),*) => {
        &[$(
            (concat!("en/", $kind), include_str!(concat!("../templates/en/", $kind, ".txt"))),
            (concat!("zh-CN/", $kind), include_str!(concat!("../templates/zh-CN/", $kind, ".txt"))),
        )*]
    };
}

const TEMPLATES: &[(&str, &str)] = templates!(
    "announcement",
    "amendment",
    "question_answered",
    "bid_receipt",
    "bid_withdrawn",
    "opening_notice",
    "committee_appointment",
    "evaluation_report_ready",
    "award_notice",
    "regret_notice",
    "objection_received",
    "objection_answered",
    "irregularity_raised",
    "cancellation",
    "procedure_failed",
    "agreement_ready",
    "agreement_in_force",
    "delivery_shortfall",
    "performance_result",
    "agreement_terminated",
    "verify_email",
    "password_reset",
    "confirm_subscription",
    "registration_attempt"
);

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body (the same text).
    pub html: String,
    /// Locale used.
    pub locale: &'static str,
}

/// The template engine with every template loaded.
#[derive(Debug)]
pub struct Renderer {
    env: Environment<'static>,
}

impl Default for Renderer {
    fn default() -> Self {
        Self::new()
    }
}

/// The parties' names as the templates see them: `{{ e.bidder | name }}` reads the
/// registered name of an id from here (shared, never copied into each message's context).
#[derive(Debug)]
struct NamesObject(Arc<Names>);

impl minijinja::value::Object for NamesObject {
    fn get_value(self: &Arc<Self>, key: &minijinja::Value) -> Option<minijinja::Value> {
        key.as_str()
            .and_then(|k| self.0.get(k))
            .map(minijinja::Value::from)
    }
}

/// The `name` filter: the registered name of an account id (from the render's `names`), or
/// the id itself where none is known.
fn name_filter(state: &minijinja::State, id: String) -> String {
    state
        .lookup(NAMES)
        .and_then(|names| names.get_attr(&id).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or(id)
}

/// Where a render's names are in its context.
const NAMES: &str = "__names";

impl Renderer {
    /// Loads the shipped templates.
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.add_filter("name", name_filter);
        for (name, source) in TEMPLATES {
            // The templates are part of the binary and covered by tests.
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "template does not compile");
            }
        }
        Self { env }
    }

    /// The shipped templates, each replaced by `{dir}/{locale}/{kind}.txt` where that file
    /// exists (operators adapt wording without rebuilding). A file that does not compile is
    /// an error naming it: a broken template is found at start, not when its first message
    /// is due.
    pub fn with_overrides(dir: &std::path::Path) -> Result<Self, NotifyError> {
        let mut r = Self::new();
        for (name, _) in TEMPLATES {
            let path = dir.join(format!("{name}.txt"));
            let source = match std::fs::read_to_string(&path) {
                Ok(s) => s,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(NotifyError::Template(format!("{}: {e}", path.display())));
                }
            };
            r.env
                .add_template_owned(name.to_string(), source)
                .map_err(|e| NotifyError::Template(format!("{}: {e:#}", path.display())))?;
        }
        Ok(r)
    }

    /// Renders `kind` in `locale` (anything but `en` falls back to zh-CN, the default), with
    /// parties by id.
    pub fn render(
        &self,
        kind: impl Into<Mail>,
        locale: &str,
        ctx: &Value,
    ) -> Result<Rendered, NotifyError> {
        self.render_named(kind, locale, ctx, &Arc::new(Names::new()))
    }

    /// Renders `kind` in `locale`, naming parties by their registered `names`.
    pub fn render_named(
        &self,
        kind: impl Into<Mail>,
        locale: &str,
        ctx: &Value,
        names: &Arc<Names>,
    ) -> Result<Rendered, NotifyError> {
        let locale = if locale.eq_ignore_ascii_case("en") || locale.starts_with("en-") {
            "en"
        } else {
            "zh-CN"
        };
        let name = format!("{locale}/{}", kind.into().as_str());
        let tmpl = self
            .env
            .get_template(&name)
            .map_err(|e| NotifyError::Template(format!("{name}: {e}")))?;
        let full = minijinja::context! {
            __names => minijinja::Value::from_object(NamesObject(names.clone())),
            ..minijinja::Value::from_serialize(ctx)
        };
        let out = tmpl
            .render(full)
            .map_err(|e| NotifyError::Template(format!("{name}: {e:#}")))?;
        let (first, body) = out.split_once('\n').unwrap_or((&out, ""));
        let subject = first
            .strip_prefix("Subject: ")
            .unwrap_or(first)
            .trim()
            .to_owned();
        let text = body.trim().to_owned() + "\n";
        let html = to_html(&text, locale, &subject, ctx, names);
        Ok(Rendered {
            subject,
            text,
            html,
            locale,
        })
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Text with its web addresses as links (everything escaped).
fn linked(text: &str) -> String {
    text.split(' ')
        .map(
            |word| match word.find("https://").or_else(|| word.find("http://")) {
                // An address may follow other text without a space (`公告页面：https://…`).
                Some(at) => {
                    let url = escape(&word[at..]);
                    format!("{}<a href=\"{url}\">{url}</a>", escape(&word[..at]))
                }
                None => escape(word),
            },
        )
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a paragraph is the text form of the opening record (`1. org … `, one per line).
fn is_entry_list(p: &str) -> bool {
    p.lines().all(|l| {
        let digits = l.chars().take_while(char::is_ascii_digit).count();
        digits > 0 && l[digits..].starts_with(". ")
    })
}

/// The opening record as a table.
fn opening_table(entries: &[Value], locale: &str, names: &Names) -> String {
    let heads: [&str; 5] = if locale == "en" {
        ["No.", "Bidder", "Lot", "Received", "Price"]
    } else {
        ["序号", "投标人", "标段", "递交时间", "报价"]
    };
    let th: String = heads
        .iter()
        .map(|h| format!("<th style=\"text-align:left;padding:4px 8px;border-bottom:1px solid #ccc\">{h}</th>"))
        .collect();
    let rows: String = entries
        .iter()
        .map(|e| {
            let cell = |k: &str| {
                let v = &e[k];
                let t = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                let t = if k == "bidder" {
                    names.get(&t).map_or(t.clone(), str::to_owned)
                } else {
                    t
                };
                format!(
                    "<td style=\"padding:4px 8px;border-bottom:1px solid #eee\">{}</td>",
                    escape(&t)
                )
            };
            format!(
                "<tr>{}{}{}{}{}</tr>",
                cell("receipt"),
                cell("bidder"),
                cell("lot"),
                cell("received_at"),
                cell("price")
            )
        })
        .collect();
    format!(
        "<table style=\"border-collapse:collapse;width:100%\"><thead><tr>{th}</tr></thead><tbody>{rows}</tbody></table>"
    )
}

/// The HTML part: the same text in a simple layout (a heading, paragraphs, links, the
/// opening record as a table, a footer saying it was sent automatically).
fn to_html(text: &str, locale: &str, subject: &str, ctx: &Value, names: &Names) -> String {
    let entries = ctx["opening"]["entries"]
        .as_array()
        .filter(|e| !e.is_empty());
    let body: Vec<String> = text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| match entries {
            Some(entries) if is_entry_list(p.trim()) => opening_table(entries, locale, names),
            _ => format!(
                "<p>{}</p>",
                p.trim()
                    .lines()
                    .map(linked)
                    .collect::<Vec<_>>()
                    .join("<br>\n")
            ),
        })
        .collect();
    let footer = if locale == "en" {
        "This message was sent automatically by Tenderflow."
    } else {
        "本邮件由 Tenderflow 系统自动发送。"
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"{locale}\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body style=\"margin:0;background:#f4f5f7\">\n\
         <div style=\"max-width:640px;margin:0 auto;background:#fff;font:15px/1.6 sans-serif;color:#1d2430\">\n\
         <h1 style=\"margin:0;padding:16px 24px;font-size:18px;background:#9b1c1c;color:#fff\">{title}</h1>\n\
         <div style=\"padding:8px 24px 16px\">\n{body}\n</div>\n\
         <p style=\"padding:8px 24px;color:#5b6575;font-size:12px;border-top:1px solid #eee\">{footer}</p>\n\
         </div>\n</body></html>\n",
        title = escape(subject),
        body = body.join("\n"),
    )
}

/// A time in the workflow's local time zone (the core's [`tenderflow_core::messages::local_time`]).
pub use tenderflow_core::messages::local_time;

/// The template context of a message: what the outbox row recorded when it was queued (see
/// [`tenderflow_core::messages::message_data`]) and the recipient as the account says now.
pub fn context(data: &Value, recipient: &Account) -> Value {
    let mut ctx = data.clone();
    ctx["recipient"] = json!({ "name": recipient.display_name, "id": recipient.id });
    // The tender's title in the recipient's language, when the announcement gives one.
    if let Some(title) = data["tender"]["titles"][recipient.locale.as_str()].as_str() {
        ctx["tender"]["title"] = title.into();
    }
    ctx
}
