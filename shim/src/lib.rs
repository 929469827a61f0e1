//! The local cloud behind `migrate serve`.
//!
//! Layout, from the bottom up; a module imports only the ones above it in this list:
//!
//! * [`db`]: the database engine. Values and their order (`value`, and `keys`, the
//!   order-preserving encoding), fields by dot path (`fields`), EJSON wire encodings
//!   ([`db::ejson`]), the expression language (`expr`), queries ([`db::query`], with `geo`),
//!   updates ([`db::update`]), projections, sorts and aggregation ([`db::aggregate`]); its
//!   errors are [`db::DbError`].
//! * [`store`]: the persistence boundary ([`store::Store`], [`store::StoreTxn`]) and the
//!   embedded SQLite store ([`store::SqliteStore`]: schema, rows, planner, scans, transactions).
//! * [`service`]: CloudBase semantics above the store: [`service::Database`] acting for a
//!   [`service::Caller`], with the collection [`service::Permissions`].
//! * [`seed`] loads `cloud/database/*.json` (and `_indexes.json`) and exports it back.
//! * [`functions`] runs the project's Node.js cloud functions in warm worker processes (its
//!   errors: [`functions::FunctionError`]).
//! * `error`: [`ShimError`], the one error type of the HTTP layer (wrapping the database and
//!   function errors), rendered once into the CloudBase envelope. [`storage`] keeps files
//!   behind `object_store`, signs their upload and download URLs, and reports `ShimError`s.
//!   [`config`] reads the project. [`auth`] is sign-in mode's: session tokens, the `wx.login`
//!   code exchange, and the check of the server SDKs' TC3 signatures.
//! * The HTTP side: `state` holds what every handler shares ([`AppState`]) and the request
//!   helpers; the handlers are `admin` (the CloudBase action protocol, what the Node SDKs call),
//!   `client` (the endpoint of the mini-program `wx.cloud` adapter: same protocol, client
//!   caller) and the storage URLs (`storage::http`); [`server`] opens the state, routes to the
//!   handlers and [`run`]s.

pub(crate) mod admin;
pub mod auth;
pub(crate) mod client;
pub mod config;
pub mod db;
pub(crate) mod error;
pub mod functions;
pub(crate) mod guard;
pub mod seed;
pub mod server;
pub mod service;
pub(crate) mod state;
pub mod storage;
pub mod store;

pub use config::ShimConfig;
pub use error::{ShimError, ShimResult};
pub use server::{router, run, serve};
pub use state::AppState;
