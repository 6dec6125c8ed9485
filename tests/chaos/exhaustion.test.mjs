// Resources running out, with the real server: a full disk (the data
// directory on a small tmpfs; needs root to mount, else skipped with the
// reason) and a descriptor limit (the server run under prlimit). Each
// scenario records every broken expectation and fails with all of them.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import * as tus from 'tus-js-client';
import {
  POSTGRES, api, register, clips, sleep, sha256, startReel, tempDir, query, orphans, overBudget, databaseProblems,
  mediaProcessesUnder, settleVideos, retrying, ifKnown,
} from './lib.mjs';

const summaries = [];
after(() => {
  for (const s of summaries) console.log(s);
});

// Expectations that do not stop the scenario: each broken one is a line.
function expectations() {
  const problems = [];
  const expect = (ok, what) => {
    if (!ok) problems.push(what);
    return ok;
  };
  return { problems, expect };
}

function errorShape(r) {
  return r.json && r.json.error && typeof r.json.error.code === 'string' && typeof r.json.error.message === 'string';
}

function freeBytes(dir) {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

// Fills the file system of `dir` through `file` until nothing is left,
// then gives back `leave` bytes.
function fill(file, leave = 0) {
  const fd = fs.openSync(file, 'a');
  const block = Buffer.alloc(1 << 20, 7);
  let size = fs.fstatSync(fd).size;
  for (let n = block.length; n >= 512;) {
    try {
      size += fs.writeSync(fd, block, 0, n);
    } catch (e) {
      if (e.code !== 'ENOSPC') throw e;
      n >>= 1;
    }
  }
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  if (leave) fs.truncateSync(file, Math.max(0, size - leave));
}

async function videoStatus(port, token, id) {
  const r = await api(port, 'GET', `/api/videos/${id}`, { token });
  return r.json?.video?.status;
}

async function waitStatus(port, token, id, statuses, ms) {
  const until = Date.now() + ms;
  let s;
  while (Date.now() < until) {
    s = await videoStatus(port, token, id).catch(() => undefined);
    if (statuses.includes(s)) return s;
    await sleep(300);
  }
  return s;
}

// Resumes a tus upload with the stock client from wherever the server is.
function tusResume(port, token, url, bytes) {
  return new Promise((resolve) => {
    const upload = new tus.Upload(bytes, {
      endpoint: `http://127.0.0.1:${port}/api/uploads`,
      uploadUrl: url,
      headers: { Authorization: `Bearer ${token}` },
      retryDelays: [200, 500, 1000],
      onSuccess: () => resolve(null),
      onError: (e) => resolve(e),
    });
    upload.start();
  });
}

test('disk full: 507 for uploads, tus offsets right, login, lists and DELETE work, space comes back', { timeout: 240000 }, async (t) => {
  const dir = tempDir();
  const data = path.join(dir, 'data');
  fs.mkdirSync(data, { mode: 0o700 });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=32m,mode=0700', 'tmpfs', data], { stdio: 'pipe' });
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    const why = String(e.stderr || e.message).trim();
    summaries.push(`disk full: SKIPPED, a tmpfs cannot be mounted here (${why}); run as root to include it`);
    t.skip(`a tmpfs cannot be mounted here (${why})`);
    return;
  }
  const { problems, expect } = expectations();
  const source = clips();
  const filler = path.join(data, 'filler');
  let server;
  const log = () => server?.log().slice(-4000);
  // Where the binary keeps a floor of free space for the database (uploads
  // and outputs stop short of it), 2 MiB of it; the amounts left free below
  // are on top of it.
  const floor = ifKnown({ REEL_STORAGE_RESERVE_BYTES: String(2 << 20) });
  const R = Number(floor.REEL_STORAGE_RESERVE_BYTES || 0);
  try {
    server = await startReel('serve', data, { env: floor });
    const port = server.port;
    const alice = await register(port, 'full@example.com', 'Full');
    const raw = (bytes, title) => api(port, 'POST', `/api/videos?title=${title}`, {
      token: alice.token, body: bytes, headers: { 'Content-Type': 'video/mp4' },
    });
    const multipart = (bytes, title) => {
      const form = new FormData();
      form.append('title', title);
      form.append('file', new Blob([bytes], { type: 'video/mp4' }), 'clip.mp4');
      return fetch(`http://127.0.0.1:${port}/api/videos`, {
        method: 'POST', body: form, headers: { Authorization: `Bearer ${alice.token}` },
      }).then(async (res) => {
        const text = await res.text();
        let json = null;
        try {
          json = JSON.parse(text);
        } catch {}
        return { status: res.status, text, json };
      }).catch((e) => ({ status: 0, text: String(e), json: null }));
    };

    // Before: a video that plays, and 10 MB of ballast (not a video: it fails, its file stays).
    const a = await raw(source.h264, 'playable');
    assert.equal(a.status, 201, a.text);
    assert.equal(await waitStatus(port, alice.token, a.json.video.id, ['ready', 'failed'], 60000), 'ready');
    const ballast = Buffer.alloc(10 << 20, 1);
    const b = await raw(ballast, 'ballast');
    assert.equal(b.status, 201, b.text);
    await waitStatus(port, alice.token, b.json.video.id, ['ready', 'failed'], 60000);

    // A tus upload begun while there is room: its first 512 KB are acknowledged.
    const tusBytes = source.big;
    const first = 512 << 10;
    const tusPath = () => new URL(tusUrl).pathname;
    const tusHeaders = (at) => ({ 'Tus-Resumable': '1.0.0', 'Upload-Offset': String(at), 'Content-Type': 'application/offset+octet-stream' });
    const created = await api(port, 'POST', '/api/uploads', {
      token: alice.token,
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(tusBytes.length),
        'Upload-Metadata': `filename ${Buffer.from('big.mp4').toString('base64')}` },
    });
    assert.equal(created.status, 201, created.text);
    const tusUrl = new URL(created.headers.get('location'), `http://127.0.0.1:${port}`).href;
    const tusVideo = created.headers.get('x-video-id');
    let resumed = false;
    const p1 = await api(port, 'PATCH', tusPath(), { token: alice.token, body: tusBytes.subarray(0, first), headers: tusHeaders(0) });
    assert.equal(p1.status, 204, p1.text);

    // Full: every upload gets 507 with the JSON error; nothing is left in tmp/.
    fill(filler);
    const free0 = freeBytes(data);
    const m1 = await multipart(source.h264, 'multipart while full');
    expect(m1.status === 507 && errorShape(m1), `multipart upload while full: ${m1.status} ${m1.text.slice(0, 200)}`);
    const r1 = await raw(source.big, 'raw while full');
    expect(r1.status === 507 && errorShape(r1), `raw upload while full: ${r1.status} ${r1.text.slice(0, 200)}`);
    expect(freeBytes(data) >= free0, 'a refused upload kept space');

    // The tus upload runs into the wall with 256 KB to go on: 507, and its
    // offset is what the file holds (at least what was acknowledged).
    fill(filler, R + (256 << 10));
    const patch = await api(port, 'PATCH', tusPath(), {
      token: alice.token, body: tusBytes.subarray(first), headers: tusHeaders(first),
    }).catch((e) => ({ status: 0, text: String(e), json: null }));
    expect(patch.status === 507 && errorShape(patch), `tus PATCH past the free space: ${patch.status} ${patch.text.slice(0, 200)}`);
    const head = await api(port, 'HEAD', tusPath(), { token: alice.token, headers: { 'Tus-Resumable': '1.0.0' } });
    const offset = Number(head.headers.get('upload-offset'));
    const tusFile = path.join(data, 'orgs', alice.orgId, 'videos', tusVideo, 'original');
    const onDisk = fs.existsSync(tusFile) ? fs.readFileSync(tusFile) : Buffer.alloc(0);
    expect(head.status === 200 && offset >= first && offset < tusBytes.length,
      `tus HEAD after the 507: ${head.status}, offset ${offset} of ${tusBytes.length} (${first} were acknowledged before)`);
    const prefixOk = onDisk.length >= offset && onDisk.subarray(0, offset).equals(tusBytes.subarray(0, offset));
    expect(prefixOk, `tus bytes kept: the file has ${onDisk.length} bytes, the offset says ${offset}, the prefix ${prefixOk ? 'matches' : 'differs'}`);

    // A video whose processing hits the full disk (room for its upload, not its outputs).
    fill(filler, R + source.h264.length + (96 << 10));
    const c = await raw(source.h264, 'processed while full');
    const cid = c.status === 201 ? c.json.video.id : null;
    expect(cid, `an upload that fits: ${c.status} ${c.text.slice(0, 200)}`);
    if (cid) await waitStatus(port, alice.token, cid, ['failed', 'ready', 'queued'], 5000);
    fill(filler);

    // Reads, login and DELETE still work on the full disk.
    const login = await api(port, 'POST', '/api/auth/login', { body: { email: 'full@example.com', password: 'correct horse' } });
    expect(login.status === 200 && login.json?.token, `login while full: ${login.status} ${login.text.slice(0, 200)}`);
    const token = login.json?.token || alice.token;
    const list = await api(port, 'GET', '/api/videos', { token });
    expect(list.status === 200, `list while full: ${list.status} ${list.text.slice(0, 200)}`);
    const one = await api(port, 'GET', `/api/videos/${a.json.video.id}`, { token });
    expect(one.status === 200, `one video while full: ${one.status}`);
    const stream = await api(port, 'GET', `/api/stream/${a.json.video.id}/video`, { token, headers: { Range: 'bytes=0-99' } });
    expect(stream.status === 206, `stream while full: ${stream.status}`);
    const del = await api(port, 'DELETE', `/api/videos/${b.json.video.id}`, { token });
    expect(del.status === 204, `DELETE while full: ${del.status} ${del.text.slice(0, 200)}`);
    const freed = freeBytes(data);
    expect(freed + R >= ballast.length, `DELETE gave back ${freed} bytes (the ballast was ${ballast.length}, the floor ${R})`);

    // Space is back: the tus upload goes on to the same bytes, a new upload
    // works and ends ready, and so does the video that failed for lack of space.
    const error = await tusResume(port, token, tusUrl, tusBytes);
    resumed = expect(!error, `tus resume after DELETE: ${error}`);
    expect(fs.existsSync(tusFile) && sha256(fs.readFileSync(tusFile)) === sha256(tusBytes), 'the resumed tus upload has the bytes of its source');
    const d = await raw(source.h264, 'after DELETE');
    expect(d.status === 201, `upload after DELETE: ${d.status} ${d.text.slice(0, 200)}`);
    if (d.status === 201) {
      const s = await waitStatus(port, token, d.json.video.id, ['ready', 'failed'], 30000);
      expect(s === 'ready', `the upload after DELETE ended ${s}`);
    }
    if (cid) {
      const s = await waitStatus(port, token, cid, ['ready'], 45000);
      expect(s === 'ready', `the video processed while the disk was full is ${s} once space came back ` +
        `(${(await api(port, 'GET', `/api/videos/${cid}`, { token })).json?.video?.error})`);
    }

    fs.rmSync(filler, { force: true });
    await server.stop();
    server = await startReel('serve', data, { env: floor });
    const unfinished = new Set(resumed ? [] : [tusVideo]);  // its upload never ended: still uploading
    const stuck = await settleVideos(data, 30000, unfinished);
    for (const v of stuck) problems.push(`video ${v.id} still ${v.status}`);
    await server.stop();
    problems.push(...orphans(data).map((o) => `leftover: ${o}`));  // (an unfinished upload is not one)
    problems.push(...databaseProblems(data).map((p) => `database: ${p}`));
    problems.push(...overBudget(data));
    problems.push(...mediaProcessesUnder(dir).map((p) => `ffmpeg left: ${p.cmd}`));
    assert.deepEqual(problems, [], log());
  } catch (e) {
    if (!(e instanceof assert.AssertionError) || e.operator !== 'deepStrictEqual') problems.push(`the scenario stopped: ${e.message.split('\n')[0]}`);
    throw e;
  } finally {
    summaries.push(`disk full (tmpfs 32 MB, floor ${R}, ${POSTGRES ? 'PostgreSQL' : 'SQLite on it'}): ${problems.length} problems` +
      problems.map((p) => `\n  PROBLEM: ${p}`).join(''));
    await server?.kill('SIGKILL');
    try {
      execFileSync('umount', [data]);
    } catch {
      execFileSync('umount', ['-l', data]);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// A request on an agent of its own whose one connection is already open (a
// server out of descriptors cannot accept new ones).
function connectedAgent(port, token) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const request = (method, pathname, { headers = {}, body } = {}) => new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: pathname, agent,
      headers: { Authorization: `Bearer ${token}`, ...headers, ...(body ? { 'Content-Length': body.length } : {}) } },
    (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('latin1');
        let json = null;
        try {
          json = JSON.parse(text);
        } catch {}
        resolve({ status: res.statusCode, text, json, headers: res.headers });
      });
    });
    req.setTimeout(15000, () => req.destroy(new Error('no answer in 15 s')));
    req.on('error', (e) => resolve({ status: 0, text: String(e), json: null, headers: {} }));
    req.end(body);
  });
  return { agent, request };
}

// The lowest descriptor number `pid` does not use: with RLIMIT_NOFILE set
// to it, the process can open nothing more (the ones it holds stay usable).
function lowestFree(pid) {
  const used = new Set(fs.readdirSync(`/proc/${pid}/fd`).map(Number));
  let n = 0;
  while (used.has(n)) n++;
  return n;
}
// The soft limit only: raising it back needs no privilege.
const nofile = (pid) => /Max open files\s+(\d+)\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8')).slice(1).map(Number);
const setNofile = (pid, n) => execFileSync('prlimit', ['--pid', String(pid), `--nofile=${n}:${nofile(pid)[1]}`]);

test('descriptors run out: 503 (never 404) for streams, HLS, thumbnails and uploads; the server and the worker recover', { timeout: 180000 }, async () => {
  const dir = tempDir();
  const data = path.join(dir, 'data');
  const { problems, expect } = expectations();
  const source = clips();
  let server, worker;
  const idle = [];
  try {
    const env = { REEL_MAX_CONNECTIONS_PER_ADDRESS: '0', REEL_HEADERS_TIMEOUT_MS: '120000', REEL_KEEPALIVE_TIMEOUT_MS: '120000' };
    server = await startReel('serve', data, { args: ['--workers', '0'], env });
    worker = await startReel('worker', data, { env });
    const port = server.port;
    const alice = await register(port, 'fd@example.com', 'Fd');
    const up = (bytes, title) => api(port, 'POST', `/api/videos?title=${title}`, {
      token: alice.token, body: bytes, headers: { 'Content-Type': 'video/mp4' },
    });
    const a = await up(source.h264, 'playable');
    assert.equal(a.status, 201, a.text);
    assert.equal(await waitStatus(port, alice.token, a.json.video.id, ['ready', 'failed'], 60000), 'ready');
    const id = a.json.video.id;

    // One open connection per request made while descriptors are out (a
    // server without descriptors accepts no new connection).
    const names = ['stream', 'hls', 'thumbnail', 'upload'];
    const conns = {};
    for (const n of names) {
      conns[n] = connectedAgent(port, alice.token);
      const warm = await conns[n].request('GET', '/api/auth/me');
      assert.equal(warm.status, 200, warm.text);
    }

    // The server can open nothing more.
    const serverLimit = nofile(server.pid);
    const lim = lowestFree(server.pid);
    setNofile(server.pid, lim);
    const checks = {
      stream: ['GET', `/api/stream/${id}/video`, { headers: { Range: 'bytes=0-99' } }],
      hls: ['GET', `/api/stream/${id}/hls/master.m3u8`],
      thumbnail: ['GET', `/api/stream/${id}/thumbnail.jpg?time=1.3&width=160`],
      upload: ['POST', '/api/videos?title=out', { headers: { 'Content-Type': 'video/mp4' }, body: source.h264 }],
    };
    for (const n of names) {
      const [method, p, opts] = checks[n];
      const r = await conns[n].request(method, p, opts);
      expect(r.status === 503 && errorShape(r), `${n} without descriptors: ${r.status} ${r.text.slice(0, 160)}`);
    }
    // A client knocking meanwhile: the accept loop backs off and says so rarely.
    const logBefore = server.log().length;
    for (let i = 0; i < 3; i++) idle.push(net.connect(port, '127.0.0.1').on('error', () => {}));
    await sleep(2000);
    const acceptLines = server.log().slice(logBefore).split('\n').filter((l) => /accept/i.test(l) && /WARN|ERROR/.test(l)).length;
    expect(acceptLines <= 4, `the accept loop logged ${acceptLines} lines in 2 s without descriptors`);

    // Descriptors come back: the waiting clients are served, and the rest as before.
    setNofile(server.pid, serverLimit[0]);
    const health = await retrying(async () => {
      const r = await api(port, 'GET', '/healthz');
      if (r.status !== 200) throw new Error(`healthz ${r.status}`);
      return r;
    }, 10000).catch((err) => ({ status: 0, text: String(err) }));
    expect(health.status === 200, `/healthz after the descriptors came back: ${health.status} ${health.text}`);
    const stream = await api(port, 'GET', `/api/stream/${id}/video`, { token: alice.token, headers: { Range: 'bytes=0-99' } });
    expect(stream.status === 206, `stream after recovery: ${stream.status}`);
    const hls = await api(port, 'GET', `/api/stream/${id}/hls/master.m3u8`, { token: alice.token });
    expect(hls.status === 200, `HLS after recovery: ${hls.status}`);
    const thumb = await api(port, 'GET', `/api/stream/${id}/thumbnail.jpg?time=1.3&width=160`, { token: alice.token });
    expect(thumb.status === 200, `thumbnail after recovery: ${thumb.status}`);

    // The worker can open nothing more while a video waits: its job is not
    // used up, and the video ends ready once descriptors come back.
    const workerLimit = nofile(worker.pid);
    setNofile(worker.pid, lowestFree(worker.pid));
    const e = await up(source.mpeg4, 'processed without descriptors');
    expect(e.status === 201, `upload after recovery: ${e.status} ${e.text.slice(0, 160)}`);
    await sleep(4000);
    setNofile(worker.pid, workerLimit[0]);
    if (e.status === 201) {
      const es = await waitStatus(port, alice.token, e.json.video.id, ['ready'], 45000);
      expect(es === 'ready', `the video processed while the worker had no descriptors is ${es} after they came back ` +
        `(${(await api(port, 'GET', `/api/videos/${e.json.video.id}`, { token: alice.token })).json?.video?.error})`);
    }
    for (const n of names) conns[n].agent.destroy();
    await worker.stop();
    await server.stop();
    problems.push(...orphans(data).map((o) => `leftover: ${o}`));
    problems.push(...databaseProblems(data).map((p) => `database: ${p}`));
    problems.push(...overBudget(data));
    problems.push(...mediaProcessesUnder(dir).map((p) => `ffmpeg left: ${p.cmd}`));
    assert.deepEqual(problems, [], `--- serve:\n${server.log().slice(-3000)}\n--- worker:\n${worker.log().slice(-3000)}`);
  } catch (e) {
    if (!(e instanceof assert.AssertionError) || e.operator !== 'deepStrictEqual') problems.push(`the scenario stopped: ${e.message.split('\n')[0]}`);
    throw e;
  } finally {
    summaries.push(`descriptors (prlimit on serve and on worker, ${POSTGRES ? 'PostgreSQL' : 'SQLite'}): ${problems.length} problems` +
      problems.map((p) => `\n  PROBLEM: ${p}`).join(''));
    for (const s of idle) s.destroy();
    await worker?.kill('SIGKILL');
    await server?.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
