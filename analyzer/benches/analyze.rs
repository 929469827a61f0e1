//! End-to-end analysis speed against a parse-only pass over the same files.
//!
//! Generates a large synthetic mini-program (by default ≥ 20 MB of JS/TS in thousands of
//! files, plus WXML/WXSS/JSON), then runs each mode in a child process of this binary so that
//! wall time, CPU time (→ cores used) and peak memory (VmHWM) are each mode's own:
//!
//! - `parse`: discovery + read and parse every file, with scope resolution and the import scan
//!   (`analyzer::files::load_all`; the per-file summary of the backend-calls detector, built
//!   at load time in a full analysis, is not)
//! - `full`: discovery + the whole analysis + the JSON report
//!
//! Run: `cargo bench -p analyzer --bench analyze` (options after `--`: `--mb 20`, `--runs 3`,
//! `--keep DIR` to reuse a generated corpus).

use std::path::{Path, PathBuf};

// The same allocator as the `migrate` binary, so the figures are the tool's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::Command;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(&args[i + 1], Path::new(&args[i + 2]));
        return;
    }
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let mb: usize = opt("--mb").and_then(|v| v.parse().ok()).unwrap_or(20);
    let runs: usize = opt("--runs").and_then(|v| v.parse().ok()).unwrap_or(3);
    let dir = match opt("--keep") {
        Some(d) => PathBuf::from(d),
        None => std::env::temp_dir().join(format!("migrate-bench-{mb}mb")),
    };
    let (files, script_bytes, total_bytes) = generate(&dir, mb * 1024 * 1024);
    println!(
        "corpus: {} files, {:.1} MB of JS/TS, {:.1} MB in all, at {}",
        files,
        script_bytes as f64 / 1048576.0,
        total_bytes as f64 / 1048576.0,
        dir.display()
    );
    let exe = std::env::current_exe().expect("bench binary path");
    let mut best: Vec<(String, f64, f64, u64, String)> = Vec::new();
    // The two modes alternate, run by run, so that a slow spell of the machine (this VM's
    // kernel sometimes stalls for a while zeroing pages) weighs on both alike.
    let modes = ["parse", "full"];
    let mut all: Vec<Vec<(f64, String)>> = vec![Vec::new(); modes.len()];
    for _ in 0..runs {
        for (m, mode) in modes.iter().enumerate() {
            let start = Instant::now();
            let out = Command::new(&exe)
                .args(["--child", mode])
                .arg(&dir)
                .output()
                .expect("run child");
            let wall = start.elapsed().as_secs_f64();
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            if !out.status.success() {
                eprintln!(
                    "{mode} child failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                std::process::exit(1);
            }
            all[m].push((wall, text));
        }
    }
    for (mode, mut samples) in modes.iter().zip(all) {
        samples.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (wall, text) = samples.swap_remove(0);
        let field = |k: &str| -> f64 {
            text.split_whitespace()
                .find_map(|t| t.strip_prefix(&format!("{k}=")))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0)
        };
        let cpu = field("cpu_s");
        let hwm = field("hwm_kb") as u64;
        best.push((mode.to_string(), wall, cpu, hwm, text.trim().to_string()));
    }
    println!(
        "{:<6} {:>9} {:>9} {:>7} {:>10} {:>12}",
        "mode", "wall s", "MB/s", "cores", "peak MB", ""
    );
    for (mode, wall, cpu, hwm, text) in &best {
        println!(
            "{:<6} {:>9.3} {:>9.1} {:>7.2} {:>10.1}   {}",
            mode,
            wall,
            total_bytes as f64 / 1048576.0 / wall,
            cpu / wall,
            *hwm as f64 / 1024.0,
            text
        );
    }
    let ratio = best[1].1 / best[0].1;
    println!("full / parse-only time: {ratio:.2}x (target ≤ 1.5x)");
}

/// Runs one mode and prints `key=value` figures: findings counts, CPU seconds, peak memory.
fn child(mode: &str, dir: &Path) {
    let project = analyzer::Project::discover(dir).expect("discover");
    let summary = match mode {
        "parse" => {
            let (files, _) = analyzer::files::load_all(&project);
            let parsed = files
                .iter()
                .filter(|f| !matches!(f.parsed, analyzer::files::Parsed::None))
                .count();
            // Like `migrate analyze`, exit without tearing the syntax trees down.
            std::mem::forget(files);
            format!("parsed={parsed}")
        }
        _ => {
            let a = analyzer::analyze(project, analyzer::Options::default());
            let report_start = std::time::Instant::now();
            let r = analyzer::report::Report::new(&a);
            // Written out in pieces, the way `migrate analyze --format json` writes it.
            let mut json = Counted(0);
            analyzer::report::json::write(&r, &mut json).expect("render the report");
            let report_s = report_start.elapsed().as_secs_f64();
            let phases: Vec<String> = a
                .timings
                .iter()
                .map(|(n, d)| format!("{n}={:.3}", d.as_secs_f64()))
                .chain(std::iter::once(format!("report={report_s:.3}")))
                .collect();
            eprintln!("phases: {}", phases.join(" "));
            let line = format!(
                "calls={} data={} assets={} report_bytes={}",
                r.findings.backend_calls.len(),
                r.findings.static_data.len(),
                r.findings.large_assets.len(),
                json.0
            );
            drop(r);
            // Like `migrate analyze`, exit without tearing the syntax trees down.
            std::mem::forget(a);
            line
        }
    };
    println!("{summary} cpu_s={:.3} hwm_kb={}", cpu_seconds(), peak_kb());
}

/// A writer that only counts the bytes.
struct Counted(usize);

impl std::io::Write for Counted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn proc_status(key: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

fn peak_kb() -> u64 {
    proc_status("VmHWM:").unwrap_or(0)
}

/// User + system CPU seconds of this process (all threads), from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the `(comm)`; utime and stime are fields 14 and 15 (1-based).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// A small deterministic generator (xorshift) so the corpus is the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const WORDS: &[&str] = &[
    "order", "goods", "cart", "user", "coupon", "address", "station", "line", "city", "notice",
    "comment", "article",
];
const CITIES: &[&str] = &[
    "北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "西安", "南京", "重庆",
];

fn write(path: &Path, text: &str, total: &mut u64) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).expect("create corpus folder");
    }
    std::fs::write(path, text).expect("write corpus file");
    *total += text.len() as u64;
}

/// Writes the corpus (unless a complete one is already there) and returns (files, script bytes,
/// all bytes).
fn generate(dir: &Path, target_script_bytes: usize) -> (usize, u64, u64) {
    let marker = dir.join(".complete");
    if let Ok(s) = std::fs::read_to_string(&marker) {
        let v: Vec<u64> = s
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if v.len() == 3 {
            return (v[0] as usize, v[1], v[2]);
        }
    }
    let _ = std::fs::remove_dir_all(dir);
    let mp = dir.join("miniprogram");
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let mut total = 0u64;
    let mut script = 0u64;
    let mut files = 0usize;
    write(
        &dir.join("project.config.json"),
        r#"{"miniprogramRoot":"miniprogram/","appid":"wxbench000000000","setting":{"useCompilerPlugins":["typescript"]}}"#,
        &mut total,
    );
    write(
        &mp.join("config/index.js"),
        "module.exports = { baseUrl: 'https://api.bench.example.com/v1', cdn: 'https://cdn.bench.example.com' }\n",
        &mut total,
    );
    write(
        &mp.join("utils/request.js"),
        "const config = require('../config/index.js')\nfunction request(url, data, method = 'GET') {\n  return new Promise((resolve, reject) => {\n    wx.request({ url: config.baseUrl + url, data, method, header: { token: wx.getStorageSync('token') },\n      success(res) { if (res.statusCode === 200 && res.data.code === 0) resolve(res.data.data); else reject(res) },\n      fail: reject })\n  })\n}\nmodule.exports = { request, get: (u, d) => request(u, d, 'GET'), post: (u, d) => request(u, d, 'POST') }\n",
        &mut total,
    );
    files += 3;
    let mut pages = Vec::new();
    let mut subpages: Vec<Vec<String>> = vec![Vec::new(); 8];
    let mut n = 0usize;
    while (script as usize) < target_script_bytes {
        let word = WORDS[n % WORDS.len()];
        let sub = n % 10;
        let (root, rel) = if sub < 8 {
            (format!("pkg{sub}/"), format!("pages/{word}{n}/index"))
        } else {
            (String::new(), format!("pages/{word}{n}/index"))
        };
        let base = mp.join(format!("{root}{rel}"));
        let ts = n.is_multiple_of(3);
        // A page: code with a data table, handlers, requests through the wrapper.
        let mut js = String::with_capacity(8192);
        let up = if root.is_empty() {
            "../../"
        } else {
            "../../../"
        };
        if ts {
            js.push_str(&format!("import {{ get, post }} from '{up}utils/api'\n"));
            js.push_str(&format!("interface Row{n} {{ id: number; name: string; city: string; price: number; tags: string[] }}\n"));
        } else {
            js.push_str(&format!(
                "const {{ get, post }} = require('{up}utils/request.js')\n"
            ));
        }
        js.push_str(if ts {
            "const TABLE: Row[] = [\n"
        } else {
            "const TABLE = [\n"
        });
        let rows = 20 + rng.below(40);
        for r in 0..rows {
            js.push_str(&format!(
                "  {{ id: {}, name: '{}{}-{}', city: '{}', price: {}.{}, tags: ['{}', '{}'] }},\n",
                r,
                word,
                n,
                r,
                CITIES[rng.below(CITIES.len() as u64) as usize],
                rng.below(1000),
                rng.below(100),
                WORDS[rng.below(12) as usize],
                WORDS[rng.below(12) as usize]
            ));
        }
        js.push_str("]\n\nPage({\n  data: { list: [], loading: false, page: 1, keyword: '' },\n");
        js.push_str(&format!(
            "  async onLoad(options) {{\n    this.setData({{ loading: true }})\n    try {{\n      const list = await get('/{word}s', {{ page: 1, id: options.id }})\n      this.setData({{ list, loading: false }})\n    }} catch (e) {{\n      wx.showToast({{ title: '加载失败', icon: 'none' }})\n    }}\n  }},\n"
        ));
        for h in 0..(6 + rng.below(6)) {
            js.push_str(&format!(
                "  onTap{h}(e) {{\n    const id = e.currentTarget.dataset.id\n    const row = TABLE.find((r) => r.id === id) || TABLE[0]\n    if (row.price > {}) {{\n      return post(`/{word}s/${{id}}/action{h}`, {{ name: row.name, city: row.city }}).then((res) => {{\n        this.setData({{ ['list[' + {h} + ']']: res }})\n      }})\n    }}\n    const total = this.data.list.reduce((s, x) => s + (x.price || 0), 0)\n    wx.navigateTo({{ url: '/pages/detail/index?id=' + id + '&total=' + total }})\n  }},\n",
                rng.below(500)
            ));
        }
        js.push_str("  onPullDownRefresh() { this.onLoad({}) },\n})\n");
        script += js.len() as u64;
        write(
            &base.with_extension(if ts { "ts" } else { "js" }),
            &js,
            &mut total,
        );
        let mut wxml =
            String::from("<view class=\"page\">\n  <block wx:for=\"{{list}}\" wx:key=\"id\">\n");
        for i in 0..8 {
            wxml.push_str(&format!("    <view class=\"row\" bindtap=\"onTap{i}\" data-id=\"{{{{item.id}}}}\"><text>{{{{item.name}}}}</text><image src=\"/images/icon{}.png\" mode=\"aspectFit\"/></view>\n", i % 4));
        }
        wxml.push_str("  </block>\n</view>\n");
        write(&base.with_extension("wxml"), &wxml, &mut total);
        write(
            &base.with_extension("wxss"),
            ".page { padding: 24rpx; }\n.row { display: flex; height: 88rpx; background: url(https://cdn.bench.example.com/bg.png); }\n",
            &mut total,
        );
        write(
            &base.with_extension("json"),
            "{\n  \"navigationBarTitleText\": \"列表\",\n  \"usingComponents\": {}\n}\n",
            &mut total,
        );
        files += 4;
        if sub < 8 {
            subpages[sub].push(rel);
        } else {
            pages.push(rel);
        }
        n += 1;
    }
    write(
        &mp.join("utils/api.ts"),
        "import { get as g, post as p } from './request.js'\nexport function get<T>(url: string, data?: object): Promise<T> { return g(url, data) }\nexport function post<T>(url: string, data?: object): Promise<T> { return p(url, data) }\n",
        &mut total,
    );
    for i in 0..4 {
        write(
            &mp.join(format!("images/icon{i}.png")),
            "\u{89}PNG\r\n",
            &mut total,
        );
    }
    let subs: Vec<String> = subpages
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{{\"root\":\"pkg{i}\",\"pages\":{}}}", serde_json_list(p)))
        .collect();
    let app = format!(
        "{{\"pages\":{},\"subpackages\":[{}]}}",
        serde_json_list(&pages),
        subs.join(",")
    );
    write(&mp.join("app.json"), &app, &mut total);
    write(
        &mp.join("app.js"),
        "App({ globalData: { baseUrl: 'https://api.bench.example.com/v1' } })\n",
        &mut total,
    );
    files += 7;
    std::fs::write(&marker, format!("{files} {script} {total}")).expect("write marker");
    (files, script, total)
}

fn serde_json_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("\"{s}\"")).collect();
    format!("[{}]", quoted.join(","))
}
