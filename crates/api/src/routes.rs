//! Routes and handlers.

use crate::accounts::{
    create_account, disable_account, enable_account, issue_token, list_accounts, list_tokens,
    revoke_token, rotate_token, set_email,
};
use crate::admin::{audit, ocds_record, ocds_releases, outbox, resend, set_clock, stuck_timers};
use crate::error::ApiError;
use crate::extract::{ApiResult, Body, Caller, Id};
use crate::openapi::{Op, document};
use crate::ops::{count_requests, health, metrics, ready, request_id_in_problems, version};
use crate::tenders::{
    command, create_tender, events, get_tender, irregularity, list_tenders, objection, observation,
    opening_record, receipts, records, replace_bid, report, scores, signoff, submit_bid, timeline,
    withdraw_bid,
};
use crate::{AppState, MAX_BODY};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::routing::{MethodRouter, get};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::sync::Arc;
use tenderflow_app::roles::OFFICIALS;
use tenderflow_core::Role;
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
        ops: &[(&'static str, &'static str, &'static [Role], bool)],
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
    const ALL: &[Role] = &Role::PEOPLE;
    const ANYONE: &[Role] = &[];
    let t = Table {
        router: Router::new(),
        ops: Vec::new(),
    }
    .add(
        "/health",
        &[("get", "Liveness", ANYONE, false)],
        get(health),
    )
    .add(
        "/ready",
        &[(
            "get",
            "Readiness: the database answers, the schema is current and the master key is the database's",
            ANYONE,
            false,
        )],
        get(ready),
    )
    .add(
        "/metrics",
        &[("get", "Prometheus metrics: requests, commands, outbox depth, dead letters, stuck timers, timer lag", ANYONE, false)],
        get(metrics),
    )
    .add(
        "/version",
        &[("get", "The server's version", ANYONE, false)],
        get(version),
    )
    .add(
        "/accounts",
        &[
            ("get", "List accounts", &[Role::ADMIN], false),
            ("post", "Create an account; answers its first token (shown once)", &[Role::ADMIN], true),
        ],
        get(list_accounts).post(create_account),
    )
    .add(
        "/accounts/{id}/disable",
        &[("post", "Disable an account (its tokens stop working at once)", &[Role::ADMIN], false)],
        post(disable_account),
    )
    .add(
        "/accounts/{id}/enable",
        &[("post", "Enable a disabled account", &[Role::ADMIN], false)],
        post(enable_account),
    )
    .add(
        "/accounts/{id}/email",
        &[("put", "Change (or with null remove) an account's email", &[Role::ADMIN], true)],
        put(set_email),
    )
    .add(
        "/accounts/{id}/tokens",
        &[
            ("get", "An account's tokens (never the tokens themselves)", &[Role::ADMIN], false),
            ("post", "Issue another token (label, expiresDays); shown once", &[Role::ADMIN], true),
        ],
        get(list_tokens).post(issue_token),
    )
    .add(
        "/tokens/{id}/revoke",
        &[("post", "Revoke a token; it stops working at once", &[Role::ADMIN], false)],
        post(revoke_token),
    )
    .add(
        "/tokens/{id}/rotate",
        &[("post", "Replace a token by a new one and revoke it", &[Role::ADMIN], false)],
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
                &[Role::ADMIN],
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
            ("post", "Create a tender from a definition", &[Role::STAFF], true),
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
            OFFICIALS,
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
            ("post", "Submit a sealed bid", &[Role::BIDDER], true),
            ("put", "Replace one's bid", &[Role::BIDDER], true),
            ("delete", "Withdraw one's bid (`?lot=`)", &[Role::BIDDER], false),
        ],
        post(submit_bid)
            .merge(put(replace_bid))
            .merge(delete(withdraw_bid)),
    )
    .add(
        "/tenders/{id}/bids/receipt",
        &[("get", "The caller's bid receipts", &[Role::BIDDER], false)],
        get(receipts),
    )
    .add(
        "/tenders/{id}/scores",
        &[("post", "Submit a score sheet", &[Role::EVALUATOR], true)],
        post(scores),
    )
    .add(
        "/tenders/{id}/signoffs",
        &[("post", "Sign off a gate", &[Role::INSPECTOR], true)],
        post(signoff),
    )
    .add(
        "/tenders/{id}/observations",
        &[("post", "Record an observation", &[Role::INSPECTOR], true)],
        post(observation),
    )
    .add(
        "/tenders/{id}/irregularities",
        &[("post", "Raise an irregularity (halts)", &[Role::INSPECTOR], true)],
        post(irregularity),
    )
    .add(
        "/tenders/{id}/objections",
        &[("post", "Raise an objection", &[Role::BIDDER], true)],
        post(objection),
    )
    .add(
        "/tenders/{id}/opening-record",
        &[("get", "The opening record", ALL, false)],
        get(opening_record),
    )
    .add(
        "/tenders/{id}/records",
        &[("get", "The records: receipt log, opening record, objections, evaluation report, publicity notice, supervision record", OFFICIALS, false)],
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
            &[Role::STAFF, Role::ADMIN],
            false,
        )],
        get(outbox),
    )
    .add(
        "/outbox/{id}/resend",
        &[("post", "Queue a dead letter again", &[Role::STAFF, Role::ADMIN], false)],
        post(resend),
    )
    .add(
        "/admin/timers/stuck",
        &[(
            "get",
            "Deadlines that failed to fire (isolated, retried with backoff)",
            &[Role::INSPECTOR, Role::ADMIN],
            false,
        )],
        get(stuck_timers),
    )
    .add(
        "/audit/verify",
        &[(
            "get",
            "Verify hash chains (`?tender=`)",
            OFFICIALS,
            false,
        )],
        get(audit),
    )
    .add(
        "/ocds/releases",
        &[(
            "get",
            "OCDS release package of every public event (`?page=&per_page=`); public",
            ANYONE,
            false,
        )],
        get(ocds_releases),
    )
    .add(
        "/ocds/records/{ocid}",
        &[(
            "get",
            "OCDS record with its compiled release; public",
            ANYONE,
            false,
        )],
        get(ocds_record),
    )
    .add(
        "/admin/clock",
        &[(
            "post",
            "Set the manual clock (servers started with --manual-clock)",
            &[Role::ADMIN],
            true,
        )],
        post(set_clock),
    );
    let mut ops = t.ops;
    ops.push(Op {
        method: "get",
        path: "/openapi.json",
        summary: "This document",
        roles: ANYONE,
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

async fn list_workflows(State(s): State<AppState>, _caller: Caller) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "workflows": s.store.workflows().await? })))
}

async fn register_workflow(
    State(s): State<AppState>,
    caller: Caller,
    Body(def): Body<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(&[Role::ADMIN])?;
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

async fn get_workflow(
    State(s): State<AppState>,
    _caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let wf = s.store.workflow(&id).await?;
    Ok(Json(
        json!({ "sha256": wf.sha256(), "definition": wf.definition() }),
    ))
}
