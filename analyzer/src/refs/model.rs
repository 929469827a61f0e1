//! What the collection finds: references from a file to an asset file, inline `data:` URIs,
//! and the order of the targets a reference allows.

use crate::findings::{AssetTarget, RefVia};
use crate::span::{FileId, Span};
use crate::wxss::DataUri;

#[derive(Debug, Clone)]
pub struct Ref {
    pub from: FileId,
    pub asset: FileId,
    pub span: Span,
    pub via: RefVia,
    pub target: AssetTarget,
    pub binding: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Inline {
    pub span: Span,
    pub data: DataUri,
    pub target: AssetTarget,
}

#[derive(Debug, Default)]
pub struct Collected {
    pub refs: Vec<Ref>,
    pub inlines: Vec<Inline>,
}

/// The more restrictive of two targets (local > HTTPS > cloud file ID).
pub fn stricter(a: AssetTarget, b: AssetTarget) -> AssetTarget {
    let rank = |t| match t {
        AssetTarget::CloudFileId => 0,
        AssetTarget::HttpsUrl => 1,
        AssetTarget::Local => 2,
    };
    if rank(b) > rank(a) { b } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            stricter(AssetTarget::CloudFileId, AssetTarget::Local),
            AssetTarget::Local
        );
        assert_eq!(
            stricter(AssetTarget::HttpsUrl, AssetTarget::CloudFileId),
            AssetTarget::HttpsUrl
        );
    }
}
