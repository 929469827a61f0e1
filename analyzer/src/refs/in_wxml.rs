//! References in WXML: attribute values (static paths, inline `style` `url()`, string
//! literals inside `{{ }}`, `{{ }}` paths traced into the page script's data), and
//! `/dir/{{x}}.png` patterns matched against the package's files.

use crate::findings::{AssetTarget, RefVia};
use crate::span::{FileId, Span};
use crate::wxml::{self, Document, Segment};
use crate::wxss::{self, DataUri};

use super::asset_path::looks_like_asset;
use super::collector::{Collector, default_target, inner};
use super::model::{Inline, Ref, stricter};
use super::trace;

impl Collector<'_> {
    /// A WXML document; `leaves` are its script's data (empty without a script).
    pub(super) fn wxml(&mut self, id: FileId, doc: &Document, leaves: &[trace::Leaf]) {
        let script = self.sibling_script(id).map(|js| js.file);
        let path = self.project.file(id).path.clone();
        for (ei, el) in doc.elements.iter().enumerate() {
            for attr in &el.attrs {
                let Some(v) = &attr.value else { continue };
                // Control and event attributes carry no asset (`wx:for` would match a whole list).
                let n = attr.name.as_str();
                if n.starts_with("wx:")
                    || n.starts_with("bind")
                    || n.starts_with("catch")
                    || n.starts_with("capture-")
                    || n.starts_with("mut-bind")
                {
                    continue;
                }
                // Made only for the references found (most attributes carry none).
                let via = || RefVia::WxmlAttribute {
                    tag: el.name.clone(),
                    attribute: attr.name.clone(),
                };
                let target = attr_target(&el.name, &attr.name);
                if attr.name == "style" {
                    for seg in &v.segments {
                        if let Segment::Text { text, span } = seg {
                            let (urls, _) =
                                wxss::urls_in_fragment(id, &path, text, span.start as usize);
                            for u in &urls {
                                self.css_url(id, u, RefVia::InlineStyle);
                            }
                        }
                    }
                    // A mustache inside the style (`url({{bg}})`) is traced below too.
                }
                if let Some(s) = v.as_static() {
                    if looks_like_asset(s) {
                        self.push(id, s, v.span, via(), target, None);
                    } else if let Some(data) = DataUri::parse(s.trim()) {
                        self.out.inlines.push(Inline {
                            span: v.span,
                            data,
                            target: target.unwrap_or(AssetTarget::CloudFileId),
                        });
                    }
                    continue;
                }
                let style_target = (attr.name == "style").then_some(AssetTarget::HttpsUrl);
                let target = style_target.or(target);
                // `/images/{{name}}.png`: a pattern over the package's files.
                if v.as_single_mustache().is_none() {
                    self.pattern(id, v, via(), target);
                }
                for seg in &v.segments {
                    let Segment::Mustache { expr, span } = seg else {
                        continue;
                    };
                    let refs = trace::scan_expr(expr);
                    for (s, a, b) in &refs.strings {
                        if looks_like_asset(s) {
                            let sp =
                                Span::new(id, span.start as usize + a, span.start as usize + b);
                            self.push(id, s, sp, via(), target, None);
                        }
                    }
                    for p in &refs.paths {
                        let Some(dp) = trace::data_path(doc, ei, p) else {
                            continue;
                        };
                        let Some(js_file) = script else {
                            continue;
                        };
                        let hits: Vec<trace::Leaf> = trace::lookup(leaves, &dp)
                            .filter(|l| looks_like_asset(&l.value))
                            .cloned()
                            .collect();
                        for l in hits {
                            // Resolved against the script's folder (the same as the WXML's).
                            if let Some(asset) = self.resolve(js_file, &l.value) {
                                let kind = self.project.file(asset).kind;
                                let t = target.map_or(default_target(kind), |t| {
                                    stricter(t, default_target(kind))
                                });
                                let flow = self.flows.entry(inner(l.span)).or_insert(t);
                                *flow = stricter(*flow, t);
                                self.out.refs.push(Ref {
                                    from: id,
                                    asset,
                                    span: *span,
                                    via: via(),
                                    target: t,
                                    binding: Some(l.path.clone()),
                                });
                            }
                        }
                    }
                }
            }
        }
    }

    fn pattern(&mut self, id: FileId, v: &wxml::Value, via: RefVia, target: Option<AssetTarget>) {
        let mut re = String::from("^");
        let mut literal_len = 0;
        for s in &v.segments {
            match s {
                Segment::Text { text, .. } => {
                    re.push_str(&regex::escape(text.trim()));
                    literal_len += text.trim().len();
                }
                Segment::Mustache { .. } => re.push_str("[^/]*"),
            }
        }
        re.push('$');
        let Some(first) = v.segments.first() else {
            return;
        };
        let Segment::Text { text, .. } = first else {
            return;
        };
        if literal_len < 4
            || !looks_like_asset(&v.raw.replace(['{', '}'], "x"))
            || !text.contains('/')
        {
            return;
        }
        let Ok(re) = regex::Regex::new(&re) else {
            return;
        };
        // Match against paths as written: absolute from the root, relative from the file.
        let from_mp = self.project.file(id).mp_path.clone().unwrap_or_default();
        let dir = crate::graph::resolve::dir_of(&from_mp).to_string();
        let absolute = text.trim_start().starts_with('/');
        let hits: Vec<(FileId, String)> = self
            .project
            .files
            .iter()
            .filter(|f| f.kind.is_media())
            .filter_map(|f| {
                let mp = f.mp_path.as_deref()?;
                let written = if absolute {
                    format!("/{mp}")
                } else {
                    relative(&dir, mp)?
                };
                re.is_match(&written).then_some((f.id, written))
            })
            .collect();
        for (asset, _) in hits {
            let kind = self.project.file(asset).kind;
            self.out.refs.push(Ref {
                from: id,
                asset,
                span: v.span,
                via: via.clone(),
                target: target.map_or(default_target(kind), |t| stricter(t, default_target(kind))),
                binding: Some(v.raw.clone()),
            });
        }
    }
}

/// `mp` written relative to `dir` (`../../images/x.png`).
fn relative(dir: &str, mp: &str) -> Option<String> {
    let d: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    let m: Vec<&str> = mp.split('/').collect();
    let common = d.iter().zip(&m).take_while(|(a, b)| a == b).count();
    let mut out = String::new();
    for _ in common..d.len() {
        out.push_str("../");
    }
    if out.is_empty() {
        out.push_str("./");
    }
    out.push_str(&m[common..].join("/"));
    Some(out)
}

/// What a WXML attribute can take (miniprogram-layout.md §1.6); `None`: by asset kind.
fn attr_target(tag: &str, attr: &str) -> Option<AssetTarget> {
    match (tag, attr) {
        ("image" | "cover-image", "src") | ("video", "src" | "poster") => {
            Some(AssetTarget::CloudFileId)
        }
        ("audio", _) | ("web-view", _) | (_, "style") => Some(AssetTarget::HttpsUrl),
        ("map", "controls") => Some(AssetTarget::Local),
        ("map", _) => Some(AssetTarget::HttpsUrl),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative("pages/index", "images/a.png").as_deref(),
            Some("../../images/a.png")
        );
        assert_eq!(
            relative("", "images/a.png").as_deref(),
            Some("./images/a.png")
        );
    }
}
