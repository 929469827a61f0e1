//! The local cloud behind `migrate serve`.
//!
//! Layout: [`db`] is the database engine: EJSON wire encodings ([`db::ejson`]), BSON ordering
//! and dot paths ([`db::value`]), queries ([`db::query`], [`db::geo`]), updates
//! ([`db::update`]), projections ([`db::projection`]), aggregation ([`db::aggregate`]),
//! permission presets ([`db::permissions`]) and the CloudBase-semantics service the HTTP layer
//! calls ([`db::Database`]). [`store`] is the persistence boundary ([`store::Store`],
//! [`store::StoreTxn`]) with the embedded SQLite implementation ([`store::SqliteStore`]).
//! [`seed`] loads `cloud/database/*.json` (and `_indexes.json`) and exports it back.

pub mod db;
pub mod seed;
pub mod store;
