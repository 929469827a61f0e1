//! `storage.*` actions (`sdk-wire-protocol.md` §3.3): upload metadata, temporary download URLs,
//! delete and copy. Bytes move over the signed URLs served by [`crate::storage::http`].

use serde_json::{Map, Value, json};

use crate::error::{ShimError, ShimResult};
use crate::service::Caller;
use crate::storage::{CloudPath, DEFAULT_MAX_AGE, Storage, parse_file_id};

/// Run one `storage.*` action. `base` is the shim's URL as the caller reached it.
pub(super) async fn handle(
    storage: &Storage,
    caller: &Caller,
    base: &str,
    action: &str,
    body: &Map<String, Value>,
) -> ShimResult<Value> {
    if matches!(caller, Caller::Anonymous { .. }) && action != "storage.batchGetDownloadUrl" {
        // Files are "everyone reads, the uploader writes": without a user, reading only.
        return Err(ShimError::StorageDenied(
            "uploading, deleting and copying files need a signed-in user".into(),
        ));
    }
    match action {
        "storage.getUploadMetadata" => {
            let path = body
                .get("path")
                .and_then(Value::as_str)
                .ok_or_else(|| ShimError::InvalidParam("missing field `path`".into()))?;
            let key = CloudPath::parse(path)?;
            let owner = owner_of(caller);
            check_may_write(storage, caller, &key).await?;
            storage.check_fits(&key)?;
            let file_id = storage.file_id(&key);
            // Sent back by the SDK as the `x-cos-meta-fileid` header: ASCII only.
            let cos_file_id =
                percent_encoding::utf8_percent_encode(&file_id, percent_encoding::NON_ALPHANUMERIC)
                    .to_string();
            Ok(json!({
                "url": storage.upload_url(base, &key, owner),
                "token": "local-shim",
                "authorization": "local-shim",
                "fileId": file_id,
                "cosFileId": cos_file_id,
                "download_url": storage.download_url(base, &key, DEFAULT_MAX_AGE),
            }))
        }
        "storage.batchGetDownloadUrl" => {
            let list = array_field(body, "file_list")?;
            let mut out = Vec::with_capacity(list.len());
            for item in list {
                let file_id = item.get("fileid").and_then(Value::as_str).ok_or_else(|| {
                    ShimError::InvalidParam("file_list items need `fileid`".into())
                })?;
                let max_age = item
                    .get("max_age")
                    .and_then(Value::as_u64)
                    .unwrap_or(DEFAULT_MAX_AGE);
                let entry = match parse_file_id(file_id) {
                    Ok(key) if storage.exists(&key).await? => json!({
                        "fileID": file_id,
                        "tempFileURL": storage.download_url(base, &key, max_age),
                        "code": "SUCCESS",
                        "maxAge": max_age,
                    }),
                    Ok(_) => json!({
                        "fileID": file_id,
                        "tempFileURL": "",
                        "code": "STORAGE_FILE_NONEXIST",
                        "message": "storage file not exists",
                    }),
                    Err(e) => json!({
                        "fileID": file_id,
                        "tempFileURL": "",
                        "code": e.code(),
                        "message": e.public_message(),
                    }),
                };
                out.push(entry);
            }
            Ok(json!({ "download_list": out }))
        }
        "storage.batchDeleteFile" => {
            let list = array_field(body, "fileid_list")?;
            let mut out = Vec::with_capacity(list.len());
            for item in list {
                let file_id = item.as_str().ok_or_else(|| {
                    ShimError::InvalidParam("fileid_list items must be strings".into())
                })?;
                let result = async {
                    let key = parse_file_id(file_id)?;
                    check_may_write(storage, caller, &key).await?;
                    storage.delete(&key).await
                }
                .await;
                out.push(item_result(
                    "fileID",
                    result.map(|()| file_id.to_string()),
                    file_id,
                )?);
            }
            Ok(json!({ "delete_list": out }))
        }
        "storage.batchCopyFile" => {
            let list = array_field(body, "file_list")?;
            let mut out = Vec::with_capacity(list.len());
            for item in list {
                let src = item.get("src_path").and_then(Value::as_str).unwrap_or("");
                let dst = item.get("dst_path").and_then(Value::as_str).unwrap_or("");
                let overwrite = item
                    .get("overwrite")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let remove = item
                    .get("remove_original")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let result = async {
                    let src_key = file_id_or_path(src)?;
                    let dst_key = file_id_or_path(dst)?;
                    check_may_write(storage, caller, &dst_key).await?;
                    if remove {
                        check_may_write(storage, caller, &src_key).await?;
                    }
                    storage.copy(&src_key, &dst_key, overwrite).await?;
                    if remove {
                        storage.delete(&src_key).await?;
                    }
                    Ok::<_, ShimError>(storage.file_id(&dst_key))
                }
                .await;
                out.push(item_result("fileId", result, dst)?);
            }
            Ok(json!({ "copy_list": out }))
        }
        other => Err(ShimError::InvalidAction(other.to_string())),
    }
}

/// A required array field of the request body.
fn array_field<'a>(body: &'a Map<String, Value>, name: &str) -> ShimResult<&'a Vec<Value>> {
    body.get(name)
        .and_then(Value::as_array)
        .ok_or_else(|| ShimError::InvalidParam(format!("missing field `{name}`")))
}

/// One item of a batch reply: `{<id_key>: id, code: "SUCCESS"}` or the item's error code and
/// message. An internal error fails the whole request instead.
fn item_result(id_key: &str, result: ShimResult<String>, failed_id: &str) -> ShimResult<Value> {
    Ok(match result {
        Ok(id) => json!({ id_key: id, "code": "SUCCESS" }),
        Err(e @ ShimError::Internal { .. }) => return Err(e),
        Err(e) => json!({ id_key: failed_id, "code": e.code(), "message": e.public_message() }),
    })
}

/// `batchCopyFile` paths: a fileID, or a cloud path (a leading `/` is tolerated).
fn file_id_or_path(p: &str) -> ShimResult<CloudPath> {
    if p.starts_with("cloud://") {
        parse_file_id(p)
    } else {
        CloudPath::parse(p.strip_prefix('/').unwrap_or(p))
    }
}

fn owner_of(caller: &Caller) -> &str {
    match caller {
        Caller::Admin | Caller::Anonymous { .. } => "",
        Caller::Client { openid, .. } => openid,
    }
}

/// Storage preset "everyone reads, the uploader writes": a client may create new files and
/// overwrite or delete its own; admin may do anything.
///
/// A caller who has not signed in writes nothing.
async fn check_may_write(storage: &Storage, caller: &Caller, key: &CloudPath) -> ShimResult<()> {
    let openid = match caller {
        Caller::Admin => return Ok(()),
        Caller::Anonymous { .. } => return Err(ShimError::StorageDenied(key.to_string())),
        Caller::Client { openid, .. } => openid,
    };
    if !storage.exists(key).await? {
        return Ok(());
    }
    let info = storage.info(key).await?;
    if info.owner == *openid {
        Ok(())
    } else {
        Err(ShimError::StorageDenied(key.to_string()))
    }
}
