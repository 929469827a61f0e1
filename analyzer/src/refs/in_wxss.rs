//! References in style sheets: `url()` in WXSS (and in WXML inline styles), or an inline
//! `data:` URI there.

use crate::findings::{AssetTarget, RefVia};
use crate::span::FileId;
use crate::wxss;

use super::collector::Collector;
use super::model::Inline;

impl Collector<'_> {
    pub(super) fn css_url(&mut self, from: FileId, u: &wxss::Url, via: RefVia) {
        if let Some(data) = &u.data {
            self.out.inlines.push(Inline {
                span: u.span,
                data: data.clone(),
                target: AssetTarget::HttpsUrl,
            });
        } else {
            self.push(
                from,
                &u.value,
                u.span,
                via,
                Some(AssetTarget::HttpsUrl),
                None,
            );
        }
    }
}
