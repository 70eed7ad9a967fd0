//! The OpenAPI 3.1 document, built from the same table that builds the router, so the two
//! cannot drift apart.

use serde_json::{Map, Value, json};
use tenderflow_core::Role;

/// One documented operation.
#[derive(Debug, Clone)]
pub struct Op {
    /// HTTP method, lower case.
    pub method: &'static str,
    /// Path in OpenAPI form (`/tenders/{id}`).
    pub path: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// Who may call it (nobody named: anyone, without a token).
    pub roles: &'static [Role],
    /// Whether it takes a JSON body.
    pub body: bool,
}

/// The roles of an operation as prose.
fn roles(roles: &[Role]) -> String {
    if roles.is_empty() {
        return "anyone".to_owned();
    }
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn document(ops: &[Op]) -> Value {
    let mut paths = Map::new();
    for op in ops {
        let entry = paths.entry(op.path.to_owned()).or_insert_with(|| json!({}));
        let params: Vec<Value> = op
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        let mut operation = json!({
            "summary": op.summary,
            "description": format!("Roles: {}.", roles(op.roles)),
            "operationId": format!("{}{}", op.method, op.path.replace(['/', '{', '}', '-'], "_")),
            "parameters": params,
            "responses": {
                "200": { "description": "OK", "content": { "application/json": { "schema": { "type": "object" } } } },
                "400": { "$ref": "#/components/responses/Error" },
                "401": { "$ref": "#/components/responses/Error" },
                "403": { "$ref": "#/components/responses/Error" },
                "404": { "$ref": "#/components/responses/Error" },
                "409": { "$ref": "#/components/responses/Error" },
                "413": { "$ref": "#/components/responses/Error" },
                "422": { "$ref": "#/components/responses/Error" }
            }
        });
        if op.body {
            operation["responses"]["412"] = json!({ "$ref": "#/components/responses/Error" });
            if let Some(p) = operation["parameters"].as_array_mut() {
                p.push(json!({ "name": "If-Match", "in": "header", "required": false,
                    "description": "The ETag of GET /tenders/{id}: refuse (412) if the tender changed since", "schema": { "type": "string" } }));
                p.push(json!({ "name": "Idempotency-Key", "in": "header", "required": false,
                    "description": "1-64 ASCII characters; a repeat with the same request returns the first answer, with another request 422 idempotency_key_reused", "schema": { "type": "string", "minLength": 1, "maxLength": 64 } }));
            }
            operation["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": { "type": "object" } } } });
        }
        if !op.roles.is_empty() {
            operation["security"] = json!([{ "bearer": [] }]);
        }
        entry[op.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Tenderflow API", "version": env!("CARGO_PKG_VERSION"),
                  "description": "Open procurement and partner recruitment. Commands are the core's command JSON (tag `command`); business refusals are 422 (403 for a wrong role) with the core's stable code." },
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "responses": { "Error": { "description": "A problem (RFC 9457) with the stable `code`", "content": { "application/problem+json": { "schema": {
                "type": "object", "required": ["type", "title", "status", "detail", "code"],
                "properties": { "type": { "type": "string" }, "title": { "type": "string" }, "status": { "type": "integer" },
                    "detail": { "type": "string" }, "code": { "type": "string" }, "details": {} } } } } } }
        }
    })
}
