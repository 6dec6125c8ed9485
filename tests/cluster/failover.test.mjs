// Processes die without warning: a worker mid-transcode (the other one takes
// the job over after its lease), and the API node receiving a tus upload
// (the client resumes through the balancer on the other node).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as tus from 'tus-js-client';
import {
  call, connect, waitFor, waitReady, withLogs, within, sleep, sha256, clip, originalPath,
  throttledStack,
  useCluster, reelUpload,
} from './lib.mjs';

let cluster;
let work;
let alice;
useCluster((c) => ({ cluster, work, alice } = c));

// The child processes of `pid` with their command lines.
function children(pid) {
  const out = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== pid) continue;
      out.push({ pid: Number(entry), cmd: fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ') });
    } catch {}
  }
  return out;
}

function running(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

const pidOf = (name) => Number(fs.readFileSync(path.join(cluster.dir, 'pids', `${name}.pid`), 'utf8'));

test('kill -9 of the worker mid-transcode: the other worker finishes the job after the lease, ready exactly once', withLogs(() => cluster, async (t) => {
  const file = clip(work, 8, '1280x720');
  const watcher = connect(cluster.lb, alice.token, { transports: ['websocket'], withCredentials: true });
  const readyEvents = [];
  watcher.on('video:ready', (p) => readyEvents.push(p.video.id));
  try {
    await waitFor(watcher, 'connect');
    const made = await call(cluster.lb, 'POST', '/api/videos?title=long', {
      token: alice.token, body: fs.readFileSync(file), headers: { 'Content-Type': 'video/mp4' },
    });
    assert.equal(made.status, 201, made.text);
    const id = made.json.video.id;

    // Which worker took the job, and its ffmpeg making the HLS ladder.
    const started = new RegExp(`INFO job started job=(\\S+) video=${id} attempt=1`);
    let holder;
    let jobId;
    await within(20000, () => {
      holder = ['worker1', 'worker2'].find((n) => started.test(cluster.log(n)));
      if (holder) jobId = started.exec(cluster.log(holder))[1];
      return holder;
    }, { what: 'a worker starting the job' });
    const other = holder === 'worker1' ? 'worker2' : 'worker1';
    const holderPid = pidOf(holder);
    let transcoder;
    await within(20000, () => (transcoder = children(holderPid).find((c) => /ffmpeg/.test(c.cmd) && /hls/.test(c.cmd))),
      { what: `${holder} running ffmpeg for HLS` });
    await sleep(500);
    const [before] = cluster.psql(`SELECT state, attempts, lease_owner IS NOT NULL FROM jobs WHERE id = '${jobId}'`);
    assert.deepEqual(before, ['running', '1', 't']);

    const killedAt = Date.now();
    await cluster.kill(holder);
    await within(2000, () => !running(transcoder.pid), { what: `${holder}'s ffmpeg ending with it` });

    // The other worker takes the job over once the lease (3 s) has run out.
    // A takeover, not another attempt (the dead worker's attempt goes on).
    const retaken = new RegExp(`INFO job started job=${jobId} video=${id} attempt=1 takeovers=1`);
    const takeover = await within(15000, () => retaken.test(cluster.log(other)), { every: 100, what: `${other} taking the job over` });
    // Renewed every lease/3, the lease runs out 2 to 3 s after the kill.
    assert.ok(takeover >= 1500, `taken over ${takeover} ms after the kill: not before the lease ran out`);
    const v = await waitReady(cluster.lb, alice.token, id, 90000);
    console.log(`# ${holder} killed during HLS; ${other} took the job over after ${takeover} ms; ready ${Date.now() - killedAt} ms after the kill`);
    assert.equal(v.status, 'ready');
    assert.ok(v.renditions.length >= 3, JSON.stringify(v.renditions));

    // One job for the video, succeeded at its first attempt after one takeover, no lease left.
    const jobs = cluster.psql(`SELECT state, attempts, takeovers, lease_owner IS NULL FROM jobs WHERE video_id = '${id}'`);
    assert.deepEqual(jobs, [['succeeded', '1', '1', 't']]);
    assert.equal((cluster.log(other).match(new RegExp(`INFO video ready video=${id}`, 'g')) ?? []).length, 1);
    assert.ok(!new RegExp(`video ready video=${id}`).test(cluster.log(holder)));

    // HLS plays through the balancer: master playlist, a rendition, a segment.
    const master = await call(cluster.lb, 'GET', v.hlsUrl, { token: alice.token });
    assert.equal(master.status, 200);
    assert.match(master.text, /^#EXTM3U/);
    const rendition = master.text.split('\n').find((l) => l && !l.startsWith('#'));
    const base = v.hlsUrl.replace(/master\.m3u8$/, '');
    const playlist = await call(cluster.lb, 'GET', base + rendition, { token: alice.token });
    assert.equal(playlist.status, 200);
    assert.match(playlist.text, /#EXT-X-ENDLIST/);
    const segments = playlist.text.split('\n').filter((l) => l && !l.startsWith('#'));
    assert.ok(segments.length >= 2, `${segments.length} segments`);
    const segUrl = path.posix.join(path.posix.dirname(base + rendition), segments.at(-1));
    const segment = await call(cluster.lb, 'GET', segUrl, { token: alice.token });
    assert.equal(segment.status, 200);
    assert.equal(segment.headers['content-type'], 'video/mp2t');
    assert.equal(segment.raw[0], 0x47, 'an MPEG-TS sync byte');

    await t.test('one video:ready event reached a socket on the balancer (needs the Redis fan-out)', async () => {
      await sleep(1000);
      assert.deepEqual(readyEvents.filter((x) => x === id), [id]);
    });
  } finally {
    watcher.close();
    await cluster.start('worker1').catch(() => {});
    await cluster.start('worker2').catch(() => {});
  }
}));

// The API node that has a request in flight, from HAProxy's counters.
async function nodeWithRequest() {
  let node;
  await within(5000, async () => {
    const servers = await cluster.lbServers();
    node = Object.keys(servers).find((n) => servers[n].scur > 0);
    return node;
  }, { what: 'a node with a request in flight', every: 20 });
  return node;
}

function patchesServedBy(node, since) {
  return cluster.log('haproxy').slice(since).split('\n').filter((l) => l.includes(`reel_api/${node} `) && l.includes('"PATCH /api/uploads/'));
}

test('kill -9 of the API node receiving a tus upload: tus-js-client resumes on the other node, identical file', withLogs(() => cluster, async () => {
  const bytes = crypto.randomBytes(6 * 1024 * 1024 + 4321);
  let videoId = null;
  let killed = null;
  let killing = null;
  const resumedAt = [];
  const logStart = cluster.log('haproxy').length;
  const done = new Promise((resolve) => {
    const upload = new tus.Upload(bytes, {
      endpoint: `${cluster.lb}/api/uploads`,
      headers: { Authorization: `Bearer ${alice.token}` },
      metadata: { filename: 'random.bin', filetype: 'application/octet-stream', title: 'tus failover' },
      chunkSize: 2 * 1024 * 1024,
      httpStack: throttledStack(2 * 1024 * 1024),
      retryDelays: [200, 500, 1000, 1000, 2000, 2000, 3000, 3000, 5000],
      onAfterResponse: (req, res) => {
        if (req.getMethod() === 'POST') videoId = res.getHeader('X-Video-Id');
        if (req.getMethod() === 'HEAD' && killed) resumedAt.push(Number(res.getHeader('Upload-Offset')));
      },
      onProgress: (sent) => {
        // Halfway through the second chunk, the node receiving it dies.
        if (killing || sent < 3 * 1024 * 1024) return;
        killing = nodeWithRequest().then(async (node) => {
          killed = node;
          await cluster.kill(node);
        });
      },
      onSuccess: () => resolve({ upload }),
      onError: (error) => resolve({ upload, error }),
    });
    upload.start();
  });
  const { error } = await done;
  await killing;
  assert.equal(error, undefined, String(error));
  assert.ok(killed, 'a node was killed mid-upload');
  const survivor = killed === 'api1' ? 'api2' : 'api1';
  console.log(`# killed ${killed} mid-PATCH; resumed at offset ${resumedAt.join(', ')} on ${survivor}`);
  assert.ok(resumedAt.length >= 1, 'the client asked where to resume (HEAD)');
  assert.ok(patchesServedBy(survivor, logStart).length >= 1, `PATCHes on ${survivor} after the kill`);
  const stored = fs.readFileSync(originalPath(cluster.storageDir, alice.orgId, videoId));
  assert.equal(stored.length, bytes.length);
  assert.equal(sha256(stored), sha256(bytes));
  const v = await call(cluster.lb, 'GET', `/api/videos/${videoId}`, { token: alice.token });
  assert.notEqual(v.json.video.status, 'uploading');
  await cluster.start(killed);
  await cluster.waitLb(killed, 'UP');
}));

test('kill -9 of the API node receiving `reel upload`: the CLI resumes on the other node, identical file', withLogs(() => cluster, async () => {
  const file = path.join(work, 'cli.bin');
  const bytes = crypto.randomBytes(8 * 1024 * 1024 + 777);
  fs.writeFileSync(file, bytes);
  const logStart = cluster.log('haproxy').length;
  let killing = null;
  let killed = null;
  const cli = reelUpload(cluster.lb, alice.token, file, 'cli failover',
    ['--chunk-size', '4M', '--limit-rate', '3M', '--retries', '10'], path.join(work, 'state'), (err) => {
      const m = [...err.matchAll(/upload: (\d+)%/g)].pop();
      if (m && Number(m[1]) >= 15 && !killing) {
        killing = nodeWithRequest().then(async (node) => {
          killed = node;
          await cluster.kill(node);
        });
      }
    });
  const code = await cli.done;
  await killing;
  const stdout = cli.stdout();
  const stderr = cli.stderr();
  assert.equal(code, 0, stderr);
  assert.ok(killed, `a node was killed mid-upload; the CLI said:\n${stderr}`);
  const survivor = killed === 'api1' ? 'api2' : 'api1';
  const videoId = stdout.trim();
  assert.match(videoId, /^[A-Za-z0-9_-]+$/);
  assert.ok(patchesServedBy(survivor, logStart).length >= 1, `PATCHes on ${survivor} after the kill`);
  const stored = fs.readFileSync(originalPath(cluster.storageDir, alice.orgId, videoId));
  assert.equal(sha256(stored), sha256(bytes));
  console.log(`# reel upload: killed ${killed} mid-PATCH, finished on ${survivor}: ${stderr.split('\n').filter((l) => /retry|resum|error/i.test(l)).slice(0, 3).join(' | ')}`);
  await cluster.start(killed);
}));
