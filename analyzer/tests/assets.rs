//! The large-asset detector over small fixture projects (`tests/fixtures/assets/<case>/`), with
//! a reviewed JSON snapshot per case and targeted asserts.

use std::path::Path;

use analyzer::findings::{AssetTarget, Findings, LargeAsset, RefVia};
use analyzer::refs::asset_references;
use analyzer::{Analysis, Options, Project, analyze};

/// Small thresholds so the fixture files stay small.
fn options() -> Options {
    Options {
        image_threshold: 1000,
        audio_threshold: 1000,
        video_threshold: 1000,
        font_threshold: 500,
        inline_threshold: 100,
        ..Options::default()
    }
}

fn run(case: &str) -> Analysis {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/assets")
        .join(case);
    analyze(Project::discover(&dir).expect("fixture project"), options())
}

fn asset<'a>(f: &'a Findings, path: &str) -> &'a LargeAsset {
    f.large_assets
        .iter()
        .find(|a| a.path == path)
        .unwrap_or_else(|| panic!("no large asset `{path}`"))
}

/// (file name, line, target, binding) of each reference.
fn refs(a: &LargeAsset) -> Vec<(String, u32, AssetTarget, Option<String>)> {
    a.references
        .iter()
        .map(|r| {
            (
                r.loc.path.rsplit('/').next().unwrap_or("").to_string(),
                r.loc.line,
                r.target,
                r.binding.clone(),
            )
        })
        .collect()
}

#[test]
fn references_targets_and_savings() {
    let a = run("references");
    let f = &a.findings;
    let paths: Vec<&str> = f.large_assets.iter().map(|a| a.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "audio/ding.mp3",
            "fonts/icon.ttf",
            "images/banner.jpg",
            "images/bg.jpg",
            "images/ctrl.png",
            "images/guide.png",
            "images/hero.jpg",
            "images/inline-bg.png",
            "images/tab/home.png",
            "images/toast.png",
            "images/unused.jpg",
            "sub/images/banner-copy.jpg",
        ],
        "ignored.gif is neither uploaded nor referenced; small icons are not large"
    );

    // Traced binding: the data literal and the WXML mustache both count.
    let banner = asset(f, "images/banner.jpg");
    let r = refs(banner);
    assert!(r.contains(&("index.js".into(), 6, AssetTarget::CloudFileId, None)));
    assert!(r.contains(&(
        "index.wxml".into(),
        3,
        AssetTarget::CloudFileId,
        Some("banners[].image".into())
    )));
    // The share image needs an HTTPS URL, so the asset as a whole does.
    assert!(r.contains(&("index.js".into(), 29, AssetTarget::HttpsUrl, None)));
    assert_eq!(banner.target, AssetTarget::HttpsUrl);
    assert_eq!(banner.duplicates, vec!["sub/images/banner-copy.jpg"]);
    assert_eq!((banner.saves, banner.used), (2000, true));

    // tabBar icon through a theme variable: must stay local, saves nothing.
    let home = asset(f, "images/tab/home.png");
    assert_eq!(home.target, AssetTarget::Local);
    assert!(matches!(home.references[0].via, RefVia::TabBarIcon));
    assert_eq!(home.references[0].loc.path, "theme.json");
    assert_eq!(home.saves, 0);

    // WXSS url() and inline style need HTTPS; previewImage and audio take cloud file IDs.
    assert_eq!(asset(f, "images/bg.jpg").target, AssetTarget::HttpsUrl);
    let inline_bg = asset(f, "images/inline-bg.png");
    assert!(matches!(inline_bg.references[0].via, RefVia::InlineStyle));
    assert_eq!(inline_bg.target, AssetTarget::HttpsUrl);
    let guide = asset(f, "images/guide.png");
    assert_eq!(guide.target, AssetTarget::CloudFileId);
    assert_eq!(guide.references.len(), 3, "src, data-src and previewImage");
    assert_eq!(asset(f, "audio/ding.mp3").target, AssetTarget::CloudFileId);
    assert_eq!(asset(f, "fonts/icon.ttf").target, AssetTarget::HttpsUrl);
    assert_eq!(asset(f, "images/toast.png").target, AssetTarget::Local);
    // map controls icons are local-only, traced through `controls[].iconPath`.
    let ctrl = asset(f, "images/ctrl.png");
    assert_eq!(ctrl.target, AssetTarget::Local);
    assert!(
        refs(ctrl)
            .iter()
            .any(|r| r.3.as_deref() == Some("controls[].iconPath"))
    );

    // A top-level const put into page data by `setData` is traced to its WXML binding.
    let hero = refs(asset(f, "images/hero.jpg"));
    assert!(hero.contains(&("index.js".into(), 1, AssetTarget::CloudFileId, None)));
    assert!(hero.contains(&(
        "index.wxml".into(),
        11,
        AssetTarget::CloudFileId,
        Some("hero".into())
    )));

    let unused = asset(f, "images/unused.jpg");
    assert!(unused.references.is_empty() && !unused.used);
    // Referenced only from a subpackage page through a relative path in its data.
    let copy = asset(f, "sub/images/banner-copy.jpg");
    assert_eq!(copy.package, "sub");
    assert_eq!(refs(copy).len(), 2);

    // Inline data: a base64 font in WXSS (HTTPS only) and a base64 PNG in JS.
    let inl: Vec<(&str, &str, u64, AssetTarget)> = f
        .inline_assets
        .iter()
        .map(|i| (i.loc.path.as_str(), i.mime.as_str(), i.bytes, i.target))
        .collect();
    assert_eq!(
        inl,
        vec![
            (
                "pages/index/index.js",
                "image/png",
                200,
                AssetTarget::CloudFileId
            ),
            (
                "pages/index/index.wxss",
                "font/woff",
                512,
                AssetTarget::HttpsUrl
            ),
        ]
    );
    assert_eq!(f.duplicate_assets.len(), 1);
    assert_eq!(f.duplicate_assets[0].wasted, 2000);

    insta::assert_json_snapshot!("references_large", f.large_assets);
    insta::assert_json_snapshot!("references_inline", f.inline_assets);
}

#[test]
fn graph_hook_lists_every_reference() {
    let a = run("references");
    let refs = asset_references(&a.project, &a.files, &a.graph.resolver);
    let mut pairs: Vec<(String, String)> = refs
        .iter()
        .map(|(from, to, span)| {
            assert_eq!(*from, span.file);
            (
                a.project.file(*from).path.clone(),
                a.project.file(*to).path.clone(),
            )
        })
        .collect();
    pairs.sort();
    pairs.dedup();
    // The `/images/icons/{{item.icon}}.png` pattern reaches both icons.
    for icon in ["images/icons/bus.png", "images/icons/metro.png"] {
        assert!(pairs.contains(&("pages/index/index.wxml".into(), icon.into())));
    }
    // Every tabBar icon, whether written in app.json or through the theme.
    for (from, icon) in [
        ("theme.json", "images/tab/home.png"),
        ("theme.json", "images/tab/home-dark.png"),
        ("app.json", "images/tab/home-on.png"),
        ("app.json", "images/tab/mine.png"),
    ] {
        assert!(
            pairs.contains(&(from.into(), icon.into())),
            "{from} → {icon}"
        );
    }
    // `{{remoteCover}}` is set at runtime: nothing to trace, nothing invented.
    assert!(!pairs.iter().any(|(_, to)| to.contains("unused")));
}

#[test]
fn broken_markup_still_yields_references() {
    let a = run("broken");
    let f = &a.findings;
    let paths: Vec<&str> = f.large_assets.iter().map(|a| a.path.as_str()).collect();
    assert_eq!(paths, vec!["images/a.png", "images/b.png", "images/c.png"]);
    for p in paths {
        assert!(!asset(f, p).references.is_empty(), "{p} is still found");
    }
    let codes: Vec<(&str, u32)> = a
        .diagnostics
        .iter()
        .filter(|d| d.code.starts_with("wxml/") || d.code.starts_with("wxss/"))
        .map(|d| {
            (
                d.code,
                a.files[d.span.unwrap().file.index()]
                    .text
                    .as_ref()
                    .unwrap()
                    .line_col(d.span.unwrap().start)
                    .0,
            )
        })
        .collect();
    insta::assert_debug_snapshot!("broken_diagnostics", codes);
}

/// The five sample apps against their `EXPECTED.md` (large assets, targets, duplicates).
#[test]
fn sample_apps_match_expected() {
    let apps = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/apps");
    let run_app = |name: &str| {
        let p = Project::discover(&apps.join(name)).expect("sample app");
        analyze(p, Options::default()).findings
    };
    let summary = |f: &Findings| -> Vec<(String, AssetTarget)> {
        f.large_assets
            .iter()
            .map(|a| (a.path.clone(), a.target))
            .collect()
    };
    use AssetTarget::{CloudFileId as Cloud, HttpsUrl as Https};

    let bus = run_app("bus-ride");
    assert_eq!(
        summary(&bus),
        vec![
            ("miniprogram/audio/ding.mp3".into(), Cloud),
            // onShareAppMessage imageUrl needs HTTPS; the image src alone could take cloud://.
            ("miniprogram/images/banner/banner-1.jpg".into(), Https),
            ("miniprogram/images/banner/banner-2.jpg".into(), Cloud),
            ("miniprogram/images/banner/banner-3.jpg".into(), Cloud),
            ("miniprogram/images/bg/code-card-bg.jpg".into(), Https),
            ("miniprogram/images/guide/guide-pay.png".into(), Cloud),
            ("miniprogram/images/guide/guide-scan.png".into(), Cloud),
        ]
    );
    let scan = asset(&bus, "miniprogram/images/guide/guide-scan.png");
    let lines: Vec<(String, u32)> = refs(scan).into_iter().map(|r| (r.0, r.1)).collect();
    for want in [
        ("ride-code.wxml", 18),
        ("ride-code.js", 15),
        ("ride-code.wxml", 25),
        ("ride-code.js", 114),
    ] {
        assert!(
            lines.contains(&(want.0.into(), want.1)),
            "{want:?} in {lines:?}"
        );
    }
    assert!(bus.large_assets.iter().all(|a| a.used && a.uploaded));
    assert!(bus.large_assets.iter().all(|a| a.duplicates.is_empty()));
    // Two 293-byte placeholder icons happen to be byte-identical (not in EXPECTED.md, but true).
    assert_eq!(bus.duplicate_assets.len(), 1);
    assert_eq!(bus.duplicate_assets[0].bytes, 293);

    let shop = run_app("shop");
    assert_eq!(
        summary(&shop),
        vec![
            ("miniprogram/images/banner/banner1.jpg".into(), Cloud),
            ("miniprogram/images/banner/banner2.jpg".into(), Cloud),
            ("miniprogram/images/banner/banner3.jpg".into(), Cloud),
            ("miniprogram/packageGoods/images/goods-1.jpg".into(), Cloud),
            (
                "miniprogram/packageUser/images/member-card.jpg".into(),
                Cloud
            ),
        ]
    );
    assert_eq!(
        asset(&shop, "miniprogram/packageGoods/images/goods-1.jpg").package,
        "goods"
    );
    let inline: Vec<(&str, u64, AssetTarget)> = shop
        .inline_assets
        .iter()
        .map(|i| (i.mime.as_str(), i.bytes, i.target))
        .collect();
    assert_eq!(inline, vec![("font/woff", 30_000, Https)]);

    let news = run_app("ts-news");
    assert_eq!(
        summary(&news),
        vec![("miniprogram/images/splash.jpg".into(), Cloud)]
    );

    let messy = run_app("messy");
    assert_eq!(
        summary(&messy),
        vec![
            ("client/fonts/iconfont.ttf".into(), Https),
            ("client/images/loading-big.gif".into(), Https),
            ("client/images/unused-old-banner.jpg".into(), Cloud),
            ("client/pkg-activity/images/poster.jpg".into(), Cloud),
        ],
        "the ignored, unreferenced design GIFs are not proposed"
    );
    let old = asset(&messy, "client/images/unused-old-banner.jpg");
    assert!(!old.used, "only an unlisted page references it");
    let gif = asset(&messy, "client/images/loading-big.gif");
    assert_eq!((gif.uploaded, gif.saves), (false, 0));
    assert_eq!(messy.duplicate_assets.len(), 1);
    assert_eq!(messy.duplicate_assets[0].wasted, 179_554);
    assert_eq!(
        messy.duplicate_assets[0].packages,
        vec!["main", "pkg-activity"]
    );

    let half = run_app("half-cloud");
    assert!(half.large_assets.is_empty() && half.inline_assets.is_empty());
}

/// The smaller references EXPECTED.md lists (they make the assets "used" in the graph).
#[test]
fn sample_app_small_references() {
    let apps = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/apps");
    let pairs = |app: &str| -> Vec<(String, String, u32)> {
        let a = analyze(
            Project::discover(&apps.join(app)).expect("sample app"),
            Options::default(),
        );
        asset_references(&a.project, &a.files, &a.graph.resolver)
            .into_iter()
            .map(|(from, to, span)| {
                let line = a.files[from.index()]
                    .text
                    .as_ref()
                    .map_or(0, |t| t.line_col(span.start).0);
                (
                    a.project.file(to).path.replace("miniprogram/", ""),
                    a.project.file(from).path.replace("miniprogram/", ""),
                    line,
                )
            })
            .collect()
    };
    let bus = pairs("bus-ride");
    for want in [
        // Relative path in a component resolves against the component's folder.
        (
            "images/icons/location.png",
            "components/station-card/station-card.wxml",
            3,
        ),
        // Component data traced into its WXML.
        (
            "images/icons/bus.png",
            "components/station-card/station-card.js",
            17,
        ),
        (
            "images/icons/bus.png",
            "components/station-card/station-card.wxml",
            8,
        ),
        // The literal fallback inside `{{user.avatar || '/images/logo.png'}}`.
        ("images/logo.png", "pages/mine/mine.wxml", 2),
        ("images/icons/history.png", "pages/mine/mine.wxml", 10),
        (
            "subpackages/ride-history/images/receipt-header.jpg",
            "subpackages/ride-history/pages/detail/detail.wxml",
            2,
        ),
        (
            "images/empty-ticket.png",
            "subpackages/ride-history/pages/list/list.wxml",
            8,
        ),
    ] {
        let want = (want.0.to_string(), want.1.to_string(), want.2);
        assert!(bus.contains(&want), "{want:?}");
    }
    let shop = pairs("shop");
    for want in [
        // A relative path stored in JS resolves against the page folder.
        (
            "packageGoods/images/goods-4.jpg",
            "packageGoods/pages/list/list.js",
            23,
        ),
        (
            "packageGoods/images/goods-4.jpg",
            "packageGoods/pages/list/list.wxml",
            9,
        ),
        ("images/avatar-default.png", "pages/mine/mine.wxml", 2),
        ("images/tabbar/dark/cart-active.png", "theme.json", 34),
    ] {
        let want = (want.0.to_string(), want.1.to_string(), want.2);
        assert!(shop.contains(&want), "{want:?}");
    }
    // Existing cloud:// file IDs are not package assets.
    assert!(
        pairs("half-cloud")
            .iter()
            .all(|(to, _, _)| !to.contains("cloud"))
    );
}

/// `packOptions.ignore` in project.config.json names a path for the uploader: it is not a
/// reference of the app (moving the asset would otherwise try to rewrite DevTools' settings).
#[test]
fn pack_options_entries_are_not_references() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let write = |p: &str, b: &[u8]| {
        let p = r.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b).unwrap();
    };
    write(
        "project.config.json",
        br#"{"packOptions":{"ignore":[{"type":"file","value":"images/big.png"}]}}"#,
    );
    write("app.json", br#"{"pages":["index"]}"#);
    write("index.js", b"Page({})");
    write("index.wxml", br#"<image src="/images/big.png"/>"#);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.resize(400 * 1024, 7);
    write("images/big.png", &png);
    let a = analyze(Project::discover(r).unwrap(), options());
    let big = asset(&a.findings, "images/big.png");
    let from: Vec<&str> = big.references.iter().map(|x| x.loc.path.as_str()).collect();
    assert_eq!(from, ["index.wxml"]);
}
