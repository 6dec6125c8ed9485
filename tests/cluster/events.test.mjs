// Across nodes: events made on one API node or by a worker reach sockets on
// another node (Redis fan-out), and a logout, an accepted invitation or a
// member's removal on one node is obeyed by the other within a second
// (revocation and cache invalidation).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCluster, call, register, connect, waitFor, eventAfter, waitReady, withLogs, within, clip, PASSWORD } from './lib.mjs';

let cluster;
let work;
before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-cluster-work-'));
  cluster = await startCluster();
});
after(async () => {
  await cluster?.down();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

// The time of a log line ("2026-...Z INFO video ready video=ID ...") in ms since the epoch.
function loggedAt(names, pattern) {
  for (const n of names) {
    const line = cluster.log(n).split('\n').find((l) => pattern.test(l));
    if (line) return { node: n, at: Date.parse(line.split(' ')[0]) };
  }
  return null;
}

test('a socket on api2 follows a video uploaded through api1 and processed by a worker', withLogs(() => cluster, async () => {
  const alice = await register(cluster.api1, 'alice');
  const on1 = connect(cluster.api1, alice.token, { transports: ['websocket'] });
  const on2 = connect(cluster.api2, alice.token, { transports: ['websocket'] });
  try {
    await Promise.all([waitFor(on1, 'connect'), waitFor(on2, 'connect')]);
    const heard = { on1: [], on2: [] };
    on1.onAny((name, payload) => heard.on1.push({ name, payload, at: Date.now() }));
    on2.onAny((name, payload) => heard.on2.push({ name, payload, at: Date.now() }));
    let settle;
    const settled = new Promise((r) => (settle = r));
    const ready = eventAfter(on2, 'video:ready', () => true, settled);
    const made = await call(cluster.api1, 'POST', '/api/videos?title=fan-out', {
      token: alice.token, body: fs.readFileSync(clip(work, 4)), headers: { 'Content-Type': 'video/mp4' },
    });
    assert.equal(made.status, 201, made.text);
    const id = made.json.video.id;
    waitReady(cluster.api1, alice.token, id).then(settle, settle);
    const [payload] = await ready;
    const readyAt = Date.now();
    assert.equal(payload.video.id, id);
    assert.equal(payload.video.status, 'ready');

    const names = heard.on2.map((e) => e.name);
    assert.ok(names.includes('video:created'), `api2 heard: ${names.join(' ')}`);
    const progress = heard.on2.filter((e) => e.name === 'video:progress').map((e) => e.payload);
    assert.ok(progress.length > 0, `progress events on api2: ${names.join(' ')}`);
    for (const p of progress) {
      assert.equal(p.id, id);
      assert.ok(['probe', 'thumbnail', 'mp4', 'hls'].includes(p.stage), p.stage);
    }
    assert.equal(heard.on2.filter((e) => e.name === 'video:ready').length, 1);

    // Delays: video:created (made on api1) on api2 versus on api1 itself;
    // video:ready on api2 after the worker logged it.
    const created1 = heard.on1.find((e) => e.name === 'video:created')?.at;
    const created2 = heard.on2.find((e) => e.name === 'video:created').at;
    // (The worker may log the line just after publishing the event.)
    let worker = null;
    await within(2000, () => (worker = loggedAt(['worker1', 'worker2'], new RegExp(`INFO video ready video=${id}`))),
      { what: 'the worker logging "video ready"' });
    console.log(`# video:created on api2 ${created1 ? created2 - created1 : '?'} ms after api1's own socket; ` +
      `video:ready on api2 ${worker ? readyAt - worker.at : '?'} ms after ${worker?.node} logged it; ${progress.length} progress events`);
  } finally {
    on1.close();
    on2.close();
  }
}));

test('logout on api1: the token is refused on api2 within 1 s, and its socket there is closed', withLogs(() => cluster, async (t) => {
  const bob = await register(cluster.api1, 'bob');
  const login = await call(cluster.api1, 'POST', '/api/auth/login', { body: { email: bob.email, password: PASSWORD } });
  assert.equal(login.status, 200, login.text);
  const token = login.json.token;
  // api2 knows the session (its cache is warm).
  for (let i = 0; i < 2; i++) assert.equal((await call(cluster.api2, 'GET', '/api/auth/me', { token })).status, 200);
  const s = connect(cluster.api2, token, { transports: ['websocket'] });
  try {
    await waitFor(s, 'connect');
    const gone = waitFor(s, 'disconnect', () => true, 1000);
    gone.catch(() => {});
    const out = await call(cluster.api1, 'POST', '/api/auth/logout', { token });
    assert.equal(out.status, 204);
    const ms = await within(1000, async () => (await call(cluster.api2, 'GET', '/api/auth/me', { token })).status === 401,
      { every: 50, what: 'GET /api/auth/me on api2 answering 401' });
    console.log(`# logout on api1: 401 on api2 after ${ms} ms`);
    // The other session of the same user is untouched.
    assert.equal((await call(cluster.api2, 'GET', '/api/auth/me', { token: bob.token })).status, 200);
    await t.test('the socket of that session on api2 is disconnected', async () => {
      const [reason] = await gone;
      assert.equal(reason, 'io server disconnect');
    });
  } finally {
    s.close();
  }
}));

test('a session ended from the list on api1 is refused on api2 within 1 s, and its socket there is closed', withLogs(() => cluster, async () => {
  const cy = await register(cluster.api1, 'cy');
  const login = await call(cluster.api2, 'POST', '/api/auth/login', {
    body: { email: cy.email, password: PASSWORD }, headers: { 'User-Agent': 'tablet' },
  });
  assert.equal(login.status, 200, login.text);
  const token = login.json.token;
  assert.equal((await call(cluster.api2, 'GET', '/api/auth/me', { token })).status, 200);  // cached on api2
  const s = connect(cluster.api2, token, { transports: ['websocket'] });
  try {
    await waitFor(s, 'connect');
    const gone = waitFor(s, 'disconnect', () => true, 1000);
    gone.catch(() => {});
    const list = await call(cluster.api1, 'GET', '/api/auth/sessions', { token: cy.token });
    assert.equal(list.status, 200, list.text);
    const tablet = list.json.sessions.find((x) => x.userAgent === 'tablet');
    assert.ok(tablet && !tablet.current, list.text);
    assert.equal((await call(cluster.api1, 'DELETE', `/api/auth/sessions/${tablet.id}`, { token: cy.token })).status, 204);
    const ms = await within(1000, async () => (await call(cluster.api2, 'GET', '/api/auth/me', { token })).status === 401,
      { every: 50, what: 'the ended session refused on api2' });
    console.log(`# session ended on api1: 401 on api2 after ${ms} ms`);
    assert.equal((await call(cluster.api2, 'GET', '/api/auth/me', { token: cy.token })).status, 200);
    const [reason] = await gone;
    assert.equal(reason, 'io server disconnect');
  } finally {
    s.close();
  }
}));

test('an invitation accepted on api1 lets the member in on api2 within 1 s', withLogs(() => cluster, async () => {
  const owner = await register(cluster.api1, 'owner');
  const member = await register(cluster.api1, 'member');
  const asMember = () => call(cluster.api2, 'GET', '/api/videos', { token: member.token, org: owner.orgId });
  // api2 has served the member without that organization (its cache is warm).
  for (let i = 0; i < 2; i++) assert.equal((await asMember()).status, 403);
  const invited = await call(cluster.api2, 'POST', `/api/orgs/${owner.orgId}/invitations`, {
    token: owner.token, body: { email: member.email, role: 'member' },
  });
  assert.equal(invited.status, 202, invited.text);
  const accepted = await call(cluster.api1, 'POST', `/api/auth/invitations/${invited.json.invitation.id}/accept`, {
    token: member.token,
  });
  assert.equal(accepted.status, 200, accepted.text);
  const ms = await within(1000, async () => (await asMember()).status === 200, { every: 50, what: 'GET /api/videos on api2 answering 200' });
  console.log(`# invitation accepted on api1: 200 on api2 after ${ms} ms`);
}));

test('a member removed on api1 gets 403 on api2 within 1 s, and its socket there is closed', withLogs(() => cluster, async (t) => {
  const owner = await register(cluster.api1, 'owner');
  const member = await register(cluster.api1, 'member');
  const invited = await call(cluster.api1, 'POST', `/api/orgs/${owner.orgId}/invitations`, {
    token: owner.token, body: { email: member.email, role: 'member' },
  });
  assert.equal(invited.status, 202, invited.text);
  const accepted = await call(cluster.api1, 'POST', `/api/auth/invitations/${invited.json.invitation.id}/accept`, {
    token: member.token,
  });
  assert.equal(accepted.status, 200, accepted.text);
  const asMember = () => call(cluster.api2, 'GET', '/api/videos', { token: member.token, org: owner.orgId });
  // api2 has served the member in that organization (its cache is warm).
  for (let i = 0; i < 2; i++) assert.equal((await asMember()).status, 200);
  const s = connect(cluster.api2, member.token, { transports: ['websocket'], auth: { token: member.token, organizationId: owner.orgId } });
  try {
    await waitFor(s, 'connect');
    const gone = waitFor(s, 'disconnect', () => true, 1000);
    gone.catch(() => {});
    const removed = await call(cluster.api1, 'DELETE', `/api/orgs/${owner.orgId}/members/${member.userId}`, { token: owner.token });
    assert.equal(removed.status, 204, removed.text);
    const ms = await within(1000, async () => (await asMember()).status === 403, { every: 50, what: 'GET /api/videos on api2 answering 403' });
    console.log(`# member removed on api1: 403 on api2 after ${ms} ms`);
    // Their own organization still works.
    assert.equal((await call(cluster.api2, 'GET', '/api/videos', { token: member.token })).status, 200);
    await t.test('the member\'s socket in that organization on api2 is disconnected', async () => {
      const [reason] = await gone;
      assert.equal(reason, 'io server disconnect');
    });
  } finally {
    s.close();
  }
}));

test('sharing holds on every node: a video made private on api1 stops playing anonymously on api2 within 1 s, a link made on api1 plays on api2', withLogs(() => cluster, async () => {
  const owner = await register(cluster.api1, 'sharer');
  const made = await call(cluster.api1, 'POST', '/api/videos?title=shared&visibility=public', {
    token: owner.token, body: fs.readFileSync(clip(work, 2)), headers: { 'Content-Type': 'video/mp4' },
  });
  assert.equal(made.status, 201, made.text);
  const id = made.json.video.id;
  await waitReady(cluster.api1, owner.token, id);
  const anonymous = () => call(cluster.api2, 'GET', `/api/stream/${id}/video`, { headers: { Range: 'bytes=0-9' } });
  // api2 has played it anonymously (its stream cache holds the row).
  for (let i = 0; i < 2; i++) {
    const r = await anonymous();
    assert.equal(r.status, 206, r.text);
    assert.equal(r.headers['access-control-allow-origin'], '*');
  }
  // A link signed on api1 (the generated key is shared through the database) plays on api2.
  const link = await call(cluster.api1, 'POST', `/api/videos/${id}/playback-url`, { token: owner.token, body: { expiresIn: 600 } });
  assert.equal(link.status, 201, link.text);
  const private_ = await call(cluster.api1, 'PATCH', `/api/videos/${id}`, { token: owner.token, body: { visibility: 'private' } });
  assert.equal(private_.status, 200, private_.text);
  const ms = await within(1000, async () => (await anonymous()).status === 404, { every: 50, what: 'anonymous playback on api2 answering 404' });
  console.log(`# made private on api1: anonymous 404 on api2 after ${ms} ms`);
  const signed = await call(cluster.api2, 'GET', link.json.url, { headers: { Range: 'bytes=0-9' } });
  assert.equal(signed.status, 206, signed.text);
  const master = await call(cluster.api2, 'GET', link.json.hlsUrl);
  assert.equal(master.status, 200, master.text);
  assert.match(master.text, new RegExp(`index\\.m3u8\\?token=${link.json.token.replace(/[.]/g, '\\.')}`));
}));

test('a poster chosen on api1 shows on api2 at once: the share page names its version, the poster and its scaled copy are the new ones', withLogs(() => cluster, async () => {
  const owner = await register(cluster.api1, 'posters');
  const made = await call(cluster.api1, 'POST', '/api/videos?title=cover&visibility=public', {
    token: owner.token, body: fs.readFileSync(clip(work, 2)), headers: { 'Content-Type': 'video/mp4' },
  });
  assert.equal(made.status, 201, made.text);
  const id = made.json.video.id;
  await waitReady(cluster.api1, owner.token, id);
  // api2 has shown the share page and the scaled poster (its caches hold them).
  const page = () => call(cluster.api2, 'GET', `/v/${id}`);
  const scaled = (v) => call(cluster.api2, 'GET', `/api/stream/${id}/thumbnail.jpg?width=160&v=${v}`);
  assert.doesNotMatch((await page()).text, /thumbnail\.jpg\?v=/);
  const before = await call(cluster.api2, 'GET', `/api/stream/${id}/thumbnail.jpg`);
  const smallBefore = await scaled(0);
  assert.equal(before.status, 200);
  assert.equal(smallBefore.status, 200);
  const chosen = await call(cluster.api1, 'PUT', `/api/videos/${id}/poster`, { token: owner.token, body: { time: 1.5 } });
  assert.equal(chosen.status, 200, chosen.text);
  assert.equal(chosen.json.video.poster.version, 1);
  const ms = await within(1000, async () => (await page()).text.includes(`/api/stream/${id}/thumbnail.jpg?v=1"`),
    { every: 20, what: 'the share page on api2 naming poster version 1' });
  console.log(`# poster chosen on api1: api2's share page names it after ${ms} ms`);
  const after = await call(cluster.api2, 'GET', `/api/stream/${id}/thumbnail.jpg?v=1`);
  assert.equal(after.status, 200);
  assert.notEqual(after.headers.etag, before.headers.etag);
  assert.ok(!after.raw.equals(before.raw));
  const smallAfter = await scaled(1);
  assert.equal(smallAfter.status, 200);
  assert.ok(!smallAfter.raw.equals(smallBefore.raw), 'the scaled poster on api2 is the new one');
}));
