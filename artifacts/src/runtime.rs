//! The mini-program page runtime `migrate verify` runs both apps in: `js/mp-runtime/` (App,
//! Page, Component, setData, a `wx` over real HTTP, idle waiting; see its README.md) and its
//! `verify.js` driver, tested in Node by `tests/mp-runtime/`. Compiled in here so that the
//! binary writes them to a temporary folder and needs no path to this repository at run time.

use crate::adapter::{JsFile, WX_CLOUD_SHIM};

macro_rules! runtime_files {
    ($($name:literal),* $(,)?) => {
        &[$(JsFile { name: concat!("mp-runtime/", $name), source: include_str!(concat!("../js/mp-runtime/", $name)) }),*]
    };
}

/// The runtime's files, by their path under the folder they are written to (`mp-runtime/…`).
pub const MP_RUNTIME: &[JsFile] = runtime_files!(
    "index.js",
    "loader.js",
    "esm.js",
    "wx-api.js",
    "scheduler.js",
    "instance.js",
    "data-path.js",
    "rejections.js",
    "verify.js",
);

/// Writes the runtime into `dir` as `dir/mp-runtime/*.js`, with the `wx.cloud` adapter beside
/// it (`dir/wx-cloud-shim.js`, where `verify.js` requires it from); returns the path of
/// `verify.js`.
pub fn write_runtime(dir: &std::path::Path) -> std::io::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir.join("mp-runtime"))?;
    for f in MP_RUNTIME.iter().chain(std::iter::once(&WX_CLOUD_SHIM)) {
        std::fs::write(dir.join(f.name), f.source)?;
    }
    Ok(dir.join("mp-runtime/verify.js"))
}
