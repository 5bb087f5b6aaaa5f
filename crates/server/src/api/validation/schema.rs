//! A small body validator producing the messages Rocket.Chat's ajv schemas produce:
//! `must have required property 'x'`, `must be string`, `must match pattern "..."`,
//! `must NOT have additional properties`, and `oneOf` over several branches.

use serde_json::{Map, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Str,
    Bool,
    Num,
    /// An array of non-empty strings.
    StrList,
    /// A string or an array of strings (`chat.postMessage`'s `channel`).
    StrOrList,
    /// A string or `null` (ajv `nullable: true`).
    MaybeStr,
    Obj,
    /// An array of objects.
    ObjList,
    Arr,
    Any,
}

pub struct Branch {
    /// `type` must contain this (ajv `pattern` is an unanchored regex).
    pub type_pattern: Option<&'static str>,
    pub required: &'static [(&'static str, Ty)],
    pub optional: &'static [(&'static str, Ty)],
    /// More optional properties (lets two branches share a list and add to it).
    pub more_optional: &'static [(&'static str, Ty)],
    pub additional_properties: bool,
}

/// Ajv's message for a value of the wrong type, `None` when the type is right.
pub fn type_error(value: &Value, ty: Ty) -> Option<String> {
    let ok = match ty {
        Ty::Str => value.is_string(),
        Ty::MaybeStr => value.is_string() || value.is_null(),
        Ty::Bool => value.is_boolean(),
        Ty::Num => value.is_number(),
        Ty::Obj => value.is_object(),
        Ty::Arr => value.is_array(),
        Ty::Any => true,
        Ty::ObjList => {
            let Some(items) = value.as_array() else {
                return Some("must be array".into());
            };
            if items.iter().any(|i| !i.is_object()) {
                return Some("must be object".into());
            }
            true
        }
        Ty::StrOrList => value.is_string() || value.as_array().is_some_and(|items| items.iter().all(Value::is_string)),
        Ty::StrList => {
            let Some(items) = value.as_array() else {
                return Some("must be array".into());
            };
            for item in items {
                match item.as_str() {
                    None => return Some("must be string".into()),
                    Some("") => return Some("must NOT have fewer than 1 characters".into()),
                    _ => {}
                }
            }
            true
        }
    };
    (!ok).then(|| {
        match ty {
            Ty::Str | Ty::MaybeStr | Ty::StrOrList => "must be string",
            Ty::Bool => "must be boolean",
            Ty::Num => "must be number",
            Ty::Obj => "must be object",
            _ => "must be array",
        }
        .to_owned()
    })
}

impl Branch {
    fn properties(&self) -> impl Iterator<Item = &(&'static str, Ty)> {
        self.required.iter().chain(self.optional).chain(self.more_optional)
    }

    /// The first error of this branch, as ajv reports with `allErrors: false`.
    pub fn first_error(&self, body: &Map<String, Value>) -> Option<String> {
        for (key, _) in self.required {
            if !body.contains_key(*key) {
                return Some(format!("must have required property '{key}'"));
            }
        }
        if !self.additional_properties {
            let known = |k: &str| self.properties().any(|(n, _)| *n == k);
            if body.keys().any(|k| !known(k)) {
                return Some("must NOT have additional properties".into());
            }
        }
        for (key, ty) in self.properties() {
            if let Some(v) = body.get(*key)
                && let Some(e) = type_error(v, *ty)
            {
                return Some(e);
            }
        }
        if let Some(pattern) = self.type_pattern {
            let t = body.get("type").and_then(Value::as_str).unwrap_or_default();
            if !t.contains(pattern) {
                return Some(format!("must match pattern \"{pattern}\""));
            }
        }
        None
    }
}

/// `oneOf`: the index of the only branch that matches, or the joined messages.
pub fn one_of(body: &Map<String, Value>, branches: &[&Branch]) -> Result<usize, String> {
    let mut errors = Vec::new();
    let mut matched = Vec::new();
    for (i, b) in branches.iter().enumerate() {
        match b.first_error(body) {
            Some(e) => errors.push(e),
            None => matched.push(i),
        }
    }
    if matched.len() == 1 {
        return Ok(matched[0]);
    }
    errors.push("must match exactly one schema in oneOf".into());
    Err(errors.join("\n "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const A: Branch = Branch {
        type_pattern: Some("a-type"),
        required: &[("type", Ty::Str), ("n", Ty::Bool)],
        optional: &[("x", Ty::StrList)],
        more_optional: &[],
        additional_properties: false,
    };
    const B: Branch = Branch {
        type_pattern: Some("b-type"),
        required: &[("type", Ty::Str)],
        optional: &[],
        more_optional: &[],
        additional_properties: true,
    };

    #[test]
    fn messages() {
        let body = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(A.first_error(&body(json!({"type": "a-type"}))), Some("must have required property 'n'".into()));
        assert_eq!(
            A.first_error(&body(json!({"type": "a-type", "n": true, "z": 1}))),
            Some("must NOT have additional properties".into())
        );
        assert_eq!(A.first_error(&body(json!({"type": "a-type", "n": "yes"}))), Some("must be boolean".into()));
        assert_eq!(
            A.first_error(&body(json!({"type": "a-type", "n": true, "x": [""]}))),
            Some("must NOT have fewer than 1 characters".into())
        );
        assert_eq!(A.first_error(&body(json!({"type": "a-type-invalid", "n": true}))), None, "patterns are unanchored");
        assert_eq!(one_of(&body(json!({"type": "b-type"})), &[&A, &B]), Ok(1));
        let err = one_of(&body(json!({"type": "c"})), &[&A, &B]).unwrap_err();
        assert!(err.ends_with("must match exactly one schema in oneOf"), "{err}");
    }
}
