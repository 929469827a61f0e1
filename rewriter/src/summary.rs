//! `migrate apply --format json`: what one apply would do or did, for CI and editors. The
//! schema (version 1) is written down in `docs/apply-schema.md`; this is the one place that
//! makes it.

use analyzer::span::LineIndex;
use serde::Serialize;

use crate::changeset::{Changeset, Left};
use crate::review::Palette;
use crate::session::{self, Item, ItemKind};

/// Version of the JSON this module writes.
pub const VERSION: u32 = 1;

/// One package's size before and after the apply (`after` only once it has been written).
#[derive(Debug, Clone, Serialize)]
pub struct PackageSize {
    /// The package (`main` or the subpackage's root).
    pub package: String,
    /// Bytes before.
    pub before: u64,
    /// Bytes after; `None` on a dry run.
    pub after: Option<u64>,
}

/// What was written.
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    /// Changes written (files edited, created, moved or removed).
    pub changes: usize,
    /// The journal `apply --undo` restores from.
    pub journal: String,
}

/// The whole summary.
#[derive(Debug, Serialize)]
pub struct Summary<'a> {
    /// [`VERSION`].
    pub version: u32,
    /// `dry-run` (nothing written) or `apply`.
    pub mode: &'static str,
    /// The most a rewrite may need to be applied: `safe`, or `unsafe` with `--unsafe`.
    pub level: &'static str,
    /// One entry per file, in the review's order.
    pub files: Vec<FileSummary<'a>>,
    /// What was not done, and the next step.
    pub left: Vec<LeftSummary<'a>>,
    /// Set when the apply wrote the tree.
    pub written: Option<Written>,
    /// Package sizes.
    pub sizes: Vec<PackageSize>,
}

/// One file of the summary.
#[derive(Debug, Serialize)]
pub struct FileSummary<'a> {
    /// Project-relative path.
    pub path: &'a str,
    /// `edit`, `create`, `move` or `delete`.
    pub change: &'static str,
    /// Where a moved file goes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<&'a str>,
    /// Why (new, moved and removed files).
    #[serde(skip_serializing_if = "str::is_empty")]
    pub reason: &'a str,
    /// The edits of an edited file, in file order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<EditSummary<'a>>,
    /// Lines added and removed.
    pub added: usize,
    /// Lines removed.
    pub removed: usize,
    /// The unified diff, as `--dry-run` prints it without colour (a long new file cut).
    pub diff: String,
}

/// One edit of a file.
#[derive(Debug, Serialize)]
pub struct EditSummary<'a> {
    /// 1-based line of its start in the original text.
    pub line: u32,
    /// 1-based column (in characters).
    pub column: u32,
    /// Byte range in the original text.
    pub start: usize,
    /// End of the range (exclusive).
    pub end: usize,
    /// `safe` or `unsafe`.
    pub applicability: &'static str,
    /// What it does.
    pub reason: &'a str,
    /// The move it belongs to (a finding id), left out when it stands alone.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub group: &'a str,
}

/// One thing left for the user.
#[derive(Debug, Serialize)]
pub struct LeftSummary<'a> {
    /// The finding's id.
    pub id: &'a str,
    /// `path:line:column`.
    pub at: &'a str,
    /// What was not done and why.
    pub why: &'a str,
    /// The next step.
    pub next: &'a str,
}

impl<'a> Summary<'a> {
    /// The summary of `items` (made from `cs`) and what was `left`, for a dry run or an apply
    /// (`written` is set once it has written anything).
    pub fn new(
        cs: &'a Changeset,
        items: &'a [Item],
        left: &'a [Left],
        unsafe_: bool,
        dry_run: bool,
    ) -> Self {
        let files = items.iter().map(|it| file_summary(cs, it)).collect();
        Summary {
            version: VERSION,
            mode: if dry_run { "dry-run" } else { "apply" },
            level: if unsafe_ { "unsafe" } else { "safe" },
            files,
            left: left
                .iter()
                .map(|l| LeftSummary {
                    id: &l.id,
                    at: &l.at,
                    why: &l.why,
                    next: &l.next,
                })
                .collect(),
            written: None,
            sizes: Vec::new(),
        }
    }

    /// As a JSON value (the apply fills in `written` and each size's `after` once it has
    /// written the tree).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a summary is plain data")
    }
}

/// `value` pretty-printed, with a final newline.
pub fn pretty(value: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("a JSON value prints");
    s.push('\n');
    s
}

fn file_summary<'a>(cs: &'a Changeset, it: &'a Item) -> FileSummary<'a> {
    let (change, to) = match &it.kind {
        ItemKind::Edit => ("edit", None),
        ItemKind::Create => ("create", None),
        ItemKind::Move(to) => ("move", Some(to.as_str())),
        ItemKind::Delete => ("delete", None),
    };
    let mut edits = Vec::new();
    if it.kind == ItemKind::Edit
        && let Some(f) = cs.files.get(&it.path)
    {
        let index = LineIndex::new(&f.original);
        let mut shown: Vec<usize> = it.hunks.iter().flat_map(|h| h.edits.clone()).collect();
        shown.sort_by_key(|&i| (f.edits[i].start, f.edits[i].end));
        for i in shown {
            let e = &f.edits[i];
            let (line, column) = index.line_col(&f.original, e.start as u32);
            edits.push(EditSummary {
                line,
                column,
                start: e.start,
                end: e.end,
                applicability: e.applicability.as_str(),
                reason: &e.reason,
                group: &e.group,
            });
        }
    }
    let (added, removed) = it.hunks.iter().fold((0, 0), |(a, r), h| {
        let (ha, hr) = h.counts();
        (a + ha, r + hr)
    });
    FileSummary {
        path: &it.path,
        change,
        to,
        reason: &it.reason,
        edits,
        added,
        removed,
        diff: session::render(std::slice::from_ref(it), Palette::plain()),
    }
}
