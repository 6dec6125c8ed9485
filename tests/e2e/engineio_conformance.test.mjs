// Engine.IO conformance, differentially: the same requests against reel and
// against the reference server (npm `engine.io`, the one socket.io runs on),
// and the same answers from both — methods Engine.IO does not use, how a
// polling client hears that the server closed its session, and a second
// WebSocket for one session — plus the stock engine.io-client seeing a
// server's close as "transport close" (not as an error) from both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createRequire } from 'node:module';
import WebSocket from 'ws';
import { Socket as EngineSocket } from 'engine.io-client';
import { withServer } from './lib.mjs';

const require = createRequire(import.meta.url);
const { Server: EngineServer } = require('engine.io');

const CLOSE_AFTER_MS = 1000; // both servers close a session that stays silent this long

// The reference: engine.io on /socket.io/, closing every session after CLOSE_AFTER_MS
// (reel closes a session without a Socket.IO CONNECT after its connect timeout).
async function withReference(fn) {
  const server = http.createServer();
  const engine = new EngineServer({ pingInterval: 600000, pingTimeout: 600000 });
  engine.attach(server, { path: '/socket.io/' });
  engine.on('connection', (socket) => setTimeout(() => socket.close(), CLOSE_AFTER_MS));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await fn(server.address().port);
  } finally {
    engine.close();
    server.close();
  }
}

const reelArgs = { args: ['--realtime-connect-timeout-ms', String(CLOSE_AFTER_MS), '--ping-interval-ms', '600000',
  '--ping-timeout-ms', '600000'] };

async function both(fn) {
  const answers = {};
  await withReference(async (port) => { answers.reference = await fn(port); });
  await withServer(async (server) => { answers.reel = await fn(server.port); }, reelArgs);
  return answers;
}

const base = (port) => `http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`;
async function send(method, url, body) {
  const r = await fetch(url, { method, body });
  return { status: r.status, type: r.headers.get('content-type'), body: method === 'HEAD' ? '' : await r.text() };
}
async function handshake(port) {
  const text = await (await fetch(base(port))).text();
  return JSON.parse(text.slice(1)).sid;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('a method Engine.IO does not use: 400 with its JSON error, as from the reference', async () => {
  const answers = await both(async (port) => {
    const out = {};
    for (const method of ['PUT', 'DELETE', 'PATCH']) out[method] = await send(method, base(port), 'x');
    out.unknownSid = await send('PUT', `${base(port)}&sid=nope`, 'x');
    out.unknownTransport = await send('PUT', `http://127.0.0.1:${port}/socket.io/?EIO=4&transport=pigeon`, 'x');
    return out;
  });
  assert.deepEqual(answers.reel, answers.reference);
  assert.equal(answers.reel.PUT.status, 400);
  assert.deepEqual(JSON.parse(answers.reel.PUT.body), { code: 2, message: 'Bad handshake method' });
  // With a live sid the reference answers 500 with no body (its polling
  // transport's fallback); reel answers 400 "Bad request" and the session goes on.
  await withServer(async (server) => {
    const sid = await handshake(server.port);
    const r = await send('PUT', `${base(server.port)}&sid=${sid}`, 'x');
    assert.equal(r.status, 400);
    assert.deepEqual(JSON.parse(r.body), { code: 3, message: 'Bad request' });
  }, reelArgs);
});

test('a server close: the waiting poll gets `1`; without one, the next poll gets `6␞1`; then the sid is unknown', async () => {
  const answers = await both(async (port) => {
    const waiting = await handshake(port);
    const held = await send('GET', `${base(port)}&sid=${waiting}`); // held until the close
    const idle = await handshake(port);
    await sleep(CLOSE_AFTER_MS * 2);
    const next = await send('GET', `${base(port)}&sid=${idle}`);
    const after = await send('GET', `${base(port)}&sid=${idle}`);
    return { held, next, after };
  });
  assert.deepEqual(answers.reel, answers.reference);
  assert.equal(answers.reel.held.body, '1');
  assert.equal(answers.reel.next.body, '6\x1e1');
  assert.equal(answers.reel.after.status, 400);
});

test('a second WebSocket for an upgraded session is accepted, then closed without a code, as by the reference', async () => {
  const answers = await both(async (port) => {
    const sid = await handshake(port);
    const url = `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket&sid=${sid}`;
    const first = new WebSocket(url);
    await new Promise((resolve) => first.once('open', resolve));
    first.send('2probe');
    const probe = await new Promise((resolve) => first.once('message', (m) => resolve(m.toString())));
    first.send('5');
    await sleep(50);
    const second = new WebSocket(url);
    const seen = [];
    second.on('unexpected-response', (req, res) => seen.push(`http ${res.statusCode}`));
    second.on('open', () => seen.push('open'));
    const code = await new Promise((resolve) => second.on('close', (c) => resolve(c)));
    seen.push(`close ${code}`);
    const firstOpen = first.readyState === WebSocket.OPEN;
    first.close();
    return { probe, seen, firstOpen };
  });
  assert.deepEqual(answers.reel, answers.reference);
  assert.deepEqual(answers.reel.seen, ['open', 'close 1005']);
});

test('the stock engine.io-client hears a server close on polling as "transport close" from both', async () => {
  const answers = await both(async (port) => {
    const socket = new EngineSocket(`http://127.0.0.1:${port}`, { transports: ['polling'], path: '/socket.io/' });
    const reason = await new Promise((resolve) => socket.on('close', (r) => resolve(r)));
    return { reason };
  });
  assert.deepEqual(answers.reel, answers.reference);
  assert.equal(answers.reel.reason, 'transport close');
});
