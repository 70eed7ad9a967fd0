//! Routes and handlers.

use crate::accounts::{
    ClaimDecisionBody, EmailBody, NewAccount, TokenBody, create_account, decide_claim,
    disable_account, enable_account, issue_token, list_accounts, list_claims, list_tokens,
    revoke_token, rotate_token, set_email,
};
use crate::admin::{
    AuditQuery, ClockBody, OutboxQuery, PageQuery, audit, ocds_record, ocds_releases, outbox,
    resend, set_clock, stuck_timers,
};
use crate::documents::{UploadQuery, download, upload};
use crate::error::ApiError;
use crate::extract::{ApiResult, Body, Caller, Id};
use crate::openapi::{Op, document};
use crate::ops::{count_requests, health, metrics, ready, request_id_in_problems, version};
use crate::reports::{QuarterQuery, quarterly, quarterly_csv};
use crate::schemas::*;
use crate::tenders::{
    BidBody, CreateTender, EventsQuery, ListQuery, LotQuery, ScoreBody, SignBody, all_red_flags,
    command, create_tender, events, get_tender, irregularity, list_tenders, objection, observation,
    opening_record, receipts, records, red_flags, replace_bid, report, scores, signoff, submit_bid,
    timeline, withdraw_bid,
};
use crate::{AppState, MAX_BODY};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::routing::{MethodRouter, get};
use axum::{Json, Router};
use serde_json::Value;
use std::sync::Arc;
use tenderflow_app::commands::Answer;
use tenderflow_app::operations::{ClockMoved, Verification};
use tenderflow_app::roles::OFFICIALS;
use tenderflow_app::{IssuedToken, TokenInfo, WorkflowRecord};
use tenderflow_core::CommandBody;
use tenderflow_core::Role;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

struct Table {
    router: Router<AppState>,
    ops: Vec<Op>,
}

impl Table {
    fn add(mut self, path: &'static str, ops: Vec<Op>, route: MethodRouter<AppState>) -> Self {
        // A path none of whose operations reads a query refuses one, like those that do
        // refuse a parameter they do not know: nothing sent is silently ignored.
        let route = if ops.iter().all(|op| op.query.is_none()) {
            route.layer(axum::middleware::from_fn(refuse_query))
        } else {
            route
        };
        self.router = self.router.route(path, route);
        self.ops.extend(ops.into_iter().map(|op| Op { path, ..op }));
        self
    }
}

/// The API's routes (before the layers every request shares) and the state they run on.
fn api(state: AppState) -> (Router<AppState>, AppState) {
    use axum::routing::{delete, post, put};
    const ALL: &[Role] = &Role::PEOPLE;
    const ADMIN: &[Role] = &[Role::ADMIN];
    const STAFF: &[Role] = &[Role::STAFF];
    const BIDDER: &[Role] = &[Role::BIDDER];
    const EVALUATOR: &[Role] = &[Role::EVALUATOR];
    const INSPECTOR: &[Role] = &[Role::INSPECTOR];
    const UPLOADERS: &[Role] = &[Role::STAFF, Role::BIDDER];
    let t = Table {
        router: Router::new(),
        ops: Vec::new(),
    }
    .add("/health", vec![Op::get("Liveness").ok::<Health>()], get(health))
    .add(
        "/ready",
        vec![Op::get("Readiness: the database answers, the schema is current and the master key is the database's")
            .ok::<Ready>()
            .errors(&[503])],
        get(ready),
    )
    .add(
        "/metrics",
        vec![Op::get("Prometheus metrics: requests, commands, outbox depth, dead letters, stuck timers, timer lag. Never public: an administrator's token or the server's --metrics-token")
            .roles(ADMIN)],
        get(metrics),
    )
    .add("/version", vec![Op::get("The server's version").ok::<Version>()], get(version))
    .add(
        "/accounts",
        vec![
            Op::get("List accounts").roles(ADMIN).ok::<AccountList>(),
            Op::post("Create an account; answers its first token (shown once)")
                .roles(ADMIN)
                .body::<NewAccount>()
                .created::<AccountCreated>()
                .errors(&[409]),
        ],
        get(list_accounts).post(create_account),
    )
    .add(
        "/registration-claims",
        vec![Op::get("Claims of registration numbers other accounts hold, pending first")
            .roles(&[Role::STAFF, Role::ADMIN])
            .ok::<RegistrationClaimList>()],
        get(list_claims),
    )
    .add(
        "/registration-claims/{id}/decision",
        vec![Op::post("Decide a pending claim: approve (the claimant gets the number in a new account, to verify) or reject, with the reason")
            .roles(&[Role::STAFF, Role::ADMIN])
            .body::<ClaimDecisionBody>()
            .ok::<RegistrationClaimView>()
            .errors(&[409])],
        post(decide_claim),
    )
    .add(
        "/accounts/{id}/disable",
        vec![Op::post("Disable an account (its tokens stop working at once)")
            .roles(ADMIN)
            .ok::<AccountState>()],
        post(disable_account),
    )
    .add(
        "/accounts/{id}/enable",
        vec![Op::post("Enable a disabled account").roles(ADMIN).ok::<AccountState>()],
        post(enable_account),
    )
    .add(
        "/accounts/{id}/email",
        vec![Op::put("Change (or with null remove) an account's email")
            .roles(ADMIN)
            .body::<EmailBody>()
            .ok::<EmailChanged>()],
        put(set_email),
    )
    .add(
        "/accounts/{id}/tokens",
        vec![
            Op::get("An account's tokens (never the tokens themselves)")
                .roles(ADMIN)
                .ok::<TokenList>(),
            Op::post("Issue another token (label, expiresDays); shown once")
                .roles(ADMIN)
                .body::<TokenBody>()
                .created::<IssuedToken>(),
        ],
        get(list_tokens).post(issue_token),
    )
    .add(
        "/tokens/{id}/revoke",
        vec![Op::post("Revoke a token; it stops working at once")
            .roles(ADMIN)
            .ok::<TokenInfo>()],
        post(revoke_token),
    )
    .add(
        "/tokens/{id}/rotate",
        vec![Op::post("Replace a token by a new one and revoke it")
            .roles(ADMIN)
            .ok::<IssuedToken>()],
        post(rotate_token),
    )
    .add("/me", vec![Op::get("The caller's account").roles(ALL).ok::<Me>()], get(me))
    .add(
        "/workflows",
        vec![
            Op::get("List registered workflow definitions").roles(ALL).ok::<WorkflowList>(),
            Op::post("Register a definition version (an admin act, recorded with who did it; a version weaker than the one it replaces is flagged to inspectors)")
                .roles(ADMIN)
                .body::<Definition>()
                .created::<WorkflowRecord>()
                .errors(&[409, 422]),
        ],
        get(list_workflows).post(register_workflow),
    )
    .add(
        "/workflows/{id}",
        vec![Op::get("A definition by id or SHA-256").roles(ALL).ok::<WorkflowDocument>()],
        get(get_workflow),
    )
    .add(
        "/tenders",
        vec![
            Op::get("List tenders, filtered, a page at a time")
                .roles(ALL)
                .query::<ListQuery>()
                .ok::<TenderList>(),
            Op::post("Create a tender from a definition")
                .roles(STAFF)
                .body::<CreateTender>()
                .created::<Answer>()
                .command()
                .errors(&[404]),
        ],
        get(list_tenders).post(create_tender),
    )
    .add(
        "/tenders/{id}",
        vec![Op::get("A tender as the caller may see it")
            .roles(ALL)
            .ok::<TenderView>()
            .etag()],
        get(get_tender),
    )
    .add(
        "/tenders/{id}/events",
        vec![Op::get("The audit trail (sealed bids stay sealed), a page at a time")
            .roles(OFFICIALS)
            .query::<EventsQuery>()
            .ok::<EventPage>()],
        get(events),
    )
    .add(
        "/tenders/{id}/timeline",
        vec![Op::get("What happened when").roles(ALL).ok::<Timeline>()],
        get(timeline),
    )
    .add(
        "/tenders/{id}/commands",
        vec![Op::post("Any command of the core: one tagged union with a schema per command")
            .roles(ALL)
            .body::<CommandBody>()
            .ok::<Answer>()
            .command()],
        post(command),
    )
    .add(
        "/tenders/{id}/bids",
        vec![
            Op::post("Submit a sealed bid")
                .roles(BIDDER)
                .body::<BidBody>()
                .created::<Answer>()
                .command(),
            Op::put("Replace one's bid")
                .roles(BIDDER)
                .body::<BidBody>()
                .ok::<Answer>()
                .command(),
            Op::delete("Withdraw one's bid")
                .roles(BIDDER)
                .query::<LotQuery>()
                .ok::<Answer>()
                .command(),
        ],
        post(submit_bid)
            .merge(put(replace_bid))
            .merge(delete(withdraw_bid)),
    )
    .add(
        "/tenders/{id}/documents",
        vec![Op::post("Upload a document (the body is the file, streamed; `name` its file name): staff a tender document, a bidder its bid's (sealed until opening). Reference the answered description in a command's `documents`")
            .roles(UPLOADERS)
            .query::<UploadQuery>()
            .file_body()
            .created::<tenderflow_core::model::Document>()
            .errors(&[404, 409])],
        post(upload).layer(DefaultBodyLimit::disable()),
    )
    .add(
        "/tenders/{id}/documents/{doc}",
        vec![Op::get("Download a document: tender documents once published; a bid's after opening, by staff, inspectors, the committee and its bidder")
            .roles(ALL)
            .file()
            .errors(&[422])],
        get(download),
    )
    .add(
        "/tenders/{id}/bids/receipt",
        vec![Op::get("The caller's bid receipts").roles(BIDDER).ok::<Receipts>()],
        get(receipts),
    )
    .add(
        "/tenders/{id}/scores",
        vec![Op::post("Submit a score sheet")
            .roles(EVALUATOR)
            .body::<ScoreBody>()
            .ok::<Answer>()
            .command()],
        post(scores),
    )
    .add(
        "/tenders/{id}/signoffs",
        vec![Op::post("Sign off a gate")
            .roles(INSPECTOR)
            .body::<SignBody>()
            .ok::<Answer>()
            .command()],
        post(signoff),
    )
    .add(
        "/tenders/{id}/observations",
        vec![Op::post("Record an observation")
            .roles(INSPECTOR)
            .body::<Form>()
            .ok::<Answer>()
            .command()],
        post(observation),
    )
    .add(
        "/tenders/{id}/irregularities",
        vec![Op::post("Raise an irregularity (halts)")
            .roles(INSPECTOR)
            .body::<Form>()
            .ok::<Answer>()
            .command()],
        post(irregularity),
    )
    .add(
        "/tenders/{id}/objections",
        vec![Op::post("Raise an objection")
            .roles(BIDDER)
            .body::<Form>()
            .ok::<Answer>()
            .command()],
        post(objection),
    )
    .add(
        "/tenders/{id}/opening-record",
        vec![Op::get("The opening record, once the bids are opened")
            .roles(ALL)
            .ok::<OpeningRecord>()
            .errors(&[409])],
        get(opening_record),
    )
    .add(
        "/tenders/{id}/red-flags",
        vec![Op::get("Red flags of the tender (and across the buyer's tenders involving it): rule, evidence, threshold")
            .roles(OFFICIALS)
            .ok::<RedFlags>()],
        get(red_flags),
    )
    .add(
        "/reports/quarterly",
        vec![Op::get("The quarterly report: per venue and partner, places delivered against promised, evaluations, complaints, terminations, oversight")
            .roles(OFFICIALS)
            .query::<QuarterQuery>()
            .ok::<tenderflow_core::quarterly::QuarterlyReport>()],
        get(quarterly),
    )
    .add(
        "/reports/quarterly.csv",
        vec![Op::get("The quarterly report as CSV: a row per partner, then per service item")
            .roles(OFFICIALS)
            .query::<QuarterQuery>()
            .csv()],
        get(quarterly_csv),
    )
    .add(
        "/red-flags",
        vec![Op::get("Red flags of every tender, then across tenders")
            .roles(OFFICIALS)
            .ok::<RedFlags>()],
        get(all_red_flags),
    )
    .add(
        "/tenders/{id}/records",
        vec![Op::get("The records: receipt log, opening record, objections, evaluation report, publicity notice, supervision record")
            .roles(OFFICIALS)
            .ok::<Records>()],
        get(records),
    )
    .add(
        "/tenders/{id}/report",
        vec![Op::get("The evaluation report, once final, as the caller may see it")
            .roles(ALL)
            .ok::<Report>()
            .errors(&[409])],
        get(report),
    )
    .add(
        "/outbox",
        vec![Op::get("Outbox messages, a page at a time")
            .roles(&[Role::STAFF, Role::ADMIN])
            .query::<OutboxQuery>()
            .ok::<OutboxPage>()],
        get(outbox),
    )
    .add(
        "/outbox/{id}/resend",
        vec![Op::post("Queue a dead letter again")
            .roles(&[Role::STAFF, Role::ADMIN])
            .ok::<Resent>()
            .errors(&[409])],
        post(resend),
    )
    .add(
        "/admin/timers/stuck",
        vec![Op::get("Deadlines that failed to fire (isolated, retried with backoff)")
            .roles(&[Role::INSPECTOR, Role::ADMIN])
            .ok::<StuckTimers>()],
        get(stuck_timers),
    )
    .add(
        "/audit/verify",
        vec![Op::get("Verify hash chains (all, or one tender)")
            .roles(OFFICIALS)
            .query::<AuditQuery>()
            .ok::<Verification>()
            .errors(&[404])],
        get(audit),
    )
    .add(
        "/ocds/releases",
        vec![Op::get("OCDS release package of every public event, a page at a time; public")
            .query::<PageQuery>()
            .ok::<OcdsReleasePackage>()
            .errors(&[422])],
        get(ocds_releases),
    )
    .add(
        "/ocds/records/{ocid}",
        vec![Op::get("OCDS record with its compiled release; public").ok::<OcdsRecordPackage>()],
        get(ocds_record),
    )
    .add(
        "/admin/clock",
        vec![Op::post("Set the manual clock (servers started with --manual-clock)")
            .roles(ADMIN)
            .body::<ClockBody>()
            .ok::<ClockMoved>()
            .errors(&[409])],
        post(set_clock),
    );
    let mut ops = t.ops;
    ops.push(Op {
        path: "/openapi.json",
        ..Op::get("This document").ok::<OpenApiDocument>()
    });
    let doc = Arc::new(document(&ops));
    let api = t
        .router
        .route(
            "/openapi.json",
            get(move || async move { Json((*doc).clone()) })
                .layer(axum::middleware::from_fn(refuse_query)),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY));
    (api, state)
}

/// The router with every route, the OpenAPI document at `/openapi.json`, and JSON errors for
/// unknown routes.
pub fn app(state: AppState) -> Router {
    app_with_pages(state, Router::new())
}

/// [`app`] with the pages beside it on one port: every request, page or API, gets a request
/// id, a line in the access log and its place in `/metrics`.
pub fn app_with_pages(state: AppState, pages: Router) -> Router {
    let (api, state) = api(state);
    api.with_state(state.clone())
        .merge(pages)
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no_route",
                "no such route; see /openapi.json",
            )
        })
        // A bug that panics in a handler answers a 500 problem (logged) instead of dropping
        // the connection.
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            tracing::error!("a handler panicked");
            axum::response::IntoResponse::into_response(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "an internal error; it has been logged",
            ))
        }))
        .layer(axum::middleware::from_fn(request_id_in_problems))
        .layer(axum::middleware::from_fn_with_state(state, count_requests))
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
}

/// `400 invalid_query` for any query string on an operation that reads none.
async fn refuse_query(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    match req.uri().query().filter(|q| !q.is_empty()) {
        Some(q) => {
            let name = q.split(['&', '=']).next().unwrap_or(q);
            axum::response::IntoResponse::into_response(ApiError::bad_request(
                "invalid_query",
                format!(
                    "this operation takes no query parameters; found `{}`",
                    name.chars().take(64).collect::<String>()
                ),
            ))
        }
        None => next.run(req).await,
    }
}

async fn me(caller: Caller) -> Json<Me> {
    let a = &caller.account;
    Json(Me {
        id: a.id.clone(),
        role: a.role.clone(),
        name: a.display_name.clone(),
        locale: a.locale.clone(),
    })
}

async fn list_workflows(
    State(s): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<WorkflowList>> {
    Ok(Json(WorkflowList {
        workflows: s.app.workflows().await?,
    }))
}

async fn register_workflow(
    State(s): State<AppState>,
    caller: Caller,
    Body(def): Body<Value>,
) -> ApiResult<(StatusCode, Json<WorkflowRecord>)> {
    let bytes = serde_json::to_vec_pretty(&def)
        .map_err(|e| ApiError::bad_request("invalid_body", e.to_string()))?;
    let name = format!(
        "{}.json",
        def.get("id")
            .and_then(Value::as_str)
            .unwrap_or("definition")
    );
    let rec = s
        .app
        .register_workflow(&caller, &name, &bytes, caller.actor.id.as_str())
        .await?;
    Ok((StatusCode::CREATED, Json(rec)))
}

async fn get_workflow(
    State(s): State<AppState>,
    _caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<WorkflowDocument>> {
    let wf = s.app.workflow(&id).await?;
    Ok(Json(WorkflowDocument {
        sha256: wf.sha256().to_owned(),
        definition: serde_json::to_value(wf.definition())
            .map_err(|e| ApiError::bad_request("invalid_workflow", e.to_string()))?,
    }))
}
