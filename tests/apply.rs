//! `migrate plan` and `migrate apply` on every sample app, as a user runs them: the plan and
//! the dry-run diff are snapshots (`tests/snapshots/apply__*.snap`); applied to a copy, every
//! rewritten script re-parses, a second apply writes nothing, the analysis of the result
//! proposes nothing more of what was applied, `--undo` restores every byte (also after a crash
//! halfway through), and the bus/ride-code app's main package drops under 2 MB.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::copy_dir;

const ENV: &str = "sample-env-1a2b";

fn app_dir(app: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/apps")
        .join(app)
}

fn migrate(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(args)
        .arg(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run migrate")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every file under `root` with its bytes (the journal folder left out).
fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if rel.starts_with(".migrate") {
                continue;
            }
            let ft = e.file_type().unwrap();
            if ft.is_symlink() {
                out.insert(
                    rel,
                    fs::read_link(&p)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned()
                        .into_bytes(),
                );
            } else if ft.is_dir() {
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

fn report(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&ok(&migrate(dir, &["analyze", "--format", "json"]))).unwrap()
}

/// Script files whose parse failed, from the analysis diagnostics.
fn parse_errors(r: &serde_json::Value) -> Vec<String> {
    r["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            d["severity"] == "error"
                && d["code"]
                    .as_str()
                    .is_some_and(|c| c.contains("parse") || c.contains("syntax"))
        })
        .map(|d| d["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn work_copy(app: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(app);
    copy_dir(&app_dir(app), &dir);
    (tmp, dir)
}

fn check_app(app: &str) {
    let (_tmp, dir) = work_copy(app);
    let plan = ok(&migrate(&dir, &["plan", "--env", ENV]));
    insta::assert_snapshot!(format!("{app}-plan"), plan);
    let dry = ok(&migrate(
        &dir,
        &["apply", "--dry-run", "--unsafe", "--env", ENV],
    ));
    insta::assert_snapshot!(format!("{app}-diff"), dry);

    let before = snapshot(&dir);
    let errors_before = parse_errors(&report(&dir));
    ok(&migrate(
        &dir,
        &["apply", "--yes", "--unsafe", "--allow-dirty", "--env", ENV],
    ));
    let after = report(&dir);
    assert_eq!(
        parse_errors(&after),
        errors_before,
        "every rewritten script re-parses"
    );
    // What was applied is not proposed again.
    let again = ok(&migrate(
        &dir,
        &["apply", "--yes", "--unsafe", "--allow-dirty", "--env", ENV],
    ));
    assert!(
        again.contains("Nothing to write") || again.contains("Nothing to apply"),
        "a second apply changes nothing:\n{again}"
    );
    let applied = snapshot(&dir);
    ok(&migrate(&dir, &["apply", "--undo"]));
    assert_eq!(
        snapshot(&dir),
        before,
        "undo restores every byte and removes every new file"
    );
    assert!(!dir.join(".migrate").exists());
    // The same after a crash halfway through the writing.
    let changed = applied.len().max(1);
    let out = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(["apply", "--yes", "--unsafe", "--allow-dirty", "--env", ENV])
        .arg(&dir)
        .env("MIGRATE_APPLY_ABORT_AT", (changed / 3).to_string())
        .output()
        .unwrap();
    if !out.status.success() {
        let refused = migrate(
            &dir,
            &["apply", "--yes", "--unsafe", "--allow-dirty", "--env", ENV],
        );
        assert!(
            !refused.status.success(),
            "an interrupted apply blocks the next one"
        );
        assert!(String::from_utf8_lossy(&refused.stderr).contains("--undo"));
        ok(&migrate(&dir, &["apply", "--undo"]));
        assert_eq!(
            snapshot(&dir),
            before,
            "undo after a crash restores every byte"
        );
    }
}

#[test]
fn bus_ride() {
    check_app("bus-ride");
    // The main package was over the 2 MB limit; after the moves it is under.
    let (_tmp, dir) = work_copy("bus-ride");
    let before = report(&dir);
    assert!(before["sizes"]["packages"][0]["bytes"].as_u64().unwrap() > 2 * 1024 * 1024);
    ok(&migrate(
        &dir,
        &["apply", "--yes", "--allow-dirty", "--env", ENV],
    ));
    let after = report(&dir);
    let main = after["sizes"]["packages"][0]["bytes"].as_u64().unwrap();
    assert!(
        main < 2 * 1024 * 1024,
        "main package after apply: {main} bytes"
    );
    assert_eq!(after["summary"]["packagesOverLimit"], 0);
}

#[test]
fn shop() {
    check_app("shop");
}

#[test]
fn ts_news() {
    check_app("ts-news");
}

#[test]
fn messy() {
    check_app("messy");
}

#[test]
fn half_cloud() {
    check_app("half-cloud");
}

#[test]
fn a_dirty_tree_is_refused_and_a_bad_plan_points_at_its_place() {
    let (_tmp, dir) = work_copy("shop");
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(&dir)
            .args(args)
            .output()
            .expect("git")
    };
    if !git(&["init", "-q"]).status.success() {
        return;
    }
    git(&["add", "-A"]);
    git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-qm",
        "init",
    ]);
    fs::write(dir.join("notes.txt"), "mine").unwrap();
    let out = migrate(&dir, &["apply", "--yes", "--env", ENV]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("uncommitted"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    fs::remove_file(dir.join("notes.txt")).unwrap();

    let plan_path = dir.join("..").join("migration.json");
    let plan = ok(&migrate(&dir, &["plan", "--env", ENV]));
    let edited = plan
        .replacen("\"action\": \"move\"", "\"action\": \"teleport\"", 1)
        .replacen(
            "\"version\": 1,",
            "\"version\": 1,\n  \"colour\": \"blue\",",
            1,
        );
    fs::write(&plan_path, edited).unwrap();
    let before = snapshot(&dir);
    let out = migrate(
        &dir,
        &[
            "apply",
            "--yes",
            "--plan",
            plan_path.to_str().unwrap(),
            "--env",
            ENV,
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown key `colour`"), "{err}");
    assert!(err.contains("`action` must be one of move, keep"), "{err}");
    assert!(err.contains("migration.json"), "{err}");
    assert_eq!(snapshot(&dir), before, "a bad plan writes nothing");
}

#[test]
fn the_review_asks_per_file_on_standard_input() {
    use std::io::Write as _;
    let (_tmp, dir) = work_copy("half-cloud");
    let ask = |answers: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_migrate"))
            .args([
                "apply",
                "--allow-dirty",
                "--unsafe",
                "--env",
                ENV,
                "--color",
                "never",
            ])
            .arg(&dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(answers.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let before = snapshot(&dir);
    // `d`: leave this file and every later one.
    let out = ask("d\n");
    let shown = ok(&out);
    assert!(shown.contains("Keep the changes to"), "{shown}");
    assert_eq!(snapshot(&dir), before, "nothing kept, nothing written");
    // `?` shows the choices, then `a` keeps everything.
    let out = ask("?\na\n");
    let shown = ok(&out);
    assert!(shown.contains("s - split: ask for each hunk"), "{shown}");
    assert!(shown.contains("Applied"), "{shown}");
    assert_ne!(snapshot(&dir), before);
    ok(&migrate(&dir, &["apply", "--undo"]));
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn webpack_sdk() {
    check_app("webpack-sdk");
}

#[test]
fn axios_ts() {
    check_app("axios-ts");
}

/// uni-app and Taro: the moves are made in the framework's sources (`.vue`, `.tsx`,
/// `common/*.js`), never in the build output, which stays byte for byte as it was.
#[test]
fn uni_app() {
    check_app("uni-app");
    framework_build_untouched("uni-app", "unpackage/");
}

#[test]
fn taro() {
    check_app("taro");
    framework_build_untouched("taro", "dist/");
}

fn framework_build_untouched(app: &str, build: &str) {
    let (_tmp, dir) = work_copy(app);
    let before = snapshot(&dir);
    ok(&migrate(
        &dir,
        &["apply", "--yes", "--unsafe", "--allow-dirty", "--env", ENV],
    ));
    let after = snapshot(&dir);
    let changed: Vec<&String> = after
        .iter()
        .filter(|(p, b)| before.get(*p) != Some(*b))
        .map(|(p, _)| p)
        .collect();
    assert!(!changed.is_empty(), "{app}: the apply changed nothing");
    for p in &changed {
        assert!(
            !p.starts_with(build),
            "{app}: {p} is in the build output, which the next build overwrites"
        );
    }
    for p in before.keys() {
        assert!(after.contains_key(p), "{app}: {p} was removed");
    }
}

/// `--format json`: the dry run lists the same files as the diff, each edit's line and column
/// point at its byte offset in the file, the apply reports what it wrote and the sizes after,
/// and a run that would have to ask is refused.
#[test]
fn apply_format_json() {
    let (_tmp, dir) = work_copy("bus-ride");
    let args = ["apply", "--unsafe", "--allow-dirty", "--env", ENV];
    let human = ok(&migrate(&dir, &[&args[..], &["--dry-run"]].concat()));
    let dry: serde_json::Value = serde_json::from_str(&ok(&migrate(
        &dir,
        &[&args[..], &["--dry-run", "--format", "json"]].concat(),
    )))
    .unwrap();
    assert_eq!(dry["version"], 1);
    assert_eq!(dry["mode"], "dry-run");
    assert_eq!(dry["level"], "unsafe");
    assert!(dry["written"].is_null());
    let files = dry["files"].as_array().unwrap();
    assert!(files.len() > 3, "{dry:#}");
    let mut concatenated = String::new();
    for f in files {
        let path = f["path"].as_str().unwrap();
        let diff = f["diff"].as_str().unwrap();
        concatenated.push_str(diff);
        let change = f["change"].as_str().unwrap();
        assert!(
            ["edit", "create", "move", "delete"].contains(&change),
            "{f}"
        );
        if change == "move" {
            assert!(
                f["to"].as_str().unwrap().starts_with("cloud/storage/"),
                "{f}"
            );
        }
        if change != "edit" {
            continue;
        }
        let text = fs::read_to_string(dir.join(path)).unwrap();
        let edits = f["edits"].as_array().unwrap();
        assert!(!edits.is_empty(), "{f}");
        for e in edits {
            let start = e["start"].as_u64().unwrap() as usize;
            let line = e["line"].as_u64().unwrap() as usize;
            let column = e["column"].as_u64().unwrap() as usize;
            let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
            assert_eq!(text[..start].matches('\n').count() + 1, line, "{path} {e}");
            assert_eq!(
                text[line_start..start].chars().count() + 1,
                column,
                "{path} {e}"
            );
            assert!(e["end"].as_u64().unwrap() as usize >= start);
            assert!(["safe", "unsafe"].contains(&e["applicability"].as_str().unwrap()));
        }
    }
    // The same diff as the human dry run, file by file.
    assert!(
        human.starts_with(&concatenated),
        "json diffs:\n{concatenated}\nhuman:\n{human}"
    );
    let left = dry["left"].as_array().unwrap();
    assert_eq!(
        left.len(),
        human
            .lines()
            .filter(|l| l.trim_start().starts_with("next: "))
            .count()
    );
    assert!(dry["sizes"][0]["after"].is_null());

    let before = snapshot(&dir);
    let applied: serde_json::Value = serde_json::from_str(&ok(&migrate(
        &dir,
        &[&args[..], &["--yes", "--format", "json"]].concat(),
    )))
    .unwrap();
    assert_eq!(applied["mode"], "apply");
    assert_eq!(applied["files"], dry["files"]);
    assert_eq!(applied["written"]["changes"], files.len());
    assert!(
        dir.join(applied["written"]["journal"].as_str().unwrap())
            .is_dir()
    );
    let main = &applied["sizes"][0];
    assert_eq!(main["package"], "main");
    assert!(main["after"].as_u64().unwrap() < main["before"].as_u64().unwrap());
    assert_ne!(snapshot(&dir), before);

    // A second run writes nothing and says so in the same shape.
    let applied_tree = snapshot(&dir);
    let again: serde_json::Value = serde_json::from_str(&ok(&migrate(
        &dir,
        &[&args[..], &["--yes", "--format", "json"]].concat(),
    )))
    .unwrap();
    assert_eq!(again["mode"], "apply");
    assert_eq!(again["files"], serde_json::json!([]));
    assert!(again["written"].is_null());
    assert_eq!(snapshot(&dir), applied_tree);

    // Asking questions is not possible with JSON on standard output.
    let asked = migrate(&dir, &["apply", "--allow-dirty", "--format", "json"]);
    assert!(!asked.status.success());
    assert!(String::from_utf8_lossy(&asked.stderr).contains("needs --dry-run or --yes"));
    ok(&migrate(&dir, &["apply", "--undo"]));
    assert_eq!(snapshot(&dir), before);
}

/// `wx.cloud.init` is added where the syntax tree has no call of it: a commented-out call does
/// not count, `wx['cloud'].init (…)` and a call through `const cloud = wx.cloud` do; the pages
/// of an independent subpackage get their own unless the subpackage starts the cloud itself.
#[test]
fn cloud_init_is_found_in_the_syntax_not_the_text() {
    let (_tmp, dir) = work_copy("shop");
    let app = dir.join("miniprogram/app.js");
    let orders = "miniprogram/packageUser/pages/orders/orders.js";
    let dry = |dir: &Path| {
        ok(&migrate(
            dir,
            &["apply", "--dry-run", "--allow-dirty", "--env", ENV],
        ))
    };
    let inits_in = |diff: &str, path: &str| {
        diff.split("\n--- ")
            .find(|f| f.contains(&format!("+++ b/{path}\n")))
            .is_some_and(|f| f.contains("+wx.cloud.init({ env: 'sample-env-1a2b'"))
    };
    let original = fs::read_to_string(&app).unwrap();
    fs::write(
        &app,
        format!("// wx.cloud.init({{ env: 'old' }})\nconst s = 'wx.cloud.init('\n{original}"),
    )
    .unwrap();
    let diff = dry(&dir);
    assert!(inits_in(&diff, "miniprogram/app.js"), "{diff}");
    assert!(inits_in(&diff, orders), "{diff}");

    fs::write(
        &app,
        format!("wx['cloud'].init ({{ env: 'old' }})\n{original}"),
    )
    .unwrap();
    let util = dir.join("miniprogram/packageUser/utils/request.js");
    let text = fs::read_to_string(&util).unwrap();
    fs::write(
        &util,
        format!("const cloud = wx.cloud\ncloud.init({{ env: 'old' }})\n{text}"),
    )
    .unwrap();
    let diff = dry(&dir);
    assert!(!inits_in(&diff, "miniprogram/app.js"), "{diff}");
    assert!(!diff.contains("+++ b/miniprogram/app.js"), "{diff}");
    assert!(!inits_in(&diff, orders), "{diff}");
    assert!(!diff.contains(&format!("+++ b/{orders}")), "{diff}");
}

/// A base64 font written into WXSS becomes a stored file of the same bytes, and the WXSS
/// refers to it by HTTPS URL (a WXSS `url()` takes no file ID); undo puts the URI back.
#[test]
fn an_inline_data_uri_becomes_a_stored_file() {
    use base64::Engine as _;
    let (_tmp, dir) = work_copy("shop");
    let wxss = dir.join("miniprogram/styles/iconfont.wxss");
    let original = fs::read_to_string(&wxss).unwrap();
    let start = original.find("data:font/woff;base64,").unwrap();
    let end = start + original[start..].find(')').unwrap();
    let b64 = &original[start + "data:font/woff;base64,".len()..end];
    let expected = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let before = snapshot(&dir);
    ok(&migrate(
        &dir,
        &["apply", "--yes", "--allow-dirty", "--env", ENV],
    ));
    let stored = fs::read(dir.join(format!("cloud/storage/inline/iconfont-{start}.woff"))).unwrap();
    assert_eq!(stored, expected);
    assert!(stored.starts_with(b"wOFF"));
    let now = fs::read_to_string(&wxss).unwrap();
    assert!(!now.contains("data:font/woff"), "{now}");
    assert!(
        now.contains("url(https://")
            && now.contains(&format!("/inline/iconfont-{start}.woff) format('woff')")),
        "{now}"
    );
    let after = report(&dir);
    assert_eq!(after["findings"]["inlineAssets"], serde_json::json!([]));
    ok(&migrate(&dir, &["apply", "--undo"]));
    assert_eq!(snapshot(&dir), before);
}

/// Data reached through a barrel (`import { provinces } from '../../data/index'`) or through a
/// helper that reads it (`bankName(code)`) is not rewritten in place: the import brings other
/// names too. The seeds are written, every such page is left with the module to import from,
/// and no page or barrel changes, even with `--unsafe`.
#[test]
fn data_reached_through_barrels_is_left_with_a_next_step() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("analyzer/tests/fixtures/data/reexports");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("reexports");
    copy_dir(&src, &dir);
    let before = snapshot(&dir);
    let out = ok(&migrate(
        &dir,
        &[
            "apply",
            "--yes",
            "--unsafe",
            "--allow-dirty",
            "--format",
            "json",
        ],
    ));
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    let left: Vec<(String, String)> = r["left"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["at"].as_str().unwrap().to_string(),
                l["why"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let has = |at: &str, why: &str| left.iter().any(|(a, w)| a.starts_with(at) && w == why);
    assert!(
        has(
            "pages/a/a.js:4:",
            "reached through data/index.js, not imported from its own module"
        ),
        "{left:#?}"
    );
    assert!(
        has(
            "pages/c/c.js:6:",
            "reached through `bankName` of utils/lookup.js, not imported from its own module"
        ),
        "{left:#?}"
    );
    let after = snapshot(&dir);
    for (path, bytes) in &before {
        assert_eq!(after.get(path), Some(bytes), "{path} changed");
    }
    for seed in ["cloud/database/banks.json", "cloud/database/regions.json"] {
        assert!(after.contains_key(seed), "{seed} not written");
    }
}
