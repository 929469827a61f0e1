//! The analysis pipeline: load every file once ([`files::load`]), build the module graph,
//! collect the asset references while the detectors that need only module resolution run, add
//! the asset edges and reachability, run the other detectors, and merge their findings.

use rayon::prelude::*;

use crate::detectors::{self, Context, Stage};
use crate::diagnostic::Diagnostic;
use crate::files::{self, FileData};
use crate::findings::Findings;
use crate::graph::ModuleGraph;
use crate::options::Options;
use crate::pool::pool;
use crate::project::Project;
use crate::refs;

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
    let (files, load_diags) = files::load(&project);
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
    let no_refs = refs::Collected::default();
    let (asset_refs, early) = rayon::join(
        || refs::collect(&project, &files, &graph.resolver),
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
