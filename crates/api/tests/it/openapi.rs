//! The OpenAPI document is generated from the types: every body has a real schema, every
//! command its own, and each operation lists only the statuses it can answer.

use axum::http::Method;
use serde_json::Value;
use tenderflow_core::definition::CommandName;
use tenderflow_testkit::app::spawn_app;

/// Follows a `$ref` into `components.schemas`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// Whether a schema says no more than "an object".
fn only_object(s: &Value) -> bool {
    s.get("type") == Some(&Value::from("object"))
        && s.get("properties").is_none()
        && s.get("oneOf").is_none()
        && s.get("allOf").is_none()
        && s.get("description").is_none()
}

#[tokio::test]
async fn every_body_and_answer_has_a_schema_of_its_type() {
    let e = spawn_app(0).await;
    let (_, doc) = e.call(None, Method::GET, "/openapi.json", None).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let mut bodies = 0;
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().expect("operations") {
            let what = format!("{method} {path}");
            if let Some(body) = op.get("requestBody") {
                // JSON, or a file's bytes for an upload.
                let content = &body["content"];
                let media = if content.get("application/octet-stream").is_some() {
                    "application/octet-stream"
                } else {
                    "application/json"
                };
                let s = resolve(&doc, &content[media]["schema"]);
                assert!(!s.is_null(), "{what}: request body without a schema");
                assert!(!only_object(s), "{what}: request body typed only as object");
                bodies += 1;
            }
            let responses = op["responses"].as_object().expect("responses");
            for (status, r) in responses {
                for (media, content) in r["content"].as_object().into_iter().flatten() {
                    let s = resolve(&doc, &content["schema"]);
                    assert!(!s.is_null(), "{what} {status} {media}: no schema");
                    assert!(!only_object(s), "{what} {status}: typed only as object");
                }
            }
            // Only what the operation can answer: no auth errors where no token is needed.
            if op.get("security").is_none() {
                assert!(!responses.contains_key("401"), "{what} documents 401");
            }
        }
    }
    assert!(bodies >= 10, "{bodies} request bodies");
    let health = &doc["paths"]["/health"]["get"]["responses"];
    assert_eq!(
        health
            .as_object()
            .map(|r| r.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["200".to_owned()])
    );
    let tender = &doc["paths"]["/tenders/{id}"]["get"]["responses"]["200"];
    assert!(tender["headers"]["ETag"].is_object(), "{tender}");
    let command = &doc["paths"]["/tenders/{id}/commands"]["post"];
    let names: Vec<&str> = command["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(names.contains(&"If-Match") && names.contains(&"Idempotency-Key"));
    assert!(command["responses"]["412"].is_object());
}

#[tokio::test]
async fn the_command_union_has_a_schema_per_command() {
    let e = spawn_app(0).await;
    let (_, doc) = e.call(None, Method::GET, "/openapi.json", None).await;
    let body = &doc["paths"]["/tenders/{id}/commands"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"];
    let union = resolve(&doc, body);
    let variants = union["oneOf"].as_array().expect("oneOf");
    for name in CommandName::ALL {
        let v = variants
            .iter()
            .find(|v| v["properties"]["command"]["enum"][0] == name.as_str())
            .unwrap_or_else(|| panic!("no schema for `{}`", name.as_str()));
        assert_eq!(v["required"][0], "command");
        assert_eq!(v["additionalProperties"], false, "{}", name.as_str());
    }
    let amend = variants
        .iter()
        .find(|v| v["properties"]["command"]["enum"][0] == "amend")
        .expect("amend");
    for field in ["text", "affectsBids", "newDeadline"] {
        assert!(amend["properties"][field].is_object(), "amend.{field}");
    }
    assert!(
        amend["properties"]["newDeadline"]
            .to_string()
            .contains("schemas/Timestamp")
    );
    assert_eq!(
        doc["components"]["schemas"]["Timestamp"]["format"],
        "date-time"
    );
}

/// The name of a schema (its `$ref`'s last part), or its type.
fn type_name(s: &Value) -> String {
    if let Some(r) = s["$ref"].as_str() {
        return format!("`{}`", r.rsplit('/').next().unwrap_or(r));
    }
    if let Some(one) = s["oneOf"].as_array() {
        let parts: Vec<String> = one.iter().map(type_name).collect();
        return parts.join(" or ");
    }
    match (&s["type"], &s["items"]) {
        (Value::String(t), items) if t == "array" => format!("array of {}", type_name(items)),
        (Value::String(t), _) => t.clone(),
        (Value::Array(ts), _) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "any".to_owned(),
    }
}

/// docs/API.md as the document says it.
fn markdown(doc: &Value) -> String {
    let mut out = String::from(
        "# The HTTP API\n\n\
         Generated from the OpenAPI 3.1 document the server answers at `GET /openapi.json`\n\
         (`crates/api/tests/it/openapi.rs` checks this file against it; regenerate with\n\
         `TENDERFLOW_UPDATE_DOCS=1 cargo test -p tenderflow-api --test it openapi`).\n\n\
         Send `Authorization: Bearer <token>` (tokens come from `tenderflow account create` or\n\
         `POST /accounts`). JSON fields are camelCase. Errors are RFC 9457 problems\n\
         (`application/problem+json`) with a stable `code`; a business refusal is 422 (403 for a\n\
         wrong role). Commands take `Idempotency-Key` (a repeat answers the first result) and\n\
         `If-Match` (the `ETag` of `GET /tenders/{id}`; 412 if the tender changed). Lists are\n\
         paginated with `after`/`limit` and answer `next`.\n\n## Operations\n\n\
         | Method | Path | Who | What | Body | Answer |\n|---|---|---|---|---|---|\n",
    );
    for (path, ops) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in ops.as_object().into_iter().flatten() {
            let who = op["description"]
                .as_str()
                .unwrap_or_default()
                .trim_start_matches("Roles: ")
                .trim_end_matches('.');
            let body = op["requestBody"]["content"]["application/json"]["schema"].clone();
            let body = if body.is_null() {
                "—".to_owned()
            } else {
                type_name(&body)
            };
            let (status, answer) = op["responses"]
                .as_object()
                .and_then(|r| r.iter().next())
                .map(|(s, r)| {
                    let content = r["content"].as_object().and_then(|c| c.values().next());
                    let t = content.map_or("—".to_owned(), |c| type_name(&c["schema"]));
                    (s.clone(), t)
                })
                .unwrap_or_default();
            out += &format!(
                "| {} | `{path}` | {who} | {} | {body} | {status} {answer} |\n",
                method.to_uppercase(),
                op["summary"].as_str().unwrap_or_default().replace('|', "/"),
            );
        }
    }
    out += "\n## Commands\n\n`POST /tenders/{id}/commands` takes any command: its name in `command`, its \
            payload's fields beside it. Unknown fields are refused.\n";
    let union = &doc["components"]["schemas"]["Command"]["oneOf"];
    for v in union.as_array().into_iter().flatten() {
        let name = v["title"].as_str().unwrap_or_default();
        out += &format!(
            "\n### `{name}`\n\n{}\n",
            v["description"].as_str().unwrap_or_default()
        );
        if let Some(e) = v["examples"].get(0) {
            out += &format!("\nExample (the seed case): `{e}`\n");
        }
        let required: Vec<&str> = v["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let fields: Vec<(&String, &Value)> = v["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| *k != "command")
            .collect();
        if fields.is_empty() {
            continue;
        }
        out += "\n| Field | Type | Required | Meaning |\n|---|---|---|---|\n";
        for (field, s) in fields {
            let meaning = s["description"]
                .as_str()
                .or_else(|| {
                    s["oneOf"]
                        .as_array()
                        .and_then(|o| o.iter().find_map(|x| x["description"].as_str()))
                })
                .unwrap_or_default();
            out += &format!(
                "| `{field}` | {} | {} | {} |\n",
                type_name(s),
                if required.contains(&field.as_str()) {
                    "yes"
                } else {
                    "no"
                },
                meaning.replace('\n', " ")
            );
        }
    }
    out
}

#[tokio::test]
async fn docs_api_md_is_the_document() {
    let e = spawn_app(0).await;
    let (_, doc) = e.call(None, Method::GET, "/openapi.json", None).await;
    let want = markdown(&doc);
    let path = tenderflow_testkit::repo_root().join("docs/API.md");
    if std::env::var_os("TENDERFLOW_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).expect("write docs/API.md");
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/API.md is not what /openapi.json says; regenerate it with \
         TENDERFLOW_UPDATE_DOCS=1 cargo test -p tenderflow-api --test it openapi"
    );
}
