// Realtime with the stock socket.io-client from npm, unmodified.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import { io } from 'socket.io-client';
import { tempDir, startServer, withServer, api, register, makeClip, upload, waitFor } from './lib.mjs';

function connect(port, opts) {
  return io(`http://127.0.0.1:${port}`, { reconnectionDelay: 200, reconnectionDelayMax: 500, ...opts });
}

test('default client (polling, then upgrade) follows an upload to ready; another organization sees nothing', async () => {
  await withServer(async (server, dir) => {
    const alice = await register(server.port, 'alice@example.com', 'Alice Inc');
    const bob = await register(server.port, 'bob@example.com', 'Bob Ltd');
    const a = connect(server.port, { auth: { token: alice.token } });
    const b = connect(server.port, { transports: ['websocket'], auth: { token: bob.token } });
    await Promise.all([waitFor(a, 'connect'), waitFor(b, 'connect')]);
    const seenByBob = [];
    b.onAny((name) => seenByBob.push(name));
    // The default client starts on polling and upgrades to websocket.
    if (a.io.engine.transport.name !== 'websocket') await waitFor(a.io.engine, 'upgrade', () => true, 10000);
    assert.equal(a.io.engine.transport.name, 'websocket');

    const events = [];
    a.onAny((name, payload) => events.push([name, payload]));
    const ready = waitFor(a, 'video:ready', () => true, 90000);
    const video = await upload(server.port, alice.token, makeClip(path.join(dir, 'a.mp4')));
    const [readyPayload] = await ready;
    assert.equal(readyPayload.video.id, video.id);
    assert.equal(readyPayload.video.status, 'ready');
    assert.ok(readyPayload.video.hlsUrl);
    const names = events.map(([n]) => n);
    assert.ok(names.includes('video:created'), names.join(','));
    const progress = events.filter(([n]) => n === 'video:progress').map(([, p]) => p);
    assert.ok(progress.length > 0, 'progress events');
    for (const p of progress) {
      assert.equal(p.id, video.id);
      assert.ok(['probe', 'thumbnail', 'mp4', 'hls'].includes(p.stage));
      assert.ok(p.percent >= 0 && p.percent <= 100);
    }
    // Deleting is announced too.
    const deleted = waitFor(a, 'video:deleted');
    assert.equal((await api(server.port, 'DELETE', `/api/videos/${video.id}`, { token: alice.token })).status, 204);
    assert.equal((await deleted)[0].id, video.id);
    assert.deepEqual(seenByBob, []);
    a.close();
    b.close();
  });
});

test('a bad token is refused with connect_error "unauthorized"', async () => {
  await withServer(async (server, dir) => {
    for (const transports of [['polling', 'websocket'], ['websocket']]) {
      const s = connect(server.port, { transports, auth: { token: 'forged-token' }, reconnection: false });
      const [err] = await waitFor(s, 'connect_error');
      assert.equal(err.message, 'unauthorized');
      s.close();
    }
    const none = connect(server.port, { reconnection: false });
    assert.equal((await waitFor(none, 'connect_error'))[0].message, 'unauthorized');
    none.close();
  });
});

test('logout disconnects the sockets of that session', async () => {
  await withServer(async (server, dir) => {
    const alice = await register(server.port, 'alice@example.com', 'A');
    const s = connect(server.port, { transports: ['websocket'], auth: { token: alice.token } });
    await waitFor(s, 'connect');
    const gone = waitFor(s, 'disconnect');
    assert.equal((await api(server.port, 'POST', '/api/auth/logout', { token: alice.token })).status, 204);
    const [reason] = await gone;
    assert.equal(reason, 'io server disconnect');
    s.close();
  });
});

test('the client reconnects by itself after a server restart', async () => {
  const dir = tempDir();
  const data = path.join(dir, 'data');
  let server = await startServer(data);
  const port = server.port;
  try {
    const alice = await register(port, 'alice@example.com', 'A');
    const s = connect(port, { auth: { token: alice.token } });
    await waitFor(s, 'connect');
    const dropped = waitFor(s, 'disconnect');
    assert.equal(await server.stop(), 0);
    await dropped;
    server = await startServer(data, { port });
    await waitFor(s, 'connect', () => true, 20000);
    assert.ok(s.connected);
    s.close();
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('malformed packets close only that session', async () => {
  await withServer(async (server, dir) => {
    const base = `http://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=polling`;
    const open = async () => {
      const text = await (await fetch(base)).text();
      assert.equal(text[0], '0');
      const hello = JSON.parse(text.slice(1));
      assert.deepEqual(Object.keys(hello).sort(), ['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades']);
      assert.deepEqual(hello.upgrades, ['websocket']);
      return hello.sid;
    };
    const bad = await open();
    const good = await open();
    const post = (sid, body) => fetch(`${base}&sid=${sid}`, { method: 'POST', body, headers: { 'Content-Type': 'text/plain;charset=UTF-8' } });
    assert.equal((await post(bad, '4abc')).status, 200);  // an unknown Socket.IO packet type
    await new Promise((r) => setTimeout(r, 100));
    const after = await fetch(`${base}&sid=${bad}`);
    assert.equal(after.status, 400);
    assert.deepEqual(await after.json(), { code: 1, message: 'Session ID unknown' });
    assert.equal((await post(good, '40')).status, 200);  // CONNECT without credentials
    assert.equal(await (await fetch(`${base}&sid=${good}`)).text(), '44{"message":"unauthorized"}');
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/socket.io/?EIO=3&transport=polling`)).status, 400);
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=carrier-pigeon`)).status, 400);
    assert.equal((await post(good, '2')).status, 400);  // a ping from the client is the wrong direction
  });
});

test('heartbeat: a client that never answers pings is dropped; one that does stays', async () => {
  await withServer(async (server, dir) => {
    const alice = await register(server.port, 'alice@example.com', 'A');
    const live = connect(server.port, { transports: ['websocket'], auth: { token: alice.token } });
    await waitFor(live, 'connect');
    const base = `http://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=polling`;
    const hello = JSON.parse((await (await fetch(base)).text()).slice(1));
    assert.equal(hello.pingInterval, 300);
    assert.equal(await (await fetch(`${base}&sid=${hello.sid}`)).text(), '2');  // the server's ping
    await new Promise((r) => setTimeout(r, 1000));                                 // no pong sent
    assert.equal((await fetch(`${base}&sid=${hello.sid}`)).status, 400);
    assert.ok(live.connected, 'the stock client answers pings and stays');
    const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`,
      { headers: { authorization: 'Bearer e2e-metrics-token-0123' } })).text();
    assert.match(metrics, /\nreel_realtime_sessions 1\n/);
    live.close();
  }, { args: ['--ping-interval-ms', '300', '--ping-timeout-ms', '300', '--metrics-token', 'e2e-metrics-token-0123'] });
});

test('websocket framing: fragments are reassembled, pings get pongs, close is answered', async () => {
  const { WebSocket } = await import('ws');
  await withServer(async (server, dir) => {
    const alice = await register(server.port, 'alice@example.com', 'A');
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
    const frames = [];
    let waiting = null;
    ws.on('message', (data) => {
      frames.push(String(data));
      if (waiting) waiting();
    });
    const next = () => new Promise((resolve) => {
      const check = () => (frames.length ? resolve(frames.shift()) : (waiting = check));
      check();
    });
    await new Promise((r) => ws.once('open', r));
    const open = await next();
    assert.equal(open[0], '0');
    assert.deepEqual(JSON.parse(open.slice(1)).upgrades, []);
    // A CONNECT split over three frames.
    const connect = `40${JSON.stringify({ token: alice.token })}`;
    ws.send(connect.slice(0, 5), { fin: false });
    ws.send(connect.slice(5, 20), { fin: false });
    ws.send(connect.slice(20), { fin: true });
    const accepted = await next();
    assert.match(accepted, /^40\{"sid":"/);
    // An event with an ack id gets its ack.
    ws.send('421["hello",{"x":1}]');
    assert.equal(await next(), '431[]');
    // WebSocket-level ping.
    const pong = new Promise((r) => ws.once('pong', (data) => r(String(data))));
    ws.ping('are you there');
    assert.equal(await pong, 'are you there');
    // Close handshake.
    const closed = new Promise((r) => ws.once('close', (code) => r(code)));
    ws.close(1000);
    assert.ok([1000, 1005].includes(await closed));
    // A binary frame is not supported: the server hangs up.
    const ws2 = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
    await new Promise((r) => ws2.once('open', r));
    const closed2 = new Promise((r) => ws2.once('close', r));
    ws2.send(Buffer.from([1, 2, 3]));
    await closed2;
  });
});

test('heartbeat over websocket: pinged pingInterval after each pong; a session that never answers is closed', async () => {
  const { WebSocket } = await import('ws');
  await withServer(async (server, dir) => {
    const url = `ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`;
    const open = (answer) => new Promise((resolve) => {
      const state = { ws: new WebSocket(url), pings: 0, closed: false };
      state.ws.on('message', (data) => {
        if (String(data) !== '2') return;
        state.pings++;
        if (answer) state.ws.send('3');
      });
      state.ws.on('close', () => { state.closed = true; });
      state.ws.once('open', () => resolve(state));
    });
    const silent = await open(false);
    const live = await open(true);
    await new Promise((r) => setTimeout(r, 1650));
    assert.ok(silent.closed, 'the session that never answered is closed');
    assert.equal(silent.pings, 1);
    assert.ok(!live.closed, 'the session that answers stays');
    // 300 ms after each pong (Node's schedule), not every interval + timeout.
    assert.ok(live.pings >= 4, `${live.pings} pings in 1.65 s`);
    live.ws.close();
  }, { args: ['--ping-interval-ms', '300', '--ping-timeout-ms', '300'] });
});

test('upgrade: one WebSocket per session at a time; a failed probe leaves the session on polling', async () => {
  const { WebSocket } = await import('ws');
  await withServer(async (server, dir) => {
    const base = `http://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=polling`;
    const { sid } = JSON.parse((await (await fetch(base)).text()).slice(1));
    const wsUrl = `ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket&sid=${sid}`;
    const first = new WebSocket(wsUrl);
    await new Promise((r) => first.once('open', r));
    const second = new WebSocket(wsUrl);
    const status = await new Promise((resolve) => {
      second.once('unexpected-response', (req, res) => {
        req.destroy();
        resolve(res.statusCode);
      });
      second.once('open', () => resolve(101));
    });
    assert.equal(status, 400);
    const closed = new Promise((r) => first.once('close', r));
    first.send('2wrong');
    await closed;
    const post = await fetch(`${base}&sid=${sid}`, {
      method: 'POST', body: '40', headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
    });
    assert.equal(post.status, 200);
    assert.equal(await (await fetch(`${base}&sid=${sid}`)).text(), '44{"message":"unauthorized"}');
  });
});
