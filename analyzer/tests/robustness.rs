//! Nothing panics: the analyzer runs over every sample app, and over a project made of random
//! bytes and of every fixture file truncated at several points; every file that cannot be read
//! or parsed gets its own diagnostic and the run completes.

use std::fs;
use std::path::{Path, PathBuf};

use analyzer::report::{Report, json, sarif};
use analyzer::{Options, Project, analyze};

fn apps_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/apps")
}

fn text_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = rd.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_symlink() {
            continue;
        }
        if ft.is_dir() {
            text_files(&p, out);
        } else if matches!(
            p.extension().and_then(|x| x.to_str()),
            Some("js" | "ts" | "wxml" | "wxss" | "json" | "wxs" | "less")
        ) {
            out.push(p);
        }
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn run_all_formats(dir: &Path) -> usize {
    let project = Project::discover(dir).expect("discover");
    let a = analyze(project, Options::default());
    let r = Report::new(&a);
    let j = json::render(&r);
    serde_json::from_str::<serde_json::Value>(&j).expect("the JSON report parses");
    let s = sarif::render(&r);
    serde_json::from_str::<serde_json::Value>(&s).expect("the SARIF report parses");
    a.diagnostics.len()
}

#[test]
fn every_sample_app_completes() {
    let mut apps: Vec<_> = fs::read_dir(apps_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    apps.sort();
    assert!(apps.len() >= 5, "sample apps missing under fixtures/apps");
    for app in apps {
        run_all_formats(&app);
    }
}

#[test]
fn random_and_truncated_files_are_reported_per_file() {
    let mut sources = Vec::new();
    text_files(&apps_dir(), &mut sources);
    assert!(sources.len() > 100);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut rng = Rng(0x2545f4914f6cdd1d);
    let mut pages = Vec::new();
    // Every fixture file cut at a random point, as a page's file of the same kind.
    for (i, src) in sources.iter().enumerate() {
        let bytes = fs::read(src).unwrap();
        let cut = if bytes.is_empty() {
            0
        } else {
            (rng.next() as usize) % bytes.len()
        };
        let ext = src.extension().unwrap().to_str().unwrap();
        let page = format!("pages/p{i}/index");
        fs::create_dir_all(root.join(format!("pages/p{i}"))).unwrap();
        fs::write(root.join(format!("{page}.{ext}")), &bytes[..cut]).unwrap();
        pages.push(page);
    }
    // Random bytes under every text extension, and random ASCII that looks like code.
    for (i, ext) in ["js", "ts", "wxml", "wxss", "json", "wxs"]
        .iter()
        .enumerate()
    {
        for k in 0..8 {
            let len = (rng.next() % 4096) as usize;
            let bytes: Vec<u8> = if k % 2 == 0 {
                (0..len).map(|_| rng.next() as u8).collect()
            } else {
                const ALPHABET: &[u8] = b"{}[]()<>\"'`/\\*=+-.,;:!?${{}}wx.request({url:'a'})\n ";
                (0..len)
                    .map(|_| ALPHABET[(rng.next() as usize) % ALPHABET.len()])
                    .collect()
            };
            fs::create_dir_all(root.join(format!("rand{i}"))).unwrap();
            fs::write(root.join(format!("rand{i}/f{k}.{ext}")), bytes).unwrap();
        }
    }
    let app = serde_json::json!({ "pages": pages });
    fs::write(root.join("app.json"), app.to_string()).unwrap();
    let diags = run_all_formats(root);
    assert!(
        diags > 10,
        "broken files must each be reported ({diags} diagnostics)"
    );
}

#[test]
fn deep_nesting_is_reported_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(root.join("app.json"), r#"{"pages":["index"]}"#).unwrap();
    fs::write(root.join("index.js"), "Page({})").unwrap();
    for (name, n) in [
        ("deep.js", 5000usize),
        ("edge.js", analyzer::files::MAX_NESTING - 1),
    ] {
        let text = format!(
            "module.exports = {}1{}\nconst o = {}1{}\n",
            "[".repeat(n),
            "]".repeat(n),
            "{a:".repeat(n),
            "}".repeat(n)
        );
        fs::write(root.join(name), text).unwrap();
    }
    fs::write(
        root.join("deep.json"),
        format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000)),
    )
    .unwrap();
    fs::write(
        root.join("deep.wxml"),
        format!("{}{}", "<view>".repeat(100_000), "</view>".repeat(100_000)),
    )
    .unwrap();
    let project = Project::discover(root).unwrap();
    let a = analyze(project, Options::default());
    let nested: Vec<&str> = a
        .diagnostics
        .iter()
        .filter(|d| d.code == "fs/too-deeply-nested")
        .filter_map(|d| d.path.as_deref())
        .collect();
    assert_eq!(nested, ["deep.js", "deep.json"]);
    run_all_formats(root);
}
