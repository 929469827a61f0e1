//! The benchmark corpus: a large synthetic mini-program (by default 20 MB of JS/TS in about
//! 10,000 files, plus WXML/WXSS/JSON), the same on every machine. Shared by the analyzer's and
//! the rewriter's benchmarks (`#[path]`-included).

use std::path::Path;

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
pub(crate) fn generate(dir: &Path, target_script_bytes: usize) -> (usize, u64, u64) {
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
