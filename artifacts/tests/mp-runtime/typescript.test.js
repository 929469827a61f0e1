// TypeScript apps in the runtime: a module, page or app file that exists only as .ts is
// compiled on load with the `typescript` package (ts.transpileModule), as DevTools does when it
// builds; `typescript` is found in node_modules of the project or a parent folder, then in
// NODE_PATH. These tests use the typescript of tests/node (pinned in its package.json).
'use strict';

var test = require('node:test');
var assert = require('node:assert/strict');
var fs = require('fs');
var os = require('os');
var path = require('path');

var createRuntime = require('../../js/mp-runtime').createRuntime;
var loader = require('../../js/mp-runtime/loader.js');
var h = require('./helpers.js');

var REPO = path.join(__dirname, '../../..');
var NODE_MODULES = path.join(REPO, 'tests/node/node_modules');
var SKIP = fs.existsSync(path.join(NODE_MODULES, 'typescript/package.json')) ? false
  : 'tests/node/node_modules has no typescript: run `npm ci --prefix tests/node` first';

function plain(x) {
  return JSON.parse(JSON.stringify(x));
}

// With NODE_PATH as `value` (undefined: unset) while `fn` runs.
function withNodePath(value, fn) {
  var saved = process.env.NODE_PATH;
  if (value === undefined) delete process.env.NODE_PATH;
  else process.env.NODE_PATH = value;
  return Promise.resolve().then(fn).finally(function () {
    if (saved === undefined) delete process.env.NODE_PATH;
    else process.env.NODE_PATH = saved;
  });
}

// A folder with no node_modules/typescript in it or above it (the temp folder may have one).
function bareParent() {
  var saved = process.env.NODE_PATH;
  delete process.env.NODE_PATH;
  try {
    return [os.tmpdir(), path.join(REPO, 'target')].filter(function (d) { return fs.existsSync(d) && !loader.resolveTypescript(d); })[0];
  } finally {
    if (saved !== undefined) process.env.NODE_PATH = saved;
  }
}

function writeIn(parent, files) {
  return h.writeApp(files, parent, 'mp-runtime-ts-');
}

var APP = {
  'app.json': { pages: ['pages/index/index', 'pages/boom/boom', 'pages/both/both'] },
  // comments in tsconfig.json, as `tsc --init` writes it; an old target is raised
  'tsconfig.json': '{\n  // the project\'s options\n  "compilerOptions": { "target": "ES5", "strict": true, "module": "ESNext" }\n}\n',
  'app.ts': [
    "import { greet } from './utils/greet'",
    'App<{ globalData: { hello: string } }>({',
    "  globalData: { hello: greet('app') }",
    '})'
  ].join('\n'),
  'utils/greet.ts': [
    'export type Who = string',
    'export function greet(who: Who): string {',
    '  return `hi ${who}`',
    '}'
  ].join('\n'),
  'utils/greet.d.ts': 'export declare function greet(who: string): string',
  'utils/shapes/index.ts': [
    'export enum Kind { Circle = 1, Square }',
    'export class Shape {',
    '  constructor(public kind: Kind, private size: number) {}',
    '  area(): number { return this.kind === Kind.Square ? this.size * this.size : Math.round(3.14 * this.size * this.size) }',
    '}'
  ].join('\n'),
  // a CommonJS package of miniprogram_npm, default-imported (esModuleInterop)
  'miniprogram_npm/tiny-fmt/index.js': 'module.exports = function fmt(n) { return "#" + n }; module.exports.version = "1.0.0"',
  'pages/index/index.ts': [
    "import fmt from 'tiny-fmt'",
    "import * as all from 'tiny-fmt'",
    "import type { Who } from '../../utils/greet'",
    "import { Kind, Shape } from '../../utils/shapes'",
    '',
    'interface Data { label: string; area: number; who: Who; version: string; missing?: number }',
    '',
    'const app = getApp<{ globalData: { hello: string } }>()',
    '',
    'Page<Data, WechatMiniprogram.IAnyObject>({',
    "  data: { label: '', area: 0, who: '', version: '' },",
    '  async onLoad(query: Record<string, string | undefined>) {',
    '    const s = new Shape(Kind.Square, Number(query.size ?? 3))',
    '    await Promise.resolve()',
    '    const opt: { deep?: { n: number } } = {}',
    '    this.setData({ label: fmt(s.area()), area: s.area(), who: app.globalData.hello, version: (all as any).version, missing: opt.deep?.n })',
    '  }',
    '})'
  ].join('\n'),
  'pages/boom/boom.ts': [
    'interface Nothing {',
    '  a: number',
    '}',
    '',
    'Page({',
    '  onLoad() {',
    '    const n: Nothing | null = null',
    '    // the error is on line 9 of the source',
    '    return (n as unknown as Nothing).a',
    '  }',
    '})'
  ].join('\n'),
  // compiled by hand beside its source: the .js runs
  'pages/both/both.ts': "Page({ data: { from: 'ts' as string } })",
  'pages/both/both.js': "Page({ data: { from: 'js' } })"
};

test('a TypeScript app runs: app.ts, pages and modules compiled on load, npm default imports, enums, classes', { skip: SKIP }, function () {
  var dir = h.writeApp(APP);
  fs.symlinkSync(NODE_MODULES, path.join(dir, 'node_modules'));
  var rt = createRuntime({ appDir: dir });
  return rt.launch().then(function (app) {
    assert.deepEqual(app.steps[0].data, { hello: 'hi app' });
    return rt.openPage('pages/index/index', { size: '4' });
  }).then(function (page) {
    assert.deepEqual(plain(page.data), { label: '#16', area: 16, who: 'hi app', version: '1.0.0' });
    assert.deepEqual(rt.recording().errors, []);
    return rt.openPage('pages/both/both');
  }).then(function (page) {
    assert.equal(page.data.from, 'js');
    assert.deepEqual(rt.recording().errors, []);
  }).finally(function () {
    rt.close();
    h.removeApp(dir);
  });
});

test('an error thrown in a .ts page names the .ts file and the line of its source', { skip: SKIP }, function () {
  var dir = h.writeApp(APP);
  fs.symlinkSync(NODE_MODULES, path.join(dir, 'node_modules'));
  var rt = createRuntime({ appDir: dir });
  return rt.openPage('pages/boom/boom').then(function () {
    var errors = rt.recording().errors;
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0].message, /TypeError: Cannot read properties of null/);
    assert.equal(errors[0].file, 'pages/boom/boom.ts');
    assert.equal(errors[0].line, 9);
  }).finally(function () {
    rt.close();
    h.removeApp(dir);
  });
});

test('a syntax error in a .ts module is a load error with the file and line', { skip: SKIP }, function () {
  var dir = h.writeApp({
    'app.json': { pages: ['pages/index/index'] },
    'app.ts': 'App({})',
    'pages/index/index.ts': 'const a: number = 1\nPage({ data: { a } )\n'
  });
  fs.symlinkSync(NODE_MODULES, path.join(dir, 'node_modules'));
  var rt = createRuntime({ appDir: dir });
  return rt.openPage('pages/index/index').then(function () {
    var errors = rt.recording().errors;
    assert.equal(errors.length, 2, JSON.stringify(errors));
    assert.match(errors[0].message, /^SyntaxError: .*expected\. \(pages\/index\/index\.ts:2:\d+\)$/);
    assert.equal(errors[0].where, 'loading pages/index/index.js');
    assert.match(errors[1].message, /did not call Page\(\)/);
  }).finally(function () {
    rt.close();
    h.removeApp(dir);
  });
});

test('typescript from NODE_PATH when the project has none; without either, loading says what to do', { skip: SKIP }, function () {
  var parent = bareParent();
  assert.ok(parent, 'a folder without typescript above it, to run the test in');
  var dir = writeIn(parent, {
    'app.json': { pages: ['pages/index/index'] },
    'app.ts': 'App({ globalData: { n: 1 as number } })',
    'pages/index/index.ts': "Page({ data: { ok: true as boolean } })"
  });
  return withNodePath(undefined, function () {
    assert.equal(loader.resolveTypescript(dir), null);
    var rt = createRuntime({ appDir: dir });
    return rt.openPage('pages/index/index').then(function () {
      var errors = rt.recording().errors;
      assert.equal(errors[0].where, 'loading app.js');
      assert.match(errors[0].message, /the app is TypeScript .*`typescript` package is not installed for it.*`npm i -D typescript`.*or compile the app to JavaScript first/);
    }).finally(rt.close);
  }).then(function () {
    return withNodePath(['/nonexistent-folder', NODE_MODULES].join(path.delimiter), function () {
      assert.equal(loader.resolveTypescript(dir), require.resolve(path.join(NODE_MODULES, 'typescript')));
      var rt = createRuntime({ appDir: dir });
      return rt.openPage('pages/index/index').then(function (page) {
        assert.deepEqual(rt.recording().errors, []);
        assert.deepEqual(plain(page.data), { ok: true });
      }).finally(rt.close);
    });
  }).finally(function () {
    h.removeApp(dir);
  });
});

test('each .ts file is compiled once per process, however many runtimes load it; an edit compiles again', { skip: SKIP }, function () {
  var dir = h.writeApp(APP);
  fs.symlinkSync(NODE_MODULES, path.join(dir, 'node_modules'));
  var before = loader.compiledFiles().length;
  function compiled() {
    return loader.compiledFiles().slice(before).map(function (f) { return path.relative(dir, f); });
  }
  function open() {
    var rt = createRuntime({ appDir: dir });
    return rt.openPage('pages/index/index').then(function (page) {
      var data = plain(page.data);
      rt.close();
      return data;
    });
  }
  return open().then(function () {
    assert.deepEqual(compiled().sort(), ['app.ts', 'pages/index/index.ts', 'utils/greet.ts', 'utils/shapes/index.ts']);
    return open();
  }).then(function () {
    assert.equal(compiled().length, 4, 'nothing compiled again: ' + compiled().join(', '));
    fs.writeFileSync(path.join(dir, 'utils/greet.ts'), 'export function greet(who: string): string { return `hello ${who}` }');
    return open();
  }).then(function (data) {
    assert.equal(data.who, 'hello app');
    assert.deepEqual(compiled().slice(4), ['utils/greet.ts']);
  }).finally(function () {
    h.removeApp(dir);
  });
});
