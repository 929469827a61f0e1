// mp-runtime on the bus-ride fixture: every main-package page against a loopback copy of
// its backend (https://api.busride.example.com/v2), plus the subpackage's list → detail
// navigation. Run with `node --test artifacts/tests/mp-runtime/`.
'use strict';

var test = require('node:test');
var assert = require('node:assert/strict');
var path = require('path');

var createRuntime = require('../../js/mp-runtime').createRuntime;
var h = require('./helpers.js');

var APP = path.join(__dirname, '../../../fixtures/apps/bus-ride'); // the project folder
// The loopback copy of its backend, shared with verify.test.js.
var backend = require('./bus-ride-backend.js');
var ORIGIN = backend.ORIGIN;
var STATIONS = backend.STATIONS;
var ok = backend.ok;
var routes = backend.routes;
var TICKET_PNG = backend.TICKET_PNG;
var notices = backend.notices;

var runtime = h.appOnBackend(test, APP, ORIGIN, routes);
// Objects from inside the run belong to its vm realm: compare plain copies.
function plain(x) {
  return JSON.parse(JSON.stringify(x));
}
function stepNamed(steps, name) {
  return steps.filter(function (s) { return s.step === name; }).pop();
}

test('launch: app.js logs in silently and keeps the token', function () {
  var rt = runtime();
  return rt.launch().then(function (app) {
    assert.equal(app.steps[0].step, 'onLaunch');
    assert.deepEqual(app.steps[0].requests, [{ api: 'request', method: 'POST', url: ORIGIN + '/v2/auth/login', status: 200 }]);
    assert.equal(rt.wx.getStorageSync('BR_TOKEN'), 'tok-1');
    assert.equal(app.steps[0].data.systemInfo.platform, 'devtools');
    assert.deepEqual(rt.recording().errors, []);
  }).finally(rt.close);
});

test('pages/index: nearby stations come from the server; pull-down refresh reloads them', function () {
  var rt = runtime();
  return rt.openPage('pages/index/index').then(function (page) {
    var steps = page.steps;
    assert.deepEqual(steps.map(function (s) { return s.step; }), ['onLoad', 'onShow', 'onReady']);
    var onLoad = steps[0];
    assert.deepEqual(onLoad.data.stations, STATIONS);
    assert.equal(onLoad.data.loading, false);
    assert.equal(onLoad.data.city.code, rt.getApp().globalData.city.code);
    assert.deepEqual(onLoad.requests, [{
      api: 'request', method: 'GET', status: 200,
      url: ORIGIN + '/v2/stations/nearby?lat=30.274085&lng=120.15507&radius=800'
    }]);
    assert.deepEqual(onLoad.ui.map(function (u) { return u.api; }), ['showLoading', 'hideLoading']);
    return page.pullDownRefresh();
  }).then(function (step) {
    assert.equal(step.requests.length, 1);
    assert.ok(step.ui.some(function (u) { return u.api === 'stopPullDownRefresh'; }));
    assert.deepEqual(rt.recording().errors, []);
  }).finally(rt.close);
});

test('pages/index: a service tap navigates, and the next page runs in the same runtime', function () {
  var rt = runtime();
  return rt.openPage('pages/index/index').then(function (page) {
    return page.tap('onServiceTap', { key: 'notice', url: '/pages/notice/notice' });
  }).then(function (step) {
    assert.deepEqual(step.navigation, [{ type: 'navigateTo', url: '/pages/notice/notice' }]);
    var top = rt.currentPage();
    assert.equal(top.route, 'pages/notice/notice');
    assert.equal(top.data.list.length, 20);
    assert.equal(rt.pageStack().length, 2);
    // the index page was hidden, not unloaded
    assert.equal(h.visit(rt.recording(), 'pages/index/index').steps.pop().step, 'onHide');
  }).finally(rt.close);
});

test('pages/ride-code: code from the server, countdown by the interval, guide closed by a tap', function () {
  var rt = runtime();
  return rt.openPage('pages/ride-code/ride-code').then(function (page) {
    var onShow = stepNamed(page.steps, 'onShow');
    assert.equal(onShow.data.codeText, 'RC-bus');
    assert.equal(onShow.data.codeImage, 'https://img.busride.example.com/qr/abc.png');
    // setInterval(tick, 1000) ran its 3 ticks, then the runtime cleared it
    assert.equal(onShow.data.expireIn, 57);
    assert.deepEqual(onShow.notes, [{ kind: 'interval', delay: 1000, action: 'cleared', reason: 'after 3 ticks' }]);
    assert.equal(onShow.data.discountLabel.indexOf('乘车码九折'), 0);
    assert.equal(onShow.data.showGuide, true);
    assert.ok(onShow.ui.some(function (u) { return u.api === 'setScreenBrightness' && u.value === 0.9; }));
    return page.tap('closeGuide');
  }).then(function (step) {
    assert.equal(step.data.showGuide, false);
    assert.equal(rt.wx.getStorageSync('BR_GUIDE_SHOWN'), 1);
    assert.deepEqual(rt.recording().errors, []);
  }).finally(rt.close);
});

test('pages/mine: the profile comes from the server; an expired token is renewed and retried', function () {
  var rt = runtime({ storage: { BR_TOKEN: 'stale' } });
  return rt.openPage('pages/mine/mine').then(function (page) {
    var onShow = stepNamed(page.steps, 'onShow');
    assert.deepEqual(onShow.data.user, { nickName: '张三', avatar: 'https://img.busride.example.com/a.png', balance: 1250 });
    assert.deepEqual(onShow.requests.map(function (r) { return r.method + ' ' + r.url.replace(ORIGIN, '') + ' ' + r.status; }), [
      'GET /v2/user/profile 401',
      'POST /v2/auth/login 200',
      'GET /v2/user/profile 200'
    ]);
    return page.tap('go', { url: '/pages/faq/faq' });
  }).then(function () {
    assert.equal(rt.currentPage().route, 'pages/faq/faq');
  }).finally(rt.close);
});

test('pages/line-detail: offline data first, then the API answer; favorite toggled by a tap', function () {
  var rt = runtime();
  return rt.openPage('pages/line-detail/line-detail', { id: 'L0001' }).then(function (page) {
    var onLoad = page.steps[0];
    assert.equal(onLoad.data.lineId, 'L0001');
    assert.equal(onLoad.data.line.name, '1路（实时）');
    assert.deepEqual(onLoad.data.buses, [{ id: 'B1', nextStop: 2 }]);
    assert.equal(onLoad.data.stops.length, 2);
    assert.ok(onLoad.ui.some(function (u) { return u.api === 'setNavigationBarTitle' && u.title === '1路'; }));
    // the realtime socket is recorded, not opened
    assert.equal(onLoad.notes[0].api, 'connectSocket');
    assert.equal(onLoad.data.socketOpen, false);
    return page.tap('toggleFavorite');
  }).then(function (step) {
    assert.equal(step.data.favorite, true);
    assert.deepEqual(step.requests.map(function (r) { return r.method + ' ' + r.url; }), ['PUT ' + ORIGIN + '/v2/favorites/L0001']);
    assert.ok(step.ui.some(function (u) { return u.api === 'showToast' && u.title === '已收藏'; }));
    return rt.currentPage().tap('switchDirection');
  }).then(function (step) {
    assert.equal(step.data.direction, 1);
    assert.equal(step.data.stops[0].name, '终点站');
  }).finally(rt.close);
});

test('pages/city-select: hot cities from the offline list; input filters; select goes back', function () {
  var rt = runtime();
  return rt.openPage('pages/city-select/city-select').then(function (page) {
    var onLoad = page.steps[0];
    assert.equal(onLoad.requests.length, 0);
    assert.ok(onLoad.data.hotCities.length > 0 && onLoad.data.hotCities.length <= 12);
    assert.ok(onLoad.data.hotCities.every(function (c) { return c.hot === true; }));
    assert.deepEqual(onLoad.data.current, plain(rt.getApp().globalData.city));
    assert.equal(onLoad.data.cities.length, 2600);
    var first = onLoad.data.cities[0];
    return page.input('onInput', first.pinyin.slice(0, 4)).then(function (step) {
      assert.ok(step.data.result.some(function (c) { return c.code === first.code; }));
      return page.tap('onSelect', { code: first.code, name: first.name });
    }).then(function (step) {
      assert.deepEqual(plain(rt.getApp().globalData.city), { code: first.code, name: first.name });
      assert.deepEqual(plain(rt.wx.getStorageSync('BR_CITY')), { code: first.code, name: first.name });
      assert.deepEqual(step.navigation, [{ type: 'navigateBack', delta: 1 }]);
    });
  }).finally(rt.close);
});

test('pages/search: history from storage; the debounced input (a timer) ends with local + remote lines', function () {
  var rt = runtime({ storage: { BR_SEARCH_HISTORY: ['1路'], BR_CITY: { code: '330100', name: '杭州市' } } });
  return rt.openPage('pages/search/search').then(function (page) {
    assert.deepEqual(page.steps[0].data.history, ['1路']);
    return page.input('onInput', '1路');
  }).then(function (step) {
    // the step waited for the 400 ms debounce timer, then for the search request
    assert.equal(step.data.keyword, '1路');
    assert.equal(step.data.searching, false);
    assert.deepEqual(step.requests.map(function (r) { return r.url; }), [
      ORIGIN + '/v2/lines/search?keyword=1%E8%B7%AF&cityCode=330100'
    ]);
    var ids = step.data.list.map(function (l) { return l.id; });
    assert.equal(ids[0], 'L0001'); // offline match first
    assert.equal(ids[ids.length - 1], 'R900'); // then the API's extra line
    return rt.currentPage().tap('onSelect', { id: 'L0001', name: '1路' });
  }).then(function (step) {
    assert.deepEqual(step.navigation, [{ type: 'navigateTo', url: '/pages/line-detail/line-detail?id=L0001' }]);
    assert.equal(rt.currentPage().route, 'pages/line-detail/line-detail');
    assert.deepEqual(rt.currentPage().query, { id: 'L0001' });
  }).finally(rt.close);
});

test('pages/notice: first page, reach-bottom pagination, tap toggles list[i].open', function () {
  var rt = runtime();
  return rt.openPage('pages/notice/notice').then(function (page) {
    var onLoad = page.steps[0];
    assert.equal(onLoad.data.list.length, 20);
    assert.equal(onLoad.data.list[0].title, '公告 1-0');
    assert.equal(onLoad.data.hasMore, true);
    assert.equal(onLoad.requests[0].url, ORIGIN + '/v2/notice?page=1&pageSize=20&cityCode=' + rt.getApp().globalData.city.code);
    return page.reachBottom().then(function (step) {
      assert.equal(step.data.list.length, 25);
      assert.equal(step.data.page, 2);
      assert.equal(step.data.hasMore, false);
      return page.tap('toggle', { index: 3 });
    }).then(function (step) {
      assert.equal(step.data.list[3].open, true);
      assert.equal(step.data.list[2].open, undefined);
      return page.pullDownRefresh();
    }).then(function (step) {
      assert.equal(step.data.list.length, 20);
      assert.ok(step.ui.some(function (u) { return u.api === 'stopPullDownRefresh'; }));
    });
  }).finally(rt.close);
});

test('pages/faq: 64 inline entries, category tap, search input, expanded.<id> path', function () {
  var rt = runtime();
  return rt.openPage('pages/faq/faq').then(function (page) {
    assert.equal(page.steps[0].data.filtered.length, 64);
    return page.tap('onCategoryTap', { cat: '退款' }).then(function (step) {
      assert.equal(step.data.activeCategory, '退款');
      assert.equal(step.data.filtered.length, 6);
      return page.input('onSearch', ' 原路 ');
    }).then(function (step) {
      assert.equal(step.data.keyword, '原路');
      assert.deepEqual(step.data.filtered.map(function (f) { return f.id; }), [26]);
      return page.tap('toggle', { id: 26 });
    }).then(function (step) {
      assert.deepEqual(step.data.expanded, { 26: true });
      return page.tap('contact');
    }).then(function () {
      assert.equal(rt.currentPage().route, 'pages/feedback/feedback');
    });
  }).finally(rt.close);
});

test('pages/feedback: photo chosen, uploaded as multipart, then posted; the delayed navigateBack runs', function () {
  var rt = runtime();
  var page;
  return rt.openPage('pages/feedback/feedback').then(function (p) {
    page = p;
    assert.equal(page.steps[0].data.types.length, 5);
    return page.tap('submit');
  }).then(function (step) {
    assert.ok(step.ui.some(function (u) { return u.api === 'showToast' && u.title === '请至少输入 5 个字'; }));
    assert.equal(step.requests.length, 0);
    return page.input('onContentInput', '扫码后闸机没有反应');
  }).then(function () {
    return page.change('onTypeChange', '2');
  }).then(function (step) {
    assert.equal(step.data.typeIndex, 2);
    return page.tap('choosePhoto');
  }).then(function (step) {
    assert.equal(step.data.photos.length, 1);
    assert.match(step.data.photos[0], /^wxfile:\/\/tmp\//);
    return page.tap('submit');
  }).then(function (step) {
    assert.deepEqual(step.requests.map(function (r) { return r.api + ' ' + r.method + ' ' + r.url + ' ' + r.status; }), [
      'uploadFile POST ' + ORIGIN + '/v2/upload 200',
      'request POST ' + ORIGIN + '/v2/feedback 200'
    ]);
    assert.ok(step.ui.some(function (u) { return u.api === 'showToast' && u.title === '感谢您的反馈'; }));
    assert.equal(step.data.submitting, false);
    // setTimeout(() => wx.navigateBack(), 1200) ran within the step
    assert.deepEqual(step.navigation, [{ type: 'navigateBack', delta: 1 }]);
    assert.deepEqual(rt.recording().errors, []);
  }).finally(rt.close);
});

test('subpackage ride-history: list → relative navigateTo → detail, ticket downloaded', function () {
  var rt = runtime();
  return rt.openPage('subpackages/ride-history/pages/list/list').then(function (page) {
    var onLoad = page.steps[0];
    assert.deepEqual(onLoad.data.records.map(function (r) { return r.amountText; }), ['1.90', '2.00']);
    assert.equal(onLoad.data.finished, true);
    return page.tap('goDetail', { id: 'R1' });
  }).then(function (step) {
    assert.deepEqual(step.navigation, [{ type: 'navigateTo', url: '../detail/detail?id=R1' }]);
    var detail = rt.currentPage();
    assert.equal(detail.route, 'subpackages/ride-history/pages/detail/detail');
    assert.deepEqual(detail.data.ride, { id: 'R1', line: '1路', status: 'UNPAID', orderId: 'O1' });
    return detail.tap('saveTicket');
  }).then(function (step) {
    assert.deepEqual(step.requests, [{ api: 'downloadFile', method: 'GET', url: ORIGIN + '/v2/rides/R1/ticket.png', status: 200 }]);
    assert.ok(step.ui.some(function (u) { return u.api === 'saveImageToPhotosAlbum' && /^wxfile:\/\/tmp\//.test(u.filePath); }));
    assert.equal(step.data.saving, false);
  }).finally(rt.close);
});

test('errors in page code are recorded with file and line, and the runtime goes on', function () {
  var rt = runtime();
  return rt.openPage('pages/notice/notice').then(function (page) {
    // toggle on a row that does not exist: `this.data.list[idx].open` throws in the page
    return page.tap('toggle', { index: 99 });
  }).then(function (step) {
    var errors = rt.recording().errors;
    assert.equal(errors.length, 1);
    assert.equal(errors[0].file, 'pages/notice/notice.js');
    assert.equal(errors[0].line, 62);
    assert.match(errors[0].message, /^TypeError: Cannot read properties of undefined/);
    assert.equal(errors[0].route, 'pages/notice/notice');
    assert.equal(errors[0].step, 'tap');
    assert.equal(step.errors.length, 1);
    // the page still works
    return rt.currentPage().tap('toggle', { index: 0 });
  }).then(function (step) {
    assert.equal(step.data.list[0].open, true);
  }).finally(rt.close);
});

test('a backend that cannot be reached: fail callback, toast, page data stays sane', function () {
  var hosts = {};
  hosts[ORIGIN] = 'http://127.0.0.1:9'; // discard port: connection refused
  var rt = createRuntime({ appDir: APP, hosts: hosts });
  return rt.openPage('pages/notice/notice').then(function (page) {
    var onLoad = page.steps[0];
    assert.equal(onLoad.requests[0].status, null);
    assert.match(onLoad.requests[0].error, /^request:fail /);
    assert.ok(onLoad.ui.some(function (u) { return u.api === 'showToast' && u.title === '网络异常'; }));
    assert.deepEqual(onLoad.data.list, []);
    assert.equal(onLoad.data.loading, false);
  }).finally(rt.close);
});
