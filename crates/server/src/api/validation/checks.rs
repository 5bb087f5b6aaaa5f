//! Type checks of body fields in the two shapes Rocket.Chat answers with: Meteor's `check()`
//! (`Match error: Expected string, got object in field msg`) for endpoints that hand the body
//! to a Meteor method, and ajv's messages (`/field must be string`) for schema-validated ones.
//! A field of the wrong type is refused before anything is read or written.

use super::schema::{Ty, type_error};
use crate::error::ApiError;
use serde_json::{Map, Value};

/// JavaScript's `typeof` as Meteor's `check()` prints it.
fn js_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) | Value::Object(_) => "object",
    }
}

fn expected(ty: Ty) -> &'static str {
    match ty {
        Ty::Str | Ty::MaybeStr | Ty::StrOrList => "string",
        Ty::Bool => "boolean",
        Ty::Num => "number",
        Ty::Obj => "object",
        Ty::Arr | Ty::ObjList | Ty::StrList => "array",
        Ty::Any => "any",
    }
}

/// Meteor `check(obj, { key: Match.Maybe(Type), ... })`: absent and `null` fields pass.
pub fn match_fields(obj: &Map<String, Value>, fields: &[(&str, Ty)]) -> Result<(), ApiError> {
    for (key, ty) in fields {
        let Some(v) = obj.get(*key).filter(|v| !v.is_null()) else {
            continue;
        };
        if type_error(v, *ty).is_some() {
            let got = if v.is_array() && matches!(ty, Ty::Obj) { "array" } else { js_type(v) };
            return Err(ApiError::plain(format!("Match error: Expected {}, got {got} in field {key}", expected(*ty))));
        }
    }
    Ok(())
}

/// Ajv type errors of optional fields, as `"<prefix>/<key> must be <type>"`; absent fields pass.
pub fn ajv_type_errors(obj: &Map<String, Value>, prefix: &str, fields: &[(&str, Ty)]) -> Vec<String> {
    fields
        .iter()
        .filter_map(|(key, ty)| {
            let v = obj.get(*key)?;
            type_error(v, *ty).map(|e| format!("{prefix}/{key} {e}"))
        })
        .collect()
}

/// A typed body's ajv errors as Rocket.Chat's typed routes answer them.
pub fn typed_body(errors: Vec<String>) -> Result<(), ApiError> {
    if errors.is_empty() { Ok(()) } else { Err(ApiError::failure(errors.join("\n "), "invalid-params")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn meteor_and_ajv_messages() {
        let body = json!({"msg": {"$gt": ""}, "tshow": "yes", "ok": "x"});
        let body = body.as_object().unwrap();
        let err = match_fields(body, &[("ok", Ty::Str), ("msg", Ty::Str)]).unwrap_err();
        assert!(
            matches!(err, ApiError::Failure { ref error, .. } if error == "Match error: Expected string, got object in field msg")
        );
        assert!(match_fields(body, &[("missing", Ty::Str)]).is_ok());
        assert_eq!(ajv_type_errors(body, "", &[("tshow", Ty::Bool), ("ok", Ty::Str)]), ["/tshow must be boolean"]);
    }
}
