//! The layering check: no import circle across the files of a crate.
//!
//! Each source file is a node; a file depends on every file whose items it names through a
//! `crate::`/`super::`/`self::` path or a child module (in `use` lines and inline paths). A
//! `pub use` re-export is followed to the file that defines the item, and a module's own
//! `mod`/`pub use` table of contents is not a dependency. Code under `#[cfg(test)]` (the unit
//! tests at the end of a file) is left out. The test fails, naming the files, when the
//! dependency graph of a crate has a cycle.
//!
//! Run it alone with `cargo test --test layers`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A crate's source tree: module path (`["detectors", "calls"]`) → file.
struct Crate {
    root: PathBuf,
    files: BTreeMap<Vec<String>, PathBuf>,
    /// Per file: the module paths it names, and its `pub use` re-exports (name → full path).
    refs: BTreeMap<Vec<String>, Vec<Vec<String>>>,
    reexports: BTreeMap<Vec<String>, BTreeMap<String, Vec<String>>>,
}

fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_string());
    }
    parts
}

/// The text with comments, string literals and the `#[cfg(test)]` tail removed.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if b[i] == b'r'
            && (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
            && (i == 0 || !is_ident(b[i - 1]))
        {
            // raw string r"..." / r#"..."#
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                out.push(b[i] as char);
                i += 1;
                continue;
            }
            j += 1;
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            while j < b.len() && !b[j..].starts_with(&close) {
                j += 1;
            }
            i = j + close.len();
            out.push_str("\"\"");
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' {
            // a char literal ('x', '\n', '"') or a lifetime ('a)
            if b.get(i + 2) == Some(&b'\'') {
                i += 3;
                out.push_str("' '");
            } else if b.get(i + 1) == Some(&b'\\') {
                i += 2;
                while i < b.len() && b[i] != b'\'' {
                    i += 1;
                }
                i += 1;
                out.push_str("' '");
            } else {
                out.push('\'');
                i += 1;
            }
        } else {
            let ch = text[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Expands a `use` tree (`crate::{a::B, c::{D, E as F}}`) into full paths, each with the name
/// it binds.
fn expand_use(tree: &str) -> Vec<(Vec<String>, String)> {
    fn split_top(s: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let (mut depth, mut start) = (0, 0);
        for (i, c) in s.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    out.push(&s[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        out.push(&s[start..]);
        out
    }
    fn go(prefix: &[String], s: &str, out: &mut Vec<(Vec<String>, String)>) {
        let s = s.trim();
        if s.is_empty() {
            return;
        }
        if let Some(brace) = s.find('{') {
            let head: Vec<String> = s[..brace]
                .split("::")
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect();
            let mut p = prefix.to_vec();
            p.extend(head);
            let inner = &s[brace + 1..s.rfind('}').unwrap_or(s.len())];
            for part in split_top(inner) {
                go(&p, part, out);
            }
            return;
        }
        let (path, alias) = match s.split_once(" as ") {
            Some((p, a)) => (p.trim(), Some(a.trim().to_string())),
            None => (s, None),
        };
        let mut p = prefix.to_vec();
        p.extend(path.split("::").map(|x| x.trim().to_string()));
        if p.last().map(String::as_str) == Some("self") {
            p.pop();
        }
        let name = alias.unwrap_or_else(|| p.last().cloned().unwrap_or_default());
        out.push((p, name));
    }
    let mut out = Vec::new();
    go(&[], tree, &mut out);
    out
}

impl Crate {
    fn load(root: &Path) -> Crate {
        let src = root.join("src");
        let mut files = BTreeMap::new();
        let mut stack = vec![src.clone()];
        while let Some(dir) = stack.pop() {
            for e in fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|e| e == "rs") {
                    // a binary's own entry points (src/bin/*) are separate roots
                    files.insert(module_path(&src, &p), p);
                }
            }
        }
        let mut c = Crate {
            root: root.to_path_buf(),
            files,
            refs: BTreeMap::new(),
            reexports: BTreeMap::new(),
        };
        let mods: Vec<Vec<String>> = c.files.keys().cloned().collect();
        for m in mods {
            c.scan(&m);
        }
        c
    }

    /// Absolute module path of a path written in module `m`.
    fn absolute(&self, m: &[String], path: &[String]) -> Option<Vec<String>> {
        let first = path.first()?;
        let mut base: Vec<String> = match first.as_str() {
            "crate" => Vec::new(),
            "self" => m.to_vec(),
            "super" => {
                let mut b = m.to_vec();
                let mut rest = path;
                while rest.first().map(String::as_str) == Some("super") {
                    b.pop()?;
                    rest = &rest[1..];
                }
                b.extend(rest.iter().cloned());
                return Some(b);
            }
            _ => {
                // a child module of `m` named without `self::`
                let mut child = m.to_vec();
                child.push(first.clone());
                if self.files.contains_key(&child) {
                    m.to_vec()
                } else {
                    return None;
                }
            }
        };
        let skip = usize::from(matches!(first.as_str(), "crate" | "self"));
        base.extend(path[skip..].iter().cloned());
        Some(base)
    }

    fn scan(&mut self, m: &[String]) {
        let text = fs::read_to_string(&self.files[m]).unwrap();
        let code = code_of(&text);
        let mut refs = Vec::new();
        let mut reexports = BTreeMap::new();
        let mut bound: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let bytes = code.as_bytes();
        // `use` statements
        let mut uses: Vec<(usize, usize)> = Vec::new();
        let mut i = 0;
        while let Some(off) = code[i..].find("use ") {
            let at = i + off;
            i = at + 4;
            if at > 0 && is_ident(bytes[at - 1]) {
                continue;
            }
            let before = code[..at].trim_end();
            let public =
                before.ends_with("pub") || before.ends_with(')') && before.contains("pub(");
            let end = match code[at..].find(';') {
                Some(e) => at + e,
                None => break,
            };
            uses.push((at, end + 1));
            for (path, name) in expand_use(&code[at + 4..end]) {
                let Some(abs) = self.absolute(m, &path) else {
                    continue;
                };
                if public {
                    reexports.insert(name, abs);
                } else {
                    if name != "*" {
                        bound.insert(name, abs.clone());
                    }
                    refs.push(abs);
                }
            }
            i = end + 1;
        }
        // inline paths (`crate::a::b::f()`, `super::x::Y`, `calls::FileIndex` after
        // `use crate::detectors::calls;`)
        let mut rest = code.clone();
        for &(s, e) in uses.iter().rev() {
            rest.replace_range(s..e, "");
        }
        let rb = rest.as_bytes();
        let mut i = 0;
        while i < rb.len() {
            if !is_ident(rb[i]) || (i > 0 && (is_ident(rb[i - 1]) || rb[i - 1] == b':')) {
                i += 1;
                continue;
            }
            let at = i;
            let mut j = at;
            while j < rb.len() && (is_ident(rb[j]) || rest[j..].starts_with("::")) {
                j += if rb[j] == b':' { 2 } else { 1 };
            }
            i = j.max(at + 1);
            let path: Vec<String> = rest[at..j]
                .split("::")
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect();
            if path.len() < 2 {
                continue;
            }
            if let Some(to) = bound.get(&path[0]) {
                let mut full = to.clone();
                full.extend(path[1..].iter().cloned());
                refs.push(full);
            } else if let Some(abs) = self.absolute(m, &path) {
                refs.push(abs);
            }
        }
        self.refs.insert(m.to_vec(), refs);
        self.reexports.insert(m.to_vec(), reexports);
    }

    /// The file that defines what `path` names: the longest module prefix, then through
    /// `pub use` re-exports.
    fn target(&self, path: &[String], depth: usize) -> Option<Vec<String>> {
        let mut n = path.len();
        while !self.files.contains_key(&path[..n]) {
            n = n.checked_sub(1)?;
        }
        let module = path[..n].to_vec();
        if depth < 16
            && let Some(next) = path.get(n)
            && let Some(to) = self.reexports.get(&module).and_then(|r| r.get(next))
        {
            let mut full = to.clone();
            full.extend(path[n + 1..].iter().cloned());
            return self.target(&full, depth + 1);
        }
        Some(module)
    }

    fn edges(&self) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
        let mut out: BTreeMap<_, BTreeSet<_>> = BTreeMap::new();
        for (m, refs) in &self.refs {
            let set = out.entry(m.clone()).or_default();
            for r in refs {
                if let Some(t) = self.target(r, 0)
                    && &t != m
                {
                    set.insert(t);
                }
            }
        }
        out
    }

    fn name(&self, m: &[String]) -> String {
        self.files[m]
            .strip_prefix(&self.root)
            .unwrap()
            .display()
            .to_string()
    }
}

/// Strongly connected components with more than one file (Tarjan).
fn cycles(edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<Vec<String>>> {
    struct T<'a> {
        edges: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        on: BTreeSet<&'a Vec<String>>,
        out: Vec<Vec<Vec<String>>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a Vec<String>) {
        let i = t.index.len();
        t.index.insert(v, i);
        t.low.insert(v, i);
        t.stack.push(v);
        t.on.insert(v);
        for w in t.edges.get(v).into_iter().flatten() {
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                comp.push(w.clone());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !t.index.contains_key(v) {
            visit(&mut t, v);
        }
    }
    t.out
}

fn check(dir: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    if !root.join("src").exists() {
        return;
    }
    let c = Crate::load(&root);
    let edges = c.edges();
    let found = cycles(&edges);
    let mut msg = String::new();
    for comp in &found {
        msg.push_str(&format!(
            "\nimport circle of {} files in {dir}:\n",
            comp.len()
        ));
        for m in comp {
            let inside: Vec<String> = edges[m]
                .iter()
                .filter(|t| comp.contains(t))
                .map(|t| c.name(t))
                .collect();
            msg.push_str(&format!("  {} -> {}\n", c.name(m), inside.join(", ")));
        }
    }
    assert!(found.is_empty(), "{msg}");
}

#[test]
fn analyzer_has_no_import_circle() {
    check("analyzer");
}

#[test]
fn shim_has_no_import_circle() {
    check("shim");
}

#[test]
fn rewriter_has_no_import_circle() {
    check("rewriter");
}

#[test]
fn cloudbase_artifacts_have_no_import_circle() {
    check("artifacts");
}

#[test]
fn binary_has_no_import_circle() {
    check(".");
}

#[test]
fn the_check_sees_a_circle() {
    let dir = tempdir();
    let src = dir.join("src");
    fs::create_dir_all(src.join("a")).unwrap();
    fs::write(src.join("lib.rs"), "mod a;\nmod b;\npub use b::Thing;\n").unwrap();
    fs::write(
        src.join("a/mod.rs"),
        "mod c;\npub use c::C;\nuse crate::Thing;\n",
    )
    .unwrap();
    fs::write(
        src.join("a/c.rs"),
        "// use crate::b::Nope;\npub struct C;\nfn f() { let s = \"crate::b\"; }\n",
    )
    .unwrap();
    fs::write(
        src.join("b.rs"),
        "pub struct Thing;\nfn g(c: crate::a::C) -> crate::a::C { c }\n",
    )
    .unwrap();
    let c = Crate::load(&dir);
    let found = cycles(&c.edges());
    let names: Vec<Vec<String>> = found
        .iter()
        .map(|comp| comp.iter().map(|m| c.name(m)).collect())
        .collect();
    // b names crate::a::C, which a/mod.rs re-exports from a/c.rs: b -> a/c.rs, no circle back;
    // a/mod.rs names crate::Thing -> b.rs.
    assert!(names.is_empty(), "{names:?}");
    fs::write(
        src.join("a/c.rs"),
        "use super::super::b::Thing;\npub struct C;\n",
    )
    .unwrap();
    let c = Crate::load(&dir);
    let found = cycles(&c.edges());
    assert_eq!(found.len(), 1, "b.rs -> a/c.rs -> b.rs");
    fs::remove_dir_all(&dir).unwrap();
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("layers-check-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}
