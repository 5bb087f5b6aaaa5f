//! Hard limits applied while parsing untrusted input. Every limit is checked
//! before any recursion over the input, so hostile input cannot exhaust the
//! stack or the CPU.

/// Deepest nesting of JSON objects/arrays accepted in a query, projection or sort.
pub const MAX_DEPTH: usize = 32;
/// Most JSON nodes (values) in one query.
pub const MAX_NODES: usize = 10_000;
/// Most clauses (field conditions, operators and logical branches) in a query.
pub const MAX_CLAUSES: usize = 512;
/// Longest `$in` / `$nin` / `$all` list.
pub const MAX_IN_LEN: usize = 1_000;
/// Longest regular expression source, in bytes.
pub const MAX_REGEX_LEN: usize = 1_024;
/// Most regular expressions in one query.
pub const MAX_REGEXES: usize = 16;
/// Compiled program size limit for one regex (`RegexBuilder::size_limit`).
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Lazy DFA cache limit for one regex (`RegexBuilder::dfa_size_limit`).
pub const REGEX_DFA_SIZE_LIMIT: usize = 1 << 20;
/// Most segments in a dotted path.
pub const MAX_PATH_SEGMENTS: usize = 32;
/// Most keys in a sort or projection.
pub const MAX_KEYS: usize = 100;
/// Longest raw query-string parameter accepted by [`crate::params`].
pub const MAX_PARAM_LEN: usize = 64 * 1024;
