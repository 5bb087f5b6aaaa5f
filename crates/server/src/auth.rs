//! Passwords and login tokens, stored the way Meteor's accounts system stores them.

use base64::Engine;
use sha2::{Digest, Sha256};

const BCRYPT_COST: u32 = 10;

/// The client-side digest Meteor hashes: lower-case hex of SHA-256 of the password.
pub fn password_digest(password: &str) -> String {
    hex::encode(Sha256::digest(password.as_bytes()))
}

/// bcrypt over the SHA-256 hex digest, computed off the async runtime (~70 ms).
pub async fn hash_password_digest(digest: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || bcrypt::hash(digest, BCRYPT_COST))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

pub async fn verify_password_digest(digest: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || bcrypt::verify(digest, &hash).unwrap_or(false)).await.unwrap_or(false)
}

/// Meteor's `Accounts._hashLoginToken`: base64(SHA-256(token)).
pub fn hash_login_token(token: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_meteor() {
        assert_eq!(password_digest("password"), "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8");
        assert_eq!(hash_login_token("abc"), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
    }

    #[tokio::test]
    async fn bcrypt_round_trip() {
        let hash = hash_password_digest(password_digest("s3cret")).await.unwrap();
        assert!(hash.starts_with("$2"));
        assert!(verify_password_digest(password_digest("s3cret"), hash.clone()).await);
        assert!(!verify_password_digest(password_digest("wrong"), hash).await);
    }
}
