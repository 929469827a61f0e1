//! The transforms: from the analysis and the plan to a [`Changeset`], one module per kind of
//! move ([`data`], [`assets`], [`calls`], and [`init`] for `wx.cloud.init`), on what
//! [`context`] gives them; [`framework`] makes them in a uni-app or Taro app's sources. They
//! read the analyzer's typed findings and the file texts it loaded; they never scan the
//! project themselves.

pub mod assets;
pub mod calls;
pub mod context;
pub mod data;
pub mod framework;
pub mod init;

use analyzer::Analysis;

pub use context::{Cx, GENERATED_MARK};

use crate::changeset::Changeset;
use crate::plan::Plan;

/// Everything the plan asks for.
pub fn build(analysis: &Analysis, plan: &Plan) -> Changeset {
    let cx = Cx { analysis, plan };
    let mut out = Changeset::default();
    // A framework's build output is overwritten by its next build: the moves are made in its
    // sources.
    if let Some(fw) = &analysis.project.framework {
        if framework::has_sources(fw, &mut out) {
            framework::not_moved(&cx, fw, &mut out);
            calls::run(&cx, &mut out);
            if !out.is_empty() {
                framework::finish(&cx, fw, &mut out);
            }
        }
        return out;
    }
    data::run(&cx, &mut out);
    assets::run(&cx, &mut out);
    calls::run(&cx, &mut out);
    if !out.is_empty() {
        init::run(&cx, &mut out);
        init::cloudfunction_root(&cx, &mut out);
    }
    out
}
