//! Evaluating a [`Node`] tree on one document (any [`DocValue`]): MongoDB's
//! candidate expansion along paths, type brackets and operator semantics.

use crate::dated::Dated;
use crate::doc::{DocValue, Kind, Num};
use crate::path::{Cand, Seg, any_cand};
use crate::tree::{AllItem, CmpOp, ElemBody, InList, Node, Pred, TypeSel};
use crate::value::{Lit, cmp_value_lit, eq_value_lit, same_bracket};

impl InList {
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
        (TypeSel::Date, Kind::Date(_)) => true,
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
        ElemBody::Doc(node) => e.is_object() && node.matches_doc(e.plain()),
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
            Node::Field(path, preds, false) => preds.iter().all(|p| eval_pred(p, Src::Path(doc, &path.segs))),
            Node::Field(path, preds, true) => preds.iter().all(|p| eval_pred(p, Src::Path(Dated(doc), &path.segs))),
            Node::Const(b) => *b,
        }
    }
}
