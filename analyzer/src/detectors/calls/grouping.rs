//! Proposed cloud functions: backend calls grouped by host and the first path segment after
//! the host's common prefix (`/v2/lines/*`, `/v2/stations/*` → `lines`, `stations`), one
//! routing function per resource group.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::findings::{BackendCall, NetworkApi, ProposedFunction};

fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// Segments that version or mount an API rather than name a resource.
fn is_api_prefix(seg: &str) -> bool {
    let s = seg.to_ascii_lowercase();
    let version =
        s.len() > 1 && s.starts_with('v') && s[1..].chars().all(|c| c.is_ascii_digit() || c == '.');
    version
        || matches!(
            s.as_str(),
            "api"
                | "apis"
                | "rest"
                | "public"
                | "open"
                | "openapi"
                | "wx"
                | "wxapp"
                | "mp"
                | "miniapp"
                | "miniprogram"
                | "app"
                | "service"
                | "services"
                | "gateway"
        )
}

/// Placeholder names differ between call sites (`{id}`, `{orderNo}`): compare routes without.
fn route_key(route: &str) -> String {
    let mut out = String::with_capacity(route.len());
    let mut depth = 0;
    for c in route.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    out.push_str("{}");
                }
            }
            '}' if depth > 0 => depth -= 1,
            _ if depth > 0 => {}
            c => out.push(c),
        }
    }
    out
}

fn is_placeholder(seg: &str) -> bool {
    seg.contains('{')
}

/// A cloud function name from a path segment: `ride-code` → `rideCode`.
fn function_name(seg: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in seg.chars() {
        if c.is_ascii_alphanumeric() {
            if upper && !out.is_empty() {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "api");
    }
    out
}

/// The proposed functions for the calls; each call served by one is given its name
/// (`BackendCall::function`).
pub(super) fn propose(calls: &mut [BackendCall]) -> Vec<ProposedFunction> {
    let groups = group(calls);
    let mut out = Vec::with_capacity(groups.len());
    for (p, members) in groups {
        for i in members {
            calls[i].function = Some(p.name.clone());
        }
        out.push(p);
    }
    out
}

/// The proposed functions, each with the indices in `calls` of the calls it serves.
fn group(calls: &[BackendCall]) -> Vec<(ProposedFunction, Vec<usize>)> {
    // host → indices of calls with a known path
    let mut by_host: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, c) in calls.iter().enumerate() {
        // A socket cannot be served by a function; a file download fetches a file, it calls
        // no backend route (the file can move to storage, the call stays).
        if matches!(c.api, NetworkApi::ConnectSocket | NetworkApi::DownloadFile)
            || c.endpoint.path.is_none()
        {
            continue;
        }
        by_host
            .entry(c.endpoint.host.clone().unwrap_or_default())
            .or_default()
            .push(i);
    }
    let mut out: Vec<(ProposedFunction, Vec<usize>)> = Vec::new();
    for (host, idx) in by_host {
        let paths: Vec<Vec<&str>> = idx
            .iter()
            .map(|&i| segments(calls[i].endpoint.path.as_deref().unwrap_or("")))
            .collect();
        // The host's common API prefix (`/v2`, `/api/public/v1`, `/v1/{tenant}`), never a
        // whole path.
        let min_len = paths.iter().map(Vec::len).min().unwrap_or(0);
        let mut prefix = 0;
        while prefix + 1 < min_len
            && (is_api_prefix(paths[0][prefix]) || is_placeholder(paths[0][prefix]))
            && paths.iter().all(|p| p[prefix] == paths[0][prefix])
        {
            prefix += 1;
        }
        // Each call's group: its first segment after the prefix, behind the run-time segments
        // that lead to it (`{subDomain}/shop` for `/{subDomain}/shop/goods/list`).
        let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (k, &i) in idx.iter().enumerate() {
            let rest = paths[k].get(prefix..).unwrap_or(&[]);
            let lead = rest.iter().take_while(|s| is_placeholder(s)).count();
            let seg = match rest.get(lead) {
                Some(_) => rest[..=lead].join("/"),
                None => String::new(),
            };
            groups.entry(seg).or_default().push(i);
        }
        let common: String = paths
            .first()
            .map(|p| p[..prefix].iter().map(|s| format!("/{s}")).collect())
            .unwrap_or_default();
        // Each group's routes are listed (and deduplicated) in parallel.
        let groups: Vec<(String, Vec<usize>)> = groups.into_iter().collect();
        out.par_extend(groups.into_par_iter().map(|(seg, members)| {
            let mut routes: Vec<String> = members
                .iter()
                .map(|&i| {
                    let c = &calls[i];
                    [
                        c.method.as_deref().unwrap_or("GET"),
                        " ",
                        c.endpoint.path.as_deref().unwrap_or("/"),
                    ]
                    .concat()
                })
                .collect();
            routes.sort_unstable();
            routes.dedup();
            // Neighbours that differ only in placeholder names are one route.
            let mut keyed: Vec<(String, String)> =
                routes.into_iter().map(|r| (route_key(&r), r)).collect();
            keyed.dedup_by(|a, b| a.0 == b.0);
            let routes = keyed.into_iter().map(|(_, r)| r).collect();
            let name = match seg.rsplit('/').next() {
                Some(last) if !last.is_empty() => function_name(last),
                _ => "api".to_string(),
            };
            let path_prefix = if seg.is_empty() {
                if common.is_empty() {
                    "/".to_string()
                } else {
                    common.clone()
                }
            } else {
                format!("{common}/{seg}")
            };
            let p = ProposedFunction {
                id: String::new(),
                name,
                host: host.clone(),
                path_prefix,
                routes,
                calls: Vec::new(),
            };
            (p, members)
        }));
    }
    // Names are unique: a clash between hosts gets the host's first label.
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (p, _) in &out {
        *counts.entry(p.name.clone()).or_default() += 1;
    }
    for (p, _) in &mut out {
        if counts[&p.name] > 1 {
            let label = p.host.split('.').next().unwrap_or("");
            if !label.is_empty() {
                p.name = format!("{}-{}", p.name, label);
            }
        }
    }
    out.sort_by(|(a, _), (b, _)| (&a.host, &a.path_prefix).cmp(&(&b.host, &b.path_prefix)));
    // Still the same (two groups of one host, hosts sharing a first label): `-2`, `-3`, … in
    // that order, so that every function has a folder of its own.
    let mut taken: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for (p, _) in &mut out {
        let base = p.name.clone();
        let mut n = 1;
        while !taken.insert(p.name.clone()) {
            n += 1;
            p.name = format!("{base}-{n}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{Endpoint, Loc};

    fn call(api: NetworkApi, host: &str, path: &str) -> BackendCall {
        let loc = Loc {
            path: "a.js".into(),
            start: 0,
            end: 1,
            line: 1,
            column: 1,
            source: None,
            span: None,
        };
        BackendCall {
            id: String::new(),
            loc: loc.clone(),
            api,
            package: "main".into(),
            via: Vec::new(),
            method: Some("GET".into()),
            endpoint: Endpoint {
                url: format!("https://{host}{path}"),
                host: Some(host.into()),
                path: Some(path.into()),
                resolution: crate::findings::Resolution::Static,
                dynamic: Vec::new(),
            },
            inside: None,
            callers: Vec::new(),
            uncalled_wrapper: false,
            function: None,
            sink: loc,
        }
    }

    #[test]
    fn downloads_are_not_candidates_and_names_are_unique() {
        let mut calls = vec![
            call(NetworkApi::Request, "api.a.example.com", "/v2/orders/list"),
            call(NetworkApi::Request, "api.b.example.com", "/v2/orders/list"),
            call(NetworkApi::Request, "api.c.example.com", "/v2/orders/list"),
            call(
                NetworkApi::DownloadFile,
                "api.a.example.com",
                "/v2/files/a.pdf",
            ),
        ];
        let fns = propose(&mut calls);
        let names: Vec<&str> = fns.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["orders-api", "orders-api-2", "orders-api-3"]);
        assert!(
            fns.iter()
                .all(|f| f.routes.iter().all(|r| !r.contains("files")))
        );
        assert_eq!(calls[3].function, None);
    }
}
