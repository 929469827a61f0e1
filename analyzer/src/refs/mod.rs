//! Every reference to a package asset, found in one pass over the parsed files, and inline
//! `data:` URIs on the way. [`collect`] lists each reference (referencing file, asset file,
//! span, target, binding) once, for the module graph to count assets as reached and for the
//! large-asset detector to report. It needs only the parsed files and the resolver;
//! `analysis::analyze` runs it between `ModuleGraph::build` and `compute_reach` (beside the
//! detectors that need only module resolution), adds `EdgeKind::Asset` edges, and hands the
//! collection to the detectors as `Context::asset_refs`.
//!
//! By source kind: `in_wxml` attributes (static paths, inline `style` `url()`, string
//! literals inside `{{ }}`, `{{ }}` paths traced through `wx:for` items into the page script's
//! `data`/`properties`/`setData` literals (`trace`), `/dir/{{x}}.png` patterns matched
//! against the package's files); `in_wxss` `url()`; `in_js` string literals that look like
//! asset paths, with the API they feed (`previewImage` → file ID, `loadFontFace` / share
//! `imageUrl` → HTTPS, `showToast` / `setTabBarItem` / `readFile` → local, `x.src =` → file
//! ID); `in_json` strings; tabBar icons (through theme variables) → local. Relative paths
//! resolve against the referencing file (a script's data against the page folder), `/` from the
//! mini-program root. What the kinds share is in `collector` and `asset_path`; what is
//! found, in `model`.
//!
//! Known limits: bindings passed into components or templates from a parent (`data="{{…}}"`,
//! component properties) and values computed at run time are not traced; an asset reached only
//! that way has no reference here.

mod asset_path;
mod collect;
mod collector;
mod in_js;
mod in_json;
mod in_wxml;
mod in_wxss;
mod model;
pub(crate) mod trace;

pub use asset_path::looks_like_asset;
pub use collect::{asset_references, collect};
pub use model::{Collected, Inline, Ref, stricter};
