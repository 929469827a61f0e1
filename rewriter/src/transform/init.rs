//! `wx.cloud.init({ env, traceUser: true })`, added once at the top of the app script and of
//! the pages of independent subpackages; `cloudfunctionRoot` in `project.config.json`.

use super::context::{Cx, import_point};
use crate::changeset::Changeset;
use crate::edit::Edit;

/// Adds `wx.cloud.init({ env, traceUser: true })` at the top of the app script, unless the app
/// script already calls it (a call in the syntax tree, not the text: see
/// [`analyzer::query::calls_cloud_init`]); then at the top of each page of every independent
/// subpackage the changeset touches.
pub fn run(cx: &Cx<'_>, out: &mut Changeset) {
    let mp = cx.mp_root();
    if let Some(path) = ["app.js", "app.ts"]
        .iter()
        .map(|f| format!("{mp}{f}"))
        .find(|p| cx.text(p).is_some())
    {
        insert_init(
            cx,
            out,
            &path,
            "start cloud development once, before any page loads",
        );
    }
    independent_subpackages(cx, out);
}

/// An independent subpackage runs without the main package (its pages can open first, from a
/// share or a scan, before `app.js` has run), so each of its pages starts cloud development
/// itself when anything in it now uses the cloud. A subpackage whose own scripts already call
/// `wx.cloud.init` somewhere is left as it is.
fn independent_subpackages(cx: &Cx<'_>, out: &mut Changeset) {
    let mp = cx.mp_root();
    for p in &cx.analysis.project.packages {
        let root = p.root.trim_matches('/');
        if !p.independent || root.is_empty() {
            continue;
        }
        let prefix = format!("{mp}{root}/");
        let touched = out.files.keys().any(|f| f.starts_with(&prefix))
            || out.created.iter().any(|n| n.path.starts_with(&prefix));
        let inits_already =
            cx.analysis.project.by_path.keys().any(|f| {
                f.starts_with(&prefix) && analyzer::query::calls_cloud_init(cx.analysis, f)
            });
        if !touched || inits_already {
            continue;
        }
        for page in &p.pages {
            let page = page.trim_start_matches('/');
            if let Some(path) = ["js", "ts"]
                .iter()
                .map(|ext| format!("{mp}{page}.{ext}"))
                .find(|path| cx.text(path).is_some())
            {
                insert_init(
                    cx,
                    out,
                    &path,
                    "an independent subpackage's page may open before app.js runs: start cloud development here too",
                );
            }
        }
    }
}

/// `wx.cloud.init({ env, traceUser: true });` at the top of the script at `path` (after its
/// imports and `'use strict'`), unless it calls it already or is generated.
fn insert_init(cx: &Cx<'_>, out: &mut Changeset, path: &str, reason: &str) {
    let Some(text) = cx.text(path) else { return };
    if cx.is_generated(text) || analyzer::query::calls_cloud_init(cx.analysis, path) {
        return;
    }
    let env = match &cx.plan.env {
        Some(e) => format!("env: '{e}', "),
        None => String::new(),
    };
    out.edit(
        path,
        text,
        Edit::insert(
            import_point(text),
            format!("wx.cloud.init({{ {env}traceUser: true }});\n"),
            reason,
        ),
    );
}

/// Adds `"cloudfunctionRoot": "cloudfunctions/"` to `project.config.json` when the project has
/// no cloud function root yet and the changeset writes functions there (DevTools finds them by
/// it).
pub fn cloudfunction_root(cx: &Cx<'_>, out: &mut Changeset) {
    if cx.analysis.project.cloudfunction_root.is_some() {
        return;
    }
    let root = cx.cloudfunction_root();
    if !out.created.iter().any(|n| n.path.starts_with(&root)) {
        return;
    }
    let path = "project.config.json";
    // The analysis reads the mini-program's own files; the project config is read here, once.
    let Ok(text) = std::fs::read_to_string(cx.analysis.project.root.join(path)) else {
        return;
    };
    let Some(open) = text.find('{') else { return };
    let indent = text[open + 1..]
        .lines()
        .find(|l| !l.trim().is_empty())
        .map(|l| {
            l.chars()
                .take_while(|c| c.is_whitespace())
                .collect::<String>()
        })
        .unwrap_or_else(|| "  ".into());
    out.edit(
        path,
        &text,
        Edit::insert(
            open + 1,
            format!("\n{indent}\"cloudfunctionRoot\": \"{root}\","),
            "DevTools finds the generated cloud functions here",
        ),
    );
}
