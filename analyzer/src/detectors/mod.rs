//! Detectors: one folder each, named after what it finds. Each reads the parsed project
//! through [`Context`] and pushes typed facts into [`Findings`](crate::findings::Findings);
//! adding one is its folder, a line in [`registry`], and a fixture folder under
//! `analyzer/tests/fixtures/<detector>/`. Detectors use the shared passes ([`crate::refs`],
//! [`crate::literal`], [`crate::summary`]), never each other.

mod assets;
mod calls;
mod context;
mod data;

pub use assets::LargeAssetDetector;
pub use calls::BackendCalls;
pub use context::{Context, Detector, Stage};
pub use data::StaticDataDetector;

/// All detectors, in the order they run.
pub fn registry() -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(BackendCalls),
        Box::new(StaticDataDetector),
        Box::new(LargeAssetDetector),
    ]
}
