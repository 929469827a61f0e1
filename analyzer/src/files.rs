//! The loaded project: every file's text and parse ([`FileData`]), read once in parallel, with
//! the per-file summary of each script (`crate::summary`) built while its syntax tree is still
//! in cache. Passes and detectors read this; nothing here depends on them.

use rayon::prelude::*;

use crate::diagnostic::Diagnostic;
use crate::findings::Loc;
use crate::js::{self, JsFile};
use crate::json_doc::{self, Json};
use crate::pool::pool;
use crate::project::{FrameworkName, Project};
use crate::source::{self, FileKind, Text};
use crate::sourcemap::ChunkMap;
use crate::span::{FileId, Span};
use crate::summary::FileIndex;
use crate::{wxml, wxss};

/// A file's parse.
pub enum Parsed {
    /// Not a text kind, too big, unreadable, or failed to parse (see the diagnostics).
    None,
    Script(Script),
    Json(Json),
    Wxml(wxml::Document),
    /// A `.wxss` sheet, or a `.less`/`.scss` one scanned for `@import` and `url()`.
    Wxss(wxss::Stylesheet),
    /// A framework's source outside the mini-program (the `<script>` of a `.vue` file, a
    /// `.tsx` page): parsed so findings in the built output can name the source they came
    /// from; not analyzed as part of the mini-program.
    Source(Script),
}

self_cell::self_cell!(
    struct ScriptCell {
        owner: JsFile,
        #[covariant]
        dependent: CallsIndex,
    }
);

type CallsIndex<'a> = Option<FileIndex<'a>>;

/// A parsed script, and (when loaded for a whole analysis) the summary the backend-calls
/// detector reads, built right after parsing while the file's syntax tree is still in cache:
/// a separate pass over every tree later costs several times more.
pub struct Script(ScriptCell);

impl Script {
    fn new(js: JsFile, index: bool) -> Script {
        Script(ScriptCell::new(js, |js| {
            index.then(|| FileIndex::build(js))
        }))
    }

    /// The backend-calls summary, if it was built at load time.
    pub(crate) fn calls_index(&self) -> Option<&FileIndex<'_>> {
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
    /// The source map of a chunk of a framework's build output, when the build wrote one.
    pub map: Option<Box<ChunkMap>>,
}

/// Reads and parses one file; `index`: also summarise a script for the backend-calls detector.
fn load_file(project: &Project, id: FileId, index: bool) -> (FileData, Vec<Diagnostic>) {
    let f = project.file(id);
    let mut diags = Vec::new();
    let none = FileData {
        text: None,
        parsed: Parsed::None,
        map: None,
    };
    // Only files of the mini-program itself are read (not cloud functions or tool folders),
    // and the sources a framework builds it from.
    let framework = project.framework.as_ref();
    let source = f.mp_path.is_none() && framework.is_some_and(|fw| fw.is_source(&f.path, f.kind));
    if !source && (!f.kind.is_text() || f.mp_path.is_none()) {
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
        FileKind::Js
            | FileKind::Ts
            | FileKind::Wxs
            | FileKind::Json
            | FileKind::Jsx
            | FileKind::Tsx
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
                map: None,
            },
            diags,
        );
    }
    let parsed = match f.kind {
        _ if source => {
            let taro = framework.is_some_and(|fw| fw.name == FrameworkName::Taro);
            let (js, d) = parse_source(id, &f.path, f.kind, taro, &text.text);
            diags.extend(d);
            js.map_or(Parsed::None, |js| Parsed::Source(Script::new(js, false)))
        }
        FileKind::Js | FileKind::Ts | FileKind::Wxs => {
            let (js, d) = js::parse(id, &f.path, f.kind, &text.text);
            diags.extend(d);
            js.map_or(Parsed::None, |js| Parsed::Script(Script::new(js, index)))
        }
        FileKind::Json => match json_doc::parse(&text.text) {
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
    // A chunk of a framework's build names the map back to its sources.
    let map = match framework.is_some() && !source && f.kind == FileKind::Js {
        true => ChunkMap::read(project, f, &text.text).unwrap_or_else(|d| {
            diags.push(d);
            None
        }),
        false => None,
    };
    (
        FileData {
            text: Some(text),
            parsed,
            map: map.map(Box::new),
        },
        diags,
    )
}

/// Parses a framework source: a Vue component's `<script>` blocks at their offsets in the
/// file, a script of a Taro project with JSX allowed in `.js`.
fn parse_source(
    id: FileId,
    path: &str,
    kind: FileKind,
    taro: bool,
    text: &str,
) -> (Option<js::JsFile>, Vec<Diagnostic>) {
    if kind == FileKind::Vue {
        let blocks = js::vue::script_blocks(text);
        if blocks.is_empty() {
            return (None, Vec::new());
        }
        let script = js::vue::script_text(text, &blocks);
        return js::parse_as(id, path, js::vue::dialect(&blocks), &script);
    }
    let dialect = match js::Dialect::of(kind) {
        js::Dialect::Js if taro => js::Dialect::Jsx,
        d => d,
    };
    js::parse_as(id, path, dialect, text)
}

/// Reads and parses every file in parallel, and summarises each script: what
/// [`analyze`](crate::analyze) runs on.
pub fn load(project: &Project) -> (Vec<FileData>, Vec<Diagnostic>) {
    load_files(project, true)
}

/// Reads and parses every file in parallel, without the scripts' summaries; the parse-only
/// part of [`analyze`](crate::analyze).
pub fn load_all(project: &Project) -> (Vec<FileData>, Vec<Diagnostic>) {
    load_files(project, false)
}

fn load_files(project: &Project, index: bool) -> (Vec<FileData>, Vec<Diagnostic>) {
    let results: Vec<(FileData, Vec<Diagnostic>)> = pool().install(|| {
        (0..project.files.len())
            .into_par_iter()
            .map(|i| load_file(project, FileId(i as u32), index))
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

/// Scripts and JSON nested deeper than this (brackets, braces, parentheses) are not parsed.
pub const MAX_NESTING: usize = 1000;

/// A span as a report location; in a framework's build output, with the source it was built
/// from.
pub fn loc(project: &Project, files: &[FileData], span: Span) -> Loc {
    let file = files.get(span.file.index());
    let text = file.and_then(|f| f.text.as_ref());
    let (line, column) = text.map_or((0, 0), |t| t.line_col(span.start));
    let text_of = |id: FileId| files.get(id.index()).and_then(|f| f.text.as_ref());
    let source = text.and_then(|t| {
        let map = file.and_then(|f| f.map.as_deref());
        crate::sourcemap::source_loc(project, span, t, map, text_of)
    });
    Loc {
        path: project.file(span.file).path.clone(),
        start: span.start,
        end: span.end,
        line,
        column,
        source: source.map(Box::new),
        span: Some(span),
    }
}
