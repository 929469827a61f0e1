//! Reading seeds: records with their lines, errors in place, files and index declarations.

use artifacts::seed::{
    self, IndexDecl, SeedError, collection_files, parse_records, read_collection, read_indexes,
};
use std::path::Path;

fn lines_and_errors(text: &str) -> Vec<(usize, Option<String>)> {
    parse_records(text, Path::new("x.json"))
        .into_iter()
        .map(|r| match r {
            Ok(r) => (r.line, None),
            Err(e) => (e.line, Some(e.message)),
        })
        .collect()
}

#[test]
fn records_are_split_with_the_line_they_start_on() {
    let recs = lines_and_errors("\u{feff}{\"a\":1}\n\n{\n \"b\": 2\n}\n{bad}\n{\"c\":3}");
    let lines: Vec<usize> = recs.iter().map(|r| r.0).collect();
    assert_eq!(lines, [1, 3, 6, 7]);
    assert!(recs[2].1.is_some() && recs[3].1.is_none());
}

#[test]
fn a_bad_record_is_reported_in_place_and_reading_resumes_at_the_next_object_line() {
    let text = concat!(
        "{\"_id\":\"l1\"}\n",
        "{\"city\": broken\n",
        "  {\"not\": \"at line start\"}\n",
        "{\"_id\":\"l2\"}{\"_id\":\"l3\"}\n",
        "[1, 2]\n",
        "\"text\"\n",
    );
    assert_eq!(
        lines_and_errors(text),
        [
            (1, None),
            (
                2,
                Some("invalid JSON: expected value at line 1 column 10".into())
            ),
            (4, None),
            (4, None),
            (5, Some("a record must be a JSON object".into())),
            (6, Some("a record must be a JSON object".into())),
        ]
    );
}

#[test]
fn blank_text_has_no_records() {
    assert!(lines_and_errors("").is_empty());
    assert!(lines_and_errors("\u{feff}\n  \n\t\n").is_empty());
}

#[test]
fn errors_display_with_their_file_and_line() {
    let e = SeedError::record("db/lines.json", 3, "invalid JSON: x");
    assert_eq!(e.to_string(), "db/lines.json:3: invalid JSON: x");
    let e = SeedError::file("db/lines.json", "not UTF-8 (seeds must be UTF-8)");
    assert_eq!(
        e.to_string(),
        "db/lines.json: not UTF-8 (seeds must be UTF-8)"
    );
}

#[test]
fn a_file_that_is_not_utf8_or_missing_is_one_error() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, b"{\"a\":\"\xff\"}\n").unwrap();
    let e = read_collection("bad", &bad).unwrap_err();
    assert_eq!(
        (e.line, e.message.as_str()),
        (0, "not UTF-8 (seeds must be UTF-8)")
    );
    let e = read_collection("gone", &tmp.path().join("gone.json")).unwrap_err();
    assert!(e.message.starts_with("cannot read: "), "{e}");
    assert_eq!(e.line, 0);
}

#[test]
fn a_collection_file_is_named_by_its_stem_and_keeps_its_records() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("books.json");
    std::fs::write(
        &path,
        "{\"_id\":\"b1\",\"n\":1}\n{oops}\n{\"_id\":\"b2\"}\n",
    )
    .unwrap();
    let seed = read_collection("books", &path).unwrap();
    assert_eq!(seed.collection, "books");
    let ids: Vec<&str> = seed
        .documents()
        .map(|d| d["_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["b1", "b2"]);
    let errors: Vec<String> = seed.errors().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].ends_with("books.json:2: invalid JSON: key must be a string at line 1 column 2"),
        "{errors:?}"
    );
}

#[test]
fn the_directory_lists_collection_files_only_sorted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for f in [
        "stops.json",
        "lines.json",
        "_indexes.json",
        "_permissions.json",
        "notes.txt",
    ] {
        std::fs::write(dir.join(f), "").unwrap();
    }
    std::fs::create_dir(dir.join("folder.json")).unwrap();
    let files = collection_files(dir).unwrap();
    assert_eq!(
        files,
        [
            ("lines".to_string(), dir.join("lines.json")),
            ("stops".to_string(), dir.join("stops.json")),
        ]
    );
    assert_eq!(collection_files(&dir.join("missing")).unwrap(), []);
    let e = collection_files(&dir.join("lines.json")).unwrap_err();
    assert!(e.message.starts_with("cannot read directory: "), "{e}");
}

#[test]
fn index_declarations_keep_bad_entries_in_place() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(seed::INDEXES_FILE);
    std::fs::write(
        &path,
        r#"{"lines": ["city", 3, "line.no"], "stops": "loc", "empty": []}"#,
    )
    .unwrap();
    let err = |m: &str| SeedError::file(&path, m);
    assert_eq!(
        read_indexes(&path).unwrap(),
        [
            Ok(IndexDecl {
                collection: "lines".into(),
                paths: vec![
                    Ok("city".into()),
                    Err(err("\"lines\": field paths must be strings")),
                    Ok("line.no".into()),
                ],
            }),
            Err(err("\"stops\": expected a list of field paths")),
            Ok(IndexDecl {
                collection: "empty".into(),
                paths: vec![],
            }),
        ]
    );

    std::fs::write(&path, "[\"city\"]").unwrap();
    assert_eq!(
        read_indexes(&path).unwrap_err(),
        err("expected {\"<collection>\": [\"field\", ...]}")
    );
    std::fs::write(&path, "{").unwrap();
    let e = read_indexes(&path).unwrap_err();
    assert!(e.message.starts_with("invalid JSON: "), "{e}");
}

#[test]
fn field_names_may_not_be_paths_or_operators() {
    for bad in ["", "a.b", "$set", ".a"] {
        assert_eq!(
            seed::field_name_problem(bad),
            Some(format!(
                "invalid field name \"{bad}\" (no '.', not starting with '$')"
            ))
        );
    }
    for good in ["_id", "a$", "名字", "a-b"] {
        assert_eq!(seed::field_name_problem(good), None);
    }
}
