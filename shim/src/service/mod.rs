//! The CloudBase service layer, above the store: what the HTTP handlers call.
//!
//! [`Database`] gives the engine ([`crate::db`]) and a [`crate::store::Store`] CloudBase's
//! semantics (limits, `_openid`, `db.serverDate()`, transactions), for a [`Caller`];
//! `permissions.rs` holds the collection presets ([`Permissions`]) it enforces for clients.

mod caller;
mod database;
mod permissions;

pub use caller::Caller;
pub use database::{Database, DbOp, DbReply};
pub use permissions::{Permissions, Preset};
