//! The collection over the whole project: each file by its kind (in parallel), then the tabBar
//! icons, then the targets WXML bindings impose on the script literals they were traced to.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::files::{FileData, Parsed};
use crate::findings::{AssetTarget, RefVia};
use crate::graph::Resolver;
use crate::project::Project;
use crate::source::FileKind;
use crate::span::{FileId, Span};

use super::collector::Collector;
use super::model::{Collected, stricter};

/// Collects every asset reference and inline `data:` URI of the project (files in parallel).
pub fn collect(project: &Project, files: &[FileData], resolver: &Resolver) -> Collected {
    let new = || Collector {
        project,
        files,
        resolver,
        out: Collected::default(),
        flows: HashMap::new(),
    };
    let parts: Vec<(Collected, HashMap<Span, AssetTarget>)> = (0..files.len())
        .into_par_iter()
        .map(|i| {
            let mut c = new();
            let id = FileId(i as u32);
            match &files[i].parsed {
                // A page's WXML is handled with its script (which traces its bindings).
                Parsed::Wxml(doc) if c.sibling_script(id).is_none() => c.wxml(id, doc, &[]),
                Parsed::Wxml(_) => {}
                Parsed::Wxss(sheet) => {
                    for u in &sheet.urls {
                        c.css_url(id, u, RefVia::WxssUrl);
                    }
                }
                Parsed::Script(js) if project.file(id).kind != FileKind::Wxs => c.script(js),
                // DevTools' own settings (`project.config.json`, `project.private.config.json`)
                // name paths for the uploader (`packOptions.ignore`), not for the app at run time.
                Parsed::Json(_) if is_devtools_config(project, id) => {}
                Parsed::Json(j) => c.json(id, j),
                _ => {}
            }
            (c.out, c.flows)
        })
        .collect();
    let mut c = new();
    for (out, flows) in parts {
        c.out.refs.extend(out.refs);
        c.out.inlines.extend(out.inlines);
        for (span, t) in flows {
            let f = c.flows.entry(span).or_insert(t);
            *f = stricter(*f, t);
        }
    }
    c.tab_bar();
    for r in &mut c.out.refs {
        if matches!(r.via, RefVia::JsString)
            && let Some(t) = c.flows.get(&r.span)
        {
            r.target = stricter(r.target, *t);
        }
    }
    c.out
}

/// Every reference from a file to an asset file: (from, asset, span of the reference).
pub fn asset_references(
    project: &Project,
    files: &[FileData],
    resolver: &Resolver,
) -> Vec<(FileId, FileId, Span)> {
    collect(project, files, resolver)
        .refs
        .into_iter()
        .map(|r| (r.from, r.asset, r.span))
        .collect()
}

/// Whether a JSON file is WeChat DevTools' project settings.
fn is_devtools_config(project: &Project, id: FileId) -> bool {
    let path = &project.file(id).path;
    let name = path.rsplit('/').next().unwrap_or(path);
    name == "project.config.json" || name == "project.private.config.json"
}
