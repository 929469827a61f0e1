//! Writing a changeset to the project, and undoing it, without ever losing a byte.
//!
//! Before the first file is touched, every change is checked (a file to edit still has the
//! bytes the plan was made from, a file to create is not there, nothing is read-only), the
//! original of every file to be replaced or removed is copied into a journal under
//! `.migrate/journal/<n>/`, and the journal is written in the state `writing`. Each file is then
//! written to a temporary file beside it and renamed over the old one. When all are done the
//! journal says `done`. Undo walks a journal backwards and restores from the copies; each step
//! checks what is on disk, so undo also repairs a tree left halfway by a crash or a kill.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where journals live, relative to the project root.
pub const JOURNAL_DIR: &str = ".migrate/journal";

/// One change to the project tree. Paths are relative to the project root, `/`-separated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Replace a file's contents; `expect` is the blake3 hash (hex) of the bytes the edits were
    /// made against.
    Modify {
        /// The file.
        path: String,
        /// Hash of the bytes it must still have.
        expect: String,
        /// Its new contents.
        contents: Vec<u8>,
    },
    /// Write a new file (its folders are made as needed).
    Create {
        /// The file.
        path: String,
        /// Its contents.
        contents: Vec<u8>,
    },
    /// Move a file (an asset into `cloud/storage/`); `expect` as for [`Change::Modify`].
    Move {
        /// Where it is.
        from: String,
        /// Where it goes.
        to: String,
        /// Hash of the bytes it must still have.
        expect: String,
    },
    /// Remove a file (a data module that left the package).
    Delete {
        /// The file.
        path: String,
        /// Hash of the bytes it must still have.
        expect: String,
    },
}

impl Change {
    /// The path the change is about (the source of a move).
    pub fn path(&self) -> &str {
        match self {
            Change::Modify { path, .. }
            | Change::Create { path, .. }
            | Change::Delete { path, .. } => path,
            Change::Move { from, .. } => from,
        }
    }
}

/// Why a changeset was not written. The tree is as it was, except for [`Error::Io`] during
/// the writing itself, where the journal is left for [`undo`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file differs from what the plan was made from.
    #[error("{path} changed since the plan was made")]
    Changed {
        /// The file.
        path: String,
    },
    /// A file to edit, move or remove is not there.
    #[error("{path} is missing")]
    Missing {
        /// The file.
        path: String,
    },
    /// A file to create (or move to) exists already.
    #[error("{path} exists already")]
    Exists {
        /// The file.
        path: String,
    },
    /// A file or the folder it is in cannot be written.
    #[error("{path} is read-only")]
    ReadOnly {
        /// The file.
        path: String,
    },
    /// A path leaves the project (`..`, absolute).
    #[error("{path} is outside the project")]
    Outside {
        /// The path.
        path: String,
    },
    /// An earlier apply stopped halfway.
    #[error("an earlier `migrate apply` was interrupted (journal {0})")]
    Interrupted(String),
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        source: io::Error,
    },
}

impl Error {
    /// What the user does next.
    pub fn help(&self) -> &'static str {
        match self {
            Error::Changed { .. } => {
                "make the plan again (`migrate plan`) so the edits match the file as it is now"
            }
            Error::Missing { .. } | Error::Exists { .. } => {
                "make the plan again (`migrate plan`) so it matches the tree as it is now"
            }
            Error::ReadOnly { .. } => "make the file writable, then run `migrate apply` again",
            Error::Outside { .. } => "keep every path of the plan inside the project folder",
            Error::Interrupted(_) => {
                "run `migrate apply --undo` to restore the tree, then apply again"
            }
            Error::Io { .. } => {
                "fix the cause, then run `migrate apply --undo` to restore the tree"
            }
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The blake3 hash of `bytes`, hex.
pub fn hash(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
enum State {
    Writing,
    Done,
}

/// What undo needs of one change.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
enum Entry {
    /// `path` was replaced; its original is `backup` (in the journal folder).
    Modify {
        path: String,
        backup: String,
    },
    Create {
        path: String,
    },
    Move {
        from: String,
        to: String,
    },
    Delete {
        path: String,
        backup: String,
    },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Journal {
    state: State,
    /// Folders the apply made, outermost first; undo removes them when empty.
    made_dirs: Vec<String>,
    entries: Vec<Entry>,
}

/// What an apply did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The journal folder, relative to the root.
    pub journal: String,
    /// Number of changes written.
    pub changes: usize,
}

fn rel(root: &Path, path: &str) -> Result<PathBuf, Error> {
    let p = Path::new(path);
    let ok = !path.is_empty()
        && p.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !ok {
        return Err(Error::Outside {
            path: path.to_string(),
        });
    }
    Ok(root.join(p))
}

/// The journals under `root`, oldest first.
fn journals(root: &Path) -> Vec<(u64, PathBuf)> {
    let mut out: Vec<(u64, PathBuf)> = fs::read_dir(root.join(JOURNAL_DIR))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_str()?.parse().ok()?;
            Some((n, e.path()))
        })
        .collect();
    out.sort();
    out
}

fn read_journal(dir: &Path) -> Result<Journal, Error> {
    let path = dir.join("journal.json");
    let text = fs::read(&path).map_err(io_err(&path))?;
    serde_json::from_slice(&text).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: io::Error::new(io::ErrorKind::InvalidData, e),
    })
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, keeping
/// the permissions of the file it replaces.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".migrate-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    if let Ok(meta) = fs::metadata(path) {
        fs::set_permissions(tmp.path(), meta.permissions())?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn write_journal(dir: &Path, j: &Journal) -> Result<(), Error> {
    let path = dir.join("journal.json");
    let bytes = serde_json::to_vec_pretty(j).expect("journal serializes");
    write_atomic(&path, &bytes).map_err(io_err(&path))
}

fn check_expect(root: &Path, path: &str, expect: &str) -> Result<(), Error> {
    let abs = rel(root, path)?;
    let bytes = match fs::read(&abs) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(Error::Missing {
                path: path.to_string(),
            });
        }
        Err(e) => return Err(io_err(&abs)(e)),
    };
    if hash(&bytes) != expect {
        return Err(Error::Changed {
            path: path.to_string(),
        });
    }
    Ok(())
}

fn check_absent(root: &Path, path: &str) -> Result<(), Error> {
    if rel(root, path)?.symlink_metadata().is_ok() {
        return Err(Error::Exists {
            path: path.to_string(),
        });
    }
    Ok(())
}

fn check_writable(root: &Path, path: &str) -> Result<(), Error> {
    let abs = rel(root, path)?;
    let ro = |p: &Path| fs::metadata(p).is_ok_and(|m| m.permissions().readonly());
    // The file itself, or the nearest folder that exists (where the file would be made).
    let mut probe = abs.clone();
    if probe.exists() && ro(&probe) {
        return Err(Error::ReadOnly {
            path: path.to_string(),
        });
    }
    while !probe.exists() || probe.is_file() {
        if !probe.pop() {
            break;
        }
    }
    if ro(&probe) {
        return Err(Error::ReadOnly {
            path: path.to_string(),
        });
    }
    Ok(())
}

/// Folders to make for `path`, outermost first, that do not exist yet and are not in `made`.
fn missing_dirs(root: &Path, path: &str, made: &mut Vec<String>) {
    let mut dirs = Vec::new();
    let mut p = Path::new(path).parent();
    while let Some(d) = p {
        if d.as_os_str().is_empty() {
            break;
        }
        let s = d.to_string_lossy().replace('\\', "/");
        if root.join(d).is_dir() || made.contains(&s) {
            break;
        }
        dirs.push(s);
        p = d.parent();
    }
    made.extend(dirs.into_iter().rev());
}

/// Checks every change against the tree; writes nothing.
pub fn check(root: &Path, changes: &[Change]) -> Result<(), Error> {
    if let Some((_, dir)) = journals(root).last()
        && read_journal(dir).is_ok_and(|j| j.state == State::Writing)
    {
        return Err(Error::Interrupted(dir.display().to_string()));
    }
    for c in changes {
        match c {
            Change::Modify { path, expect, .. } | Change::Delete { path, expect } => {
                check_expect(root, path, expect)?;
                check_writable(root, path)?;
            }
            Change::Create { path, .. } => {
                check_absent(root, path)?;
                check_writable(root, path)?;
            }
            Change::Move { from, to, expect } => {
                check_expect(root, from, expect)?;
                check_absent(root, to)?;
                check_writable(root, from)?;
                check_writable(root, to)?;
            }
        }
    }
    Ok(())
}

/// Writes the changes, journaled. `before` is called with each change's index before it is
/// written (tests use it to stop halfway; the CLI passes a no-op).
pub fn apply(
    root: &Path,
    changes: &[Change],
    before: &mut dyn FnMut(usize) -> io::Result<()>,
) -> Result<Applied, Error> {
    check(root, changes)?;
    let n = journals(root).last().map_or(1, |(n, _)| n + 1);
    let dir = root.join(JOURNAL_DIR).join(n.to_string());
    fs::create_dir_all(dir.join("backup")).map_err(io_err(&dir))?;
    let mut journal = Journal {
        state: State::Writing,
        made_dirs: Vec::new(),
        entries: Vec::new(),
    };
    for (i, c) in changes.iter().enumerate() {
        let backup = |path: &str| -> Result<String, Error> {
            let name = format!("{i}-{}", path.rsplit('/').next().unwrap_or("file"));
            let to = dir.join("backup").join(&name);
            fs::copy(rel(root, path)?, &to).map_err(io_err(&to))?;
            Ok(name)
        };
        let entry = match c {
            Change::Modify { path, .. } => Entry::Modify {
                path: path.clone(),
                backup: backup(path)?,
            },
            Change::Delete { path, .. } => Entry::Delete {
                path: path.clone(),
                backup: backup(path)?,
            },
            Change::Create { path, .. } => {
                missing_dirs(root, path, &mut journal.made_dirs);
                Entry::Create { path: path.clone() }
            }
            Change::Move { from, to, .. } => {
                missing_dirs(root, to, &mut journal.made_dirs);
                Entry::Move {
                    from: from.clone(),
                    to: to.clone(),
                }
            }
        };
        journal.entries.push(entry);
    }
    write_journal(&dir, &journal)?;
    for (i, c) in changes.iter().enumerate() {
        before(i).map_err(io_err(Path::new(c.path())))?;
        match c {
            Change::Modify { path, contents, .. } => {
                let abs = rel(root, path)?;
                write_atomic(&abs, contents).map_err(io_err(&abs))?;
            }
            Change::Create { path, contents } => {
                let abs = rel(root, path)?;
                if let Some(parent) = abs.parent() {
                    fs::create_dir_all(parent).map_err(io_err(parent))?;
                }
                write_atomic(&abs, contents).map_err(io_err(&abs))?;
            }
            Change::Move { from, to, .. } => {
                let (src, dst) = (rel(root, from)?, rel(root, to)?);
                if let Some(parent) = dst.parent() {
                    fs::create_dir_all(parent).map_err(io_err(parent))?;
                }
                fs::rename(&src, &dst).map_err(io_err(&src))?;
            }
            Change::Delete { path, .. } => {
                let abs = rel(root, path)?;
                fs::remove_file(&abs).map_err(io_err(&abs))?;
            }
        }
    }
    journal.state = State::Done;
    write_journal(&dir, &journal)?;
    Ok(Applied {
        journal: format!("{JOURNAL_DIR}/{n}"),
        changes: changes.len(),
    })
}

/// What an undo restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undone {
    /// The journal undone, relative to the root.
    pub journal: String,
    /// Whether that apply had been interrupted.
    pub was_interrupted: bool,
    /// Files restored, removed or moved back.
    pub files: usize,
}

/// Undoes the latest apply (finished or interrupted); `None` when there is nothing to undo.
pub fn undo(root: &Path) -> Result<Option<Undone>, Error> {
    let Some((n, dir)) = journals(root).pop() else {
        return Ok(None);
    };
    let journal = read_journal(&dir)?;
    let mut files = 0;
    for e in journal.entries.iter().rev() {
        match e {
            Entry::Modify { path, backup } | Entry::Delete { path, backup } => {
                let abs = rel(root, path)?;
                let original = dir.join("backup").join(backup);
                let bytes = fs::read(&original).map_err(io_err(&original))?;
                if fs::read(&abs).ok().as_deref() != Some(&bytes[..]) {
                    if let Some(parent) = abs.parent() {
                        fs::create_dir_all(parent).map_err(io_err(parent))?;
                    }
                    write_atomic(&abs, &bytes).map_err(io_err(&abs))?;
                    files += 1;
                }
            }
            Entry::Create { path } => {
                let abs = rel(root, path)?;
                match fs::remove_file(&abs) {
                    Ok(()) => files += 1,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_err(&abs)(e)),
                }
            }
            Entry::Move { from, to } => {
                let (src, dst) = (rel(root, from)?, rel(root, to)?);
                if dst.exists() && !src.exists() {
                    fs::rename(&dst, &src).map_err(io_err(&dst))?;
                    files += 1;
                }
            }
        }
    }
    for d in journal.made_dirs.iter().rev() {
        // Only empty folders go: a file the user put there since stays.
        let _ = fs::remove_dir(root.join(d));
    }
    fs::remove_dir_all(&dir).map_err(io_err(&dir))?;
    for d in [JOURNAL_DIR, ".migrate"] {
        let _ = fs::remove_dir(root.join(d));
    }
    Ok(Some(Undone {
        journal: format!("{JOURNAL_DIR}/{n}"),
        was_interrupted: journal.state == State::Writing,
        files,
    }))
}
