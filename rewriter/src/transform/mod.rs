//! The transforms: from the analysis and the plan to a [`Changeset`], one module per kind of
//! move ([`data`], [`assets`], [`calls`], and [`init`] for `wx.cloud.init`), on what
//! [`context`] gives them. They read the analyzer's typed findings and the file texts it
//! loaded; they never scan the project themselves.

pub mod assets;
pub mod calls;
pub mod context;
pub mod data;
pub mod init;

use analyzer::Analysis;

pub use context::{Cx, GENERATED_MARK};

use crate::changeset::Changeset;
use crate::plan::Plan;

/// Everything the plan asks for.
pub fn build(analysis: &Analysis, plan: &Plan) -> Changeset {
    let cx = Cx { analysis, plan };
    let mut out = Changeset::default();
    // A framework's build output is overwritten by its next build: the rewrites belong in the
    // sources, which are not rewritten yet.
    if let Some(fw) = &analysis.project.framework {
        out.left.push(crate::changeset::Left {
            id: String::new(),
            at: fw.output_root.clone(),
            why: format!(
                "this mini-program is built by {} into {}; rewriting the build would be undone by the next build",
                fw.name.title(), fw.output_root
            ),
            next: "apply the moves in the framework's sources (the plan and the report's sourceLoc say where); `migrate apply` does not rewrite .vue/.tsx sources yet".into(),
        });
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
