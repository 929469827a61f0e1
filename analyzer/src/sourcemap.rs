//! The way back from a framework's build output to its sources.
//!
//! A built chunk names its source map in its last `sourceMappingURL` comment: a file beside it
//! (Taro: `dist/pages/index/index.js.map`), a file outside the mini-program (uni-app:
//! `unpackage/dist/dev/.sourcemap/mp-weixin/…`), or a data URL. [`ChunkMap::read`] decodes it
//! with the `sourcemap` crate when the chunk is loaded and resolves each of the map's sources to
//! a project file; [`source_loc`] turns a span of the chunk into a location in that file.
//! Framework code (`node_modules`, webpack's runtime) and loaders' virtual modules (vue-loader's
//! `x.vue?b7f7` glue) resolve to no project file, so positions in them are not mapped.

use std::path::Path;

use crate::diagnostic::Diagnostic;
use crate::findings::Loc;
use crate::project::Project;
use crate::source::{SourceFile, Text};
use crate::span::{FileId, Span};

/// A chunk's decoded source map, with the project file each of its sources is.
pub struct ChunkMap {
    map: sourcemap::SourceMap,
    /// Per source of the map: the project file (outside the mini-program) it names.
    sources: Vec<Option<FileId>>,
}

impl std::fmt::Debug for ChunkMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkMap")
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

/// A position in a source: the file, its 0-based line and UTF-16 column as the map counts
/// them, and the map's copy of the source text.
struct Origin<'a> {
    file: FileId,
    line: u32,
    col: u32,
    content: Option<&'a str>,
}

impl ChunkMap {
    /// Reads the map that `chunk` (with text `text`) names. `Ok(None)` when it names none or
    /// the map is not there; a map that does not decode is a diagnostic.
    pub fn read(
        project: &Project,
        chunk: &SourceFile,
        text: &str,
    ) -> Result<Option<ChunkMap>, Diagnostic> {
        let Some(at) = memchr::memmem::rfind(text.as_bytes(), b"sourceMappingURL=") else {
            return Ok(None);
        };
        let line = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let Ok(Some(reference)) =
            sourcemap::locate_sourcemap_reference_slice(&text.as_bytes()[line..])
        else {
            return Ok(None);
        };
        let url = reference.get_url();
        let invalid = |what: &str, e: sourcemap::Error| {
            Diagnostic::warning(
                "sourcemap/invalid",
                format!(
                    "the source map {what} named by `{}` does not decode: {e}; findings in it are not mapped to their sources",
                    chunk.path
                ),
            )
            .at(chunk.path.clone(), None)
            .help("rebuild the project so that its source maps match its output")
        };
        let (decoded, map_dir) = if url.starts_with("data:") {
            let map = sourcemap::decode_data_url(url).map_err(|e| invalid("(a data URL)", e))?;
            (map, chunk.abs.parent().map(Path::to_path_buf))
        } else {
            let rel = url.split(['?', '#']).next().unwrap_or(url);
            let Some(path) = chunk.abs.parent().map(|d| d.join(rel)) else {
                return Ok(None);
            };
            let Ok(bytes) = std::fs::read(&path) else {
                return Ok(None);
            };
            let map =
                sourcemap::decode_slice(&bytes).map_err(|e| invalid(&format!("`{url}`"), e))?;
            (map, path.parent().map(Path::to_path_buf))
        };
        let map = match decoded {
            sourcemap::DecodedMap::Regular(m) => m,
            sourcemap::DecodedMap::Index(i) => {
                i.flatten().map_err(|e| invalid(&format!("`{url}`"), e))?
            }
            sourcemap::DecodedMap::Hermes(h) => (*h).clone(),
        };
        let map_dir = map_dir.map(|d| project_relative(project, &d));
        let sources = (0..map.get_source_count())
            .map(|i| {
                map.get_source(i)
                    .and_then(|s| resolve(project, map_dir.as_deref(), s))
            })
            .collect();
        Ok(Some(ChunkMap { map, sources }))
    }

    /// Whether byte `offset` of the chunk (whose text is `text`) was built from framework code
    /// (a package under `node_modules`, webpack's runtime), by the map's segment at or before it
    /// on the same line.
    pub fn is_framework_code(&self, text: &Text, offset: u32) -> bool {
        let Some(token) = self.token(text, offset) else {
            return false;
        };
        self.map
            .get_source(token.get_src_id())
            .is_some_and(|s| is_framework_path(source_path(s)))
    }

    fn token(&self, text: &Text, offset: u32) -> Option<sourcemap::Token<'_>> {
        let line = text.lines.line_of(offset);
        let start = text.lines.line_start(line)? as usize;
        let before = text.text.get(start..offset as usize)?;
        let col = if before.is_ascii() {
            before.len()
        } else {
            before.encode_utf16().count()
        };
        let token = self.map.lookup_token(line as u32, col as u32)?;
        (token.get_dst_line() == line as u32 && token.has_source()).then_some(token)
    }

    /// The source position that built byte `offset` of the chunk (whose text is `text`): the
    /// map's segment at or before it on the same line, when that names a project file.
    fn origin(&self, text: &Text, offset: u32) -> Option<Origin<'_>> {
        let token = self.token(text, offset)?;
        let src = token.get_src_id();
        let file = (*self.sources.get(src as usize)?)?;
        Some(Origin {
            file,
            line: token.get_src_line(),
            col: token.get_src_col(),
            content: self.map.get_source_contents(src),
        })
    }
}

/// The project-relative form of a folder (empty: the project folder), or `None` outside it.
fn project_relative(project: &Project, dir: &Path) -> String {
    let root = project
        .root
        .canonicalize()
        .unwrap_or_else(|_| project.root.clone());
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    match dir.strip_prefix(&root) {
        Ok(rel) => rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
        Err(_) => "\0outside".into(),
    }
}

/// The project file (outside the mini-program) a map's `source` names: `uni-app:///x.vue`,
/// `webpack://name/./src/x.tsx`, a path relative to the map, or a developer's absolute path
/// (`webpack:///D:/work/app/common/http.js`) whose end is a path in this project.
fn resolve(project: &Project, map_dir: Option<&str>, source: &str) -> Option<FileId> {
    // A loader's request (`x.vue?b7f7`, `pages.json?7316`) is a virtual module: its lines are
    // the loader's output, not the file's.
    if source.contains('?') {
        return None;
    }
    let path = source_path(source);
    if is_framework_path(path) {
        return None;
    }
    let found = |rel: &str| {
        project
            .by_path
            .get(rel)
            .copied()
            .filter(|id| project.file(*id).mp_path.is_none())
    };
    if let Some(id) = found(path) {
        return Some(id);
    }
    if let Some(dir) = map_dir
        && let Some(joined) = normalize(&format!("{dir}/{path}"))
        && let Some(id) = found(&joined)
    {
        return Some(id);
    }
    // An absolute path on the developer's machine: the longest end of it that is a project file.
    let absolute = path.starts_with('/') || path.as_bytes().get(1) == Some(&b':');
    if absolute {
        let mut rest = path;
        while let Some((_, tail)) = rest.split_once('/') {
            if let Some(id) = found(tail) {
                return Some(id);
            }
            rest = tail;
        }
    }
    None
}

/// A map source's path: `uni-app:///`, `webpack:///`, `webpack://<name>/`, `file://` and a
/// leading `./` taken off.
fn source_path(source: &str) -> &str {
    ["uni-app:///", "webpack:///", "file://"]
        .iter()
        .find_map(|p| source.strip_prefix(p))
        .or_else(|| {
            source
                .strip_prefix("webpack://")
                .map(|rest| rest.split_once('/').map_or(rest, |(_, p)| p))
        })
        .unwrap_or(source)
        .trim_start_matches("./")
}

/// Framework code: a package under `node_modules`, or webpack's own runtime.
fn is_framework_path(path: &str) -> bool {
    path.starts_with("(webpack)")
        || path.starts_with("webpack/")
        || path.split('/').any(|c| c == "node_modules")
}

/// `a/b/../c` → `a/c`; `None` when it climbs out of the project.
fn normalize(path: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            p => out.push(p),
        }
    }
    Some(out.join("/"))
}

/// The source a span of a framework's build output was built from, as a location in the
/// source file: `None` for a span in no built chunk, or in framework code.
/// `text` and `map` are the chunk's, `text_of` gives the loaded text of a project file.
pub fn source_loc<'a>(
    project: &Project,
    span: Span,
    text: &Text,
    map: Option<&ChunkMap>,
    text_of: impl Fn(FileId) -> Option<&'a Text>,
) -> Option<Loc> {
    let Some(map) = map else {
        return matching_source(project, text, span, text_of);
    };
    let start = map.origin(text, span.start)?;
    let src_text = text_of(start.file)?;
    let from = source_offset(src_text, &start)?;
    // The end: the last byte of the span, when it maps into the same file after the start.
    let to = span
        .end
        .checked_sub(1)
        .filter(|&e| e > span.start)
        .and_then(|e| map.origin(text, e))
        .filter(|o| o.file == start.file)
        .and_then(|o| source_offset(src_text, &o))
        .filter(|&o| o >= from)
        .map_or(from, |o| {
            o + src_text.text[o..].chars().next().map_or(0, char::len_utf8)
        });
    let (line, column) = src_text.line_col(from as u32);
    Some(Loc {
        path: project.file(start.file).path.clone(),
        start: from as u32,
        end: to as u32,
        line,
        column,
        source: None,
        span: Some(Span::new(start.file, from, to)),
    })
}

/// Without a map: the line of the source whose text is the span's line, in the webpack module
/// the span is in, named by the header webpack writes above each module of a development build
/// (`/*!*** ./src/pages/mine/index.tsx ***!*/`). `None` when the build is not a framework's,
/// the module is framework code, or no line of its source reads the same.
fn matching_source<'a>(
    project: &Project,
    text: &Text,
    span: Span,
    text_of: impl Fn(FileId) -> Option<&'a Text>,
) -> Option<Loc> {
    project.framework.as_ref()?.source_root.as_ref()?;
    let f = project.file(span.file);
    if f.mp_path.is_none() || f.kind != crate::source::FileKind::Js {
        return None;
    }
    let before = text.text.get(..span.start as usize)?;
    let header = memchr::memmem::rfind(before.as_bytes(), b"!*** ")? + 5;
    let request = &before[header..header + before[header..].find(" ***!")?];
    let id = resolve(project, None, module_resource(request)?)?;
    let src = text_of(id)?;
    let built_line = text.lines.line_of(span.start);
    let line_start = text.lines.line_start(built_line)? as usize;
    let line = text.text[line_start..]
        .split('\n')
        .next()?
        .trim_end_matches('\r');
    let wanted = line.trim();
    if wanted.len() < MIN_MATCHED_LINE {
        return None;
    }
    // Nearest first to the same distance from the module header as in the build (babel's
    // `retainLines` keeps it), then down the file.
    let estimate = built_line.saturating_sub(text.lines.line_of(header as u32));
    let lines: Vec<&str> = src.text.split('\n').collect();
    let found = (0..lines.len())
        .flat_map(|d| [estimate.checked_sub(d), Some(estimate + d)])
        .flatten()
        .find(|&l| lines.get(l).is_some_and(|s| s.trim() == wanted))?;
    let src_line = lines[found];
    let indent = |s: &str| s.len() - s.trim_start().len();
    let into = (span.start as usize - line_start).saturating_sub(indent(line));
    let from =
        src.lines.line_start(found)? as usize + (indent(src_line) + into).min(src_line.len());
    let from = (0..=from).rev().find(|&o| src.text.is_char_boundary(o))?;
    let (l, c) = src.line_col(from as u32);
    Some(Loc {
        path: project.file(id).path.clone(),
        start: from as u32,
        end: from as u32,
        line: l,
        column: c,
        source: None,
        span: Some(Span::new(id, from, from)),
    })
}

/// Lines shorter than this (`});`, `}`) say nothing about where they came from.
const MIN_MATCHED_LINE: usize = 8;

/// The file a webpack module request is built from: the resource after its loaders
/// (`babel-loader!…!D:/app/pages/a.vue?vue&type=script&lang=js&` → the component's script,
/// `…entry-cache.js?name=pages/index/index!./src/pages/index/index.tsx` → the page). Other
/// queries (a template, a style, a page entry) are the loaders' output, not the file's.
fn module_resource(request: &str) -> Option<&str> {
    let resource = request.rsplit('!').next()?;
    match resource.split_once('?') {
        None => Some(resource),
        Some((path, query)) if query.starts_with("vue&type=script") => Some(path),
        Some(_) => None,
    }
}

/// The byte offset in the source file of a map position. When the map's copy of the source
/// differs from the file (a loader added lines, as uni-app's does to `main.js`), the same line
/// text is looked for in the file, nearest the mapped line first.
fn source_offset(src: &Text, o: &Origin<'_>) -> Option<usize> {
    let mut line = o.line as usize;
    if let Some(content) = o.content
        && content != src.text
    {
        let wanted = content.lines().nth(line)?;
        let lines: Vec<&str> = src.text.lines().collect();
        line = (0..lines.len())
            .flat_map(|d| [line.checked_sub(d), Some(line + d)])
            .flatten()
            .find(|&l| lines.get(l) == Some(&wanted))?;
    }
    let start = src.lines.line_start(line)? as usize;
    let rest = &src.text[start..];
    let mut units = 0u32;
    for (i, c) in rest.char_indices() {
        if units >= o.col || c == '\n' {
            return Some(start + i);
        }
        units += c.len_utf16() as u32;
    }
    Some(src.text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_relative_paths() {
        assert_eq!(normalize("a/b/../c").as_deref(), Some("a/c"));
        assert_eq!(normalize("./a//b").as_deref(), Some("a/b"));
        assert_eq!(normalize("../a"), None);
    }
}
