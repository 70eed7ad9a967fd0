//! Schemas of the core's wire types for the API's OpenAPI 3.1 document (feature `openapi`).
//!
//! The payload structs derive `utoipa::ToSchema`; the types with hand-written serde (times,
//! money, ids) and the tagged command union get their schemas here, from the same facts
//! their serde code enforces, so a request valid by the schema is one serde accepts.

use crate::model::{ActorId, CommandBody};
use crate::numbers::Money;
use crate::time::Timestamp;
use std::borrow::Cow;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{KnownFormat, RefOr, SchemaFormat};
use utoipa::{PartialSchema, ToSchema};

impl PartialSchema for Timestamp {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("An instant, RFC 3339 with an offset"))
            .examples([serde_json::json!("2026-01-26T09:00:00+08:00")])
            .into()
    }
}
impl ToSchema for Timestamp {}

impl PartialSchema for Money {
    fn schema() -> RefOr<Schema> {
        // Answers say a decimal string; requests may also give a JSON number.
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(r"^[0-9]{1,14}(\.[0-9]{1,4})?$")),
            )
            .item(ObjectBuilder::new().schema_type(Type::Number).minimum(Some(0)))
            .description(Some(
                "An amount, never negative, with at most four decimal places (answers give a decimal string)",
            ))
            .into()
    }
}
impl ToSchema for Money {}

impl PartialSchema for ActorId {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(crate::ids::ID_PATTERN))
            .description(Some("An account id"))
            .examples([serde_json::json!("org-03")])
            .into()
    }
}
impl ToSchema for ActorId {}

impl PartialSchema for crate::quarterly::Quarter {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(r"^[0-9]{4}-?Q[1-4]$"))
            .description(Some("A calendar quarter"))
            .examples([serde_json::json!("2026-Q2")])
            .into()
    }
}
impl ToSchema for crate::quarterly::Quarter {}

/// The payload schema of `T` with the `command` tag added: the object serde reads for one
/// variant of [`CommandBody`].
fn variant<T: ToSchema>(tag: &str) -> RefOr<Schema> {
    let base = match T::schema() {
        RefOr::T(Schema::Object(o)) => o,
        _ => ObjectBuilder::new().build(),
    };
    let mut o = base;
    o.properties.insert(
        "command".to_owned(),
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some([tag]))
            .into(),
    );
    o.required.insert(0, "command".to_owned());
    o.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
    o.title = Some(tag.to_owned());
    if let Some(e) = example(tag) {
        o.examples = vec![e];
    }
    RefOr::T(Schema::Object(o))
}

/// An example of a command, from the seed case (a trade union recruiting partner
/// organisations to run services in its venues).
fn example(tag: &str) -> Option<serde_json::Value> {
    use serde_json::json;
    let bid = json!({
        "organisation": "Hangzhou Workers' Arts Troupe",
        "serviceArea": "arts_performance",
        "servicePlan": "Monthly performances in the union's venues, free for members.",
        "freeOrDiscountedShare": 30,
        "feeMinor": 12_000_000
    });
    let e = match tag {
        "publish" => json!({
            "command": "publish",
            "announcement": {
                "title": "Recruitment of partner organisations for workers' venues",
                "summary": "Partners run public-benefit services in the union's venues.",
                "eligibility": "Registered organisations with a record in arts, sports or public-benefit activities.",
                "contact": "Workers' service centre, recruitment team"
            },
            "channels": ["public-resource-trading-platform", "union-website", "zhejiang-workers-daily"],
            "deadline": "2026-01-26T17:00:00+08:00"
        }),
        "amend" => {
            json!({"command": "amend", "text": "The list of venues is attached.", "affectsBids": false})
        }
        "ask_question" => json!({"command": "ask_question",
            "text": "May one organisation offer services in two venues?"}),
        "answer_question" => json!({"command": "answer_question", "question": 1,
            "answer": "Yes; describe each venue's plan separately.", "affectsBids": false}),
        "submit_bid" | "replace_bid" => json!({"command": tag, "content": bid}),
        "withdraw_bid" => json!({"command": "withdraw_bid"}),
        "appoint_committee" => json!({"command": "appoint_committee", "members": [
            {"id": "expert-01", "expert": true}, {"id": "expert-02", "expert": true},
            {"id": "expert-03", "expert": true}, {"id": "rep-01", "expert": false},
            {"id": "rep-02", "expert": false}]}),
        "declare_conflict" => json!({"command": "declare_conflict", "bidder": "org-05",
            "reason": "I advised this organisation last year."}),
        "disqualify_bid" => json!({"command": "disqualify_bid", "bidder": "org-07",
            "reason": "No registration certificate."}),
        "finalize_evaluation" => {
            json!({"command": "finalize_evaluation", "drawReveal": "inspector-draw-2021"})
        }
        "raise_objection" => json!({"command": "raise_objection",
            "content": {"subject": "scores", "grounds": "Our service plan was undervalued."}}),
        "answer_objection" => json!({"command": "answer_objection", "objection": 1,
            "answer": "Scores re-checked; unchanged.", "upheld": false}),
        "sign_off" => json!({"command": "sign_off", "gate": "opening",
            "content": {"statement": "I witnessed the opening and found it in order.", "observations": ""}}),
        "record_observation" => json!({"command": "record_observation",
            "content": {"text": "The bids were opened at the announced time."}}),
        "raise_irregularity" => json!({"command": "raise_irregularity",
            "content": {"text": "The seal of one envelope is damaged.", "severity": "serious"}}),
        "resolve_irregularity" => json!({"command": "resolve_irregularity", "irregularity": 1,
            "resolution": "The seal was found intact on inspection."}),
        "cancel" => {
            json!({"command": "cancel", "reason": "The venues closed; the recruitment is withdrawn."})
        }
        "draft_agreement" => json!({"command": "draft_agreement", "partner": "org-03", "terms": {
            "venue": "Hangzhou Workers' Cultural Palace", "serviceArea": "arts_performance",
            "serviceItems": [{"id": "monthly-show", "title": "Monthly performance", "discount": "Free for members"}],
            "freeOrDiscountedShare": 30, "feeMinor": 12_000_000, "revenueSharePercent": 10,
            "assetTerms": "Name, function, main business and property rights unchanged.",
            "openingHours": "Tue–Sun 09:00–21:00", "signUp": "Union app or the venue's front desk",
            "startDate": "2026-04-01", "endDate": "2029-03-31"}}),
        "sign_agreement" => json!({"command": "sign_agreement", "partner": "org-03"}),
        "report_delivery" => json!({"command": "report_delivery", "partner": "org-03", "report": {
            "date": "2026-04-12", "item": "monthly-show", "participants": 180, "placesOffered": 200,
            "freePlaces": 40, "discountedPlaces": 30, "complaints": 0, "revenueMinor": 390_000}}),
        "review_delivery" => json!({"command": "review_delivery", "partner": "org-03", "report": 1,
            "verified": true, "note": "Checked against the sign-in sheet."}),
        "evaluate_performance" => json!({"command": "evaluate_performance", "partner": "org-03",
            "scores": {"delivery": 85, "feedback": 80, "complaints": 90, "compliance": 95},
            "note": "Quarterly evaluation."}),
        "terminate_agreement" => json!({"command": "terminate_agreement", "partner": "org-09",
            "reason": "Free places below the promised share for two quarters after a warning."}),
        "delegate" => json!({"command": "delegate",
            "delegatedBy": {"id": "CN-FTU-county-01", "name": "County Federation of Trade Unions"},
            "delegate": {"id": "CN-FTU-town-07", "name": "Town Trade Union"},
            "scope": "Recruitment and supervision of partners for the Town Workers' Home",
            "overseers": ["county-staff-wang", "county-inspector-zhao"]}),
        _ => return None,
    };
    Some(e)
}

/// A command without a payload.
fn bare(tag: &str, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .examples([serde_json::json!({ "command": tag })])
        .title(Some(tag))
        .description(Some(description))
        .property(
            "command",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([tag])),
        )
        .required("command")
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .into()
}

macro_rules! commands {
    ($($tag:literal => $ty:ident),* ; $($bare:literal => $doc:literal),*) => {
        impl PartialSchema for CommandBody {
            fn schema() -> RefOr<Schema> {
                OneOfBuilder::new()
                    $(.item(variant::<crate::model::$ty>($tag)))*
                    $(.item(bare($bare, $doc)))*
                    .description(Some(
                        "A command: its name in `command`, its payload's fields beside it",
                    ))
                    .into()
            }
        }

        impl ToSchema for CommandBody {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed("Command")
            }
            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                $(<crate::model::$ty as ToSchema>::schemas(schemas);)*
            }
        }
    };
}

commands!(
    "publish" => Publish,
    "amend" => Amend,
    "ask_question" => AskQuestion,
    "answer_question" => AnswerQuestion,
    "submit_bid" => SubmitBid,
    "replace_bid" => ReplaceBid,
    "withdraw_bid" => WithdrawBid,
    "appoint_committee" => AppointCommittee,
    "declare_conflict" => DeclareConflict,
    "disqualify_bid" => DisqualifyBid,
    "submit_scores" => SubmitScores,
    "finalize_evaluation" => FinalizeEvaluation,
    "raise_objection" => RaiseObjection,
    "answer_objection" => AnswerObjection,
    "sign_off" => SignOff,
    "record_observation" => RecordObservation,
    "raise_irregularity" => RaiseIrregularity,
    "resolve_irregularity" => ResolveIrregularity,
    "cancel" => Cancel,
    "draft_agreement" => DraftAgreement,
    "sign_agreement" => SignAgreement,
    "report_delivery" => ReportDelivery,
    "review_delivery" => ReviewDelivery,
    "evaluate_performance" => EvaluatePerformance,
    "terminate_agreement" => TerminateAgreement,
    "delegate" => Delegate;
    "close_submission" => "Close submission (the deadline has passed)",
    "open_bids" => "Open the bids",
    "propose_award" => "Propose the award and start publicity",
    "award" => "Award"
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::CommandName;

    /// Every command the definition language names has a schema, and no other.
    /// Every example is a command serde accepts.
    #[test]
    fn every_example_parses() {
        for name in CommandName::ALL {
            if let Some(e) = example(name.as_str()) {
                serde_json::from_value::<CommandBody>(e.clone())
                    .unwrap_or_else(|err| panic!("{e}: {err}"));
            }
        }
    }

    #[test]
    fn the_union_names_every_command_once() {
        let RefOr::T(Schema::OneOf(one)) = CommandBody::schema() else {
            panic!("a oneOf")
        };
        let mut tags: Vec<String> = one
            .items
            .iter()
            .filter_map(|s| match s {
                RefOr::T(Schema::Object(o)) => o.title.clone(),
                _ => None,
            })
            .collect();
        tags.sort();
        let mut names: Vec<String> = CommandName::ALL
            .iter()
            .map(|n| n.as_str().to_owned())
            .collect();
        names.sort();
        assert_eq!(tags, names);
    }
}
