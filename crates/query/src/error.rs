//! Errors from parsing queries, projections and sorts.

use thiserror::Error;

/// Why a query, projection or sort was rejected. Messages name the offending
/// operator, key or path.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QueryError {
    /// A known MongoDB operator this engine refuses (`$where`, `$expr`, ...).
    #[error("operator {0} is not allowed")]
    ForbiddenOperator(String),
    /// A `$`-prefixed key that is not a supported operator.
    #[error("unknown operator {0}")]
    UnknownOperator(String),
    /// `__proto__`, `constructor` or `prototype` used as a key.
    #[error("key {0} is not allowed")]
    ForbiddenKey(String),
    #[error("invalid field path \"{0}\"")]
    InvalidPath(String),
    /// An operator got an argument of the wrong shape.
    #[error("{0}")]
    BadArgument(String),
    #[error("invalid regular expression: {0}")]
    BadRegex(String),
    /// The pattern uses a feature the linear-time engine cannot run.
    #[error("unsupported regular expression feature: {0}")]
    UnsupportedRegex(String),
    #[error("query exceeds limit: {0}")]
    Limit(&'static str),
    /// Projection errors, with MongoDB's wording.
    #[error("{0}")]
    Projection(String),
    #[error("{0}")]
    Sort(String),
    #[error("{0}")]
    Json(String),
}
