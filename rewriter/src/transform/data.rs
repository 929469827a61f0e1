//! Data → collections: each moved data set is written as a seed (`cloud/database/<collection>.json`,
//! the CloudBase import format `migrate serve` loads), read back at run time by the generated
//! loader (`migrate/data-loader.js`, cached under the set's content hash), and its consumers
//! are rewritten by the analyzer's classification:
//!
//! - placed in page data (`data: { cities }`, or a page's own `data` literal): starts empty and
//!   is filled by `setData` once loaded, from `onLoad` (`attached` for a component), awaited
//!   there when a method of the page reads it: safe when only the template and handlers read
//!   it, needs review when a lifecycle method reads it;
//! - read through the import in a lifecycle method or handler: becomes `(await loadData(…))`
//!   in a method made `async` (needs review);
//! - read at module top level or in a helper that returns synchronously: reported, and the
//!   data module stays in the package.
//!
//! A data module leaves the package only when every consumer of every data set in it was
//! rewritten.

use std::collections::{BTreeMap, BTreeSet};

use analyzer::findings::{DataShape, DataSource, DataUsage, StaticData};
use analyzer::query::{self, PageShape};
use artifacts::seed::{self, Document};
use serde_json::{Map, Value, json};

use super::context::{Cx, import_edit, runtime_dir};
use crate::changeset::{Changeset, Left, Moved};
use crate::edit::Edit;
use crate::generate;
use crate::journal::hash;
use crate::plan::{Action, DataMove, ReadVia};

/// The name of the generated big-set reader function.
pub const DATA_FUNCTION: &str = "migrate-data";

/// How a data set's documents give back the value the app had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// An array of records: one document each, `_id` the zero-padded index.
    Records,
    /// An object of records (`{"110000": {…}}`): one document each, `_id` the key.
    Keyed,
    /// An array of scalars: `{_id, value}` each.
    Values,
    /// One object: one document.
    Document,
}

impl Encoding {
    fn as_str(self) -> &'static str {
        match self {
            Encoding::Records => "records",
            Encoding::Keyed => "keyed",
            Encoding::Values => "values",
            Encoding::Document => "document",
        }
    }

    /// What page data starts with before the load.
    fn empty(self) -> &'static str {
        match self {
            Encoding::Records | Encoding::Values => "[]",
            Encoding::Keyed | Encoding::Document => "null",
        }
    }
}

/// The documents of a value, or why it cannot be stored.
fn documents(value: &Value, shape: &DataShape) -> Result<(Encoding, Vec<Document>), String> {
    let doc = |id: String, v: &Value| -> Result<Document, String> {
        let Value::Object(m) = v else {
            let mut d = Map::new();
            d.insert("_id".into(), json!(id));
            d.insert("value".into(), v.clone());
            return Ok(d);
        };
        if m.contains_key("_id") {
            return Err("a record already has an `_id` field".into());
        }
        let mut d = Map::new();
        d.insert("_id".into(), json!(id));
        for (k, v) in m {
            if let Some(problem) = seed::field_name_problem(k) {
                return Err(format!("field `{k}`: {problem}"));
            }
            d.insert(k.clone(), v.clone());
        }
        Ok(d)
    };
    match (value, shape) {
        (Value::Array(items), _) => {
            let width = items.len().to_string().len().max(4);
            let all_objects = items.iter().all(Value::is_object);
            let enc = if all_objects {
                Encoding::Records
            } else {
                Encoding::Values
            };
            let docs = items
                .iter()
                .enumerate()
                .map(|(i, v)| doc(format!("{i:0width$}"), v))
                .collect::<Result<_, _>>()?;
            Ok((enc, docs))
        }
        (Value::Object(m), DataShape::Collection { .. }) if m.values().all(Value::is_object) => {
            let docs = m
                .iter()
                .map(|(k, v)| doc(k.clone(), v))
                .collect::<Result<_, _>>()?;
            Ok((Encoding::Keyed, docs))
        }
        (Value::Object(_), _) => Ok((Encoding::Document, vec![doc("config".into(), value)?])),
        _ => Err("the value is not an array or an object".into()),
    }
}

fn at(loc: &analyzer::findings::Loc) -> String {
    format!("{}:{}:{}", loc.path, loc.line, loc.column)
}

/// The method that runs when the page (or component) starts.
fn start_method(shape: &PageShape) -> &'static str {
    if shape.kind == "Component" {
        "attached"
    } else {
        "onLoad"
    }
}

/// Edits that fill `key` of page data from the collection once the page starts. When a method
/// of the page reads the key (`this.data.cities.filter(…)` in `onLoad`, or in a helper method
/// `onLoad` calls), the load is awaited at the top of the start method, made `async`:
/// `setData` updates `this.data` at once, so the rest of it sees the data as it did when the
/// data was bundled.
fn fill_on_start(
    cx: &Cx<'_>,
    path: &str,
    text: &str,
    key: &str,
    collection: &str,
    readers: &[analyzer::findings::DataConsumer],
    out: &mut Vec<Edit>,
) -> Result<(), String> {
    let shape =
        query::page_shape(cx.analysis, path).ok_or("no Page/Component options object found")?;
    let name = start_method(&shape);
    // A method reading it may run from the start method (`onLoad() { this.applyFilter() }`):
    // any method read, not only the start method's own, has it awaited.
    let read_on_start = readers.iter().any(|c| {
        c.via.is_some()
            && c.loc.path == path
            && matches!(
                &c.usage,
                DataUsage::Lifecycle { .. } | DataUsage::Handler { .. }
            )
    });
    let method = shape.methods.iter().find(|m| m.name == name);
    let call = if read_on_start && method.is_some() {
        format!("this.setData({{ {key}: await loadData('{collection}') }});")
    } else {
        format!("loadData('{collection}').then((value) => this.setData({{ {key}: value }}));")
    };
    match method {
        Some(m) => {
            let indent = indent_after(text, m.body_start);
            out.push(Edit::insert(
                m.body_start,
                format!("\n{indent}{call}"),
                format!("load {collection} when the page starts"),
            ));
            if read_on_start && !m.is_async {
                out.push(Edit::insert(
                    m.async_at,
                    "async ",
                    format!("{name} reads {key} once it is loaded"),
                ));
            }
        }
        None => {
            let indent = indent_after(text, shape.options_start);
            out.push(Edit::insert(
                shape.options_start,
                format!("\n{indent}{name}() {{\n{indent}  {call}\n{indent}}},"),
                format!("load {collection} when the page starts"),
            ));
        }
    }
    Ok(())
}

/// The indentation of the first non-blank line after `at` (two spaces when there is none).
fn indent_after(text: &str, at: usize) -> String {
    for line in text[at..].lines().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        return line
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect();
    }
    "  ".into()
}

/// The statement `const x = require('…')` (or `import x from '…'`) around `start..end`, as
/// the range of its whole line, when it is alone on its line.
fn whole_line(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let ls = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let le = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
    let line = text[ls..le].trim();
    let declares = ["const ", "let ", "var ", "import "]
        .iter()
        .any(|k| line.starts_with(k));
    let ends =
        line.ends_with(';') || line.ends_with(')') || line.ends_with('\'') || line.ends_with('"');
    (declares && ends && !line[..line.len() - 1].contains(';')).then_some((ls, le))
}

struct SetPlan<'a> {
    data: &'a StaticData,
    mv: &'a DataMove,
    encoding: Encoding,
}

/// Adds the seeds, the loader and the consumer edits.
pub fn run(cx: &Cx<'_>, out: &mut Changeset) {
    let by_id: BTreeMap<&str, &StaticData> = cx
        .analysis
        .findings
        .static_data
        .iter()
        .map(|d| (d.id.as_str(), d))
        .collect();
    let mut sets: Vec<SetPlan<'_>> = Vec::new();
    for mv in cx.plan.data.iter().filter(|m| m.action == Action::Move) {
        let Some(data) = by_id.get(mv.id.as_str()) else {
            continue;
        };
        if matches!(data.source, DataSource::ModuleExport { .. })
            && !query::is_export_value(cx.analysis, data)
        {
            out.left.push(Left {
                id: data.id.clone(),
                at: at(&data.loc),
                why: "the literal is not what the module exports but a table its own code reads".into(),
                next: "move it by hand: load it in the module's exported functions, or keep it (\"action\": \"keep\")".into(),
            });
            continue;
        }
        let Some(value) = query::data_value(cx.analysis, data) else {
            out.left.push(Left {
                id: data.id.clone(),
                at: at(&data.loc),
                why: "its value could not be read as a pure literal".into(),
                next: "keep it in the package (\"action\": \"keep\")".into(),
            });
            continue;
        };
        let (encoding, docs) = match documents(&value, &data.shape) {
            Ok(x) => x,
            Err(why) => {
                out.left.push(Left {
                    id: data.id.clone(),
                    at: at(&data.loc),
                    why: format!("it cannot be stored as documents: {why}"),
                    next: "rename the field or keep the data set (\"action\": \"keep\")".into(),
                });
                continue;
            }
        };
        out.create_in(
            &group_of(data),
            format!(
                "{}/{}",
                seed::DATABASE_DIR,
                seed::collection_file_name(&mv.collection)
            ),
            seed::to_json_lines(&docs),
            format!(
                "{} records of {} for collection {}",
                docs.len(),
                data.id,
                mv.collection
            ),
        );
        sets.push(SetPlan { data, mv, encoding });
    }
    if sets.is_empty() {
        return;
    }
    // Consumers, file by file.
    let mut rewritten_all: BTreeMap<&str, bool> = BTreeMap::new();
    let mut runtimes: BTreeSet<String> = BTreeSet::new();
    for s in &sets {
        let mut ok = true;
        let mut edits: Vec<(String, Edit)> = Vec::new();
        let unsafe_set = s
            .data
            .consumers
            .iter()
            .any(|c| matches!(c.usage, DataUsage::Lifecycle { .. }) && c.via.is_some());
        let collection = s.mv.collection.as_str();
        // The page's own `data` literal: emptied, filled on start.
        if let DataSource::PageData { key } = &s.data.source {
            let path = &s.data.loc.path;
            match cx.text(path) {
                Some(text) => {
                    let mut es = vec![Edit::replace(
                        s.data.loc.start as usize,
                        s.data.loc.end as usize,
                        s.encoding.empty(),
                        format!("{key} comes from collection {collection}"),
                    )];
                    match fill_on_start(cx, path, text, key, collection, &s.data.consumers, &mut es)
                    {
                        Ok(()) => edits.extend(es.into_iter().map(|e| (path.clone(), e))),
                        Err(why) => {
                            ok = false;
                            out.left.push(Left {
                                id: s.data.id.clone(),
                                at: at(&s.data.loc),
                                why,
                                next: "load it with loadData() by hand".into(),
                            });
                        }
                    }
                }
                None => ok = false,
            }
        }
        // Imports of the data module, grouped by the file that imports it.
        let mut by_file: BTreeMap<&str, Vec<&analyzer::findings::DataConsumer>> = BTreeMap::new();
        for c in &s.data.consumers {
            if !matches!(s.data.source, DataSource::PageData { .. }) {
                by_file.entry(c.loc.path.as_str()).or_default().push(c);
            }
        }
        for (path, uses) in by_file {
            let Some(text) = cx.text(path) else {
                ok = false;
                continue;
            };
            let mut es: Vec<Edit> = Vec::new();
            let mut file_ok = true;
            let mut async_done: BTreeSet<usize> = BTreeSet::new();
            for c in &uses {
                // Reached through a barrel or a helper: the import brings more than this data
                // (other names, the helper itself), so it stays as written.
                if let Some(through) = &c.through {
                    file_ok = false;
                    out.left.push(Left {
                        id: s.data.id.clone(),
                        at: at(c.used_at.as_ref().unwrap_or(&c.loc)),
                        why: format!("reached through {through}, not imported from its own module"),
                        next: format!("import it from {} or make the caller await loadData('{collection}') (migrate/data-loader.js), then apply again", s.data.loc.path),
                    });
                    continue;
                }
                match (&c.usage, &c.via, &c.used_at) {
                    (DataUsage::InPageData { key }, _, Some(u)) => {
                        let (us, ue) = (u.start as usize, u.end as usize);
                        let before = text[..us].trim_end();
                        let empty = s.encoding.empty();
                        if before.ends_with(':') {
                            es.push(Edit::replace(us, ue, empty, format!("{key} starts empty")));
                        } else {
                            es.push(Edit::replace(
                                us,
                                ue,
                                format!("{key}: {empty}"),
                                format!("{key} starts empty"),
                            ));
                        }
                        if let Err(why) = fill_on_start(
                            cx,
                            path,
                            text,
                            key,
                            collection,
                            &s.data.consumers,
                            &mut es,
                        ) {
                            file_ok = false;
                            out.left.push(Left {
                                id: s.data.id.clone(),
                                at: at(u),
                                why,
                                next: "load it with loadData() by hand".into(),
                            });
                        }
                    }
                    // Reads of page data after it was placed there: fine once filled.
                    (DataUsage::Template { .. }, _, _) => {}
                    (DataUsage::Lifecycle { .. } | DataUsage::Handler { .. }, Some(_), _) => {}
                    (
                        DataUsage::Lifecycle { name } | DataUsage::Handler { name },
                        None,
                        Some(u),
                    ) => {
                        let shape = query::page_shape(cx.analysis, path);
                        let method = shape
                            .as_ref()
                            .and_then(|sh| sh.methods.iter().find(|m| &m.name == name));
                        match method {
                            Some(m) => {
                                es.push(
                                    Edit::replace(
                                        u.start as usize,
                                        u.end as usize,
                                        format!("(await loadData('{collection}'))"),
                                        format!("{name} awaits collection {collection}"),
                                    )
                                    .unsafe_(),
                                );
                                if !m.is_async && async_done.insert(m.async_at) {
                                    es.push(
                                        Edit::insert(
                                            m.async_at,
                                            "async ",
                                            format!("{name} awaits its data"),
                                        )
                                        .unsafe_(),
                                    );
                                }
                            }
                            None => {
                                file_ok = false;
                                out.left.push(Left { id: s.data.id.clone(), at: at(u), why: format!("read in `{name}`, which is not a method of the page's options object"), next: "load it with `await loadData(...)` there by hand".into() });
                            }
                        }
                    }
                    (DataUsage::Unused, _, _) => {}
                    (DataUsage::Reexport, _, _)
                    | (DataUsage::TopLevel, _, _)
                    | (DataUsage::Function { .. }, _, _)
                    | (_, _, None) => {
                        file_ok = false;
                        let where_ = c.used_at.as_ref().unwrap_or(&c.loc);
                        let why = match &c.usage {
                            DataUsage::TopLevel => {
                                "read when the module loads, before any data could arrive"
                                    .to_string()
                            }
                            DataUsage::Function { name } => {
                                format!("read in the helper `{name}`, which returns synchronously")
                            }
                            DataUsage::Reexport => "passed on to other modules".to_string(),
                            _ => "used in a way the rewriter cannot make asynchronous".to_string(),
                        };
                        out.left.push(Left {
                            id: s.data.id.clone(),
                            at: at(where_),
                            why,
                            next: format!("make the caller await loadData('{collection}') (migrate/data-loader.js), then apply again"),
                        });
                    }
                }
            }
            if !file_ok {
                ok = false;
                // Leave this file as it is: half a rewrite would read a module that may go away.
                continue;
            }
            // The import of the data module goes; the loader's import comes in.
            if let Some(c) = uses.first() {
                let (cs, ce) = (c.loc.start as usize, c.loc.end as usize);
                match whole_line(text, cs, ce) {
                    Some((ls, le)) => es.push(Edit::replace(
                        ls,
                        le,
                        "",
                        format!("{} is read from collection {collection}", s.data.loc.path),
                    )),
                    None => es.push(Edit::replace(
                        cs,
                        ce,
                        "null",
                        format!("{} is read from collection {collection}", s.data.loc.path),
                    )),
                }
            }
            let runtime = runtime_dir(cx, path);
            es.push(import_edit(
                cx,
                path,
                text,
                &runtime,
                "data-loader.js",
                "loadData",
            ));
            runtimes.insert(runtime);
            if unsafe_set {
                es = es.into_iter().map(Edit::unsafe_).collect();
            }
            edits.extend(es.into_iter().map(|e| (path.to_string(), e)));
        }
        if matches!(s.data.source, DataSource::PageData { .. }) {
            let runtime = runtime_dir(cx, &s.data.loc.path);
            if let Some(text) = cx.text(&s.data.loc.path) {
                edits.push((
                    s.data.loc.path.clone(),
                    import_edit(
                        cx,
                        &s.data.loc.path,
                        text,
                        &runtime,
                        "data-loader.js",
                        "loadData",
                    ),
                ));
            }
            runtimes.insert(runtime);
        }
        let group = group_of(s.data);
        for (path, e) in edits {
            if let Some(text) = cx.text(&path) {
                out.edit(&path, text, e.in_group(&group));
            }
        }
        let entry = rewritten_all
            .entry(s.data.loc.path.as_str())
            .or_insert(true);
        *entry &= ok && !matches!(s.data.source, DataSource::PageData { .. });
    }
    // Data modules every consumer of which moved to the loader leave the package.
    for (path, all) in rewritten_all {
        let whole_file =
            sets.iter()
                .filter(|s| s.data.loc.path == path)
                .all(|s| match s.data.source {
                    DataSource::JsonFile => true,
                    DataSource::ModuleExport { .. } => cx
                        .text(path)
                        .is_some_and(|t| (s.data.bytes as f64) > 0.9 * t.len() as f64),
                    DataSource::PageData { .. } => false,
                });
        if !(all && whole_file) {
            continue;
        }
        let Some(text) = cx.text(path) else { continue };
        out.moved.push(Moved {
            from: path.to_string(),
            to: None,
            expect: hash(text.as_bytes()),
            reason: "its data is in the cloud database now".into(),
            group: path.to_string(),
        });
    }
    permissions(cx, &sets, out);
    // The loader and its table.
    let table: Map<String, Value> = sets
        .iter()
        .map(|s| {
            let docs_hash = hash(format!("{}:{}", s.mv.collection, s.data.id).as_bytes());
            (
                s.mv.collection.clone(),
                json!({
                    "collection": s.mv.collection,
                    "encoding": s.encoding.as_str(),
                    "via": match s.mv.via { ReadVia::Client => "client", ReadVia::Function => "function" },
                    "hash": content_hash(cx, s.data).unwrap_or(docs_hash),
                }),
            )
        })
        .collect();
    let sets_js = format!(
        "// Generated by `migrate apply`: the data sets moved to collections.\nmodule.exports = {};\n",
        serde_json::to_string_pretty(&json!({ "dataFunction": DATA_FUNCTION, "sets": table }))
            .expect("serializes")
    );
    for dir in runtimes {
        out.create(
            format!("{dir}/data-loader.js"),
            generate::DATA_LOADER_JS,
            "reads the data sets from the cloud",
        );
        out.create(
            format!("{dir}/data-sets.js"),
            sets_js.clone(),
            "the data sets and their content hashes",
        );
    }
    let big: Vec<&str> = sets
        .iter()
        .filter(|s| s.mv.via == ReadVia::Function)
        .map(|s| s.mv.collection.as_str())
        .collect();
    if !big.is_empty() {
        let root = cx.cloudfunction_root();
        out.create(
            format!("{root}{DATA_FUNCTION}/index.js"),
            generate::DATA_FUNCTION_JS,
            "reads big data sets in pages of 1000",
        );
        out.create(
            format!("{root}{DATA_FUNCTION}/collections.json"),
            format!(
                "{}\n",
                serde_json::to_string_pretty(&big).expect("serializes")
            ),
            "the collections it may read",
        );
        out.create(
            format!("{root}{DATA_FUNCTION}/package.json"),
            format!(
                "{}\n",
                serde_json::to_string_pretty(&json!({
                    "name": DATA_FUNCTION, "version": "1.0.0", "private": true,
                    "description": "Generated by migrate apply: reads big data sets for the client.",
                    "main": "index.js", "dependencies": { "wx-server-sdk": generate::WX_SERVER_SDK },
                }))
                .expect("serializes")
            ),
            "its dependencies",
        );
    }
}

/// The moved collections are readable by every user and written by no client (the app only
/// reads its static data): `cloud/database/_permissions.json`, made or completed (an entry
/// already there is the user's and stays).
fn permissions(cx: &Cx<'_>, sets: &[SetPlan<'_>], out: &mut Changeset) {
    let path = format!("{}/{}", seed::DATABASE_DIR, seed::PERMISSIONS_FILE);
    let existing = std::fs::read_to_string(cx.analysis.project.root.join(&path)).ok();
    let present: Map<String, Value> = existing
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    let missing: Vec<&str> = sets
        .iter()
        .map(|s| s.mv.collection.as_str())
        .filter(|c| !present.contains_key(*c))
        .collect();
    if missing.is_empty() {
        return;
    }
    match existing {
        None => {
            let v: Map<String, Value> = missing
                .iter()
                .map(|c| (c.to_string(), json!(seed::READ_ONLY_PRESET)))
                .collect();
            out.create(
                path,
                format!(
                    "{}\n",
                    serde_json::to_string_pretty(&v).expect("serializes")
                ),
                "the moved collections are read by every user, written by no client",
            );
        }
        Some(text) => {
            let Some(open) = text.find('{') else { return };
            let entries: String = missing
                .iter()
                .map(|c| format!("\n  \"{c}\": \"{}\",", seed::READ_ONLY_PRESET))
                .collect();
            let entries = if present.is_empty() {
                entries.trim_end_matches(',').to_string()
            } else {
                entries
            };
            out.edit(
                &path,
                &text,
                Edit::insert(
                    open + 1,
                    entries,
                    "the moved collections are read by every user",
                ),
            );
        }
    }
}

/// The move group of a data set: its module (all sets of one module go together, as the
/// module leaves only when all of them do), or the page data set itself.
fn group_of(data: &StaticData) -> String {
    match data.source {
        DataSource::PageData { .. } => data.id.clone(),
        _ => data.loc.path.clone(),
    }
}

/// The hash of the data set's literal text (a cache key that changes when the data does).
fn content_hash(cx: &Cx<'_>, data: &StaticData) -> Option<String> {
    let text = cx.text(&data.loc.path)?;
    let lit = text.get(data.loc.start as usize..data.loc.end as usize)?;
    Some(hash(lit.as_bytes())[..16].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_by_shape() {
        let shape = DataShape::Collection {
            fields: vec![],
            homogeneous: true,
        };
        let (enc, docs) = documents(&json!([{"a": 1}, {"a": 2}]), &shape).unwrap();
        assert_eq!(enc, Encoding::Records);
        assert_eq!(docs[1]["_id"], "0001");
        let (enc, docs) = documents(&json!({"110000": {"n": "北京"}}), &shape).unwrap();
        assert_eq!(enc, Encoding::Keyed);
        assert_eq!(docs[0]["_id"], "110000");
        let (enc, docs) = documents(&json!([1, "x"]), &DataShape::List).unwrap();
        assert_eq!(enc, Encoding::Values);
        assert_eq!(docs[1]["value"], "x");
        let (enc, _) = documents(&json!({"v": 1}), &DataShape::Document { keys: vec![] }).unwrap();
        assert_eq!(enc, Encoding::Document);
        assert!(documents(&json!([{"a.b": 1}]), &shape).is_err());
        assert!(documents(&json!([{"_id": 1}]), &shape).is_err());
    }

    #[test]
    fn whole_lines() {
        let t = "const a = 1\nconst cities = require('../data/cities.js')\nfoo()\n";
        let s = t.find("require").unwrap();
        let e = t.find(")\n").unwrap() + 1;
        let (ls, le) = whole_line(t, s, e).unwrap();
        assert_eq!(&t[ls..le], "const cities = require('../data/cities.js')\n");
        let t2 = "const x = require('a'), y = 2; foo()\n";
        assert!(whole_line(t2, 10, 22).is_none());
    }
}
