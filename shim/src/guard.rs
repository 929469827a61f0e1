//! Who may talk to `/admin`: the checks that keep a web page in the developer's browser (or one
//! that rebinds its DNS name to 127.0.0.1) from reaching the admin action protocol.
//!
//! * The body must be declared `application/json` (or `multipart/form-data`, which the SDKs use
//!   for `wx.openApi`). A browser sends `text/plain` cross-origin without a CORS preflight; a
//!   JSON content type forces the preflight, which the shim never answers.
//! * The `Host` must be an IP literal, `localhost` (or `*.localhost`), a CloudBase host name the
//!   SDKs put there when a proxy is configured, or one the user allowed. A DNS-rebinding page
//!   reaches the shim under its own name and is refused.
//! * An `Origin` (browsers send one on every cross-origin POST; the Node SDKs never do) must be
//!   the shim itself.
//! * With `--admin-token`, the secret id of the SDK's TC3 `Authorization` header
//!   (`Credential=<secretId>/<date>/tcb/tc3_request`) must be the token, or a `Bearer` access
//!   key (node-sdk's `accessKey`) must be it. Without `--admin-key` the signature is not
//!   verified: the token is the shared secret.
//! * With `--admin-key` too (required in sign-in mode), [`check_admin_signature`] verifies the
//!   TC3 signature with it once the body is read ([`crate::auth::tc3`]), and a `Bearer` value
//!   must be the key itself (the secret, not the id).

use axum::http::{HeaderMap, header};
use serde_json::{Map, Value};

use crate::auth::tc3;
use crate::config::ShimConfig;
use crate::error::ShimError;

/// Host names the SDKs send besides the shim's own address: the `tcb-admin` proxy host
/// (`sdk-wire-protocol.md` §4.4) and the Tencent Cloud API domain.
const SDK_HOSTS: &[&str] = &["tcb-admin.tencentyun.com"];
const SDK_DOMAINS: &[&str] = &[".tencentcloudapi.com", ".tcloudbase.com"];

/// Check an `/admin` request's headers against the configured `--admin-token`/`--admin-key`
/// and the extra host names the user allowed (`--allow-host`).
pub(crate) fn check_admin(headers: &HeaderMap, config: &ShimConfig) -> Result<(), ShimError> {
    let (token, allowed_hosts) = (config.admin_token.as_deref(), &config.allowed_hosts);
    let content_type = header_str(headers, header::CONTENT_TYPE).unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence != "application/json" && essence != "multipart/form-data" {
        return Err(ShimError::InvalidParam(format!(
            "/admin takes Content-Type: application/json (got {:?}); the CloudBase SDKs send it",
            content_type
        )));
    }
    let host = header_str(headers, header::HOST);
    if let Some(host) = host
        && !host_allowed(host, allowed_hosts)
    {
        return Err(ShimError::Forbidden(format!(
            "Host {host:?} is not this shim's address; reach it by IP or localhost \
             (or allow the name with --allow-host)"
        )));
    }
    if let Some(origin) = header_str(headers, header::ORIGIN) {
        let same = host.is_some_and(|h| {
            origin.eq_ignore_ascii_case(&format!("http://{h}"))
                || origin.eq_ignore_ascii_case(&format!("https://{h}"))
        });
        if !same {
            return Err(ShimError::Forbidden(format!(
                "requests from web pages (Origin {origin:?}) may not use /admin"
            )));
        }
    }
    if let Some(token) = token {
        let authorization = header_str(headers, header::AUTHORIZATION);
        if let Some(bearer) = authorization.and_then(|a| a.strip_prefix("Bearer ")) {
            let secret = config.admin_key.as_deref().unwrap_or(token);
            // Compared as BLAKE3 hashes, whose equality is constant-time.
            if blake3::hash(bearer.trim().as_bytes()) == blake3::hash(secret.as_bytes()) {
                return Ok(());
            }
            return Err(ShimError::Forbidden(
                "the Bearer access key is not this shim's admin key".into(),
            ));
        }
        let secret_id = authorization
            .and_then(|a| a.split("Credential=").nth(1))
            .and_then(|c| c.split('/').next());
        if secret_id != Some(token) {
            return Err(ShimError::Forbidden(
                "this shim requires the admin token: pass it as the SDK's secretId \
                 (TENCENTCLOUD_SECRETID or init({ secretId }); tcb-admin-node also needs \
                 init({ signMethod: 'v3' }) to sign with it)"
                    .into(),
            ));
        }
    }
    Ok(())
}

/// With `--admin-key`, check the TC3 signature of an `/admin` request whose headers passed
/// [`check_admin`]; `body` is its JSON body. A `Bearer` request was checked there already.
pub(crate) fn check_admin_signature(
    method: &str,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
    config: &ShimConfig,
) -> Result<(), ShimError> {
    let (Some(id), Some(key)) = (config.admin_token.as_deref(), config.admin_key.as_deref()) else {
        return Ok(());
    };
    if header_str(headers, header::AUTHORIZATION).is_some_and(|a| a.starts_with("Bearer ")) {
        return Ok(());
    }
    let refused = |why: String| {
        tracing::warn!("refused an /admin request: signature check failed: {why}");
        ShimError::Forbidden(
            "the request's TC3 signature does not verify with this shim's admin credentials \
             (--admin-token as secretId, --admin-key as secretKey)"
                .into(),
        )
    };
    let body: Map<String, Value> = match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => m,
        // Multipart (wx.openApi) and malformed bodies: nothing this check can read is signed.
        _ => return Err(refused("the body is not a JSON object".into())),
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let request = tc3::SignedRequest {
        method,
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        header: &header,
        body: &body,
    };
    let now = crate::storage::now_secs() as i64;
    tc3::verify(&request, id, key, now).map_err(|e| refused(e.to_string()))
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether a `Host` header value (`name[:port]`, `[v6]:port`) names this shim.
fn host_allowed(host: &str, allowed_hosts: &[String]) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        // An IPv6 literal: `[::1]:8721`.
        return rest
            .split(']')
            .next()
            .is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok());
    } else {
        host.rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(host, |(name, _)| name)
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name.parse::<std::net::Ipv4Addr>().is_ok()
        || name == "localhost"
        || name.ends_with(".localhost")
        || SDK_HOSTS.contains(&name.as_str())
        || SDK_DOMAINS.iter().any(|d| name.ends_with(d))
        || allowed_hosts.iter().any(|a| a.eq_ignore_ascii_case(&name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let allowed = vec!["devbox.lan".to_string()];
        for ok in [
            "127.0.0.1:8721",
            "127.0.0.1",
            "[::1]:8721",
            "localhost:8721",
            "LOCALHOST",
            "app.localhost:1",
            "tcb-admin.tencentyun.com",
            "tcb-api.tencentcloudapi.com",
            "192.168.1.7:8721",
            "devbox.lan:8721",
        ] {
            assert!(host_allowed(ok, &allowed), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8721",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "[evil]:80",
            "tencentcloudapi.com.evil.example",
        ] {
            assert!(!host_allowed(bad, &allowed), "{bad}");
        }
    }
}
