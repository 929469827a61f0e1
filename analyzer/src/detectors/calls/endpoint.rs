//! Constant evaluation across modules (literals, templates, `+`, constants, config-module
//! members, stage switches, `getApp().globalData`, `wx.getExtConfigSync()`), and the endpoint
//! of a call: URL with `{name}` placeholders, host, path, resolution.

use std::cell::{Cell, RefCell};

use swc_ecma_ast::*;

use super::value::{Entry, Part, Val, concat, get_simple, merge, or, pick_production, to_parts};
use super::world::World;
use crate::findings::{Endpoint, Loc, Resolution};
use crate::js::BindingId;
use crate::js::Imported;
use crate::js::syntax::unwrap_expr;
use crate::span::Span;
use crate::summary::{Assign, ExportDef, FileIndex, Spec, is_nullish};

const MAX_DEPTH: u32 = 40;
const MAX_STEPS: u32 = 20_000;
/// Object literals with more members than this are not evaluated (data, not configuration).
const MAX_OBJECT_PROPS: usize = 200;
/// The position of a factory's parameter `i` as a function the factory returns reads it
/// (`prefix` in `createRequest(prefix)`'s `get(url)`): `CAPTURED + i`, past its own parameters.
pub(super) const CAPTURED: u32 = 1 << 20;

/// One evaluation: a step budget so that no input can make it slow.
pub(super) struct Ev<'w, 'a> {
    pub w: &'w World<'a>,
    steps: Cell<u32>,
    /// Names whose assignments are being evaluated (`x = x + '/v2'` reads `x` again).
    assigning: RefCell<Vec<BindingId>>,
}

fn str_of(s: &Str) -> String {
    s.value.to_string_lossy().into_owned()
}

/// A short name for an expression, used as a `{placeholder}`.
pub(super) fn label(e: &Expr) -> String {
    match unwrap_expr(e) {
        Expr::Ident(i) => i.sym.to_string(),
        Expr::Member(m) => match &m.prop {
            MemberProp::Ident(p) => p.sym.to_string(),
            _ => label(&m.obj),
        },
        Expr::Call(c) => match &c.callee {
            Callee::Expr(e) => label(e),
            _ => "value".into(),
        },
        Expr::OptChain(o) => match &*o.base {
            OptChainBase::Member(m) => match &m.prop {
                MemberProp::Ident(p) => p.sym.to_string(),
                _ => "value".into(),
            },
            OptChainBase::Call(c) => label(&c.callee),
        },
        _ => "value".into(),
    }
}

impl<'w, 'a> Ev<'w, 'a> {
    pub(super) fn new(w: &'w World<'a>) -> Self {
        Ev {
            w,
            steps: Cell::new(0),
            assigning: RefCell::new(Vec::new()),
        }
    }

    fn span(&self, fi: usize, sp: swc_common::Span) -> Span {
        self.w.files[fi].js.span(sp)
    }

    fn unknown(&self, fi: usize, e: &Expr) -> Val {
        use swc_common::Spanned;
        Val::Unknown(label(e), self.span(fi, e.span()))
    }

    /// The value of `e` in file `fi`, inside registered function `owner` (whose parameters
    /// stay symbolic).
    pub(super) fn expr(&self, fi: usize, e: &Expr, owner: Option<usize>, depth: u32) -> Val {
        let steps = self.steps.get() + 1;
        self.steps.set(steps);
        if depth > MAX_DEPTH || steps > MAX_STEPS {
            return self.unknown(fi, e);
        }
        let d = depth + 1;
        match unwrap_expr(e) {
            Expr::Lit(Lit::Str(s)) => Val::lit(str_of(s)),
            Expr::Lit(Lit::Num(n)) => Val::lit(n.value.to_string()),
            Expr::Lit(Lit::Bool(b)) => Val::lit(b.value.to_string()),
            Expr::Tpl(t) => {
                let mut parts = Vec::new();
                for (i, q) in t.quasis.iter().enumerate() {
                    let text = crate::js::syntax::quasi_text(q);
                    parts.push(Part::Lit(text));
                    if let Some(x) = t.exprs.get(i) {
                        let v = self.expr(fi, x, owner, d);
                        parts.extend(
                            to_parts(
                                &v,
                                &label(x),
                                self.span(fi, swc_common::Spanned::span(&**x)),
                            )
                            .into_owned(),
                        );
                    }
                }
                Val::Str(merge(parts))
            }
            Expr::Bin(b) => match b.op {
                BinaryOp::Add => {
                    let l = self.expr(fi, &b.left, owner, d);
                    let r = self.expr(fi, &b.right, owner, d);
                    concat(
                        &l,
                        &r,
                        (&label(&b.left), &label(&b.right)),
                        (
                            self.span(fi, swc_common::Spanned::span(&*b.left)),
                            self.span(fi, swc_common::Spanned::span(&*b.right)),
                        ),
                    )
                }
                BinaryOp::LogicalOr | BinaryOp::NullishCoalescing => or(
                    self.expr(fi, &b.left, owner, d),
                    self.expr(fi, &b.right, owner, d),
                ),
                _ => self.unknown(fi, e),
            },
            Expr::Cond(c) => {
                let cons = self.expr(fi, &c.cons, owner, d);
                let alt = self.expr(fi, &c.alt, owner, d);
                // A condition on a parameter (`needSubDomain ? … : …`) is left to the call sites.
                let test = match unwrap_expr(&c.test) {
                    Expr::Ident(i) if owner.is_some() => Some(self.ident(fi, i, owner, d)),
                    _ => None,
                };
                match test {
                    Some(t @ Val::Param(..)) => Val::If(Box::new(t), Box::new(cons), Box::new(alt)),
                    _ => Val::Alt(vec![cons, alt]),
                }
            }
            // `void 0`
            Expr::Unary(u) if u.op == UnaryOp::Void => Val::Missing,
            Expr::Seq(s) => match s.exprs.last() {
                Some(last) => self.expr(fi, last, owner, d),
                None => self.unknown(fi, e),
            },
            Expr::Ident(i) => self.ident(fi, i, owner, d),
            Expr::Object(o) => {
                if o.props.len() > MAX_OBJECT_PROPS {
                    return self.unknown(fi, e);
                }
                let mut entries = Vec::with_capacity(o.props.len());
                for p in &o.props {
                    match p {
                        PropOrSpread::Spread(s) => {
                            entries.push(Entry::Spread(self.expr(fi, &s.expr, owner, d)))
                        }
                        PropOrSpread::Prop(p) => match &**p {
                            Prop::KeyValue(kv) => {
                                if let Some(k) = crate::js::syntax::prop_name(&kv.key) {
                                    entries.push(Entry::Kv(k, self.expr(fi, &kv.value, owner, d)));
                                }
                            }
                            Prop::Shorthand(i) => entries
                                .push(Entry::Kv(i.sym.to_string(), self.ident(fi, i, owner, d))),
                            Prop::Method(m) => {
                                if let Some(k) = crate::js::syntax::prop_name(&m.key) {
                                    entries.push(Entry::Kv(
                                        k.clone(),
                                        Val::Unknown(k, self.span(fi, m.function.span)),
                                    ));
                                }
                            }
                            _ => {}
                        },
                    }
                }
                Val::Obj(entries)
            }
            Expr::Member(m) => {
                if matches!(&*m.obj, Expr::This(_)) || self.this_alias(fi, &m.obj) {
                    if let (MemberProp::Ident(p), Some(o)) = (&m.prop, owner) {
                        return self.this_member(fi, o, &p.sym, e, d);
                    }
                    return self.unknown(fi, e);
                }
                let obj = self.expr(fi, &m.obj, owner, d);
                let key = match &m.prop {
                    MemberProp::Ident(p) => Some(p.sym.to_string()),
                    MemberProp::Computed(c) => self.expr(fi, &c.expr, owner, d).as_lit(),
                    MemberProp::PrivateName(_) => None,
                };
                match key {
                    Some(k) => self.member(fi, &obj, &k, e, d),
                    None => match &obj {
                        // ENV_MAP[stage]: a stage switch; take the production entry.
                        Val::Obj(entries) => {
                            let prod = ["release", "prod", "production", "online"];
                            entries
                                .iter()
                                .rev()
                                .find_map(|en| match en {
                                    Entry::Kv(k, v) if prod.contains(&k.as_str()) => {
                                        Some(v.clone())
                                    }
                                    _ => None,
                                })
                                .unwrap_or_else(|| self.unknown(fi, e))
                        }
                        _ => self.unknown(fi, e),
                    },
                }
            }
            Expr::Call(c) => {
                let Callee::Expr(callee) = &c.callee else {
                    return self.unknown(fi, e);
                };
                let f = &self.w.files[fi];
                let js = f.js;
                if let Some(spec) = f.load_spec(c) {
                    let m = match spec {
                        Spec::File(s) => self.w.resolve_spec(fi, &s),
                        Spec::Module(key) => self.w.module(fi, &key),
                    };
                    return m.map_or_else(|| self.unknown(fi, e), Val::Module);
                }
                if let Some(key) = f.bundle_entry(c) {
                    return self
                        .w
                        .module(fi, key)
                        .map_or_else(|| self.unknown(fi, e), Val::Module);
                }
                if let Some(v) = FileIndex::iife_value(c).or_else(|| f.passes_through(c)) {
                    return self.expr(fi, v, owner, d);
                }
                // `"/cart/".concat(id)`: how Babel writes a template literal.
                if let Expr::Member(m) = unwrap_expr(callee)
                    && matches!(&m.prop, MemberProp::Ident(p) if p.sym == *"concat")
                    && let base @ Val::Str(_) = self.expr(fi, &m.obj, owner, d)
                {
                    use swc_common::Spanned;
                    return c.args.iter().fold(base, |acc, a| {
                        let v = self.expr(fi, &a.expr, owner, d);
                        let span = self.span(fi, a.expr.span());
                        concat(&acc, &v, ("url", &label(&a.expr)), (span, span))
                    });
                }
                match unwrap_expr(callee) {
                    Expr::Ident(i) if js.is_global_named(i, "getApp") => self.app(fi, e, d),
                    Expr::Member(m)
                        if matches!(&m.prop, MemberProp::Ident(p) if p.sym == *"getExtConfigSync")
                            && self.w.is_wx_like(fi, &m.obj, 0) =>
                    {
                        Val::Ext(String::new())
                    }
                    // A one-expression function: `ENDPOINTS.article(id)`, `buildUrl(path, q)`.
                    _ => match self.w.resolve_callee(fi, callee, owner) {
                        Some(super::world::Target::Fn(g)) => match self.w.files[g.0].fns[g.1].ret {
                            Some(ret) => {
                                let body = self.expr(g.0, ret, Some(g.1), d);
                                let args: Vec<Val> = c
                                    .args
                                    .iter()
                                    .map(|a| self.expr(fi, &a.expr, owner, d))
                                    .collect();
                                super::value::subst(&body, &args, 0)
                            }
                            None => self.unknown(fi, e),
                        },
                        _ => self.unknown(fi, e),
                    },
                }
            }
            Expr::Await(a) => self.expr(fi, &a.arg, owner, d),
            _ => self.unknown(fi, e),
        }
    }

    fn ident(&self, fi: usize, i: &Ident, owner: Option<usize>, d: u32) -> Val {
        let f = &self.w.files[fi];
        let b = (i.sym.clone(), i.ctxt);
        if f.js.is_global_named(i, "undefined") {
            return Val::Missing;
        }
        if let Some(p) = f.params.get(&b) {
            if Some(p.owner) == owner {
                let v = Val::Param(
                    p.index,
                    p.path.clone(),
                    p.name.clone(),
                    self.span(fi, i.span),
                );
                return match p.default {
                    Some(def) => or(v, self.expr(fi, def, owner, d)),
                    None => v,
                };
            }
            // A factory's parameter read by a function it returns (`prefix` in
            // `createRequest(prefix)`'s `get(url)`): bound where the factory is called.
            if owner.is_some_and(|o| f.fns[o].parent == Some(p.owner)) {
                let v = Val::Param(
                    CAPTURED + p.index,
                    p.path.clone(),
                    p.name.clone(),
                    self.span(fi, i.span),
                );
                return match p.default {
                    Some(def) => or(v, self.expr(fi, def, None, d)),
                    None => v,
                };
            }
            return Val::Unknown(p.name.clone(), self.span(fi, i.span));
        }
        if !f.assigns.is_empty()
            && let Some(assigns) = f.assigns.get(&b)
            && let Some(v) = self.reassigned(fi, i, assigns, owner, d)
        {
            return v;
        }
        if let Some(init) = f.vars.get(&b) {
            return self.expr(fi, init, owner, d);
        }
        if let Some((spec, imported)) = f.imports.get(&b) {
            let Some(target) = self.w.resolve_spec(fi, spec) else {
                return Val::Unknown(i.sym.to_string(), self.span(fi, i.span));
            };
            return match imported {
                Imported::Whole => Val::Module(target),
                Imported::Default => self.export_val(target, "default", d),
                Imported::Named(n) => self.export_val(target, n, d),
            };
        }
        Val::Unknown(i.sym.to_string(), self.span(fi, i.span))
    }

    /// Whether `e` is a name for `this` (`var _this = this`, as Babel writes for arrows).
    fn this_alias(&self, fi: usize, e: &Expr) -> bool {
        let Expr::Ident(i) = unwrap_expr(e) else {
            return false;
        };
        let f = &self.w.files[fi];
        matches!(
            f.vars.get(&(i.sym.clone(), i.ctxt)).map(|v| unwrap_expr(v)),
            Some(Expr::This(_))
        )
    }

    /// The value of a name assigned after its declaration, when the assignments decide it (a
    /// name of the module's top level, or one declared without a value): an assignment in a
    /// function that never runs (an exported `init2` nothing calls) does not count; a value
    /// set at run time (`subDomain = b` in an exported `init(b)`) is a placeholder named after
    /// the variable, at the assignment, never the initial value; a name declared without a
    /// value and assigned a known value once is that value; known values assigned in several
    /// places are alternatives. `None`: the declaration decides.
    fn reassigned(
        &self,
        fi: usize,
        i: &Ident,
        assigns: &[Assign<'_>],
        owner: Option<usize>,
        d: u32,
    ) -> Option<Val> {
        let f = &self.w.files[fi];
        let b = (i.sym.clone(), i.ctxt);
        let live: Vec<&Assign<'_>> = assigns
            .iter()
            .filter(|a| self.w.runs(fi, a.owner))
            .collect();
        let first = live.first()?;
        let init = f.vars.get(&b).copied().filter(|e| !is_nullish(e));
        // A local's own initialiser still describes it (`let url = base; url += '?'…`).
        if init.is_some() && i.ctxt != f.top_level {
            return None;
        }
        let placeholder = |a: &Assign<'_>| Val::Unknown(i.sym.to_string(), self.span(fi, a.span));
        if let Some(a) = live.iter().find(|a| !a.plain) {
            return Some(placeholder(a));
        }
        if self.assigning.borrow().contains(&b) {
            return Some(placeholder(first));
        }
        self.assigning.borrow_mut().push(b);
        let mut values = Vec::with_capacity(live.len() + 1);
        if let Some(init) = init {
            values.push(self.expr(fi, init, owner, d));
        }
        let mut unknown = None;
        for a in &live {
            let v = self.expr(fi, a.value, a.owner, d);
            // In the function that uses it, the value may read that function's parameters.
            if !(v.known() || (a.owner.is_some() && a.owner == owner)) {
                unknown = Some(placeholder(a));
                break;
            }
            values.push(v);
        }
        self.assigning.borrow_mut().pop();
        if let Some(u) = unknown {
            return Some(u);
        }
        let lits: Vec<Option<String>> = values.iter().map(Val::as_lit).collect();
        if values.len() == 1 || (lits[0].is_some() && lits.iter().all(|l| *l == lits[0])) {
            return values.into_iter().next();
        }
        // Set in several places (`let base = PROD; if (debug) base = DEV`): one of them.
        Some(Val::Alt(values))
    }

    /// The value a module exports under `name`.
    pub(super) fn export_val(&self, fi: usize, name: &str, d: u32) -> Val {
        let f = &self.w.files[fi];
        if d > MAX_DEPTH {
            return Val::Missing;
        }
        match f.exports.get(name) {
            Some(ExportDef::Local(a)) => match f.vars.get(&f.top(a)) {
                Some(init) => self.expr(fi, init, None, d + 1),
                None => Val::Missing,
            },
            Some(ExportDef::Expr(e)) => self.expr(fi, e, None, d + 1),
            Some(ExportDef::From(spec, orig)) => match self.w.resolve_spec(fi, spec) {
                Some(t) => self.export_val(t, orig, d + 1),
                None => Val::Missing,
            },
            None if name != "default" => {
                // CommonJS `module.exports = { a }` read as a named import.
                let def = self.export_val(fi, "default", d + 1);
                get_simple(&def, name).unwrap_or(Val::Missing)
            }
            None => Val::Missing,
        }
    }

    fn member(&self, fi: usize, obj: &Val, key: &str, e: &Expr, d: u32) -> Val {
        match obj {
            Val::Module(m) => {
                let m = *m;
                match self.export_val(m, key, d) {
                    Val::Missing => self.unknown(fi, e),
                    v => v,
                }
            }
            Val::Ext(prefix) => {
                let path = if prefix.is_empty() {
                    key.to_string()
                } else {
                    format!("{prefix}.{key}")
                };
                let ext = &self.w.cx.project.ext;
                match ext
                    .iter()
                    .find(|(k, _)| *k == path || k.strip_prefix("ext.") == Some(&path))
                {
                    Some((_, v)) => Val::lit(v.clone()),
                    None if ext.iter().any(|(k, _)| k.starts_with(&format!("{path}."))) => {
                        Val::Ext(path)
                    }
                    None => self.unknown(fi, e),
                }
            }
            Val::Unknown(..) => self.unknown(fi, e),
            // The span is where the parameter is used, which is what a reader looks for.
            Val::Param(i, path, _, _) => {
                use swc_common::Spanned;
                let mut path = path.clone();
                path.push(key.to_string());
                Val::Param(*i, path, key.to_string(), self.span(fi, e.span()))
            }
            Val::Alt(vs) => Val::Alt(vs.iter().map(|v| self.member(fi, v, key, e, d)).collect()),
            Val::If(t, a, b) => Val::If(
                t.clone(),
                Box::new(self.member(fi, a, key, e, d)),
                Box::new(self.member(fi, b, key, e, d)),
            ),
            // A key the object does not have (`config.baseUrll`) is not an empty string.
            other => match get_simple(other, key) {
                None | Some(Val::Missing) => self.unknown(fi, e),
                Some(v) => v,
            },
        }
    }

    /// `this.key` inside a class method: what the constructor assigned, with the constructor's
    /// parameters taken from the class's `new C(…)`.
    fn this_member(&self, fi: usize, owner: usize, key: &str, e: &Expr, d: u32) -> Val {
        let f = &self.w.files[fi];
        let def = &f.fns[owner];
        let Some(class) = &def.class else {
            // A method of an object literal (`App({ globalData, request() { this.globalData… } })`).
            // Not pages and components: their `this.data` and `this.x` change at run time.
            // (Or one holding the function by name: `{ baseUrl, request }`.)
            let object = def
                .object
                .as_deref()
                .or(f.held_by.get(&owner).map(String::as_str));
            let object = object.filter(|o| {
                !["Page", "Component", "Behavior"]
                    .iter()
                    .any(|p| o == p || o.starts_with(&format!("{p}.")))
            });
            return match object.and_then(|o| f.objects.get(o)) {
                Some(obj) => {
                    let v = self.expr(fi, obj, None, d);
                    match self.member(fi, &v, key, e, d) {
                        Val::Missing => self.unknown(fi, e),
                        v => v,
                    }
                }
                None => self.unknown(fi, e),
            };
        };
        let Some((expr, ctor)) = f.this_assigns.get(&(class.clone(), key.to_string())) else {
            return self.unknown(fi, e);
        };
        let v = self.expr(fi, expr, *ctor, d);
        if !v.has_param() {
            return v;
        }
        // The constructor's parameters come from the class's `new C(…)`, in any module.
        let args: Vec<Val> = match ctor.and_then(|c| self.w.instances.get(&(fi, c))) {
            Some((at, args)) => args
                .iter()
                .map(|a| self.expr(*at, &a.expr, None, d))
                .collect(),
            None => Vec::new(),
        };
        let v = super::value::subst(&v, &args, 0);
        match v {
            Val::Missing => self.unknown(fi, e),
            v => v,
        }
    }

    fn app(&self, fi: usize, e: &Expr, d: u32) -> Val {
        match self.w.app {
            Some((app, obj)) => self.expr(app, obj, None, d),
            None => self.unknown(fi, e),
        }
    }
}

/// The endpoint a URL value stands for.
pub(super) fn endpoint(w: &World<'_>, url: &Val, at: Span) -> Endpoint {
    let parts = to_parts(url, "url", at);
    let mut text = String::new();
    let mut dynamic: Vec<Loc> = Vec::new();
    let mut known = 0usize;
    for p in parts.iter() {
        match p {
            Part::Lit(l) => {
                text.push_str(l);
                known += l.len();
            }
            Part::Fallback(l, _, span) => {
                text.push_str(l);
                known += l.len();
                let loc = w.cx.loc(*span);
                if !dynamic.contains(&loc) {
                    dynamic.push(loc);
                }
            }
            Part::Param(_, _, name, span) | Part::Unknown(name, span) => {
                text.push('{');
                text.push_str(name);
                text.push('}');
                let loc = w.cx.loc(*span);
                if !dynamic.contains(&loc) {
                    dynamic.push(loc);
                }
            }
        }
    }
    let placeholders = parts.iter().any(|p| !matches!(p, Part::Lit(_)));
    let starts_known = matches!(parts.first(), Some(Part::Lit(_) | Part::Fallback(..)));
    let resolution = if !placeholders {
        Resolution::Static
    } else if starts_known && known > 0 {
        Resolution::Partial
    } else {
        Resolution::Dynamic
    };
    let (host, path) = split_url(&text, starts_known);
    Endpoint {
        url: text,
        host,
        path,
        resolution,
        dynamic,
    }
}

/// Host and path (without query or fragment) of a URL with placeholders.
fn split_url(url: &str, starts_known: bool) -> (Option<String>, Option<String>) {
    let strip_query = |p: &str| -> String {
        let end = p.find(['?', '#']).unwrap_or(p.len());
        p[..end].to_string()
    };
    if let Some(i) = url.find("://") {
        if !starts_known || url[..i].contains('{') {
            return (None, None);
        }
        let rest = &url[i + 3..];
        let (host, path) = match rest.find(['/', '?', '#']) {
            Some(j) => (&rest[..j], &rest[j..]),
            None => (rest, "/"),
        };
        let path = strip_query(path);
        let path = if path.is_empty() {
            "/".to_string()
        } else {
            path
        };
        return (Some(host.to_string()), Some(path));
    }
    if url.starts_with('/') {
        return (None, Some(strip_query(url)));
    }
    // `{host}/favorites/add`: the host is a runtime value, the path is still known.
    if url.starts_with('{')
        && let Some(i) = url.find("}/")
        && !url[..i].contains("://")
    {
        return (None, Some(strip_query(&url[i + 1..])));
    }
    (None, None)
}

/// The method as text: a literal (upper-cased), alternatives joined with `|`.
pub(super) fn method_text(v: &Val) -> Option<String> {
    match v {
        Val::If(_, a, b) => method_text(&Val::Alt(vec![(**a).clone(), (**b).clone()])),
        Val::Alt(vs) => {
            let mut out: Vec<String> = Vec::new();
            for v in vs {
                let m = method_text(v)?;
                if !out.contains(&m) {
                    out.push(m);
                }
            }
            Some(out.join("|"))
        }
        Val::Or(a, b) => method_text(a).or_else(|| method_text(b)),
        other => other.as_lit().map(|mut s| {
            s.make_ascii_uppercase();
            s
        }),
    }
}

/// Alternatives (a stage switch, `isDev ? a : b`) collapsed to the production one when one
/// clearly is.
pub(super) fn collapse_alt(v: Val) -> Val {
    match v {
        Val::Alt(ref vs) => pick_production(vs).cloned().unwrap_or(v),
        Val::If(_, a, b) => collapse_alt(Val::Alt(vec![*a, *b])),
        v => v,
    }
}
