//! Assets → cloud storage: each moved asset goes to `cloud/storage/<cloudPath>` and out of the
//! package; each reference is rewritten by what it accepts: a `cloud://` file ID where the
//! platform takes one (`image`, `video`, `cover-image`, audio sources and the JS strings that
//! feed them), the public HTTPS URL elsewhere (WXSS `url()`, inline styles, `loadFontFace`).
//! A reference the analyzer traced through a `{{ }}` binding is rewritten where the path is
//! written (the JS string), not in the template. A base64 `data:` URI written into the source
//! is decoded into a stored file of its own, and the URI replaced by that file's ID or URL.

use std::collections::BTreeMap;

use analyzer::findings::{AssetRef, AssetTarget, InlineAsset, LargeAsset};
use base64::Engine as _;

use super::context::Cx;
use crate::changeset::{Changeset, Left, Moved};
use crate::edit::Edit;
use crate::journal::hash;
use crate::plan::Action;

/// Where moved assets are put in the project, for `migrate serve` and the upload.
pub const STORAGE_DIR: &str = "cloud/storage";

/// `a/b/../c` → `a/c`.
fn normalize(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    out.join("/")
}

/// The project path a reference's text names: `/x` from the mini-program root, else relative to
/// the referencing file.
fn resolve(cx: &Cx<'_>, from: &str, text: &str) -> String {
    let text = text.split(['?', '#']).next().unwrap_or(text);
    if let Some(abs) = text.strip_prefix('/') {
        return normalize(&format!("{}{abs}", cx.mp_root()));
    }
    let dir = from.rsplit_once('/').map_or("", |(d, _)| d);
    normalize(&format!("{dir}/{text}"))
}

fn line_of(text: &str, at: usize) -> usize {
    text[..at].matches('\n').count() + 1
}

/// Adds the moves and the reference edits.
pub fn run(cx: &Cx<'_>, out: &mut Changeset) {
    let by_id: BTreeMap<&str, &LargeAsset> = cx
        .analysis
        .findings
        .large_assets
        .iter()
        .map(|a| (a.id.as_str(), a))
        .collect();
    for m in cx.plan.assets.iter().filter(|m| m.action == Action::Move) {
        let Some(asset) = by_id.get(m.id.as_str()) else {
            continue;
        };
        let file_id = cx.plan.file_id(&m.cloud_path);
        let url = cx.plan.https_url(&m.cloud_path);
        let mut edits: Vec<(String, Edit)> = Vec::new();
        let mut blocked: Option<Left> = None;
        for r in &asset.references {
            match reference_edit(cx, asset, r, file_id.as_deref(), url.as_deref()) {
                Ok(Some(e)) => edits.push((r.loc.path.clone(), e)),
                Ok(None) => {}
                Err(why) => {
                    blocked = Some(Left {
                        id: asset.id.clone(),
                        at: format!("{}:{}:{}", r.loc.path, r.loc.line, r.loc.column),
                        why,
                        next: format!(
                            "rewrite this reference to {} by hand, or keep the asset (\"action\": \"keep\")",
                            file_id
                                .as_deref()
                                .or(url.as_deref())
                                .unwrap_or("its cloud URL")
                        ),
                    });
                    break;
                }
            }
        }
        // An asset with a reference that cannot be rewritten stays: moving it would break that use.
        if let Some(left) = blocked {
            out.left.push(left);
            continue;
        }
        let abs = cx.analysis.project.root.join(&asset.path);
        let Ok(bytes) = std::fs::read(&abs) else {
            out.left.push(Left {
                id: asset.id.clone(),
                at: asset.path.clone(),
                why: "the file cannot be read".into(),
                next: "check that it is there, then apply again".into(),
            });
            continue;
        };
        for (path, e) in edits {
            if let Some(text) = cx.text(&path) {
                out.edit(&path, text, e.in_group(&asset.id));
            }
        }
        out.moved.push(Moved {
            from: asset.path.clone(),
            to: Some(format!("{STORAGE_DIR}/{}", m.cloud_path)),
            expect: hash(&bytes),
            reason: format!(
                "moves to cloud storage, saving {} bytes of the {} package",
                asset.saves, asset.package
            ),
            group: asset.id.clone(),
        });
    }
    inline(cx, out);
}

/// The data URIs the plan moves: each decoded into `cloud/storage/<cloudPath>`, the URI
/// replaced by the file's ID where the use takes one, else its HTTPS URL.
fn inline(cx: &Cx<'_>, out: &mut Changeset) {
    let by_id: BTreeMap<&str, &InlineAsset> = cx
        .analysis
        .findings
        .inline_assets
        .iter()
        .map(|a| (a.id.as_str(), a))
        .collect();
    for m in cx.plan.assets.iter().filter(|m| m.action == Action::Move) {
        let Some(a) = by_id.get(m.id.as_str()) else {
            continue;
        };
        let at = format!("{}:{}:{}", a.loc.path, a.loc.line, a.loc.column);
        let mut leave = |why: String, next: &str| {
            out.left.push(Left {
                id: a.id.clone(),
                at: at.clone(),
                why,
                next: next.into(),
            })
        };
        let Some(text) = cx.text(&a.loc.path) else {
            leave(
                format!("{} is not UTF-8 text the rewriter can edit", a.loc.path),
                "save it as UTF-8, then apply again",
            );
            continue;
        };
        let Some(uri) = text.get(a.loc.start as usize..a.loc.end as usize) else {
            leave(
                "the data URI's span is outside its file".into(),
                "run `migrate plan` again",
            );
            continue;
        };
        let Some(bytes) = decode_data_uri(uri) else {
            leave(
                "the data URI is not valid base64, so it cannot be saved as a file".into(),
                "fix or remove it by hand, or keep it (\"action\": \"keep\")",
            );
            continue;
        };
        let to = match a.target {
            AssetTarget::CloudFileId => cx
                .plan
                .file_id(&m.cloud_path)
                .or_else(|| cx.plan.https_url(&m.cloud_path)),
            AssetTarget::HttpsUrl => cx.plan.https_url(&m.cloud_path),
            AssetTarget::Local => None,
        };
        let Some(to) = to else {
            leave(
                "this use takes only files in the package".into(),
                "save the bytes as a file in the package instead, which drops the base64 overhead",
            );
            continue;
        };
        let what = match a.target {
            AssetTarget::CloudFileId if to.starts_with("cloud://") => "cloud file ID",
            _ => "HTTPS URL",
        };
        out.edit(
            &a.loc.path,
            text,
            Edit::replace(
                a.loc.start as usize,
                a.loc.end as usize,
                to,
                format!("{} data URI → its {what}", a.mime),
            )
            .in_group(&a.id),
        );
        let size = bytes.len();
        out.create_in(
            &a.id,
            format!("{STORAGE_DIR}/{}", m.cloud_path),
            bytes,
            format!("the {} data URI of {at}, decoded ({size} bytes)", a.mime),
        );
    }
}

/// The bytes of a `data:<type>[;…];base64,<data>` URI (whitespace and line continuations in
/// the data are skipped; padding may be missing).
fn decode_data_uri(uri: &str) -> Option<Vec<u8>> {
    let rest = uri.trim_start().strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    if !meta
        .split(';')
        .any(|p| p.trim().eq_ignore_ascii_case("base64"))
    {
        return None;
    }
    let clean: String = data
        .replace("\\\n", "")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    engine.decode(clean.trim_end_matches('=')).ok()
}

/// The edit for one reference: `Ok(None)` when it needs none (a binding traced to a JS string
/// that has its own reference), `Err` when it cannot be made.
fn reference_edit(
    cx: &Cx<'_>,
    asset: &LargeAsset,
    r: &AssetRef,
    file_id: Option<&str>,
    url: Option<&str>,
) -> Result<Option<Edit>, String> {
    if r.binding.is_some() {
        return Ok(None);
    }
    let Some(text) = cx.text(&r.loc.path) else {
        return Err(format!(
            "{} is not UTF-8 text the rewriter can edit",
            r.loc.path
        ));
    };
    let (s, e) = (r.loc.start as usize, r.loc.end as usize);
    let written = text
        .get(s..e)
        .ok_or("the reference's span is outside its file")?;
    if resolve(cx, &r.loc.path, written) != asset.path {
        return Err(format!(
            "`{written}` (line {}) is not the whole path of {}: it is built at run time",
            line_of(text, s),
            asset.path
        ));
    }
    let to = match r.target {
        AssetTarget::CloudFileId => file_id.or(url),
        AssetTarget::HttpsUrl => url,
        AssetTarget::Local => return Err("this use takes only files in the package".into()),
    };
    let Some(to) = to else {
        return Err("the plan has no env for the file ID".into());
    };
    let what = match r.target {
        AssetTarget::CloudFileId => "cloud file ID",
        _ => "HTTPS URL",
    };
    Ok(Some(Edit::replace(
        s,
        e,
        to,
        format!("{} → its {what}", asset.path),
    )))
}

#[cfg(test)]
mod tests {
    use super::decode_data_uri;

    #[test]
    fn data_uris_decode() {
        assert_eq!(
            decode_data_uri("data:text/plain;base64,aGVsbG8="),
            Some(b"hello".to_vec())
        );
        // Padding left off, a line break and a CSS line continuation inside the data.
        assert_eq!(
            decode_data_uri("data:text/plain;charset=utf-8;base64,aGVs\n  bG8\\\n"),
            Some(b"hello".to_vec())
        );
        assert_eq!(decode_data_uri("data:text/plain,hello"), None);
        assert_eq!(decode_data_uri("data:image/png;base64,a*b"), None);
        assert_eq!(decode_data_uri("https://x/a.png"), None);
    }
}
