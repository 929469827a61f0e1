//! Cloud paths and fileIDs.
//!
//! A cloud path (`cloudPath`, the object key) is checked component by component: non-empty, no
//! leading `/`, no empty component (`//`), no `.` or `..`, no backslash, no NUL or other control
//! character, at most 850 bytes (`cloud-api.md` §3.5). A key that passes can never name anything
//! outside the storage root, whatever backend stores it.

use crate::error::ShimError;

/// Longest accepted key, in bytes (CloudBase's limit).
pub(super) const MAX_KEY_BYTES: usize = 850;

/// A validated object key such as `images/logo.png`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CloudPath(String);

impl CloudPath {
    /// Validate a cloud path.
    pub fn parse(raw: &str) -> Result<Self, ShimError> {
        let bad = |why: &str| ShimError::InvalidParam(format!("invalid cloud path: {why}"));
        if raw.is_empty() {
            return Err(bad("empty"));
        }
        if raw.len() > MAX_KEY_BYTES {
            return Err(bad("longer than 850 bytes"));
        }
        if raw.starts_with('/') {
            return Err(bad("must not start with '/'"));
        }
        if raw.contains('\\') {
            return Err(bad("must not contain '\\'"));
        }
        if raw.chars().any(char::is_control) {
            return Err(bad("must not contain control characters"));
        }
        for part in raw.split('/') {
            match part {
                "" => return Err(bad("empty path component")),
                "." | ".." => return Err(bad("'.' and '..' are not allowed")),
                _ => {}
            }
        }
        Ok(CloudPath(raw.to_string()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key's components.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

impl std::fmt::Display for CloudPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Extract the key from a fileID `cloud://<env>.<bucket>/<path>` (any env and bucket accepted).
pub fn parse_file_id(file_id: &str) -> Result<CloudPath, ShimError> {
    let rest = file_id
        .strip_prefix("cloud://")
        .ok_or_else(|| ShimError::InvalidParam(format!("invalid fileID: {file_id}")))?;
    let (_env_bucket, key) = rest
        .split_once('/')
        .ok_or_else(|| ShimError::InvalidParam(format!("invalid fileID: {file_id}")))?;
    CloudPath::parse(key)
}

/// The bucket name the shim puts into fileIDs: `<hex of the env's first two bytes>-<env>-<appid>`,
/// the shape real CloudBase uses (`cloud-api.md` §3.1).
pub(super) fn bucket_for(env: &str) -> String {
    let prefix: String = env.bytes().take(2).map(|b| format!("{b:02x}")).collect();
    format!("{prefix}-{env}-1250000000")
}

/// The fileID for `key` in `env`.
pub fn file_id(env: &str, key: &CloudPath) -> String {
    format!("cloud://{env}.{}/{}", bucket_for(env), key.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_normal_keys() {
        for k in [
            "a.txt",
            "dir/a.txt",
            "图片/餐饮 (1).png",
            "a..b/c",
            ".hidden/x",
        ] {
            assert_eq!(CloudPath::parse(k).unwrap().as_str(), k);
        }
    }

    #[test]
    fn rejects_escapes() {
        for k in [
            "", "/abs", "a//b", "../x", "a/../b", "a/..", "./a", "a\\b", "a\0b", "a/\n", "a/",
        ] {
            assert!(CloudPath::parse(k).is_err(), "{k:?} accepted");
        }
        assert!(CloudPath::parse(&"x".repeat(851)).is_err());
    }

    #[test]
    fn file_ids_round_trip() {
        let key = CloudPath::parse("dir/a.txt").unwrap();
        let id = file_id("test-env-1a2b3c", &key);
        assert_eq!(
            id,
            "cloud://test-env-1a2b3c.7465-test-env-1a2b3c-1250000000/dir/a.txt"
        );
        assert_eq!(parse_file_id(&id).unwrap(), key);
        assert!(parse_file_id("cloud://env.bucket/../etc/passwd").is_err());
        assert!(parse_file_id("https://x/y").is_err());
        assert!(parse_file_id("cloud://nobucket").is_err());
    }
}
