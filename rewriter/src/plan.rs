//! The plan: every move `apply` will make, as a JSON file a person reads and edits.
//!
//! [`Plan::propose`] makes it from the analyzer's findings (every data set and movable asset
//! moves, every proposed function proxies its routes); [`Plan::to_json`] writes it;
//! [`Plan::parse`] reads an edited one back and checks it against the findings, so an unknown
//! key, an id the analysis does not have, or an impossible choice is an error with the byte
//! range of the plan text it is about. The format is documented in `docs/plan-schema.md`.

use std::collections::{BTreeMap, BTreeSet};

use analyzer::findings::{AssetTarget, Findings};
use analyzer::json_doc::{self, Json, JsonKind};
use serde_json::{Value, json};

/// The plan format's version.
pub const PLAN_VERSION: u32 = 1;

/// What happens to one data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataMove {
    /// The analyzer's id of the data set.
    pub id: String,
    /// Move it, or keep it in the package.
    pub action: Action,
    /// The collection it goes to.
    pub collection: String,
    /// How the client reads it: through `wx.cloud.database()` (pages of 20) or through the
    /// generated data function (pages of 1000).
    pub via: ReadVia,
}

/// How the client loader reads a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadVia {
    /// `wx.cloud.database()`, 20 records a page.
    Client,
    /// The generated `migrate-data` function, 1000 a page.
    Function,
}

/// Move or keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Take it out of the package.
    Move,
    /// Leave it where it is.
    Keep,
}

/// What happens to one asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetMove {
    /// The analyzer's id of the asset.
    pub id: String,
    /// Move it, or keep it in the package.
    pub action: Action,
    /// Its path in cloud storage (`cloud/storage/<cloudPath>` in the project).
    pub cloud_path: String,
}

/// A route's treatment in its function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteMode {
    /// Forward to the endpoint the app called before.
    Proxy,
    /// Call a handler module the user ports the endpoint into.
    Handler,
}

/// One route of a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePlan {
    /// `GET /v2/lines/{lineId}` on the function's host.
    pub route: String,
    /// Proxy or handler.
    pub mode: RouteMode,
}

/// One cloud function to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionPlan {
    /// Its name (a folder under `cloudfunctionRoot`).
    pub name: String,
    /// The host its routes were served by (`api.example.com`).
    pub host: String,
    /// Its routes.
    pub routes: Vec<RoutePlan>,
}

/// The whole plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The cloud environment id (`wx.cloud.init({ env })`, file IDs); `None` uses the default
    /// environment and keeps assets that need a file ID in the package.
    pub env: Option<String>,
    /// The storage bucket of file IDs (`cloud://<env>.<bucket>/<path>`); by default the
    /// CloudBase form `<hex of the env's first two characters>-<env>`.
    pub bucket: Option<String>,
    /// The public HTTPS base of stored files, for uses that take no file ID (WXSS `url()`).
    pub public_base: Option<String>,
    /// Data sets.
    pub data: Vec<DataMove>,
    /// Assets.
    pub assets: Vec<AssetMove>,
    /// Functions.
    pub functions: Vec<FunctionPlan>,
}

/// A problem in a plan file, with the byte range it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    /// Start of the range in the plan text.
    pub start: usize,
    /// End of the range.
    pub end: usize,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub help: String,
}

/// Records above this many are read through the data function.
pub const CLIENT_READ_LIMIT: u64 = 200;

impl Plan {
    /// The default plan for the findings.
    pub fn propose(findings: &Findings, env: Option<String>) -> Plan {
        let data = findings
            .static_data
            .iter()
            .map(|d| DataMove {
                id: d.id.clone(),
                action: Action::Move,
                collection: d.collection.clone(),
                via: if d.records > CLIENT_READ_LIMIT {
                    ReadVia::Function
                } else {
                    ReadVia::Client
                },
            })
            .collect();
        let assets = findings
            .large_assets
            .iter()
            .filter(|a| a.uploaded && a.target != AssetTarget::Local)
            .map(|a| AssetMove {
                id: a.id.clone(),
                action: Action::Move,
                cloud_path: cloud_path_of(&a.path),
            })
            .chain(
                findings
                    .inline_assets
                    .iter()
                    .filter(|a| a.target != AssetTarget::Local)
                    .map(|a| AssetMove {
                        id: a.id.clone(),
                        action: Action::Move,
                        cloud_path: inline_cloud_path(a),
                    }),
            )
            .collect();
        let third_party = third_party_hosts(findings);
        let functions = findings
            .proposed_functions
            .iter()
            .filter(|f| !third_party.contains(f.host.as_str()))
            .map(|f| FunctionPlan {
                name: f.name.clone(),
                host: f.host.clone(),
                routes: f
                    .routes
                    .iter()
                    .map(|r| RoutePlan {
                        route: r.clone(),
                        mode: RouteMode::Proxy,
                    })
                    .collect(),
            })
            .collect();
        // The env the app already starts cloud development in, when it names one.
        let env = env.or_else(|| {
            let mut envs = findings
                .cloud_uses
                .iter()
                .filter(|u| u.api == analyzer::findings::CloudApi::Init)
                .filter_map(|u| u.target.clone());
            let first = envs.next()?;
            envs.all(|e| e == first).then_some(first)
        });
        Plan {
            env,
            bucket: None,
            public_base: None,
            data,
            assets,
            functions,
        }
    }

    /// The storage bucket: the plan's, else the CloudBase default for the env.
    pub fn bucket(&self) -> Option<String> {
        if let Some(b) = &self.bucket {
            return Some(b.clone());
        }
        let env = self.env.as_deref()?;
        let hex: String = env.bytes().take(2).map(|b| format!("{b:02x}")).collect();
        Some(format!("{hex}-{env}"))
    }

    /// `cloud://<env>.<bucket>/<path>`, when the env is known.
    pub fn file_id(&self, cloud_path: &str) -> Option<String> {
        Some(format!(
            "cloud://{}.{}/{cloud_path}",
            self.env.as_deref()?,
            self.bucket()?
        ))
    }

    /// The public HTTPS URL of a stored file: the plan's base, else the bucket's CDN host.
    pub fn https_url(&self, cloud_path: &str) -> Option<String> {
        let base = match &self.public_base {
            Some(b) => b.trim_end_matches('/').to_string(),
            None => format!("https://{}.tcb.qcloud.la", self.bucket()?),
        };
        Some(format!("{base}/{cloud_path}"))
    }

    /// The plan as the JSON file `migrate plan` writes (stable order, two-space indent).
    pub fn to_json(&self) -> String {
        let action = |a: Action| match a {
            Action::Move => "move",
            Action::Keep => "keep",
        };
        let v = json!({
            "version": PLAN_VERSION,
            "env": self.env,
            "storage": {
                "bucket": self.bucket,
                "publicBase": self.public_base,
            },
            "data": self.data.iter().map(|d| json!({
                "id": d.id,
                "action": action(d.action),
                "collection": d.collection,
                "read": match d.via { ReadVia::Client => "client", ReadVia::Function => "function" },
            })).collect::<Vec<_>>(),
            "assets": self.assets.iter().map(|a| json!({
                "id": a.id,
                "action": action(a.action),
                "cloudPath": a.cloud_path,
            })).collect::<Vec<_>>(),
            "functions": self.functions.iter().map(|f| json!({
                "name": f.name,
                "host": f.host,
                "routes": f.routes.iter().map(|r| json!({
                    "route": r.route,
                    "mode": match r.mode { RouteMode::Proxy => "proxy", RouteMode::Handler => "handler" },
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        let mut s = serde_json::to_string_pretty(&v).expect("plan serializes");
        s.push('\n');
        s
    }

    /// Reads an (edited) plan and checks it against the findings. All problems are reported,
    /// not only the first.
    pub fn parse(text: &str, findings: &Findings) -> Result<Plan, Vec<PlanError>> {
        let root = match json_doc::parse(text) {
            Ok(j) => j,
            Err(e) => {
                return Err(vec![PlanError {
                    start: e.start as usize,
                    end: e.end as usize,
                    message: format!("the plan is not valid JSON: {}", e.message),
                    help: "fix the JSON syntax, or make the plan again with `migrate plan`".into(),
                }]);
            }
        };
        let mut cx = Check {
            errors: Vec::new(),
            findings,
        };
        let plan = cx.plan(&root);
        if cx.errors.is_empty() {
            Ok(plan)
        } else {
            Err(cx.errors)
        }
    }
}

/// Hosts that are someone else's service, not the app's backend: every call to them is made
/// inside a minified vendor file (`*.min.js`: a map SDK, an analytics snippet), and no host the
/// app's own code calls is under the same domain. The default plan gives them no function
/// (proxying a map API through the app's cloud functions would only add a hop and a bill); a
/// plan may still list one.
pub fn third_party_hosts(findings: &Findings) -> BTreeSet<&str> {
    let vendored = |path: &str| path.ends_with(".min.js");
    let mut own_domains: BTreeSet<&str> = BTreeSet::new();
    let mut only_vendored: BTreeMap<&str, bool> = BTreeMap::new();
    for c in &findings.backend_calls {
        let Some(host) = c.endpoint.host.as_deref() else {
            continue;
        };
        let v = vendored(&c.sink.path);
        if !v {
            own_domains.insert(site(host));
        }
        *only_vendored.entry(host).or_insert(true) &= v;
    }
    only_vendored
        .into_iter()
        .filter(|(host, only)| *only && !own_domains.contains(site(host)))
        .map(|(host, _)| host)
        .collect()
}

/// The registrable part of a host name, near enough: its last two labels, or three under a
/// second-level suffix such as `com.cn` or `co.uk` (`api.mallkit.example.cn` → `example.cn`,
/// `a.b.com.cn` → `b.com.cn`).
fn site(host: &str) -> &str {
    let labels: Vec<&str> = host.rsplit('.').collect();
    let keep = match labels.as_slice() {
        [tld, second, _, ..]
            if tld.len() == 2
                && matches!(*second, "com" | "net" | "org" | "gov" | "edu" | "co" | "ac") =>
        {
            3
        }
        _ => 2,
    };
    if labels.len() <= keep {
        return host;
    }
    let cut: usize = labels[..keep].iter().map(|l| l.len() + 1).sum();
    &host[host.len() + 1 - cut..]
}

/// What the plan checks of an asset it may move.
#[derive(Clone)]
struct AssetInfo<'f> {
    /// The file (for a data URI, its id).
    path: &'f str,
    target: AssetTarget,
    /// Where it goes by default.
    cloud_path: String,
}

/// The default storage path of a data URI: `inline/<file stem>-<offset>.<extension of its
/// type>` (`inline/iconfont-152.woff`), stable while the source does not move it.
pub fn inline_cloud_path(a: &analyzer::findings::InlineAsset) -> String {
    let stem = a
        .loc
        .path
        .rsplit('/')
        .next()
        .and_then(|f| f.split('.').next())
        .filter(|s| !s.is_empty())
        .unwrap_or("data");
    let sub = a.mime.split('/').nth(1).unwrap_or("bin");
    let ext = match sub.split(['+', ';']).next().unwrap_or("bin") {
        "jpeg" => "jpg",
        "x-icon" | "vnd.microsoft.icon" => "ico",
        "font-woff" => "woff",
        "font-woff2" => "woff2",
        "x-font-ttf" | "font-ttf" => "ttf",
        e if !e.is_empty() && e.chars().all(|c| c.is_ascii_alphanumeric()) => e,
        _ => "bin",
    };
    format!("inline/{stem}-{}.{ext}", a.loc.start)
}

/// The storage path of a project file: its path below the mini-program root's first folder
/// (`miniprogram/images/a.png` → `images/a.png`).
pub fn cloud_path_of(path: &str) -> String {
    match path.split_once('/') {
        Some((_, rest)) if !rest.is_empty() => rest.to_string(),
        _ => path.to_string(),
    }
}

struct Check<'f> {
    errors: Vec<PlanError>,
    findings: &'f Findings,
}

fn span(j: &Json) -> (usize, usize) {
    (j.start as usize, j.end as usize)
}

impl Check<'_> {
    fn err(&mut self, at: (usize, usize), message: impl Into<String>, help: impl Into<String>) {
        self.errors.push(PlanError {
            start: at.0,
            end: at.1,
            message: message.into(),
            help: help.into(),
        });
    }

    /// The object's members, with unknown keys reported.
    fn object<'j>(
        &mut self,
        j: &'j Json,
        what: &str,
        known: &[&str],
    ) -> BTreeMap<&'j str, &'j Json> {
        let mut out = BTreeMap::new();
        let JsonKind::Object(members) = &j.kind else {
            self.err(
                span(j),
                format!("{what} must be an object, not {}", j.type_name()),
                "see docs/plan-schema.md",
            );
            return out;
        };
        for m in members {
            if !known.contains(&m.key.as_str()) {
                self.err(
                    (m.key_start as usize, m.key_end as usize),
                    format!("unknown key `{}` in {what}", m.key),
                    format!("the keys of {what} are: {}", known.join(", ")),
                );
                continue;
            }
            out.insert(m.key.as_str(), &m.value);
        }
        out
    }

    fn string(&mut self, j: Option<&Json>, at: (usize, usize), what: &str) -> Option<String> {
        match j {
            None => {
                self.err(at, format!("{what} is missing"), format!("add {what}"));
                None
            }
            Some(v) => match v.as_str() {
                Some(s) => Some(s.to_string()),
                None => {
                    self.err(
                        span(v),
                        format!("{what} must be a string, not {}", v.type_name()),
                        "write it in double quotes",
                    );
                    None
                }
            },
        }
    }

    fn optional_string(&mut self, j: Option<&Json>, what: &str) -> Option<String> {
        match j {
            None => None,
            Some(v) if matches!(v.kind, JsonKind::Null) => None,
            Some(v) => match v.as_str() {
                Some(s) if !s.trim().is_empty() => Some(s.to_string()),
                _ => {
                    self.err(
                        span(v),
                        format!("{what} must be a string or null"),
                        "write it in double quotes, or null",
                    );
                    None
                }
            },
        }
    }

    fn choice<T: Copy>(
        &mut self,
        j: Option<&Json>,
        what: &str,
        options: &[(&str, T)],
        default: T,
    ) -> T {
        let Some(v) = j else { return default };
        let names: Vec<&str> = options.iter().map(|o| o.0).collect();
        match v.as_str().and_then(|s| options.iter().find(|o| o.0 == s)) {
            Some(o) => o.1,
            None => {
                self.err(
                    span(v),
                    format!("{what} must be one of {}", names.join(", ")),
                    format!("write one of: {}", names.join(", ")),
                );
                default
            }
        }
    }

    fn array<'j>(&mut self, j: Option<&'j Json>, what: &str) -> &'j [Json] {
        match j {
            None => &[],
            Some(v) => match v.as_array() {
                Some(a) => a,
                None => {
                    self.err(
                        span(v),
                        format!("{what} must be an array"),
                        "write it as [ … ]",
                    );
                    &[]
                }
            },
        }
    }

    /// An entry of `data`/`assets`: its keys checked, its `id` one the analysis has (`known`)
    /// and not listed before (`seen`). `noun` names the finding and where its ids are.
    fn entry<'j, T: Clone>(
        &mut self,
        item: &'j Json,
        keys: &[&str],
        known: &BTreeMap<&str, T>,
        seen: &mut BTreeSet<String>,
        noun: (&str, &str),
    ) -> Option<(BTreeMap<&'j str, &'j Json>, String, T)> {
        let (what, ids) = noun;
        let o = self.object(item, &format!("a {what} entry"), keys);
        let id = self.string(
            o.get("id").copied(),
            span(item),
            &format!("the {what}'s `id`"),
        )?;
        let at = span(o["id"]);
        let Some(found) = known.get(id.as_str()).cloned() else {
            self.err(
                at,
                format!("the analysis has no {what} `{id}`"),
                format!(
                    "use an id from `migrate analyze --format json` ({ids}), or make the plan again"
                ),
            );
            return None;
        };
        if !seen.insert(id.clone()) {
            self.err(
                at,
                format!("{what} `{id}` is listed twice"),
                format!("keep one entry per {what}"),
            );
            return None;
        }
        Some((o, id, found))
    }

    fn plan(&mut self, root: &Json) -> Plan {
        let top = self.object(
            root,
            "the plan",
            &["version", "env", "storage", "data", "assets", "functions"],
        );
        match top.get("version").and_then(|v| v.as_f64()) {
            Some(v) if v == f64::from(PLAN_VERSION) => {}
            _ => {
                let at = top
                    .get("version")
                    .map_or((root.start as usize, root.start as usize + 1), |v| span(v));
                self.err(
                    at,
                    format!("this plan is not version {PLAN_VERSION}"),
                    "make the plan again with `migrate plan`",
                );
            }
        }
        let env = self.optional_string(top.get("env").copied(), "`env`");
        if let Some(e) = &env
            && !e
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            let at = span(top["env"]);
            self.err(
                at,
                format!("`{e}` is not a cloud environment id"),
                "an env id is letters, digits and `-`, as the CloudBase console shows it",
            );
        }
        let (mut bucket, mut public_base) = (None, None);
        if let Some(s) = top.get("storage") {
            let st = self.object(s, "`storage`", &["bucket", "publicBase"]);
            bucket = self.optional_string(st.get("bucket").copied(), "`storage.bucket`");
            public_base =
                self.optional_string(st.get("publicBase").copied(), "`storage.publicBase`");
            if let (Some(p), Some(j)) = (&public_base, st.get("publicBase"))
                && !p.starts_with("https://")
            {
                self.err(
                    span(j),
                    "`storage.publicBase` must be an https:// URL",
                    "mini-programs load network files over HTTPS only",
                );
            }
        }
        let data = self.data(top.get("data").copied());
        let assets = self.assets(top.get("assets").copied(), env.is_some());
        let functions = self.functions(top.get("functions").copied());
        Plan {
            env,
            bucket,
            public_base,
            data,
            assets,
            functions,
        }
    }

    fn data(&mut self, j: Option<&Json>) -> Vec<DataMove> {
        let known: BTreeMap<&str, &analyzer::findings::StaticData> = self
            .findings
            .static_data
            .iter()
            .map(|d| (d.id.as_str(), d))
            .collect();
        let mut seen_ids = BTreeSet::new();
        let mut seen_collections: BTreeSet<String> = BTreeSet::new();
        let mut out = Vec::new();
        for item in self.array(j, "`data`") {
            let Some((o, id, found)) = self.entry(
                item,
                &["id", "action", "collection", "read"],
                &known,
                &mut seen_ids,
                ("data set", "findings.staticData[].id"),
            ) else {
                continue;
            };
            let action = self.choice(
                o.get("action").copied(),
                "`action`",
                &[("move", Action::Move), ("keep", Action::Keep)],
                Action::Move,
            );
            let collection = self
                .optional_string(o.get("collection").copied(), "`collection`")
                .unwrap_or_else(|| found.collection.clone());
            let at = o.get("collection").map_or(span(item), |c| span(c));
            if !valid_collection(&collection) {
                self.err(at, format!("`{collection}` is not a valid collection name"), "a collection name is letters, digits, `_` and `-`, starts with a letter, at most 32 characters");
            } else if action == Action::Move && !seen_collections.insert(collection.clone()) {
                self.err(
                    at,
                    format!("two data sets move into collection `{collection}`"),
                    "give each data set its own collection",
                );
            }
            let via = self.choice(
                o.get("read").copied(),
                "`read`",
                &[("client", ReadVia::Client), ("function", ReadVia::Function)],
                if found.records > CLIENT_READ_LIMIT {
                    ReadVia::Function
                } else {
                    ReadVia::Client
                },
            );
            out.push(DataMove {
                id,
                action,
                collection,
                via,
            });
        }
        out
    }

    fn assets(&mut self, j: Option<&Json>, has_env: bool) -> Vec<AssetMove> {
        // Large asset files, and base64 data URIs written into the source (which move to a
        // stored file of their own).
        let mut known: BTreeMap<&str, AssetInfo<'_>> = BTreeMap::new();
        for a in &self.findings.large_assets {
            known.insert(
                &a.id,
                AssetInfo {
                    path: &a.path,
                    target: a.target,
                    cloud_path: cloud_path_of(&a.path),
                },
            );
        }
        for a in &self.findings.inline_assets {
            known.insert(
                &a.id,
                AssetInfo {
                    path: &a.id,
                    target: a.target,
                    cloud_path: inline_cloud_path(a),
                },
            );
        }
        let mut seen = BTreeSet::new();
        let mut paths = BTreeSet::new();
        let mut out = Vec::new();
        for item in self.array(j, "`assets`") {
            let Some((o, id, found)) = self.entry(
                item,
                &["id", "action", "cloudPath"],
                &known,
                &mut seen,
                (
                    "asset",
                    "findings.largeAssets[].id or findings.inlineAssets[].id",
                ),
            ) else {
                continue;
            };
            let action = self.choice(
                o.get("action").copied(),
                "`action`",
                &[("move", Action::Move), ("keep", Action::Keep)],
                Action::Move,
            );
            let at = o.get("action").map_or(span(item), |a| span(a));
            if action == Action::Move && found.target == AssetTarget::Local {
                self.err(at, format!("`{}` must stay in the package", found.path), "a tabBar icon or another use that takes only package files refers to it: keep it (\"action\": \"keep\")");
            }
            if action == Action::Move && found.target == AssetTarget::CloudFileId && !has_env {
                self.err(at, format!("moving `{}` needs the cloud environment id", found.path), "set `env` at the top of the plan (the id from the CloudBase console), or keep the asset");
            }
            let cloud_path = self
                .optional_string(o.get("cloudPath").copied(), "`cloudPath`")
                .unwrap_or_else(|| found.cloud_path.clone());
            let at = o.get("cloudPath").map_or(span(item), |c| span(c));
            if !valid_cloud_path(&cloud_path) {
                self.err(
                    at,
                    format!("`{cloud_path}` is not a storage path"),
                    "a storage path is not empty, has no leading `/`, no `//` and no `..`",
                );
            } else if action == Action::Move && !paths.insert(cloud_path.clone()) {
                self.err(
                    at,
                    format!("two assets move to `{cloud_path}`"),
                    "give each asset its own cloudPath",
                );
            }
            out.push(AssetMove {
                id,
                action,
                cloud_path,
            });
        }
        out
    }

    fn functions(&mut self, j: Option<&Json>) -> Vec<FunctionPlan> {
        // Every route the analysis proposed, by host.
        let mut known: BTreeSet<(String, String)> = BTreeSet::new();
        for f in &self.findings.proposed_functions {
            for r in &f.routes {
                known.insert((f.host.clone(), r.clone()));
            }
        }
        let mut names = BTreeSet::new();
        let mut routes_seen = BTreeSet::new();
        let mut out = Vec::new();
        for item in self.array(j, "`functions`") {
            let o = self.object(item, "a function entry", &["name", "host", "routes"]);
            let Some(name) =
                self.string(o.get("name").copied(), span(item), "the function's `name`")
            else {
                continue;
            };
            let name_at = span(o["name"]);
            if !valid_function_name(&name) {
                self.err(name_at, format!("`{name}` is not a valid cloud function name"), "a function name is letters, digits, `_` and `-`, starts with a letter, at most 60 characters");
            } else if !names.insert(name.clone()) {
                self.err(
                    name_at,
                    format!("two functions are named `{name}`"),
                    "give each function its own name",
                );
            }
            let Some(host) =
                self.string(o.get("host").copied(), span(item), "the function's `host`")
            else {
                continue;
            };
            let mut routes = Vec::new();
            for r in self.array(o.get("routes").copied(), "`routes`") {
                let ro = self.object(r, "a route entry", &["route", "mode"]);
                let Some(route) = self.string(ro.get("route").copied(), span(r), "the route")
                else {
                    continue;
                };
                let at = span(ro["route"]);
                if !known.contains(&(host.clone(), route.clone())) {
                    self.err(at, format!("the analysis has no route `{route}` on {host}"), "use a route of `migrate analyze --format json` (findings.proposedFunctions[].routes) with its host");
                    continue;
                }
                if !routes_seen.insert((host.clone(), route.clone())) {
                    self.err(
                        at,
                        format!("route `{route}` is in two functions"),
                        "a route belongs to one function: remove the other entry",
                    );
                    continue;
                }
                let mode = self.choice(
                    ro.get("mode").copied(),
                    "`mode`",
                    &[("proxy", RouteMode::Proxy), ("handler", RouteMode::Handler)],
                    RouteMode::Proxy,
                );
                routes.push(RoutePlan { route, mode });
            }
            out.push(FunctionPlan { name, host, routes });
        }
        out
    }
}

fn valid_collection(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.len() <= 32
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn valid_function_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.len() <= 60
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn valid_cloud_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains("//")
        && !path.split('/').any(|s| s == ".." || s == ".")
        && path.len() <= 850
}

/// A plan value as JSON (for tests and the JSON report of `apply`).
pub fn value_of(plan: &Plan) -> Value {
    serde_json::from_str(&plan.to_json()).expect("the plan's own JSON parses")
}

#[cfg(test)]
mod tests {
    use super::site;

    #[test]
    fn sites() {
        assert_eq!(site("api.mallkit.example.cn"), "example.cn");
        assert_eq!(site("geo.example-lbs.cn"), "example-lbs.cn");
        assert_eq!(site("a.b.com.cn"), "b.com.cn");
        assert_eq!(site("example.com"), "example.com");
        assert_eq!(site("localhost"), "localhost");
    }
}
