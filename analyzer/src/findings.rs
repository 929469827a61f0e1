//! Findings: typed facts about what could move to the cloud, each with its source location and
//! a stable id. Messages, SARIF results and (later) rewrite plans are made from these facts only.
//!
//! Everything here is part of the JSON report (`docs/report-schema.md`); add fields rather than
//! rename them. Each kind of finding is one list of [`Findings`] (declared once, in the
//! `findings!` table below) and one [`Kind`] implementation in [`crate::kinds`]: its rule id,
//! title, messages, summary counts, fail-on name and savings, which every report renders.

#![warn(missing_docs)]

use std::borrow::Cow;

use serde::Serialize;

use crate::project::Project;
use crate::source::FileKind;
use crate::span::Span;

/// A resolved source location: path, byte range and 1-based line/column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Loc {
    /// The file, relative to the project folder, `/`-separated.
    pub path: String,
    /// Byte offset of the start in the file as it is on disk.
    pub start: u32,
    /// Byte offset just past the end (half-open).
    pub end: u32,
    /// 1-based line of `start`.
    pub line: u32,
    /// 1-based column of `start`, in characters.
    pub column: u32,
    /// For a location in a framework's build output: the source it was built from (through
    /// the build's source maps, else the matching source). Absent everywhere else.
    #[serde(rename = "sourceLoc", skip_serializing_if = "Option::is_none")]
    pub source: Option<Box<Loc>>,
    /// The span the location was made from, for reports that read the file's text again.
    #[serde(skip)]
    pub span: Option<Span>,
}

// ---------------------------------------------------------------- the kinds of finding

/// How much a finding matters, the same in every report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// It blocks the upload (a package over its limit).
    Error,
    /// Worth acting on: it costs package size.
    Warning,
    /// Part of the plan: what moves where.
    Note,
}

/// A count of one kind's findings in the report's `summary`.
pub struct Count<K> {
    /// The key in `summary`, camelCase (`staticData`).
    pub key: &'static str,
    /// What the number counts, after the number in the human summary: for one, for several
    /// (`static data set`, `static data sets`).
    pub what: [&'static str; 2],
    /// The count, from all findings of the kind.
    pub of: fn(&[K]) -> u64,
}

/// Where a finding is: a file as a whole, or a span in one.
#[derive(Debug, Clone, Copy)]
pub enum Place<'a> {
    /// A whole file (an asset, an unused file), by its project-relative path.
    File(&'a str),
    /// A span of source text; the human report shows the first one as a snippet.
    At(&'a Loc),
}

/// What a proposed move takes out of a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moves {
    /// Data that becomes a database collection.
    ToDatabase,
    /// Bytes that go to cloud storage.
    ToStorage,
}

/// The bytes a finding's proposed move takes out of a package.
#[derive(Debug, Clone, Copy)]
pub struct Saving<'a> {
    /// The package's name.
    pub package: &'a str,
    /// The file the bytes leave (project path).
    pub file: &'a str,
    /// Bytes the package no longer holds.
    pub bytes: u64,
    /// Where they go.
    pub to: Moves,
}

/// One kind of finding, declared once: every report (human, JSON, SARIF), the summary, the
/// size accounting and `--fail-on` read it from here. Implementations are in [`crate::kinds`]
/// (and, for the size verdicts, [`crate::sizes`]).
///
/// Messages say what the finding is and why it matters; help says what to do next.
pub trait Kind: Serialize + Sync + Sized + 'static {
    /// The rule id (`static-data`): SARIF's `ruleId`, `migrate::<rule>` in the human report.
    const RULE: &'static str;
    /// A short title for the rule (`Static data bundled in the package`).
    const TITLE: &'static str;
    /// What to do about findings of this kind in general (SARIF's rule help).
    const HELP: &'static str;
    /// How much a finding of this kind matters.
    const LEVEL: Level;
    /// The kind in the plural, for "… and 3 more static data sets".
    const NOUN: &'static str;
    /// The `--fail-on` value that fails the run when a finding of this kind is present.
    const FAIL_ON: Option<&'static str> = None;
    /// Whether `--fail-on any` counts this kind (a size verdict is left to its own name).
    const IN_ANY: bool = true;
    /// The kind's counts in the report's `summary`, in order.
    const COUNTS: &'static [Count<Self>] = &[];

    /// The finding's stable id (see `docs/report-schema.md`).
    fn id(&self) -> Cow<'_, str>;
    /// What the finding is and why it matters, one sentence without its final period.
    fn message(&self) -> String;
    /// What to do next, one or more sentences.
    fn help(&self) -> String;
    /// A label under the human report's snippet.
    fn label(&self) -> Option<String> {
        None
    }
    /// Where the finding is; the first [`Place::At`] is the human report's snippet.
    fn places(&self) -> Vec<Place<'_>>;
    /// What the finding's proposed move takes out of its package.
    fn saves(&self, _project: &Project) -> Option<Saving<'_>> {
        None
    }
}

/// Something done once per kind of finding, with that kind's findings (see
/// [`FindingsView::each`]).
pub trait Visit {
    /// Called once per kind, in report order, with all findings of the kind.
    fn kind<K: Kind>(&mut self, items: &[K]);
}

/// Declares the lists of findings, one per kind, in report order: [`Findings`], its borrowed
/// [`FindingsView`], merging, and the walk over every kind.
macro_rules! findings {
    ($( $(#[$doc:meta])* $field:ident: $ty:ty, )*) => {
        /// Everything the detectors found, one list per kind of finding.
        #[derive(Debug, Default)]
        pub struct Findings {
            $( $(#[$doc])* pub $field: Vec<$ty>, )*
        }

        /// The findings as borrowed lists: what reports read and serialize. A report can leave a
        /// list out of its view (the JSON report renders the backend calls apart, in parallel).
        #[derive(Debug, Clone, Copy, Default, Serialize)]
        #[serde(rename_all = "camelCase")]
        pub struct FindingsView<'a> {
            $( $(#[$doc])* pub $field: &'a [$ty], )*
        }

        impl Findings {
            /// The lists, borrowed.
            pub fn view(&self) -> FindingsView<'_> {
                FindingsView { $( $field: &self.$field, )* }
            }

            /// Appends another detector's findings, list by list. Findings refer to each other
            /// by id, so nothing needs renumbering.
            pub fn merge(&mut self, other: Findings) {
                $( append(&mut self.$field, other.$field); )*
            }
        }

        impl FindingsView<'_> {
            /// Calls `v` once per kind of finding, in report order.
            pub fn each(&self, v: &mut impl Visit) {
                $( v.kind(self.$field); )*
            }
        }
    };
}

findings! {
    /// Static configuration data: JSON data files, literal exports, page-data literals.
    static_data: StaticData,
    /// Media and font files over their size threshold.
    large_assets: LargeAsset,
    /// Base64 `data:` URIs over the inline threshold.
    inline_assets: InlineAsset,
    /// Media files stored more than once with identical bytes (any size).
    duplicate_assets: DuplicateAssets,
    /// Network calls to the app's own servers, one per call site and route.
    backend_calls: BackendCall,
    /// Functions the calls go through on their way to `wx.request` and friends.
    wrappers: Wrapper,
    /// Cloud functions proposed to serve the calls, grouped by host and path.
    proposed_functions: ProposedFunction,
    /// Cloud development the app already uses: `wx.cloud.*` calls and existing functions.
    cloud_uses: CloudUse,
}

impl Serialize for Findings {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.view().serialize(s)
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

/// A set of static data that can become a cloud database collection (or one document).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StaticData {
    /// Stable id, e.g. `miniprogram/data/cities.js#default` or `pages/faq/faq.js#data.faqs`
    /// (a JSON data file's id is its path).
    pub id: String,
    /// Where the data is written.
    pub source: DataSource,
    /// The literal (or the JSON file's whole value).
    pub loc: Loc,
    /// Package name the data is bundled in.
    pub package: String,
    /// Bytes of the literal's source text (of the whole file for a JSON file).
    pub bytes: u64,
    /// Number of records for a collection; 1 for a document.
    pub records: u64,
    /// What the data looks like, which decides how it is stored.
    pub shape: DataShape,
    /// Proposed cloud collection name.
    pub collection: String,
    /// The code that reads the data and would be rewritten to query the collection.
    pub consumers: Vec<DataConsumer>,
    /// Records nested in array fields of the records (`stops`, `children.children`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nested: Vec<NestedRecords>,
}

/// Records nested in an array field of a data set's records.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NestedRecords {
    /// Dotted field path from a top-level record, e.g. `children.children`.
    pub path: String,
    /// Records at that path, summed over all top-level records.
    pub records: u64,
}

/// Where a data set is written.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DataSource {
    /// A `.json` file that is not page/app/component config.
    JsonFile,
    /// An export of a JS/TS module whose value is a pure literal.
    ModuleExport {
        /// The export's name (`default` for `module.exports =` / `export default`).
        export: String,
    },
    /// A literal inside `Page({ data })` / `Component({ data })`.
    PageData {
        /// The dotted key under `data` (`faqs`, `config.regions`).
        key: String,
    },
}

/// What a data set looks like, which decides how it is stored.
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
    Document {
        /// Its top-level keys, in order.
        keys: Vec<String>,
    },
    /// An array of scalars or mixed values: one document holding the list.
    List,
}

/// A place in the code that reads a data set.
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
    /// What the import reaches the data through when it is not the data's own module: a barrel
    /// that re-exports it (`data/index.js`), or a helper function that reads it
    /// (`bankName` of `utils/lookup.js`, the use being a call of the helper).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub through: Option<String>,
}

/// How a consumer uses a data set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DataUsage {
    /// Read at module top level (e.g. `const hot = cities.filter(…)` when the module loads).
    TopLevel,
    /// Placed into `Page/Component({ data: { … } })`.
    InPageData {
        /// The page-data key it is placed under.
        key: String,
    },
    /// Read inside a lifecycle method (`onLoad`, `onShow`, `attached`, …).
    Lifecycle {
        /// The method's name.
        name: String,
    },
    /// Read inside an event handler or other page method.
    Handler {
        /// The method's name.
        name: String,
    },
    /// Read inside another function.
    Function {
        /// The function's name.
        name: String,
    },
    /// Rendered by the page's WXML (`wx:for="{{cities}}"`) after being placed in page data.
    Template {
        /// The page-data key the template reads.
        key: String,
    },
    /// Re-exported or passed on without being read here.
    Reexport,
    /// Imported but never read.
    Unused,
}

// ---------------------------------------------------------------- assets

/// Where an asset can be served from, given how it is referenced.
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

/// A media or font file over its size threshold.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LargeAsset {
    /// Stable id: `asset:<path>`.
    pub id: String,
    /// The file, project-relative.
    pub path: String,
    /// What kind of file it is (`image`, `audio`, `video`, `font`).
    pub kind: FileKind,
    /// Its size on disk.
    pub bytes: u64,
    /// Package name the file is bundled in.
    pub package: String,
    /// Whether the uploader takes it (upload whitelist, `packOptions` applied).
    pub uploaded: bool,
    /// Other files with the same bytes.
    pub duplicates: Vec<String>,
    /// Every place that refers to it.
    pub references: Vec<AssetRef>,
    /// Where the asset can go: the most restrictive target among its references.
    pub target: AssetTarget,
    /// Bytes the package saves if the asset moves (0 when it must stay or is not uploaded).
    pub saves: u64,
    /// Whether a reference comes from a file the app reaches (a listed page, a used
    /// component, …); false when only unused files mention it, or nothing does.
    pub used: bool,
}

/// Media files stored more than once with identical bytes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DuplicateAssets {
    /// Stable id: `duplicates:<first file>`.
    pub id: String,
    /// Size of each copy.
    pub bytes: u64,
    /// The identical files (project-relative paths), sorted.
    pub files: Vec<String>,
    /// Package of each file, in the same order.
    pub packages: Vec<String>,
    /// Bytes uploaded more than once: `bytes` × (uploaded copies − 1).
    pub wasted: u64,
}

/// A place that refers to an asset file.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetRef {
    /// Stable id: `ref:<path>:<start>-<end>` of the referring text.
    pub id: String,
    /// The referring text (the path string, the `url()`, the attribute value).
    pub loc: Loc,
    /// What kind of reference it is.
    pub via: RefVia,
    /// Where the asset can go, as far as this reference is concerned.
    pub target: AssetTarget,
    /// For `{{ }}` bindings: the data field the path was traced through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binding: Option<String>,
}

/// What kind of reference an asset reference is.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RefVia {
    /// A WXML attribute (`<image src="…">`).
    WxmlAttribute {
        /// The element.
        tag: String,
        /// The attribute.
        attribute: String,
    },
    /// A `url()` inside a WXML `style` attribute.
    InlineStyle,
    /// A `url()` in a WXSS (or Less/Sass) file.
    WxssUrl,
    /// A path string in a script.
    JsString,
    /// A path in a JSON config file.
    JsonConfig {
        /// The config key it is under.
        key: String,
    },
    /// A tabBar icon in `app.json`.
    TabBarIcon,
}

/// A base64 `data:` URI written into the source.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InlineAsset {
    /// Stable id: `inline:<path>:<start>-<end>`.
    pub id: String,
    /// The URI's text.
    pub loc: Loc,
    /// Its MIME type (`image/png`).
    pub mime: String,
    /// Decoded bytes.
    pub bytes: u64,
    /// What kind of file the bytes are.
    pub kind: FileKind,
    /// Package name the URI is bundled in.
    pub package: String,
    /// Where the bytes can go, given where the URI is used.
    pub target: AssetTarget,
}

// ---------------------------------------------------------------- cloud development in use

/// Cloud development the app already uses: one `wx.cloud.*` call (`uni.cloud`, `Taro.cloud`
/// too), one collection it names, or one function folder under `cloudfunctionRoot`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudUse {
    /// Stable id: `cloud:<path>:<start>-<end>`.
    pub id: String,
    /// The call (for a function folder: its `index.js`).
    pub loc: Loc,
    /// What it is.
    pub api: CloudApi,
    /// What it names: the env `init` is given, the function `callFunction` calls, the
    /// collection, the function folder; absent when only known at run time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Package name the call is bundled in (`-` for a function folder and a function's code).
    pub package: String,
    /// The cloud function whose code makes the call, when it is a function's, not the app's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_function: Option<String>,
}

/// The cloud development API a [`CloudUse`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CloudApi {
    /// `wx.cloud.init`.
    Init,
    /// `wx.cloud.callFunction`.
    CallFunction,
    /// `db.collection(name)` on `wx.cloud.database()`.
    Collection,
    /// `wx.cloud.uploadFile`, `downloadFile`, `getTempFileURL`, `deleteFile`.
    Storage,
    /// A cloud function folder under `cloudfunctionRoot`.
    Function,
}

// ---------------------------------------------------------------- backend calls

/// The mini-program network API a call uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum NetworkApi {
    /// `wx.request`.
    Request,
    /// `wx.uploadFile`.
    UploadFile,
    /// `wx.downloadFile`.
    DownloadFile,
    /// `wx.connectSocket`.
    ConnectSocket,
}

impl NetworkApi {
    /// The API as it is written: `wx.request`.
    pub fn name(self) -> &'static str {
        match self {
            NetworkApi::Request => "wx.request",
            NetworkApi::UploadFile => "wx.uploadFile",
            NetworkApi::DownloadFile => "wx.downloadFile",
            NetworkApi::ConnectSocket => "wx.connectSocket",
        }
    }
}

/// A network call to the app's own server: one call site and the route it takes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendCall {
    /// Stable id: `call:<path>:<start>-<end>` of the call site.
    pub id: String,
    /// The call site: the `wx.request(…)` itself, or the call of the outermost wrapper.
    pub loc: Loc,
    /// The network API it ends in.
    pub api: NetworkApi,
    /// Package name the call site is bundled in.
    pub package: String,
    /// The wrapper chain the call goes through (wrapper ids), outermost first (empty for a
    /// direct call).
    pub via: Vec<String>,
    /// The HTTP method, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The URL it calls.
    pub endpoint: Endpoint,
    /// The function the call is written in (`path#name`), when it is a named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inside: Option<String>,
    /// Where that function is called from (e.g. the pages calling `api.getLineDetail(id)`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub callers: Vec<Loc>,
    /// The call is a wrapper's own: its URL is a parameter of the function it is in, and
    /// nothing calls that function (dead code, or called in a way the analysis cannot follow).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub uncalled_wrapper: bool,
    /// The name of the proposed function that would serve it, set by the grouping; the report
    /// lists the calls under each function instead (`proposedFunctions[].calls`).
    #[serde(skip)]
    pub function: Option<String>,
    /// The `wx.request(…)` (or other network API) call the route ends in: `loc` itself for a
    /// direct call, the call inside the innermost wrapper otherwise. What the rewriter edits;
    /// not in the JSON report.
    #[serde(skip)]
    pub sink: Loc,
}

/// The URL a backend call calls, as far as it is known.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// The URL with unknown parts as `{name}` placeholders, e.g.
    /// `https://api.example.com/v2/lines/{lineId}`.
    pub url: String,
    /// The host, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The path with placeholders, without the query string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// How much of the URL is known.
    pub resolution: Resolution,
    /// Where the unresolved part comes from, when some of it is dynamic.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dynamic: Vec<Loc>,
}

/// How much of an endpoint's URL is known statically.
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

/// A function that passes what it is given on to a network API (or to another wrapper).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Wrapper {
    /// Stable id, `path#name`, e.g. `miniprogram/utils/request.js#request` or
    /// `…/http.js#Http.get`.
    pub id: String,
    /// The function's definition.
    pub loc: Loc,
    /// What kind of function it is.
    pub kind: WrapperKind,
    /// What it calls: `wx.request` or another wrapper's id.
    pub calls: String,
    /// Ids of the backend calls made through this wrapper, in report order.
    pub call_sites: Vec<String>,
}

/// What kind of function a wrapper is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WrapperKind {
    /// A function declaration or a function bound to a name.
    Function,
    /// A class method.
    Method,
    /// A function-valued member of an object literal (`api.get`).
    ObjectMember,
}

/// A cloud function proposed to serve a group of backend calls (one host, one path prefix).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProposedFunction {
    /// Stable id: `function:<name>`.
    pub id: String,
    /// Proposed cloud function name (unique in the report).
    pub name: String,
    /// The host its calls go to.
    pub host: String,
    /// The path prefix its routes share.
    pub path_prefix: String,
    /// Distinct `METHOD path` routes it would serve.
    pub routes: Vec<String>,
    /// Ids of the backend calls it would serve, in report order.
    pub calls: Vec<String>,
}
