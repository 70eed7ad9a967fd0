//! Routes and handlers.

use crate::accounts::{
    create_account, disable_account, enable_account, issue_token, list_accounts, list_tokens,
    revoke_token, rotate_token, set_email,
};
use crate::error::ApiError;
use crate::extract::{Body, Caller, Id, Params, R, check_id, lot, page_size, require};
use crate::openapi::{Op, document};
use crate::ops::{count_requests, health, metrics, ready, request_id_in_problems, version};
use crate::{AppState, MAX_BODY};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{MethodRouter, get};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use tenderflow_core::{CommandBody, EventBody, Tender, Timestamp, Workflow};
use tenderflow_store::{Executed, OutboxStatus};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

struct Table {
    router: Router<AppState>,
    ops: Vec<Op>,
}

impl Table {
    fn add(
        mut self,
        path: &'static str,
        ops: &[(&'static str, &'static str, &'static str, bool)],
        route: MethodRouter<AppState>,
    ) -> Self {
        let axum_path = path;
        self.router = self.router.route(axum_path, route);
        for (method, summary, roles, body) in ops {
            self.ops.push(Op {
                method,
                path,
                summary,
                roles,
                body: *body,
            });
        }
        self
    }
}

/// The router with every route, the OpenAPI document at `/openapi.json`, and JSON errors for
/// unknown routes.
pub fn app(state: AppState) -> Router {
    use axum::routing::{delete, post, put};
    const ALL: &str = "staff, bidder, evaluator, inspector, admin";
    let t = Table {
        router: Router::new(),
        ops: Vec::new(),
    }
    .add(
        "/health",
        &[("get", "Liveness", "anyone", false)],
        get(health),
    )
    .add(
        "/ready",
        &[(
            "get",
            "Readiness: the database answers, the schema is current and the master key is the database's",
            "anyone",
            false,
        )],
        get(ready),
    )
    .add(
        "/metrics",
        &[("get", "Prometheus metrics: requests, commands, outbox depth, dead letters, stuck timers, timer lag", "anyone", false)],
        get(metrics),
    )
    .add(
        "/version",
        &[("get", "The server's version", "anyone", false)],
        get(version),
    )
    .add(
        "/accounts",
        &[
            ("get", "List accounts", "admin", false),
            ("post", "Create an account; answers its first token (shown once)", "admin", true),
        ],
        get(list_accounts).post(create_account),
    )
    .add(
        "/accounts/{id}/disable",
        &[("post", "Disable an account (its tokens stop working at once)", "admin", false)],
        post(disable_account),
    )
    .add(
        "/accounts/{id}/enable",
        &[("post", "Enable a disabled account", "admin", false)],
        post(enable_account),
    )
    .add(
        "/accounts/{id}/email",
        &[("put", "Change (or with null remove) an account's email", "admin", true)],
        put(set_email),
    )
    .add(
        "/accounts/{id}/tokens",
        &[
            ("get", "An account's tokens (never the tokens themselves)", "admin", false),
            ("post", "Issue another token (label, expiresDays); shown once", "admin", true),
        ],
        get(list_tokens).post(issue_token),
    )
    .add(
        "/tokens/{id}/revoke",
        &[("post", "Revoke a token; it stops working at once", "admin", false)],
        post(revoke_token),
    )
    .add(
        "/tokens/{id}/rotate",
        &[("post", "Replace a token by a new one and revoke it", "admin", false)],
        post(rotate_token),
    )
    .add(
        "/me",
        &[("get", "The caller's account", ALL, false)],
        get(me),
    )
    .add(
        "/workflows",
        &[
            ("get", "List registered workflow definitions", ALL, false),
            (
                "post",
                "Register a definition version (an admin act, recorded with who did it; a version weaker than the one it replaces is flagged to inspectors)",
                "admin",
                true,
            ),
        ],
        get(list_workflows).post(register_workflow),
    )
    .add(
        "/workflows/{id}",
        &[("get", "A definition by id or SHA-256", ALL, false)],
        get(get_workflow),
    )
    .add(
        "/tenders",
        &[
            ("get", "List tenders (`?state=`)", ALL, false),
            ("post", "Create a tender from a definition", "staff", true),
        ],
        get(list_tenders).post(create_tender),
    )
    .add(
        "/tenders/{id}",
        &[("get", "A tender as the caller may see it", ALL, false)],
        get(get_tender),
    )
    .add(
        "/tenders/{id}/events",
        &[(
            "get",
            "The audit trail (sealed bids stay sealed)",
            "staff, inspector, admin",
            false,
        )],
        get(events),
    )
    .add(
        "/tenders/{id}/timeline",
        &[("get", "What happened when", ALL, false)],
        get(timeline),
    )
    .add(
        "/tenders/{id}/commands",
        &[(
            "post",
            "Any command of the core (publish, amend, open_bids, …)",
            ALL,
            true,
        )],
        post(command),
    )
    .add(
        "/tenders/{id}/bids",
        &[
            ("post", "Submit a sealed bid", "bidder", true),
            ("put", "Replace one's bid", "bidder", true),
            ("delete", "Withdraw one's bid (`?lot=`)", "bidder", false),
        ],
        post(submit_bid)
            .merge(put(replace_bid))
            .merge(delete(withdraw_bid)),
    )
    .add(
        "/tenders/{id}/bids/receipt",
        &[("get", "The caller's bid receipts", "bidder", false)],
        get(receipts),
    )
    .add(
        "/tenders/{id}/scores",
        &[("post", "Submit a score sheet", "evaluator", true)],
        post(scores),
    )
    .add(
        "/tenders/{id}/signoffs",
        &[("post", "Sign off a gate", "inspector", true)],
        post(signoff),
    )
    .add(
        "/tenders/{id}/observations",
        &[("post", "Record an observation", "inspector", true)],
        post(observation),
    )
    .add(
        "/tenders/{id}/irregularities",
        &[("post", "Raise an irregularity (halts)", "inspector", true)],
        post(irregularity),
    )
    .add(
        "/tenders/{id}/objections",
        &[("post", "Raise an objection", "bidder", true)],
        post(objection),
    )
    .add(
        "/tenders/{id}/opening-record",
        &[("get", "The opening record", ALL, false)],
        get(opening_record),
    )
    .add(
        "/tenders/{id}/records",
        &[("get", "The records: receipt log, opening record, objections, evaluation report, publicity notice, supervision record", "staff, inspector, admin", false)],
        get(records),
    )
    .add(
        "/tenders/{id}/report",
        &[(
            "get",
            "The evaluation report, as the caller may see it",
            ALL,
            false,
        )],
        get(report),
    )
    .add(
        "/outbox",
        &[(
            "get",
            "Outbox messages (`?status=dead`)",
            "staff, admin",
            false,
        )],
        get(outbox),
    )
    .add(
        "/outbox/{id}/resend",
        &[("post", "Queue a dead letter again", "staff, admin", false)],
        post(resend),
    )
    .add(
        "/admin/timers/stuck",
        &[(
            "get",
            "Deadlines that failed to fire (isolated, retried with backoff)",
            "inspector, admin",
            false,
        )],
        get(stuck_timers),
    )
    .add(
        "/audit/verify",
        &[(
            "get",
            "Verify hash chains (`?tender=`)",
            "staff, inspector, admin",
            false,
        )],
        get(audit),
    )
    .add(
        "/ocds/releases",
        &[(
            "get",
            "OCDS release package of every public event (`?page=&per_page=`); public",
            "anyone",
            false,
        )],
        get(ocds_releases),
    )
    .add(
        "/ocds/records/{ocid}",
        &[(
            "get",
            "OCDS record with its compiled release; public",
            "anyone",
            false,
        )],
        get(ocds_record),
    )
    .add(
        "/admin/clock",
        &[(
            "post",
            "Set the manual clock (servers started with --manual-clock)",
            "admin",
            true,
        )],
        post(set_clock),
    );
    let mut ops = t.ops;
    ops.push(Op {
        method: "get",
        path: "/openapi.json",
        summary: "This document",
        roles: "anyone",
        body: false,
    });
    let doc = Arc::new(document(&ops));
    t.router
        .route(
            "/openapi.json",
            get(move || async move { Json((*doc).clone()) }),
        )
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no_route",
                "no such route; see /openapi.json",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(request_id_in_problems))
        .layer(axum::middleware::from_fn_with_state(state.clone(), count_requests))
        // The access log: a span per request with its method, path and request id (taken
        // from `x-request-id` or made up), a line per response with status and latency, and
        // the id echoed in the response's `x-request-id`.
        .layer(
            tower::ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|req: &Request| {
                            let id = req
                                .headers()
                                .get("x-request-id")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("-");
                            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                        })
                        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::x_request_id()),
        )
        .with_state(state)
}

async fn me(caller: Caller) -> Json<Value> {
    Json(
        json!({ "id": caller.account.id, "role": caller.account.role, "name": caller.account.display_name, "locale": caller.account.locale }),
    )
}

async fn list_workflows(State(s): State<AppState>, _caller: Caller) -> R<Json<Value>> {
    Ok(Json(json!({ "workflows": s.store.workflows().await? })))
}

async fn register_workflow(
    State(s): State<AppState>,
    caller: Caller,
    Body(def): Body<Value>,
) -> R<(StatusCode, Json<Value>)> {
    require(&caller, &["admin"])?;
    let bytes = serde_json::to_vec_pretty(&def)
        .map_err(|e| ApiError::bad_request("invalid_body", e.to_string()))?;
    let name = format!(
        "{}.json",
        def.get("id")
            .and_then(Value::as_str)
            .unwrap_or("definition")
    );
    let rec = s
        .store
        .register_workflow_by(&name, &bytes, Some(caller.actor.id.as_str()))
        .await?;
    Ok((StatusCode::CREATED, Json(json!(rec))))
}

async fn get_workflow(State(s): State<AppState>, _caller: Caller, Id(id): Id) -> R<Json<Value>> {
    let wf = s.store.workflow(&id).await?;
    Ok(Json(
        json!({ "sha256": wf.sha256(), "definition": wf.definition() }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateTender {
    workflow: String,
    tender_id: String,
}

fn command_id(caller: &Caller, headers: &HeaderMap) -> R<String> {
    match headers.get("idempotency-key") {
        Some(v) => {
            let key = v.to_str().map_err(|_| {
                ApiError::bad_request("invalid_idempotency_key", "Idempotency-Key must be ASCII")
            })?;
            if key.is_empty() || key.len() > 64 {
                return Err(ApiError::bad_request(
                    "invalid_idempotency_key",
                    "Idempotency-Key must be 1–64 characters",
                ));
            }
            // The account id's length first: `a:b` + `c` and `a` + `b:c` never meet.
            let account = caller.actor.id.as_str();
            Ok(format!("key:{}:{account}:{key}", account.len()))
        }
        None => Ok(uuid::Uuid::new_v4().to_string()),
    }
}

/// What a command id (Idempotency-Key) is bound to: the tender and the command with its
/// whole body (the command names the endpoint and method: a POST and a PUT of a bid are
/// `submit_bid` and `replace_bid`). Reusing the key for anything else is refused.
fn fingerprint(tender_id: &str, body: &impl serde::Serialize) -> String {
    tenderflow_core::canonical::sha256_hex(&json!({ "tender": tender_id, "command": body }))
}

/// A command's answer. A bidder gets no sequence numbers: they would tell how many events
/// (bids) came before its own.
fn executed(e: &Executed, caller: &Caller) -> Value {
    let seqs = caller.account.role != "bidder";
    let events: Vec<Value> = e
        .events
        .iter()
        .map(|(seq, ev)| json!({ "seq": seqs.then_some(*seq), "type": ev.body.name().map_or("state_entered", |n| n.as_str()), "at": ev.at }))
        .collect();
    json!({ "tender": e.tender_id, "state": e.state, "repeated": e.repeated, "events": events })
}

async fn create_tender(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Body(b): Body<CreateTender>,
) -> R<(StatusCode, Json<Value>)> {
    check_id("tender_id", &b.tender_id)?;
    check_id("workflow", &b.workflow)?;
    let cmd = tenderflow_core::Command {
        actor: caller.actor.clone(),
        body: CommandBody::CreateDraft {
            tender_id: b.tender_id.clone(),
        },
    };
    let wf = s.store.workflow_exact(&b.workflow).await?;
    let request = tenderflow_store::Request {
        tender_id: b.tender_id.clone(),
        create: Some(wf.sha256().to_owned()),
        command_id: command_id(&caller, &headers)?,
        fingerprint: Some(fingerprint(&b.tender_id, &cmd.body)),
        command: cmd,
        now: tenderflow_store::clock::Now::Clock(s.clock.clone()),
    };
    let done = s.store.execute_request(request).await?;
    Ok((StatusCode::CREATED, Json(executed(&done, &caller))))
}

/// Loads a tender the caller may read: evaluators only where they sit on the committee,
/// bidders only once it is published.
async fn readable(s: &AppState, caller: &Caller, id: &str) -> R<(Arc<Workflow>, Tender)> {
    let (wf, t) = s.store.load(id).await?;
    match caller.account.role.as_str() {
        "evaluator" if !t.committee.iter().any(|m| m.id == caller.actor.id) => Err(
            ApiError::forbidden("only members of this tender's committee may read it"),
        ),
        "bidder" if t.announcement.is_none() => {
            Err(ApiError::not_found(format!("no tender `{id}`")))
        }
        _ => Ok((wf, t)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Only tenders in this state.
    state: Option<String>,
    /// Only tenders of this definition id.
    workflow: Option<String>,
    /// Only tenders whose announcement title contains this text.
    q: Option<String>,
    /// Cursor: the last id of the previous page.
    after: Option<String>,
    /// Page size, 1–1000 (100).
    limit: Option<usize>,
}

async fn list_tenders(
    State(s): State<AppState>,
    caller: Caller,
    Params(q): Params<ListQuery>,
) -> R<Json<Value>> {
    let limit = page_size(q.limit)?;
    if let Some(a) = &q.after {
        check_id("after", a)?;
    }
    let mut out = Vec::new();
    let mut next = None;
    for row in s.store.tenders().await? {
        if q.after.as_ref().is_some_and(|a| row.tender_id <= *a)
            || q.state.as_ref().is_some_and(|st| *st != row.state)
        {
            continue;
        }
        if let Some(w) = &q.workflow {
            if s.store
                .workflow(&row.workflow_sha256)
                .await?
                .definition()
                .id
                != *w
            {
                continue;
            }
        }
        if let Some(text) = &q.q {
            let (_, t) = s.store.load(&row.tender_id).await?;
            let title = t
                .announcement
                .as_deref()
                .and_then(|a| a.get("title"))
                .map(Value::to_string)
                .unwrap_or_default();
            if !title.contains(text.as_str()) {
                continue;
            }
        }
        if out.len() == limit {
            next = out
                .last()
                .and_then(|v: &Value| v["id"].as_str().map(str::to_owned));
            break;
        }
        // Staff, inspectors and admins read every tender; only the others need a closer look.
        let unrestricted = matches!(
            caller.account.role.as_str(),
            "staff" | "inspector" | "admin"
        );
        if unrestricted {
            out.push(json!({ "id": row.tender_id, "state": row.state, "events": row.seq, "deadline": row.deadline_ms.and_then(Timestamp::from_unix_millis) }));
        } else if let Ok((_, t)) = readable(&s, &caller, &row.tender_id).await {
            // From the verified replay, like the detail: list and detail never disagree; the
            // event count only where it reveals nothing about other bids.
            let events =
                tenderflow_core::view::counts_visible(&t, &caller.account.role).then_some(t.seq);
            out.push(json!({ "id": row.tender_id, "state": t.state, "events": events, "deadline": t.deadline }));
        }
    }
    Ok(Json(json!({ "tenders": out, "next": next })))
}

/// The ETag of a view: a hash of exactly what the caller sees.
fn etag(view: &Value) -> String {
    format!(
        "\"{}\"",
        &tenderflow_core::canonical::sha256_hex(view)[..32]
    )
}

async fn get_tender(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> R<([(axum::http::HeaderName, String); 1], Json<Value>)> {
    let (wf, t) = readable(&s, &caller, &id).await?;
    let mut v = tenderflow_core::view(&wf, &t, &caller.actor);
    let tag = etag(&v);
    if matches!(
        caller.account.role.as_str(),
        "staff" | "inspector" | "admin"
    ) {
        v["obligations"] = json!(tenderflow_core::obligations::obligations(
            &wf,
            &t,
            s.clock.now()
        ));
    }
    Ok(([(axum::http::header::ETAG, tag)], Json(v)))
}

async fn events(State(s): State<AppState>, caller: Caller, Id(id): Id) -> R<Json<Value>> {
    require(&caller, &["staff", "inspector", "admin"])?;
    // Loading verifies the chain: a tampered record is refused, not served.
    let (_, t) = s.store.load(&id).await?;
    let rows = s.store.event_rows(&id).await?;
    if rows.is_empty() {
        return Err(ApiError::not_found(format!("no tender `{id}`")));
    }
    let events: Vec<Value> = rows
        .iter()
        .map(|r| {
            let payload: Value = if tenderflow_core::view::audit_payload_visible(&t, &r.kind) {
                serde_json::from_str(&r.payload).unwrap_or(Value::Null)
            } else {
                tenderflow_core::view::withheld_payload(&r.kind)
            };
            json!({ "seq": r.seq, "at": Timestamp::from_unix_millis(r.at_ms), "actor": { "id": r.actor_id, "role": r.actor_role },
                    "command": r.command_id, "payload": payload, "prevHash": r.prev_hash, "hash": r.hash })
        })
        .collect();
    Ok(Json(json!({ "tender": id, "events": events })))
}

async fn timeline(State(s): State<AppState>, caller: Caller, Id(id): Id) -> R<Json<Value>> {
    let (_, t) = readable(&s, &caller, &id).await?;
    let rows = s.store.event_rows(&id).await?;
    // Before opening, bidders do not learn how many bids the others have sent.
    let officials = matches!(
        caller.account.role.as_str(),
        "staff" | "inspector" | "admin" | "evaluator"
    );
    let counts = tenderflow_core::view::counts_visible(&t, &caller.account.role);
    let items: Vec<Value> = rows
        .iter()
        .filter(|r| officials || t.opened() || !r.kind.starts_with("bid_") || r.actor_id == caller.account.id)
        // Sequence numbers would show the gaps other bids leave: hidden until the opening.
        .map(|r| json!({ "seq": counts.then_some(r.seq), "at": Timestamp::from_unix_millis(r.at_ms), "type": r.kind, "actorRole": r.actor_role }))
        .collect();
    Ok(Json(json!({ "tender": id, "timeline": items })))
}

async fn run(
    s: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    id: &str,
    body: CommandBody,
) -> R<Executed> {
    if matches!(
        body,
        CommandBody::CreateDraft { .. } | CommandBody::AdvanceTime
    ) {
        return Err(ApiError::bad_request(
            "invalid_command",
            "create tenders with POST /tenders; timers fire by themselves",
        ));
    }
    // `If-Match: <ETag of GET /tenders/{id}>`: the client's view of the tender must be
    // current (optimistic concurrency for people acting from a stale page). The ETag hashes
    // the caller's own view, so it reveals nothing the view does not (a bidder's does not
    // move with other bids).
    if let Some(v) = headers.get(axum::http::header::IF_MATCH) {
        let wanted = v.to_str().map_err(|_| {
            ApiError::bad_request(
                "invalid_if_match",
                "If-Match is an ETag of GET /tenders/{id}",
            )
        })?;
        let (wf, t) = readable(s, caller, id).await?;
        let current = etag(&tenderflow_core::view(&wf, &t, &caller.actor));
        let matches = wanted.trim() == "*"
            || wanted
                .split(',')
                .any(|w| w.trim().trim_start_matches("W/") == current);
        if !matches {
            let mut e = ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition_failed",
                "the tender has changed since you loaded it; reload it and try again",
            );
            e.details = json!({ "current": current });
            return Err(e);
        }
    }
    let cmd = tenderflow_core::Command {
        actor: caller.actor.clone(),
        body,
    };
    let request = tenderflow_store::Request {
        tender_id: id.to_owned(),
        create: None,
        command_id: command_id(caller, headers)?,
        fingerprint: Some(fingerprint(id, &cmd.body)),
        command: cmd,
        // The time is read once the tender is locked, so racing commands are decided in
        // the order they commit.
        now: tenderflow_store::clock::Now::Clock(s.clock.clone()),
    };
    let kind = request
        .command
        .body
        .name()
        .map_or("advance_time", |n| n.as_str());
    let result = match &s.committer {
        Some(c) => c.execute(request).await,
        None => s.store.execute_request(request).await,
    };
    let outcome = match &result {
        Ok(_) => "ok".to_owned(),
        Err(tenderflow_store::StoreError::Rejected(r)) => r.code.as_str().to_owned(),
        Err(_) => "error".to_owned(),
    };
    s.metrics.command(kind, &outcome);
    Ok(result?)
}

async fn command(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Id(id): Id,
    Body(body): Body<CommandBody>,
) -> R<Json<Value>> {
    Ok(Json(executed(
        &run(&s, &caller, &headers, &id, body).await?,
        &caller,
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BidBody {
    #[serde(default)]
    lot: Option<String>,
    content: Value,
}

fn receipt(done: &Executed, caller: &Caller) -> Value {
    let mut out = executed(done, caller);
    for (_, ev) in &done.events {
        if let EventBody::BidSubmitted {
            key,
            receipt,
            commitment,
            ..
        }
        | EventBody::BidReplaced {
            key,
            receipt,
            commitment,
            ..
        } = &ev.body
        {
            // The code, not the number: before opening the number would tell a bidder how
            // many bids came before.
            let _ = receipt;
            out["receipt"] = json!({ "code": key.receipt_code(&done.tender_id, commitment), "lot": &*key.lot, "commitment": commitment, "receivedAt": ev.at });
        }
    }
    out
}

async fn submit_bid(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Id(id): Id,
    Body(b): Body<BidBody>,
) -> R<(StatusCode, Json<Value>)> {
    let done = run(
        &s,
        &caller,
        &headers,
        &id,
        CommandBody::SubmitBid {
            lot: lot(b.lot)?,
            content: b.content.into(),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(receipt(&done, &caller))))
}

async fn replace_bid(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Id(id): Id,
    Body(b): Body<BidBody>,
) -> R<Json<Value>> {
    let done = run(
        &s,
        &caller,
        &headers,
        &id,
        CommandBody::ReplaceBid {
            lot: lot(b.lot)?,
            content: b.content.into(),
        },
    )
    .await?;
    Ok(Json(receipt(&done, &caller)))
}

async fn withdraw_bid(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Id(id): Id,
    Params(q): Params<LotQuery>,
) -> R<Json<Value>> {
    let done = run(
        &s,
        &caller,
        &headers,
        &id,
        CommandBody::WithdrawBid { lot: lot(q.lot)? },
    )
    .await?;
    Ok(Json(executed(&done, &caller)))
}

async fn receipts(State(s): State<AppState>, caller: Caller, Id(id): Id) -> R<Json<Value>> {
    require(&caller, &["bidder"])?;
    let (_, t) = readable(&s, &caller, &id).await?;
    let own: Vec<Value> = t
        .bids
        .iter()
        .filter(|(k, _)| k.bidder == caller.actor.id)
        .map(|(k, b)| json!({ "lot": &*k.lot, "code": k.receipt_code(&t.id, &b.commitment), "number": t.opened().then_some(b.receipt), "commitment": b.commitment, "receivedAt": b.received_at }))
        .collect();
    Ok(Json(json!({ "tender": id, "receipts": own })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoreBody {
    #[serde(default)]
    lot: Option<String>,
    bidder: String,
    sheet: Value,
}

async fn scores(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Id(id): Id,
    Body(b): Body<ScoreBody>,
) -> R<Json<Value>> {
    let bidder = tenderflow_core::ActorId::parse(&b.bidder)
        .ok_or_else(|| ApiError::bad_request("invalid_body", "bidder: not a valid id"))?;
    let done = run(
        &s,
        &caller,
        &headers,
        &id,
        CommandBody::SubmitScores {
            lot: lot(b.lot)?,
            bidder,
            sheet: b.sheet.into(),
        },
    )
    .await?;
    Ok(Json(executed(&done, &caller)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignBody {
    gate: String,
    content: Value,
}

async fn signoff(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Id(id): Id,
    Body(b): Body<SignBody>,
) -> R<Json<Value>> {
    let done = run(
        &s,
        &caller,
        &headers,
        &id,
        CommandBody::SignOff {
            gate: b.gate,
            content: b.content.into(),
        },
    )
    .await?;
    Ok(Json(executed(&done, &caller)))
}

async fn observation(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Id(id): Id,
    Body(content): Body<Value>,
) -> R<Json<Value>> {
    let body = CommandBody::RecordObservation {
        content: content.into(),
    };
    Ok(Json(executed(
        &run(&s, &caller, &headers, &id, body).await?,
        &caller,
    )))
}

async fn irregularity(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Id(id): Id,
    Body(content): Body<Value>,
) -> R<Json<Value>> {
    let body = CommandBody::RaiseIrregularity {
        content: content.into(),
    };
    Ok(Json(executed(
        &run(&s, &caller, &headers, &id, body).await?,
        &caller,
    )))
}

async fn objection(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Id(id): Id,
    Body(content): Body<Value>,
) -> R<Json<Value>> {
    let body = CommandBody::RaiseObjection {
        content: content.into(),
    };
    Ok(Json(executed(
        &run(&s, &caller, &headers, &id, body).await?,
        &caller,
    )))
}

async fn opening_record(State(s): State<AppState>, caller: Caller, Id(id): Id) -> R<Json<Value>> {
    let (_, t) = readable(&s, &caller, &id).await?;
    let record = t.opening.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "not_opened",
            "the bids have not been opened",
        )
    })?;
    Ok(Json(json!(record)))
}

async fn report(State(s): State<AppState>, caller: Caller, Id(id): Id) -> R<Json<Value>> {
    let (wf, t) = readable(&s, &caller, &id).await?;
    let view = tenderflow_core::view(&wf, &t, &caller.actor);
    match view.get("report") {
        Some(r) if !r.is_null() => Ok(Json(r.clone())),
        _ => Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_final",
            "the evaluation report is not final or not yet visible to you",
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LotQuery {
    lot: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutboxQuery {
    status: Option<String>,
    /// Cursor: the last id of the previous page.
    after: Option<i64>,
    limit: Option<usize>,
}

async fn outbox(
    State(s): State<AppState>,
    caller: Caller,
    Params(q): Params<OutboxQuery>,
) -> R<Json<Value>> {
    require(&caller, &["staff", "admin"])?;
    let status = match q.status.as_deref().map(str::parse::<OutboxStatus>) {
        None => None,
        Some(Ok(st)) => Some(st),
        Some(Err(_)) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                "status is pending, sent or dead",
            ));
        }
    };
    let limit = page_size(q.limit)?;
    let mut messages: Vec<_> = s
        .store
        .outbox(status)
        .await?
        .into_iter()
        .filter(|m| q.after.is_none_or(|a| m.id > a))
        .collect();
    let next = (messages.len() > limit).then(|| messages[limit - 1].id);
    messages.truncate(limit);
    Ok(Json(json!({ "messages": messages, "next": next })))
}

async fn resend(State(s): State<AppState>, caller: Caller, Id(id): Id) -> R<Json<Value>> {
    require(&caller, &["staff", "admin"])?;
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::bad_request("invalid_path", "the outbox id is a number"))?;
    if s.store.resend(id).await? {
        Ok(Json(json!({ "id": id, "status": "pending" })))
    } else {
        Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_dead",
            format!("message {id} is not a dead letter"),
        ))
    }
}

async fn stuck_timers(State(s): State<AppState>, caller: Caller) -> R<Json<Value>> {
    require(&caller, &["inspector", "admin"])?;
    Ok(Json(json!({ "timers": s.store.stuck_timers().await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    tender: Option<String>,
}

async fn audit(
    State(s): State<AppState>,
    caller: Caller,
    Params(q): Params<AuditQuery>,
) -> R<Json<Value>> {
    require(&caller, &["staff", "inspector", "admin"])?;
    if let Some(t) = &q.tender {
        check_id("tender", t)?;
    }
    let reports = s.store.verify(q.tender.as_deref()).await?;
    let intact = reports.iter().all(|r| r.problem.is_none());
    Ok(Json(json!({ "intact": intact, "tenders": reports })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockBody {
    now: Timestamp,
}

async fn set_clock(
    State(s): State<AppState>,
    caller: Caller,
    Body(b): Body<ClockBody>,
) -> R<Json<Value>> {
    require(&caller, &["admin"])?;
    let clock = s.manual_clock.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "system_clock",
            "this server runs on the system clock",
        )
    })?;
    let now = clock.set(b.now);
    // Deadlines that passed with the jump fire now, to the second of the new time.
    let fired = s.store.fire_due_timers(now, "clock").await?;
    Ok(Json(json!({ "now": now, "timersFired": fired.len() })))
}

async fn all_releases(s: &AppState) -> R<Vec<Value>> {
    let mut out = Vec::new();
    for row in s.store.tenders().await? {
        out.extend(s.store.ocds_releases(&row.tender_id, &s.ocds).await?);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    page: Option<usize>,
    per_page: Option<usize>,
}

async fn ocds_releases(State(s): State<AppState>, Params(q): Params<PageQuery>) -> R<Json<Value>> {
    let page = q.page.unwrap_or(1);
    let per = q.per_page.unwrap_or(100);
    if page == 0 || per == 0 || per > 1000 {
        return Err(ApiError::bad_request(
            "invalid_query",
            "page ≥ 1 and 1 ≤ per_page ≤ 1000",
        ));
    }
    let mut releases = all_releases(&s).await?;
    releases.sort_by(|a, b| {
        a["date"]
            .as_str()
            .cmp(&b["date"].as_str())
            .then(a["id"].as_str().cmp(&b["id"].as_str()))
    });
    let total = releases.len();
    let slice: Vec<Value> = releases
        .into_iter()
        .skip((page - 1) * per)
        .take(per)
        .collect();
    let mut pkg = tenderflow_core::ocds::package(slice, &s.ocds, s.clock.now());
    pkg["links"] = json!({ "next": if page * per < total { Some(format!("/ocds/releases?page={}&per_page={per}", page + 1)) } else { None } });
    Ok(Json(pkg))
}

async fn ocds_record(State(s): State<AppState>, Id(ocid): Id) -> R<Json<Value>> {
    let prefix = format!("{}-", s.ocds.ocid_prefix);
    let tender = ocid
        .strip_prefix(&prefix)
        .ok_or_else(|| ApiError::not_found(format!("no record `{ocid}`")))?;
    let releases = s.store.ocds_releases(tender, &s.ocds).await?;
    if releases.is_empty() {
        return Err(ApiError::not_found(format!(
            "no public release of `{ocid}` yet"
        )));
    }
    Ok(Json(json!({
        "uri": format!("{}/records/{ocid}.json", s.ocds.uri),
        "version": "1.1",
        "extensions": [tenderflow_core::ocds::BID_EXTENSION, tenderflow_core::ocds::LOTS_EXTENSION],
        "publishedDate": s.clock.now(),
        "publisher": { "name": s.ocds.publisher },
        "records": [tenderflow_core::ocds::record(releases)],
    })))
}

async fn records(State(s): State<AppState>, caller: Caller, Id(id): Id) -> R<Json<Value>> {
    require(&caller, &["staff", "inspector", "admin"])?;
    let (wf, t) = s.store.load(&id).await?;
    let mut records = tenderflow_core::records::records(&wf, &t);
    // The head the records describe, to be published with them (`audit verify --against`).
    records["chainHead"] = json!(s.store.chain_head(&id).await?);
    Ok(Json(records))
}
