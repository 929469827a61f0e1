// The half-cloud sample app's legacy server (https://api.halfcloud.example.com: profile,
// points and messages, the part not yet on cloud development) as a loopback server, and the
// records of its cloud `news` collection (seeds/half-cloud/: what the CloudBase console
// exports), which the app reads with wx.cloud.database() and its own getList function.
'use strict';

var h = require('./helpers.js');

var ORIGIN = 'https://api.halfcloud.example.com';

function ok(data) {
  return { json: { code: 0, msg: 'ok', data: data } };
}
function messages(page) {
  var rows = [];
  var n = page === 1 ? 10 : 4;
  for (var i = 0; i < n; i++) {
    var id = 'm' + (page * 100 + i);
    rows.push({ id: id, title: '物业通知 ' + page + '-' + i + '：' + (i % 2 ? '停水' : '电梯检修'), read: i % 3 === 0, at: '2024-06-0' + (1 + (i % 9)) + ' 09:00' });
  }
  return rows;
}

var routes = [
  ['GET', /^\/profile$/, function (r) {
    return ok({ nickname: '社区居民-阿华', avatar: 'https://img.halfcloud.example.com/avatar/7.png', building: '3 栋 2 单元', verified: r.headers['x-openid-token'] === '' ? false : true });
  }],
  ['PUT', /^\/profile$/, function (r) { return ok({ nickname: r.json && r.json.nickname }); }],
  ['GET', /^\/profile\/points$/, function () { return ok({ total: 1280, level: 3 }); }],
  ['GET', /^\/messages$/, function (r) {
    var page = Number(r.query.page) || 1;
    return ok({ list: messages(page), unread: 6 });
  }],
  ['POST', /^\/messages\/([^/]+)\/read$/, function (r) { return ok({ id: r.match[1], read: true }); }]
];

function start() {
  return h.startServer(routes);
}

module.exports = { ORIGIN: ORIGIN, routes: routes, ok: ok, messages: messages, start: start };
