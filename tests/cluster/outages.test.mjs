// Shared services go away and come back: Redis restarted while a video is
// processed (events resume on the other API node's sockets), PostgreSQL
// killed and started again (503 meanwhile, nothing lost, an upload in
// progress completes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as tus from 'tus-js-client';
import {
  call, connect, waitFor, eventAfter, waitReady, withLogs, within, sleep, sha256, clip,
  originalPath, throttledStack,
  useCluster, reelUpload,
} from './lib.mjs';

let cluster;
let work;
let alice;
useCluster((c) => ({ cluster, work, alice } = c));

test('Redis restarted during processing: events resume on a socket on the other API node, the video gets ready', withLogs(() => cluster, async (t) => {
  const file = clip(work, 8, '1280x720');
  const s = connect(cluster.api2, alice.token, { transports: ['websocket'] });
  const heard = [];
  s.onAny((name, payload) => heard.push({ name, payload, at: Date.now() }));
  try {
    await waitFor(s, 'connect');
    const made = await call(cluster.api1, 'POST', '/api/videos?title=through-a-redis-restart', {
      token: alice.token, body: fs.readFileSync(file), headers: { 'Content-Type': 'video/mp4' },
    });
    assert.equal(made.status, 201, made.text);
    const id = made.json.video.id;
    const ready = waitReady(cluster.lb, alice.token, id, 90000);
    ready.catch(() => {});
    const readyEvent = eventAfter(s, 'video:ready', (p) => p?.video?.id === id, ready);
    readyEvent.catch(() => {});
    // Once api2 hears the first progress (or, should it hear nothing, a
    // second after a worker started), Redis goes away and comes back (same
    // port, empty).
    let startedAt = null;
    await within(20000, () => {
      if (heard.some((e) => e.name === 'video:progress' && e.payload?.id === id)) return true;
      if (!startedAt && ['worker1', 'worker2'].some((n) => new RegExp(`job started job=\\S+ video=${id}`).test(cluster.log(n)))) startedAt = Date.now();
      return startedAt && Date.now() - startedAt > 1000;
    }, { what: 'processing under way' });
    await cluster.restart('redis');
    const restartedAt = Date.now();
    const v = await ready;
    assert.equal(v.status, 'ready');
    assert.ok(s.connected, 'a socket on an API node does not depend on Redis');
    console.log(`# Redis restarted during processing; the video got ready ${Date.now() - restartedAt} ms later; api2 heard ${heard.length} events in all`);

    await t.test('events from the worker reach api2 after the restart (needs the Redis fan-out)', async () => {
      const [payload] = await readyEvent;
      assert.equal(payload.video.status, 'ready');
      const after = heard.filter((e) => e.at > restartedAt && e.payload?.id === id && e.name === 'video:progress');
      console.log(`# after the restart api2 heard ${after.length} progress events and video:ready`);
      assert.ok(heard.some((e) => e.name === 'video:progress' && e.at < restartedAt), 'progress before the restart');
    });
    await t.test('an API node\'s events reach the other node after the restart (needs the Redis fan-out)', async () => {
      const created = waitFor(s, 'video:created', () => true, 3000);
      const again = await call(cluster.api1, 'POST', '/api/videos?title=after-redis', {
        token: alice.token, body: Buffer.from('not a video'), headers: { 'Content-Type': 'video/mp4' },
      });
      assert.equal(again.status, 201);
      assert.equal((await created)[0].video.id, again.json.video.id);
    });
  } finally {
    s.close();
  }
}));

test('PostgreSQL killed and started: 503 meanwhile, then service again; nothing lost; an upload in progress completes', withLogs(() => cluster, async () => {
  // Data made before the outage.
  for (let i = 0; i < 3; i++) {
    const r = await call(cluster.lb, 'POST', `/api/videos?title=before-${i}`, {
      token: alice.token, body: Buffer.from(`bytes ${i}`), headers: { 'Content-Type': 'video/mp4' },
    });
    assert.equal(r.status, 201);
  }
  const listed = await call(cluster.lb, 'GET', '/api/videos?limit=100', { token: alice.token });
  assert.equal(listed.status, 200);
  const before = listed.json.videos.map((v) => v.id).sort();
  assert.ok(before.length >= 3);
  await sleep(1000);  // committed well before the crash (the throwaway server does not fsync)

  // Two uploads that span the outage, 6 MiB each at 1 MiB/s in 2 MiB chunks:
  // `reel upload` and tus-js-client.
  const cliFile = path.join(work, 'outage-cli.bin');
  const cliBytes = crypto.randomBytes(6 * 1024 * 1024 + 7);
  fs.writeFileSync(cliFile, cliBytes);
  const cli = reelUpload(cluster.lb, alice.token, cliFile, 'cli through an outage',
    ['--chunk-size', '2M', '--limit-rate', '1M', '--retries', '12'], path.join(work, 'state'));
  const cliDone = cli.done;

  const bytes = crypto.randomBytes(6 * 1024 * 1024 + 99);
  const videoIds = [];
  const answers = [];
  let progressed = 0;
  const upload = new Promise((resolve) => {
    const u = new tus.Upload(bytes, {
      endpoint: `${cluster.lb}/api/uploads`,
      headers: { Authorization: `Bearer ${alice.token}` },
      metadata: { filename: 'outage.bin', title: 'through an outage' },
      chunkSize: 2 * 1024 * 1024,
      httpStack: throttledStack(1024 * 1024),
      retryDelays: [500, 1000, 1000, 2000, 2000, 2000, 3000, 3000, 3000, 5000],
      onAfterResponse: (req, res) => {
        answers.push(`${req.getMethod()} ${res.getStatus()}`);
        if (req.getMethod() === 'POST' && res.getStatus() === 201) videoIds.push(res.getHeader('X-Video-Id'));
      },
      onProgress: (sent) => (progressed = sent),
      onSuccess: () => resolve({}),
      onError: (error) => resolve({ error }),
    });
    u.start();
  });
  await within(10000, () => progressed > 512 * 1024, { what: 'the upload under way' });

  await cluster.kill('postgres');
  const downAt = Date.now();
  // reel itself says 503 (with Retry-After) and /readyz says why; the
  // balancer, once both nodes fail their checks, answers 503 too.
  const direct = await within(5000, async () => (await call(cluster.api1, 'GET', '/api/videos', { token: alice.token })).status === 503,
    { what: 'api1 answering 503', every: 100 });
  const r503 = await call(cluster.api2, 'GET', '/api/videos', { token: alice.token });
  assert.equal(r503.status, 503, r503.text);
  assert.ok(Number(r503.headers['retry-after']) > 0);
  assert.equal((await call(cluster.api1, 'GET', '/readyz')).status, 503);
  await cluster.waitLb('api1', 'DOWN', 5000);
  await cluster.waitLb('api2', 'DOWN', 5000);
  const viaLb = await call(cluster.lb, 'GET', '/api/videos', { token: alice.token });
  assert.equal(viaLb.status, 503);
  await sleep(500);

  await cluster.start('postgres');
  const upAt = Date.now();
  const back = await within(15000, async () => (await call(cluster.lb, 'GET', '/api/videos?limit=100', { token: alice.token })).status === 200,
    { what: 'service through the balancer again', every: 100 });
  console.log(`# PostgreSQL down ${upAt - downAt} ms (api1 said 503 after ${direct} ms); service through the balancer ${back} ms after it started`);

  // Nothing lost; writes work again.
  const after = await call(cluster.lb, 'GET', '/api/videos?limit=100', { token: alice.token });
  const ids = after.json.videos.map((v) => v.id);
  for (const id of before) assert.ok(ids.includes(id), `video ${id} still listed`);
  const fresh = await call(cluster.lb, 'POST', '/api/videos?title=after', {
    token: alice.token, body: Buffer.from('after'), headers: { 'Content-Type': 'video/mp4' },
  });
  assert.equal(fresh.status, 201, fresh.text);

  // `reel upload` asks where the upload is and resumes it: the same video.
  const code = await cliDone;
  const cliErr = cli.stderr();
  assert.equal(code, 0, cliErr);
  const cliVideo = cli.stdout().trim();
  assert.equal(cliVideo.length > 0, true);
  assert.equal(sha256(fs.readFileSync(originalPath(cluster.storageDir, alice.orgId, cliVideo))), sha256(cliBytes));
  const cv = await call(cluster.lb, 'GET', `/api/videos/${cliVideo}`, { token: alice.token });
  assert.notEqual(cv.json.video.status, 'uploading');
  console.log(`# reel upload through the outage: ${cliErr.split('\n').filter((l) => /retry|resum|unavailable|error/i.test(l)).slice(0, 4).join(' | ')}`);

  // tus-js-client completes too; on a 5xx answer to its HEAD it starts a new
  // upload (its own rule), so the video may be a second one.
  const { error } = await upload;
  assert.equal(error, undefined, `${error}; answers: ${answers.join(', ')}`);
  const videoId = videoIds.at(-1);
  console.log(`# tus-js-client through the outage (${videoIds.length} upload(s) created): ${answers.join(', ')}`);
  const stored = fs.readFileSync(originalPath(cluster.storageDir, alice.orgId, videoId));
  assert.equal(sha256(stored), sha256(bytes));
  const v = await call(cluster.lb, 'GET', `/api/videos/${videoId}`, { token: alice.token });
  assert.notEqual(v.json.video.status, 'uploading');
}));
