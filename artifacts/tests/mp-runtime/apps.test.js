'use strict';
// Every sample app under fixtures/apps that `migrate apply` migrates: applied, served and
// verified with the `migrate verify` command (MIGRATE_BIN), each against a small loopback
// copy of its legacy backend (bus-ride and shop are in cli.test.js and verify.test.js):
//
// - messy, half-cloud, webpack-sdk: verified equal page by page, and the calls that moved
//   went through the generated functions (half-cloud also keeps its own cloud: the original
//   runs against a local cloud of its own folder, seeded with its exported `news`);
// - ts-news, axios-ts (TypeScript sources, no compiled JS in the fixture): the runtime
//   compiles each .ts on load with the `typescript` package, as DevTools does when it builds;
//   verified equal the same way. `typescript` comes from tests/node (its package.json pins
//   it): verify is run with NODE_PATH=tests/node/node_modules (TS_NODE_PATH below), and the
//   copies' parent folder links tests/node/node_modules as node_modules too (for the
//   functions' wx-server-sdk), which the project lookup finds first; both are the same
//   install. An app whose `typescript` cannot be found is refused with what to do;
// - taro, uni-app (apply rewrites the framework sources; the built mini-program in dist/ or
//   unpackage/ only changes when the app is rebuilt, which needs the framework's CLI): not
//   verifiable as they are; verify must say why and what to do (exit 2), not crash and not
//   call them equal.

const test = require('node:test');
const assert = require('node:assert/strict');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const fx = require('./verify-fixture.js');

const BIN = process.env.MIGRATE_BIN;
const SKIP = fx.skipReason();
const REPO = path.join(__dirname, '../../..');
const TS_NODE_PATH = path.join(REPO, 'tests/node/node_modules');
const TS_SKIP = SKIP || (fs.existsSync(path.join(TS_NODE_PATH, 'typescript/package.json'))
  ? false : 'tests/node/node_modules has no typescript: run `npm ci --prefix tests/node` first');

// `migrate verify` on a prepared setting; `origins` map to the loopback backend.
// `env`: the environment of the command (default: this process's).
function verifyCli(setting, origins, base, extra, env) {
  return new Promise((resolve) => {
    const args = ['verify', setting.original, setting.migrated, '--env', setting.env || fx.ENV, '--format', 'json'];
    origins.forEach((o) => args.push('--backend', o + '=' + base));
    const child = childProcess.spawn(BIN, args.concat(extra || []), { stdio: ['ignore', 'pipe', 'pipe'], env: env || process.env });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { err += c; });
    child.on('close', (status) => {
      let report = null;
      try {
        report = JSON.parse(out);
      } catch (e) {
        report = null;
      }
      resolve({ status, out, err, report });
    });
  });
}

function writeScript(setting, script) {
  const file = path.join(setting.dir, 'script.json');
  fs.writeFileSync(file, JSON.stringify(script, null, 2));
  return ['--script', file];
}

// Apply `app`, start its backend, point the functions at it, run `check(setting, backend)`.
async function withApp(app, server, options, check) {
  const setting = fx.prepare(BIN, app, options);
  setting.env = options && options.env;
  const backend = await server.start();
  try {
    fx.retarget(setting.migrated, backend.base);
    if (options && options.after) options.after(setting);
    return await check(setting, backend);
  } finally {
    await backend.close();
    fx.remove(setting.dir);
  }
}

function unequalSteps(report) {
  const out = [];
  (report.pages || []).forEach((p) => p.steps.forEach((s) => {
    if (!s.equal) out.push(p.route + ' ' + s.step + ': ' + JSON.stringify(s.differences).slice(0, 600));
  }));
  return out;
}

// Every page and step equal, no error on either side beyond what the original itself hits.
function assertEqual(r) {
  assert.ok(r.report, 'a JSON report on stdout; stderr: ' + r.err);
  assert.deepEqual(unequalSteps(r.report), []);
  assert.equal(r.status, 0, r.err);
  assert.equal(r.report.equal, true);
}

function stepOf(report, route, step) {
  const page = report.pages.filter((p) => p.route === route)[0];
  assert.ok(page, 'page ' + route + ' in the report');
  const s = page.steps.filter((x) => x.step === step)[0];
  assert.ok(s, route + ' has a step ' + step + ': ' + page.steps.map((x) => x.step).join(', '));
  return s;
}

// ---------------------------------------------------------------------------------------------
// verified equal

test('messy (legacy client/ layout, ext.json host, storage host, broken modules): migrated shows the same data', { skip: SKIP }, () => {
  const backend = require('./messy-backend.js');
  return withApp('messy', backend, null, async (setting, be) => {
    const script = writeScript(setting, {
      pages: [
        { route: 'pages/index/index', steps: [{ pullDownRefresh: true }, { tap: 'goDetail', dataset: { id: 2, link: 'https://www.messy-api.example.com/api/items/2' } }] },
        { route: 'pages/list/list', steps: [{ reachBottom: true }] },
        { route: 'pages/detail/detail', query: { id: '5' }, steps: [{ tap: 'onFavorite' }] },
        { route: 'pages/profile/profile' },
        { route: 'pkg-activity/pages/lottery/lottery', steps: [{ tap: 'draw' }] }
      ]
    });
    const r = await verifyCli(setting, backend.ORIGINS, be.base, script);
    assertEqual(r);
    const feeds = stepOf(r.report, 'pages/index/index', 'onLoad');
    assert.deepEqual(feeds.requests.original, ['GET https://www.messy-api.example.com/api/home/feeds?tenant=T20190311 200']);
    assert.deepEqual(feeds.requests.migrated, ['cloud callFunction home (GET /api/home/feeds?tenant=T20190311) 200']);
    const lottery = stepOf(r.report, 'pkg-activity/pages/lottery/lottery', 'onLoad');
    assert.ok(lottery.requests.migrated.every((x) => x.startsWith('cloud callFunction ')), JSON.stringify(lottery.requests));
    assert.equal(lottery.requests.migrated.length, 1);
  });
});

// half-cloud already reads its `news` collection from the client and through its own getList
// function, and logs in through userLogin; only profile and messages are still on the old
// server. The collection's records are the app's cloud data (exported seeds, put into both
// copies): the original runs against a local cloud of its own folder, the migrated one
// against its own, so both start from the same data.
function halfCloudSeeds(copy) {
  const to = path.join(copy, 'cloud/database');
  fs.mkdirSync(to, { recursive: true });
  fs.cpSync(path.join(__dirname, 'seeds/half-cloud'), to, { recursive: true });
}

test('half-cloud (partly on cloud development already): migrated shows the same data, its own functions kept', { skip: SKIP }, () => {
  const backend = require('./half-cloud-backend.js');
  return withApp('half-cloud', backend, { before: halfCloudSeeds, env: 'prod-1a2b3c' }, async (setting, be) => {
    // the existing functions are kept as they were
    ['getList', 'userLogin'].forEach((f) => {
      assert.equal(fs.readFileSync(path.join(setting.migrated, 'cloudfunctions', f, 'index.js'), 'utf8'),
        fs.readFileSync(path.join(setting.original, 'cloudfunctions', f, 'index.js'), 'utf8'));
    });
    const script = writeScript(setting, {
      storage: { token: 'tok-hc' },
      pages: [
        { route: 'pages/index/index', steps: [{ reachBottom: true }, { pullDownRefresh: true }] },
        { route: 'pages/news/news', steps: [{ reachBottom: true }, { tap: 'onCategoryTap', dataset: { key: 'event' } }] },
        { route: 'pages/news-detail/news-detail', query: { id: 'news-002' } },
        { route: 'pages/profile/profile', steps: [
          { tap: 'readMessage', dataset: { id: 'm101', index: 1 } },
          { change: 'onNicknameChange', value: ' 阿华 ' }
        ] }
      ]
    });
    const r = await verifyCli(setting, [backend.ORIGIN], be.base, script);
    assertEqual(r);
    // the cloud calls it already made, on both sides
    const both = (route, step, line) => {
      const s = stepOf(r.report, route, step);
      assert.deepEqual(s.requests.original, [line], JSON.stringify(s.requests));
      assert.deepEqual(s.requests.migrated, [line], JSON.stringify(s.requests));
    };
    both('pages/index/index', 'onLoad', 'cloud callFunction getList 200');
    both('pages/news/news', 'tap onCategoryTap', 'cloud database.getDocument news 200');
    both('pages/news-detail/news-detail', 'onLoad', 'cloud database.getDocument news 200');
    const profile = stepOf(r.report, 'pages/profile/profile', 'onShow');
    // login (the app's own function), then profile, points and messages (moved), in order
    assert.deepEqual(profile.requests.original, ['cloud callFunction userLogin 200', 'GET ' + backend.ORIGIN + '/profile 200',
      'GET ' + backend.ORIGIN + '/profile/points 200', 'GET ' + backend.ORIGIN + '/messages?page=1 200']);
    assert.deepEqual(profile.requests.migrated, ['cloud callFunction userLogin 200', 'cloud callFunction profile (GET /profile) 200',
      'cloud callFunction profile (GET /profile/points) 200', 'cloud callFunction messages (GET /messages?page=1) 200']);
  });
});

// webpack-sdk: the calls inside its npm SDKs stay (apply leaves miniprogram_npm alone and
// says so), the app's own direct calls (the CDN layout, the ops popup, express tracking) moved.
test('webpack-sdk (bundled API SDKs, minified vendors): migrated shows the same data; the direct calls moved', { skip: SKIP }, () => {
  const backend = require('./webpack-sdk-backend.js');
  return withApp('webpack-sdk', backend, null, async (setting, be) => {
    assert.match(setting.apply, /inside an npm package/);
    const script = writeScript(setting, {
      storage: { token: backend.TOKEN },
      pages: [
        { route: 'pages/index/index', steps: [{ reachBottom: true }] },
        { route: 'pages/mine/mine' },
        { route: 'pages/order-detail/order-detail', query: { id: '12' } },
        { route: 'pages/category/category' },
        { route: 'pages/cart/cart' }
      ]
    });
    const r = await verifyCli(setting, backend.ORIGINS, be.base, script);
    assertEqual(r);
    const index = stepOf(r.report, 'pages/index/index', 'onLoad');
    assert.ok(index.requests.original.includes('GET https://cdn.mallkit.example.cn/mall2025/home-layout.json 200'), JSON.stringify(index.requests));
    assert.ok(index.requests.migrated.includes('cloud callFunction mall2025 (GET /mall2025/home-layout.json) 200'), JSON.stringify(index.requests));
    assert.ok(index.requests.migrated.includes('POST https://api.mallkit.example.cn/mall2025/shop/goods/list 200'), JSON.stringify(index.requests));
    const traces = stepOf(r.report, 'pages/order-detail/order-detail', 'onLoad');
    assert.ok(traces.requests.migrated.includes('cloud callFunction query (GET /api/query?com=SF&nu=SF140012) 200'), JSON.stringify(traces.requests));
    const mine = stepOf(r.report, 'pages/mine/mine', 'onLoad');
    assert.ok(mine.requests.migrated.includes('cloud callFunction popup (GET /api/popup?app=mall2025&scene=mine) 200'), JSON.stringify(mine.requests));
  });
});

// ts-news and axios-ts: TypeScript sources only (DevTools compiles them when it builds); the
// runtime compiles each .ts on load. NODE_PATH names the typescript of tests/node.
function tsEnv() {
  return Object.assign({}, process.env, { NODE_PATH: TS_NODE_PATH });
}

// ts-news: one wx.request wrapper (utils/http.ts) that apply points at cloudRequest, so every
// API call moves; the splash image moved to cloud storage (compared by its bytes). No token
// in storage: the login happens on the taps that need it (like, comment, the mine page).
test('ts-news (TypeScript, compiled on load): migrated shows the same data; every API call went through its function', { skip: TS_SKIP }, () => {
  const backend = require('./ts-news-backend.js');
  return withApp('ts-news', backend, null, async (setting, be) => {
    assert.ok(!fs.existsSync(path.join(setting.migrated, 'miniprogram/app.js')), 'no compiled JS in the copy');
    const script = writeScript(setting, {
      pages: [
        { route: 'pages/index/index', steps: [{ reachBottom: true }, { reachBottom: true }, { pullDownRefresh: true }, { tap: 'onChannelTap', dataset: { id: 'tech' } }] },
        { route: 'pages/article/article', query: { id: '101' }, steps: [
          { reachBottom: true },
          { tap: 'onLike' },
          { tap: 'onLikeComment', dataset: { id: 2, index: 1 } },
          { tap: 'toggleEmoji' },
          { tap: 'onEmojiGroup', dataset: { key: 'panda' } },
          { input: 'onInput', value: '说得好[微笑]' },
          { tap: 'onSend' }
        ] },
        { route: 'pages/article/article', query: { id: '404' } },
        { route: 'pages/channel/channel', steps: [{ tap: 'toggleEdit' }, { tap: 'onChannelTap', dataset: { id: 'food' } }, { tap: 'toggleEdit' }] },
        { route: 'pages/mine/mine', steps: [{ tap: 'onLoginTap' }, { tap: 'goFavorites' }, { reachBottom: true }] },
        { route: 'packageProfile/pages/settings/settings', steps: [
          { tap: 'onScaleTap', dataset: { value: 1.15 } },
          { change: 'onNightChange', value: true },
          { tap: 'clearCache' }
        ] },
        // opened on its own, not logged in: the API's 401, the same toast and unhandled
        // HttpError on both sides (the logged-in list is reached from the mine page above)
        { route: 'packageProfile/pages/favorites/favorites' }
      ]
    });
    const r = await verifyCli(setting, [backend.ORIGIN], be.base, script, tsEnv());
    assertEqual(r);
    assert.equal(r.report.pages.length, 7);
    const api = backend.ORIGIN + '/v1';
    const index = stepOf(r.report, 'pages/index/index', 'onLoad');
    assert.deepEqual(index.requests.original, ['GET ' + api + '/articles?channel=recommend&page=1&pageSize=15 200']);
    assert.deepEqual(index.requests.migrated, ['cloud callFunction articles (GET /v1/articles?channel=recommend&page=1&pageSize=15) 200']);
    const like = stepOf(r.report, 'pages/article/article', 'tap onLike');
    assert.deepEqual(like.requests.original, ['POST ' + api + '/auth/wx-login 200', 'POST ' + api + '/articles/101/like 200']);
    assert.deepEqual(like.requests.migrated, ['cloud callFunction auth (POST /v1/auth/wx-login) 200', 'cloud callFunction articles (POST /v1/articles/101/like) 200']);
    const send = stepOf(r.report, 'pages/article/article', 'tap onSend');
    // comments of an article are under /v1/articles: apply put them in the `articles` function
    assert.deepEqual(send.requests.migrated, ['cloud callFunction articles (POST /v1/articles/101/comments) 200'], JSON.stringify(send.requests));
    const likeComment = stepOf(r.report, 'pages/article/article', 'tap onLikeComment');
    assert.deepEqual(likeComment.requests.migrated, ['cloud callFunction comments (POST /v1/comments/2/like) 200'], JSON.stringify(likeComment.requests));
    const mine = stepOf(r.report, 'pages/mine/mine', 'tap onLoginTap');
    assert.deepEqual(mine.requests.migrated, ['cloud callFunction auth (POST /v1/auth/wx-login) 200', 'cloud callFunction me (GET /v1/me) 200'], JSON.stringify(mine.requests));
    // the 404 article: the same toast on both sides, and no comments asked for
    const missing = r.report.pages.filter((p) => p.route === 'pages/article/article')[1].steps[0];
    assert.deepEqual(missing.requests.migrated, ['cloud callFunction articles (GET /v1/articles/404) 200']);
    // no request of the migrated app went to the old server
    r.report.pages.forEach((p) => p.steps.forEach((s) => s.requests.migrated.forEach((line) => {
      assert.doesNotMatch(line, /news-api\.example\.com/, p.route + ' ' + s.step);
    })));
  });
});

// axios-ts: axios over a wx.request adapter (utils/adapter.ts), a config-object wrapper
// (utils/request.ts) and app.ts's gray switch moved to functions (apply rewrote their
// wx.request); the flyio (stores) and luch-request (coach) stand-ins in miniprogram_npm keep
// their own wx.request (apply leaves npm packages alone and says so): those calls go to the
// old servers on both sides.
test('axios-ts (TypeScript, axios with a wx adapter, flyio, luch-request): migrated shows the same data; the app\'s own calls moved', { skip: TS_SKIP }, () => {
  const backend = require('./axios-ts-backend.js');
  return withApp('axios-ts', backend, null, async (setting, be) => {
    assert.match(setting.apply, /inside an npm package/);
    const script = writeScript(setting, {
      pages: [
        { route: 'pages/index/index', steps: [
          { pullDownRefresh: true },
          { tap: 'onBannerTap', dataset: { link: '/pages/course/course?id=12' } },
          { tap: 'onToggleFav' },
          { tap: 'onBook' },
          { tap: 'onBuyPack' },
          { input: 'onReasonInput', value: '时间冲突' },
          { tap: 'onRefund' }
        ] },
        { route: 'pages/mine/mine', steps: [
          { tap: 'onLogin' },
          { trigger: 'onNicknameChange', type: 'change', detail: { value: '小鱼' } },
          { trigger: 'onGetPhone', type: 'getphonenumber', detail: { code: 'phone-code-5678' } },
          { tap: 'goOrders' },
          { tap: 'onTab', dataset: { key: 'paid' } },
          { tap: 'onTab', dataset: { key: 'all' } },
          { reachBottom: true },
          { tap: 'onCancel', dataset: { no: 'LD2024060100' } },
          { tap: 'onPay', dataset: { no: 'LD2024060100' } },
          { tap: 'toDetail', dataset: { no: 'LD2024060103' } }
        ] },
        // not logged in: the favorite gets the API's 401 body, rejected by utils/request.ts
        // (an unhandled rejection on both sides)
        { route: 'pages/stores/stores', steps: [{ tap: 'onRefreshBusy', dataset: { id: 2 } }, { tap: 'onFavStore', dataset: { id: 2 } }] },
        { route: 'pages/coach/coach', query: { storeId: '3' }, steps: [{ tap: 'onPickCoach', dataset: { index: 0 } }, { tap: 'onReserve', dataset: { id: 5011 } }] },
        { route: 'pages/course/course', query: { id: '13' } }
      ]
    });
    const r = await verifyCli(setting, backend.ORIGINS, be.base, script, tsEnv());
    assertEqual(r);
    assert.equal(r.report.pages.length, 5);
    const api = 'https://api.ledong.example.com/api/v2';
    // app.ts's gray switch (a direct wx.request in onLaunch) moved
    const launch = r.report.app.steps.filter((s) => s.step === 'onLaunch')[0];
    assert.deepEqual(launch.requests.original, ['GET https://cdn.ledong.example.com/wxapp/gray.json 200']);
    assert.deepEqual(launch.requests.migrated, ['cloud callFunction grayJson (GET /wxapp/gray.json) 200']);
    // axios (adapter), getJSON over it and the old request() wrapper, all moved
    const index = stepOf(r.report, 'pages/index/index', 'onLoad');
    assert.deepEqual(index.requests.original.slice().sort(), ['GET ' + api + '/banners?position=home 200', 'GET ' + api + '/courses/today 200', 'GET ' + api + '/notices?limit=3 200']);
    assert.deepEqual(index.requests.migrated.slice().sort(), ['cloud callFunction banners (GET /api/v2/banners?position=home) 200',
      'cloud callFunction courses (GET /api/v2/courses/today) 200', 'cloud callFunction notices (GET /api/v2/notices?limit=3) 200']);
    const buy = stepOf(r.report, 'pages/index/index', 'tap onBuyPack');
    assert.deepEqual(buy.requests.migrated, ['cloud callFunction orders (POST /api/v2/orders) 200', 'cloud callFunction orders (POST /api/v2/orders/LD2024061010/pay) 200'], JSON.stringify(buy.requests));
    // flyio and luch-request keep their own wx.request (inside miniprogram_npm)
    const stores = stepOf(r.report, 'pages/stores/stores', 'onLoad');
    assert.deepEqual(stores.requests.migrated, stores.requests.original);
    assert.match(stores.requests.migrated[0], /^GET https:\/\/lbs\.ledong\.example\.com\/v1\/stores\/nearby\?lat=30\.274085&lng=120\.15507&radius=5000 200$/);
    const coach = stepOf(r.report, 'pages/coach/coach', 'onLoad');
    assert.deepEqual(coach.requests.migrated, ['GET https://coach.ledong.example.com/api/coaches?storeId=3 200']);
    // every call to the main API went through a function on the migrated side
    r.report.pages.forEach((p) => p.steps.forEach((s) => s.requests.migrated.forEach((line) => {
      assert.doesNotMatch(line, /api\.ledong\.example\.com|cdn\.ledong/, p.route + ' ' + s.step);
    })));
  });
});

// A TypeScript app on a machine without the `typescript` package (none in node_modules of the
// project or a parent, NODE_PATH empty): refused with what to do, no report.
test('a TypeScript app whose typescript cannot be found: verify says to install it or compile first', { skip: SKIP }, async () => {
  const loader = require('../../js/mp-runtime/loader.js');
  const env = Object.assign({}, process.env);
  delete env.NODE_PATH;
  // a folder with no node_modules/typescript above it (the temp folder may have one)
  const saved = process.env.NODE_PATH;
  delete process.env.NODE_PATH;
  const parent = [require('node:os').tmpdir(), path.join(REPO, 'target')].filter((d) => !loader.resolveTypescript(d))[0];
  if (saved !== undefined) process.env.NODE_PATH = saved;
  assert.ok(parent, 'a folder without typescript above it, to run the test in');
  const dir = fs.mkdtempSync(path.join(parent, 'mp-verify-ts-'));
  try {
    const app = {
      'app.json': { pages: ['pages/index/index'] },
      'app.ts': 'App<IAppOption>({ globalData: {} })\n',
      'pages/index/index.ts': 'const n: number = 1\nPage({ data: { n } })\n',
      'tsconfig.json': '{ "compilerOptions": { "strict": true } }'
    };
    ['original', 'migrated'].forEach((side) => {
      Object.keys(app).forEach((name) => {
        const file = path.join(dir, side, name);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, typeof app[name] === 'string' ? app[name] : JSON.stringify(app[name]));
      });
    });
    const r = await verifyCli({ original: path.join(dir, 'original'), migrated: path.join(dir, 'migrated') }, [], 'http://127.0.0.1:9', [], env);
    assert.equal(r.status, 2, r.err + r.out);
    assert.equal(r.out, '', 'no report when nothing was compared');
    const err = r.err.replace(/\s*│\s*/g, ' ');
    assert.match(err, /cannot verify these apps as they are: the original app is TypeScript/);
    assert.match(err, /`typescript` package is not installed for it/);
    assert.match(err, /npm i -D typescript/);
    assert.match(err, /compile the app to JavaScript first/);
    assert.doesNotMatch(r.err, /at \w+ \(|usage: node verify/, 'a message, not a stack trace or a usage line');
  } finally {
    fx.remove(dir);
  }
});

// ---------------------------------------------------------------------------------------------
// not verifiable as they are: verify says why and what to do

function verifyRefuses(app, reason) {
  return withApp(app, { start: () => require('./helpers.js').startServer([]) }, null, async (setting, be) => {
    const r = await verifyCli(setting, [], be.base);
    assert.equal(r.status, 2, r.err + r.out);
    assert.equal(r.out, '', 'no report when nothing was compared');
    assert.match(r.err, /cannot verify these apps as they are/);
    assert.match(r.err.replace(/\s*│\s*/g, ' '), reason);
    assert.doesNotMatch(r.err, /at \w+ \(|usage: node verify/, 'a message, not a stack trace or a usage line');
    return setting;
  });
}

// The fixture's dist/ and unpackage/ hold stand-ins of the frameworks' runtimes (enough for the
// analysis, not to run: Taro's `window` and uni-app's Vue methods are missing), and apply
// changes only the sources: the honest answer is "rebuild, then verify the build".
test('taro and uni-app (apply rewrote the sources, the build is unchanged): verify says to rebuild the migrated copy', { skip: SKIP }, async () => {
  await verifyRefuses('taro', /mini-program \(dist\/\) is byte for byte the original's, but its sources changed.*npm run build:weapp/);
  await verifyRefuses('uni-app', /mini-program \(unpackage\/dist\/dev\/mp-weixin\/\) is byte for byte the original's, but its sources changed.*build:mp-weixin/);
});
