//! The legacy database dialect of `tcb-admin-node` 1.x (`@cloudbase/database` 0.9.x,
//! `sdk-wire-protocol.md` §3.7, §4.4): plain JSON arguments (`{"$date": ms}`,
//! `{"$date": {"offset": n}}` for serverDate, `{"$regex", "$options"}`), `order` as
//! `[{field, direction}]`, and plain-JSON replies. Decoded into the same [`DbOp`]s as the
//! current protocol.

use std::sync::Arc;

use bson::{Bson, Document};
use serde_json::{Map, Value, json};

use crate::db::ejson;
use crate::error::{ShimError, ShimResult};
use crate::service::{Caller, Database, DbOp, DbReply};

/// Is `action` one of the legacy database actions?
pub(super) fn is_legacy(action: &str) -> bool {
    matches!(
        action,
        "database.addDocument"
            | "database.queryDocument"
            | "database.countDocument"
            | "database.updateDocument"
            | "database.deleteDocument"
    )
}

/// Run one legacy database action.
pub(super) async fn handle(
    db: &Arc<Database>,
    caller: Caller,
    action: &str,
    body: &Map<String, Value>,
) -> ShimResult<Value> {
    let op = decode(action, body)?;
    Ok(encode(super::database::execute(db, caller, op).await?))
}

fn collection(body: &Map<String, Value>) -> ShimResult<String> {
    body.get("collectionName")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| ShimError::InvalidParam("missing field `collectionName`".into()))
}

fn doc_field(body: &Map<String, Value>, field: &str) -> ShimResult<Option<Document>> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(ejson::legacy_document(v.clone())?)),
        Some(_) => Err(ShimError::InvalidParam(format!(
            "`{field}` must be an object"
        ))),
    }
}

fn bool_field(body: &Map<String, Value>, field: &str, default: bool) -> bool {
    body.get(field).and_then(Value::as_bool).unwrap_or(default)
}

/// Decode a legacy request into a [`DbOp`].
pub(super) fn decode(action: &str, body: &Map<String, Value>) -> ShimResult<DbOp> {
    Ok(match action {
        "database.addDocument" => {
            let docs = match body.get("data") {
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| ejson::legacy_document(v.clone()))
                    .collect::<Result<Vec<_>, _>>()?,
                Some(v @ Value::Object(_)) => vec![ejson::legacy_document(v.clone())?],
                _ => return Err(ShimError::InvalidParam("`data` must be an object".into())),
            };
            DbOp::Insert {
                collection: collection(body)?,
                docs,
            }
        }
        "database.queryDocument" => {
            let order = match body.get("order") {
                Some(Value::Array(items)) if !items.is_empty() => {
                    let mut d = Document::new();
                    for item in items {
                        let field = item.get("field").and_then(Value::as_str).ok_or_else(|| {
                            ShimError::InvalidParam("`order` items need `field`".into())
                        })?;
                        let dir = match item.get("direction").and_then(Value::as_str) {
                            Some("desc") => -1,
                            Some("asc") | None => 1,
                            Some(other) => {
                                return Err(ShimError::InvalidParam(format!(
                                    "invalid order direction {other}"
                                )));
                            }
                        };
                        d.insert(field, Bson::Int32(dir));
                    }
                    Some(d)
                }
                _ => None,
            };
            let projection = doc_field(body, "projection")?.filter(|p| !p.is_empty());
            DbOp::Get {
                collection: collection(body)?,
                filter: doc_field(body, "query")?.unwrap_or_default(),
                order,
                offset: body.get("offset").and_then(Value::as_u64).unwrap_or(0),
                // Capped by the service (1000 for admin).
                limit: body.get("limit").and_then(Value::as_u64),
                projection,
            }
        }
        "database.countDocument" => DbOp::Count {
            collection: collection(body)?,
            filter: doc_field(body, "query")?.unwrap_or_default(),
        },
        "database.updateDocument" => DbOp::Modify {
            collection: collection(body)?,
            filter: doc_field(body, "query")?.unwrap_or_default(),
            data: doc_field(body, "data")?
                .ok_or_else(|| ShimError::InvalidParam("missing field `data`".into()))?,
            multi: bool_field(body, "multi", false),
            merge: bool_field(body, "merge", true),
            upsert: bool_field(body, "upsert", false),
        },
        "database.deleteDocument" => DbOp::Remove {
            collection: collection(body)?,
            filter: doc_field(body, "query")?.unwrap_or_default(),
            multi: bool_field(body, "multi", true),
        },
        other => return Err(ShimError::InvalidAction(other.to_string())),
    })
}

fn id_json(id: &Bson) -> Value {
    ejson::to_legacy_json(id)
}

/// Encode a reply in the legacy shape.
pub(super) fn encode(reply: DbReply) -> Value {
    match reply {
        DbReply::Inserted { ids } => match ids.as_slice() {
            [one] => json!({ "_id": id_json(one) }),
            many => {
                json!({ "_id": many.first().map(id_json), "insertedIds": many.iter().map(id_json).collect::<Vec<_>>() })
            }
        },
        DbReply::Documents {
            list,
            offset,
            limit,
        } => json!({
            "list": legacy_list(list),
            "offset": offset,
            "limit": limit,
        }),
        DbReply::Count { total } => json!({ "total": total }),
        DbReply::Modified {
            updated,
            upserted_id,
            ..
        } => {
            let id = upserted_id.as_ref().map(id_json).unwrap_or(Value::Null);
            json!({ "updated": updated, "upserted_id": id, "upsert_id": id })
        }
        DbReply::ModifiedDoc { updated, doc } => json!({
            "updated": updated,
            "doc": doc.map(legacy_doc),
        }),
        DbReply::Removed { deleted } => json!({ "deleted": deleted }),
        DbReply::Aggregated { list } => json!({
            "list": legacy_list(list),
        }),
        DbReply::CollectionAdded { created } => json!({ "created": created }),
        DbReply::TransactionStarted { id } => json!({ "transactionId": id }),
        DbReply::TransactionEnded => json!({}),
    }
}

/// A result document in the legacy plain-JSON dialect.
fn legacy_doc(d: Document) -> Value {
    ejson::to_legacy_json(&Bson::Document(d))
}

fn legacy_list(list: Vec<Document>) -> Vec<Value> {
    list.into_iter().map(legacy_doc).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn decodes_captured_legacy_requests() {
        // sdk-wire-protocol.md §4.4 `adm:where.orderBy.limit.get`.
        let b = body(json!({
            "collectionName": "todos", "queryType": "WHERE",
            "query": {"title": {"$regex": "^h", "$options": "i"}, "$and": [{"n": {"$gt": 0}}, {"n": {"$lt": 5}}]},
            "order": [{"field": "n", "direction": "desc"}],
            "offset": 1, "limit": 10, "projection": {"title": 1}
        }));
        let DbOp::Get {
            order,
            offset,
            limit,
            projection,
            filter,
            ..
        } = decode("database.queryDocument", &b).unwrap()
        else {
            panic!()
        };
        assert_eq!(order.unwrap().get_i32("n").unwrap(), -1);
        assert_eq!((offset, limit), (1, Some(10)));
        assert_eq!(projection.unwrap().get_i32("title").unwrap(), 1);
        assert!(matches!(
            filter.get("title"),
            Some(Bson::RegularExpression(_))
        ));

        let b = body(json!({
            "collectionName": "todos",
            "data": {"title": "hi", "n": 1, "due": {"$date": 1704164645678i64}}
        }));
        let DbOp::Insert { docs, .. } = decode("database.addDocument", &b).unwrap() else {
            panic!()
        };
        assert!(matches!(docs[0].get("due"), Some(Bson::DateTime(_))));
    }

    #[test]
    fn encodes_legacy_replies() {
        assert_eq!(
            encode(DbReply::Inserted {
                ids: vec![Bson::String("a".into())]
            }),
            json!({"_id": "a"})
        );
        let mut d = Document::new();
        d.insert("n", 1i32);
        assert_eq!(
            encode(DbReply::Documents {
                list: vec![d],
                offset: 0,
                limit: 100
            }),
            json!({"list": [{"n": 1}], "offset": 0, "limit": 100})
        );
    }
}
