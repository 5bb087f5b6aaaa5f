//! Rocket.Chat's retry schedules. `tries` is the number of attempts already
//! failed before this one was scheduled (0 for the first retry).

use serde_json::Value;
use store::Doc;

/// Delay in milliseconds before retry `tries + 1`; `None` for an unknown schedule name.
pub fn delay_ms(schedule: &str, tries: u32) -> Option<u64> {
    let t = tries.min(16) as u64;
    match schedule {
        "powers-of-ten" => Some(10u64.saturating_pow((t + 2) as u32)),
        "powers-of-two" => Some((1u64 << (t + 1)) * 1000),
        "increments-of-two" => Some((t + 1) * 2 * 1000),
        _ => None,
    }
}

/// `retryFailedCalls`, `retryCount` and `retryDelay` of an integration, when retries are on.
pub fn policy(integration: &Doc) -> Option<(u32, String)> {
    if integration.get("retryFailedCalls").and_then(Value::as_bool) != Some(true) {
        return None;
    }
    let count = match integration.get("retryCount") {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0) as i64,
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    };
    if count <= 0 {
        return None;
    }
    let delay = integration.get("retryDelay").and_then(Value::as_str).unwrap_or_default().to_owned();
    Some((count.min(u32::MAX as i64) as u32, delay))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        let s = |name, n: u32| (0..n).map(|t| delay_ms(name, t).unwrap()).collect::<Vec<_>>();
        assert_eq!(s("powers-of-ten", 4), [100, 1_000, 10_000, 100_000]);
        assert_eq!(s("powers-of-two", 4), [2_000, 4_000, 8_000, 16_000]);
        assert_eq!(s("increments-of-two", 4), [2_000, 4_000, 6_000, 8_000]);
        assert_eq!(delay_ms("fibonacci", 0), None);
        assert_eq!(delay_ms("", 0), None);
    }

    #[test]
    fn policies() {
        let d = |v: serde_json::Value| crate::domain::doc(v);
        assert_eq!(
            policy(&d(serde_json::json!({"retryFailedCalls": true, "retryCount": 3, "retryDelay": "powers-of-two"}))),
            Some((3, "powers-of-two".into()))
        );
        assert_eq!(policy(&d(serde_json::json!({"retryFailedCalls": false, "retryCount": 3}))), None);
        assert_eq!(policy(&d(serde_json::json!({"retryFailedCalls": true, "retryCount": 0}))), None);
    }
}
