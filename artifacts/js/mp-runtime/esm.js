// esm.js: top-level `import` / `export` → CommonJS, as the devtools' ES6 compile does it.
//
// Many apps write ES modules and let the devtools turn them into `require`/`exports` (the
// `es6` setting). This does the same for the statement forms apps use, without a parser:
// a small scanner skips strings, comments, template literals and regex literals and finds
// `import`/`export` at the start of a top-level statement; each is rewritten in place.
//
//   import x from 'm'            var x = interop default of require('m')
//   import { a, b as c } from 'm'   var a = _m.a, c = _m.b   (values taken once, see below)
//   import * as ns from 'm'      var ns = namespace of require('m')
//   import 'm'                   require('m')
//   export const|let|var x = …   the declaration, plus a live getter exports.x
//   export function f / class C  the declaration, plus a live getter
//   export default function f…   the declaration, plus a live getter exports.default
//   export default <expr>        exports.default = <expr>
//   export { a, b as c }         live getters
//   export { a } from 'm' / export * from 'm'   getters over require('m')
//
// Imports are hoisted to the top of the file as in ES modules, and exports are getters, so
// exported `let`s stay live; imported names are copies, which differs from ES modules only
// for circular imports read before the other module finished. Line numbers are kept (every
// rewrite keeps its newlines), so stack traces point at the source. Not handled: `export`
// of destructuring patterns with defaults, `import()` (left as is: no dynamic import on
// the client), `import.meta`.
'use strict';

var KEYWORDS_BEFORE_REGEX = /^(return|typeof|instanceof|in|of|new|delete|void|throw|case|do|else|yield|await)$/;

// Offsets of `import`/`export` words that start a top-level statement.
function findStatements(src) {
  var found = [];
  var i = 0;
  var n = src.length;
  var depth = 0;
  var lastSig = '';      // last significant character outside strings/comments
  var lastWord = '';     // last identifier-ish word, for the regex heuristic
  var newlineSince = true;
  var templateStack = []; // brace depth at each `${` of an open template literal
  function skipString(q) {
    i++;
    while (i < n && src.charAt(i) !== q) {
      if (src.charAt(i) === '\\') i++;
      else if (src.charAt(i) === '\n') break;
      i++;
    }
    i++;
  }
  // Inside a template literal (after the backtick or a closing `}` of `${`): to its end or `${`.
  function skipTemplate() {
    while (i < n) {
      var c = src.charAt(i);
      if (c === '\\') { i += 2; continue; }
      if (c === '`') { i++; return; }
      if (c === '$' && src.charAt(i + 1) === '{') {
        i += 2;
        templateStack.push(depth);
        depth++;
        return;
      }
      i++;
    }
  }
  function skipRegex() {
    i++;
    var inClass = false;
    while (i < n) {
      var c = src.charAt(i);
      if (c === '\\') { i += 2; continue; }
      if (c === '\n') return;
      if (c === '[') inClass = true;
      else if (c === ']') inClass = false;
      else if (c === '/' && !inClass) { i++; break; }
      i++;
    }
    while (i < n && /[a-z]/i.test(src.charAt(i))) i++;
  }
  while (i < n) {
    var c = src.charAt(i);
    if (c === '\n') { newlineSince = true; i++; continue; }
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
    if (c === '/' && src.charAt(i + 1) === '/') {
      while (i < n && src.charAt(i) !== '\n') i++;
      continue;
    }
    if (c === '/' && src.charAt(i + 1) === '*') {
      var end = src.indexOf('*/', i + 2);
      var chunk = src.slice(i, end < 0 ? n : end);
      if (chunk.indexOf('\n') >= 0) newlineSince = true;
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (c === '\'' || c === '"') { skipString(c); lastSig = c; lastWord = ''; newlineSince = false; continue; }
    if (c === '`') { i++; skipTemplate(); lastSig = '`'; lastWord = ''; newlineSince = false; continue; }
    if (c === '/') {
      var regexAllowed = lastSig === '' || '(,=:[!&|?{};+-*%<>~^'.indexOf(lastSig) >= 0 || KEYWORDS_BEFORE_REGEX.test(lastWord);
      if (regexAllowed) { skipRegex(); lastSig = '/'; lastWord = ''; newlineSince = false; continue; }
    }
    if (/[A-Za-z_$]/.test(c)) {
      var start = i;
      while (i < n && /[\w$]/.test(src.charAt(i))) i++;
      var word = src.slice(start, i);
      if (depth === 0 && (word === 'import' || word === 'export') && lastSig !== '.' &&
          (lastSig === '' || lastSig === ';' || lastSig === '}' || newlineSince)) {
        var next = src.slice(i).match(/^\s*(\S)/);
        var nc = next ? next[1] : '';
        if (word === 'export' || (nc !== '(' && nc !== '.')) found.push(start);
      }
      lastSig = 'a';
      lastWord = word;
      newlineSince = false;
      continue;
    }
    if (c === '{' || c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (c === '}') {
      if (templateStack.length && templateStack[templateStack.length - 1] === depth - 1) {
        templateStack.pop();
        depth--;
        i++;
        skipTemplate();
        lastSig = '`';
        newlineSince = false;
        continue;
      }
      depth--;
    }
    lastSig = c;
    lastWord = '';
    newlineSince = false;
    i++;
  }
  return found;
}

function newlines(text) {
  var m = text.match(/\n/g);
  return m ? m.join('') : '';
}

// `a, b as c, default as d` → [{ imported: 'a', local: 'a' }, ...]
function parseSpecifiers(list) {
  return list.split(',').map(function (s) { return s.trim(); }).filter(Boolean).map(function (s) {
    var m = /^([\w$]+)(?:\s+as\s+([\w$]+))?$/.exec(s.replace(/\s+/g, ' '));
    if (!m) throw new Error('unsupported import/export specifier: ' + s);
    return { imported: m[1], local: m[2] || m[1] };
  });
}

// Names bound by `const { a, b: c, ...rest } =` or `[a, , b] =` (simple patterns only).
function patternNames(pattern) {
  var inner = pattern.slice(1, -1);
  return inner.split(',').map(function (p) {
    p = p.trim().replace(/=.*$/, '').trim();
    if (!p) return null;
    if (p.indexOf('...') === 0) p = p.slice(3);
    var colon = p.lastIndexOf(':');
    if (colon >= 0) p = p.slice(colon + 1).trim();
    return /^[\w$]+$/.test(p) ? p : null;
  }).filter(Boolean);
}

function transform(src) {
  var starts = findStatements(src);
  if (!starts.length) return { code: src, esm: false };
  var header = [];      // hoisted imports, then export getters: all on line 1
  var getters = [];     // [exportName, expression]
  var tail = [];        // `export * from` loops, run after hoisted imports
  var pieces = [];
  var pos = 0;
  var tmp = 0;
  function req(spec) {
    var name = '__mp_m' + (tmp++);
    header.push('var ' + name + ' = require(' + JSON.stringify(spec) + ');');
    return name;
  }
  starts.forEach(function (start) {
    if (start < pos) return;
    var rest = src.slice(start);
    var m;
    var replacement = null;
    if ((m = /^import\s*(['"])([^'"\n]+)\1[ \t]*;?/.exec(rest))) {
      req(m[2]);
      replacement = '';
    } else if ((m = /^import\s+([\w$\s,{}*]+?)\s*from\s*(['"])([^'"\n]+)\2[ \t]*;?/.exec(rest))) {
      var mod = req(m[3]);
      var clause = m[1].trim();
      var braces = /\{([^}]*)\}/.exec(clause);
      if (braces) {
        parseSpecifiers(braces[1]).forEach(function (s) {
          header.push('var ' + s.local + ' = ' + (s.imported === 'default' ? '__mp_interop.default(' + mod + ')' : mod + '.' + s.imported) + ';');
        });
        clause = clause.replace(braces[0], '');
      }
      var ns = /\*\s*as\s+([\w$]+)/.exec(clause);
      if (ns) {
        header.push('var ' + ns[1] + ' = __mp_interop.namespace(' + mod + ');');
        clause = clause.replace(ns[0], '');
      }
      var def = clause.replace(/,/g, ' ').trim();
      if (def) header.push('var ' + def + ' = __mp_interop.default(' + mod + ');');
      replacement = '';
    } else if ((m = /^export\s+default\s+((?:async\s+)?function\b\s*\*?\s*([\w$]+)?|class\b\s*([\w$]+)?)/.exec(rest))) {
      var declName = m[2] || m[3];
      if (declName) {
        getters.push(['default', declName]);
        m = /^export\s+default/.exec(rest);
        replacement = '';
      } else {
        m = /^export\s+default/.exec(rest);
        replacement = 'exports.default =';
      }
    } else if ((m = /^export\s+default\b/.exec(rest))) {
      replacement = 'exports.default =';
    } else if ((m = /^export\s+(?:async\s+)?function\b\s*\*?\s*([\w$]+)/.exec(rest)) || (m = /^export\s+class\s+([\w$]+)/.exec(rest))) {
      getters.push([m[1], m[1]]);
      m = /^export/.exec(rest);
      replacement = '';
    } else if ((m = /^export\s+(?:const|let|var)\s+(\{[^}]*\}|\[[^\]]*\]|[\w$]+)/.exec(rest))) {
      var target = m[1];
      var names = /^[\w$]+$/.test(target) ? [target] : patternNames(target);
      names.forEach(function (nm) { getters.push([nm, nm]); });
      m = /^export/.exec(rest);
      replacement = '';
    } else if ((m = /^export\s*\{([^}]*)\}\s*from\s*(['"])([^'"\n]+)\2[ \t]*;?/.exec(rest))) {
      var from = req(m[3]);
      parseSpecifiers(m[1]).forEach(function (s) {
        getters.push([s.local, s.imported === 'default' ? '__mp_interop.default(' + from + ')' : from + '.' + s.imported]);
      });
      replacement = '';
    } else if ((m = /^export\s*\*\s*(?:as\s+([\w$]+)\s*)?from\s*(['"])([^'"\n]+)\2[ \t]*;?/.exec(rest))) {
      var all = req(m[3]);
      if (m[1]) getters.push([m[1], '__mp_interop.namespace(' + all + ')']);
      else tail.push('__mp_interop.exportStar(exports, ' + all + ');');
      replacement = '';
    } else if ((m = /^export\s*\{([^}]*)\}[ \t]*;?/.exec(rest))) {
      parseSpecifiers(m[1]).forEach(function (s) { getters.push([s.local, s.imported]); });
      replacement = '';
    } else {
      return; // not a form we know: leave it, the compile error will say where
    }
    var text = m[0];
    pieces.push(src.slice(pos, start), replacement + newlines(text));
    pos = start + text.length;
  });
  pieces.push(src.slice(pos));
  var exportLines = ['Object.defineProperty(exports, "__esModule", { value: true });'];
  getters.forEach(function (g) {
    exportLines.push('Object.defineProperty(exports, ' + JSON.stringify(g[0]) + ', { enumerable: true, configurable: true, get: function () { return ' + g[1] + '; } });');
  });
  // Exports first (getters are lazy), so a circular require sees them; imports after.
  var prologue = exportLines.concat(header, tail).join(' ');
  return { code: prologue + ' ' + pieces.join(''), esm: true };
}

// Helpers the rewritten code calls (passed to each module as `__mp_interop`).
var interop = {
  default: function (m) {
    return m && m.__esModule ? m.default : m;
  },
  namespace: function (m) {
    if (m && m.__esModule) return m;
    var ns = { default: m };
    if (m && typeof m === 'object') Object.keys(m).forEach(function (k) { if (k !== 'default') ns[k] = m[k]; });
    return ns;
  },
  exportStar: function (exports, m) {
    if (!m || typeof m !== 'object') return;
    Object.keys(m).forEach(function (k) {
      if (k === 'default' || k === '__esModule' || Object.prototype.hasOwnProperty.call(exports, k)) return;
      Object.defineProperty(exports, k, { enumerable: true, configurable: true, get: function () { return m[k]; } });
    });
  }
};

module.exports = { transform: transform, findStatements: findStatements, interop: interop };
