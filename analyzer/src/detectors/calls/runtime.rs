//! Callees reached through objects made at run time, where following names alone stops: a Vue
//! app's instance properties (`Vue.prototype.$http = http`, then `this.$http.get(…)` in any
//! component), what a factory returns (`const shop = createRequest('/shop')`, then
//! `shop.get(…)`: `createRequest().get`, with `prefix` bound to `'/shop'`), and the HTTP
//! clients of npm packages ([`super::clients`]).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use swc_atoms::Atom;
use swc_ecma_ast::*;

use super::clients::{ClientCall, Clients};
use super::endpoint::{CAPTURED, Ev};
use super::value::Val;
use super::world::{Gfn, Reached, Target, World};
use crate::findings::NetworkApi;
use crate::js::Imported;
use crate::js::syntax::{as_member, unwrap_expr};
use crate::summary::{Path, instance_property, sink_api};

/// How deep a value is followed through instance properties and factories.
const MAX_DEPTH: u32 = 8;

/// What a call's callee is.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Callee {
    /// A network API, or a registered function (see [`World::resolve_callee`]).
    Target(Target),
    /// A function a factory returns, with the values of the factory call's arguments
    /// (`createRequest('/shop')`), which bind what the function captured.
    Made(Gfn, Box<[Val]>),
    /// A method of an HTTP client.
    Client(ClientCall),
}

/// One instance property: `root.prototype.name = value` in file `file`, with the dotted name
/// its functions are registered under when the value is written there (`Vue.prototype.$http`).
struct Property<'a> {
    file: usize,
    registered: Path,
    value: &'a Expr,
}

pub(super) struct Runtime<'a> {
    pub clients: Clients<'a>,
    /// Instance properties by name (`$http`), in file order.
    properties: HashMap<Atom, Vec<Property<'a>>>,
    /// Functions that return functions (`createRequest`).
    factories: HashSet<Gfn>,
}

impl<'a> Runtime<'a> {
    pub(super) fn build(w: &World<'a>) -> Runtime<'a> {
        let mut properties: HashMap<Atom, Vec<Property<'a>>> = HashMap::default();
        let mut factories = HashSet::default();
        for (fi, f) in w.files.iter().enumerate() {
            for m in &f.member_sets {
                let Some(name) = instance_property(&m.path).filter(|_| m.instance) else {
                    continue;
                };
                let mut registered = vec![m.root.0.clone()];
                registered.extend(m.path.iter().cloned());
                properties.entry(name.clone()).or_default().push(Property {
                    file: fi,
                    registered,
                    value: m.value,
                });
            }
            for def in &f.fns {
                if let Some(p) = def.parent {
                    factories.insert((fi, p));
                }
            }
        }
        Runtime {
            clients: Clients::build(w),
            properties,
            factories,
        }
    }

    /// What a callee is: what the world resolves it to, where a client or a factory's call
    /// (the objects made at run time) stops the path of names; else an instance property.
    pub(super) fn resolve(
        &self,
        w: &World<'a>,
        fi: usize,
        callee: &Expr,
        owner: Option<usize>,
    ) -> Option<Callee> {
        let objects = !(self.factories.is_empty() && self.clients.is_empty());
        let f = &w.files[fi];
        let base = base(callee);
        if objects {
            if let Some(c) = self.clients.default_call(w, fi, callee) {
                return Some(Callee::Client(c));
            }
            // A local holding a client or a factory's object (`const fly = new Fly()` in a
            // function), which the path of names would see through.
            if let Some(Expr::Ident(i)) = base
                && i.ctxt != f.js.top_level
                && let Some(&init) = f.vars.get(&(i.sym.clone(), i.ctxt))
                && self.stops(w, fi, init)
            {
                return self.value(w, fi, init, names(callee), 0);
            }
        }
        let reached = if objects {
            w.resolve_reaching(fi, callee, owner, &|f, e| self.stops(w, f, e))
        } else {
            w.resolve_reaching(fi, callee, owner, &|_, _| false)
        };
        match reached {
            Some(Reached::Sink(api)) => return Some(Callee::Target(Target::Sink(api))),
            Some(Reached::Fn(g)) => return Some(Callee::Target(Target::Fn(g))),
            Some(Reached::Value(f, e, rest)) => return self.value(w, f, e, rest, 0),
            None => {}
        }
        if let Some(api) = taro_named(w, fi, callee) {
            return Some(Callee::Target(Target::Sink(api)));
        }
        if self.properties.is_empty() {
            return None;
        }
        // `this.$http.get`, `_this.$api.goods.detail` (a local alias of `this`).
        let this = match base {
            Some(Expr::This(_)) => true,
            Some(Expr::Ident(i)) => f
                .vars
                .get(&(i.sym.clone(), i.ctxt))
                .is_some_and(|init| matches!(unwrap_expr(init), Expr::This(_))),
            _ => false,
        };
        if this {
            return self.instance(w, &names(callee));
        }
        None
    }

    /// Whether a Vue app of the project has instance properties.
    pub(super) fn has_properties(&self) -> bool {
        !self.properties.is_empty()
    }

    /// `names` read from `this`, when the first is an instance property.
    fn instance(&self, w: &World<'a>, names: &[Atom]) -> Option<Callee> {
        if self.properties.is_empty() {
            return None;
        }
        let (first, rest) = names.split_first()?;
        self.properties
            .get(first)?
            .iter()
            .find_map(|p| self.property(w, p, rest.to_vec()))
    }

    /// `rest` read from an instance property.
    fn property(&self, w: &World<'a>, p: &Property<'a>, rest: Path) -> Option<Callee> {
        // Functions written in the assignment: `Vue.prototype.$http = { get(url) {…} }`.
        let mut path = p.registered.clone();
        path.extend(rest.iter().cloned());
        if let Some(g) = w.lookup(p.file, path) {
            return Some(Callee::Target(Target::Fn(g)));
        }
        self.value(w, p.file, p.value, rest, 0)
    }

    /// Whether [`World::reach`] stops at `e`: a client, or a factory's call.
    fn stops(&self, w: &World<'a>, fi: usize, e: &Expr) -> bool {
        self.clients.at(fi, e).is_some() || self.factory_call(w, fi, e).is_some()
    }

    /// The factory a call calls (`createRequest('/shop')`), with the call's arguments.
    fn factory_call<'e>(
        &self,
        w: &World<'a>,
        fi: usize,
        e: &'e Expr,
    ) -> Option<(Gfn, &'e [ExprOrSpread])> {
        if self.factories.is_empty() {
            return None;
        }
        let Expr::Call(c) = unwrap_expr(e) else {
            return None;
        };
        let swc_ecma_ast::Callee::Expr(callee) = &c.callee else {
            return None;
        };
        match w.resolve_callee(fi, callee, None)? {
            Target::Fn(g) if self.factories.contains(&g) => Some((g, &c.args[..])),
            _ => None,
        }
    }

    /// `rest` read from the value `e` of file `fi`: a client's method, a function the factory
    /// called there returns, or (a value holding one of those) what the names reach from it.
    fn value(
        &self,
        w: &World<'a>,
        fi: usize,
        e: &'a Expr,
        rest: Path,
        depth: u32,
    ) -> Option<Callee> {
        if depth > MAX_DEPTH {
            return None;
        }
        if let Some(c) = self.clients.call(fi, e, &rest) {
            return Some(Callee::Client(c));
        }
        if let Some((factory, args)) = self.factory_call(w, fi, e) {
            let name = format!("{}()", w.files[factory.0].fns[factory.1].name);
            let mut path = vec![Atom::from(name)];
            path.extend(rest);
            let g = w.lookup(factory.0, path)?;
            let ev = Ev::new(w);
            let bound = args
                .iter()
                .map(|a| match a.spread {
                    Some(_) => Val::Missing,
                    None => ev.expr(fi, &a.expr, None, 0),
                })
                .collect();
            return Some(Callee::Made(g, bound));
        }
        let (f, path) = w.expr_with_rest(fi, e, rest)?;
        match w.reach(f, path, &|f, e| self.stops(w, f, e))? {
            Reached::Fn(g) => Some(Callee::Target(Target::Fn(g))),
            Reached::Value(f, e, rest) => self.value(w, f, e, rest, depth + 1),
            Reached::Sink(_) => None,
        }
    }
}

/// A network API imported by name from Taro: `import { request } from '@tarojs/taro'`.
fn taro_named(w: &World<'_>, fi: usize, callee: &Expr) -> Option<NetworkApi> {
    let Expr::Ident(i) = unwrap_expr(callee) else {
        return None;
    };
    match w.files[fi].imports.get(&(i.sym.clone(), i.ctxt))? {
        (spec, Imported::Named(name)) if spec == "@tarojs/taro" => sink_api(name),
        _ => None,
    }
}

/// What a member chain starts from (`this` of `this.$http.get`).
fn base(callee: &Expr) -> Option<&Expr> {
    let mut e = unwrap_expr(callee);
    for _ in 0..8 {
        match e {
            Expr::This(_) | Expr::Ident(_) => return Some(e),
            _ => e = unwrap_expr(as_member(e)?.0),
        }
    }
    None
}

/// The names a member chain reads from its [`base`], first name first: `this.$http.get` →
/// `[$http, get]`.
fn names(callee: &Expr) -> Path {
    let mut names = Vec::new();
    let mut e = unwrap_expr(callee);
    while let Some((obj, name)) = as_member(e) {
        names.push(name);
        e = unwrap_expr(obj);
    }
    names.reverse();
    names
}

/// The name and span of a factory's parameter `i - CAPTURED` as read by `g`, a function it
/// returns: the placeholder when the factory's call is not known.
pub(super) fn captured_param(w: &World<'_>, g: Gfn, i: u32) -> Val {
    let f = &w.files[g.0];
    let at = |sp| f.js.span(sp);
    let Some(parent) = f.fns[g.1].parent else {
        return Val::Missing;
    };
    let def = &f.fns[parent];
    match def.params.get((i - CAPTURED) as usize) {
        Some(Pat::Ident(b)) => Val::Unknown(b.id.sym.to_string(), at(b.id.span)),
        Some(p) => Val::Unknown("captured".into(), at(swc_common::Spanned::span(*p))),
        None => Val::Unknown("captured".into(), at(def.span)),
    }
}
