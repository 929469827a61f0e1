// instance.js: page instances built from a `Page({...})` or `Component({...})` definition,
// and `Behavior` merging.
//
// Page: every field of the definition but `data` lands on the instance (functions as they
// are, other values copied per instance), `data` is a JSON copy.
// Component used as a page: `methods` land on the instance, `data` is the merge of the
// property defaults and `data` (`this.properties === this.data`), query parameters that name
// a property set it (converted to the property's type), and the hooks are
// `lifetimes.created/attached/ready` (or the old top-level `created`/`attached`/`ready`),
// `pageLifetimes.show/hide`, and `methods.onLoad/onShow/...`.
// Behavior: `behaviors: [...]` (nested ones first) merge into the definition: properties,
// data (objects merged deeply, the later definition wins), methods (the component's own
// win), and every lifetime / pageLifetime / observer runs, the behaviors' first.
// Observers: `observers: { 'a, b.c': fn }` and a property's `observer` run after a setData
// that touches their fields (not on the initial values, as on the client).
'use strict';

var dataPath = require('./data-path.js');

var BEHAVIOR = '__mpBehavior';
var LIFETIMES = ['created', 'attached', 'ready', 'moved', 'detached', 'error'];
var PAGE_LIFETIMES = ['show', 'hide', 'resize', 'routeDone'];

function Behavior(def) {
  var b = Object.assign({}, def || {});
  Object.defineProperty(b, BEHAVIOR, { value: true });
  return b;
}

function isPlainObject(x) {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

function deepMerge(target, src) {
  Object.keys(src || {}).forEach(function (k) {
    if (isPlainObject(target[k]) && isPlainObject(src[k])) deepMerge(target[k], src[k]);
    else target[k] = src[k];
  });
  return target;
}

// The definitions to merge, in order: nested behaviors first, each once, then `def` itself.
function chain(def, seen, out) {
  (def.behaviors || []).forEach(function (b) {
    if (!b || typeof b !== 'object' || seen.indexOf(b) >= 0) return; // built-in 'wx://form-field' etc.
    seen.push(b);
    chain(b, seen, out);
  });
  out.push(def);
  return out;
}

// A property declaration → { type name, default value, observer }.
function propertyInfo(decl) {
  var type = decl;
  var out = { type: null, value: undefined, observer: null };
  if (decl && typeof decl === 'object') {
    type = decl.type;
    out.value = decl.value;
    out.observer = decl.observer || null;
  }
  out.type = type === null ? null : (type && type.name) || null;
  if (out.value === undefined) {
    out.value = { String: '', Number: 0, Boolean: false, Array: [], Object: null }[out.type];
    if (out.value === undefined) out.value = null;
  }
  return out;
}

// A query string value → the property's type, as the client converts page query parameters.
function convert(value, type) {
  if (type === 'Number') return Number(value);
  if (type === 'Boolean') return value !== 'false' && value !== '0' && value !== '' && value != null;
  if (type === 'Object' || type === 'Array') {
    try {
      return JSON.parse(value);
    } catch (e) {
      return type === 'Array' ? [] : null;
    }
  }
  return value == null ? '' : String(value);
}

// Canonical form of a data path for comparing: 'a.b[0]' → 'a.b.0'.
function canonical(p) {
  try {
    return dataPath.parsePath(p).join('.');
  } catch (e) {
    return String(p);
  }
}
function touches(changed, field) {
  var f = field.replace(/\.\*\*$/, '');
  if (f === '**') return true;
  f = canonical(f);
  return changed === f || changed.indexOf(f + '.') === 0 || f.indexOf(changed + '.') === 0;
}

// The merged definition of a Component: { data, properties, methods, hooks, observers }.
// hooks: name → [fn]; names are lifetimes (`created`, ...), `page:show` for pageLifetimes.
function mergeComponent(def) {
  var out = { data: {}, properties: {}, methods: {}, hooks: {}, observers: [] };
  function hook(name, fn) {
    if (typeof fn !== 'function') return;
    (out.hooks[name] = out.hooks[name] || []).push(fn);
  }
  chain(def, [], []).forEach(function (d) {
    Object.keys(d.properties || {}).forEach(function (k) { out.properties[k] = propertyInfo(d.properties[k]); });
    deepMerge(out.data, JSON.parse(JSON.stringify(d.data || {})));
    Object.assign(out.methods, d.methods || {});
    var lifetimes = d.lifetimes || {};
    LIFETIMES.forEach(function (name) { hook(name, lifetimes[name] || d[name]); });
    var pl = d.pageLifetimes || {};
    PAGE_LIFETIMES.forEach(function (name) { hook('page:' + name, pl[name]); });
    Object.keys(d.observers || {}).forEach(function (k) {
      out.observers.push({ fields: k.split(',').map(function (s) { return s.trim(); }), fn: d.observers[k] });
    });
  });
  return out;
}

// The merged definition of a Page: the page's own fields win over its behaviors'.
function mergePage(def) {
  var out = {};
  var data = {};
  chain(def, [], []).forEach(function (d) {
    Object.keys(d).forEach(function (k) {
      if (k === 'data' || k === 'behaviors') return;
      if (k === 'methods' && d !== def && isPlainObject(d.methods)) Object.assign(out, d.methods);
      else out[k] = d[k];
    });
    deepMerge(data, JSON.parse(JSON.stringify(d.data || {})));
  });
  return { fields: out, data: data };
}

// Build the instance. `kind` is 'page' or 'component'; `env` gives JSON (the context's),
// setData(inst, patch, cb), and the extra instance methods (selectComponent, ...).
function createInstance(kind, def, route, query, env) {
  var CJSON = env.JSON;
  var inst = Object.create(env.proto);
  var hooks = {};
  var observers = [];
  var properties = {};
  if (kind === 'page') {
    var p = mergePage(def);
    Object.keys(p.fields).forEach(function (k) {
      var v = p.fields[k];
      if (typeof v === 'function' || v === null || typeof v !== 'object') inst[k] = v;
      else {
        try {
          inst[k] = CJSON.parse(JSON.stringify(v));
        } catch (e) {
          inst[k] = v;
        }
      }
    });
    inst.data = CJSON.parse(JSON.stringify(p.data));
  } else {
    var c = mergeComponent(def);
    Object.keys(c.methods).forEach(function (k) { inst[k] = c.methods[k]; });
    var data = {};
    Object.keys(c.properties).forEach(function (k) { data[k] = c.properties[k].value; });
    deepMerge(data, c.data);
    Object.keys(query || {}).forEach(function (k) {
      if (c.properties[k]) data[k] = convert(query[k], c.properties[k].type);
    });
    inst.data = CJSON.parse(JSON.stringify(data));
    inst.properties = inst.data;
    inst.is = route;
    hooks = c.hooks;
    observers = c.observers;
    properties = c.properties;
  }
  inst.route = route;
  inst.__route__ = route;
  inst.options = CJSON.parse(JSON.stringify(query || {}));
  Object.defineProperty(inst, '__mp', { value: { kind: kind, hooks: hooks, observers: observers, properties: properties } });
  return inst;
}

// The functions to call for a page hook (`onLoad`, `onShow`, ...), in order.
function hookFunctions(inst, name) {
  var mp = inst.__mp;
  var fns = [];
  if (mp.kind === 'component') {
    var add = function (list) { (list || []).forEach(function (f) { fns.push(f); }); };
    if (name === 'onLoad') { add(mp.hooks.created); add(mp.hooks.attached); }
    if (name === 'onShow') add(mp.hooks['page:show']);
    if (name === 'onHide') add(mp.hooks['page:hide']);
    if (name === 'onReady') add(mp.hooks.ready);
    if (name === 'onUnload') add(mp.hooks.detached);
  }
  if (typeof inst[name] === 'function') fns.push(inst[name]);
  return fns;
}

// After setData: the observers and property observers whose fields the patch touched.
// Returns [{ fn, args }] to call with `this` = inst.
function triggeredObservers(inst, changedKeys, oldValues) {
  var mp = inst.__mp;
  if (mp.kind !== 'component') return [];
  var changed = changedKeys.map(canonical);
  var calls = [];
  mp.observers.forEach(function (o) {
    var hit = o.fields.some(function (f) { return changed.some(function (c) { return touches(c, f); }); });
    if (!hit) return;
    calls.push({
      fn: o.fn,
      args: o.fields.map(function (f) {
        var bare = f.replace(/\.\*\*$/, '');
        return bare === '**' ? inst.data : dataPath.getPath(inst.data, bare);
      })
    });
  });
  Object.keys(mp.properties).forEach(function (name) {
    var ob = mp.properties[name].observer;
    if (!ob) return;
    if (!changed.some(function (c) { return c === name || c.indexOf(name + '.') === 0; })) return;
    var fn = typeof ob === 'string' ? inst[ob] : ob;
    if (typeof fn === 'function') calls.push({ fn: fn, args: [inst.data[name], oldValues[name]] });
  });
  return calls;
}

module.exports = {
  Behavior: Behavior,
  createInstance: createInstance,
  hookFunctions: hookFunctions,
  triggeredObservers: triggeredObservers,
  mergeComponent: mergeComponent,
  propertyInfo: propertyInfo
};
