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
