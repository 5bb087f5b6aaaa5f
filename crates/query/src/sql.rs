//! SQL pushdown: translate the indexable part of a [`Filter`] into a `WHERE`
//! clause with bound parameters, for SQLite or PostgreSQL.
//!
//! [`translate`] returns a [`SqlPlan`] whose `where_sql` is a *necessary*
//! condition: every document that matches the filter satisfies it (`1=1`
//! when nothing can be pushed). When `exact` is true it is also sufficient,
//! so in-memory evaluation can be skipped and LIMIT/OFFSET done in SQL;
//! otherwise run the full filter in memory on the rows SQL returns.
//!
//! The translation relies on what the [`SqlSchema`] promises about each
//! column (see [`ColumnKind`]); paths not in the schema are evaluated in
//! memory only. MongoDB semantics kept in SQL:
//! - `$ne`, `$nin`, `$not` and `$nor` match missing fields: they are pushed
//!   only as the negation of an *exact* condition, and every generated
//!   condition is two-valued (never SQL `NULL`), so `NOT` is safe;
//! - type brackets: a string column never equals or compares with a number,
//!   boolean, array or document literal (that clause is `1=0`);
//! - `$or` is pushed only when every branch is (otherwise `1=1`);
//! - regular expressions are pushed only when they are a plain literal
//!   without options (a case-sensitive substring test); case-insensitive
//!   ones are evaluated in memory;
//! - string order is byte order, as MongoDB's: PostgreSQL comparisons use
//!   `COLLATE "C"`, SQLite columns must use the default `BINARY` collation.

use crate::filter::Filter;
use crate::tree::{AllItem, CmpOp, InList, Node, Pred, TypeSel};
use crate::value::{Lit, format_iso_millis};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// `?N` placeholders.
    Sqlite,
    /// `$N` placeholders; string comparisons use `COLLATE "C"`.
    Postgres,
}

/// A bound parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SqlValue {
    Text(String),
    Integer(i64),
}

impl SqlValue {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            SqlValue::Text(s) => Some(s),
            SqlValue::Integer(_) => None,
        }
    }
}

/// What a column promises about the document value at its path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    /// `TEXT NOT NULL`: the value at the path is always this string (no
    /// arrays along the path).
    Text,
    /// Nullable text: the value is this string, or the column is `NULL` when
    /// the value is missing or `null` (no arrays along the path).
    NullableText,
    /// `TEXT NOT NULL` holding a date as `YYYY-MM-DDTHH:MM:SS.mmmZ` in every
    /// row (so text order is time order). The filter must declare the path a
    /// date field: the value is a date, which only `{"$date": ..}` operands
    /// equal or order with, and which neither `$regex` nor a string matches.
    IsoDate,
    /// The value is an array of strings (or missing/`null`), stored one row
    /// per element. `template` is a boolean SQL expression containing
    /// `{cond}` right after the element column, e.g.
    /// `EXISTS (SELECT 1 FROM integration_channels c WHERE c.integration_id = integrations.id AND c.channel {cond})`.
    StringArray { template: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// Dotted document path, e.g. `_createdBy._id`.
    pub path: String,
    /// SQL expression for the column (unused for `StringArray`).
    pub expr: String,
    pub kind: ColumnKind,
}

/// Which document paths the store indexes, and how.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SqlSchema {
    pub columns: Vec<Column>,
}

impl SqlSchema {
    pub fn new() -> SqlSchema {
        SqlSchema::default()
    }

    pub fn column(mut self, path: &str, expr: &str, kind: ColumnKind) -> SqlSchema {
        self.columns.push(Column { path: path.to_owned(), expr: expr.to_owned(), kind });
        self
    }

    pub fn text(self, path: &str, expr: &str) -> SqlSchema {
        self.column(path, expr, ColumnKind::Text)
    }

    pub fn nullable_text(self, path: &str, expr: &str) -> SqlSchema {
        self.column(path, expr, ColumnKind::NullableText)
    }

    pub fn iso_date(self, path: &str, expr: &str) -> SqlSchema {
        self.column(path, expr, ColumnKind::IsoDate)
    }

    pub fn string_array(self, path: &str, template: &str) -> SqlSchema {
        self.column(path, "", ColumnKind::StringArray { template: template.to_owned() })
    }

    /// The store's `integrations` / `integration_channels` tables.
    pub fn integrations() -> SqlSchema {
        SqlSchema::new()
            .text("_id", "integrations.id")
            .text("type", "integrations.type")
            .text("name", "integrations.name")
            .nullable_text("_createdBy._id", "integrations.created_by")
            .iso_date("_createdAt", "integrations.created_at")
            .string_array(
                "channel",
                "EXISTS (SELECT 1 FROM integration_channels c WHERE c.integration_id = integrations.id AND c.channel {cond})",
            )
    }

    fn get(&self, path: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.path == path)
    }
}

/// The result of [`translate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqlPlan {
    /// A boolean SQL expression (never `NULL`), necessary for a match.
    pub where_sql: String,
    /// Parameters for the placeholders, numbered from `first_param_index`.
    pub params: Vec<SqlValue>,
    /// `where_sql` is also sufficient: no in-memory evaluation needed.
    pub exact: bool,
}

#[derive(Clone, Debug)]
enum Piece {
    Sql(String),
    Param(SqlValue),
    /// A `StringArray` template with its condition.
    Template(String, Vec<Piece>),
}

#[derive(Clone, Debug)]
enum Sq {
    True,
    False,
    Atom(Vec<Piece>),
    And(Vec<Sq>),
    Or(Vec<Sq>),
    Not(Box<Sq>),
}

/// A translated condition and whether it is exact.
type Tr = (Sq, bool);

const INEXACT: Tr = (Sq::True, false);
const NEVER: Tr = (Sq::False, true);
const ALWAYS: Tr = (Sq::True, true);

fn and(parts: Vec<Tr>) -> Tr {
    let exact = parts.iter().all(|p| p.1);
    let mut kids = Vec::new();
    for (s, _) in parts {
        match s {
            Sq::True => {}
            Sq::False => return (Sq::False, exact),
            Sq::And(k) => kids.extend(k),
            s => kids.push(s),
        }
    }
    (
        match kids.len() {
            0 => Sq::True,
            1 => kids.pop().unwrap_or(Sq::True),
            _ => Sq::And(kids),
        },
        exact,
    )
}

fn or(parts: Vec<Tr>) -> Tr {
    let exact = parts.iter().all(|p| p.1);
    let mut kids = Vec::new();
    for (s, _) in parts {
        match s {
            Sq::False => {}
            Sq::True => return (Sq::True, exact),
            Sq::Or(k) => kids.extend(k),
            s => kids.push(s),
        }
    }
    (
        match kids.len() {
            0 => Sq::False,
            1 => kids.pop().unwrap_or(Sq::False),
            _ => Sq::Or(kids),
        },
        exact,
    )
}

fn not(t: Tr) -> Tr {
    match t {
        (_, false) => INEXACT,
        (Sq::True, true) => NEVER,
        (Sq::False, true) => ALWAYS,
        (Sq::Not(inner), true) => (*inner, true),
        (s, true) => (Sq::Not(Box::new(s)), true),
    }
}

struct Ctx<'a> {
    schema: &'a SqlSchema,
    dialect: Dialect,
}

fn sql(s: &str) -> Piece {
    Piece::Sql(s.to_owned())
}

fn text(s: &str) -> Piece {
    Piece::Param(SqlValue::Text(s.to_owned()))
}

fn op_sql(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Gt => ">",
        CmpOp::Gte => ">=",
        CmpOp::Lt => "<",
        CmpOp::Lte => "<=",
    }
}

impl Ctx<'_> {
    /// `col <cond...>`, made two-valued for nullable columns.
    fn scalar_atom(&self, col: &Column, cond: Vec<Piece>) -> Sq {
        let mut p = Vec::with_capacity(cond.len() + 3);
        if col.kind == ColumnKind::NullableText {
            p.push(Piece::Sql(format!("({} IS NOT NULL AND ", col.expr)));
        }
        p.push(Piece::Sql(col.expr.clone()));
        p.extend(cond);
        if col.kind == ColumnKind::NullableText {
            p.push(sql(")"));
        }
        Sq::Atom(p)
    }

    fn array_atom(&self, template: &str, cond: Vec<Piece>) -> Sq {
        Sq::Atom(vec![Piece::Template(template.to_owned(), cond)])
    }

    fn collate(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "",
            Dialect::Postgres => " COLLATE \"C\"",
        }
    }

    /// The text a literal equals in a column, if any: strings in string
    /// columns, dates (as their canonical stored form) in date columns.
    fn text_of(col: &Column, l: &Lit) -> Option<String> {
        match (l, &col.kind) {
            (Lit::Date(ms), ColumnKind::IsoDate) => format_iso_millis(*ms),
            (Lit::Str(s), ColumnKind::Text | ColumnKind::NullableText | ColumnKind::StringArray { .. }) => {
                Some(s.clone())
            }
            _ => None,
        }
    }

    fn node(&self, n: &Node) -> Tr {
        match n {
            Node::Const(true) => ALWAYS,
            Node::Const(false) => NEVER,
            Node::And(kids) => and(kids.iter().map(|k| self.node(k)).collect()),
            Node::Or(kids) => or(kids.iter().map(|k| self.node(k)).collect()),
            Node::Nor(kids) => not(or(kids.iter().map(|k| self.node(k)).collect())),
            Node::Field(path, preds, _) => match self.schema.get(&path.raw) {
                Some(col) => and(preds.iter().map(|p| self.pred(col, p)).collect()),
                None => INEXACT,
            },
        }
    }

    fn pred(&self, col: &Column, p: &Pred) -> Tr {
        match p {
            Pred::Eq(l) => self.eq(col, l),
            Pred::Ne(l) => not(self.eq(col, l)),
            Pred::In(list) => self.in_list(col, list),
            Pred::Nin(list) => not(self.in_list(col, list)),
            Pred::Not(ps) => not(and(ps.iter().map(|q| self.pred(col, q)).collect())),
            Pred::Cmp(op, l) => self.cmp(col, *op, l),
            Pred::Exists(b) => self.exists(col, *b),
            Pred::Regex(re) => match (&col.kind, &re.literal) {
                // `$regex` matches strings only
                (ColumnKind::IsoDate, _) => NEVER,
                (ColumnKind::StringArray { .. }, _) | (_, None) => INEXACT,
                (_, Some(lit)) => {
                    let f = match self.dialect {
                        Dialect::Sqlite => "instr",
                        Dialect::Postgres => "strpos",
                    };
                    let mut p = Vec::new();
                    if col.kind == ColumnKind::NullableText {
                        p.push(Piece::Sql(format!("({} IS NOT NULL AND ", col.expr)));
                    }
                    p.push(Piece::Sql(format!("{f}({}, ", col.expr)));
                    p.push(text(lit));
                    p.push(sql(") > 0"));
                    if col.kind == ColumnKind::NullableText {
                        p.push(sql(")"));
                    }
                    (Sq::Atom(p), true)
                }
            },
            Pred::All(items) => {
                if items.is_empty() {
                    return NEVER;
                }
                and(items
                    .iter()
                    .map(|it| match it {
                        AllItem::Lit(l) => self.eq(col, l),
                        AllItem::Elem(_) => self.not_array_scalar(col),
                    })
                    .collect())
            }
            Pred::ElemMatch(_) | Pred::Size(_) => self.not_array_scalar(col),
            // values and elements are strings: never numbers
            Pred::Mod(..) => NEVER,
            // a date column always holds a date
            Pred::Type(ts) if col.kind == ColumnKind::IsoDate => {
                if ts.contains(&TypeSel::Date) {
                    ALWAYS
                } else {
                    NEVER
                }
            }
            Pred::Type(_) => INEXACT,
        }
    }

    /// Array-only operators: never match a scalar string column.
    fn not_array_scalar(&self, col: &Column) -> Tr {
        match col.kind {
            ColumnKind::StringArray { .. } => INEXACT,
            _ => NEVER,
        }
    }

    fn eq(&self, col: &Column, l: &Lit) -> Tr {
        match &col.kind {
            ColumnKind::Text | ColumnKind::IsoDate | ColumnKind::NullableText => {
                if l.is_null() {
                    return if col.kind == ColumnKind::NullableText {
                        (Sq::Atom(vec![Piece::Sql(format!("{} IS NULL", col.expr))]), true)
                    } else {
                        NEVER
                    };
                }
                match Ctx::text_of(col, l) {
                    Some(s) => (self.scalar_atom(col, vec![sql(" = "), text(&s)]), true),
                    None => NEVER,
                }
            }
            ColumnKind::StringArray { template } => {
                if l.is_null() {
                    return (Sq::Not(Box::new(self.array_atom(template, vec![sql("IS NOT NULL")]))), false);
                }
                if let Lit::Array(items) = l {
                    // whole-array equality: every element must be present
                    if items.iter().all(|i| matches!(i, Lit::Str(_))) {
                        let parts: Vec<Tr> = items
                            .iter()
                            .filter_map(|l| Ctx::text_of(col, l))
                            .map(|s| (self.array_atom(template, vec![sql("= "), text(&s)]), false))
                            .collect();
                        if parts.is_empty() {
                            return (Sq::Not(Box::new(self.array_atom(template, vec![sql("IS NOT NULL")]))), false);
                        }
                        return (and(parts).0, false);
                    }
                    return INEXACT;
                }
                match Ctx::text_of(col, l) {
                    Some(s) => (self.array_atom(template, vec![sql("= "), text(&s)]), true),
                    None => NEVER,
                }
            }
        }
    }

    fn in_list(&self, col: &Column, list: &InList) -> Tr {
        let mut parts: Vec<Tr> = Vec::new();
        let strings: Vec<String> = list.lits.iter().filter_map(|l| Ctx::text_of(col, l)).collect();
        if !strings.is_empty() {
            let mut cond = vec![sql(if matches!(col.kind, ColumnKind::StringArray { .. }) { "IN (" } else { " IN (" })];
            for (i, s) in strings.iter().enumerate() {
                if i > 0 {
                    cond.push(sql(", "));
                }
                cond.push(text(s));
            }
            cond.push(sql(")"));
            parts.push(match &col.kind {
                ColumnKind::StringArray { template } => (self.array_atom(template, cond), true),
                _ => (self.scalar_atom(col, cond), true),
            });
        }
        for l in &list.lits {
            if Ctx::text_of(col, l).is_none() {
                parts.push(self.eq(col, l));
            }
        }
        for p in &list.patterns {
            parts.push(self.pred(col, &Pred::Regex(p.clone())));
        }
        or(parts)
    }

    fn cmp(&self, col: &Column, op: CmpOp, l: &Lit) -> Tr {
        let ge_le = matches!(op, CmpOp::Gte | CmpOp::Lte);
        let is_array = matches!(col.kind, ColumnKind::StringArray { .. });
        let date_col = col.kind == ColumnKind::IsoDate;
        let (s, exact) = match l {
            // a string never orders with a date, nor a date with a string
            Lit::Str(_) if date_col => return NEVER,
            Lit::Str(s) => (s.clone(), true),
            Lit::Date(ms) if date_col => match format_iso_millis(*ms) {
                Some(s) => (s, true),
                None => return INEXACT,
            },
            Lit::Date(_) => return NEVER,
            Lit::Null => {
                return match (&col.kind, ge_le) {
                    (_, false) => NEVER,
                    (ColumnKind::NullableText, true) => {
                        (Sq::Atom(vec![Piece::Sql(format!("{} IS NULL", col.expr))]), true)
                    }
                    (ColumnKind::StringArray { template }, true) => {
                        (Sq::Not(Box::new(self.array_atom(template, vec![sql("IS NOT NULL")]))), false)
                    }
                    _ => NEVER,
                };
            }
            Lit::Array(_) if is_array => return INEXACT,
            _ => return NEVER,
        };
        match &col.kind {
            ColumnKind::StringArray { template } => {
                let op_sql = match self.dialect {
                    Dialect::Sqlite => format!("{} ", op_sql(op)),
                    Dialect::Postgres => format!("COLLATE \"C\" {} ", op_sql(op)),
                };
                let cond = vec![Piece::Sql(op_sql), text(&s)];
                (self.array_atom(template, cond), exact)
            }
            _ => (
                self.scalar_atom(col, vec![Piece::Sql(format!("{} {} ", self.collate(), op_sql(op))), text(&s)]),
                exact,
            ),
        }
    }

    fn exists(&self, col: &Column, b: bool) -> Tr {
        match (&col.kind, b) {
            (ColumnKind::Text | ColumnKind::IsoDate, true) => ALWAYS,
            (ColumnKind::Text | ColumnKind::IsoDate, false) => NEVER,
            (ColumnKind::NullableText, true) => INEXACT,
            (ColumnKind::NullableText, false) => (Sq::Atom(vec![Piece::Sql(format!("{} IS NULL", col.expr))]), false),
            (ColumnKind::StringArray { .. }, true) => INEXACT,
            (ColumnKind::StringArray { template }, false) => {
                (Sq::Not(Box::new(self.array_atom(template, vec![sql("IS NOT NULL")]))), false)
            }
        }
    }
}

struct Render {
    dialect: Dialect,
    next: usize,
    out: String,
    params: Vec<SqlValue>,
}

impl Render {
    fn pieces(&mut self, ps: &[Piece]) {
        for p in ps {
            match p {
                Piece::Sql(s) => self.out.push_str(s),
                Piece::Param(v) => {
                    match self.dialect {
                        Dialect::Sqlite => self.out.push('?'),
                        Dialect::Postgres => self.out.push('$'),
                    }
                    self.out.push_str(&self.next.to_string());
                    self.next += 1;
                    self.params.push(v.clone());
                }
                Piece::Template(t, cond) => {
                    let (before, after) = t.split_once("{cond}").unwrap_or((t.as_str(), ""));
                    self.out.push_str(before);
                    self.pieces(cond);
                    self.out.push_str(after);
                }
            }
        }
    }

    fn sq(&mut self, s: &Sq) {
        match s {
            Sq::True => self.out.push_str("1=1"),
            Sq::False => self.out.push_str("1=0"),
            Sq::Atom(ps) => self.pieces(ps),
            Sq::And(kids) | Sq::Or(kids) => {
                let sep = if matches!(s, Sq::And(_)) { " AND " } else { " OR " };
                self.out.push('(');
                for (i, k) in kids.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(sep);
                    }
                    self.sq(k);
                }
                self.out.push(')');
            }
            Sq::Not(k) => {
                self.out.push_str("NOT (");
                self.sq(k);
                self.out.push(')');
            }
        }
    }
}

/// Translates `filter` for `schema`. Placeholders are numbered from
/// `first_param_index` (`?N` for SQLite, `$N` for PostgreSQL).
pub fn translate(filter: &Filter, schema: &SqlSchema, dialect: Dialect, first_param_index: usize) -> SqlPlan {
    let ctx = Ctx { schema, dialect };
    let (sq, exact) = ctx.node(&filter.node);
    let mut r = Render { dialect, next: first_param_index, out: String::new(), params: Vec::new() };
    r.sq(&sq);
    SqlPlan { where_sql: r.out, params: r.params, exact }
}
