// The messy sample app's servers as one loopback server: the old API
// (https://www.messy-api.example.com/api), the debug host the app seeds into storage
// (https://h5.messy-api.example.com) and the third-party platform's host from ext.json
// (https://saas.example.com). Their paths do not overlap, so every origin maps here.
'use strict';

var h = require('./helpers.js');

var ORIGINS = ['https://www.messy-api.example.com', 'https://h5.messy-api.example.com', 'https://m.messy-api.example.com', 'https://saas.example.com'];

function item(id) {
  return { id: id, name: '杂货 ' + id, price: 1200 + id * 3, skus: [{ id: id * 10, price: 1200 + id * 3 }], refreshUrl: 'https://www.messy-api.example.com/api/items/' + id };
}
function items(page, size) {
  var rows = [];
  var n = page === 1 ? size : 7;
  for (var i = 0; i < n; i++) rows.push(item((page - 1) * size + i + 1));
  return rows;
}

var routes = [
  ['GET', /^\/api\/home\/feeds$/, function (r) {
    return { json: { code: 0, data: [
      { id: 1, title: '今日特价：' + (r.query.tenant || '无租户'), link: 'https://www.messy-api.example.com/api/items/1', group: 'deal' },
      { id: 2, title: '新品上架', link: 'https://www.messy-api.example.com/api/items/2', group: 'new' },
      { id: 3, title: '清仓', link: '', group: 'deal' }
    ] } };
  }],
  ['GET', /^\/api\/items$/, function (r) { return { json: { code: 0, data: items(Number(r.query.page) || 1, Number(r.query.size) || 20) } }; }],
  ['GET', /^\/api\/items\/(\d+)$/, function (r) { return { json: item(Number(r.match[1])) }; }],
  ['GET', /^\/items\/related$/, function (r) {
    return { json: { list: [item(Number(r.query.id) + 1), item(Number(r.query.id) + 2)].slice(0, Number(r.query.size) || 6) } };
  }],
  ['POST', /^\/favorites\/add$/, function (r) { return { json: { ok: true, id: r.json && r.json.id } }; }],
  ['POST', /^\/user\/profile$/, function () { return { json: { nick: '老顾客', vip: 2, points: 340 } }; }],
  ['GET', /^\/shop\/info$/, function (r) {
    return { json: { name: '杂货铺（' + r.query.tenantId + '）', tenant: r.headers['x-tenant'] || null, open: '08:00-22:00' } };
  }],
  ['GET', /^\/activity\/lottery\/prizes$/, function (r) {
    return { json: { list: [{ id: 'p1', name: '满 50 减 5 券' }, { id: 'p2', name: '保温杯' }, { id: 'p3', name: '谢谢参与' }], tenant: r.query.tenantId } };
  }],
  ['GET', /^\/activity\/lottery\/draw$/, function () { return { json: { prizeName: '保温杯' } }; }]
];

function start() {
  return h.startServer(routes);
}

module.exports = { ORIGINS: ORIGINS, routes: routes, start: start };
