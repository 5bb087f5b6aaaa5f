//! `getPaginationItems`: `offset` and `count` with the workspace's default and upper limit.

use crate::error::{ApiError, ApiResult};
use crate::http::Args;
use crate::settings::Settings;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: usize,
    /// `None`: no limit (`count=0` with `API_Allow_Infinite_Count`).
    pub count: Option<usize>,
}

fn non_negative(args: &Args, key: &str) -> ApiResult<Option<usize>> {
    let parsed = match args.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) if s.is_empty() => return Ok(None),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        Some(_) => None,
    };
    match parsed {
        Some(n) if n >= 0 => Ok(Some(n as usize)),
        Some(_) => Err(ApiError::invalid_params_typed("must be >= 0")),
        None => Err(ApiError::invalid_params_typed("must be integer")),
    }
}

impl Page {
    pub fn from_args(settings: &Settings, args: &Args) -> ApiResult<Self> {
        let upper = match settings.int("API_Upper_Count_Limit") {
            n if n <= 0 => 100,
            n => n as usize,
        };
        let default = match settings.int("API_Default_Count") {
            n if n <= 0 => 50,
            n => n as usize,
        };
        let offset = non_negative(args, "offset")?.unwrap_or(0);
        let mut count = non_negative(args, "count")?.unwrap_or(default).min(upper);
        if count == 0 && !settings.bool("API_Allow_Infinite_Count") {
            count = default;
        }
        Ok(Self { offset, count: (count > 0).then_some(count) })
    }

    /// Cuts one page out of a full, ordered result.
    pub fn slice<T>(&self, items: Vec<T>) -> Vec<T> {
        let iter = items.into_iter().skip(self.offset);
        match self.count {
            Some(n) => iter.take(n).collect(),
            None => iter.collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: Value) -> Args {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn slices() {
        let p = Page { offset: 2, count: Some(2) };
        assert_eq!(p.slice(vec![1, 2, 3, 4, 5]), vec![3, 4]);
        let all = Page { offset: 1, count: None };
        assert_eq!(all.slice(vec![1, 2, 3]), vec![2, 3]);
        assert!(non_negative(&args(json!({"count": "-1"})), "count").is_err());
        assert!(non_negative(&args(json!({"count": "abc"})), "count").is_err());
        assert_eq!(non_negative(&args(json!({"count": "7"})), "count").unwrap(), Some(7));
    }
}
