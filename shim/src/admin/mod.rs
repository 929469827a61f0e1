//! The CloudBase action protocol: `POST <any path>?env=..&seqId=..` with a JSON body
//! `{"action": "<module>.<op>", ...params}`, answered with HTTP 200 and
//! `{"requestId", "data"}` or `{"code", "message", "requestId"}` (`sdk-wire-protocol.md` §2).
//!
//! `/admin` is what `@cloudbase/node-sdk` and `wx-server-sdk` call (caller [`Caller::Admin`]);
//! `/client` ([`crate::client`]) runs the same dispatch as `Caller::Client`. The TC3
//! `Authorization` header, `x-timestamp` and the token fields are accepted and ignored
//! (`sdk-wire-protocol.md` §5: the SDKs never check the server side of auth).

mod database;
mod functions;
mod legacy;
mod storage;

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use serde_json::{Map, Value};

use crate::error::{ShimError, ShimResult, json_response};
use crate::service::Caller;
use crate::state::AppState;

/// Dispatch one action request and render the envelope.
pub(crate) async fn respond(
    state: &Arc<AppState>,
    caller: Caller,
    headers: &HeaderMap,
    seq_id: Option<&str>,
    body: Bytes,
) -> Response {
    let request_id = state.next_request_id();
    let started = std::time::Instant::now();
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let parsed = if multipart {
        // wx.openApi / wx.wxPayApi / wx.wxCallContainerApi: protobuf payloads for WeChat's
        // servers, which a local shim cannot answer.
        Err(ShimError::InvalidAction(
            "multipart actions (wx.openApi, wx.wxPayApi, wx.wxCallContainerApi)".into(),
        ))
    } else {
        parse_body(&body)
    };
    let anonymous = matches!(caller, Caller::Anonymous { .. });
    let (action, result) = match parsed {
        Ok(map) => {
            let action = map
                .get("action")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let result = dispatch(state, caller, headers, seq_id, &request_id, &action, &map).await;
            (action, result)
        }
        Err(e) => (String::new(), Err(e)),
    };
    // A caller who has not signed in and is refused: sign in, then it may be allowed.
    let result = match result {
        Err(
            e @ (ShimError::Db(crate::db::DbError::PermissionDenied(_))
            | ShimError::StorageDenied(_)),
        ) if anonymous => Err(ShimError::Unauthenticated(format!(
            "sign in first (wx.login, then POST /client/signin): {}",
            e.public_message()
        ))),
        other => other,
    };
    // One line per action, at debug: the default log carries only the periodic summary.
    tracing::debug!(
        request_id,
        action,
        code = result.as_ref().err().map_or("", ShimError::code),
        micros = started.elapsed().as_micros() as u64,
        "action"
    );
    match result {
        Ok(data) => {
            let mut m = Map::with_capacity(3);
            m.insert("requestId".into(), Value::String(request_id));
            // `database.startTransaction`: the SDK reads `transactionId` at the top level.
            if action == "database.startTransaction"
                && let Some(id) = data.get("transactionId")
            {
                m.insert("transactionId".into(), id.clone());
            }
            m.insert("data".into(), data);
            json_response(axum::http::StatusCode::OK, Value::Object(m).to_string())
        }
        Err(e) => e.into_envelope(&request_id),
    }
}

fn parse_body(body: &[u8]) -> ShimResult<Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ShimError::InvalidParam(
            "request body must be a JSON object".into(),
        )),
        Err(e) => Err(ShimError::InvalidParam(format!(
            "request body is not valid JSON: {e}"
        ))),
    }
}

/// The shim's base URL as the caller reached it (`http://<Host>`), for the URLs it hands out.
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(host) = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && !h.contains(['/', ' ', '@']))
        // Absolute-form requests through a proxy carry the real cloud host; URLs must point here.
        .filter(|h| !h.ends_with("tencentyun.com") && !h.ends_with("tencentcloudapi.com"))
    {
        return format!("http://{host}");
    }
    state
        .config
        .public_url
        .clone()
        .unwrap_or_else(|| "http://127.0.0.1".to_string())
}

async fn dispatch(
    state: &Arc<AppState>,
    caller: Caller,
    headers: &HeaderMap,
    seq_id: Option<&str>,
    request_id: &str,
    action: &str,
    body: &Map<String, Value>,
) -> ShimResult<Value> {
    if action.is_empty() {
        return Err(ShimError::InvalidParam("missing field `action`".into()));
    }
    let (module, _) = action.split_once('.').unwrap_or((action, ""));
    match module {
        "database" if legacy::is_legacy(action) => {
            legacy::handle(&state.db, caller, action, body).await
        }
        "database" => database::handle(&state.db, caller, action, body).await,
        "storage" => {
            let base = base_url(state, headers);
            storage::handle(&state.storage, &caller, &base, action, body).await
        }
        "functions" => {
            // A function's own `callFunction` acts for the user of the call in progress.
            let caller = match (&caller, seq_id, state.functions.as_deref()) {
                (Caller::Admin, Some(seq), Some(runner)) => runner
                    .caller_for_seq_id(seq)
                    .and_then(|ctx| {
                        Some(Caller::Client {
                            openid: ctx.openid?,
                            appid: ctx.appid.unwrap_or_default(),
                        })
                    })
                    .map_or(caller, |c| c),
                _ => caller,
            };
            functions::handle(
                state.functions.as_deref(),
                &caller,
                request_id,
                action,
                body,
            )
            .await
        }
        _ => Err(ShimError::InvalidAction(action.to_string())),
    }
}
