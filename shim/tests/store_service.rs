//! `Database` service: CloudBase semantics for admin and client callers.

mod common;

use bson::{Bson, Document, doc};
use common::{d, ids};
use shim::service::{Caller, Database, DbOp, DbReply, Permissions, Preset};
use shim::store::{SqliteStore, Store};
use std::sync::Arc;

const NOW: i64 = 1_795_467_535_692;

fn db() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("db.sqlite")).unwrap());
    store.create_collection("todos").unwrap();
    (dir, Database::new(store).with_clock(|| NOW))
}

fn alice() -> Caller {
    Caller::Client {
        openid: "alice".into(),
        appid: "wx1".into(),
    }
}
fn bob() -> Caller {
    Caller::Client {
        openid: "bob".into(),
        appid: "wx1".into(),
    }
}

fn get(db: &Database, who: &Caller, filter: &str, limit: Option<u64>) -> Vec<Document> {
    match db
        .execute(
            who,
            DbOp::Get {
                collection: "todos".into(),
                filter: d(filter),
                order: None,
                offset: 0,
                limit,
                projection: None,
            },
        )
        .unwrap()
    {
        DbReply::Documents { list, .. } => list,
        other => panic!("unexpected {other:?}"),
    }
}

fn insert(db: &Database, who: &Caller, docs: &[&str]) -> Vec<Bson> {
    match db
        .execute(
            who,
            DbOp::Insert {
                collection: "todos".into(),
                docs: docs.iter().map(|x| d(x)).collect(),
            },
        )
        .unwrap()
    {
        DbReply::Inserted { ids } => ids,
        other => panic!("unexpected {other:?}"),
    }
}

fn modify(
    db: &Database,
    who: &Caller,
    filter: &str,
    data: &str,
    multi: bool,
    merge: bool,
    upsert: bool,
) -> (u64, Option<Bson>) {
    match db
        .execute(
            who,
            DbOp::Modify {
                collection: "todos".into(),
                filter: d(filter),
                data: d(data),
                multi,
                merge,
                upsert,
            },
        )
        .unwrap()
    {
        DbReply::Modified {
            updated,
            upserted_id,
            ..
        } => (updated, upserted_id),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn limits_admin_and_client() {
    let (_t, db) = db();
    let many: Vec<String> = (0..1200).map(|i| format!(r#"{{"i":{i}}}"#)).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    insert(&db, &Caller::Admin, &refs);
    assert_eq!(get(&db, &Caller::Admin, "{}", None).len(), 100);
    assert_eq!(get(&db, &Caller::Admin, "{}", Some(5000)).len(), 1000);
    db.set_permissions({
        let mut p = Permissions::default();
        p.set("todos", Preset::AllReadCreatorWrite);
        p
    });
    assert_eq!(get(&db, &alice(), "{}", None).len(), 20);
    assert_eq!(get(&db, &alice(), "{}", Some(100)).len(), 20);
    assert_eq!(get(&db, &alice(), "{}", Some(7)).len(), 7);
    // reply carries the applied limit
    let r = db
        .execute(
            &alice(),
            DbOp::Get {
                collection: "todos".into(),
                filter: doc! {},
                order: None,
                offset: 3,
                limit: Some(50),
                projection: None,
            },
        )
        .unwrap();
    let w = r.to_wire_data();
    assert_eq!(
        (w["offset"].as_u64(), w["limit"].as_u64()),
        (Some(3), Some(20))
    );
    // aggregate without $limit: 20
    let r = db
        .execute(
            &Caller::Admin,
            DbOp::Aggregate {
                collection: "todos".into(),
                stages: vec![d(r#"{"$match":{}}"#)],
            },
        )
        .unwrap();
    assert!(matches!(r, DbReply::Aggregated { ref list } if list.len() == 20));
    let r = db
        .execute(
            &Caller::Admin,
            DbOp::Aggregate {
                collection: "todos".into(),
                stages: vec![d(r#"{"$limit":500}"#)],
            },
        )
        .unwrap();
    assert!(matches!(r, DbReply::Aggregated { ref list } if list.len() == 500));
}

#[test]
fn openid_is_stamped_and_immutable() {
    let (_t, db) = db();
    let id = insert(&db, &alice(), &[r#"{"title":"mine","_openid":"mallory"}"#]).remove(0);
    let admin_id = insert(&db, &Caller::Admin, &[r#"{"title":"server"}"#]).remove(0);
    let all = get(&db, &Caller::Admin, "{}", None);
    assert_eq!(
        all[0].get_str("_openid").unwrap(),
        "alice",
        "client cannot choose _openid"
    );
    assert!(
        !all[1].contains_key("_openid"),
        "admin inserts get no _openid"
    );
    let e = db
        .execute(
            &alice(),
            DbOp::Modify {
                collection: "todos".into(),
                filter: doc! {"_id": id.clone()},
                data: d(r#"{"$set":{"_openid":"bob"}}"#),
                multi: false,
                merge: true,
                upsert: false,
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "DATABASE_PERMISSION_DENIED");
    // a client set keeps the record the caller's
    modify(
        &db,
        &alice(),
        &format!(r#"{{"_id":"{}"}}"#, id.as_str().unwrap()),
        r#"{"title":"replaced"}"#,
        false,
        false,
        true,
    );
    let mine = get(
        &db,
        &Caller::Admin,
        &format!(r#"{{"_id":"{}"}}"#, id.as_str().unwrap()),
        None,
    );
    assert_eq!(mine[0].get_str("_openid").unwrap(), "alice");
    assert_eq!(mine[0].get_str("title").unwrap(), "replaced");
    let _ = admin_id;
}

#[test]
fn presets_behave_like_cloudbase() {
    let (_t, db) = db();
    let a = insert(&db, &alice(), &[r#"{"n":1}"#]).remove(0);
    insert(&db, &bob(), &[r#"{"n":2}"#]);
    insert(&db, &Caller::Admin, &[r#"{"n":3}"#]);
    let a_filter = format!(r#"{{"_id":"{}"}}"#, a.as_str().unwrap());

    // default preset: creator read/write
    assert_eq!(get(&db, &alice(), "{}", None).len(), 1);
    // the '{openid}' placeholder of security-rule style queries means the caller
    assert_eq!(
        get(&db, &alice(), r#"{"_openid":"{openid}"}"#, None).len(),
        1
    );
    assert_eq!(
        get(&db, &Caller::Admin, r#"{"_openid":"{openid}"}"#, None).len(),
        0,
        "not for admin"
    );
    assert_eq!(get(&db, &bob(), &a_filter, None).len(), 0);
    match db
        .execute(
            &bob(),
            DbOp::Count {
                collection: "todos".into(),
                filter: doc! {},
            },
        )
        .unwrap()
    {
        DbReply::Count { total } => assert_eq!(total, 1),
        other => panic!("{other:?}"),
    }

    let mut p = Permissions::default();
    p.set("todos", Preset::AllReadCreatorWrite);
    db.set_permissions(p.clone());
    assert_eq!(get(&db, &bob(), "{}", None).len(), 3);
    // bob writing alice's record "succeeds" with updated 0
    assert_eq!(
        modify(
            &db,
            &bob(),
            &a_filter,
            r#"{"$set":{"n":100}}"#,
            false,
            true,
            false
        )
        .0,
        0
    );
    assert_eq!(
        modify(&db, &bob(), "{}", r#"{"$inc":{"n":10}}"#, true, true, false).0,
        1,
        "only bob's own"
    );
    assert_eq!(
        modify(
            &db,
            &alice(),
            &a_filter,
            r#"{"$set":{"n":5}}"#,
            false,
            true,
            false
        )
        .0,
        1
    );
    match db
        .execute(
            &bob(),
            DbOp::Remove {
                collection: "todos".into(),
                filter: d(&a_filter),
                multi: false,
            },
        )
        .unwrap()
    {
        DbReply::Removed { deleted } => assert_eq!(deleted, 0),
        other => panic!("{other:?}"),
    }
    let ns: Vec<i32> = get(&db, &Caller::Admin, "{}", None)
        .iter()
        .map(|x| x.get_i32("n").unwrap())
        .collect();
    assert_eq!(ns, [5, 12, 3]);

    p.set("todos", Preset::AllReadAdminWrite);
    db.set_permissions(p.clone());
    assert_eq!(get(&db, &bob(), "{}", None).len(), 3);
    let e = db
        .execute(
            &alice(),
            DbOp::Insert {
                collection: "todos".into(),
                docs: vec![doc! {"x": 1}],
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "DATABASE_PERMISSION_DENIED");
    let e = db
        .execute(
            &alice(),
            DbOp::Remove {
                collection: "todos".into(),
                filter: doc! {},
                multi: true,
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "DATABASE_PERMISSION_DENIED");

    // a client $lookup may not read a collection it could not read directly
    db.store().create_collection("secret").unwrap();
    p.set("secret", Preset::AdminOnly);
    db.set_permissions(p.clone());
    let lookup =
        d(r#"{"$lookup":{"from":"secret","localField":"_id","foreignField":"ref","as":"j"}}"#);
    let e = db
        .execute(
            &alice(),
            DbOp::Aggregate {
                collection: "todos".into(),
                stages: vec![lookup.clone()],
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "DATABASE_PERMISSION_DENIED");
    assert!(
        db.execute(
            &Caller::Admin,
            DbOp::Aggregate {
                collection: "todos".into(),
                stages: vec![lookup]
            }
        )
        .is_ok()
    );

    p.set("todos", Preset::AdminOnly);
    db.set_permissions(p);
    let e = db
        .execute(
            &alice(),
            DbOp::Get {
                collection: "todos".into(),
                filter: doc! {},
                order: None,
                offset: 0,
                limit: None,
                projection: None,
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "DATABASE_PERMISSION_DENIED");
    let e = db
        .execute(
            &alice(),
            DbOp::Aggregate {
                collection: "todos".into(),
                stages: vec![],
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "DATABASE_PERMISSION_DENIED");
    // admin bypasses everything
    assert_eq!(get(&db, &Caller::Admin, "{}", None).len(), 3);
    let e = db
        .execute(
            &alice(),
            DbOp::AddCollection {
                collection: "x".into(),
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "DATABASE_PERMISSION_DENIED");
}

#[test]
fn permissions_file_format() {
    let p = Permissions::parse(r#"{"*":"ALL_READ_CREATOR_WRITE","news":"ADMINWRITE","secret":"ADMIN_ONLY","mine":"private"}"#).unwrap();
    assert_eq!(p.preset("other"), Preset::AllReadCreatorWrite);
    assert_eq!(p.preset("news"), Preset::AllReadAdminWrite);
    assert_eq!(p.preset("secret"), Preset::AdminOnly);
    assert_eq!(p.preset("mine"), Preset::CreatorReadWrite);
    assert_eq!(Permissions::default().preset("x"), Preset::CreatorReadWrite);
    assert_eq!(
        Permissions::parse(r#"{"a":"EVERYONE"}"#)
            .unwrap_err()
            .code(),
        "INVALID_PARAM"
    );
    assert_eq!(Permissions::parse("[").unwrap_err().code(), "INVALID_PARAM");
    let missing =
        Permissions::load(std::path::Path::new("/nonexistent/_permissions.json")).unwrap();
    assert_eq!(missing, Permissions::default());
}

#[test]
fn server_date_everywhere() {
    let (_t, db) = db();
    // §4.2 collection.add payload, with both serverDate markers
    let add = r#"{"title":"hello","n":{"$numberInt":"1"},"createdAt":{"$tcb_server_date":{"offset":{"$numberInt":"0"}}},"later":{"$tcb_server_date":{"offset":{"$numberInt":"60000"}}},"arr":[{"$tcb_server_date":{"offset":{"$numberInt":"-1"}}}]}"#;
    let id = insert(&db, &Caller::Admin, &[add]).remove(0);
    let f = format!(r#"{{"_id":"{}"}}"#, id.as_str().unwrap());
    let got = get(&db, &Caller::Admin, &f, None).remove(0);
    assert_eq!(
        got.get_datetime("createdAt").unwrap().timestamp_millis(),
        NOW
    );
    assert_eq!(
        got.get_datetime("later").unwrap().timestamp_millis(),
        NOW + 60000
    );
    assert_eq!(
        got.get_array("arr").unwrap()[0],
        Bson::DateTime(bson::DateTime::from_millis(NOW - 1))
    );
    // §4.3 update serverDate/Date/geo
    modify(
        &db,
        &Caller::Admin,
        &f,
        r#"{"$set":{"t":{"$tcb_server_date":{"offset":{"$numberInt":"-1000"}}},"d":{"$date":{"$numberLong":"5"}},"g":{"type":"Point","coordinates":[{"$numberInt":"1"},{"$numberInt":"2"}]}}}"#,
        true,
        true,
        false,
    );
    let got = get(&db, &Caller::Admin, &f, None).remove(0);
    assert_eq!(
        got.get_datetime("t").unwrap().timestamp_millis(),
        NOW - 1000
    );
    assert_eq!(got.get_datetime("d").unwrap().timestamp_millis(), 5);
    // set doc
    modify(
        &db,
        &Caller::Admin,
        &f,
        r#"{"at":{"$tcb_server_date":{"offset":{"$numberInt":"7"}}}}"#,
        false,
        false,
        true,
    );
    let got = get(&db, &Caller::Admin, &f, None).remove(0);
    assert_eq!(got.get_datetime("at").unwrap().timestamp_millis(), NOW + 7);
    // serverDate inside a filter
    assert_eq!(
        get(
            &db,
            &Caller::Admin,
            r#"{"at":{"$lt":{"$tcb_server_date":{"offset":{"$numberInt":"8"}}}}}"#,
            None
        )
        .len(),
        1
    );
    assert_eq!(
        get(
            &db,
            &Caller::Admin,
            r#"{"at":{"$lt":{"$tcb_server_date":{"offset":{"$numberInt":"7"}}}}}"#,
            None
        )
        .len(),
        0
    );
    // legacy dialect serverDate {"$date":{"offset":0}}
    let legacy = shim::db::ejson::legacy_document(
        serde_json::json!({"when": {"$date": {"offset": 0}}, "n": 1, "d": {"$date": 1000}}),
    )
    .unwrap();
    db.execute(
        &Caller::Admin,
        DbOp::Insert {
            collection: "todos".into(),
            docs: vec![legacy],
        },
    )
    .unwrap();
    let got = get(&db, &Caller::Admin, r#"{"n":1,"d":{"$exists":true}}"#, None).remove(0);
    assert_eq!(got.get_datetime("when").unwrap().timestamp_millis(), NOW);
    assert_eq!(got.get_datetime("d").unwrap().timestamp_millis(), 1000);
}

#[test]
fn replies_are_shaped_for_the_sdk() {
    let (_t, db) = db();
    let r = db.execute(&Caller::Admin, DbOp::Insert { collection: "todos".into(), docs: vec![d(r#"{"_id":"doc0001","n":{"$numberInt":"1"},"due":{"$date":{"$numberLong":"1704164645678"}}}"#)] }).unwrap();
    assert_eq!(
        r.to_wire_data(),
        serde_json::json!({"insertedIds": ["doc0001"]})
    );
    let r = db
        .execute(
            &Caller::Admin,
            DbOp::Get {
                collection: "todos".into(),
                filter: d(r#"{"_id":"doc0001"}"#),
                order: None,
                offset: 0,
                limit: None,
                projection: None,
            },
        )
        .unwrap();
    assert_eq!(
        r.to_wire_data(),
        serde_json::json!({"list": [r#"{"_id":"doc0001","n":{"$numberInt":"1"},"due":{"$date":{"$numberLong":"1704164645678"}}}"#], "offset": 0, "limit": 100})
    );
    let r = db
        .execute(
            &Caller::Admin,
            DbOp::Modify {
                collection: "todos".into(),
                filter: d(r#"{"_id":"doc0002"}"#),
                data: d(r#"{"title":"replaced","n":{"$numberInt":"9"}}"#),
                multi: false,
                merge: false,
                upsert: true,
            },
        )
        .unwrap();
    assert_eq!(
        r.to_wire_data(),
        serde_json::json!({"updated": 0, "upsert_id": "doc0002"})
    );
    let r = db
        .execute(
            &Caller::Admin,
            DbOp::Modify {
                collection: "todos".into(),
                filter: d(r#"{"_id":"doc0002"}"#),
                data: d(r#"{"title":"again"}"#),
                multi: false,
                merge: false,
                upsert: true,
            },
        )
        .unwrap();
    assert_eq!(r.to_wire_data(), serde_json::json!({"updated": 1}));
    let r = db
        .execute(
            &Caller::Admin,
            DbOp::ModifyAndReturn {
                collection: "todos".into(),
                filter: d(r#"{"_id":"doc0001"}"#),
                data: d(r#"{"$inc":{"n":{"$numberInt":"1"}}}"#),
            },
        )
        .unwrap();
    assert_eq!(
        r.to_wire_data(),
        serde_json::json!({"updated": 1, "doc": r#"{"_id":"doc0001","n":{"$numberInt":"2"},"due":{"$date":{"$numberLong":"1704164645678"}}}"#})
    );
    let r = db
        .execute(
            &Caller::Admin,
            DbOp::Count {
                collection: "todos".into(),
                filter: doc! {},
            },
        )
        .unwrap();
    assert_eq!(r.to_wire_data(), serde_json::json!({"total": 2}));
    let r = db
        .execute(
            &Caller::Admin,
            DbOp::Remove {
                collection: "todos".into(),
                filter: d(r#"{"_id":"doc0002"}"#),
                multi: false,
            },
        )
        .unwrap();
    assert_eq!(r.to_wire_data(), serde_json::json!({"deleted": 1}));
    let r = db
        .execute(
            &Caller::Admin,
            DbOp::AddCollection {
                collection: "newcoll".into(),
            },
        )
        .unwrap();
    assert_eq!(
        (r.clone(), r.to_wire_data()),
        (
            DbReply::CollectionAdded { created: true },
            serde_json::json!({})
        )
    );
    let e = db
        .execute(
            &Caller::Admin,
            DbOp::AddCollection {
                collection: "newcoll".into(),
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "DATABASE_COLLECTION_ALREADY_EXIST");
    let stages = vec![
        shim::db::aggregate::stage_from_wire("$group", r#"{"_id":"$n","c":{"$sum":1}}"#).unwrap(),
    ];
    let r = db
        .execute(
            &Caller::Admin,
            DbOp::Aggregate {
                collection: "todos".into(),
                stages,
            },
        )
        .unwrap();
    assert_eq!(
        r.to_wire_data(),
        serde_json::json!({"list": [r#"{"_id":{"$numberInt":"2"},"c":{"$numberInt":"1"}}"#]})
    );
}

#[test]
fn errors_have_cloudbase_codes() {
    let (_t, db) = db();
    let e = db
        .execute(
            &Caller::Admin,
            DbOp::Insert {
                collection: "nope".into(),
                docs: vec![doc! {}],
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "DATABASE_COLLECTION_NOT_EXIST");
    assert_eq!(e.message(), "Db or Table not exist: nope");
    let e = db
        .execute(
            &Caller::Admin,
            DbOp::Get {
                collection: "todos".into(),
                filter: d(r#"{"a":{"$bad":1}}"#),
                order: None,
                offset: 0,
                limit: None,
                projection: None,
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "INVALID_PARAM");
    // update must not contain _id; set must not contain operators
    let e = db
        .execute(
            &Caller::Admin,
            DbOp::Modify {
                collection: "todos".into(),
                filter: doc! {},
                data: doc! {"_id": "x", "a": 1},
                multi: true,
                merge: true,
                upsert: false,
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "INVALID_PARAM");
    let e = db
        .execute(
            &Caller::Admin,
            DbOp::Modify {
                collection: "todos".into(),
                filter: doc! {},
                data: d(r#"{"$set":{"a":1}}"#),
                multi: false,
                merge: false,
                upsert: true,
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "INVALID_PARAM");
    insert(&db, &Caller::Admin, &[r#"{"_id":"dup"}"#]);
    let e = db
        .execute(
            &Caller::Admin,
            DbOp::Insert {
                collection: "todos".into(),
                docs: vec![doc! {"_id": "dup"}],
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "DATABASE_DUPLICATE_WRITE");
    // doc.update merges plain fields into $set (the SDK flattens, we accept both)
    assert_eq!(
        modify(
            &db,
            &Caller::Admin,
            r#"{"_id":"dup"}"#,
            r#"{"a":{"b":1},"$inc":{"n":1}}"#,
            false,
            true,
            false
        )
        .0,
        1
    );
    assert_eq!(
        ids(&get(&db, &Caller::Admin, r#"{"a.b":1,"n":1}"#, None)),
        ["dup"]
    );
}

#[test]
fn legacy_dialect_helpers() {
    use shim::db::ejson;
    let q = ejson::legacy_document(serde_json::json!({"name": {"$regex": "^h", "$options": "i"}, "n": 12345678901i64, "f": 1.5})).unwrap();
    assert!(
        matches!(q.get("name"), Some(Bson::RegularExpression(r)) if r.pattern.as_str() == "^h")
    );
    assert_eq!(
        (q.get("n"), q.get("f")),
        (Some(&Bson::Int64(12345678901)), Some(&Bson::Double(1.5)))
    );
    let o = ejson::legacy_order(&serde_json::json!([{"field": "n", "direction": "desc"}, {"field": "t", "direction": "asc"}])).unwrap();
    assert_eq!(o, doc! {"n": -1, "t": 1});
    assert!(ejson::legacy_order(&serde_json::json!([{"field": "n", "direction": "up"}])).is_err());
    let back = ejson::to_legacy_json(&Bson::Document(
        doc! {"d": bson::DateTime::from_millis(5), "n": 1},
    ));
    assert_eq!(back, serde_json::json!({"d": {"$date": 5}, "n": 1}));
}

#[test]
fn transactions_follow_the_captured_flow() {
    let (_t, db) = db();
    insert(
        &db,
        &Caller::Admin,
        &[r#"{"_id":"alice","bal":{"$numberInt":"10"}}"#],
    );
    // §4.5 txn:runTransaction
    let id = match db.execute(&Caller::Admin, DbOp::StartTransaction).unwrap() {
        DbReply::TransactionStarted { id } => id,
        other => panic!("{other:?}"),
    };
    let tx = |op: DbOp| {
        db.execute(
            &Caller::Admin,
            DbOp::InTransaction {
                id: id.clone(),
                op: Box::new(op),
            },
        )
    };
    let got = tx(DbOp::Get {
        collection: "todos".into(),
        filter: d(r#"{"_id":"alice"}"#),
        order: None,
        offset: 0,
        limit: None,
        projection: None,
    })
    .unwrap();
    assert!(matches!(got, DbReply::Documents { ref list, .. } if list.len() == 1));
    tx(DbOp::Modify {
        collection: "todos".into(),
        filter: d(r#"{"_id":"alice"}"#),
        data: d(r#"{"$inc":{"bal":{"$numberInt":"-1"}}}"#),
        multi: false,
        merge: true,
        upsert: false,
    })
    .unwrap();
    tx(DbOp::Insert {
        collection: "todos".into(),
        docs: vec![d(r#"{"_id":"bob","bal":{"$numberInt":"1"}}"#)],
    })
    .unwrap();
    assert!(matches!(
        tx(DbOp::Remove {
            collection: "todos".into(),
            filter: d(r#"{"_id":"bob"}"#),
            multi: false
        })
        .unwrap(),
        DbReply::Removed { deleted: 1 }
    ));
    assert_eq!(
        get(&db, &Caller::Admin, r#"{"_id":"alice"}"#, None)[0]
            .get_i32("bal")
            .unwrap(),
        10,
        "not visible before commit"
    );
    assert_eq!(
        db.execute(&Caller::Admin, DbOp::CommitTransaction { id: id.clone() })
            .unwrap(),
        DbReply::TransactionEnded
    );
    assert_eq!(
        get(&db, &Caller::Admin, r#"{"_id":"alice"}"#, None)[0]
            .get_i32("bal")
            .unwrap(),
        9
    );
    // the id is gone after commit
    let e = db
        .execute(
            &Caller::Admin,
            DbOp::InTransaction {
                id: id.clone(),
                op: Box::new(DbOp::Count {
                    collection: "todos".into(),
                    filter: doc! {},
                }),
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "INVALID_PARAM");
    // §4.5 txn:startTransaction+rollback (doc.set inside, then abort)
    let id = match db.execute(&Caller::Admin, DbOp::StartTransaction).unwrap() {
        DbReply::TransactionStarted { id } => id,
        other => panic!("{other:?}"),
    };
    let r = db
        .execute(
            &Caller::Admin,
            DbOp::InTransaction {
                id: id.clone(),
                op: Box::new(DbOp::Modify {
                    collection: "todos".into(),
                    filter: d(r#"{"_id":"alice"}"#),
                    data: d(r#"{"bal":{"$numberInt":"0"}}"#),
                    multi: false,
                    merge: false,
                    upsert: true,
                }),
            },
        )
        .unwrap();
    assert!(matches!(r, DbReply::Modified { updated: 1, .. }));
    db.execute(&Caller::Admin, DbOp::AbortTransaction { id })
        .unwrap();
    assert_eq!(
        get(&db, &Caller::Admin, r#"{"_id":"alice"}"#, None)[0]
            .get_i32("bal")
            .unwrap(),
        9
    );
    // clients cannot use transactions
    assert_eq!(
        db.execute(&alice(), DbOp::StartTransaction)
            .unwrap_err()
            .code(),
        "DATABASE_PERMISSION_DENIED"
    );
}
