// A cloud function that itself uses wx-server-sdk: it adds two numbers, reads the seeded
// `books` collection through the shim and records the call in `calls`.
const cloud = require('wx-server-sdk')

cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV })
const db = cloud.database()

exports.main = async (event, context) => {
  const { OPENID, APPID } = cloud.getWXContext()
  const books = await db.collection('books').count()
  // Like CloudBase, adding to a missing collection fails: create it (an error if it exists).
  await db.createCollection('calls').catch(() => {})
  const added = await db.collection('calls').add({ data: { a: event.a, b: event.b, at: db.serverDate() } })
  return {
    sum: event.a + event.b,
    books: books.total,
    callId: added._id,
    openid: OPENID || null,
    appid: APPID || null
  }
}
