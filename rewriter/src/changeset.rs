//! What an apply would do to the tree: edits per file on the text the analyzer read, new
//! files, moved and removed files, and what was left for the user. The transforms fill it;
//! the review shows it; [`Changeset::into_changes`] turns what was accepted into the
//! journal's [`Change`]s.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use analyzer::files::GENERATED_MARK;

use crate::edit::{self, Applicability, Edit, EditError};
use crate::journal::{Change, hash};

/// A file `apply` writes that was not in the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    /// Project-relative path.
    pub path: String,
    /// Its contents.
    pub contents: Vec<u8>,
    /// What it is, for the review.
    pub reason: String,
    /// The move it is part of (see [`Edit::group`]); empty for shared files.
    pub group: String,
}

/// A file `apply` moves (an asset into `cloud/storage/`) or removes (`to: None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// Project-relative path it is at.
    pub from: String,
    /// Where it goes; `None` removes it (a data module whose data moved to a collection).
    pub to: Option<String>,
    /// Hash of the bytes it must still have.
    pub expect: String,
    /// Why, for the review.
    pub reason: String,
    /// The move it is part of (see [`Edit::group`]).
    pub group: String,
}

/// Something `apply` did not do, and what the user can do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Left {
    /// The finding's id.
    pub id: String,
    /// Where (`path:line:column`).
    pub at: String,
    /// What was not done and why.
    pub why: String,
    /// The next step.
    pub next: String,
}

/// The edits of one file, against the text the analysis read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdits {
    /// The text the edits' offsets refer to.
    pub original: String,
    /// The edits, in the order they were made.
    pub edits: Vec<Edit>,
}

/// Everything one apply would do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changeset {
    /// Edits by project-relative path.
    pub files: BTreeMap<String, FileEdits>,
    /// New files.
    pub created: Vec<NewFile>,
    /// Moved and removed files.
    pub moved: Vec<Moved>,
    /// What was left for the user.
    pub left: Vec<Left>,
}

impl Changeset {
    /// Adds an edit to `path`, whose analyzed text is `original` (an edit already there, the
    /// same replacement of the same range, is not added twice).
    pub fn edit(&mut self, path: &str, original: &str, edit: Edit) {
        let f = self
            .files
            .entry(path.to_string())
            .or_insert_with(|| FileEdits {
                original: original.to_string(),
                edits: Vec::new(),
            });
        if !f
            .edits
            .iter()
            .any(|e| e.start == edit.start && e.end == edit.end && e.text == edit.text)
        {
            f.edits.push(edit);
        }
    }

    /// Drops every edit and move of the `groups`, so that none of a move is done by halves.
    pub fn drop_groups(&mut self, groups: &BTreeSet<String>) {
        if groups.is_empty() {
            return;
        }
        for f in self.files.values_mut() {
            f.edits
                .retain(|e| e.group.is_empty() || !groups.contains(&e.group));
        }
        self.files.retain(|_, f| !f.edits.is_empty());
        self.moved
            .retain(|m| m.group.is_empty() || !groups.contains(&m.group));
        self.created
            .retain(|n| n.group.is_empty() || !groups.contains(&n.group));
    }

    /// Adds a new file (a second one at the same path replaces the first).
    pub fn create(
        &mut self,
        path: impl Into<String>,
        contents: impl Into<Vec<u8>>,
        reason: impl Into<String>,
    ) {
        let path = path.into();
        self.created.retain(|f| f.path != path);
        self.created.push(NewFile {
            path,
            contents: contents.into(),
            reason: reason.into(),
            group: String::new(),
        });
    }

    /// Adds a new file that belongs to the move `group`.
    pub fn create_in(
        &mut self,
        group: &str,
        path: impl Into<String>,
        contents: impl Into<Vec<u8>>,
        reason: impl Into<String>,
    ) {
        self.create(path, contents, reason);
        if let Some(last) = self.created.last_mut() {
            last.group = group.to_string();
        }
    }

    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.files.values().all(|f| f.edits.is_empty())
            && self.created.is_empty()
            && self.moved.is_empty()
    }

    /// Drops the edits above `level` (`Safe` keeps only safe edits), with the rest of their
    /// groups, reporting each one left out.
    pub fn keep_applicable(&mut self, level: Applicability) {
        let mut groups = BTreeSet::new();
        for (path, f) in &mut self.files {
            let (keep, drop): (Vec<Edit>, Vec<Edit>) =
                f.edits.drain(..).partition(|e| e.applicability <= level);
            for e in drop {
                let line = f.original[..e.start].matches('\n').count() + 1;
                self.left.push(Left {
                    id: e.group.clone(),
                    at: format!("{path}:{line}"),
                    why: format!("not applied without review: {}", e.reason),
                    next: "run `migrate apply --unsafe`, or review it interactively".into(),
                });
                if !e.group.is_empty() {
                    groups.insert(e.group);
                }
            }
            f.edits = keep;
        }
        self.drop_groups(&groups);
    }

    /// Leaves out the new files the tree already has byte for byte (a second apply), so the
    /// review does not ask about them.
    pub fn drop_present(&mut self, root: &Path) {
        self.created
            .retain(|n| std::fs::read(root.join(&n.path)).map_or(true, |old| old != n.contents));
    }

    /// The journal changes: edited files, new files, moves and removals. A file to create that
    /// is there already with the same bytes (a second apply) is left alone; one that `apply`
    /// generated before (it starts with [`GENERATED_MARK`]) is brought up to date.
    pub fn into_changes(self, root: &Path) -> Result<Vec<Change>, (String, EditError)> {
        let mut out = Vec::new();
        for (path, f) in self.files {
            if f.edits.is_empty() {
                continue;
            }
            let new = edit::apply(&f.original, &f.edits).map_err(|e| (path.clone(), e))?;
            if new == f.original {
                continue;
            }
            out.push(Change::Modify {
                expect: hash(f.original.as_bytes()),
                path,
                contents: new.into_bytes(),
            });
        }
        for n in self.created {
            match std::fs::read(root.join(&n.path)) {
                Ok(old) if old == n.contents => {}
                Ok(old) if old.starts_with(GENERATED_MARK.as_bytes()) => out.push(Change::Modify {
                    expect: hash(&old),
                    path: n.path,
                    contents: n.contents,
                }),
                _ => out.push(Change::Create {
                    path: n.path,
                    contents: n.contents,
                }),
            }
        }
        for m in self.moved {
            out.push(match m.to {
                Some(to) => Change::Move {
                    from: m.from,
                    to,
                    expect: m.expect,
                },
                None => Change::Delete {
                    path: m.from,
                    expect: m.expect,
                },
            });
        }
        Ok(out)
    }
}
