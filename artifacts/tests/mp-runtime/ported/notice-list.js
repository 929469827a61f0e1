// GET /v2/notice of bus-ride, ported from the legacy backend into the migrated app's `notice`
// function (routes.json: "mode": "handler", "handler": "notice-list"): the notices are in the
// collection `notices` now, read with wx-server-sdk, and the answer keeps the backend's shape
// (`{ code: 0, msg, data: { list } }`, `page`/`pageSize` paging) so the page does not change.
'use strict';

const cloud = require('wx-server-sdk');

// The faithful port reads them in their order; the test's broken port flips this.
const ORDER = 'asc';

module.exports = async (req) => {
  const db = cloud.database();
  const page = Math.max(1, Number(req.query && req.query.page) || 1);
  const size = Math.min(100, Math.max(1, Number(req.query && req.query.pageSize) || 20));
  const res = await db.collection('notices')
    .where({ cityCode: String((req.query && req.query.cityCode) || '') })
    .orderBy('seq', ORDER)
    .skip((page - 1) * size)
    .limit(size)
    .get();
  const list = res.data.map((n) => ({ id: n.id, title: n.title, content: n.content }));
  return { statusCode: 200, header: { 'content-type': 'application/json; charset=utf-8' }, data: { code: 0, msg: 'ok', data: { list } } };
};
