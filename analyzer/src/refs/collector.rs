//! What collecting in one file needs whatever its kind: the project, the parsed files, the
//! resolver, and what is found so far; resolving a written path to an asset and recording it.

use std::collections::HashMap;

use crate::files::{FileData, Parsed};
use crate::findings::{AssetTarget, RefVia};
use crate::graph::Resolver;
use crate::js::JsFile;
use crate::project::Project;
use crate::source::FileKind;
use crate::span::{FileId, Span};

use super::model::{Collected, Ref, stricter};

pub(super) fn default_target(kind: FileKind) -> AssetTarget {
    if kind == FileKind::Font {
        AssetTarget::HttpsUrl
    } else {
        AssetTarget::CloudFileId
    }
}

pub(super) struct Collector<'a> {
    pub(super) project: &'a Project,
    pub(super) files: &'a [FileData],
    pub(super) resolver: &'a Resolver,
    pub(super) out: Collected,
    /// Script string literals (span without quotes) traced into WXML, with what the WXML
    /// attribute needs.
    pub(super) flows: HashMap<Span, AssetTarget>,
}

impl Collector<'_> {
    pub(super) fn resolve(&self, from: FileId, spec: &str) -> Option<FileId> {
        let spec = spec.trim();
        let spec = spec.split(['?', '#']).next().unwrap_or(spec);
        let found = self
            .resolver
            .resolve_with(self.project, from, spec, &[""])
            .or_else(|| {
                // A bare `images/x.png` in JS/WXML usually means from the root.
                (!spec.starts_with('.') && !spec.starts_with('/'))
                    .then(|| self.project.mp_file(spec))
                    .flatten()
            })?;
        self.project.file(found).kind.is_media().then_some(found)
    }

    pub(super) fn push(
        &mut self,
        from: FileId,
        spec: &str,
        span: Span,
        via: RefVia,
        target: Option<AssetTarget>,
        binding: Option<String>,
    ) -> bool {
        let Some(asset) = self.resolve(from, spec) else {
            return false;
        };
        let kind = self.project.file(asset).kind;
        let target = match target {
            Some(t) => stricter(t, default_target(kind)),
            None => default_target(kind),
        };
        self.out.refs.push(Ref {
            from,
            asset,
            span,
            via,
            target,
            binding,
        });
        true
    }

    /// The script beside a WXML file (same base name).
    pub(super) fn sibling_script(&self, wxml: FileId) -> Option<&JsFile> {
        let mp = self.project.file(wxml).mp_path.as_deref()?;
        let base = mp.strip_suffix(".wxml")?;
        [".ts", ".js"].iter().find_map(|e| {
            let id = self.project.mp_file(&[base, e].concat())?;
            match &self.files[id.index()].parsed {
                Parsed::Script(js) => Some(&**js),
                _ => None,
            }
        })
    }
}

/// A string literal's span without its quotes.
pub(super) fn inner(s: Span) -> Span {
    if s.len() >= 2 {
        Span::new(s.file, s.start as usize + 1, s.end as usize - 1)
    } else {
        s
    }
}
