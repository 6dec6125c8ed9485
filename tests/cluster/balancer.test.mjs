// The balancer (deploy/haproxy.cfg) in front of two API nodes: Socket.IO
// polling sticks to one node, WebSockets upgrade through it, X-Forwarded-For
// reaches reel and is believed only for the right-most entry, and a dead node
// leaves rotation and comes back without failed requests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, call, register, connect, waitFor, withLogs, sleep, PASSWORD } from './lib.mjs';

let cluster;
let alice;
before(async () => {
  cluster = await startCluster({ env: { REEL_PING_INTERVAL_MS: '300', REEL_PING_TIMEOUT_MS: '1000' } });
  alice = await register(cluster.lb, 'alice');
});
after(async () => {
  await cluster?.down();
});

// The HAProxy log lines of one Engine.IO session: which node served each request.
function nodesOfSession(sid) {
  return cluster.log('haproxy').split('\n')
    .filter((l) => l.includes(`sid=${sid}`))
    .map((l) => /reel_api\/(api\d)/.exec(l)?.[1] ?? 'none');
}

test('Socket.IO on polling only, through the balancer: sticks to one node, stays connected, gets events', withLogs(() => cluster, async (t) => {
  const s = connect(cluster.lb, alice.token, { transports: ['polling'], withCredentials: true });
  try {
    await waitFor(s, 'connect', () => true, 10000);
    const sid = s.io.engine.id;
    let pings = 0;
    s.io.engine.on('ping', () => pings++);
    const dropped = [];
    s.on('disconnect', (reason) => dropped.push(reason));
    await sleep(2500);  // pingInterval 300 ms: several long polls and POSTed pongs
    assert.deepEqual(dropped, [], 'stays connected');
    assert.ok(s.connected);
    assert.equal(s.io.engine.transport.name, 'polling');
    assert.ok(pings >= 5, `${pings} ping cycles`);
    const nodes = nodesOfSession(sid);
    assert.ok(nodes.length >= 10, `${nodes.length} requests of the session in the balancer's log`);
    assert.equal(new Set(nodes).size, 1, `every request of the session on one node: ${nodes.join(' ')}`);
    const node = nodes[0];
    console.log(`# polling session ${sid} on ${node}: ${nodes.length} requests, ${pings} pings`);

    // An event made on the socket's own node reaches it over polling.
    const created = waitFor(s, 'video:created', () => true, 10000);
    const made = await call(cluster.url(node), 'POST', '/api/videos?title=same-node', {
      token: alice.token, body: Buffer.from('not a video'), headers: { 'Content-Type': 'video/mp4' },
    });
    assert.equal(made.status, 201, made.text);
    assert.equal((await created)[0].video.id, made.json.video.id);

    // One made on the other node arrives too (Redis fan-out between API nodes).
    await t.test('an event made on the other node arrives over polling too (needs the Redis fan-out)', async () => {
      const other = node === 'api1' ? 'api2' : 'api1';
      const started = Date.now();
      const created2 = waitFor(s, 'video:created', () => true, 5000);
      const made2 = await call(cluster.url(other), 'POST', '/api/videos?title=other-node', {
        token: alice.token, body: Buffer.from('not a video'), headers: { 'Content-Type': 'video/mp4' },
      });
      assert.equal(made2.status, 201, made2.text);
      assert.equal((await created2)[0].video.id, made2.json.video.id);
      console.log(`# video:created from ${other} reached the polling socket on ${node} in ${Date.now() - started} ms`);
    });
  } finally {
    s.close();
  }
}));

test('without the stickiness cookie, a polling session breaks (what the cookie is for)', withLogs(() => cluster, async () => {
  // engine.io-client in Node drops cookies without withCredentials: round
  // robin then sends the session's requests to both nodes, and the one that
  // did not open it answers "Session ID unknown".
  const s = connect(cluster.lb, alice.token, { transports: ['polling'], withCredentials: false, reconnection: false });
  try {
    const broke = await Promise.race([
      waitFor(s, 'connect_error', () => true, 6000).then(([e]) => `connect_error: ${e.message}`),
      waitFor(s, 'disconnect', () => true, 6000).then(([reason]) => `disconnect: ${reason}`),
    ]);
    console.log(`# without the cookie: ${broke}`);
  } finally {
    s.close();
  }
}));

test('the default client upgrades to WebSocket through the balancer, on the node of its polling session', withLogs(() => cluster, async () => {
  const s = connect(cluster.lb, alice.token, { withCredentials: true });
  try {
    await waitFor(s, 'connect', () => true, 10000);
    if (s.io.engine.transport.name !== 'websocket') await waitFor(s.io.engine, 'upgrade', () => true, 10000);
    assert.equal(s.io.engine.transport.name, 'websocket');
    const nodes = nodesOfSession(s.io.engine.id);
    assert.equal(new Set(nodes).size, 1, nodes.join(' '));
    // Still alive after a few heartbeats over the tunnel.
    await sleep(1000);
    assert.ok(s.connected);
  } finally {
    s.close();
  }
}));

test('a killed API node leaves rotation within 3 s and comes back; no request fails meanwhile', withLogs(() => cluster, async () => {
  const killedAt = Date.now();
  await cluster.kill('api1');
  const statuses = [];
  let down = null;
  cluster.waitLb('api1', 'DOWN', 5000).then(() => (down = Date.now() - killedAt), () => (down = -1));
  // Requests keep coming; a refused connection is retried on api2.
  while (down === null) {
    const [me, login] = await Promise.all([
      call(cluster.lb, 'GET', '/api/auth/me', { token: alice.token }),
      call(cluster.lb, 'POST', '/api/auth/login', { body: { email: alice.email, password: PASSWORD } }),
    ]);
    statuses.push(me.status, login.status);
    await sleep(50);
  }
  assert.ok(down > 0 && down <= 3000, `api1 out of rotation after ${down} ms`);
  assert.deepEqual([...new Set(statuses)], [200], `statuses while api1 was dead: ${statuses.join(' ')}`);
  const restartedAt = Date.now();
  await cluster.start('api1');
  const up = await cluster.waitLb('api1', 'UP', 5000);
  console.log(`# api1 DOWN ${down} ms after kill -9 (${statuses.length} requests, all 200); back UP ${Date.now() - restartedAt} ms after start (${up} ms after ready)`);
  // Both serve again.
  for (let i = 0; i < 4; i++) assert.equal((await call(cluster.lb, 'GET', '/api/auth/me', { token: alice.token })).status, 200);
  const servers = await cluster.lbServers();
  assert.ok(servers.api1.status.startsWith('UP') && servers.api2.status.startsWith('UP'), JSON.stringify(servers));
}));

test('X-Forwarded-For: the balancer forwards the client address and reel believes only the right-most untrusted entry', withLogs(() => cluster, async () => {
  // Login throttling counts failures per client address (20 free in 15 minutes, then delays),
  // all nodes together (through Redis). The attacker, on 127.0.0.7, forges a different
  // X-Forwarded-For on every attempt (and a different email, so the per-email
  // limit stays out of it): if reel believed the forged entries, nothing
  // would ever be throttled.
  const attacker = '127.0.0.7';
  const statuses = [];
  let n = 0;
  const attempt = (localAddress, forged) => call(cluster.lb, 'POST', '/api/auth/login', {
    localAddress,
    headers: { 'X-Forwarded-For': forged },
    body: { email: `nobody-${++n}@example.com`, password: 'wrong password' },
  });
  while (statuses.length < 60 && statuses.slice(-2).join() !== '429,429') {
    const pair = await Promise.all([attempt(attacker, `203.0.113.${n % 250}`), attempt(attacker, `198.51.100.${n % 250}`)]);
    statuses.push(...pair.map((r) => r.status));
  }
  const failures = statuses.filter((s) => s === 401).length;
  assert.deepEqual(statuses.slice(-2), [429, 429], `statuses: ${statuses.join(' ')}`);
  // 20 free ones of the cluster's, then one that starts the delay (two
  // attempts at once may both slip in before the count).
  assert.ok(failures >= 21 && failures <= 23, `${failures} failures before both nodes throttled (20 free in all)`);
  console.log(`# ${failures} failed logins from ${attacker} with forged X-Forwarded-For, then 429 on both nodes`);

  // The same forged header from another client address is not throttled:
  // reel counted 127.0.0.7 (the address the balancer saw), not the balancer
  // itself (127.0.0.2) and not what the client wrote.
  for (let i = 0; i < 2; i++) {
    const innocent = await attempt('127.0.0.8', '203.0.113.1');
    assert.equal(innocent.status, 401, innocent.text);
  }
  // And the attacker stays throttled whatever it forges, on both nodes.
  for (const forged of ['127.0.0.8', '127.0.0.2', '10.0.0.1, 127.0.0.8']) {
    const again = await attempt(attacker, forged);
    assert.equal(again.status, 429, `forged ${forged}: ${again.text}`);
    assert.ok(Number(again.headers['retry-after']) > 0);
  }
}));
