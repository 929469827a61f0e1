//! Write → read gives the same documents, and read → write → read of every seed in the repo
//! gives the same documents and the same bytes again.

use artifacts::seed::{
    self, Document, IndexDecl, collection_files, indexes_to_json, parse_records, read_collection,
    read_indexes, to_json_lines,
};
use serde_json::json;
use std::path::{Path, PathBuf};

fn doc(v: serde_json::Value) -> Document {
    match v {
        serde_json::Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// Parse text written by [`to_json_lines`], requiring every record to be good.
fn read_back(text: &str) -> Vec<Document> {
    parse_records(text, Path::new("written.json"))
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{e}\n{text}")).document)
        .collect()
}

/// Documents equal *and* keys in the same order (a JSON map's `==` ignores order).
fn assert_same(a: &[Document], b: &[Document]) {
    assert_eq!(a, b);
    let keys = |d: &[Document]| -> Vec<Vec<String>> {
        d.iter().map(|m| m.keys().cloned().collect()).collect()
    };
    assert_eq!(keys(a), keys(b));
}

fn edge_cases() -> Vec<Document> {
    vec![
        doc(json!({"_id": "with-id", "title": "plain"})),
        doc(json!({"_id": 42, "n": 1})),
        doc(json!({"_id": {"$oid": "5f1b2c3d4e5f6a7b8c9d0e1f"}})),
        doc(json!({"no": "id", "zeta": 1, "alpha": 2, "mid": 3})),
        doc(json!({
            "opened": {"$date": "2024-01-02T03:04:05.678Z"},
            "epoch": {"$date": 0},
            "before1970": {"$date": {"$numberLong": "-5"}},
            "dates": [{"$date": "1999-12-31T23:59:59.999Z"}]
        })),
        doc(
            json!({"nested": [[1, [2, [3, []]]], [], {"a": [{"b": [null, true, false]}]}], "o": {}}),
        ),
        doc(json!({
            "zh": "红楼梦", "emoji": "🚌🚏", "rtl": "שלום", "combining": "e\u{301}",
            "escapes": "quote \" backslash \\ newline \n tab \t nul \u{0} sep \u{2028}",
            "键": "a key in Chinese"
        })),
        doc(json!({
            "u64max": u64::MAX, "i64min": i64::MIN, "maxf": f64::MAX, "tiny": 5e-324,
            "tenth": 0.1, "float_one": 1.0, "neg": -0.5, "long": {"$numberLong": "9223372036854775807"},
            "int": {"$numberInt": "10"}, "double": {"$numberDouble": "Infinity"}
        })),
        doc(json!({})),
    ]
}

#[test]
fn written_documents_read_back_the_same() {
    let docs = edge_cases();
    let text = to_json_lines(&docs);
    assert!(text.ends_with('\n'));
    assert_eq!(
        text.lines().count(),
        docs.len(),
        "one document per line:\n{text}"
    );
    assert!(
        text.contains("\"zh\":\"红楼梦\""),
        "UTF-8, not escapes:\n{text}"
    );
    assert!(text.contains(r#""opened":{"$date":"2024-01-02T03:04:05.678Z"}"#));
    assert!(text.contains(r#""u64max":18446744073709551615"#));
    let back = read_back(&text);
    assert_same(&docs, &back);
    assert_eq!(to_json_lines(&back), text, "writing is stable");
}

#[test]
fn an_empty_collection_is_an_empty_file() {
    let text = to_json_lines(&[]);
    assert_eq!(text, "");
    assert!(read_back(&text).is_empty());
}

#[test]
fn pretty_printed_records_are_rewritten_one_per_line() {
    let text = "{\n  \"_id\": \"a\",\n  \"tags\": [\n    \"x\"\n  ]\n}\n{\"_id\": \"b\"}";
    let docs = read_back(text);
    assert_eq!(
        to_json_lines(&docs),
        "{\"_id\":\"a\",\"tags\":[\"x\"]}\n{\"_id\":\"b\"}\n"
    );
}

#[test]
fn index_declarations_round_trip() {
    let decls = [
        ("lines", vec!["city", "lineNo"]),
        ("stops", vec!["loc", "line.id"]),
    ];
    let text = indexes_to_json(decls.iter().map(|(c, p)| (*c, p.iter().copied())));
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(seed::INDEXES_FILE);
    std::fs::write(&path, &text).unwrap();
    let back: Vec<IndexDecl> = read_indexes(&path)
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let expected: Vec<IndexDecl> = decls
        .iter()
        .map(|(c, p)| IndexDecl {
            collection: c.to_string(),
            paths: p.iter().map(|s| Ok(s.to_string())).collect(),
        })
        .collect();
    assert_eq!(back, expected);
    assert_eq!(
        text,
        "{\n  \"lines\": [\n    \"city\",\n    \"lineNo\"\n  ],\n  \"stops\": [\n    \"loc\",\n    \"line.id\"\n  ]\n}"
    );
}

/// Every `cloud/database` folder of the repository's test and fixture projects.
fn repo_seed_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let skip = ["target", "node_modules", ".git"];
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_entry(|e| !skip.iter().any(|s| e.file_name() == *s))
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_dir() && e.path().ends_with(seed::DATABASE_DIR))
        .map(|e| e.into_path())
        .collect()
}

#[test]
fn every_seed_in_the_repo_round_trips() {
    let dirs = repo_seed_dirs();
    assert!(
        dirs.iter()
            .any(|d| d.ends_with("shim/tests/project/cloud/database")),
        "{dirs:?}"
    );
    let mut files = 0;
    for dir in &dirs {
        for (collection, path) in collection_files(dir).unwrap() {
            let seed = read_collection(&collection, &path).unwrap();
            let errors: Vec<_> = seed.errors().collect();
            assert!(errors.is_empty(), "{errors:?}");
            let docs: Vec<Document> = seed.documents().cloned().collect();
            assert!(!docs.is_empty(), "{}", path.display());
            let text = to_json_lines(&docs);
            let back = read_back(&text);
            assert_same(&docs, &back);
            assert_eq!(to_json_lines(&back), text);
            files += 1;
        }
    }
    assert!(files >= 2, "found {files} seed files in {dirs:?}");
}
