//! The generated runtime runs: a routing function made by [`rewriter::generate`] loads in Node
//! on the real `wx-server-sdk` (from `tests/node`, installed by `scripts/test`) and forwards
//! `cloudRequest` calls to a legacy HTTP server on loopback with the caller's OPENID
//! (`rewriter/tests/node/runtime.test.js`).

use std::fs;
use std::path::Path;
use std::process::Command;

use rewriter::generate::{self, Function, Mode, Route};

#[test]
fn generated_function_routes_cloud_requests_to_the_legacy_server() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let sdk = repo.join("tests/node/node_modules");
    assert!(
        sdk.join("wx-server-sdk").is_dir(),
        "run `npm ci --prefix tests/node` first (scripts/test does)"
    );
    let dir = tempfile::tempdir().unwrap();
    let route = |id: &str, method: &str, path: &str| Route {
        id: id.into(),
        method: method.into(),
        origin: "https://api.shop.example.com".into(),
        path: path.into(),
        target: "https://api.shop.example.com".into(),
        mode: Mode::Proxy,
        handler: None,
    };
    let f = Function {
        name: "api-shop".into(),
        routes: vec![
            route("goods-list", "GET", "/api/goods/list"),
            route("cart-add", "POST", "/api/cart/add"),
            route("missing", "*", "/api/missing/:id"),
            route("text", "GET", "/api/text"),
        ],
    };
    let fn_dir = dir.path().join("fn");
    fs::create_dir_all(&fn_dir).unwrap();
    for (name, text) in generate::function_files(&f) {
        fs::write(fn_dir.join(name), text).unwrap();
    }
    fs::write(dir.path().join("routes.js"), generate::client_routes(&[f])).unwrap();
    fs::write(
        dir.path().join("cloud-request.js"),
        generate::CLOUD_REQUEST_JS,
    )
    .unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&sdk, dir.path().join("node_modules")).unwrap();
    let out = Command::new("node")
        .arg("--test")
        .arg(repo.join("rewriter/tests/node/runtime.test.js"))
        .env("RUNTIME_DIR", dir.path())
        .output()
        .expect("node must be on PATH to test the generated runtime");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node --test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("# fail 0") && !stdout.contains("# pass 0"),
        "{stdout}"
    );
    println!("{stdout}");
}

/// The runtime `apply` writes into a uni-app or Taro app's sources falls back to the
/// framework's own API (`rewriter/tests/node/framework-runtime.test.js`).
#[test]
fn framework_runtime_falls_back_to_the_framework_api() {
    use analyzer::project::framework::FrameworkName;
    use rewriter::transform::framework::cloud_request_js;

    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let dir = tempfile::tempdir().unwrap();
    let f = Function {
        name: "goods".into(),
        routes: vec![Route {
            id: "GET /v1/goods".into(),
            method: "GET".into(),
            origin: "https://api.example.com".into(),
            path: "/v1/goods".into(),
            target: "https://api.example.com".into(),
            mode: Mode::Proxy,
            handler: None,
        }],
    };
    for (sub, name) in [
        ("uni", FrameworkName::UniApp),
        ("taro", FrameworkName::Taro),
    ] {
        let d = dir.path().join(sub);
        fs::create_dir_all(&d).unwrap();
        fs::write(
            d.join("routes.js"),
            generate::client_routes(std::slice::from_ref(&f)),
        )
        .unwrap();
        fs::write(d.join("cloud-request.js"), cloud_request_js(name)).unwrap();
    }
    let taro = dir.path().join("taro/node_modules/@tarojs/taro");
    fs::create_dir_all(&taro).unwrap();
    fs::write(
        taro.join("index.js"),
        "'use strict';\n\
         const seen = [];\n\
         const Taro = { seen, request(o) { seen.push(o); return Promise.resolve({ data: 'from Taro.request', statusCode: 200, header: {} }); } };\n\
         Object.defineProperty(exports, '__esModule', { value: true });\n\
         exports.default = Taro;\n",
    )
    .unwrap();
    let out = Command::new("node")
        .arg("--test")
        .arg(repo.join("rewriter/tests/node/framework-runtime.test.js"))
        .env("RUNTIME_DIR", dir.path())
        .output()
        .expect("node must be on PATH to test the generated runtime");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("# fail 0") && !stdout.contains("# pass 0"),
        "node --test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
