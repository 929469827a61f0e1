//! The database engine: values, wire encodings, queries, updates, projections, aggregation.
//! It knows nothing about callers or storage; the CloudBase service above the store
//! ([`crate::service`]) uses it.

pub mod aggregate;
pub mod ejson;
pub mod error;
pub(crate) mod expr;
pub(crate) mod fields;
pub(crate) mod geo;
pub(crate) mod keys;
pub mod limits;
pub(crate) mod projection;
pub mod query;
pub(crate) mod sort;
pub mod update;
pub(crate) mod value;

pub use error::{DbError, DbResult};
