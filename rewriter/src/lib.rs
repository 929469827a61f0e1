//! The rewriter behind `migrate apply`: it turns the analyzer's findings into a plan, the plan
//! into a changeset, and writes the changeset after review, journaled so it can be undone.
//!
//! Layout, in the order a run goes through it: [`plan`] is the plan file (made from the
//! findings, read back with errors at their place in the file); [`transform`] turns the
//! analysis and the plan into a [`changeset::Changeset`] (one module per kind of move), made of
//! [`edit`]s (byte ranges of the original text, each with its safety level) and the files
//! [`generate`] makes (cloud functions, the client runtime and its tables); [`session`] shows
//! it as [`review`] hunks and [`prompt`] asks about them on a terminal; [`journal`] writes what
//! was accepted through temporary files and renames, with the copies `apply --undo` restores
//! from; [`summary`] is `apply --format json`; [`git`] is the clean-tree check.

#![warn(missing_docs)]

pub mod changeset;
pub mod edit;
pub mod generate;
pub mod git;
pub mod journal;
pub mod plan;
pub mod prompt;
pub mod review;
pub mod session;
pub mod summary;
pub mod transform;

pub use edit::{Applicability, Edit, EditError};
pub use journal::{Change, Error as ApplyError};
