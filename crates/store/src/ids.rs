//! Identifiers, secrets and timestamps in the formats Rocket.Chat uses on the wire.

use chrono::{DateTime, SecondsFormat, Utc};
use rand::Rng;
use std::sync::atomic::{AtomicU32, Ordering};

/// Meteor's `Random.id()` alphabet: no easily confused characters.
const UNMISTAKABLE: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz";
/// Meteor's `Random.secret()` alphabet.
const BASE64_URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn random_from(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len).map(|_| alphabet[rng.random_range(0..alphabet.len())] as char).collect()
}

/// `Random.id(len)`: user ids (17), integration tokens (48), history ids.
pub fn random_id(len: usize) -> String {
    random_from(UNMISTAKABLE, len)
}

/// `Random.secret()`: 43 URL-safe characters, used for login tokens.
pub fn secret() -> String {
    random_from(BASE64_URL, 43)
}

/// A 24-character hex ObjectId as MongoDB generates for documents inserted without `_id`
/// (rooms, messages, subscriptions, teams, integrations): 4 bytes of seconds, 5 random bytes,
/// 3 bytes of a counter. Ids made later sort later.
pub fn object_id() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    static RANDOM: std::sync::OnceLock<[u8; 5]> = std::sync::OnceLock::new();
    let random = RANDOM.get_or_init(|| rand::rng().random());
    let secs = Utc::now().timestamp() as u32;
    let count = COUNTER.fetch_add(1, Ordering::Relaxed) & 0x00ff_ffff;
    let mut bytes = [0u8; 12];
    bytes[..4].copy_from_slice(&secs.to_be_bytes());
    bytes[4..9].copy_from_slice(random);
    bytes[9..].copy_from_slice(&count.to_be_bytes()[1..]);
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(24);
    for b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
    out
}

/// A timestamp as Rocket.Chat serialises dates: ISO-8601, milliseconds, `Z`.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn now_iso() -> String {
    iso(Utc::now())
}

pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Parses an ISO-8601 date as clients send them (`latest`, `oldest`, `updatedSince`).
pub fn parse_iso(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let id = random_id(17);
        assert_eq!(id.len(), 17);
        assert!(id.bytes().all(|b| UNMISTAKABLE.contains(&b)));
        let s = secret();
        assert_eq!(s.len(), 43);
        let a = object_id();
        let b = object_id();
        assert_eq!(a.len(), 24);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert!(b > a, "later ids sort later within a second");
        assert!(now_iso().ends_with('Z'));
        assert_eq!(now_iso().len(), 24);
    }
}
