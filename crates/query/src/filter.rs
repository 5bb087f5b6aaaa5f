//! Query filters: parsing MongoDB query documents and matching documents.

use crate::doc::{DocSet, DocValue, Kind, Num};
use crate::error::QueryError;
use crate::limits;
use crate::path::{Cand, Path, Seg, any_cand, check_key};
use crate::pattern::Pattern;
use crate::value::{Lit, cmp_value_lit, eq_value_lit, parse_ejson_date_string, parse_iso_millis, same_bracket, MAX_DATE_MS};
use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::sync::Arc;

/// A parsed, validated query filter.
#[derive(Clone, Debug)]
pub struct Filter {
    pub(crate) node: Node,
}

#[derive(Clone, Debug)]
pub(crate) enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Nor(Vec<Node>),
    Field(Path, Vec<Pred>),
    Const(bool),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Gt,
    Gte,
    Lt,
    Lte,
}

impl CmpOp {
    fn test(self, o: Ordering) -> bool {
        match self {
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Gte => o != Ordering::Less,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Lte => o != Ordering::Greater,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct InList {
    pub lits: Vec<Lit>,
    pub patterns: Vec<Arc<Pattern>>,
}

impl InList {
    fn has_null(&self) -> bool {
        self.lits.iter().any(Lit::is_null)
    }
    fn test_one<'a, D: DocValue<'a>>(&self, v: D) -> bool {
        if self.lits.iter().any(|l| eq_value_lit(v, l)) {
            return true;
        }
        match v.kind() {
            Kind::Str(s) => self.patterns.iter().any(|p| p.is_match(s)),
            _ => false,
        }
    }
}

/// `$type` selectors, as the Node.js driver stores JSON numbers: integers
/// that fit in 32 bits are `int`, every other number is `double`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TypeSel {
    Double,
    String,
    Object,
    Array,
    Bool,
    Date,
    Null,
    Int,
    Number,
    Never,
}

#[derive(Clone, Debug)]
pub(crate) enum ElemBody {
    /// `{$elemMatch: {$gt: 1, ...}}`: operators applied to each element.
    Value(Vec<Pred>),
    /// `{$elemMatch: {field: ...}}`: a query on each element that is a document.
    Doc(Node),
}

#[derive(Clone, Debug)]
pub(crate) enum AllItem {
    Lit(Lit),
    Elem(ElemBody),
}

#[derive(Clone, Debug)]
pub(crate) enum Pred {
    Eq(Lit),
    Ne(Lit),
    Cmp(CmpOp, Lit),
    In(InList),
    Nin(InList),
    Exists(bool),
    Type(Vec<TypeSel>),
    Regex(Arc<Pattern>),
    Not(Vec<Pred>),
    All(Vec<AllItem>),
    ElemMatch(Box<ElemBody>),
    Size(usize),
    Mod(i64, i64),
}

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

fn bad(msg: impl Into<String>) -> QueryError {
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

struct Parser {
    clauses: usize,
    regexes: usize,
}

impl Parser {
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
                out.push(Node::Field(path, preds));
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
                            Value::Object(e) if e.keys().next().is_some_and(|k| k.starts_with('$')) && !is_date_wrapper(e) => {
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
            Ok(ElemBody::Doc(if m.is_empty() { Node::Const(true) } else { self.doc(m)? }))
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
        return Err(bad(if a.len() < 2 { "malformed mod, not enough elements" } else { "malformed mod, too many elements" }));
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
            "long" | "decimal" | "binData" | "undefined" | "objectId" | "regex" | "dbPointer" | "javascript" | "symbol"
            | "javascriptWithScope" | "timestamp" | "minKey" | "maxKey" => TypeSel::Never,
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

fn is_int32(n: Num) -> bool {
    n.as_i64().is_some_and(|i| i32::try_from(i).is_ok())
}

fn type_ok<'a, D: DocValue<'a>>(v: D, ts: &[TypeSel]) -> bool {
    let k = v.kind();
    ts.iter().any(|t| match (t, &k) {
        (TypeSel::Double, Kind::Num(n)) => !is_int32(*n),
        (TypeSel::Int, Kind::Num(n)) => is_int32(*n),
        (TypeSel::Number, Kind::Num(_)) => true,
        (TypeSel::String, Kind::Str(_)) => true,
        (TypeSel::Date, Kind::Str(s)) => parse_iso_millis(s).is_some(),
        (TypeSel::Object, Kind::Object) => true,
        (TypeSel::Array, Kind::Array) => true,
        (TypeSel::Bool, Kind::Bool(_)) => true,
        (TypeSel::Null, Kind::Null) => true,
        _ => false,
    })
}

fn trunc_kind(k: Kind) -> Option<i64> {
    match k {
        Kind::Num(Num::F(f)) => {
            if f.is_finite() && f.abs() < 9.2e18 {
                Some(f.trunc() as i64)
            } else {
                None
            }
        }
        Kind::Num(n) => n.as_i64(),
        _ => None,
    }
}

fn mod_ok<'a, D: DocValue<'a>>(v: D, d: i64, r: i64) -> bool {
    match trunc_kind(v.kind()) {
        Some(x) => x.wrapping_rem(d) == r,
        None => false,
    }
}

// ----------------------------------------------------------- evaluation ----

/// Where a predicate's candidates come from.
#[derive(Clone, Copy)]
pub(crate) enum Src<'p, D> {
    /// A path in a document: candidates and (one level of) array elements.
    Path(D, &'p [Seg]),
    /// One array element inside `$elemMatch`: the value itself only.
    Single(D),
}

#[inline]
fn any<'a, D: DocValue<'a>, F: FnMut(Cand<D>) -> bool>(src: Src<'_, D>, f: &mut F) -> bool {
    match src {
        Src::Path(doc, segs) => any_cand(doc, segs, f),
        Src::Single(v) => f(Cand::Val(v)),
    }
}

/// Tests `test` on a candidate, then (when expanding) on its elements.
#[inline]
fn val_or_elems<'a, D: DocValue<'a>, F: FnMut(D) -> bool>(v: D, expand: bool, mut test: F) -> bool {
    if test(v) {
        return true;
    }
    if expand && v.is_array() {
        return v.elems().any(&mut test);
    }
    false
}

#[inline]
fn eq_cand<'a, D: DocValue<'a>>(c: Cand<D>, l: &Lit, expand: bool) -> bool {
    match c {
        Cand::Missing => l.is_null(),
        Cand::Val(v) => val_or_elems(v, expand, |x| eq_value_lit(x, l)),
    }
}

fn in_cand<'a, D: DocValue<'a>>(c: Cand<D>, list: &InList, expand: bool) -> bool {
    match c {
        Cand::Missing => list.has_null(),
        Cand::Val(v) => val_or_elems(v, expand, |x| list.test_one(x)),
    }
}

fn elem_match<'a, D: DocValue<'a>>(body: &ElemBody, c: Cand<D>) -> bool {
    let Cand::Val(a) = c else { return false };
    if !a.is_array() {
        return false;
    }
    a.elems().any(|e| match body {
        ElemBody::Value(preds) => preds.iter().all(|p| eval_pred(p, Src::Single(e))),
        ElemBody::Doc(node) => e.is_object() && node.matches_doc(e),
    })
}

pub(crate) fn eval_pred<'a, D: DocValue<'a>>(p: &Pred, src: Src<'_, D>) -> bool {
    let expand = matches!(src, Src::Path(..));
    match p {
        Pred::Eq(l) => any(src, &mut |c| eq_cand(c, l, expand)),
        Pred::Ne(l) => !any(src, &mut |c| eq_cand(c, l, expand)),
        Pred::In(list) => any(src, &mut |c| in_cand(c, list, expand)),
        Pred::Nin(list) => !any(src, &mut |c| in_cand(c, list, expand)),
        Pred::Cmp(op, l) => any(src, &mut |c| match c {
            Cand::Missing => l.is_null() && matches!(op, CmpOp::Gte | CmpOp::Lte),
            Cand::Val(v) => val_or_elems(v, expand, |x| same_bracket(x, l) && op.test(cmp_value_lit(x, l))),
        }),
        Pred::Exists(b) => any(src, &mut |c| matches!(c, Cand::Val(_))) == *b,
        Pred::Type(ts) => any(src, &mut |c| match c {
            Cand::Missing => false,
            Cand::Val(v) => val_or_elems(v, expand, |x| type_ok(x, ts)),
        }),
        Pred::Regex(re) => any(src, &mut |c| match c {
            Cand::Val(v) => val_or_elems(v, expand, |x| matches!(x.kind(), Kind::Str(s) if re.is_match(s))),
            Cand::Missing => false,
        }),
        Pred::Not(ps) => !ps.iter().all(|q| eval_pred(q, src)),
        Pred::All(items) => {
            !items.is_empty()
                && items.iter().all(|it| match it {
                    AllItem::Lit(l) => any(src, &mut |c| eq_cand(c, l, expand)),
                    AllItem::Elem(body) => any(src, &mut |c| elem_match(body, c)),
                })
        }
        Pred::ElemMatch(body) => any(src, &mut |c| elem_match(body, c)),
        Pred::Size(n) => any(src, &mut |c| matches!(c, Cand::Val(a) if a.is_array() && a.len() == *n)),
        Pred::Mod(d, r) => any(src, &mut |c| match c {
            Cand::Val(v) => val_or_elems(v, expand, |x| mod_ok(x, *d, *r)),
            Cand::Missing => false,
        }),
    }
}

impl Node {
    pub(crate) fn matches_doc<'a, D: DocValue<'a>>(&self, doc: D) -> bool {
        match self {
            Node::And(kids) => kids.iter().all(|k| k.matches_doc(doc)),
            Node::Or(kids) => kids.iter().any(|k| k.matches_doc(doc)),
            Node::Nor(kids) => !kids.iter().any(|k| k.matches_doc(doc)),
            Node::Field(path, preds) => preds.iter().all(|p| eval_pred(p, Src::Path(doc, &path.segs))),
            Node::Const(b) => *b,
        }
    }
}

/// Escapes text so that PCRE (and this engine) reads it literally.
pub fn escape_pcre(text: &str) -> String {
    let mut s = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if c.is_ascii() && !c.is_ascii_alphanumeric() && c != ' ' && c != '_' {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

impl Filter {
    /// Parses an (untrusted) MongoDB query document.
    pub fn parse(v: &Value) -> Result<Filter, QueryError> {
        let Value::Object(m) = v else {
            return Err(bad("query must be an object"));
        };
        check_shape(v)?;
        let mut p = Parser { clauses: 0, regexes: 0 };
        let node = if m.is_empty() { Node::Const(true) } else { p.doc(m)? };
        Ok(Filter { node })
    }

    /// Does `doc` satisfy the filter?
    pub fn matches(&self, doc: &Value) -> bool {
        self.node.matches_doc(doc)
    }

    /// Does a document of a [`DocSet`] (or any [`DocValue`]) satisfy the filter?
    pub fn matches_ref<'a, D: DocValue<'a>>(&self, doc: D) -> bool {
        self.node.matches_doc(doc)
    }

    /// Indices of the documents of `docs` that match, in order.
    /// (Evaluated column by column: see `scan.rs`.)
    pub fn select(&self, docs: &DocSet) -> Vec<usize> {
        let mut out = Vec::new();
        crate::scan::scan(&self.node, docs, |d| out.push(d));
        out
    }

    /// Number of documents of `docs` that match.
    pub fn count(&self, docs: &DocSet) -> usize {
        let mut n = 0;
        crate::scan::scan(&self.node, docs, |_| n += 1);
        n
    }

    /// Keeps the documents of `docs` that match, in order.
    pub fn filter<'a>(&self, docs: impl IntoIterator<Item = &'a Value>) -> Vec<&'a Value> {
        docs.into_iter().filter(|d| self.matches(d)).collect()
    }

    /// Matches every document (`{}`).
    pub fn all() -> Filter {
        Filter { node: Node::Const(true) }
    }

    /// Matches no document.
    pub fn none() -> Filter {
        Filter { node: Node::Const(false) }
    }

    /// Conjunction. Use it to combine a trusted scope with an untrusted
    /// filter: the result matches only documents that every part matches, so
    /// the untrusted part can only narrow the scope.
    pub fn and(filters: Vec<Filter>) -> Filter {
        match filters.len() {
            0 => Filter::all(),
            _ => Filter { node: Node::And(filters.into_iter().map(|f| f.node).collect()) },
        }
    }

    /// Disjunction (`$or`); an empty list matches nothing.
    pub fn or(filters: Vec<Filter>) -> Filter {
        match filters.len() {
            0 => Filter::none(),
            _ => Filter { node: Node::Or(filters.into_iter().map(|f| f.node).collect()) },
        }
    }

    /// `$nor`: matches documents that match none of `filters`.
    pub fn nor(filters: Vec<Filter>) -> Filter {
        Filter { node: Node::Nor(filters.into_iter().map(|f| f.node).collect()) }
    }

    fn field(path: &str, pred: Pred) -> Filter {
        Filter { node: Node::Field(Path::trusted(path), vec![pred]) }
    }

    /// `{path: value}` (trusted code: the path is not validated).
    pub fn eq(path: &str, value: impl Into<Lit>) -> Filter {
        Filter::field(path, Pred::Eq(value.into()))
    }

    /// `{path: {$ne: value}}`.
    pub fn ne(path: &str, value: impl Into<Lit>) -> Filter {
        Filter::field(path, Pred::Ne(value.into()))
    }

    /// `{path: {$in: values}}`.
    pub fn is_in(path: &str, values: impl IntoIterator<Item = impl Into<Lit>>) -> Filter {
        Filter::field(path, Pred::In(InList { lits: values.into_iter().map(Into::into).collect(), patterns: Vec::new() }))
    }

    /// `{path: {$exists: yes}}`.
    pub fn exists(path: &str, yes: bool) -> Filter {
        Filter::field(path, Pred::Exists(yes))
    }

    /// `{path: {$regex: <escaped text>, $options: "i"}}`: a case-insensitive
    /// substring match of `text`, which is escaped (fails only when the text
    /// is longer than the regex limits allow).
    pub fn contains_ci(path: &str, text: &str) -> Result<Filter, QueryError> {
        let p = Pattern::new(&escape_pcre(text), "i")?;
        Ok(Filter::field(path, Pred::Regex(Arc::new(p))))
    }

    /// `{path: {$regex: pattern, $options: options}}`.
    pub fn regex(path: &str, pattern: &str, options: &str) -> Result<Filter, QueryError> {
        Ok(Filter::field(path, Pred::Regex(Arc::new(Pattern::new(pattern, options)?))))
    }
}

impl Path {
    /// Builds a path from trusted code without validation.
    pub(crate) fn trusted(raw: &str) -> Path {
        Path {
            raw: raw.to_owned(),
            segs: raw.split('.').map(Seg::new)
                .collect(),
        }
    }
}
