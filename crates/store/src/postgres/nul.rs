//! PostgreSQL text cannot hold the NUL character, and JSONB refuses it even escaped
//! (`\u0000`). Documents written and records copied from SQLite may have one; it becomes U+FFFD.

use crate::Doc;
use serde_json::Value;

const REPLACEMENT: char = '\u{FFFD}';

/// Whether a key or string anywhere in the document holds a NUL.
pub fn doc_has_nul(doc: &Doc) -> bool {
    doc.iter().any(|(k, v)| k.contains('\0') || value_has_nul(v))
}

fn value_has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(value_has_nul),
        Value::Object(map) => doc_has_nul(map),
        _ => false,
    }
}

/// The document with every NUL in its keys and strings replaced.
pub fn doc_without_nul(doc: &Doc) -> Doc {
    doc.iter().map(|(k, v)| (text_without_nul(k).unwrap_or_else(|| k.clone()), value_without_nul(v))).collect()
}

fn value_without_nul(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(text_without_nul(s).unwrap_or_else(|| s.clone())),
        Value::Array(items) => Value::Array(items.iter().map(value_without_nul).collect()),
        Value::Object(map) => Value::Object(doc_without_nul(map)),
        other => other.clone(),
    }
}

/// The text with every NUL replaced; `None` when there is none.
pub fn text_without_nul(text: &str) -> Option<String> {
    text.contains('\0').then(|| text.replace('\0', &REPLACEMENT.to_string()))
}

/// JSON text whose strings no longer hold NUL, escaped or not; `None` when there is none.
pub fn json_without_nul(json: &str) -> Option<String> {
    if !json.contains("\\u0000") && !json.contains('\0') {
        return None;
    }
    let mut out = String::with_capacity(json.len());
    let mut rest = json;
    let mut changed = false;
    while let Some(at) = rest.find(['\\', '\0']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if rest.starts_with('\0') {
            out.push(REPLACEMENT);
            rest = &rest[1..];
            changed = true;
        } else if rest.starts_with("\\u0000") {
            out.push_str("\\ufffd");
            rest = &rest[6..];
            changed = true;
        } else {
            // Any other escape, kept whole so an escaped backslash is never read as a start.
            let len = rest[1..].chars().next().map_or(1, |c| 1 + c.len_utf8());
            out.push_str(&rest[..len]);
            rest = &rest[len..];
        }
    }
    out.push_str(rest);
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_nul_in_json_strings_becomes_the_replacement_character() {
        let fixed = json_without_nul(r#"{"msg":"a\u0000b","n":1}"#).unwrap();
        let value: serde_json::Value = serde_json::from_str(&fixed).unwrap();
        assert_eq!(value["msg"], "a\u{FFFD}b");
    }

    #[test]
    fn an_escaped_backslash_before_u0000_is_not_a_nul() {
        assert_eq!(json_without_nul(r#"{"path":"C:\\u0000"}"#), None);
        let fixed = json_without_nul(r#"{"a":"\\\u0000"}"#).unwrap();
        assert_eq!(fixed, r#"{"a":"\\\ufffd"}"#);
    }

    #[test]
    fn nul_anywhere_in_a_document_is_replaced() {
        let doc = serde_json::json!({"msg": "a\u{0}b", "list": [{"k\u{0}": 1}], "n": 2});
        let doc = doc.as_object().unwrap();
        assert!(doc_has_nul(doc));
        let fixed = doc_without_nul(doc);
        assert!(!doc_has_nul(&fixed));
        assert_eq!(
            serde_json::Value::Object(fixed),
            serde_json::json!({"msg": "a\u{FFFD}b", "list": [{"k\u{FFFD}": 1}], "n": 2})
        );
    }

    #[test]
    fn raw_nul_in_text_is_replaced() {
        assert_eq!(text_without_nul("a\0b").as_deref(), Some("a\u{FFFD}b"));
        assert_eq!(text_without_nul("ab"), None);
    }
}
