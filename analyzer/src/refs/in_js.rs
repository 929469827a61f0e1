//! References in scripts: string literals that look like asset paths (or are `data:` URIs),
//! with the target the API they feed requires; a page's or component's script also gathers
//! its data leaves, for tracing its WXML bindings in the same walk.

use std::collections::HashMap;

use swc_common::Spanned;
use swc_ecma_ast::*;
use swc_ecma_visit::{Visit, VisitWith};

use crate::files::Parsed;
use crate::findings::{AssetTarget, RefVia};
use crate::js::{BindingId, JsFile};
use crate::literal::{str_value, top_level_inits, tpl_str, unwrap};
use crate::source::FileKind;
use crate::span::Span;
use crate::wxss::DataUri;

use super::asset_path::asset_mentions;
use super::asset_path::looks_like_asset;
use super::collector::{Collector, inner};
use super::model::Inline;
use super::trace;

impl Collector<'_> {
    /// A script, and the WXML whose bindings it feeds (a page or component).
    pub(super) fn script(&mut self, js: &JsFile) {
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
