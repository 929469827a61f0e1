//! Calls → cloud functions: one routing function per planned function, and on the client the
//! innermost wrapper's `wx.request` (one edit migrates every call site through it), else each
//! direct call, becomes `cloudRequest`. A URL no planned route matches still goes to
//! `wx.request` at run time, so a wrapper shared with other hosts keeps working.

use std::collections::{BTreeMap, BTreeSet};

use analyzer::findings::{BackendCall, Loc, NetworkApi};

use super::context::{Cx, Site, import_edit, runtime_dir};
use crate::changeset::{Changeset, Left};
use crate::edit::Edit;
use crate::generate::{self, Function, Mode, Route};
use crate::plan::RouteMode;

/// `GET /v2/lines/{lineId}` → (methods, `/v2/lines/:lineId`).
pub fn route_pattern(route: &str) -> (Vec<String>, String) {
    let (methods, path) = route.split_once(' ').unwrap_or(("*", route));
    let methods = methods
        .split('|')
        .map(|m| m.trim().to_uppercase())
        .collect();
    let mut segs: Vec<String> = Vec::new();
    let parts: Vec<&str> = path.split('/').collect();
    for (i, seg) in parts.iter().enumerate() {
        if let Some(open) = seg.find('{') {
            // A placeholder that ends the path and may hold slashes (`{url}`, `{path}`) takes
            // the rest; one inside a segment stands for that segment.
            let whole = open == 0 && seg.ends_with('}') && !seg[1..].contains('{');
            if i + 1 == parts.len()
                && whole
                && matches!(&seg[1..seg.len() - 1], "url" | "path" | "rest" | "value")
            {
                segs.push("*".into());
            } else {
                let name: String = seg[open + 1..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                segs.push(format!(
                    ":{}",
                    if name.is_empty() { "param" } else { &name }
                ));
            }
        } else {
            segs.push(seg.to_string());
        }
    }
    (methods, segs.join("/"))
}

fn origin_of(url: &str, host: &str) -> String {
    let scheme = if url.starts_with("http://") {
        "http"
    } else {
        "https"
    };
    format!("{scheme}://{}", host.to_lowercase())
}

/// The generated functions of the plan, with each route's origin taken from the calls.
pub fn functions(cx: &Cx<'_>) -> Vec<Function> {
    let f = &cx.analysis.findings;
    let by_id: BTreeMap<&str, &BackendCall> =
        f.backend_calls.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut out = Vec::new();
    for fp in &cx.plan.functions {
        // Requests and uploads move (downloads and sockets stay or are reported): a function
        // none of whose calls is one of those is not made.
        let requests = f
            .proposed_functions
            .iter()
            .filter(|p| p.host == fp.host)
            .flat_map(|p| p.calls.iter())
            .filter_map(|id| by_id.get(id.as_str()).copied())
            .any(|c| moves(c.api) && fp.routes.iter().any(|r| route_matches(&r.route, c)));
        if !requests {
            continue;
        }
        let url = f
            .backend_calls
            .iter()
            .find(|c| c.endpoint.host.as_deref() == Some(fp.host.as_str()))
            .map_or("https://", |c| c.endpoint.url.as_str());
        let origin = origin_of(url, &fp.host);
        let mut routes = Vec::new();
        for r in &fp.routes {
            let (methods, path) = route_pattern(&r.route);
            for method in methods {
                routes.push(Route {
                    id: r.route.clone(),
                    method,
                    origin: origin.clone(),
                    path: path.clone(),
                    target: origin.clone(),
                    mode: match r.mode {
                        RouteMode::Proxy => Mode::Proxy,
                        RouteMode::Handler => Mode::Handler,
                    },
                    handler: (r.mode == RouteMode::Handler).then(|| handler_file(&r.route)),
                });
            }
        }
        out.push(Function {
            name: fp.name.clone(),
            routes,
        });
    }
    out
}

/// Whether calls of `api` move into functions: `wx.request` through `cloudRequest`,
/// `wx.uploadFile` through `cloudUploadFile` (the file goes to storage, the function forwards
/// it to the old endpoint as the same multipart upload).
fn moves(api: NetworkApi) -> bool {
    matches!(api, NetworkApi::Request | NetworkApi::UploadFile)
}

/// The client function that replaces a moved call's `wx.*` API, with that API's name.
fn replacement(api: NetworkApi) -> Option<(&'static str, &'static str)> {
    match api {
        NetworkApi::Request => Some(("wx.request", "cloudRequest")),
        NetworkApi::UploadFile => Some(("wx.uploadFile", "cloudUploadFile")),
        _ => None,
    }
}

/// Whether a call is one of a route's (`METHOD path` as the grouping wrote it).
fn route_matches(route: &str, c: &BackendCall) -> bool {
    let (methods, path) = route.split_once(' ').unwrap_or(("", route));
    let method_ok = match &c.method {
        Some(m) => {
            methods.split('|').any(|x| x.eq_ignore_ascii_case(m)) || m.contains('|') && methods == m
        }
        None => true,
    };
    method_ok && c.endpoint.path.as_deref() == Some(path)
}

/// `GET /v2/lines/{lineId}` → `get-v2-lines-lineId.js`.
pub fn handler_file(route: &str) -> String {
    let mut s: String = route
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    format!("{}.js", s.trim_matches('-').to_lowercase())
}

fn at(loc: &Loc) -> String {
    format!("{}:{}:{}", loc.path, loc.line, loc.column)
}

/// The calls the plan moves: those on a planned function's host.
fn planned<'a>(cx: &'a Cx<'_>) -> Vec<&'a BackendCall> {
    let hosts: BTreeSet<&str> = cx.plan.functions.iter().map(|f| f.host.as_str()).collect();
    cx.analysis
        .findings
        .backend_calls
        .iter()
        .filter(|c| {
            c.endpoint
                .host
                .as_deref()
                .is_some_and(|h| hosts.contains(h))
        })
        .collect()
}

/// Says which calls stay on a third-party service the plan gives no function (see
/// [`crate::plan::third_party_hosts`]).
fn third_party_left(cx: &Cx<'_>, out: &mut Changeset) {
    let planned: BTreeSet<&str> = cx.plan.functions.iter().map(|f| f.host.as_str()).collect();
    let third = crate::plan::third_party_hosts(&cx.analysis.findings);
    for c in &cx.analysis.findings.backend_calls {
        let Some(host) = c.endpoint.host.as_deref() else {
            continue;
        };
        if !third.contains(host) || planned.contains(host) {
            continue;
        }
        out.left.push(Left {
            id: c.id.clone(),
            at: at(&c.sink),
            why: format!(
                "`{host}` is called only from the minified vendor file {}: a third-party service, not the app's backend, so the call stays",
                c.sink.path
            ),
            next: format!(
                "to move it anyway, add a function for host `{host}` to the plan (`migrate analyze --format json` lists its route under proposedFunctions)"
            ),
        });
    }
}

/// The site of a call's `wx.*` API in the package itself: the sink's text up to its argument
/// list, which must read `wx.request` (or `wx.uploadFile`).
fn package_site(cx: &Cx<'_>, call: &BackendCall) -> Result<Option<Site>, Left> {
    let sink = &call.sink;
    let (wx_api, name) = replacement(call.api).unwrap_or(("wx.request", "cloudRequest"));
    let Some(text) = cx.text(&sink.path) else {
        return Err(Left {
            id: String::new(),
            at: sink.path.clone(),
            why: "the file is not UTF-8 text, so its wx.request calls are not rewritten".into(),
            next: "save it as UTF-8 (DevTools reads it as UTF-8 anyway), then apply again".into(),
        });
    };
    let (s, e) = (sink.start as usize, sink.end as usize);
    let call_text = text.get(s..e).unwrap_or_default();
    let callee = &call_text[..call_text.find('(').unwrap_or(0)];
    if callee.replace(char::is_whitespace, "") != wx_api {
        return Err(Left {
            id: String::new(),
            at: format!("{}:{}", sink.path, text[..s].matches('\n').count() + 1),
            why: format!(
                "`{}` is not written as {wx_api}(…), so it is not rewritten",
                callee.trim()
            ),
            next: format!("call {name} from the generated migrate/cloud-request.js there by hand"),
        });
    }
    Ok(Some(Site {
        path: sink.path.clone(),
        start: s,
        end: s + callee.trim_end().len(),
        api: wx_api.to_string(),
        name,
        review: None,
    }))
}

/// Adds the function folders, the client runtime, and the client edits.
pub fn run(cx: &Cx<'_>, out: &mut Changeset) {
    third_party_left(cx, out);
    let mut fns = functions(cx);
    if fns.is_empty() {
        return;
    }
    let framework = cx.analysis.project.framework.as_ref();
    let sources = framework.map(|fw| super::framework::Sources::of(cx, fw));
    let mut wrappers_done: BTreeSet<&str> = BTreeSet::new();
    let mut runtimes: BTreeSet<String> = BTreeSet::new();
    // Per file, each site with the sink (path, start, end) of the call it moves.
    type Sink = (String, usize, usize);
    let mut sites: BTreeMap<String, Vec<(Site, Sink)>> = BTreeMap::new();
    let mut unreadable: BTreeSet<String> = BTreeSet::new();
    let mut rewritten: BTreeSet<(String, usize, usize)> = BTreeSet::new();
    for call in planned(cx) {
        match call.api {
            NetworkApi::Request | NetworkApi::UploadFile => {}
            NetworkApi::DownloadFile => continue,
            NetworkApi::ConnectSocket => {
                out.left.push(Left {
                    id: call.id.clone(),
                    at: at(&call.loc),
                    why: "a WebSocket cannot be served by a cloud function".into(),
                    next: "keep the socket server, or move the channel to database watch() / CloudBase realtime".into(),
                });
                continue;
            }
        }
        // Through a wrapper, its innermost one holds the wx.request: one edit there serves
        // every call site through it.
        let sink = &call.sink;
        if let Some(w) = call.via.last()
            && !wrappers_done.insert(w.as_str())
        {
            continue;
        }
        if sink.path.contains("/miniprogram_npm/") || sink.path.starts_with("miniprogram_npm/") {
            let (api, name) = replacement(call.api).unwrap_or(("wx.request", "cloudRequest"));
            out.left.push(Left {
                id: call.id.clone(),
                at: at(sink),
                why: format!("the {api} is inside an npm package (miniprogram_npm is rebuilt by DevTools' \"build npm\")"),
                next: format!("point the package's {} function at {name} where the app configures it, or fork the package", api.trim_start_matches("wx.")),
            });
            continue;
        }
        let site = match &sources {
            None => package_site(cx, call),
            Some(sources) => super::framework::site(cx, sources, call),
        };
        match site {
            Ok(None) => {}
            Ok(Some(site)) => sites.entry(site.path.clone()).or_default().push((
                site,
                (sink.path.clone(), sink.start as usize, sink.end as usize),
            )),
            Err(left) if left.id.is_empty() && !unreadable.insert(left.at.clone()) => {}
            Err(left) => out.left.push(left),
        }
    }
    for (path, sites) in sites {
        let Some(text) = cx.text(&path) else { continue };
        if cx.is_generated(text) {
            continue;
        }
        let runtime = match framework {
            None => runtime_dir(cx, &path),
            Some(fw) => super::framework::runtime_dir(fw),
        };
        let mut names: BTreeSet<&str> = BTreeSet::new();
        let mut seen: BTreeSet<usize> = BTreeSet::new();
        for (site, sink) in sites {
            rewritten.insert(sink);
            if !seen.insert(site.start) {
                continue;
            }
            let reason = format!("{} → {} (cloud function)", site.api, site.name);
            let edit = match &site.review {
                Some(why) => {
                    Edit::replace(site.start, site.end, site.name, format!("{reason}: {why}"))
                        .unsafe_()
                }
                None => Edit::replace(site.start, site.end, site.name, reason),
            };
            out.edit(&path, text, edit);
            names.insert(site.name);
        }
        if !names.is_empty() {
            let names = names.into_iter().collect::<Vec<_>>().join(", ");
            out.edit(
                &path,
                text,
                import_edit(cx, &path, text, &runtime, "cloud-request.js", &names),
            );
            runtimes.insert(runtime);
        }
    }
    // A function is made only for calls that now reach it.
    let moved: Vec<&BackendCall> = planned(cx)
        .into_iter()
        .filter(|c| {
            moves(c.api)
                && rewritten.contains(&(
                    c.sink.path.clone(),
                    c.sink.start as usize,
                    c.sink.end as usize,
                ))
        })
        .collect();
    let served: BTreeSet<&str> = cx
        .plan
        .functions
        .iter()
        .filter(|fp| {
            moved.iter().any(|c| {
                c.endpoint.host.as_deref() == Some(fp.host.as_str())
                    && fp.routes.iter().any(|r| route_matches(&r.route, c))
            })
        })
        .map(|fp| fp.name.as_str())
        .collect();
    fns.retain(|f| served.contains(f.name.as_str()));
    let root = cx.cloudfunction_root();
    for f in &fns {
        for (name, text) in generate::function_files(f) {
            out.create(
                format!("{root}{}/{name}", f.name),
                text,
                format!("cloud function {}", f.name),
            );
        }
        for r in f.routes.iter().filter(|r| r.mode == Mode::Handler) {
            let file = r.handler.clone().unwrap_or_default();
            let path = format!("{root}{}/handlers/{file}", f.name);
            if cx.exists(&path) {
                continue;
            }
            out.create(
                path,
                handler_template(r),
                format!("handler to port {}", r.id),
            );
        }
    }
    let client_routes = generate::client_routes(&fns);
    for dir in runtimes {
        let (js, dts) = match framework {
            None => (generate::CLOUD_REQUEST_JS.to_string(), CLOUD_REQUEST_DTS),
            Some(fw) => (
                super::framework::cloud_request_js(fw.name),
                super::framework::CLOUD_REQUEST_DTS,
            ),
        };
        out.create(
            format!("{dir}/cloud-request.js"),
            js,
            "the client side of the moved calls",
        );
        out.create(
            format!("{dir}/cloud-request.d.ts"),
            dts,
            "types of cloudRequest",
        );
        out.create(
            format!("{dir}/routes.js"),
            client_routes.clone(),
            "which URL goes to which function",
        );
    }
}

const CLOUD_REQUEST_DTS: &str = "// Generated by `migrate apply`.\n\
export declare function cloudRequest(options: WechatMiniprogram.RequestOption): WechatMiniprogram.RequestTask & Promise<WechatMiniprogram.RequestSuccessCallbackResult>;\n\
export declare function cloudUploadFile(options: WechatMiniprogram.UploadFileOption): WechatMiniprogram.UploadTask & Promise<WechatMiniprogram.UploadFileSuccessCallbackResult>;\n";

fn handler_template(r: &Route) -> String {
    format!(
        "// Port of `{id}` from {target}.\n\
         // Return {{ statusCode, header, data }} (or plain data for a 200). `req` has method, path,\n\
         // query, header and data as the app sent them (a moved wx.uploadFile: `req.upload`, with the\n\
         // stored file's fileID, the field name, fileName and formData); `ctx` is\n\
         // cloud.getWXContext() (OPENID...).\n\
         module.exports = async (req, ctx) => {{\n\
         \x20 throw new Error('{id} is not ported yet: set its mode back to proxy in the plan, or write it here');\n\
         }};\n",
        id = r.id,
        target = r.target
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_patterns() {
        assert_eq!(
            route_pattern("GET /v2/lines/{lineId}"),
            (vec!["GET".into()], "/v2/lines/:lineId".into())
        );
        assert_eq!(
            route_pattern("PUT|DELETE /v2/favorites/{lineId}"),
            (
                vec!["PUT".into(), "DELETE".into()],
                "/v2/favorites/:lineId".into()
            )
        );
        assert_eq!(
            route_pattern("GET /api/{url}"),
            (vec!["GET".into()], "/api/*".into())
        );
        assert_eq!(
            route_pattern("GET /a/item-{id}.png"),
            (vec!["GET".into()], "/a/:id".into())
        );
        assert_eq!(
            handler_file("GET /v2/lines/{lineId}"),
            "get-v2-lines-lineid.js"
        );
    }
}
