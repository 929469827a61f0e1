//! File storage: objects behind [`object_store::ObjectStore`] (the local file system by default;
//! an S3-compatible store fits the same interface), signed upload and download URLs, and the HTTP
//! handlers that serve them (`http.rs`).
//!
//! Layout inside the store: `objects/<key>` holds the bytes, `meta/<key>` a small JSON record
//! (uploader openid, upload time). Keys are [`CloudPath`]s, validated component by component.
//!
//! The project's `cloud/storage/<path>` files (what `migrate apply` writes) are the initial
//! content: at start each one is copied in **if no object with that key exists yet**, so uploads
//! and overwrites made through the shim survive restarts; a seeded file that was deleted through
//! the shim comes back at the next start.
//!
//! Files: `objects.rs` holds the service ([`Storage`]); `path.rs` the keys and fileIDs
//! ([`CloudPath`]); `sign.rs` the URL signatures ([`Signer`]); `download.rs` decides what a
//! download answers (ETag, `Range`, `HEAD`); `http.rs` serves the upload and download URLs.

mod download;
pub(crate) mod http;
mod objects;
mod path;
mod sign;

pub use objects::{DEFAULT_MAX_AGE, ObjectInfo, Storage, UPLOAD_URL_TTL};
pub use path::{CloudPath, file_id, parse_file_id};
pub use sign::{Op, Signer};
