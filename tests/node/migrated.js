'use strict'
// Runs against `migrate serve` on a project `migrate apply` rewrote (tests/apply_serve.rs):
// the seeds apply wrote are in the database, the moved assets in storage, and the generated
// cloud functions run on the real wx-server-sdk: the data function pages a big collection, a
// routing function forwards a call to the legacy backend (a loopback server of the test).
// Prints `ok <step>` / `not ok <step>: <why>` per step.

const assert = require('assert')
const cloud = require('wx-server-sdk')

let failed = 0
async function step (name, fn) {
  try {
    await fn()
    console.log(`ok ${name}`)
  } catch (e) {
    failed++
    console.log(`not ok ${name}: ${e && e.stack ? e.stack : e}`)
  }
}

async function main () {
  cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV })
  const db = cloud.database()
  const expect = JSON.parse(process.env.EXPECT)

  await step('seeded collections', async () => {
    for (const [name, n] of Object.entries(expect.collections)) {
      const r = await db.collection(name).count()
      assert.equal(r.total, n, `collection ${name}`)
    }
  })

  await step('records keep their order and fields', async () => {
    const r = await db.collection('cities').orderBy('_id', 'asc').limit(2).get()
    assert.equal(r.data.length, 2)
    assert.deepEqual(Object.keys(r.data[0]).sort(), ['_id', ...expect.cityFields].sort())
    assert.equal(r.data[0]._id, '0000')
  })

  await step('data function pages a big collection', async () => {
    const first = await cloud.callFunction({ name: 'migrate-data', data: { collection: 'cities', skip: 0, limit: 1000 } })
    assert.equal(first.result.list.length, 1000)
    const last = await cloud.callFunction({ name: 'migrate-data', data: { collection: 'cities', skip: 2000, limit: 1000 } })
    assert.equal(last.result.list.length, expect.collections.cities - 2000)
    const refused = await cloud.callFunction({ name: 'migrate-data', data: { collection: 'secrets' } })
    assert.match(refused.result.error, /no data set/)
  })

  await step('routing function forwards to the legacy backend', async () => {
    const r = await cloud.callFunction({
      name: expect.fn,
      data: { $route: expect.route, method: 'GET', path: expect.path, query: { lat: '31.2' }, header: { 'X-Trace': 't1' }, data: null, dataType: 'json' }
    })
    assert.equal(r.result.statusCode, 200, JSON.stringify(r.result))
    assert.equal(r.result.data.url, expect.path + '?lat=31.2')
    assert.equal(r.result.data.trace, 't1')
  })

  await step('moved asset is in storage', async () => {
    const r = await cloud.downloadFile({ fileID: expect.fileID })
    assert.equal(r.fileContent.length, expect.fileBytes)
  })

  process.exit(failed ? 1 : 0)
}

main().catch((e) => {
  console.log(`not ok main: ${e && e.stack ? e.stack : e}`)
  process.exit(1)
})
