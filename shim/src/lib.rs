//! The local cloud behind `migrate serve`.
//!
//! Layout: [`db`] is the database engine (EJSON values, query, update, aggregation, the
//! CloudBase-semantics [`db::Database`] service and permissions); [`store`] is the persistence
//! boundary ([`store::Store`]) with the embedded SQLite implementation; [`seed`] loads and
//! exports `cloud/database/*.json`; [`functions`] runs the project's Node.js cloud functions in
//! warm worker processes. The HTTP side: [`server`] holds the shared state, the router and
//! [`run`]; [`admin`] speaks the CloudBase action protocol (`/admin`, what the Node SDKs call);
//! [`client`] is the endpoint of the mini-program `wx.cloud` adapter (same protocol, client
//! caller); [`storage`] keeps files behind `object_store` and serves signed upload and download
//! URLs; [`error`] is the one error type, rendered once into the CloudBase envelope; [`config`]
//! reads the project.

pub mod admin;
pub mod client;
pub mod config;
pub mod db;
pub mod error;
pub mod functions;
pub mod seed;
pub mod server;
pub mod storage;
pub mod store;

pub use config::ShimConfig;
pub use error::{ShimError, ShimResult};
pub use server::{AppState, router, run, serve};
