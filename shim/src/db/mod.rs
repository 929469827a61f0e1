//! The database engine: values, wire encodings, queries, updates, projections, aggregation,
//! permissions and the service the HTTP layer calls.

pub mod aggregate;
pub mod ejson;
pub mod error;
pub mod expr;
pub mod geo;
pub mod keys;
pub mod path;
pub mod permissions;
pub mod projection;
pub mod query;
pub mod service;
pub mod sort;
pub mod update;
pub mod value;

pub use error::{DbError, DbResult};
pub use service::{Caller, Database, DbOp, DbReply};
