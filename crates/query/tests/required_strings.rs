//! `Filter::required_strings`: the strings a store may look up in a posting list, and only when
//! every matching document must hold one of them.

use query::Filter;
use serde_json::{Value, json};

fn required(q: Value, path: &str) -> Option<Vec<String>> {
    Filter::parse(&q).unwrap().required_strings(path)
}

fn strings(list: &[&str]) -> Option<Vec<String>> {
    Some(list.iter().map(|s| s.to_string()).collect())
}

#[test]
fn equality_and_in_list_in_a_conjunction() {
    assert_eq!(required(json!({"channel": "#a"}), "channel"), strings(&["#a"]));
    assert_eq!(
        required(json!({"channel": {"$in": ["#b", "#a", "#b"]}, "type": "x"}), "channel"),
        strings(&["#a", "#b"])
    );
    assert_eq!(required(json!({"$and": [{"type": "x"}, {"channel": {"$eq": "#a"}}]}), "channel"), strings(&["#a"]));
    assert_eq!(required(json!({"_createdBy._id": "u1"}), "_createdBy._id"), strings(&["u1"]));
}

#[test]
fn a_disjunction_needs_the_path_in_every_branch() {
    assert_eq!(
        required(json!({"$or": [{"channel": "#a"}, {"channel": "#b", "type": "x"}]}), "channel"),
        strings(&["#a", "#b"])
    );
    assert_eq!(required(json!({"$or": [{"channel": "#a"}, {"type": "x"}]}), "channel"), None);
}

#[test]
fn nothing_required_when_other_values_could_match() {
    for q in [
        json!({}),
        json!({"type": "x"}),
        json!({"channel": {"$ne": "#a"}}),
        json!({"channel": {"$not": {"$eq": "#a"}}}),
        json!({"channel": {"$in": ["#a", {"$regex": "b"}]}}),
        json!({"channel": {"$in": ["#a", null]}}),
        json!({"channel": {"$regex": "^#a$"}}),
        json!({"channel": ["#a"]}),
        json!({"$nor": [{"channel": "#a"}]}),
        json!({"channel.x": "#a"}),
    ] {
        assert_eq!(required(q.clone(), "channel"), None, "{q}");
    }
}

/// Whatever the filter, a document it matches holds one of the required strings.
#[test]
fn matching_documents_hold_a_required_string() {
    let docs = [
        json!({"channel": "#a"}),
        json!({"channel": ["#x", "#b"]}),
        json!({"channel": ["#x"]}),
        json!({"channel": null}),
        json!({}),
        json!({"channel": [["#a"]]}),
    ];
    let filters = [
        json!({"channel": "#a"}),
        json!({"channel": {"$in": ["#a", "#b"]}}),
        json!({"$or": [{"channel": "#b"}, {"channel": {"$in": ["#a"]}}]}),
        json!({"channel": {"$in": ["#b"]}, "$or": [{"channel": "#x"}, {"channel": "#y"}]}),
    ];
    for f in &filters {
        let filter = Filter::parse(f).unwrap();
        let wanted = filter.required_strings("channel").expect("required");
        for d in &docs {
            if filter.matches(d) {
                let held: Vec<&str> = match &d["channel"] {
                    Value::String(s) => vec![s.as_str()],
                    Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                    _ => vec![],
                };
                assert!(held.iter().any(|h| wanted.iter().any(|w| w == h)), "{f} matched {d} but {wanted:?}");
            }
        }
    }
}
