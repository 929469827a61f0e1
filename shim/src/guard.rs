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
//!   (`Credential=<secretId>/<date>/tcb/tc3_request`) must be the token. The signature is not
//!   verified: the token is the shared secret.

use axum::http::{HeaderMap, header};

use crate::error::ShimError;

/// Host names the SDKs send besides the shim's own address: the `tcb-admin` proxy host
/// (`sdk-wire-protocol.md` §4.4) and the Tencent Cloud API domain.
const SDK_HOSTS: &[&str] = &["tcb-admin.tencentyun.com"];
const SDK_DOMAINS: &[&str] = &[".tencentcloudapi.com", ".tcloudbase.com"];

/// Check an `/admin` request's headers; `token` is the configured `--admin-token`,
/// `allowed_hosts` the extra host names the user allowed.
pub(crate) fn check_admin(
    headers: &HeaderMap,
    token: Option<&str>,
    allowed_hosts: &[String],
) -> Result<(), ShimError> {
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
        let secret_id = header_str(headers, header::AUTHORIZATION)
            .and_then(|a| a.split("Credential=").nth(1))
            .and_then(|c| c.split('/').next());
        if secret_id != Some(token) {
            return Err(ShimError::Forbidden(
                "this shim requires the admin token: pass it as the SDK's secretId \
                 (TENCENTCLOUD_SECRETID or init({ secretId }))"
                    .into(),
            ));
        }
    }
    Ok(())
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
