//! Where the objects live, read from a storage URL (`migrate serve --storage`): a bucket of an
//! S3-compatible service, `s3://bucket[/prefix]`, or a local directory, given as a plain path
//! (or `file:///path`).

use std::path::PathBuf;

use object_store::path::Path as ObjPath;

use crate::error::{ShimError, ShimResult};

/// The forms a storage URL may take, for error messages.
const EXPECTED: &str = "expected `s3://bucket[/prefix]` (an S3-compatible bucket) or the path of a \
                        local directory";

/// A parsed storage URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// A local directory.
    Local(PathBuf),
    /// A bucket, and the folder inside it that holds the shim's objects (none: the whole bucket).
    S3 {
        bucket: String,
        prefix: Option<ObjPath>,
    },
}

impl Location {
    /// Parse a storage URL. Anything with a `scheme://` other than `s3://` and `file://` is
    /// refused with a message naming the URL and the expected forms; so are an `s3://` URL
    /// without a bucket, with a query or fragment, or with an empty, `.` or `..` folder.
    pub(crate) fn parse(url: &str) -> ShimResult<Location> {
        let bad = |why: &str| {
            ShimError::InvalidParam(format!("invalid storage URL `{url}`: {why}; {EXPECTED}"))
        };
        let trimmed = url.trim();
        if trimmed.is_empty() {
            return Err(bad("it is empty"));
        }
        let Some((scheme, rest)) = split_scheme(trimmed) else {
            return Ok(Location::Local(PathBuf::from(trimmed)));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "s3" => {}
            "file" => {
                // `file:///abs/path` (an empty host) or `file://localhost/abs/path`.
                let path = rest.strip_prefix("localhost").unwrap_or(rest);
                if !path.starts_with('/') {
                    return Err(bad("a file URL names an absolute path (`file:///dir`)"));
                }
                let decoded = percent_encoding::percent_decode_str(path)
                    .decode_utf8()
                    .map_err(|_| bad("the path is not UTF-8"))?;
                return Ok(Location::Local(PathBuf::from(decoded.into_owned())));
            }
            _ => return Err(bad(&format!("the scheme `{scheme}://` is not supported"))),
        }
        if rest.contains(['?', '#']) {
            return Err(bad(
                "a query or fragment is not read (S3 is configured by the AWS_* environment \
                 variables: AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, ...)",
            ));
        }
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("no bucket name"));
        }
        check_bucket(bucket).map_err(|why| bad(&why))?;
        let prefix = prefix.trim_end_matches('/');
        let prefix = if prefix.is_empty() {
            None
        } else {
            for part in prefix.split('/') {
                if part.is_empty() || part == "." || part == ".." {
                    return Err(bad(&format!(
                        "the folder `{prefix}` has an empty, `.` or `..` component"
                    )));
                }
            }
            Some(ObjPath::parse(prefix).map_err(|e| bad(&format!("the folder `{prefix}`: {e}")))?)
        };
        Ok(Location::S3 {
            bucket: bucket.to_string(),
            prefix,
        })
    }
}

/// `scheme` and what follows `scheme://`, when `url` starts with a URL scheme (RFC 3986: a
/// letter, then letters, digits, `+`, `-`, `.`). A Windows path such as `C:\dir` has no `//`.
fn split_scheme(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some((scheme, rest))
}

/// S3's bucket naming rules, loosened to what older buckets and S3-compatible services use:
/// 3 to 63 characters, letters, digits, `.`, `-` and `_`, starting and ending with a letter or
/// a digit.
fn check_bucket(bucket: &str) -> Result<(), String> {
    let ok_chars = bucket
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    let ends_ok = bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !(3..=63).contains(&bucket.len()) || !ok_chars || !ends_ok {
        return Err(format!(
            "`{bucket}` is not a bucket name (3 to 63 letters, digits, `.`, `-` or `_`, starting \
             and ending with a letter or digit)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3(bucket: &str, prefix: Option<&str>) -> Location {
        Location::S3 {
            bucket: bucket.into(),
            prefix: prefix.map(|p| ObjPath::parse(p).unwrap()),
        }
    }

    #[test]
    fn s3_urls() {
        assert_eq!(Location::parse("s3://bucket").unwrap(), s3("bucket", None));
        assert_eq!(Location::parse("s3://bucket/").unwrap(), s3("bucket", None));
        assert_eq!(
            Location::parse("s3://my-bucket/a/b/").unwrap(),
            s3("my-bucket", Some("a/b"))
        );
        assert_eq!(
            Location::parse("S3://b.c_d/shim").unwrap(),
            s3("b.c_d", Some("shim"))
        );
    }

    #[test]
    fn local_paths() {
        assert_eq!(
            Location::parse("/var/data").unwrap(),
            Location::Local("/var/data".into())
        );
        assert_eq!(
            Location::parse("data/storage").unwrap(),
            Location::Local("data/storage".into())
        );
        assert_eq!(
            Location::parse(r"C:\data").unwrap(),
            Location::Local(r"C:\data".into())
        );
        assert_eq!(
            Location::parse("file:///srv/a%20b").unwrap(),
            Location::Local("/srv/a b".into())
        );
    }

    #[test]
    fn bad_urls_name_the_url_and_the_expected_form() {
        for (url, why) in [
            ("s3://", "no bucket name"),
            ("s3:///prefix", "no bucket name"),
            ("gs://bucket", "the scheme `gs://` is not supported"),
            (
                "https://s3.amazonaws.com/b",
                "the scheme `https://` is not supported",
            ),
            ("s3://b", "is not a bucket name"),
            ("s3://-bucket", "is not a bucket name"),
            ("s3://buc ket", "is not a bucket name"),
            ("s3://bucket/a//b", "empty, `.` or `..`"),
            ("s3://bucket/a/../b", "empty, `.` or `..`"),
            ("s3://bucket?region=x", "query or fragment"),
            ("file://relative", "absolute path"),
            ("", "empty"),
        ] {
            let e = Location::parse(url).unwrap_err();
            let msg = e.public_message();
            assert!(msg.contains(&format!("`{url}`")), "{url}: {msg}");
            assert!(msg.contains(why), "{url}: {msg}");
            assert!(msg.contains("s3://bucket[/prefix]"), "{url}: {msg}");
        }
    }
}
