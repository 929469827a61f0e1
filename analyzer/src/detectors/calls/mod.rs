//! Backend calls: `wx.request`, `wx.uploadFile`, `wx.downloadFile`, `wx.connectSocket` on the
//! real global `wx` (and promisified aliases, `Taro`, `uni`), the wrappers built around them
//! across modules, every call site with its reconstructed endpoint, and proposed cloud
//! functions grouped by host and path prefix.
//!
//! Steps: [`crate::summary`] summarises each file (functions, parameters, calls, constants,
//! exports) when it is loaded, right after parsing (see [`crate::files::Script`]); [`world`]
//! resolves callees across modules; [`runtime`] resolves those reached through objects made
//! at run time (a Vue app's `this.$http`, a factory's `createRequest('/shop').get`, the HTTP
//! clients of npm packages in [`clients`]); [`endpoint`] evaluates values; [`wrappers`] finds
//! wrappers by a fixpoint over the summaries and emits the calls, with [`vendored`] saying how
//! npm packages and minified vendor files take part; [`grouping`] proposes functions.

mod clients;
mod endpoint;
mod grouping;
mod runtime;
mod value;
mod vendored;
mod world;
mod wrappers;

use super::context::{Context, Detector, Stage};
use crate::findings::Findings;
use world::World;

pub(crate) struct BackendCalls;

impl Detector for BackendCalls {
    fn name(&self) -> &'static str {
        "backend-calls"
    }

    fn stage(&self) -> Stage {
        Stage::Modules
    }

    fn run(&self, cx: &Context<'_>, out: &mut Findings) {
        let world = World::build(cx);
        wrappers::run(&world, out);
    }
}
