//! Stable ids: every finding gets an id made from what it is (its kind, its file, its span or
//! name), never from its place in a list, so an id survives a re-run and edits to unrelated
//! files. Findings refer to each other by these ids.
//!
//! | finding | id |
//! |---|---|
//! | data set | `<path>#<export>` or `<path>#data.<key>` (given by the data detector) |
//! | large asset | `asset:<path>` |
//! | asset reference | `ref:<path>:<start>-<end>` |
//! | inline asset | `inline:<path>:<start>-<end>` |
//! | duplicate set | `duplicates:<first file>` |
//! | backend call | `call:<path>:<start>-<end>` |
//! | wrapper | `<path>#<name>` (given by the calls detector) |
//! | proposed function | `function:<name>` |
//!
//! Paths are project-relative; `start`/`end` are byte offsets. Two findings of a kind that would
//! share an id (two routes from one call site, one text referring to two assets) are told apart
//! by `~` and a short hash of what differs between them (the route, the asset).

#![warn(missing_docs)]

use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;

use crate::findings::{Findings, LargeAsset, Loc};

impl Findings {
    /// Gives every finding its id and fills the cross-references made from them: the calls
    /// made through each wrapper (from the calls' `via`) and the calls each proposed function
    /// serves (from the calls' `function`). Run once, after the detectors' findings are merged.
    pub fn assign_ids(&mut self) {
        for a in &mut self.large_assets {
            a.id = format!("asset:{}", a.path);
        }
        let refs: Vec<_> = self
            .large_assets
            .iter_mut()
            .flat_map(|a| {
                let LargeAsset {
                    references, path, ..
                } = a;
                let path: &String = path;
                references.iter_mut().map(move |r| (r, path))
            })
            .collect();
        let mut ids: Vec<String> = refs.iter().map(|(r, _)| span_id("ref", &r.loc)).collect();
        distinguish(&mut ids, |i| {
            let (r, asset) = &refs[i];
            format!("{asset}\0{}", r.binding.as_deref().unwrap_or(""))
        });
        for ((r, _), id) in refs.into_iter().zip(ids) {
            r.id = id;
        }

        let mut ids: Vec<String> = self
            .inline_assets
            .iter()
            .map(|a| span_id("inline", &a.loc))
            .collect();
        distinguish(&mut ids, |i| self.inline_assets[i].mime.clone());
        for (a, id) in self.inline_assets.iter_mut().zip(ids) {
            a.id = id;
        }

        for d in &mut self.duplicate_assets {
            d.id = format!("duplicates:{}", d.files.first().map_or("", String::as_str));
        }

        let mut ids: Vec<String> = self
            .backend_calls
            .par_iter()
            .map(|c| span_id("call", &c.loc))
            .collect();
        distinguish(&mut ids, |i| {
            let c = &self.backend_calls[i];
            format!(
                "{:?}\0{}\0{}\0{}",
                c.api,
                c.via.join("\0"),
                c.method.as_deref().unwrap_or(""),
                c.endpoint.url
            )
        });
        self.backend_calls
            .par_iter_mut()
            .zip(ids)
            .for_each(|(c, id)| c.id = id);

        self.keep_clear_of_cloud_names();
        for p in &mut self.proposed_functions {
            p.id = format!("function:{}", p.name);
        }
        let mut ids: Vec<String> = self
            .cloud_uses
            .iter()
            .map(|u| span_id("cloud", &u.loc))
            .collect();
        distinguish(&mut ids, |i| {
            let u = &self.cloud_uses[i];
            format!("{:?}\0{}", u.api, u.target.as_deref().unwrap_or(""))
        });
        for (u, id) in self.cloud_uses.iter_mut().zip(ids) {
            u.id = id;
        }
        self.link_calls();
    }

    /// A proposed function or collection never takes the name of one the app already has (a
    /// folder under `cloudfunctionRoot`, a function it calls, a collection it reads): the
    /// migration adds next to them and overwrites nothing (`-migrated`, then `-2`, … appended).
    fn keep_clear_of_cloud_names(&mut self) {
        use crate::findings::CloudApi;
        let names = |apis: &[CloudApi]| -> std::collections::BTreeSet<String> {
            self.cloud_uses
                .iter()
                .filter(|u| apis.contains(&u.api))
                .filter_map(|u| u.target.clone())
                .collect()
        };
        let functions = names(&[CloudApi::Function, CloudApi::CallFunction]);
        let collections = names(&[CloudApi::Collection]);
        let free = |taken: &std::collections::BTreeSet<String>, name: &str, sep: &str| {
            if !taken.contains(name) {
                return name.to_string();
            }
            let base = format!("{name}{sep}migrated");
            let mut out = base.clone();
            let mut n = 1;
            while taken.contains(&out) {
                n += 1;
                out = format!("{base}{sep}{n}");
            }
            out
        };
        if !functions.is_empty() {
            let mut taken = functions.clone();
            taken.extend(self.proposed_functions.iter().map(|p| p.name.clone()));
            for p in &mut self.proposed_functions {
                if functions.contains(&p.name) {
                    let new = free(&taken, &p.name, "-");
                    taken.insert(new.clone());
                    for c in &mut self.backend_calls {
                        if c.function.as_deref() == Some(p.name.as_str()) {
                            c.function = Some(new.clone());
                        }
                    }
                    p.name = new;
                }
            }
        }
        if !collections.is_empty() {
            for d in &mut self.static_data {
                if collections.contains(&d.collection) {
                    d.collection = free(&collections, &d.collection, "_");
                }
            }
        }
    }

    /// Fills `Wrapper::call_sites` and `ProposedFunction::calls` with the ids of the calls
    /// that name them, in report order.
    fn link_calls(&mut self) {
        let mut sites: HashMap<&str, Vec<String>> = HashMap::default();
        let mut served: HashMap<&str, Vec<String>> = HashMap::default();
        for c in &self.backend_calls {
            for (k, w) in c.via.iter().enumerate() {
                // A chain through one wrapper twice (recursion) lists the call once.
                if !c.via[..k].contains(w) {
                    sites.entry(w).or_default().push(c.id.clone());
                }
            }
            if let Some(f) = &c.function {
                served.entry(f).or_default().push(c.id.clone());
            }
        }
        for w in &mut self.wrappers {
            w.call_sites = sites.remove(w.id.as_str()).unwrap_or_default();
            // A wrapper whose calls are its own (a minified vendor function with an endpoint of
            // its own): the calls made inside it.
            if w.call_sites.is_empty() {
                w.call_sites = self
                    .backend_calls
                    .iter()
                    .filter(|c| c.via.is_empty() && c.inside.as_deref() == Some(w.id.as_str()))
                    .map(|c| c.id.clone())
                    .collect();
            }
        }
        for p in &mut self.proposed_functions {
            p.calls = served.remove(p.name.as_str()).unwrap_or_default();
        }
    }
}

/// `<prefix>:<path>:<start>-<end>`.
fn span_id(prefix: &str, loc: &Loc) -> String {
    use std::fmt::Write;
    // Sized up front: `format!` would grow the string several times over.
    let mut id = String::with_capacity(prefix.len() + loc.path.len() + 24);
    id.push_str(prefix);
    id.push(':');
    id.push_str(&loc.path);
    let _ = write!(id, ":{}-{}", loc.start, loc.end);
    id
}

/// Makes the ids unique: ids shared by several findings get `~` and a short hash of `key(i)`
/// (what tells those findings apart); findings alike in that too get a further `~2`, `~3`, in
/// list order.
fn distinguish(ids: &mut [String], key: impl Fn(usize) -> String) {
    let shared = |ids: &[String]| -> Vec<usize> {
        let mut count: HashMap<&str, u32> = HashMap::default();
        for id in ids.iter() {
            *count.entry(id).or_default() += 1;
        }
        (0..ids.len())
            .filter(|&i| count[ids[i].as_str()] > 1)
            .collect()
    };
    let clash = shared(ids);
    if clash.is_empty() {
        return;
    }
    for i in clash {
        let hash = blake3::hash(key(i).as_bytes()).to_hex();
        ids[i] = format!("{}~{}", ids[i], &hash[..8]);
    }
    let mut seen: HashMap<String, u32> = HashMap::default();
    for i in shared(ids) {
        let n = seen.entry(ids[i].clone()).or_default();
        *n += 1;
        if *n > 1 {
            ids[i] = format!("{}~{n}", ids[i]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::distinguish;

    #[test]
    fn shared_ids_are_told_apart_by_what_differs_then_by_order() {
        let mut ids: Vec<String> = ["a", "b", "a", "a"].map(String::from).to_vec();
        let keys = ["x", "y", "z", "x"];
        distinguish(&mut ids, |i| keys[i].to_string());
        assert_eq!(ids[1], "b");
        assert!(ids[0].starts_with("a~") && ids[2].starts_with("a~"));
        assert_ne!(ids[0], ids[2]);
        assert_eq!(ids[3], format!("{}~2", ids[0]));
        let unique: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), 4);
    }

    #[test]
    fn proposed_names_keep_clear_of_existing_functions() {
        use crate::findings::{CloudApi, CloudUse, Findings, Loc, ProposedFunction};
        let loc = Loc {
            path: "cloudfunctions/login/index.js".into(),
            start: 0,
            end: 0,
            line: 1,
            column: 1,
            source: None,
            span: None,
        };
        let use_of = |api, target: &str| CloudUse {
            id: String::new(),
            loc: loc.clone(),
            api,
            target: Some(target.into()),
            package: "-".into(),
            in_function: None,
        };
        let proposed = |name: &str| ProposedFunction {
            id: String::new(),
            name: name.into(),
            host: "api.example.com".into(),
            path_prefix: "/".into(),
            routes: Vec::new(),
            calls: Vec::new(),
        };
        let mut f = Findings {
            cloud_uses: vec![
                use_of(CloudApi::Function, "login"),
                use_of(CloudApi::CallFunction, "orders"),
            ],
            proposed_functions: vec![
                proposed("login"),
                proposed("orders"),
                proposed("login-migrated"),
            ],
            ..Findings::default()
        };
        f.assign_ids();
        let names: Vec<&str> = f
            .proposed_functions
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(
            names,
            ["login-migrated-2", "orders-migrated", "login-migrated"]
        );
    }
}
