//! Static data bundled in the package (issue §4): JSON data files that are not config, JS/TS
//! modules whose exports are large pure literals, and large literals inline in
//! `Page`/`Component` `data`. Each gets its size, record count, shape, a proposed collection
//! name and every consumer with how it uses the data.
//!
//! Rules (thresholds from [`crate::Options::data_threshold`], default 4 KB):
//! - A JSON file is data unless it is config: `app.json`, a page/component JSON (a `.wxml`,
//!   `.js` or `.ts` of the same name sits beside it), the sitemap, the theme, `ext.json`,
//!   `project*.config.json`, `package.json`, `package-lock.json`, `tsconfig.json`,
//!   `jsconfig.json`, dot-files, IDE metadata (`*.ib.json`), or anything in `miniprogram_npm`.
//! - A JS/TS module counts when at least half of its bytes are top-level pure literals and
//!   those literals add up to the threshold; each exported literal of at least a quarter of the
//!   threshold is reported. An exported object literal that is not pure as a whole (e.g.
//!   `module.exports = { cities, lines }`) is split into its members.
//! - A `Page`/`Component` `data` member whose value (directly or through a top-level `const`)
//!   is a pure literal of at least the threshold.
//!
//! Shapes and names: see [`shape`].

mod consumers;
mod shape;

use std::collections::HashMap;

use rayon::prelude::*;

use swc_ecma_ast::*;

use super::context::{Context, Detector, Stage};
use crate::files::Parsed;
use crate::findings::{DataConsumer, DataSource, DataUsage, Findings, StaticData};
use crate::js::{ImportKind, Imported, JsFile};
use crate::json_doc::Json;
use crate::literal::{self, obj_get, prop_name, through_const, top_level_inits, unwrap};
use crate::source::FileKind;
use crate::span::{FileId, Span};
use shape::Node;

pub(crate) struct StaticDataDetector;

/// A data value: read in place, or converted (literals found inside wrapped modules).
enum Value<'a> {
    Node(Node<'a>),
    Owned(Json),
}

impl Value<'_> {
    fn node(&self) -> Node<'_> {
        match self {
            Value::Node(n) => *n,
            Value::Owned(j) => Node::Json(j),
        }
    }
}

/// One piece of data before consumers are attached.
struct Item<'a> {
    file: FileId,
    source: DataSource,
    /// Export names that reach it (`default` for `module.exports`/`export default`).
    exports: Vec<String>,
    value: Value<'a>,
    name: String,
    id: String,
}

impl Detector for StaticDataDetector {
    fn name(&self) -> &'static str {
        "static-data"
    }

    fn stage(&self) -> Stage {
        Stage::Modules
    }

    fn run(&self, cx: &Context<'_>, out: &mut Findings) {
        let mut items = json_items(cx);
        items.extend(module_items(cx));
        items.extend(page_items(cx));
        // Code and build metadata written as literals are not the app's configuration data.
        items.retain(|i| shape::not_data(i.value.node()).is_none());
        let mut consumers = vec![Vec::new(); items.len()];
        import_consumers(cx, &items, &mut consumers);
        page_data_consumers(cx, &items, &mut consumers);
        let mut used_names: HashMap<String, usize> = HashMap::new();
        let mut found: Vec<StaticData> = items
            .into_par_iter()
            .zip(consumers)
            .map(|(item, mut consumers)| {
                let node = item.value.node();
                let (shape, records) = shape::shape(node);
                let (start, end) = node.range();
                let span = Span::new(item.file, start as usize, end as usize);
                let bytes = match item.source {
                    DataSource::JsonFile => cx.project.file(item.file).bytes,
                    _ => u64::from(end - start),
                };
                consumers.sort_by(|a: &DataConsumer, b: &DataConsumer| {
                    (&a.loc, &a.used_at).cmp(&(&b.loc, &b.used_at))
                });
                consumers
                    .dedup_by(|a, b| a.loc == b.loc && a.used_at == b.used_at && a.via == b.via);
                let loc = cx.loc(span);
                // Data found in a framework's chunk (`common/vendor.js`) is named after the
                // source module it was built from (`common/regions.js` → `regions`).
                let chunk = shape::file_stem_name(&cx.project.file(item.file).path);
                let collection = match loc.source.as_deref() {
                    Some(src) if item.name == chunk => shape::file_stem_name(&src.path),
                    _ => item.name,
                };
                StaticData {
                    id: item.id,
                    source: item.source,
                    loc,
                    package: cx.package_name(item.file),
                    bytes,
                    records,
                    nested: shape::nested(node, &shape),
                    shape,
                    collection,
                    consumers,
                }
            })
            .collect();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        for d in &mut found {
            let n = used_names.entry(d.collection.clone()).or_insert(0);
            *n += 1;
            if *n > 1 {
                d.collection = format!("{}_{}", d.collection, n);
            }
        }
        out.static_data.extend(found);
    }
}

fn is_config_json(cx: &Context<'_>, mp: &str) -> bool {
    let name = mp.rsplit('/').next().unwrap_or(mp);
    let base = mp.strip_suffix(".json").unwrap_or(mp);
    let app = &cx.project.app;
    matches!(
        name,
        "package.json"
            | "package-lock.json"
            | "tsconfig.json"
            | "jsconfig.json"
            | "project.config.json"
            | "project.private.config.json"
    ) || matches!(mp, "app.json" | "sitemap.json" | "ext.json" | "theme.json")
        || name.starts_with('.')
        || name.ends_with(".ib.json")
        || in_npm(mp)
        || app.sitemap_location.as_deref() == Some(mp)
        || app.theme_location.as_deref() == Some(mp)
        || [".wxml", ".js", ".ts"]
            .iter()
            .any(|e| cx.project.mp_file(&format!("{base}{e}")).is_some())
}

fn json_items<'a>(cx: &Context<'a>) -> Vec<Item<'a>> {
    let mut out = Vec::new();
    for (i, f) in cx.files.iter().enumerate() {
        let id = FileId(i as u32);
        let sf = cx.project.file(id);
        let (Parsed::Json(json), Some(mp)) = (&f.parsed, &sf.mp_path) else {
            continue;
        };
        if sf.bytes < cx.options.data_threshold || is_config_json(cx, mp) {
            continue;
        }
        out.push(Item {
            file: id,
            source: DataSource::JsonFile,
            exports: vec!["default".into()],
            value: Value::Node(Node::Json(json)),
            name: shape::file_stem_name(mp),
            id: sf.path.clone(),
        });
    }
    out
}

fn in_npm(mp: &str) -> bool {
    mp.starts_with("miniprogram_npm/") || mp.contains("/miniprogram_npm/")
}

/// The exported values of a module: (export name, value expression), through top-level consts.
fn export_values<'a>(js: &'a JsFile) -> Vec<(String, &'a Expr)> {
    let inits = top_level_inits(js);
    let mut raw: Vec<(String, &'a Expr)> = Vec::new();
    let stmt = |s: &'a Stmt, raw: &mut Vec<(String, &'a Expr)>| {
        let Stmt::Expr(e) = s else { return };
        let Expr::Assign(a) = unwrap(&e.expr) else {
            return;
        };
        if a.op != AssignOp::Assign {
            return;
        }
        let AssignTarget::Simple(SimpleAssignTarget::Member(t)) = &a.left else {
            return;
        };
        let global =
            |e: &Expr, n: &str| matches!(unwrap(e), Expr::Ident(i) if js.is_global_named(i, n));
        let prop = match &t.prop {
            MemberProp::Ident(p) => p.sym.to_string(),
            _ => return,
        };
        if global(&t.obj, "module") && prop == "exports" {
            raw.push(("default".into(), &a.right));
        } else if global(&t.obj, "exports")
            || matches!(unwrap(&t.obj), Expr::Member(m) if global(&m.obj, "module")
                && matches!(&m.prop, MemberProp::Ident(p) if p.sym == *"exports"))
        {
            raw.push((prop, &a.right));
        }
    };
    match &js.program {
        Program::Module(m) => {
            for item in &m.body {
                match item {
                    ModuleItem::Stmt(s) => stmt(s, &mut raw),
                    ModuleItem::ModuleDecl(ModuleDecl::ExportDecl(ExportDecl {
                        decl: Decl::Var(v),
                        ..
                    })) => {
                        for d in &v.decls {
                            if let (Pat::Ident(b), Some(init)) = (&d.name, &d.init) {
                                raw.push((b.id.sym.to_string(), init));
                            }
                        }
                    }
                    ModuleItem::ModuleDecl(ModuleDecl::ExportDefaultExpr(d)) => {
                        raw.push(("default".into(), &d.expr));
                    }
                    ModuleItem::ModuleDecl(ModuleDecl::ExportNamed(n)) if n.src.is_none() => {
                        for s in &n.specifiers {
                            if let ExportSpecifier::Named(ns) = s
                                && let ModuleExportName::Ident(orig) = &ns.orig
                                && let Some(init) = inits.get(&(orig.sym.clone(), orig.ctxt))
                            {
                                let name = match &ns.exported {
                                    Some(ModuleExportName::Ident(i)) => i.sym.to_string(),
                                    Some(ModuleExportName::Str(s)) => {
                                        s.value.to_string_lossy().into_owned()
                                    }
                                    None => orig.sym.to_string(),
                                };
                                raw.push((name, init));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        Program::Script(s) => {
            for st in &s.body {
                stmt(st, &mut raw);
            }
        }
    }
    let mut out = Vec::new();
    for (name, e) in raw {
        let e = through_const(&inits, e);
        // `module.exports = { cities, lines }`: split an impure default object into members.
        if name == "default"
            && let Expr::Object(o) = e
            && !literal::is_pure(e)
        {
            for p in &o.props {
                let PropOrSpread::Prop(p) = p else { continue };
                match &**p {
                    Prop::KeyValue(kv) => {
                        if let Some(k) = prop_name(&kv.key) {
                            out.push((k, through_const(&inits, &kv.value)));
                        }
                    }
                    Prop::Shorthand(id) => {
                        if let Some(init) = inits.get(&(id.sym.clone(), id.ctxt)) {
                            out.push((id.sym.to_string(), unwrap(init)));
                        }
                    }
                    _ => {}
                }
            }
            continue;
        }
        out.push((name, e));
    }
    out
}

/// The names a module exports (`export function a`, `exports.b =`, the keys of
/// `module.exports = { c, d }`; `default` for another default export).
fn exported_names(js: &JsFile) -> Vec<String> {
    let m = &js.module;
    let mut names: Vec<String> = m
        .exports
        .iter()
        .filter(|e| e.name != "default")
        .map(|e| e.name.clone())
        .collect();
    names.extend(m.object_members.iter().map(|(k, _)| k.clone()));
    if m.object_members.is_empty() && m.exports.iter().any(|e| e.name == "default") {
        names.push("default".into());
    }
    names
}

fn module_items<'a>(cx: &Context<'a>) -> Vec<Item<'a>> {
    (0..cx.files.len())
        .into_par_iter()
        .flat_map_iter(|i| module_items_in(cx, i))
        .collect()
}

fn module_items_in<'a>(cx: &Context<'a>, index: usize) -> Vec<Item<'a>> {
    let threshold = cx.options.data_threshold;
    let mut out = Vec::new();
    for (i, f) in std::iter::once((index, &cx.files[index])) {
        let id = FileId(i as u32);
        let sf = cx.project.file(id);
        let (Parsed::Script(js), Some(mp), Some(text)) = (&f.parsed, &sf.mp_path, &f.text) else {
            continue;
        };
        if !matches!(sf.kind, FileKind::Js | FileKind::Ts)
            || in_npm(mp)
            || crate::files::is_generated(f)
        {
            continue;
        }
        if (text.text.len() as u64) < threshold {
            continue;
        }
        // Candidates: exported pure literals, deduplicated by span. Purity and size are checked
        // first; only the literals that are reported are converted.
        let mut exported: Vec<(Vec<String>, &Expr, Span)> = Vec::new();
        let mut impure: Vec<Span> = Vec::new();
        for (name, e) in export_values(js) {
            let sp = js.span(swc_common::Spanned::span(e));
            if let Some((names, _, _)) = exported.iter_mut().find(|(_, _, s)| *s == sp) {
                names.push(name);
                continue;
            }
            if impure.contains(&sp) {
                continue;
            }
            if literal::is_pure(e) {
                exported.push((vec![name], e, sp));
            } else {
                impure.push(sp);
            }
        }
        // A page or component script with no exported literal proposes nothing (its big
        // literals are page data, reported below): the pure share is not worth measuring.
        let options = literal::options_objects(js);
        if exported.is_empty() && !options.is_empty() {
            continue;
        }
        // Pure share: every top-level pure initializer plus the exported literals.
        let mut spans: Vec<(u32, u32)> =
            exported.iter().map(|(_, _, s)| (s.start, s.end)).collect();
        let inits = top_level_inits(js);
        for init in inits.values() {
            let init = unwrap(init);
            if !matches!(init, Expr::Array(_) | Expr::Object(_)) {
                continue;
            }
            let sp = js.span(swc_common::Spanned::span(init));
            // Exported literals were checked above.
            if !spans.contains(&(sp.start, sp.end)) && literal::is_pure(init) {
                spans.push((sp.start, sp.end));
            }
        }
        spans.sort_unstable();
        spans.dedup();
        let mut pure: u64 = spans.iter().map(|(s, e)| u64::from(e - s)).sum();
        let mut cands: Vec<(Vec<String>, Value<'a>)> = Vec::new();
        if pure >= threshold && pure * 2 >= text.text.len() as u64 {
            for (names, e, sp) in exported {
                if sp.len() as u64 * 4 >= threshold {
                    cands.push((names, Value::Node(Node::Js(js, e))));
                }
            }
        }
        // A module-private table (`const BANKS = [...]` read by the functions the module
        // exports): data the app reaches through those functions, named after the constant.
        let mut private: Vec<(String, &Expr)> = Vec::new();
        if cands.is_empty() && options.is_empty() {
            let names = exported_names(js);
            if !names.is_empty() {
                // The pure top-level literals are the ones measured into `spans` above.
                let mut tables: Vec<(String, &Expr, Span)> = inits
                    .iter()
                    .map(|(b, e)| (b.0.to_string(), unwrap(e)))
                    .map(|(n, e)| (n, e, js.span(swc_common::Spanned::span(e))))
                    .filter(|(n, _, sp)| {
                        !names.contains(n)
                            && sp.len() as u64 * 4 >= threshold
                            && spans.binary_search(&(sp.start, sp.end)).is_ok()
                    })
                    .collect();
                tables.sort_by_key(|(_, _, sp)| sp.start);
                for (n, e, _) in tables {
                    cands.push((names.clone(), Value::Node(Node::Js(js, e))));
                    private.push((n, e));
                }
            }
        }
        // Wrapped modules (UMD, bundler output) keep their data inside a function: fall back
        // to the biggest pure literals anywhere in the file.
        // (Not in page/component scripts: their big literals are page data, reported below.)
        if (cands.is_empty() || pure * 2 < text.text.len() as u64) && options.is_empty() {
            let found = literal::maximal_literals(js, threshold / 4);
            let total: u64 = found.iter().map(Json::len_bytes).sum();
            if total > pure {
                pure = total;
                cands = found
                    .into_iter()
                    .map(|v| (vec!["default".into()], Value::Owned(v)))
                    .collect();
            }
        }
        if cands.is_empty() || pure < threshold || pure * 2 < text.text.len() as u64 {
            continue;
        }
        cands.retain(|(_, v)| {
            let (s, e) = v.node().range();
            u64::from(e - s) * 4 >= threshold
        });
        let single = cands.len() == 1;
        for (names, v) in cands {
            // A private table is named by its constant; it is reached through all the exports.
            let own = private.iter().find(|(_, e)| match v.node() {
                Node::Js(_, x) => std::ptr::eq(*e, x),
                Node::Json(_) => false,
            });
            if let Some((constant, _)) = own {
                out.push(Item {
                    file: id,
                    source: DataSource::ModuleExport {
                        export: constant.clone(),
                    },
                    id: format!("{}#{constant}", sf.path),
                    exports: names,
                    value: v,
                    name: shape::snake_case(constant),
                });
                continue;
            }
            let primary = names
                .iter()
                .find(|n| *n != "default")
                .cloned()
                .unwrap_or_else(|| "default".into());
            let name = if single || primary == "default" {
                shape::file_stem_name(mp)
            } else {
                shape::snake_case(&primary)
            };
            let mut item_id = format!("{}#{}", sf.path, primary);
            if out.iter().any(|i: &Item| i.id == item_id) {
                item_id = format!("{item_id}@{}", v.node().range().0);
            }
            out.push(Item {
                file: id,
                source: DataSource::ModuleExport {
                    export: primary.clone(),
                },
                id: item_id,
                exports: names,
                value: v,
                name,
            });
        }
    }
    out
}

fn page_items<'a>(cx: &Context<'a>) -> Vec<Item<'a>> {
    (0..cx.files.len())
        .into_par_iter()
        .flat_map_iter(|i| page_items_in(cx, i))
        .collect()
}

fn page_items_in<'a>(cx: &Context<'a>, index: usize) -> Vec<Item<'a>> {
    let threshold = cx.options.data_threshold;
    let mut out = Vec::new();
    for (i, f) in std::iter::once((index, &cx.files[index])) {
        let id = FileId(i as u32);
        let sf = cx.project.file(id);
        let (Parsed::Script(js), Some(mp)) = (&f.parsed, &sf.mp_path) else {
            continue;
        };
        if !matches!(sf.kind, FileKind::Js | FileKind::Ts)
            || in_npm(mp)
            || crate::files::is_generated(f)
        {
            continue;
        }
        let inits = top_level_inits(js);
        for (kind, obj) in literal::options_objects(js) {
            if !matches!(kind, "Page" | "Component") {
                continue;
            }
            let Some(Expr::Object(data)) = obj_get(obj, "data") else {
                continue;
            };
            for p in &data.props {
                let PropOrSpread::Prop(p) = p else { continue };
                let (key, value) = match &**p {
                    Prop::KeyValue(kv) => match prop_name(&kv.key) {
                        Some(k) => (k, through_const(&inits, &kv.value)),
                        None => continue,
                    },
                    Prop::Shorthand(i) => match inits.get(&(i.sym.clone(), i.ctxt)) {
                        Some(init) => (i.sym.to_string(), unwrap(init)),
                        None => continue,
                    },
                    _ => continue,
                };
                let size = js.span(swc_common::Spanned::span(value)).len() as u64;
                if size < threshold || !literal::is_pure(value) {
                    continue;
                }
                let v = Value::Node(Node::Js(js, value));
                out.push(Item {
                    file: id,
                    source: DataSource::PageData { key: key.clone() },
                    exports: Vec::new(),
                    id: format!("{}#data.{key}", sf.path),
                    name: shape::snake_case(&key),
                    value: v,
                });
            }
        }
    }
    out
}

fn consumer(
    cx: &Context<'_>,
    import: Span,
    usage: DataUsage,
    at: Option<Span>,
    via: Option<String>,
) -> DataConsumer {
    DataConsumer {
        loc: cx.loc(import),
        usage,
        used_at: at.map(|s| cx.loc(s)),
        via,
        reached_from: Vec::new(),
        through: None,
    }
}

/// A consumer for a use found by [`consumers::find`], with where it is reached from.
fn consumer_at(
    cx: &Context<'_>,
    uses: &consumers::Uses,
    import: Span,
    usage: DataUsage,
    at: Span,
    via: Option<String>,
) -> DataConsumer {
    let mut c = consumer(cx, import, usage, Some(at), via);
    c.reached_from = uses.entry_points(&c.usage);
    c
}

/// Uses of page-data `key` in the WXML beside a page script: `{{key}}`, `{{key.length}}`,
/// `wx:for="{{key}}"`.
fn template_uses(cx: &Context<'_>, script: FileId, key: &str) -> Vec<Span> {
    let Some(mp) = cx.project.file(script).mp_path.as_deref() else {
        return Vec::new();
    };
    let base = mp.rsplit_once('.').map_or(mp, |(b, _)| b);
    let Some(wxml) = cx.project.mp_file(&format!("{base}.wxml")) else {
        return Vec::new();
    };
    let Parsed::Wxml(doc) = &cx.files[wxml.index()].parsed else {
        return Vec::new();
    };
    let mentions = |segs: &[crate::wxml::Segment]| {
        segs.iter()
            .filter_map(|s| match s {
                crate::wxml::Segment::Mustache { expr, span } => {
                    let refs = crate::refs::trace::scan_expr(expr);
                    refs.paths
                        .iter()
                        .any(|p| {
                            p == key
                                || p.strip_prefix(key)
                                    .is_some_and(|r| r.starts_with('.') || r.starts_with('['))
                        })
                        .then_some(*span)
                }
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let mut out = Vec::new();
    for e in &doc.elements {
        for a in &e.attrs {
            if let Some(v) = &a.value {
                out.extend(mentions(&v.segments));
            }
        }
    }
    for t in &doc.texts {
        out.extend(mentions(&t.segments));
    }
    out.sort();
    out
}

/// Consumers of module and JSON data: every file importing the data file, or a barrel that
/// re-exports it, or a helper function of a module that reads it (`bankName(code)` reading
/// `banks`: its callers are consumers too).
fn import_consumers(cx: &Context<'_>, items: &[Item], consumers: &mut [Vec<DataConsumer>]) {
    let mut by_file: HashMap<FileId, Vec<usize>> = HashMap::new();
    for (i, it) in items.iter().enumerate() {
        if !matches!(it.source, DataSource::PageData { .. }) {
            by_file.entry(it.file).or_default().push(i);
        }
    }
    if by_file.is_empty() {
        return;
    }
    let scripts: Vec<&JsFile> = cx.scripts().map(|s| &**s).collect();
    let barrels = barrel_exports(cx, items, &by_file, &scripts, HashMap::new());
    let found: Vec<(usize, DataConsumer)> = scripts
        .par_iter()
        .flat_map_iter(|&js| consumers_in(cx, js, items, &by_file, &barrels, false))
        .collect();
    // The exported functions that read the data: their callers read it through them.
    let helpers = helper_exports(cx, &found);
    let through: Vec<(usize, DataConsumer)> = if helpers.is_empty() {
        Vec::new()
    } else {
        let none = HashMap::new();
        let helpers = barrel_exports(cx, items, &none, &scripts, helpers);
        scripts
            .par_iter()
            .flat_map_iter(|&js| consumers_in(cx, js, items, &none, &helpers, true))
            .filter(|(_, c)| !matches!(c.usage, DataUsage::Reexport))
            .collect()
    };
    for (t, c) in found.into_iter().chain(through) {
        consumers[t].push(c);
    }
}

/// For each module with a function that reads data (a [`DataUsage::Function`] consumer) and
/// exports it: the exported name and the data it reads.
fn helper_exports(
    cx: &Context<'_>,
    found: &[(usize, DataConsumer)],
) -> HashMap<FileId, HashMap<String, Vec<usize>>> {
    let mut out: HashMap<FileId, HashMap<String, Vec<usize>>> = HashMap::new();
    for (t, c) in found {
        let DataUsage::Function { name } = &c.usage else {
            continue;
        };
        let Some(js) = cx
            .project
            .by_path
            .get(&c.loc.path)
            .and_then(|&id| cx.script(id))
        else {
            continue;
        };
        let m = &js.module;
        let names = m
            .exports
            .iter()
            .filter(|e| e.from.is_none() && e.local.as_ref().is_some_and(|b| b.0 == **name))
            .map(|e| e.name.clone())
            .chain(
                m.object_members
                    .iter()
                    .filter(|(_, b)| b.as_ref().is_some_and(|b| b.0 == **name))
                    .map(|(k, _)| k.clone()),
            );
        for n in names {
            let v = out.entry(js.file).or_default().entry(n).or_default();
            if !v.contains(t) {
                v.push(*t);
            }
        }
    }
    out
}

/// The consumers in one script of the data that `by_file` (data files) and `barrels`
/// (modules re-exporting it, or with `helpers`, exporting functions that read it) give.
/// Imports of the data never read are recorded only from its own modules and barrels.
fn consumers_in(
    cx: &Context<'_>,
    js: &JsFile,
    items: &[Item],
    by_file: &HashMap<FileId, Vec<usize>>,
    barrels: &HashMap<FileId, HashMap<String, Vec<usize>>>,
    helpers: bool,
) -> Vec<(usize, DataConsumer)> {
    let unused = !helpers;
    let mut found: Vec<(usize, DataConsumer)> = Vec::new();
    let mut bindings: consumers::Bindings = HashMap::new();
    let mut namespaces: consumers::Namespaces = HashMap::new();
    // The locals bound through a barrel or helper, with what they go through.
    let mut through: HashMap<crate::js::BindingId, String> = HashMap::new();
    let mut requires: HashMap<Span, Vec<usize>> = HashMap::new();
    for imp in &js.module.imports {
        let Some(to) = cx.resolve(js.file, &imp.specifier) else {
            continue;
        };
        let Some(targets) = by_file.get(&to) else {
            // A barrel: each name it re-exports is the data it names.
            let Some(names) = barrels.get(&to) else {
                continue;
            };
            if imp.kind == ImportKind::Reexport {
                for t in consumers::all_data(names) {
                    found.push((t, consumer(cx, imp.span, DataUsage::Reexport, None, None)));
                }
                continue;
            }
            for b in &imp.bindings {
                let path = &cx.project.file(to).path;
                let name = match &b.imported {
                    Imported::Named(n) => n.as_str(),
                    Imported::Default => "default",
                    // The whole barrel: its members are followed by name.
                    Imported::Whole => {
                        namespaces.insert(b.local.clone(), (imp.span, names.clone()));
                        through.insert(b.local.clone(), path.clone());
                        continue;
                    }
                };
                if let Some(t) = names.get(name) {
                    bindings.insert(b.local.clone(), (imp.span, t.clone()));
                    through.insert(
                        b.local.clone(),
                        if helpers {
                            format!("`{name}` of {path}")
                        } else {
                            path.clone()
                        },
                    );
                }
            }
            continue;
        };
        if imp.kind == ImportKind::Reexport {
            for &t in targets {
                found.push((t, consumer(cx, imp.span, DataUsage::Reexport, None, None)));
            }
            continue;
        }
        if imp.bindings.is_empty() {
            requires.insert(imp.span, targets.clone());
            continue;
        }
        for b in &imp.bindings {
            let matched: Vec<usize> = targets
                .iter()
                .copied()
                .filter(|&t| match &b.imported {
                    Imported::Whole => true,
                    Imported::Default => {
                        items[t].exports.iter().any(|e| e == "default")
                            || matches!(items[t].source, DataSource::JsonFile)
                    }
                    Imported::Named(n) => {
                        items[t].exports.iter().any(|e| e == n)
                            || matches!(items[t].source, DataSource::JsonFile)
                    }
                })
                .collect();
            if !matched.is_empty() {
                bindings.insert(b.local.clone(), (imp.span, matched));
            }
        }
    }
    if bindings.is_empty() && namespaces.is_empty() && requires.is_empty() {
        return found;
    }
    let uses = consumers::find(js, &bindings, &namespaces, &requires);
    let mut used = std::collections::HashSet::new();
    for u in &uses.uses {
        if let Some(b) = &u.binding {
            used.insert(b.clone());
        }
        let thru = u.binding.as_ref().and_then(|b| through.get(b));
        let mark = |mut c: DataConsumer| {
            c.through = thru.cloned();
            c
        };
        found.push((
            u.target,
            mark(consumer_at(
                cx,
                &uses,
                u.import,
                u.usage.clone(),
                u.span,
                None,
            )),
        ));
        // Data placed in page data is read again through `this.data.key`, and rendered.
        if let DataUsage::InPageData { key } = &u.usage {
            for r in uses.this_data.iter().filter(|r| &r.key == key) {
                found.push((
                    u.target,
                    mark(consumer_at(
                        cx,
                        &uses,
                        u.import,
                        r.usage.clone(),
                        r.span,
                        Some(format!("this.data.{key}")),
                    )),
                ));
            }
            for at in template_uses(cx, js.file, key) {
                found.push((
                    u.target,
                    mark(consumer(
                        cx,
                        u.import,
                        DataUsage::Template { key: key.clone() },
                        Some(at),
                        None,
                    )),
                ));
            }
        }
    }
    for (local, (sp, targets)) in bindings.iter().filter(|_| unused) {
        if !used.contains(local) {
            for &t in targets {
                let mut c = consumer(cx, *sp, DataUsage::Unused, None, None);
                c.through = through.get(local).cloned();
                found.push((t, c));
            }
        }
    }
    for (local, (sp, names)) in namespaces.iter().filter(|_| unused) {
        if !used.contains(local) {
            for t in consumers::all_data(names) {
                let mut c = consumer(cx, *sp, DataUsage::Unused, None, None);
                c.through = through.get(local).cloned();
                found.push((t, c));
            }
        }
    }
    for (sp, targets) in requires.iter().filter(|_| unused) {
        if !uses.uses.iter().any(|u| u.import == *sp) {
            for &t in targets {
                found.push((t, consumer(cx, *sp, DataUsage::Unused, None, None)));
            }
        }
    }
    found
}

/// The data that modules re-export (barrel files), by module and exported name:
/// `export { a } from './x'`, `export * from './x'`, `export { default as a } from './x'`,
/// `import a from './x'; export { a }`, `const a = require('./x'); module.exports = { a }`, and
/// barrels of barrels. A whole CommonJS module re-exported is its `default` (`module.exports`).
/// `seeds`: names modules are known to export data under already (see [`helper_exports`]).
fn barrel_exports(
    cx: &Context<'_>,
    items: &[Item],
    by_file: &HashMap<FileId, Vec<usize>>,
    scripts: &[&JsFile],
    seeds: HashMap<FileId, HashMap<String, Vec<usize>>>,
) -> HashMap<FileId, HashMap<String, Vec<usize>>> {
    // What a module exports under a name: its own data, or what a barrel found so far.
    fn named(
        items: &[Item],
        by_file: &HashMap<FileId, Vec<usize>>,
        barrels: &HashMap<FileId, HashMap<String, Vec<usize>>>,
        file: FileId,
        name: &str,
    ) -> Vec<usize> {
        let own = by_file
            .get(&file)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&t| {
                items[t].exports.iter().any(|e| e == name)
                    || (name == "default" && matches!(items[t].source, DataSource::JsonFile))
            });
        let through = barrels
            .get(&file)
            .and_then(|m| m.get(name))
            .into_iter()
            .flatten();
        own.chain(through.copied()).collect()
    }
    // Every name a module exports data under (for `export *`; never `default`).
    fn all_names(
        items: &[Item],
        by_file: &HashMap<FileId, Vec<usize>>,
        barrels: &HashMap<FileId, HashMap<String, Vec<usize>>>,
        file: FileId,
    ) -> Vec<(String, usize)> {
        let own = by_file.get(&file).into_iter().flatten().flat_map(|&t| {
            items[t]
                .exports
                .iter()
                .filter(|e| *e != "default")
                .map(move |e| (e.clone(), t))
        });
        let through = barrels
            .get(&file)
            .into_iter()
            .flatten()
            .flat_map(|(n, ts)| {
                (n != "default")
                    .then_some(ts)
                    .into_iter()
                    .flatten()
                    .map(|&t| (n.clone(), t))
            });
        own.chain(through).collect()
    }
    let mut barrels = seeds.clone();
    // Each pass follows one more level of barrels of barrels.
    for _ in 0..4 {
        let mut next = seeds.clone();
        for js in scripts {
            if by_file.contains_key(&js.file) {
                continue;
            }
            let mut add = |name: &str, ts: Vec<usize>| {
                if !ts.is_empty() {
                    let v = next
                        .entry(js.file)
                        .or_default()
                        .entry(name.to_string())
                        .or_default();
                    v.extend(ts);
                    v.sort_unstable();
                    v.dedup();
                }
            };
            // The module a local was imported from, and under which name.
            let imported = |local: &crate::js::BindingId| -> Option<(FileId, Option<&str>)> {
                js.module.imports.iter().find_map(|imp| {
                    let b = imp.bindings.iter().find(|b| &b.local == local)?;
                    let to = cx.resolve(js.file, &imp.specifier)?;
                    Some((
                        to,
                        match &b.imported {
                            Imported::Named(n) => Some(n.as_str()),
                            Imported::Default | Imported::Whole => None,
                        },
                    ))
                })
            };
            let locals = js
                .module
                .exports
                .iter()
                .filter(|e| e.from.is_none())
                .filter_map(|e| Some((e.name.as_str(), e.local.as_ref()?)))
                .chain(
                    js.module
                        .object_members
                        .iter()
                        .filter_map(|(n, b)| Some((n.as_str(), b.as_ref()?))),
                );
            for (name, local) in locals {
                if let Some((to, orig)) = imported(local) {
                    add(
                        name,
                        named(items, by_file, &barrels, to, orig.unwrap_or("default")),
                    );
                }
            }
            for e in &js.module.exports {
                let Some((spec, orig)) = e.from.as_deref().and_then(|f| f.rsplit_once('#')) else {
                    continue;
                };
                let Some(to) = cx.resolve(js.file, spec) else {
                    continue;
                };
                if orig == "*" {
                    for (n, t) in all_names(items, by_file, &barrels, to) {
                        add(&n, vec![t]);
                    }
                } else {
                    add(&e.name, named(items, by_file, &barrels, to, orig));
                }
            }
        }
        if next == barrels {
            break;
        }
        barrels = next;
    }
    barrels
}

/// Consumers of inline page data: the page's own `this.data.key` reads and its WXML.
fn page_data_consumers(cx: &Context<'_>, items: &[Item], consumers: &mut [Vec<DataConsumer>]) {
    for (i, it) in items.iter().enumerate() {
        let DataSource::PageData { key } = &it.source else {
            continue;
        };
        let Some(js) = cx.js(it.file) else { continue };
        let uses = consumers::find(js, &HashMap::new(), &HashMap::new(), &HashMap::new());
        let (start, _) = it.value.node().range();
        let at = Span::new(it.file, start as usize, start as usize);
        for r in uses.this_data.iter().filter(|r| &r.key == key) {
            consumers[i].push(consumer_at(
                cx,
                &uses,
                at,
                r.usage.clone(),
                r.span,
                Some(format!("this.data.{key}")),
            ));
        }
        for t in template_uses(cx, it.file, key) {
            consumers[i].push(consumer(
                cx,
                at,
                DataUsage::Template { key: key.clone() },
                Some(t),
                None,
            ));
        }
    }
}
