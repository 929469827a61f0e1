//! Checking the TC3-HMAC-SHA256 signature that `@cloudbase/node-sdk` (and so `wx-server-sdk`)
//! puts on every `/admin` request, with the tcb-specific canonical request of
//! `@cloudbase/signature-nodejs` (`sdk-wire-protocol.md` §5):
//!
//! ```text
//! canonical  = lower(method) \n "//" host path \n query \n
//!              (h ":" lower(trim(value)) for h in SignedHeaders, "\n"-joined) \n \n
//!              SignedHeaders \n hex(sha256(concat("&" k "=" v "\r\n" for k in SignedParams)))
//! to sign    = "TC3-HMAC-SHA256\n" x-timestamp "\n" date "/tcb/tc3_request\n" hex(sha256(canonical))
//! key        = HMAC(HMAC(HMAC("TC3" secretKey, date), "tcb"), "tc3_request")
//! ```
//!
//! where a param's `v` is the trimmed string, or the trimmed `JSON.stringify` of any other value
//! (`false` is `"false"`, `null` is `"null"`), and params whose `v` is empty are left out
//! (`@cloudbase/signature-nodejs` `formatKeyAndValue`, then `calcParamsHash`). Beyond the
//! signature, the check requires what makes it mean something: every param with a value is
//! signed (nothing unsigned rides along, but the few of [`UNSIGNED_IGNORED`]), `host` and
//! `content-type` are signed, the credential's date is the
//! timestamp's, and the timestamp is within [`MAX_SKEW_SECS`] of now (a captured request cannot
//! be replayed later).

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Params some SDK adds after signing, which the shim never reads: tcb-admin-node's
/// `sdk_version`, and the `sessionToken` of temporary credentials. They may ride along unsigned.
const UNSIGNED_IGNORED: &[&str] = &["sdk_version", "sessiontoken"];

/// How far a request's `x-timestamp` may be from the shim's clock, in seconds: the SDK's own
/// `x-signature-expires` (600) plus some clock difference between machines.
pub const MAX_SKEW_SECS: i64 = 900;

/// The parts of a request the signature covers.
#[derive(Clone, Copy)]
pub struct SignedRequest<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The request path (`/admin`).
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: &'a str,
    /// Header lookup by lower-case name.
    pub header: &'a dyn Fn(&str) -> Option<&'a str>,
    /// The JSON body.
    pub body: &'a Map<String, Value>,
}

impl std::fmt::Debug for SignedRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .finish_non_exhaustive()
    }
}

/// The fields of a TC3 `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization<'a> {
    /// The secret id of `Credential=<id>/<date>/tcb/tc3_request`.
    pub secret_id: &'a str,
    /// The credential's date (`yyyy-mm-dd`).
    pub date: &'a str,
    /// `SignedParams`, `;`-separated.
    pub signed_params: &'a str,
    /// `SignedHeaders`, `;`-separated.
    pub signed_headers: &'a str,
    /// The hex signature.
    pub signature: &'a str,
}

/// Parse `TC3-HMAC-SHA256 Credential=..., SignedParams=..., SignedHeaders=..., Signature=...`.
pub fn parse_authorization(header: &str) -> Option<Authorization<'_>> {
    let rest = header.trim().strip_prefix("TC3-HMAC-SHA256")?;
    let (mut credential, mut params, mut headers, mut signature) = (None, None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Credential" => credential = Some(v),
            "SignedParams" => params = Some(v),
            "SignedHeaders" => headers = Some(v),
            "Signature" => signature = Some(v),
            _ => {}
        }
    }
    let mut c = credential?.split('/');
    let (secret_id, date) = (c.next()?, c.next()?);
    if (c.next(), c.next(), c.next()) != (Some("tcb"), Some("tc3_request"), None) {
        return None;
    }
    Some(Authorization {
        secret_id,
        date,
        signed_params: params?,
        signed_headers: headers?,
        signature: signature?,
    })
}

/// Why a signature check failed (for the log; the caller sees one generic refusal).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no TC3-HMAC-SHA256 Authorization header")]
    Missing,
    #[error("the secret id is not this shim's")]
    WrongSecretId,
    #[error("x-timestamp missing, malformed or more than {MAX_SKEW_SECS} s from now")]
    Timestamp,
    #[error("the credential's date is not the timestamp's")]
    Date,
    #[error("host or content-type not signed")]
    HeadersNotSigned,
    #[error("params in the body that the signature does not cover: {0}")]
    Unsigned(String),
    #[error("the signature does not match")]
    Mismatch,
}

/// Check `req`'s signature for the credentials (`secret_id`, `secret_key`) at `now` (Unix
/// seconds).
pub fn verify(
    req: &SignedRequest<'_>,
    secret_id: &str,
    secret_key: &str,
    now: i64,
) -> Result<(), SignatureError> {
    let auth = (req.header)("authorization")
        .and_then(parse_authorization)
        .ok_or(SignatureError::Missing)?;
    if auth.secret_id != secret_id {
        return Err(SignatureError::WrongSecretId);
    }
    let timestamp = (req.header)("x-timestamp").unwrap_or("");
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::Timestamp)?;
    if (now - ts).abs() > MAX_SKEW_SECS {
        return Err(SignatureError::Timestamp);
    }
    if utc_date(ts).as_deref() != Some(auth.date) {
        return Err(SignatureError::Date);
    }
    let signed_headers: Vec<&str> = auth.signed_headers.split(';').collect();
    if !signed_headers.contains(&"host") || !signed_headers.contains(&"content-type") {
        return Err(SignatureError::HeadersNotSigned);
    }
    let signed: Vec<(String, String)> = req
        .body
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), formatted(v)))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let listed: Vec<&str> = auth
        .signed_params
        .split(';')
        .filter(|p| !p.is_empty())
        .collect();
    let unsigned: Vec<&str> = signed
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !listed.contains(k) && !UNSIGNED_IGNORED.contains(k))
        .collect();
    if !unsigned.is_empty() {
        return Err(SignatureError::Unsigned(unsigned.join(", ")));
    }
    let mut params = String::new();
    for name in &listed {
        if let Some((_, v)) = signed.iter().find(|(k, _)| k == name) {
            params.push('&');
            params.push_str(name);
            params.push('=');
            params.push_str(v);
            params.push_str("\r\n");
        }
    }
    let headers: Vec<String> = signed_headers
        .iter()
        .map(|h| {
            let value = (req.header)(h).unwrap_or("").trim().to_lowercase();
            format!("{h}:{value}")
        })
        .collect();
    let host = (req.header)("host").unwrap_or("");
    let canonical = format!(
        "{}\n//{host}{}\n{}\n{}\n\n{}\n{}",
        req.method.to_ascii_lowercase(),
        req.path,
        req.query,
        headers.join("\n"),
        auth.signed_headers,
        hex::encode(Sha256::digest(params.as_bytes())),
    );
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{}/tcb/tc3_request\n{}",
        auth.date,
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let k_date = hmac(format!("TC3{secret_key}").as_bytes(), auth.date.as_bytes());
    let k_service = hmac(&k_date, b"tcb");
    let k_signing = hmac(&k_service, b"tc3_request");
    let expected = hex::decode(auth.signature).map_err(|_| SignatureError::Mismatch)?;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&k_signing)
        .map_err(|_| SignatureError::Mismatch)?;
    mac.update(to_sign.as_bytes());
    // `verify_slice` compares in constant time.
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// A param's value as the signer hashes it: a string trimmed, anything else as
/// `JSON.stringify` gives it, trimmed.
fn formatted(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_string(),
        other => other.to_string().trim().to_string(),
    }
}

/// `yyyy-mm-dd` of a Unix timestamp, in UTC.
fn utc_date(ts: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(ts, 0).map(|d| d.format("%Y-%m-%d").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first capture of `sdk-wire-protocol.md` §4.2 (node-sdk 3.18.3, secretId
    /// `AKIDfakeSecretId`, secretKey `fakeSecretKey`), with its real signature.
    const BODY: &str = r#"{"collectionName":"todos","data":["{\"title\":\"hello\",\"n\":{\"$numberInt\":\"1\"},\"tags\":[\"a\",\"b\"],\"due\":{\"$date\":{\"$numberLong\":\"1704164645678\"}},\"createdAt\":{\"$tcb_server_date\":{\"offset\":{\"$numberInt\":\"0\"}}},\"later\":{\"$tcb_server_date\":{\"offset\":{\"$numberInt\":\"60000\"}}},\"loc\":{\"type\":\"Point\",\"coordinates\":[{\"$numberDouble\":\"113.3\"},{\"$numberDouble\":\"23.1\"}]},\"re\":{\"$regularExpression\":{\"pattern\":\"^h\",\"options\":\"i\"}},\"nested\":{\"a\":{\"b\":null}},\"big\":{\"$numberLong\":\"12345678901234\"},\"float\":{\"$numberDouble\":\"1.5\"}}"],"action":"database.insertDocument","envName":"test-env-1a2b3c","wxCloudApiToken":"","wxCloudbaseAccesstoken":"","tcb_sessionToken":"","crossAuthorizationToken":""}"#;
    const AUTH: &str = "TC3-HMAC-SHA256 Credential=AKIDfakeSecretId/2026-11-23/tcb/tc3_request, SignedParams=action;collectionname;data;envname, SignedHeaders=content-type;host;user-agent;x-client-timestamp;x-sdk-version;x-tcb-source, Signature=83a16f4e6734370ae80438b343bbcf1f3e5dd25ddc1309d6432cbd1796b5642b";
    const TS: i64 = 1795467534;

    fn check(
        auth: &str,
        body: &str,
        host: &str,
        id: &str,
        key: &str,
        now: i64,
    ) -> Result<(), SignatureError> {
        let body: Map<String, Value> = serde_json::from_str(body).unwrap();
        let ts = TS.to_string();
        let headers = [
            ("content-type", "application/json"),
            ("user-agent", "tcb-node-sdk/3.18.3"),
            ("x-tcb-source", ",unknown"),
            ("x-client-timestamp", "1795467535692"),
            ("x-sdk-version", "tcb-node-sdk/3.18.3"),
            ("host", host),
            ("authorization", auth),
            ("x-timestamp", ts.as_str()),
        ];
        let header = |name: &str| headers.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        verify(
            &SignedRequest {
                method: "POST",
                path: "/admin",
                query: "env=test-env-1a2b3c&seqId=1a20a34654c_1",
                header: &header,
                body: &body,
            },
            id,
            key,
            now,
        )
    }

    #[test]
    fn a_captured_node_sdk_request_verifies() {
        let ok = |key, now| check(AUTH, BODY, "127.0.0.1:8787", "AKIDfakeSecretId", key, now);
        assert_eq!(ok("fakeSecretKey", TS + 5), Ok(()));
        assert_eq!(ok("otherKey", TS + 5), Err(SignatureError::Mismatch));
        // Replayed an hour later.
        assert_eq!(
            ok("fakeSecretKey", TS + 3600),
            Err(SignatureError::Timestamp)
        );
    }

    #[test]
    fn altered_requests_fail() {
        let key = "fakeSecretKey";
        // Another host (the signature covers it).
        assert_eq!(
            check(AUTH, BODY, "127.0.0.1:9999", "AKIDfakeSecretId", key, TS),
            Err(SignatureError::Mismatch)
        );
        // Another collection.
        let other = BODY.replace("\"todos\"", "\"users\"");
        assert_eq!(
            check(AUTH, &other, "127.0.0.1:8787", "AKIDfakeSecretId", key, TS),
            Err(SignatureError::Mismatch)
        );
        // A param the signature does not list.
        let extra = BODY.replace("\"collectionName\"", "\"multi\":true,\"collectionName\"");
        assert_eq!(
            check(AUTH, &extra, "127.0.0.1:8787", "AKIDfakeSecretId", key, TS),
            Err(SignatureError::Unsigned("multi".into()))
        );
        // Someone else's secret id.
        assert_eq!(
            check(AUTH, BODY, "127.0.0.1:8787", "AKIDmine", key, TS),
            Err(SignatureError::WrongSecretId)
        );
        assert_eq!(
            check(
                "Bearer x",
                BODY,
                "127.0.0.1:8787",
                "AKIDfakeSecretId",
                key,
                TS
            ),
            Err(SignatureError::Missing)
        );
    }
}
