//! The one error type of the database engine, the store and the service.
//!
//! Each variant maps to the string code the real TCB backend returns (cloud-api.md §1.6); the SDK
//! turns those strings into its numeric codes (`DATABASE_COLLECTION_NOT_EXIST` → −502005, ...).
//! Messages never carry internals (SQL text, file paths): storage failures are reported as a
//! generic system error and the detail is kept in [`DbError::detail`] for logs only.

use std::fmt;

/// An error from the database layer, ready to be rendered into the CloudBase error envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbError {
    /// The collection does not exist (`DATABASE_COLLECTION_NOT_EXIST`, SDK −502005).
    CollectionNotExist(String),
    /// The caller may not do this (`DATABASE_PERMISSION_DENIED`, SDK −502003).
    PermissionDenied(String),
    /// A malformed request: bad EJSON, unknown operator, invalid regex, bad update
    /// (`INVALID_PARAM`, SDK −501007/−401002).
    InvalidParam(String),
    /// A document with this `_id` already exists (`DATABASE_DUPLICATE_WRITE`).
    DuplicateId(String),
    /// `createCollection` on an existing collection (`DATABASE_COLLECTION_ALREADY_EXIST`; the
    /// docs: "如果集合已经存在会创建失败").
    CollectionExists(String),
    /// A valid request that the data refuses at execution, e.g. `$inc` on a string or a path
    /// through a scalar ("Cannot create field ..."): `DATABASE_REQUEST_FAILED` (SDK −502001),
    /// as the real backend reports MongoDB write errors.
    RequestFailed(String),
    /// The write lock is held by an open transaction, or a transaction could not proceed
    /// (`DATABASE_TRANSACTION_CONFLICT`, which the SDK's `runTransaction` retries).
    Transaction(String),
    /// Anything else: storage failure, corrupt data (`SYS_ERR`, SDK −501001). The public message
    /// is generic; `detail` is for the server log.
    Internal { detail: String },
}

impl DbError {
    /// The CloudBase string code (what the TCB backend puts in `code`).
    pub fn code(&self) -> &'static str {
        match self {
            DbError::CollectionNotExist(_) => "DATABASE_COLLECTION_NOT_EXIST",
            DbError::PermissionDenied(_) => "DATABASE_PERMISSION_DENIED",
            DbError::InvalidParam(_) => "INVALID_PARAM",
            DbError::DuplicateId(_) => "DATABASE_DUPLICATE_WRITE",
            DbError::CollectionExists(_) => "DATABASE_COLLECTION_ALREADY_EXIST",
            DbError::RequestFailed(_) => "DATABASE_REQUEST_FAILED",
            DbError::Transaction(_) => "DATABASE_TRANSACTION_CONFLICT",
            DbError::Internal { .. } => "SYS_ERR",
        }
    }

    /// The message safe to send to the client.
    pub fn message(&self) -> String {
        match self {
            DbError::CollectionNotExist(c) => format!("Db or Table not exist: {c}"),
            DbError::PermissionDenied(m) => format!("permission denied: {m}"),
            DbError::InvalidParam(m) => m.clone(),
            DbError::DuplicateId(id) => format!("duplicate key: _id {id} already exists"),
            DbError::CollectionExists(c) => format!("collection already exists: {c}"),
            DbError::RequestFailed(m) => m.clone(),
            DbError::Transaction(m) => m.clone(),
            DbError::Internal { .. } => "internal database error".to_string(),
        }
    }

    /// Detail for logs (includes internals for `Internal`).
    pub fn detail(&self) -> String {
        match self {
            DbError::Internal { detail } => detail.clone(),
            other => other.message(),
        }
    }

    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        DbError::InvalidParam(msg.into())
    }

    pub(crate) fn failed(msg: impl Into<String>) -> Self {
        DbError::RequestFailed(msg.into())
    }

    pub(crate) fn internal(detail: impl fmt::Display) -> Self {
        DbError::Internal {
            detail: detail.to_string(),
        }
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for DbError {}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError::internal(format!("sqlite: {e}"))
    }
}

/// Result alias used across the database layer.
pub type DbResult<T> = Result<T, DbError>;
