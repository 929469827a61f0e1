/*
 * wx-cloud-shim.js: points a mini-program's `wx.cloud` at a local `migrate serve` shim.
 *
 * Inert until installed:
 *
 *   require('./wx-cloud-shim').install({ url: 'http://127.0.0.1:8788', openid: 'dev-openid',
 *                                        appid: 'wx0123456789abcdef', env: 'my-env-id' })
 *
 * replaces `wx.cloud.init/database/callFunction/uploadFile/downloadFile/getTempFileURL/
 * deleteFile` with versions that talk to the shim: every call is one `POST <url>/client` with
 * the same action envelope the server SDKs send to `/admin` (`{action, envName, ...params}`),
 * the caller identity in the `x-wx-openid` / `x-wx-appid` headers, and database arguments
 * encoded exactly as `@cloudbase/database` 1.4.3 encodes them (canonical EJSON strings,
 * nested objects flattened to dot paths, `neq` → `$ne`, ...), so the shim has one decoding path.
 * File bytes move with `wx.uploadFile` (multipart POST to the URL the shim hands out) and
 * `wx.downloadFile`. Results and errMsg strings follow the real client (`collection.get:ok`,
 * `cloud.callFunction:ok`, `<api>:fail <errCode> <description>. <message>`), and every API
 * takes `success/fail/complete` callbacks (then it returns no Promise) or returns a Promise.
 *
 * `watch()` is emulated by polling `get()` every `watchInterval` ms (install option, default
 * 1000), reporting snapshots in the real shape.
 *
 * Plain ES5 + CommonJS, no Node APIs: it runs in the mini-program runtime as it is.
 * The query serialisers below are ports of `@cloudbase/database` 1.4.3 (src/serializer/*,
 * src/commands/*), kept operation-for-operation so key order and quirks match byte for byte.
 */
'use strict';

// ---------------------------------------------------------------------------------------------
// small helpers

function getType(x) {
  return Object.prototype.toString.call(x).slice(8, -1).toLowerCase();
}
function isObject(x) {
  return getType(x) === 'object';
}
function isArray(x) {
  return Array.isArray(x);
}
function isDate(x) {
  return getType(x) === 'date';
}
function isRegExp(x) {
  return getType(x) === 'regexp';
}
function isNumber(x) {
  return getType(x) === 'number';
}
function isString(x) {
  return getType(x) === 'string';
}
function hasOwn(o, k) {
  return Object.prototype.hasOwnProperty.call(o, k);
}
// `{...o}`: own enumerable string keys, in order.
function spread(o) {
  var out = {};
  var keys = Object.keys(o);
  for (var i = 0; i < keys.length; i++) out[keys[i]] = o[keys[i]];
  return out;
}
function assign(target) {
  for (var i = 1; i < arguments.length; i++) {
    var src = arguments[i];
    if (src == null) continue;
    var keys = Object.keys(src);
    for (var j = 0; j < keys.length; j++) target[keys[j]] = src[keys[j]];
  }
  return target;
}
function toArray(args) {
  return Array.prototype.slice.call(args);
}
// Methods and markers live on prototypes, non-enumerable, like ES class members.
function hide(proto, name, value) {
  Object.defineProperty(proto, name, { value: value, enumerable: false, writable: true, configurable: true });
}
function inherit(Child, Parent) {
  Child.prototype = Object.create(Parent.prototype);
  hide(Child.prototype, 'constructor', Child);
}

// Internal type markers (`InternalSymbol` in @cloudbase/database).
function InternalSymbol(name) {
  this.name = name;
}
var SYMBOL_UNSET_FIELD_NAME = new InternalSymbol('UNSET_FIELD_NAME');
var SYMBOL_LOGIC_COMMAND = new InternalSymbol('LOGIC_COMMAND');
var SYMBOL_QUERY_COMMAND = new InternalSymbol('QUERY_COMMAND');
var SYMBOL_UPDATE_COMMAND = new InternalSymbol('UPDATE_COMMAND');
var SYMBOL_GEO_POINT = new InternalSymbol('GEO_POINT');
var SYMBOL_GEO_LINE_STRING = new InternalSymbol('GEO_LINE_STRING');
var SYMBOL_GEO_POLYGON = new InternalSymbol('GEO_POLYGON');
var SYMBOL_GEO_MULTI_POINT = new InternalSymbol('GEO_MULTI_POINT');
var SYMBOL_GEO_MULTI_LINE_STRING = new InternalSymbol('GEO_MULTI_LINE_STRING');
var SYMBOL_GEO_MULTI_POLYGON = new InternalSymbol('GEO_MULTI_POLYGON');
var SYMBOL_SERVER_DATE = new InternalSymbol('SERVER_DATE');
var SYMBOL_REGEXP = new InternalSymbol('REGEXP');
var SYMBOL_OBJECTID = new InternalSymbol('OBJECTID');

function isInternalObject(x) {
  return !!(x && x._internalType instanceof InternalSymbol);
}

// ---------------------------------------------------------------------------------------------
// canonical EJSON (bson 4.7 `EJSON.stringify(v, {relaxed:false})`) and relaxed parse

var INT32_MIN = -2147483648;
var INT32_MAX = 2147483647;
var INT64_MIN = -9223372036854775808;
var INT64_MAX = 9223372036854775807;

function ejsonValue(value) {
  if (isArray(value)) {
    var arr = [];
    for (var i = 0; i < value.length; i++) arr.push(ejsonValue(value[i]));
    return arr;
  }
  if (value === undefined) return null;
  if (isDate(value)) return { $date: { $numberLong: String(value.getTime()) } };
  if (typeof value === 'number') {
    if (Math.floor(value) === value) {
      if (value >= INT32_MIN && value <= INT32_MAX) return { $numberInt: value.toString() };
      if (value >= INT64_MIN && value <= INT64_MAX) return { $numberLong: value.toString() };
    }
    return { $numberDouble: value.toString() };
  }
  if (isRegExp(value)) {
    return { $regularExpression: { pattern: value.source, options: value.flags.split('').sort().join('') } };
  }
  if (value !== null && typeof value === 'object') {
    var out = {};
    for (var name in value) out[name] = ejsonValue(value[name]);
    return out;
  }
  return value;
}

// `filterUndefined` of @cloudbase/database: drops undefined keys of plain objects, recursively
// through plain objects (not through arrays).
function filterUndefined(o) {
  if (!isObject(o)) return o;
  for (var key in o) {
    if (o[key] === undefined) delete o[key];
    else if (isObject(o[key])) o[key] = filterUndefined(o[key]);
  }
  return o;
}

function stringifyByEJSON(params) {
  return JSON.stringify(ejsonValue(filterUndefined(params)));
}

// EJSON.parse (relaxed) + Util.formatField: numbers become numbers, dates Dates, GeoJSON Geo
// objects, regular expressions db.RegExp objects.
function ejsonParseValue(v) {
  if (isArray(v)) {
    var arr = [];
    for (var i = 0; i < v.length; i++) arr.push(ejsonParseValue(v[i]));
    return arr;
  }
  if (v === null || typeof v !== 'object') return v;
  var keys = Object.keys(v);
  if (keys.length === 1) {
    var k = keys[0];
    var x = v[k];
    if (k === '$numberInt' || k === '$numberLong') return Number(x);
    if (k === '$numberDouble') return x === '-0.0' ? -0 : Number(x);
    if (k === '$numberDecimal') return Number(x);
    if (k === '$oid') return String(x);
    if (k === '$date') {
      if (isObject(x) && hasOwn(x, '$numberLong')) return new Date(Number(x.$numberLong));
      return new Date(x);
    }
    if (k === '$regularExpression' && isObject(x)) return new DbRegExp({ regexp: x.pattern, options: x.options });
  }
  if (keys.length === 2 && hasOwn(v, '$regex') && typeof v.$regex === 'string') {
    return new DbRegExp({ regexp: v.$regex, options: v.$options || '' });
  }
  var out = {};
  for (var j = 0; j < keys.length; j++) out[keys[j]] = ejsonParseValue(v[keys[j]]);
  return formatGeo(out);
}

function toPoint(c) {
  return new Point(c[0], c[1]);
}
function formatGeo(o) {
  if (!isString(o.type) || !isArray(o.coordinates) || Object.keys(o).length !== 2) return o;
  try {
    switch (o.type) {
      case 'Point':
        return toPoint(o.coordinates);
      case 'LineString':
        return new LineString(o.coordinates.map(toPoint));
      case 'Polygon':
        return new Polygon(o.coordinates.map(function (l) { return new LineString(l.map(toPoint)); }));
      case 'MultiPoint':
        return new MultiPoint(o.coordinates.map(toPoint));
      case 'MultiLineString':
        return new MultiLineString(o.coordinates.map(function (l) { return new LineString(l.map(toPoint)); }));
      case 'MultiPolygon':
        return new MultiPolygon(o.coordinates.map(function (p) {
          return new Polygon(p.map(function (l) { return new LineString(l.map(toPoint)); }));
        }));
    }
  } catch (e) {
    return o;
  }
  return o;
}

function parseDocument(text) {
  return ejsonParseValue(typeof text === 'string' ? JSON.parse(text) : text);
}

// ---------------------------------------------------------------------------------------------
// Geo, serverDate, RegExp, ObjectId

function checkGeopoint(name, v) {
  if (!isNumber(v)) throw new TypeError('"' + name + '" must be of type Number. Received type ' + typeof v);
  var bound = name === 'latitude' ? 90 : 180;
  if (Math.abs(v) > bound) throw new Error('"' + name + '" should be a number in [-' + bound + ', ' + bound + ']');
}

// A geometry type: its SDK type tag, and `toJSON` as GeoJSON with the given coordinates.
function geoType(Ctor, symbol, type, coordinates) {
  hide(Ctor.prototype, '_internalType', symbol);
  hide(Ctor.prototype, 'toJSON', function () {
    return { type: type, coordinates: coordinates(this) };
  });
}

function Point(longitude, latitude) {
  if (!(this instanceof Point)) return new Point(longitude, latitude);
  checkGeopoint('longitude', longitude);
  checkGeopoint('latitude', latitude);
  this.longitude = longitude;
  this.latitude = latitude;
}
geoType(Point, SYMBOL_GEO_POINT, 'Point', pointCoords);
hide(Point.prototype, 'toReadableString', function () {
  return '[' + this.longitude + ',' + this.latitude + ']';
});

function checkPoints(points, min, what) {
  if (!isArray(points)) throw new TypeError('"points" must be of type Point[]. Received type ' + typeof points);
  if (points.length < min) throw new Error('"points" must contain ' + min + ' point' + (min > 1 ? 's' : '') + ' at least' + what);
  for (var i = 0; i < points.length; i++) {
    if (!(points[i] instanceof Point)) throw new TypeError('"points" must be of type Point[]');
  }
}
function pointCoords(p) {
  return [p.longitude, p.latitude];
}

function LineString(points) {
  if (!(this instanceof LineString)) return new LineString(points);
  checkPoints(points, 2, '');
  this.points = points;
}
geoType(LineString, SYMBOL_GEO_LINE_STRING, 'LineString', function (g) { return g.points.map(pointCoords); });
function isClosed(line) {
  var a = line.points[0];
  var b = line.points[line.points.length - 1];
  return a.latitude === b.latitude && a.longitude === b.longitude;
}

function checkLines(lines, closed) {
  if (!isArray(lines)) throw new TypeError('"lines" must be of type LineString[]. Received type ' + typeof lines);
  if (lines.length === 0) throw new Error('Polygon must contain 1 linestring at least');
  for (var i = 0; i < lines.length; i++) {
    if (!(lines[i] instanceof LineString)) throw new TypeError('"lines" must be of type LineString[]');
    if (closed && !isClosed(lines[i])) {
      throw new Error('LineString ' + lines[i].points.map(function (p) { return p.toReadableString(); }) + ' is not a closed cycle');
    }
  }
}
function lineCoords(l) {
  return l.points.map(pointCoords);
}
function polygonCoords(p) {
  return p.lines.map(lineCoords);
}

function Polygon(lines) {
  if (!(this instanceof Polygon)) return new Polygon(lines);
  checkLines(lines, true);
  this.lines = lines;
}
geoType(Polygon, SYMBOL_GEO_POLYGON, 'Polygon', polygonCoords);

function MultiPoint(points) {
  if (!(this instanceof MultiPoint)) return new MultiPoint(points);
  checkPoints(points, 1, '');
  this.points = points;
}
geoType(MultiPoint, SYMBOL_GEO_MULTI_POINT, 'MultiPoint', function (g) { return g.points.map(pointCoords); });

function MultiLineString(lines) {
  if (!(this instanceof MultiLineString)) return new MultiLineString(lines);
  checkLines(lines, false);
  this.lines = lines;
}
geoType(MultiLineString, SYMBOL_GEO_MULTI_LINE_STRING, 'MultiLineString', polygonCoords);

function MultiPolygon(polygons) {
  if (!(this instanceof MultiPolygon)) return new MultiPolygon(polygons);
  if (!isArray(polygons)) throw new TypeError('"polygons" must be of type Polygon[]. Received type ' + typeof polygons);
  if (polygons.length === 0) throw new Error('MultiPolygon must contain 1 polygon at least');
  for (var i = 0; i < polygons.length; i++) {
    if (!(polygons[i] instanceof Polygon)) throw new TypeError('"polygon" must be of type Polygon[]');
  }
  this.polygons = polygons;
}
geoType(MultiPolygon, SYMBOL_GEO_MULTI_POLYGON, 'MultiPolygon', function (g) { return g.polygons.map(polygonCoords); });

function ServerDate(opt) {
  opt = opt || {};
  this.offset = opt.offset === undefined ? 0 : opt.offset;
}
hide(ServerDate.prototype, '_internalType', SYMBOL_SERVER_DATE);
hide(ServerDate.prototype, 'parse', function () {
  return { $tcb_server_date: { offset: this.offset } };
});

function DbRegExp(opt) {
  if (!opt || !opt.regexp) throw new TypeError('regexp must be a string');
  this.$regularExpression = { pattern: opt.regexp || '', options: opt.options || '' };
}
hide(DbRegExp.prototype, '_internalType', SYMBOL_REGEXP);
hide(DbRegExp.prototype, 'parse', function () {
  return { $regularExpression: { pattern: this.$regularExpression.pattern, options: this.$regularExpression.options } };
});

function ObjectId(opt) {
  this.id = (opt && opt.id) || '';
}
hide(ObjectId.prototype, '_internalType', SYMBOL_OBJECTID);
hide(ObjectId.prototype, 'parse', function () {
  return { $oid: this.id };
});

// ---------------------------------------------------------------------------------------------
// commands (src/commands/{logic,query,update}.ts, src/command.ts)

var LOGIC = { and: 'and', or: 'or', not: 'not', nor: 'nor' };
var Q = {
  EQ: 'eq', NEQ: 'neq', GT: 'gt', GTE: 'gte', LT: 'lt', LTE: 'lte', IN: 'in', NIN: 'nin', ALL: 'all',
  ELEM_MATCH: 'elemMatch', EXISTS: 'exists', SIZE: 'size', MOD: 'mod', GEO_NEAR: 'geoNear',
  GEO_WITHIN: 'geoWithin', GEO_INTERSECTS: 'geoIntersects'
};
var U = {
  SET: 'set', REMOVE: 'remove', INC: 'inc', MUL: 'mul', PUSH: 'push', PULL: 'pull', PULL_ALL: 'pullAll',
  POP: 'pop', SHIFT: 'shift', UNSHIFT: 'unshift', ADD_TO_SET: 'addToSet', BIT: 'bit', RENAME: 'rename',
  MAX: 'max', MIN: 'min'
};

function operatorToString(op) {
  if (op === 'neq') return '$ne';
  if (op === 'remove') return '$unset';
  if (op === 'shift') return '$pop';
  if (op === 'unshift') return '$push';
  return '$' + op;
}

function LogicCommand(operator, operands, fieldName) {
  hide(this, '_internalType', SYMBOL_LOGIC_COMMAND);
  this.operator = operator;
  this.operands = operands;
  this.fieldName = fieldName || SYMBOL_UNSET_FIELD_NAME;
  if (this.fieldName !== SYMBOL_UNSET_FIELD_NAME) {
    if (isArray(operands)) {
      operands = operands.slice();
      this.operands = operands;
      for (var i = 0; i < operands.length; i++) {
        var q = operands[i];
        if (isLogicCommand(q) || isQueryCommand(q)) operands[i] = q._setFieldName(this.fieldName);
      }
    }
  }
}
hide(LogicCommand.prototype, '_setFieldName', function (fieldName) {
  var operands = this.operands.map(function (operand) {
    return operand instanceof LogicCommand ? operand._setFieldName(fieldName) : operand;
  });
  return new LogicCommand(this.operator, operands, fieldName);
});
hide(LogicCommand.prototype, 'and', function () {
  var expressions = isArray(arguments[0]) ? arguments[0] : toArray(arguments);
  expressions.unshift(this);
  return new LogicCommand(LOGIC.and, expressions, this.fieldName);
});
hide(LogicCommand.prototype, 'or', function () {
  var expressions = isArray(arguments[0]) ? arguments[0] : toArray(arguments);
  expressions.unshift(this);
  return new LogicCommand(LOGIC.or, expressions, this.fieldName);
});

function isLogicCommand(o) {
  return !!(o && o instanceof LogicCommand && o._internalType === SYMBOL_LOGIC_COMMAND);
}

function QueryCommand(operator, operands, fieldName) {
  LogicCommand.call(this, operator, operands, fieldName);
  this.operator = operator;
  this._internalType = SYMBOL_QUERY_COMMAND;
}
inherit(QueryCommand, LogicCommand);
hide(QueryCommand.prototype, 'toJSON', function () {
  switch (this.operator) {
    case Q.IN:
    case Q.NIN: {
      var a = {};
      a['$' + this.operator] = this.operands;
      return a;
    }
    case Q.NEQ:
      return { $ne: this.operands[0] };
    default: {
      var d = {};
      d['$' + this.operator] = this.operands[0];
      return d;
    }
  }
});
hide(QueryCommand.prototype, '_setFieldName', function (fieldName) {
  return new QueryCommand(this.operator, this.operands, fieldName);
});
function chain(op, wrap) {
  return function (val) {
    var operands = wrap ? [val] : val;
    return this.and(new QueryCommand(op, operands, this.fieldName));
  };
}
hide(QueryCommand.prototype, 'eq', chain(Q.EQ, true));
hide(QueryCommand.prototype, 'neq', chain(Q.NEQ, true));
hide(QueryCommand.prototype, 'gt', chain(Q.GT, true));
hide(QueryCommand.prototype, 'gte', chain(Q.GTE, true));
hide(QueryCommand.prototype, 'lt', chain(Q.LT, true));
hide(QueryCommand.prototype, 'lte', chain(Q.LTE, true));
hide(QueryCommand.prototype, 'in', chain(Q.IN, false));
hide(QueryCommand.prototype, 'nin', chain(Q.NIN, false));
hide(QueryCommand.prototype, 'geoNear', function (val) {
  checkGeoNear(val);
  return this.and(new QueryCommand(Q.GEO_NEAR, [val], this.fieldName));
});
hide(QueryCommand.prototype, 'geoWithin', function (val) {
  checkGeoWithin(val);
  return this.and(new QueryCommand(Q.GEO_WITHIN, [val], this.fieldName));
});
hide(QueryCommand.prototype, 'geoIntersects', function (val) {
  checkGeoIntersects(val);
  return this.and(new QueryCommand(Q.GEO_INTERSECTS, [val], this.fieldName));
});

function isQueryCommand(o) {
  return !!(o && o instanceof QueryCommand && o._internalType === SYMBOL_QUERY_COMMAND);
}

function checkGeoNear(val) {
  if (!(val.geometry instanceof Point)) {
    throw new TypeError('"geometry" must be of type Point. Received type ' + typeof val.geometry);
  }
  if (val.maxDistance !== undefined && !isNumber(val.maxDistance)) {
    throw new TypeError('"maxDistance" must be of type Number. Received type ' + typeof val.maxDistance);
  }
  if (val.minDistance !== undefined && !isNumber(val.minDistance)) {
    throw new TypeError('"minDistance" must be of type Number. Received type ' + typeof val.minDistance);
  }
}
function isCenterSphere(cs) {
  return isArray(cs) && cs.length === 2 && isNumber(cs[1]) &&
    (cs[0] instanceof Point || (isArray(cs[0]) && isNumber(cs[0][0]) && isNumber(cs[0][1])));
}
function checkGeoWithin(val) {
  if (!(val.geometry instanceof MultiPolygon) && !(val.geometry instanceof Polygon) && !isCenterSphere(val.centerSphere)) {
    throw new TypeError('"geometry" must be of type Polygon or MultiPolygon. Received type ' + typeof val.geometry);
  }
}
function checkGeoIntersects(val) {
  var g = val.geometry;
  if (!(g instanceof Point || g instanceof LineString || g instanceof Polygon || g instanceof MultiPoint ||
    g instanceof MultiLineString || g instanceof MultiPolygon)) {
    throw new TypeError('"geometry" must be of type Point, LineString, Polygon, MultiPoint, MultiLineString or MultiPolygon. Received type ' + typeof g);
  }
}

function UpdateCommand(operator, operands, fieldName) {
  hide(this, '_internalType', SYMBOL_UPDATE_COMMAND);
  this.operator = operator;
  this.operands = operands;
  this.fieldName = fieldName || SYMBOL_UNSET_FIELD_NAME;
}
hide(UpdateCommand.prototype, '_setFieldName', function (fieldName) {
  return new UpdateCommand(this.operator, this.operands, fieldName);
});
function isUpdateCommand(o) {
  return !!(o && o instanceof UpdateCommand && o._internalType === SYMBOL_UPDATE_COMMAND);
}

function AggregationOperator(name, param) {
  this['$' + name] = param;
}
function ProjectionOperator(name, param) {
  this['$' + name] = param;
}

var AGGREGATE_OPERATORS = [
  'abs', 'add', 'ceil', 'divide', 'exp', 'floor', 'ln', 'log', 'log10', 'mod', 'multiply', 'pow', 'sqrt',
  'subtract', 'trunc', 'arrayElemAt', 'arrayToObject', 'concatArrays', 'filter', 'in', 'indexOfArray',
  'isArray', 'map', 'range', 'reduce', 'reverseArray', 'size', 'slice', 'zip', 'and', 'not', 'or', 'cmp',
  'eq', 'gt', 'gte', 'lt', 'lte', 'cond', 'ifNull', 'switch', 'dateFromParts', 'dateFromString',
  'dayOfMonth', 'dayOfWeek', 'dayOfYear', 'isoDayOfWeek', 'isoWeek', 'isoWeekYear', 'millisecond',
  'minute', 'month', 'second', 'hour', 'week', 'year', 'literal', 'mergeObjects', 'objectToArray',
  'allElementsTrue', 'anyElementTrue', 'setDifference', 'setEquals', 'setIntersection', 'setIsSubset',
  'setUnion', 'concat', 'dateToString', 'indexOfBytes', 'indexOfCP', 'split', 'strLenBytes', 'strLenCP',
  'strcasecmp', 'substr', 'substrBytes', 'substrCP', 'toLower', 'toUpper', 'meta', 'addToSet', 'avg',
  'first', 'last', 'max', 'min', 'push', 'stdDevPop', 'stdDevSamp', 'sum', 'let'
];

function makeCommand() {
  var listOf = function (args) {
    return isArray(args[0]) ? args[0] : toArray(args);
  };
  var cmd = {
    eq: function (v) { return new QueryCommand(Q.EQ, [v]); },
    neq: function (v) { return new QueryCommand(Q.NEQ, [v]); },
    lt: function (v) { return new QueryCommand(Q.LT, [v]); },
    lte: function (v) { return new QueryCommand(Q.LTE, [v]); },
    gt: function (v) { return new QueryCommand(Q.GT, [v]); },
    gte: function (v) { return new QueryCommand(Q.GTE, [v]); },
    in: function (v) { return new QueryCommand(Q.IN, v); },
    nin: function (v) { return new QueryCommand(Q.NIN, v); },
    all: function (v) { return new QueryCommand(Q.ALL, v); },
    elemMatch: function (v) { return new QueryCommand(Q.ELEM_MATCH, [v]); },
    exists: function (v) { return new QueryCommand(Q.EXISTS, [v]); },
    size: function (v) { return new QueryCommand(Q.SIZE, [v]); },
    mod: function () {
      if (arguments.length === 1) return new QueryCommand(Q.MOD, [arguments[0]]);
      if (arguments.length === 2) return new QueryCommand(Q.MOD, [[arguments[0], arguments[1]]]);
      return new QueryCommand(Q.MOD, toArray(arguments));
    },
    geoNear: function (v) { return new QueryCommand(Q.GEO_NEAR, [v]); },
    geoWithin: function (v) { return new QueryCommand(Q.GEO_WITHIN, [v]); },
    geoIntersects: function (v) { return new QueryCommand(Q.GEO_INTERSECTS, [v]); },
    and: function () { return new LogicCommand(LOGIC.and, listOf(arguments)); },
    nor: function () { return new LogicCommand(LOGIC.nor, listOf(arguments)); },
    or: function () { return new LogicCommand(LOGIC.or, listOf(arguments)); },
    not: function () { return new LogicCommand(LOGIC.not, listOf(arguments)); },
    set: function (v) { return new UpdateCommand(U.SET, [v]); },
    remove: function () { return new UpdateCommand(U.REMOVE, []); },
    inc: function (v) { return new UpdateCommand(U.INC, [v]); },
    mul: function (v) { return new UpdateCommand(U.MUL, [v]); },
    push: function () {
      var values;
      var first = arguments[0];
      if (isObject(first) && hasOwn(first, 'each')) {
        values = {};
        if (first.each !== undefined) values.$each = first.each;
        if (first.position !== undefined) values.$position = first.position;
        if (first.sort !== undefined) values.$sort = first.sort;
        if (first.slice !== undefined) values.$slice = first.slice;
      } else if (isArray(first)) {
        values = first;
      } else {
        values = toArray(arguments);
      }
      return new UpdateCommand(U.PUSH, values);
    },
    pull: function (v) { return new UpdateCommand(U.PULL, v); },
    pullAll: function (v) { return new UpdateCommand(U.PULL_ALL, v); },
    pop: function () { return new UpdateCommand(U.POP, []); },
    shift: function () { return new UpdateCommand(U.SHIFT, []); },
    unshift: function () { return new UpdateCommand(U.UNSHIFT, listOf(arguments)); },
    addToSet: function (v) { return new UpdateCommand(U.ADD_TO_SET, v); },
    rename: function (v) { return new UpdateCommand(U.RENAME, [v]); },
    bit: function (v) { return new UpdateCommand(U.BIT, [v]); },
    max: function (v) { return new UpdateCommand(U.MAX, [v]); },
    min: function (v) { return new UpdateCommand(U.MIN, [v]); },
    expr: function (v) { return { $expr: v }; },
    jsonSchema: function (s) { return { $jsonSchema: s }; },
    text: function (v) {
      if (isString(v)) return { $search: v.search };
      return { $search: v.search, $language: v.language, $caseSensitive: v.caseSensitive, $diacriticSensitive: v.diacriticSensitive };
    },
    aggregate: {
      pipeline: function () { return new Aggregation(); }
    },
    project: {
      slice: function (p) { return new ProjectionOperator('slice', p); },
      elemMatch: function (p) { return new ProjectionOperator('elemMatch', p); }
    }
  };
  AGGREGATE_OPERATORS.forEach(function (name) {
    cmd.aggregate[name] = function (param) { return new AggregationOperator(name, param); };
  });
  cmd.aggregate.neq = function (param) { return new AggregationOperator('ne', param); };
  return cmd;
}

// ---------------------------------------------------------------------------------------------
// serializers (src/serializer/{common,datatype,query,update}.ts)

function isConversionRequired(val) {
  return isInternalObject(val) || isDate(val) || isRegExp(val);
}

function flatten(query, shouldPreserveObject, parents, visited) {
  var cloned = spread(query);
  for (var key in query) {
    if (/^\$/.test(key)) continue;
    var value = query[key];
    if (value === undefined) {
      delete cloned[key];
      continue;
    }
    if (!value) continue;
    if (isObject(value) && !shouldPreserveObject(value)) {
      if (visited.indexOf(value) > -1) throw new Error('Cannot convert circular structure to JSON');
      var flattenedChild = flatten(value, shouldPreserveObject, parents.concat([key]), visited.concat([value]));
      cloned[key] = flattenedChild;
      var hasKeyNotCombined = false;
      for (var childKey in flattenedChild) {
        if (!/^\$/.test(childKey)) {
          cloned[key + '.' + childKey] = flattenedChild[childKey];
          delete cloned[key][childKey];
        } else {
          hasKeyNotCombined = true;
        }
      }
      if (!hasKeyNotCombined) delete cloned[key];
    }
  }
  return cloned;
}
function flattenQueryObject(query) {
  return flatten(query, isConversionRequired, [], [query]);
}

// common.ts mergeConditionAfterEncode (used by the update serializer).
function mergeConditionCommon(query, condition, key) {
  if (!condition[key]) delete query[key];
  for (var ck in condition) {
    if (query[ck]) {
      if (isArray(query[ck])) query[ck].push(condition[ck]);
      else if (isObject(query[ck])) {
        if (isObject(condition[ck])) assign(query[ck], condition[ck]);
        else query[ck] = condition[ck];
      } else query[ck] = condition[ck];
    } else {
      query[ck] = condition[ck];
    }
  }
}

// QueryEncoder.mergeConditionAfterEncode (query.ts: note `Object.assign(query, condition)`).
function mergeConditionQuery(query, condition, key) {
  if (!condition[key]) delete query[key];
  for (var ck in condition) {
    if (query[ck]) {
      if (isArray(query[ck])) query[ck] = query[ck].concat(condition[ck]);
      else if (isObject(query[ck])) {
        if (isObject(condition[ck])) assign(query, condition);
        else query[ck] = condition[ck];
      } else query[ck] = condition[ck];
    } else {
      query[ck] = condition[ck];
    }
  }
}

// datatype.ts serialize
function serialize(val) {
  return serializeHelper(val, [val]);
}
function serializeHelper(val, visited) {
  if (isInternalObject(val)) {
    switch (val._internalType) {
      case SYMBOL_GEO_POINT:
        return val.toJSON();
      case SYMBOL_SERVER_DATE:
      case SYMBOL_REGEXP:
      case SYMBOL_OBJECTID:
        return val.parse();
      default:
        return val.toJSON ? val.toJSON() : val;
    }
  } else if (isDate(val)) {
    return val;
  } else if (isRegExp(val)) {
    return { $regularExpression: { pattern: val.source, options: val.flags } };
  } else if (isArray(val)) {
    return val.map(function (item) {
      if (visited.indexOf(item) > -1) throw new Error('Cannot convert circular structure to JSON');
      return serializeHelper(item, visited.concat([item]));
    });
  } else if (isObject(val)) {
    var raw = spread(val);
    var out = {};
    for (var key in raw) {
      if (visited.indexOf(raw[key]) > -1) throw new Error('Cannot convert circular structure to JSON');
      if (raw[key] !== undefined) out[key] = serializeHelper(raw[key], visited.concat([raw[key]]));
    }
    return out;
  }
  return val;
}

function encodeRegExp(re) {
  return { $regularExpression: { pattern: re.source, options: re.flags } };
}

function single(key, value) {
  var o = {};
  o[key] = value;
  return o;
}

function encodeQuery(query, key) {
  if (isConversionRequired(query)) {
    if (isLogicCommand(query)) return encodeLogicCommand(query);
    if (isQueryCommand(query)) return encodeComparisonCommand(query);
    if (isRegExp(query)) return single(key, encodeRegExp(query));
    if (isDate(query)) return single(key, query);
    return single(key, encodeQueryObject(query));
  }
  if (isObject(query)) return encodeQueryObject(query);
  return query;
}

function encodeLogicCommand(query) {
  var $op = operatorToString(query.operator);
  switch (query.operator) {
    case LOGIC.nor:
    case LOGIC.and:
    case LOGIC.or:
      return single($op, query.operands.map(function (operand) { return encodeQuery(operand, query.fieldName); }));
    case LOGIC.not: {
      var expr = query.operands[0];
      if (isRegExp(expr)) return single(query.fieldName, single($op, encodeRegExp(expr)));
      var sub = encodeQuery(expr)[query.fieldName];
      return single(query.fieldName, single($op, sub));
    }
    default:
      if (query.operands.length === 1) return single($op, encodeQuery(query.operands[0]));
      return single($op, query.operands.map(function (o) { return encodeQuery(o); }));
  }
}

function encodeComparisonCommand(query) {
  if (query.fieldName === SYMBOL_UNSET_FIELD_NAME) throw new Error('Cannot encode a comparison command with unset field name');
  var $op = operatorToString(query.operator);
  var field = query.fieldName;
  switch (query.operator) {
    case Q.EQ:
    case Q.NEQ:
    case Q.LT:
    case Q.LTE:
    case Q.GT:
    case Q.GTE:
    case Q.ELEM_MATCH:
    case Q.EXISTS:
    case Q.SIZE:
    case Q.MOD:
      return single(field, single($op, serialize(query.operands[0])));
    case Q.IN:
    case Q.NIN:
    case Q.ALL:
      return single(field, single($op, serialize(query.operands)));
    case Q.GEO_NEAR: {
      var near = query.operands[0];
      return single(field, {
        $nearSphere: { $geometry: near.geometry.toJSON(), $maxDistance: near.maxDistance, $minDistance: near.minDistance }
      });
    }
    case Q.GEO_WITHIN: {
      var within = query.operands[0];
      if (within.centerSphere) {
        var cs = within.centerSphere;
        if (cs[0] instanceof Point) {
          return single(field, { $geoWithin: { $centerSphere: [cs[0].toJSON().coordinates, cs[1]] } });
        }
        return single(field, { $geoWithin: { $centerSphere: within.centerSphere } });
      }
      return single(field, { $geoWithin: { $geometry: within.geometry.toJSON() } });
    }
    case Q.GEO_INTERSECTS:
      return single(field, { $geoIntersects: { $geometry: query.operands[0].geometry.toJSON() } });
    default:
      return single(field, single($op, serialize(query.operands[0])));
  }
}

function encodeQueryObject(query) {
  var flattened = flattenQueryObject(query);
  for (var key in flattened) {
    var val = flattened[key];
    if (isLogicCommand(val)) {
      flattened[key] = val._setFieldName(key);
      mergeConditionQuery(flattened, encodeLogicCommand(flattened[key]), key);
    } else if (isQueryCommand(val)) {
      flattened[key] = val._setFieldName(key);
      mergeConditionQuery(flattened, encodeComparisonCommand(flattened[key]), key);
    } else if (isConversionRequired(val)) {
      flattened[key] = serialize(val);
    }
  }
  return flattened;
}

function encodeQueryEJSON(query, raw) {
  return stringifyByEJSON(raw ? query : encodeQuery(query));
}

function encodeUpdateCommand(query) {
  if (query.fieldName === SYMBOL_UNSET_FIELD_NAME) throw new Error('Cannot encode a comparison command with unset field name');
  var $op = operatorToString(query.operator);
  var field = query.fieldName;
  switch (query.operator) {
    case U.PUSH: {
      var modifiers = isArray(query.operands) ? { $each: query.operands.map(function (v) { return serialize(v); }) } : query.operands;
      return single($op, single(field, modifiers));
    }
    case U.UNSHIFT:
      return single($op, single(field, { $each: query.operands.map(function (v) { return serialize(v); }), $position: 0 }));
    case U.POP:
      return single($op, single(field, 1));
    case U.SHIFT:
      return single($op, single(field, -1));
    case U.PULL:
    case U.PULL_ALL:
    case U.ADD_TO_SET:
      return single($op, single(field, serialize(query.operands)));
    case U.REMOVE:
      return single($op, single(field, ''));
    default:
      return single($op, single(field, query.operands[0]));
  }
}

function encodeUpdate(query) {
  if (isUpdateCommand(query)) return encodeUpdateCommand(query);
  if (getType(query) === 'object') {
    var flattened = flattenQueryObject(query);
    for (var key in flattened) {
      if (/^\$/.test(key)) continue;
      var val = flattened[key];
      if (isUpdateCommand(val)) {
        flattened[key] = val._setFieldName(key);
        mergeConditionCommon(flattened, encodeUpdateCommand(flattened[key]), key);
      } else {
        flattened[key] = val = serialize(val);
        mergeConditionCommon(flattened, encodeUpdateCommand(new UpdateCommand(U.SET, [val], key)), key);
      }
    }
    return flattened;
  }
  return query;
}

function encodeUpdateEJSON(data, raw) {
  return stringifyByEJSON(raw ? data : encodeUpdate(data));
}

// ---------------------------------------------------------------------------------------------
// errors and the callback/Promise convention

var ERR_CODE = {
  SYS_ERR: -501001, SERVER_TIMEOUT: -501002, EXCEED_REQUEST_LIMIT: -501003,
  EXCEED_CONCURRENT_REQUEST_LIMIT: -501004, INVALIID_ENV: -501005, INVALID_COMMON_PARAM: -501006,
  INVALID_PARAM: -501007, INVALID_REQUEST_SOURCE: -501008, RESOURCE_NOT_INITIAL: -501009,
  DATABASE_REQUEST_FAILED: -502001, DATABASE_INVALID_OPERRATOR: -502002, DATABASE_PERMISSION_DENIED: -502003,
  DATABASE_COLLECTION_EXCEED_LIMIT: -502004, DATABASE_COLLECTION_NOT_EXIST: -502005,
  STORAGE_REQUEST_FAIL: -503001, STORAGE_EXCEED_AUTHORITY: -503002, STORAGE_FILE_NONEXIST: -503003,
  STORAGE_SIGN_PARAM_INVALID: -503004, FUNCTIONS_REQUEST_FAIL: -504001, FUNCTIONS_EXECUTE_FAIL: -504002
};
var ERR_TEXT = {
  '-1': 'unknown error',
  '-501001': 'resource system error', '-501002': 'resource server timeout', '-501003': 'exceed request limit',
  '-501004': 'exceed concurrent request limit', '-501005': 'invalid env', '-501006': 'invalid common parameters',
  '-501007': 'invalid parameters', '-501008': 'invalid request source', '-501009': 'resource not initialized',
  '-502001': 'database request fail', '-502002': 'database invalid command', '-502003': 'database permission denied',
  '-502004': 'database exceed collection limit', '-502005': 'database collection not exists',
  '-503001': 'storage request fail', '-503002': 'storage permission denied', '-503003': 'storage file not exists',
  '-503004': 'storage invalid sign parameter', '-504001': 'functions request fail', '-504002': 'functions execute fail'
};

function cloudError(errCode, errMsg) {
  var err = new Error(errMsg);
  err.errCode = errCode;
  err.errMsg = errMsg;
  return err;
}
// A failure reported by the shim: `<api>:fail <errCode> <description>. <message>`.
function backendError(api, code, message) {
  var errCode = typeof code === 'number' ? code : (ERR_CODE[code] || -1);
  return cloudError(errCode, api + ':fail ' + errCode + ' ' + (ERR_TEXT[String(errCode)] || code || '') + '. ' + (message || ''));
}
// A failure found before sending (bad arguments) or in transport: `<api>:fail <message>`.
function localError(api, message, errCode) {
  return cloudError(errCode === undefined ? -1 : errCode, api + ':fail ' + message);
}

// Run `exec` (returns a Promise). With any of success/fail/complete given, report through
// them and return undefined, as the real client does; otherwise return the Promise.
function settle(options, exec) {
  options = options || {};
  var hasCallback = typeof options.success === 'function' || typeof options.fail === 'function' ||
    typeof options.complete === 'function';
  var promise;
  try {
    promise = Promise.resolve(exec());
  } catch (e) {
    promise = Promise.reject(e);
  }
  if (!hasCallback) return promise;
  promise.then(
    function (res) {
      if (typeof options.success === 'function') options.success(res);
      if (typeof options.complete === 'function') options.complete(res);
    },
    function (err) {
      if (typeof options.fail === 'function') options.fail(err);
      if (typeof options.complete === 'function') options.complete(err);
    }
  );
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// transport: POST <url>/client with the /admin action envelope

// Sign-in (a shim started with --secret): a request the shim answers with HTTP 401 /
// UNAUTHENTICATED (no session token where a user is needed, or an expired one) makes the
// adapter sign in: wx.login(), then POST <url>/client/signin {code} for a session token, which
// later requests carry as `authorization: Bearer <token>`; the refused request is sent again
// once. Concurrent refusals share one sign-in. Against a shim in development mode nothing of
// this happens: it never answers 401.

function Transport(conf) {
  this.conf = conf;
  this.signingIn = null;
}
hide(Transport.prototype, 'send', function (api, action, params, envOverride) {
  var self = this;
  var conf = this.conf;
  var body = { action: action, envName: envOverride || conf.env || '' };
  assign(body, params);
  filterUndefined(body);
  var data = JSON.stringify(body);
  var header = { 'content-type': 'application/json' };
  if (conf.openid) header['x-wx-openid'] = conf.openid;
  if (conf.appid) header['x-wx-appid'] = conf.appid;
  if (conf.env) header['x-wx-env'] = envOverride || conf.env;
  var sentWith = conf.token;
  return self._post(api, data, header).catch(function (err) {
    if (!err || err.shimCode !== 'UNAUTHENTICATED' || conf.signIn === false) throw err;
    // Another request may have signed in since this one was sent.
    var ready = conf.token && conf.token !== sentWith ? Promise.resolve() : self.signIn(api);
    return ready.then(function () { return self._post(api, data, header); });
  });
});
// Sign in (once for all the requests waiting on it): wx.login, then the code for a token.
hide(Transport.prototype, 'signIn', function (api) {
  var self = this;
  var conf = this.conf;
  if (self.signingIn) return self.signingIn;
  self.signingIn = new Promise(function (resolve, reject) {
    conf.token = '';
    conf.wx.login({
      success: function (res) { resolve(res && res.code); },
      fail: function (res) {
        reject(localError(api, 'sign-in: wx.login failed: ' + (res && res.errMsg ? res.errMsg : 'no code')));
      }
    });
  }).then(function (code) {
    if (!code) throw localError(api, 'sign-in: wx.login gave no code');
    return new Promise(function (resolve, reject) {
      conf.wx.request({
        url: conf.url + '/client/signin',
        method: 'POST',
        header: { 'content-type': 'application/json' },
        data: JSON.stringify({ code: code }),
        dataType: 'json',
        responseType: 'text',
        success: function (res) {
          var data = res.data;
          if (typeof data === 'string') {
            try { data = JSON.parse(data); } catch (e) { data = null; }
          }
          if (data && data.data && data.data.token) {
            conf.token = data.data.token;
            resolve();
          } else {
            reject(localError(api, 'sign-in failed: ' + ((data && (data.message || data.code)) || ('HTTP ' + res.statusCode))));
          }
        },
        fail: function (res) {
          reject(localError(api, 'sign-in: request to the shim failed: ' + (res && res.errMsg ? res.errMsg : 'network error')));
        }
      });
    });
  });
  var done = function () { self.signingIn = null; };
  self.signingIn.then(done, done);
  return self.signingIn;
});
// One POST of an action body; rejects with the shim's error (its `code` kept on the error).
hide(Transport.prototype, '_post', function (api, data, baseHeader) {
  var conf = this.conf;
  var header = assign({}, baseHeader);
  if (conf.token) header.authorization = 'Bearer ' + conf.token;
  return new Promise(function (resolve, reject) {
    conf.wx.request({
      url: conf.url + '/client',
      method: 'POST',
      header: header,
      data: data,
      dataType: 'json',
      responseType: 'text',
      success: function (res) {
        var data = res.data;
        if (typeof data === 'string') {
          try {
            data = JSON.parse(data);
          } catch (e) {
            reject(localError(api, 'bad response from the shim (HTTP ' + res.statusCode + '): ' + String(res.data).slice(0, 200)));
            return;
          }
        }
        if (!data || typeof data !== 'object') {
          reject(localError(api, 'empty response from the shim (HTTP ' + res.statusCode + ')'));
        } else if (data.code) {
          var err = backendError(api, data.code, data.message);
          err.requestId = data.requestId;
          hide(err, 'shimCode', data.code);
          reject(err);
        } else if (res.statusCode && res.statusCode !== 200) {
          reject(localError(api, 'the shim answered HTTP ' + res.statusCode));
        } else {
          resolve(data);
        }
      },
      fail: function (res) {
        reject(localError(api, 'request to the shim failed: ' + (res && res.errMsg ? res.errMsg : 'network error')));
      }
    });
  });
});

// ---------------------------------------------------------------------------------------------
// database (client flavour: limit ≤ 20, `{data}` wrappers, errMsg strings)

var CLIENT_MAX_LIMIT = 20;
var DEFAULT_WATCH_INTERVAL = 1000;

function Database(transport, config) {
  this._transport = transport;
  this.config = config || {};
  this.command = makeCommand();
  this.Geo = { Point: Point, LineString: LineString, Polygon: Polygon, MultiPoint: MultiPoint, MultiLineString: MultiLineString, MultiPolygon: MultiPolygon };
}
hide(Database.prototype, 'collection', function (name) {
  if (!name) throw new Error('Collection name is required');
  return new CollectionReference(this, name);
});
hide(Database.prototype, 'serverDate', function (opt) {
  return new ServerDate(opt);
});
hide(Database.prototype, 'RegExp', function (opt) {
  return new DbRegExp(opt);
});
hide(Database.prototype, 'ObjectId', function (opt) {
  return new ObjectId(opt);
});
hide(Database.prototype, '_send', function (api, action, params) {
  return this._transport.send(api, action, params, this.config.env);
});

function isInteger(name, v) {
  if (!isNumber(v) || Math.floor(v) !== v) throw new Error(name + ' must be an integer');
}

function Query(db, coll, fieldFilters, apiOptions) {
  this._db = db;
  this._coll = coll;
  this._fieldFilters = fieldFilters;
  this._apiOptions = apiOptions || {};
}
hide(Query.prototype, 'where', function (query) {
  if (getType(query) !== 'object') throw new Error('query should be an object');
  var keys = Object.keys(query);
  var defined = keys.some(function (k) { return query[k] !== undefined; });
  if (keys.length && !defined) throw new Error('query cannot have only undefined values');
  return new this.constructor(this._db, this._coll, encodeQueryEJSON(query, this._apiOptions.raw || false), this._apiOptions);
});
hide(Query.prototype, 'orderBy', function (fieldPath, direction) {
  if (!isString(fieldPath) || !fieldPath) throw new Error('fieldPath must be a non-empty string');
  if (direction !== 'asc' && direction !== 'desc') throw new Error('direction must be "asc" or "desc"');
  var order = assign({}, this._apiOptions.order || {}, single(fieldPath, direction === 'desc' ? -1 : 1));
  return new this.constructor(this._db, this._coll, this._fieldFilters, assign({}, this._apiOptions, { order: order }));
});
hide(Query.prototype, 'limit', function (n) {
  isInteger('limit', n);
  return new this.constructor(this._db, this._coll, this._fieldFilters, assign({}, this._apiOptions, { limit: n }));
});
hide(Query.prototype, 'skip', function (n) {
  isInteger('offset', n);
  return new this.constructor(this._db, this._coll, this._fieldFilters, assign({}, this._apiOptions, { offset: n }));
});
hide(Query.prototype, 'field', function (projection) {
  return new this.constructor(this._db, this._coll, this._fieldFilters, assign({}, this._apiOptions, { projection: transformProjection(projection) }));
});
hide(Query.prototype, 'get', function (options) {
  var self = this;
  return settle(options, function () {
    var o = self._apiOptions;
    var param = { collectionName: self._coll, queryType: 'WHERE' };
    if (self._fieldFilters) param.query = self._fieldFilters;
    if (o.order) param.order = stringifyByEJSON(o.order);
    if (o.offset) param.offset = o.offset;
    param.limit = o.limit ? Math.min(o.limit, CLIENT_MAX_LIMIT) : CLIENT_MAX_LIMIT;
    if (o.projection) param.projection = stringifyByEJSON(o.projection);
    return self._db._send('collection.get', 'database.getDocument', param).then(function (res) {
      return { data: (res.data.list || []).map(parseDocument), errMsg: 'collection.get:ok' };
    });
  });
});
hide(Query.prototype, 'count', function (options) {
  var self = this;
  return settle(options, function () {
    var param = { collectionName: self._coll, queryType: 'WHERE' };
    if (self._fieldFilters) param.query = self._fieldFilters;
    return self._db._send('collection.count', 'database.calculateDocument', param).then(function (res) {
      return { total: res.data.total, errMsg: 'collection.count:ok' };
    });
  });
});
hide(Query.prototype, 'update', function (options) {
  var self = this;
  options = options || {};
  return settle(options, function () {
    var data = options.data;
    if (!data || typeof data !== 'object') throw localError('collection.update', 'data should be a non-empty object');
    if (hasOwn(data, '_id')) throw localError('collection.update', 'data must not contain _id');
    var multiple = self._apiOptions.multiple;
    var param = {
      collectionName: self._coll,
      queryType: 'WHERE',
      multi: multiple === undefined ? true : multiple,
      merge: true,
      upsert: false,
      data: encodeUpdateEJSON(data, self._apiOptions.raw || false)
    };
    if (self._fieldFilters) param.query = self._fieldFilters;
    return self._db._send('collection.update', 'database.modifyDocument', param).then(function (res) {
      return { stats: { updated: res.data.updated }, errMsg: 'collection.update:ok' };
    });
  });
});
hide(Query.prototype, 'remove', function (options) {
  var self = this;
  return settle(options, function () {
    var multiple = self._apiOptions.multiple;
    var param = {
      collectionName: self._coll,
      query: self._fieldFilters,
      queryType: 'WHERE',
      multi: multiple === undefined ? true : multiple
    };
    return self._db._send('collection.remove', 'database.removeDocument', param).then(function (res) {
      return { stats: { removed: res.data.deleted }, errMsg: 'collection.remove:ok' };
    });
  });
});

// Realtime `watch()`, emulated by polling `get()` (the real client keeps a WebSocket to the
// backend; the shim has none). Snapshots have the real shape: `{id, type?: 'init', docs,
// docChanges: [{id, dataType, queueType, docId, doc}]}`, with `dataType` 'init' | 'add' |
// 'update' | 'remove'. Only changes are reported after the first snapshot.
function pollingWatch(query, options, interval) {
  options = options || {};
  if (typeof options.onChange !== 'function') throw new Error('watch: options.onChange must be a function');
  var closed = false;
  var timer = null;
  var seq = 0;
  var known = null; // _id -> {json, doc}
  function idOf(doc) {
    return typeof doc._id === 'string' ? doc._id : JSON.stringify(doc._id);
  }
  function emit(changes, docs, first) {
    var id = seq++;
    for (var i = 0; i < changes.length; i++) changes[i].id = id;
    var snapshot = { id: id, docChanges: changes, docs: docs };
    if (first) snapshot.type = 'init';
    options.onChange(snapshot);
  }
  function poll() {
    if (closed) return;
    query.get().then(function (res) {
      if (closed) return;
      var docs = res.data;
      var now = {};
      var changes = [];
      for (var i = 0; i < docs.length; i++) {
        var d = docs[i];
        var k = idOf(d);
        now[k] = { json: JSON.stringify(d), doc: d };
        if (known === null) {
          changes.push({ dataType: 'init', queueType: 'init', docId: d._id, doc: d });
        } else if (!hasOwn(known, k)) {
          changes.push({ dataType: 'add', queueType: 'enqueue', docId: d._id, doc: d });
        } else if (known[k].json !== now[k].json) {
          changes.push({ dataType: 'update', queueType: 'update', docId: d._id, doc: d });
        }
      }
      if (known !== null) {
        for (var old in known) {
          if (hasOwn(known, old) && !hasOwn(now, old)) {
            changes.push({ dataType: 'remove', queueType: 'dequeue', docId: known[old].doc._id, doc: known[old].doc });
          }
        }
      }
      var first = known === null;
      known = now;
      if (first || changes.length) emit(changes, docs, first);
      if (!closed) timer = setTimeout(poll, interval);
    }, function (err) {
      if (closed) return;
      closed = true;
      if (typeof options.onError === 'function') options.onError(err);
    });
  }
  poll();
  return {
    close: function () {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      return Promise.resolve();
    }
  };
}
hide(Query.prototype, 'watch', function (options) {
  return pollingWatch(this, options, this._db.config.watchInterval || DEFAULT_WATCH_INTERVAL);
});

function transformProjection(projection) {
  var out = {};
  for (var k in projection) {
    if (typeof projection[k] === 'boolean') out[k] = projection[k] === true ? 1 : 0;
    if (typeof projection[k] === 'number') out[k] = projection[k] > 0 ? 1 : 0;
    if (typeof projection[k] === 'object') out[k] = projection[k];
  }
  return out;
}

function CollectionReference(db, coll, apiOptions) {
  Query.call(this, db, coll, '', apiOptions);
}
inherit(CollectionReference, Query);
Object.defineProperty(CollectionReference.prototype, 'collectionName', {
  get: function () { return this._coll; },
  enumerable: false
});
// Builders derived from a collection are plain queries.
hide(CollectionReference.prototype, 'constructor', Query);
hide(CollectionReference.prototype, 'doc', function (id) {
  if (typeof id !== 'string' && typeof id !== 'number') throw new Error('docId must be a string or a number');
  return new DocumentReference(this._db, this._coll, id);
});
hide(CollectionReference.prototype, 'add', function (options) {
  var self = this;
  options = options || {};
  return settle(options, function () {
    var data = options.data;
    if (!data || typeof data !== 'object' || isArray(data)) throw localError('collection.add', 'data should be an object');
    var param = { collectionName: self._coll, data: [stringifyByEJSON(serialize(data))] };
    return self._db._send('collection.add', 'database.insertDocument', param).then(function (res) {
      return { _id: res.data.insertedIds[0], errMsg: 'collection.add:ok' };
    });
  });
});
hide(CollectionReference.prototype, 'aggregate', function () {
  return new Aggregation(this._db, this._coll);
});

function DocumentReference(db, coll, id, projection) {
  this._db = db;
  this._coll = coll;
  this.id = id;
  this._projection = projection;
}
hide(DocumentReference.prototype, 'field', function (projection) {
  return new DocumentReference(this._db, this._coll, this.id, transformProjection(projection));
});
hide(DocumentReference.prototype, 'get', function (options) {
  var self = this;
  return settle(options, function () {
    var param = {
      collectionName: self._coll,
      query: stringifyByEJSON({ _id: self.id }),
      queryType: 'DOC',
      multi: false
    };
    if (self._projection) param.projection = stringifyByEJSON(self._projection);
    return self._db._send('document.get', 'database.getDocument', param).then(function (res) {
      var list = res.data.list || [];
      if (!list.length) {
        throw localError('document.get', 'document with _id ' + self.id + ' does not exist');
      }
      return { data: parseDocument(list[0]), errMsg: 'document.get:ok' };
    });
  });
});
hide(DocumentReference.prototype, 'set', function (options) {
  var self = this;
  options = options || {};
  return settle(options, function () {
    var data = options.data;
    if (!data || typeof data !== 'object') throw localError('document.set', 'data should be a non-empty object');
    if (hasOwn(data, '_id')) throw localError('document.set', 'data must not contain _id');
    if (containsUpdateCommand(data)) {
      throw localError('document.set', 'update operator complicit', ERR_CODE.DATABASE_REQUEST_FAILED);
    }
    var param = {
      collectionName: self._coll,
      queryType: 'DOC',
      data: stringifyByEJSON(serialize(data)),
      multi: false,
      merge: false,
      upsert: true,
      query: stringifyByEJSON({ _id: self.id })
    };
    return self._db._send('document.set', 'database.modifyDocument', param).then(function (res) {
      var updated = res.data.updated || 0;
      var created = res.data.upsert_id && !updated ? 1 : 0;
      return {
        _id: res.data.upsert_id || self.id,
        stats: { updated: updated, created: created },
        errMsg: 'document.set:ok'
      };
    });
  });
});
function containsUpdateCommand(o) {
  for (var k in o) {
    if (o[k] instanceof UpdateCommand) return true;
    if (o[k] && typeof o[k] === 'object' && containsUpdateCommand(o[k])) return true;
  }
  return false;
}
hide(DocumentReference.prototype, 'update', function (options) {
  var self = this;
  options = options || {};
  return settle(options, function () {
    var data = options.data;
    if (!data || typeof data !== 'object') throw localError('document.update', 'data should be a non-empty object');
    if (hasOwn(data, '_id')) throw localError('document.update', 'data must not contain _id');
    var param = {
      collectionName: self._coll,
      data: encodeUpdateEJSON(data, false),
      query: stringifyByEJSON({ _id: self.id }),
      queryType: 'DOC',
      multi: false,
      merge: true,
      upsert: false
    };
    return self._db._send('document.update', 'database.modifyDocument', param).then(function (res) {
      return { stats: { updated: res.data.updated }, errMsg: 'document.update:ok' };
    });
  });
});
hide(DocumentReference.prototype, 'watch', function (options) {
  var q = new Query(this._db, this._coll, encodeQueryEJSON({ _id: this.id }, false), {});
  return q.watch(options);
});
hide(DocumentReference.prototype, 'remove', function (options) {
  var self = this;
  return settle(options, function () {
    var param = {
      collectionName: self._coll,
      query: stringifyByEJSON({ _id: self.id }),
      queryType: 'DOC',
      multi: false
    };
    return self._db._send('document.remove', 'database.removeDocument', param).then(function (res) {
      return { stats: { removed: res.data.deleted }, errMsg: 'document.remove:ok' };
    });
  });
});

// aggregate.ts
function Aggregation(db, coll) {
  this._db = db;
  this._coll = coll;
  this._stages = [];
}
hide(Aggregation.prototype, '_pipe', function (stage, param) {
  this._stages.push({
    stageKey: '$' + stage,
    stageValue: getType(param) === 'object' ? stringifyByEJSON(param) : JSON.stringify(param)
  });
  return this;
});
['addFields', 'bucket', 'bucketAuto', 'count', 'group', 'limit', 'project', 'lookup', 'replaceRoot', 'sample',
  'skip', 'sort', 'sortByCount', 'unwind'].forEach(function (stage) {
  hide(Aggregation.prototype, stage, function (param) {
    return this._pipe(stage, param);
  });
});
hide(Aggregation.prototype, 'unwrap', function () {
  return this._stages;
});
// For `lookup({pipeline: $.pipeline().match(...).done()})`.
hide(Aggregation.prototype, 'done', function () {
  return this._stages.map(function (s) {
    return single(s.stageKey, JSON.parse(s.stageValue));
  });
});
hide(Aggregation.prototype, 'match', function (param) {
  return this._pipe('match', encodeQuery(param));
});
hide(Aggregation.prototype, 'geoNear', function (param) {
  if (param.query) param.query = encodeQuery(param.query);
  if (param.near) param.near = new Point(param.near.longitude, param.near.latitude).toJSON();
  return this._pipe('geoNear', param);
});
hide(Aggregation.prototype, 'end', function (options) {
  var self = this;
  return settle(options, function () {
    if (!self._db || !self._coll) throw new Error('Aggregation pipeline cannot send request');
    var param = { collectionName: self._coll, stages: self._stages };
    return self._db._send('collection.aggregate', 'database.aggregateDocuments', param).then(function (res) {
      return { list: (res.data.list || []).map(parseDocument), errMsg: 'collection.aggregate:ok' };
    });
  });
});

// ---------------------------------------------------------------------------------------------
// functions and storage

function envOf(conf, options, service) {
  var env = options && options.config && options.config.env;
  if (!env) env = conf.initEnv;
  if (env && typeof env === 'object') env = env[service];
  return env || conf.env;
}

function callFunction(conf, transport, options) {
  options = options || {};
  var api = 'cloud.callFunction';
  return settle(options, function () {
    if (!options.name || typeof options.name !== 'string') throw localError(api, 'parameter.name should be a non-empty string');
    var requestData = options.data === undefined ? '' : JSON.stringify(options.data);
    var params = { function_name: options.name, request_data: requestData };
    return transport.send(api, 'functions.invokeFunction', params, envOf(conf, options, 'functions')).then(
      function (res) {
        var result = res.data.response_data;
        if (typeof result === 'string') {
          try {
            result = JSON.parse(result);
          } catch (e) {
            // not JSON: hand it over as text, as the SDK does
          }
        }
        return { result: result, requestID: res.requestId, errMsg: 'cloud.callFunction:ok' };
      },
      function (err) {
        // What the real client reports for a failing function (cloud-api.md §1.2).
        if (err.errCode === ERR_CODE.FUNCTIONS_EXECUTE_FAIL) {
          var message = String(err.errMsg).replace(/^cloud\.callFunction:fail -504002 functions execute fail\. /, '');
          var e = cloudError(-404011, 'cloud.callFunction:fail requestID ' + (err.requestId || '') +
            ', cloud function service error code -504002, error message ' + message);
          e.requestID = err.requestId;
          throw e;
        }
        throw err;
      }
    );
  });
}

// A stand-in for the UploadTask/DownloadTask the real API returns in callback style: the
// real wx task exists only once the shim answered, so listeners are queued until then.
function LazyTask() {
  this._task = null;
  this._queued = [];
  this._aborted = false;
}
hide(LazyTask.prototype, '_attach', function (task) {
  this._task = task;
  if (this._aborted && task && task.abort) task.abort();
  for (var i = 0; i < this._queued.length; i++) {
    var q = this._queued[i];
    if (task && typeof task[q[0]] === 'function') task[q[0]](q[1]);
  }
  this._queued = [];
});
['onProgressUpdate', 'offProgressUpdate', 'onHeadersReceived', 'offHeadersReceived'].forEach(function (name) {
  hide(LazyTask.prototype, name, function (cb) {
    if (this._task && typeof this._task[name] === 'function') this._task[name](cb);
    else this._queued.push([name, cb]);
  });
});
hide(LazyTask.prototype, 'abort', function () {
  this._aborted = true;
  if (this._task && this._task.abort) this._task.abort();
});

function hasCallbacks(o) {
  return !!o && (typeof o.success === 'function' || typeof o.fail === 'function' || typeof o.complete === 'function');
}

function uploadFile(conf, transport, options) {
  options = options || {};
  var api = 'cloud.uploadFile';
  var task = new LazyTask();
  var ret = settle(options, function () {
    if (!options.cloudPath || typeof options.cloudPath !== 'string') throw localError(api, 'parameter.cloudPath should be a non-empty string');
    if (!options.filePath || typeof options.filePath !== 'string') throw localError(api, 'parameter.filePath should be a non-empty string');
    return transport.send(api, 'storage.getUploadMetadata', { path: options.cloudPath }, envOf(conf, options, 'storage')).then(function (res) {
      var meta = res.data || {};
      return new Promise(function (resolve, reject) {
        var t = conf.wx.uploadFile({
          url: meta.url,
          filePath: options.filePath,
          name: 'file',
          header: options.header,
          formData: {
            key: options.cloudPath,
            Signature: meta.authorization,
            'x-cos-security-token': meta.token,
            'x-cos-meta-fileid': meta.cosFileId,
            success_action_status: '200'
          },
          success: function (r) {
            var status = r.statusCode;
            var text = typeof r.data === 'string' ? r.data : '';
            if ((status && (status < 200 || status >= 300)) || /<Error>/.test(text)) {
              var m = /<Message>([\s\S]*?)<\/Message>/.exec(text);
              reject(localError(api, 'upload failed (HTTP ' + status + ')' + (m ? ': ' + m[1] : ''), ERR_CODE.STORAGE_REQUEST_FAIL));
              return;
            }
            resolve({ fileID: meta.fileId, statusCode: status || 200, errMsg: 'cloud.uploadFile:ok' });
          },
          fail: function (r) {
            reject(localError(api, (r && r.errMsg) || 'upload failed', ERR_CODE.STORAGE_REQUEST_FAIL));
          }
        });
        task._attach(t);
      });
    });
  });
  return hasCallbacks(options) ? task : ret;
}

function downloadFile(conf, transport, options) {
  options = options || {};
  var api = 'cloud.downloadFile';
  var task = new LazyTask();
  var ret = settle(options, function () {
    if (!options.fileID || typeof options.fileID !== 'string') throw localError(api, 'parameter.fileID should be a non-empty string');
    var params = { file_list: [{ fileid: options.fileID, max_age: 600 }] };
    return transport.send(api, 'storage.batchGetDownloadUrl', params, envOf(conf, options, 'storage')).then(function (res) {
      var item = ((res.data && res.data.download_list) || [])[0];
      if (!item || (item.code && item.code !== 'SUCCESS')) {
        var code = item ? item.code : 'STORAGE_FILE_NONEXIST';
        throw backendError(api, code, (item && item.message) || options.fileID);
      }
      return new Promise(function (resolve, reject) {
        var t = conf.wx.downloadFile({
          url: item.tempFileURL || item.download_url,
          header: options.header,
          success: function (r) {
            if (r.statusCode && (r.statusCode < 200 || r.statusCode >= 300)) {
              reject(localError(api, 'download failed (HTTP ' + r.statusCode + ')', ERR_CODE.STORAGE_REQUEST_FAIL));
              return;
            }
            resolve({ tempFilePath: r.tempFilePath, statusCode: r.statusCode || 200, errMsg: 'cloud.downloadFile:ok' });
          },
          fail: function (r) {
            reject(localError(api, (r && r.errMsg) || 'download failed', ERR_CODE.STORAGE_REQUEST_FAIL));
          }
        });
        task._attach(t);
      });
    });
  });
  return hasCallbacks(options) ? task : ret;
}

var MAX_FILES_PER_CALL = 50;

function getTempFileURL(conf, transport, options) {
  options = options || {};
  var api = 'cloud.getTempFileURL';
  return settle(options, function () {
    var list = options.fileList;
    if (!isArray(list) || !list.length) throw localError(api, 'parameter.fileList should be a non-empty array');
    if (list.length > MAX_FILES_PER_CALL) throw localError(api, 'fileList length must not exceed ' + MAX_FILES_PER_CALL);
    var fileList = list.map(function (f) {
      if (isString(f)) return { fileid: f };
      if (f && isString(f.fileID)) return f.maxAge === undefined ? { fileid: f.fileID } : { fileid: f.fileID, max_age: f.maxAge };
      throw localError(api, 'fileList items should be fileID strings or {fileID, maxAge}');
    });
    return transport.send(api, 'storage.batchGetDownloadUrl', { file_list: fileList }, envOf(conf, options, 'storage')).then(function (res) {
      var items = (res.data && res.data.download_list) || [];
      return {
        fileList: items.map(function (it) {
          var ok = !it.code || it.code === 'SUCCESS';
          var out = { fileID: it.fileID, tempFileURL: ok ? (it.tempFileURL || it.download_url || '') : '' };
          if (it.maxAge !== undefined) out.maxAge = it.maxAge;
          out.status = ok ? 0 : (ERR_CODE[it.code] || -1);
          out.errMsg = ok ? 'ok' : (it.message || it.code);
          return out;
        }),
        errMsg: 'cloud.getTempFileURL:ok'
      };
    });
  });
}

function deleteFile(conf, transport, options) {
  options = options || {};
  var api = 'cloud.deleteFile';
  return settle(options, function () {
    var list = options.fileList;
    if (!isArray(list) || !list.length) throw localError(api, 'parameter.fileList should be a non-empty array');
    if (list.length > MAX_FILES_PER_CALL) throw localError(api, 'fileList length must not exceed ' + MAX_FILES_PER_CALL);
    for (var i = 0; i < list.length; i++) {
      if (!isString(list[i])) throw localError(api, 'fileList items should be fileID strings');
    }
    return transport.send(api, 'storage.batchDeleteFile', { fileid_list: list }, envOf(conf, options, 'storage')).then(function (res) {
      var items = (res.data && res.data.delete_list) || [];
      return {
        fileList: items.map(function (it) {
          var ok = !it.code || it.code === 'SUCCESS';
          return { fileID: it.fileID, status: ok ? 0 : (ERR_CODE[it.code] || -1), errMsg: ok ? 'ok' : (it.message || it.code) };
        }),
        errMsg: 'cloud.deleteFile:ok'
      };
    });
  });
}

// ---------------------------------------------------------------------------------------------
// install

function install(opts) {
  opts = opts || {};
  var wxObj = opts.wx || (typeof wx !== 'undefined' ? wx : null); // eslint-disable-line no-undef
  if (!wxObj) throw new Error('wx-cloud-shim: no wx object to install into');
  if (!opts.url) throw new Error('wx-cloud-shim: the url of the shim is required');
  var conf = {
    wx: wxObj,
    url: String(opts.url).replace(/\/+$/, ''),
    openid: opts.openid || '',
    appid: opts.appid || '',
    env: opts.env || '',
    // false: never sign in (a 401 is reported to the caller as it is).
    signIn: opts.signIn,
    token: '',
    initEnv: null,
    watchInterval: opts.watchInterval || DEFAULT_WATCH_INTERVAL
  };
  var transport = new Transport(conf);
  if (!wxObj.cloud) wxObj.cloud = {};
  var cloud = wxObj.cloud;
  var original = {};
  var api = {
    init: function (options) {
      if (options && options.env) conf.initEnv = options.env;
    },
    database: function (config) {
      var env = (config && config.env) || conf.initEnv;
      if (env && typeof env === 'object') env = env.database;
      return new Database(transport, { env: env || conf.env, watchInterval: conf.watchInterval });
    },
    callFunction: function (o) { return callFunction(conf, transport, o); },
    uploadFile: function (o) { return uploadFile(conf, transport, o); },
    downloadFile: function (o) { return downloadFile(conf, transport, o); },
    getTempFileURL: function (o) { return getTempFileURL(conf, transport, o); },
    deleteFile: function (o) { return deleteFile(conf, transport, o); }
  };
  Object.keys(api).forEach(function (name) {
    original[name] = cloud[name];
    cloud[name] = api[name];
  });
  return {
    /** Put the original wx.cloud methods back. */
    uninstall: function () {
      Object.keys(original).forEach(function (name) {
        if (original[name] === undefined) delete cloud[name];
        else cloud[name] = original[name];
      });
    }
  };
}

module.exports = {
  install: install,
  // Exposed for tests and for the generated runtime; not part of wx.cloud.
  _internal: {
    stringifyByEJSON: stringifyByEJSON,
    encodeQueryEJSON: encodeQueryEJSON,
    encodeUpdateEJSON: encodeUpdateEJSON,
    serialize: serialize,
    parseDocument: parseDocument,
    makeCommand: makeCommand,
    Database: Database
  }
};
