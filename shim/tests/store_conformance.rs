//! Conformance suite for any [`Store`]. `conformance!` instantiates every check for one
//! implementation: the SQLite store, and the PostgreSQL store on a throwaway server
//! (`common/pg.rs`; `MIGRATE_SKIP_PG=1` skips it).

mod common;

use bson::{Bson, Document, doc};
use common::{d, ids};
use shim::db::DbError;
use shim::db::update::Update;
use shim::store::{Find, Store, UpdateOpts};
use std::path::Path;
use std::sync::Arc;

type Opener = fn(&Path) -> Arc<dyn Store>;

fn sqlite(dir: &Path) -> Arc<dyn Store> {
    Arc::new(shim::store::SqliteStore::open(dir.join("db.sqlite")).expect("open sqlite"))
}

/// A PostgreSQL store on the database that stands for `dir` (`common::pg`): opening one folder
/// twice reconnects to one database (what the SQLite checks do by reopening a file), two
/// folders are two databases.
fn postgres(dir: &Path) -> Arc<dyn Store> {
    Arc::new(common::pg::store_for(dir))
}

/// Every check, once for one store: `conformance!(module, opener)`, or
/// `conformance!(module, opener, skip_if = expr)` for a store whose tests may be skipped.
macro_rules! conformance {
    ($modname:ident, $opener:expr) => {
        conformance!($modname, $opener, skip_if = false);
    };
    ($modname:ident, $opener:expr, skip_if = $skip:expr) => {
        conformance!(
            @checks $modname, $opener, $skip,
            [
                crud_and_ids,
                duplicate_id,
                missing_collection,
                query_comparisons,
                query_logic,
                query_arrays_and_paths,
                query_openid_shapes,
                query_regex,
                query_expr_and_misc,
                query_geo,
                sorting_mixed_types,
                projections,
                update_operators,
                update_push_modifiers_and_pull,
                update_errors,
                upsert,
                aggregate_pipeline,
                aggregate_more_stages,
                bad_input_is_an_error,
                indexes_agree_with_scans,
                persistence_across_reopen,
                concurrent_reads_and_writes,
                sdk_captured_payloads,
                transactions,
            ]
        );
    };
    (@checks $modname:ident, $opener:expr, $skip:expr, [$($check:ident),* $(,)?]) => {
        mod $modname {
            $(
                #[test]
                fn $check() {
                    if $skip {
                        return;
                    }
                    let dir = tempfile::tempdir().expect("tempdir");
                    super::$check($opener, dir.path());
                }
            )*
        }
    };
}

conformance!(sqlite_store, super::sqlite);
conformance!(
    postgres_store,
    super::postgres,
    skip_if = crate::common::pg::skip()
);

fn setup(open: Opener, dir: &Path, docs: &[&str]) -> Arc<dyn Store> {
    let s = open(dir);
    s.create_collection("c").unwrap();
    s.insert("c", docs.iter().map(|x| d(x)).collect()).unwrap();
    s
}

fn q(s: &dyn Store, filter: &str) -> Vec<String> {
    ids(&s
        .find("c", &Find::filter(d(filter)))
        .unwrap_or_else(|e| panic!("{filter}: {e}")))
}

fn find_one(s: &dyn Store, id: &str) -> Document {
    s.find("c", &Find::filter(doc! {"_id": id}))
        .unwrap()
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no doc {id}"))
}

fn upd(s: &dyn Store, filter: &str, update: &str) -> u64 {
    let u = Update::operators(d(update)).unwrap_or_else(|e| panic!("{update}: {e}"));
    s.update(
        "c",
        &d(filter),
        &u,
        UpdateOpts {
            multi: true,
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("{update}: {e}"))
    .updated
}

fn crud_and_ids(open: Opener, dir: &Path) {
    let s = open(dir);
    assert!(s.create_collection("todos").unwrap());
    assert!(!s.create_collection("todos").unwrap());
    assert_eq!(s.list_collections().unwrap(), vec!["todos"]);
    let got = s
        .insert(
            "todos",
            vec![
                doc! {"title": "a"},
                doc! {"_id": "mine", "title": "b"},
                doc! {"_id": 7, "title": "c"},
            ],
        )
        .unwrap();
    let Bson::String(gen_id) = &got[0] else {
        panic!("generated id not a string")
    };
    assert_eq!(gen_id.len(), 32);
    assert!(
        gen_id
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_eq!(got[1], Bson::String("mine".into()));
    assert_eq!(got[2], Bson::Int32(7));
    let all = s.find("todos", &Find::default()).unwrap();
    assert_eq!(all.len(), 3);
    // _id comes first in generated docs; natural order is insertion order.
    assert_eq!(all[0].keys().next().map(String::as_str), Some("_id"));
    assert_eq!(ids(&all)[1..], ["mine".to_string(), "7".to_string()]);
    // numeric _id matches across number types
    assert_eq!(
        s.count("todos", &d(r#"{"_id": {"$numberDouble": "7.0"}}"#))
            .unwrap(),
        1
    );
    assert_eq!(s.count("todos", &Document::new()).unwrap(), 3);
    let u = Update::operators(doc! {"$set": {"title": "B"}}).unwrap();
    let r = s
        .update("todos", &doc! {"_id": "mine"}, &u, UpdateOpts::default())
        .unwrap();
    assert_eq!((r.matched, r.updated), (1, 1));
    let r = s
        .update("todos", &doc! {"_id": "mine"}, &u, UpdateOpts::default())
        .unwrap();
    assert_eq!(
        (r.matched, r.updated),
        (1, 0),
        "no-op update counts as matched only"
    );
    assert_eq!(s.remove("todos", &doc! {"_id": "mine"}, false).unwrap(), 1);
    assert_eq!(s.remove("todos", &doc! {"_id": "mine"}, false).unwrap(), 0);
    assert_eq!(s.remove("todos", &Document::new(), true).unwrap(), 2);
    assert!(s.drop_collection("todos").unwrap());
    assert!(!s.has_collection("todos").unwrap());
}

fn duplicate_id(open: Opener, dir: &Path) {
    let s = setup(open, dir, &[r#"{"_id":"x","n":1}"#]);
    let e = s
        .insert("c", vec![doc! {"_id": "y"}, doc! {"_id": "x"}])
        .unwrap_err();
    assert_eq!(e.code(), "DATABASE_DUPLICATE_WRITE");
    // all-or-nothing: "y" was not kept
    assert_eq!(s.count("c", &Document::new()).unwrap(), 1);
    // 1 and 1.0 are the same _id
    s.insert("c", vec![doc! {"_id": 1}]).unwrap();
    assert!(matches!(
        s.insert("c", vec![doc! {"_id": 1.0}]),
        Err(DbError::DuplicateId(_))
    ));
}

fn missing_collection(open: Opener, dir: &Path) {
    let s = open(dir);
    let code = |r: Result<(), DbError>| r.unwrap_err().code();
    assert_eq!(
        code(s.find("nope", &Find::default()).map(|_| ())),
        "DATABASE_COLLECTION_NOT_EXIST"
    );
    assert_eq!(
        code(s.insert("nope", vec![doc! {}]).map(|_| ())),
        "DATABASE_COLLECTION_NOT_EXIST"
    );
    assert_eq!(
        code(s.count("nope", &doc! {}).map(|_| ())),
        "DATABASE_COLLECTION_NOT_EXIST"
    );
    let u = Update::operators(doc! {"$set": {"a": 1}}).unwrap();
    assert_eq!(
        code(
            s.update("nope", &doc! {}, &u, UpdateOpts::default())
                .map(|_| ())
        ),
        "DATABASE_COLLECTION_NOT_EXIST"
    );
    assert_eq!(
        code(s.remove("nope", &doc! {}, true).map(|_| ())),
        "DATABASE_COLLECTION_NOT_EXIST"
    );
    assert_eq!(
        code(s.aggregate("nope", &[]).map(|_| ())),
        "DATABASE_COLLECTION_NOT_EXIST"
    );
    assert_eq!(
        code(s.ensure_index("nope", "a").map(|_| ())),
        "DATABASE_COLLECTION_NOT_EXIST"
    );
    assert_eq!(
        s.create_collection("bad name!").unwrap_err().code(),
        "INVALID_PARAM"
    );
}

const NUMS: &[&str] = &[
    r#"{"_id":"i","n":{"$numberInt":"5"}}"#,
    r#"{"_id":"l","n":{"$numberLong":"7"}}"#,
    r#"{"_id":"f","n":{"$numberDouble":"5.5"}}"#,
    r#"{"_id":"s","n":"5"}"#,
    r#"{"_id":"z","n":null}"#,
    r#"{"_id":"m"}"#,
    r#"{"_id":"d","n":{"$date":{"$numberLong":"1000"}}}"#,
];

fn query_comparisons(open: Opener, dir: &Path) {
    let s = setup(open, dir, NUMS);
    let s = s.as_ref();
    assert_eq!(q(s, r#"{"n":5}"#), ["i"]);
    assert_eq!(
        q(s, r#"{"n":{"$numberDouble":"5.0"}}"#),
        ["i"],
        "numbers equal across types"
    );
    assert_eq!(q(s, r#"{"n":{"$eq":"5"}}"#), ["s"]);
    assert_eq!(
        q(s, r#"{"n":{"$gt":5}}"#),
        ["l", "f"],
        "type-bracketed: no string, date"
    );
    assert_eq!(q(s, r#"{"n":{"$gte":5,"$lt":7}}"#), ["i", "f"]);
    assert_eq!(q(s, r#"{"n":{"$lte":{"$numberLong":"5"}}}"#), ["i"]);
    assert_eq!(q(s, r#"{"n":{"$ne":5}}"#), ["l", "f", "s", "z", "m", "d"]);
    assert_eq!(q(s, r#"{"n":null}"#), ["z", "m"], "null matches missing");
    assert_eq!(q(s, r#"{"n":{"$in":[7,"5",null]}}"#), ["l", "s", "z", "m"]);
    assert_eq!(q(s, r#"{"n":{"$nin":[5,7]}}"#), ["f", "s", "z", "m", "d"]);
    assert_eq!(q(s, r#"{"n":{"$exists":false}}"#), ["m"]);
    assert_eq!(q(s, r#"{"n":{"$exists":true}}"#).len(), 6);
    assert_eq!(
        q(s, r#"{"n":{"$gt":{"$date":{"$numberLong":"999"}}}}"#),
        ["d"]
    );
    assert_eq!(
        q(s, r#"{"n":{"$mod":[2,1]}}"#),
        ["i", "l", "f"],
        "5.5 truncates to 5"
    );
}

fn query_logic(open: Opener, dir: &Path) {
    let s = setup(open, dir, NUMS);
    let s = s.as_ref();
    assert_eq!(q(s, r#"{"$or":[{"n":5},{"_id":"m"}]}"#), ["i", "m"]);
    assert_eq!(
        q(s, r#"{"$and":[{"n":{"$gt":4}},{"n":{"$lt":6}}]}"#),
        ["i", "f"]
    );
    assert_eq!(
        q(s, r#"{"$nor":[{"n":5},{"n":{"$exists":false}}]}"#),
        ["l", "f", "s", "z", "d"]
    );
    assert_eq!(
        q(s, r#"{"n":{"$not":{"$gt":5}}}"#),
        ["i", "s", "z", "m", "d"]
    );
    assert_eq!(q(s, r#"{"_id":{"$in":["i","f"]},"n":{"$gt":5}}"#), ["f"]);
}

fn query_arrays_and_paths(open: Opener, dir: &Path) {
    let s = setup(
        open,
        dir,
        &[
            r#"{"_id":"a","tags":["x","y"],"items":[{"k":1,"v":"p"},{"k":2,"v":"q"}],"o":{"p":{"q":1}}}"#,
            r#"{"_id":"b","tags":["y"],"items":[{"k":3}],"o":{"p":{"q":2}},"m":[[1,2],[3]]}"#,
            r#"{"_id":"c","tags":"x","nums":[1,5,9]}"#,
        ],
    );
    let s = s.as_ref();
    assert_eq!(
        q(s, r#"{"tags":"x"}"#),
        ["a", "c"],
        "array contains / scalar equal"
    );
    assert_eq!(q(s, r#"{"tags":["x","y"]}"#), ["a"], "whole-array equality");
    assert_eq!(
        q(s, r#"{"tags":["y","x"]}"#),
        Vec::<String>::new(),
        "order matters"
    );
    assert_eq!(
        q(s, r#"{"items.k":2}"#),
        ["a"],
        "dot path through array of docs"
    );
    assert_eq!(q(s, r#"{"items.1.k":2}"#), ["a"], "numeric index");
    assert_eq!(q(s, r#"{"o.p.q":{"$gte":2}}"#), ["b"]);
    assert_eq!(q(s, r#"{"tags":{"$size":2}}"#), ["a"]);
    assert_eq!(q(s, r#"{"tags":{"$all":["y","x"]}}"#), ["a"]);
    assert_eq!(
        q(s, r#"{"items":{"$elemMatch":{"k":{"$gt":1},"v":"q"}}}"#),
        ["a"]
    );
    assert_eq!(
        q(s, r#"{"items":{"$elemMatch":{"k":1,"v":"q"}}}"#),
        Vec::<String>::new(),
        "same element"
    );
    assert_eq!(q(s, r#"{"nums":{"$elemMatch":{"$gt":4,"$lt":6}}}"#), ["c"]);
    assert_eq!(q(s, r#"{"nums":{"$gt":8}}"#), ["c"], "any element");
    assert_eq!(
        q(s, r#"{"m":[3]}"#),
        ["b"],
        "array element that is an array"
    );
    assert_eq!(q(s, r#"{"tags":{"$in":["y"]}}"#), ["a", "b"]);
    assert_eq!(q(s, r#"{"tags":{"$nin":["y"]}}"#), ["c"]);
}

/// `_openid` equality (what every permission-filtered query has) finds the documents whose
/// `_openid` is that string and those whose `_openid` is an array holding it, in natural
/// order, also after an update changes the shape.
fn query_openid_shapes(open: Opener, dir: &Path) {
    let s = setup(
        open,
        dir,
        &[
            r#"{"_id":"a","_openid":"o1"}"#,
            r#"{"_id":"b","_openid":["o2","o1"]}"#,
            r#"{"_id":"c","_openid":"o2"}"#,
            r#"{"_id":"d","_openid":["o3"]}"#,
            r#"{"_id":"e","_openid":7}"#,
            r#"{"_id":"f"}"#,
            r#"{"_id":"g","_openid":"o1"}"#,
        ],
    );
    let s = s.as_ref();
    assert_eq!(q(s, r#"{"_openid":"o1"}"#), ["a", "b", "g"]);
    assert_eq!(q(s, r#"{"_openid":"o2"}"#), ["b", "c"]);
    assert_eq!(q(s, r#"{"_openid":"o3"}"#), ["d"]);
    assert_eq!(q(s, r#"{"_openid":["o3"]}"#), ["d"], "whole-array equality");
    assert_eq!(q(s, r#"{"_openid":"o1","_id":{"$gt":"a"}}"#), ["b", "g"]);
    assert_eq!(s.count("c", &d(r#"{"_openid":"o1"}"#)).unwrap(), 3);
    let limited = s
        .find(
            "c",
            &Find {
                limit: Some(2),
                ..Find::filter(d(r#"{"_openid":"o1"}"#))
            },
        )
        .unwrap();
    assert_eq!(ids(&limited), ["a", "b"]);
    // A string becomes an array and back.
    assert_eq!(
        upd(s, r#"{"_id":"c"}"#, r#"{"$set":{"_openid":["o2","o3"]}}"#),
        1
    );
    assert_eq!(upd(s, r#"{"_id":"b"}"#, r#"{"$set":{"_openid":"o2"}}"#), 1);
    assert_eq!(q(s, r#"{"_openid":"o1"}"#), ["a", "g"]);
    assert_eq!(q(s, r#"{"_openid":"o3"}"#), ["c", "d"]);
    assert_eq!(q(s, r#"{"_openid":"o2"}"#), ["b", "c"]);
    assert_eq!(
        upd(s, r#"{"_openid":"o3"}"#, r#"{"$pull":{"_openid":"o3"}}"#),
        2
    );
    assert_eq!(q(s, r#"{"_openid":"o3"}"#), Vec::<String>::new());
    assert_eq!(q(s, r#"{"_openid":"o2"}"#), ["b", "c"]);
    // An openid that is the stores' array marker itself: each match once.
    s.insert(
        "c",
        vec![
            d(r#"{"_id":"h","_openid":"\u0001"}"#),
            d(r#"{"_id":"i","_openid":["\u0001"]}"#),
        ],
    )
    .unwrap();
    assert_eq!(q(s, r#"{"_openid":"\u0001"}"#), ["h", "i"]);
}

fn query_regex(open: Opener, dir: &Path) {
    let s = setup(
        open,
        dir,
        &[
            r#"{"_id":"1","t":"Hello world"}"#,
            r#"{"_id":"2","t":"say hello\nthere"}"#,
            r#"{"_id":"3","t":["nope","HELP"]}"#,
        ],
    );
    let s = s.as_ref();
    assert_eq!(
        q(
            s,
            r#"{"t":{"$regularExpression":{"pattern":"^he","options":"i"}}}"#
        ),
        ["1", "3"]
    );
    assert_eq!(
        q(
            s,
            r#"{"t":{"$regularExpression":{"pattern":"^he","options":""}}}"#
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        q(
            s,
            r#"{"t":{"$regularExpression":{"pattern":"^there","options":"m"}}}"#
        ),
        ["2"]
    );
    assert_eq!(
        q(s, r#"{"t":{"$regex":"^hel","$options":"i"}}"#),
        ["1", "3"]
    );
    assert_eq!(
        q(
            s,
            r#"{"t":{"$in":[{"$regularExpression":{"pattern":"world$","options":""}}]}}"#
        ),
        ["1"]
    );
    assert_eq!(
        q(
            s,
            r#"{"t":{"$not":{"$regularExpression":{"pattern":"l","options":""}}}}"#
        ),
        ["3"]
    );
    assert_eq!(
        q(
            s,
            r#"{"t":{"$regularExpression":{"pattern":"hello.there","options":"s"}}}"#
        ),
        ["2"]
    );
    let e = s
        .find("c", &Find::filter(d(r#"{"t":{"$regex":"(?=x)"}}"#)))
        .unwrap_err();
    assert_eq!(e.code(), "INVALID_PARAM");
    assert!(e.message().contains("look-around"), "{}", e.message());
    let e = s
        .find(
            "c",
            &Find::filter(d(r#"{"t":{"$regex":"a","$options":"q"}}"#)),
        )
        .unwrap_err();
    assert_eq!(e.code(), "INVALID_PARAM");
}

fn query_expr_and_misc(open: Opener, dir: &Path) {
    let s = setup(
        open,
        dir,
        &[r#"{"_id":"1","a":1,"b":1}"#, r#"{"_id":"2","a":1,"b":2}"#],
    );
    let s = s.as_ref();
    assert_eq!(q(s, r#"{"$expr":{"$eq":["$a","$b"]}}"#), ["1"]);
    assert_eq!(q(s, r#"{"$expr":{"$gt":[{"$add":["$a","$b"]},2]}}"#), ["2"]);
    assert_eq!(q(s, r#"{}"#), ["1", "2"]);
}

fn query_geo(open: Opener, dir: &Path) {
    let s = setup(
        open,
        dir,
        &[
            r#"{"_id":"near","loc":{"type":"Point","coordinates":[113.3,23.1]}}"#,
            r#"{"_id":"mid","loc":{"type":"Point","coordinates":[113.305,23.1]}}"#,
            r#"{"_id":"far","loc":{"type":"Point","coordinates":[114.0,23.1]}}"#,
            r#"{"_id":"in","loc":{"type":"Point","coordinates":[1,1]}}"#,
            r#"{"_id":"area","loc":{"type":"Polygon","coordinates":[[[10,10],[20,10],[20,20],[10,20],[10,10]]]}}"#,
        ],
    );
    let s = s.as_ref();
    // captured §4.2 where.geoNear: maxDistance 1000 m
    assert_eq!(
        q(
            s,
            r#"{"loc":{"$nearSphere":{"$geometry":{"type":"Point","coordinates":[{"$numberDouble":"113.3"},{"$numberDouble":"23.1"}]},"$maxDistance":{"$numberInt":"1000"},"$minDistance":{"$numberInt":"0"}}}}"#
        ),
        ["near", "mid"]
    );
    // results come nearest first
    assert_eq!(
        q(
            s,
            r#"{"loc":{"$nearSphere":{"$geometry":{"type":"Point","coordinates":[113.31,23.1]}}}}"#
        )[..3],
        ["mid".to_string(), "near".into(), "far".into()]
    );
    // captured §4.2 where.geoWithin polygon
    assert_eq!(
        q(
            s,
            r#"{"loc":{"$geoWithin":{"$geometry":{"type":"Polygon","coordinates":[[[{"$numberInt":"0"},{"$numberInt":"0"}],[{"$numberInt":"3"},{"$numberInt":"2"}],[{"$numberInt":"2"},{"$numberInt":"3"}],[{"$numberInt":"0"},{"$numberInt":"0"}]]]}}}}"#
        ),
        ["in"]
    );
    assert_eq!(
        q(
            s,
            r#"{"loc":{"$geoIntersects":{"$geometry":{"type":"Point","coordinates":[15,15]}}}}"#
        ),
        ["area"]
    );
    assert_eq!(
        q(
            s,
            r#"{"loc":{"$geoIntersects":{"$geometry":{"type":"LineString","coordinates":[[0,15],[30,15]]}}}}"#
        ),
        ["area"]
    );
}

fn sorting_mixed_types(open: Opener, dir: &Path) {
    let s = setup(open, dir, NUMS);
    let sorted = |sort: &str, skip: u64, limit: Option<u64>| {
        ids(&s
            .find(
                "c",
                &Find {
                    sort: Some(d(sort)),
                    skip,
                    limit,
                    ..Find::default()
                },
            )
            .unwrap())
    };
    // null/missing < numbers < strings < dates; ties keep natural order
    assert_eq!(
        sorted(r#"{"n":1}"#, 0, None),
        ["z", "m", "i", "f", "l", "s", "d"]
    );
    assert_eq!(
        sorted(r#"{"n":-1}"#, 0, None),
        ["d", "s", "l", "f", "i", "z", "m"]
    );
    assert_eq!(sorted(r#"{"n":1}"#, 2, Some(2)), ["i", "f"]);
    let s2 = open(&dir.join("two"));
    s2.create_collection("c").unwrap();
    s2.insert(
        "c",
        [
            "{\"_id\":\"1\",\"a\":1,\"b\":\"x\"}",
            "{\"_id\":\"2\",\"a\":1,\"b\":\"y\"}",
            "{\"_id\":\"3\",\"a\":0,\"b\":\"z\"}",
            "{\"_id\":\"4\",\"a\":[5,-1],\"b\":\"w\"}",
        ]
        .iter()
        .map(|x| d(x))
        .collect(),
    )
    .unwrap();
    let multi = ids(&s2
        .find(
            "c",
            &Find {
                sort: Some(d(r#"{"a":-1,"b":-1}"#)),
                ..Find::default()
            },
        )
        .unwrap());
    assert_eq!(
        multi,
        ["4", "2", "1", "3"],
        "multi-key; arrays sort by max descending"
    );
    let asc = ids(&s2
        .find(
            "c",
            &Find {
                sort: Some(d(r#"{"a":1,"b":1}"#)),
                ..Find::default()
            },
        )
        .unwrap());
    assert_eq!(asc, ["4", "3", "1", "2"], "arrays sort by min ascending");
}

fn projections(open: Opener, dir: &Path) {
    let s = setup(
        open,
        dir,
        &[
            r#"{"_id":"1","a":1,"b":{"c":2,"d":3},"arr":[1,2,3,4],"items":[{"x":1,"y":1},{"x":2,"y":2}]}"#,
        ],
    );
    let p = |spec: &str| {
        s.find(
            "c",
            &Find {
                projection: Some(d(spec)),
                ..Find::default()
            },
        )
        .map(|v| v.into_iter().next().unwrap())
    };
    assert_eq!(p(r#"{"a":1}"#).unwrap(), doc! {"_id": "1", "a": 1});
    assert_eq!(p(r#"{"a":true,"_id":false}"#).unwrap(), doc! {"a": 1});
    assert_eq!(p(r#"{"_id":1}"#).unwrap(), doc! {"_id": "1"});
    assert_eq!(p(r#"{"_id":0}"#).unwrap().len(), 4);
    assert_eq!(p(r#"{"b.c":1}"#).unwrap(), doc! {"_id": "1", "b": {"c": 2}});
    assert_eq!(
        p(r#"{"items.x":1,"_id":0}"#).unwrap(),
        doc! {"items": [{"x": 1}, {"x": 2}]}
    );
    assert_eq!(
        p(r#"{"b":0,"arr":0,"items":0}"#).unwrap(),
        doc! {"_id": "1", "a": 1}
    );
    assert_eq!(
        p(r#"{"b.d":0,"arr":0,"items":0,"_id":0}"#).unwrap(),
        doc! {"a": 1, "b": {"c": 2}}
    );
    // captured §4.3 field slice/elemMatch
    let got = p(r#"{"arr":{"$slice":[{"$numberInt":"1"},{"$numberInt":"2"}]},"items":{"$elemMatch":{"x":{"$numberInt":"2"}}},"a":{"$numberInt":"1"}}"#).unwrap();
    assert_eq!(
        got,
        doc! {"_id": "1", "arr": [2, 3], "items": [{"x": 2, "y": 2}], "a": 1}
    );
    assert_eq!(
        p(r#"{"arr":{"$slice":-2}}"#)
            .unwrap()
            .get_array("arr")
            .unwrap(),
        &vec![Bson::Int32(3), Bson::Int32(4)]
    );
    assert_eq!(p(r#"{"a":1,"b":0}"#).unwrap_err().code(), "INVALID_PARAM");
}

fn update_operators(open: Opener, dir: &Path) {
    let s = setup(
        open,
        dir,
        &[
            r#"{"_id":"1","n":1,"l":{"$numberLong":"2"},"f":1.5,"t":"x","o":{"p":1},"arr":[1,2,3],"gone":true}"#,
        ],
    );
    let s = s.as_ref();
    assert_eq!(
        upd(
            s,
            r#"{"_id":"1"}"#,
            r#"{"$inc":{"n":2,"l":1,"f":1,"new":5}}"#
        ),
        1
    );
    let x = find_one(s, "1");
    assert_eq!(
        (x.get("n"), x.get("l"), x.get("f"), x.get("new")),
        (
            Some(&Bson::Int32(3)),
            Some(&Bson::Int64(3)),
            Some(&Bson::Double(2.5)),
            Some(&Bson::Int32(5))
        )
    );
    upd(
        s,
        r#"{"_id":"1"}"#,
        r#"{"$mul":{"n":{"$numberDouble":"2"},"zero":3}}"#,
    );
    let x = find_one(s, "1");
    assert_eq!(
        (x.get("n"), x.get("zero")),
        (Some(&Bson::Double(6.0)), Some(&Bson::Int32(0)))
    );
    upd(
        s,
        r#"{"_id":"1"}"#,
        r#"{"$set":{"o.q.r":1,"t":"y"},"$unset":{"gone":""},"$rename":{"f":"g"}}"#,
    );
    let x = find_one(s, "1");
    assert_eq!(x.get_document("o").unwrap(), &doc! {"p": 1, "q": {"r": 1}});
    assert!(
        !x.contains_key("gone") && !x.contains_key("f") && x.get("g") == Some(&Bson::Double(2.5))
    );
    upd(
        s,
        r#"{"_id":"1"}"#,
        r#"{"$min":{"n":1,"mm":4},"$max":{"l":10}}"#,
    );
    let x = find_one(s, "1");
    assert_eq!(
        (x.get("n"), x.get("mm"), x.get("l")),
        (
            Some(&Bson::Int32(1)),
            Some(&Bson::Int32(4)),
            Some(&Bson::Int32(10))
        )
    );
    upd(s, r#"{"_id":"1"}"#, r#"{"$set":{"arr.5":9}}"#);
    assert_eq!(
        find_one(s, "1").get_array("arr").unwrap(),
        &vec![
            Bson::Int32(1),
            2.into(),
            3.into(),
            Bson::Null,
            Bson::Null,
            9.into()
        ]
    );
    // replacement keeps _id
    let r = s
        .update(
            "c",
            &doc! {"_id": "1"},
            &Update::replace(doc! {"only": 1}).unwrap(),
            UpdateOpts::default(),
        )
        .unwrap();
    assert_eq!(r.updated, 1);
    assert_eq!(find_one(s, "1"), doc! {"_id": "1", "only": 1});
}

fn update_push_modifiers_and_pull(open: Opener, dir: &Path) {
    let s = setup(
        open,
        dir,
        &[
            r#"{"_id":"1","arr":[3,1],"arr2":[1,2,3,4,5],"arr3":[1,5,2,6],"s":["a"],"objs":[{"k":1},{"k":2}]}"#,
        ],
    );
    let s = s.as_ref();
    // captured §4.3 push-full/pullAll/pull
    upd(
        s,
        r#"{"_id":"1"}"#,
        r#"{"$push":{"arr":{"$each":[{"$numberInt":"1"},{"$numberInt":"2"}],"$position":{"$numberInt":"0"},"$sort":{"$numberInt":"-1"},"$slice":{"$numberInt":"3"}}},"$pullAll":{"arr2":[{"$numberInt":"1"},{"$numberInt":"2"}]},"$pull":{"arr3":{"$gt":{"$numberInt":"3"}}}}"#,
    );
    let x = find_one(s, "1");
    assert_eq!(
        x.get_array("arr").unwrap(),
        &vec![Bson::Int32(3), 2.into(), 1.into()]
    );
    assert_eq!(
        x.get_array("arr2").unwrap(),
        &vec![Bson::Int32(3), 4.into(), 5.into()]
    );
    assert_eq!(
        x.get_array("arr3").unwrap(),
        &vec![Bson::Int32(1), 2.into()]
    );
    upd(
        s,
        r#"{"_id":"1"}"#,
        r#"{"$addToSet":{"s":{"$each":["a","b","b"]}},"$pop":{"arr":1,"arr2":-1},"$pull":{"objs":{"k":1}},"$push":{"fresh":"x"}}"#,
    );
    let x = find_one(s, "1");
    assert_eq!(
        x.get_array("s").unwrap(),
        &vec![Bson::from("a"), "b".into()]
    );
    assert_eq!(x.get_array("arr").unwrap(), &vec![Bson::Int32(3), 2.into()]);
    assert_eq!(
        x.get_array("arr2").unwrap(),
        &vec![Bson::Int32(4), 5.into()]
    );
    assert_eq!(
        x.get_array("objs").unwrap(),
        &vec![Bson::Document(doc! {"k": 2})]
    );
    assert_eq!(x.get_array("fresh").unwrap(), &vec![Bson::from("x")]);
    // unshift = $push with $position 0
    upd(
        s,
        r#"{"_id":"1"}"#,
        r#"{"$push":{"s":{"$each":[{"$numberInt":"0"}],"$position":{"$numberInt":"0"}}}}"#,
    );
    assert_eq!(find_one(s, "1").get_array("s").unwrap()[0], Bson::Int32(0));
}

fn update_errors(open: Opener, dir: &Path) {
    let s = setup(open, dir, &[r#"{"_id":"1","t":"x","n":1}"#]);
    for bad in [
        r#"{"$foo":{"a":1}}"#,
        r#"{"$set":{"_id":"2"}}"#,
        r#"{"$set":{"a":1},"$inc":{"a":1}}"#,
        r#"{"$set":{"a.b":1},"$unset":{"a":""}}"#,
        r#"{"$inc":{"a":"x"}}"#,
        r#"{"$pop":{"a":2}}"#,
        r#"{"$set":1}"#,
        r#"{"a":1}"#,
    ] {
        assert_eq!(
            Update::operators(d(bad)).unwrap_err().code(),
            "INVALID_PARAM",
            "{bad}"
        );
    }
    assert_eq!(
        Update::replace(d(r#"{"$set":{"a":1}}"#))
            .unwrap_err()
            .code(),
        "INVALID_PARAM"
    );
    // type errors at apply time leave the document untouched
    let u = Update::operators(d(r#"{"$inc":{"t":1}}"#)).unwrap();
    assert_eq!(
        s.update("c", &doc! {}, &u, UpdateOpts::default())
            .unwrap_err()
            .code(),
        "DATABASE_REQUEST_FAILED"
    );
    let u = Update::operators(d(r#"{"$set":{"n.x":1}}"#)).unwrap();
    assert_eq!(
        s.update("c", &doc! {}, &u, UpdateOpts::default())
            .unwrap_err()
            .code(),
        "DATABASE_REQUEST_FAILED"
    );
    let u = Update::operators(d(r#"{"$push":{"t":1}}"#)).unwrap();
    assert!(s.update("c", &doc! {}, &u, UpdateOpts::default()).is_err());
    assert_eq!(find_one(s.as_ref(), "1"), d(r#"{"_id":"1","t":"x","n":1}"#));
}

fn upsert(open: Opener, dir: &Path) {
    let s = setup(open, dir, &[]);
    let set = Update::replace(doc! {"title": "replaced", "n": 9}).unwrap();
    let r = s
        .update(
            "c",
            &doc! {"_id": "doc0002"},
            &set,
            UpdateOpts {
                upsert: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        (r.matched, r.updated, r.upserted_id.clone()),
        (0, 0, Some(Bson::from("doc0002")))
    );
    assert_eq!(
        find_one(s.as_ref(), "doc0002"),
        doc! {"_id": "doc0002", "title": "replaced", "n": 9}
    );
    let r = s
        .update(
            "c",
            &doc! {"_id": "doc0002"},
            &set,
            UpdateOpts {
                upsert: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!((r.matched, r.upserted_id), (1, None));
    let u = Update::operators(d(r#"{"$inc":{"n":1}}"#)).unwrap();
    let r = s
        .update(
            "c",
            &d(r#"{"k":"v","m":{"$gt":1}}"#),
            &u,
            UpdateOpts {
                upsert: true,
                return_doc: true,
                ..Default::default()
            },
        )
        .unwrap();
    let doc = r.doc.unwrap();
    assert_eq!(
        (doc.get("k"), doc.get("n"), doc.contains_key("m")),
        (Some(&Bson::from("v")), Some(&Bson::Int32(1)), false)
    );
    assert_eq!(s.count("c", &doc! {}).unwrap(), 2);
}

fn aggregate_pipeline(open: Opener, dir: &Path) {
    let s = setup(
        open,
        dir,
        &[
            r#"{"_id":"1","title":"a","n":2,"tags":["x","y"]}"#,
            r#"{"_id":"2","title":"a","n":3,"tags":["x"]}"#,
            r#"{"_id":"3","title":"b","n":{"$numberDouble":"1.5"}}"#,
            r#"{"_id":"4","title":"c","n":1}"#,
        ],
    );
    // captured §4.2 aggregate stages
    let stages = [
        shim::db::aggregate::stage_from_wire("$match", r#"{"n":{"$gt":{"$numberInt":"1"}}}"#)
            .unwrap(),
        shim::db::aggregate::stage_from_wire("$group", r#"{"_id":"$title","total":{"$sum":"$n"}}"#)
            .unwrap(),
        shim::db::aggregate::stage_from_wire("$sort", r#"{"total":{"$numberInt":"-1"}}"#).unwrap(),
        shim::db::aggregate::stage_from_wire("$limit", "3").unwrap(),
    ];
    let out = s.aggregate("c", &stages).unwrap();
    assert_eq!(
        out,
        vec![
            doc! {"_id": "a", "total": 5},
            doc! {"_id": "b", "total": 1.5}
        ]
    );
    let g = s.aggregate("c", &[d(r#"{"$group":{"_id":null,"avg":{"$avg":"$n"},"min":{"$min":"$n"},"max":{"$max":"$n"},"first":{"$first":"$title"},"last":{"$last":"$title"},"all":{"$push":"$title"},"set":{"$addToSet":"$title"},"cnt":{"$sum":1}}}"#)]).unwrap();
    assert_eq!(
        g,
        vec![
            doc! {"_id": Bson::Null, "avg": 1.875, "min": 1, "max": 3, "first": "a", "last": "c", "all": ["a", "a", "b", "c"], "set": ["a", "b", "c"], "cnt": 4}
        ]
    );
    let g = s
        .aggregate(
            "c",
            &[
                d(r#"{"$group":{"_id":{"t":"$title","big":{"$gte":["$n",2]}},"c":{"$sum":1}}}"#),
                d(r#"{"$sort":{"_id.t":1,"_id.big":1}}"#),
            ],
        )
        .unwrap();
    assert_eq!(g.len(), 3);
    assert_eq!(g[0], doc! {"_id": {"t": "a", "big": true}, "c": 2});
}

fn aggregate_more_stages(open: Opener, dir: &Path) {
    let s = setup(
        open,
        dir,
        &[
            r#"{"_id":"1","title":"ab","n":2,"tags":["x","y"],"o":{"v":1}}"#,
            r#"{"_id":"2","title":"cd","n":3,"tags":[]}"#,
        ],
    );
    let run = |p: &[&str]| {
        s.aggregate("c", &p.iter().map(|x| d(x)).collect::<Vec<_>>())
            .unwrap()
    };
    assert_eq!(run(&[r#"{"$unwind":"$tags"}"#]).len(), 2);
    assert_eq!(
        run(&[r#"{"$unwind":{"path":"$tags","preserveNullAndEmptyArrays":true}}"#]).len(),
        3
    );
    assert_eq!(run(&[r#"{"$count":"total"}"#]), vec![doc! {"total": 2}]);
    assert_eq!(
        run(&[
            r#"{"$project":{"_id":0,"up":{"$toUpper":"$title"},"sum":{"$add":["$n",1]},"both":{"$concat":["$title","-","x"]},"sz":{"$size":{"$ifNull":["$tags",[]]}},"c":{"$cond":{"if":{"$gt":["$n",2]},"then":"big","else":"small"}},"q":{"$divide":["$n",2]},"m":{"$multiply":["$n",{"$subtract":[5,1]}]}}}"#,
            r#"{"$limit":1}"#
        ]),
        vec![doc! {"up": "AB", "sum": 3, "both": "ab-x", "sz": 2, "c": "small", "q": 1.0, "m": 8}]
    );
    assert_eq!(
        run(&[
            r#"{"$match":{"_id":"1"}}"#,
            r#"{"$addFields":{"o.w":2,"k":"$o.v"}}"#,
            r#"{"$project":{"o":1,"k":1}}"#
        ]),
        vec![doc! {"_id": "1", "o": {"v": 1, "w": 2}, "k": 1}]
    );
    assert_eq!(
        run(&[
            r#"{"$match":{"_id":"1"}}"#,
            r#"{"$replaceRoot":{"newRoot":"$o"}}"#
        ]),
        vec![doc! {"v": 1}]
    );
    assert_eq!(
        run(&[
            r#"{"$sort":{"n":-1}}"#,
            r#"{"$skip":1}"#,
            r#"{"$project":{"n":1,"_id":0}}"#
        ]),
        vec![doc! {"n": 2}]
    );
    assert_eq!(
        run(&[r#"{"$unwind":"$tags"}"#, r#"{"$sortByCount":"$tags"}"#]).len(),
        2
    );
    s.create_collection("other").unwrap();
    s.insert(
        "other",
        vec![doc! {"ref": "1", "x": 1}, doc! {"ref": "1", "x": 2}],
    )
    .unwrap();
    let l = run(&[
        r#"{"$lookup":{"from":"other","localField":"_id","foreignField":"ref","as":"joined"}}"#,
    ]);
    assert_eq!(l[0].get_array("joined").unwrap().len(), 2);
    assert_eq!(l[1].get_array("joined").unwrap().len(), 0);
    assert_eq!(run(&[r#"{"$sample":{"size":1}}"#]).len(), 1);
    assert_eq!(run(&[r#"{"$sample":{"size":5}}"#]).len(), 2);
    let b = run(&[
        r#"{"$bucket":{"groupBy":"$n","boundaries":[0,3,10],"default":"other","output":{"c":{"$sum":1},"t":{"$push":"$title"}}}}"#,
    ]);
    assert_eq!(
        b,
        vec![
            doc! {"_id": 0, "c": 1, "t": ["ab"]},
            doc! {"_id": 3, "c": 1, "t": ["cd"]}
        ]
    );
    assert_eq!(
        s.aggregate(
            "c",
            &[d(r#"{"$bucket":{"groupBy":"$n","boundaries":[0,1]}}"#)]
        )
        .unwrap_err()
        .code(),
        "INVALID_PARAM"
    );
    let b = run(&[
        r#"{"$bucket":{"groupBy":"$n","boundaries":[0,10],"output":{"docs":{"$push":"$$ROOT"}}}}"#,
    ]);
    let first = b[0].get_array("docs").unwrap()[0].as_document().unwrap();
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        ["_id", "title", "n", "tags", "o"],
        "no helper field leaks"
    );
    s.create_collection("places").unwrap();
    s.insert(
        "places",
        vec![
            d(r#"{"_id":"far","loc":{"type":"Point","coordinates":[114.0,23.1]}}"#),
            d(r#"{"_id":"near","loc":{"type":"Point","coordinates":[113.3,23.1]},"open":true}"#),
            d(r#"{"_id":"mid","loc":{"type":"Point","coordinates":[113.31,23.1]},"open":true}"#),
        ],
    )
    .unwrap();
    let g = s.aggregate("places", &[d(r#"{"$geoNear":{"near":{"type":"Point","coordinates":[113.3,23.1]},"distanceField":"dist","spherical":true,"query":{"open":true},"maxDistance":5000}}"#)]).unwrap();
    assert_eq!(ids(&g), ["near", "mid"]);
    let dist = g[1].get_f64("dist").unwrap();
    assert!((1000.0..1030.0).contains(&dist), "{dist}");
    let e = s.aggregate("c", &[d(r#"{"$facet":{}}"#)]).unwrap_err();
    assert_eq!(e.code(), "INVALID_PARAM");
    let e = s
        .aggregate("c", &[d(r#"{"$project":{"x":{"$nope":1}}}"#)])
        .unwrap_err();
    assert_eq!(e.code(), "INVALID_PARAM");
}

fn bad_input_is_an_error(open: Opener, dir: &Path) {
    let s = setup(open, dir, &[r#"{"_id":"1"}"#]);
    for bad in [
        "{",
        "[1,2]",
        r#"{"a":{"$numberInt":5}}"#,
        r#"{"a":{"$date":"yesterday"}}"#,
        "\u{0}",
    ] {
        assert_eq!(
            shim::db::ejson::parse_document(bad).unwrap_err().code(),
            "INVALID_PARAM",
            "{bad:?}"
        );
    }
    for bad in [
        r#"{"a":{"$foo":1}}"#,
        r#"{"$where":"1"}"#,
        r#"{"a":{"$in":1}}"#,
        r#"{"a":{"$size":-1}}"#,
        r#"{"a":{"$mod":[0,1]}}"#,
        r#"{"$or":[]}"#,
        r#"{"a":{"$regex":"("}}"#,
        r#"{"a":{"$regex":"(a)\\1"}}"#,
        r#"{"a..b":1}"#,
        r#"{"$expr":{"$bogus":[1]}}"#,
        r#"{"loc":{"$geoWithin":{"$geometry":{"type":"Circle"}}}}"#,
    ] {
        let e = s.find("c", &Find::filter(d(bad))).unwrap_err();
        assert_eq!(e.code(), "INVALID_PARAM", "{bad}");
        assert_eq!(
            s.count("c", &d(bad)).unwrap_err().code(),
            "INVALID_PARAM",
            "{bad}"
        );
    }
    // extreme numbers never panic
    s.insert(
        "c",
        vec![doc! {"_id": "x", "arr": [1, 2, 3], "d": bson::DateTime::from_millis(i64::MAX)}],
    )
    .unwrap();
    let p = Find {
        filter: doc! {"_id": "x"},
        projection: Some(doc! {"arr": {"$slice": i64::MIN}}),
        ..Find::default()
    };
    assert_eq!(
        s.find("c", &p).unwrap()[0].get_array("arr").unwrap().len(),
        3
    );
    let u = Update::operators(
        doc! {"$push": {"arr": {"$each": [4], "$slice": i64::MIN, "$position": i64::MIN}}},
    )
    .unwrap();
    s.update("c", &doc! {"_id": "x"}, &u, UpdateOpts::default())
        .unwrap();
    let agg = s.aggregate("c", &[d(r#"{"$match":{"_id":"x"}}"#), doc! {"$project": {"s": {"$slice": ["$arr", i64::MIN]}, "t": {"$add": ["$d", i64::MAX]}, "u": {"$subtract": ["$d", i64::MIN]}}}]).unwrap();
    assert_eq!(agg.len(), 1);
    let e = s
        .find(
            "c",
            &Find {
                sort: Some(doc! {"a": 2}),
                ..Find::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "INVALID_PARAM");
}

fn indexes_agree_with_scans(open: Opener, dir: &Path) {
    let docs: Vec<String> = (0..300)
        .map(|i| match i % 5 {
            0 => format!(
                r#"{{"_id":"d{i}","city":"c{}","n":{},"tags":["t{}","all"]}}"#,
                i % 7,
                i,
                i % 3
            ),
            1 => format!(r#"{{"_id":"d{i}","city":"c{}","n":{}.5}}"#, i % 7, i),
            2 => format!(r#"{{"_id":"d{i}","city":null,"n":"{i}"}}"#),
            3 => format!(r#"{{"_id":"d{i}","n":{{"$numberLong":"{i}"}},"city":["c1","c2"]}}"#),
            _ => format!(r#"{{"_id":"d{i}","city":"c{}"}}"#, i % 7),
        })
        .collect();
    let plain = open(&dir.join("plain"));
    let indexed = open(&dir.join("indexed"));
    for s in [&plain, &indexed] {
        s.create_collection("c").unwrap();
    }
    // index declared before and after data
    indexed.ensure_index("c", "city").unwrap();
    for s in [&plain, &indexed] {
        s.insert("c", docs.iter().map(|x| d(x)).collect()).unwrap();
    }
    assert!(indexed.ensure_index("c", "n").unwrap());
    assert!(!indexed.ensure_index("c", "n").unwrap());
    indexed.ensure_index("c", "tags").unwrap();
    assert_eq!(
        indexed.list_indexes("c").unwrap(),
        vec!["city", "n", "tags"]
    );
    // mutate through the index
    for s in [&plain, &indexed] {
        upd(
            s.as_ref(),
            r#"{"city":"c3"}"#,
            r#"{"$set":{"city":"c4"},"$inc":{"n":1000}}"#,
        );
        s.remove("c", &d(r#"{"n":{"$gte":100,"$lt":120}}"#), true)
            .unwrap();
    }
    for f in [
        r#"{"city":"c4"}"#,
        r#"{"city":"c1"}"#,
        r#"{"city":{"$in":["c1","c5"]}}"#,
        r#"{"city":null}"#,
        r#"{"n":{"$gt":150}}"#,
        r#"{"n":{"$gte":10,"$lt":50}}"#,
        r#"{"n":{"$lte":{"$numberDouble":"20.5"}}}"#,
        r#"{"n":{"$gt":"2"}}"#,
        r#"{"tags":"all","n":{"$lt":60}}"#,
        r#"{"n":1031.5}"#,
        r#"{"n":{"$numberLong":"18"}}"#,
        r#"{"city":{"$regex":"^c1"}}"#,
        r#"{"city":{"$regex":"^c1$"}}"#,
        r#"{"city":{"$regex":"^c|^x"}}"#,
        r#"{"city":{"$regex":"^cx?1"}}"#,
        r#"{"city":{"$regex":"^C1","$options":"i"}}"#,
    ] {
        let a = q(plain.as_ref(), f);
        let b = q(indexed.as_ref(), f);
        assert_eq!(a, b, "{f}");
        assert!(
            !a.is_empty() || f.contains("null"),
            "{f} should match something"
        );
    }
    for (sort, skip, limit) in [
        (r#"{"n":1}"#, 0, Some(10)),
        (r#"{"n":-1}"#, 5, Some(20)),
        (r#"{"city":1}"#, 0, None),
        (r#"{"city":-1}"#, 3, Some(7)),
        (r#"{"city":1,"n":-1}"#, 0, Some(25)),
        (r#"{"city":-1,"n":1}"#, 10, Some(30)),
        (r#"{"city":1,"_id":1}"#, 40, Some(3)),
        (r#"{"tags":1,"n":1}"#, 0, Some(50)),
        (r#"{"tags":-1,"city":1,"n":-1}"#, 5, None),
    ] {
        let f = |s: &Arc<dyn Store>| {
            ids(&s
                .find(
                    "c",
                    &Find {
                        sort: Some(d(sort)),
                        skip,
                        limit,
                        ..Find::default()
                    },
                )
                .unwrap())
        };
        assert_eq!(f(&plain), f(&indexed), "{sort}");
    }
}

fn persistence_across_reopen(open: Opener, dir: &Path) {
    {
        let s = open(dir);
        s.create_collection("c").unwrap();
        s.ensure_index("c", "k").unwrap();
        s.insert("c", vec![d(r#"{"_id":"a","k":1,"when":{"$date":{"$numberLong":"1704164645678"}},"big":{"$numberLong":"12345678901234"}}"#)]).unwrap();
        upd(s.as_ref(), r#"{"_id":"a"}"#, r#"{"$set":{"k":2}}"#);
    }
    let s = open(dir);
    assert_eq!(s.list_collections().unwrap(), vec!["c"]);
    assert_eq!(s.list_indexes("c").unwrap(), vec!["k"]);
    assert_eq!(
        find_one(s.as_ref(), "a"),
        d(
            r#"{"_id":"a","k":2,"when":{"$date":{"$numberLong":"1704164645678"}},"big":{"$numberLong":"12345678901234"}}"#
        )
    );
    assert_eq!(q(s.as_ref(), r#"{"k":2}"#), ["a"]);
}

fn concurrent_reads_and_writes(open: Opener, dir: &Path) {
    let s = setup(open, dir, &[]);
    s.insert(
        "c",
        (0..200)
            .map(|i| doc! {"_id": format!("seed{i}"), "n": i})
            .collect(),
    )
    .unwrap();
    std::thread::scope(|sc| {
        for t in 0..3 {
            let s = s.clone();
            sc.spawn(move || {
                for i in 0..100 {
                    s.insert("c", vec![doc! {"_id": format!("w{t}-{i}"), "n": i}])
                        .unwrap();
                    let u = Update::operators(doc! {"$inc": {"n": 1}}).unwrap();
                    s.update(
                        "c",
                        &doc! {"_id": format!("seed{}", i % 200)},
                        &u,
                        UpdateOpts::default(),
                    )
                    .unwrap();
                }
            });
        }
        for _ in 0..3 {
            let s = s.clone();
            sc.spawn(move || {
                for i in 0..300 {
                    let got = s
                        .find("c", &Find::filter(doc! {"_id": format!("seed{}", i % 200)}))
                        .unwrap();
                    assert_eq!(got.len(), 1);
                    assert!(s.count("c", &doc! {}).unwrap() >= 200);
                }
            });
        }
    });
    assert_eq!(s.count("c", &doc! {}).unwrap(), 500);
    let total: i64 = s
        .find("c", &Find::filter(d(r#"{"_id":{"$regex":"^seed"}}"#)))
        .unwrap()
        .iter()
        .map(|x| x.get_i32("n").unwrap() as i64)
        .sum();
    assert_eq!(total, (0..200).sum::<i64>() + 300);
}

fn sdk_captured_payloads(open: Opener, dir: &Path) {
    let s = open(dir);
    s.create_collection("todos").unwrap();
    // §4.2 collection.add (serverDate markers are resolved by the service, stored raw here)
    let add = r#"{"title":"hello","n":{"$numberInt":"1"},"tags":["a","b"],"due":{"$date":{"$numberLong":"1704164645678"}},"loc":{"type":"Point","coordinates":[{"$numberDouble":"113.3"},{"$numberDouble":"23.1"}]},"re":{"$regularExpression":{"pattern":"^h","options":"i"}},"nested":{"a":{"b":null}},"big":{"$numberLong":"12345678901234"},"float":{"$numberDouble":"1.5"}}"#;
    let mut first = d(add);
    first.insert("_id", "doc0001");
    s.insert(
        "todos",
        vec![
            first,
            d(r#"{"x":{"$numberInt":"1"}}"#),
            d(r#"{"x":{"$numberInt":"2"}}"#),
        ],
    )
    .unwrap();
    let got = find_one_in(&s, "todos", "doc0001");
    // round trip renders back the canonical EJSON the SDK sent, in the same key order
    let text = shim::db::ejson::to_canonical_string(&got);
    assert!(text.starts_with(r#"{"title":"hello","n":{"$numberInt":"1"},"tags":["a","b"],"due":{"$date":{"$numberLong":"1704164645678"}}"#), "{text}");
    assert!(text.ends_with(r#","_id":"doc0001"}"#), "{text}");
    assert!(
        text.contains(r#""big":{"$numberLong":"12345678901234"}"#)
            && text.contains(r#""float":{"$numberDouble":"1.5"}"#)
    );
    // §4.2 where.orderBy.limit.get
    let f = Find {
        filter: d(
            r#"{"title":{"$regularExpression":{"pattern":"^he","options":"i"}},"tags":{"$in":["a","z"]},"nested.a.b":{"$exists":false},"done":false,"$and":[{"n":{"$gt":{"$numberInt":"0"}}},{"n":{"$lte":{"$numberInt":"10"}}}]}"#,
        ),
        sort: Some(d(r#"{"n":{"$numberInt":"-1"},"title":{"$numberInt":"1"}}"#)),
        skip: 0,
        limit: Some(20),
        projection: Some(d(r#"{"title":{"$numberInt":"1"}}"#)),
    };
    // nested.a.b exists (as null) and done is missing → no match, like the capture's empty list
    assert!(s.find("todos", &f).unwrap().is_empty());
    let f2 = Find {
        filter: d(
            r#"{"title":{"$regularExpression":{"pattern":"^he","options":"i"}},"tags":{"$in":["a","z"]},"nested.a.b":{"$exists":true},"done":null}"#,
        ),
        projection: f.projection.clone(),
        ..Find::default()
    };
    assert_eq!(
        s.find("todos", &f2).unwrap(),
        vec![doc! {"_id": "doc0001", "title": "hello"}]
    );
    // §4.2 where.or.get
    let or = d(
        r#"{"$or":[{"n":{"$eq":{"$numberInt":"1"}}},{"title":{"$regularExpression":{"pattern":"x","options":"m"}}},{"n":{"$nin":[{"$numberInt":"3"},{"$numberInt":"4"}]}}]}"#,
    );
    assert_eq!(s.count("todos", &or).unwrap(), 3);
    // §4.2 where.dateCompare.get
    assert_eq!(
        s.count(
            "todos",
            &d(r#"{"due":{"$lt":{"$date":{"$numberLong":"1735689600000"}}}}"#)
        )
        .unwrap(),
        1
    );
    // §4.2 doc.update(_.inc etc) minus serverDate
    let u = Update::from_data(d(r#"{"$inc":{"n":{"$numberInt":"2"}},"$push":{"tags":{"$each":["c"]}},"$set":{"nested.a.b":"x","title":"new","obj.p":{"$numberInt":"1"},"obj.q.r":{"$numberInt":"2"}},"$unset":{"gone":""},"$mul":{"m":{"$numberInt":"3"}}}"#), true).unwrap();
    let r = s
        .update(
            "todos",
            &d(r#"{"_id":"doc0001"}"#),
            &u,
            UpdateOpts::default(),
        )
        .unwrap();
    assert_eq!(r.updated, 1);
    let got = find_one_in(&s, "todos", "doc0001");
    assert_eq!(got.get("n"), Some(&Bson::Int32(3)));
    assert_eq!(got.get_array("tags").unwrap().len(), 3);
    assert_eq!(
        got.get_document("obj").unwrap(),
        &doc! {"p": 1, "q": {"r": 2}}
    );
    assert_eq!(got.get("m"), Some(&Bson::Int32(0)));
    // §4.2 where.update
    let u = Update::from_data(d(r#"{"$set":{"done":true},"$inc":{"n":{"$numberInt":"-1"}},"$pull":{"arr":{"$numberInt":"1"}},"$addToSet":{"arr2":"x"},"$pop":{"arr3":{"$numberInt":"1"},"arr4":{"$numberInt":"-1"}},"$push":{"arr5":{"$each":[{"$numberInt":"0"}],"$position":{"$numberInt":"0"}}}}"#), true).unwrap();
    let r = s
        .update(
            "todos",
            &d(r#"{"n":{"$gte":{"$numberInt":"1"}}}"#),
            &u,
            UpdateOpts {
                multi: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(r.updated, 1, "only doc0001 has n >= 1");
    let got = find_one_in(&s, "todos", "doc0001");
    assert_eq!(got.get("n"), Some(&Bson::Int32(2)));
    assert_eq!(got.get_array("arr2").unwrap(), &vec![Bson::from("x")]);
    assert_eq!(got.get_array("arr5").unwrap(), &vec![Bson::Int32(0)]);
    assert!(
        !got.contains_key("arr") && !got.contains_key("arr3"),
        "$pull/$pop on missing fields are no-ops"
    );
    assert_eq!(s.count("todos", &d(r#"{"done":true}"#)).unwrap(), 1);
    // §4.2 where.remove / doc.remove
    assert_eq!(
        s.remove("todos", &d(r#"{"n":{"$lt":{"$numberInt":"0"}}}"#), true)
            .unwrap(),
        0
    );
    assert_eq!(
        s.remove("todos", &d(r#"{"_id":"doc0001"}"#), false)
            .unwrap(),
        1
    );
}

fn find_one_in(s: &Arc<dyn Store>, coll: &str, id: &str) -> Document {
    s.find(coll, &Find::filter(doc! {"_id": id}))
        .unwrap()
        .into_iter()
        .next()
        .expect("doc")
}

fn transactions(open: Opener, dir: &Path) {
    let s = setup(open, dir, &[r#"{"_id":"alice","bal":10}"#]);
    // commit: all changes appear together
    let mut t = s.begin().unwrap();
    let u = Update::operators(d(r#"{"$inc":{"bal":-1}}"#)).unwrap();
    assert_eq!(
        t.update("c", &doc! {"_id": "alice"}, &u, UpdateOpts::default())
            .unwrap()
            .updated,
        1
    );
    t.insert("c", vec![doc! {"_id": "bob", "bal": 1}]).unwrap();
    assert_eq!(
        t.find("c", &Find::filter(doc! {"_id": "bob"}))
            .unwrap()
            .len(),
        1,
        "own writes visible"
    );
    assert_eq!(t.count("c", &doc! {}).unwrap(), 2);
    assert_eq!(
        s.count("c", &doc! {}).unwrap(),
        1,
        "others see the state before the transaction"
    );
    assert_eq!(find_one(s.as_ref(), "alice").get_i32("bal").unwrap(), 10);
    // a failed operation leaves no partial writes and the transaction goes on
    assert!(
        t.insert("c", vec![doc! {"_id": "carol"}, doc! {"_id": "bob"}])
            .is_err()
    );
    assert_eq!(t.count("c", &doc! {"_id": "carol"}).unwrap(), 0);
    // a writer outside waits for the commit
    std::thread::scope(|sc| {
        let s2 = s.clone();
        let h = sc.spawn(move || s2.insert("c", vec![doc! {"_id": "dave"}]));
        std::thread::sleep(std::time::Duration::from_millis(100));
        t.commit().unwrap();
        h.join().unwrap().unwrap();
    });
    assert_eq!(find_one(s.as_ref(), "alice").get_i32("bal").unwrap(), 9);
    assert_eq!(s.count("c", &doc! {}).unwrap(), 3);
    // abort and drop discard everything
    let mut t = s.begin().unwrap();
    t.remove("c", &doc! {}, true).unwrap();
    assert_eq!(t.count("c", &doc! {}).unwrap(), 0);
    t.abort().unwrap();
    assert_eq!(s.count("c", &doc! {}).unwrap(), 3);
    {
        let mut t = s.begin().unwrap();
        t.insert("c", vec![doc! {"_id": "eve"}]).unwrap();
    }
    assert_eq!(s.count("c", &doc! {}).unwrap(), 3);
    assert_eq!(
        s.begin()
            .unwrap()
            .find("nope", &Find::default())
            .unwrap_err()
            .code(),
        "DATABASE_COLLECTION_NOT_EXIST"
    );
}
