// Reports the caller the way wx-server-sdk's getWXContext() reads it (from process.env via
// WX_CONTEXT_KEYS), without needing wx-server-sdk installed for the test.
function getWXContext() {
  const ctx = {};
  for (const key of (process.env.WX_CONTEXT_KEYS || '').split(',')) {
    if (!key || process.env[key] === undefined) continue;
    ctx[key.startsWith('WX_') ? key.slice(3) : key] = process.env[key];
  }
  ctx.ENV = process.env.TCB_ENV || process.env.SCF_NAMESPACE;
  ctx.SOURCE = process.env.TCB_SOURCE;
  return ctx;
}
exports.main = async (event) => ({ wxContext: getWXContext(), event });
