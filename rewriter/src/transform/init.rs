//! `wx.cloud.init({ env, traceUser: true })`, added once at the top of the app script and of
//! the pages of independent subpackages; `cloudfunctionRoot` in `project.config.json`.

use analyzer::findings::CloudApi;

use super::context::{Cx, import_point};
use crate::changeset::Changeset;
use crate::edit::Edit;

/// Whether a script whose path `at` accepts already calls `wx.cloud.init` (the analysis's
/// `cloud-use` findings: calls in the syntax tree, through an alias too, not text).
fn inits(cx: &Cx<'_>, at: impl Fn(&str) -> bool) -> bool {
    cx.analysis
        .findings
        .cloud_uses
        .iter()
        .any(|u| u.api == CloudApi::Init && at(&u.loc.path))
}

/// The script of `stem` (`<mp>app`, a page): its `.js`, else its `.ts`.
fn script_of(cx: &Cx<'_>, stem: &str) -> Option<String> {
    ["js", "ts"]
        .iter()
        .map(|ext| format!("{stem}.{ext}"))
        .find(|p| cx.text(p).is_some())
}

/// Adds `wx.cloud.init({ env, traceUser: true })` at the top of the app script, unless the app
/// script already calls it (see [`inits`]); then at the top of each page of every independent
/// subpackage the changeset touches.
pub fn run(cx: &Cx<'_>, out: &mut Changeset) {
    let mp = cx.mp_root();
    if let Some(path) = script_of(cx, &format!("{mp}app")) {
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
        if !touched || inits(cx, |f| f.starts_with(&prefix)) {
            continue;
        }
        for page in &p.pages {
            if let Some(path) = script_of(cx, &format!("{mp}{}", page.trim_start_matches('/'))) {
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
    if cx.is_generated(text) || inits(cx, |f| f == path) {
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
