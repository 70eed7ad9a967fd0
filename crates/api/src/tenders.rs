//! The tender handlers: thin adapters that turn a request into an application use case
//! (`tenderflow_app`) and its answer into JSON.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiResult, Body, Caller, Id, Params, lot};
use crate::schemas::{EventPage, Receipts, TenderList, Timeline};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use serde::Deserialize;
use serde_json::Value;
use tenderflow_app::Executed;
use tenderflow_app::commands::{Answer, Submission, outcome};
use tenderflow_app::views::TenderFilter;
use tenderflow_core::CommandBody;
use tenderflow_core::model::{ReplaceBid, SignOff, SubmitBid, SubmitScores, WithdrawBid};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CreateTender {
    workflow: String,
    tender_id: String,
}

/// The `Idempotency-Key` header, if any.
fn key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str().map(str::to_owned).map_err(|_| {
                ApiError::bad_request("invalid_idempotency_key", "Idempotency-Key must be ASCII")
            })
        })
        .transpose()
}

/// The `If-Match` header, if any.
fn if_match(headers: &HeaderMap) -> ApiResult<Option<String>> {
    headers
        .get(header::IF_MATCH)
        .map(|v| {
            v.to_str().map(str::to_owned).map_err(|_| {
                ApiError::bad_request(
                    "invalid_if_match",
                    "If-Match is an ETag of GET /tenders/{id}",
                )
            })
        })
        .transpose()
}

pub(crate) async fn create_tender(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Body(b): Body<CreateTender>,
) -> ApiResult<(StatusCode, Json<Answer>)> {
    let done = s
        .app
        .create_tender(
            &caller,
            &b.workflow,
            &b.tender_id,
            key(&headers)?.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(Answer::of(&done, &caller))))
}

/// Runs a command for the caller, counting it by kind and outcome.
async fn run(
    s: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    id: &str,
    body: CommandBody,
) -> ApiResult<Executed> {
    let kind = body.name().as_str();
    let submission = Submission {
        tender_id: id.to_owned(),
        body,
        key: key(headers)?,
        if_match: if_match(headers)?,
    };
    let result = s.app.execute(caller, submission).await;
    s.metrics.command(kind, &outcome(&result));
    Ok(result?)
}

/// Runs a command and answers it.
async fn answer(
    s: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    id: &str,
    body: CommandBody,
) -> ApiResult<Json<Answer>> {
    let done = run(s, caller, headers, id, body).await?;
    Ok(Json(Answer::of(&done, caller)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// Only tenders in this state.
    state: Option<String>,
    /// Only tenders of this definition id.
    workflow: Option<String>,
    /// Only tenders whose announcement title contains this text.
    q: Option<String>,
    /// Cursor: the last id of the previous page.
    after: Option<String>,
    /// Page size, 1–1000 (100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
}

pub(crate) async fn list_tenders(
    State(s): State<AppState>,
    caller: Caller,
    Params(q): Params<ListQuery>,
) -> ApiResult<Json<TenderList>> {
    let filter = TenderFilter {
        state: q.state,
        workflow: q.workflow,
        text: q.q,
        after: q.after,
        limit: q.limit,
    };
    let page = s.app.tenders(&caller, &filter).await?;
    Ok(Json(TenderList {
        tenders: page.items,
        next: page.next,
    }))
}

pub(crate) async fn get_tender(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<([(HeaderName, String); 1], Json<Value>)> {
    let v = s.app.tender_view(&caller, &id).await?;
    Ok(([(header::ETAG, v.tag)], Json(v.view)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventsQuery {
    /// Cursor: the last sequence number of the previous page.
    after: Option<i64>,
    /// Page size, 1–1000 (1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
}

pub(crate) async fn events(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Params(q): Params<EventsQuery>,
) -> ApiResult<Json<EventPage>> {
    let page = s.app.audit_trail(&caller, &id, q.after, q.limit).await?;
    Ok(Json(EventPage {
        tender: id,
        events: page.items,
        next: page.next,
    }))
}

pub(crate) async fn timeline(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Timeline>> {
    let timeline = s.app.timeline(&caller, &id).await?;
    Ok(Json(Timeline {
        tender: id,
        timeline,
    }))
}

pub(crate) async fn command(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Id(id): Id,
    Body(body): Body<CommandBody>,
) -> ApiResult<Json<Answer>> {
    answer(&s, &caller, &headers, &id, body).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BidBody {
    #[serde(default)]
    lot: Option<String>,
    content: Value,
    /// The bid's documents: each as `POST /tenders/{id}/documents` answered it, with its
    /// `slot` in the bid form.
    #[serde(default)]
    documents: Vec<tenderflow_core::model::Document>,
}

pub(crate) async fn submit_bid(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Id(id): Id,
    Body(b): Body<BidBody>,
) -> ApiResult<(StatusCode, Json<Answer>)> {
    let body = CommandBody::SubmitBid(SubmitBid {
        documents: b.documents,
        lot: lot(b.lot)?,
        content: b.content.into(),
    });
    Ok((
        StatusCode::CREATED,
        answer(&s, &caller, &headers, &id, body).await?,
    ))
}

pub(crate) async fn replace_bid(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Id(id): Id,
    Body(b): Body<BidBody>,
) -> ApiResult<Json<Answer>> {
    let body = CommandBody::ReplaceBid(ReplaceBid {
        documents: b.documents,
        lot: lot(b.lot)?,
        content: b.content.into(),
    });
    answer(&s, &caller, &headers, &id, body).await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct LotQuery {
    /// The lot (required when the tender has several).
    #[param(pattern = "^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")]
    lot: Option<String>,
}

pub(crate) async fn withdraw_bid(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Id(id): Id,
    Params(q): Params<LotQuery>,
) -> ApiResult<Json<Answer>> {
    let body = CommandBody::WithdrawBid(WithdrawBid { lot: lot(q.lot)? });
    answer(&s, &caller, &headers, &id, body).await
}

pub(crate) async fn receipts(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Receipts>> {
    let receipts = s.app.receipts(&caller, &id).await?;
    Ok(Json(Receipts {
        tender: id,
        receipts,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScoreBody {
    #[serde(default)]
    lot: Option<String>,
    bidder: String,
    sheet: Value,
    /// Why a submitted sheet for this bid is corrected (required for a second sheet).
    #[serde(default)]
    correction: Option<String>,
}

pub(crate) async fn scores(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Id(id): Id,
    Body(b): Body<ScoreBody>,
) -> ApiResult<Json<Answer>> {
    let bidder = tenderflow_core::ActorId::parse(&b.bidder)
        .ok_or_else(|| ApiError::bad_request("invalid_body", "bidder: not a valid id"))?;
    let body = CommandBody::SubmitScores(SubmitScores {
        lot: lot(b.lot)?,
        bidder,
        sheet: b.sheet.into(),
        correction: b.correction,
    });
    answer(&s, &caller, &headers, &id, body).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignBody {
    gate: String,
    /// The partner a per-partner gate (agreement, termination) is signed for.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    partner: Option<tenderflow_core::ActorId>,
    content: Value,
}

pub(crate) async fn signoff(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Id(id): Id,
    Body(b): Body<SignBody>,
) -> ApiResult<Json<Answer>> {
    let body = CommandBody::SignOff(SignOff {
        gate: b.gate,
        partner: b.partner,
        content: b.content.into(),
    });
    answer(&s, &caller, &headers, &id, body).await
}

/// A command whose whole payload is the request's JSON body.
macro_rules! content_command {
    ($(#[$m:meta])* $name:ident => $variant:ident) => {
        $(#[$m])*
        pub(crate) async fn $name(
            State(s): State<AppState>,
            caller: Caller,
            headers: HeaderMap,
            Id(id): Id,
            Body(content): Body<Value>,
        ) -> ApiResult<Json<Answer>> {
            let body = CommandBody::$variant(tenderflow_core::model::$variant {
                content: content.into(),
            });
            answer(&s, &caller, &headers, &id, body).await
        }
    };
}

content_command!(
    /// An inspector's observation.
    observation => RecordObservation
);
content_command!(
    /// An inspector raises an irregularity.
    irregularity => RaiseIrregularity
);
content_command!(
    /// A bidder's objection.
    objection => RaiseObjection
);

pub(crate) async fn opening_record(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    Ok(Json(s.app.opening_record(&caller, &id).await?))
}

pub(crate) async fn report(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    Ok(Json(s.app.report(&caller, &id).await?))
}

pub(crate) async fn records(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<tenderflow_app::records::TenderRecords>> {
    Ok(Json(s.app.records(&caller, &id).await?))
}

pub(crate) async fn red_flags(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<crate::schemas::RedFlags>> {
    let flags = s.app.tender_red_flags(&caller, &id).await?;
    Ok(Json(crate::schemas::RedFlags {
        tender: Some(id),
        flags,
    }))
}

pub(crate) async fn all_red_flags(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<crate::schemas::RedFlags>> {
    let flags = s.app.all_red_flags(&caller).await?;
    Ok(Json(crate::schemas::RedFlags {
        tender: None,
        flags,
    }))
}
