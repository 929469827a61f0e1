//! The analyzer behind `migrate analyze`.
//!
//! Layout, in layers that import downward only. The model: [`span`] (the one span type),
//! [`diagnostic`] (what went wrong with the input), [`source`] (file kinds and texts), the
//! parsers [`json_doc`] (spanned JSON of config and data files), [`js`] (scripts: scopes,
//! imports, exports, the module tables of bundles), [`wxml`] and [`wxss`]; [`project`] discovers a mini-program (config,
//! packages, file inventory); [`options`] are the thresholds, [`findings`] the typed results;
//! [`files`] reads and parses every file once, each script with its per-file summary
//! (`summary`, a bundle's factories summarised as modules of their own), and the source map of each chunk a framework built ([`sourcemap`]). The shared passes: [`graph`] resolves modules into the module graph, [`refs`]
//! collects every reference to an asset, `literal` reads pure JS literals. The `detectors`
//! find what can move (one folder each, using the passes, never each other). [`analysis`] is
//! the pipeline that runs all of it into an [`Analysis`]; [`sizes`] and [`report`] account and
//! render it. Everything runs on one thread pool (`pool`).

pub mod analysis;
pub(crate) mod detectors;
pub mod diagnostic;
pub mod files;
pub mod findings;
pub mod graph;
pub mod ids;
pub mod js;
pub mod json_doc;
pub mod kinds;
pub(crate) mod literal;
pub mod options;
pub(crate) mod pool;
pub mod project;
pub mod query;
pub mod refs;
pub mod report;
pub mod sizes;
pub mod source;
pub mod sourcemap;
pub mod span;
pub(crate) mod summary;
pub mod wxml;
pub mod wxss;

pub use analysis::{Analysis, analyze};
pub use diagnostic::{Diagnostic, Severity};
pub use options::Options;
pub use project::{Project, ProjectError};
pub use span::{FileId, Span};
