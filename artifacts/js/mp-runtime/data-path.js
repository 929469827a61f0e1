// data-path.js: `setData` keys (`'a.b[2].c'`, `'list[0].name'`) and the value copying it does.
//
// The client copies what setData is given, as JSON would (functions and `undefined` are
// dropped, Dates become strings), then writes each key into `this.data`: a plain key replaces
// the field, a path walks into it and creates the missing objects (or arrays, when the next
// segment is an index) on the way.
'use strict';

// `'a.b[2].c'` → `['a', 'b', 2, 'c']`. Throws on text the client rejects (`'a[x]'`, `'a..b'`).
function parsePath(path) {
  var segs = [];
  var s = String(path);
  var i = 0;
  var key = '';
  var expectKey = true; // a key must follow the start or a '.'
  while (i < s.length) {
    var c = s.charAt(i);
    if (c === '.') {
      if (expectKey && key === '') throw new Error('setData: bad data path ' + JSON.stringify(s));
      if (key !== '') segs.push(key);
      key = '';
      expectKey = true;
      i++;
    } else if (c === '[') {
      if (key !== '') segs.push(key);
      else if (!segs.length) throw new Error('setData: bad data path ' + JSON.stringify(s));
      key = '';
      var close = s.indexOf(']', i);
      var num = close < 0 ? '' : s.slice(i + 1, close);
      if (!/^\d+$/.test(num)) throw new Error('setData: bad index in data path ' + JSON.stringify(s));
      segs.push(Number(num));
      i = close + 1;
      expectKey = false;
    } else {
      key += c;
      expectKey = false;
      i++;
    }
  }
  if (key !== '') segs.push(key);
  else if (expectKey) throw new Error('setData: bad data path ' + JSON.stringify(s));
  return segs;
}

// A JSON copy, made with the given realm's JSON so the objects belong to it (page code inside
// a vm context checks `instanceof Array` and friends against its own builtins).
function jsonClone(value, JSONImpl) {
  if (value === undefined || typeof value === 'function') return undefined;
  var text = JSON.stringify(value);
  return text === undefined ? undefined : (JSONImpl || JSON).parse(text);
}

function isContainer(x) {
  return x !== null && typeof x === 'object';
}

// Write `value` at `segs` inside `data`, creating what is missing. `makeObject`/`makeArray`
// build containers in the page's realm.
function setPath(data, segs, value, makeObject, makeArray) {
  var cur = data;
  for (var i = 0; i < segs.length - 1; i++) {
    var seg = segs[i];
    if (!isContainer(cur[seg])) cur[seg] = typeof segs[i + 1] === 'number' ? makeArray() : makeObject();
    cur = cur[seg];
  }
  cur[segs[segs.length - 1]] = value;
}

// Apply one setData call. Returns the list of keys that changed (as given), for observers.
function applySetData(data, patch, JSONImpl) {
  var J = JSONImpl || JSON;
  var makeObject = function () { return J.parse('{}'); };
  var makeArray = function () { return J.parse('[]'); };
  var changed = [];
  Object.keys(patch).forEach(function (key) {
    var value = jsonClone(patch[key], J);
    if (value === undefined) return; // the client warns and keeps the old value
    setPath(data, parsePath(key), value, makeObject, makeArray);
    changed.push(key);
  });
  return changed;
}

// Read a path (`'a.b[0]'`); undefined when some part is missing.
function getPath(data, path) {
  var segs = parsePath(path);
  var cur = data;
  for (var i = 0; i < segs.length; i++) {
    if (!isContainer(cur)) return undefined;
    cur = cur[segs[i]];
  }
  return cur;
}

module.exports = { parsePath: parsePath, setPath: setPath, applySetData: applySetData, getPath: getPath, jsonClone: jsonClone };
