// mp-runtime on the shop fixture: ES modules (`import`/`export`), app.json `resolveAlias`
// (`@/services/...`, `@utils/...`), miniprogram_npm (`mini-dayjs`), an interceptor-based
// Http class, promise-style wx calls. The backend (https://api.shop.example.com, the
// release env of config/env.js) is a loopback server.
'use strict';

var test = require('node:test');
var assert = require('node:assert/strict');
var path = require('path');

var h = require('./helpers.js');

var APP = path.join(__dirname, '../../../fixtures/apps/shop');
// The loopback copy of its backend, shared with cli.test.js.
var backend = require('./shop-backend.js');
var ORIGIN = backend.ORIGIN;
var CART = backend.CART;
var goods = backend.goods;
var routes = backend.routes;

var runtime = h.appOnBackend(test, APP, ORIGIN, routes);
function urls(step) {
  return step.requests.map(function (r) { return r.method + ' ' + r.url.replace(ORIGIN, '') + ' ' + r.status; });
}

test('shop pages/index: goods from the API, cart badge, reach-bottom appends, tap navigates', function () {
  var rt = runtime();
  return rt.openPage('pages/index/index').then(function (page) {
    var onLoad = page.steps[0];
    assert.deepEqual(urls(onLoad), ['GET /goods?page=1&size=10&sort=recommend 200']);
    assert.equal(onLoad.data.goodsList.length, 10);
    assert.equal(onLoad.data.goodsList[0].title, '商品 1-0');
    assert.equal(onLoad.data.page, 2);
    assert.equal(onLoad.data.noMore, false);
    var onShow = page.steps[1];
    assert.deepEqual(urls(onShow), ['GET /cart/count 200']);
    assert.equal(onShow.data.cartCount, 3);
    assert.deepEqual(onShow.ui, [{ api: 'setTabBarBadge', index: 2, text: '3' }]);
    assert.equal(rt.getApp().globalData.cartCount, 3);
    return page.reachBottom().then(function (step) {
      assert.deepEqual(urls(step), ['GET /goods?page=2&size=10&sort=recommend 200']);
      assert.equal(step.data.goodsList.length, 13);
      assert.equal(step.data.noMore, true);
      return page.tap('onEntryTap', { link: '/packageUser/pages/member/member' });
    }).then(function (step) {
      assert.deepEqual(step.navigation, [{ type: 'navigateTo', url: '/packageUser/pages/member/member' }]);
    });
  }).then(function () {
    // the app's console output is kept, and the subpackage page opened
    assert.ok(rt.recording().console.some(function (c) { return c.text.indexOf('[shop] 未登录') === 0; }));
    assert.equal(rt.recording().pages[1].route, 'packageUser/pages/member/member');
  }).finally(rt.close);
});

test('shop pages/category: the tree from an ES module default export; tab tap switches', function () {
  var rt = runtime();
  return rt.openPage('pages/category/category', { cid: '101' }).then(function (page) {
    var d = page.steps[0].data;
    assert.equal(page.steps[0].requests.length, 0);
    assert.ok(d.tree.length > 1);
    assert.deepEqual(Object.keys(d.tree[0]), ['id', 'name']);
    assert.equal(d.current.id, 101);
    assert.equal(d.activeIndex, 0);
    return page.tap('onTabTap', { index: 1 });
  }).then(function (step) {
    assert.equal(step.data.activeIndex, 1);
    assert.equal(step.data.current.id, step.data.tree[1].id);
    assert.deepEqual(rt.recording().errors, []);
  }).finally(rt.close);
});

test('shop pages/cart: items and totals (fen2yuan from an ES module using miniprogram_npm)', function () {
  var rt = runtime();
  return rt.openPage('pages/cart/cart').then(function (page) {
    var onShow = page.steps[1];
    assert.deepEqual(urls(onShow), ['GET /cart 200']);
    assert.equal(onShow.data.items.length, 3);
    assert.equal(onShow.data.totalText, '199.00');
    assert.equal(onShow.data.checkedCount, 1);
    assert.equal(onShow.data.allChecked, false);
    assert.equal(onShow.data.loading, false);
    return page.tap('toggleItem', { index: 1 }).then(function (step) {
      assert.equal(step.data.items[1].checked, true);
      assert.equal(step.data.totalText, '249.00');
      assert.equal(step.data.allChecked, true);
      return page.tap('changeCount', { index: 1, delta: '1' });
    }).then(function (step) {
      assert.deepEqual(urls(step), ['PUT /cart/c2 200']);
      assert.equal(step.data.items[1].count, 3);
      assert.equal(step.data.totalText, '274.00');
    });
  }).then(function () {
    assert.deepEqual(rt.recording().errors, []);
  }).finally(rt.close);
});

test('shop pages/mine: guest without a token; profile and coupons with one', function () {
  var guest = runtime();
  return guest.openPage('pages/mine/mine').then(function (page) {
    assert.equal(page.steps[1].data.user, null);
    assert.equal(page.steps[1].requests.length, 0);
  }).finally(guest.close).then(function () {
    var rt = runtime({ storage: { shop_token: 't-shop' } });
    return rt.openPage('pages/mine/mine').then(function (page) {
      var onShow = page.steps[1];
      assert.deepEqual(urls(onShow), ['GET /user/profile 200', 'GET /user/coupons?status=usable 200']);
      assert.deepEqual(onShow.data.user, { nickName: '李四', level: 'gold' });
      assert.equal(onShow.data.couponCount, 2);
    }).finally(rt.close);
  });
});

test('shop pages/address-edit: region columns from regions.json; an address loaded by id; field input', function () {
  var rt = runtime({ storage: { shop_token: 't-shop' } });
  return rt.openPage('pages/address-edit/address-edit', { id: '5' }).then(function (page) {
    var onLoad = page.steps[0];
    assert.equal(onLoad.data.columns.length, 3);
    assert.equal(onLoad.data.columns[0][0], '北京市');
    assert.equal(onLoad.data.form.name, '王五');
    assert.equal(onLoad.data.regionText, '北京市 德昌市 德乐市');
    return page.input('onInput', '2 号楼', { field: 'detail' });
  }).then(function (step) {
    assert.equal(step.data.form.detail, '2 号楼');
    assert.equal(step.data.form.name, '王五');
    assert.deepEqual(rt.recording().errors, []);
  }).finally(rt.close);
});
