//! One parse per file: swc's parser, then its `resolver` (scopes), then the import scan.

use swc_common::{
    BytePos, FileName, GLOBALS, Globals, Mark, SourceFile, Spanned, SyntaxContext, sync::Lrc,
};
use swc_ecma_ast::EsVersion;
use swc_ecma_parser::{EsSyntax, Syntax, TsSyntax};
use swc_ecma_transforms_base::resolver;
use swc_ecma_visit::VisitMutWith;

use super::file::{JsFile, ModuleInfo};
use super::imports;
use crate::diagnostic::Diagnostic;
use crate::source::FileKind;
use crate::span::{FileId, Span};

/// The language a script is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Js,
    Jsx,
    Ts,
    Tsx,
}

impl Dialect {
    /// The dialect of a file kind (WXS is JS; `.vue` scripts say theirs, see `super::vue`).
    pub fn of(kind: FileKind) -> Dialect {
        match kind {
            FileKind::Ts => Dialect::Ts,
            FileKind::Tsx => Dialect::Tsx,
            FileKind::Jsx => Dialect::Jsx,
            _ => Dialect::Js,
        }
    }
}

/// Parses a JS/TS/WXS file and resolves its scopes. A syntax error the parser cannot recover
/// from is an `Err` with a diagnostic that points at it; recoverable ones are returned beside
/// the file.
pub fn parse(
    file: FileId,
    path: &str,
    kind: FileKind,
    text: &str,
) -> (Option<JsFile>, Vec<Diagnostic>) {
    parse_as(file, path, Dialect::of(kind), text)
}

/// [`parse`] in a given dialect.
pub fn parse_as(
    file: FileId,
    path: &str,
    dialect: Dialect,
    text: &str,
) -> (Option<JsFile>, Vec<Diagnostic>) {
    let is_ts = matches!(dialect, Dialect::Ts | Dialect::Tsx);
    let syntax = if is_ts {
        Syntax::Typescript(TsSyntax {
            tsx: dialect == Dialect::Tsx,
            decorators: true,
            dts: path.ends_with(".d.ts"),
            ..Default::default()
        })
    } else {
        Syntax::Es(EsSyntax {
            jsx: dialect == Dialect::Jsx,
            decorators: true,
            allow_return_outside_function: true,
            ..Default::default()
        })
    };
    let (src, bom) = match text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, true),
        None => (text, false),
    };
    let name = Lrc::new(FileName::Custom(path.to_string()));
    let fm = SourceFile::new(
        name.clone(),
        false,
        name,
        src.to_string().into(),
        BytePos(1),
    );
    let mut diags = Vec::new();
    let mut recovered = Vec::new();
    let parsed = swc_ecma_parser::parse_file_as_program(
        &fm,
        syntax,
        EsVersion::latest(),
        None,
        &mut recovered,
    );
    let to_diag = |e: &swc_ecma_parser::error::Error, sev_error: bool| {
        let span = Span::from_swc(file, fm.start_pos, bom, e.span());
        let d = if sev_error {
            Diagnostic::error(
                "js/syntax-error",
                format!("`{path}` does not parse: {}", e.kind().msg()),
            )
            .help("fix the syntax error (DevTools will not compile this file either); the rest of the file is skipped")
        } else {
            Diagnostic::warning("js/syntax-warning", format!("`{path}`: {}", e.kind().msg()))
        };
        d.at(path, Some(span))
    };
    let mut program = match parsed {
        Ok(p) => p,
        Err(e) => {
            diags.push(to_diag(&e, true));
            return (None, diags);
        }
    };
    // Recovered errors are things like strict-mode violations that DevTools tolerates: note the
    // first one and keep going.
    if let Some(first) = recovered.first() {
        diags.push(to_diag(first, false));
    }
    let globals = Globals::new();
    let (unresolved, top_level) = GLOBALS.set(&globals, || {
        let unresolved_mark = Mark::new();
        let top_level_mark = Mark::new();
        program.visit_mut_with(&mut resolver(unresolved_mark, top_level_mark, is_ts));
        (
            SyntaxContext::empty().apply_mark(unresolved_mark),
            SyntaxContext::empty().apply_mark(top_level_mark),
        )
    });
    let mut js = JsFile {
        file,
        program,
        base: fm.start_pos,
        bom,
        unresolved,
        top_level,
        bundled: super::bundle::names_bundle_runtime(path, src),
        module: ModuleInfo::default(),
    };
    let (module, mdiags) = imports::collect(&js, path);
    js.module = module;
    diags.extend(mdiags);
    (Some(js), diags)
}
