//! JSON schemas of the document: request fields from the validators' [`Ty`]s, and the answers
//! exactly as `error.rs` and the probes write them.

use crate::api::validation::schema::{Branch, Ty};
use utoipa::openapi::schema::{
    AdditionalProperties, AnyOfBuilder, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr};

fn of_type(t: Type) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(t)
}

fn any() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::AnyValue)
}

fn array_of(items: impl Into<RefOr<Schema>>) -> RefOr<Schema> {
    let items: RefOr<Schema> = items.into();
    ArrayBuilder::new().items(items).into()
}

/// A body field as the validators accept it.
pub fn field(ty: Ty) -> RefOr<Schema> {
    match ty {
        Ty::Str => of_type(Type::String).into(),
        Ty::Bool => of_type(Type::Boolean).into(),
        Ty::Num => of_type(Type::Number).into(),
        Ty::MaybeStr => {
            ObjectBuilder::new().schema_type([Type::String, Type::Null].into_iter().collect::<SchemaType>()).into()
        }
        Ty::Obj => of_type(Type::Object).into(),
        Ty::Arr => of_type(Type::Array).into(),
        Ty::ObjList => array_of(of_type(Type::Object)),
        Ty::StrList => array_of(of_type(Type::String).min_length(Some(1))),
        Ty::StrOrList => AnyOfBuilder::new().item(of_type(Type::String)).item(array_of(of_type(Type::String))).into(),
        Ty::Any => any().into(),
    }
}

/// A query parameter: numbers are whole (`offset`, `count`).
pub fn query_field(ty: Ty) -> RefOr<Schema> {
    match ty {
        Ty::Num => of_type(Type::Integer).into(),
        Ty::Bool => of_type(Type::Boolean).into(),
        _ => of_type(Type::String).into(),
    }
}

/// An object with these optional properties, open to others.
pub fn open_object(fields: &[(&'static str, Ty)]) -> RefOr<Schema> {
    let mut object = of_type(Type::Object).additional_properties(Some(AdditionalProperties::FreeForm(true)));
    for (name, ty) in fields {
        object = object.property(*name, field(*ty));
    }
    object.into()
}

fn branch(b: &Branch) -> ObjectBuilder {
    let mut object =
        of_type(Type::Object).additional_properties(Some(AdditionalProperties::FreeForm(b.additional_properties)));
    for (name, ty) in b.required.iter().chain(b.optional).chain(b.more_optional) {
        object = object.property(*name, field(*ty));
    }
    for (name, _) in b.required {
        object = object.required(*name);
    }
    if let Some(pattern) = b.type_pattern {
        object = object.property("type", of_type(Type::String).pattern(Some(pattern)));
    }
    object
}

/// Rocket.Chat's ajv `oneOf` over the branches.
pub fn one_of(branches: &[&Branch]) -> RefOr<Schema> {
    branches.iter().fold(OneOfBuilder::new(), |one_of, b| one_of.item(branch(b))).into()
}

pub fn reference(name: &str) -> RefOr<Schema> {
    Ref::from_schema_name(name).into()
}

/// `{success: true, ...}`.
pub fn success() -> RefOr<Schema> {
    of_type(Type::Object)
        .property("success", of_type(Type::Boolean).enum_values(Some([true])))
        .required("success")
        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
        .into()
}

pub fn object() -> RefOr<Schema> {
    open_object(&[])
}

pub fn json() -> RefOr<Schema> {
    any().into()
}

/// The probes' `{status: "ok"}` / `{status: "unavailable", reason}`.
pub fn status() -> RefOr<Schema> {
    of_type(Type::Object)
        .property("status", of_type(Type::String))
        .property("reason", of_type(Type::String))
        .required("status")
        .into()
}

/// `{success: false, error, errorType?, details?}`: every REST error but 401's. `error` is not
/// required: `API.v1.failure()` without a message (and a webhook script's own error object)
/// sends `{success: false}` alone.
pub fn error() -> RefOr<Schema> {
    of_type(Type::Object)
        .property("success", of_type(Type::Boolean).enum_values(Some([false])))
        .property("error", of_type(Type::String))
        .property("errorType", of_type(Type::String))
        .property("details", any())
        .required("success")
        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
        .into()
}

/// 401: the error envelope with Meteor's `status: "error"` and `message`.
pub fn not_logged_in() -> RefOr<Schema> {
    of_type(Type::Object)
        .property("success", of_type(Type::Boolean).enum_values(Some([false])))
        .property("error", of_type(Type::String))
        .property("status", of_type(Type::String).enum_values(Some(["error"])))
        .property("message", of_type(Type::String))
        .required("success")
        .required("error")
        .required("status")
        .required("message")
        .into()
}
