//! Package accounting: bytes per package against the limits, the largest files, bytes by kind,
//! unused files, and the size each package would have after the proposed moves.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analysis::Analysis;
use crate::findings::{DataSource, Findings};
use crate::graph::ModuleGraph;
use crate::project::Project;
use crate::source::FileKind;
use crate::span::FileId;

/// How many of the largest files each package lists.
const LARGEST: usize = 10;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SizeReport {
    pub packages: Vec<PackageSize>,
    /// Bytes the uploader takes, all packages together.
    pub total_bytes: u64,
    pub total_limit: u64,
    pub total_over_limit: bool,
    /// All packages together after the proposed moves.
    pub total_after_moves: u64,
    /// Uploaded files that nothing references.
    pub unused: Vec<UnusedFile>,
    pub unused_bytes: u64,
    /// Files under the mini-program root the uploader leaves out, and why.
    pub excluded: Vec<ExcludedFile>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageSize {
    pub name: String,
    pub root: String,
    pub independent: bool,
    pub files: u64,
    /// Bytes the uploader takes (whitelisted, not ignored by packOptions).
    pub bytes: u64,
    pub limit: u64,
    pub over_limit: bool,
    pub by_kind: BTreeMap<FileKind, u64>,
    pub largest: Vec<SizedFile>,
    /// Bytes that moving static data to collections saves.
    pub data_savings: u64,
    /// Bytes that moving large assets (and inline data URIs) to storage saves.
    pub asset_savings: u64,
    /// Bytes of unused files (dropped when `ignoreUploadUnusedFiles` is on or they are deleted).
    pub unused_bytes: u64,
    pub after_moves: u64,
    pub over_limit_after_moves: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SizedFile {
    pub path: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnusedFile {
    pub path: String,
    pub bytes: u64,
    pub package: String,
    /// Set when a computed `require(…)` could load the file: it may be used after all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub possibly_required_by: Option<crate::findings::Loc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExcludedFile {
    pub path: String,
    pub bytes: u64,
    pub reason: String,
}

/// Whether nothing in the app reaches a file the uploader would take.
pub fn unused_files(project: &Project, graph: &ModuleGraph) -> Vec<FileId> {
    project
        .files
        .iter()
        .filter(|f| f.uploaded && !graph.reached[f.id.index()])
        .map(|f| f.id)
        .collect()
}

impl SizeReport {
    pub fn new(a: &Analysis) -> SizeReport {
        let project = &a.project;
        let limits = a.options.limits;
        let unused = unused_files(project, &a.graph);
        let mut pkgs: Vec<PackageSize> = project
            .packages
            .iter()
            .map(|p| PackageSize {
                name: p.name.clone(),
                root: p.root.clone(),
                independent: p.independent,
                files: 0,
                bytes: 0,
                limit: limits.package,
                over_limit: false,
                by_kind: BTreeMap::new(),
                largest: Vec::new(),
                data_savings: 0,
                asset_savings: 0,
                unused_bytes: 0,
                after_moves: 0,
                over_limit_after_moves: false,
            })
            .collect();
        let mut largest: Vec<Vec<SizedFile>> = vec![Vec::new(); pkgs.len()];
        let mut excluded = Vec::new();
        for f in &project.files {
            let Some(pi) = f.package else { continue };
            if !f.uploaded {
                excluded.push(ExcludedFile {
                    path: f.path.clone(),
                    bytes: f.bytes,
                    reason: f.excluded_by.clone().unwrap_or_default(),
                });
                continue;
            }
            let p = &mut pkgs[pi];
            p.files += 1;
            p.bytes += f.bytes;
            *p.by_kind.entry(f.kind).or_default() += f.bytes;
            largest[pi].push(SizedFile {
                path: f.path.clone(),
                bytes: f.bytes,
            });
        }
        for (p, mut l) in pkgs.iter_mut().zip(largest) {
            l.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.path.cmp(&b.path)));
            l.truncate(LARGEST);
            p.largest = l;
        }
        apply_savings(&a.findings, project, &mut pkgs);
        let dynamic = dynamic_require_targets(a);
        let mut unused_list = Vec::new();
        let mut unused_total = 0;
        for id in unused {
            let f = project.file(id);
            let pi = f.package.unwrap_or(0);
            pkgs[pi].unused_bytes += f.bytes;
            unused_total += f.bytes;
            unused_list.push(UnusedFile {
                path: f.path.clone(),
                bytes: f.bytes,
                package: project.packages[pi].name.clone(),
                possibly_required_by: dynamic
                    .iter()
                    .find(|(_, prefix)| {
                        f.mp_path
                            .as_deref()
                            .is_some_and(|p| p.starts_with(prefix.as_str()))
                    })
                    .map(|(span, _)| crate::files::loc(project, &a.files, *span)),
            });
        }
        let mut total = 0;
        let mut total_after = 0;
        for p in &mut pkgs {
            p.over_limit = p.bytes > p.limit;
            p.after_moves = p.bytes.saturating_sub(p.data_savings + p.asset_savings);
            p.over_limit_after_moves = p.after_moves > p.limit;
            total += p.bytes;
            total_after += p.after_moves;
        }
        SizeReport {
            packages: pkgs,
            total_bytes: total,
            total_limit: limits.total,
            total_over_limit: total > limits.total,
            total_after_moves: total_after,
            unused: unused_list,
            unused_bytes: unused_total,
            excluded,
        }
    }
}

/// Where each computed `require` with a known beginning may load from: (span, path prefix
/// relative to the mini-program root).
fn dynamic_require_targets(a: &Analysis) -> Vec<(crate::span::Span, String)> {
    let mut out = Vec::new();
    for f in &a.files {
        let crate::files::Parsed::Script(js) = &f.parsed else {
            continue;
        };
        let from = a.project.file(js.file).mp_path.as_deref().unwrap_or("");
        let dir = crate::graph::resolve::dir_of(from);
        for (span, prefix) in &js.module.dynamic_requires {
            if let Some(p) = prefix
                .as_deref()
                .and_then(|p| crate::graph::resolve::join(dir, p))
            {
                // `join` drops a trailing `/`; a prefix naming a folder keeps it.
                let p = if prefix.as_deref().is_some_and(|x| x.ends_with('/')) {
                    format!("{p}/")
                } else {
                    p
                };
                if !p.is_empty() {
                    out.push((*span, p));
                }
            }
        }
    }
    out
}

/// Adds what each proposed move saves to its package. A data module or JSON file whose whole
/// value moves saves the file's bytes; a literal inside a page saves the literal's bytes.
fn apply_savings(findings: &Findings, project: &Project, pkgs: &mut [PackageSize]) {
    let pkg_index = |name: &str| project.packages.iter().position(|p| p.name == name);
    for d in &findings.static_data {
        let Some(pi) = pkg_index(&d.package) else {
            continue;
        };
        let file_bytes = d
            .loc
            .span
            .map(|s| project.file(s.file))
            .filter(|f| f.uploaded)
            .map(|f| f.bytes);
        let Some(file_bytes) = file_bytes else {
            continue;
        };
        let saved = match d.source {
            DataSource::JsonFile => file_bytes,
            _ => d.bytes.min(file_bytes),
        };
        pkgs[pi].data_savings += saved;
    }
    for asset in &findings.large_assets {
        if let Some(pi) = pkg_index(&asset.package) {
            pkgs[pi].asset_savings += asset.saves;
        }
    }
    for inline in &findings.inline_assets {
        if let Some(pi) = pkg_index(&inline.package) {
            // The base64 text is 4/3 of the decoded bytes; that text leaves the package.
            pkgs[pi].asset_savings += u64::from(inline.loc.end - inline.loc.start);
        }
    }
}
