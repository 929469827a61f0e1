//! Large assets (issue §5): images, audio, video and fonts over the per-kind thresholds, with
//! every reference, where each reference lets the asset go (`cloud://` file ID, HTTPS URL, or
//! nowhere), duplicates, and what moving it saves; plus inline `data:` URIs in WXSS, WXML and
//! JS over [`crate::Options::inline_threshold`].
//!
//! The references come from [`crate::refs`], collected once before the graph's reachability
//! (they make assets "used") and read here as `Context::asset_refs`.

use std::collections::HashMap;

use super::context::{Context, Detector};
use crate::findings::{AssetRef, AssetTarget, DuplicateAssets, Findings, InlineAsset, LargeAsset};
use crate::project::Project;
use crate::refs::{Ref, stricter};
use crate::span::FileId;

pub(crate) struct LargeAssetDetector;

impl Detector for LargeAssetDetector {
    fn name(&self) -> &'static str {
        "large-assets"
    }

    fn run(&self, cx: &Context<'_>, out: &mut Findings) {
        let collected = cx.asset_refs;
        let mut by_asset: HashMap<FileId, Vec<&Ref>> = HashMap::new();
        for r in &collected.refs {
            by_asset.entry(r.asset).or_default().push(r);
        }
        let dups = duplicates(cx.project);
        let mut large = Vec::new();
        for f in &cx.project.files {
            if f.mp_path.is_none() {
                continue;
            }
            let Some(threshold) = cx.options.asset_threshold(f.kind) else {
                continue;
            };
            if f.bytes <= threshold {
                continue;
            }
            // Neither in the package nor referenced: nothing to move.
            if !f.uploaded && !by_asset.contains_key(&f.id) {
                continue;
            }
            let used = by_asset.get(&f.id).is_some_and(|rs| {
                rs.iter().any(|r| {
                    cx.graph
                        .reached
                        .get(r.from.index())
                        .copied()
                        .unwrap_or(false)
                })
            });
            let mut references: Vec<AssetRef> = by_asset
                .get(&f.id)
                .map(|rs| {
                    rs.iter()
                        .map(|r| AssetRef {
                            id: String::new(),
                            loc: cx.loc(r.span),
                            via: r.via.clone(),
                            target: r.target,
                            binding: r.binding.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            references.sort_by(|a, b| (&a.loc, &a.binding).cmp(&(&b.loc, &b.binding)));
            references.dedup_by(|a, b| a.loc == b.loc && a.binding == b.binding);
            let target = references
                .iter()
                .fold(AssetTarget::CloudFileId, |t, r| stricter(t, r.target));
            let saves = if f.uploaded && target != AssetTarget::Local {
                f.bytes
            } else {
                0
            };
            large.push(LargeAsset {
                id: String::new(),
                path: f.path.clone(),
                kind: f.kind,
                bytes: f.bytes,
                package: cx.package_name(f.id),
                uploaded: f.uploaded,
                duplicates: dups
                    .get(&f.id)
                    .map(|ids| {
                        ids.iter()
                            .map(|d| cx.project.file(*d).path.clone())
                            .collect()
                    })
                    .unwrap_or_default(),
                references,
                target,
                saves,
                used,
            });
        }
        large.sort_by(|a, b| a.path.cmp(&b.path));
        out.large_assets.extend(large);

        let mut groups: Vec<DuplicateAssets> = Vec::new();
        let mut done = std::collections::HashSet::new();
        let mut ids: Vec<&FileId> = dups.keys().collect();
        ids.sort();
        for &id in ids {
            if !done.insert(id) {
                continue;
            }
            let mut all = vec![id];
            all.extend(dups[&id].iter().copied());
            all.sort();
            done.extend(all.iter().copied());
            let uploaded = all.iter().filter(|d| cx.project.file(**d).uploaded).count() as u64;
            let bytes = cx.project.file(id).bytes;
            groups.push(DuplicateAssets {
                id: String::new(),
                bytes,
                files: all
                    .iter()
                    .map(|d| cx.project.file(*d).path.clone())
                    .collect(),
                packages: all.iter().map(|d| cx.package_name(*d)).collect(),
                wasted: bytes * uploaded.saturating_sub(1),
            });
        }
        groups.sort_by(|a, b| b.wasted.cmp(&a.wasted).then_with(|| a.files.cmp(&b.files)));
        out.duplicate_assets.extend(groups);

        let mut inline: Vec<InlineAsset> = collected
            .inlines
            .iter()
            .filter(|i| i.data.bytes >= cx.options.inline_threshold)
            .map(|i| InlineAsset {
                id: String::new(),
                loc: cx.loc(i.span),
                mime: i.data.mime.clone(),
                bytes: i.data.bytes,
                kind: i.data.kind(),
                package: cx.package_name(i.span.file),
                target: i.target,
            })
            .collect();
        inline.sort_by(|a, b| a.loc.cmp(&b.loc));
        inline.dedup_by(|a, b| a.loc == b.loc);
        out.inline_assets.extend(inline);
    }
}

/// Media files with identical bytes: for each file, the others. Only files sharing a size are
/// read and hashed.
fn duplicates(project: &Project) -> HashMap<FileId, Vec<FileId>> {
    let mut by_size: HashMap<u64, Vec<FileId>> = HashMap::new();
    for f in &project.files {
        if f.kind.is_media() && f.mp_path.is_some() && f.bytes > 0 {
            by_size.entry(f.bytes).or_default().push(f.id);
        }
    }
    let mut by_hash: HashMap<[u8; 32], Vec<FileId>> = HashMap::new();
    for ids in by_size.values().filter(|v| v.len() > 1) {
        for &id in ids {
            if let Ok(bytes) = std::fs::read(&project.file(id).abs) {
                by_hash
                    .entry(*blake3::hash(&bytes).as_bytes())
                    .or_default()
                    .push(id);
            }
        }
    }
    let mut out = HashMap::new();
    for ids in by_hash.values().filter(|v| v.len() > 1) {
        for &id in ids {
            out.insert(id, ids.iter().copied().filter(|&o| o != id).collect());
        }
    }
    out
}
