//! WXSS (and, enough to find references, `.less`/`.scss`): `@import`, every `url(…)` with the
//! property it sits in, `@font-face` blocks, `data:` URIs with their mime type and decoded size,
//! and how many `rpx` lengths the sheet uses.
//!
//! A small hand-written scanner rather than a full CSS parser: the analyzer needs references
//! and byte spans, not a style tree, and it must tolerate preprocessor syntax (`//` comments,
//! nesting, variables) and broken input. Problems become diagnostics; scanning carries on.

use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::source::FileKind;
use crate::span::{FileId, Span};

/// A decoded view of a `data:` URI (nothing is copied; only the size is computed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataUri {
    /// Lower-case mime type; `text/plain` when none is given.
    pub mime: String,
    pub base64: bool,
    /// Size of the decoded payload in bytes.
    pub bytes: u64,
}

impl DataUri {
    /// Parses `data:[mime][;param]*[;base64],payload`.
    pub fn parse(uri: &str) -> Option<DataUri> {
        let head = uri.get(..5)?;
        if !head.eq_ignore_ascii_case("data:") {
            return None;
        }
        let rest = &uri[5..];
        let comma = rest.find(',')?;
        let meta = &rest[..comma];
        let payload = &rest[comma + 1..];
        let mut parts = meta.split(';');
        let mime = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let base64 = parts.any(|p| p.trim().eq_ignore_ascii_case("base64"));
        let bytes = if base64 {
            let n = payload
                .bytes()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_'))
                .count() as u64;
            n * 3 / 4
        } else {
            percent_decoded_len(payload)
        };
        Some(DataUri {
            mime: if mime.is_empty() {
                "text/plain".into()
            } else {
                mime
            },
            base64,
            bytes,
        })
    }

    /// The asset kind of the payload, from the mime type.
    pub fn kind(&self) -> FileKind {
        let m = self.mime.as_str();
        if m.starts_with("font/")
            || m.contains("font-woff")
            || m.contains("x-font")
            || m.contains("truetype")
            || m.contains("opentype")
            || m == "application/vnd.ms-fontobject"
        {
            FileKind::Font
        } else if m.starts_with("image/") {
            FileKind::Image
        } else if m.starts_with("audio/") {
            FileKind::Audio
        } else if m.starts_with("video/") {
            FileKind::Video
        } else {
            FileKind::Other
        }
    }
}

fn percent_decoded_len(s: &str) -> u64 {
    let b = s.as_bytes();
    let mut n = 0u64;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
        {
            i += 3;
        } else {
            i += 1;
        }
        n += 1;
    }
    n
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The path as written.
    pub path: String,
    /// The span of the path (inside the quotes).
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// The reference as written, without quotes and surrounding blanks.
    pub value: String,
    /// The span of `value`.
    pub span: Span,
    /// The whole `url(…)`.
    pub whole: Span,
    /// The declaration's property (`background-image`, `src`), lower-case, if any.
    pub property: Option<String>,
    /// Inside an `@font-face` block.
    pub in_font_face: bool,
    /// For `data:` URIs.
    pub data: Option<DataUri>,
}

#[derive(Debug, Clone, Default)]
pub struct Stylesheet {
    pub imports: Vec<Import>,
    pub urls: Vec<Url>,
    /// Spans of `@font-face { … }` blocks.
    pub font_faces: Vec<Span>,
    /// Number of `rpx` lengths.
    pub rpx: u32,
}

/// `@import` paths of a sheet with their spans (as written, relative to the sheet or
/// `/`-absolute).
pub fn imports(sheet: &Stylesheet) -> Vec<(String, Span)> {
    sheet
        .imports
        .iter()
        .map(|i| (i.path.clone(), i.span))
        .collect()
}

/// Parses a stylesheet. `preprocessor` turns on `//` line comments (`.less`/`.scss`).
pub fn parse(
    file: FileId,
    path: &str,
    text: &str,
    preprocessor: bool,
) -> (Stylesheet, Vec<Diagnostic>) {
    let mut s = Scanner {
        file,
        path,
        text,
        b: text.as_bytes(),
        base: 0,
        preprocessor,
        sheet: Stylesheet::default(),
        diags: Vec::new(),
        block_starts: Vec::new(),
    };
    s.run();
    (s.sheet, s.diags)
}

/// Finds the `url(…)`s of a CSS fragment that starts at byte `base` of a file, e.g. a WXML
/// `style` attribute.
pub fn urls_in_fragment(
    file: FileId,
    path: &str,
    fragment: &str,
    base: usize,
) -> (Vec<Url>, Vec<Diagnostic>) {
    let mut s = Scanner {
        file,
        path,
        text: fragment,
        b: fragment.as_bytes(),
        base,
        preprocessor: false,
        sheet: Stylesheet::default(),
        diags: Vec::new(),
        block_starts: Vec::new(),
    };
    s.run();
    (s.sheet.urls, s.diags)
}

struct Scanner<'a> {
    file: FileId,
    path: &'a str,
    text: &'a str,
    b: &'a [u8],
    /// Offset of `text` in the file.
    base: usize,
    preprocessor: bool,
    sheet: Stylesheet,
    diags: Vec<Diagnostic>,
    /// Open `{` blocks: (start offset, is @font-face).
    block_starts: Vec<(usize, bool)>,
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c >= 0x80
}

impl Scanner<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, self.base + start, self.base + end)
    }

    fn warn(&mut self, code: &'static str, msg: &str, start: usize, end: usize, help: &str) {
        self.diags.push(
            Diagnostic::warning(code, format!("`{}`: {msg}", self.path))
                .at(self.path, Some(self.span(start, end)))
                .help(help),
        );
    }

    fn starts_ci(&self, at: usize, word: &str) -> bool {
        self.b
            .get(at..at + word.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(word.as_bytes()))
    }

    fn run(&mut self) {
        let mut i = 0;
        let mut pending_font_face = false;
        while i < self.b.len() {
            let c = self.b[i];
            match c {
                b'/' if self.b.get(i + 1) == Some(&b'*') => i = self.comment(i),
                b'/' if self.preprocessor
                    && self.b.get(i + 1) == Some(&b'/')
                    && (i == 0 || self.b[i - 1] != b':') =>
                {
                    i = self.b[i..]
                        .iter()
                        .position(|&c| c == b'\n')
                        .map_or(self.b.len(), |k| i + k);
                }
                b'"' | b'\'' => i = self.string(i).2,
                b'{' => {
                    self.block_starts.push((i, pending_font_face));
                    pending_font_face = false;
                    i += 1;
                }
                b'}' => {
                    if let Some((start, true)) = self.block_starts.pop() {
                        let s = self.span(start, i + 1);
                        self.sheet.font_faces.push(s);
                    }
                    i += 1;
                }
                b'@' if self.starts_ci(i + 1, "import") => i = self.import(i),
                b'@' if self.starts_ci(i + 1, "font-face") => {
                    pending_font_face = true;
                    i += 10;
                }
                b'u' | b'U'
                    if self.starts_ci(i, "url(") && (i == 0 || !is_ident_byte(self.b[i - 1])) =>
                {
                    i = self.url(i);
                }
                b'r' if self.starts_ci(i, "rpx")
                    && i > 0
                    && (self.b[i - 1].is_ascii_digit() || self.b[i - 1] == b'.')
                    && !self.b.get(i + 3).is_some_and(|&c| is_ident_byte(c)) =>
                {
                    self.sheet.rpx += 1;
                    i += 3;
                }
                _ => i += 1,
            }
        }
    }

    /// Skips a `/* */` comment starting at `i`; returns the position after it.
    fn comment(&mut self, i: usize) -> usize {
        match find(self.b, i + 2, b"*/") {
            Some(e) => e + 2,
            None => {
                self.warn(
                    "wxss/unclosed-comment",
                    "comment is never closed; the rest of the file is ignored",
                    i,
                    i + 2,
                    "close the comment with `*/`",
                );
                self.b.len()
            }
        }
    }

    /// A quoted string at `i`: (content start, content end, position after it).
    fn string(&mut self, i: usize) -> (usize, usize, usize) {
        let q = self.b[i];
        let mut j = i + 1;
        while j < self.b.len() {
            match self.b[j] {
                b'\\' => j += 2,
                c if c == q => return (i + 1, j, j + 1),
                b'\n' => break,
                _ => j += 1,
            }
        }
        let end = j.min(self.b.len());
        self.warn(
            "wxss/unterminated-string",
            "string is missing its closing quote",
            i,
            end,
            "add the closing quote",
        );
        (i + 1, end, end)
    }

    fn import(&mut self, at: usize) -> usize {
        let mut i = at + 7;
        loop {
            while i < self.b.len() && (self.b[i].is_ascii_whitespace() || self.b[i] == b',') {
                i += 1;
            }
            if i >= self.b.len() {
                return i;
            }
            match self.b[i] {
                b'"' | b'\'' => {
                    let (s, e, next) = self.string(i);
                    let p = self.text[s..e].trim().to_string();
                    self.sheet.imports.push(Import {
                        path: p,
                        span: self.span(s, e),
                    });
                    i = next;
                }
                b'u' | b'U' if self.starts_ci(i, "url(") => {
                    let before = self.sheet.urls.len();
                    i = self.url(i);
                    // An `@import url(x)` is an import, not an asset reference.
                    if self.sheet.urls.len() > before
                        && let Some(u) = self.sheet.urls.pop()
                    {
                        self.sheet.imports.push(Import {
                            path: u.value,
                            span: u.span,
                        });
                    }
                }
                b'(' => {
                    // less `@import (reference) "x"`
                    i = self.b[i..]
                        .iter()
                        .position(|&c| c == b')')
                        .map_or(self.b.len(), |k| i + k + 1);
                }
                _ => {
                    // Media queries and the like: skip to the end of the rule.
                    return self.b[i..]
                        .iter()
                        .position(|&c| c == b';' || c == b'\n')
                        .map_or(self.b.len(), |k| i + k + 1);
                }
            }
        }
    }

    /// A `url(` at `at`; returns the position after the `)`.
    fn url(&mut self, at: usize) -> usize {
        let mut i = at + 4;
        while i < self.b.len() && self.b[i].is_ascii_whitespace() {
            i += 1;
        }
        let (vs, ve, mut j) = match self.b.get(i) {
            Some(b'"') | Some(b'\'') => self.string(i),
            _ => {
                let mut k = i;
                while k < self.b.len() && self.b[k] != b')' && self.b[k] != b'\n' {
                    k += 1;
                }
                let mut e = k;
                while e > i && self.b[e - 1].is_ascii_whitespace() {
                    e -= 1;
                }
                (i, e, k)
            }
        };
        while j < self.b.len() && self.b[j] != b')' && self.b[j] != b'\n' && self.b[j] != b';' {
            j += 1;
        }
        let end = if self.b.get(j) == Some(&b')') {
            j + 1
        } else {
            self.warn(
                "wxss/unterminated-url",
                "`url(` is not closed with `)`",
                at,
                j,
                "add the closing `)`",
            );
            j
        };
        let value = self.text[vs..ve].trim().to_string();
        let property = self.property_before(at);
        let in_font_face = self.block_starts.iter().any(|(_, ff)| *ff);
        let data = DataUri::parse(&value);
        self.sheet.urls.push(Url {
            value,
            span: self.span(vs, ve),
            whole: self.span(at, end),
            property,
            in_font_face,
            data,
        });
        end
    }

    /// The property of the declaration holding position `at`.
    fn property_before(&self, at: usize) -> Option<String> {
        let head = &self.b[..at];
        let start = head
            .iter()
            .rposition(|&c| c == b';' || c == b'{' || c == b'}')
            .map_or(0, |k| k + 1);
        let decl = &self.text[start..at];
        let colon = decl.find(':')?;
        let name = decl[..colon].trim();
        (!name.is_empty() && name.bytes().all(is_ident_byte)).then(|| name.to_ascii_lowercase())
    }
}

/// The first `needle` in `hay` at or after `from`.
fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay.get(from..)?, needle).map(|i| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(t: &str) -> (Stylesheet, Vec<Diagnostic>) {
        parse(FileId(0), "t.wxss", t, false)
    }

    #[test]
    fn imports_urls_and_font_face() {
        let t = "@import \"../common.wxss\";\n@import url('/base.wxss');\n.a { width: 750rpx; background-image: url( '/images/bg.jpg' ); }\n@font-face { font-family: x; src: url(data:font/woff;base64,d09GRgABAAA=) format('woff'); }\n.b{background:url(https://cdn.example.com/x.png) no-repeat}";
        let (s, d) = sheet(t);
        assert!(d.is_empty(), "{d:?}");
        let imps = imports(&s);
        assert_eq!(imps.len(), 2);
        assert_eq!(imps[0].0, "../common.wxss");
        assert_eq!(&t[imps[0].1.range()], "../common.wxss");
        assert_eq!(imps[1].0, "/base.wxss");
        assert_eq!(s.urls.len(), 3);
        assert_eq!(s.urls[0].value, "/images/bg.jpg");
        assert_eq!(&t[s.urls[0].span.range()], "/images/bg.jpg");
        assert_eq!(s.urls[0].property.as_deref(), Some("background-image"));
        assert!(!s.urls[0].in_font_face);
        let font = &s.urls[1];
        assert!(font.in_font_face);
        assert_eq!(font.property.as_deref(), Some("src"));
        let data = font.data.as_ref().unwrap();
        assert_eq!(data.mime, "font/woff");
        assert_eq!(data.bytes, 8);
        assert_eq!(data.kind(), FileKind::Font);
        assert_eq!(s.urls[2].value, "https://cdn.example.com/x.png");
        assert_eq!(s.font_faces.len(), 1);
        assert_eq!(s.rpx, 1);
    }

    #[test]
    fn data_uri_sizes() {
        let d = DataUri::parse("data:image/svg+xml;charset=utf8,%3Csvg%3E").unwrap();
        assert_eq!(
            (d.mime.as_str(), d.base64, d.bytes),
            ("image/svg+xml", false, 5)
        );
        let d = DataUri::parse("DATA:;base64,QUJD\nREVG").unwrap();
        assert_eq!((d.mime.as_str(), d.bytes), ("text/plain", 6));
        assert!(DataUri::parse("data:nocomma").is_none());
        assert!(DataUri::parse("/a.png").is_none());
    }

    #[test]
    fn comments_and_strings_hide_urls() {
        let t = "/* url(/a.png) */ .a::after{content:'url(/b.png)'} .c{background:url(\"/c.png\")}";
        let (s, _) = sheet(t);
        assert_eq!(s.urls.len(), 1);
        assert_eq!(s.urls[0].value, "/c.png");
    }

    #[test]
    fn preprocessor_line_comments() {
        let t = "// @import 'no.less';\n@import (reference) 'mixins.less';\n.a { .b { background: url(//cdn.x.com/a.png); } } // url(/x.png)\n";
        let (s, d) = parse(FileId(0), "a.less", t, true);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(imports(&s).len(), 1);
        assert_eq!(s.imports[0].path, "mixins.less");
        assert_eq!(s.urls.len(), 1);
        assert_eq!(s.urls[0].value, "//cdn.x.com/a.png");
    }

    #[test]
    fn broken_input_reports_and_recovers() {
        let (s, d) = sheet(".a{background:url(/a.png\n.b{background:url('/b.png')}");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, "wxss/unterminated-url");
        assert_eq!(s.urls.len(), 2);
        assert_eq!(s.urls[1].value, "/b.png");
        let (_, d) = sheet("/* open");
        assert_eq!(d[0].code, "wxss/unclosed-comment");
        let (_, d) = sheet(".a{content:'x}");
        assert_eq!(d[0].code, "wxss/unterminated-string");
    }

    #[test]
    fn style_fragment_offsets() {
        let (u, _) = urls_in_fragment(FileId(0), "p.wxml", "background-image:url(../a.png)", 100);
        assert_eq!(u[0].value, "../a.png");
        assert_eq!(u[0].span.start, 121);
    }

    #[test]
    fn truncations_never_panic() {
        let t = "@import 'a.wxss'; /* c */ @font-face{src:url(\"data:font/ttf;base64,AAAA\")} .x{b:url( y );w:1rpx} 中文 @import url(z)";
        for i in 0..=t.len() {
            if t.is_char_boundary(i) {
                let _ = parse(FileId(0), "t", &t[..i], true);
                let _ = parse(FileId(0), "t", &t[i..], false);
            }
        }
    }

    #[test]
    fn random_input_never_panics() {
        let alphabet: Vec<char> = "url(data:;base64,)@import'\"/*{}; \n\\rpx中"
            .chars()
            .collect();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for len in 0..400 {
            let mut t = String::new();
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                t.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            for pre in [false, true] {
                let (s, diags) = parse(FileId(0), "r", &t, pre);
                for u in &s.urls {
                    assert!(u.whole.end as usize <= t.len());
                }
                for g in diags {
                    assert!(g.span.unwrap().end as usize <= t.len());
                }
            }
        }
    }
}
