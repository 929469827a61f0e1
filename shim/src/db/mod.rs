//! The database engine: values, wire encodings, queries, updates, projections, aggregation.
//! It knows nothing about callers or storage; the CloudBase service above the store
//! ([`crate::service`]) uses it.

pub mod aggregate;
pub mod ejson;
pub mod error;
pub mod expr;
pub mod fields;
pub mod geo;
pub mod keys;
pub mod projection;
pub mod query;
pub mod sort;
pub mod update;
pub mod value;

pub use error::{DbError, DbResult};
