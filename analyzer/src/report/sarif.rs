//! `--format sarif`: SARIF 2.1.0, one run, one rule per kind of finding (from its [`Kind`]
//! declaration) and per input-diagnostic code, so findings show up in code-scanning UIs. Paths
//! are relative to the project folder; each result carries the finding's stable id as its
//! fingerprint.

use serde_json::{Value, json};

use super::Report;
use crate::diagnostic::Severity;
use crate::findings::{Kind, Level, Loc, Place, Visit};

fn region(loc: &Loc) -> Value {
    json!({
        "startLine": loc.line.max(1),
        "startColumn": loc.column.max(1),
        "byteOffset": loc.start,
        "byteLength": loc.end - loc.start,
    })
}

fn location(path: &str, loc: Option<&Loc>) -> Value {
    let mut phys = json!({ "artifactLocation": { "uri": path } });
    if let Some(l) = loc {
        phys["region"] = region(l);
    }
    json!({ "physicalLocation": phys })
}

fn level(l: Level) -> &'static str {
    match l {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Note => "note",
    }
}

/// The rules and results of every kind of finding.
struct Kinds<'a> {
    rules: Vec<Value>,
    results: Vec<Value>,
    /// Where a result without a place of its own points (code-scanning UIs need one): app.json.
    app_json: &'a str,
}

impl Visit for Kinds<'_> {
    fn kind<K: Kind>(&mut self, items: &[K]) {
        self.rules.push(json!({
            "id": K::RULE,
            "name": K::TITLE,
            "shortDescription": { "text": K::TITLE },
            "help": { "text": K::HELP },
            "defaultConfiguration": { "level": level(K::LEVEL) },
        }));
        for item in items {
            let mut locations: Vec<Value> = item
                .places()
                .into_iter()
                .map(|p| match p {
                    Place::File(path) => location(path, None),
                    Place::At(l) => location(&l.path, Some(l)),
                })
                .collect();
            if locations.is_empty() {
                locations.push(location(self.app_json, None));
            }
            self.results.push(json!({
                "ruleId": K::RULE,
                "level": level(K::LEVEL),
                "message": { "text": format!("{}. {}", item.message(), item.help()) },
                "locations": locations,
                "partialFingerprints": { "migrateId/v1": item.id() },
            }));
        }
    }
}

pub fn render(report: &Report<'_>) -> String {
    let mut kinds = Kinds {
        rules: Vec::new(),
        results: Vec::new(),
        app_json: &report.project.app_json,
    };
    report.each_kind(&mut kinds);
    let Kinds {
        mut rules,
        mut results,
        ..
    } = kinds;
    let mut diag_rules: Vec<&str> = Vec::new();
    for d in &report.diagnostics {
        if !diag_rules.contains(&d.code) {
            diag_rules.push(d.code);
        }
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "note",
        };
        let text = match &d.help {
            Some(h) => format!("{} ({h})", d.message),
            None => d.message.clone(),
        };
        let locs = d
            .path
            .as_deref()
            .map(|p| vec![location(p, d.loc.as_ref())])
            .unwrap_or_default();
        results.push(json!({
            "ruleId": d.code,
            "level": level,
            "message": { "text": text },
            "locations": locs,
        }));
    }
    rules.extend(diag_rules.into_iter().map(|code| {
        json!({
            "id": code,
            "name": code,
            "shortDescription": { "text": format!("Input problem: {code}") },
        })
    }));
    let sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "migrate",
                "version": report.tool.version,
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&sarif).unwrap_or_default();
    s.push('\n');
    s
}
