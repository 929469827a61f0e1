// The ts-news sample app's API (https://news-api.example.com/v1) as a loopback server: every
// body is `{ code, message, data }` (utils/http.ts returns `data` when `code` is 0). The
// article list, one article, its comments (cursor paged, some with sticker codes the page
// turns into images), likes, a new comment, WeChat login, the profile and the favorites; `/me`
// and the writes want the token the login hands out (401 without it, as the real one does).
'use strict';

var h = require('./helpers.js');

var ORIGIN = 'https://news-api.example.com';
var TOKEN = 'tok-news-7f3a';
var PAGE_SIZE = 15;
var CHANNEL_NAMES = { recommend: '推荐', hot: '热榜', tech: '科技', finance: '财经', local: '本地', food: '美食' };

function ok(data) {
  return { json: { code: 0, message: 'ok', data: data } };
}

function authed(r) {
  return r.headers.authorization === 'Bearer ' + TOKEN;
}

function unauthorized() {
  return { status: 401, json: { code: 40101, message: '请先登录', data: null } };
}

function article(id, channel) {
  return {
    id: id,
    title: (CHANNEL_NAMES[channel] || '资讯') + '第' + id + '号：城市更新进入新阶段',
    summary: '记者从有关部门了解到，第' + id + '批试点项目已于近日启动。',
    cover: 'https://static.news-api.example.com/covers/' + id + '.jpg',
    author: id % 2 ? '本报记者 李明' : '新华社',
    channelId: channel,
    publishedAt: '2024-06-' + String(1 + (id % 9)).padStart(2, '0') + ' 08:30:00',
    readCount: 1000 + id * 37,
    commentCount: id % 7
  };
}

// Channel pages: 15 articles on page 1, 4 on page 2 (so the list is finished after it).
function articles(channel, page) {
  var n = page === 1 ? PAGE_SIZE : page === 2 ? 4 : 0;
  var base = { recommend: 100, hot: 200, tech: 300 }[channel] || 400;
  var list = [];
  for (var i = 0; i < n; i++) list.push(article(base + (page - 1) * PAGE_SIZE + i + 1, channel));
  return { list: list, total: PAGE_SIZE + 4, page: page, pageSize: PAGE_SIZE };
}

var CONTENTS = ['写得很好[微笑]', '[色][色]支持一下', '不太同意这个观点', '转发了[得意]，大家看看', '第一次看到这种说法[发呆]'];

function comment(articleId, id) {
  return {
    id: id,
    articleId: articleId,
    nickname: '读者' + id,
    avatar: 'https://static.news-api.example.com/avatars/' + (id % 5) + '.png',
    content: CONTENTS[id % CONTENTS.length],
    likeCount: id % 4,
    // against the fixed clock of verify (2024-06-10 10:00 in China): minutes, hours, days ago
    createdAt: ['2024-06-10 09:58:00', '2024-06-10 07:00:00', '2024-06-08 20:15:00', '2024-05-20 12:00:00'][id % 4]
  };
}

var routes = [
  ['POST', /^\/v1\/auth\/wx-login$/, function (r) {
    if (!r.json || !r.json.code) return { status: 400, json: { code: 40001, message: '缺少 code', data: null } };
    return ok({ token: TOKEN, expiresIn: 7200 });
  }],
  ['GET', /^\/v1\/articles$/, function (r) {
    return ok(articles(r.query.channel || 'recommend', Number(r.query.page) || 1));
  }],
  ['GET', /^\/v1\/articles\/(\d+)$/, function (r) {
    var id = Number(r.match[1]);
    if (id === 404) return { json: { code: 40400, message: '文章不存在', data: null } };
    return ok(Object.assign(article(id, 'recommend'), { liked: false, content: '<p>正文第一段。</p><p>正文第二段。</p>' }));
  }],
  ['*', /^\/v1\/articles\/(\d+)\/like$/, function (r) {
    if (!authed(r)) return unauthorized();
    return ok(null);
  }],
  ['GET', /^\/v1\/articles\/(\d+)\/comments$/, function (r) {
    var articleId = Number(r.match[1]);
    var cursor = Number(r.query.cursor) || 0;
    // two pages of comments: cursor 0 → ids 1..5, next 5; cursor 5 → ids 6..8, next 0 (the end)
    var ids = cursor === 0 ? [1, 2, 3, 4, 5] : cursor === 5 ? [6, 7, 8] : [];
    return ok({ list: ids.map(function (id) { return comment(articleId, id); }), nextCursor: cursor === 0 ? 5 : 0 });
  }],
  ['POST', /^\/v1\/articles\/(\d+)\/comments$/, function (r) {
    if (!authed(r)) return unauthorized();
    var c = comment(Number(r.match[1]), 900);
    return ok(Object.assign(c, { nickname: '我', content: r.json && r.json.content, likeCount: 0, createdAt: '2024-06-10 10:00:00' }));
  }],
  ['POST', /^\/v1\/comments\/(\d+)\/like$/, function (r) {
    if (!authed(r)) return unauthorized();
    return ok(null);
  }],
  ['GET', /^\/v1\/me$/, function (r) {
    if (!authed(r)) return unauthorized();
    return ok({ nickname: '晨读的人', avatar: 'https://static.news-api.example.com/avatars/me.png', followedChannels: ['recommend', 'hot', 'tech'], readMinutes: 1268 });
  }],
  ['GET', /^\/v1\/me\/favorites$/, function (r) {
    if (!authed(r)) return unauthorized();
    var page = Number(r.query.page) || 1;
    var list = [];
    // 18 favorites: 15, then 3
    for (var i = 0; i < (page === 1 ? 15 : page === 2 ? 3 : 0); i++) list.push(article(500 + (page - 1) * 15 + i, 'tech'));
    return ok({ list: list, total: 18, page: page, pageSize: Number(r.query.pageSize) || 15 });
  }]
];

function start() {
  return h.startServer(routes);
}

module.exports = { ORIGIN: ORIGIN, TOKEN: TOKEN, routes: routes, start: start };
