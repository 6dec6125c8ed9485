// What the nodes agree on through Redis besides events: failed logins are
// counted by all nodes together, one writer per tus upload in the whole
// cluster (and a termination on one node stops the writer on the other),
// and without Redis every node keeps serving, says "degraded" on /readyz,
// and still obeys another node's logout within a second or so.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startCluster, call, register, withLogs, within, sleep, PASSWORD } from './lib.mjs';

let cluster;
before(async () => {
  cluster = await startCluster();
});
after(async () => {
  await cluster?.down();
});

test('a password change on api1 ends the user\'s other sessions on api2 within 1 s; logout-all too', withLogs(() => cluster, async () => {
  const dan = await register(cluster.api1, 'changer');
  const other = (await call(cluster.api2, 'POST', '/api/auth/login', { body: { email: dan.email, password: PASSWORD } })).json.token;
  assert.equal((await call(cluster.api2, 'GET', '/api/auth/me', { token: other })).status, 200);  // cached on api2
  const changed = await call(cluster.api1, 'POST', '/api/auth/password', {
    token: dan.token, body: { currentPassword: PASSWORD, newPassword: 'battery staple 42' },
  });
  assert.equal(changed.status, 204, changed.text);
  const took = await within(1000, async () => (await call(cluster.api2, 'GET', '/api/auth/me', { token: other })).status === 401,
    { what: 'the other session refused on api2' });
  assert.equal((await call(cluster.api2, 'GET', '/api/auth/me', { token: dan.token })).status, 200, 'the changing session goes on');
  console.log(`# password change on api1: other session refused on api2 after ${took} ms`);

  assert.equal((await call(cluster.api2, 'GET', '/api/auth/me', { token: dan.token })).status, 200);
  assert.equal((await call(cluster.api1, 'POST', '/api/auth/logout-all', { token: dan.token })).status, 204);
  await within(1000, async () => (await call(cluster.api2, 'GET', '/api/auth/me', { token: dan.token })).status === 401,
    { what: 'logout-all on api1 obeyed on api2' });
}));

test('failed logins spread over two nodes count together: past three free ones, either node slows the email down', withLogs(() => cluster, async () => {
  const alice = await register(cluster.api1, 'throttled');
  // Five failures alternating nodes: three free, then each makes the next
  // attempt wait 1 s, 2 s… (either node answers 429 until then).
  let failures = 0, waited = 0;
  while (failures < 5) {
    const node = failures % 2 ? cluster.api2 : cluster.api1;
    const r = await call(node, 'POST', '/api/auth/login', { body: { email: alice.email, password: 'wrong ' + failures } });
    if (r.status === 429) {
      waited++;
      await new Promise((done) => setTimeout(done, Number(r.headers['retry-after']) * 1000));
      continue;
    }
    assert.equal(r.status, 401, `attempt ${failures + 1} on ${node}: ${r.text}`);
    failures++;
  }
  assert.ok(waited >= 1, 'the fifth failure waited for the fourth one\'s delay');
  let retry = 0;
  for (const node of [cluster.api1, cluster.api2]) {
    const r = await call(node, 'POST', '/api/auth/login', { body: { email: alice.email, password: PASSWORD } });
    assert.equal(r.status, 429, `after five failures, even the right password waits on ${node}: ${r.text}`);
    retry = Number(r.headers['retry-after']);
    assert.ok(retry >= 1 && retry <= 2, `a 2 s delay, not a lock-out: Retry-After ${retry}`);
    assert.equal(r.json.error.code, 'too_many_requests');
  }
  await new Promise((done) => setTimeout(done, retry * 1000));
  const r = await call(cluster.api2, 'POST', '/api/auth/login', { body: { email: alice.email, password: PASSWORD } });
  assert.equal(r.status, 200, `the right password after the delay: ${r.text}`);
}));

// Creates a tus upload of `length` bytes through `base`; returns its URL path.
async function createUpload(base, token, length) {
  const meta = `filename ${Buffer.from('a.mp4').toString('base64')},filetype ${Buffer.from('video/mp4').toString('base64')}`;
  const r = await call(base, 'POST', '/api/uploads', {
    token,
    headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(length), 'Upload-Metadata': meta },
  });
  assert.equal(r.status, 201, r.text);
  return new URL(r.headers.location, base).pathname;
}

// A PATCH that sends `first` of `total` bytes, then holds the request open.
function slowPatch(base, pathname, token, total, first) {
  const req = http.request(new URL(pathname, base), {
    method: 'PATCH',
    agent: false,
    headers: {
      Authorization: `Bearer ${token}`,
      'Tus-Resumable': '1.0.0',
      'Upload-Offset': '0',
      'Content-Type': 'application/offset+octet-stream',
      'Content-Length': String(total),
    },
  });
  const answered = new Promise((resolve) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode }));
      res.on('error', (e) => resolve({ error: e.message }));
    });
    req.on('error', (e) => resolve({ error: e.message }));
  });
  req.write(Buffer.alloc(first, 7));
  return { answered, req };
}

const tusPatch = { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' };

test('one writer per upload across nodes: a PATCH on api2 while api1 writes gets 423; a DELETE on api2 stops the writer on api1', withLogs(() => cluster, async () => {
  const bob = await register(cluster.api1, 'writer');
  const total = 4 << 20;
  const pathname = await createUpload(cluster.api1, bob.token, total);
  // api1 holds the upload once it has read the slow PATCH's head; until then
  // api2 may take it. The probes on api2 therefore claim an offset the
  // upload does not have: 423 while api1 writes, 409 (nothing appended)
  // before. A probe that held the lock at the moment api1 asked for it made
  // api1's PATCH a 423: it is sent again.
  let slow = slowPatch(cluster.api1, pathname, bob.token, total, 64 << 10);
  let slowEnded = null;
  slow.answered.then((r) => { slowEnded = r; });
  await within(10000, async () => {
    if (slowEnded?.status === 423) {
      slow.req.destroy();
      slow = slowPatch(cluster.api1, pathname, bob.token, total, 64 << 10);
      slowEnded = null;
      slow.answered.then((r) => { slowEnded = r; });
    }
    const r = await call(cluster.api2, 'PATCH', pathname,
      { token: bob.token, body: Buffer.alloc(1024, 1), headers: { ...tusPatch, 'Upload-Offset': '1' } });
    assert.ok(r.status === 423 || r.status === 409, `api2 answered ${r.status} while api1 was writing: ${r.text}`);
    return r.status === 423;
  }, { what: 'a 423 on api2 while api1 writes' });

  const started = Date.now();
  const del = await call(cluster.api2, 'DELETE', pathname, { token: bob.token, headers: { 'Tus-Resumable': '1.0.0' } });
  const took = Date.now() - started;
  assert.equal(del.status, 204, del.text);
  assert.ok(took < 5000, `the termination took ${took} ms`);
  console.log(`# DELETE on api2 stopped api1's writer and terminated in ${took} ms`);
  const ended = await Promise.race([slow.answered, sleep(5000).then(() => 'still open')]);
  assert.notEqual(ended, 'still open', 'the writer on api1 was not stopped');
  slow.req.destroy();
  const head = await call(cluster.api1, 'HEAD', pathname, { token: bob.token, headers: { 'Tus-Resumable': '1.0.0' } });
  assert.equal(head.status, 404);
}));

test('Redis down: every node still serves, /readyz says degraded, a logout on api1 is obeyed on api2; ready again after', withLogs(() => cluster, async () => {
  const carol = await register(cluster.api1, 'degraded');
  const second = await call(cluster.api2, 'POST', '/api/auth/login', { body: { email: carol.email, password: PASSWORD } });
  assert.equal(second.status, 200);
  const token = second.json.token;
  assert.equal((await call(cluster.api2, 'GET', '/api/videos', { token })).status, 200);  // cached on api2

  await cluster.kill('redis');
  try {
    await within(10000, async () => {
      const r = await call(cluster.api1, 'GET', '/readyz');
      return r.status === 200 && r.json.status === 'degraded' && typeof r.json.checks.redis === 'string' && r.json.checks.redis !== 'ok';
    }, { what: '/readyz degraded on api1' });
    const r2 = await call(cluster.api2, 'GET', '/readyz');
    assert.equal(r2.status, 200, 'a node without Redis stays in rotation');
    // Requests still work, through the balancer too.
    assert.equal((await call(cluster.lb, 'GET', '/api/videos', { token })).status, 200);
    const login = await call(cluster.lb, 'POST', '/api/auth/login', { body: { email: carol.email, password: PASSWORD } });
    assert.equal(login.status, 200, login.text);

    // A logout on api1 is not heard on api2 through Redis now, but api2
    // trusts its cache for a second only while Redis is down.
    assert.equal((await call(cluster.api1, 'POST', '/api/auth/logout', { token })).status, 204);
    const took = await within(2500, async () => (await call(cluster.api2, 'GET', '/api/videos', { token })).status === 401,
      { what: 'the logged-out token refused on api2 without Redis' });
    console.log(`# without Redis, logout on api1 obeyed on api2 after ${took} ms`);
  } finally {
    await cluster.start('redis');
  }
  await within(15000, async () => {
    const r = await call(cluster.api1, 'GET', '/readyz');
    return r.status === 200 && r.json.status === 'ready';
  }, { what: '/readyz ready again after Redis came back' });
}));
