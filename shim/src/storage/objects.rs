//! The storage service ([`Storage`]): objects behind an [`ObjectStore`] (a local directory or
//! an S3-compatible bucket) with a small owner record beside each, the signed URLs that move
//! their bytes, and the copy-in of the project's `cloud/storage/` files.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::path::{Path as ObjPath, PathPart};
use object_store::prefix::PrefixStore;
use object_store::{
    Attribute, Attributes, ClientOptions, GetOptions, GetRange, GetResult, ObjectMeta, ObjectStore,
    ObjectStoreExt, PutPayload, RetryConfig,
};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::download::{Conditions, Decision, FileMeta, READ_WHOLE_LIMIT};
use super::location::Location;
use super::path::{CloudPath, file_id};
use super::sign::{Op, Signer, now_secs};
use crate::error::{ShimError, ShimResult};

/// Validity of an upload URL, in seconds.
pub const UPLOAD_URL_TTL: u64 = 3600;
/// Default validity of a download URL (`maxAge`), in seconds.
pub const DEFAULT_MAX_AGE: u64 = 86_400;

/// Characters escaped in the path of the URLs the shim hands out.
const PATH_SET: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'[')
    .add(b']')
    .add(b'^')
    .add(b'|');
/// Characters escaped in query values.
const QUERY_SET: &AsciiSet = &PATH_SET.add(b'&').add(b'=').add(b'+').add(b'/');

/// Longest file name the usual file systems hold (ext4, XFS, APFS, NTFS), in bytes.
const MAX_FILE_NAME: usize = 255;
/// Room kept for the `#<n>` suffix the local backend adds to the file it writes before renaming
/// it into place.
const STAGING_SUFFIX: usize = 8;
/// Longest path component the local backend accepts, in bytes as stored (after the backend's
/// percent-encoding of non-ASCII and reserved characters).
pub(crate) const MAX_STORED_COMPONENT: usize = MAX_FILE_NAME - STAGING_SUFFIX;

/// Longest object key S3 accepts, in bytes.
const MAX_S3_KEY: usize = 1024;
/// Writes to a remote store up to this size are one `PUT`; larger ones a multipart upload in
/// parts of this size (S3 wants at least 5 MiB a part but the last). A part is also what one
/// request carries, so it bounds what a slow link must send before a request times out.
const PART_SIZE: usize = 8 << 20;
/// Reads of a seeded file, in bytes.
const SEED_READ_CHUNK: usize = 1 << 20;
/// Seed files checked and copied at once into a remote store (one at a time into the local
/// directory, where each step is a system call, not a round trip).
const SEED_CONCURRENCY: usize = 8;
/// A download whose object is replaced between its metadata and its bytes starts over, at
/// most this many times in all.
const READ_ATTEMPTS: usize = 3;

/// What the shim records about an object besides its bytes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectInfo {
    /// Openid of the uploader; empty for admin uploads and seeded files.
    #[serde(default)]
    pub owner: String,
    /// Upload time, Unix seconds.
    #[serde(default)]
    pub uploaded_at: u64,
}

/// The body of a download, when one is read.
pub(crate) enum Payload {
    /// Read whole (spans up to [`READ_WHOLE_LIMIT`]).
    Bytes(Bytes),
    /// Streamed from the store.
    Stream(BoxStream<'static, object_store::Result<Bytes>>),
}

/// What a download answers: the object's metadata, the decision taken on the request's
/// conditions, and the bytes when the decision serves a body.
pub(crate) struct Read {
    pub(crate) meta: FileMeta,
    pub(crate) decision: Decision,
    pub(crate) body: Option<Payload>,
}

/// The storage service.
#[derive(Debug, Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    /// The same store when it is the local file system: downloads then read metadata and bytes
    /// in one blocking call instead of three ([`Storage::read_local`]).
    local: Option<Arc<LocalFileSystem>>,
    /// Longest object path (`objects/<key>`, as stored) the store holds, when it has a limit
    /// (S3: 1024 bytes for the whole key, less the prefix).
    max_path: Option<usize>,
    /// Where the objects are, for messages (`s3://bucket/prefix`, a directory, `memory`).
    location: String,
    signer: Signer,
    env: String,
    max_upload: u64,
}

impl Storage {
    /// Storage over any object store.
    pub fn new(store: Arc<dyn ObjectStore>, signer: Signer, env: String, max_upload: u64) -> Self {
        let location = store.to_string();
        Storage {
            store,
            local: None,
            max_path: None,
            location,
            signer,
            env,
            max_upload,
        }
    }

    /// Storage at a storage URL: `s3://bucket[/prefix]` for a bucket of an S3-compatible
    /// service, configured by the usual environment variables (see [`Storage::open_s3`]), or
    /// the path of a local directory (as [`Storage::open_local`]; `file:///path` works too).
    /// Anything else is `INVALID_PARAM` with a message naming the URL and the expected forms.
    pub fn open_url(url: &str, signer: Signer, env: String, max_upload: u64) -> ShimResult<Self> {
        match Location::parse(url)? {
            Location::Local(dir) => Storage::open_local(&dir, signer, env, max_upload),
            Location::S3 { bucket, prefix } => {
                Storage::open_s3(s3_from_env(), &bucket, prefix, signer, env, max_upload)
            }
        }
    }

    /// [`Storage::open_url`] with the S3 settings given instead of read from the environment:
    /// `(key, value)` pairs named as object_store's [`AmazonS3ConfigKey`] parses them
    /// (`aws_endpoint`, `aws_region`, `aws_access_key_id`, `aws_secret_access_key`,
    /// `aws_allow_http`, ...; the environment variable names, lowercased, are accepted). An
    /// unknown key is `INVALID_PARAM`; for a local directory the settings must be empty. For
    /// programs (and tests) that run several stores in one process.
    pub fn open_url_with<K: AsRef<str>, V: Into<String>>(
        url: &str,
        settings: impl IntoIterator<Item = (K, V)>,
        signer: Signer,
        env: String,
        max_upload: u64,
    ) -> ShimResult<Self> {
        let mut builder = s3_defaults(AmazonS3Builder::new());
        let mut any = false;
        for (key, value) in settings {
            let key = key.as_ref();
            let parsed: AmazonS3ConfigKey = key.to_ascii_lowercase().parse().map_err(|_| {
                ShimError::InvalidParam(format!(
                    "unknown S3 setting `{key}` (expected a name such as aws_endpoint, \
                     aws_region, aws_access_key_id, aws_secret_access_key, aws_allow_http)"
                ))
            })?;
            builder = builder.with_config(parsed, value);
            any = true;
        }
        match Location::parse(url)? {
            Location::Local(dir) if !any => Storage::open_local(&dir, signer, env, max_upload),
            Location::Local(_) => Err(ShimError::InvalidParam(format!(
                "S3 settings were given for the local storage `{url}`"
            ))),
            Location::S3 { bucket, prefix } => {
                Storage::open_s3(builder, &bucket, prefix, signer, env, max_upload)
            }
        }
    }

    /// Storage in `bucket` (below `prefix` when given) of an S3-compatible service, with the
    /// settings of `builder`; [`Storage::open_url`] passes one read from the environment like
    /// object_store's `AmazonS3Builder::from_env`: `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT`; unset:
    /// AWS itself), `AWS_REGION` (default `us-east-1`), `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_ALLOW_HTTP=true` for a plain-HTTP
    /// endpoint, and `AWS_VIRTUAL_HOSTED_STYLE_REQUEST=true` for `bucket.host` addressing
    /// (default: path style, `host/bucket/key`, which S3-compatible servers expect; with
    /// virtual-hosted style the endpoint must name the bucket).
    ///
    /// Defaults that suit a server answering people, each overridable by its variable: no
    /// limit on a whole request (a large download to a slow client takes as long as it takes)
    /// but 5 s to connect (`AWS_CONNECT_TIMEOUT`) and 60 s without a byte read
    /// (`AWS_READ_TIMEOUT`); a failed request is retried at most 4 times within 60 s, not
    /// object_store's 10 times within 3 minutes.
    ///
    /// The credentials need `s3:GetObject`, `s3:PutObject`, `s3:DeleteObject`,
    /// `s3:AbortMultipartUpload` (a big upload that fails is cleaned up) and `s3:ListBucket`
    /// (without it S3 answers 403, not 404, for a missing object). Nothing is sent until the
    /// first request: [`Storage::check_access`] tells whether the bucket answers.
    pub fn open_s3(
        builder: AmazonS3Builder,
        bucket: &str,
        prefix: Option<ObjPath>,
        signer: Signer,
        env: String,
        max_upload: u64,
    ) -> ShimResult<Self> {
        let has = |key| {
            builder
                .get_config_value(&key)
                .is_some_and(|v| !v.is_empty())
        };
        let skip_signature = builder
            .get_config_value(&AmazonS3ConfigKey::SkipSignature)
            .is_some_and(|v| v == "true");
        if !skip_signature
            && !has(AmazonS3ConfigKey::AccessKeyId)
            && !has(AmazonS3ConfigKey::WebIdentityTokenFile)
            && !has(AmazonS3ConfigKey::ContainerCredentialsRelativeUri)
            && !has(AmazonS3ConfigKey::ContainerCredentialsFullUri)
        {
            tracing::warn!(
                bucket,
                "no S3 credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY): they will be \
                 asked of the instance metadata service, which exists only on cloud machines"
            );
        }
        let s3 = builder
            .with_bucket_name(bucket)
            .build()
            .map_err(|e| ShimError::internal(format!("cannot open S3 bucket `{bucket}`: {e}")))?;
        let (store, location, prefix_len): (Arc<dyn ObjectStore>, String, usize) = match prefix {
            Some(p) if !p.as_ref().is_empty() => {
                let location = format!("s3://{bucket}/{p}");
                let len = p.as_ref().len() + 1;
                (Arc::new(PrefixStore::new(s3, p)), location, len)
            }
            _ => (Arc::new(s3), format!("s3://{bucket}"), 0),
        };
        let mut storage = Storage::new(store, signer, env, max_upload);
        storage.location = location;
        storage.max_path = Some(MAX_S3_KEY.saturating_sub(prefix_len));
        Ok(storage)
    }

    /// Storage in a local directory (created if missing).
    pub fn open_local(
        root: &std::path::Path,
        signer: Signer,
        env: String,
        max_upload: u64,
    ) -> ShimResult<Self> {
        std::fs::create_dir_all(root).map_err(ShimError::internal)?;
        let fs = LocalFileSystem::new_with_prefix(root)
            .map_err(ShimError::internal)?
            .with_automatic_cleanup(true);
        let fs = Arc::new(fs);
        let mut storage = Storage::new(
            Arc::clone(&fs) as Arc<dyn ObjectStore>,
            signer,
            env,
            max_upload,
        );
        storage.local = Some(fs);
        storage.location = root.display().to_string();
        Ok(storage)
    }

    /// Where the objects are: `s3://bucket[/prefix]`, a directory, or the store's own name.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Whether the store answers: for a remote store, one listing of a folder that is never
    /// written, so that a wrong endpoint, bucket, region or credentials fail at start with
    /// a message naming the storage rather than at the first upload. A local directory was
    /// opened already and is always answered.
    pub async fn check_access(&self) -> ShimResult<()> {
        if self.local.is_some() {
            return Ok(());
        }
        // A listing, not a HEAD: a missing bucket and a missing key are both a bodiless 404 to
        // a HEAD. The folder is never written, so the answer is empty.
        let probe = ObjPath::from(".migrate-access-check");
        match self.store.list_with_delimiter(Some(&probe)).await {
            Ok(_) => Ok(()),
            Err(e) => Err(ShimError::internal(format!(
                "storage {} does not answer: {e}",
                self.location
            ))),
        }
    }

    /// The env id used in fileIDs.
    pub fn env(&self) -> &str {
        &self.env
    }

    /// Largest accepted upload, in bytes.
    pub fn max_upload(&self) -> u64 {
        self.max_upload
    }

    /// The URL signer.
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    fn object_path(key: &CloudPath) -> ObjPath {
        ObjPath::from_iter(std::iter::once("objects").chain(key.components()))
    }

    fn meta_path(key: &CloudPath) -> ObjPath {
        ObjPath::from_iter(std::iter::once("meta").chain(key.components()))
    }

    /// The fileID of `key`.
    pub fn file_id(&self, key: &CloudPath) -> String {
        file_id(&self.env, key)
    }

    /// Refuse (`INVALID_PARAM`) a key the local backend cannot hold as a file: a component whose
    /// stored name would be longer than a file name may be, a key below an existing file (`a/b`
    /// when `a` is a file) and a key that is the folder of existing files (`a` when `a/b`
    /// exists). Object stores such as COS or S3 have no folders and hold all of these, so a
    /// non-local backend accepts them. Checked when an upload URL is handed out, again when the
    /// bytes arrive, and for the destination of a copy.
    ///
    /// A store with a key length limit (S3: 1024 bytes, prefix included) refuses a key whose
    /// object path would be longer.
    pub fn check_fits(&self, key: &CloudPath) -> ShimResult<()> {
        if let Some(max) = self.max_path {
            let len = Self::object_path(key).as_ref().len();
            if len > max {
                return Err(ShimError::InvalidParam(format!(
                    "invalid cloud path: `{}` is {len} bytes as an object key in {} (with its \
                     `objects/` folder; non-ASCII characters take 2 to 4 bytes, and `%`, `#`, `~` \
                     and other reserved characters 3), over the {max} bytes the bucket holds (S3 \
                     keys are at most {MAX_S3_KEY} bytes, prefix included); shorten it",
                    shorten(key.as_str()),
                    self.location
                )));
            }
        }
        let Some(fs) = &self.local else {
            return Ok(());
        };
        for part in key.components() {
            let stored = PathPart::from(part).as_ref().len();
            if stored > MAX_STORED_COMPONENT {
                return Err(ShimError::InvalidParam(format!(
                    "invalid cloud path: the component `{}` is {stored} bytes as stored on disk \
                     (non-ASCII and reserved characters take 3 bytes per byte); local storage \
                     keeps each component of a path within {MAX_STORED_COMPONENT} bytes, \
                     shorten it",
                    shorten(part)
                )));
            }
        }
        let parts: Vec<&str> = key.components().collect();
        for tree in ["objects", "meta"] {
            for depth in 1..parts.len() {
                let prefix =
                    ObjPath::from_iter(std::iter::once(tree).chain(parts[..depth].iter().copied()));
                let path = fs
                    .path_to_filesystem(&prefix)
                    .map_err(ShimError::internal)?;
                if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.is_dir()) {
                    let file = parts[..depth].join("/");
                    return Err(ShimError::InvalidParam(format!(
                        "cannot store `{key}`: `{file}` is a file, and local storage cannot hold \
                         a file and a folder of the same name; choose another path or delete \
                         `{file}` first"
                    )));
                }
            }
            let full = ObjPath::from_iter(std::iter::once(tree).chain(parts.iter().copied()));
            let path = fs.path_to_filesystem(&full).map_err(ShimError::internal)?;
            if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
                return Err(ShimError::InvalidParam(format!(
                    "cannot store `{key}`: it is the folder of other files (`{key}/...`), and \
                     local storage cannot hold a file and a folder of the same name; choose \
                     another path or delete the files under `{key}/` first"
                )));
            }
        }
        Ok(())
    }

    /// Store `bytes` under `key` (overwriting), recording `owner` as the uploader.
    pub async fn put(&self, key: &CloudPath, bytes: Bytes, owner: &str) -> ShimResult<()> {
        if bytes.len() as u64 > self.max_upload {
            return Err(ShimError::PayloadTooLarge {
                limit: self.max_upload,
            });
        }
        self.check_fits(key)?;
        let path = Self::object_path(key);
        if self.local.is_some() {
            self.store
                .put(&path, PutPayload::from_bytes(bytes))
                .await
                .map_err(ShimError::internal)?;
        } else {
            let mut writer = self.writer(key);
            if let Err(e) = writer.put(bytes).await {
                return Err(abort(writer, e).await);
            }
            writer.shutdown().await.map_err(ShimError::internal)?;
        }
        self.put_info(key, owner).await
    }

    /// Record `owner` as the uploader of `key`, now.
    async fn put_info(&self, key: &CloudPath, owner: &str) -> ShimResult<()> {
        let info = ObjectInfo {
            owner: owner.to_string(),
            uploaded_at: now_secs(),
        };
        let json = serde_json::to_vec(&info).map_err(ShimError::internal)?;
        self.store
            .put(&Self::meta_path(key), PutPayload::from(json))
            .await
            .map_err(ShimError::internal)?;
        Ok(())
    }

    /// A writer of `key`'s bytes: one `PUT` up to [`PART_SIZE`], a multipart upload above. On
    /// a remote store the object carries the `Content-Type` of its extension, so that it is
    /// served right by other tools too (the local backend keeps no attributes).
    fn writer(&self, key: &CloudPath) -> BufWriter {
        let writer =
            BufWriter::with_capacity(Arc::clone(&self.store), Self::object_path(key), PART_SIZE);
        if self.local.is_some() {
            return writer;
        }
        let mime = mime_guess::from_path(key.as_str())
            .first_raw()
            .unwrap_or("application/octet-stream");
        writer.with_attributes(Attributes::from_iter([(Attribute::ContentType, mime)]))
    }

    /// Metadata of the object's bytes, or `FileNotExist`.
    pub async fn head(&self, key: &CloudPath) -> ShimResult<ObjectMeta> {
        self.store
            .head(&Self::object_path(key))
            .await
            .map_err(|e| not_found_or_internal(e, key))
    }

    /// Whether `key` exists.
    pub async fn exists(&self, key: &CloudPath) -> ShimResult<bool> {
        match self.head(key).await {
            Ok(_) => Ok(true),
            Err(ShimError::FileNotExist(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// What is recorded about `key` (defaults when the record is missing).
    pub async fn info(&self, key: &CloudPath) -> ShimResult<ObjectInfo> {
        match self.store.get(&Self::meta_path(key)).await {
            Ok(r) => {
                let bytes = r.bytes().await.map_err(ShimError::internal)?;
                Ok(serde_json::from_slice(&bytes).unwrap_or_default())
            }
            Err(object_store::Error::NotFound { .. }) => Ok(ObjectInfo::default()),
            Err(e) => Err(ShimError::internal(e)),
        }
    }

    /// What a download of `key` answers under `conditions`, with its bytes when it serves a
    /// body: spans up to [`READ_WHOLE_LIMIT`] read whole, larger ones streamed.
    ///
    /// The bytes are those the metadata describes: they are fetched on the condition that the
    /// ETag still matches (`If-Match`), and an object replaced in between (an overwrite racing
    /// the download) makes the read start over, up to [`READ_ATTEMPTS`] times. On a remote
    /// store a plain `GET` (no `Range`, no `If-None-Match`) is one request, metadata and bytes
    /// together; `HEAD`, conditional and ranged requests ask for the metadata first so that
    /// 304 and 416 are decided by the shim (like the local directory, whatever the service
    /// does with such headers) and only the span is fetched.
    pub(crate) async fn read(&self, key: &CloudPath, conditions: &Conditions) -> ShimResult<Read> {
        for _ in 0..READ_ATTEMPTS {
            let (meta, decision, span, etag) = if self.local.is_some() {
                let Some(local) = self.read_local(key, conditions).await else {
                    return Err(ShimError::internal("local store without its file system"));
                };
                let (meta, decision, body) = local?;
                match (body, served_span(&decision)) {
                    (None, Some(span)) => {
                        let etag = Some(meta.etag.clone());
                        (meta, decision, span, etag)
                    }
                    (body, _) => {
                        let body = body.map(Payload::Bytes);
                        return Ok(Read {
                            meta,
                            decision,
                            body,
                        });
                    }
                }
            } else if conditions.is_plain_get() {
                let result = self.get(key, GetOptions::default()).await?;
                let meta = FileMeta::of(&result.meta);
                let decision = conditions.decide(&meta)?;
                let body = match served_span(&decision) {
                    Some(span) => Some(payload(result, span.end - span.start).await?),
                    None => None,
                };
                return Ok(Read {
                    meta,
                    decision,
                    body,
                });
            } else {
                let object = self.head(key).await?;
                let meta = FileMeta::of(&object);
                let decision = conditions.decide(&meta)?;
                let Some(span) = served_span(&decision) else {
                    return Ok(Read {
                        meta,
                        decision,
                        body: None,
                    });
                };
                (meta, decision, span, object.e_tag)
            };
            let whole = span.start == 0 && span.end == meta.size;
            let options = GetOptions {
                if_match: etag,
                range: (!whole).then(|| GetRange::Bounded(span.clone())),
                ..GetOptions::default()
            };
            match self.store.get_opts(&Self::object_path(key), options).await {
                Ok(result) => {
                    let body = Some(payload(result, span.end - span.start).await?);
                    return Ok(Read {
                        meta,
                        decision,
                        body,
                    });
                }
                Err(object_store::Error::Precondition { .. }) => {
                    tracing::debug!(key = %key, "object replaced while being read; reading again");
                }
                Err(e) => return Err(not_found_or_internal(e, key)),
            }
        }
        Err(ShimError::internal(format!(
            "`{key}` was replaced each of the {READ_ATTEMPTS} times it was read"
        )))
    }

    /// Serve a download from the local backend without the blocking-pool round trips of the
    /// generic path: open, stat and decide (304, 206, 416, HEAD) in place, then read the span
    /// in place when it is at most [`INLINE_READ_LIMIT`] (a page-cache copy of microseconds),
    /// on the blocking pool when larger. `None` when the backend is not local. The third element
    /// is `None` when no body was read (HEAD, 304, or a span over `READ_WHOLE_LIMIT`, which
    /// [`Storage::read`] streams from the store).
    ///
    /// Measured with `benches/http.rs` (100 KB, 64 connections, 2 cores): about 2x the
    /// throughput of doing the same work through `spawn_blocking`.
    async fn read_local(
        &self,
        key: &CloudPath,
        conditions: &Conditions,
    ) -> Option<ShimResult<(FileMeta, Decision, Option<Bytes>)>> {
        let fs = self.local.as_ref()?;
        let path = match fs.path_to_filesystem(&Self::object_path(key)) {
            Ok(p) => p,
            Err(e) => return Some(Err(ShimError::internal(e))),
        };
        let (file, meta, decision) = match open_and_decide(&path, key, conditions) {
            Ok(x) => x,
            Err(e) => return Some(Err(e)),
        };
        let span = match &decision {
            Decision::Serve {
                span, body: true, ..
            } if span.end - span.start <= READ_WHOLE_LIMIT => span.clone(),
            _ => return Some(Ok((meta, decision, None))),
        };
        let read = move || -> ShimResult<Bytes> {
            let mut buf = vec![0u8; (span.end - span.start) as usize];
            read_exact_at(&file, &mut buf, span.start).map_err(ShimError::internal)?;
            Ok(Bytes::from(buf))
        };
        let bytes = if decision_len(&decision) <= INLINE_READ_LIMIT {
            read()
        } else {
            tokio::task::spawn_blocking(read)
                .await
                .unwrap_or_else(|e| Err(ShimError::internal(e)))
        };
        Some(bytes.map(|b| (meta, decision, Some(b))))
    }

    /// Read `key` (whole object or a range).
    pub async fn get(&self, key: &CloudPath, options: GetOptions) -> ShimResult<GetResult> {
        self.store
            .get_opts(&Self::object_path(key), options)
            .await
            .map_err(|e| not_found_or_internal(e, key))
    }

    /// Delete `key`, or `FileNotExist`.
    pub async fn delete(&self, key: &CloudPath) -> ShimResult<()> {
        self.head(key).await?;
        self.store
            .delete(&Self::object_path(key))
            .await
            .map_err(|e| not_found_or_internal(e, key))?;
        match self.store.delete(&Self::meta_path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(ShimError::internal(e)),
        }
    }

    /// Copy `src` to `dst`. Fails with `INVALID_PARAM` if `dst` exists and `overwrite` is false.
    pub async fn copy(&self, src: &CloudPath, dst: &CloudPath, overwrite: bool) -> ShimResult<()> {
        self.head(src).await?;
        if !overwrite && self.exists(dst).await? {
            return Err(ShimError::InvalidParam(format!(
                "destination exists: {dst}"
            )));
        }
        self.check_fits(dst)?;
        self.store
            .copy(&Self::object_path(src), &Self::object_path(dst))
            .await
            .map_err(ShimError::internal)?;
        let info = self.info(src).await?;
        let json = serde_json::to_vec(&info).map_err(ShimError::internal)?;
        self.store
            .put(&Self::meta_path(dst), PutPayload::from(json))
            .await
            .map_err(ShimError::internal)?;
        Ok(())
    }

    /// A signed upload URL for `key` on the shim at `base` (e.g. `http://127.0.0.1:8721`).
    pub fn upload_url(&self, base: &str, key: &CloudPath, owner: &str) -> String {
        let expires = now_secs() + UPLOAD_URL_TTL;
        let sig = self.signer.sign(Op::Write, key.as_str(), expires, owner);
        format!(
            "{base}/storage/upload/{}?t={expires}&owner={}&sign={sig}",
            utf8_percent_encode(key.as_str(), PATH_SET),
            utf8_percent_encode(owner, QUERY_SET),
        )
    }

    /// A signed download URL for `key`, valid for `max_age` seconds.
    pub fn download_url(&self, base: &str, key: &CloudPath, max_age: u64) -> String {
        let expires = now_secs().saturating_add(max_age);
        let sig = self.signer.sign(Op::Read, key.as_str(), expires, "");
        format!(
            "{base}/storage/file/{}?sign={sig}&t={expires}",
            utf8_percent_encode(key.as_str(), PATH_SET),
        )
    }

    /// Copy the files under `dir` (the project's `cloud/storage/`) into the store, each only if
    /// no object with its key exists yet. Returns how many were copied; files whose relative
    /// path is not a valid cloud path are skipped with a warning.
    pub async fn seed_from_dir(&self, dir: &std::path::Path) -> ShimResult<usize> {
        if !dir.is_dir() {
            return Ok(0);
        }
        let mut files = Vec::new();
        for entry in walkdir::WalkDir::new(dir).follow_links(false) {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(error = %e, "skipping unreadable entry in cloud/storage");
                    continue;
                }
            };
            if !entry.file_type().is_file() {
                continue;
            }
            let Ok(rel) = entry.path().strip_prefix(dir) else {
                continue;
            };
            let parts: Option<Vec<&str>> =
                rel.components().map(|c| c.as_os_str().to_str()).collect();
            let Some(parts) = parts else {
                tracing::warn!(path = %rel.display(), "skipping non-UTF-8 path in cloud/storage");
                continue;
            };
            match CloudPath::parse(&parts.join("/")) {
                Ok(key) => files.push((key, entry.into_path())),
                Err(e) => {
                    tracing::warn!(path = %rel.display(), error = %e.public_message(), "skipping file in cloud/storage");
                }
            }
        }
        // A remote store answers each request in a round trip: a few files at a time.
        let at_once = if self.local.is_some() {
            1
        } else {
            SEED_CONCURRENCY
        };
        let mut seeding = futures_util::stream::iter(files)
            .map(|(key, path)| async move { self.seed_one(&key, &path).await })
            .buffer_unordered(at_once);
        let mut copied = 0;
        while let Some(result) = seeding.next().await {
            if result? {
                copied += 1;
            }
        }
        Ok(copied)
    }

    /// Copy the seed file at `path` into `key` unless an object with that key exists or the
    /// store cannot hold the key (a warning). Whether it was copied.
    async fn seed_one(&self, key: &CloudPath, path: &std::path::Path) -> ShimResult<bool> {
        if self.exists(key).await? {
            return Ok(false);
        }
        if let Err(e) = self.check_fits(key) {
            tracing::warn!(key = %key, error = %e.public_message(), "skipping file in cloud/storage");
            return Ok(false);
        }
        let size = self.seed_file(key, path).await?;
        if size > self.max_upload {
            tracing::warn!(key = %key, "seed file larger than the upload limit; copied anyway");
        }
        self.put_info(key, "").await?;
        Ok(true)
    }

    /// Copy the file at `from` into `key`, streaming: [`SEED_READ_CHUNK`] at a time into a
    /// writer that sends one `PUT` or a multipart upload ([`Storage::writer`]), so a large
    /// seed file is never held whole. Returns its size.
    async fn seed_file(&self, key: &CloudPath, from: &std::path::Path) -> ShimResult<u64> {
        let mut file = tokio::fs::File::open(from)
            .await
            .map_err(|e| ShimError::internal(format!("cannot read {}: {e}", from.display())))?;
        let mut writer = self.writer(key);
        let mut size = 0u64;
        loop {
            let mut buf = BytesMut::with_capacity(SEED_READ_CHUNK);
            let n = match file.read_buf(&mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    let e = format!("cannot read {}: {e}", from.display());
                    return Err(abort(writer, e).await);
                }
            };
            if n == 0 {
                break;
            }
            size += n as u64;
            if let Err(e) = writer.put(buf.freeze()).await {
                return Err(abort(writer, e).await);
            }
        }
        writer.shutdown().await.map_err(ShimError::internal)?;
        Ok(size)
    }
}

/// Abandon a write that failed with `error` (a multipart upload's parts are deleted) and
/// return the error.
async fn abort(mut writer: BufWriter, error: impl std::fmt::Display) -> ShimError {
    if let Err(e) = writer.abort().await {
        tracing::warn!(error = %e, "could not abort an unfinished upload");
    }
    ShimError::internal(error)
}

/// An S3 builder configured like object_store's `AmazonS3Builder::from_env` (each `AWS_*`
/// variable whose lowercased name is a setting), over the shim's defaults ([`s3_defaults`]).
fn s3_from_env() -> AmazonS3Builder {
    let mut builder = s3_defaults(AmazonS3Builder::new());
    for (key, value) in std::env::vars_os() {
        let (Some(key), Some(value)) = (key.to_str(), value.to_str()) else {
            continue;
        };
        if !key.starts_with("AWS_") {
            continue;
        }
        if let Ok(config_key) = key.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
            builder = builder.with_config(config_key, value);
        }
    }
    builder
}

/// The timeouts and retries of [`Storage::open_s3`]'s documentation.
fn s3_defaults(builder: AmazonS3Builder) -> AmazonS3Builder {
    // reqwest is built with rustls but no bundled provider (see shim/Cargo.toml): install ring
    // once per process; a second install (another store, or the embedding program's own) fails
    // harmlessly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = ClientOptions::new()
        .with_timeout_disabled()
        .with_connect_timeout(Duration::from_secs(5))
        .with_read_timeout(Duration::from_secs(60));
    let retry = RetryConfig {
        max_retries: 4,
        retry_timeout: Duration::from_secs(60),
        ..RetryConfig::default()
    };
    builder.with_client_options(client).with_retry(retry)
}

/// At most 40 characters of `part`, for a message.
fn shorten(part: &str) -> String {
    let mut out: String = part.chars().take(40).collect();
    if out.len() < part.len() {
        out.push_str("...");
    }
    out
}

/// Spans up to this size are read on the async worker (see [`Storage::read_local`]).
pub(crate) const INLINE_READ_LIMIT: u64 = 256 << 10;

/// The span whose bytes `d` sends; `None` for a 304, a `HEAD` or an empty span.
fn served_span(d: &Decision) -> Option<std::ops::Range<u64>> {
    match d {
        Decision::Serve {
            span, body: true, ..
        } => Some(span.clone()),
        _ => None,
    }
}

/// The body of `result`, a span of `len` bytes: read whole up to [`READ_WHOLE_LIMIT`],
/// streamed above.
async fn payload(result: GetResult, len: u64) -> ShimResult<Payload> {
    if len <= READ_WHOLE_LIMIT {
        Ok(Payload::Bytes(
            result.bytes().await.map_err(ShimError::internal)?,
        ))
    } else {
        Ok(Payload::Stream(result.into_stream()))
    }
}

fn decision_len(d: &Decision) -> u64 {
    match d {
        Decision::Serve { span, .. } => span.end - span.start,
        Decision::NotModified => 0,
    }
}

fn open_and_decide(
    path: &std::path::Path,
    key: &CloudPath,
    conditions: &Conditions,
) -> ShimResult<(std::fs::File, FileMeta, Decision)> {
    let not_found = || ShimError::FileNotExist(key.to_string());
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(not_found()),
        Err(e) => return Err(ShimError::internal(e)),
    };
    let md = file.metadata().map_err(ShimError::internal)?;
    if !md.is_file() {
        return Err(not_found());
    }
    let modified = md.modified().unwrap_or(std::time::UNIX_EPOCH);
    let mtime = modified
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros();
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&md);
    #[cfg(not(unix))]
    let inode = 0u64;
    // The same ETag scheme as object_store's local backend.
    let meta = FileMeta {
        size: md.len(),
        etag: format!("\"{inode:x}-{mtime:x}-{:x}\"", md.len()),
        modified,
    };
    let decision = conditions.decide(&meta)?;
    Ok((file, meta, decision))
}

#[cfg(unix)]
fn read_exact_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(not(unix))]
fn read_exact_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(offset))?;
    f.read_exact(buf)
}

fn not_found_or_internal(e: object_store::Error, key: &CloudPath) -> ShimError {
    match e {
        object_store::Error::NotFound { .. } => ShimError::FileNotExist(key.to_string()),
        other => ShimError::internal(other),
    }
}
