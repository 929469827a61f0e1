//! Questions about a finished analysis that the rewriter asks: a data set's value, the shape of
//! a page's options object. They read the trees the analysis already parsed; nothing is read
//! or parsed again.

use swc_atoms::Atom;
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

/// Whether the script at `path` starts cloud development itself: a call of `init` on
/// `wx.cloud` (also `wx['cloud']`, `Taro.cloud`, `uni.cloud`, or a variable holding one of
/// them, `const cloud = wx.cloud` / `const { cloud } = wx`). Read from the syntax tree, so a
/// commented-out or quoted `wx.cloud.init(` does not count and `wx.cloud.init ({…})` does.
pub fn calls_cloud_init(analysis: &Analysis, path: &str) -> bool {
    let Some(js) = script(analysis, path) else {
        return false;
    };
    let mut v = CloudInit::default();
    js.program.visit_with(&mut v);
    v.found
}

/// Globals whose `cloud` is the cloud development API.
const CLOUD_HOSTS: [&str; 4] = ["wx", "Taro", "uni", "qq"];

#[derive(Default)]
struct CloudInit {
    /// Local names bound to a `cloud` object.
    aliases: Vec<Atom>,
    /// `init` calls on a plain identifier, checked against the aliases at the end.
    on_idents: Vec<Atom>,
    found: bool,
}

/// `wx.cloud`, `wx['cloud']`, `Taro.cloud`, …
fn is_cloud(e: &Expr) -> bool {
    crate::js::syntax::as_member(e).is_some_and(|(obj, prop)| prop == "cloud" && is_host(obj))
}

fn is_host(e: &Expr) -> bool {
    matches!(crate::js::syntax::unwrap_expr(e), Expr::Ident(i) if CLOUD_HOSTS.contains(&&*i.sym))
}

impl Visit for CloudInit {
    fn visit_var_declarator(&mut self, d: &VarDeclarator) {
        if let Some(init) = &d.init {
            match &d.name {
                Pat::Ident(b) if is_cloud(init) => self.aliases.push(b.id.sym.clone()),
                Pat::Object(o) if is_host(init) => {
                    for p in &o.props {
                        match p {
                            ObjectPatProp::Assign(a) if a.key.sym == "cloud" => {
                                self.aliases.push(a.key.sym.clone())
                            }
                            ObjectPatProp::KeyValue(kv)
                                if crate::js::syntax::prop_is(&kv.key, "cloud") =>
                            {
                                if let Pat::Ident(b) = &*kv.value {
                                    self.aliases.push(b.id.sym.clone());
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        d.visit_children_with(self);
    }

    fn visit_call_expr(&mut self, c: &CallExpr) {
        if let Callee::Expr(callee) = &c.callee
            && let Some((obj, prop)) = crate::js::syntax::as_member(callee)
            && prop == "init"
        {
            match crate::js::syntax::unwrap_expr(obj) {
                Expr::Ident(i) => self.on_idents.push(i.sym.clone()),
                obj if is_cloud(obj) => self.found = true,
                _ => {}
            }
        }
        c.visit_children_with(self);
    }

    fn visit_program(&mut self, p: &Program) {
        p.visit_children_with(self);
        if self.on_idents.iter().any(|i| self.aliases.contains(i)) {
            self.found = true;
        }
    }
}
