//! What the analysis is asked to report: size thresholds per asset kind, data and inline-URI
//! thresholds, and the discovery limits. The CLI fills them from flags.

use serde::Serialize;

use crate::project::Limits;
use crate::source::FileKind;

/// Thresholds and limits; the CLI fills them from flags.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Options {
    pub limits: Limits,
    /// An image over this many bytes is a large asset (DevTools' quality scan uses 200 KB).
    pub image_threshold: u64,
    pub audio_threshold: u64,
    pub video_threshold: u64,
    pub font_threshold: u64,
    /// A data literal or JSON data file of at least this many bytes is reported.
    pub data_threshold: u64,
    /// An inline `data:` URI of at least this many decoded bytes is reported.
    pub inline_threshold: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            image_threshold: 200 * 1024,
            audio_threshold: 200 * 1024,
            video_threshold: 200 * 1024,
            font_threshold: 50 * 1024,
            data_threshold: 4 * 1024,
            inline_threshold: 8 * 1024,
        }
    }
}

impl Options {
    pub fn asset_threshold(&self, kind: FileKind) -> Option<u64> {
        match kind {
            FileKind::Image => Some(self.image_threshold),
            FileKind::Audio => Some(self.audio_threshold),
            FileKind::Video => Some(self.video_threshold),
            FileKind::Font => Some(self.font_threshold),
            _ => None,
        }
    }
}
