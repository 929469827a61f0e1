//! `packOptions.ignore` / `packOptions.include` rules of project.config.json.
//!
//! Each rule is `{type, value}` with type `folder|file|suffix|prefix|regexp|glob`, matched
//! case-insensitively. DevTools documents the paths as relative to the mini-program root; projects
//! also write them relative to the project root, so both forms are tried.

use globset::{GlobBuilder, GlobMatcher};
use regex::{Regex, RegexBuilder};

#[derive(Debug, Clone)]
pub struct PackRule {
    pub kind: String,
    pub value: String,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    Folder(String),
    File(String),
    Suffix(String),
    Prefix(String),
    Regexp(Regex),
    Glob(GlobMatcher),
}

impl PackRule {
    /// Builds a rule; an unknown type or a bad pattern is an `Err` with the reason.
    pub fn new(kind: &str, value: &str) -> Result<PackRule, String> {
        let norm = value
            .trim()
            .trim_start_matches("./")
            .trim_start_matches('/');
        let lower = norm.to_ascii_lowercase();
        let matcher = match kind {
            "folder" => Matcher::Folder(lower.trim_end_matches('/').to_string()),
            "file" => Matcher::File(lower),
            "suffix" => Matcher::Suffix(value.trim().to_ascii_lowercase()),
            "prefix" => Matcher::Prefix(value.trim().to_ascii_lowercase()),
            "regexp" => Matcher::Regexp(
                RegexBuilder::new(value)
                    .case_insensitive(true)
                    .build()
                    .map_err(|e| format!("not a valid regular expression: {e}"))?,
            ),
            "glob" => Matcher::Glob(
                GlobBuilder::new(norm)
                    .case_insensitive(true)
                    .literal_separator(false)
                    .build()
                    .map_err(|e| format!("not a valid glob: {e}"))?
                    .compile_matcher(),
            ),
            other => {
                return Err(format!(
                    "unknown rule type `{other}` (expected folder, file, suffix, prefix, regexp or glob)"
                ));
            }
        };
        Ok(PackRule {
            kind: kind.to_string(),
            value: value.to_string(),
            matcher,
        })
    }

    /// Whether the rule matches a `/`-separated relative path.
    pub fn matches(&self, rel: &str) -> bool {
        let lower = rel.to_ascii_lowercase();
        let name = lower.rsplit('/').next().unwrap_or(&lower);
        match &self.matcher {
            Matcher::Folder(dir) => {
                !dir.is_empty()
                    && (lower == *dir
                        || (lower.starts_with(dir.as_str())
                            && lower.as_bytes().get(dir.len()) == Some(&b'/')))
            }
            Matcher::File(f) => lower == *f,
            Matcher::Suffix(s) => lower.ends_with(s.as_str()),
            Matcher::Prefix(p) => name.starts_with(p.as_str()),
            Matcher::Regexp(re) => re.is_match(rel),
            Matcher::Glob(g) => g.is_match(rel),
        }
    }

    pub fn describe(&self) -> String {
        format!("packOptions.ignore {} `{}`", self.kind, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_kinds() {
        let folder = PackRule::new("folder", "design/").unwrap();
        assert!(folder.matches("design/a.gif"));
        assert!(folder.matches("Design/x/y.png"));
        assert!(!folder.matches("designs/a.gif"));
        let suffix = PackRule::new("suffix", ".gif").unwrap();
        assert!(suffix.matches("images/LOADING.GIF"));
        let prefix = PackRule::new("prefix", "draft_").unwrap();
        assert!(prefix.matches("pages/draft_x.js"));
        let glob = PackRule::new("glob", "docs/**").unwrap();
        assert!(glob.matches("docs/a/b.md"));
        let re = PackRule::new("regexp", r"\.psd$").unwrap();
        assert!(re.matches("a/b.PSD"));
        assert!(PackRule::new("bogus", "x").is_err());
        assert!(PackRule::new("regexp", "(").is_err());
    }
}
