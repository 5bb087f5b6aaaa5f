//! The parsed form of a query filter: a tree of logical nodes over field
//! predicates. Built by `parse.rs`, read by `eval.rs`, `scan.rs` and `sql.rs`.

use crate::path::Path;
use crate::pattern::Pattern;
use crate::value::Lit;
use std::cmp::Ordering;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub(crate) enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Nor(Vec<Node>),
    /// A field's predicates; `true` when the path is a declared date field
    /// (its ISO strings are dates, see `dated.rs`).
    Field(Path, Vec<Pred>, bool),
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
    pub(crate) fn test(self, o: Ordering) -> bool {
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
    pub(crate) fn has_null(&self) -> bool {
        self.lits.iter().any(Lit::is_null)
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
