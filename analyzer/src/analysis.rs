//! The analysis run: read and parse every file once (in parallel), build the module graph, run
//! the detectors, account the packages.

use rayon::prelude::*;
use serde::Serialize;

use crate::detectors::{self, Context, Stage};
use crate::diagnostic::Diagnostic;
use crate::findings::{Findings, Loc};
use crate::graph::ModuleGraph;
use crate::js::{self, JsFile};
use crate::json::{self, Json};
use crate::project::{Limits, Project};
use crate::source::{self, FileKind, Text};
use crate::span::{FileId, Span};
use crate::{wxml, wxss};

/// Thresholds and limits; the CLI fills them from flags.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Options {
    pub limits: Limits,
    /// An image over this many bytes is a large asset (DevTools' quality scan uses 200 KB).
    pub image_threshold: u64,
    pub audio_threshold: u64,
    pub video_threshold: u64,
    pub font_threshold: u64,
    /// A data literal or JSON data file of at least this many bytes is reported.
    pub data_threshold: u64,
    /// An inline `data:` URI of at least this many decoded bytes is reported.
    pub inline_threshold: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            image_threshold: 200 * 1024,
            audio_threshold: 200 * 1024,
            video_threshold: 200 * 1024,
            font_threshold: 50 * 1024,
            data_threshold: 4 * 1024,
            inline_threshold: 8 * 1024,
        }
    }
}

impl Options {
    pub fn asset_threshold(&self, kind: FileKind) -> Option<u64> {
        match kind {
            FileKind::Image => Some(self.image_threshold),
            FileKind::Audio => Some(self.audio_threshold),
            FileKind::Video => Some(self.video_threshold),
            FileKind::Font => Some(self.font_threshold),
            _ => None,
        }
    }
}

/// A file's parse.
pub enum Parsed {
    /// Not a text kind, too big, unreadable, or failed to parse (see the diagnostics).
    None,
    Script(Script),
    Json(Json),
    Wxml(wxml::Document),
    /// A `.wxss` sheet, or a `.less`/`.scss` one scanned for `@import` and `url()`.
    Wxss(wxss::Stylesheet),
}

self_cell::self_cell!(
    struct ScriptCell {
        owner: JsFile,
        #[covariant]
        dependent: CallsIndex,
    }
);

type CallsIndex<'a> = Option<detectors::calls::FileIndex<'a>>;

/// A parsed script, and (when loaded for a whole analysis) the summary the backend-calls
/// detector reads, built right after parsing while the file's syntax tree is still in cache:
/// a separate pass over every tree later costs several times more.
pub struct Script(ScriptCell);

impl Script {
    fn new(js: JsFile, index: bool) -> Script {
        Script(ScriptCell::new(js, |js| {
            index.then(|| detectors::calls::FileIndex::build(js))
        }))
    }

    /// The backend-calls summary, if it was built at load time.
    pub(crate) fn calls_index(&self) -> Option<&detectors::calls::FileIndex<'_>> {
        self.0.borrow_dependent().as_ref()
    }
}

impl std::ops::Deref for Script {
    type Target = JsFile;
    fn deref(&self) -> &JsFile {
        self.0.borrow_owner()
    }
}

/// One file's text and parse.
pub struct FileData {
    pub text: Option<Text>,
    pub parsed: Parsed,
}

/// Everything `analyze` found; the reports read this.
pub struct Analysis {
    pub project: Project,
    pub options: Options,
    pub files: Vec<FileData>,
    pub graph: ModuleGraph,
    pub findings: Findings,
    pub diagnostics: Vec<Diagnostic>,
    /// Wall time of each phase (`read+parse`, `graph`, `detectors`), then of each detector by
    /// name (they run side by side).
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

/// Reads and parses one file; `index`: also summarise a script for the backend-calls detector.
fn load(project: &Project, id: FileId, index: bool) -> (FileData, Vec<Diagnostic>) {
    let f = project.file(id);
    let mut diags = Vec::new();
    let none = FileData {
        text: None,
        parsed: Parsed::None,
    };
    // Only files of the mini-program itself are read (not cloud functions or tool folders).
    if !f.kind.is_text() || f.mp_path.is_none() {
        return (none, diags);
    }
    if f.bytes > source::MAX_PARSE_BYTES {
        diags.push(
            Diagnostic::warning(
                "fs/too-large",
                format!(
                    "`{}` is {} bytes; files over {} bytes are measured but not parsed",
                    f.path,
                    f.bytes,
                    source::MAX_PARSE_BYTES
                ),
            )
            .at(f.path.clone(), None),
        );
        return (none, diags);
    }
    let text = match source::read_text(&f.abs) {
        Ok(t) => t,
        Err(e) => {
            diags.push(
                Diagnostic::error(
                    "fs/unreadable",
                    format!("`{}` could not be read: {e}", f.path),
                )
                .at(f.path.clone(), None),
            );
            return (none, diags);
        }
    };
    if let Some(at) = text.first_invalid {
        diags.push(
            Diagnostic::warning(
                "fs/not-utf8",
                format!(
                    "`{}` is not valid UTF-8; it is analysed but will not be rewritten",
                    f.path
                ),
            )
            .at(
                f.path.clone(),
                Some(Span::new(id, at as usize, at as usize + 1)),
            )
            .help("save the file as UTF-8 (DevTools expects UTF-8 too)"),
        );
    }
    let nested = matches!(
        f.kind,
        FileKind::Js | FileKind::Ts | FileKind::Wxs | FileKind::Json
    )
    .then(|| source::nesting_depth(&text.text))
    .filter(|(depth, _)| *depth > MAX_NESTING);
    if let Some((depth, at)) = nested {
        diags.push(
            Diagnostic::warning(
                "fs/too-deeply-nested",
                format!("`{}` nests {depth} levels deep; files nested over {MAX_NESTING} levels are measured but not parsed", f.path),
            )
            .at(f.path.clone(), Some(Span::new(id, at, at + 1)))
            .help("flatten the data, or load it from a JSON file in cloud storage"),
        );
        return (
            FileData {
                text: Some(text),
                parsed: Parsed::None,
            },
            diags,
        );
    }
    let parsed = match f.kind {
        FileKind::Js | FileKind::Ts | FileKind::Wxs => {
            let (js, d) = js::parse(id, &f.path, f.kind, &text.text);
            diags.extend(d);
            js.map_or(Parsed::None, |js| Parsed::Script(Script::new(js, index)))
        }
        FileKind::Json => match json::parse(&text.text) {
            Ok(j) => Parsed::Json(j),
            Err(e) => {
                diags.push(
                    Diagnostic::error(
                        "json/syntax-error",
                        format!("`{}` is not valid JSON: {}", f.path, e.message),
                    )
                    .at(
                        f.path.clone(),
                        Some(Span::new(id, e.start as usize, e.end as usize)),
                    )
                    .help("fix the JSON syntax; DevTools will not compile it either"),
                );
                Parsed::None
            }
        },
        FileKind::Wxml => {
            let (doc, d) = wxml::parse(id, &f.path, &text.text);
            diags.extend(d);
            Parsed::Wxml(doc)
        }
        FileKind::Wxss | FileKind::Style => {
            let (sheet, d) = wxss::parse(id, &f.path, &text.text, f.kind == FileKind::Style);
            diags.extend(d);
            Parsed::Wxss(sheet)
        }
        _ => Parsed::None,
    };
    (
        FileData {
            text: Some(text),
            parsed,
        },
        diags,
    )
}

/// Reads and parses every file in parallel; the parse-only part of [`analyze`].
pub fn load_all(project: &Project) -> (Vec<FileData>, Vec<Diagnostic>) {
    load_files(project, false)
}

fn load_files(project: &Project, index: bool) -> (Vec<FileData>, Vec<Diagnostic>) {
    let results: Vec<(FileData, Vec<Diagnostic>)> = pool().install(|| {
        (0..project.files.len())
            .into_par_iter()
            .map(|i| load(project, FileId(i as u32), index))
            .collect()
    });
    let mut files = Vec::with_capacity(results.len());
    let mut diags = Vec::new();
    for (f, d) in results {
        files.push(f);
        diags.extend(d);
    }
    (files, diags)
}

/// Stack size of the analysis threads. Syntax trees are walked recursively (scope resolution,
/// visitors, dropping), so a deeply nested literal needs a deep stack; [`MAX_NESTING`] bounds
/// what is parsed at all. The memory is only reserved, not committed.
pub const STACK_SIZE: usize = 256 * 1024 * 1024;

/// Scripts and JSON nested deeper than this (brackets, braces, parentheses) are not parsed.
pub const MAX_NESTING: usize = 1000;

/// The thread pool the analysis runs on: rayon's default size, with deep stacks.
pub fn pool() -> &'static rayon::ThreadPool {
    static POOL: std::sync::OnceLock<rayon::ThreadPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .stack_size(STACK_SIZE)
            .thread_name(|i| format!("analyze-{i}"))
            .build()
            .unwrap_or_else(|_| {
                // Threads could not be started with deep stacks: fall back to rayon's defaults.
                rayon::ThreadPoolBuilder::new()
                    .build()
                    .expect("a thread pool")
            })
    })
}

/// Runs the whole analysis on a discovered project.
pub fn analyze(project: Project, options: Options) -> Analysis {
    pool().install(|| analyze_in_pool(project, options))
}

fn analyze_in_pool(mut project: Project, options: Options) -> Analysis {
    let mut timings = Vec::new();
    let mut clock = std::time::Instant::now();
    let mut lap = |name: &'static str, timings: &mut Vec<(&'static str, std::time::Duration)>| {
        let now = std::time::Instant::now();
        timings.push((name, now - clock));
        clock = now;
    };
    let mut diagnostics = std::mem::take(&mut project.diagnostics);
    let (files, load_diags) = load_files(&project, true);
    diagnostics.extend(load_diags);
    lap("read+parse", &mut timings);
    let mut graph = ModuleGraph::build(&project, &files, &mut diagnostics);
    lap("graph", &mut timings);
    // Detectors are independent: they run side by side, then are merged in registry order and
    // given their ids (findings refer to each other by id). Those that need only module
    // resolution run while the asset references are collected.
    let registry = detectors::registry();
    let run = |d: &dyn detectors::Detector, cx: &Context<'_>| {
        let start = std::time::Instant::now();
        let mut f = Findings::default();
        d.run(cx, &mut f);
        (f, start.elapsed())
    };
    let no_refs = detectors::assets::refs::Collected::default();
    let (asset_refs, early) = rayon::join(
        || detectors::assets::refs::collect(&project, &files, &graph.resolver),
        || {
            let cx = Context {
                project: &project,
                files: &files,
                graph: &graph,
                options: &options,
                asset_refs: &no_refs,
            };
            registry
                .par_iter()
                .map(|d| (d.stage() == Stage::Modules).then(|| run(d.as_ref(), &cx)))
                .collect::<Vec<_>>()
        },
    );
    for r in &asset_refs.refs {
        graph.add(r.from, r.asset, crate::graph::EdgeKind::Asset, Some(r.span));
    }
    graph.compute_reach();
    let cx = Context {
        project: &project,
        files: &files,
        graph: &graph,
        options: &options,
        asset_refs: &asset_refs,
    };
    let results: Vec<(Findings, std::time::Duration)> = registry
        .par_iter()
        .zip(early)
        .map(|(d, done)| done.unwrap_or_else(|| run(d.as_ref(), &cx)))
        .collect();
    lap("detectors", &mut timings);
    let mut findings = Findings::default();
    for (d, (f, took)) in registry.iter().zip(results) {
        findings.merge(f);
        timings.push((d.name(), took));
    }
    findings.assign_ids();
    diagnostics.sort_by(|a, b| {
        (&a.path, a.span.map(|s| s.start), a.code).cmp(&(&b.path, b.span.map(|s| s.start), b.code))
    });
    Analysis {
        project,
        options,
        files,
        graph,
        findings,
        diagnostics,
        timings,
    }
}

/// A span as a report location.
pub fn loc(project: &Project, files: &[FileData], span: Span) -> Loc {
    let (line, column) = files
        .get(span.file.index())
        .and_then(|f| f.text.as_ref())
        .map_or((0, 0), |t| t.line_col(span.start));
    Loc {
        path: project.file(span.file).path.clone(),
        start: span.start,
        end: span.end,
        line,
        column,
        span: Some(span),
    }
}
