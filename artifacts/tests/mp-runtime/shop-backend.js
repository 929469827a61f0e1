// The shop sample app's backend (https://api.shop.example.com, the release env of its
// config/env.js) as a loopback server, for shop.test.js and cli.test.js.
'use strict';

var h = require('./helpers.js');

var ORIGIN = 'https://api.shop.example.com';

function goods(page, n) {
  var out = [];
  for (var i = 0; i < n; i++) out.push({ id: 8800 + page * 10 + i, title: '商品 ' + page + '-' + i, price: 1990 + i, defaultSkuId: 'sku' + i });
  return out;
}
var CART = [
  { id: 'c1', skuId: 's1', title: '耳机', price: 19900, count: 1, stock: 5, checked: true, invalid: false },
  { id: 'c2', skuId: 's2', title: '手机壳', price: 2500, count: 2, stock: 9, checked: false, invalid: false },
  { id: 'c3', skuId: 's3', title: '下架商品', price: 999, count: 1, stock: 0, checked: false, invalid: true }
];
function ok(data) {
  return { json: { code: 0, message: 'ok', data: data } };
}
function authed(r) {
  return r.headers.authorization === 'Bearer t-shop';
}

var routes = [
  ['GET', /^\/goods$/, function (r) {
    var page = Number(r.query.page);
    return ok({ list: goods(page, page === 1 ? Number(r.query.size) : 3), sort: r.query.sort });
  }],
  ['GET', /^\/cart\/count$/, function () { return ok({ count: 3 }); }],
  ['GET', /^\/cart$/, function () { return ok({ items: CART }); }],
  ['PUT', /^\/cart\/check-all$/, function () { return ok({}); }],
  ['PUT', /^\/cart\/([^/]+)$/, function (r) { return ok({ id: r.match[1], count: r.json.count }); }],
  ['GET', /^\/user\/profile$/, function (r) {
    return authed(r) ? ok({ nickName: '李四', level: 'gold' }) : { status: 401, json: { code: 401 } };
  }],
  ['GET', /^\/user\/coupons$/, function (r) { return ok({ total: r.query.status === 'usable' ? 2 : 0 }); }],
  ['GET', /^\/user\/addresses$/, function () {
    return ok([{ id: 5, name: '王五', phone: '13800000000', detail: '1 号楼', regionText: '北京市 德昌市 德乐市', regionCode: '110101', isDefault: true }]);
  }]
];


function start() {
  return h.startServer(routes);
}

module.exports = { ORIGIN: ORIGIN, CART: CART, goods: goods, ok: ok, routes: routes, start: start };
