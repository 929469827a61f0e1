//! Reading collection files: the directory listing, one file, the records in its text.

use super::{Record, SeedError};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One `<collection>.json` file, read.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionSeed {
    /// The collection, named by the file's stem.
    pub collection: String,
    /// The file read.
    pub path: PathBuf,
    /// The records in file order; a bad one is kept in its place as its error, so a loader
    /// reports problems in the order they appear.
    pub records: Vec<Result<Record, SeedError>>,
}

impl CollectionSeed {
    /// The documents of the good records, in file order.
    pub fn documents(&self) -> impl Iterator<Item = &super::Document> {
        self.records
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|r| &r.document)
    }

    /// The bad records' errors, in file order.
    pub fn errors(&self) -> impl Iterator<Item = &SeedError> {
        self.records.iter().filter_map(|r| r.as_ref().err())
    }
}

/// The collection files of a seed directory (usually `<project>/cloud/database`), sorted by
/// path, as `(collection, path)`: every `*.json` file whose name does not start with `_`. A
/// missing directory has none.
pub fn collection_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, SeedError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(SeedError::file(dir, format!("cannot read directory: {e}"))),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .collect();
    files.sort();
    Ok(files
        .into_iter()
        .filter_map(|path| {
            let stem = path.file_stem()?.to_str()?.to_string();
            (!stem.starts_with('_')).then_some((stem, path))
        })
        .collect())
}

/// Read the collection file at `path`. A file that cannot be read or is not UTF-8 is one
/// error (line 0); bad records are reported inside the result.
pub fn read_collection(collection: &str, path: &Path) -> Result<CollectionSeed, SeedError> {
    let bytes =
        std::fs::read(path).map_err(|e| SeedError::file(path, format!("cannot read: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| SeedError::file(path, "not UTF-8 (seeds must be UTF-8)"))?;
    Ok(CollectionSeed {
        collection: collection.to_string(),
        path: path.to_path_buf(),
        records: parse_records(&text, path),
    })
}

/// Split seed text into records, each with the line where it starts; errors name `path`.
/// After a record that is not valid JSON, reading resumes at the next line (after the
/// record's first) that starts with `{`. A value that is not an object is an error too.
pub fn parse_records(text: &str, path: &Path) -> Vec<Result<Record, SeedError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_of = |pos: usize| line_starts.partition_point(|&s| s <= pos);
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let rest = &text[pos..];
        let trimmed = rest.trim_start();
        if trimmed.is_empty() {
            break;
        }
        let start = pos + (rest.len() - trimmed.len());
        let line = line_of(start);
        let mut stream = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
        match stream.next() {
            Some(Ok(v)) => {
                out.push(match v {
                    Value::Object(document) => Ok(Record { line, document }),
                    _ => Err(SeedError::record(
                        path,
                        line,
                        "a record must be a JSON object",
                    )),
                });
                pos = start + stream.byte_offset();
            }
            Some(Err(e)) => {
                out.push(Err(SeedError::record(
                    path,
                    line,
                    format!("invalid JSON: {e}"),
                )));
                // Skip to the next line (after this record's first line) that opens an object.
                pos = line_starts
                    .iter()
                    .skip(line)
                    .copied()
                    .find(|&ls| ls > start && text[ls..].starts_with('{'))
                    .unwrap_or(text.len());
            }
            None => break,
        }
    }
    out
}
