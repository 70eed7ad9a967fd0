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
    RefOr::T(Schema::Object(o))
}

/// A command without a payload.
fn bare(tag: &str, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
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
    "cancel" => Cancel;
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
