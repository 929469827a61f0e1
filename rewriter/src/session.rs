//! One `migrate apply`: the changeset of a plan as review items (a diff per text file, a line
//! per moved or removed file), the answers turned back into the changeset to write.

use std::collections::BTreeSet;

use crate::changeset::{Changeset, FileEdits};
use crate::edit::EditError;
use crate::prompt::{Answers, Question};
use crate::review::{self, Hunk, Palette};

/// What one review item is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemKind {
    /// Edits to an existing text file.
    Edit,
    /// A new file (shown as a diff from nothing).
    Create,
    /// A file moved elsewhere (`to`).
    Move(String),
    /// A file removed.
    Delete,
}

/// One file of the review.
#[derive(Debug, Clone)]
pub struct Item {
    /// Its project-relative path.
    pub path: String,
    /// What happens to it.
    pub kind: ItemKind,
    /// Its diff (empty for moves and removals, and for new binary files).
    pub hunks: Vec<Hunk>,
    /// Why, for moves and new files.
    pub reason: String,
}

/// The review items of a changeset, edited files first (by path), then new files, then moves.
pub fn items(cs: &Changeset) -> Result<Vec<Item>, (String, EditError)> {
    let mut out = Vec::new();
    for (path, f) in &cs.files {
        let hunks = review::hunks(&f.original, &f.edits).map_err(|e| (path.clone(), e))?;
        if hunks.is_empty() {
            continue;
        }
        out.push(Item {
            path: path.clone(),
            kind: ItemKind::Edit,
            hunks,
            reason: String::new(),
        });
    }
    for n in &cs.created {
        // A binary new file (a decoded data URI) is shown by its note only, like a moved image.
        let hunks = match std::str::from_utf8(&n.contents) {
            Ok(text) => review::hunks("", &[crate::edit::Edit::insert(0, text, n.reason.clone())])
                .map_err(|e| (n.path.clone(), e))?,
            Err(_) => Vec::new(),
        };
        out.push(Item {
            path: n.path.clone(),
            kind: ItemKind::Create,
            hunks,
            reason: n.reason.clone(),
        });
    }
    for m in &cs.moved {
        out.push(Item {
            path: m.from.clone(),
            kind: match &m.to {
                Some(to) => ItemKind::Move(to.clone()),
                None => ItemKind::Delete,
            },
            hunks: Vec::new(),
            reason: m.reason.clone(),
        });
    }
    Ok(out)
}

impl Item {
    /// The line shown above a move or removal.
    pub fn note(&self) -> Option<String> {
        match &self.kind {
            ItemKind::Move(to) => Some(format!("moved to {to} ({})", self.reason)),
            ItemKind::Delete => Some(format!("removed ({})", self.reason)),
            ItemKind::Create => Some(format!("new file: {}", self.reason)),
            ItemKind::Edit => None,
        }
    }

    /// The question the prompt asks about this item.
    pub fn question(&self) -> Question<'_> {
        Question {
            path: &self.path,
            note: self.note(),
            hunks: &self.hunks,
            old_exists: matches!(
                self.kind,
                ItemKind::Edit | ItemKind::Delete | ItemKind::Move(_)
            ),
            new_exists: matches!(self.kind, ItemKind::Edit | ItemKind::Create),
        }
    }
}

/// The whole diff, as `--dry-run` prints it.
pub fn render(items: &[Item], palette: Palette) -> String {
    let mut out = String::new();
    for it in items {
        let q = it.question();
        review::write_file_header(
            &mut out,
            q.old_exists.then_some(it.path.as_str()),
            q.new_exists.then_some(it.path.as_str()),
            palette,
        );
        if let Some(n) = it.note() {
            out.push_str(&n);
            out.push('\n');
        }
        for h in &it.hunks {
            if it.kind == ItemKind::Create && h.lines.len() > NEW_FILE_LINES {
                let mut head = h.clone();
                let more = head.lines.len() - NEW_FILE_LINES;
                head.lines.truncate(NEW_FILE_LINES);
                review::write_hunk(&mut out, &head, palette);
                out.push_str(&format!("… {more} more lines\n"));
            } else {
                review::write_hunk(&mut out, h, palette);
            }
        }
    }
    out
}

/// Lines of a new file the diff shows (a seed of thousands of records is cut).
pub const NEW_FILE_LINES: usize = 60;

/// The changeset with only what the answers kept.
pub fn select(cs: &Changeset, items: &[Item], answers: &Answers) -> Changeset {
    let mut out = Changeset {
        left: cs.left.clone(),
        ..Changeset::default()
    };
    // A move is done whole or not at all: a rejected part drops the rest of its group.
    let mut broken: BTreeSet<String> = BTreeSet::new();
    for (it, keep) in items.iter().zip(answers) {
        match &it.kind {
            ItemKind::Edit => {
                let f = &cs.files[&it.path];
                for (h, k) in it.hunks.iter().zip(keep) {
                    if !k {
                        broken.extend(h.edits.iter().map(|&i| f.edits[i].group.clone()));
                    }
                }
            }
            ItemKind::Move(_) | ItemKind::Delete => {
                if !keep.first().copied().unwrap_or(false) {
                    broken.extend(
                        cs.moved
                            .iter()
                            .filter(|m| m.from == it.path)
                            .map(|m| m.group.clone()),
                    );
                }
            }
            ItemKind::Create => {}
        }
    }
    broken.remove("");
    for (it, keep) in items.iter().zip(answers) {
        match &it.kind {
            ItemKind::Edit => {
                let f = &cs.files[&it.path];
                let edits = review::accepted_edits(&f.edits, &it.hunks, keep);
                if !edits.is_empty() {
                    out.files.insert(
                        it.path.clone(),
                        FileEdits {
                            original: f.original.clone(),
                            edits,
                        },
                    );
                }
            }
            ItemKind::Create => {
                if keep.iter().all(|k| *k) {
                    out.created
                        .extend(cs.created.iter().filter(|n| n.path == it.path).cloned());
                }
            }
            ItemKind::Move(_) | ItemKind::Delete => {
                if keep.first().copied().unwrap_or(false) {
                    out.moved
                        .extend(cs.moved.iter().filter(|m| m.from == it.path).cloned());
                }
            }
        }
    }
    out.drop_groups(&broken);
    out
}
