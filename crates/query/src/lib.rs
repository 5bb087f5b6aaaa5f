//! MongoDB-compatible query engine for the REST endpoints' `query`, `fields`
//! and `sort` parameters, with no I/O.
//!
//! - [`Filter`]: parse a query document, match `serde_json::Value`s (or the
//!   documents of a [`DocSet`], a columnar in-memory encoding that filters
//!   large collections several times faster).
//! - [`Projection`], [`Sort`]: the `fields` and `sort` parameters.
//! - [`params`]: parse raw parameter text with Rocket.Chat's error strings.
//! - [`sql`]: push the indexable part of a filter down to SQLite/PostgreSQL.
//!
//! Semantics follow MongoDB: dot paths through documents and arrays, one
//! level of array expansion for operators, missing ≡ `null` for equality,
//! BSON type brackets for comparisons, numbers compared by value. Untrusted
//! input is bounded by [`limits`] before any recursion, an explicit
//! allow-list of operators is enforced, and regular expressions run on the
//! linear-time `regex` crate.

mod compact;
mod dated;
pub mod doc;
pub mod docset;
pub mod error;
mod eval;
pub mod filter;
pub mod limits;
pub mod params;
mod parse;
pub mod path;
pub mod pattern;
mod pcre;
pub mod projection;
mod scan;
pub mod sort;
pub mod sql;
mod tree;
pub mod value;

pub use doc::DocValue;
pub use docset::{DocRef, DocSet};
pub use error::QueryError;
pub use filter::Filter;
pub use pattern::Pattern;
pub use projection::Projection;
pub use sort::Sort;
pub use value::Lit;
