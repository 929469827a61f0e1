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
// and each candidate as given, then + '.js', + '.json', + '.ts', then as a folder with
// index.js (or index.ts).
//
// TypeScript: a module, page or app file that exists only as `.ts` (an app built by DevTools
// with "useCompilerPlugins": ["typescript"], which compiles on build) is compiled on load with
// the `typescript` package's `ts.transpileModule`, as DevTools does, one file at a time: the
// project's tsconfig.json compilerOptions, with CommonJS modules, esModuleInterop, no import
// helpers (no tslib) and at least an ES2017 target (ES2020 when the tsconfig names an older
// one or none); no type checking. `typescript` is
// found the way the project's own machine has it: in node_modules of the mini-program root's
// folder or any parent (the project's devDependencies), then in a NODE_PATH folder. Without
// it, loading a .ts file is an error (code MP_TYPESCRIPT) that says how to get it. A .js
// beside a .ts wins (a project compiled with tsc runs its compiled files); `.d.ts` is never
// loaded. The compiled text is cached per file for the process (a verify run opens many
// runtimes over the same files), and compiled again when the file's text changes. An error in
// a .ts module is recorded with the .ts file and its source line (from the source map).
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
  var candidates = [base, base + '.js', base + '.json', base + '.ts'];
  for (var i = 0; i < candidates.length; i++) {
    if (isFile(candidates[i]) && !/\.d\.ts$/.test(candidates[i])) return candidates[i];
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
    if (isFile(path.join(base, 'index.ts'))) return path.join(base, 'index.ts');
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
  var self = this;
  var fn;
  var code;
  try {
    code = isTypeScript(abs)
      ? this.transpile(abs, src.replace(/^\uFEFF/, ''))
      : esm.transform(src.replace(/^\uFEFF/, '').replace(/^#!.*/, '')).code;
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

// The compiled text of the TypeScript file `abs` (its text `src`).
Loader.prototype.transpile = function (abs, src) {
  var ts = this._typescript();
  var hit = transpiled.get(abs);
  if (hit && hit.src === src && hit.ts === ts.module && hit.key === ts.key) return hit.code;
  var options = Object.assign({}, ts.options, { sourceMap: true, inlineSources: false });
  var out = ts.module.transpileModule(src, { compilerOptions: options, fileName: abs, reportDiagnostics: true });
  var errors = (out.diagnostics || []).filter(function (d) { return d.category === ts.module.DiagnosticCategory.Error; });
  if (errors.length) {
    var d = errors[0];
    var at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : null;
    var e = new SyntaxError(ts.module.flattenDiagnosticMessageText(d.messageText, '\n') +
      ' (' + this.relative(abs) + (at ? ':' + (at.line + 1) + ':' + (at.character + 1) : '') + ')');
    throw e;
  }
  // the compiled text without its sourceMappingURL comment (there is no .map file to find)
  var code = out.outputText.replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n');
  transpiled.set(abs, { src: src, ts: ts.module, key: ts.key, code: code, lines: sourceLines(out.sourceMapText) });
  compiledFiles.push(abs);
  return code;
};

// The line of the .ts source that line `line` (1-based) of the compiled text of the module
// `rel` came from, or `line` when it is not a TypeScript module of this loader.
Loader.prototype.sourceLine = function (rel, line) {
  var hit = transpiled.get(path.join(this.root, rel));
  if (!hit || !hit.lines) return line;
  // the wrapper puts the module's first line after `(function (...) {` on the same line
  var mapped = hit.lines[line - 1];
  return mapped === undefined || mapped === null ? line : mapped + 1;
};

// The `typescript` package for this app and the options to compile with (found once per
// loader). Throws MP_TYPESCRIPT when there is none.
Loader.prototype._typescript = function () {
  if (this.ts) return this.ts;
  var found = resolveTypescript(this.root);
  if (!found) {
    var e = new Error(typescriptMissing(this.root));
    e.code = 'MP_TYPESCRIPT';
    throw e;
  }
  var mod = require(found);
  var conf = tsconfigOptions(mod, this.root);
  this.ts = { module: mod, options: conf, key: JSON.stringify(conf) };
  return this.ts;
};

// The file being evaluated right now (absolute), or null.
Loader.prototype.current = function () {
  return this.stack.length ? this.stack[this.stack.length - 1] : null;
};

// ---------------------------------------------------------------------------------------------
// TypeScript

var transpiled = new Map(); // absolute file → { src, ts, key, code, lines }, for the process
var compiledFiles = [];     // every file compiled, in order (a file edited in between twice)

// A source map's `mappings` → for each generated line (0-based) the source line (0-based) of
// its first segment, or null for a line with none.
function sourceLines(mapText) {
  var map;
  try {
    map = JSON.parse(mapText);
  } catch (e) {
    return null;
  }
  var CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  var out = [];
  var srcLine = 0;
  String(map.mappings || '').split(';').forEach(function (group) {
    var first = null;
    group.split(',').forEach(function (seg) {
      if (!seg) return;
      var fields = [];
      var value = 0;
      var shift = 0;
      for (var i = 0; i < seg.length; i++) {
        var digit = CHARS.indexOf(seg.charAt(i));
        value += (digit & 31) << shift;
        if (digit & 32) {
          shift += 5;
        } else {
          fields.push(value & 1 ? -(value >> 1) : value >> 1);
          value = 0;
          shift = 0;
        }
      }
      if (fields.length >= 4) {
        srcLine += fields[2];
        if (first === null) first = srcLine;
      }
    });
    out.push(first);
  });
  return out;
}

function isTypeScript(file) {
  return /\.ts$/.test(file) && !/\.d\.ts$/.test(file);
}

// The entry file of the `typescript` package as the project at `fromDir` finds it:
// node_modules/typescript in `fromDir` or any parent, then in a NODE_PATH folder; or null.
function resolveTypescript(fromDir) {
  var dirs = [];
  for (var d = path.resolve(fromDir); ; d = path.dirname(d)) {
    if (path.basename(d) !== 'node_modules') dirs.push(path.join(d, 'node_modules'));
    if (path.dirname(d) === d) break;
  }
  String(process.env.NODE_PATH || '').split(path.delimiter).filter(Boolean).forEach(function (p) {
    dirs.push(path.resolve(p));
  });
  for (var i = 0; i < dirs.length; i++) {
    var pkg = path.join(dirs[i], 'typescript');
    if (!isFile(path.join(pkg, 'package.json'))) continue;
    try {
      return require.resolve(pkg);
    } catch (e) {
      // a broken install: try the next folder
    }
  }
  return null;
}

// `side`: 'original' or 'migrated' (verify), or nothing.
function typescriptMissing(root, side) {
  return 'the ' + (side ? side + ' ' : '') + 'app is TypeScript (.ts files without their compiled .js) and the `typescript` package ' +
    'is not installed for it: not in node_modules of ' + root + ' or any parent folder, nor in NODE_PATH. ' +
    'Install it in the project (`npm i -D typescript` in the folder with its package.json), or compile ' +
    'the app to JavaScript first (`tsc` with the project\'s tsconfig.json, emitting .js beside each .ts)';
}

// The options to compile the app's .ts files with: the compilerOptions of the tsconfig.json of
// the mini-program root or a parent folder (up to the first one that has it), made fit for one
// file at a time in the runtime.
function tsconfigOptions(ts, root) {
  var options = {};
  for (var d = path.resolve(root); ; d = path.dirname(d)) {
    var file = path.join(d, 'tsconfig.json');
    if (isFile(file)) {
      var parsed = ts.parseConfigFileTextToJson(file, fs.readFileSync(file, 'utf8'));
      var raw = (parsed.config && parsed.config.compilerOptions) || {};
      options = ts.convertCompilerOptionsFromJson(raw, d).options || {};
      break;
    }
    if (path.dirname(d) === d) break;
  }
  ['noEmit', 'declaration', 'declarationMap', 'emitDeclarationOnly', 'composite', 'incremental', 'sourceMap',
    'inlineSourceMap', 'outDir', 'outFile', 'rootDir', 'tsBuildInfoFile', 'verbatimModuleSyntax', 'isolatedDeclarations']
    .forEach(function (k) { delete options[k]; });
  options.module = ts.ModuleKind.CommonJS;
  options.esModuleInterop = true;
  options.importHelpers = false;
  options.noEmitHelpers = false;
  if (options.target === undefined || options.target < ts.ScriptTarget.ES2017) options.target = ts.ScriptTarget.ES2020;
  return options;
}

module.exports = {
  Loader: Loader,
  aliasResolver: aliasResolver,
  isTypeScript: isTypeScript,
  resolveTypescript: resolveTypescript,
  // The .ts files compiled so far in this process (absolute paths, in order).
  compiledFiles: function () { return compiledFiles.slice(); },
  typescriptMissing: typescriptMissing
};
