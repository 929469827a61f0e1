//! `/client`: the endpoint the mini-program side `wx.cloud` adapter
//! (`artifacts/js/wx-cloud-shim.js`) calls.
//!
//! # Contract (shared with the adapter; change both together)
//!
//! The client endpoint speaks **the same action protocol as `/admin`**, so one dispatcher serves
//! both. Only the caller differs: `/admin` runs as [`Caller::Admin`](crate::service::Caller), `/client`
//! runs as `Caller::Client { openid, appid }`, which switches on the client semantics in the
//! database service (20-document read cap, `_openid` stamping, permission presets) and in storage
//! (a client may only overwrite or delete the files it uploaded).
//!
//! * **Request:** `POST /client` (also `POST /client/<anything>`), `content-type: application/json`,
//!   body `{"action": "<module>.<op>", ...params}`: exactly the body `@cloudbase/node-sdk` sends to
//!   `/admin` (`sdk-wire-protocol.md` §3). Database arguments (`query`, `data`, `data[]`, `order`,
//!   `projection`, aggregate `stageValue`) are **strings of canonical EJSON**; `limit`, `offset`,
//!   `multi`, `merge`, `upsert` plain JSON. `envName` and the token fields are accepted and ignored.
//! * **Identity, development mode (nothing is verified):** header `x-wx-openid` (default: the
//!   shim's `--openid`, `ShimConfig::default_openid`) and header `x-wx-appid` (default:
//!   `ShimConfig::appid`). An empty header counts as absent.
//! * **Identity, sign-in mode (`--appid/--secret`):** the adapter signs in with
//!   **`POST /client/signin`** `{"code": "<the code of wx.login()>"}`; the shim exchanges the code
//!   at the code-to-session endpoint and answers `{"requestId", "data": {"token", "expiresIn"}}`
//!   (seconds), or `{"code": "LOGIN_FAILED", "message"}` (HTTP 200) when WeChat refuses the
//!   code. Later requests carry **`authorization: Bearer <token>`** and act for the token's
//!   openid; `x-wx-openid`/`x-wx-appid` are ignored. A request without a token acts as
//!   `Caller::Anonymous`: it reads collections every user may read (`ALL_READ_*` presets) and
//!   gets download URLs, and anything else is answered **HTTP 401** with code
//!   `UNAUTHENTICATED`, as is every request whose token is forged, altered, for another appid
//!   or expired. On a 401 the adapter signs in again and retries the request once.
//! * **Reply:** always HTTP 200 with `{"requestId": "...", "data": {...}}` on success or
//!   `{"requestId": "...", "code": "DATABASE_COLLECTION_NOT_EXIST", "message": "..."}` on error.
//!   The string codes are the TCB backend's; the adapter maps them to `errCode` numbers as
//!   wx-server-sdk does (`DATABASE_COLLECTION_NOT_EXIST` −502005, `DATABASE_PERMISSION_DENIED`
//!   −502003, `INVALID_PARAM` −501007, `STORAGE_FILE_NONEXIST` −503003, `STORAGE_EXCEED_AUTHORITY`
//!   −503002, `FUNCTIONS_EXECUTE_FAIL` −504002 (the client reports −404011), `SYS_ERR` −501001).
//! * **Actions and reply fields** (same as `/admin`):
//!   * `database.insertDocument` → `insertedIds`; `database.getDocument` → `list` (EJSON strings),
//!     `offset`, `limit`; `database.calculateDocument` → `total`; `database.modifyDocument` →
//!     `updated`, `upsert_id`; `database.removeDocument` → `deleted`;
//!     `database.aggregateDocuments` → `list`.
//!   * `functions.invokeFunction` with `function_name`, `request_data` (JSON string) →
//!     `response_data` (JSON string of the function's return value). The function runs with
//!     `WX_OPENID`/`WX_APPID` set to the caller's, so `cloud.getWXContext()` sees them.
//!   * `storage.getUploadMetadata` with `path` (the cloudPath) → `url`, `fileId`, `download_url`,
//!     `token`, `authorization`, `cosFileId`. Then upload the bytes with **`PUT <url>`** (raw body)
//!     or **`POST <url>`** as `multipart/form-data` with the bytes in field `file`. Success is
//!     HTTP 200 with an empty body; failure is COS-style XML
//!     `<Error><Code>..</Code><Message>..</Message><RequestId>..</RequestId></Error>` (e.g.
//!     `EntityTooLarge` with HTTP 413). The upload URL is signed, expires after one hour and
//!     records the caller's openid as the file's owner. The result of `uploadFile` is
//!     `{fileID: data.fileId}`.
//!   * `storage.batchGetDownloadUrl` with `file_list: [{fileid, max_age?}]` → `download_list:
//!     [{fileID, tempFileURL, code, maxAge}]` (`code` is `SUCCESS` or `STORAGE_FILE_NONEXIST`).
//!     `tempFileURL` is a signed `GET` URL on the shim; `downloadFile` is "getTempFileURL, then GET".
//!   * `storage.batchDeleteFile` with `fileid_list: [fileID]` → `delete_list: [{fileID, code}]`.
//! * fileIDs look like `cloud://<env>.<bucket>/<path>`; the shim accepts any env/bucket prefix and
//!   uses the path.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::error::{ShimError, json_response};
use crate::service::Caller;
use crate::state::{AppState, read_body};

/// The caller a `/client` request speaks for: in sign-in mode the session of its token
/// (anonymous without one; an error for a bad one), else what its headers say.
pub(crate) fn client_caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, ShimError> {
    if let Some(sign_in) = &state.sign_in {
        let appid = state.config.appid.clone();
        let token = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let Some(token) = token else {
            return Ok(Caller::Anonymous { appid });
        };
        let now = crate::storage::now_secs();
        return match sign_in.sessions.verify(token, &appid, now) {
            Ok(session) => Ok(Caller::Client {
                openid: session.openid,
                appid: session.appid,
            }),
            Err(e) => Err(ShimError::Unauthenticated(format!(
                "{e}; sign in again (wx.login, then POST /client/signin)"
            ))),
        };
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    Ok(Caller::Client {
        openid: header("x-wx-openid").unwrap_or_else(|| state.config.default_openid.clone()),
        appid: header("x-wx-appid").unwrap_or_else(|| state.config.appid.clone()),
    })
}

/// `POST /client`.
pub(crate) async fn handler(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let caller = match client_caller(&state, &parts.headers) {
        Ok(caller) => caller,
        Err(e) => return e.into_envelope(&state.next_request_id()),
    };
    match read_body(body, state.config.max_body as u64).await {
        Ok(bytes) => crate::admin::respond(&state, caller, &parts.headers, None, bytes).await,
        Err(e) => e.into_envelope(&state.next_request_id()),
    }
}

/// Longest `wx.login` code accepted (WeChat's are 32 characters).
const MAX_CODE_LEN: usize = 256;

/// `POST /client/signin` `{"code"}`: exchange a `wx.login` code for a session token.
pub(crate) async fn sign_in(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let request_id = state.next_request_id();
    let Some(sign_in) = &state.sign_in else {
        return ShimError::InvalidAction(
            "sign-in: this shim runs in development mode (start it with --secret to sign users in)"
                .into(),
        )
        .into_envelope(&request_id);
    };
    let bytes = match read_body(req.into_body(), 16 << 10).await {
        Ok(b) => b,
        Err(e) => return e.into_envelope(&request_id),
    };
    let code = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_string))
        .filter(|c| !c.is_empty() && c.len() <= MAX_CODE_LEN);
    let Some(code) = code else {
        return ShimError::InvalidParam(
            "sign-in takes {\"code\": \"<the code of wx.login()>\"}".into(),
        )
        .into_envelope(&request_id);
    };
    match sign_in.exchange.exchange(&code).await {
        Ok(who) => {
            let now = crate::storage::now_secs();
            let token = sign_in.sessions.issue(
                &who.openid,
                &state.config.appid,
                who.unionid.as_deref(),
                now,
            );
            let body = serde_json::json!({
                "requestId": request_id,
                "data": { "token": token, "expiresIn": sign_in.sessions.ttl().as_secs() },
            });
            json_response(axum::http::StatusCode::OK, body.to_string())
        }
        Err(crate::auth::LoginError::Refused { errcode, errmsg }) => ShimError::LoginFailed(
            format!("WeChat refused the wx.login code (errcode {errcode}: {errmsg}); call wx.login again"),
        )
        .into_envelope(&request_id),
        Err(e @ crate::auth::LoginError::Upstream(_)) => {
            tracing::warn!("sign-in: {e}");
            ShimError::LoginFailed(
                "the code-to-session endpoint could not be reached; try again".into(),
            )
            .into_envelope(&request_id)
        }
    }
}
