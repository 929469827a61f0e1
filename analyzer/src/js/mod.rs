//! JavaScript and TypeScript: one parse per file, scope resolution, the module's imports and
//! exports, and (in [`bundle`]) where a bundle's module factories are; also JSX/TSX and the
//! `<script>` of Vue components ([`vue`]), the sources frameworks build mini-programs from.
//!
//! After parsing, swc's `resolver` marks every identifier with its binding. An identifier that
//! refers to no declaration in the file (a global such as `wx`, `require` or `getApp`) carries
//! the context [`JsFile::unresolved`]; [`JsFile::is_global`] is how detectors ask "is this the
//! real `wx`", so a local variable or parameter named `wx` never counts.

pub mod bundle;
mod file;
mod imports;
mod parse;
pub mod syntax;
pub mod vue;

pub use file::{
    BindingId, Export, Import, ImportBinding, ImportKind, Imported, JsFile, ModuleInfo,
};
pub use parse::{Dialect, parse, parse_as};
