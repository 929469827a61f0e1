//! Every reference to a package asset, found in one pass over the parsed files: WXML attributes
//! (static, inline `style`, `{{ }}` traced to script data, `/dir/{{x}}.png` patterns), WXSS
//! `url()`, JS/TS string literals with the API they feed, JSON strings and tabBar icons.
//! Inline `data:` URIs are collected on the way.

pub(crate) mod trace;

use std::collections::HashMap;

use rayon::prelude::*;

use swc_common::Spanned;
use swc_ecma_ast::*;
use swc_ecma_visit::{Visit, VisitWith};

use crate::files::{FileData, Parsed};
use crate::findings::{AssetTarget, RefVia};
use crate::graph::Resolver;
use crate::js::BindingId;
use crate::js::JsFile;
use crate::json_doc::{Json, JsonKind};
use crate::literal::{str_value, top_level_inits, tpl_str, unwrap};
use crate::project::Project;
use crate::source::{self, FileKind};
use crate::span::{FileId, Span};
use crate::wxml::{self, Document, Segment};
use crate::wxss::{self, DataUri};

#[derive(Debug, Clone)]
pub struct Ref {
    pub from: FileId,
    pub asset: FileId,
    pub span: Span,
    pub via: RefVia,
    pub target: AssetTarget,
    pub binding: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Inline {
    pub span: Span,
    pub data: DataUri,
    pub target: AssetTarget,
}

#[derive(Debug, Default)]
pub struct Collected {
    pub refs: Vec<Ref>,
    pub inlines: Vec<Inline>,
}

/// The more restrictive of two targets (local > HTTPS > cloud file ID).
pub fn stricter(a: AssetTarget, b: AssetTarget) -> AssetTarget {
    let rank = |t| match t {
        AssetTarget::CloudFileId => 0,
        AssetTarget::HttpsUrl => 1,
        AssetTarget::Local => 2,
    };
    if rank(b) > rank(a) { b } else { a }
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

const MEDIA_EXTS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "mp3", "aac", "m4a", "wav", "ogg", "silk",
    "flac", "mp4", "mov", "m4v", "webm", "ttf", "otf", "woff", "woff2", "eot",
];

/// A media extension (any case), checked without allocating.
fn is_media_ext(word: &[u8]) -> bool {
    if word.len() < 3 || word.len() > 5 {
        return false;
    }
    let mut low = [0u8; 5];
    for (l, c) in low.iter_mut().zip(word) {
        *l = c.to_ascii_lowercase();
    }
    MEDIA_EXTS
        .iter()
        .any(|m| m.as_bytes() == &low[..word.len()])
}

/// A string that looks like a path to a package asset (not a URL, not a data URI).
pub fn looks_like_asset(s: &str) -> bool {
    let s = s.trim();
    // Cheap rejection first: the text before any `?`/`#` must end in a media extension.
    let path = s.split(['?', '#']).next().unwrap_or(s);
    let ext_ok = path.rfind('.').is_some_and(|i| {
        let ext = &path[i + 1..];
        ext.len() <= 5 && MEDIA_EXTS.iter().any(|m| m.eq_ignore_ascii_case(ext))
    });
    if !ext_ok {
        return false;
    }
    if s.is_empty() || s.len() > 512 || s.contains("://") || s.starts_with("//") {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    if lower.starts_with("data:") || lower.starts_with("wxfile:") || lower.starts_with("http") {
        return false;
    }
    let path = lower.split(['?', '#']).next().unwrap_or(&lower);
    if path.contains(char::is_whitespace) || path.contains('{') {
        return false;
    }
    MEDIA_EXTS.contains(&source::extension(path))
}

/// Byte offsets where a text may mention an asset (a `.png`-like extension, or `data:` opening
/// a string or a CSS `url(`): a quick scan that lets the syntax-tree walk skip every subtree
/// without one. With `first`, stops at the first. (`data:` as an object key, as in every
/// page's `data: { … }`, is not a mention.)
fn asset_mentions(text: &str, first: bool) -> Vec<u32> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(k) = memchr::memchr2(b'.', b':', &b[i..]) {
        let at = i + k;
        let hit = if b[at] == b':' {
            at >= 4 && b[at - 4..at].eq_ignore_ascii_case(b"data") && {
                let before = b[..at - 4].trim_ascii_end();
                before
                    .last()
                    .is_none_or(|c| matches!(c, b'\'' | b'"' | b'`' | b'('))
            }
        } else {
            let rest = &b[at + 1..b.len().min(at + 6)];
            let word = rest
                .iter()
                .position(|c| !c.is_ascii_alphanumeric())
                .map_or(rest, |e| &rest[..e]);
            is_media_ext(word)
        };
        if hit {
            out.push(at as u32);
            if first {
                break;
            }
        }
        i = at + 1;
    }
    out
}

fn default_target(kind: FileKind) -> AssetTarget {
    if kind == FileKind::Font {
        AssetTarget::HttpsUrl
    } else {
        AssetTarget::CloudFileId
    }
}

struct Collector<'a> {
    project: &'a Project,
    files: &'a [FileData],
    resolver: &'a Resolver,
    out: Collected,
    /// Script string literals (span without quotes) traced into WXML, with what the WXML
    /// attribute needs.
    flows: HashMap<Span, AssetTarget>,
}

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

impl Collector<'_> {
    fn resolve(&self, from: FileId, spec: &str) -> Option<FileId> {
        let spec = spec.trim();
        let spec = spec.split(['?', '#']).next().unwrap_or(spec);
        let found = self
            .resolver
            .resolve_with(self.project, from, spec, &[""])
            .or_else(|| {
                // A bare `images/x.png` in JS/WXML usually means from the root.
                (!spec.starts_with('.') && !spec.starts_with('/'))
                    .then(|| self.project.mp_file(spec))
                    .flatten()
            })?;
        self.project.file(found).kind.is_media().then_some(found)
    }

    fn push(
        &mut self,
        from: FileId,
        spec: &str,
        span: Span,
        via: RefVia,
        target: Option<AssetTarget>,
        binding: Option<String>,
    ) -> bool {
        let Some(asset) = self.resolve(from, spec) else {
            return false;
        };
        let kind = self.project.file(asset).kind;
        let target = match target {
            Some(t) => stricter(t, default_target(kind)),
            None => default_target(kind),
        };
        self.out.refs.push(Ref {
            from,
            asset,
            span,
            via,
            target,
            binding,
        });
        true
    }

    fn css_url(&mut self, from: FileId, u: &wxss::Url, via: RefVia) {
        if let Some(data) = &u.data {
            self.out.inlines.push(Inline {
                span: u.span,
                data: data.clone(),
                target: AssetTarget::HttpsUrl,
            });
        } else {
            self.push(
                from,
                &u.value,
                u.span,
                via,
                Some(AssetTarget::HttpsUrl),
                None,
            );
        }
    }

    /// The script beside a WXML file (same base name).
    fn sibling_script(&self, wxml: FileId) -> Option<&JsFile> {
        let mp = self.project.file(wxml).mp_path.as_deref()?;
        let base = mp.strip_suffix(".wxml")?;
        [".ts", ".js"].iter().find_map(|e| {
            let id = self.project.mp_file(&format!("{base}{e}"))?;
            match &self.files[id.index()].parsed {
                Parsed::Script(js) => Some(&**js),
                _ => None,
            }
        })
    }

    /// A WXML document; `leaves` are its script's data (empty without a script).
    fn wxml(&mut self, id: FileId, doc: &Document, leaves: &[trace::Leaf]) {
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

    /// A script, and the WXML whose bindings it feeds (a page or component).
    fn script(&mut self, js: &JsFile) {
        let wxml = self
            .project
            .file(js.file)
            .mp_path
            .as_deref()
            .and_then(|mp| mp.rsplit_once('.'))
            .and_then(|(base, _)| self.project.mp_file(&format!("{base}.wxml")))
            .filter(|w| self.sibling_script(*w).map(|s| s.file) == Some(js.file));
        let mentions = self.files[js.file.index()]
            .text
            .as_ref()
            .map(|t| asset_mentions(&t.text, false))
            .unwrap_or_default();
        if mentions.is_empty() {
            // No asset path in the script: its WXML's bindings cannot lead to one.
            if let Some(w) = wxml
                && let Parsed::Wxml(doc) = &self.files[w.index()].parsed
            {
                self.wxml(w, doc, &[]);
            }
            return;
        }
        // `setData({ pic: PIC })` may carry a path declared elsewhere: its calls are visited too.
        let mut mentions = mentions;
        if wxml.is_some()
            && let Some(t) = &self.files[js.file.index()].text
        {
            mentions.extend(t.text.match_indices("setData").map(|(i, _)| i as u32));
            mentions.sort_unstable();
        }
        let inits = top_level_inits(js);
        let mut v = JsStrings {
            js,
            ctx: Vec::new(),
            found: Vec::new(),
            leaves: wxml.map(|_| (&inits, trace::options_leaves(js, &inits))),
            mentions: &mentions,
        };
        js.program.visit_with(&mut v);
        if let Some(w) = wxml
            && let Parsed::Wxml(doc) = &self.files[w.index()].parsed
        {
            let leaves = v.leaves.take().map(|(_, l)| l).unwrap_or_default();
            self.wxml(w, doc, &leaves);
        }
        for (value, span, target) in v.found {
            if let Some(data) = DataUri::parse(&value) {
                let t = if data.kind() == FileKind::Font {
                    AssetTarget::HttpsUrl
                } else {
                    target.unwrap_or(AssetTarget::CloudFileId)
                };
                self.out.inlines.push(Inline {
                    span,
                    data,
                    target: t,
                });
            } else {
                self.push(js.file, &value, span, RefVia::JsString, target, None);
            }
        }
    }

    fn json(&mut self, id: FileId, j: &Json) {
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

    fn tab_bar(&mut self) {
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

/// JS/TS string literals with the target the API they feed requires.
struct JsStrings<'a> {
    js: &'a JsFile,
    /// Targets imposed by enclosing calls / methods.
    ctx: Vec<AssetTarget>,
    found: Vec<(String, Span, Option<AssetTarget>)>,
    /// For a page/component script: its top-level consts and the data leaves gathered so far
    /// (options, then every `setData`), for tracing its WXML bindings in the same walk.
    leaves: Option<(&'a HashMap<BindingId, &'a Expr>, Vec<trace::Leaf>)>,
    /// Sorted offsets of possible asset mentions: subtrees without one are skipped.
    mentions: &'a [u32],
}

impl JsStrings<'_> {
    /// `wx.<api>(...)` on the global `wx`: the target its arguments need.
    fn api_target(&self, call: &CallExpr) -> Option<AssetTarget> {
        let Callee::Expr(c) = &call.callee else {
            return None;
        };
        let Expr::Member(m) = unwrap(c) else {
            return None;
        };
        let MemberProp::Ident(api) = &m.prop else {
            return None;
        };
        let on_wx = matches!(unwrap(&m.obj), Expr::Ident(i) if self.js.is_global_named(i, "wx"));
        match api.sym.as_ref() {
            "previewImage" | "previewMedia" if on_wx => Some(AssetTarget::CloudFileId),
            "loadFontFace" if on_wx => Some(AssetTarget::HttpsUrl),
            "showToast" | "setTabBarItem" | "setNavigationBarColor" if on_wx => {
                Some(AssetTarget::Local)
            }
            // wx.getFileSystemManager().readFile(Sync): reads the package file itself.
            "readFile" | "readFileSync" => Some(AssetTarget::Local),
            _ => None,
        }
    }

    fn target(&self) -> Option<AssetTarget> {
        self.ctx.last().copied()
    }

    /// Whether a node's source range holds a possible asset mention.
    fn worth(&self, sp: swc_common::Span) -> bool {
        let s = self.js.span(sp);
        let i = self.mentions.partition_point(|&m| m < s.start);
        self.mentions.get(i).is_some_and(|&m| m < s.end)
    }
}

impl Visit for JsStrings<'_> {
    fn visit_stmt(&mut self, s: &Stmt) {
        if self.worth(s.span()) {
            s.visit_children_with(self);
        }
    }

    fn visit_expr(&mut self, e: &Expr) {
        if self.worth(e.span()) {
            e.visit_children_with(self);
        }
    }

    fn visit_prop_or_spread(&mut self, p: &PropOrSpread) {
        if self.worth(p.span()) {
            p.visit_children_with(self);
        }
    }

    fn visit_call_expr(&mut self, call: &CallExpr) {
        if let Some((inits, leaves)) = &mut self.leaves {
            trace::setdata_leaves(self.js, inits, call, leaves);
        }
        match self.api_target(call) {
            Some(t) => {
                self.ctx.push(t);
                call.visit_children_with(self);
                self.ctx.pop();
            }
            None => call.visit_children_with(self),
        }
    }

    fn visit_method_prop(&mut self, m: &MethodProp) {
        let share = is_share_key(&m.key);
        if share {
            self.ctx.push(AssetTarget::HttpsUrl);
        }
        m.visit_children_with(self);
        if share {
            self.ctx.pop();
        }
    }

    fn visit_key_value_prop(&mut self, kv: &KeyValueProp) {
        let share =
            is_share_key(&kv.key) && matches!(unwrap(&kv.value), Expr::Fn(_) | Expr::Arrow(_));
        if share {
            self.ctx.push(AssetTarget::HttpsUrl);
        }
        kv.visit_children_with(self);
        if share {
            self.ctx.pop();
        }
    }

    fn visit_assign_expr(&mut self, a: &AssignExpr) {
        // audioCtx.src = '/audio/x.mp3' (InnerAudioContext / BackgroundAudioManager)
        if let AssignTarget::Simple(SimpleAssignTarget::Member(m)) = &a.left
            && matches!(&m.prop, MemberProp::Ident(p) if p.sym == *"src")
            && let Some(s) = str_value(&a.right)
        {
            let span = self.js.span(unwrap(&a.right).span());
            self.found
                .push((s, inner(span), Some(AssetTarget::CloudFileId)));
            return;
        }
        a.visit_children_with(self);
    }

    fn visit_lit(&mut self, l: &Lit) {
        if let Lit::Str(s) = l {
            let v = s.value.to_string_lossy();
            let span = inner(self.js.span(s.span));
            // `loadFontFace({ source: 'url("/fonts/x.ttf")' })`
            let (v, span) = match css_url_value(&v) {
                Some((value, at)) if span.len() == v.len() => (
                    value.to_string(),
                    Span::new(
                        span.file,
                        span.start as usize + at,
                        span.start as usize + at + value.len(),
                    ),
                ),
                Some((value, _)) => (value.to_string(), span),
                None => (v.into_owned(), span),
            };
            if looks_like_asset(&v) || v.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("data:")) {
                self.found.push((v, span, self.target()));
            }
        }
    }

    fn visit_tpl(&mut self, t: &Tpl) {
        if t.exprs.is_empty()
            && let Some(s) = tpl_str(t)
            && looks_like_asset(&s)
        {
            let span = self.js.span(t.span);
            self.found.push((s, inner(span), self.target()));
        }
        t.visit_children_with(self);
    }
}

/// The reference inside a CSS `url(…)` written as a string, with its offset.
fn css_url_value(s: &str) -> Option<(&str, usize)> {
    let t = s.trim_start();
    let lead = s.len() - t.len();
    if !t.get(..4)?.eq_ignore_ascii_case("url(") {
        return None;
    }
    let body = &t[4..];
    let close = body.rfind(')')?;
    let raw = &body[..close];
    let q = raw.trim().trim_matches(|c| c == '"' || c == '\'');
    let at = lead + 4 + raw.find(q)?;
    Some((q, at))
}

/// `onShareAppMessage` / `onShareTimeline` as a property key, without allocating.
fn is_share_key(k: &PropName) -> bool {
    let name: &str = match k {
        PropName::Ident(i) => &i.sym,
        PropName::Str(s) => match s.value.as_str() {
            Some(v) => v,
            None => return false,
        },
        _ => return false,
    };
    matches!(name, "onShareAppMessage" | "onShareTimeline")
}

/// A string literal's span without its quotes.
fn inner(s: Span) -> Span {
    if s.len() >= 2 {
        Span::new(s.file, s.start as usize + 1, s.end as usize - 1)
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_like_strings() {
        assert!(looks_like_asset("/images/a.png"));
        assert!(looks_like_asset("../../audio/a.MP3?v=2"));
        assert!(!looks_like_asset("https://cdn.x.com/a.png"));
        assert!(!looks_like_asset("cloud://env/a.png"));
        assert!(!looks_like_asset("data:image/png;base64,AAAA"));
        assert!(!looks_like_asset("a.js"));
        assert!(!looks_like_asset("/images/{{x}}.png"));
        assert_eq!(asset_mentions("const a = '/x/Y.PNG'", false), vec![15]);
        assert_eq!(
            asset_mentions("url(data:font/woff;base64,AA) a.jpg b.mp3", true),
            vec![8]
        );
        assert!(asset_mentions("const a = b.c; x.js: 1 .pngx", false).is_empty());
        // A page's `data:` key is not a data URI; a string or `url(` opening with one is.
        assert!(asset_mentions("Page({ data: { a: 1 }, x: {data:y} })", false).is_empty());
        assert_eq!(
            asset_mentions(
                "a = 'data:image/png;base64,AA'; b = `url( data:x/y,1)`",
                false
            ),
            vec![9, 46]
        );
        assert_eq!(
            relative("pages/index", "images/a.png").as_deref(),
            Some("../../images/a.png")
        );
        assert_eq!(
            relative("", "images/a.png").as_deref(),
            Some("./images/a.png")
        );
    }

    #[test]
    fn targets() {
        assert_eq!(
            stricter(AssetTarget::CloudFileId, AssetTarget::Local),
            AssetTarget::Local
        );
        assert_eq!(
            stricter(AssetTarget::HttpsUrl, AssetTarget::CloudFileId),
            AssetTarget::HttpsUrl
        );
    }
}
