//! A form generated from a definition's JSON Schema (the bid form): one field per property,
//! its input chosen by type (text, long text, number, choice, money), its constraints written
//! as HTML attributes (so the browser checks them before sending) and checked again here with
//! messages in the page's language, next to the field. The core validates the result against
//! the same schema once more; its findings are placed next to the fields they name.
//!
//! Conventions: an integer property whose name ends in `Minor` is an amount in minor units
//! (fen): it is entered in yuan with two decimals. Labels come from the catalogue
//! (`field-{name}`), else the property's `title`, else its name; choices from `choice-{value}`.

use crate::i18n::Lang;
use fluent_templates::fluent_bundle::FluentValue;
use serde_json::{Map, Number, Value};
use std::collections::{BTreeMap, HashMap};

/// What kind of input a field is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Input {
    /// One line of text.
    Text,
    /// Several lines of text.
    Long,
    /// A number.
    Number,
    /// An amount in yuan (stored in fen).
    Money,
    /// One of a list.
    Choice,
}

/// One field of a generated form.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    /// The property's name (the input's name; its id is `f-{name}`).
    pub name: String,
    /// The label.
    pub label: String,
    /// A sentence of help (the property's description), if any.
    pub help: String,
    /// The input.
    pub input: Input,
    /// Whether it must be filled in.
    pub required: bool,
    /// `min` attribute (empty for none).
    pub min: String,
    /// `max` attribute (empty for none).
    pub max: String,
    /// `step` attribute.
    pub step: String,
    /// `minlength` attribute (empty for none).
    pub minlength: String,
    /// The choices (value, label).
    pub choices: Vec<(String, String)>,
    /// The value as entered.
    pub value: String,
    /// What is wrong with it, if anything.
    pub error: Option<String>,
}

impl Field {
    /// Whether `choice` is the selected value.
    pub fn selected(&self, choice: &str) -> bool {
        self.value == choice
    }
}

fn label(lang: Lang, name: &str, prop: &Value) -> String {
    lang.try_t(&format!("field-{name}"))
        .or_else(|| prop["title"].as_str().map(str::to_owned))
        .unwrap_or_else(|| name.to_owned())
}

fn input_of(name: &str, prop: &Value) -> Input {
    if prop.get("enum").is_some() {
        Input::Choice
    } else if prop["type"] == "integer" && name.ends_with("Minor") {
        Input::Money
    } else if matches!(prop["type"].as_str(), Some("integer" | "number")) {
        Input::Number
    } else if prop["maxLength"].as_u64().is_some_and(|m| m <= 200)
        || matches!(name, "organisation" | "name" | "email" | "phone")
    {
        Input::Text
    } else {
        Input::Long
    }
}

/// A number as an attribute (`20`, `0.01`).
fn attr(v: &Value) -> String {
    v.as_f64().map(|f| f.to_string()).unwrap_or_default()
}

/// Fen as yuan with two decimals (`123456` → `1234.56`).
pub(crate) fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let f = fen.unsigned_abs();
    format!("{sign}{}.{:02}", f / 100, f % 100)
}

/// Yuan with at most two decimals as fen, exactly (no floating point).
fn fen(text: &str) -> Option<i64> {
    let t = text.trim().replace([',', '，', ' '], "");
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest.to_owned()),
        None => (false, t),
    };
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty() && frac.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    let v = whole.checked_mul(100)?.checked_add(frac)?;
    Some(if neg { -v } else { v })
}

/// The schema's required property names, in its order.
fn required(schema: &Value) -> Vec<&str> {
    schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// The fields of `schema`, filled from `values` (the content as the core has it), with
/// `errors` by property name.
pub(crate) fn fields(
    lang: Lang,
    schema: &Value,
    values: &Map<String, Value>,
    errors: &BTreeMap<String, String>,
) -> Vec<Field> {
    fields_labelled(lang, schema, values, errors, &BTreeMap::new(), "")
}

/// [`fields`] with labels by property name (e.g. the definition's criterion titles), the
/// names of nested objects' properties prefixed (`scores.capability`).
pub(crate) fn fields_labelled(
    lang: Lang,
    schema: &Value,
    values: &Map<String, Value>,
    errors: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
    prefix: &str,
) -> Vec<Field> {
    let required = required(schema);
    let Some(props) = schema["properties"].as_object() else {
        return Vec::new();
    };
    // The required fields in the order the schema lists them, then the others by name (a
    // JSON object's own order does not survive parsing).
    let mut ordered: Vec<(&String, &Value)> = props.iter().collect();
    ordered.sort_by_key(|(name, _)| {
        required
            .iter()
            .position(|r| r == name)
            .unwrap_or(usize::MAX)
    });
    let mut out = Vec::new();
    for (name, prop) in ordered {
        if prop["properties"].is_object() {
            let inner = values
                .get(name)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            out.extend(fields_labelled(
                lang,
                prop,
                &inner,
                errors,
                labels,
                &format!("{prefix}{name}."),
            ));
            continue;
        }
        out.push({
            let input = input_of(name, prop);
            let value = match (values.get(name), input) {
                (Some(Value::Number(n)), Input::Money) => n.as_i64().map(yuan).unwrap_or_default(),
                (Some(Value::String(s)), _) => s.clone(),
                (Some(Value::Number(n)), _) => n.to_string(),
                _ => String::new(),
            };
            let minor = |k: &str| prop[k].as_i64().map(yuan).unwrap_or_default();
            let full = format!("{prefix}{name}");
            Field {
                label: labels
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| label(lang, name, prop)),
                help: lang
                    .try_t(&format!("help-{name}"))
                    .or_else(|| prop["description"].as_str().map(str::to_owned))
                    .unwrap_or_default(),
                input,
                required: required.contains(&name.as_str()),
                min: if input == Input::Money {
                    minor("minimum")
                } else {
                    attr(&prop["minimum"])
                },
                max: if input == Input::Money {
                    minor("maximum")
                } else {
                    attr(&prop["maximum"])
                },
                step: match (input, prop["type"].as_str()) {
                    (Input::Money, _) => "0.01".into(),
                    (_, Some("integer")) => "1".into(),
                    _ => "any".into(),
                },
                minlength: prop["minLength"]
                    .as_u64()
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                choices: prop["enum"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(|c| {
                        (
                            c.to_owned(),
                            lang.try_t(&format!("choice-{c}"))
                                .unwrap_or_else(|| c.replace('_', " ")),
                        )
                    })
                    .collect(),
                value,
                error: errors.get(&full).cloned(),
                name: full,
            }
        });
    }
    out
}

/// The content a posted form says, and what is wrong with it by property name (checked
/// against the schema's types, required properties, bounds, lengths and choices, with
/// messages in `lang`). Unknown posted names are ignored; the content has only the
/// schema's properties.
pub(crate) fn parse(
    lang: Lang,
    schema: &Value,
    posted: &HashMap<String, String>,
) -> (Map<String, Value>, BTreeMap<String, String>) {
    let mut errors = BTreeMap::new();
    let content = parse_in(lang, schema, posted, "", &mut errors);
    (content, errors)
}

/// [`parse`] of the properties named `{prefix}{name}`.
fn parse_in(
    lang: Lang,
    schema: &Value,
    posted: &HashMap<String, String>,
    prefix: &str,
    errors: &mut BTreeMap<String, String>,
) -> Map<String, Value> {
    let mut content = Map::new();
    let required = required(schema);
    let Some(props) = schema["properties"].as_object() else {
        return content;
    };
    for (name, prop) in props {
        if prop["properties"].is_object() {
            let inner = parse_in(lang, prop, posted, &format!("{prefix}{name}."), errors);
            if !inner.is_empty() || required.contains(&name.as_str()) {
                content.insert(name.clone(), Value::Object(inner));
            }
            continue;
        }
        let full = format!("{prefix}{name}");
        let name = &full;
        let key = name.rsplit('.').next().unwrap_or(name).to_owned();
        let raw = posted.get(name).map(|s| s.trim()).unwrap_or_default();
        if raw.is_empty() {
            if required.contains(&key.as_str()) {
                errors.insert(name.clone(), lang.t("error-required"));
            }
            continue;
        }
        let input = input_of(name, prop);
        let value = match input {
            Input::Money => match fen(raw) {
                Some(f) => Value::from(f),
                None => {
                    errors.insert(name.clone(), lang.t("error-money"));
                    continue;
                }
            },
            Input::Number if prop["type"] == "integer" => match raw.parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) => {
                    errors.insert(name.clone(), lang.t("error-integer"));
                    continue;
                }
            },
            Input::Number => match raw.parse::<f64>().ok().and_then(Number::from_f64) {
                // Whole numbers stay integers (`30`, not `30.0`).
                Some(n) => match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => Value::from(f as i64),
                    _ => Value::Number(n),
                },
                None => {
                    errors.insert(name.clone(), lang.t("error-number"));
                    continue;
                }
            },
            Input::Choice | Input::Text | Input::Long => Value::from(raw),
        };
        if let Some(problem) = check(lang, prop, input, &value) {
            errors.insert(name.clone(), problem);
        }
        content.insert(key, value);
    }
    content
}

/// What is wrong with `value` by the property's bounds, length and choices.
fn check(lang: Lang, prop: &Value, input: Input, value: &Value) -> Option<String> {
    let shown = |v: &Value| {
        if input == Input::Money {
            v.as_i64().map(yuan).unwrap_or_default()
        } else {
            attr(v)
        }
    };
    if let Some(n) = value.as_f64() {
        if let Some(min) = prop["minimum"].as_f64().filter(|m| n < *m) {
            let _ = min;
            return Some(lang.t_with(
                "error-minimum",
                &[("min", FluentValue::from(shown(&prop["minimum"])))],
            ));
        }
        if prop["maximum"].as_f64().is_some_and(|m| n > m) {
            return Some(lang.t_with(
                "error-maximum",
                &[("max", FluentValue::from(shown(&prop["maximum"])))],
            ));
        }
    }
    if let Some(s) = value.as_str() {
        if let Some(choices) = prop["enum"].as_array() {
            if !choices.iter().any(|c| c.as_str() == Some(s)) {
                return Some(lang.t("error-choice"));
            }
        }
        let len = s.chars().count() as u64;
        if prop["minLength"].as_u64().is_some_and(|m| len < m) {
            return Some(lang.t("error-required"));
        }
        if let Some(max) = prop["maxLength"].as_u64().filter(|m| len > *m) {
            return Some(lang.t_with("error-too-long", &[("max", FluentValue::from(max))]));
        }
    }
    None
}

/// The core's form findings (`details.errors[].pointer`) by property name; findings about
/// the whole form (a missing property) under the property they name, if they name one.
pub(crate) fn core_errors(details: &Value, schema: &Value, lang: Lang) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let props = schema["properties"].as_object();
    for e in details["errors"].as_array().into_iter().flatten() {
        let pointer = e["pointer"].as_str().unwrap_or_default();
        let message = e["message"].as_str().unwrap_or_default();
        let name = Some(pointer.trim_start_matches('/').replace('/', "."))
            .filter(|n| !n.is_empty())
            .or_else(|| {
                props.and_then(|p| {
                    p.keys()
                        .find(|k| message.contains(&format!("\"{k}\"")))
                        .cloned()
                })
            })
            .unwrap_or_default();
        out.entry(name)
            .or_insert_with(|| format!("{} ({message})", lang.t("error-core")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "required": ["organisation", "share", "feeMinor"],
            "properties": {
                "organisation": { "type": "string", "minLength": 1 },
                "area": { "enum": ["arts_performance", "sports_events"] },
                "share": { "type": "number", "minimum": 20, "maximum": 100 },
                "feeMinor": { "type": "integer", "minimum": 1 }
            }
        })
    }

    #[test]
    fn money_is_entered_in_yuan_and_kept_in_fen_exactly() {
        assert_eq!(fen("1234.56"), Some(123_456));
        assert_eq!(fen("0.1"), Some(10));
        assert_eq!(fen("12"), Some(1200));
        assert_eq!(fen("1,000.05"), Some(100_005));
        assert_eq!(fen("1.234"), None);
        assert_eq!(fen("abc"), None);
        assert_eq!(fen("."), None);
        assert_eq!(yuan(123_456), "1234.56");
        assert_eq!(yuan(5), "0.05");
    }

    #[test]
    fn a_posted_form_becomes_content_with_errors_next_to_fields() {
        let posted: HashMap<String, String> = [
            ("organisation", "Arts Troupe <script>"),
            ("area", "arts_performance"),
            ("share", "15"),
            ("feeMinor", "88.50"),
            ("unknown", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let (content, errors) = parse(Lang::En, &schema(), &posted);
        assert_eq!(content["feeMinor"], json!(8850));
        assert_eq!(content["share"], json!(15));
        assert!(!content.contains_key("unknown"));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors["share"].contains("20"), "{errors:?}");
        let (_, errors) = parse(Lang::Zh, &schema(), &HashMap::new());
        assert_eq!(
            errors.keys().collect::<Vec<_>>(),
            ["feeMinor", "organisation", "share"]
        );
    }

    #[test]
    fn fields_carry_the_schema_as_attributes() {
        let f = fields(Lang::En, &schema(), &Map::new(), &BTreeMap::new());
        let share = f.iter().find(|f| f.name == "share").expect("share");
        assert_eq!((share.min.as_str(), share.max.as_str()), ("20", "100"));
        assert!(share.required);
        let fee = f.iter().find(|f| f.name == "feeMinor").expect("fee");
        assert_eq!(
            (fee.input, fee.min.as_str(), fee.step.as_str()),
            (Input::Money, "0.01", "0.01")
        );
        let area = f.iter().find(|f| f.name == "area").expect("area");
        assert_eq!(area.input, Input::Choice);
        assert_eq!(area.choices.len(), 2);
        assert!(!area.choices[0].1.contains('_'), "{:?}", area.choices);
    }
}
