// The webpack-sdk sample app's servers as one loopback server: the mall API its bundled
// mallkit-wxapi SDK calls (https://api.mallkit.example.cn/mall2025/…), the member API
// (https://member.mallkit.example.cn/v1/m-8801/…), the CDN with the home layout, the ops
// platform's popup, the express-tracking API and the two vendors' services (analytics,
// geocoder). The paths do not overlap, so every origin maps here.
'use strict';

var h = require('./helpers.js');

var ORIGINS = ['https://api.mallkit.example.cn', 'https://member.mallkit.example.cn', 'https://cdn.mallkit.example.cn',
  'https://ops.mallkit.example.cn', 'https://express.example-kd.cn', 'https://log.example-analytics.cn', 'https://geo.example-lbs.cn'];
var TOKEN = 'tk-mall-01';

function ok(data) {
  return { json: { code: 0, msg: 'success', data: data } };
}
function goods(page, size) {
  var rows = [];
  var n = page === 1 ? size : 4;
  for (var i = 0; i < n; i++) {
    var id = 30000 + (page - 1) * size + i;
    rows.push({ id: id, name: '好物 ' + id, minPrice: 19.9 + i, originalPrice: 29.9 + i, pic: 'https://cdn.mallkit.example.cn/goods/' + id + '.jpg', numberOrders: 100 - i });
  }
  return rows;
}
function authed(r) {
  return r.query.token === TOKEN || (r.json && r.json.token === TOKEN);
}

var routes = [
  // the CDN's home layout (moved: the app reads it with a direct wx.request)
  ['GET', /^\/mall2025\/home-layout\.json$/, function () {
    return { json: { version: 7, blocks: [{ type: 'banner', height: 300 }, { type: 'notice' }, { type: 'goods', columns: 2 }] } };
  }],
  // the mall SDK (stays on wx.request: it is inside miniprogram_npm)
  ['GET', /^\/mall2025\/config\/values$/, function (r) {
    var values = { mallName: '好物集市·杭州店', shopPhone: '0571-88886666', recharge_open: '1' };
    return ok(String(r.query.keys || '').split(',').map(function (k) { return { key: k, value: values[k] || '' }; }));
  }],
  ['GET', /^\/mall2025\/user\/check-token$/, function (r) { return authed(r) ? ok({ uid: 501 }) : { json: { code: 2000, msg: 'token invalid' } }; }],
  ['POST', /^\/mall2025\/user\/wxapp\/login$/, function () { return ok({ token: TOKEN, uid: 501 }); }],
  ['GET', /^\/mall2025\/user\/detail$/, function (r) { return authed(r) ? ok({ base: { id: 501, nick: '集市会员', avatarUrl: 'https://cdn.mallkit.example.cn/a/501.png' } }) : { json: { code: 2000 } }; }],
  ['GET', /^\/mall2025\/user\/amount$/, function (r) { return authed(r) ? ok({ balance: 88.5, score: 1200 }) : { json: { code: 2000 } }; }],
  ['GET', /^\/mall2025\/order\/statistics$/, function (r) { return authed(r) ? ok({ count_id_no_pay: 1, count_id_no_transfer: 0, count_id_no_confirm: 2 }) : { json: { code: 2000 } }; }],
  ['GET', /^\/mall2025\/banner\/list$/, function () {
    return ok([{ id: 1, picUrl: 'https://cdn.mallkit.example.cn/b/1.jpg', linkUrl: '/pages/goods-detail/goods-detail?id=30001' }, { id: 2, picUrl: 'https://cdn.mallkit.example.cn/b/2.jpg', linkUrl: '' }]);
  }],
  ['POST', /^\/mall2025\/notice\/list$/, function () { return ok({ dataList: [{ id: 9, title: '端午节发货安排' }, { id: 8, title: '新会员首单立减' }] }); }],
  ['POST', /^\/mall2025\/shop\/goods\/list$/, function (r) {
    var page = Number(r.json && r.json.page) || 1;
    return ok({ result: goods(page, Number(r.json && r.json.pageSize) || 10) });
  }],
  ['GET', /^\/mall2025\/order\/detail$/, function (r) {
    if (!authed(r)) return { json: { code: 2000, msg: '请先登录' } };
    return ok({ orderInfo: { id: Number(r.query.id), orderNumber: 'MK2024061000' + r.query.id, amountReal: 59.8, statusStr: '待收货' },
      logistics: { shipperCode: 'SF', trackingNumber: 'SF1400' + r.query.id }, goods: [{ goodsName: '好物 30001', number: 2 }] });
  }],
  ['GET', /^\/mall2025\/shop\/goods\/category\/all$/, function () {
    return ok([{ id: 11, name: '生鲜', level: 1 }, { id: 12, name: '日用', level: 1 }, { id: 111, name: '水果', level: 2, pid: 11 }]);
  }],
  ['GET', /^\/mall2025\/shopping-cart\/info$/, function (r) {
    if (!authed(r)) return { json: { code: 2000 } };
    return ok({ items: [{ key: 'k1', goodsId: 30001, name: '好物 30001', price: 20.9, number: 2, selected: true }], price: 41.8 });
  }],
  // the express-tracking API (moved)
  ['GET', /^\/api\/query$/, function (r) {
    if (r.headers['x-app'] !== 'haowu-mall') return { json: { status: '403', message: 'no app header' } };
    return { json: { status: '200', com: r.query.com, nu: r.query.nu, data: [{ time: '2024-06-10 08:12', context: '快件已到达杭州转运中心' }, { time: '2024-06-09 20:40', context: '顺丰已揽收' }] } };
  }],
  // the ops platform's popup (moved)
  ['GET', /^\/api\/popup$/, function (r) {
    return { json: { show: r.query.scene === 'mine', title: '618 会员日', image: 'https://cdn.mallkit.example.cn/pop/618.png', link: '/packageMember/pages/coupons/coupons' } };
  }],
  // the vendors' services
  ['POST', /^\/v2\/collect$/, function () { return { json: { ok: 1 } }; }],
  ['*', /^\/ws\/geocoder/, function () { return { json: { status: 0, result: { address: '浙江省杭州市西湖区' } } }; }],
  // the member SDK
  ['*', /^\/v1\/m-8801\//, function (r) { return ok({ path: r.path, list: [] }); }]
];

function start() {
  return h.startServer(routes);
}

module.exports = { ORIGINS: ORIGINS, TOKEN: TOKEN, routes: routes, start: start };
