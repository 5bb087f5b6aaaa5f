//! The list parameters shared by every listing endpoint: `offset`/`count`, `sort`, `fields`
//! and `query`. The caller's `query` is always ANDed with the endpoint's own filters and the
//! permission scope, so it can only narrow what the caller may see.

use super::pagination::Page;
use super::validation::schema::Ty;
use crate::error::{ApiError, ApiResult};
use crate::http::{Args, arg_str};
use crate::state::AppState;
use query::params::{ParamError, parse_fields_param, parse_query_param, parse_sort_param};
use query::{Filter, Projection, Sort};
use serde_json::Value;
use store::{Doc, DocQuery};

/// The arguments [`ListParams::from_args`] reads.
pub const LIST_ARGS: &[(&str, Ty)] =
    &[("offset", Ty::Num), ("count", Ty::Num), ("sort", Ty::Str), ("query", Ty::Str), ("fields", Ty::Str)];

pub struct ListParams {
    pub page: Page,
    pub sort: Option<(Sort, Vec<(String, bool)>)>,
    pub fields: Option<Projection>,
    pub query: Option<Filter>,
}

/// Fields that Rocket.Chat stores as BSON dates (integrations and their history, messages,
/// rooms, subscriptions, users, uploads, teams). Stored and sent as ISO strings, they behave
/// as dates in `query` and `sort`: `$type: "date"`, `{"$date": ..}` operands, never a string.
pub const DATE_FIELDS: &[&str] = &[
    "_createdAt",
    "_updatedAt",
    "_deletedAt",
    "ts",
    "editedAt",
    "createdAt",
    "lastLogin",
    "lm",
    "lr",
    "ls",
    "tlm",
    "dlm",
    "uploadedAt",
    "lastMessage.ts",
    "lastMessage._updatedAt",
];

fn param_error(e: ParamError) -> ApiError {
    ApiError::failure(e.error, e.error_type)
}

impl ListParams {
    pub fn from_args(state: &AppState, args: &Args) -> ApiResult<Self> {
        let page = Page::from_args(&state.settings, args)?;
        let sort = match arg_str(args, "sort") {
            Some(raw) => {
                let sort = parse_sort_param(&raw, DATE_FIELDS).map_err(param_error)?;
                let keys = serde_json::from_str::<Value>(&raw)
                    .ok()
                    .and_then(|v| v.as_object().cloned())
                    .map(|m| m.into_iter().map(|(k, v)| (k, v.as_f64() == Some(1.0))).collect())
                    .unwrap_or_default();
                Some((sort, keys))
            }
            None => None,
        };
        let enabled = state.settings.bool("API_Allow_Query_And_Fields");
        let fields = match arg_str(args, "fields") {
            Some(raw) if enabled => Some(parse_fields_param(&raw).map_err(param_error)?),
            _ => None,
        };
        let query = match arg_str(args, "query") {
            Some(raw) if enabled => Some(parse_query_param(&raw, DATE_FIELDS).map_err(param_error)?),
            _ => None,
        };
        Ok(Self { page, sort, fields, query })
    }

    /// The store query: `trusted` (scope and endpoint filters) AND the caller's `query`.
    pub fn doc_query(&self, trusted: Vec<Filter>, default_sort: &[(&str, bool)]) -> DocQuery {
        let mut filters = trusted;
        if let Some(q) = &self.query {
            filters.push(q.clone());
        }
        let (sort, sort_keys) = match &self.sort {
            Some((s, keys)) => (Some(s.clone()), keys.clone()),
            None if default_sort.is_empty() => (None, Vec::new()),
            None => (Some(Sort::by(default_sort)), default_sort.iter().map(|(k, a)| ((*k).to_owned(), *a)).collect()),
        };
        DocQuery { filter: Filter::and(filters), sort_keys, sort, offset: self.page.offset, limit: self.page.count }
    }

    /// Filters, sorts, pages and projects a list held in memory. `visible` must already be what
    /// the caller may see: the caller's `query` is evaluated on it, so it cannot probe hidden
    /// fields (password hashes, join codes).
    pub fn page_in_memory(&self, visible: Vec<Value>, default_sort: &[(&str, bool)]) -> (Vec<Value>, usize) {
        let mut items: Vec<Value> = match &self.query {
            Some(filter) => visible.into_iter().filter(|v| filter.matches(v)).collect(),
            None => visible,
        };
        match &self.sort {
            Some((sort, _)) => sort.sort_values(&mut items),
            None if !default_sort.is_empty() => Sort::by(default_sort).sort_values(&mut items),
            None => {}
        }
        let total = items.len();
        let page = self.page.slice(items);
        let page = match &self.fields {
            Some(p) => page.iter().map(|v| p.apply(v)).collect(),
            None => page,
        };
        (page, total)
    }

    /// Applies `fields` to the documents of a page.
    pub fn project(&self, docs: Vec<Doc>) -> Vec<Value> {
        docs.into_iter()
            .map(|d| {
                let v = Value::Object(d);
                match &self.fields {
                    Some(p) => p.apply(&v),
                    None => v,
                }
            })
            .collect()
    }
}

/// Rejects query-string keys outside `allowed` (typed routes with `additionalProperties: false`).
pub fn only_known(args: &Args, allowed: &[&str]) -> ApiResult<()> {
    if args.keys().any(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::invalid_params_typed("must NOT have additional properties"));
    }
    Ok(())
}
