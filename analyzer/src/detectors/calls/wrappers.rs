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

use super::endpoint::{Ev, collapse_alt, endpoint, method_text};
use super::grouping;
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
    target: Target,
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
            let c = &f.calls[self.ci];
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

fn api_name(api: NetworkApi) -> &'static str {
    match api {
        NetworkApi::Request => "wx.request",
        NetworkApi::UploadFile => "wx.uploadFile",
        NetworkApi::DownloadFile => "wx.downloadFile",
        NetworkApi::ConnectSocket => "wx.connectSocket",
    }
}

fn prepare(w: &World<'_>) -> Vec<Prepared> {
    let per_file: Vec<Vec<Prepared>> = (0..w.files.len())
        .into_par_iter()
        .map(|fi| {
            let f = &w.files[fi];
            warm(f.calls.iter().map(|c| c.callee));
            let mut out = Vec::new();
            for (ci, c) in f.calls.iter().enumerate() {
                let Some(target) = w.resolve_callee(fi, c.callee, c.owner) else {
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

/// The routes a call takes, in terms of the calling function's parameters.
fn routes_of(w: &World<'_>, p: &Prepared, summaries: &HashMap<Gfn, Vec<Route>>) -> Vec<Route> {
    match p.target {
        Target::Sink(api) => {
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
        Target::Fn(g) => {
            let me = p.owner.map(|o| (p.fi, o));
            if Some(g) == me {
                return Vec::new();
            }
            let Some(routes) = summaries.get(&g) else {
                return Vec::new();
            };
            let args = |i| p.arg(w, i);
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
                        url: subst_with(&r.url, &args, 0),
                        method: r.method.as_ref().map(|m| subst_with(m, &args, 0)),
                    }
                })
                .collect()
        }
    }
}

/// Routes, each with whether it [`forwards`] a parameter.
type Marked = Vec<(Route, bool)>;

/// [`routes_of`], each with whether it [`forwards`] a parameter (in an npm package every route
/// is handed to the callers, see [`vendored`]).
fn routes_marked(w: &World<'_>, p: &Prepared, summaries: &HashMap<Gfn, Vec<Route>>) -> Marked {
    let through = vendored::passes_through(w, p.fi, p.owner);
    routes_of(w, p, summaries)
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
    let prepared = prepare(w);
    w.set_called(
        prepared
            .iter()
            .filter_map(|p| match p.target {
                Target::Fn(g) if p.owner.map(|o| (p.fi, o)) != Some(g) => Some(g),
                _ => None,
            })
            .collect(),
    );
    // Each function's calls; and (a fixpoint over a worklist: a function's summary depends
    // only on the summaries of the functions it calls, so when one changes only its callers
    // are looked at again) each function's callers, sorted.
    let mut by_owner: HashMap<Gfn, Vec<usize>> = HashMap::default();
    let mut dependents: HashMap<Gfn, Vec<Gfn>> = HashMap::default();
    for (i, p) in prepared.iter().enumerate() {
        if let Some(o) = p.owner {
            by_owner.entry((p.fi, o)).or_default().push(i);
            if let Target::Fn(t) = p.target {
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
        let results: Vec<(Gfn, Vec<(usize, Marked)>)> = frontier
            .par_chunks(WARM_CHUNK)
            .flat_map_iter(|chunk| {
                // The first arguments these calls will read (a URL, an options object).
                warm(chunk.iter().flat_map(|g| &by_owner[g]).filter_map(|&i| {
                    let p = &prepared[i];
                    let reads = match p.target {
                        Target::Sink(_) => true,
                        Target::Fn(t) => summaries.contains_key(&t),
                    };
                    let pending = p.args.first()?.get().is_none();
                    let arg = w.files[p.fi].calls[p.ci].args.first()?;
                    (reads && pending).then_some(&*arg.expr)
                }));
                chunk.iter().map(|&g| {
                    let per_call = by_owner[&g]
                        .iter()
                        .map(|&i| (i, routes_marked(w, &prepared[i], &summaries)))
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
        if let Target::Fn(g) = p.target
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
    let mut kept: Vec<(&Prepared, Route)> = Vec::new();
    let mut seen = HashSet::default();
    // Routes that only forward a parameter of a function someone calls are dropped as soon as
    // they are made (in parallel), so that few are held at once.
    let all_routes: Vec<Vec<Route>> = prepared
        .par_iter()
        .zip(last.into_par_iter())
        .map(|(p, routes)| {
            let routes = routes.unwrap_or_else(|| routes_marked(w, p, &summaries));
            let called = p.owner.is_some_and(|o| callers.contains_key(&(p.fi, o)))
                || vendored::passes_through(w, p.fi, p.owner);
            routes
                .into_iter()
                .filter(|(_, fw)| !(called && *fw))
                .map(|(r, _)| r)
                .collect()
        })
        .collect();
    for (p, routes) in prepared.iter().zip(all_routes) {
        for r in routes {
            if !seen.insert((p.span, r.sink, r.via.clone())) {
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
        .map(|(p, r)| {
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
                    loc: w.cx.loc(p.span),
                    api: r.api,
                    package: w.cx.package_name(file),
                    via: r.via.iter().map(|&g| id_of(g)).collect(),
                    method,
                    endpoint: endpoint(w, &url, p.span),
                    inside,
                    callers: call_callers,
                },
                r.sink,
            )
        })
        .collect();
    calls.par_sort_by(|(a, sa), (b, sb)| {
        (&a.loc.path, a.loc.start, &a.via, sa).cmp(&(&b.loc.path, b.loc.start, &b.via, sb))
    });
    let base = out.backend_calls.len();
    let calls: Vec<BackendCall> = calls.into_par_iter().map(|(c, _)| c).collect();

    // Wrappers, each with the calls made through it; proposed functions alongside.
    let wrappers_of = || {
        let mut sites: HashMap<&str, Vec<usize>> = HashMap::default();
        for (i, c) in calls.iter().enumerate() {
            for id in &c.via {
                let v = sites.entry(id.as_str()).or_default();
                if v.last() != Some(&(base + i)) {
                    v.push(base + i);
                }
            }
        }
        let mut wrappers: Vec<Wrapper> = summaries
            .iter()
            .filter_map(|(&g, routes)| {
                let id = w.fn_id(g);
                let first = routes.iter().min_by_key(|r| (r.via.len(), r.sink))?;
                let calls_what = match first.via.first() {
                    Some(&h) => w.fn_id(h),
                    None => api_name(first.api).to_string(),
                };
                let def = &w.files[g.0].fns[g.1];
                // A page's own lifecycle or handler reading a URL from its event is not a wrapper.
                let framework = ["Page.", "Component.", "App.", "Behavior."];
                if !callers.contains_key(&g) && framework.iter().any(|f| def.name.starts_with(f)) {
                    return None;
                }
                // An npm package's endpoint functions pass through; the one around the network
                // API call (or one forwarding a URL) is the wrapper.
                if w.origin(g.0) == Origin::Npm
                    && !first.via.is_empty()
                    && !routes.iter().any(|r| forwards(r, first.sink))
                {
                    return None;
                }
                let call_sites = sites.get(id.as_str()).cloned().unwrap_or_default();
                Some(Wrapper {
                    loc: w.cx.loc(w.files[g.0].js.span(def.span)),
                    id,
                    kind: def.kind,
                    calls: calls_what,
                    call_sites,
                })
            })
            .collect();
        // In a minified vendor file, a function the app reaches that calls a network API with
        // an endpoint of its own: the calls are its own (`inside` it).
        let mut own: Vec<(Gfn, NetworkApi)> = prepared
            .iter()
            .filter_map(|p| match (p.target, p.owner) {
                (Target::Sink(api), Some(o))
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
            let call_sites = calls
                .iter()
                .enumerate()
                .filter(|(_, c)| c.inside.as_deref() == Some(id.as_str()))
                .map(|(i, _)| base + i)
                .collect();
            wrappers.push(Wrapper {
                loc: w.cx.loc(w.files[g.0].js.span(def.span)),
                id,
                kind: def.kind,
                calls: api_name(api).to_string(),
                call_sites,
            });
        }
        wrappers.sort_by(|a, b| a.id.cmp(&b.id));
        wrappers
    };

    let (wrappers, proposed) = rayon::join(wrappers_of, || grouping::propose(&calls, base));
    crate::findings::append(&mut out.backend_calls, calls);
    crate::findings::append(&mut out.wrappers, wrappers);
    crate::findings::append(&mut out.proposed_functions, proposed);
    // The working state is freed on another worker while the analysis goes on.
    rayon::spawn(move || drop((prepared, summaries, callers, by_owner, dependents)));
}

fn default_method(api: NetworkApi) -> Option<String> {
    match api {
        NetworkApi::Request | NetworkApi::DownloadFile => Some("GET".into()),
        NetworkApi::UploadFile => Some("POST".into()),
        NetworkApi::ConnectSocket => None,
    }
}
