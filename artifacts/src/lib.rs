//! Files that `migrate` writes on one side and reads on the other, kept apart from both.
//!
//! Layout: [`seed`] is the seed format of a project's `cloud/database/` (the CloudBase import
//! format, JSON Lines of Extended JSON records, plus `_indexes.json`): its types, a reader that
//! reports bad records with their line and carries on, and a writer. [`adapter`] holds the
//! `wx.cloud` adapter a rewritten mini-program ships (`js/wx-cloud-shim.js`), as source text;
//! [`runtime`] the page runtime `migrate verify` runs apps in (`js/mp-runtime/`).
//! The rewriter writes both; the shim reads the seeds (and turns their values into its own)
//! and serves what the adapter calls. Nothing here knows about either of them.

#![warn(missing_docs)]

pub mod adapter;
pub mod runtime;
pub mod seed;

pub use adapter::{JsFile, WX_CLOUD_SHIM};
pub use seed::{CollectionSeed, Document, Record, SeedError};
