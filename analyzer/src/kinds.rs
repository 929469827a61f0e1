//! The table of finding kinds: one [`Kind`] implementation per kind of finding, declaring its
//! rule id, title, level, messages, summary counts, `--fail-on` name and savings. The human,
//! JSON and SARIF reports, the summary, the size accounting and the CLI all read them from here;
//! the size verdicts (unused files, packages over their limit) are declared beside their types
//! in [`crate::sizes`].
//!
//! Wording: the message says what the finding is and why it matters, the help what to do next
//! (biome's rules for diagnostics). The human report shows both; SARIF joins them.

#![warn(missing_docs)]

use std::borrow::Cow;

use crate::findings::{
    AssetTarget, BackendCall, CloudApi, CloudUse, Count, DataShape, DataSource, DuplicateAssets,
    InlineAsset, Kind, LargeAsset, Level, Moves, NetworkApi, Place, ProposedFunction, Resolution,
    Saving, StaticData, Wrapper, WrapperKind,
};
use crate::project::Project;

/// Formats a byte count the way the limits are written (`2.00 MB`, `312.4 KB`).
pub fn human_bytes(n: u64) -> String {
    const KB: f64 = 1024.0;
    let f = n as f64;
    if f >= KB * KB {
        format!("{:.2} MB", f / KB / KB)
    } else if f >= KB {
        format!("{:.1} KB", f / KB)
    } else {
        format!("{n} B")
    }
}

/// `1 record`, `3 records`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl Kind for StaticData {
    const RULE: &'static str = "static-data";
    const TITLE: &'static str = "Static data bundled in the package";
    const HELP: &'static str = "Move it into a cloud database collection: it stops counting toward \
        the package limit and can change without a release.";
    const LEVEL: Level = Level::Warning;
    const NOUN: &'static str = "static data sets";
    const FAIL_ON: Option<&'static str> = Some("static-data");
    const COUNTS: &'static [Count<Self>] = &[
        Count {
            key: "staticData",
            what: ["static data set", "static data sets"],
            of: |d| d.len() as u64,
        },
        Count {
            key: "staticDataRecords",
            what: ["record in them", "records in them"],
            of: |d| d.iter().map(|d| d.records).sum(),
        },
    ];

    fn id(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.id)
    }

    fn message(&self) -> String {
        let what = match self.shape {
            DataShape::Collection { .. } => count(self.records as usize, "record", "records"),
            DataShape::Document { .. } => "a document".to_string(),
            DataShape::List => format!(
                "a list of {}",
                count(self.records as usize, "value", "values")
            ),
        };
        format!(
            "`{}` is {what} ({}) of static data bundled in package `{}`",
            self.id,
            human_bytes(self.bytes),
            self.package
        )
    }

    fn help(&self) -> String {
        let readers = match self.consumers.len() {
            0 => "Nothing in the code reads it yet.".to_string(),
            n => format!("{} to rewrite.", count(n, "consumer", "consumers")),
        };
        format!(
            "Move it into the cloud collection `{}`: it stops counting toward the package limit \
             and can change without a release. {readers}",
            self.collection
        )
    }

    fn label(&self) -> Option<String> {
        Some(format!("moves to collection `{}`", self.collection))
    }

    fn places(&self) -> Vec<Place<'_>> {
        vec![Place::At(&self.loc)]
    }

    fn saves(&self, project: &Project) -> Option<Saving<'_>> {
        let file = self
            .loc
            .span
            .map(|s| project.file(s.file))
            .filter(|f| f.uploaded)?;
        // A data module or JSON file whose whole value moves saves the file's bytes; a literal
        // inside a page saves the literal's bytes.
        let bytes = match self.source {
            DataSource::JsonFile => file.bytes,
            _ => self.bytes.min(file.bytes),
        };
        Some(Saving {
            package: &self.package,
            file: &self.loc.path,
            bytes,
            to: Moves::ToDatabase,
        })
    }
}

impl Kind for LargeAsset {
    const RULE: &'static str = "large-asset";
    const TITLE: &'static str = "Large asset in the package";
    const HELP: &'static str =
        "Move it into cloud storage and reference it by cloud:// file ID or HTTPS URL.";
    const LEVEL: Level = Level::Warning;
    const NOUN: &'static str = "large assets";
    const FAIL_ON: Option<&'static str> = Some("large-asset");
    const COUNTS: &'static [Count<Self>] = &[Count {
        key: "largeAssets",
        what: ["large asset", "large assets"],
        of: |a| a.len() as u64,
    }];

    fn id(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.id)
    }

    fn message(&self) -> String {
        let refs = count(self.references.len(), "reference", "references");
        if self.uploaded {
            format!(
                "{} is {}, uploaded in package `{}` ({refs})",
                self.path,
                human_bytes(self.bytes),
                self.package
            )
        } else {
            format!(
                "{} is {} and left out of the upload, yet {refs} point at it",
                self.path,
                human_bytes(self.bytes)
            )
        }
    }

    fn help(&self) -> String {
        if !self.uploaded {
            return "Upload it to cloud storage and point the references at its cloud:// file ID \
                    or HTTPS URL: the package does not hold it."
                .to_string();
        }
        if self.references.is_empty() {
            return format!(
                "Nothing references it: delete it, and the package shrinks by {}.",
                human_bytes(self.bytes)
            );
        }
        if !self.used {
            return format!(
                "Only files the app never loads reference it: delete it with them, or move it to \
                 cloud storage; either way the package shrinks by {}.",
                human_bytes(self.bytes)
            );
        }
        match self.target {
            AssetTarget::CloudFileId => format!(
                "Move it to cloud storage and reference it by its cloud:// file ID; the package \
                 shrinks by {}.",
                human_bytes(self.saves)
            ),
            AssetTarget::HttpsUrl => format!(
                "Move it to cloud storage and reference it by an HTTPS URL (a reference here cannot \
                 take a cloud:// file ID); the package shrinks by {}.",
                human_bytes(self.saves)
            ),
            AssetTarget::Local => "Keep it in the package, as a reference here needs a local file \
                 (a tabBar icon, a toast image), and make the file smaller."
                .to_string(),
        }
    }

    fn label(&self) -> Option<String> {
        Some("referenced here".to_string())
    }

    fn places(&self) -> Vec<Place<'_>> {
        std::iter::once(Place::File(&self.path))
            .chain(self.references.iter().map(|r| Place::At(&r.loc)))
            .collect()
    }

    fn saves(&self, _project: &Project) -> Option<Saving<'_>> {
        Some(Saving {
            package: &self.package,
            file: &self.path,
            bytes: self.saves,
            to: Moves::ToStorage,
        })
    }
}

impl Kind for InlineAsset {
    const RULE: &'static str = "inline-asset";
    const TITLE: &'static str = "Large base64 data URI";
    const HELP: &'static str = "Move the bytes into cloud storage and reference them by HTTPS URL.";
    const LEVEL: Level = Level::Note;
    const NOUN: &'static str = "inline assets";
    const FAIL_ON: Option<&'static str> = Some("inline-asset");
    const COUNTS: &'static [Count<Self>] = &[Count {
        key: "inlineAssets",
        what: ["inline asset", "inline assets"],
        of: |a| a.len() as u64,
    }];

    fn id(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.id)
    }

    fn message(&self) -> String {
        format!(
            "a data URI ({}, {}) is written into the source, adding {} of base64 text to \
             package `{}`",
            self.mime,
            human_bytes(self.bytes),
            human_bytes(u64::from(self.loc.end - self.loc.start)),
            self.package
        )
    }

    fn help(&self) -> String {
        match self.target {
            AssetTarget::CloudFileId => "Upload the file to cloud storage and reference it by its \
                 cloud:// file ID instead."
                .to_string(),
            AssetTarget::HttpsUrl => {
                "Upload the file to cloud storage and reference it by HTTPS URL instead."
                    .to_string()
            }
            AssetTarget::Local => "It is used where only a local file works: save it as a file in \
                 the package instead, which at least drops the base64 overhead."
                .to_string(),
        }
    }

    fn places(&self) -> Vec<Place<'_>> {
        vec![Place::At(&self.loc)]
    }

    fn saves(&self, _project: &Project) -> Option<Saving<'_>> {
        // The base64 text is 4/3 of the decoded bytes; that text leaves the package.
        Some(Saving {
            package: &self.package,
            file: &self.loc.path,
            bytes: u64::from(self.loc.end - self.loc.start),
            to: Moves::ToStorage,
        })
    }
}

impl Kind for DuplicateAssets {
    const RULE: &'static str = "duplicate-assets";
    const TITLE: &'static str = "Identical files stored more than once";
    const HELP: &'static str = "Keep one copy and point every reference at it.";
    const LEVEL: Level = Level::Note;
    const NOUN: &'static str = "sets of identical files";

    fn id(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.id)
    }

    fn message(&self) -> String {
        let files = match self.files.as_slice() {
            [init @ .., last] if !init.is_empty() => format!("{} and {last}", init.join(", ")),
            all => all.join(""),
        };
        let cost = if self.wasted > 0 {
            format!("{} of the upload is duplicated", human_bytes(self.wasted))
        } else {
            "only one of them is uploaded".to_string()
        };
        format!(
            "{files} are identical ({} each): {cost}",
            human_bytes(self.bytes)
        )
    }

    fn help(&self) -> String {
        let keep = self.files.first().map_or("", String::as_str);
        if self.wasted > 0 {
            format!(
                "Keep {keep}, point the references to the others at it and delete them; the \
                 upload shrinks by {}.",
                human_bytes(self.wasted)
            )
        } else {
            format!("Only one copy is uploaded; keep {keep} and delete the others.")
        }
    }

    fn places(&self) -> Vec<Place<'_>> {
        self.files.iter().map(|f| Place::File(f)).collect()
    }
}

impl Kind for BackendCall {
    const RULE: &'static str = "backend-call";
    const TITLE: &'static str = "Backend call to a self-hosted server";
    const HELP: &'static str =
        "Move the endpoint into a cloud function and call it with wx.cloud.callFunction.";
    const LEVEL: Level = Level::Note;
    const NOUN: &'static str = "backend calls";
    const FAIL_ON: Option<&'static str> = Some("backend-call");
    const COUNTS: &'static [Count<Self>] = &[
        Count {
            key: "backendCalls",
            what: ["backend call", "backend calls"],
            of: |c| c.len() as u64,
        },
        Count {
            key: "dynamicEndpoints",
            what: [
                "with a URL known only at run time",
                "with a URL known only at run time",
            ],
            of: |c| {
                c.iter()
                    .filter(|c| c.endpoint.resolution == Resolution::Dynamic)
                    .count() as u64
            },
        },
    ];

    fn id(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.id)
    }

    fn message(&self) -> String {
        let what = match (self.endpoint.resolution, self.api) {
            (Resolution::Dynamic, _) => "a URL known only at run time".to_string(),
            (_, NetworkApi::ConnectSocket) => self.endpoint.url.clone(),
            _ => format!(
                "{} {}",
                self.method.as_deref().unwrap_or("GET"),
                self.endpoint.url
            ),
        };
        let via = match self.via.as_slice() {
            [] => String::new(),
            chain => format!(", through `{}`", chain.join("` → `")),
        };
        let uncalled = match (&self.inside, self.uncalled_wrapper) {
            (Some(f), true) => format!(
                " (inside `{}`, which nothing calls: no call site fills its URL)",
                f.rsplit('#').next().unwrap_or(f)
            ),
            _ => String::new(),
        };
        format!(
            "{} calls {what} on a server of your own{via}{uncalled}",
            self.api.name()
        )
    }

    fn help(&self) -> String {
        if self.api == NetworkApi::ConnectSocket {
            return "Cloud functions do not keep WebSocket connections open: this one stays on \
                    your server."
                .to_string();
        }
        if let Some(f) = &self.function {
            let route = format!(
                "{} {}",
                self.method.as_deref().unwrap_or("GET"),
                self.endpoint.path.as_deref().unwrap_or("/")
            );
            return format!(
                "Serve `{route}` from the cloud function `{f}` and call it with \
                 wx.cloud.callFunction."
            );
        }
        match self.endpoint.dynamic.first() {
            Some(l) => format!(
                "The URL is built at {}:{}: make its host and path known there, or move the call \
                 to a cloud function by hand.",
                l.path, l.line
            ),
            None => {
                "Its path is not known, so no cloud function is proposed for it: move the call \
                     to a cloud function by hand."
                    .to_string()
            }
        }
    }

    fn places(&self) -> Vec<Place<'_>> {
        vec![Place::At(&self.loc)]
    }
}

impl Kind for Wrapper {
    const RULE: &'static str = "request-wrapper";
    const TITLE: &'static str = "Function that wraps a network call";
    const HELP: &'static str =
        "Rewriting the wrapper moves every call made through it to cloud functions at once.";
    const LEVEL: Level = Level::Note;
    const NOUN: &'static str = "wrappers";
    const COUNTS: &'static [Count<Self>] = &[Count {
        key: "wrappers",
        what: ["wrapper", "wrappers"],
        of: |w| w.len() as u64,
    }];

    fn id(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.id)
    }

    fn message(&self) -> String {
        format!(
            "`{}` wraps `{}`: {} go through it",
            self.id,
            self.calls,
            count(self.call_sites.len(), "backend call", "backend calls")
        )
    }

    fn help(&self) -> String {
        let what = match self.kind {
            WrapperKind::Function => "function",
            WrapperKind::Method => "method",
            WrapperKind::ObjectMember => "object member",
        };
        format!(
            "Rewriting this one {what} to call the cloud functions moves {} at once.",
            count(self.call_sites.len(), "call", "calls")
        )
    }

    fn places(&self) -> Vec<Place<'_>> {
        vec![Place::At(&self.loc)]
    }
}

impl Kind for CloudUse {
    const RULE: &'static str = "cloud-use";
    const TITLE: &'static str = "Cloud development already in use";
    const HELP: &'static str = "Nothing to move: `migrate apply` keeps it, reuses its env and gives \
        new functions and collections other names.";
    const LEVEL: Level = Level::Note;
    const NOUN: &'static str = "cloud uses";
    const COUNTS: &'static [Count<Self>] = &[Count {
        key: "cloudUses",
        what: ["use of cloud development", "uses of cloud development"],
        of: |u| u.len() as u64,
    }];

    fn id(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.id)
    }

    fn message(&self) -> String {
        let t = self.target.as_deref();
        if let Some(f) = &self.in_function {
            return match (self.api, t) {
                (CloudApi::CallFunction, Some(g)) => {
                    format!("cloud function `{f}` calls cloud function `{g}`")
                }
                (CloudApi::Collection, Some(c)) => {
                    format!("cloud function `{f}` uses cloud collection `{c}`")
                }
                (CloudApi::Storage, _) => format!("cloud function `{f}` uses cloud storage"),
                _ => format!("cloud function `{f}` uses cloud development"),
            };
        }
        match (self.api, t) {
            (CloudApi::Init, Some(env)) => {
                format!("the app starts cloud development in env `{env}`")
            }
            (CloudApi::Init, None) => {
                "the app starts cloud development (its env is chosen at run time or is the default)"
                    .to_string()
            }
            (CloudApi::CallFunction, Some(f)) => format!("the app calls cloud function `{f}`"),
            (CloudApi::CallFunction, None) => {
                "the app calls a cloud function named at run time".to_string()
            }
            (CloudApi::Collection, Some(c)) => format!("the app uses cloud collection `{c}`"),
            (CloudApi::Collection, None) => "the app uses a cloud collection".to_string(),
            (CloudApi::Storage, _) => "the app uses cloud storage".to_string(),
            (CloudApi::Function, Some(f)) => format!("cloud function `{f}` exists in the project"),
            (CloudApi::Function, None) => "a cloud function exists in the project".to_string(),
        }
    }

    fn help(&self) -> String {
        match self.api {
            CloudApi::Init => "`migrate apply` reuses this env and adds no second init.".into(),
            CloudApi::Function | CloudApi::CallFunction => {
                "Already on cloud development; new functions get other names.".into()
            }
            CloudApi::Collection => {
                "Already on cloud development; moved data sets get other collection names.".into()
            }
            CloudApi::Storage => "Already on cloud development: nothing to move.".into(),
        }
    }

    fn places(&self) -> Vec<Place<'_>> {
        vec![Place::At(&self.loc)]
    }
}

impl Kind for ProposedFunction {
    const RULE: &'static str = "proposed-function";
    const TITLE: &'static str = "Cloud function proposed for a group of routes";
    const HELP: &'static str = "Write the cloud function from the server code of its routes, then \
        call it with wx.cloud.callFunction.";
    const LEVEL: Level = Level::Note;
    const NOUN: &'static str = "proposed cloud functions";
    const COUNTS: &'static [Count<Self>] = &[Count {
        key: "proposedFunctions",
        what: ["proposed cloud function", "proposed cloud functions"],
        of: |p| p.len() as u64,
    }];

    fn id(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.id)
    }

    fn message(&self) -> String {
        format!(
            "cloud function `{}` would serve {} of {}{}, called from {}",
            self.name,
            count(self.routes.len(), "route", "routes"),
            self.host,
            self.path_prefix,
            count(self.calls.len(), "place", "places")
        )
    }

    fn help(&self) -> String {
        let shown: Vec<String> = self
            .routes
            .iter()
            .take(3)
            .map(|r| format!("`{r}`"))
            .collect();
        if shown.is_empty() {
            return "Write it from your server's code, then call it with wx.cloud.callFunction."
                .to_string();
        }
        let more = match self.routes.len().saturating_sub(shown.len()) {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        format!(
            "Write it from the server code behind {}{more}, then call it with \
             wx.cloud.callFunction.",
            shown.join(", ")
        )
    }

    fn places(&self) -> Vec<Place<'_>> {
        Vec::new()
    }
}
