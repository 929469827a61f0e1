//! What looks like a path to a package asset, and where a text may mention one.

use crate::source;

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
    let path = &s[..memchr::memchr2(b'?', b'#', s.as_bytes()).unwrap_or(s.len())];
    let ext_ok = memchr::memrchr(b'.', path.as_bytes()).is_some_and(|i| {
        let ext = &path[i + 1..];
        ext.len() <= 5 && MEDIA_EXTS.iter().any(|m| m.eq_ignore_ascii_case(ext))
    });
    if !ext_ok {
        return false;
    }
    if s.is_empty() || s.len() > 512 || has_scheme(s) || s.starts_with("//") {
        return false;
    }
    // Compared ignoring ASCII case, without a lower-case copy: lowering ASCII letters moves no
    // byte, so `path` is the same part of the text either way, with the same spaces and braces.
    let starts = |prefix: &[u8]| {
        s.as_bytes()
            .get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
    };
    if starts(b"data:") || starts(b"wxfile:") || starts(b"http") {
        return false;
    }
    if path.contains(char::is_whitespace) || path.contains('{') {
        return false;
    }
    let ext = source::extension(path);
    MEDIA_EXTS.iter().any(|m| m.eq_ignore_ascii_case(ext))
}

/// Whether `s` holds `://` (a short string is scanned faster than a searcher is set up).
fn has_scheme(s: &str) -> bool {
    s.as_bytes()
        .windows(3)
        .any(|w| w[0] == b':' && w[1] == b'/' && w[2] == b'/')
}

/// Byte offsets where a text may mention an asset (a `.png`-like extension, or `data:` opening
/// a string or a CSS `url(`): a quick scan that lets the syntax-tree walk skip every subtree
/// without one. With `first`, stops at the first. (`data:` as an object key, as in every
/// page's `data: { … }`, is not a mention.)
pub(super) fn asset_mentions(text: &str, first: bool) -> Vec<u32> {
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
    }
}
