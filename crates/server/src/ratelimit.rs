//! Rocket.Chat's REST rate limiter: a fixed window of N calls per client IP per route, with
//! `X-RateLimit-*` headers on every limited response. The middleware that applies it to the
//! REST routes is `api::limit`.

use crate::error::{ApiError, header};
use axum::http::HeaderMap;
use std::collections::HashMap;
use std::sync::Mutex;

struct Window {
    started_ms: i64,
    calls: u64,
}

pub struct Decision {
    pub allowed: bool,
    pub limit: u64,
    pub remaining: u64,
    /// Epoch milliseconds at which the window resets.
    pub reset_ms: i64,
}

impl Decision {
    pub fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-limit", header(&self.limit.to_string()));
        h.insert("x-ratelimit-remaining", header(&self.remaining.to_string()));
        h.insert("x-ratelimit-reset", header(&self.reset_ms.to_string()));
        h
    }

    pub fn error(&self, now_ms: i64) -> ApiError {
        let wait = ((self.reset_ms - now_ms).max(0) + 999) / 1000;
        ApiError::TooManyRequests {
            error: format!(
                "Error, too many requests. Please slow down. You must wait {wait} seconds before trying this endpoint again. [error-too-many-requests]"
            ),
            headers: self.headers(),
        }
    }
}

#[derive(Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, Window>>,
}

impl RateLimiter {
    /// Counts one call under `key`.
    pub fn hit(&self, key: &str, limit: u64, window_ms: i64, now_ms: i64) -> Decision {
        let mut windows = self.windows.lock().expect("rate limiter lock");
        if windows.len() > 100_000 {
            windows.retain(|_, w| now_ms - w.started_ms < window_ms);
        }
        let w = windows.entry(key.to_owned()).or_insert(Window { started_ms: now_ms, calls: 0 });
        if now_ms - w.started_ms >= window_ms {
            *w = Window { started_ms: now_ms, calls: 0 };
        }
        w.calls += 1;
        Decision {
            allowed: w.calls <= limit,
            limit,
            remaining: limit.saturating_sub(w.calls),
            reset_ms: w.started_ms + window_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_window() {
        let rl = RateLimiter::default();
        for i in 0..3 {
            let d = rl.hit("k", 3, 1000, 10);
            assert!(d.allowed);
            assert_eq!(d.remaining, 2 - i);
        }
        let d = rl.hit("k", 3, 1000, 500);
        assert!(!d.allowed);
        assert_eq!(d.reset_ms, 1010);
        assert!(rl.hit("other", 3, 1000, 500).allowed);
        assert!(rl.hit("k", 3, 1000, 1010).allowed, "a new window starts after the reset");
    }
}
