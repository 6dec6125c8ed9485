// Load client of the idle-sockets row of the realtime scenario: holds N idle
// Socket.IO WebSocket connections to one server at once, measures the
// server's RSS per connection, then watches the Engine.IO heartbeat of every
// connection for a window: pings late, sockets that missed one, disconnects.
//
// The clients speak the wire protocol themselves (RFC 6455 over node:net,
// Engine.IO v4 open/ping/pong, Socket.IO v5 CONNECT with auth.token), as the
// stock client does, at a fraction of its memory and CPU: N of the stock
// client would need gigabytes on the machine the server is measured on. They
// are spread over PROCS child processes (each below its descriptor limit) and
// over source addresses 127.0.0.2, 127.0.0.3, … (ADDRESSES of them) so that
// the ephemeral ports of one (source, destination) pair do not run out.
//
// Usage: node realtime_idle.mjs PORT SERVER_PID N PROCS ADDRESSES TOKEN WINDOW_S
// Prints one JSON report. A ping is late when it comes more than LATE_MS
// (1000) after the interval since this client's last pong.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

const LATE_MS = 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (process.argv[2] === 'worker') worker(...process.argv.slice(3));
else await main(...process.argv.slice(2));

async function main(port, pid, n, procs, addresses, token, windowS) {
  const N = Number(n), P = Number(procs), A = Number(addresses), W = Number(windowS);
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
  const before = rss();
  const started = Date.now();
  const workers = [];
  for (let i = 0; i < P; i++) {
    const count = Math.floor(N / P) + (i < N % P ? 1 : 0);
    const w = fork(new URL(import.meta.url).pathname, ['worker', port, String(count), String(i), String(A), token]);
    workers.push(w);
  }
  const ask = (w, msg) =>
    new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('exit', (code) => reject(new Error(`client process ended (${code})`)));
      if (msg) w.send(msg);
    });
  // Each process reports once all its sockets are connected (or failed).
  const opened = await Promise.all(workers.map((w) => ask(w)));
  const connectS = (Date.now() - started) / 1000;
  await sleep(3000);
  const after = rss();
  const connected = opened.reduce((a, o) => a + o.connected, 0);
  const stats = await Promise.all(workers.map((w) => ask(w, { window: W * 1000 })));
  const sum = (k) => stats.reduce((a, s) => a + s[k], 0);
  // The processes' histograms of lateness (ms → pings), merged.
  const hist = new Map();
  for (const s of stats) for (const [ms, k] of s.lateness) hist.set(ms, (hist.get(ms) ?? 0) + k);
  const sorted = [...hist].sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((a, [, k]) => a + k, 0);
  const pct = (q) => {
    let seen = 0;
    for (const [ms, k] of sorted) if ((seen += k) > q * total) return ms;
    return sorted.length ? sorted[sorted.length - 1][0] : 0;
  };
  const report = {
    requested: N, connected, failed: opened.reduce((a, o) => a + o.failed, 0), connectS,
    rssBeforeKiB: before, rssAfterKiB: after, rssAfterMiB: Math.round(after / 1024),
    bytesPerConnection: connected ? Math.round(((after - before) * 1024) / connected) : 0,
    windowS: W, pings: sum('pings'), latePings: sum('late'), missedPings: sum('missed'),
    disconnects: sum('disconnects'), pingLatenessP50Ms: pct(0.5), pingLatenessP99Ms: pct(0.99),
    pingLatenessMaxMs: sorted.length ? sorted[sorted.length - 1][0] : 0,
  };
  for (const w of workers) w.kill();
  console.log(JSON.stringify(report));
  process.exit(0);
}

function worker(port, count, index, addresses, token) {
  const N = Number(count), A = Number(addresses), I = Number(index);
  const connect = Buffer.from('40' + JSON.stringify({ token }));
  const mask = Buffer.from([0x5a, 0x1c, 0x93, 0x3e]);
  const frame = (payload) => {  // one masked text frame
    const ext = payload.length < 126 ? 0 : 2;
    const out = Buffer.alloc(2 + ext + 4 + payload.length);
    out[0] = 0x81;
    out[1] = 0x80 | (ext ? 126 : payload.length);
    if (ext) out.writeUInt16BE(payload.length, 2);
    mask.copy(out, 2 + ext);
    for (let i = 0; i < payload.length; i++) out[6 + ext + i] = payload[i] ^ mask[i % 4];
    return out;
  };
  const pong = frame(Buffer.from('3'));
  const connectFrame = frame(connect);
  let interval = 25000, connected = 0, failed = 0, settled = 0;
  let watching = false, pings = 0, late = 0, disconnects = 0;
  const lateness = new Map();  // ms → pings
  const clients = [];

  const onText = (c, text) => {
    if (text === '2') {
      const now = Date.now();
      if (watching) {
        pings++;
        c.pingsInWindow++;
        if (c.lastPong) {
          const l = now - c.lastPong - interval;
          const ms = Math.max(0, l);
          lateness.set(ms, (lateness.get(ms) ?? 0) + 1);
          if (l > LATE_MS) late++;
        }
      }
      c.lastPong = now;
      c.sock.write(pong);
    } else if (text[0] === '0') {
      interval = JSON.parse(text.slice(1)).pingInterval;
      c.sock.write(connectFrame);
    } else if (text.startsWith('40')) {
      connected++;
      c.ok = true;
      done(c);
    } else if (text.startsWith('44')) {
      failed++;
      done(c);
    }
  };
  const done = (c) => {
    if (c.settled) return;
    c.settled = true;
    settled++;
    next();
    if (settled === N) process.send({ connected, failed });
  };
  const onData = (c, chunk) => {
    c.buf = c.buf.length ? Buffer.concat([c.buf, chunk]) : chunk;
    if (!c.upgraded) {
      const end = c.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!c.buf.subarray(0, 12).toString().startsWith('HTTP/1.1 101')) return c.sock.destroy();
      c.upgraded = true;
      c.buf = c.buf.subarray(end + 4);
    }
    for (;;) {
      if (c.buf.length < 2) break;
      let len = c.buf[1] & 0x7f, off = 2;
      if (len === 126) {
        if (c.buf.length < 4) break;
        len = c.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (c.buf.length < 10) break;
        len = Number(c.buf.readBigUInt64BE(2));
        off = 10;
      }
      if (c.buf.length < off + len) break;
      const opcode = c.buf[0] & 0x0f;
      const text = c.buf.subarray(off, off + len).toString();
      c.buf = c.buf.subarray(off + len);
      if (opcode === 1) onText(c, text);
      else if (opcode === 8) c.sock.destroy();
    }
    if (!c.buf.length) c.buf = Buffer.alloc(0);
  };
  let opened = 0;
  const open = () => {
    const i = opened++;
    // Source addresses 127.0.0.2 … : this process's sockets take turns over them.
    const localAddress = `127.0.0.${2 + ((i * 7 + I) % A)}`;
    const sock = net.connect({ host: '127.0.0.1', port: Number(port), localAddress });
    const c = { sock, buf: Buffer.alloc(0), upgraded: false, ok: false, settled: false, lastPong: 0, pingsInWindow: 0 };
    clients.push(c);
    sock.setNoDelay(true);
    sock.on('connect', () =>
      sock.write(`GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
        'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
        'Sec-WebSocket-Version: 13\r\n\r\n'));
    sock.on('data', (chunk) => onData(c, chunk));
    sock.on('error', () => {});
    sock.on('close', () => {
      if (watching && c.ok) disconnects++;
      if (!c.settled) {
        failed++;
        done(c);
      }
    });
  };
  // At most 200 handshakes in flight per process.
  const next = () => {
    if (opened < N) open();
  };
  for (let k = 0; k < Math.min(200, N); k++) next();
  if (N === 0) process.send({ connected, failed });

  process.on('message', async (msg) => {
    watching = true;
    await sleep(msg.window);
    watching = false;
    // Every socket open all through the window should have had a ping in
    // each interval of it (the first may fall just outside: one less).
    const expected = Math.floor(msg.window / interval) - 1;
    let missed = 0;
    for (const c of clients) if (c.ok && !c.sock.destroyed && c.pingsInWindow < expected) missed++;
    process.send({ pings, late, missed, disconnects, lateness: [...lateness] });
  });
}
