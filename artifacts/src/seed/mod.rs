//! The seed format: what a project's `cloud/database/` holds.
//!
//! # `cloud/database/<collection>.json`
//!
//! The CloudBase console's import/export format (cloud-api.md §5.4): UTF-8 text, one JSON
//! object per record, JSON Lines style; pretty-printed objects back to back are accepted too,
//! and a leading byte order mark is skipped. A JSON array is not the format: it reads as one
//! record that is not an object. The collection is named by the file's stem.
//!
//! Values are relaxed or canonical Extended JSON, kept here as the JSON they are written in:
//! `{"$date": "2024-01-02T03:04:05.678Z"}` (or `{"$date": <ms>}` /
//! `{"$date": {"$numberLong": ".."}}`), `{"$numberLong": ".."}`, `{"$numberInt": ".."}`,
//! `{"$oid": ".."}`, ... Turning them into typed values is the reader's user's business (the
//! shim makes BSON of them). A record may carry its `_id`; field names may not be empty,
//! contain `.` or start with `$` ([`field_name_problem`]; the `$` keys of Extended JSON
//! wrappers are values, not field names).
//!
//! [`read_collection`] keeps going past a bad record: the record is reported with its file and
//! the line where it starts, and reading resumes at the next line that starts with `{`.
//! [`to_json_lines`] writes one compact document per line, keys in the document's order, dates
//! as whatever `{"$date": …}` the document holds, each line ending in a newline; an empty
//! collection is an empty file.
//!
//! # `cloud/database/_indexes.json`
//!
//! Declared indexes, one list of dot paths per collection ([`read_indexes`],
//! [`indexes_to_json`]):
//!
//! ```json
//! { "lines": ["city", "lineNo"], "stops": ["loc", "line.id"] }
//! ```
//!
//! Files whose name starts with `_` are configuration (`_indexes.json`, the shim's
//! `_permissions.json`), not collections ([`collection_files`] leaves them out).

mod error;
mod indexes;
mod read;
mod record;
mod write;

pub use error::SeedError;
pub use indexes::{INDEXES_FILE, IndexDecl, indexes_to_json, read_indexes};
pub use read::{CollectionSeed, collection_files, parse_records, read_collection};
pub use record::{Document, Record, field_name_problem};
pub use write::{collection_file_name, to_json_lines};

/// Where the seeds live, relative to the project root.
pub const DATABASE_DIR: &str = "cloud/database";
