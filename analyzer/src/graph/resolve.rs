//! Module resolution the way the mini-program runtime does it (miniprogram-layout.md §1.4):
//! relative first (`require('common.js')` means the file beside the current one), then
//! `resolveAlias`, then npm (`miniprogram_npm` searched upwards from the file's folder).

use crate::project::Project;
use crate::span::FileId;

#[derive(Debug, Default)]
pub struct Resolver {
    /// `resolveAlias` as (key prefix, target prefix), longest key first; the `*` is dropped.
    aliases: Vec<(String, String)>,
    prefer_ts: bool,
}

/// Joins and normalises a `/`-separated path; `None` if `..` climbs above the root.
pub fn join(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = if rel.starts_with('/') {
        Vec::new()
    } else {
        dir.split('/').filter(|s| !s.is_empty()).collect()
    };
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// The folder part of a `/`-separated path.
pub fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

impl Resolver {
    pub fn new(project: &Project) -> Resolver {
        let mut aliases: Vec<(String, String)> = project
            .app
            .resolve_alias
            .iter()
            .map(|(k, v)| {
                (
                    k.trim_end_matches('*').to_string(),
                    v.trim_end_matches('*').trim_start_matches('/').to_string(),
                )
            })
            .collect();
        aliases.sort_by_key(|a| std::cmp::Reverse(a.0.len()));
        Resolver {
            aliases,
            prefer_ts: project
                .settings
                .compiler_plugins
                .iter()
                .any(|p| p == "typescript"),
        }
    }

    fn script_exts(&self) -> &'static [&'static str] {
        if self.prefer_ts {
            &["", ".ts", ".js", ".json", "/index.ts", "/index.js"]
        } else {
            &["", ".js", ".ts", ".json", "/index.js", "/index.ts"]
        }
    }

    /// Resolves a `require`/`import` specifier to a project file.
    pub fn resolve_script(&self, project: &Project, from: FileId, spec: &str) -> Option<FileId> {
        let exts = self.script_exts();
        if let Some(found) = self.resolve_with(project, from, spec, exts) {
            return Some(found);
        }
        // TypeScript sources import `./x.js` meaning `./x.ts`.
        if let Some(stem) = spec.strip_suffix(".js") {
            return self.resolve_with(project, from, &format!("{stem}.ts"), &[""]);
        }
        None
    }

    /// Resolves a path written in WXML/WXSS/JSON (relative to `from`, or `/`-absolute from the
    /// mini-program root), trying each extension in `exts` (`""` for as written).
    pub fn resolve_with(
        &self,
        project: &Project,
        from: FileId,
        spec: &str,
        exts: &[&str],
    ) -> Option<FileId> {
        let spec = spec.trim();
        if spec.is_empty() || spec.contains("://") || spec.starts_with("data:") {
            return None;
        }
        let dir = dir_of(project.file(from).mp_path.as_deref().unwrap_or(""));
        let try_base = |base: &str| -> Option<FileId> {
            let mut path = String::with_capacity(base.len() + 12);
            exts.iter().find_map(|e| {
                path.clear();
                path.push_str(base);
                path.push_str(e);
                project.mp_file(&path)
            })
        };
        if spec.starts_with('/') {
            return try_base(&join("", spec)?);
        }
        if spec.starts_with("./") || spec.starts_with("../") {
            return try_base(&join(dir, spec)?);
        }
        for (key, target) in &self.aliases {
            if let Some(rest) = spec.strip_prefix(key.as_str())
                && let Some(found) = join("", &format!("{target}{rest}")).and_then(|b| try_base(&b))
            {
                return Some(found);
            }
        }
        if let Some(found) = join(dir, spec).and_then(|b| try_base(&b)) {
            return Some(found);
        }
        // npm: miniprogram_npm/<spec> in this folder or any parent up to the root.
        let mut d = dir.to_string();
        loop {
            let base = if d.is_empty() {
                format!("miniprogram_npm/{spec}")
            } else {
                format!("{d}/miniprogram_npm/{spec}")
            };
            if let Some(found) = try_base(&base) {
                return Some(found);
            }
            if d.is_empty() {
                return None;
            }
            d = dir_of(&d).to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_normalises() {
        assert_eq!(
            join("pages/index", "../../utils/a.js").as_deref(),
            Some("utils/a.js")
        );
        assert_eq!(
            join("pages/index", "/images/x.png").as_deref(),
            Some("images/x.png")
        );
        assert_eq!(join("pages", "../../x"), None);
        assert_eq!(dir_of("a/b/c.js"), "a/b");
        assert_eq!(dir_of("c.js"), "");
    }
}
