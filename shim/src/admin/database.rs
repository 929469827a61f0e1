//! `database.*` actions of the current (EJSON) protocol: decode the request fields into a
//! [`DbOp`], run it on the database service, encode the [`DbReply`] as the SDK reads it
//! (`sdk-wire-protocol.md` §3.1).

use std::sync::Arc;
use std::time::Duration;

use bson::{Bson, Document};
use serde_json::{Map, Value, json};
use tokio::sync::Semaphore;

use crate::db::DbError;
use crate::db::ejson;
use crate::error::{ShimError, ShimResult};
use crate::service::{Caller, Database, DbOp, DbReply};

/// Run one `database.*` action.
pub(super) async fn handle(
    db: &Arc<Database>,
    caller: Caller,
    action: &str,
    body: &Map<String, Value>,
) -> ShimResult<Value> {
    let op = decode(action, body)?;
    Ok(encode(execute(db, caller, op).await?))
}

/// Database work in flight at once, by kind. Each running operation holds a thread (below), so
/// these bound the threads the database can take however many connections are open; requests
/// beyond them wait without a thread. Point reads (a document by `_id`) have slots of their own
/// so that slow queries never make them wait, and writes have theirs so that writers queued
/// behind an open transaction never take the reads' slots. The operations of an open
/// transaction (and its commit or abort) have their own too: they must never queue behind the
/// writers that wait for that very transaction to end.
static POINT_SLOTS: Semaphore = Semaphore::const_new(2);
static READ_SLOTS: Semaphore = Semaphore::const_new(4);
static WRITE_SLOTS: Semaphore = Semaphore::const_new(3);
/// Writes to a store that commits them in groups: each waits for its group's commit rather
/// than working, and the more wait together the fewer commits (`benches/http.rs`).
static GROUPED_WRITE_SLOTS: Semaphore = Semaphore::const_new(32);
static TRANSACTION_SLOTS: Semaphore = Semaphore::const_new(2);

/// How long a request waits for a slot before it is answered "busy".
const SLOT_WAIT: Duration = Duration::from_secs(10);

fn slots_for(op: &DbOp, grouped: bool) -> &'static Semaphore {
    match op {
        DbOp::Get { filter, .. } if filter.len() == 1 && filter.contains_key("_id") => {
            match filter.get("_id") {
                Some(Bson::String(_) | Bson::ObjectId(_)) => &POINT_SLOTS,
                _ => &READ_SLOTS,
            }
        }
        DbOp::Get { .. } | DbOp::Count { .. } | DbOp::Aggregate { .. } => &READ_SLOTS,
        DbOp::InTransaction { .. }
        | DbOp::CommitTransaction { .. }
        | DbOp::AbortTransaction { .. } => &TRANSACTION_SLOTS,
        _ if grouped => &GROUPED_WRITE_SLOTS,
        _ => &WRITE_SLOTS,
    }
}

/// Run a database operation (synchronous SQLite work) once a slot of its kind is free, without
/// stalling the async workers: in place on a multi-threaded runtime (`block_in_place`, no
/// hand-off of the work to another thread), on the blocking pool otherwise. Measured with
/// `benches/http.rs` on 2 cores: `block_in_place` gave 1.4-2x the throughput of
/// `spawn_blocking` and a lower p50 for gets and inserts, at the cost of a longer p99 tail
/// (tens of ms instead of ~5 ms at 64 connections).
pub(crate) async fn execute(db: &Arc<Database>, caller: Caller, op: DbOp) -> ShimResult<DbReply> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    let _slot = tokio::time::timeout(
        SLOT_WAIT,
        slots_for(&op, db.store().commits_in_groups()).acquire(),
    )
    .await
    .map_err(|_| {
        ShimError::Db(DbError::Transaction(format!(
            "the database is busy: no free slot in {}s; retry later",
            SLOT_WAIT.as_secs()
        )))
    })?
    .map_err(ShimError::internal)?;
    if Handle::current().runtime_flavor() == RuntimeFlavor::MultiThread {
        return Ok(tokio::task::block_in_place(|| db.execute(&caller, op))?);
    }
    let db = Arc::clone(db);
    Ok(tokio::task::spawn_blocking(move || db.execute(&caller, op))
        .await
        .map_err(ShimError::internal)??)
}

/// Decode the body of a `database.*` action.
pub(super) fn decode(action: &str, body: &Map<String, Value>) -> ShimResult<DbOp> {
    let transaction = match body.get("transactionId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(ShimError::InvalidParam(
                "`transactionId` must be a string".into(),
            ));
        }
    };
    match action {
        "database.startTransaction" => return Ok(DbOp::StartTransaction),
        "database.commitTransaction" | "database.abortTransaction" => {
            let id = transaction.ok_or_else(|| missing("transactionId"))?;
            return Ok(if action == "database.commitTransaction" {
                DbOp::CommitTransaction { id }
            } else {
                DbOp::AbortTransaction { id }
            });
        }
        _ => {}
    }
    let op = decode_plain(action, body)?;
    Ok(match transaction {
        Some(id) => DbOp::InTransaction {
            id,
            op: Box::new(op),
        },
        None => op,
    })
}

fn decode_plain(action: &str, body: &Map<String, Value>) -> ShimResult<DbOp> {
    let collection = || str_field(body, "collectionName").map(str::to_string);
    Ok(match action {
        "database.insertDocument" => {
            let data = body
                .get("data")
                .ok_or_else(|| missing("data"))?
                .as_array()
                .ok_or_else(|| ShimError::InvalidParam("`data` must be an array".into()))?;
            let docs = data
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(ejson::parse_document(s)?),
                    _ => Err(ShimError::InvalidParam(
                        "`data` items must be EJSON strings".into(),
                    )),
                })
                .collect::<ShimResult<Vec<_>>>()?;
            if docs.is_empty() {
                return Err(ShimError::InvalidParam("`data` is empty".into()));
            }
            DbOp::Insert {
                collection: collection()?,
                docs,
            }
        }
        "database.getDocument" => DbOp::Get {
            collection: collection()?,
            filter: opt_doc(body, "query")?.unwrap_or_default(),
            order: opt_doc(body, "order")?,
            offset: opt_u64(body, "offset")?.unwrap_or(0),
            // Capped by the service (1000 for admin, 20 for clients).
            limit: opt_u64(body, "limit")?,
            projection: opt_doc(body, "projection")?,
        },
        "database.calculateDocument" => DbOp::Count {
            collection: collection()?,
            filter: opt_doc(body, "query")?.unwrap_or_default(),
        },
        "database.modifyDocument" => DbOp::Modify {
            collection: collection()?,
            filter: opt_doc(body, "query")?.unwrap_or_default(),
            data: opt_doc(body, "data")?.ok_or_else(|| missing("data"))?,
            multi: opt_bool(body, "multi")?.unwrap_or(false),
            merge: opt_bool(body, "merge")?.unwrap_or(true),
            upsert: opt_bool(body, "upsert")?.unwrap_or(false),
        },
        "database.modifyAndReturnDoc" => DbOp::ModifyAndReturn {
            collection: collection()?,
            filter: opt_doc(body, "query")?.unwrap_or_default(),
            data: opt_doc(body, "data")?.ok_or_else(|| missing("data"))?,
        },
        "database.removeDocument" => DbOp::Remove {
            collection: collection()?,
            filter: opt_doc(body, "query")?.unwrap_or_default(),
            multi: opt_bool(body, "multi")?.unwrap_or(true),
        },
        "database.aggregateDocuments" => {
            let stages = body
                .get("stages")
                .and_then(Value::as_array)
                .ok_or_else(|| missing("stages"))?;
            let stages = stages
                .iter()
                .map(decode_stage)
                .collect::<ShimResult<Vec<_>>>()?;
            DbOp::Aggregate {
                collection: collection()?,
                stages,
            }
        }
        "database.addCollection" => DbOp::AddCollection {
            collection: collection()?,
        },
        other => return Err(ShimError::InvalidAction(other.to_string())),
    })
}

fn decode_stage(stage: &Value) -> ShimResult<Document> {
    let key = stage
        .get("stageKey")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("stageKey"))?;
    if !key.starts_with('$') {
        return Err(ShimError::InvalidParam(format!(
            "invalid aggregate stage {key}"
        )));
    }
    let value = match stage.get("stageValue") {
        Some(Value::String(s)) => ejson::parse_value(s)?,
        Some(other) => ejson::from_json(other.clone())?,
        None => return Err(missing("stageValue")),
    };
    let mut d = Document::new();
    d.insert(key, value);
    Ok(d)
}

/// Encode a reply as the `data` object the SDK reads.
pub(super) fn encode(reply: DbReply) -> Value {
    match reply {
        DbReply::Inserted { ids } => {
            json!({ "insertedIds": ids.iter().map(id_json).collect::<Vec<_>>() })
        }
        DbReply::Documents {
            list,
            offset,
            limit,
        } => json!({
            "list": list.into_iter().map(ejson::into_canonical_string).collect::<Vec<_>>(),
            "offset": offset,
            "limit": limit,
        }),
        DbReply::Count { total } => json!({ "total": total }),
        DbReply::Modified {
            matched,
            updated,
            upserted_id,
        } => {
            let mut m = Map::new();
            m.insert("matched".into(), json!(matched));
            m.insert("updated".into(), json!(updated));
            if let Some(id) = upserted_id {
                m.insert("upsert_id".into(), id_json(&id));
            }
            Value::Object(m)
        }
        DbReply::ModifiedDoc { updated, doc } => {
            let mut m = Map::new();
            m.insert("updated".into(), json!(updated));
            if let Some(doc) = doc {
                m.insert("doc".into(), json!(ejson::into_canonical_string(doc)));
            }
            Value::Object(m)
        }
        DbReply::Removed { deleted } => json!({ "deleted": deleted }),
        DbReply::Aggregated { list } => json!({
            "list": list.into_iter().map(ejson::into_canonical_string).collect::<Vec<_>>(),
        }),
        DbReply::CollectionAdded { created } => json!({ "created": created }),
        // The SDK reads the id from the top level; `admin::respond` copies it there.
        DbReply::TransactionStarted { id } => json!({ "transactionId": id }),
        DbReply::TransactionEnded => json!({}),
    }
}

/// `_id`s go out as plain strings when they are strings, relaxed EJSON otherwise.
fn id_json(id: &Bson) -> Value {
    match id {
        Bson::String(s) => Value::String(s.clone()),
        other => ejson::to_relaxed_json(other),
    }
}

fn missing(field: &str) -> ShimError {
    ShimError::InvalidParam(format!("missing field `{field}`"))
}

fn str_field<'a>(body: &'a Map<String, Value>, field: &str) -> ShimResult<&'a str> {
    match body.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(missing(field)),
        Some(_) => Err(ShimError::InvalidParam(format!(
            "`{field}` must be a string"
        ))),
    }
}

/// An EJSON-string field (the current protocol), or a plain object (tolerated).
fn opt_doc(body: &Map<String, Value>, field: &str) -> ShimResult<Option<Document>> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(ejson::parse_document(s)?)),
        Some(v @ Value::Object(_)) => Ok(Some(ejson::document_from_json(v.clone())?)),
        Some(_) => Err(ShimError::InvalidParam(format!(
            "`{field}` must be an EJSON string"
        ))),
    }
}

fn opt_u64(body: &Map<String, Value>, field: &str) -> ShimResult<Option<u64>> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .or_else(|| {
                v.as_f64()
                    .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                    .map(|f| f as u64)
            })
            .map(Some)
            .ok_or_else(|| {
                ShimError::InvalidParam(format!("`{field}` must be a non-negative integer"))
            }),
    }
}

fn opt_bool(body: &Map<String, Value>, field: &str) -> ShimResult<Option<bool>> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ShimError::InvalidParam(format!(
            "`{field}` must be a boolean"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn decodes_captured_where_query() {
        // sdk-wire-protocol.md §4.2 `where.orderBy.limit.get`.
        let b = body(json!({
          "collectionName": "todos",
          "queryType": "WHERE",
          "query": "{\"title\":{\"$regularExpression\":{\"pattern\":\"^he\",\"options\":\"i\"}},\"tags\":{\"$in\":[\"a\",\"z\"]},\"nested.a.b\":{\"$exists\":false},\"done\":false,\"$and\":[{\"n\":{\"$gt\":{\"$numberInt\":\"0\"}}},{\"n\":{\"$lte\":{\"$numberInt\":\"10\"}}}]}",
          "order": "{\"n\":{\"$numberInt\":\"-1\"},\"title\":{\"$numberInt\":\"1\"}}",
          "offset": 5,
          "limit": 20,
          "projection": "{\"title\":{\"$numberInt\":\"1\"}}",
          "action": "database.getDocument",
        }));
        let DbOp::Get {
            collection,
            filter,
            order,
            offset,
            limit,
            projection,
        } = decode("database.getDocument", &b).unwrap()
        else {
            panic!("not a get")
        };
        assert_eq!(collection, "todos");
        assert_eq!(offset, 5);
        assert_eq!(limit, Some(20));
        assert_eq!(
            order.unwrap().keys().collect::<Vec<_>>(),
            vec!["n", "title"]
        );
        assert_eq!(projection.unwrap().get_i32("title").unwrap(), 1);
        assert!(filter.get_array("$and").is_ok());
    }

    #[test]
    fn decodes_captured_insert_and_aggregate() {
        let b = body(json!({
            "collectionName": "todos",
            "data": ["{\"x\":{\"$numberInt\":\"1\"}}", "{\"x\":{\"$numberInt\":\"2\"}}"],
        }));
        let DbOp::Insert { docs, .. } = decode("database.insertDocument", &b).unwrap() else {
            panic!()
        };
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].get_i32("x").unwrap(), 2);

        let b = body(json!({
            "collectionName": "todos",
            "stages": [
                {"stageKey": "$match", "stageValue": "{\"n\":{\"$gt\":{\"$numberInt\":\"1\"}}}"},
                {"stageKey": "$limit", "stageValue": "3"}
            ]
        }));
        let DbOp::Aggregate { stages, .. } = decode("database.aggregateDocuments", &b).unwrap()
        else {
            panic!()
        };
        assert_eq!(stages.len(), 2);
        assert_eq!(stages[1].get_i32("$limit").unwrap(), 3);
    }

    #[test]
    fn rejects_bad_fields() {
        for (action, b) in [
            ("database.getDocument", json!({})),
            ("database.getDocument", json!({"collectionName": 5})),
            (
                "database.getDocument",
                json!({"collectionName": "c", "query": "{not ejson"}),
            ),
            (
                "database.getDocument",
                json!({"collectionName": "c", "limit": -1}),
            ),
            (
                "database.insertDocument",
                json!({"collectionName": "c", "data": "x"}),
            ),
            (
                "database.insertDocument",
                json!({"collectionName": "c", "data": [1]}),
            ),
            (
                "database.modifyDocument",
                json!({"collectionName": "c", "query": "{}"}),
            ),
            (
                "database.aggregateDocuments",
                json!({"collectionName": "c", "stages": [{"stageKey": "match", "stageValue": "{}"}]}),
            ),
        ] {
            let err = decode(action, &body(b.clone())).unwrap_err();
            assert_eq!(err.code(), "INVALID_PARAM", "{action} {b}");
        }
        assert_eq!(
            decode("database.nope", &body(json!({})))
                .unwrap_err()
                .code(),
            "INVALID_ACTION"
        );
    }

    #[test]
    fn encodes_replies_as_the_sdk_reads_them() {
        let mut d = Document::new();
        d.insert("_id", "a");
        d.insert("n", 1i32);
        let v = encode(DbReply::Documents {
            list: vec![d],
            offset: 0,
            limit: 100,
        });
        assert_eq!(
            v,
            json!({"list": ["{\"_id\":\"a\",\"n\":{\"$numberInt\":\"1\"}}"], "offset": 0, "limit": 100})
        );
        assert_eq!(
            encode(DbReply::Inserted {
                ids: vec![Bson::String("x".into())]
            }),
            json!({"insertedIds": ["x"]})
        );
        assert_eq!(
            encode(DbReply::Modified {
                matched: 0,
                updated: 0,
                upserted_id: Some(Bson::String("u".into()))
            }),
            json!({"matched": 0, "updated": 0, "upsert_id": "u"})
        );
    }
}
