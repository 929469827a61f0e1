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

/// A minified vendor file: nine lines of licence header, then one line of about 1 MB with a
/// request wrapper, a call through it near column 320,000, a direct call and an inline image
/// further on.
fn minified_vendor() -> String {
    let mut s = String::from("/*!\n * vendor-sdk v3.2.1\n * (c) 2024 Example Ltd.\n");
    s.push_str(" * Released under the MIT License.\n *\n * Bundled; do not edit.\n *\n *\n */\n");
    assert_eq!(s.matches('\n').count(), 9);
    let filler = |s: &mut String, until: usize| {
        let mut i = 0;
        while s.len() < until {
            s.push_str(&format!("function f{i}(a,b){{return a*{i}+b}}"));
            i += 1;
        }
    };
    s.push_str("!function(){");
    filler(&mut s, 320_000);
    s.push_str("function r(o){return wx.request(o)}var api={ping:function(d){return r({url:\"https://api.example.com/v1/ping\",method:\"POST\",data:d})}};");
    filler(&mut s, 500_000);
    s.push_str(
        "api.direct=function(){return wx.request({url:\"https://api.example.com/v1/direct\"})};",
    );
    filler(&mut s, 700_000);
    s.push_str("api.logo=\"data:image/png;base64,");
    s.push_str(&"iVBORw0KGgo".repeat(1200));
    s.push_str("\";");
    filler(&mut s, 1_000_000);
    s.push_str("module.exports=api}();\n");
    s
}

#[test]
fn every_finding_of_a_minified_file_renders_in_the_human_report() {
    use analyzer::findings::{Kind, Visit};
    use analyzer::report::human::{self, HumanOptions};

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(root.join("app.json"), r#"{"pages":["pages/index/index"]}"#).unwrap();
    fs::create_dir_all(root.join("pages/index")).unwrap();
    fs::create_dir_all(root.join("vendor")).unwrap();
    fs::write(
        root.join("pages/index/index.js"),
        "const api = require('../../vendor/sdk.min.js')\nPage({ onLoad() { api.ping({}); api.direct() } })\n",
    )
    .unwrap();
    let vendor = minified_vendor();
    let call = vendor.find("r({url:").unwrap();
    let at = call - vendor[..call].rfind('\n').unwrap();
    assert!(
        (319_000..330_000).contains(&at),
        "the call is near column 320,000 ({at})"
    );
    fs::write(root.join("vendor/sdk.min.js"), &vendor).unwrap();

    let project = Project::discover(root).unwrap();
    let a = analyze(project, Options::default());
    let r = Report::new(&a);
    let text = human::render(
        &a,
        &r,
        &HumanOptions {
            color: false,
            width: 110,
            all: true,
        },
    );

    // Every finding is there, each as its own diagnostic.
    struct Counts(Vec<(&'static str, usize)>);
    impl Visit for Counts {
        fn kind<K: Kind>(&mut self, items: &[K]) {
            self.0.push((K::RULE, items.len()));
        }
    }
    let mut counts = Counts(Vec::new());
    r.each_kind(&mut counts);
    let count = |rule: &str| counts.0.iter().find(|(r, _)| *r == rule).map_or(0, |c| c.1);
    assert!(count("backend-call") >= 2, "{:?}", counts.0);
    assert_eq!(count("inline-asset"), 1, "{:?}", counts.0);
    for (rule, n) in &counts.0 {
        let shown = text.matches(&format!("migrate::{rule}\n")).count();
        assert_eq!(shown, *n, "{rule}: {n} finding(s) shown\n{text}");
    }
    assert!(text.contains("[vendor/sdk.min.js:10:"), "{text}");
    assert!(text.contains("https://api.example.com/v1/ping"), "{text}");
    // Snippets are windows, not the megabyte line.
    let longest = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(longest <= 240, "a line of {longest} characters");
    assert!(text.len() < 40_000, "{} bytes", text.len());
}
