//! The analyzer behind `migrate analyze`.
//!
//! Layout: [`project`] discovers a mini-program (config, packages, file inventory);
//! [`analysis`] reads and parses every file once and runs the rest; [`js`] parses scripts and
//! lists their imports and exports; [`graph`] resolves references into the module graph;
//! [`detectors`] find what can move (one file each); [`findings`] are their typed results;
//! [`source`], [`json`] and [`span`] hold files, spanned JSON and the one span type;
//! [`diagnostic`] is what went wrong with the input.

pub mod analysis;
pub mod detectors;
pub mod diagnostic;
pub mod findings;
pub mod graph;
pub mod ids;
pub mod js;
pub mod json;
pub mod kinds;
pub mod project;
pub mod report;
pub mod sizes;
pub mod source;
pub mod span;
pub mod wxml;
pub mod wxss;

pub use analysis::{Analysis, Options, analyze};
pub use diagnostic::{Diagnostic, Severity};
pub use project::{Project, ProjectError};
pub use span::{FileId, Span};
