//! The OpenAPI 3.1 document, built with utoipa's typed model from the same table that builds
//! the router (so the two cannot drift apart): every request body, answer, query parameter
//! and header has the schema of the Rust type that reads or writes it (`ToSchema` and
//! `IntoParams` derives), and each operation lists only the statuses it can answer.

use std::borrow::Cow;
use tenderflow_core::Role;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::schema::{ComponentsBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref, RefOr, Required};
use utoipa::{IntoParams, ToSchema};

/// Schemas gathered for `components.schemas`.
pub type Schemas = Vec<(String, RefOr<Schema>)>;

/// Registers a type's schema (and those it refers to) and answers a reference to it.
pub type SchemaFn = fn(&mut Schemas) -> RefOr<Schema>;

/// Query parameters of an operation.
pub type ParamsFn = fn() -> Vec<Parameter>;

fn schema_of<T: ToSchema>(all: &mut Schemas) -> RefOr<Schema> {
    T::schemas(all);
    let name = T::name();
    if !all.iter().any(|(n, _)| *n == name) {
        all.push((name.to_string(), T::schema()));
    }
    RefOr::Ref(Ref::from_schema_name(name))
}

fn query_of<T: IntoParams>() -> Vec<Parameter> {
    T::into_params(|| Some(ParameterIn::Query))
}

/// What a successful answer carries.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// JSON of a type.
    Json(SchemaFn),
    /// Prometheus metrics (the OpenMetrics text format).
    Text,
    /// CSV (RFC 4180) with a header row (reports).
    Csv,
    /// A file's bytes, with its own media type (documents).
    File,
}

/// One documented operation (the route table fills in the path).
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
    /// The JSON body it reads.
    pub body: Option<SchemaFn>,
    /// Its query parameters.
    pub query: Option<ParamsFn>,
    /// Its success status and answer.
    pub ok: (u16, Answer),
    /// Whether it is a command on a tender: `Idempotency-Key` and `If-Match` headers, 409,
    /// 412 and 422 answers.
    pub command: bool,
    /// Whether the answer carries an `ETag` (a tender's view).
    pub etag: bool,
    /// Extra error statuses it can answer (e.g. 503 from `/ready`).
    pub errors: &'static [u16],
    /// Whether its body is a file's bytes (streamed; any media type) instead of JSON.
    pub file_body: bool,
}

impl Op {
    fn new(method: &'static str, summary: &'static str) -> Self {
        Self {
            method,
            path: "",
            summary,
            roles: &[],
            body: None,
            query: None,
            ok: (200, Answer::Text),
            command: false,
            etag: false,
            errors: &[],
            file_body: false,
        }
    }
    /// A GET.
    pub fn get(summary: &'static str) -> Self {
        Self::new("get", summary)
    }
    /// A POST.
    pub fn post(summary: &'static str) -> Self {
        Self::new("post", summary)
    }
    /// A PUT.
    pub fn put(summary: &'static str) -> Self {
        Self::new("put", summary)
    }
    /// A DELETE.
    pub fn delete(summary: &'static str) -> Self {
        Self::new("delete", summary)
    }
    /// Who may call it.
    pub fn roles(mut self, roles: &'static [Role]) -> Self {
        self.roles = roles;
        self
    }
    /// Its JSON body.
    pub fn body<T: ToSchema>(mut self) -> Self {
        self.body = Some(schema_of::<T>);
        self
    }
    /// Its query parameters.
    pub fn query<T: IntoParams>(mut self) -> Self {
        self.query = Some(query_of::<T>);
        self
    }
    /// 200 with JSON of `T`.
    pub fn ok<T: ToSchema>(mut self) -> Self {
        self.ok = (200, Answer::Json(schema_of::<T>));
        self
    }
    /// 201 with JSON of `T`.
    pub fn created<T: ToSchema>(mut self) -> Self {
        self.ok = (201, Answer::Json(schema_of::<T>));
        self
    }
    /// Its body is a file's bytes, its `Content-Type` the file's media type.
    pub fn file_body(mut self) -> Self {
        self.file_body = true;
        self
    }
    /// 200 with a file's bytes (`Content-Disposition`, `ETag`, ranges).
    pub fn file(mut self) -> Self {
        self.ok = (200, Answer::File);
        self.etag = true;
        self
    }
    /// 200 with CSV.
    pub fn csv(mut self) -> Self {
        self.ok = (200, Answer::Csv);
        self
    }
    /// A command on a tender (idempotency and preconditions).
    pub fn command(mut self) -> Self {
        self.command = true;
        self
    }
    /// The answer has an `ETag`.
    pub fn etag(mut self) -> Self {
        self.etag = true;
        self
    }
    /// Extra error statuses.
    pub fn errors(mut self, errors: &'static [u16]) -> Self {
        self.errors = errors;
        self
    }

    /// The error statuses it can answer, from what it takes.
    fn error_statuses(&self) -> Vec<u16> {
        let mut s = Vec::new();
        let has_path_id = self.path.contains('{');
        if self.query.is_some() || has_path_id || self.body.is_some() || self.file_body {
            s.push(400);
        }
        if !self.roles.is_empty() {
            s.extend([401, 403]);
        }
        if has_path_id {
            s.push(404);
        }
        if self.command {
            s.extend([409, 412]);
        }
        if self.body.is_some() {
            s.extend([413, 415]);
        }
        if self.command || self.body.is_some() || self.file_body {
            s.push(422);
        }
        if self.file_body {
            s.push(413);
        }
        if matches!(self.ok.1, Answer::File) {
            s.extend([206, 304, 416]);
        }
        s.extend(self.errors);
        s.sort_unstable();
        s.dedup();
        s
    }
}

/// The roles of an operation as prose.
fn roles(roles: &[Role]) -> String {
    if roles.is_empty() {
        return "anyone, without a token".to_owned();
    }
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn method(m: &str) -> HttpMethod {
    match m {
        "post" => HttpMethod::Post,
        "put" => HttpMethod::Put,
        "delete" => HttpMethod::Delete,
        _ => HttpMethod::Get,
    }
}

/// An optional request header of up to 128 characters.
fn header_param(name: &str, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(128)),
        ))
        .build()
}

/// A path parameter: an id (an outbox id is a number), with an example that exists in the
/// seed data where there is one.
fn path_param(path: &str, name: &str) -> Parameter {
    let example = if path.starts_with("/tenders/") {
        Some("T-1")
    } else if path.starts_with("/workflows/") {
        Some("partner-recruitment")
    } else if path.starts_with("/accounts/") {
        Some("org-1")
    } else if path.starts_with("/outbox/") {
        Some("1")
    } else {
        None
    };
    let schema = if path.starts_with("/outbox/") {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[0-9]{1,18}$"))
    } else {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(tenderflow_core::ids::ID_PATTERN))
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some("An id"))
        .schema(Some(schema))
        .example(example.map(serde_json::Value::from))
        .build()
}

/// A file's bytes as OpenAPI content (any bytes; the file's own media type at run time).
fn file_content() -> utoipa::openapi::content::Content {
    ContentBuilder::new()
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .content_media_type("application/octet-stream"),
        ))
        .build()
}

/// The document for `ops`.
pub fn document(ops: &[Op]) -> OpenApi {
    let mut schemas: Schemas = Vec::new();
    let problem = schema_of::<crate::error::Problem>(&mut schemas);
    let mut paths = PathsBuilder::new().build();
    for op in ops {
        let mut params: Vec<Parameter> = op
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| path_param(op.path, name))
            .collect();
        if let Some(query) = op.query {
            params.extend(query());
        }
        if op.command {
            params.push(header_param(
                "If-Match",
                "The ETag of GET /tenders/{id}: refused with 412 if the tender changed since",
            ));
            params.push(header_param(
                "Idempotency-Key",
                "1-64 ASCII characters; a repeat with the same request returns the first answer, with another request 422 idempotency_key_reused",
            ));
        }
        let mut ok = ResponseBuilder::new().description("OK");
        match op.ok.1 {
            Answer::Json(f) => {
                ok = ok.content(
                    "application/json",
                    ContentBuilder::new().schema(Some(f(&mut schemas))).build(),
                );
            }
            Answer::Csv => {
                ok = ok
                    .description("CSV (RFC 4180), a header row first")
                    .content(
                        "text/csv",
                        ContentBuilder::new()
                            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                            .build(),
                    );
            }
            Answer::Text => {
                ok = ok.content(
                    "application/openmetrics-text",
                    ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                        .build(),
                );
            }
            Answer::File => {
                ok = ok
                    .description("The file, with its media type; `Content-Disposition` names it (RFC 6266, UTF-8 names as `filename*`); `Range` requests answer 206")
                    .content(
                        "application/octet-stream",
                        file_content(),
                    );
            }
        }
        if op.etag {
            ok = ok.header(
                "ETag",
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::String))
                    .description(Some("The view's version, for If-Match"))
                    .build(),
            );
        }
        let mut responses = ResponsesBuilder::new().response(op.ok.0.to_string(), ok.build());
        for status in op.error_statuses() {
            if matches!(status, 206 | 304) {
                let mut r = ResponseBuilder::new().description(problem_text(status));
                if status == 206 {
                    r = r.content("application/octet-stream", file_content());
                }
                responses = responses.response(status.to_string(), r.build());
                continue;
            }
            let mut r = ResponseBuilder::new()
                .description(problem_text(status))
                .content(
                    "application/problem+json",
                    ContentBuilder::new().schema(Some(problem.clone())).build(),
                );
            if status == 401 {
                r = r.header(
                    "WWW-Authenticate",
                    HeaderBuilder::new()
                        .schema(ObjectBuilder::new().schema_type(Type::String))
                        .build(),
                );
            }
            responses = responses.response(status.to_string(), r.build());
        }
        let mut operation = OperationBuilder::new()
            .summary(Some(op.summary))
            .description(Some(format!("Roles: {}.", roles(op.roles))))
            .operation_id(Some(format!(
                "{}{}",
                op.method,
                op.path.replace(['/', '{', '}', '-'], "_")
            )))
            .parameters(Some(params))
            .responses(responses.build());
        if op.file_body {
            operation = operation.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .description(Some("The file's bytes; `Content-Type` is its media type"))
                    .content("application/octet-stream", file_content())
                    .build(),
            ));
        }
        if let Some(body) = op.body {
            operation = operation.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(body(&mut schemas)))
                            .build(),
                    )
                    .build(),
            ));
        }
        if !op.roles.is_empty() {
            operation = operation.securities(Some([SecurityRequirement::new(
                "bearer",
                Vec::<String>::new(),
            )]));
        }
        paths.add_path_operation(op.path, vec![method(op.method)], operation.build());
    }
    let mut components = ComponentsBuilder::new().security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    for (name, schema) in schemas {
        components = components.schema(name, schema);
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Tenderflow API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Open procurement and partner recruitment. Commands are one tagged union (`command`) with a schema per command; business refusals are 422 (403 for a wrong role) with the core's stable code in an RFC 9457 problem.",
                ))
                .build(),
        )
        .paths(paths)
        .components(Some(components.build()))
        .build()
}

fn problem_text(status: u16) -> Cow<'static, str> {
    Cow::Borrowed(match status {
        400 => "A malformed id, query or body (`invalid_*`)",
        401 => "No valid token",
        403 => "The caller's role may not do this",
        206 => "Part of the file (`Range`), with `Content-Range`",
        304 => "Not modified (`If-None-Match` matched the `ETag`)",
        404 => "No such tender, account or record",
        409 => "A concurrent change won; retry",
        412 => "If-Match did not match the tender's ETag",
        413 => "The body is too large",
        415 => "The body is not `application/json`",
        416 => "The `Range` lies outside the file",
        422 => "Refused by a rule of the procedure (the core's stable code)",
        503 => "Not ready",
        _ => "An error",
    })
}
