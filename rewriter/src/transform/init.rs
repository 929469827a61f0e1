//! `wx.cloud.init({ env, traceUser: true })`, added once at the top of the app script.

use super::context::{Cx, import_point};
use crate::changeset::Changeset;
use crate::edit::Edit;

/// Adds `wx.cloud.init({ env, traceUser: true })` at the top of the app script, unless the app
/// already calls `wx.cloud.init`.
pub fn run(cx: &Cx<'_>, out: &mut Changeset) {
    let mp = cx.mp_root();
    let Some(path) = ["app.js", "app.ts"]
        .iter()
        .map(|f| format!("{mp}{f}"))
        .find(|p| cx.text(p).is_some())
    else {
        return;
    };
    let text = cx.text(&path).expect("checked above");
    if text.contains("wx.cloud.init(") || cx.is_generated(text) {
        return;
    }
    let env = match &cx.plan.env {
        Some(e) => format!("env: '{e}', "),
        None => String::new(),
    };
    let at = import_point(text);
    out.edit(
        &path,
        text,
        Edit::insert(
            at,
            format!("wx.cloud.init({{ {env}traceUser: true }});\n"),
            "start cloud development once, before any page loads",
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
