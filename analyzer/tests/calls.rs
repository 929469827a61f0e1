//! Backend-call detector: one small mini-program per request-wrapper pattern under
//! `tests/fixtures/calls/<case>/`, each snapshotted (`backendCalls`, `wrappers`,
//! `proposedFunctions`), plus targeted asserts.

use std::path::{Path, PathBuf};

use analyzer::{Options, Project, analyze};
use serde_json::{Value, json};

fn fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/calls")
        .join(case)
}

/// Runs the analysis on a directory and returns the backend-call part of the findings.
fn run_dir(dir: &Path) -> Value {
    let project = Project::discover(dir).expect("fixture project is discoverable");
    let analysis = analyze(project, Options::default());
    let f = &analysis.findings;
    json!({
        "backendCalls": f.backend_calls,
        "wrappers": f.wrappers,
        "proposedFunctions": f.proposed_functions,
    })
}

fn run(case: &str) -> Value {
    run_dir(&fixture(case))
}

fn calls(v: &Value) -> &Vec<Value> {
    v["backendCalls"]
        .as_array()
        .expect("backendCalls is an array")
}

fn urls(v: &Value) -> Vec<String> {
    calls(v)
        .iter()
        .map(|c| c["endpoint"]["url"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
#[ignore = "prints the findings of the sample apps; run with --ignored --nocapture"]
fn dump_sample_apps() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/apps");
    let only = std::env::var("APP").ok();
    let mut dirs: Vec<(String, PathBuf)> = ["bus-ride", "shop", "ts-news", "messy", "half-cloud"]
        .iter()
        .map(|a| (a.to_string(), root.join(a)))
        .collect();
    for e in std::fs::read_dir(fixture(""))
        .into_iter()
        .flatten()
        .flatten()
    {
        dirs.push((e.file_name().to_string_lossy().into_owned(), e.path()));
    }
    for (app, dir) in dirs {
        if only.as_deref().is_some_and(|o| o != app) {
            continue;
        }
        if !dir.join("project.config.json").exists() {
            continue;
        }
        let v = run_dir(&dir);
        println!("==== {app}: {} calls", calls(&v).len());
        for c in calls(&v) {
            let callers: Vec<String> = c["callers"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|l| format!("{}:{}", l["path"], l["line"]))
                        .collect()
                })
                .unwrap_or_default();
            println!(
                "{}:{} {} {} {} [{}] via {} callers {}",
                c["loc"]["path"].as_str().unwrap_or(""),
                c["loc"]["line"],
                c["api"],
                c["method"],
                c["endpoint"]["url"].as_str().unwrap_or(""),
                c["endpoint"]["resolution"],
                c["via"],
                callers.join(" ")
            );
        }
        for wr in v["wrappers"].as_array().into_iter().flatten() {
            println!(
                "wrapper {} {} -> {} sites {}",
                wr["id"], wr["kind"], wr["calls"], wr["callSites"]
            );
        }
        for p in v["proposedFunctions"].as_array().into_iter().flatten() {
            println!(
                "fn {} {} {} {}",
                p["name"], p["host"], p["pathPrefix"], p["routes"]
            );
        }
    }
}

fn wrapper_ids(v: &Value) -> Vec<String> {
    v["wrappers"]
        .as_array()
        .expect("wrappers is an array")
        .iter()
        .map(|w| w["id"].as_str().unwrap_or("").to_string())
        .collect()
}

macro_rules! snapshot_case {
    ($test:ident, $case:literal) => {
        #[test]
        fn $test() {
            insta::assert_json_snapshot!($case, run($case));
        }
    };
}

snapshot_case!(snapshot_direct, "direct");
snapshot_case!(snapshot_promisified_config, "promisified-config");
snapshot_case!(snapshot_params_spread, "params-spread");
snapshot_case!(snapshot_global_data, "global-data");
snapshot_case!(snapshot_class_verbs, "class-verbs");
snapshot_case!(snapshot_api_object, "api-object");
snapshot_case!(snapshot_promisify_all, "promisify-all");
snapshot_case!(snapshot_ts_async, "ts-async");
snapshot_case!(snapshot_shadowed_wx, "shadowed-wx");
snapshot_case!(snapshot_dynamic_url, "dynamic-url");
snapshot_case!(snapshot_upload_download_socket, "upload-download-socket");
snapshot_case!(snapshot_ext_json, "ext-json");
snapshot_case!(snapshot_taro_uni, "taro-uni");
snapshot_case!(snapshot_page_methods, "page-methods");
snapshot_case!(snapshot_class_instance, "class-instance");
snapshot_case!(snapshot_app_methods, "app-methods");
snapshot_case!(snapshot_axios_adapter, "axios-adapter");
snapshot_case!(snapshot_fly_luch, "fly-luch");
snapshot_case!(snapshot_vue_prototype, "vue-prototype");
snapshot_case!(snapshot_taro_factory, "taro-factory");

#[test]
fn direct_calls_only_on_the_global_wx_network_apis() {
    let v = run("direct");
    assert_eq!(
        urls(&v),
        [
            "https://api.example.com/v1/items",
            "https://api.example.com/v1/banners",
            "https://api.example.com/v1/notices?page=1",
        ]
    );
    let c = calls(&v);
    assert_eq!(c[0]["method"], "POST", "method literals are upper-cased");
    assert_eq!(c[1]["method"], "GET", "wx.request defaults to GET");
    assert_eq!(
        c[2]["endpoint"]["path"], "/v1/notices",
        "the query is not part of the path"
    );
    assert!(
        c.iter()
            .all(|c| c["via"].as_array().is_some_and(Vec::is_empty))
    );
    assert!(wrapper_ids(&v).is_empty());
}

#[test]
fn a_local_wx_is_not_the_global_one() {
    let v = run("shadowed-wx");
    assert!(calls(&v).is_empty(), "{v:#}");
    assert!(wrapper_ids(&v).is_empty());
}

#[test]
fn config_module_constants_resolve_through_the_promisified_wrapper() {
    let v = run("promisified-config");
    assert_eq!(wrapper_ids(&v), ["utils/util.js#request"]);
    let c = calls(&v);
    assert_eq!(c.len(), 3);
    assert_eq!(
        c[2]["endpoint"]["url"],
        "https://api.mall.example.com/cart/add"
    );
    assert_eq!(c[2]["method"], "POST");
    assert_eq!(c[0]["method"], "GET", "the wrapper's default parameter");
    assert!(c.iter().all(|c| c["endpoint"]["resolution"] == "static"));
    let ids: Vec<&Value> = c.iter().map(|c| &c["id"]).collect();
    assert_eq!(v["wrappers"][0]["callSites"], json!(ids));
}

#[test]
fn params_spread_takes_url_and_method_from_the_argument_object() {
    let v = run("params-spread");
    let c = calls(&v);
    assert_eq!(
        c[2]["endpoint"]["url"],
        "https://api-hmugo-web.example.net/api/public/v1/my/orders/create"
    );
    assert_eq!(c[2]["method"], "POST");
    assert_eq!(c[0]["method"], "GET");
}

#[test]
fn app_global_data_base_url() {
    let v = run("global-data");
    assert_eq!(
        urls(&v),
        [
            "https://api.club.example.com/activities",
            "https://api.club.example.com/news"
        ]
    );
}

#[test]
fn class_verb_methods_chain_through_this_and_the_class_name() {
    let v = run("class-verbs");
    let c = calls(&v);
    assert_eq!(
        c[2]["via"],
        json!([
            "utils/request.js#Request.post",
            "utils/request.js#Request.request"
        ])
    );
    assert_eq!(c[2]["method"], "POST");
    assert_eq!(
        c[1]["endpoint"]["url"],
        "https://api.shop.example.com/v3/products/{id}"
    );
    assert_eq!(c[1]["endpoint"]["resolution"], "partial");
    assert!(
        v["wrappers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["kind"] == "method")
    );
}

#[test]
fn api_objects_are_endpoint_functions_with_their_callers() {
    let v = run("api-object");
    let c = calls(&v);
    assert_eq!(c.len(), 4, "one call per endpoint, written in api/index.js");
    assert!(c.iter().all(|c| c["loc"]["path"] == "api/index.js"));
    assert_eq!(
        c[0]["endpoint"]["url"],
        "https://api.busride.example.com/v2/lines/{id}"
    );
    assert_eq!(c[0]["inside"], "api/index.js#default.bus.getLine");
    assert_eq!(c[0]["callers"][0]["path"], "pages/index/index.js");
    assert_eq!(c[0]["callers"][0]["line"], 6);
    assert_eq!(c[3]["method"], "PUT");
    assert!(
        c[3].get("callers").is_none(),
        "`api.user.update` is never called"
    );
}

#[test]
fn functions_shadowed_by_variables_keep_their_callers() {
    let v = run("shadowed-names");
    let c = calls(&v);
    assert_eq!(c.len(), 3);
    for (call, inside) in c.iter().zip(["fetchItems", "api.list", "load"]) {
        assert_eq!(call["inside"], format!("pages/index/index.js#{inside}"));
        assert_eq!(
            call["callers"][0]["path"], "pages/index/index.js",
            "{inside}"
        );
    }
}

#[test]
fn promisified_aliases_count_as_request_sites() {
    let v = run("promisify-all");
    assert_eq!(
        urls(&v),
        [
            "https://api.example.com/feed",
            "https://api.example.com/profile",
            "https://api.example.com/settings"
        ]
    );
    assert_eq!(calls(&v)[2]["method"], "PUT");
}

#[test]
fn typescript_es_modules_with_async_await() {
    let v = run("ts-async");
    assert_eq!(wrapper_ids(&v), ["services/http.ts#request"]);
    let c = calls(&v);
    assert_eq!(c.len(), 3);
    assert_eq!(
        c[2]["endpoint"]["url"],
        "https://news.example.com/api/news/{id}/like"
    );
    assert_eq!(c[2]["method"], "POST");
    let p = v["proposedFunctions"].as_array().unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0]["name"], "news");
    assert_eq!(p[0]["pathPrefix"], "/api/news");
}

#[test]
fn unknown_urls_are_dynamic_with_the_expression_span() {
    let v = run("dynamic-url");
    let c = calls(&v);
    assert_eq!(c[0]["endpoint"]["url"], "{target}");
    assert_eq!(c[0]["endpoint"]["resolution"], "dynamic");
    let d = &c[0]["endpoint"]["dynamic"][0];
    assert_eq!(d["line"], 7);
    let text =
        std::fs::read_to_string(fixture("dynamic-url").join("pages/index/index.js")).unwrap();
    let (s, e) = (
        d["start"].as_u64().unwrap() as usize,
        d["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(&text[s..e], "options.target");
    assert_eq!(c[1]["endpoint"]["resolution"], "dynamic");
    assert_eq!(c[2]["endpoint"]["resolution"], "partial");
    assert_eq!(c[2]["endpoint"]["host"], "api.example.com");
}

#[test]
fn upload_download_and_socket() {
    let v = run("upload-download-socket");
    let apis: Vec<&str> = calls(&v)
        .iter()
        .map(|c| c["api"].as_str().unwrap())
        .collect();
    assert_eq!(apis, ["uploadFile", "downloadFile", "connectSocket"]);
    assert_eq!(
        calls(&v)[0]["endpoint"]["url"],
        "https://files.example.com/upload"
    );
    assert_eq!(calls(&v)[2]["endpoint"]["url"], "wss://rt.example.com/ws");
    let grouped: Vec<&str> = v["proposedFunctions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| {
            p["calls"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
        })
        .collect();
    let socket = calls(&v)[2]["id"].as_str().unwrap();
    assert!(socket.starts_with("call:"), "{socket}");
    assert!(
        !grouped.contains(&socket),
        "a socket cannot become a cloud function as is"
    );
}

#[test]
fn ext_json_base_url() {
    let v = run("ext-json");
    assert_eq!(urls(&v), ["https://tenant-42.saas.example.com/shop/home"]);
}

/// Speed check (not a timed assertion): builds a ~20 MB mini-program from copies of the sample
/// apps' scripts and prints parse-only time against the whole analysis. Run with
/// `cargo test --release -p analyzer --test calls -- --ignored --nocapture bench_`.
#[test]
#[ignore = "benchmark; prints timings"]
fn bench_twenty_megabytes() {
    use std::time::Instant;
    let apps = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/apps");
    let dir = std::env::temp_dir().join(format!("calls-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("project.config.json"),
        r#"{"appid":"wx0","compileType":"miniprogram"}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("app.json"),
        r#"{"pages":["c0/pages/index/index"]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("app.js"),
        "App({ globalData: { baseUrl: 'https://x.example.com' } })\n",
    )
    .unwrap();
    // Script sources of the sample apps (relative imports stay valid inside each copy).
    let mut sources: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    for app in [
        "bus-ride/miniprogram",
        "shop/miniprogram",
        "ts-news/miniprogram",
        "half-cloud/miniprogram",
        "messy/client",
    ] {
        let root = apps.join(app);
        let mut stack = vec![root.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                let Ok(ft) = e.file_type() else { continue };
                if ft.is_symlink() {
                    continue;
                }
                if ft.is_dir() {
                    stack.push(p);
                } else if matches!(p.extension().and_then(|x| x.to_str()), Some("js" | "ts")) {
                    let rel = Path::new(app).join(p.strip_prefix(&root).unwrap());
                    sources.push((rel, std::fs::read(&p).unwrap()));
                }
            }
        }
    }
    let per_copy: usize = sources.iter().map(|(_, b)| b.len()).sum();
    let copies = (20 * 1024 * 1024 / per_copy.max(1)).max(1);
    for c in 0..copies {
        for (rel, bytes) in &sources {
            let p = dir.join(format!("c{c}")).join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
    }
    // Best of three of each, alternating, so that the file cache and a noisy machine favour
    // neither side.
    let mut parse = std::time::Duration::MAX;
    let mut full = std::time::Duration::MAX;
    let mut found = (0, 0);
    for _ in 0..3 {
        let project = Project::discover(&dir).unwrap();
        let t = Instant::now();
        let (files, _) = analyzer::files::load_all(&project);
        parse = parse.min(t.elapsed());
        drop(files);
        let project = Project::discover(&dir).unwrap();
        let t = Instant::now();
        let a = analyze(project, Options::default());
        full = full.min(t.elapsed());
        found = (a.findings.backend_calls.len(), a.findings.wrappers.len());
    }
    println!(
        "{} MB in {} copies: parse only {:?}, full analysis {:?} (ratio {:.2}); {} backend calls, {} wrappers",
        per_copy * copies / (1024 * 1024),
        copies,
        parse,
        full,
        full.as_secs_f64() / parse.as_secs_f64(),
        found.0,
        found.1
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn taro_and_uni_requests() {
    let v = run("taro-uni");
    assert_eq!(
        urls(&v),
        [
            "https://api.taro.example.com/posts",
            "https://api.uni.example.com/items"
        ]
    );
    assert_eq!(calls(&v)[1]["method"], "POST");
    assert_eq!(wrapper_ids(&v), ["pages/index/index.js#createRequest"]);
}

#[test]
fn page_methods_called_through_this_and_uncalled_handlers() {
    let v = run("page-methods");
    let c = calls(&v);
    assert_eq!(urls(&v), ["https://api.page.example.com/home", "{url}"]);
    assert_eq!(c[0]["via"], json!(["pages/index/index.js#Page.request"]));
    assert_eq!(c[1]["endpoint"]["resolution"], "dynamic");
    assert_eq!(c[1]["inside"], "pages/index/index.js#Page.openLink");
    assert_eq!(wrapper_ids(&v), ["pages/index/index.js#Page.request"]);
}

/// Hostile input: deep expressions, self-referencing constants, mutual recursion between
/// wrappers, calls without arguments or with spreads. The analysis must finish and stay sane.
#[test]
fn pathological_input_does_not_hang_or_panic() {
    let dir = std::env::temp_dir().join(format!("calls-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("pages/index")).unwrap();
    std::fs::write(dir.join("project.config.json"), r#"{"appid":"wx0"}"#).unwrap();
    std::fs::write(dir.join("app.json"), r#"{"pages":["pages/index/index"]}"#).unwrap();
    std::fs::write(
        dir.join("app.js"),
        "App({ globalData: getApp().globalData })\n",
    )
    .unwrap();
    let deep = vec!["'/a'"; 3000].join(" + ");
    let doubling: String = (0..60)
        .map(|i| format!("const c{i} = c{} + c{};\n", i + 1, i + 1))
        .collect();
    let js = format!(
        r#"
{doubling}const c60 = c0
const loop = loop + '/x'
function ping(url) {{ return pong(url) }}
function pong(url) {{ wx.request({{ url: 'https://h.example.com' + url }}); return ping(url) }}
function self(u) {{ return self(u) }}
const mk = (u) => mk(u)
Page({{
  onLoad(o) {{
    wx.request({{ url: 'https://h.example.com' + {deep} }})
    wx.request({{ url: c0 }})
    wx.request({{ url: loop }})
    wx.request()
    wx.request(...o.args)
    wx.downloadFile({{ url: mk('/m') }})
    ping('/p')
    self('/s')
  }}
}})
"#
    );
    std::fs::write(dir.join("pages/index/index.js"), js).unwrap();
    let v = run_dir(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let c = calls(&v);
    // 6 direct calls in onLoad, plus the one through ping → pong.
    assert_eq!(c.len(), 7, "{v:#}");
    assert!(
        c.iter()
            .any(|c| c["endpoint"]["url"] == "https://h.example.com/p"
                && c["via"].as_array().is_some_and(|v| v.len() == 2)),
        "{v:#}"
    );
}

#[test]
fn class_instance_created_in_another_module() {
    let v = run("class-instance");
    assert_eq!(
        urls(&v),
        [
            "https://api.instance.example.com/v1/orders",
            "https://api.instance.example.com/v1/orders/1"
        ]
    );
    let c = calls(&v);
    assert_eq!(
        c[0]["via"],
        json!(["utils/http.js#Http.get", "utils/http.js#Http.request"])
    );
    assert_eq!(c[1]["method"], "DELETE");
}

#[test]
fn app_methods_reached_through_get_app() {
    let v = run("app-methods");
    assert_eq!(
        urls(&v),
        [
            "https://api.app.example.com/banners",
            "https://api.app.example.com/notices"
        ]
    );
    assert_eq!(wrapper_ids(&v), ["app.js#App.request"]);
}

/// The (file:line, method, URL) of each backend call.
fn sites(v: &Value) -> Vec<String> {
    calls(v)
        .iter()
        .map(|c| {
            format!(
                "{}:{} {} {}",
                c["loc"]["path"].as_str().unwrap_or(""),
                c["loc"]["line"],
                c["method"].as_str().unwrap_or("-"),
                c["endpoint"]["url"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn axios_instance_calls_go_through_the_adapter_with_the_base_url() {
    let v = run("axios-adapter");
    assert_eq!(
        sites(&v),
        [
            "pages/index/index.js:5 GET https://api.axios.example.com/v1/banners",
            "pages/index/index.js:6 POST https://api.axios.example.com/v1/bookings",
            "pages/index/index.js:7 PUT https://api.axios.example.com/v1/profile",
            "pages/index/index.js:8 DELETE|POST https://api.axios.example.com/v1/courses/{id}/favorite",
            "pages/index/index.js:9 POST https://api.axios.example.com/v1/auth/login",
            "pages/index/index.js:10 GET https://api.axios.example.com/v1/courses/today",
            "pages/news/news.js:13 GET https://news.axios.example.com/headlines",
            "pages/news/news.js:14 GET https://news.axios.example.com/weather",
            "pages/news/news.js:15 GET https://cms.axios.example.com/api/pages/home",
        ],
        "the stage switch's release host; no site at the adapter's own wx.request or at the interceptor"
    );
    let c = calls(&v);
    assert_eq!(c[0]["via"], json!(["utils/adapter.js#wxAdapter"]));
    assert_eq!(
        c[4]["via"],
        json!(["utils/http.js#requestForData", "utils/adapter.js#wxAdapter"])
    );
    assert_eq!(
        wrapper_ids(&v),
        [
            "utils/adapter.js#wxAdapter",
            "utils/http.js#getJSON",
            "utils/http.js#requestForData"
        ]
    );
}

#[test]
fn flyio_and_luch_request_clients_and_their_package_transports() {
    let v = run("fly-luch");
    assert_eq!(
        sites(&v),
        [
            "pages/coach/coach.js:13 GET https://coach.luch.example.com/api/coaches",
            "pages/coach/coach.js:14 GET https://coach.luch.example.com/api/coaches/{id}/slots",
            "pages/coach/coach.js:15 POST https://coach.luch.example.com/api/coaches/{id}/reserve",
            "pages/coach/coach.js:19 POST https://files.luch.example.com/avatars",
            "pages/coach/coach.js:25 POST https://report.luch.example.com/feedback",
            "pages/stores/stores.js:9 GET https://lbs.fly.example.com/v1/stores/nearby",
            "pages/stores/stores.js:13 POST https://lbs.fly.example.com/v1/stores/{id}/busy",
            "pages/stores/stores.js:18 GET https://cdn.fly.example.com/stores.json",
        ],
        "nothing reported inside miniprogram_npm"
    );
    assert_eq!(calls(&v)[3]["api"], "uploadFile");
    assert_eq!(
        wrapper_ids(&v),
        [
            "miniprogram_npm/flyio/index.js#wxEngine",
            "miniprogram_npm/luch-request/index.js#adapter"
        ]
    );
}

#[test]
fn vue_instance_properties_reached_through_this() {
    let v = run("vue-prototype");
    assert_eq!(
        sites(&v),
        [
            "common/api.js:6 GET https://api.vue.example.com/mall/v1/goods/{id}",
            "common/api.js:11 POST https://api.vue.example.com/mall/v1/cart/add",
            "pages/cart/cart.js:8 DELETE https://api.vue.example.com/mall/v1/cart/{id}",
            "pages/goods/goods.js:11 POST https://api.vue.example.com/shop/v2/orders",
            "pages/goods/goods.js:14 POST https://api.vue.example.com/m/v3/shares",
            "pages/goods/goods.js:15 GET https://api.vue.example.com/m/v3/shares/count",
            "pages/index/index.js:12 GET https://api.vue.example.com/mall/v1/home/banners",
            "pages/index/index.js:18 POST https://api.vue.example.com/mall/v1/cart/add",
            "pages/index/index.js:19 POST https://log.vue.example.com/click",
            "plugins/track.js:11 POST https://log.vue.example.com/pv",
        ]
    );
    let c = calls(&v);
    assert_eq!(
        c[0]["callers"][0]["path"], "pages/goods/goods.js",
        "`this.$api.goods.detail(…)` calls the API module's function"
    );
    assert_eq!(
        c[1]["callers"][0]["path"], "pages/cart/cart.js",
        "`_this.$api` in a function of a bundle that registers nothing"
    );
    assert_eq!(c[3]["via"], json!(["common/adapter.js#uniAdapter"]));
    assert_eq!(
        c[4]["via"],
        json!(["plugins/req.js#post", "plugins/req.js#request"]),
        "functions an object holds by name: their `this` is the object"
    );
    assert_eq!(
        c[8]["via"],
        json!(["plugins/track.js#Vue.prototype.$track.send"]),
        "a plugin's object written in the assignment"
    );
}

#[test]
fn factory_instances_bind_the_prefix() {
    let v = run("taro-factory");
    assert_eq!(
        sites(&v),
        [
            "pages/coupon/coupon.js:7 GET https://api.taro.example.com/v2/member/coupons",
            "services/api.js:7 GET https://api.taro.example.com/v2/shop/stores/{storeId}/menu",
            "services/api.js:9 POST https://api.taro.example.com/v2/trade/orders",
            "services/api.js:11 GET https://cdn.taro.example.com/config.json",
            "services/api.js:13 GET https://api.taro.example.com/v2/shop/all",
            "services/request.js:23 POST https://files.taro.example.com/upload",
        ]
    );
    assert_eq!(
        calls(&v)[4]["via"][0],
        "services/request.js#createRequest().all",
        "a method calling another of the same object keeps the prefix open"
    );
    assert_eq!(
        calls(&v)[1]["via"],
        json!([
            "services/request.js#createRequest().get",
            "services/request.js#request"
        ])
    );
    assert_eq!(calls(&v)[5]["api"], "uploadFile");
}

/// The default axios instance alone (no `axios.create`), its adapter set on its defaults.
#[test]
fn default_axios_with_its_adapter_set() {
    let dir = std::env::temp_dir().join(format!("calls-default-axios-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("pages/index")).unwrap();
    std::fs::write(dir.join("project.config.json"), r#"{"appid":"wx0"}"#).unwrap();
    std::fs::write(dir.join("app.json"), r#"{"pages":["pages/index/index"]}"#).unwrap();
    std::fs::write(dir.join("app.js"), "App({})\n").unwrap();
    std::fs::write(
        dir.join("pages/index/index.js"),
        "import axios from 'axios'
function adapter(config) {
  return new Promise((resolve) => wx.request({ url: config.baseURL + config.url, method: config.method, success: resolve }))
}
axios.defaults.adapter = adapter
axios.defaults.baseURL = 'https://api.default.example.com'
Page({
  onLoad() {
    axios.post('/visits')
  }
})
",
    )
    .unwrap();
    let v = run_dir(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        sites(&v),
        ["pages/index/index.js:9 POST https://api.default.example.com/visits"],
        "{v:#}"
    );
}

snapshot_case!(snapshot_webpack_array, "webpack-array");
snapshot_case!(snapshot_webpack_object, "webpack-object");
snapshot_case!(snapshot_webpack_chunks, "webpack-chunks");
snapshot_case!(snapshot_runtime_config, "runtime-config");
snapshot_case!(snapshot_minified_umd, "minified-umd");
snapshot_case!(snapshot_webpack5_npm, "webpack5-npm");

fn site(c: &Value) -> String {
    format!(
        "{}:{}",
        c["loc"]["path"].as_str().unwrap_or(""),
        c["loc"]["line"]
    )
}

fn caller_sites(c: &Value) -> Vec<String> {
    c["callers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| format!("{}:{}", l["path"].as_str().unwrap_or(""), l["line"]))
        .collect()
}

#[test]
fn an_npm_sdk_bundled_by_webpack_is_reported_where_the_app_calls_it() {
    let v = run("webpack-array");
    let c = calls(&v);
    // Through `__REQUIRE__` → the `__DEFINE__` factory → the bootstrap's entry module 0 →
    // `module.exports = __webpack_require__(1)` → `api.goodsList` → module 2's `request`.
    assert_eq!(
        c.iter().map(site).collect::<Vec<_>>(),
        [
            "pages/index/index.js:7",
            "pages/index/index.js:8",
            "pages/index/index.js:9",
            "pages/index/index.js:12"
        ],
        "the SDK's endpoint functions, called or not, are no call sites of their own"
    );
    assert_eq!(
        urls(&v),
        [
            "https://api.shop.example.cn/{subDomain}/shop/goods/list",
            "https://api.shop.example.cn/{subDomain}/shop/goods/detail?id={id}",
            // `init2` would change the base, but nothing calls it.
            "https://api.shop.example.cn/raw/ping",
            // DevTools' build of a package of two files: `require('./lib/http.js')` is the
            // other `__DEFINE__` by the map.
            "https://geo.example-lbs.cn/ws/geocoder/v1/?location={latitude},{longitude}",
        ]
    );
    assert_eq!(c[0]["method"], "POST");
    assert_eq!(c[1]["method"], "GET");
    let dynamic = &c[0]["endpoint"]["dynamic"][0];
    assert_eq!(
        (dynamic["path"].as_str(), &dynamic["line"]),
        (Some("miniprogram_npm/shop-sdk/index.js"), &json!(69)),
        "the placeholder points at `subDomain = b` in the exported `init`"
    );
    assert_eq!(
        c[0]["via"],
        json!([
            "miniprogram_npm/shop-sdk/index.js#1:api.goodsList",
            "miniprogram_npm/shop-sdk/index.js#2:request"
        ])
    );
    assert_eq!(
        c[3]["via"],
        json!([
            "miniprogram_npm/geo-kit/index.js#1700000000100:reverse",
            "miniprogram_npm/geo-kit/index.js#1700000000101:get"
        ])
    );
    assert_eq!(
        wrapper_ids(&v),
        [
            "miniprogram_npm/geo-kit/index.js#1700000000101:get",
            "miniprogram_npm/shop-sdk/index.js#2:request"
        ]
    );
}

#[test]
fn webpack_modules_keyed_by_path_resolve_through_harmony_exports() {
    let v = run("webpack-object");
    let c = calls(&v);
    // Copied into the app's own folder, the bundle's endpoint functions are the call sites.
    assert_eq!(
        c.iter().map(site).collect::<Vec<_>>(),
        [
            "utils/member.js:44",
            "utils/member.js:48",
            "utils/member.js:110"
        ]
    );
    assert_eq!(
        urls(&v),
        [
            "https://member.example.cn/v1/{tenant}/coupon/list",
            "https://member.example.cn/v1/{tenant}/coupon/detail/{id}",
            "https://member.example.cn/v1/{tenant}/points/balance",
        ]
    );
    assert_eq!(
        c.iter().map(caller_sites).collect::<Vec<_>>(),
        [
            ["pages/index/index.js:5"],
            ["pages/index/index.js:6"],
            ["pages/index/index.js:7"]
        ],
        "re-exported getters, `Object(m[\"f\"])(…)`, `(0, m.f)(…)` and `__webpack_require__.n(m).a`"
    );
    assert_eq!(wrapper_ids(&v), ["utils/member.js#./src/http.js:request"]);
}

#[test]
fn chunk_modules_resolve_by_id_across_chunk_files() {
    let v = run("webpack-chunks");
    let c = calls(&v);
    assert_eq!(
        urls(&v),
        [
            "https://shop.fruit.example.com/cart",
            "https://api.fruit.example.com/v1/fruits",
            "https://api.fruit.example.com/v1/cart/add",
            "https://api.fruit.example.com/v1/fruits/{id}/reviews",
        ]
    );
    // `self["webpackChunkfruit"]`: the page's module requires one of `common/main.js`.
    assert_eq!(caller_sites(&c[0]), ["pages/cart/cart.js:10"]);
    // `global["webpackJsonp"]`: `_interopRequireDefault(__webpack_require__(2)).default.get`,
    // module 2 of `common/vendor.js`, whose `_this.baseUrl` (Babel's `this`) is module 3's
    // config under a var injection; `"/fruits/".concat(id, …)` is Babel's template literal.
    assert_eq!(
        c[1]["via"],
        json!([
            "common/vendor.js#2:http.get",
            "common/vendor.js#2:http.request"
        ])
    );
    assert_eq!(c[2]["method"], "POST");
}

#[test]
fn values_set_at_run_time_are_placeholders_at_the_assignment() {
    let v = run("runtime-config");
    assert_eq!(
        urls(&v),
        [
            "https://api.example.com/{tenant}/goods",
            "https://img.example.com/avatar/{id}",
            "https://cdn.example.com/banner.json",
            "https://api.example.com/track/{counter}",
            "https://api.example.com/search?q={q}",
            "https://pay.example.com/orders/{order}/pay",
        ],
        "never the initial '-'; `BASE` only changes in a function nothing calls; `imgHost` and \
         `cdn` are assigned once after a declaration without a value"
    );
    let c = calls(&v);
    let line = |i: usize| c[i]["endpoint"]["dynamic"][0]["line"].clone();
    assert_eq!(line(0), json!(10), "`tenant = t` in `init`");
    assert_eq!(line(3), json!(36), "`counter += 1`");
    assert_eq!(c[0]["endpoint"]["resolution"], "partial");
    assert_eq!(c[2]["endpoint"]["resolution"], "static");
}

#[test]
fn minified_vendor_calls_name_the_app_calls_that_reach_them() {
    let v = run("minified-umd");
    let c = calls(&v);
    assert_eq!(
        urls(&v),
        [
            "https://geo.example-lbs.cn/ws/geocoder/v1/",
            "https://log.example-track.cn/v1/collect",
        ]
    );
    assert_eq!(c[0]["inside"], "libs/geo.min.js#G.e.reverse");
    assert_eq!(caller_sites(&c[0]), ["pages/index/index.js:11"]);
    // `o()` inside the IIFE `n`, reached from the UMD exports `init` (through `push`), `track`
    // and `flush`: the callers are the app's calls, not the file's own.
    assert_eq!(c[1]["inside"], "libs/track.min.js#n.o");
    assert_eq!(
        caller_sites(&c[1]),
        ["app.js:5", "app.js:8", "pages/index/index.js:8"]
    );
    assert_eq!(
        wrapper_ids(&v),
        ["libs/geo.min.js#G.e.reverse", "libs/track.min.js#n.o"]
    );
}

#[test]
fn a_webpack5_library_resolves_from_its_bootstrap_exports() {
    let v = run("webpack5-npm");
    // `module.exports = __webpack_exports__` inside the bootstrap IIFE, `__webpack_exports__ =
    // __webpack_require__("./src/index.js")`, getters `() => (createOrder)`.
    assert_eq!(
        calls(&v).iter().map(site).collect::<Vec<_>>(),
        ["pages/index/index.js:5", "pages/index/index.js:8"]
    );
    assert_eq!(
        urls(&v),
        [
            "https://pay.example-gw.cn/v3/orders",
            "https://pay.example-gw.cn/v3/orders/query"
        ]
    );
    assert_eq!(
        wrapper_ids(&v),
        ["miniprogram_npm/pay-kit/index.js#./src/http.js:post"]
    );
}

/// A wrapper nothing calls keeps its own call, marked `uncalledWrapper` (its URL is the
/// wrapper's parameter, filled by no call site); a page lifecycle's parameter is the
/// platform's, so a call built from it is not marked.
#[test]
fn calls_inside_wrappers_nothing_calls_are_marked() {
    let v = run("uncalled-wrapper");
    let marked: Vec<&str> = calls(&v)
        .iter()
        .filter(|c| c["uncalledWrapper"] == true)
        .map(|c| c["inside"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(marked, ["utils/http.js#legacySend"], "{v:#}");
    assert!(
        urls(&v).contains(&"https://api.kept.example.com/v1/list".to_string()),
        "{v:#}"
    );
}
