//! The rewriter behind `migrate apply`: it turns the analyzer's findings into a plan, the plan
//! into a changeset, and writes the changeset after review, journaled so it can be undone.
//!
//! Layout: [`edit`] is the byte-range edit and its safety level; [`generate`] makes the files
//! that were not in the project (cloud functions, the client runtime and its tables); [`review`] shows a file's edits
//! as unified-diff hunks to accept or reject one by one, and [`prompt`] asks about them on a
//! terminal; [`journal`] writes a changeset through
//! temporary files and renames, with the copies `apply --undo` restores from; [`git`] is the
//! clean-tree check.

pub mod edit;
pub mod generate;
pub mod git;
pub mod journal;
pub mod prompt;
pub mod review;

pub use edit::{Applicability, Edit, EditError};
pub use journal::{Change, Error as ApplyError};
