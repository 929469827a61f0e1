// Test helpers for the mp-runtime tests: a loopback HTTP server with routes, and a throwaway
// mini-program written to a temp folder.
'use strict';

var fs = require('fs');
var http = require('http');
var os = require('os');
var path = require('path');

// routes: [[method, /regex on the path/, (req) => ({ status, json } | { status, body, type })]]
// `req` is { method, path, query, headers, body (Buffer), text, json, match }.
// Resolves with { base, hits, close() }; `hits` lists every request as "METHOD /path?query".
function startServer(routes) {
  var hits = [];
  var server = http.createServer(function (req, res) {
    var chunks = [];
    req.on('data', function (c) { chunks.push(c); });
    req.on('end', function () {
      var u = new URL(req.url, 'http://x');
      var body = Buffer.concat(chunks);
      var r = {
        method: req.method,
        path: u.pathname,
        query: Object.fromEntries(u.searchParams),
        headers: req.headers,
        body: body,
        text: body.toString('utf8')
      };
      try {
        r.json = r.text ? JSON.parse(r.text) : undefined;
      } catch (e) {
        r.json = undefined;
      }
      hits.push(req.method + ' ' + req.url);
      for (var i = 0; i < routes.length; i++) {
        var route = routes[i];
        if (route[0] !== '*' && route[0] !== req.method) continue;
        var m = route[1].exec(u.pathname);
        if (!m) continue;
        r.match = m;
        var out = route[2](r);
        if (out === 'hang') return; // never answer
        res.statusCode = out.status || 200;
        if (out.json !== undefined) {
          res.setHeader('content-type', 'application/json; charset=utf-8');
          res.end(JSON.stringify(out.json));
        } else {
          res.setHeader('content-type', out.type || 'text/plain');
          res.end(out.body === undefined ? '' : out.body);
        }
        return;
      }
      res.statusCode = 404;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ code: 404, msg: 'no route for ' + req.method + ' ' + u.pathname }));
    });
  });
  return new Promise(function (resolve) {
    server.listen(0, '127.0.0.1', function () {
      resolve({
        base: 'http://127.0.0.1:' + server.address().port,
        hits: hits,
        close: function () {
          server.closeAllConnections();
          return new Promise(function (done) { server.close(function () { done(); }); });
        }
      });
    });
  });
}

// files: { 'app.json': {...} | 'text', 'pages/a/a.js': 'text', ... } → the folder, made in
// `parent` (default: the temp folder) with the name prefix `prefix`.
function writeApp(files, parent, prefix) {
  var dir = fs.mkdtempSync(path.join(parent || os.tmpdir(), prefix || 'mp-runtime-app-'));
  Object.keys(files).forEach(function (name) {
    var file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    var v = files[name];
    fs.writeFileSync(file, typeof v === 'string' ? v : JSON.stringify(v, null, 2));
  });
  return dir;
}

function removeApp(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
}

// The steps of the last recorded visit of `route`.
function visit(recording, route) {
  var pages = recording.pages.filter(function (p) { return p.route === route; });
  return pages[pages.length - 1];
}

// The loopback backend of `routes` started before the tests of the file and closed after;
// returns `runtime(extra)`, a runtime of the app at `appDir` whose requests to `origin` go to
// that backend.
function appOnBackend(test, appDir, origin, routes) {
  var createRuntime = require('../../js/mp-runtime').createRuntime;
  var server;
  test.before(function () {
    return startServer(routes).then(function (s) { server = s; });
  });
  test.after(function () {
    return server.close();
  });
  return function runtime(extra) {
    var hosts = {};
    hosts[origin] = server.base;
    return createRuntime(Object.assign({ appDir: appDir, hosts: hosts }, extra || {}));
  };
}

module.exports = { appOnBackend: appOnBackend, startServer: startServer, writeApp: writeApp, removeApp: removeApp, visit: visit };
