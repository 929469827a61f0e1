//! The persistence boundary: a small, synchronous [`Store`] trait.
//!
//! A store keeps named collections of documents and runs queries with the engine in
//! [`crate::db`]; it knows nothing about callers or permissions (that is
//! [`crate::service::Database`]). Filters, sorts, projections and updates are passed as the
//! decoded documents the SDK sent, so the PostgreSQL store translates what it can into SQL and
//! filters the rest with the same Rust engine. [`sqlite::SqliteStore`] is the embedded default,
//! [`postgres::PostgresStore`] the shared one. The conformance suite in `shim/tests/store_conformance.rs` runs against any store.
//!
//! Files: `interface.rs` holds the trait and the types it speaks; [`sqlite`] the SQLite store;
//! [`postgres`] the PostgreSQL store.

mod interface;
pub mod postgres;
pub mod sqlite;

pub use interface::{Find, Store, StoreTxn, UpdateOpts, UpdateResult, UpsertCounts, new_id};
pub(crate) use interface::{upsert_document, with_id};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
