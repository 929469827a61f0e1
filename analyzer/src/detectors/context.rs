//! What a detector is and what it sees: the [`Detector`] trait, the [`Context`] it reads (the
//! project, every file's text and parse, the module graph, the asset references) and the
//! [`Stage`] of the graph it needs.

use crate::files::{FileData, Parsed, Script};
use crate::findings::{Findings, Loc};
use crate::graph::ModuleGraph;
use crate::js::JsFile;
use crate::options::Options;
use crate::project::Project;
use crate::refs::Collected;
use crate::span::{FileId, Span};

/// What a detector can see: the project, every file's text and parse, the module graph.
pub(crate) struct Context<'a> {
    pub project: &'a Project,
    pub files: &'a [FileData],
    pub graph: &'a ModuleGraph,
    pub options: &'a Options,
    /// Every reference to an asset file and every inline `data:` URI, collected once before
    /// the graph's reachability (they make assets "used") and read by the asset detector.
    /// Empty for the detectors of [`Stage::Modules`], which run while they are collected (the
    /// graph's asset edges and reachability are not there yet either).
    pub asset_refs: &'a Collected,
}

/// What a detector needs of the module graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Module resolution only: the detector runs while asset references are collected.
    Modules,
    /// Asset references, asset edges and reachability too.
    Reach,
}

impl<'a> Context<'a> {
    pub(crate) fn js(&self, id: FileId) -> Option<&'a JsFile> {
        match &self.files[id.index()].parsed {
            Parsed::Script(js) => Some(&**js),
            _ => None,
        }
    }

    /// Every parsed JS/TS/WXS file.
    /// (The runtime `migrate apply` generated is the tool's code, not the app's: left out.)
    pub(crate) fn scripts(&self) -> impl Iterator<Item = &'a Script> + 'a {
        self.files.iter().filter_map(|f| match &f.parsed {
            Parsed::Script(js) if !crate::files::is_generated(f) => Some(js),
            _ => None,
        })
    }

    /// The mini-program script of file `id`, if it is one (see [`Context::scripts`]).
    pub(crate) fn script(&self, id: FileId) -> Option<&'a Script> {
        let f = self.files.get(id.index())?;
        match &f.parsed {
            Parsed::Script(js) if !crate::files::is_generated(f) => Some(js),
            _ => None,
        }
    }

    /// The scripts of the cloud functions under `cloudfunctionRoot`.
    pub(crate) fn function_scripts(&self) -> impl Iterator<Item = &'a Script> + 'a {
        self.files.iter().filter_map(|f| match &f.parsed {
            Parsed::Function(js) => Some(js),
            _ => None,
        })
    }

    /// Whether the project file at `path` is one `migrate apply` generated (the runtime it
    /// writes into a framework's sources, bundled again by the next build).
    pub(crate) fn is_generated_path(&self, path: &str) -> bool {
        self.project
            .by_path
            .get(path)
            .and_then(|id| self.files.get(id.index()))
            .is_some_and(crate::files::is_generated)
    }

    /// A span as a report location (path, byte range, line and column).
    pub(crate) fn loc(&self, span: Span) -> Loc {
        crate::files::loc(self.project, self.files, span)
    }

    /// Whether a span of a framework's build output is framework code (see
    /// [`crate::files::in_framework_code`]).
    pub(crate) fn in_framework_code(&self, span: Span) -> bool {
        crate::files::in_framework_code(self.files, span)
    }

    /// The name of the package a file lands in (`main`, a subpackage name, or `-` outside).
    pub(crate) fn package_name(&self, id: FileId) -> String {
        self.project.file(id).package.map_or_else(
            || "-".to_string(),
            |p| self.project.packages[p].name.clone(),
        )
    }

    /// Resolves a `require`/`import` specifier written in `from` to a file of the project.
    pub(crate) fn resolve(&self, from: FileId, specifier: &str) -> Option<FileId> {
        self.graph
            .resolver
            .resolve_script(self.project, from, specifier)
    }
}

pub(crate) trait Detector: Sync {
    fn name(&self) -> &'static str;
    fn stage(&self) -> Stage {
        Stage::Reach
    }
    fn run(&self, cx: &Context<'_>, out: &mut Findings);
}
