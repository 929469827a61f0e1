//! Questions about a finished analysis that the rewriter asks: a data set's value, the shape of
//! a page's options object. They read the trees the analysis already parsed; nothing is read
//! or parsed again.

use swc_common::Spanned;
use swc_ecma_ast::*;
use swc_ecma_visit::{Visit, VisitWith};

use crate::analysis::Analysis;
use crate::files::Parsed;
use crate::findings::{DataSource, Loc, StaticData};
use crate::js::JsFile;
use crate::json_doc::Json;
use crate::literal;

fn script<'a>(analysis: &'a Analysis, path: &str) -> Option<&'a JsFile> {
    let id = *analysis.project.by_path.get(path)?;
    match &analysis.files[id.index()].parsed {
        Parsed::Script(s) => Some(s),
        _ => None,
    }
}

/// The value of a data set, as the app sees it (a JSON file's value, a module's exported
/// literal, a page's `data` literal).
pub fn data_value(analysis: &Analysis, data: &StaticData) -> Option<serde_json::Value> {
    let id = *analysis.project.by_path.get(&data.loc.path)?;
    match (&data.source, &analysis.files[id.index()].parsed) {
        (DataSource::JsonFile, Parsed::Json(j)) => Some(j.to_value()),
        (_, Parsed::Script(js)) => literal_at(js, &data.loc).map(|j| j.to_value()),
        _ => None,
    }
}

/// Whether a module-export data set's literal is the value the module exports (`module.exports =
/// [...]`, `export default {...}`, `const X = [...]; module.exports = X`), so that a consumer
/// reading the import reads the data itself, not a table the module's own code uses.
pub fn is_export_value(analysis: &Analysis, data: &StaticData) -> bool {
    let DataSource::ModuleExport { export } = &data.source else {
        return matches!(data.source, DataSource::JsonFile);
    };
    let Some(js) = script(analysis, &data.loc.path) else {
        return false;
    };
    let Some(e) = js.module.export(export) else {
        return false;
    };
    let same = |s: crate::span::Span| s.start == data.loc.start && s.end == data.loc.end;
    if same(e.span) {
        return true;
    }
    let Some(local) = &e.local else {
        return false;
    };
    literal::top_level_inits(js)
        .get(local)
        .is_some_and(|init| same(js.span(literal::unwrap(init).span())))
}

/// The pure literal whose span is exactly `loc`'s, read as JSON.
fn literal_at(js: &JsFile, loc: &Loc) -> Option<Json> {
    struct Find<'b> {
        js: &'b JsFile,
        range: (usize, usize),
        found: Option<Json>,
        seen: bool,
    }
    impl Visit for Find<'_> {
        fn visit_expr(&mut self, e: &Expr) {
            if self.seen {
                return;
            }
            let s = self.js.span(e.span());
            let (start, end) = (s.start as usize, s.end as usize);
            if (start, end) == self.range {
                self.seen = true;
                self.found = literal::to_json(self.js, e);
                return;
            }
            if start <= self.range.0 && self.range.1 <= end {
                e.visit_children_with(self);
            }
        }
    }
    let mut f = Find {
        js,
        range: (loc.start as usize, loc.end as usize),
        found: None,
        seen: false,
    };
    js.program.visit_with(&mut f);
    f.found
}

/// A method of a page's or component's options object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Method {
    /// Its name (`onLoad`).
    pub name: String,
    /// Byte offset just after the `{` that opens its body.
    pub body_start: usize,
    /// Whether it is `async`.
    pub is_async: bool,
    /// Byte offset where `async ` would go to make it so (the method's key, or the
    /// `function`/arrow of a `key: function () {}` member).
    pub async_at: usize,
}

/// The parts of a `Page({…})` / `Component({…})` options object an edit needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageShape {
    /// `Page` or `Component`.
    pub kind: &'static str,
    /// Byte offset just after the `{` of the options object.
    pub options_start: usize,
    /// The methods (for a component also those under `lifetimes`/`methods`), in order.
    pub methods: Vec<Method>,
}

/// The shape of the first `Page`/`Component` options object in the script at `path`.
pub fn page_shape(analysis: &Analysis, path: &str) -> Option<PageShape> {
    let js = script(analysis, path)?;
    let (kind, obj) = literal::options_objects(js)
        .into_iter()
        .find(|(k, _)| matches!(*k, "Page" | "Component"))?;
    let start = js.span(obj.span).start as usize + 1;
    let mut methods = Vec::new();
    collect_methods(js, obj, &mut methods);
    if kind == "Component" {
        for key in ["lifetimes", "methods"] {
            if let Some(Expr::Object(inner)) = literal::obj_get(obj, key).map(literal::unwrap) {
                collect_methods(js, inner, &mut methods);
            }
        }
    }
    Some(PageShape {
        kind,
        options_start: start,
        methods,
    })
}

fn collect_methods(js: &JsFile, obj: &ObjectLit, out: &mut Vec<Method>) {
    for p in &obj.props {
        let PropOrSpread::Prop(p) = p else { continue };
        let (name, func_body, is_async, async_at) = match &**p {
            Prop::Method(m) => (
                crate::js::syntax::prop_name(&m.key),
                m.function.body.as_ref().map(|b| b.span),
                m.function.is_async,
                m.key.span(),
            ),
            Prop::KeyValue(kv) => match literal::unwrap(&kv.value) {
                Expr::Fn(f) => (
                    crate::js::syntax::prop_name(&kv.key),
                    f.function.body.as_ref().map(|b| b.span),
                    f.function.is_async,
                    f.function.span,
                ),
                Expr::Arrow(a) => (
                    crate::js::syntax::prop_name(&kv.key),
                    match &*a.body {
                        ArrowFunctionBody::FunctionBody(b) => Some(b.span),
                        ArrowFunctionBody::Expr(_) => None,
                    },
                    a.is_async,
                    a.span,
                ),
                _ => continue,
            },
            _ => continue,
        };
        if let (Some(name), Some(body)) = (name, func_body) {
            out.push(Method {
                name,
                body_start: js.span(body).start as usize + 1,
                is_async,
                async_at: js.span(async_at).start as usize,
            });
        }
    }
}
