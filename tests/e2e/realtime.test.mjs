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

test('the session cookie joins only from this site: a foreign Origin needs a token of its own (no cross-site WebSocket hijacking)', async () => {
  await withServer(async (server) => {
    const alice = await register(server.port, 'cookie@example.com', 'Cookie Inc');
    const cookie = `reel_session=${alice.token}`;
    for (const transports of [['polling', 'websocket'], ['websocket']]) {
      const foreign = connect(server.port, {
        transports, reconnection: false, extraHeaders: { Cookie: cookie, Origin: 'http://evil.example' },
      });
      assert.equal((await waitFor(foreign, 'connect_error'))[0].message, 'unauthorized', transports.join('+'));
      foreign.close();
      const own = connect(server.port, {
        transports, reconnection: false, extraHeaders: { Cookie: cookie, Origin: `http://127.0.0.1:${server.port}` },
      });
      await waitFor(own, 'connect');
      own.close();
    }
    // A token in the CONNECT is not something a foreign page gets from the browser: it works from anywhere.
    const withToken = connect(server.port, {
      transports: ['websocket'], reconnection: false, auth: { token: alice.token }, extraHeaders: { Origin: 'http://evil.example' },
    });
    await waitFor(withToken, 'connect');
    withToken.close();
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

test('ending a session from another one disconnects that session\'s sockets only', async () => {
  await withServer(async (server, dir) => {
    const alice = await register(server.port, 'alice@example.com', 'A');
    const login = await api(server.port, 'POST', '/api/auth/login', {
      body: { email: 'alice@example.com', password: 'correct horse' }, headers: { 'User-Agent': 'second device' },
    });
    const other = login.json.token;
    const ended = connect(server.port, { transports: ['websocket'], auth: { token: other } });
    const kept = connect(server.port, { transports: ['websocket'], auth: { token: alice.token } });
    await Promise.all([waitFor(ended, 'connect'), waitFor(kept, 'connect')]);
    const list = await api(server.port, 'GET', '/api/auth/sessions', { token: alice.token });
    const target = list.json.sessions.find((s) => s.userAgent === 'second device');
    assert.ok(target && !target.current, list.text);
    const gone = waitFor(ended, 'disconnect');
    assert.equal((await api(server.port, 'DELETE', `/api/auth/sessions/${target.id}`, { token: alice.token })).status, 204);
    const [reason] = await gone;
    assert.equal(reason, 'io server disconnect');
    assert.ok(kept.connected);
    assert.equal((await api(server.port, 'GET', '/api/auth/me', { token: other })).status, 401);
    ended.close();
    kept.close();
  });
});

test('the client reconnects by itself after a server restart', async () => {
  const dir = tempDir();
  const data = path.join(dir, 'data');
  let server = await startServer(data);
  const port = server.port;
  let s;
  try {
    const alice = await register(port, 'alice@example.com', 'A');
    s = connect(port, { auth: { token: alice.token } });
    await waitFor(s, 'connect');
    const dropped = waitFor(s, 'disconnect');
    assert.equal(await server.stop(), 0);
    await dropped;
    // Listening before the restart: the client retries on its own and may be
    // connected to the new server before startServer has seen it listen.
    const reconnected = waitFor(s, 'connect', () => true, 30000);
    reconnected.catch(() => {});  // handled below; not unhandled if startServer throws first
    server = await startServer(data, { port });
    // On failure, say what the restarted server did (it ran, or exited and why).
    const restarted = server;
    await reconnected.catch((e) => {
      const exit = restarted.proc.exitCode ?? restarted.proc.signalCode ?? 'still running';
      throw new Error(`${e.message}; the restarted server: ${exit}; its log ends:\n${restarted.log().slice(-4000)}`);
    });
    assert.ok(s.connected);
  } finally {
    s?.close();  // also when it failed: a client left retrying keeps the file from ending
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
    // The next poll hears of the close (a noop, then the close: Node's answer), later ones of nothing.
    assert.equal(await (await fetch(`${base}&sid=${bad}`)).text(), '6\x1e1');
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

test('upgrade: one WebSocket per session at a time (another is accepted and closed); a failed probe leaves the session on polling', async () => {
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
    assert.equal(status, 101);  // as Node's server: accepted, then closed at once without a code
    assert.equal(await new Promise((r) => second.once('close', r)), 1005);
    assert.equal(first.readyState, WebSocket.OPEN);
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

test('a member removed while connected hears nothing more of the organization and is disconnected', async () => {
  await withServer(async (server, dir) => {
    const owner = await register(server.port, 'owner@example.com', 'Owner Org');
    const member = await register(server.port, 'member@example.com', 'Member Own');
    const invited = await api(server.port, 'POST', `/api/orgs/${owner.orgId}/invitations`, {
      token: owner.token, body: { email: 'member@example.com', role: 'member' },
    });
    assert.equal(invited.status, 202, invited.text);
    const accepted = await api(server.port, 'POST', `/api/auth/invitations/${invited.json.invitation.id}/accept`, {
      token: member.token,
    });
    assert.equal(accepted.status, 200, accepted.text);
    const auth = { token: member.token, organizationId: owner.orgId };
    // One socket with the default transports (polling, then upgrade), one on websocket only.
    const polling = connect(server.port, { auth });
    const ws = connect(server.port, { transports: ['websocket'], auth });
    const watcher = connect(server.port, { transports: ['websocket'], auth: { token: owner.token } });
    const sockets = [polling, ws, watcher];
    try {
      await Promise.all([waitFor(polling, 'connect'), waitFor(ws, 'connect'), waitFor(watcher, 'connect')]);
      const heard = { polling: [], ws: [] };
      polling.onAny((name, payload) => heard.polling.push([name, payload]));
      ws.onAny((name, payload) => heard.ws.push([name, payload]));

      // Before: the member hears the organization.
      const created = waitFor(ws, 'video:created');
      const video = await upload(server.port, owner.token, Buffer.from('not really a video'), 'before');
      assert.equal((await created)[0].video.id, video.id);

      // The owner removes them: both sockets are told (the client does not reconnect).
      const gone = [waitFor(polling, 'disconnect'), waitFor(ws, 'disconnect')];
      const removed = await api(server.port, 'DELETE', `/api/orgs/${owner.orgId}/members/${member.userId}`, { token: owner.token });
      assert.equal(removed.status, 204);
      const seenBefore = { polling: heard.polling.length, ws: heard.ws.length };
      const updated = waitFor(watcher, 'video:updated');
      const patched = await api(server.port, 'PATCH', `/api/videos/${video.id}`, { token: owner.token, body: { title: 'a secret title' } });
      assert.equal(patched.status, 200);
      assert.equal((await updated)[0].video.title, 'a secret title');
      await new Promise((r) => setTimeout(r, 1000));
      assert.deepEqual(heard.polling.slice(seenBefore.polling), []);
      assert.deepEqual(heard.ws.slice(seenBefore.ws), []);
      for (const [reason] of await Promise.all(gone)) assert.equal(reason, 'io server disconnect');
      assert.ok(!JSON.stringify(heard).includes('a secret title'));

      // Coming back to that organization is refused.
      const again = connect(server.port, { auth, reconnection: false });
      sockets.push(again);
      assert.equal((await waitFor(again, 'connect_error'))[0].message, 'unauthorized');
    } finally {
      for (const s of sockets) s.close();
    }
  }, { args: ['--workers', '0'] });
});

test('a second CONNECT on one session closes that session and joins nothing', async () => {
  const { WebSocket } = await import('ws');
  await withServer(async (server, dir) => {
    const alice = await register(server.port, 'alice@example.com', 'A');
    const bob = await register(server.port, 'bob@example.com', 'B');
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
    const frames = [];
    ws.on('message', (data) => frames.push(String(data)));
    const closed = new Promise((r) => ws.once('close', r));
    await new Promise((r) => ws.once('open', r));
    ws.send(`40${JSON.stringify({ token: alice.token })}`);
    const deadline = Date.now() + 5000;
    while (!frames.some((f) => f.startsWith('40{"sid"')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(frames.some((f) => f.startsWith('40{"sid"')), frames.join(' | '));
    ws.send(`40${JSON.stringify({ token: bob.token })}`);
    const timeout = new Promise((r) => setTimeout(() => r('still open'), 3000));
    assert.notEqual(await Promise.race([closed, timeout]), 'still open');
    assert.equal(frames.filter((f) => f.startsWith('40')).length, 1);
    // Bob's organization never reached it.
    await upload(server.port, bob.token, Buffer.from('bytes'), 'bob only');
    assert.ok(!frames.some((f) => f.includes('bob only')));
    ws.terminate();
  }, { args: ['--workers', '0'] });
});

test('realtime limits: no CONNECT in time closes the session; sessions per address are capped; a sid is bound to its client', async () => {
  const { WebSocket } = await import('ws');
  await withServer(async (server, dir) => {
    const base = `http://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=polling`;
    const from = (address) => ({ headers: { 'X-Forwarded-For': address } });
    // A WebSocket that never sends CONNECT is closed.
    const idle = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`, from('198.51.100.9'));
    const started = Date.now();
    await new Promise((r) => idle.once('close', r));
    assert.ok(Date.now() - started < 3000);

    // Two sessions per client address (behind the trusted proxy, each forwarded address counts alone).
    const open = async (address) => {
      const res = await fetch(base, from(address));
      return { status: res.status, body: await res.text() };
    };
    const first = await open('203.0.113.5');
    assert.equal(first.status, 200);
    assert.equal((await open('203.0.113.5')).status, 200);
    const third = await open('203.0.113.5');
    assert.equal(third.status, 429);
    assert.equal(JSON.parse(third.body).code, 4);
    assert.equal((await open('203.0.113.6')).status, 200);

    // A sid from another client is unknown; its owner is unaffected.
    const { sid } = JSON.parse(first.body.slice(1));
    const stolen = await fetch(`${base}&sid=${sid}`, from('203.0.113.6'));
    assert.equal(stolen.status, 400);
    assert.deepEqual(await stolen.json(), { code: 1, message: 'Session ID unknown' });
    const own = await fetch(`${base}&sid=${sid}`, {
      method: 'POST', body: '40', headers: { 'Content-Type': 'text/plain;charset=UTF-8', 'X-Forwarded-For': '203.0.113.5' },
    });
    assert.equal(own.status, 200);
    assert.equal(await (await fetch(`${base}&sid=${sid}`, from('203.0.113.5'))).text(), '44{"message":"unauthorized"}');
  }, { args: ['--realtime-connect-timeout-ms', '300', '--realtime-max-per-address', '2', '--trusted-proxies', '127.0.0.1'] });
});
