//! The static-data detector over small fixture projects (`tests/fixtures/data/<case>/`), with a
//! reviewed JSON snapshot per case and targeted asserts on what matters for the rewrite.

use std::path::Path;

use analyzer::findings::{DataShape, DataSource, DataUsage, StaticData};
use analyzer::{Options, Project, analyze};

/// Small thresholds so the fixtures stay readable.
fn options() -> Options {
    Options {
        data_threshold: 400,
        ..Options::default()
    }
}

fn run(case: &str) -> Vec<StaticData> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/data")
        .join(case);
    let project = Project::discover(&dir).expect("fixture project");
    analyze(project, options()).findings.static_data
}

fn find<'a>(found: &'a [StaticData], id_suffix: &str) -> &'a StaticData {
    found
        .iter()
        .find(|d| d.id.ends_with(id_suffix))
        .unwrap_or_else(|| panic!("no data `{id_suffix}` in {:?}", ids(found)))
}

fn ids(found: &[StaticData]) -> Vec<&str> {
    found.iter().map(|d| d.id.as_str()).collect()
}

fn usages(d: &StaticData) -> Vec<(String, u32, DataUsage)> {
    d.consumers
        .iter()
        .map(|c| {
            (
                c.loc.path.rsplit('/').next().unwrap_or("").to_string(),
                c.used_at.as_ref().map_or(0, |u| u.line),
                c.usage.clone(),
            )
        })
        .collect()
}

#[test]
fn json_files_config_is_not_data() {
    let found = run("json-files");
    assert_eq!(
        ids(&found),
        vec![
            "data/fare-rules.json",
            "data/provinces.json",
            "data/tags.json"
        ],
        "page JSON, sitemap, IDE metadata and files under the threshold are not data"
    );
    let fare = find(&found, "fare-rules.json");
    assert!(matches!(fare.shape, DataShape::Document { .. }));
    assert_eq!((fare.records, fare.collection.as_str()), (1, "fare_rules"));
    assert!(
        matches!(&usages(fare)[..], [(_, 12, DataUsage::Lifecycle { name })] if name == "onShow")
    );
    let prov = find(&found, "provinces.json");
    assert!(
        matches!(&prov.shape, DataShape::Collection { fields, homogeneous: true } if fields == &["name", "short", "lat", "lng"]),
        "a map of homogeneous records is a collection: {:?}",
        prov.shape
    );
    assert_eq!(prov.records, 8);
    assert!(
        matches!(&usages(prov)[..], [(_, 6, DataUsage::Function { name }), (_, 6, _)] if name == "provinceName")
    );
    let tags = find(&found, "tags.json");
    assert!(matches!(tags.shape, DataShape::List));
    assert_eq!(tags.records, 60);
    assert!(matches!(&usages(tags)[..], [(_, 0, DataUsage::Unused)]));
    insta::assert_json_snapshot!("json_files", found);
}

#[test]
fn modules_exports_and_consumers() {
    let found = run("modules");
    assert_eq!(
        ids(&found),
        vec![
            "data/cities.js#default",
            "data/lines.js#default",
            "data/mixed.js#records"
        ],
        "utils/code.js is mostly code"
    );
    let cities = find(&found, "cities.js#default");
    assert_eq!((cities.records, cities.collection.as_str()), (12, "cities"));
    let u = usages(cities);
    assert!(u.contains(&("a.js".into(), 3, DataUsage::TopLevel)));
    assert!(u.contains(&(
        "a.js".into(),
        7,
        DataUsage::InPageData {
            key: "cities".into()
        }
    )));
    assert!(u.contains(&(
        "a.js".into(),
        11,
        DataUsage::Lifecycle {
            name: "onLoad".into()
        }
    )));
    assert!(u.contains(&(
        "a.js".into(),
        14,
        DataUsage::Handler {
            name: "onSearch".into()
        }
    )));
    assert!(u.contains(&("c.js".into(), 3, DataUsage::Reexport)));
    let lines = find(&found, "lines.js#default");
    assert_eq!(lines.records, 5);
    assert_eq!(lines.nested[0].path, "stops");
    assert_eq!(lines.nested[0].records, 3 + 4 + 5 + 6 + 7);
    assert!(usages(lines).contains(&(
        "a.js".into(),
        18,
        DataUsage::Handler {
            name: "findLine".into()
        }
    )));
    let mixed = find(&found, "mixed.js#records");
    assert!(matches!(&mixed.source, DataSource::ModuleExport { export } if export == "records"));
    assert!(
        matches!(&mixed.shape, DataShape::Collection { homogeneous: false, fields } if fields == &["id", "title", "body"]),
        "{:?}",
        mixed.shape
    );
    let u = usages(mixed);
    assert!(u.contains(&(
        "b.ts".into(),
        5,
        DataUsage::Function {
            name: "latest".into()
        }
    )));
    assert!(
        u.iter()
            .any(|(f, _, k)| f == "index.js" && *k == DataUsage::Reexport)
    );
    insta::assert_json_snapshot!("modules", found);
}

#[test]
fn inline_page_and_component_data() {
    let found = run("page-data");
    assert_eq!(
        ids(&found),
        vec![
            "components/table/table.js#data.rows",
            "pages/faq/faq.js#data.faqs",
            "pages/faq/faq.js#data.shortcuts"
        ],
        "the empty page has no data"
    );
    let faqs = find(&found, "#data.faqs");
    assert_eq!((faqs.records, faqs.collection.as_str()), (10, "faqs"));
    assert_eq!(
        usages(faqs),
        vec![
            (
                "faq.js".into(),
                35,
                DataUsage::Handler {
                    name: "applyFilter".into()
                }
            ),
            // Rendered by faq.wxml line 1 (`wx:for="{{faqs}}"`).
            (
                "faq.js".into(),
                1,
                DataUsage::Template { key: "faqs".into() }
            ),
        ]
    );
    let entry = &faqs.consumers[0].reached_from;
    assert_eq!(
        entry,
        &vec!["onInput".to_string()],
        "applyFilter is called from onInput"
    );
    let rows = find(&found, "#data.rows");
    assert!(
        matches!(rows.shape, DataShape::List),
        "rows of arrays are a list"
    );
    assert_eq!(rows.loc.line, 1, "through the top-level const");
    assert!(
        matches!(&usages(rows)[..], [(_, 37, DataUsage::Lifecycle { name })] if name == "attached")
    );
    insta::assert_json_snapshot!("page_data", found);
}

#[test]
fn wrapped_module_literal() {
    let found = run("umd");
    let t = find(&found, "table.min.js#default");
    assert!(matches!(t.shape, DataShape::List));
    assert_eq!((t.records, t.collection.as_str()), (600, "table"));
    assert!(matches!(&usages(t)[..], [(_, 2, DataUsage::Handler { name })] if name == "onInput"));
}

/// The five sample apps against their `EXPECTED.md` (static data modules and consumers).
#[test]
fn sample_apps_match_expected() {
    let apps = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/apps");
    let run_app = |name: &str| {
        let p = Project::discover(&apps.join(name)).expect("sample app");
        analyze(p, Options::default()).findings.static_data
    };
    let summary = |found: &[StaticData]| -> Vec<(String, u64, String)> {
        found
            .iter()
            .map(|d| (d.id.clone(), d.records, d.collection.clone()))
            .collect()
    };

    let bus = run_app("bus-ride");
    assert_eq!(
        summary(&bus),
        vec![
            (
                "miniprogram/data/cities.js#default".into(),
                2600,
                "cities".into()
            ),
            (
                "miniprogram/data/fare-rules.json".into(),
                1,
                "fare_rules".into()
            ),
            (
                "miniprogram/data/lines.js#default".into(),
                140,
                "lines".into()
            ),
            (
                "miniprogram/pages/faq/faq.js#data.faqs".into(),
                64,
                "faqs".into()
            ),
        ]
    );
    let cities = find(&bus, "cities.js#default");
    let u = usages(cities);
    let nearest = cities
        .consumers
        .iter()
        .find(|c| {
            c.usage
                == DataUsage::Function {
                    name: "findNearestCity".into(),
                }
        })
        .unwrap();
    // `locate()` is called from onLoad (EXPECTED.md), and also from onPullDownRefresh and the
    // openSetting handler (index.js lines 57 and 125).
    assert_eq!(
        nearest.reached_from,
        vec!["locate", "onLoad", "onPullDownRefresh", "openSetting"]
    );
    // city-select.wxml line 18 renders the whole list.
    assert!(u.contains(&(
        "city-select.js".into(),
        18,
        DataUsage::Template {
            key: "cities".into()
        }
    )));
    assert!(u.contains(&(
        "index.js".into(),
        11,
        DataUsage::Function {
            name: "findNearestCity".into()
        }
    )));
    assert!(u.contains(&(
        "city-select.js".into(),
        7,
        DataUsage::InPageData {
            key: "cities".into()
        }
    )));
    assert!(u.contains(&(
        "city-select.js".into(),
        17,
        DataUsage::Lifecycle {
            name: "onLoad".into()
        }
    )));
    assert!(u.contains(&(
        "city-select.js".into(),
        27,
        DataUsage::Handler {
            name: "onInput".into()
        }
    )));
    let lines = find(&bus, "lines.js#default");
    assert!(usages(lines).contains(&(
        "line-detail.js".into(),
        22,
        DataUsage::Lifecycle {
            name: "onLoad".into()
        }
    )));
    assert!(usages(lines).iter().any(|(f, _, k)| f == "search.js"
        && *k
            == DataUsage::Function {
                name: "searchLocal".into()
            }));
    let fare = find(&bus, "fare-rules.json");
    assert!(matches!(fare.shape, DataShape::Document { .. }));
    assert!(usages(fare).iter().all(|(_, l, k)| (*l == 34 || *l == 36)
        && *k
            == DataUsage::Lifecycle {
                name: "onShow".into()
            }));
    assert!(usages(find(&bus, "#data.faqs")).contains(&(
        "faq.js".into(),
        92,
        DataUsage::Handler {
            name: "applyFilter".into()
        }
    )));

    let shop = run_app("shop");
    assert_eq!(
        summary(&shop),
        vec![
            (
                "miniprogram/data/categories.js#categoryTree".into(),
                12,
                "categories".into()
            ),
            ("miniprogram/data/regions.json".into(), 31, "regions".into()),
        ]
    );
    let regions = find(&shop, "regions.json");
    let nested: Vec<u64> = regions.nested.iter().map(|n| n.records).collect();
    assert_eq!(nested, vec![341, 3278]);
    let u = usages(regions);
    assert!(u.iter().any(|(_, l, k)| *l == 47
        && *k
            == DataUsage::Handler {
                name: "onRegionConfirm".into()
            }));
    let cats = usages(find(&shop, "categories.js#categoryTree"));
    assert!(cats.iter().any(|(_, l, k)| *l == 31
        && *k
            == DataUsage::Handler {
                name: "onTabTap".into()
            }));

    let news = run_app("ts-news");
    assert_eq!(
        summary(&news),
        vec![(
            "miniprogram/data/emoji.ts#default".into(),
            1,
            "emoji".into()
        )]
    );
    let nested: Vec<(String, u64)> = news[0]
        .nested
        .iter()
        .map(|n| (n.path.clone(), n.records))
        .collect();
    assert_eq!(
        nested,
        vec![("groups".into(), 6), ("groups.items".into(), 1260)]
    );

    let messy = run_app("messy");
    assert_eq!(
        summary(&messy),
        vec![(
            "client/utils/gbmap.min.js#default".into(),
            171_465,
            "gbmap".into()
        )]
    );
    assert!(
        matches!(&usages(&messy[0])[..], [(_, 13, DataUsage::Handler { name })] if name == "onInput")
    );

    // half-cloud's placeholder module is 558 bytes: below the threshold, not large.
    assert!(run_app("half-cloud").is_empty());
}

/// Shader sources, a protobuf descriptor and a webpack chunk map are code and build metadata,
/// not configuration data; the district table beside them is data, and so is the bank table
/// private to `utils/banks.js` (`const BANKS = [...]` read by the functions it exports), whose
/// consumers are the page's calls of those functions.
#[test]
fn code_and_build_metadata_are_not_data() {
    let found = run("not-data");
    assert_eq!(
        ids(&found),
        ["utils/banks.js#BANKS", "utils/districts.js#default"],
        "{found:#?}"
    );
    let banks = find(&found, "#BANKS");
    assert_eq!((banks.records, banks.collection.as_str()), (120, "banks"));
    assert!(
        usages(banks).iter().all(|(f, line, u)| f == "index.js"
            && *line == 10
            && matches!(u, DataUsage::Lifecycle { name } if name == "onLoad")),
        "{:?}",
        usages(banks)
    );
    assert_eq!(usages(banks).len(), 2);
}

/// Data re-exported by barrels (`export { a } from`, `export { default as b } from`,
/// `export * from` a barrel, a CommonJS `module.exports = { banks }`) reaches the pages that
/// import it from the barrel, by imported name; a helper function reading the data reaches
/// the page handlers that call it. Each such use says what it goes through.
#[test]
fn consumers_through_barrels_and_helpers() {
    let found = run("reexports");
    let uses = |id: &str| -> Vec<(String, String, Option<String>)> {
        find(&found, id)
            .consumers
            .iter()
            .map(|c| {
                let at = c.used_at.as_ref().unwrap_or(&c.loc);
                let usage = match &c.usage {
                    DataUsage::InPageData { key } => format!("in-page-data {key}"),
                    DataUsage::Lifecycle { name } => format!("lifecycle {name}"),
                    DataUsage::Handler { name } => format!("handler {name}"),
                    DataUsage::Template { key } => format!("template {key}"),
                    DataUsage::Function { name } => format!("function {name}"),
                    other => format!("{other:?}"),
                };
                (format!("{}:{}", at.path, at.line), usage, c.through.clone())
            })
            .collect()
    };
    let s = |x: &str| Some(x.to_string());
    let row = |at: &str, usage: &str, through: Option<String>| {
        (at.to_string(), usage.to_string(), through)
    };
    assert_eq!(
        uses("data/regions.js#provinces"),
        vec![
            row("data/all.js:2", "Reexport", None),
            row("data/index.js:2", "Reexport", None),
            row(
                "pages/a/a.js:4",
                "in-page-data provinces",
                s("data/index.js")
            ),
            row("pages/a/a.js:6", "handler onPick", s("data/index.js")),
            row("pages/a/a.wxml:1", "template provinces", s("data/index.js")),
            row("pages/b/b.js:4", "in-page-data count", s("data/all.js")),
            // `tables.provinces` of `import * as tables` from the barrel
            row(
                "pages/d/d.js:5",
                "in-page-data regionCount",
                s("data/index.js")
            ),
            // `const { provinces } = all` of `const all = require(barrel)`
            row("pages/e/e.js:6", "lifecycle onShow", s("data/all.js")),
        ]
    );
    assert_eq!(
        uses("data/banks.js#default"),
        vec![
            row("data/all.js:2", "Reexport", None),
            row("data/index.js:3", "Reexport", None),
            row("pages/b/b.js:6", "lifecycle onLoad", s("data/all.js")),
            row("pages/c/c.js:4", "in-page-data total", s("utils/lookup.js")),
            row(
                "pages/c/c.js:6",
                "lifecycle onShow",
                s("`bankName` of utils/lookup.js")
            ),
            // `tables['banks']`
            row("pages/d/d.js:7", "lifecycle onLoad", s("data/index.js")),
            row("utils/lookup.js:5", "function bankName", None),
            row("utils/lookup.js:9", "TopLevel", None),
        ]
    );
}
