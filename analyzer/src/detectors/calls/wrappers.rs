//! Wrappers and call sites.
//!
//! Every call whose callee resolves to a network API or a registered function is prepared once
//! (target + argument values, in parallel). A function is a *wrapper* when a URL it sends
//! comes from one of its parameters (`config.baseUrl + url`, `opts.url`, `{...params}`): its
//! summary is the list of routes it forwards, in terms of its parameters. Summaries are
//! computed by a fixpoint (a wrapper of a wrapper is found on the next round). Then every call
//! whose route does not forward a parameter of its own function is a backend call: the place
//! where the endpoint becomes known.

use std::collections::BTreeSet;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::OnceLock;

use rayon::prelude::*;

use super::clients::Transport;
use super::endpoint::{CAPTURED, Ev, collapse_alt, endpoint, method_text};
use super::grouping;
use super::runtime::{Callee, Runtime, captured_param};
use super::value::{Part, Val, get_simple, pick_production, subst_with, to_parts};
use super::vendored;
use super::world::{Gfn, Origin, Target, World};
use crate::findings::{BackendCall, Findings, Loc, NetworkApi, Wrapper};
use crate::span::Span;

/// Rounds of the fixpoint; a chain of wrappers deeper than this is cut.
const MAX_ROUNDS: usize = 12;
/// Routes kept per function, and wrappers per chain.
const MAX_ROUTES: usize = 32;
const MAX_VIA: usize = 8;

struct Prepared {
    fi: usize,
    /// Index of the call in its file's summary.
    ci: usize,
    owner: Option<usize>,
    span: Span,
    target: Callee,
    /// Argument values, each evaluated the first time a route reads it: most calls resolve
    /// to functions that are not wrappers, and a wrapper's routes read one or two arguments
    /// (the URL, the method), not the request body.
    args: Box<[OnceLock<Val>]>,
}

impl Prepared {
    fn arg(&self, w: &World<'_>, i: u32) -> Val {
        let Some(slot) = self.args.get(i as usize) else {
            return Val::Missing;
        };
        slot.get_or_init(|| {
            let f = &w.files[self.fi];
            let c = f.call(self.ci);
            let a = &c.args[i as usize];
            if a.spread.is_some() {
                Val::Unknown("args".into(), f.js.span(a.expr_span()))
            } else {
                Ev::new(w).expr(self.fi, &a.expr, c.owner, 0)
            }
        })
        .clone()
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Route {
    api: NetworkApi,
    sink: Span,
    via: Vec<Gfn>,
    url: Val,
    method: Option<Val>,
}

fn prepare<'a>(w: &World<'a>, rt: &Runtime<'a>) -> Vec<Prepared> {
    let per_file: Vec<Vec<Prepared>> = (0..w.files.len())
        .into_par_iter()
        .map(|fi| {
            let f = &w.files[fi];
            warm(f.calls.iter().map(|c| c.callee));
            let mut out = Vec::new();
            // Calls on `this` that no file alone resolves, when the project has instance
            // properties (`this.$http.get` in a component a build left unregistered).
            let this_calls = if rt.has_properties() {
                &f.this_calls[..]
            } else {
                &[]
            };
            for (ci, c) in f.calls.iter().chain(this_calls).enumerate() {
                let Some(target) = rt.resolve(w, fi, c.callee, c.owner) else {
                    continue;
                };
                out.push(Prepared {
                    fi,
                    ci,
                    owner: c.owner,
                    span: f.js.span(c.span),
                    target,
                    args: c.args.iter().map(|_| OnceLock::new()).collect(),
                });
            }
            out
        })
        .collect();
    per_file.into_iter().flatten().collect()
}

/// Functions whose calls' arguments are warmed together (see [`warm`]).
const WARM_CHUNK: usize = 64;

/// Reads the first word of each node, so that their cache misses overlap (the loads are
/// independent) instead of coming one at a time as the nodes are walked: the syntax trees are
/// long out of cache by now.
fn warm<'e>(nodes: impl Iterator<Item = &'e swc_ecma_ast::Expr>) {
    for e in nodes {
        std::hint::black_box(std::mem::discriminant(e));
    }
}

trait ExprSpan {
    fn expr_span(&self) -> swc_common::Span;
}

impl ExprSpan for swc_ecma_ast::ExprOrSpread {
    fn expr_span(&self) -> swc_common::Span {
        swc_common::Spanned::span(&*self.expr)
    }
}

/// What the detector knows once every call is prepared: the summaries so far, each client's
/// transport, and the first network call each function makes itself.
struct Known<'k> {
    summaries: &'k HashMap<Gfn, Vec<Route>>,
    transports: &'k [Option<Transport>],
    direct: &'k HashMap<Gfn, (NetworkApi, Span)>,
}

/// The routes a call takes, in terms of the calling function's parameters.
fn routes_of(w: &World<'_>, rt: &Runtime<'_>, p: &Prepared, k: &Known<'_>) -> Vec<Route> {
    let me = p.owner.map(|o| (p.fi, o));
    match &p.target {
        &Callee::Target(Target::Sink(api)) => {
            let opts = p.arg(w, 0);
            let (url, method) = match opts {
                // Old-style `request(url)` helpers are not sinks; options objects are.
                Val::Str(_) => (opts, None),
                _ => (
                    get_simple(&opts, "url").unwrap_or(Val::Missing),
                    get_simple(&opts, "method"),
                ),
            };
            vec![Route {
                api,
                sink: p.span,
                via: Vec::new(),
                url,
                method,
            }]
        }
        &Callee::Target(Target::Fn(g)) => {
            // A function a factory made, called where the factory's call is not known: what
            // it captured stays a parameter inside the same factory, else is unknown.
            let shared = || {
                let parent = w.files[g.0].fns[g.1].parent;
                parent.is_some()
                    && me.is_some_and(|m| m.0 == g.0 && w.files[m.0].fns[m.1].parent == parent)
            };
            let args = |i: u32| {
                if i < CAPTURED {
                    p.arg(w, i)
                } else if shared() {
                    match captured_param(w, g, i) {
                        Val::Unknown(name, span) => Val::Param(i, Vec::new(), name, span),
                        v => v,
                    }
                } else {
                    captured_param(w, g, i)
                }
            };
            through(g, me, &args, k)
        }
        Callee::Made(g, bound) => {
            let g = *g;
            let args = |i: u32| {
                if i < CAPTURED {
                    p.arg(w, i)
                } else {
                    bound
                        .get((i - CAPTURED) as usize)
                        .cloned()
                        .unwrap_or(Val::Missing)
                }
            };
            through(g, me, &args, k)
        }
        &Callee::Client(cc) => {
            let req = rt.clients.request(cc, &|i| p.arg(w, i), p.span);
            let plain = |api: NetworkApi, sink: Span, via: Vec<Gfn>| Route {
                api,
                sink,
                via,
                url: req.url.clone(),
                method: Some(req.method.clone()),
            };
            match k.transports[cc.client as usize] {
                // The adapter is given the merged config: its routes say what it makes of it.
                Some(Transport::Adapter(g)) if k.summaries.contains_key(&g) => {
                    let config = |i: u32| {
                        if i == 0 {
                            req.config.clone()
                        } else {
                            Val::Missing
                        }
                    };
                    k.summaries[&g]
                        .iter()
                        .filter(|r| {
                            r.via.len() < MAX_VIA
                                && Some(g) != me
                                && !me.is_some_and(|m| r.via.contains(&m))
                        })
                        .map(|r| {
                            let mut via = vec![g];
                            via.extend(r.via.iter().copied());
                            // A method the adapter computes (`config.method.toUpperCase()`) is
                            // the client's.
                            let method = r
                                .method
                                .as_ref()
                                .map(|m| subst_with(m, &config, 0))
                                .filter(|m| method_text(m).is_some())
                                .unwrap_or_else(|| req.method.clone());
                            Route {
                                api: r.api,
                                sink: r.sink,
                                via,
                                url: subst_with(&r.url, &config, 0),
                                method: Some(method),
                            }
                        })
                        .collect()
                }
                Some(t) if Some(t.gfn()) != me => {
                    let g = t.gfn();
                    match k.direct.get(&g) {
                        Some(&(api, sink)) if api == req.api => vec![plain(api, sink, vec![g])],
                        // Another API than the transport's (luch-request's `upload`).
                        _ => vec![plain(req.api, p.span, Vec::new())],
                    }
                }
                Some(_) => Vec::new(),
                None => vec![plain(req.api, p.span, Vec::new())],
            }
        }
    }
}

/// The routes of a call of `g` made in `me`, with `args(i)` the call's arguments.
fn through(g: Gfn, me: Option<Gfn>, args: &dyn Fn(u32) -> Val, k: &Known<'_>) -> Vec<Route> {
    if Some(g) == me {
        return Vec::new();
    }
    let Some(routes) = k.summaries.get(&g) else {
        return Vec::new();
    };
    routes
        .iter()
        .filter(|r| r.via.len() < MAX_VIA && !me.is_some_and(|m| r.via.contains(&m)))
        .map(|r| {
            let mut via = vec![g];
            via.extend(r.via.iter().copied());
            Route {
                api: r.api,
                sink: r.sink,
                via,
                url: subst_with(&r.url, args, 0),
                method: r.method.as_ref().map(|m| subst_with(m, args, 0)),
            }
        })
        .collect()
}

/// Whether a function is one the mini-program platform or the framework calls (a page's,
/// component's or app's lifecycle and handlers, a Vue component's methods): its parameters
/// are filled by no call site of the app's code.
fn called_by_the_platform(name: &str) -> bool {
    // Vue's hooks (uni-app's sources) besides the mini-program's own.
    const VUE: &[&str] = &["mounted", "beforeMount", "setup", "observers"];
    let first = name.split('.').next().unwrap_or(name);
    let last = name.rsplit('.').next().unwrap_or(name);
    matches!(first, "Page" | "Component" | "App" | "Behavior")
        || name
            .split('.')
            .any(|seg| seg == "methods" || seg == "lifetimes")
        || crate::literal::LIFECYCLE.contains(&last)
        || VUE.contains(&last)
}

/// Routes, each with whether it [`forwards`] a parameter.
type Marked = Vec<(Route, bool)>;

/// [`routes_of`], each with whether it [`forwards`] a parameter (in an npm package every route
/// is handed to the callers, see [`vendored`]).
fn routes_marked(w: &World<'_>, rt: &Runtime<'_>, p: &Prepared, k: &Known<'_>) -> Marked {
    let through = vendored::passes_through(w, p.fi, p.owner);
    routes_of(w, rt, p, k)
        .into_iter()
        .map(|r| {
            let fw = through || forwards(&r, p.span);
            (r, fw)
        })
        .collect()
}

/// Whether a parameter is named like a whole URL or path.
fn url_like(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "url", "uri", "path", "api", "endpoint", "href", "link", "address",
    ]
    .iter()
    .any(|w| n == *w || n.ends_with(w))
}

/// Whether a route forwards a parameter as the URL (or its path after a base), which makes
/// the function a wrapper, rather than filling one segment of a path written here
/// (`'/lines/' + lineId`), which makes it an endpoint.
fn forwards(r: &Route, span: Span) -> bool {
    // `collapse_alt` only ever picks one alternative, so a URL without a parameter stays so.
    if !r.url.has_param() {
        return false;
    }
    let url = match &r.url {
        Val::Alt(vs) => pick_production(vs).unwrap_or(&r.url),
        v => v,
    };
    if !url.has_param() {
        return false;
    }
    let parts = to_parts(url, "url", span);
    let Some(k) = parts.iter().position(|p| matches!(p, Part::Param(..))) else {
        // The URL is an object or alternative carrying a parameter: forwarded as a whole.
        return true;
    };
    if let Part::Param(_, path, name, _) = &parts[k]
        && (url_like(name) || path.last().is_some_and(|l| url_like(l)))
    {
        return true;
    }
    let prefix: String = parts[..k]
        .iter()
        .filter_map(|p| match p {
            Part::Lit(l) | Part::Fallback(l, ..) => Some(l.as_str()),
            _ => None,
        })
        .collect();
    let path = match prefix.find("://") {
        Some(i) => prefix[i + 3..]
            .find('/')
            .map_or("", |j| &prefix[i + 3 + j..]),
        None => prefix.as_str(),
    };
    !(path.contains('?') || path.contains('=') || (path.ends_with('/') && path.len() > 1))
}

fn dedupe(routes: Vec<Route>) -> Vec<Route> {
    let mut seen = HashSet::default();
    let mut out = Vec::new();
    for r in routes {
        if seen.insert((r.sink, r.via.clone())) {
            out.push(r);
        }
        if out.len() >= MAX_ROUTES {
            break;
        }
    }
    out
}

pub(super) fn run(w: &World<'_>, out: &mut Findings) {
    let rt = Runtime::build(w);
    let prepared = prepare(w, &rt);
    w.set_called(
        prepared
            .iter()
            .filter_map(|p| match p.target {
                Callee::Target(Target::Fn(g)) | Callee::Made(g, _)
                    if p.owner.map(|o| (p.fi, o)) != Some(g) =>
                {
                    Some(g)
                }
                _ => None,
            })
            .collect(),
    );
    // The first network call each function makes itself, and each client's transport.
    let mut direct: HashMap<Gfn, (NetworkApi, Span)> = HashMap::default();
    for p in &prepared {
        if let (&Callee::Target(Target::Sink(api)), Some(o)) = (&p.target, p.owner) {
            let first = direct.entry((p.fi, o)).or_insert((api, p.span));
            if p.span.start < first.1.start {
                *first = (api, p.span);
            }
        }
    }
    let transports = if rt.clients.is_empty() {
        Vec::new()
    } else {
        let sinks: Vec<(Gfn, &str)> = direct
            .keys()
            .map(|&g| (g, w.cx.project.file(w.files[g.0].js.file).path.as_str()))
            .collect();
        rt.clients.transports(w, &sinks)
    };
    // What a call depends on: the function it calls, or its client's transport.
    let callee_fn = |p: &Prepared| match &p.target {
        Callee::Target(Target::Fn(g)) | Callee::Made(g, _) => Some(*g),
        Callee::Client(c) => transports[c.client as usize].map(Transport::gfn),
        Callee::Target(Target::Sink(_)) => None,
    };
    // Each function's calls; and (a fixpoint over a worklist: a function's summary depends
    // only on the summaries of the functions it calls, so when one changes only its callers
    // are looked at again) each function's callers, sorted.
    let mut by_owner: HashMap<Gfn, Vec<usize>> = HashMap::default();
    let mut dependents: HashMap<Gfn, Vec<Gfn>> = HashMap::default();
    for (i, p) in prepared.iter().enumerate() {
        if let Some(o) = p.owner {
            by_owner.entry((p.fi, o)).or_default().push(i);
            if let Some(t) = callee_fn(p) {
                dependents.entry(t).or_default().push((p.fi, o));
            }
        }
    }
    for d in dependents.values_mut() {
        d.sort_unstable();
        d.dedup();
    }
    let mut summaries: HashMap<Gfn, Vec<Route>> = HashMap::default();
    // Rounds: every function of the frontier is summarised in parallel from the summaries of the
    // previous round, then the callers of those that changed form the next frontier. A wrapper
    // chain longer than MAX_ROUNDS is cut (routes through more than MAX_VIA are dropped anyway).
    let mut frontier: Vec<Gfn> = by_owner.keys().copied().collect();
    frontier.sort_unstable();
    // Each call's routes as last computed, with whether each forwards a parameter: once the
    // fixpoint is reached they are final, and the backend calls below are made from them.
    let mut last: Vec<Option<Marked>> = (0..prepared.len()).map(|_| None).collect();
    for _ in 0..MAX_ROUNDS {
        if frontier.is_empty() {
            break;
        }
        let k = Known {
            summaries: &summaries,
            transports: &transports,
            direct: &direct,
        };
        let results: Vec<(Gfn, Vec<(usize, Marked)>)> = frontier
            .par_chunks(WARM_CHUNK)
            .flat_map_iter(|chunk| {
                // The first arguments these calls will read (a URL, an options object).
                warm(chunk.iter().flat_map(|g| &by_owner[g]).filter_map(|&i| {
                    let p = &prepared[i];
                    let reads = match &p.target {
                        Callee::Target(Target::Sink(_)) | Callee::Client(_) => true,
                        Callee::Target(Target::Fn(t)) | Callee::Made(t, _) => {
                            summaries.contains_key(t)
                        }
                    };
                    let pending = p.args.first()?.get().is_none();
                    let arg = w.files[p.fi].call(p.ci).args.first()?;
                    (reads && pending).then_some(&*arg.expr)
                }));
                chunk.iter().map(|&g| {
                    let per_call = by_owner[&g]
                        .iter()
                        .map(|&i| (i, routes_marked(w, &rt, &prepared[i], &k)))
                        .collect();
                    (g, per_call)
                })
            })
            .collect();
        let mut next = BTreeSet::new();
        for (g, per_call) in results {
            let routes = dedupe(
                per_call
                    .iter()
                    .flat_map(|(_, rs)| rs.iter().filter(|(_, fw)| *fw).map(|(r, _)| r.clone()))
                    .collect(),
            );
            for (i, rs) in per_call {
                last[i] = Some(rs);
            }
            let old = summaries.get(&g).map_or(&[][..], |v| &v[..]);
            if old != routes.as_slice() {
                if routes.is_empty() {
                    summaries.remove(&g);
                } else {
                    summaries.insert(g, routes);
                }
                next.extend(dependents.get(&g).into_iter().flatten().copied());
            }
        }
        frontier = next.into_iter().collect();
    }
    // Cut short (a chain deeper than MAX_ROUNDS): the routes last computed may be stale.
    if !frontier.is_empty() {
        last.iter_mut().for_each(|l| *l = None);
    }

    // Who calls each function (for endpoint functions like `getLineDetail(id)`); for a function
    // of vendored code, also the calling function (see `vendored::callers`).
    let mut callers: HashMap<Gfn, Vec<Loc>> = HashMap::default();
    let mut into_vendored: HashMap<Gfn, Vec<(Option<Gfn>, Loc)>> = HashMap::default();
    for p in &prepared {
        if let Some(g) = callee_fn(p)
            && p.owner.map(|o| (p.fi, o)) != Some(g)
        {
            let loc = w.cx.loc(p.span);
            if w.origin(g.0) != Origin::App {
                into_vendored
                    .entry(g)
                    .or_default()
                    .push((p.owner.map(|o| (p.fi, o)), loc.clone()));
            }
            callers.entry(g).or_default().push(loc);
        }
    }
    // The code of a client's package (flyio's engine, luch-request's adapter) is that client's
    // transport once the client is called: what it sends is reported at the client calls.
    let mut used: Vec<bool> = vec![false; rt.clients.list.len()];
    for p in &prepared {
        if let Callee::Client(c) = &p.target {
            used[c.client as usize] = true;
        }
    }
    let package_roots: Vec<&str> = rt
        .clients
        .list
        .iter()
        .zip(&used)
        .filter_map(|(c, &u)| c.root.as_deref().filter(|_| u))
        .collect();
    let in_package = |fi: usize| {
        let path = &w.cx.project.file(w.files[fi].js.file).path;
        package_roots.iter().any(|r| path.starts_with(r))
    };
    let k = Known {
        summaries: &summaries,
        transports: &transports,
        direct: &direct,
    };

    // Backend calls. A wrapper nobody is seen calling (a page's event handler reading
    // `e.currentTarget.dataset.url`, an unused export) still reports its own requests; an npm
    // package's functions never do.
    // Each function's callers, sorted and deduplicated once; in vendored code, the app's calls
    // that reach it.
    for v in callers.values_mut() {
        v.sort();
        v.dedup();
    }
    for &g in into_vendored.keys() {
        callers.insert(g, vendored::callers(w, g, &into_vendored));
    }
    let mut kept: Vec<(&Prepared, (Route, bool))> = Vec::new();
    let mut seen = HashSet::default();
    // Routes that only forward a parameter of a function someone calls are dropped as soon as
    // they are made (in parallel), so that few are held at once.
    let all_routes: Vec<Marked> = prepared
        .par_iter()
        .zip(last.into_par_iter())
        .map(|(p, routes)| {
            let routes = routes.unwrap_or_else(|| routes_marked(w, &rt, p, &k));
            let called = p.owner.is_some_and(|o| callers.contains_key(&(p.fi, o)))
                || vendored::passes_through(w, p.fi, p.owner);
            if !package_roots.is_empty() && in_package(p.fi) {
                return Vec::new();
            }
            // Framework code in a build's chunk (uni-app's statistics reporter in
            // common/vendor.js) that only framework code calls is not the app's call.
            if w.cx.in_framework_code(p.span)
                && p.owner.is_none_or(|o| {
                    callers.get(&(p.fi, o)).is_none_or(|cs| {
                        cs.iter()
                            .all(|c| c.span.is_some_and(|s| w.cx.in_framework_code(s)))
                    })
                })
            {
                return Vec::new();
            }
            // A route that forwards a parameter of a function nothing calls stays, marked: the
            // wrapper's own call, its URL filled by no call site.
            let entry = called
                || p.owner
                    .is_none_or(|o| called_by_the_platform(&w.files[p.fi].fns[o].name));
            routes
                .into_iter()
                .filter(|(_, fw)| !(called && *fw))
                .map(|(r, fw)| (r, fw && !entry))
                .collect()
        })
        .collect();
    for (p, routes) in prepared.iter().zip(all_routes) {
        for r in routes {
            if !seen.insert((p.span, r.0.sink, r.0.via.clone())) {
                continue;
            }
            kept.push((p, r));
        }
    }
    // Ids of the wrappers calls go through (every function in a chain has a summary).
    let ids: HashMap<Gfn, String> = summaries.keys().map(|&g| (g, w.fn_id(g))).collect();
    let id_of = |g: Gfn| ids.get(&g).cloned().unwrap_or_else(|| w.fn_id(g));
    let mut calls: Vec<(BackendCall, Span)> = kept
        .into_par_iter()
        .map(|(p, (r, uncalled_wrapper))| {
            let file = w.files[p.fi].js.file;
            let url = collapse_alt(r.url);
            let method = match r.method.map(collapse_alt) {
                None | Some(Val::Missing) => default_method(r.api),
                // A method only known at run time stays unknown (`None`), never a guess.
                Some(m) => method_text(&m),
            };
            let inside = p.owner.map(|o| w.fn_id((p.fi, o)));
            let call_callers = p
                .owner
                .and_then(|o| callers.get(&(p.fi, o)))
                .cloned()
                .unwrap_or_default();
            (
                BackendCall {
                    id: String::new(),
                    loc: w.cx.loc(p.span),
                    api: r.api,
                    package: w.cx.package_name(file),
                    via: r.via.iter().map(|&g| id_of(g)).collect(),
                    method,
                    endpoint: endpoint(w, &url, p.span),
                    inside,
                    callers: call_callers,
                    uncalled_wrapper,
                    function: None,
                    sink: w.cx.loc(r.sink),
                },
                r.sink,
            )
        })
        .collect();
    calls.par_sort_by(|(a, sa), (b, sb)| {
        (&a.loc.path, a.loc.start, &a.via, sa).cmp(&(&b.loc.path, b.loc.start, &b.via, sb))
    });
    let mut calls: Vec<BackendCall> = calls.into_par_iter().map(|(c, _)| c).collect();

    // Wrappers (their call sites are linked by id from the calls' `via`, once all findings
    // are in); proposed functions alongside.
    let wrappers_of = || {
        // Functions with routes, and the transports of clients (a package's engine need not
        // forward a parameter as a wrapper does: it is given a request the package prepared).
        let transports_used = transports
            .iter()
            .flatten()
            .map(|t| t.gfn())
            .filter(|g| !summaries.contains_key(g) && callers.contains_key(g));
        let mut wrappers: Vec<Wrapper> = summaries
            .keys()
            .copied()
            .chain(transports_used.collect::<HashSet<_>>())
            .filter_map(|g| {
                let id = w.fn_id(g);
                let calls_what = match summaries.get(&g) {
                    Some(routes) => {
                        let first = routes.iter().min_by_key(|r| (r.via.len(), r.sink))?;
                        match first.via.first() {
                            Some(&h) => w.fn_id(h),
                            None => first.api.name().to_string(),
                        }
                    }
                    None => direct.get(&g)?.0.name().to_string(),
                };
                let def = &w.files[g.0].fns[g.1];
                // A page's own lifecycle or handler reading a URL from its event is not a wrapper.
                let framework = ["Page.", "Component.", "App.", "Behavior."];
                if !callers.contains_key(&g) && framework.iter().any(|f| def.name.starts_with(f)) {
                    return None;
                }
                // An npm package's function that nothing calls is none of the app's wrappers.
                if w.origin(g.0) == Origin::Npm && !callers.contains_key(&g) {
                    return None;
                }
                // An npm package's endpoint functions pass through; the one around the network
                // API call (or one forwarding a URL) is the wrapper.
                if w.origin(g.0) == Origin::Npm
                    && let Some(routes) = summaries.get(&g)
                    && let Some(first) = routes.iter().min_by_key(|r| (r.via.len(), r.sink))
                    && !first.via.is_empty()
                    && !routes.iter().any(|r| forwards(r, first.sink))
                {
                    return None;
                }
                Some(Wrapper {
                    loc: w.cx.loc(w.files[g.0].js.span(def.span)),
                    id,
                    kind: def.kind,
                    calls: calls_what,
                    call_sites: Vec::new(),
                })
            })
            .collect();
        // In a minified vendor file, a function the app reaches that calls a network API with
        // an endpoint of its own: the calls are its own (`inside` it).
        let mut own: Vec<(Gfn, NetworkApi)> = prepared
            .iter()
            .filter_map(|p| match (&p.target, p.owner) {
                (&Callee::Target(Target::Sink(api)), Some(o))
                    if w.origin(p.fi) == Origin::Minified
                        && callers.contains_key(&(p.fi, o))
                        && !summaries.contains_key(&(p.fi, o)) =>
                {
                    Some(((p.fi, o), api))
                }
                _ => None,
            })
            .collect();
        own.sort_unstable();
        own.dedup_by_key(|(g, _)| *g);
        for (g, api) in own {
            let id = w.fn_id(g);
            let def = &w.files[g.0].fns[g.1];
            // Its call sites are filled when ids are assigned (the calls made inside it).
            wrappers.push(Wrapper {
                loc: w.cx.loc(w.files[g.0].js.span(def.span)),
                id,
                kind: def.kind,
                calls: api.name().to_string(),
                call_sites: Vec::new(),
            });
        }
        wrappers.sort_by(|a, b| a.id.cmp(&b.id));
        wrappers
    };

    // A framework app rebuilt after `migrate apply` bundles the runtime it wrote into the
    // sources: that runtime's fallback to the framework's request API is the tool's, the calls
    // through it are the ones already moved.
    if w.cx.project.framework.is_some() {
        calls.retain(|c| {
            !c.sink
                .source
                .as_deref()
                .is_some_and(|s| w.cx.is_generated_path(&s.path))
        });
    }
    let (wrappers, proposed) = rayon::join(wrappers_of, || grouping::propose(&mut calls));
    crate::findings::append(&mut out.backend_calls, calls);
    crate::findings::append(&mut out.wrappers, wrappers);
    crate::findings::append(&mut out.proposed_functions, proposed);
    // The working state is freed on another worker while the analysis goes on.
    rayon::spawn(move || drop((prepared, summaries, callers, by_owner, dependents)));
    drop(rt);
}

fn default_method(api: NetworkApi) -> Option<String> {
    match api {
        NetworkApi::Request | NetworkApi::DownloadFile => Some("GET".into()),
        NetworkApi::UploadFile => Some("POST".into()),
        NetworkApi::ConnectSocket => None,
    }
}
