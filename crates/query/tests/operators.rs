//! One test per operator and per MongoDB semantic rule; each assertion
//! states the MongoDB behaviour it encodes.

use query::{Filter, QueryError};
use serde_json::{Value, json};

/// Evaluates on the `Value` and on the compact `DocSet` encoding (document
/// by document, and by the column scan of `count`/`select`); all must agree.
fn m(q: Value, d: Value) -> bool {
    dated(q, d, &[])
}

/// [`m`] with the paths `dates` declared as date fields.
fn dated(q: Value, d: Value, dates: &[&str]) -> bool {
    let f = Filter::parse_with_dates(&q, dates).unwrap_or_else(|e| panic!("{q}: {e}"));
    let a = f.matches(&d);
    let set = query::DocSet::from_values([&d]);
    assert_eq!(a, f.matches_ref(set.get(0).unwrap()), "Value and DocSet disagree on {q} / {d}");
    assert_eq!(usize::from(a), f.count(&set), "Value and DocSet count disagree on {q} / {d}");
    // Also with other documents around it (other columns, absent cells).
    let set = query::DocSet::from_values([&json!({"zz": 1}), &d, &json!(7), &json!({"a": null})]);
    assert_eq!(f.select(&set).contains(&1), a, "Value and DocSet select disagree on {q} / {d}");
    a
}

fn err(q: Value) -> QueryError {
    Filter::parse(&q).expect_err("should be rejected")
}

#[test]
fn implicit_equality_and_eq() {
    assert!(m(json!({"a": 1}), json!({"a": 1})));
    assert!(m(json!({"a": {"$eq": 1}}), json!({"a": 1})));
    assert!(!m(json!({"a": 1}), json!({"a": 2})));
    // numbers compare by value: 1 == 1.0
    assert!(m(json!({"a": 1}), json!({"a": 1.0})));
    // no cross-type equality: "1" != 1, true != 1
    assert!(!m(json!({"a": "1"}), json!({"a": 1})));
    assert!(!m(json!({"a": true}), json!({"a": 1})));
    // an empty query matches everything
    assert!(m(json!({}), json!({"x": 1})));
    // several fields are ANDed
    assert!(m(json!({"a": 1, "b": 2}), json!({"a": 1, "b": 2})));
    assert!(!m(json!({"a": 1, "b": 2}), json!({"a": 1, "b": 3})));
}

#[test]
fn equality_on_arrays() {
    // a scalar matches any element of an array field
    assert!(m(json!({"channel": "#general"}), json!({"channel": ["#dev", "#general"]})));
    // an array literal matches the whole array (order matters) ...
    assert!(m(json!({"a": [1, 2]}), json!({"a": [1, 2]})));
    assert!(!m(json!({"a": [1, 2]}), json!({"a": [2, 1]})));
    // ... or an element that is that array
    assert!(m(json!({"a": [1, 2]}), json!({"a": [[1, 2], 3]})));
    // only one level of expansion
    assert!(!m(json!({"a": 1}), json!({"a": [[1]]})));
    assert!(m(json!({"a": []}), json!({"a": []})));
    assert!(m(json!({"a": []}), json!({"a": [[]]})));
    assert!(!m(json!({"a": []}), json!({"a": [1]})));
}

#[test]
fn equality_on_documents() {
    // whole-document equality: same fields, same order, same values
    assert!(m(json!({"a": {"x": 1, "y": 2}}), json!({"a": {"x": 1, "y": 2}})));
    assert!(!m(json!({"a": {"x": 1, "y": 2}}), json!({"a": {"y": 2, "x": 1}})));
    assert!(!m(json!({"a": {"x": 1}}), json!({"a": {"x": 1, "y": 2}})));
    assert!(m(json!({"a": {"x": 1.0}}), json!({"a": {"x": 1}})));
    assert!(m(json!({"a": {}}), json!({"a": {}})));
}

#[test]
fn null_matches_missing() {
    assert!(m(json!({"a": null}), json!({})));
    assert!(m(json!({"a": null}), json!({"a": null})));
    assert!(!m(json!({"a": null}), json!({"a": 0})));
    // an array containing null
    assert!(m(json!({"a": null}), json!({"a": [1, null]})));
    // a path through a scalar is missing
    assert!(m(json!({"a.b": null}), json!({"a": 5})));
    // an array of documents where one lacks the field
    assert!(m(json!({"a.b": null}), json!({"a": [{"b": 1}, {"c": 2}]})));
    assert!(!m(json!({"a.b": null}), json!({"a": [{"b": 1}]})));
    // $exists distinguishes them
    assert!(m(json!({"a": {"$exists": true}}), json!({"a": null})));
    assert!(!m(json!({"a": {"$exists": true}}), json!({})));
}

#[test]
fn ne() {
    assert!(m(json!({"a": {"$ne": 1}}), json!({"a": 2})));
    assert!(!m(json!({"a": {"$ne": 1}}), json!({"a": 1})));
    // $ne matches missing fields
    assert!(m(json!({"a": {"$ne": 1}}), json!({})));
    // and fails when any element equals
    assert!(!m(json!({"a": {"$ne": 1}}), json!({"a": [0, 1]})));
    // $ne: null means "exists and not null"
    assert!(!m(json!({"a": {"$ne": null}}), json!({})));
    assert!(m(json!({"a": {"$ne": null}}), json!({"a": 0})));
}

#[test]
fn comparisons() {
    let d = json!({"n": 5, "s": "m", "arr": [1, 10], "b": true});
    assert!(m(json!({"n": {"$gt": 4}}), d.clone()));
    assert!(!m(json!({"n": {"$gt": 5}}), d.clone()));
    assert!(m(json!({"n": {"$gte": 5}}), d.clone()));
    assert!(m(json!({"n": {"$lt": 5.5}}), d.clone()));
    assert!(m(json!({"n": {"$lte": 5.0}}), d.clone()));
    assert!(m(json!({"s": {"$gt": "a", "$lt": "z"}}), d.clone()));
    // type brackets: a number is never $gt a string and vice versa
    assert!(!m(json!({"n": {"$gt": "a"}}), d.clone()));
    assert!(!m(json!({"s": {"$lt": 1}}), d.clone()));
    assert!(!m(json!({"b": {"$gt": 0}}), d.clone()));
    // arrays: any element may satisfy each operator independently
    assert!(m(json!({"arr": {"$gt": 5}}), d.clone()));
    assert!(m(json!({"arr": {"$gt": 5, "$lt": 2}}), d.clone()));
    // whole-array comparison with an array literal
    assert!(m(json!({"arr": {"$gt": [1, 2]}}), d.clone()));
    assert!(!m(json!({"arr": {"$lt": [1, 2]}}), d.clone()));
    // missing fields never compare, except $gte/$lte null
    assert!(!m(json!({"zz": {"$lt": 1}}), d.clone()));
    assert!(m(json!({"zz": {"$gte": null}}), d.clone()));
    assert!(m(json!({"zz": {"$lte": null}}), d.clone()));
    assert!(!m(json!({"zz": {"$gt": null}}), d.clone()));
    // strings compare by bytes (uppercase before lowercase)
    assert!(m(json!({"s": {"$gt": "Z"}}), d));
    // objects compare field by field
    assert!(m(json!({"o": {"$gt": {"a": 1}}}), json!({"o": {"a": 2}})));
    assert!(m(json!({"o": {"$gt": {"a": 1}}}), json!({"o": {"b": 0}})));
}

#[test]
fn in_and_nin() {
    assert!(m(json!({"type": {"$in": ["a", "b"]}}), json!({"type": "b"})));
    assert!(!m(json!({"type": {"$in": ["a", "b"]}}), json!({"type": "c"})));
    assert!(m(json!({"channel": {"$in": ["#x", "#y"]}}), json!({"channel": ["#z", "#y"]})));
    // null in $in matches missing
    assert!(m(json!({"a": {"$in": [null]}}), json!({})));
    assert!(!m(json!({"a": {"$in": []}}), json!({"a": 1})));
    // $in with numbers by value
    assert!(m(json!({"a": {"$in": [2.0]}}), json!({"a": 2})));
    // whole-array membership
    assert!(m(json!({"a": {"$in": [[1, 2]]}}), json!({"a": [1, 2]})));
    // regex values (optional in the spec, supported)
    assert!(m(json!({"a": {"$in": [{"$regex": "^x"}, 5]}}), json!({"a": "xyz"})));
    // $nin matches missing, fails on any element in the list
    assert!(m(json!({"a": {"$nin": [1]}}), json!({})));
    assert!(!m(json!({"a": {"$nin": [1]}}), json!({"a": [0, 1]})));
    assert!(m(json!({"a": {"$nin": [1]}}), json!({"a": [0, 2]})));
    assert!(matches!(err(json!({"a": {"$in": 1}})), QueryError::BadArgument(_)));
    assert!(matches!(err(json!({"a": {"$in": [{"$gt": 1}]}})), QueryError::BadArgument(_)));
}

#[test]
fn exists() {
    assert!(m(json!({"a.b": {"$exists": true}}), json!({"a": {"b": null}})));
    assert!(!m(json!({"a.b": {"$exists": true}}), json!({"a": {"c": 1}})));
    assert!(m(json!({"a.b": {"$exists": false}}), json!({"a": 1})));
    // through arrays: any element that has it
    assert!(m(json!({"a.b": {"$exists": true}}), json!({"a": [{"c": 1}, {"b": 2}]})));
    assert!(!m(json!({"a.b": {"$exists": false}}), json!({"a": [{"c": 1}, {"b": 2}]})));
    // numbers are accepted as booleans
    assert!(m(json!({"a": {"$exists": 1}}), json!({"a": 0})));
}

#[test]
fn type_operator() {
    let d = json!({"s": "x", "i": 3, "f": 1.5, "big": 3_000_000_000i64, "o": {}, "a": [1, "y"], "b": false, "n": null,
                   "d": "2025-01-01T12:00:00.000Z"});
    assert!(m(json!({"s": {"$type": "string"}}), d.clone()));
    assert!(m(json!({"s": {"$type": 2}}), d.clone()));
    assert!(m(json!({"i": {"$type": "int"}}), d.clone()));
    assert!(m(json!({"i": {"$type": "number"}}), d.clone()));
    assert!(!m(json!({"i": {"$type": "double"}}), d.clone()));
    assert!(m(json!({"f": {"$type": "double"}}), d.clone()));
    // integers beyond 32 bits are stored as doubles by the Node.js driver
    assert!(m(json!({"big": {"$type": "double"}}), d.clone()));
    assert!(!m(json!({"big": {"$type": "long"}}), d.clone()));
    assert!(m(json!({"o": {"$type": "object"}}), d.clone()));
    assert!(m(json!({"a": {"$type": "array"}}), d.clone()));
    // elements are checked too
    assert!(m(json!({"a": {"$type": "string"}}), d.clone()));
    assert!(m(json!({"b": {"$type": "bool"}}), d.clone()));
    assert!(m(json!({"n": {"$type": "null"}}), d.clone()));
    assert!(!m(json!({"zz": {"$type": "null"}}), d.clone()));
    // an ISO string is a date only in a declared date field, and then never a string
    assert!(!m(json!({"d": {"$type": "date"}}), d.clone()));
    assert!(m(json!({"d": {"$type": "string"}}), d.clone()));
    assert!(dated(json!({"d": {"$type": "date"}}), d.clone(), &["d"]));
    assert!(dated(json!({"d": {"$type": 9}}), d.clone(), &["d"]));
    assert!(!dated(json!({"d": {"$type": "string"}}), d.clone(), &["d"]));
    assert!(dated(json!({"s": {"$type": "string"}}), d.clone(), &["d"]));
    assert!(m(json!({"s": {"$type": ["number", "string"]}}), d));
    assert!(matches!(err(json!({"a": {"$type": "nope"}})), QueryError::BadArgument(_)));
    assert!(matches!(err(json!({"a": {"$type": 99}})), QueryError::BadArgument(_)));
}

#[test]
fn regex_operator() {
    assert!(m(json!({"name": {"$regex": "g"}}), json!({"name": "dog"})));
    assert!(!m(json!({"name": {"$regex": "G"}}), json!({"name": "dog"})));
    assert!(m(json!({"name": {"$regex": "G", "$options": "i"}}), json!({"name": "dog"})));
    assert!(m(json!({"name": {"$options": "i", "$regex": "G"}}), json!({"name": "dog"})));
    assert!(m(json!({"name": {"$regex": "^b", "$options": "m"}}), json!({"name": "a\nb"})));
    assert!(m(json!({"name": {"$regex": "a.b", "$options": "s"}}), json!({"name": "a\nb"})));
    assert!(m(json!({"name": {"$regex": "d o g", "$options": "x"}}), json!({"name": "dog"})));
    // array elements
    assert!(m(json!({"tags": {"$regex": "^x"}}), json!({"tags": ["a", "xy"]})));
    // only strings match
    assert!(!m(json!({"n": {"$regex": "1"}}), json!({"n": 1})));
    assert!(!m(json!({"n": {"$regex": "null"}}), json!({})));
    // \w \d \s \b are ASCII, as in MongoDB's PCRE
    assert!(!m(json!({"name": {"$regex": "^\\w+$"}}), json!({"name": "café"})));
    // $options without $regex, bad options, unsupported features
    assert!(matches!(err(json!({"a": {"$options": "i"}})), QueryError::BadArgument(_)));
    assert!(matches!(err(json!({"a": {"$regex": "x", "$options": "g"}})), QueryError::BadRegex(_)));
    assert!(matches!(err(json!({"a": {"$regex": "(a)\\1"}})), QueryError::UnsupportedRegex(_)));
    assert!(matches!(err(json!({"a": {"$regex": "a(?=b)"}})), QueryError::UnsupportedRegex(_)));
    assert!(matches!(err(json!({"a": {"$regex": 5}})), QueryError::BadArgument(_)));
    assert_eq!(
        err(json!({"a": {"$regex": "(?<=a)b"}})).to_string(),
        "unsupported regular expression feature: lookahead/lookbehind assertions"
    );
}

#[test]
fn not_operator() {
    assert!(m(json!({"a": {"$not": {"$gt": 5}}}), json!({"a": 3})));
    assert!(!m(json!({"a": {"$not": {"$gt": 5}}}), json!({"a": 6})));
    // $not matches missing fields and other types
    assert!(m(json!({"a": {"$not": {"$gt": 5}}}), json!({})));
    assert!(m(json!({"a": {"$not": {"$gt": 5}}}), json!({"a": "x"})));
    assert!(m(json!({"name": {"$not": {"$regex": "^a"}}}), json!({"name": "ba"})));
    // $not of several operators negates their conjunction
    assert!(m(json!({"a": {"$not": {"$gt": 1, "$lt": 3}}}), json!({"a": 5})));
    assert!(!m(json!({"a": {"$not": {"$gt": 1, "$lt": 3}}}), json!({"a": 2})));
    assert!(matches!(err(json!({"a": {"$not": 1}})), QueryError::BadArgument(_)));
    assert!(matches!(err(json!({"a": {"$not": {}}})), QueryError::BadArgument(_)));
    assert!(matches!(err(json!({"a": {"$not": {"b": 1}}})), QueryError::UnknownOperator(_)));
}

#[test]
fn logical_operators() {
    let d = json!({"a": 1, "b": 2});
    assert!(m(json!({"$and": [{"a": 1}, {"b": 2}]}), d.clone()));
    assert!(!m(json!({"$and": [{"a": 1}, {"b": 3}]}), d.clone()));
    assert!(m(json!({"$or": [{"a": 5}, {"b": 2}]}), d.clone()));
    assert!(!m(json!({"$or": [{"a": 5}, {"b": 5}]}), d.clone()));
    assert!(m(json!({"$nor": [{"a": 5}, {"b": 5}]}), d.clone()));
    assert!(!m(json!({"$nor": [{"a": 1}]}), d.clone()));
    assert!(m(json!({"$or": [{"$and": [{"a": 1}, {"b": 2}]}, {"c": 1}], "a": {"$in": [1]}}), d));
    for op in ["$and", "$or", "$nor"] {
        assert!(matches!(err(json!({op: []})), QueryError::BadArgument(_)), "{op}");
        assert!(matches!(err(json!({op: {}})), QueryError::BadArgument(_)), "{op}");
        assert!(matches!(err(json!({op: [1]})), QueryError::BadArgument(_)), "{op}");
    }
}

#[test]
fn all_operator() {
    assert!(m(json!({"t": {"$all": ["a", "b"]}}), json!({"t": ["b", "c", "a"]})));
    assert!(!m(json!({"t": {"$all": ["a", "b"]}}), json!({"t": ["a"]})));
    // $all is an $and of equalities: a scalar field matches a one-value list
    assert!(m(json!({"t": {"$all": ["a"]}}), json!({"t": "a"})));
    // an empty list matches nothing
    assert!(!m(json!({"t": {"$all": []}}), json!({"t": []})));
    // nested array value
    assert!(m(json!({"t": {"$all": [[1, 2]]}}), json!({"t": [[1, 2], 3]})));
    // with $elemMatch
    assert!(m(
        json!({"t": {"$all": [{"$elemMatch": {"x": 1}}, {"$elemMatch": {"y": 2}}]}}),
        json!({"t": [{"x": 1}, {"y": 2}]})
    ));
}

#[test]
fn elem_match() {
    let d = json!({"r": [{"p": "a", "s": 8}, {"p": "b", "s": 3}], "n": [1, 10, 4]});
    // one element must satisfy all conditions
    assert!(m(json!({"r": {"$elemMatch": {"p": "b", "s": {"$lt": 5}}}}), d.clone()));
    assert!(!m(json!({"r": {"$elemMatch": {"p": "a", "s": {"$lt": 5}}}}), d.clone()));
    // contrast: without $elemMatch conditions may hold on different elements
    assert!(m(json!({"r.p": "a", "r.s": {"$lt": 5}}), d.clone()));
    // value form
    assert!(m(json!({"n": {"$elemMatch": {"$gt": 3, "$lt": 5}}}), d.clone()));
    assert!(!m(json!({"n": {"$elemMatch": {"$gt": 4, "$lt": 10}}}), d.clone()));
    // non-arrays never match
    assert!(!m(json!({"x": {"$elemMatch": {"$gt": 0}}}), json!({"x": 5})));
    // the document form ignores scalar elements
    assert!(!m(json!({"n": {"$elemMatch": {"a": {"$exists": false}}}}), d.clone()));
    // value form compares nested arrays as a whole
    assert!(!m(json!({"n": {"$elemMatch": {"$gte": 1}}}), json!({"n": [[5]]})));
    // logical operators inside use the document form
    assert!(m(json!({"r": {"$elemMatch": {"$or": [{"p": "z"}, {"s": 3}]}}}), d));
}

#[test]
fn size() {
    assert!(m(json!({"a": {"$size": 2}}), json!({"a": [1, [2, 3]]})));
    assert!(!m(json!({"a": {"$size": 1}}), json!({"a": [1, 2]})));
    assert!(m(json!({"a": {"$size": 0}}), json!({"a": []})));
    assert!(!m(json!({"a": {"$size": 0}}), json!({})));
    assert!(!m(json!({"a": {"$size": 1}}), json!({"a": "x"})));
    assert!(m(json!({"a": {"$size": 2.0}}), json!({"a": [1, 2]})));
    assert!(matches!(err(json!({"a": {"$size": -1}})), QueryError::BadArgument(_)));
    assert!(matches!(err(json!({"a": {"$size": 1.5}})), QueryError::BadArgument(_)));
}

#[test]
fn mod_operator() {
    assert!(m(json!({"a": {"$mod": [4, 0]}}), json!({"a": 8})));
    assert!(!m(json!({"a": {"$mod": [4, 0]}}), json!({"a": 9})));
    // doubles are truncated towards zero
    assert!(m(json!({"a": {"$mod": [4, 1]}}), json!({"a": 5.9})));
    // the remainder takes the dividend's sign
    assert!(m(json!({"a": {"$mod": [4, -1]}}), json!({"a": -5})));
    assert!(m(json!({"a": {"$mod": [2, 1]}}), json!({"a": [2, 3]})));
    assert!(!m(json!({"a": {"$mod": [2, 0]}}), json!({"a": "4"})));
    assert!(!m(json!({"a": {"$mod": [2, 0]}}), json!({"a": null})));
    assert!(matches!(err(json!({"a": {"$mod": [0, 1]}})), QueryError::BadArgument(_)));
    assert!(matches!(err(json!({"a": {"$mod": [1]}})), QueryError::BadArgument(_)));
    assert!(matches!(err(json!({"a": {"$mod": [1, 2, 3]}})), QueryError::BadArgument(_)));
}

#[test]
fn dot_paths() {
    let d = json!({"_createdBy": {"_id": "u1", "username": "x"}, "a": [{"b": {"c": 1}}, {"b": {"c": 2}}], "m": [[1, 2], [3]]});
    assert!(m(json!({"_createdBy._id": "u1"}), d.clone()));
    assert!(m(json!({"a.b.c": 2}), d.clone()));
    // numeric segments index arrays
    assert!(m(json!({"a.0.b.c": 1}), d.clone()));
    assert!(!m(json!({"a.0.b.c": 2}), d.clone()));
    assert!(m(json!({"m.1": 3}), d.clone()));
    assert!(m(json!({"m.0": [1, 2]}), d.clone()));
    assert!(m(json!({"m.0.1": 2}), d.clone()));
    // out of range index is missing
    assert!(m(json!({"m.5": null}), d));
}

#[test]
fn ejson_dates() {
    let d = json!({"_createdAt": "2017-01-05T17:06:05.660Z", "other": "2017-01-05T17:06:05Z", "n": 1483635965660i64,
                   "plain": "2017-01-05T17:06:05.660Z"});
    let m = |q: Value, d: Value| dated(q, d, &["_createdAt", "other", "n"]);
    assert!(m(json!({"_createdAt": {"$date": "2017-01-05T17:06:05.660Z"}}), d.clone()));
    assert!(m(json!({"_createdAt": {"$date": 1483635965660i64}}), d.clone()));
    assert!(m(json!({"_createdAt": {"$date": {"$numberLong": "1483635965660"}}}), d.clone()));
    assert!(m(json!({"_createdAt": {"$gt": {"$date": "2017-01-01T00:00:00Z"}}}), d.clone()));
    assert!(m(json!({"_createdAt": {"$lt": {"$date": "2017-01-05T18:06:05.661+01:00"}}}), d.clone()));
    assert!(!m(json!({"_createdAt": {"$lt": {"$date": "2017-01-05T17:06:05.660Z"}}}), d.clone()));
    assert!(m(json!({"_createdAt": {"$in": [{"$date": 1483635965660i64}]}}), d.clone()));
    assert!(m(json!({"_createdAt": {"$nin": [{"$date": 0}]}}), d.clone()));
    // a date field holds a date: a string operand never equals or orders with it
    assert!(!m(json!({"_createdAt": "2017-01-05T17:06:05.660Z"}), d.clone()));
    assert!(!m(json!({"_createdAt": {"$gt": "1970-01-01T00:00:00.000Z"}}), d.clone()));
    assert!(!m(json!({"_createdAt": {"$lt": "9"}}), d.clone()));
    assert!(!m(json!({"_createdAt": {"$in": ["2017-01-05T17:06:05.660Z"]}}), d.clone()));
    assert!(m(json!({"_createdAt": {"$ne": "2017-01-05T17:06:05.660Z"}}), d.clone()));
    // $regex matches strings only
    assert!(!m(json!({"_createdAt": {"$regex": "\\d"}}), d.clone()));
    assert!(!m(json!({"_createdAt": {"$in": [{"$regex": "2017"}]}}), d.clone()));
    assert!(m(json!({"$nor": [{"_createdAt": {"$regex": "0"}}]}), d.clone()));
    assert!(m(json!({"_createdAt": {"$not": {"$regex": "0"}}}), d.clone()));
    // no value is both a date and a string
    assert!(!m(json!({"_createdAt": {"$type": "date", "$lt": "z"}}), d.clone()));
    // outside a date field the same text is a string, which never equals a date
    assert!(m(json!({"plain": "2017-01-05T17:06:05.660Z"}), d.clone()));
    assert!(!m(json!({"plain": {"$date": "2017-01-05T17:06:05.660Z"}}), d.clone()));
    assert!(m(json!({"plain": {"$regex": "^2017"}}), d.clone()));
    // strings of another shape are not dates; numbers are not dates
    assert!(!m(json!({"other": {"$gt": {"$date": 0}}}), d.clone()));
    assert!(m(json!({"other": {"$type": "string"}}), d.clone()));
    assert!(!m(json!({"n": {"$date": 1483635965660i64}}), d.clone()));
    assert!(!m(json!({"n": {"$gt": {"$date": 0}}}), d));
    // array elements of a date field are dates too
    let a = json!({"_createdAt": ["2017-01-05T17:06:05.660Z", "x"]});
    assert!(m(json!({"_createdAt": {"$date": 1483635965660i64}}), a.clone()));
    assert!(m(json!({"_createdAt": {"$type": "string"}}), a.clone()));
    assert!(!m(json!({"_createdAt": {"$regex": "2017"}}), a));
    assert!(matches!(err(json!({"a": {"$date": "yesterday"}})), QueryError::BadArgument(_)));
    assert!(matches!(err(json!({"a": {"$date": 1e300}})), QueryError::BadArgument(_)));
}

#[test]
fn date_fields_sort_as_dates() {
    use query::Sort;
    let mut docs = vec![
        json!({"_id": 1, "t": "2025-01-01T00:00:00.000Z"}),
        json!({"_id": 2, "t": true}),
        json!({"_id": 3, "t": "zzz"}),
        json!({"_id": 4, "t": "1999-01-01T00:00:00.000Z"}),
    ];
    Sort::parse_with_dates(&json!({"t": 1}), &["t"]).unwrap().sort_values(&mut docs);
    // strings < booleans < dates; dates by instant
    let ids: Vec<i64> = docs.iter().map(|d| d["_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![3, 2, 4, 1]);
    Sort::parse(&json!({"t": 1})).unwrap().sort_values(&mut docs);
    let ids: Vec<i64> = docs.iter().map(|d| d["_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![4, 1, 3, 2]);
}

#[test]
fn forbidden_and_unknown_operators_are_named() {
    for op in [
        "$where",
        "$expr",
        "$function",
        "$accumulator",
        "$jsonSchema",
        "$text",
        "$near",
        "$geoWithin",
        "$geoIntersects",
        "$nearSphere",
    ] {
        let e = err(json!({op: "x"}));
        assert_eq!(e, QueryError::ForbiddenOperator(op.into()));
        assert!(e.to_string().contains(op));
        let e = err(json!({"a": {op: "x"}}));
        assert!(e.to_string().contains(op), "{op}: {e}");
    }
    assert_eq!(err(json!({"$foo": 1})).to_string(), "unknown operator $foo");
    assert_eq!(err(json!({"a": {"$foo": 1}})).to_string(), "unknown operator $foo");
    // $-keys inside literal documents are refused too
    assert_eq!(err(json!({"a": {"b": {"$where": 1}}})).to_string(), "operator $where is not allowed");
    assert_eq!(err(json!({"a": {"$elemMatch": {"$where": "1"}}})).to_string(), "operator $where is not allowed");
    assert_eq!(err(json!({"$or": [{"$expr": {}}]})).to_string(), "operator $expr is not allowed");
}

#[test]
fn forbidden_keys() {
    for k in ["__proto__", "constructor", "prototype"] {
        assert_eq!(err(json!({k: 1})), QueryError::ForbiddenKey(k.into()));
        assert_eq!(err(json!({format!("a.{k}"): 1})), QueryError::ForbiddenKey(k.into()));
        assert_eq!(err(json!({"a": {k: 1}})), QueryError::ForbiddenKey(k.into()));
    }
}

#[test]
fn limits() {
    // nesting depth
    let mut q = json!({"a": 1});
    for _ in 0..40 {
        q = json!({"$and": [q]});
    }
    assert!(matches!(err(q), QueryError::Limit(_)));
    // clauses
    let ors: Vec<Value> = (0..600).map(|i| json!({"a": i})).collect();
    assert!(matches!(err(json!({"$or": ors})), QueryError::Limit(_)));
    // $in length
    let list: Vec<i32> = (0..1001).collect();
    assert!(matches!(err(json!({"a": {"$in": list}})), QueryError::Limit(_)));
    // regex length, count and compiled size
    assert!(matches!(err(json!({"a": {"$regex": "a".repeat(2000)}})), QueryError::Limit(_)));
    let many: Vec<Value> = (0..20).map(|_| json!({"a": {"$regex": "x"}})).collect();
    assert!(matches!(err(json!({"$or": many})), QueryError::Limit(_)));
    assert!(matches!(err(json!({"a": {"$regex": "(?:\\p{L}{100}){30}"}})), QueryError::Limit(_)));
    // total size
    let big: Vec<i32> = (0..900).collect();
    let wide: Vec<Value> = (0..15).map(|_| json!({"a": {"$in": big}})).collect();
    assert!(matches!(err(json!({"$and": wide})), QueryError::Limit(_)));
}

#[test]
fn invalid_shapes() {
    assert!(Filter::parse(&json!([])).is_err());
    assert!(Filter::parse(&json!("x")).is_err());
    assert!(matches!(err(json!({"": 1})), QueryError::InvalidPath(_)));
    assert!(matches!(err(json!({"a..b": 1})), QueryError::InvalidPath(_)));
    assert!(matches!(err(json!({"a": {"$exists": "yes"}})), QueryError::BadArgument(_)));
    // $comment is accepted and ignored
    assert!(m(json!({"$comment": "hi", "a": 1}), json!({"a": 1})));
}

#[test]
fn trusted_scope_only_narrows() {
    let docs = [
        json!({"_id": "1", "type": "webhook-incoming", "name": "Alpha", "_createdBy": {"_id": "u1"}, "channel": ["#a"]}),
        json!({"_id": "2", "type": "webhook-outgoing", "name": "beta", "_createdBy": {"_id": "u2"}, "channel": ["#b"]}),
        json!({"_id": "3", "type": "webhook-incoming", "name": "ALPHABET", "_createdBy": {"_id": "u2"}}),
    ];
    let scope = Filter::or(vec![Filter::eq("_createdBy._id", "u2"), Filter::is_in("channel", ["#a"])]);
    // an untrusted $or cannot widen the scope
    let untrusted = Filter::parse(&json!({"$or": [{"_id": {"$exists": true}}, {"_id": "1"}]})).unwrap();
    let f = Filter::and(vec![scope.clone(), untrusted]);
    let ids: Vec<&str> = docs.iter().filter(|d| f.matches(d)).map(|d| d["_id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["1", "2", "3"]);
    let f =
        Filter::and(vec![scope, Filter::contains_ci("name", "alpha").unwrap(), Filter::eq("type", "webhook-incoming")]);
    let ids: Vec<&str> = docs.iter().filter(|d| f.matches(d)).map(|d| d["_id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["1", "3"]);
    // the name filter is escaped: regex metacharacters are literal
    let f = Filter::contains_ci("name", "a.(b").unwrap();
    assert!(f.matches(&json!({"name": "xA.(Bx"})));
    assert!(!f.matches(&json!({"name": "axxb"})));
    assert!(!Filter::none().matches(&json!({})) && Filter::all().matches(&json!({})));
    assert!(Filter::nor(vec![Filter::exists("a", true)]).matches(&json!({})));
    assert!(Filter::ne("a", 1).matches(&json!({})));
    assert!(Filter::regex("a", "^x", "").unwrap().matches(&json!({"a": "xy"})));
}
