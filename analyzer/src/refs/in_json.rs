//! References in JSON files: strings that look like asset paths (with their key path), and
//! the tabBar icons of `app.json` (through theme variables), which stay local.

use crate::findings::{AssetTarget, RefVia};
use crate::json_doc::{Json, JsonKind};
use crate::span::{FileId, Span};

use super::asset_path::looks_like_asset;
use super::collector::Collector;
use super::model::Ref;

impl Collector<'_> {
    pub(super) fn json(&mut self, id: FileId, j: &Json) {
        let f = self.project.file(id);
        let Some(mp) = f.mp_path.as_deref() else {
            return;
        };
        // tabBar icons (app.json and the theme file) are handled with their theme variables.
        if self.project.app.theme_location.as_deref() == Some(mp) {
            return;
        }
        let skip_tab = mp == "app.json";
        let mut leaves = Vec::new();
        json_strings(j, &mut Vec::new(), &mut leaves, 0);
        for (key, value, start, end) in leaves {
            if skip_tab && key.starts_with("tabBar") {
                continue;
            }
            if looks_like_asset(value) {
                // The span without the quotes.
                let span = Span::new(
                    id,
                    start as usize + 1,
                    (end as usize).saturating_sub(1).max(start as usize + 1),
                );
                self.push(id, value, span, RefVia::JsonConfig { key }, None, None);
            }
        }
    }

    pub(super) fn tab_bar(&mut self) {
        let Some(tab) = &self.project.app.tab_bar else {
            return;
        };
        let Some(app) = self.project.app_json else {
            return;
        };
        for icon in tab.items.iter().flat_map(|i| &i.icons) {
            let spec = format!("/{}", icon.path.trim_start_matches('/'));
            if let Some(asset) = self.resolver.resolve_with(self.project, app, &spec, &[""]) {
                self.out.refs.push(Ref {
                    from: icon.span.file,
                    asset,
                    span: icon.span,
                    via: RefVia::TabBarIcon,
                    target: AssetTarget::Local,
                    binding: icon.via.clone(),
                });
            }
        }
    }
}

/// Asset-like strings of a JSON value with their dotted key path (`a.b[].c`).
fn json_strings<'a>(
    j: &'a Json,
    path: &mut Vec<&'a str>,
    out: &mut Vec<(String, &'a str, u32, u32)>,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    match &j.kind {
        JsonKind::String(s) if looks_like_asset(s) => {
            let mut key = String::new();
            for p in path.iter() {
                if !key.is_empty() && *p != "[]" {
                    key.push('.');
                }
                key.push_str(p);
            }
            out.push((key, s, j.start, j.end));
        }
        JsonKind::Array(items) => {
            path.push("[]");
            for it in items {
                json_strings(it, path, out, depth + 1);
            }
            path.pop();
        }
        JsonKind::Object(members) => {
            for m in members {
                path.push(&m.key);
                json_strings(&m.value, path, out, depth + 1);
                path.pop();
            }
        }
        _ => {}
    }
}
