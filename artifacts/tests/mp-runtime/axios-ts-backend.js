// The axios-ts sample app's servers (a gym class-booking app) as one loopback server: the main
// API (https://api.ledong.example.com/api/v2, bodies `{ code, msg, data }`), the coach service
// (https://coach.ledong.example.com/api, luch-request), the store LBS service
// (https://lbs.ledong.example.com/v1, flyio) and the CDN's gray-release switch
// (https://cdn.ledong.example.com/wxapp/gray.json). Their paths do not overlap, so every
// origin maps here. The user's endpoints want the token the login hands out (`code: 401`
// without it, which the app's axios interceptor handles).
'use strict';

var h = require('./helpers.js');

var ORIGINS = ['https://api.ledong.example.com', 'https://coach.ledong.example.com', 'https://lbs.ledong.example.com', 'https://cdn.ledong.example.com'];
var TOKEN = 'ld-tok-20240610';

function ok(data) {
  return { json: { code: 0, msg: 'ok', data: data } };
}

function authed(r) {
  return r.headers.authorization === 'Bearer ' + TOKEN;
}

function needLogin() {
  return { json: { code: 401, msg: '请先登录', data: null } };
}

function course(id) {
  return {
    id: id,
    name: ['燃脂单车', '流瑜伽', '搏击操', '普拉提'][id % 4] + ' · ' + id + '期',
    coachName: ['王教练', '陈教练', 'Lily'][id % 3],
    storeName: '乐动健身（' + ['静安寺', '徐家汇', '五角场'][id % 3] + '店）',
    startAt: '2024-06-10 ' + String(10 + (id % 8)).padStart(2, '0') + ':00',
    endAt: '2024-06-10 ' + String(11 + (id % 8)).padStart(2, '0') + ':00',
    capacity: 20,
    booked: id % 5 === 0 ? 20 : 8 + (id % 7),
    price: 4900 + (id % 3) * 1000,
    cover: 'https://cdn.ledong.example.com/courses/' + id + '.jpg'
  };
}

function order(no, i) {
  return {
    orderNo: no,
    title: '10 次课包 · ' + ['燃脂单车', '流瑜伽', '普拉提'][i % 3],
    amount: 59900 - i * 1000,
    status: ['unpaid', 'paid', 'used', 'refunding'][i % 4],
    createdAt: '2024-06-0' + (1 + (i % 9)) + ' 19:2' + (i % 10) + ':00'
  };
}

function orders(status, page) {
  var all = [];
  for (var i = 0; i < 13; i++) all.push(order('LD2024060' + String(100 + i), i));
  var list = status === 'all' ? all : all.filter(function (o) { return o.status === status; });
  return { list: list.slice((page - 1) * 10, page * 10), total: list.length, page: page };
}

var routes = [
  // the CDN
  ['GET', /^\/wxapp\/gray\.json$/, function () { return { json: { newBooking: true, version: '2024.06.1' } }; }],
  // the main API
  ['POST', /^\/api\/v2\/auth\/wx-login$/, function (r) {
    if (!r.json || !r.json.code) return { json: { code: 40001, msg: '缺少 code', data: null } };
    return ok({ token: TOKEN, userId: 10086 });
  }],
  ['GET', /^\/api\/v2\/banners$/, function (r) {
    return ok([
      { id: 1, image: 'https://cdn.ledong.example.com/banners/summer.jpg', link: '/pages/course/course?id=12', position: r.query.position },
      { id: 2, image: 'https://cdn.ledong.example.com/banners/coach.jpg', link: '/pages/coach/coach?storeId=3' }
    ]);
  }],
  ['GET', /^\/api\/v2\/courses\/today$/, function () { return ok([11, 12, 13, 15].map(course)); }],
  ['GET', /^\/api\/v2\/notices$/, function (r) {
    var all = [
      { id: 31, title: '端午节门店营业时间调整', createdAt: '2024-06-08' },
      { id: 30, title: '徐家汇店淋浴间升级完成', createdAt: '2024-06-05' },
      { id: 29, title: '新会员首单立减 50 元', createdAt: '2024-06-01' },
      { id: 28, title: '五月打卡榜单公布', createdAt: '2024-05-31' }
    ];
    return ok(all.slice(0, Number(r.query.limit) || 10));
  }],
  ['GET', /^\/api\/v2\/courses\/(\d+)$/, function (r) { return ok(Object.assign(course(Number(r.match[1])), { faved: r.match[1] === '12' })); }],
  ['*', /^\/api\/v2\/courses\/(\d+)\/favorite$/, function (r) {
    if (!authed(r)) return needLogin();
    return ok({ faved: r.method === 'POST' });
  }],
  ['POST', /^\/api\/v2\/bookings$/, function (r) {
    if (!authed(r)) return needLogin();
    if (!r.json || !r.json.courseId) return { json: { code: 42200, msg: '缺少课程', data: null } };
    return ok({ bookingId: 7000 + r.json.courseId });
  }],
  ['GET', /^\/api\/v2\/user\/profile$/, function (r) {
    if (!authed(r)) return needLogin();
    return ok({ id: 10086, nickname: '跑步的鱼', avatar: 'https://cdn.ledong.example.com/avatars/10086.png', phone: '', level: 3 });
  }],
  ['PUT', /^\/api\/v2\/user\/profile$/, function (r) {
    if (!authed(r)) return needLogin();
    return ok({ id: 10086, nickname: (r.json && r.json.nickname) || '跑步的鱼', avatar: 'https://cdn.ledong.example.com/avatars/10086.png', phone: '', level: 3 });
  }],
  ['GET', /^\/api\/v2\/user\/member-card$/, function (r) {
    if (!authed(r)) return needLogin();
    return ok({ cardNo: 'LD-0010086', type: 'times', remainTimes: 7, expireAt: '2024-12-31' });
  }],
  ['POST', /^\/api\/v2\/user\/phone$/, function (r) {
    if (!authed(r)) return needLogin();
    return ok({ phone: '138****' + String(r.json && r.json.code).slice(-4) });
  }],
  ['GET', /^\/api\/v2\/checkin\/stats$/, function (r) {
    if (!authed(r)) return needLogin();
    return ok({ days: 23, minutes: 1410 });
  }],
  ['GET', /^\/api\/v2\/orders$/, function (r) {
    if (!authed(r)) return needLogin();
    return ok(orders(r.query.status || 'all', Number(r.query.page) || 1));
  }],
  ['POST', /^\/api\/v2\/orders$/, function (r) {
    if (!authed(r)) return needLogin();
    return ok(order('LD2024061' + String((r.json && r.json.packId) || 0).padStart(3, '0'), 0));
  }],
  ['GET', /^\/api\/v2\/orders\/(\w+)$/, function (r) {
    if (!authed(r)) return needLogin();
    return ok(order(r.match[1], Number(r.match[1].slice(-1)) || 1));
  }],
  ['POST', /^\/api\/v2\/orders\/(\w+)\/cancel$/, function (r) { return authed(r) ? ok(null) : needLogin(); }],
  ['POST', /^\/api\/v2\/orders\/(\w+)\/pay$/, function (r) {
    if (!authed(r)) return needLogin();
    return ok({ timeStamp: '1718013600', nonceStr: 'n' + r.match[1], package: 'prepay_id=wx' + r.match[1], signType: 'RSA', paySign: 'sig-' + r.match[1] });
  }],
  ['POST', /^\/api\/v2\/orders\/(\w+)\/refund$/, function (r) {
    if (!authed(r)) return needLogin();
    return ok({ reason: r.json && r.json.reason });
  }],
  ['POST', /^\/api\/v2\/stores\/favorites$/, function (r) { return authed(r) ? ok({ storeId: r.json && r.json.storeId }) : needLogin(); }],
  // the store LBS service (flyio)
  ['GET', /^\/v1\/stores\/nearby$/, function (r) {
    var lat = Number(r.query.lat);
    return ok([
      { id: 1, name: '乐动健身（静安寺店）', address: '南京西路 1788 号 B1', distance: Math.round(lat * 10) % 900 + 300, busy: 42 },
      { id: 2, name: '乐动健身（徐家汇店）', address: '虹桥路 1 号 5 楼', distance: 2100, busy: 67 },
      { id: 3, name: '乐动健身（五角场店）', address: '淞沪路 8 号 3 楼', distance: Number(r.query.radius) - 200, busy: 18 }
    ]);
  }],
  ['GET', /^\/v1\/stores\/(\d+)\/busy$/, function (r) { return ok({ busy: 50 + Number(r.match[1]) }); }],
  // the coach service (luch-request)
  ['GET', /^\/api\/coaches$/, function (r) {
    var store = Number(r.query.storeId) || 0;
    return ok([
      { id: 501, name: '王教练', avatar: 'https://cdn.ledong.example.com/coaches/501.png', tags: ['减脂', '增肌'], rating: 4.9, storeId: store },
      { id: 502, name: 'Lily', avatar: 'https://cdn.ledong.example.com/coaches/502.png', tags: ['普拉提'], rating: 4.8, storeId: store }
    ]);
  }],
  ['GET', /^\/api\/coaches\/(\d+)\/slots$/, function (r) {
    var id = Number(r.match[1]);
    return ok([{ id: id * 10 + 1, startAt: '2024-06-11 09:00', available: true }, { id: id * 10 + 2, startAt: '2024-06-11 14:00', available: false }]);
  }],
  ['POST', /^\/api\/coaches\/(\d+)\/reserve$/, function (r) {
    return r.json && r.json.slotId ? ok(null) : { json: { code: 42201, msg: '请选择时段', data: null } };
  }]
];

function start() {
  return h.startServer(routes);
}

module.exports = { ORIGINS: ORIGINS, TOKEN: TOKEN, routes: routes, start: start };
