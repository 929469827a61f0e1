'use strict';
// Fake `wx` globals for testing artifacts/js/wx-cloud-shim.js under Node.
//
// `httpWx()` implements wx.request / wx.uploadFile / wx.downloadFile over Node's http module
// (so the adapter talks to a real running shim); `captureWx(reply)` records every wx.request
// and answers with `reply(body)` without any server.

const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const crypto = require('crypto');

function httpRequest(url, { method = 'GET', headers = {}, body = null } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ statusCode: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

function later(fn) {
  setImmediate(fn);
}

function httpWx() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-wx-'));
  let n = 0;
  return {
    tmpDir: tmp,
    request(opts) {
      const headers = Object.assign({}, opts.header || {});
      const body = typeof opts.data === 'string' ? opts.data : JSON.stringify(opts.data || {});
      headers['content-length'] = Buffer.byteLength(body);
      httpRequest(opts.url, { method: opts.method || 'GET', headers, body }).then(
        (res) => {
          let data = res.body.toString('utf8');
          if (opts.dataType === undefined || opts.dataType === 'json') {
            try {
              data = JSON.parse(data);
            } catch (e) {
              // wx.request leaves unparsable text as a string
            }
          }
          opts.success && opts.success({ data, statusCode: res.statusCode, header: res.headers, errMsg: 'request:ok' });
          opts.complete && opts.complete();
        },
        (err) => {
          opts.fail && opts.fail({ errMsg: 'request:fail ' + err.message });
          opts.complete && opts.complete();
        }
      );
      return { abort() {} };
    },
    uploadFile(opts) {
      const boundary = '----fakewx' + crypto.randomBytes(8).toString('hex');
      const parts = [];
      for (const [k, v] of Object.entries(opts.formData || {})) {
        if (v === undefined || v === null) continue;
        parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
      }
      let file;
      try {
        file = fs.readFileSync(opts.filePath);
      } catch (e) {
        later(() => opts.fail && opts.fail({ errMsg: 'uploadFile:fail file not found' }));
        return { abort() {}, onProgressUpdate() {} };
      }
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${opts.name}"; filename="${path.basename(opts.filePath)}"\r\nContent-Type: application/octet-stream\r\n\r\n`));
      parts.push(file);
      parts.push(Buffer.from(`\r\n--${boundary}--\r\n`));
      const body = Buffer.concat(parts);
      const headers = Object.assign({}, opts.header || {}, {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': body.length,
      });
      httpRequest(opts.url, { method: 'POST', headers, body }).then(
        (res) => {
          opts.success && opts.success({ data: res.body.toString('utf8'), statusCode: res.statusCode, errMsg: 'uploadFile:ok' });
          opts.complete && opts.complete();
        },
        (err) => {
          opts.fail && opts.fail({ errMsg: 'uploadFile:fail ' + err.message });
          opts.complete && opts.complete();
        }
      );
      return { abort() {}, onProgressUpdate() {} };
    },
    downloadFile(opts) {
      httpRequest(opts.url, { headers: opts.header || {} }).then(
        (res) => {
          const file = path.join(tmp, `download-${++n}`);
          fs.writeFileSync(file, res.body);
          opts.success && opts.success({ tempFilePath: file, statusCode: res.statusCode, errMsg: 'downloadFile:ok' });
          opts.complete && opts.complete();
        },
        (err) => {
          opts.fail && opts.fail({ errMsg: 'downloadFile:fail ' + err.message });
          opts.complete && opts.complete();
        }
      );
      return { abort() {}, onProgressUpdate() {} };
    },
  };
}

// Records each wx.request as {url, header, body (parsed JSON)}; answers with reply(body).
function captureWx(reply) {
  const sent = [];
  return {
    sent,
    request(opts) {
      const body = JSON.parse(opts.data);
      sent.push({ url: opts.url, header: opts.header, body });
      const data = reply ? reply(body) : { requestId: 'r', data: {} };
      later(() => opts.success({ data, statusCode: 200, header: {}, errMsg: 'request:ok' }));
      return { abort() {} };
    },
  };
}

module.exports = { httpWx, captureWx, httpRequest };
