//! What every transform reads ([`Cx`]: the analysis and the plan) and the edits they share:
//! where the client runtime goes, the import line that brings it in.

use analyzer::Analysis;
use analyzer::files::Parsed;
use analyzer::js::JsFile;

use crate::edit::Edit;
use crate::plan::Plan;

pub use analyzer::files::GENERATED_MARK;

/// What the transforms read.
pub struct Cx<'a> {
    /// The analysis of the project as it is.
    pub analysis: &'a Analysis,
    /// The plan being carried out.
    pub plan: &'a Plan,
}

impl<'a> Cx<'a> {
    /// The analyzed text of a project-relative path.
    pub fn text(&self, path: &str) -> Option<&'a str> {
        let id = *self.analysis.project.by_path.get(path)?;
        let t = self.analysis.files[id.index()].text.as_ref()?;
        // A file with bytes that are not UTF-8 is not rewritten: its offsets would not hold.
        if t.first_invalid.is_some() {
            return None;
        }
        Some(t.text.as_str())
    }

    /// Whether a project-relative path exists on disk.
    pub fn exists(&self, path: &str) -> bool {
        self.analysis.project.root.join(path).exists()
    }

    /// Whether a text is one of the files `apply` generated.
    pub fn is_generated(&self, text: &str) -> bool {
        text.starts_with(GENERATED_MARK)
    }

    /// The parsed script at `path`: a script of the package, or a framework's source (a `.vue`
    /// file's `<script>` at its offsets, a `.tsx` page).
    pub fn script(&self, path: &str) -> Option<&'a JsFile> {
        let id = *self.analysis.project.by_path.get(path)?;
        match &self.analysis.files[id.index()].parsed {
            Parsed::Script(js) | Parsed::Source(js) => Some(js),
            _ => None,
        }
    }

    /// Whether the script at `path` is an ES module (or TypeScript, or a Vue component's
    /// script, which import).
    pub fn is_module(&self, path: &str) -> bool {
        if [".ts", ".tsx", ".vue"].iter().any(|e| path.ends_with(e)) {
            return true;
        }
        self.script(path).is_some_and(|js| js.program.is_module())
    }

    /// The cloud function root, with a trailing `/` (`cloudfunctions/` when the project has
    /// none yet).
    pub fn cloudfunction_root(&self) -> String {
        let r = self
            .analysis
            .project
            .cloudfunction_root
            .clone()
            .unwrap_or_else(|| "cloudfunctions/".to_string());
        if r.ends_with('/') { r } else { format!("{r}/") }
    }

    /// The mini-program root, with a trailing `/` (empty when it is the project folder).
    pub fn mp_root(&self) -> String {
        let r = self.analysis.project.mp_root.trim_matches('/');
        if r.is_empty() {
            String::new()
        } else {
            format!("{r}/")
        }
    }
}

/// Where a moved call's API is written, and what it becomes there.
pub struct Site {
    /// The file the callee is written in (the script in the package, or for a framework's
    /// build the source it was built from).
    pub path: String,
    /// Start of the callee (`wx.request` of `wx.request({…})`).
    pub start: usize,
    /// End of the callee (its type arguments and argument list stay).
    pub end: usize,
    /// The API as written, for messages (`wx.request`, `uni.request`).
    pub api: String,
    /// The replacement (`cloudRequest`).
    pub name: &'static str,
    /// Why the rewrite needs review, when it does.
    pub review: Option<String>,
}

/// Where the client runtime goes for a file at `path`: `<mp root>/migrate`, or the
/// `migrate` folder of the independent subpackage the file is in (an independent subpackage
/// cannot require main-package files).
pub fn runtime_dir(cx: &Cx<'_>, path: &str) -> String {
    let mp = cx.mp_root();
    let inner = path.strip_prefix(&mp).unwrap_or(path);
    for p in &cx.analysis.project.packages {
        if p.independent {
            let root = p.root.trim_matches('/');
            if !root.is_empty() && inner.starts_with(&format!("{root}/")) {
                return format!("{mp}{root}/migrate");
            }
        }
    }
    format!("{mp}migrate")
}

/// `../../migrate/x.js` from the folder of `from` (both project-relative).
pub fn relative(from: &str, to: &str) -> String {
    let from_dir: Vec<&str> =
        from.split('/').collect::<Vec<_>>()[..from.split('/').count() - 1].to_vec();
    let to_parts: Vec<&str> = to.split('/').collect();
    let common = from_dir
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let ups = from_dir.len() - common;
    let mut out = if ups == 0 {
        "./".to_string()
    } else {
        "../".repeat(ups)
    };
    out.push_str(&to_parts[common..].join("/"));
    out
}

/// Where an import goes: after a leading `'use strict'` directive (a statement before it would
/// end it being a directive), else at the top; in a Vue component, the same at the top of its
/// first `<script>`.
pub(crate) fn import_point_in(path: &str, text: &str) -> usize {
    if !path.ends_with(".vue") {
        return import_point(text);
    }
    let Some(block) = analyzer::js::vue::script_blocks(text).into_iter().next() else {
        return import_point(text);
    };
    let script = &text[block.start..block.end];
    // The line after `<script>`, where the script's own first line starts.
    let start = block.start + usize::from(script.starts_with('\n'));
    let start = start + usize::from(script.starts_with("\r\n")) * 2;
    start + import_point(&text[start..block.end])
}

/// Where an import goes in a script: after a leading `'use strict'` directive (a statement
/// before it would end it being a directive), else at the top.
pub(crate) fn import_point(text: &str) -> usize {
    let body = text.strip_prefix('\u{feff}').map_or(0, |_| 3);
    let rest = &text[body..];
    for quote in ["'use strict'", "\"use strict\""] {
        if let Some(r) = rest.strip_prefix(quote) {
            let after = body + quote.len();
            let semi = usize::from(r.starts_with(';'));
            let end = after + semi;
            return text[end..].find('\n').map_or(text.len(), |n| end + n + 1);
        }
    }
    body
}

/// The edit that makes `name` from `<runtime>/<file>` available in the script at `path`.
pub fn import_edit(
    cx: &Cx<'_>,
    path: &str,
    text: &str,
    runtime: &str,
    file: &str,
    name: &str,
) -> Edit {
    let target = relative(path, &format!("{runtime}/{file}"));
    let line = if cx.is_module(path) {
        let spec = target.trim_end_matches(".js");
        format!("import {{ {name} }} from '{spec}';\n")
    } else {
        format!("const {{ {name} }} = require('{target}');\n")
    };
    let at = import_point_in(path, text);
    let line = if at > 0 && !text[..at].ends_with('\n') {
        format!("\n{line}")
    } else {
        line
    };
    Edit::insert(
        at,
        line,
        format!("import {name} from the generated runtime"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative("mp/utils/request.js", "mp/migrate/cloud-request.js"),
            "../migrate/cloud-request.js"
        );
        assert_eq!(relative("mp/app.js", "mp/migrate/x.js"), "./migrate/x.js");
        assert_eq!(
            relative("mp/a/b/c.js", "mp/a/migrate/x.js"),
            "../migrate/x.js"
        );
        assert_eq!(relative("app.js", "migrate/x.js"), "./migrate/x.js");
    }

    #[test]
    fn imports_go_after_use_strict() {
        assert_eq!(import_point("'use strict';\nconst a = 1;\n"), 14);
        assert_eq!(import_point("\"use strict\"\nx()"), 13);
        assert_eq!(import_point("// hi\nx()"), 0);
    }
}
