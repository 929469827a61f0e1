//! The review: a file's edits as unified-diff hunks, each hunk knowing the edits it shows, so a
//! person can accept or reject per file and per hunk (as `git add -p`) and the result is the
//! original text with the accepted edits applied: never a patch of a patch.

use std::fmt::Write as _;
use std::ops::Range;

use anstyle::{AnsiColor, Style};
use similar::{ChangeTag, DiffOp, TextDiff, udiff::UnifiedHunkHeader};

use crate::edit::{self, Edit, EditError};

/// Lines of context around each change.
pub const CONTEXT: usize = 3;

/// One hunk of a file's diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    /// Indices into the file's edits that this hunk shows.
    pub edits: Vec<usize>,
    /// `@@ -a,b +c,d @@`.
    pub header: String,
    /// The hunk's lines: context, removed and added, each with its newline (if it had one).
    pub lines: Vec<(ChangeTag, String)>,
}

impl Hunk {
    /// Lines added and removed.
    pub fn counts(&self) -> (usize, usize) {
        let added = self
            .lines
            .iter()
            .filter(|l| l.0 == ChangeTag::Insert)
            .count();
        let removed = self
            .lines
            .iter()
            .filter(|l| l.0 == ChangeTag::Delete)
            .count();
        (added, removed)
    }
}

/// The hunks of `old` with `edits` applied. Each edit lands in exactly one hunk (hunks that
/// one edit spans are merged); an edit that changes nothing is in none.
pub fn hunks(old: &str, edits: &[Edit]) -> Result<Vec<Hunk>, EditError> {
    let new = edit::apply(old, edits)?;
    let diff = TextDiff::from_lines(old, new.as_str());
    let groups = diff.grouped_ops(CONTEXT);
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let starts = line_starts(old);
    let line_of = |at: usize| starts.partition_point(|&s| s <= at) - 1;
    // Old line range of each group, context included.
    let ranges: Vec<Range<usize>> = groups
        .iter()
        .map(|g| {
            let first = g.first().map_or(0, |op| op.old_range().start);
            let last = g.last().map_or(first, |op| op.old_range().end);
            first..last.max(first + 1)
        })
        .collect();
    // Union of groups that one edit spans: `parent[g]` is the first group of g's hunk.
    let mut parent: Vec<usize> = (0..groups.len()).collect();
    let mut owner: Vec<Option<usize>> = vec![None; edits.len()];
    for (i, e) in edits.iter().enumerate() {
        if old[e.start..e.end] == e.text {
            continue;
        }
        let (l0, l1) = (line_of(e.start), line_of(e.end.max(e.start)));
        let hit: Vec<usize> = (0..ranges.len())
            .filter(|&g| l0 < ranges[g].end && l1 >= ranges[g].start)
            .collect();
        if let (Some(&a), Some(&b)) = (hit.first(), hit.last()) {
            let root = parent[a];
            for p in parent.iter_mut().take(b + 1).skip(a) {
                *p = root;
            }
            owner[i] = Some(a);
        }
    }
    let mut out: Vec<(usize, Hunk)> = Vec::new();
    let mut ops: Vec<DiffOp> = Vec::new();
    for g in 0..groups.len() {
        ops.extend(groups[g].iter().copied());
        let last_of_hunk = g + 1 == groups.len() || parent[g + 1] != parent[g];
        if !last_of_hunk {
            continue;
        }
        let mut lines = Vec::new();
        for op in &ops {
            for change in diff.iter_changes(op) {
                lines.push((change.tag(), change.value().to_string()));
            }
        }
        out.push((
            parent[g],
            Hunk {
                edits: Vec::new(),
                header: UnifiedHunkHeader::new(&ops).to_string(),
                lines,
            },
        ));
        ops.clear();
    }
    for (i, o) in owner.iter().enumerate() {
        if let Some(g) = o {
            let root = parent[*g];
            if let Some((_, h)) = out.iter_mut().find(|(r, _)| *r == root) {
                h.edits.push(i);
            }
        }
    }
    Ok(out.into_iter().map(|(_, h)| h).collect())
}

/// Byte offset of the start of each line (the first is 0).
pub fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
    starts
}

/// The edits of the accepted hunks (`accepted[h]` says whether hunk `h` is kept).
pub fn accepted_edits(edits: &[Edit], hunks: &[Hunk], accepted: &[bool]) -> Vec<Edit> {
    let mut keep: Vec<usize> = hunks
        .iter()
        .zip(accepted)
        .filter(|(_, a)| **a)
        .flat_map(|(h, _)| h.edits.iter().copied())
        .collect();
    keep.sort_unstable();
    keep.into_iter()
        .map(|i| edits[i].clone())
        .collect::<Vec<_>>()
}

/// Colours of the rendered diff.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    header: Style,
    hunk: Style,
    removed: Style,
    added: Style,
}

impl Palette {
    /// ANSI colours, as `git diff` on a terminal.
    pub fn color() -> Palette {
        Palette {
            header: Style::new().bold(),
            hunk: AnsiColor::Cyan.on_default(),
            removed: AnsiColor::Red.on_default(),
            added: AnsiColor::Green.on_default(),
        }
    }

    /// No escapes (a file, a pipe, `NO_COLOR`).
    pub fn plain() -> Palette {
        Palette {
            header: Style::new(),
            hunk: Style::new(),
            removed: Style::new(),
            added: Style::new(),
        }
    }
}

/// Writes `---`/`+++` headers for `path` (`/dev/null` for a new or removed file).
pub fn write_file_header(out: &mut String, old: Option<&str>, new: Option<&str>, p: Palette) {
    let a = old.map_or_else(|| "/dev/null".to_string(), |o| format!("a/{o}"));
    let b = new.map_or_else(|| "/dev/null".to_string(), |n| format!("b/{n}"));
    let _ = writeln!(
        out,
        "{}--- {a}{}",
        p.header.render(),
        p.header.render_reset()
    );
    let _ = writeln!(
        out,
        "{}+++ {b}{}",
        p.header.render(),
        p.header.render_reset()
    );
}

/// Writes one hunk in unified format.
pub fn write_hunk(out: &mut String, hunk: &Hunk, p: Palette) {
    let _ = writeln!(
        out,
        "{}{}{}",
        p.hunk.render(),
        hunk.header,
        p.hunk.render_reset()
    );
    for (tag, line) in &hunk.lines {
        let (sign, style) = match tag {
            ChangeTag::Equal => (' ', Style::new()),
            ChangeTag::Delete => ('-', p.removed),
            ChangeTag::Insert => ('+', p.added),
        };
        let body = line.strip_suffix('\n').unwrap_or(line);
        let _ = writeln!(
            out,
            "{}{sign}{body}{}",
            style.render(),
            style.render_reset()
        );
        if !line.ends_with('\n') {
            out.push_str("\\ No newline at end of file\n");
        }
    }
}

/// The whole diff of one text file: headers and every hunk.
pub fn render_text(
    path: &str,
    old: Option<&str>,
    new_path: Option<&str>,
    hunks: &[Hunk],
    p: Palette,
) -> String {
    let mut out = String::new();
    if hunks.is_empty() {
        return out;
    }
    write_file_header(&mut out, old.map(|_| path), new_path, p);
    for h in hunks {
        write_hunk(&mut out, h, p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(n: usize) -> String {
        (1..=n).map(|i| format!("line {i}\n")).collect()
    }

    fn at(t: &str, needle: &str) -> usize {
        t.find(needle).unwrap()
    }

    #[test]
    fn far_apart_edits_are_separate_hunks_and_accepting_one_applies_only_it() {
        let t = text(40);
        let a = at(&t, "line 3\n");
        let b = at(&t, "line 30\n");
        let edits = vec![
            Edit::replace(a, a + 6, "LINE 3", "upper"),
            Edit::replace(b, b + 7, "LINE 30", "upper"),
        ];
        let hs = hunks(&t, &edits).unwrap();
        assert_eq!(hs.len(), 2);
        assert_eq!(hs[0].edits, vec![0]);
        assert_eq!(hs[1].edits, vec![1]);
        assert_eq!(hs[0].header, "@@ -1,6 +1,6 @@");
        let keep = accepted_edits(&edits, &hs, &[false, true]);
        let out = edit::apply(&t, &keep).unwrap();
        assert!(out.contains("line 3\n") && out.contains("LINE 30\n"));
    }

    #[test]
    fn near_edits_share_a_hunk_and_an_edit_over_many_lines_is_one_hunk() {
        let t = text(40);
        let a = at(&t, "line 5\n");
        let b = at(&t, "line 8\n");
        let c = at(&t, "line 20\n");
        let d = at(&t, "line 35\n");
        // One edit from line 20 to 35 that keeps lines 21..34 equal in the middle would make
        // two diff groups; the hunk must hold both.
        let middle = &t[at(&t, "line 21\n")..d];
        let edits = vec![
            Edit::insert(a, "// a\n", "a"),
            Edit::insert(b, "// b\n", "b"),
            Edit::replace(c, d + 8, format!("LINE 20\n{middle}LINE 35\n"), "c"),
        ];
        let hs = hunks(&t, &edits).unwrap();
        assert_eq!(hs.len(), 2, "{hs:#?}");
        assert_eq!(hs[0].edits, vec![0, 1]);
        assert_eq!(hs[1].edits, vec![2]);
    }

    #[test]
    fn renders_a_unified_diff() {
        let t = "a\nb\nc\n";
        let edits = vec![Edit::replace(2, 3, "B", "upper")];
        let hs = hunks(t, &edits).unwrap();
        let out = render_text("x.js", Some(t), Some("x.js"), &hs, Palette::plain());
        assert_eq!(
            out,
            "--- a/x.js\n+++ b/x.js\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
        );
        let coloured = render_text("x.js", Some(t), Some("x.js"), &hs, Palette::color());
        assert!(coloured.contains("\u{1b}[31m-b"));
    }

    #[test]
    fn a_missing_final_newline_is_marked() {
        let t = "a\nb";
        let edits = vec![Edit::replace(2, 3, "B", "upper")];
        let hs = hunks(t, &edits).unwrap();
        let out = render_text("x.js", Some(t), Some("x.js"), &hs, Palette::plain());
        assert!(
            out.ends_with("-b\n\\ No newline at end of file\n+B\n\\ No newline at end of file\n"),
            "{out}"
        );
    }
}
