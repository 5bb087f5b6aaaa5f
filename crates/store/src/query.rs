//! What a listing asks of the store: a filter (permission scope already ANDed in), an order
//! and a page. Backends push what they can into SQL and evaluate the rest in memory.

use query::{Filter, Sort};

#[derive(Clone, Debug)]
pub struct DocQuery {
    pub filter: Filter,
    /// Sort keys (dotted path, ascending?) in order; empty means insertion order.
    pub sort_keys: Vec<(String, bool)>,
    /// The same order, for in-memory sorting.
    pub sort: Option<Sort>,
    pub offset: usize,
    /// `None`: no limit.
    pub limit: Option<usize>,
}

impl DocQuery {
    pub fn all(filter: Filter) -> Self {
        Self { filter, sort_keys: Vec::new(), sort: None, offset: 0, limit: None }
    }
}
