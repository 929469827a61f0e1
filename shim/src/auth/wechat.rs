//! The code-to-session exchange (`auth.code2Session`, cloud-api.md): the `code` of the
//! mini-program's `wx.login()` goes with the appid and app secret to
//! `GET <url>?appid=&secret=&js_code=&grant_type=authorization_code`, which answers JSON
//! `{openid, session_key, unionid?}` or `{errcode, errmsg}`. The URL is WeChat's by default and
//! configurable, so tests (and air-gapped deployments with their own gateway) can point it
//! elsewhere. The `session_key` is never kept or passed on.

use std::time::Duration;

/// WeChat's code-to-session endpoint.
pub const DEFAULT_CODE2SESSION_URL: &str = "https://api.weixin.qq.com/sns/jscode2session";

/// The identity a code was exchanged for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WxIdentity {
    /// The user's openid for this appid.
    pub openid: String,
    /// The user's unionid, when the app is bound to an open-platform account.
    pub unionid: Option<String>,
}

/// Why an exchange failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// WeChat refused the code (`errcode` 40029 invalid code, 40163 code used, 45011 rate
    /// limit, 40226 blocked user...).
    #[error("code2Session refused the code: errcode {errcode}, {errmsg}")]
    Refused { errcode: i64, errmsg: String },
    /// The endpoint could not be reached or answered something else than its JSON.
    #[error("code2Session endpoint failed: {0}")]
    Upstream(String),
}

/// Exchanges `wx.login` codes for openids.
#[derive(Debug, Clone)]
pub struct CodeExchange {
    client: reqwest::Client,
    url: String,
    appid: String,
    secret: String,
}

impl CodeExchange {
    /// An exchange against `url` for the app `appid` with its app secret.
    pub fn new(url: &str, appid: &str, secret: &str) -> Result<Self, LoginError> {
        // reqwest is built with rustls but no bundled provider (see shim/Cargo.toml).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| LoginError::Upstream(e.to_string()))?;
        Ok(CodeExchange {
            client,
            url: url.to_string(),
            appid: appid.to_string(),
            secret: secret.to_string(),
        })
    }

    /// Exchange one code.
    pub async fn exchange(&self, code: &str) -> Result<WxIdentity, LoginError> {
        let url = reqwest::Url::parse_with_params(
            &self.url,
            [
                ("appid", self.appid.as_str()),
                ("secret", self.secret.as_str()),
                ("js_code", code),
                ("grant_type", "authorization_code"),
            ],
        )
        .map_err(|e| LoginError::Upstream(format!("bad code2Session URL: {e}")))?;
        let resp = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| LoginError::Upstream(without_query(&e.to_string())))?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|e| LoginError::Upstream(without_query(&e.to_string())))?;
        // WeChat answers `text/plain` JSON: parse whatever the content type says.
        let v: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|_| LoginError::Upstream(format!("HTTP {status}, not a JSON answer")))?;
        let errcode = v
            .get("errcode")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(0);
        if errcode != 0 {
            return Err(LoginError::Refused {
                errcode,
                errmsg: v
                    .get("errmsg")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("")
                    .chars()
                    .take(200)
                    .collect(),
            });
        }
        let text = |k: &str| {
            v.get(k)
                .and_then(serde_json::Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let openid = text("openid").ok_or_else(|| {
            LoginError::Upstream(format!("HTTP {status}, no openid in the answer"))
        })?;
        Ok(WxIdentity {
            openid,
            unionid: text("unionid"),
        })
    }
}

/// An error message with any URL query cut off (it would carry the app secret).
fn without_query(message: &str) -> String {
    match message.find('?') {
        Some(i) => {
            let end = message[i..]
                .find([' ', ')'])
                .map_or(message.len(), |j| i + j);
            format!("{}{}", &message[..i], &message[end..])
        }
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_reach_error_messages() {
        assert_eq!(
            without_query(
                "error sending request for url (http://x/sns?appid=a&secret=s&js_code=c)"
            ),
            "error sending request for url (http://x/sns)"
        );
        assert_eq!(without_query("plain"), "plain");
    }
}
