//! The local cloud behind `migrate serve`.
//!
//! Layout: [`db`] is the database engine (EJSON values, query, update, aggregation, the
//! CloudBase-semantics [`db::Database`] service and permissions); [`store`] is the persistence
//! boundary ([`store::Store`]) with the embedded SQLite implementation; [`seed`] loads and
//! exports `cloud/database/*.json`.

pub mod db;
pub mod seed;
pub mod store;
