//! A parsed script: its syntax tree with resolved scopes, how to turn swc spans into file spans,
//! and its module's imports and exports (listed by [`super::imports`]).

use serde::Serialize;
use swc_common::{BytePos, SyntaxContext};
use swc_ecma_ast::{Ident, Program};

use crate::span::{FileId, Span};

/// A binding in one file: the name and the scope context the resolver gave it.
pub type BindingId = (swc_atoms::Atom, SyntaxContext);

/// A parsed script file.
pub struct JsFile {
    pub file: FileId,
    pub program: Program,
    /// The `start_pos` of the swc source file; spans are converted with it.
    pub(super) base: BytePos,
    pub(super) bom: bool,
    /// Context of identifiers that resolve to no declaration (globals).
    pub unresolved: SyntaxContext,
    /// Context of top-level declarations.
    pub top_level: SyntaxContext,
    /// Whether the text names a bundle runtime (see [`super::bundle::names_bundle_runtime`]):
    /// only then are its calls looked at as module tables.
    pub bundled: bool,
    pub module: ModuleInfo,
}

impl std::fmt::Debug for JsFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsFile")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl JsFile {
    /// The file-relative span of a swc node.
    pub fn span(&self, sp: swc_common::Span) -> Span {
        Span::from_swc(self.file, self.base, self.bom, sp)
    }

    /// Whether `ident` names a global (no declaration in this file binds it).
    pub fn is_global(&self, ident: &Ident) -> bool {
        ident.ctxt == self.unresolved
    }

    /// Whether `ident` is the global `name` (e.g. the real `wx`).
    pub fn is_global_named(&self, ident: &Ident, name: &str) -> bool {
        ident.sym == *name && self.is_global(ident)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportKind {
    /// `import … from 'x'`
    Import,
    /// `export … from 'x'`
    Reexport,
    /// `require('x')`
    Require,
    /// `require.async('x')` or `require('x', cb)` across packages
    RequireAsync,
    /// `import('x')`
    Dynamic,
}

/// What an import binds a local name to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Imported {
    /// The whole module: `const m = require('x')`, `import * as m from 'x'`.
    Whole,
    /// `import d from 'x'` (the default export, or `module.exports` of a CommonJS module).
    Default,
    /// `import { a } from 'x'`, `const { a } = require('x')`, `require('x').a`.
    Named(String),
}

#[derive(Debug, Clone)]
pub struct ImportBinding {
    pub local: BindingId,
    pub imported: Imported,
}

#[derive(Debug, Clone)]
pub struct Import {
    pub kind: ImportKind,
    pub specifier: String,
    /// The span of the specifier string.
    pub span: Span,
    pub bindings: Vec<ImportBinding>,
}

/// One export of the module.
#[derive(Debug, Clone)]
pub struct Export {
    /// The exported name; `default` for `export default` and for `module.exports = …`.
    pub name: String,
    /// The local binding exported, when the export names one (`export { a }`, `module.exports = a`).
    pub local: Option<BindingId>,
    /// The span of the exported value or declaration.
    pub span: Span,
    /// Set for `export * from` / `export { a } from`: the specifier re-exported from.
    pub from: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ModuleInfo {
    pub imports: Vec<Import>,
    pub exports: Vec<Export>,
    /// `require(expr)` with a computed path: the span, and the path's static beginning where
    /// one can be read (`'../config/theme-' + name` → `../config/theme-`).
    pub dynamic_requires: Vec<(Span, Option<String>)>,
    /// Whether the module uses ES module syntax.
    pub is_esm: bool,
    /// The members of an object-literal `module.exports = { a, b: c, d() {} }` (the module's
    /// API by name, which `require('m').a` and `const { a } = require('m')` reach): each key,
    /// with the local it names when the value is an identifier.
    pub object_members: Vec<(String, Option<BindingId>)>,
}

impl ModuleInfo {
    /// The import that binds `local`, with what it imports.
    pub fn import_of(&self, local: &BindingId) -> Option<(&Import, &Imported)> {
        self.imports.iter().find_map(|imp| {
            imp.bindings
                .iter()
                .find(|b| b.local == *local)
                .map(|b| (imp, &b.imported))
        })
    }

    pub fn export(&self, name: &str) -> Option<&Export> {
        self.exports.iter().find(|e| e.name == name)
    }
}
