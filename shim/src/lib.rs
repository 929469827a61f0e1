//! The local cloud behind `migrate serve`.
//!
//! Layout: [`db`] is the database engine: EJSON wire encodings ([`db::ejson`]), BSON ordering
//! and dot paths ([`db::value`]), queries ([`db::query`], [`db::geo`]), updates
//! ([`db::update`]), projections ([`db::projection`]), aggregation ([`db::aggregate`]),
//! permission presets ([`db::permissions`]) and the CloudBase-semantics service the HTTP layer
//! calls ([`db::Database`]). [`store`] is the persistence boundary ([`store::Store`],
//! [`store::StoreTxn`]) with the embedded SQLite implementation ([`store::SqliteStore`]).
//! [`seed`] loads `cloud/database/*.json` (and `_indexes.json`) and exports it back.
//! [`functions`] runs the project's Node.js cloud functions in warm worker processes.
//!
//! The HTTP side: [`server`] holds the shared state, the router and [`run`]; [`admin`] speaks
//! the CloudBase action protocol (`/admin`, what the Node SDKs call); [`client`] is the endpoint
//! of the mini-program `wx.cloud` adapter (same protocol, client caller); [`storage`] keeps
//! files behind `object_store` and serves signed upload and download URLs; [`error`] is the one
//! error type, rendered once into the CloudBase envelope; [`config`] reads the project.

pub mod admin;
pub mod client;
pub mod config;
pub mod db;
pub mod error;
pub mod functions;
pub mod seed;
pub mod server;
pub mod service;
pub mod state;
pub mod storage;
pub mod store;

pub use config::ShimConfig;
pub use error::{ShimError, ShimResult};
pub use server::{router, run, serve};
pub use state::AppState;
