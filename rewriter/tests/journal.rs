//! Writing and undoing changesets on a real folder: every original byte comes back, every new
//! file goes, also after a stop halfway; bad input leaves the tree as it was.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use rewriter::journal::{self, Change, Error, hash};

/// Every file under `root` (but the journal) with its bytes.
fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if p.is_dir() {
                out.insert(format!("{rel}/"), Vec::new());
                walk(root, &p, out);
            } else {
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("miniprogram/pages/index")).unwrap();
    fs::create_dir_all(root.join("miniprogram/images")).unwrap();
    fs::write(root.join("miniprogram/app.js"), "App({})\n").unwrap();
    fs::write(
        root.join("miniprogram/pages/index/index.js"),
        "// 首页\nconst cities = require('../../data/cities.js')\nPage({ data: { cities } })\n",
    )
    .unwrap();
    fs::create_dir_all(root.join("miniprogram/data")).unwrap();
    fs::write(
        root.join("miniprogram/data/cities.js"),
        "module.exports = [1, 2, 3]\n",
    )
    .unwrap();
    fs::write(
        root.join("miniprogram/images/banner.png"),
        vec![0x89u8; 4096],
    )
    .unwrap();
    dir
}

fn changes(root: &Path) -> Vec<Change> {
    let read = |p: &str| fs::read(root.join(p)).unwrap();
    vec![
        Change::Modify {
            path: "miniprogram/pages/index/index.js".into(),
            expect: hash(&read("miniprogram/pages/index/index.js")),
            contents: b"// \xe9\xa6\x96\xe9\xa1\xb5\nPage({ data: { cities: [] } })\n".to_vec(),
        },
        Change::Create {
            path: "cloud/database/cities.json".into(),
            contents: b"{\"v\":1}\n{\"v\":2}\n{\"v\":3}\n".to_vec(),
        },
        Change::Move {
            from: "miniprogram/images/banner.png".into(),
            to: "cloud/storage/images/banner.png".into(),
            expect: hash(&read("miniprogram/images/banner.png")),
        },
        Change::Delete {
            path: "miniprogram/data/cities.js".into(),
            expect: hash(&read("miniprogram/data/cities.js")),
        },
        Change::Create {
            path: "miniprogram/cloud-runtime/loader.js".into(),
            contents: b"module.exports = {}\n".to_vec(),
        },
    ]
}

#[test]
fn apply_then_undo_restores_every_byte_and_removes_every_new_file() {
    let dir = project();
    let root = dir.path();
    let before = snapshot(root);
    let cs = changes(root);
    let applied = journal::apply(root, &cs, &mut |_| Ok(())).unwrap();
    assert_eq!(applied.changes, 5);
    assert_eq!(
        fs::read_to_string(root.join("cloud/database/cities.json")).unwrap(),
        "{\"v\":1}\n{\"v\":2}\n{\"v\":3}\n"
    );
    assert!(!root.join("miniprogram/images/banner.png").exists());
    assert_eq!(
        fs::read(root.join("cloud/storage/images/banner.png"))
            .unwrap()
            .len(),
        4096
    );
    assert!(!root.join("miniprogram/data/cities.js").exists());
    let undone = journal::undo(root).unwrap().unwrap();
    assert!(!undone.was_interrupted);
    assert_eq!(snapshot(root), before);
    assert_eq!(journal::undo(root).unwrap(), None, "nothing left to undo");
}

#[test]
fn a_stop_halfway_is_undone_and_blocks_the_next_apply() {
    for stop_at in 0..5 {
        let dir = project();
        let root = dir.path();
        let before = snapshot(root);
        let cs = changes(root);
        let err = journal::apply(root, &cs, &mut |i| {
            if i == stop_at {
                Err(io::Error::other("power cut"))
            } else {
                Ok(())
            }
        })
        .unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
        let again = journal::apply(root, &cs, &mut |_| Ok(())).unwrap_err();
        assert!(matches!(again, Error::Interrupted(_)), "{again}");
        let undone = journal::undo(root).unwrap().unwrap();
        assert!(undone.was_interrupted);
        assert_eq!(snapshot(root), before, "stopped before change {stop_at}");
    }
}

#[test]
fn a_file_edited_after_the_plan_leaves_the_tree_as_it_was() {
    let dir = project();
    let root = dir.path();
    let cs = changes(root);
    fs::write(
        root.join("miniprogram/data/cities.js"),
        "module.exports = [1, 2, 3, 4]\n",
    )
    .unwrap();
    let before = snapshot(root);
    let err = journal::apply(root, &cs, &mut |_| Ok(())).unwrap_err();
    assert!(
        matches!(&err, Error::Changed { path } if path == "miniprogram/data/cities.js"),
        "{err}"
    );
    assert!(err.help().contains("migrate plan"));
    assert_eq!(snapshot(root), before);
}

#[test]
fn missing_existing_read_only_and_outside_paths_are_refused_before_writing() {
    let dir = project();
    let root = dir.path();
    let before = snapshot(root);
    let mut cs = changes(root);
    cs.push(Change::Create {
        path: "miniprogram/app.js".into(),
        contents: Vec::new(),
    });
    assert!(matches!(
        journal::apply(root, &cs, &mut |_| Ok(())).unwrap_err(),
        Error::Exists { .. }
    ));
    let mut cs = changes(root);
    cs.push(Change::Create {
        path: "../escape.js".into(),
        contents: Vec::new(),
    });
    assert!(matches!(
        journal::apply(root, &cs, &mut |_| Ok(())).unwrap_err(),
        Error::Outside { .. }
    ));
    let mut cs = changes(root);
    cs.push(Change::Delete {
        path: "miniprogram/nope.js".into(),
        expect: hash(b""),
    });
    assert!(matches!(
        journal::apply(root, &cs, &mut |_| Ok(())).unwrap_err(),
        Error::Missing { .. }
    ));
    let index = root.join("miniprogram/pages/index/index.js");
    let mut perms = fs::metadata(&index).unwrap().permissions();
    perms.set_readonly(true);
    fs::set_permissions(&index, perms.clone()).unwrap();
    let err = journal::apply(root, &changes(root), &mut |_| Ok(())).unwrap_err();
    assert!(matches!(err, Error::ReadOnly { .. }), "{err}");
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    fs::set_permissions(&index, perms).unwrap();
    assert_eq!(snapshot(root), before);
}

#[test]
fn write_atomic_keeps_the_permissions_of_the_file_it_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.sh");
    fs::write(&path, "old").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        journal::write_atomic(&path, b"new").unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o755
        );
    }
    assert_eq!(fs::read_to_string(&path).unwrap(), "new");
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
}
