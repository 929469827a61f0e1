//! `--format sarif`: SARIF 2.1.0, one run, one rule per finding kind and per input-diagnostic
//! code, so findings show up in code-scanning UIs. Paths are relative to the project folder.

use serde_json::{Value, json};

use super::{Report, human_bytes};
use crate::diagnostic::Severity;
use crate::findings::{Loc, Resolution};

const RULES: &[(&str, &str, &str)] = &[
    (
        "static-data",
        "Static data bundled in the package",
        "Move it into a cloud database collection: it stops counting toward the package limit and can change without a release.",
    ),
    (
        "large-asset",
        "Large asset in the package",
        "Move it into cloud storage and reference it by cloud:// file ID or HTTPS URL.",
    ),
    (
        "inline-asset",
        "Large base64 data URI",
        "Move the bytes into cloud storage and reference them by HTTPS URL.",
    ),
    (
        "backend-call",
        "Backend call to a self-hosted server",
        "Move the endpoint into a cloud function and call it with wx.cloud.callFunction.",
    ),
    (
        "package-size",
        "Package over the size limit",
        "Move data and assets to the cloud, or split pages into subpackages.",
    ),
    (
        "unused-file",
        "File nothing references",
        "Delete it, or set setting.ignoreUploadUnusedFiles so the uploader leaves it out.",
    ),
];

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

fn result(rule: &str, level: &str, text: String, locations: Vec<Value>) -> Value {
    json!({
        "ruleId": rule,
        "level": level,
        "message": { "text": text },
        "locations": locations,
    })
}

pub fn render(report: &Report<'_>) -> String {
    let f = report.findings;
    let mut results = Vec::new();
    for d in f.static_data {
        results.push(result(
            "static-data",
            "warning",
            format!(
                "{} ({} records, {}) is static data bundled in package `{}`; it can move to the collection `{}`.",
                d.id, d.records, human_bytes(d.bytes), d.package, d.collection
            ),
            vec![location(&d.loc.path, Some(&d.loc))],
        ));
    }
    for a in f.large_assets {
        let mut locs: Vec<Value> = a
            .references
            .iter()
            .map(|r| location(&r.loc.path, Some(&r.loc)))
            .collect();
        locs.insert(0, location(&a.path, None));
        results.push(result(
            "large-asset",
            "warning",
            format!(
                "{} is {} in package `{}`; {} reference(s); moving it saves {}.",
                a.path,
                human_bytes(a.bytes),
                a.package,
                a.references.len(),
                human_bytes(a.saves)
            ),
            locs,
        ));
    }
    for a in f.inline_assets {
        results.push(result(
            "inline-asset",
            "note",
            format!(
                "A {} data URI of {} is inlined here.",
                a.mime,
                human_bytes(a.bytes)
            ),
            vec![location(&a.loc.path, Some(&a.loc))],
        ));
    }
    for c in f.backend_calls {
        let via = if c.via.is_empty() {
            String::new()
        } else {
            format!(" via {}", c.via.join(" → "))
        };
        let method = c.method.as_deref().unwrap_or("GET");
        let what = match c.endpoint.resolution {
            Resolution::Dynamic => "a URL only known at run time".to_string(),
            _ => format!("{method} {}", c.endpoint.url),
        };
        results.push(result(
            "backend-call",
            "note",
            format!("Backend call ({:?}){via}: {what}.", c.api),
            vec![location(&c.loc.path, Some(&c.loc))],
        ));
    }
    for p in &report.sizes.packages {
        if p.over_limit {
            results.push(result(
                "package-size",
                "error",
                format!(
                    "Package `{}` is {}, over the {} limit; after the proposed moves it would be {}.",
                    p.name, human_bytes(p.bytes), human_bytes(p.limit), human_bytes(p.after_moves)
                ),
                vec![location(&report.project.app_json, None)],
            ));
        }
    }
    for u in &report.sizes.unused {
        results.push(result(
            "unused-file",
            "note",
            match &u.possibly_required_by {
                Some(l) => format!(
                    "{} ({}) is uploaded and nothing references it by a literal path; the computed require at {}:{} may load it.",
                    u.path,
                    human_bytes(u.bytes),
                    l.path,
                    l.line
                ),
                None => format!("{} ({}) is uploaded but nothing references it.", u.path, human_bytes(u.bytes)),
            },
            vec![location(&u.path, None)],
        ));
    }
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
        results.push(result(d.code, level, text, locs));
    }
    let mut rules: Vec<Value> = RULES
        .iter()
        .map(|(id, name, help)| {
            json!({
                "id": id,
                "name": name,
                "shortDescription": { "text": name },
                "help": { "text": help },
            })
        })
        .collect();
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
