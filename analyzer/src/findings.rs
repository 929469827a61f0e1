//! Findings: typed facts about what could move to the cloud, each with its source location.
//! Messages, SARIF results and (later) rewrite plans are made from these facts only.
//!
//! Everything here is part of the JSON report (`schema` in [`crate::report::json`]); add fields
//! rather than rename them.

use serde::Serialize;

use crate::source::FileKind;
use crate::span::Span;

/// A resolved source location: path, byte range and 1-based line/column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Loc {
    pub path: String,
    pub start: u32,
    pub end: u32,
    pub line: u32,
    pub column: u32,
    /// For a location in a framework's build output: the source it was built from (through
    /// the build's source maps, else the matching source). Absent everywhere else.
    #[serde(rename = "sourceLoc", skip_serializing_if = "Option::is_none")]
    pub source: Option<Box<Loc>>,
    #[serde(skip)]
    pub span: Option<Span>,
}

#[derive(Debug, Default)]
pub struct Findings {
    pub static_data: Vec<StaticData>,
    pub large_assets: Vec<LargeAsset>,
    pub inline_assets: Vec<InlineAsset>,
    /// Media files stored more than once with identical bytes (any size).
    pub duplicate_assets: Vec<DuplicateAssets>,
    pub backend_calls: Vec<BackendCall>,
    pub wrappers: Vec<Wrapper>,
    pub proposed_functions: Vec<ProposedFunction>,
}

/// The findings as borrowed lists: what reports read and serialize. A report can leave a list
/// out of its view (the JSON report renders the backend calls apart, in parallel).
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingsView<'a> {
    pub static_data: &'a [StaticData],
    pub large_assets: &'a [LargeAsset],
    pub inline_assets: &'a [InlineAsset],
    pub duplicate_assets: &'a [DuplicateAssets],
    pub backend_calls: &'a [BackendCall],
    pub wrappers: &'a [Wrapper],
    pub proposed_functions: &'a [ProposedFunction],
}

impl Serialize for Findings {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.view().serialize(s)
    }
}

impl Findings {
    pub fn view(&self) -> FindingsView<'_> {
        let Findings {
            static_data,
            large_assets,
            inline_assets,
            duplicate_assets,
            backend_calls,
            wrappers,
            proposed_functions,
        } = self;
        FindingsView {
            static_data,
            large_assets,
            inline_assets,
            duplicate_assets,
            backend_calls,
            wrappers,
            proposed_functions,
        }
    }

    /// Appends another detector's findings. Indices inside `other` (wrapper call sites,
    /// proposed functions' calls) are shifted by the backend calls already here.
    pub fn merge(&mut self, other: Findings) {
        let base = self.backend_calls.len();
        append(&mut self.static_data, other.static_data);
        append(&mut self.large_assets, other.large_assets);
        append(&mut self.inline_assets, other.inline_assets);
        append(&mut self.duplicate_assets, other.duplicate_assets);
        append(&mut self.backend_calls, other.backend_calls);
        let mut wrappers = other.wrappers;
        let mut proposed = other.proposed_functions;
        if base > 0 {
            for w in &mut wrappers {
                w.call_sites.iter_mut().for_each(|i| *i += base);
            }
            for p in &mut proposed {
                p.calls.iter_mut().for_each(|i| *i += base);
            }
        }
        append(&mut self.wrappers, wrappers);
        append(&mut self.proposed_functions, proposed);
    }
}

/// `into.extend(from)`, taking `from` whole when `into` is empty: a detector's tens of
/// thousands of findings are not copied into a fresh vector.
pub fn append<T>(into: &mut Vec<T>, mut from: Vec<T>) {
    if into.is_empty() {
        *into = from;
    } else {
        into.append(&mut from);
    }
}

// ---------------------------------------------------------------- static data

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StaticData {
    /// Stable id, e.g. `miniprogram/data/cities.js#default` or `pages/faq/faq.js#data.faqs`.
    pub id: String,
    pub source: DataSource,
    /// The literal (or the JSON file's whole value).
    pub loc: Loc,
    /// Package name the data is bundled in.
    pub package: String,
    pub bytes: u64,
    /// Number of records for a collection; 1 for a document.
    pub records: u64,
    pub shape: DataShape,
    /// Proposed cloud collection name.
    pub collection: String,
    pub consumers: Vec<DataConsumer>,
    /// Records nested in array fields of the records (`stops`, `children.children`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nested: Vec<NestedRecords>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NestedRecords {
    /// Dotted field path from a top-level record, e.g. `children.children`.
    pub path: String,
    /// Records at that path, summed over all top-level records.
    pub records: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DataSource {
    /// A `.json` file that is not page/app/component config.
    JsonFile,
    /// An export of a JS/TS module whose value is a pure literal.
    ModuleExport { export: String },
    /// A literal inside `Page({ data })` / `Component({ data })`.
    PageData { key: String },
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DataShape {
    /// An array of (mostly) homogeneous records: becomes a collection, one document per record.
    Collection {
        /// Fields present in most records, in first-seen order.
        fields: Vec<String>,
        /// Whether every record has the same field set.
        homogeneous: bool,
    },
    /// A single object: becomes one config document.
    Document { keys: Vec<String> },
    /// An array of scalars or mixed values: one document holding the list.
    List,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataConsumer {
    /// The import / require of the data (for page data: the literal's key).
    pub loc: Loc,
    /// How the consumer uses it, which decides the rewrite.
    pub usage: DataUsage,
    /// Where this use is (the identifier or `this.data.x` read); absent for `Unused`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used_at: Option<Loc>,
    /// How the use reaches the data when not through the imported binding itself, e.g.
    /// `this.data.cities` after the binding was placed in page data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// For a use inside a helper function or a method other pages methods call: the lifecycle
    /// methods and handlers it is reached from (`["locate", "onLoad"]`), following calls in
    /// the same file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reached_from: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DataUsage {
    /// Read at module top level (e.g. `const hot = cities.filter(…)` when the module loads).
    TopLevel,
    /// Placed into `Page/Component({ data: { … } })`.
    InPageData { key: String },
    /// Read inside a lifecycle method (`onLoad`, `onShow`, `attached`, …).
    Lifecycle { name: String },
    /// Read inside an event handler or other page method.
    Handler { name: String },
    /// Read inside another function.
    Function { name: String },
    /// Rendered by the page's WXML (`wx:for="{{cities}}"`) after being placed in page data.
    Template { key: String },
    /// Re-exported or passed on without being read here.
    Reexport,
    /// Imported but never read.
    Unused,
}

// ---------------------------------------------------------------- assets

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AssetTarget {
    /// The reference can take a `cloud://` file ID (image/video/cover-image src, audio APIs).
    CloudFileId,
    /// Needs an HTTPS URL (WXSS `url()`, inline style, `loadFontFace`, web-view).
    HttpsUrl,
    /// Must stay in the package (tabBar icons, `showToast` image, map control icons).
    Local,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LargeAsset {
    pub path: String,
    pub kind: FileKind,
    pub bytes: u64,
    pub package: String,
    pub uploaded: bool,
    /// Other files with the same bytes.
    pub duplicates: Vec<String>,
    pub references: Vec<AssetRef>,
    /// Where the asset can go: the most restrictive target among its references.
    pub target: AssetTarget,
    /// Bytes the package saves if the asset moves (0 when it must stay or is not uploaded).
    pub saves: u64,
    /// Whether a reference comes from a file the app reaches (a listed page, a used
    /// component, …); false when only unused files mention it, or nothing does.
    pub used: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DuplicateAssets {
    /// Size of each copy.
    pub bytes: u64,
    /// The identical files (project-relative paths), sorted.
    pub files: Vec<String>,
    /// Package of each file, in the same order.
    pub packages: Vec<String>,
    /// Bytes uploaded more than once: `bytes` × (uploaded copies − 1).
    pub wasted: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetRef {
    pub loc: Loc,
    pub via: RefVia,
    pub target: AssetTarget,
    /// For `{{ }}` bindings: the data field the path was traced through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binding: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RefVia {
    WxmlAttribute { tag: String, attribute: String },
    InlineStyle,
    WxssUrl,
    JsString,
    JsonConfig { key: String },
    TabBarIcon,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InlineAsset {
    pub loc: Loc,
    pub mime: String,
    /// Decoded bytes.
    pub bytes: u64,
    pub kind: FileKind,
    pub package: String,
    pub target: AssetTarget,
}

// ---------------------------------------------------------------- backend calls

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum NetworkApi {
    Request,
    UploadFile,
    DownloadFile,
    ConnectSocket,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendCall {
    pub loc: Loc,
    pub api: NetworkApi,
    pub package: String,
    /// The wrapper chain the call goes through, outermost first (empty for a direct call).
    pub via: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    pub endpoint: Endpoint,
    /// The function the call is written in (`path#name`), when it is a named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inside: Option<String>,
    /// Where that function is called from (e.g. the pages calling `api.getLineDetail(id)`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub callers: Vec<Loc>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// The URL with unknown parts as `{name}` placeholders, e.g.
    /// `https://api.example.com/v2/lines/{lineId}`.
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The path with placeholders, without the query string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub resolution: Resolution,
    /// Where the unresolved part comes from, when some of it is dynamic.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dynamic: Vec<Loc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resolution {
    /// Fully known.
    Static,
    /// Host and path prefix known, some segments are parameters.
    Partial,
    /// Not known statically.
    Dynamic,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Wrapper {
    /// `path#name`, e.g. `miniprogram/utils/request.js#request` or `…/http.js#Http.get`.
    pub id: String,
    pub loc: Loc,
    pub kind: WrapperKind,
    /// What it calls: `wx.request` or another wrapper's id.
    pub calls: String,
    /// Indices into `backendCalls` of the calls made through this wrapper.
    pub call_sites: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WrapperKind {
    Function,
    Method,
    ObjectMember,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProposedFunction {
    /// Proposed cloud function name.
    pub name: String,
    pub host: String,
    pub path_prefix: String,
    /// Distinct `METHOD path` routes it would serve.
    pub routes: Vec<String>,
    /// Indices into `backendCalls`.
    pub calls: Vec<usize>,
}
