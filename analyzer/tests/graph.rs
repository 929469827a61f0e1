//! The module graph: what reaches what, through every kind of reference, and what is unused.

use std::fs;
use std::path::Path;

use analyzer::sizes::SizeReport;
use analyzer::{Options, Project, analyze};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

#[test]
fn references_of_every_kind_reach_their_files() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "project.config.json", r#"{"miniprogramRoot":"mp/"}"#);
    write(
        r,
        "mp/app.json",
        r#"{"pages":["pages/a/a"],"subpackages":[{"root":"sub","pages":["b/b"]}],
           "resolveAlias":{"@utils/*":"utils/*"},"usingComponents":{"g-card":"/components/card/card"},
           "sitemapLocation":"sitemap.json"}"#,
    );
    write(r, "mp/app.js", "const cfg = require('./config')\nApp({})");
    write(r, "mp/config/index.js", "module.exports = {}");
    write(r, "mp/sitemap.json", "{}");
    write(
        r,
        "mp/pages/a/a.js",
        "import { fmt } from '@utils/fmt'\nconst dayjs = require('mini-day')\nconst common = require('common.js')\nPage({})",
    );
    write(r, "mp/pages/a/common.js", "module.exports = 1");
    write(
        r,
        "mp/pages/a/a.json",
        r#"{"usingComponents":{"row":"../../components/row/index"}}"#,
    );
    write(
        r,
        "mp/pages/a/a.wxml",
        r#"<import src="/tpl/list.wxml"/><wxs src="./fmt.wxs" module="f"/><view/>"#,
    );
    write(r, "mp/pages/a/a.wxss", "@import '../../styles/base.wxss';");
    write(r, "mp/pages/a/fmt.wxs", "module.exports = {}");
    write(r, "mp/tpl/list.wxml", "<template name=\"x\"/>");
    write(r, "mp/styles/base.wxss", ".a{}");
    write(r, "mp/utils/fmt.ts", "export const fmt = 1");
    write(
        r,
        "mp/miniprogram_npm/mini-day/index.js",
        "module.exports = {}",
    );
    write(r, "mp/components/row/index.js", "Component({})");
    write(r, "mp/components/row/index.json", r#"{"component":true}"#);
    write(r, "mp/components/card/card.js", "Component({})");
    write(
        r,
        "mp/components/card/card.json",
        r#"{"component":true,"usingComponents":{"row":"../row/index"}}"#,
    );
    write(
        r,
        "mp/sub/b/b.js",
        "const t = require('../../themes/' + name + '.js')\nPage({})",
    );
    write(r, "mp/themes/dark.js", "module.exports = {}");
    write(r, "mp/orphan.js", "module.exports = {}");
    write(r, "mp/pages/old/old.js", "Page({})");
    let a = analyze(Project::discover(r).unwrap(), Options::default());
    let reached = |p: &str| a.graph.reached[a.project.by_path[p].index()];
    for p in [
        "mp/app.js",
        "mp/config/index.js",
        "mp/sitemap.json",
        "mp/pages/a/a.js",
        "mp/pages/a/common.js",
        "mp/utils/fmt.ts",
        "mp/miniprogram_npm/mini-day/index.js",
        "mp/components/row/index.js",
        "mp/components/card/card.js",
        "mp/tpl/list.wxml",
        "mp/pages/a/fmt.wxs",
        "mp/styles/base.wxss",
        "mp/sub/b/b.js",
    ] {
        assert!(reached(p), "{p} should be reached");
    }
    assert!(!reached("mp/orphan.js"));
    assert!(
        !reached("mp/pages/old/old.js"),
        "a page not listed in app.json is unused"
    );
    let sizes = SizeReport::new(&a);
    let unused: Vec<(&str, bool)> = sizes
        .unused
        .iter()
        .map(|u| (u.path.as_str(), u.possibly_required_by.is_some()))
        .collect();
    assert_eq!(
        unused,
        [
            ("mp/orphan.js", false),
            ("mp/pages/old/old.js", false),
            ("mp/themes/dark.js", true)
        ]
    );
    let codes: Vec<&str> = a.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["js/dynamic-require"], "{:?}", a.diagnostics);
}

#[test]
fn broken_references_are_warned_with_spans() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "project.config.json", "{}");
    write(
        r,
        "app.json",
        r#"{"pages":["index","gone/gone"],"tabBar":{"list":[{"pagePath":"index","iconPath":"img/none.png"}]}}"#,
    );
    write(
        r,
        "index.js",
        "require('./nope')\nimport('./also-nope')\nPage({})",
    );
    write(r, "index.wxml", r#"<include src="missing.wxml"/>"#);
    write(r, "index.json", r#"{"usingComponents":{"x":"./comp/x"}}"#);
    let a = analyze(Project::discover(r).unwrap(), Options::default());
    let mut codes: Vec<&str> = a.diagnostics.iter().map(|d| d.code).collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            "config/missing-icon",
            "config/missing-page",
            "graph/missing-component",
            "graph/unresolved",
            "graph/unresolved",
            "graph/unresolved"
        ]
    );
    assert!(
        a.diagnostics.iter().all(|d| d.span.is_some()),
        "{:?}",
        a.diagnostics
    );
}

#[test]
fn weui_from_use_extended_lib_is_not_a_missing_component() {
    let run = |app: &str| {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        write(r, "project.config.json", "{}");
        write(r, "app.json", app);
        write(r, "index.js", "Page({})");
        write(r, "index.wxml", "<mp-dialog/>");
        write(
            r,
            "index.json",
            r#"{"usingComponents":{"mp-dialog":"weui-miniprogram/dialog/dialog","x":"./comp/x"}}"#,
        );
        let a = analyze(Project::discover(r).unwrap(), Options::default());
        a.diagnostics
            .iter()
            .filter(|d| d.code == "graph/missing-component")
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
    };
    // The platform provides weui: only the truly missing local component is warned.
    assert_eq!(
        run(r#"{"pages":["index"],"useExtendedLib":{"weui":true}}"#),
        ["component `./comp/x` cannot be found"]
    );
    // Without the switch (or with it off) the weui path is a missing component like any other.
    assert_eq!(
        run(r#"{"pages":["index"],"useExtendedLib":{"weui":false}}"#).len(),
        2
    );
}

#[test]
fn a_subpackage_without_its_folder_is_one_diagnostic_not_one_per_page() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "project.config.json", "{}");
    write(
        r,
        "app.json",
        r#"{"pages":["index"],"subpackages":[
            {"root":"pkgA","pages":["a/a","b/b","c/c"]},
            {"root":"pkgB","pages":["x/x","y/y"]}]}"#,
    );
    write(r, "index.js", "Page({})");
    write(r, "pkgB/x/x.js", "Page({})");
    let a = analyze(Project::discover(r).unwrap(), Options::default());
    let of = |code: &str| {
        a.diagnostics
            .iter()
            .filter(|d| d.code == code)
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        of("config/missing-subpackage"),
        ["subpackage `pkgA` lists 3 pages in app.json but its folder has no files"]
    );
    // A subpackage with some of its pages keeps one diagnostic per missing page.
    assert_eq!(
        of("config/missing-page"),
        ["page `pkgB/y/y` is listed in app.json but has no files"]
    );
}
