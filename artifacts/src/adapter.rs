//! The `wx.cloud` adapter: the JavaScript a rewritten mini-program ships to talk to a local
//! `migrate serve` shim instead of the WeChat cloud.
//!
//! The sources live under `artifacts/js/` (tested in Node by `tests/node-adapter/`) and are
//! compiled in here, so whoever writes them into a project (the rewriter) or serves them needs
//! no path to this repository at run time.

/// A JavaScript file shipped as-is: its file name and its source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsFile {
    /// The file name to write it under (`require('./wx-cloud-shim')` finds it by this name).
    pub name: &'static str,
    /// The source, UTF-8, exactly as in `artifacts/js/`.
    pub source: &'static str,
}

/// `wx-cloud-shim.js`: points a mini-program's `wx.cloud` at the shim's `/client` endpoint
/// once `require('./wx-cloud-shim').install({url, openid, appid, env})` is called; inert until
/// then. Plain ES5 + CommonJS, no Node APIs. Its header comment documents the contract.
pub const WX_CLOUD_SHIM: JsFile = JsFile {
    name: "wx-cloud-shim.js",
    source: include_str!("../js/wx-cloud-shim.js"),
};
