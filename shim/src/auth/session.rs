//! The session tokens the shim issues after a sign-in: `v1.<payload>.<mac>`, where the payload
//! is base64url JSON `{"sub": openid, "app": appid, "uid"?: unionid, "exp": unix seconds}` and
//! the MAC a keyed BLAKE3 hash of `v1.<payload>` under a secret every instance on the database
//! shares (store meta `session-secret`). A token cannot be forged or extended without the
//! secret, names one appid, and expires.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};

/// Who a valid token speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The user's openid, from the code-to-session exchange.
    #[serde(rename = "sub")]
    pub openid: String,
    /// The mini-program the user signed in to.
    #[serde(rename = "app")]
    pub appid: String,
    /// The user's unionid, when WeChat gave one.
    #[serde(rename = "uid", default, skip_serializing_if = "Option::is_none")]
    pub unionid: Option<String>,
    /// Expiry, in seconds since the Unix epoch.
    #[serde(rename = "exp")]
    pub expires: u64,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not of the `v1.<payload>.<mac>` shape, or a payload that is not a session.
    #[error("the session token is malformed")]
    Malformed,
    /// The MAC does not match: forged, altered, or signed with another secret.
    #[error("the session token's signature is not valid")]
    Forged,
    /// Past its expiry.
    #[error("the session token has expired")]
    Expired,
    /// Issued for another mini-program.
    #[error("the session token was issued for another appid")]
    OtherApp,
}

/// Issues and checks session tokens.
#[derive(Clone)]
pub struct Sessions {
    key: [u8; 32],
    ttl: Duration,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

const VERSION: &str = "v1";

impl Sessions {
    /// Tokens signed with `key` that live for `ttl`.
    pub fn new(key: [u8; 32], ttl: Duration) -> Self {
        Sessions { key, ttl }
    }

    /// How long a token lives.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A token for `openid` signed in to `appid`, issued at `now` (Unix seconds).
    pub fn issue(&self, openid: &str, appid: &str, unionid: Option<&str>, now: u64) -> String {
        let session = Session {
            openid: openid.to_string(),
            appid: appid.to_string(),
            unionid: unionid.map(str::to_string),
            expires: now.saturating_add(self.ttl.as_secs()),
        };
        let payload = B64.encode(serde_json::to_vec(&session).unwrap_or_default());
        let signed = format!("{VERSION}.{payload}");
        let mac = B64.encode(self.mac(&signed).as_bytes());
        format!("{signed}.{mac}")
    }

    /// The session of `token` if it is one of ours, for `appid`, and not expired at `now`.
    pub fn verify(&self, token: &str, appid: &str, now: u64) -> Result<Session, TokenError> {
        let (signed, mac) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let (version, payload) = signed.split_once('.').ok_or(TokenError::Malformed)?;
        if version != VERSION {
            return Err(TokenError::Malformed);
        }
        let mac: [u8; 32] = B64
            .decode(mac)
            .ok()
            .and_then(|m| m.try_into().ok())
            .ok_or(TokenError::Malformed)?;
        // `blake3::Hash` compares in constant time.
        if self.mac(signed) != blake3::Hash::from_bytes(mac) {
            return Err(TokenError::Forged);
        }
        let session: Session = B64
            .decode(payload)
            .ok()
            .and_then(|p| serde_json::from_slice(&p).ok())
            .ok_or(TokenError::Malformed)?;
        if session.appid != appid {
            return Err(TokenError::OtherApp);
        }
        if session.expires <= now {
            return Err(TokenError::Expired);
        }
        Ok(session)
    }

    fn mac(&self, signed: &str) -> blake3::Hash {
        blake3::keyed_hash(&self.key, signed.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions() -> Sessions {
        Sessions::new([7; 32], Duration::from_secs(3600))
    }

    #[test]
    fn issued_tokens_verify_until_they_expire() {
        let s = sessions();
        let t = s.issue("o-user-1", "wx123", Some("u-9"), 1_000);
        let got = s.verify(&t, "wx123", 1_000).unwrap();
        assert_eq!(got.openid, "o-user-1");
        assert_eq!(got.unionid.as_deref(), Some("u-9"));
        assert_eq!(got.expires, 4_600);
        assert_eq!(s.verify(&t, "wx123", 4_599).unwrap().openid, "o-user-1");
        assert_eq!(s.verify(&t, "wx123", 4_600), Err(TokenError::Expired));
        assert_eq!(s.verify(&t, "wx-other", 1_000), Err(TokenError::OtherApp));
    }

    #[test]
    fn forged_and_altered_tokens_are_refused() {
        let s = sessions();
        let t = s.issue("o-user-1", "wx123", None, 1_000);
        // Another secret.
        let other = Sessions::new([8; 32], Duration::from_secs(3600));
        assert_eq!(other.verify(&t, "wx123", 1_000), Err(TokenError::Forged));
        // A payload naming someone else, with the old MAC.
        let (_, rest) = t.split_once('.').unwrap();
        let (_, mac) = rest.split_once('.').unwrap();
        let evil = B64.encode(br#"{"sub":"o-admin","app":"wx123","exp":99999999999}"#);
        assert_eq!(
            s.verify(&format!("v1.{evil}.{mac}"), "wx123", 1_000),
            Err(TokenError::Forged)
        );
        // Unsigned, truncated, garbage.
        for bad in [
            "",
            "v1",
            "v1.abc",
            "v2.abc.def",
            &t[..t.len() - 2],
            "v1.!!.??",
        ] {
            assert!(s.verify(bad, "wx123", 1_000).is_err(), "{bad:?} accepted");
        }
    }
}
