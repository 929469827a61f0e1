//! File storage: objects behind [`object_store::ObjectStore`] (a local directory by default, or
//! a bucket of an S3-compatible service, `s3://bucket[/prefix]`), signed upload and download
//! URLs, and the HTTP handlers that serve them (`http.rs`).
//!
//! Layout inside the store (below the prefix, in a bucket): `objects/<key>` holds the bytes,
//! `meta/<key>` a small JSON record (uploader openid, upload time). Keys are [`CloudPath`]s,
//! validated component by component.
//!
//! Both backends answer the same: uploads, downloads with `Range`, `If-None-Match` and
//! `HEAD`, deletes, copies and the copy-in. They differ in what each can hold (the local
//! directory refuses a file beside a folder of the same name and over-long file names; a
//! bucket refuses keys over 1024 bytes) and in the ETag (the local one is made of inode,
//! modification time and size; S3's is the MD5 of the bytes, so the same bytes uploaded again
//! keep their ETag).
//!
//! The project's `cloud/storage/<path>` files (what `migrate apply` writes) are the initial
//! content: at start each one is copied in **if no object with that key exists yet**, so uploads
//! and overwrites made through the shim survive restarts; a seeded file that was deleted through
//! the shim comes back at the next start.
//!
//! Files: `objects.rs` holds the service ([`Storage`]); `location.rs` reads storage URLs;
//! `path.rs` the keys and fileIDs
//! ([`CloudPath`]); `sign.rs` the URL signatures ([`Signer`]); `download.rs` decides what a
//! download answers (ETag, `Range`, `HEAD`); `http.rs` serves the upload and download URLs.

mod download;
pub(crate) mod http;
mod location;
mod objects;
mod path;
mod sign;

pub use objects::{DEFAULT_MAX_AGE, ObjectInfo, Storage, UPLOAD_URL_TTL};
pub use path::{CloudPath, file_id, parse_file_id};
pub use sign::{Op, Signer, now_secs};
