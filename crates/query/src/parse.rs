//! Parsing an untrusted MongoDB query document into a [`Node`] tree, with
//! the operator allow-list and the size limits enforced on the way.

use crate::error::QueryError;
use crate::limits;
use crate::path::{Path, check_key};
use crate::pattern::Pattern;
use crate::tree::{AllItem, CmpOp, ElemBody, InList, Node, Pred, TypeSel};
use crate::value::{Lit, MAX_DATE_MS, parse_ejson_date_string};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Operators that exist in MongoDB but are refused here.
const FORBIDDEN_OPERATORS: &[&str] = &[
    "$where",
    "$expr",
    "$function",
    "$accumulator",
    "$jsonSchema",
    "$text",
    "$search",
    "$near",
    "$nearSphere",
    "$geoWithin",
    "$geoIntersects",
    "$within",
    "$geometry",
    "$box",
    "$center",
    "$centerSphere",
    "$polygon",
    "$maxDistance",
    "$minDistance",
    "$uniqueDocs",
    "$bitsAllSet",
    "$bitsAllClear",
    "$bitsAnySet",
    "$bitsAnyClear",
    "$sampleRate",
    "$rand",
    "$lookup",
];

fn op_error(op: &str) -> QueryError {
    if FORBIDDEN_OPERATORS.contains(&op) {
        QueryError::ForbiddenOperator(op.to_owned())
    } else {
        QueryError::UnknownOperator(op.to_owned())
    }
}

pub(crate) fn bad(msg: impl Into<String>) -> QueryError {
    QueryError::BadArgument(msg.into())
}

/// Checks depth, size and forbidden keys of any JSON input without recursion.
pub(crate) fn check_shape(v: &Value) -> Result<(), QueryError> {
    let mut stack: Vec<(&Value, usize)> = vec![(v, 1)];
    let mut nodes = 0usize;
    while let Some((v, depth)) = stack.pop() {
        nodes += 1;
        if nodes > limits::MAX_NODES {
            return Err(QueryError::Limit("too many values"));
        }
        match v {
            Value::Array(a) => {
                if depth >= limits::MAX_DEPTH && !a.is_empty() {
                    return Err(QueryError::Limit("nesting too deep"));
                }
                stack.extend(a.iter().map(|c| (c, depth + 1)));
            }
            Value::Object(m) => {
                if depth >= limits::MAX_DEPTH && !m.is_empty() {
                    return Err(QueryError::Limit("nesting too deep"));
                }
                for (k, c) in m {
                    check_key(k)?;
                    for part in k.split('.') {
                        check_key(part)?;
                    }
                    stack.push((c, depth + 1));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Converts an extended-JSON `$date` argument.
fn ejson_date(v: &Value) -> Result<i64, QueryError> {
    let ms = match v {
        Value::String(s) => parse_ejson_date_string(s).ok_or_else(|| bad(format!("invalid $date: {s}")))?,
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if !f.is_finite() || f.abs() > MAX_DATE_MS as f64 {
                    return Err(bad("invalid $date"));
                }
                f.trunc() as i64
            }
        }
        Value::Object(m) if m.len() == 1 && m.contains_key("$numberLong") => match &m["$numberLong"] {
            Value::String(s) => s.parse::<i64>().map_err(|_| bad(format!("invalid $numberLong: {s}")))?,
            _ => return Err(bad("invalid $numberLong")),
        },
        _ => return Err(bad("invalid $date")),
    };
    if ms.abs() > MAX_DATE_MS {
        return Err(bad("$date out of range"));
    }
    Ok(ms)
}

fn is_date_wrapper(m: &Map<String, Value>) -> bool {
    m.len() == 1 && m.contains_key("$date")
}

/// Converts a query literal, interpreting `{"$date": ..}` and rejecting any
/// other `$`-prefixed key.
pub(crate) fn literal(v: &Value) -> Result<Lit, QueryError> {
    Ok(match v {
        Value::Null => Lit::Null,
        Value::Bool(b) => Lit::Bool(*b),
        Value::Number(n) => Lit::Num(n.clone()),
        Value::String(s) => Lit::Str(s.clone()),
        Value::Array(a) => Lit::Array(a.iter().map(literal).collect::<Result<_, _>>()?),
        Value::Object(m) => {
            if is_date_wrapper(m) {
                return Ok(Lit::Date(ejson_date(&m["$date"])?));
            }
            let mut out = Vec::with_capacity(m.len());
            for (k, c) in m {
                if k.starts_with('$') {
                    return Err(op_error(k));
                }
                check_key(k)?;
                out.push((k.clone(), literal(c)?));
            }
            Lit::Object(out)
        }
    })
}

struct Parser<'d> {
    clauses: usize,
    regexes: usize,
    /// Paths whose values are dates (top-level query fields only).
    dates: &'d [&'d str],
}

impl Parser<'_> {
    fn clause(&mut self) -> Result<(), QueryError> {
        self.clauses += 1;
        if self.clauses > limits::MAX_CLAUSES {
            return Err(QueryError::Limit("too many clauses"));
        }
        Ok(())
    }

    fn pattern(&mut self, source: &Value, options: Option<&Value>) -> Result<Arc<Pattern>, QueryError> {
        self.regexes += 1;
        if self.regexes > limits::MAX_REGEXES {
            return Err(QueryError::Limit("too many regular expressions"));
        }
        let Value::String(src) = source else {
            return Err(bad("$regex has to be a string"));
        };
        let opts = match options {
            None => "",
            Some(Value::String(o)) => o.as_str(),
            Some(_) => return Err(bad("$options has to be a string")),
        };
        Ok(Arc::new(Pattern::new(src, opts)?))
    }

    fn doc(&mut self, m: &Map<String, Value>) -> Result<Node, QueryError> {
        let mut out = Vec::with_capacity(m.len());
        for (k, v) in m {
            self.clause()?;
            if k.starts_with('$') {
                let op = k.as_str();
                match op {
                    "$and" | "$or" | "$nor" => {
                        let Value::Array(items) = v else {
                            return Err(bad(format!("{op} must be an array")));
                        };
                        if items.is_empty() {
                            return Err(bad(format!("{op} must be a nonempty array")));
                        }
                        let mut kids = Vec::with_capacity(items.len());
                        for it in items {
                            let Value::Object(sub) = it else {
                                return Err(bad(format!("{op} argument's entries must be objects")));
                            };
                            kids.push(self.doc(sub)?);
                        }
                        out.push(match op {
                            "$and" => Node::And(kids),
                            "$or" => Node::Or(kids),
                            _ => Node::Nor(kids),
                        });
                    }
                    "$comment" => {}
                    other => return Err(op_error(other)),
                }
            } else {
                let path = Path::parse(k)?;
                let preds = self.field(v)?;
                let date = self.dates.contains(&path.raw.as_str());
                out.push(Node::Field(path, preds, date));
            }
        }
        Ok(if out.len() == 1 { out.pop().unwrap_or(Node::Const(true)) } else { Node::And(out) })
    }

    /// The value of `{field: <value>}`.
    fn field(&mut self, v: &Value) -> Result<Vec<Pred>, QueryError> {
        if let Value::Object(m) = v
            && let Some(first) = m.keys().next()
            && first.starts_with('$')
            && !is_date_wrapper(m)
        {
            return self.operators(m);
        }
        Ok(vec![Pred::Eq(literal(v)?)])
    }

    fn in_list(&mut self, op: &str, v: &Value) -> Result<InList, QueryError> {
        let Value::Array(items) = v else {
            return Err(bad(format!("{op} needs an array")));
        };
        if items.len() > limits::MAX_IN_LEN {
            return Err(QueryError::Limit("$in/$nin list too long"));
        }
        let mut list = InList { lits: Vec::with_capacity(items.len()), patterns: Vec::new() };
        for it in items {
            if let Value::Object(m) = it
                && m.contains_key("$regex")
                && m.keys().all(|k| k == "$regex" || k == "$options")
            {
                list.patterns.push(self.pattern(&m["$regex"], m.get("$options"))?);
                continue;
            }
            if let Value::Object(m) = it
                && m.keys().next().is_some_and(|k| k.starts_with('$'))
                && !is_date_wrapper(m)
            {
                return Err(bad(format!("cannot nest $ under {op}")));
            }
            list.lits.push(literal(it)?);
        }
        Ok(list)
    }

    fn operators(&mut self, m: &Map<String, Value>) -> Result<Vec<Pred>, QueryError> {
        let mut preds = Vec::with_capacity(m.len());
        if m.contains_key("$options") && !m.contains_key("$regex") {
            return Err(bad("$options needs a $regex"));
        }
        for (op, arg) in m {
            self.clause()?;
            let p = match op.as_str() {
                "$eq" => Pred::Eq(literal(arg)?),
                "$ne" => Pred::Ne(literal(arg)?),
                "$gt" => Pred::Cmp(CmpOp::Gt, literal(arg)?),
                "$gte" => Pred::Cmp(CmpOp::Gte, literal(arg)?),
                "$lt" => Pred::Cmp(CmpOp::Lt, literal(arg)?),
                "$lte" => Pred::Cmp(CmpOp::Lte, literal(arg)?),
                "$in" => Pred::In(self.in_list(op, arg)?),
                "$nin" => Pred::Nin(self.in_list(op, arg)?),
                "$exists" => Pred::Exists(match arg {
                    Value::Bool(b) => *b,
                    Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
                    Value::Null => false,
                    _ => return Err(bad("$exists needs a boolean")),
                }),
                "$type" => Pred::Type(parse_types(arg)?),
                "$regex" => Pred::Regex(self.pattern(arg, m.get("$options"))?),
                "$options" => continue,
                "$not" => {
                    let Value::Object(inner) = arg else {
                        return Err(bad("$not needs a regex or a document"));
                    };
                    if inner.is_empty() {
                        return Err(bad("$not cannot be empty"));
                    }
                    if let Some(k) = inner.keys().find(|k| !k.starts_with('$')) {
                        return Err(op_error(k));
                    }
                    if is_date_wrapper(inner) {
                        return Err(op_error("$date"));
                    }
                    Pred::Not(self.operators(inner)?)
                }
                "$all" => {
                    let Value::Array(items) = arg else {
                        return Err(bad("$all needs an array"));
                    };
                    if items.len() > limits::MAX_IN_LEN {
                        return Err(QueryError::Limit("$all list too long"));
                    }
                    let mut out = Vec::with_capacity(items.len());
                    for it in items {
                        match it {
                            Value::Object(e) if e.len() == 1 && e.contains_key("$elemMatch") => {
                                out.push(AllItem::Elem(self.elem_match(&e["$elemMatch"])?));
                            }
                            Value::Object(e)
                                if e.keys().next().is_some_and(|k| k.starts_with('$')) && !is_date_wrapper(e) =>
                            {
                                return Err(bad("no $ expressions in $all"));
                            }
                            _ => out.push(AllItem::Lit(literal(it)?)),
                        }
                    }
                    Pred::All(out)
                }
                "$elemMatch" => Pred::ElemMatch(Box::new(self.elem_match(arg)?)),
                "$size" => Pred::Size(parse_size(arg)?),
                "$mod" => {
                    let (d, r) = parse_mod(arg)?;
                    Pred::Mod(d, r)
                }
                other => return Err(op_error(other)),
            };
            preds.push(p);
        }
        Ok(preds)
    }

    fn elem_match(&mut self, arg: &Value) -> Result<ElemBody, QueryError> {
        let Value::Object(m) = arg else {
            return Err(bad("$elemMatch needs an Object"));
        };
        let value_form = !m.is_empty()
            && m.keys().all(|k| k.starts_with('$') && k != "$and" && k != "$or" && k != "$nor" && k != "$comment");
        if value_form {
            if is_date_wrapper(m) {
                return Err(op_error("$date"));
            }
            Ok(ElemBody::Value(self.operators(m)?))
        } else {
            // Paths inside are relative to an element: no declared date applies.
            let dates = std::mem::take(&mut self.dates);
            let body = if m.is_empty() { Ok(Node::Const(true)) } else { self.doc(m) };
            self.dates = dates;
            Ok(ElemBody::Doc(body?))
        }
    }
}

fn integral(v: &Value) -> Option<i64> {
    let Value::Number(n) = v else { return None };
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e18 { Some(f as i64) } else { None }
}

fn parse_size(v: &Value) -> Result<usize, QueryError> {
    match integral(v) {
        Some(n) if n >= 0 => Ok(n as usize),
        Some(_) => Err(bad("$size may not be negative")),
        None => Err(bad("$size needs a whole number")),
    }
}

fn trunc_num(v: &Value) -> Option<i64> {
    let Value::Number(n) = v else { return None };
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    if f.is_finite() && f.abs() < 9.2e18 { Some(f.trunc() as i64) } else { None }
}

fn parse_mod(v: &Value) -> Result<(i64, i64), QueryError> {
    let Value::Array(a) = v else {
        return Err(bad("malformed mod, needs to be an array"));
    };
    if a.len() != 2 {
        return Err(bad(if a.len() < 2 {
            "malformed mod, not enough elements"
        } else {
            "malformed mod, too many elements"
        }));
    }
    let d = trunc_num(&a[0]).ok_or_else(|| bad("malformed mod, divisor not a number"))?;
    let r = trunc_num(&a[1]).ok_or_else(|| bad("malformed mod, remainder not a number"))?;
    if d == 0 {
        return Err(bad("divisor cannot be 0"));
    }
    Ok((d, r))
}

fn type_sel(v: &Value) -> Result<TypeSel, QueryError> {
    Ok(match v {
        Value::String(s) => match s.as_str() {
            "double" => TypeSel::Double,
            "string" => TypeSel::String,
            "object" => TypeSel::Object,
            "array" => TypeSel::Array,
            "bool" => TypeSel::Bool,
            "date" => TypeSel::Date,
            "null" => TypeSel::Null,
            "int" => TypeSel::Int,
            "number" => TypeSel::Number,
            "long"
            | "decimal"
            | "binData"
            | "undefined"
            | "objectId"
            | "regex"
            | "dbPointer"
            | "javascript"
            | "symbol"
            | "javascriptWithScope"
            | "timestamp"
            | "minKey"
            | "maxKey" => TypeSel::Never,
            other => return Err(bad(format!("unknown type name alias: {other}"))),
        },
        Value::Number(_) => match integral(v) {
            Some(1) => TypeSel::Double,
            Some(2) => TypeSel::String,
            Some(3) => TypeSel::Object,
            Some(4) => TypeSel::Array,
            Some(8) => TypeSel::Bool,
            Some(9) => TypeSel::Date,
            Some(10) => TypeSel::Null,
            Some(16) => TypeSel::Int,
            Some(5 | 6 | 7 | 11 | 12 | 13 | 14 | 15 | 17 | 18 | 19 | -1 | 127) => TypeSel::Never,
            _ => return Err(bad(format!("invalid numerical type code: {v}"))),
        },
        _ => return Err(bad("type must be represented as a number or a string")),
    })
}

fn parse_types(v: &Value) -> Result<Vec<TypeSel>, QueryError> {
    match v {
        Value::Array(a) => {
            if a.is_empty() {
                return Err(bad("$type must match at least one type"));
            }
            a.iter().map(type_sel).collect()
        }
        _ => Ok(vec![type_sel(v)?]),
    }
}

/// Parses a query document (already checked to be an object).
pub(crate) fn parse_node(m: &Map<String, Value>, dates: &[&str]) -> Result<Node, QueryError> {
    let mut p = Parser { clauses: 0, regexes: 0, dates };
    if m.is_empty() { Ok(Node::Const(true)) } else { p.doc(m) }
}
