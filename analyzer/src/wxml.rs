//! WXML: a small tolerant tokenizer and tree builder with byte spans.
//!
//! WXML is not HTML: tags are custom (`<swiper-item>`, `<van-button/>`), attribute values carry
//! `{{ }}` mustache expressions, `<wxs>` holds inline script, and there are no void elements.
//! The parser never fails: broken markup (an unterminated comment or tag, a stray closing tag,
//! an unclosed `{{`) is recovered from and reported as a diagnostic with its span.
//!
//! The document is flat: [`Document::elements`] in source order, each with the index of its
//! parent, so callers can walk up (e.g. to the enclosing `wx:for`) without a recursive tree.

use crate::diagnostic::Diagnostic;
use crate::span::{FileId, Span};
use memchr::memchr;

/// A piece of an attribute value or text: literal text or a `{{ }}` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Literal text (entities are not decoded).
    Text { text: String, span: Span },
    /// The expression between `{{` and `}}` (trimmed), and the span of the expression text.
    Mustache { expr: String, span: Span },
}

impl Segment {
    pub fn span(&self) -> Span {
        match self {
            Segment::Text { span, .. } | Segment::Mustache { span, .. } => *span,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Value {
    /// The value as written, between the quotes.
    pub raw: String,
    /// The span of `raw` (inside the quotes).
    pub span: Span,
    pub segments: Vec<Segment>,
}

impl Value {
    /// The value when it holds no `{{ }}`.
    pub fn as_static(&self) -> Option<&str> {
        self.segments
            .iter()
            .all(|s| matches!(s, Segment::Text { .. }))
            .then_some(self.raw.as_str())
    }

    /// The expression when the value is exactly one `{{ expr }}` (surrounding blanks allowed).
    pub fn as_single_mustache(&self) -> Option<&str> {
        let mut found = None;
        for s in &self.segments {
            match s {
                Segment::Mustache { expr, .. } if found.is_none() => found = Some(expr.as_str()),
                Segment::Text { text, .. } if text.trim().is_empty() => {}
                _ => return None,
            }
        }
        found
    }
}

#[derive(Debug, Clone)]
pub struct Attribute {
    pub name: String,
    pub name_span: Span,
    /// `None` for a bare attribute (`indicator-dots`).
    pub value: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct Element {
    pub name: String,
    /// The whole start tag, `<` to `>`.
    pub tag_span: Span,
    pub attrs: Vec<Attribute>,
    /// Index of the parent element in [`Document::elements`].
    pub parent: Option<usize>,
    pub self_closing: bool,
    /// End of the element (after its closing tag, or where it was implicitly closed).
    pub end: u32,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&Attribute> {
        self.attrs.iter().find(|a| a.name == name)
    }

    /// An attribute's value, if it has one.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.attr(name).and_then(|a| a.value.as_ref())
    }
}

#[derive(Debug, Clone)]
pub struct TextNode {
    pub span: Span,
    pub parent: Option<usize>,
    pub segments: Vec<Segment>,
}

#[derive(Debug, Clone, Default)]
pub struct Document {
    pub elements: Vec<Element>,
    pub texts: Vec<TextNode>,
    /// Spans of `<!-- -->` comments.
    pub comments: Vec<Span>,
}

/// What a WXML dependency is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DepKind {
    /// `<import src>`: templates from another WXML file.
    Import,
    /// `<include src>`: another WXML file's content in place.
    Include,
    /// `<wxs src module>`: a WXS script.
    Wxs,
}

/// The files a WXML document depends on: `<import src>`, `<include src>`, `<wxs src>`, with the
/// span of the `src` value. Paths are as written (relative to the file, or `/`-absolute).
pub fn dependencies(doc: &Document) -> Vec<(DepKind, String, Span)> {
    doc.elements
        .iter()
        .filter_map(|e| {
            let kind = match e.name.as_str() {
                "import" => DepKind::Import,
                "include" => DepKind::Include,
                "wxs" => DepKind::Wxs,
                _ => return None,
            };
            let v = e.value("src")?;
            let src = v.as_static()?.trim();
            (!src.is_empty()).then(|| (kind, src.to_string(), v.span))
        })
        .collect()
}

/// Splits text at `{{ … }}`. `base` is the byte offset of `text` in the file.
pub fn segments(
    file: FileId,
    text: &str,
    base: usize,
    path: &str,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let Some(open) = text[pos..].find("{{").map(|i| pos + i) else {
            break;
        };
        if open > pos {
            out.push(Segment::Text {
                text: text[pos..open].to_string(),
                span: Span::new(file, base + pos, base + open),
            });
        }
        let inner = open + 2;
        let close = find_mustache_end(text, inner);
        let (end, next) = match close {
            Some(c) => (c, c + 2),
            None => {
                diags.push(
                    Diagnostic::warning(
                        "wxml/unclosed-mustache",
                        format!("`{path}`: `{{{{` is never closed with `}}}}`"),
                    )
                    .at(path, Some(Span::new(file, base + open, base + open + 2)))
                    .help("close the expression with `}}`"),
                );
                (text.len(), text.len())
            }
        };
        let raw = &text[inner..end];
        let lead = raw.len() - raw.trim_start().len();
        let trimmed = raw.trim();
        out.push(Segment::Mustache {
            expr: trimmed.to_string(),
            span: Span::new(
                file,
                base + inner + lead,
                base + inner + lead + trimmed.len(),
            ),
        });
        pos = next;
    }
    if pos < text.len() {
        out.push(Segment::Text {
            text: text[pos..].to_string(),
            span: Span::new(file, base + pos, base + text.len()),
        });
    }
    out
}

/// The `}}` ending a mustache that starts at `from`, skipping `}}` inside string literals. An
/// unterminated string falls back to the first `}}`.
fn find_mustache_end(text: &str, from: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut i = from;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) => {
                if c == b'\\' {
                    i += 1;
                } else if c == q || c == b'\n' {
                    quote = None;
                }
            }
            None => {
                if c == b'\'' || c == b'"' {
                    quote = Some(c);
                } else if c == b'}' && b.get(i + 1) == Some(&b'}') {
                    // `}}}` ends with the last two braces (an object literal closes first).
                    let mut j = i;
                    while b.get(j + 2) == Some(&b'}') {
                        j += 1;
                    }
                    return Some(j);
                }
            }
        }
        i += 1;
    }
    find(b, from, b"}}")
}

fn is_name_byte(c: u8) -> bool {
    !(c.is_ascii_whitespace() || matches!(c, b'>' | b'/' | b'=' | b'<' | b'"' | b'\''))
}

/// Elements whose content is raw text (not markup).
const RAW_TEXT: &[&str] = &["wxs"];

/// Tags commonly written without a closing tag; closing them implicitly is not reported.
const OFTEN_UNCLOSED: &[&str] = &["import", "include", "input", "image", "icon", "img", "br"];

/// Parses a WXML document. Never fails; problems become diagnostics.
pub fn parse(file: FileId, path: &str, text: &str) -> (Document, Vec<Diagnostic>) {
    let mut p = Parser {
        file,
        path,
        text,
        b: text.as_bytes(),
        pos: 0,
        doc: Document::default(),
        stack: Vec::new(),
        diags: Vec::new(),
    };
    p.run();
    (p.doc, p.diags)
}

struct Parser<'a> {
    file: FileId,
    path: &'a str,
    text: &'a str,
    b: &'a [u8],
    pos: usize,
    doc: Document,
    /// Open elements (indices into `doc.elements`).
    stack: Vec<usize>,
    diags: Vec<Diagnostic>,
}

impl Parser<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start, end)
    }

    fn warn(&mut self, code: &'static str, msg: String, start: usize, end: usize, help: &str) {
        let d = Diagnostic::warning(code, format!("`{}`: {msg}", self.path))
            .at(self.path, Some(self.span(start, end)))
            .help(help);
        self.diags.push(d);
    }

    fn run(&mut self) {
        // A BOM is not text.
        if self.text.starts_with('\u{feff}') {
            self.pos = 3;
        }
        while self.pos < self.b.len() {
            let Some(lt) = self.next_tag_lt(self.pos) else {
                self.text_node(self.pos, self.b.len());
                self.pos = self.b.len();
                break;
            };
            if lt > self.pos {
                self.text_node(self.pos, lt);
            }
            self.pos = lt;
            let rest = &self.b[lt..];
            if rest.starts_with(b"<!--") {
                self.comment(lt);
            } else if rest.starts_with(b"</") {
                self.close_tag(lt);
            } else if rest.len() > 1 && (rest[1].is_ascii_alphabetic() || rest[1] == b'_') {
                self.open_tag(lt);
            } else if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
                // Doctype or processing instruction: skip to `>`.
                let end = memchr(b'>', rest).map_or(self.b.len(), |i| lt + i + 1);
                self.pos = end;
            } else {
                // A lone `<` in text (`a < b`).
                let end = memchr(b'<', &self.b[lt + 1..]).map_or(self.b.len(), |i| lt + 1 + i);
                self.text_node(lt, end);
                self.pos = end;
            }
        }
        let end = self.b.len();
        while let Some(open) = self.stack.pop() {
            self.doc.elements[open].end = end as u32;
            let e = &self.doc.elements[open];
            if !OFTEN_UNCLOSED.contains(&e.name.as_str()) {
                let (s, t, name) = (e.tag_span.start, e.tag_span.end, e.name.clone());
                self.warn(
                    "wxml/unclosed-tag",
                    format!("`<{name}>` is never closed"),
                    s as usize,
                    t as usize,
                    "add the closing tag or write the element as `<tag/>`",
                );
            }
        }
    }

    /// The next `<` at or after `from` that is not inside a text `{{ }}`.
    fn next_tag_lt(&self, from: usize) -> Option<usize> {
        let mut i = from;
        while i < self.b.len() {
            match self.b[i] {
                b'<' => return Some(i),
                b'{' if self.b.get(i + 1) == Some(&b'{') => {
                    // A `{{` whose `}}` only comes after markup (`</x>`, `/>`) is unclosed.
                    i = match find_mustache_end(self.text, i + 2) {
                        Some(c)
                            if !self.text[i + 2..c].contains("</")
                                && !self.text[i + 2..c].contains("/>") =>
                        {
                            c + 2
                        }
                        _ => i + 2,
                    };
                }
                _ => i += 1,
            }
        }
        None
    }

    fn text_node(&mut self, start: usize, end: usize) {
        if start >= end {
            return;
        }
        let raw = &self.text[start..end];
        if raw.trim().is_empty() {
            return;
        }
        let segments = segments(self.file, raw, start, self.path, &mut self.diags);
        self.doc.texts.push(TextNode {
            span: self.span(start, end),
            parent: self.stack.last().copied(),
            segments,
        });
    }

    fn comment(&mut self, start: usize) {
        match find(self.b, start + 4, b"-->") {
            Some(i) => {
                self.doc.comments.push(self.span(start, i + 3));
                self.pos = i + 3;
            }
            None => {
                self.warn(
                    "wxml/unclosed-comment",
                    "comment is never closed; the rest of the file is ignored".into(),
                    start,
                    start + 4,
                    "close the comment with `-->`",
                );
                self.doc.comments.push(self.span(start, self.b.len()));
                self.pos = self.b.len();
            }
        }
    }

    fn close_tag(&mut self, start: usize) {
        let name_start = start + 2;
        let mut i = name_start;
        while i < self.b.len() && is_name_byte(self.b[i]) {
            i += 1;
        }
        let name = self.text[name_start..i].to_string();
        let end = memchr(b'>', &self.b[i..]).map_or(self.b.len(), |j| i + j + 1);
        if end == self.b.len() && self.b.last() != Some(&b'>') {
            self.warn(
                "wxml/unclosed-tag",
                format!("closing tag `</{name}` is not terminated by `>`"),
                start,
                i,
                "add the missing `>`",
            );
        }
        self.pos = end;
        match self
            .stack
            .iter()
            .rposition(|&e| self.doc.elements[e].name == name)
        {
            Some(at) => {
                while self.stack.len() > at + 1 {
                    let Some(inner) = self.stack.pop() else { break };
                    self.doc.elements[inner].end = start as u32;
                    let e = &self.doc.elements[inner];
                    if !OFTEN_UNCLOSED.contains(&e.name.as_str()) {
                        let (s, t, iname) = (e.tag_span.start, e.tag_span.end, e.name.clone());
                        self.warn(
                            "wxml/unclosed-tag",
                            format!("`<{iname}>` is not closed before `</{name}>`"),
                            s as usize,
                            t as usize,
                            "add the closing tag or write the element as `<tag/>`",
                        );
                    }
                }
                if let Some(e) = self.stack.pop() {
                    self.doc.elements[e].end = end as u32;
                }
            }
            None => self.warn(
                "wxml/stray-closing-tag",
                format!("`</{name}>` closes no open element"),
                start,
                end,
                "remove the closing tag or add the matching opening tag",
            ),
        }
    }

    fn open_tag(&mut self, start: usize) {
        let name_start = start + 1;
        let mut i = name_start;
        while i < self.b.len() && is_name_byte(self.b[i]) {
            i += 1;
        }
        let name = self.text[name_start..i].to_string();
        let mut attrs = Vec::new();
        let mut self_closing = false;
        let mut terminated = false;
        loop {
            while i < self.b.len() && self.b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i >= self.b.len() {
                break;
            }
            match self.b[i] {
                b'>' => {
                    i += 1;
                    terminated = true;
                    break;
                }
                b'/' if self.b.get(i + 1) == Some(&b'>') => {
                    i += 2;
                    self_closing = true;
                    terminated = true;
                    break;
                }
                b'<' => break, // a new tag starts: this one was never closed
                b'/' | b'=' | b'"' | b'\'' => {
                    i += 1; // stray character
                }
                _ => {
                    let (attr, next) = self.attribute(i);
                    attrs.push(attr);
                    i = next;
                }
            }
        }
        if !terminated {
            self.warn(
                "wxml/unterminated-tag",
                format!("start tag `<{name}` is not terminated by `>`"),
                start,
                i,
                "add the missing `>`",
            );
        }
        let idx = self.doc.elements.len();
        self.doc.elements.push(Element {
            name: name.clone(),
            tag_span: self.span(start, i),
            attrs,
            parent: self.stack.last().copied(),
            self_closing,
            end: i as u32,
        });
        self.pos = i;
        if self_closing || !terminated {
            return;
        }
        if RAW_TEXT.contains(&name.as_str()) {
            let close = format!("</{name}");
            match find(self.b, i, close.as_bytes()) {
                Some(c) => {
                    self.pos = c;
                    self.stack.push(idx);
                }
                None => {
                    self.warn(
                        "wxml/unclosed-tag",
                        format!("`<{name}>` is never closed"),
                        start,
                        i,
                        "add the closing tag",
                    );
                    self.doc.elements[idx].end = self.b.len() as u32;
                    self.pos = self.b.len();
                }
            }
            return;
        }
        self.stack.push(idx);
    }

    /// One attribute starting at `i`; returns it and the position after it.
    fn attribute(&mut self, start: usize) -> (Attribute, usize) {
        let mut i = start;
        while i < self.b.len() && is_name_byte(self.b[i]) {
            i += 1;
        }
        let name = self.text[start..i].to_string();
        let name_span = self.span(start, i);
        let mut j = i;
        while j < self.b.len() && self.b[j].is_ascii_whitespace() {
            j += 1;
        }
        if self.b.get(j) != Some(&b'=') {
            return (
                Attribute {
                    name,
                    name_span,
                    value: None,
                },
                i,
            );
        }
        j += 1;
        while j < self.b.len() && self.b[j].is_ascii_whitespace() {
            j += 1;
        }
        let (vstart, vend, next) = match self.b.get(j) {
            Some(&q) if q == b'"' || q == b'\'' => match memchr(q, &self.b[j + 1..]) {
                Some(k) => (j + 1, j + 1 + k, j + 2 + k),
                None => {
                    // Unterminated: the value runs to the end of the line or the next `>`.
                    let stop = self.b[j + 1..]
                        .iter()
                        .position(|&c| c == b'\n' || c == b'>')
                        .map_or(self.b.len(), |k| j + 1 + k);
                    self.warn(
                        "wxml/unterminated-attribute",
                        format!("the value of `{name}` is missing its closing quote"),
                        j,
                        stop,
                        "add the closing quote",
                    );
                    (j + 1, stop, stop)
                }
            },
            _ => {
                let mut k = j;
                while k < self.b.len()
                    && !self.b[k].is_ascii_whitespace()
                    && self.b[k] != b'>'
                    && !(self.b[k] == b'/' && self.b.get(k + 1) == Some(&b'>'))
                {
                    k += 1;
                }
                (j, k, k)
            }
        };
        let raw = &self.text[vstart..vend];
        let segments = segments(self.file, raw, vstart, self.path, &mut self.diags);
        (
            Attribute {
                name,
                name_span,
                value: Some(Value {
                    raw: raw.to_string(),
                    span: self.span(vstart, vend),
                    segments,
                }),
            },
            next,
        )
    }
}

/// The first `needle` in `hay` at or after `from`.
fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay.get(from..)?, needle).map(|i| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> (Document, Vec<Diagnostic>) {
        parse(FileId(0), "t.wxml", text)
    }

    fn at(text: &str, s: Span) -> &str {
        &text[s.range()]
    }

    #[test]
    fn elements_attributes_and_mustaches() {
        let t = r#"<view class="a {{cls}}" hidden><image src="{{item.icon}}" mode='aspectFit'/>hi {{name}}</view>"#;
        let (d, diags) = doc(t);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(d.elements.len(), 2);
        let view = &d.elements[0];
        assert_eq!(view.name, "view");
        assert!(view.attr("hidden").unwrap().value.is_none());
        let class = view.value("class").unwrap();
        assert_eq!(class.raw, "a {{cls}}");
        assert!(
            matches!(&class.segments[1], Segment::Mustache { expr, span } if expr == "cls" && at(t, *span) == "cls")
        );
        let img = &d.elements[1];
        assert_eq!(img.parent, Some(0));
        assert!(img.self_closing);
        let src = img.value("src").unwrap();
        assert_eq!(src.as_single_mustache(), Some("item.icon"));
        assert_eq!(at(t, src.span), "{{item.icon}}");
        assert_eq!(img.value("mode").unwrap().as_static(), Some("aspectFit"));
        assert_eq!(d.texts.len(), 1);
        assert_eq!(d.texts[0].parent, Some(0));
        assert_eq!(view.end as usize, t.len());
    }

    #[test]
    fn dependencies_and_wxs_raw_text() {
        let t = "<import src=\"../tpl/item.wxml\"/>\n<include src='/common/header.wxml' />\n<wxs src=\"./fmt.wxs\" module=\"fmt\"></wxs>\n<wxs module=\"m\">var a = 1 < 2 && '<view>';</wxs>\n<!-- <import src=\"no.wxml\"/> -->";
        let (d, diags) = doc(t);
        assert!(diags.is_empty(), "{diags:?}");
        let deps = dependencies(&d);
        assert_eq!(deps.len(), 3);
        assert_eq!(deps[0].0, DepKind::Import);
        assert_eq!(deps[0].1, "../tpl/item.wxml");
        assert_eq!(at(t, deps[0].2), "../tpl/item.wxml");
        assert_eq!(
            deps[1],
            (DepKind::Include, "/common/header.wxml".into(), deps[1].2)
        );
        assert_eq!(deps[2].0, DepKind::Wxs);
        assert_eq!(d.elements.len(), 4, "the inline wxs body is not markup");
        assert_eq!(d.comments.len(), 1);
    }

    #[test]
    fn mustache_with_strings_and_objects() {
        let t = r#"<image src="{{user.avatar || '/images/logo.png'}}"/><template is="x" data="{{...item, a: {b: 1}}}"/>"#;
        let (d, diags) = doc(t);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            d.elements[0].value("src").unwrap().as_single_mustache(),
            Some("user.avatar || '/images/logo.png'")
        );
        assert_eq!(
            d.elements[1].value("data").unwrap().as_single_mustache(),
            Some("...item, a: {b: 1}")
        );
    }

    #[test]
    fn lt_inside_text_mustache_is_not_a_tag() {
        let t = "<view>{{a<b ? 'x' : 'y'}}</view><text>1 < 2</text><text>{{ open </text><image src=\"{{p}}\"/>";
        let (d, diags) = doc(t);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].code, "wxml/unclosed-mustache");
        assert_eq!(d.elements.len(), 4);
        assert!(
            matches!(&d.texts[0].segments[0], Segment::Mustache { expr, .. } if expr == "a<b ? 'x' : 'y'")
        );
        assert_eq!(
            d.elements[3].value("src").unwrap().as_single_mustache(),
            Some("p")
        );
        assert_eq!(d.elements[1].parent, None);
    }

    #[test]
    fn broken_markup_recovers_with_diagnostics() {
        let cases = [
            "<view><text>a</view>",
            "</view><view/>",
            "<view class=\"a\n<text/>",
            "<!-- never closed <image src='/a.png'/>",
            "<view>{{ a </view>",
            "<image src=\"/a.png\"",
            "<",
            "<<<>>>",
            "<view a=>",
            "<wxs module=\"m\">var x",
            "{{",
            "<a b='{{'/>",
        ];
        for c in cases {
            let (_, diags) = doc(c);
            if c != "<<<>>>" && c != "<view a=>" && c != "<" {
                assert!(!diags.is_empty(), "expected a diagnostic for {c:?}");
            }
            for d in &diags {
                let s = d.span.unwrap();
                assert!(s.end as usize <= c.len(), "{c:?}: {d:?}");
            }
        }
        let (d, _) = doc("<view><text>a</view><image src=\"/x.png\"/>");
        assert_eq!(d.elements[2].parent, None, "implicitly closed text");
    }

    #[test]
    fn truncations_never_panic() {
        let t = "<view class=\"{{a}}\" data-x='y'><!-- c --><image src=\"/a.png\"/>{{ b }}<wxs module=\"m\">1<2</wxs>中文<text>{{'}}'}}</text></view>";
        for i in 0..=t.len() {
            if t.is_char_boundary(i) {
                let _ = doc(&t[..i]);
                let _ = doc(&t[i..]);
            }
        }
    }

    #[test]
    fn random_input_never_panics() {
        // xorshift over an alphabet heavy in markup characters, plus raw bytes made UTF-8.
        let alphabet: Vec<char> = "<>/=\"'{} \n!-abwxs:中".chars().collect();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..400 {
            let mut t = String::new();
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                t.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            let (d, diags) = doc(&t);
            for e in &d.elements {
                assert!(e.tag_span.end as usize <= t.len() && e.end as usize <= t.len());
            }
            for g in diags {
                assert!(g.span.unwrap().end as usize <= t.len());
            }
        }
    }
}
