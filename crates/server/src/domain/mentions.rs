//! The `mentions` of a message, as Rocket.Chat's mentions parser finds them: `@all`, `@here`
//! and `@username` of users that exist.

use super::str_of;
use crate::state::AppState;
use serde_json::{Value, json};
use store::StoreResult;

/// `@name` tokens in a text: after the start, a space or `>`, made of the characters usernames
/// may hold.
fn mentioned_names(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c != '@' || (i > 0 && !(chars[i - 1].is_whitespace() || chars[i - 1] == '>')) {
            continue;
        }
        let name: String =
            chars[i + 1..].iter().take_while(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
        let name = name.trim_end_matches('.').to_owned();
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The `mentions` list of a message text.
pub async fn mentions(state: &AppState, text: &str) -> StoreResult<Value> {
    let mut out = Vec::new();
    for name in mentioned_names(text) {
        if name == "all" || name == "here" {
            out.push(json!({"_id": name, "username": name, "type": "user"}));
        } else if let Some(user) = state.store().user_by_username(&name).await? {
            out.push(json!({
                "_id": str_of(&user, "_id"), "username": str_of(&user, "username"),
                "name": user.get("name"), "type": "user",
            }));
        }
    }
    Ok(Value::Array(out))
}

#[cfg(test)]
mod tests {
    use super::mentioned_names;

    #[test]
    fn finds_names_at_word_starts() {
        assert_eq!(mentioned_names("hello @user1, and @all."), ["user1", "all"]);
        assert_eq!(mentioned_names("mail a@b.c or @x.y"), ["x.y"]);
        assert!(mentioned_names("no mention@here").is_empty());
    }
}
