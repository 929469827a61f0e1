//! The `<script>` blocks of a Vue single-file component (uni-app's sources), found the way the
//! SFC compiler finds them: among the file's top-level elements, each script's content taken raw
//! up to its `</script>`. The component is parsed as the text of its scripts at their own byte
//! offsets (everything else blanked), so its spans are offsets into the `.vue` file.

use super::parse::Dialect;

/// One `<script>` block: the byte range of its content and its `lang`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptBlock {
    pub start: usize,
    pub end: usize,
    pub lang: Option<String>,
}

/// The top-level `<script>` blocks of a component, in file order.
pub fn script_blocks(text: &str) -> Vec<ScriptBlock> {
    let b = text.as_bytes();
    let mut blocks = Vec::new();
    let mut i = 0;
    while let Some(lt) = memchr::memchr(b'<', &b[i.min(b.len())..]).map(|k| i + k) {
        if b[lt..].starts_with(b"<!--") {
            i = find(b, lt + 4, b"-->").map_or(b.len(), |k| k + 3);
            continue;
        }
        let name_len = b[lt + 1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'-')
            .count();
        if name_len == 0 || !b[lt + 1].is_ascii_alphabetic() {
            i = lt + 1;
            continue;
        }
        let name = &text[lt + 1..lt + 1 + name_len];
        let Some(gt) = tag_end(b, lt + 1 + name_len) else {
            break;
        };
        let attrs = &text[lt + 1 + name_len..gt];
        if attrs.ends_with('/') {
            i = gt + 1;
            continue;
        }
        let content = gt + 1;
        if name.eq_ignore_ascii_case("script") {
            let end = find_ci(b, content, b"</script").unwrap_or(b.len());
            blocks.push(ScriptBlock {
                start: content,
                end,
                lang: attr(attrs, "lang"),
            });
            i = end;
            continue;
        }
        i = matching_close(b, content, name.as_bytes());
    }
    blocks
}

/// The component's text with every byte outside its script blocks turned into a space
/// (newlines kept): the same offsets and lines, only the scripts left to parse.
pub fn script_text(text: &str, blocks: &[ScriptBlock]) -> String {
    let mut out = Vec::with_capacity(text.len());
    let mut at = 0;
    for block in blocks {
        blank(&text.as_bytes()[at..block.start], &mut out);
        out.extend_from_slice(&text.as_bytes()[block.start..block.end]);
        at = block.end;
    }
    blank(&text.as_bytes()[at..], &mut out);
    // Script contents are whole UTF-8 runs between ASCII tags, and blanks are ASCII.
    String::from_utf8(out).unwrap_or_default()
}

/// How the blocks are parsed: TypeScript if one of them says so, with JSX when it says so.
pub fn dialect(blocks: &[ScriptBlock]) -> Dialect {
    let lang = |l: &str| blocks.iter().any(|b| b.lang.as_deref() == Some(l));
    if lang("tsx") {
        Dialect::Tsx
    } else if lang("ts") {
        Dialect::Ts
    } else if lang("jsx") {
        Dialect::Jsx
    } else {
        Dialect::Js
    }
}

fn blank(from: &[u8], out: &mut Vec<u8>) {
    out.extend(
        from.iter()
            .map(|&c| if c == b'\n' || c == b'\r' { c } else { b' ' }),
    );
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(b.get(from..)?, needle).map(|k| from + k)
}

/// The next `needle` at or after `from`, ASCII case-insensitively.
fn find_ci(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    (from..b.len().saturating_sub(needle.len() - 1))
        .find(|&k| b[k..k + needle.len()].eq_ignore_ascii_case(needle))
}

/// The `>` that closes a start tag whose attributes begin at `from` (quoted values skipped).
fn tag_end(b: &[u8], from: usize) -> Option<usize> {
    let mut quote = None;
    for (k, &c) in b.iter().enumerate().skip(from) {
        match (quote, c) {
            (None, b'"' | b'\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, b'>') => return Some(k),
            _ => {}
        }
    }
    None
}

/// The offset after the `</name>` that closes an element whose content starts at `from`,
/// counting nested elements of the same name (`<template>` inside `<template>`).
fn matching_close(b: &[u8], from: usize, name: &[u8]) -> usize {
    let mut depth = 1usize;
    let mut i = from;
    while let Some(lt) = memchr::memchr(b'<', &b[i.min(b.len())..]).map(|k| i + k) {
        let close = b.get(lt + 1) == Some(&b'/');
        let at = lt + 1 + usize::from(close);
        let named = b.len() >= at + name.len()
            && b[at..at + name.len()].eq_ignore_ascii_case(name)
            && b.get(at + name.len())
                .is_none_or(|c| !c.is_ascii_alphanumeric() && *c != b'-');
        if named {
            let end = tag_end(b, at + name.len()).unwrap_or(b.len().saturating_sub(1));
            if close {
                depth -= 1;
                if depth == 0 {
                    return end + 1;
                }
            } else if b[end.saturating_sub(1)] != b'/' {
                depth += 1;
            }
            i = end + 1;
        } else {
            i = lt + 1;
        }
    }
    b.len()
}

/// The value of attribute `name` in a start tag's attribute text.
fn attr(attrs: &str, name: &str) -> Option<String> {
    let mut rest = attrs;
    while let Some(k) = rest.find(name) {
        let before = rest[..k].chars().next_back();
        let after = rest[k + name.len()..].trim_start();
        rest = &rest[k + name.len()..];
        if before.is_some_and(|c| !c.is_whitespace()) {
            continue;
        }
        let Some(value) = after.strip_prefix('=') else {
            continue;
        };
        let value = value.trim_start();
        let v = match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or(""),
            _ => value
                .split(|c: char| c.is_whitespace() || c == '/')
                .next()
                .unwrap_or(""),
        };
        return Some(v.to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SFC: &str = "<template>\n  <view><template v-if=\"a\"><text>x</text></template></view>\n</template>\n\n<!-- <script>no()</script> -->\n<script lang=\"ts\">\nexport default { data() { return { a: '中文' } } }\n</script>\n<script setup>\nconst b = 1\n</script>\n<style scoped>\n.a { color: red }\n</style>\n";

    #[test]
    fn finds_top_level_scripts_with_their_offsets() {
        let blocks = script_blocks(SFC);
        assert_eq!(blocks.len(), 2);
        assert!(SFC[blocks[0].start..blocks[0].end].contains("export default"));
        assert_eq!(blocks[0].lang.as_deref(), Some("ts"));
        assert_eq!(SFC[blocks[1].start..blocks[1].end].trim(), "const b = 1");
        assert_eq!(dialect(&blocks), Dialect::Ts);
    }

    #[test]
    fn blanked_text_keeps_offsets_and_lines() {
        let blocks = script_blocks(SFC);
        let text = script_text(SFC, &blocks);
        assert_eq!(text.len(), SFC.len());
        assert_eq!(text.lines().count(), SFC.lines().count());
        let at = SFC.find("export default").unwrap();
        assert_eq!(&text[at..at + 14], "export default");
        assert!(!text.contains("template") && !text.contains("no()"));
    }
}
