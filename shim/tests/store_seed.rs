//! Seeds: loading `cloud/database/*.json` and exporting it back.

use bson::{Bson, doc};
use shim::seed;
use shim::store::{Find, SqliteStore, Store};

fn store(dir: &std::path::Path) -> SqliteStore {
    SqliteStore::open(dir.join("db.sqlite")).unwrap()
}

#[test]
fn load_is_idempotent_and_reports_bad_records() {
    let tmp = tempfile::tempdir().unwrap();
    let seeds = tmp.path().join("cloud/database");
    std::fs::create_dir_all(&seeds).unwrap();
    std::fs::write(
        seeds.join("lines.json"),
        concat!(
            "{\"_id\":\"l1\",\"city\":\"sz\",\"lineNo\":1,\"opened\":{\"$date\":\"2020-01-02T03:04:05.678Z\"},\"riders\":{\"$numberLong\":\"123\"}}\n",
            "{\"city\":\"gz\",\"lineNo\":2}\n",
            "{\"city\": broken\n",
            "{\n  \"_id\": \"l3\",\n  \"city\": \"sz\",\n  \"stops\": [{\"name\": \"a\"}]\n}\n",
            "{\"_id\":\"l4\",\"a.b\":1}\n",
            "\n{\"_id\":\"l5\",\"city\":\"bj\"}{\"_id\":\"l6\",\"city\":\"bj\"}\n",
        ),
    )
    .unwrap();
    std::fs::write(seeds.join("empty.json"), "").unwrap();
    std::fs::write(
        seeds.join("_indexes.json"),
        r#"{"lines": ["city", "lineNo"], "stops": ["loc"]}"#,
    )
    .unwrap();
    std::fs::write(
        seeds.join("_permissions.json"),
        r#"{"lines": "ALL_READ_ADMIN_WRITE"}"#,
    )
    .unwrap();
    std::fs::write(seeds.join("notes.txt"), "ignored").unwrap();

    let s = store(tmp.path());
    let r = seed::load_dir(&s, &seeds);
    let lines = r.files.iter().find(|f| f.collection == "lines").unwrap();
    assert_eq!((lines.inserted, lines.updated, lines.unchanged), (5, 0, 0));
    let msgs: Vec<String> = r.errors.iter().map(ToString::to_string).collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(
        msgs[0].ends_with("lines.json:3: invalid JSON: expected value at line 1 column 10"),
        "{msgs:?}"
    );
    assert!(
        msgs[1].contains("lines.json:9:") && msgs[1].contains("a.b"),
        "{msgs:?}"
    );
    assert_eq!(
        s.list_collections().unwrap(),
        vec!["empty", "lines", "stops"]
    );
    assert_eq!(s.list_indexes("lines").unwrap(), vec!["city", "lineNo"]);
    assert_eq!(r.indexes.len(), 3);

    let l1 = s
        .find("lines", &Find::filter(doc! {"_id": "l1"}))
        .unwrap()
        .remove(0);
    assert_eq!(
        l1.get_datetime("opened").unwrap().timestamp_millis(),
        1_577_934_245_678
    );
    assert_eq!(l1.get("riders"), Some(&Bson::Int64(123)));
    let gz = s
        .find("lines", &Find::filter(doc! {"city": "gz"}))
        .unwrap()
        .remove(0);
    let gz_id = gz.get_str("_id").unwrap().to_string();
    assert_eq!(gz_id.len(), 32);

    // again: nothing duplicated, same derived id
    let r2 = seed::load_dir(&s, &seeds);
    let lines = r2.files.iter().find(|f| f.collection == "lines").unwrap();
    assert_eq!((lines.inserted, lines.updated, lines.unchanged), (0, 0, 5));
    assert_eq!(s.count("lines", &doc! {}).unwrap(), 5);
    assert_eq!(
        s.find("lines", &Find::filter(doc! {"city": "gz"})).unwrap()[0]
            .get_str("_id")
            .unwrap(),
        gz_id
    );

    // an edited record is updated in place
    let text = std::fs::read_to_string(seeds.join("lines.json"))
        .unwrap()
        .replace("\"lineNo\":1,", "\"lineNo\":11,");
    std::fs::write(seeds.join("lines.json"), text).unwrap();
    let r3 = seed::load_dir(&s, &seeds);
    let lines = r3.files.iter().find(|f| f.collection == "lines").unwrap();
    assert_eq!((lines.inserted, lines.updated, lines.unchanged), (0, 1, 4));
}

#[test]
fn export_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path());
    s.create_collection("things").unwrap();
    s.ensure_index("things", "k").unwrap();
    let original = vec![
        doc! {"_id": "a", "k": 1, "big": Bson::Int64(5), "f": 1.0, "when": bson::DateTime::from_millis(1_704_164_645_678), "nested": {"arr": [1, "x", Bson::Null]}},
        doc! {"_id": "b", "re": Bson::RegularExpression(shim::db::ejson::make_regex("^a", "i").unwrap()), "old": bson::DateTime::from_millis(-5)},
    ];
    s.insert("things", original.clone()).unwrap();
    let out = tmp.path().join("export");
    let written = seed::export(&s, &out).unwrap();
    assert_eq!(written.len(), 2);
    let text = std::fs::read_to_string(out.join("things.json")).unwrap();
    assert!(
        text.contains(r#""when":{"$date":"2024-01-02T03:04:05.678Z"}"#),
        "{text}"
    );
    assert!(text.contains(r#""big":{"$numberLong":"5"}"#), "{text}");
    assert_eq!(text.lines().count(), 2);
    assert!(!out.join("things.json.tmp").exists());

    let tmp2 = tempfile::tempdir().unwrap();
    let s2 = store(tmp2.path());
    let r = seed::load_dir(&s2, &out);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(s2.find("things", &Find::default()).unwrap(), original);
    assert_eq!(s2.list_indexes("things").unwrap(), vec!["k"]);
}

/// `load_dir_once`: a seed file loaded before and unchanged is left alone (the app's changes
/// to its records stay), a changed file loads again, `reseed` loads everything; a file with a
/// bad record is not recorded, so it is tried again.
#[test]
fn seeds_load_once_unless_changed_or_reseeded() {
    use shim::db::update::Update;
    use shim::store::UpdateOpts;
    let tmp = tempfile::tempdir().unwrap();
    let seeds = tmp.path().join("cloud/database");
    std::fs::create_dir_all(&seeds).unwrap();
    std::fs::write(
        seeds.join("cities.json"),
        "{\"_id\":\"sz\",\"name\":\"深圳\"}\n",
    )
    .unwrap();
    std::fs::write(seeds.join("bad.json"), "{\"_id\":\"x\"}\n{broken\n").unwrap();
    let s = store(tmp.path());
    let name = |s: &SqliteStore| -> String {
        let d = s.find("cities", &Find::filter(doc! {"_id": "sz"})).unwrap();
        d[0].get_str("name").unwrap().to_string()
    };
    let r = seed::load_dir_once(&s, &seeds, false);
    assert_eq!(r.files.len(), 2);
    assert!(r.skipped.is_empty());
    let set = Update::operators(doc! {"$set": {"name": "Shenzhen"}}).unwrap();
    s.update("cities", &doc! {"_id": "sz"}, &set, UpdateOpts::default())
        .unwrap();
    // A restart: the unchanged file is skipped, the app's change stays; the bad file again.
    let r = seed::load_dir_once(&s, &seeds, false);
    assert_eq!(r.skipped, vec!["cities".to_string()]);
    assert_eq!(r.files.len(), 1, "{r:?}");
    assert_eq!(r.files[0].collection, "bad");
    assert_eq!(name(&s), "Shenzhen");
    // The file changes (a new apply): it loads.
    std::fs::write(
        seeds.join("cities.json"),
        "{\"_id\":\"sz\",\"name\":\"深圳市\"}\n{\"_id\":\"gz\",\"name\":\"广州\"}\n",
    )
    .unwrap();
    let r = seed::load_dir_once(&s, &seeds, false);
    assert!(r.skipped.is_empty());
    assert_eq!(name(&s), "深圳市");
    // `reseed`: everything loads again, the app's change is undone.
    s.update("cities", &doc! {"_id": "sz"}, &set, UpdateOpts::default())
        .unwrap();
    let r = seed::load_dir_once(&s, &seeds, true);
    assert!(r.skipped.is_empty());
    assert_eq!(name(&s), "深圳市");
    // And the record survives the store being reopened.
    drop(s);
    let s = store(tmp.path());
    assert_eq!(
        seed::load_dir_once(&s, &seeds, false).skipped,
        vec!["cities".to_string()]
    );
}
