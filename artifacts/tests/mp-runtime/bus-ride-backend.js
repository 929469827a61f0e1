// The bus-ride sample app's legacy backend (https://api.busride.example.com/v2) as a loopback
// server, for runtime.test.js and verify.test.js (which runs the original app against it
// directly and the migrated app through `migrate serve`'s functions).
'use strict';

var h = require('./helpers.js');

var ORIGIN = 'https://api.busride.example.com';
var TICKET_PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001', 'hex');

var STATIONS = [
  { id: 'S027985', name: '胜利路沙福小区', distance: 120, lines: [{ id: 'L0001', name: '1路' }] },
  { id: 'S416503', name: '海龙市场', distance: 1450, lines: [] }
];
function notices(page, n) {
  var rows = [];
  for (var i = 0; i < n; i++) rows.push({ id: page * 100 + i, title: '公告 ' + page + '-' + i, content: '内容' });
  return rows;
}
function ok(data) {
  return { json: { code: 0, msg: 'ok', data: data } };
}

// The backend, as the pages expect it: `{ code: 0, data }` envelopes, X-Token auth.
var routes = [
  ['POST', /^\/v2\/auth\/login$/, function (r) {
    return r.json && r.json.code === 'verify-code' ? ok({ token: 'tok-1' }) : { status: 400, json: { code: 1, msg: 'bad code' } };
  }],
  ['GET', /^\/v2\/stations\/nearby$/, function () { return ok(STATIONS); }],
  ['GET', /^\/v2\/lines\/search$/, function (r) {
    return ok([{ id: 'R900', name: r.query.keyword + '（接口）', from: '火车东站', to: '西湖' }]);
  }],
  ['GET', /^\/v2\/lines\/([^/]+)$/, function (r) {
    return ok({
      id: r.match[1], name: '1路（实时）', firstBus: '06:00', lastBus: '23:00',
      stops: [{ seq: 1, name: '起点站' }, { seq: 2, name: '终点站' }],
      buses: [{ id: 'B1', nextStop: 2 }], favorite: false
    });
  }],
  ['PUT', /^\/v2\/favorites\/([^/]+)$/, function () { return ok({}); }],
  ['DELETE', /^\/v2\/favorites\/([^/]+)$/, function () { return ok({}); }],
  ['POST', /^\/v2\/ride-code$/, function (r) {
    return ok({ qrcode: 'https://img.busride.example.com/qr/abc.png', code: 'RC-' + r.json.scene, expireIn: 60, lastRideStatus: 'NONE' });
  }],
  ['GET', /^\/v2\/user\/profile$/, function (r) {
    if (r.headers['x-token'] !== 'tok-1') return { status: 401, json: { code: 401, msg: 'token expired' } };
    return ok({ nickName: '张三', avatar: 'https://img.busride.example.com/a.png', balance: 1250 });
  }],
  ['GET', /^\/v2\/notice$/, function (r) {
    var page = Number(r.query.page);
    return ok({ list: notices(page, page === 1 ? Number(r.query.pageSize) : 5) });
  }],
  ['POST', /^\/v2\/upload$/, function (r) {
    var good = /name="biz"\r\n\r\nfeedback/.test(r.text) && /name="file"; filename="/.test(r.text) && r.headers['x-token'] === 'tok-1';
    return { json: good ? { code: 0, data: { url: 'https://img.busride.example.com/fb/1.png' } } : { code: 1, msg: 'bad upload' } };
  }],
  ['POST', /^\/v2\/feedback$/, function (r) { return ok({ id: 77, echo: r.json }); }],
  ['GET', /^\/v2\/rides$/, function () {
    return ok({ list: [{ id: 'R1', line: '1路', boardTime: 1718000000000, amount: 190 }, { id: 'R2', line: '7路', boardTime: 1718100000000, amount: 200 }] });
  }],
  ['GET', /^\/v2\/rides\/([^/]+)\/ticket\.png$/, function () { return { body: TICKET_PNG, type: 'image/png' }; }],
  ['GET', /^\/v2\/rides\/([^/]+)$/, function (r) { return ok({ id: r.match[1], line: '1路', status: 'UNPAID', orderId: 'O1' }); }]
];


// Start the backend; `change(routes)` may edit the route list first (a backend that answers
// differently, for the tests that must catch it). Resolves with helpers.startServer's handle.
function start(change) {
  var list = routes.slice();
  if (change) list = change(list) || list;
  return h.startServer(list);
}

module.exports = { ORIGIN: ORIGIN, STATIONS: STATIONS, TICKET_PNG: TICKET_PNG, notices: notices, routes: routes, ok: ok, start: start };
