//! A stand-in for WeChat's code-to-session endpoint on loopback, for the sign-in tests.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::header;
use serde_json::json;

/// The appid and app secret the stand-in accepts.
pub(crate) const APPID: &str = "wxsignintest0001";
pub(crate) const SECRET: &str = "app-secret-123";

/// A stand-in for WeChat's code-to-session endpoint: `code-<name>` signs in as `o-<name>`;
/// `code-used` is refused as WeChat refuses a code used twice; anything else is invalid. It
/// checks the appid and secret it is sent, and counts the exchanges.
pub(crate) struct FakeWeChat {
    pub(crate) url: String,
    pub(crate) calls: Arc<AtomicUsize>,
    _task: tokio::task::JoinHandle<()>,
}

pub(crate) async fn fake_wechat() -> FakeWeChat {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let app = axum::Router::new().route(
        "/sns/jscode2session",
        axum::routing::get(
            move |axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>| {
                let counted = Arc::clone(&counted);
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    let arg = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
                    let reply = if arg("appid") != APPID || arg("secret") != SECRET {
                        json!({"errcode": 40125, "errmsg": "invalid appsecret"})
                    } else if arg("grant_type") != "authorization_code" {
                        json!({"errcode": 40002, "errmsg": "invalid grant_type"})
                    } else if arg("js_code") == "code-used" {
                        json!({"errcode": 40163, "errmsg": "code been used"})
                    } else if let Some(name) = arg("js_code").strip_prefix("code-") {
                        json!({"openid": format!("o-{name}"), "session_key": "sk", "unionid": format!("u-{name}")})
                    } else {
                        json!({"errcode": 40029, "errmsg": "invalid code"})
                    };
                    // WeChat answers JSON as text/plain.
                    ([(header::CONTENT_TYPE, "text/plain")], reply.to_string())
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/sns/jscode2session",
        listener.local_addr().unwrap()
    );
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    FakeWeChat {
        url,
        calls,
        _task: task,
    }
}
