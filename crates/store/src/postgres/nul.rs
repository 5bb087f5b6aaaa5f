//! PostgreSQL text cannot hold the NUL character, and JSONB refuses it even escaped
//! (`\u0000`). Records copied from SQLite may have one; it becomes U+FFFD.

const REPLACEMENT: char = '\u{FFFD}';

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
    fn raw_nul_in_text_is_replaced() {
        assert_eq!(text_without_nul("a\0b").as_deref(), Some("a\u{FFFD}b"));
        assert_eq!(text_without_nul("ab"), None);
    }
}
