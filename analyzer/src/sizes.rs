//! Package accounting: bytes per package against the limits, the largest files, bytes by kind,
//! unused files, and the size each package would have after the proposed moves.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;

use crate::analysis::Analysis;
use crate::findings::{Count, Findings, Kind, Level, Loc, Moves, Place, Visit};
use crate::graph::ModuleGraph;
use crate::kinds::human_bytes;
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
    pub possibly_required_by: Option<Loc>,
}

/// A size verdict: a package, or all packages together, over its limit. Made from the
/// [`SizeReport`] for the reports (it is not a list of its own in the JSON report).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OverLimit {
    /// The package's name; `None` for all packages together.
    pub package: Option<String>,
    /// Bytes the uploader takes.
    pub bytes: u64,
    /// The limit it is over.
    pub limit: u64,
    /// Its size after the proposed moves.
    pub after_moves: u64,
    /// Project-relative path of app.json, which lists the packages.
    pub app_json: String,
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
    /// The packages over their limit, then all packages together when they are.
    pub fn over_limit(&self, app_json: &str) -> Vec<OverLimit> {
        let packages = self
            .packages
            .iter()
            .filter(|p| p.over_limit)
            .map(|p| OverLimit {
                package: Some(p.name.clone()),
                bytes: p.bytes,
                limit: p.limit,
                after_moves: p.after_moves,
                app_json: app_json.to_string(),
            });
        let total = self.total_over_limit.then(|| OverLimit {
            package: None,
            bytes: self.total_bytes,
            limit: self.total_limit,
            after_moves: self.total_after_moves,
            app_json: app_json.to_string(),
        });
        packages.chain(total).collect()
    }

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
        // With DevTools' "filter files nothing depends on" (`ignoreUploadUnusedFiles`), the
        // uploader leaves the unused files out: they do not count toward the package, and
        // moving them saves nothing.
        let dropped = project.settings.ignore_upload_unused_files;
        let dropped_paths: std::collections::HashSet<&str> = if dropped {
            unused
                .iter()
                .map(|&id| project.file(id).path.as_str())
                .collect()
        } else {
            Default::default()
        };
        apply_savings(&a.findings, project, &dropped_paths, &mut pkgs);
        let dynamic = dynamic_require_targets(a);
        let mut unused_list = Vec::new();
        let mut unused_total = 0;
        for id in unused {
            let f = project.file(id);
            let pi = f.package.unwrap_or(0);
            pkgs[pi].unused_bytes += f.bytes;
            unused_total += f.bytes;
            if dropped && f.uploaded {
                let p = &mut pkgs[pi];
                p.bytes = p.bytes.saturating_sub(f.bytes);
                p.files = p.files.saturating_sub(1);
                if let Some(k) = p.by_kind.get_mut(&f.kind) {
                    *k = k.saturating_sub(f.bytes);
                }
                p.largest.retain(|l| l.path != f.path);
            }
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

/// Adds what each proposed move saves to its package, as each kind of finding declares it.
fn apply_savings(
    findings: &Findings,
    project: &Project,
    dropped: &std::collections::HashSet<&str>,
    pkgs: &mut [PackageSize],
) {
    struct Savings<'a> {
        project: &'a Project,
        dropped: &'a std::collections::HashSet<&'a str>,
        pkgs: &'a mut [PackageSize],
    }
    impl Visit for Savings<'_> {
        fn kind<K: Kind>(&mut self, items: &[K]) {
            for item in items {
                let Some(s) = item.saves(self.project) else {
                    continue;
                };
                if self.dropped.contains(s.file) {
                    continue;
                }
                let Some(p) = self.pkgs.iter_mut().find(|p| p.name == s.package) else {
                    continue;
                };
                match s.to {
                    Moves::ToDatabase => p.data_savings += s.bytes,
                    Moves::ToStorage => p.asset_savings += s.bytes,
                }
            }
        }
    }
    findings.view().each(&mut Savings {
        project,
        dropped,
        pkgs,
    });
}

impl Kind for UnusedFile {
    const RULE: &'static str = "unused-file";
    const TITLE: &'static str = "File nothing references";
    const HELP: &'static str =
        "Delete it, or set setting.ignoreUploadUnusedFiles so the uploader leaves it out.";
    const LEVEL: Level = Level::Note;
    const NOUN: &'static str = "unused files";
    const FAIL_ON: Option<&'static str> = Some("unused");
    const COUNTS: &'static [Count<Self>] = &[Count {
        key: "unusedFiles",
        what: ["unused file", "unused files"],
        of: |u| u.len() as u64,
    }];

    fn id(&self) -> Cow<'_, str> {
        Cow::Owned(format!("unused:{}", self.path))
    }

    fn message(&self) -> String {
        match &self.possibly_required_by {
            Some(l) => format!(
                "{} ({}) is uploaded in package `{}` and no literal path refers to it, but the \
                 computed require at {}:{} may load it",
                self.path,
                human_bytes(self.bytes),
                self.package,
                l.path,
                l.line
            ),
            None => format!(
                "{} ({}) is uploaded in package `{}`, but nothing the app loads refers to it",
                self.path,
                human_bytes(self.bytes),
                self.package
            ),
        }
    }

    fn help(&self) -> String {
        match &self.possibly_required_by {
            Some(_) => "Check what that require can load before deleting the file.".to_string(),
            None => format!(
                "Delete it, or set setting.ignoreUploadUnusedFiles in project.config.json so the \
                 uploader leaves it out; the package shrinks by {}.",
                human_bytes(self.bytes)
            ),
        }
    }

    fn label(&self) -> Option<String> {
        Some("may load it".to_string())
    }

    fn places(&self) -> Vec<Place<'_>> {
        std::iter::once(Place::File(&self.path))
            .chain(self.possibly_required_by.iter().map(Place::At))
            .collect()
    }
}

impl Kind for OverLimit {
    const RULE: &'static str = "package-size";
    const TITLE: &'static str = "Package over the size limit";
    const HELP: &'static str =
        "Move data and assets to the cloud, or split pages into subpackages.";
    const LEVEL: Level = Level::Error;
    const NOUN: &'static str = "packages over the limit";
    const FAIL_ON: Option<&'static str> = Some("over-limit");
    /// A size verdict, not a finding: `--fail-on over-limit` asks for it by name.
    const IN_ANY: bool = false;
    const COUNTS: &'static [Count<Self>] = &[
        Count {
            key: "packagesOverLimit",
            what: ["package over its limit", "packages over their limit"],
            of: |o| o.iter().filter(|o| o.package.is_some()).count() as u64,
        },
        Count {
            key: "packagesOverLimitAfterMoves",
            what: [
                "still over after the proposed moves",
                "still over after the proposed moves",
            ],
            of: |o| {
                o.iter()
                    .filter(|o| o.package.is_some() && o.after_moves > o.limit)
                    .count() as u64
            },
        },
    ];

    fn id(&self) -> Cow<'_, str> {
        Cow::Owned(format!(
            "size:{}",
            self.package.as_deref().unwrap_or("all packages")
        ))
    }

    fn message(&self) -> String {
        let what = match &self.package {
            Some(p) => format!("package `{p}` is"),
            None => "all packages together are".to_string(),
        };
        format!(
            "{what} {}, over the {} limit, so the mini-program cannot be uploaded",
            human_bytes(self.bytes),
            human_bytes(self.limit)
        )
    }

    fn help(&self) -> String {
        if self.after_moves <= self.limit {
            format!(
                "Move the static data and large assets found in it to the cloud: that brings it to \
                 {}, under the limit.",
                human_bytes(self.after_moves)
            )
        } else {
            format!(
                "Even after the proposed moves it would be {}: split pages into subpackages as well.",
                human_bytes(self.after_moves)
            )
        }
    }

    fn places(&self) -> Vec<Place<'_>> {
        vec![Place::File(&self.app_json)]
    }
}
