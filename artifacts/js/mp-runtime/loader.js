// loader.js: the app's modules, evaluated the way the client evaluates them.
//
// One `vm` context per run. Each file is compiled as
//   (function (require, module, exports, __mp_interop) { <file> })
// with the file name relative to the mini-program root, so stack traces read
// `pages/index/index.js:12:5`. `App`, `Page`, `Component`, `Behavior`, `getApp`,
// `getCurrentPages`, `wx`, `global` and `globalThis` are globals of the context, as on the
// client, so a module may declare its own (`const wx = require('./mock-wx.js')` is legal
// there and here; as wrapper parameters it would be a SyntaxError). ES module syntax is
// turned into CommonJS first (./esm.js).
//
// `require(spec)` from a file resolves, in this order:
//   './x', '../x'       relative to the file
//   '/x'                from the mini-program root
//   an app.json `resolveAlias` pattern ('@utils/*' → 'utils/*')
//   'name', 'name/sub'  miniprogram_npm/<name> in the file's folder or any parent up to the
//                       root (package.json `main`, then index.js), then, as the client does,
//                       relative to the file
// and each candidate as given, then + '.js', + '.json', then as a folder with index.js.
// A path that only exists as .ts is an error that says so: TypeScript must be built first.
// Modules are cached per resolved file, as on the client (a page's file runs once per run
// even when the page is opened twice).
'use strict';

var fs = require('fs');
var path = require('path');
var vm = require('vm');
var esm = require('./esm.js');

var WRAPPER_PARAMS = ['require', 'module', 'exports', '__mp_interop'];

function isFile(p) {
  try {
    return fs.statSync(p).isFile();
  } catch (e) {
    return false;
  }
}
function isDir(p) {
  try {
    return fs.statSync(p).isDirectory();
  } catch (e) {
    return false;
  }
}

// `{ '@utils/*': 'utils/*' }` → a function from a spec to a root-relative path, or null.
function aliasResolver(aliases) {
  var rules = Object.keys(aliases || {}).map(function (key) {
    var value = String(aliases[key]);
    var star = key.indexOf('*');
    return {
      prefix: star < 0 ? key : key.slice(0, star),
      exact: star < 0,
      target: value.replace(/^\/+/, '').replace(/\*$/, '')
    };
  });
  return function (spec) {
    for (var i = 0; i < rules.length; i++) {
      var r = rules[i];
      if (r.exact ? spec === r.prefix : spec.indexOf(r.prefix) === 0) {
        return r.exact ? r.target : r.target + spec.slice(r.prefix.length);
      }
    }
    return null;
  };
}

// `host` provides { JSON } (the context's) plus optional hooks onModuleStart(abs, rel) /
// onModuleEnd(abs, rel).
function Loader(options) {
  this.root = options.root;                 // absolute mini-program root
  this.context = options.context;           // vm context
  this.host = options.host;
  this.alias = aliasResolver(options.resolveAlias);
  this.cache = Object.create(null);          // absolute path → module
  this.stack = [];                           // files being evaluated, innermost last
  this.files = Object.create(null);          // relative names of the files loaded
}

Loader.prototype.relative = function (abs) {
  return path.relative(this.root, abs).split(path.sep).join('/');
};

// A file for `base` (absolute, no guessing of its kind yet), or null.
Loader.prototype._tryFile = function (base) {
  var candidates = [base, base + '.js', base + '.json'];
  for (var i = 0; i < candidates.length; i++) {
    if (isFile(candidates[i]) && !/\.ts$/.test(candidates[i])) return candidates[i];
  }
  if (isDir(base)) {
    var pkg = path.join(base, 'package.json');
    if (isFile(pkg)) {
      try {
        var main = JSON.parse(fs.readFileSync(pkg, 'utf8')).main;
        if (main) {
          var m = this._tryFile(path.join(base, main));
          if (m) return m;
        }
      } catch (e) {
        // a broken package.json: fall back to index.js
      }
    }
    if (isFile(path.join(base, 'index.js'))) return path.join(base, 'index.js');
  }
  if (isFile(base + '.ts') || isFile(path.join(base, 'index.ts')) || (isFile(base) && /\.ts$/.test(base))) {
    var e = new Error('cannot load TypeScript module ' + this.relative(base) + ': build the app to JavaScript first (the runtime does not compile .ts)');
    e.code = 'MP_TYPESCRIPT';
    throw e;
  }
  return null;
};

Loader.prototype._inside = function (abs) {
  var rel = path.relative(this.root, abs);
  return rel === '' || (rel.split(path.sep)[0] !== '..' && !path.isAbsolute(rel));
};

// Resolve `spec` required from the file `fromFile` (absolute). Throws "module not found".
Loader.prototype.resolve = function (spec, fromFile) {
  var dir = fromFile ? path.dirname(fromFile) : this.root;
  var found = null;
  if (typeof spec !== 'string' || !spec) throw new Error('require: bad module name ' + JSON.stringify(spec));
  if (spec.charAt(0) === '.') {
    found = this._tryFile(path.resolve(dir, spec));
  } else if (spec.charAt(0) === '/') {
    found = this._tryFile(path.join(this.root, spec));
  } else {
    var aliased = this.alias(spec);
    if (aliased !== null) found = this._tryFile(path.join(this.root, aliased));
    if (!found) {
      // miniprogram_npm next to the file or in any parent folder up to the root
      for (var d = dir; this._inside(d); d = path.dirname(d)) {
        found = this._tryFile(path.join(d, 'miniprogram_npm', spec));
        if (found || d === this.root) break;
      }
    }
    if (!found) found = this._tryFile(path.resolve(dir, spec));
  }
  if (!found) {
    var err = new Error("module '" + spec + "' is not defined, require args is '" + spec + "'" +
      (fromFile ? ' (from ' + this.relative(fromFile) + ')' : ''));
    err.code = 'MODULE_NOT_FOUND';
    throw err;
  }
  if (!this._inside(found)) throw new Error('require: ' + spec + ' resolves outside the mini-program root');
  return found;
};

Loader.prototype.require = function (spec, fromFile) {
  return this.load(this.resolve(spec, fromFile));
};

Loader.prototype.load = function (abs) {
  var cached = this.cache[abs];
  if (cached) return cached.exports;
  var rel = this.relative(abs);
  var JSONc = this.host.JSON;
  var module = { id: rel, filename: rel, exports: {}, loaded: false };
  // Objects the module sees should come from the context's realm.
  module.exports = vm.runInContext('({})', this.context);
  this.cache[abs] = module;
  this.files[rel] = true;
  var src = fs.readFileSync(abs, 'utf8');
  if (/\.json$/.test(abs)) {
    try {
      module.exports = JSONc.parse(src.replace(/^\uFEFF/, ''));
    } catch (e) {
      delete this.cache[abs];
      throw new Error('bad JSON in ' + rel + ': ' + e.message);
    }
    module.loaded = true;
    return module.exports;
  }
  var code = esm.transform(src.replace(/^\uFEFF/, '').replace(/^#!.*/, '')).code;
  var self = this;
  var fn;
  try {
    fn = new vm.Script('(function (' + WRAPPER_PARAMS.join(', ') + ') {' + code + '\n})', { filename: rel }).runInContext(this.context);
  } catch (e) {
    delete this.cache[abs];
    throw e;
  }
  var localRequire = function (spec) { return self.require(spec, abs); };
  localRequire.resolve = function (spec) { return self.relative(self.resolve(spec, abs)); };
  localRequire.cache = this.cache;
  var h = this.host;
  this.stack.push(abs);
  if (h.onModuleStart) h.onModuleStart(abs, rel);
  try {
    fn.call(module.exports, localRequire, module, module.exports, esm.interop);
    module.loaded = true;
  } catch (e) {
    // The client keeps a module that threw out of its registry too: the next require retries.
    delete this.cache[abs];
    throw e;
  } finally {
    this.stack.pop();
    if (h.onModuleEnd) h.onModuleEnd(abs, rel);
  }
  return module.exports;
};

// The file being evaluated right now (absolute), or null.
Loader.prototype.current = function () {
  return this.stack.length ? this.stack[this.stack.length - 1] : null;
};

module.exports = { Loader: Loader, aliasResolver: aliasResolver };
