//! Detectors: one folder each, named after what it finds. Each reads the parsed project
//! through [`Context`] and pushes typed facts into [`Findings`](crate::findings::Findings);
//! adding one is its folder, a line in [`registry`], and a fixture folder under
//! `analyzer/tests/fixtures/<detector>/`. Detectors use the shared passes ([`crate::refs`],
//! [`crate::literal`], [`crate::summary`]), never each other.

mod assets;
mod calls;
mod cloud;
mod context;
mod data;

pub(crate) use assets::LargeAssetDetector;
pub(crate) use calls::BackendCalls;
pub(crate) use cloud::CloudUseDetector;
pub(crate) use context::{Context, Detector, Stage};
pub(crate) use data::StaticDataDetector;

/// All detectors, in the order they run.
pub(crate) fn registry() -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(BackendCalls),
        Box::new(StaticDataDetector),
        Box::new(LargeAssetDetector),
        Box::new(CloudUseDetector),
    ]
}
