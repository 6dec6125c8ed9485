// The Node.js peer of the /healthz scenario: a minimal http server answering
// what reel answers. Usage: node healthz.cjs PORT
'use strict';
const http = require('http');
const port = Number(process.argv[2] || 8081);
const body = JSON.stringify({ status: 'ok' });
http
  .createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    } else {
      res.writeHead(404, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end('{"error":{"code":"not_found","message":"No such resource."}}');
    }
  })
  .listen(port, '127.0.0.1', () => console.log(`listening port=${port}`));
