//! Rendering messages: a template per kind and locale (`templates/{locale}/{kind}.txt`, the
//! first line `Subject: …`), filled from a context built out of the tender, the event that
//! caused the message and the recipient. HTML is made from the same text, so the two parts
//! never say different things.

use crate::NotifyError;
use minijinja::Environment;
use serde_json::{Value, json};
use tenderflow_core::definition::MessageKind;
use tenderflow_store::Account;

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
    "evaluation_report_ready",
    "award_notice",
    "regret_notice",
    "objection_received",
    "objection_answered",
    "irregularity_raised",
    "cancellation",
    "procedure_failed"
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

impl Renderer {
    /// Loads the shipped templates.
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
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

    /// Renders `kind` in `locale` (anything but `en` falls back to zh-CN, the default).
    pub fn render(
        &self,
        kind: MessageKind,
        locale: &str,
        ctx: &Value,
    ) -> Result<Rendered, NotifyError> {
        let locale = if locale.eq_ignore_ascii_case("en") || locale.starts_with("en-") {
            "en"
        } else {
            "zh-CN"
        };
        let name = format!("{locale}/{}", kind.as_str());
        let tmpl = self
            .env
            .get_template(&name)
            .map_err(|e| NotifyError::Template(format!("{name}: {e}")))?;
        let out = tmpl
            .render(ctx)
            .map_err(|e| NotifyError::Template(format!("{name}: {e:#}")))?;
        let (first, body) = out.split_once('\n').unwrap_or((&out, ""));
        let subject = first
            .strip_prefix("Subject: ")
            .unwrap_or(first)
            .trim()
            .to_owned();
        let text = body.trim().to_owned() + "\n";
        let html = to_html(&text, locale, &subject);
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

fn to_html(text: &str, locale: &str, subject: &str) -> String {
    let paras: Vec<String> = text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", escape(p.trim()).replace('\n', "<br>\n")))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html lang=\"{locale}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n{}\n</body></html>\n",
        escape(subject),
        paras.join("\n")
    )
}

/// A time in the workflow's local time zone (the core's [`tenderflow_core::messages::local_time`]).
pub use tenderflow_core::messages::local_time;

/// The template context of a message: what the outbox row recorded when it was queued (see
/// [`tenderflow_core::messages::message_data`]) and the recipient as the account says now.
pub fn context(data: &Value, recipient: &Account) -> Value {
    let mut ctx = data.clone();
    ctx["recipient"] = json!({ "name": recipient.display_name, "id": recipient.id });
    ctx
}
