//! The clean-tree check: `apply` refuses a project with uncommitted changes (unless told
//! otherwise), so that `git diff` afterwards shows exactly what the migration did.

use std::path::Path;
use std::process::Command;

/// What git says of the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeState {
    /// Not inside a git work tree (or git is not installed): nothing to check.
    NotARepo,
    /// No uncommitted changes under the folder.
    Clean,
    /// These paths (as `git status --porcelain` prints them) have uncommitted changes.
    Dirty(Vec<String>),
}

/// `git status --porcelain` for the folder and what is under it. Files under `.migrate/`
/// (the journal, `migrate serve`'s data) do not count.
pub fn tree_state(dir: &Path) -> TreeState {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["status", "--porcelain", "--untracked-files=all", "--", "."])
        .output();
    let Ok(out) = out else {
        return TreeState::NotARepo;
    };
    if !out.status.success() {
        return TreeState::NotARepo;
    }
    let dirty: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.contains(".migrate/"))
        .map(str::to_string)
        .collect();
    if dirty.is_empty() {
        TreeState::Clean
    } else {
        TreeState::Dirty(dirty)
    }
}
