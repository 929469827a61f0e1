//! The one error type of reading seeds.

use std::path::PathBuf;

/// A problem with one record, or with a whole file or directory.
///
/// Displays as `path:line: message`, or `path: message` when no line is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedError {
    /// The file (or directory) concerned.
    pub path: PathBuf,
    /// 1-based line where the record starts (0 when the whole file is concerned).
    pub line: usize,
    /// What is wrong, in words.
    pub message: String,
}

impl SeedError {
    /// A problem with the whole file or directory at `path`.
    pub fn file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        SeedError {
            path: path.into(),
            line: 0,
            message: message.into(),
        }
    }

    /// A problem with the record starting at `line` of `path`.
    pub fn record(path: impl Into<PathBuf>, line: usize, message: impl Into<String>) -> Self {
        SeedError {
            path: path.into(),
            line,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for SeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
        } else {
            write!(f, "{}: {}", self.path.display(), self.message)
        }
    }
}

impl std::error::Error for SeedError {}
