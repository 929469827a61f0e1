//! Files of the project: what kind each is, and its text.
//!
//! Text is decoded so that byte offsets stay those of the file on disk: a byte sequence that is
//! not UTF-8 is replaced byte for byte by `?`, and the file is marked `lossy` (the rewriter must
//! not edit it).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::span::{FileId, LineIndex};

/// Files larger than this are inventoried and measured but not parsed.
pub const MAX_PARSE_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Js,
    Ts,
    /// `.jsx`, `.tsx`: framework sources (Taro), not mini-program files.
    Jsx,
    Tsx,
    /// A Vue single-file component (uni-app's sources).
    Vue,
    Wxml,
    Wxss,
    Wxs,
    Json,
    /// `.less` / `.scss` / `.sass`, compiled to WXSS by DevTools plugins.
    Style,
    Image,
    Audio,
    Video,
    Font,
    Other,
}

impl FileKind {
    pub fn from_path(path: &str) -> FileKind {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".d.ts") {
            return FileKind::Ts;
        }
        match extension(&lower) {
            "js" | "mjs" | "cjs" => FileKind::Js,
            "ts" | "mts" | "cts" => FileKind::Ts,
            "jsx" => FileKind::Jsx,
            "tsx" => FileKind::Tsx,
            "vue" | "nvue" => FileKind::Vue,
            "wxml" => FileKind::Wxml,
            "wxss" => FileKind::Wxss,
            "wxs" => FileKind::Wxs,
            "json" => FileKind::Json,
            "less" | "scss" | "sass" => FileKind::Style,
            "png" | "jpg" | "jpeg" | "gif" | "svg" | "webp" | "bmp" | "ico" => FileKind::Image,
            "mp3" | "aac" | "m4a" | "wav" | "ogg" | "silk" | "flac" => FileKind::Audio,
            "mp4" | "mov" | "m4v" | "webm" | "avi" => FileKind::Video,
            "ttf" | "otf" | "woff" | "woff2" | "eot" => FileKind::Font,
            _ => FileKind::Other,
        }
    }

    /// Kinds whose text the analyzer reads and parses.
    pub fn is_text(self) -> bool {
        matches!(
            self,
            FileKind::Js
                | FileKind::Ts
                | FileKind::Wxml
                | FileKind::Wxss
                | FileKind::Wxs
                | FileKind::Json
                | FileKind::Style
        )
    }

    pub fn is_script(self) -> bool {
        matches!(self, FileKind::Js | FileKind::Ts | FileKind::Wxs)
    }

    pub fn is_media(self) -> bool {
        matches!(
            self,
            FileKind::Image | FileKind::Audio | FileKind::Video | FileKind::Font
        )
    }
}

/// The lower-case extension of a path, without the dot.
pub fn extension(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rfind('.') {
        Some(i) if i > 0 => &name[i + 1..],
        _ => "",
    }
}

/// Suffixes the WeChat uploader takes besides compiled sources (miniprogram-layout.md §1.1).
const UPLOAD_SUFFIXES: &[&str] = &[
    "js", "wxml", "wxss", "wxs", "png", "jpg", "jpeg", "gif", "svg", "json", "cer", "mp3", "aac",
    "m4a", "mp4", "wav", "ogg", "silk", "wasm", "br", "cert",
];

/// Whether the uploader takes a file with this path at all. `.ts` and `.less` count because
/// DevTools compiles them into `.js`/`.wxss` when the compiler plugins are on.
pub fn on_upload_whitelist(path: &str, compiler_plugins: &[String]) -> bool {
    let ext = extension(path).to_ascii_lowercase();
    if path.to_ascii_lowercase().ends_with(".d.ts") {
        return false;
    }
    if UPLOAD_SUFFIXES.contains(&ext.as_str()) {
        return true;
    }
    match ext.as_str() {
        "ts" => compiler_plugins.iter().any(|p| p == "typescript"),
        "less" => compiler_plugins.iter().any(|p| p == "less"),
        "scss" | "sass" => compiler_plugins.iter().any(|p| p == "sass"),
        _ => false,
    }
}

/// One file of the project inventory.
#[derive(Debug, Clone, Serialize)]
pub struct SourceFile {
    pub id: FileId,
    /// Path relative to the project root, `/`-separated.
    pub path: String,
    /// Path relative to the mini-program root (`miniprogramRoot`), if the file is inside it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mp_path: Option<String>,
    #[serde(skip)]
    pub abs: PathBuf,
    pub bytes: u64,
    pub kind: FileKind,
    /// The package the file lands in (`None` outside the mini-program root).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<usize>,
    /// Whether the uploader would put this file into the package.
    pub uploaded: bool,
    /// Why it is not uploaded, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excluded_by: Option<String>,
}

/// The decoded text of a file and its line index.
#[derive(Debug, Clone)]
pub struct Text {
    pub text: String,
    pub lines: LineIndex,
    /// Byte offset of the first byte that was not UTF-8, if any.
    pub first_invalid: Option<u32>,
}

impl Text {
    pub fn new(bytes: Vec<u8>) -> Text {
        let (text, first_invalid) = decode_preserving_offsets(bytes);
        let lines = LineIndex::new(&text);
        Text {
            text,
            lines,
            first_invalid,
        }
    }

    pub fn lossy(&self) -> bool {
        self.first_invalid.is_some()
    }

    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        self.lines.line_col(&self.text, offset)
    }
}

/// Reads a file's text, if it is a text kind small enough to parse.
pub fn read_text(path: &Path) -> std::io::Result<Text> {
    std::fs::read(path).map(Text::new)
}

/// Decodes UTF-8; every byte of an invalid sequence becomes `?` so offsets do not move.
fn decode_preserving_offsets(bytes: Vec<u8>) -> (String, Option<u32>) {
    match String::from_utf8(bytes) {
        Ok(s) => (s, None),
        Err(e) => {
            let mut bytes = e.into_bytes();
            let mut first = None;
            let mut pos = 0;
            while pos < bytes.len() {
                match std::str::from_utf8(&bytes[pos..]) {
                    Ok(_) => break,
                    Err(err) => {
                        let bad_at = pos + err.valid_up_to();
                        let bad_len = err.error_len().unwrap_or(bytes.len() - bad_at);
                        first.get_or_insert(bad_at as u32);
                        for b in &mut bytes[bad_at..bad_at + bad_len] {
                            *b = b'?';
                        }
                        pos = bad_at + bad_len;
                    }
                }
            }
            // Every invalid byte is now ASCII, so this cannot fail; fall back to lossy anyway.
            let text = String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            (text, first)
        }
    }
}

/// The deepest bracket nesting in a script or JSON text, and the offset where it is first
/// reached. Strings, template literals and comments are skipped; it is a cheap guard run
/// before parsing, not a parser.
pub fn nesting_depth(text: &str) -> (usize, usize) {
    let b = text.as_bytes();
    let (mut depth, mut max, mut at) = (0usize, 0usize, 0usize);
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    max = depth;
                    at = i;
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            q @ (b'"' | b'\'' | b'`') => {
                i += 1;
                while i < b.len() && b[i] != q && !(q != b'`' && b[i] == b'\n') {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    (max, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_bytes_keep_offsets() {
        // "// " + GBK for 你好 + "\nx"
        let bytes = vec![b'/', b'/', b' ', 0xc4, 0xe3, 0xba, 0xc3, b'\n', b'x'];
        let t = Text::new(bytes.clone());
        assert_eq!(t.text.len(), bytes.len());
        assert_eq!(t.first_invalid, Some(3));
        assert_eq!(&t.text[8..], "x");
    }

    #[test]
    fn nesting_depth_skips_strings_and_comments() {
        assert_eq!(nesting_depth("a([{x}])").0, 3);
        assert_eq!(nesting_depth("'((((' // ((((\n /* [[[ */ `{{{` [1]").0, 1);
        assert_eq!(
            nesting_depth(&format!("{}1{}", "[".repeat(1500), "]".repeat(1500))),
            (1500, 1499)
        );
    }

    #[test]
    fn kinds_and_whitelist() {
        assert_eq!(FileKind::from_path("a/b.D.TS"), FileKind::Ts);
        assert_eq!(FileKind::from_path("x.webp"), FileKind::Image);
        assert!(!on_upload_whitelist("x.webp", &[]));
        assert!(!on_upload_whitelist("f.ttf", &[]));
        assert!(on_upload_whitelist("a.ts", &["typescript".into()]));
        assert!(!on_upload_whitelist("a.ts", &[]));
        assert!(on_upload_whitelist("a/B.PNG", &[]));
        assert_eq!(extension(".gitignore"), "");
    }
}
