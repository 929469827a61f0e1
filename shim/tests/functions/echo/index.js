// Echoes what the platform handed the function. `wxContext` is computed exactly as
// wx-server-sdk 4.0.2's getWXContext() does (index.js, getWXContext), so the test checks the
// environment the real SDK would read.
function getWXContext() {
  const ctx = {};
  if (!process.env.WX_CONTEXT_KEYS) return ctx;
  for (const key of process.env.WX_CONTEXT_KEYS.split(',')) {
    if (!key || key === 'API_TOKEN' || key === 'WX_API_TOKEN') continue;
    let val = process.env[key];
    if (val === undefined) continue;
    if (/^[-]?\d+$/.test(val)) val = parseInt(val);
    if (key.startsWith('WX_') && key.length > 3) ctx[key.slice(3)] = val;
    else ctx[key] = val;
  }
  ctx.ENV = process.env.TCB_ENV || process.env.SCF_NAMESPACE;
  if (process.env.TCB_SOURCE) ctx.SOURCE = process.env.TCB_SOURCE;
  return ctx;
}

let calls = 0;

exports.main = async (event, context) => {
  calls += 1;
  const env = {};
  for (const k of ['TENCENTCLOUD_RUNENV', 'TENCENTCLOUD_SECRETID', 'TENCENTCLOUD_SECRETKEY',
    'TENCENTCLOUD_SESSIONTOKEN', 'TCB_CONTEXT_CNFG', 'TCB_CONTEXT_KEYS', 'TCB_ENV', 'TCB_SEQID',
    'TCB_SOURCE', 'SCF_NAMESPACE', 'WX_CONTEXT_KEYS']) {
    env[k] = process.env[k];
  }
  return { event, wxContext: getWXContext(), context, env, pid: process.pid, calls, cwd: process.cwd() };
};
