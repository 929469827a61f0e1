//! `app.json`: pages, subpackages, tabBar (with `@var` icons through `theme.json`), global
//! components, `resolveAlias`, workers and the other keys that change what lands in a package.

use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::json_doc::{Json, JsonKind};
use crate::span::{FileId, Span};

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Located<T> {
    pub value: T,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppConfig {
    /// Main-package pages, as written (`pages/index/index`).
    pub pages: Vec<Located<String>>,
    pub subpackages: Vec<SubpackageDecl>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tab_bar: Option<TabBar>,
    /// Global `usingComponents`: tag name → component path.
    pub using_components: Vec<(String, Located<String>)>,
    /// `resolveAlias` entries, `("@utils/*", "utils/*")`.
    pub resolve_alias: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sitemap_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theme_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_page_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lazy_code_loading: Option<String>,
    /// Names of plugins declared in `plugins`.
    pub plugins: Vec<String>,
    /// Extended libraries the platform provides (`useExtendedLib: { "weui": true }`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extended_libs: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SubpackageDecl {
    /// Root folder relative to the mini-program root, without leading or trailing `/`.
    pub root: Located<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Pages relative to `root`.
    pub pages: Vec<Located<String>>,
    pub independent: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TabBar {
    pub custom: bool,
    pub items: Vec<TabBarItem>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TabBarItem {
    pub page_path: String,
    /// Icon paths after theme variables are resolved; one entry per theme for `@var` icons.
    pub icons: Vec<TabIcon>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TabIcon {
    /// `iconPath` or `selectedIconPath`.
    pub key: &'static str,
    /// The path the icon resolves to (relative to the mini-program root, as written).
    pub path: String,
    /// The theme variable it came through (`@tabHomeIcon`) and the theme (`light`/`dark`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// Where the path is written: in app.json, or in theme.json for `@var` icons.
    #[serde(skip)]
    pub span: Span,
}

/// Strips `./` and leading/trailing `/` from a path written in app.json.
pub fn norm_dir(s: &str) -> String {
    s.trim()
        .trim_start_matches("./")
        .trim_matches('/')
        .to_string()
}

fn span_of(file: FileId, v: &Json) -> Span {
    Span::new(file, v.start as usize, v.end as usize)
}

fn strings(
    file: FileId,
    path: &str,
    v: Option<&Json>,
    what: &str,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Located<String>> {
    let Some(v) = v else { return Vec::new() };
    let Some(items) = v.as_array() else {
        diags.push(
            Diagnostic::error(
                "config/invalid-value",
                format!(
                    "`{what}` must be an array of strings, found {}",
                    v.type_name()
                ),
            )
            .at(path, Some(span_of(file, v))),
        );
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item.as_str() {
            Some(s) => Some(Located {
                value: s.trim_start_matches('/').to_string(),
                span: span_of(file, item),
            }),
            None => {
                diags.push(
                    Diagnostic::error(
                        "config/invalid-value",
                        format!(
                            "an entry of `{what}` must be a string, found {}",
                            item.type_name()
                        ),
                    )
                    .at(path, Some(span_of(file, item))),
                );
                None
            }
        })
        .collect()
}

impl AppConfig {
    /// Whether `spec` (a component or import path) names a library the platform provides through
    /// `useExtendedLib`, such as `weui-miniprogram/dialog/dialog` when `weui` is on.
    pub fn is_extended_lib(&self, spec: &str) -> bool {
        let first = spec.trim_start_matches('/').split('/').next().unwrap_or("");
        self.extended_libs.iter().any(|lib| {
            first == lib.as_str() || first.strip_suffix("-miniprogram") == Some(lib.as_str())
        })
    }

    /// Reads app.json. `theme` is the parsed theme.json (with its file id) when `themeLocation`
    /// names one; it resolves `@var` tabBar icons.
    pub fn from_json(
        file: FileId,
        path: &str,
        json: &Json,
        theme: Option<(FileId, &str, &Json)>,
        diags: &mut Vec<Diagnostic>,
    ) -> AppConfig {
        let mut app = AppConfig {
            pages: strings(file, path, json.get("pages"), "pages", diags),
            ..AppConfig::default()
        };
        if app.pages.is_empty() {
            diags.push(
                Diagnostic::error("config/no-pages", "app.json lists no pages")
                    .at(path, Some(span_of(file, json)))
                    .help("add the page paths to `pages`, e.g. \"pages/index/index\""),
            );
        }
        let subs = match (json.get("subpackages"), json.get("subPackages")) {
            (Some(a), Some(_)) => {
                diags.push(
                    Diagnostic::warning(
                        "config/duplicate-key",
                        "app.json has both `subpackages` and `subPackages`; using `subpackages`",
                    )
                    .at(path, Some(span_of(file, a))),
                );
                Some(a)
            }
            (a, b) => a.or(b),
        };
        if let Some(subs) = subs {
            match subs.as_array() {
                Some(items) => {
                    for item in items {
                        if let Some(sub) = Self::subpackage(file, path, item, diags) {
                            app.subpackages.push(sub);
                        }
                    }
                }
                None => diags.push(
                    Diagnostic::error(
                        "config/invalid-value",
                        format!("`subpackages` must be an array, found {}", subs.type_name()),
                    )
                    .at(path, Some(span_of(file, subs))),
                ),
            }
        }
        if let Some(comps) = json.get("usingComponents") {
            app.using_components = components(file, path, comps, diags);
        }
        for m in json.get("resolveAlias").map(Json::members).unwrap_or(&[]) {
            if let Some(v) = m.value.as_str() {
                app.resolve_alias.push((m.key.clone(), v.to_string()));
            }
        }
        app.workers = match json.get("workers") {
            Some(w) => w
                .as_str()
                .map(norm_dir)
                .or_else(|| w.get("path").and_then(Json::as_str).map(norm_dir)),
            None => None,
        };
        app.sitemap_location = json
            .get("sitemapLocation")
            .and_then(Json::as_str)
            .map(norm_dir);
        app.theme_location = json
            .get("themeLocation")
            .and_then(Json::as_str)
            .map(norm_dir);
        app.entry_page_path = json
            .get("entryPagePath")
            .and_then(Json::as_str)
            .map(norm_dir);
        app.lazy_code_loading = json
            .get("lazyCodeLoading")
            .and_then(Json::as_str)
            .map(str::to_string);
        app.plugins = json
            .get("plugins")
            .map(|p| p.members().iter().map(|m| m.key.clone()).collect())
            .unwrap_or_default();
        app.extended_libs = json
            .get("useExtendedLib")
            .map(|p| {
                p.members()
                    .iter()
                    .filter(|m| m.value.as_bool() == Some(true))
                    .map(|m| m.key.clone())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(tab) = json.get("tabBar") {
            app.tab_bar = Some(Self::tab_bar(file, path, tab, theme, diags));
        }
        app
    }

    fn subpackage(
        file: FileId,
        path: &str,
        item: &Json,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<SubpackageDecl> {
        let Some(root) = item.get("root") else {
            diags.push(
                Diagnostic::error("config/invalid-value", "a subpackage has no `root`")
                    .at(path, Some(span_of(file, item)))
                    .help("every subpackage needs `root`, the folder that holds its pages"),
            );
            return None;
        };
        let Some(root_str) = root.as_str() else {
            diags.push(
                Diagnostic::error(
                    "config/invalid-value",
                    "a subpackage `root` must be a string",
                )
                .at(path, Some(span_of(file, root))),
            );
            return None;
        };
        Some(SubpackageDecl {
            root: Located {
                value: norm_dir(root_str),
                span: span_of(file, root),
            },
            name: item.get("name").and_then(Json::as_str).map(str::to_string),
            pages: strings(file, path, item.get("pages"), "subpackages[].pages", diags),
            independent: item
                .get("independent")
                .and_then(Json::as_bool)
                .unwrap_or(false),
        })
    }

    fn tab_bar(
        file: FileId,
        path: &str,
        tab: &Json,
        theme: Option<(FileId, &str, &Json)>,
        diags: &mut Vec<Diagnostic>,
    ) -> TabBar {
        let mut bar = TabBar {
            custom: tab.get("custom").and_then(Json::as_bool).unwrap_or(false),
            items: Vec::new(),
        };
        for item in tab.get("list").and_then(Json::as_array).unwrap_or(&[]) {
            let page_path = item
                .get("pagePath")
                .and_then(Json::as_str)
                .map(norm_dir)
                .unwrap_or_default();
            let mut icons = Vec::new();
            for key in ["iconPath", "selectedIconPath"] {
                let Some(v) = item.get(key) else { continue };
                let Some(s) = v.as_str() else { continue };
                if let Some(var) = s.strip_prefix('@') {
                    let resolved = resolve_theme_var(var, theme);
                    if resolved.is_empty() {
                        diags.push(
                            Diagnostic::warning(
                                "config/unknown-theme-variable",
                                format!("tabBar icon `{s}` names a theme variable that theme.json does not define"),
                            )
                            .at(path, Some(span_of(file, v)))
                            .help("define the variable in the `light` and `dark` sections of the file named by `themeLocation`"),
                        );
                    }
                    for (theme_name, icon, span) in resolved {
                        icons.push(TabIcon {
                            key: if key == "iconPath" {
                                "iconPath"
                            } else {
                                "selectedIconPath"
                            },
                            path: icon,
                            via: Some(format!("{s} ({theme_name})")),
                            span,
                        });
                    }
                } else {
                    icons.push(TabIcon {
                        key: if key == "iconPath" {
                            "iconPath"
                        } else {
                            "selectedIconPath"
                        },
                        path: s.to_string(),
                        via: None,
                        span: span_of(file, v),
                    });
                }
            }
            bar.items.push(TabBarItem { page_path, icons });
        }
        bar
    }
}

fn resolve_theme_var(
    var: &str,
    theme: Option<(FileId, &str, &Json)>,
) -> Vec<(String, String, Span)> {
    let Some((file, _, json)) = theme else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for section in json.members() {
        if let Some(v) = section.value.get(var)
            && let Some(s) = v.as_str()
        {
            out.push((section.key.clone(), s.to_string(), span_of(file, v)));
        }
    }
    out
}

/// Reads a `usingComponents` object (app.json, page or component JSON).
pub fn components(
    file: FileId,
    path: &str,
    v: &Json,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(String, Located<String>)> {
    match &v.kind {
        JsonKind::Object(members) => members
            .iter()
            .filter_map(|m| match m.value.as_str() {
                Some(s) => Some((
                    m.key.clone(),
                    Located {
                        value: s.to_string(),
                        span: span_of(file, &m.value),
                    },
                )),
                None => {
                    diags.push(
                        Diagnostic::error(
                            "config/invalid-value",
                            format!("component `{}` must map to a path string", m.key),
                        )
                        .at(path, Some(span_of(file, &m.value))),
                    );
                    None
                }
            })
            .collect(),
        _ => {
            diags.push(
                Diagnostic::error(
                    "config/invalid-value",
                    format!(
                        "`usingComponents` must be an object, found {}",
                        v.type_name()
                    ),
                )
                .at(path, Some(span_of(file, v))),
            );
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_doc;

    #[test]
    fn reads_subpackages_tabbar_and_theme_vars() {
        let app = json_doc::parse(
            r#"{"pages":["pages/index/index","/pages/me/me"],
            "subPackages":[{"root":"/packageA/","pages":["list/list"],"independent":true}],
            "tabBar":{"list":[{"pagePath":"pages/index/index","iconPath":"@homeIcon","selectedIconPath":"images/home-on.png"}]},
            "resolveAlias":{"@/*":"/*"},"workers":{"path":"workers","isSubpackage":true}}"#,
        )
        .unwrap();
        let theme = json_doc::parse(r#"{"light":{"homeIcon":"images/home.png"},"dark":{"homeIcon":"images/home-dark.png"}}"#).unwrap();
        let mut diags = Vec::new();
        let cfg = AppConfig::from_json(
            FileId(0),
            "app.json",
            &app,
            Some((FileId(1), "theme.json", &theme)),
            &mut diags,
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(cfg.pages[1].value, "pages/me/me");
        assert_eq!(cfg.subpackages[0].root.value, "packageA");
        assert!(cfg.subpackages[0].independent);
        let icons: Vec<_> = cfg.tab_bar.unwrap().items[0]
            .icons
            .iter()
            .map(|i| i.path.clone())
            .collect();
        assert_eq!(
            icons,
            [
                "images/home.png",
                "images/home-dark.png",
                "images/home-on.png"
            ]
        );
        assert_eq!(cfg.workers.as_deref(), Some("workers"));
    }

    #[test]
    fn bad_shapes_are_diagnostics() {
        let app = json_doc::parse(
            r#"{"pages":"index","subpackages":[{"pages":[]}],"usingComponents":[]}"#,
        )
        .unwrap();
        let mut diags = Vec::new();
        let cfg = AppConfig::from_json(FileId(0), "app.json", &app, None, &mut diags);
        assert!(cfg.pages.is_empty());
        let codes: Vec<_> = diags.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            [
                "config/invalid-value",
                "config/no-pages",
                "config/invalid-value",
                "config/invalid-value"
            ]
        );
    }
}
