//! `/client`: the endpoint the mini-program side `wx.cloud` adapter
//! (`artifacts/js/wx-cloud-shim.js`) calls.
//!
//! # Contract (shared with the adapter; change both together)
//!
//! The client endpoint speaks **the same action protocol as `/admin`**, so one dispatcher serves
//! both. Only the caller differs: `/admin` runs as [`Caller::Admin`](crate::Caller), `/client`
//! runs as `Caller::Client { openid, appid }`, which switches on the client semantics in the
//! database service (20-document read cap, `_openid` stamping, permission presets) and in storage
//! (a client may only overwrite or delete the files it uploaded).
//!
//! * **Request:** `POST /client` (also `POST /client/<anything>`), `content-type: application/json`,
//!   body `{"action": "<module>.<op>", ...params}`: exactly the body `@cloudbase/node-sdk` sends to
//!   `/admin` (`sdk-wire-protocol.md` §3). Database arguments (`query`, `data`, `data[]`, `order`,
//!   `projection`, aggregate `stageValue`) are **strings of canonical EJSON**; `limit`, `offset`,
//!   `multi`, `merge`, `upsert` plain JSON. `envName` and the token fields are accepted and ignored.
//! * **Identity (development only, nothing is verified):** header `x-wx-openid` (default: the
//!   shim's `--openid`, `ShimConfig::default_openid`) and header `x-wx-appid` (default:
//!   `ShimConfig::appid`). An empty header counts as absent.
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

use crate::db::Caller;
use crate::server::{AppState, read_body};

/// The caller a `/client` request speaks for.
pub fn caller_from_headers(state: &AppState, headers: &HeaderMap) -> Caller {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    Caller::Client {
        openid: header("x-wx-openid").unwrap_or_else(|| state.config.default_openid.clone()),
        appid: header("x-wx-appid").unwrap_or_else(|| state.config.appid.clone()),
    }
}

/// `POST /client`.
pub async fn handler(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let caller = caller_from_headers(&state, &parts.headers);
    match read_body(body, state.config.max_body as u64).await {
        Ok(bytes) => crate::admin::respond(&state, caller, &parts.headers, None, bytes).await,
        Err(e) => e.into_envelope(&state.next_request_id()),
    }
}
