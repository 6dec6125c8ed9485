// Resumable uploads with the stock tus-js-client from npm (unmodified), and
// the `reel upload` command-line client, against the real server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as tus from 'tus-js-client';
import { REEL, tempDir, startServer, withServer, api, register, makeClip } from './lib.mjs';

const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function originalPath(dataDir, orgId, videoId) {
  return path.join(dataDir, 'orgs', orgId, 'videos', videoId, 'original');
}

// A tus upload of `bytes` with the stock client; resolves {upload, error} when it ends.
function tusUpload(port, token, bytes, options = {}) {
  let upload;
  const done = new Promise((resolve) => {
    upload = new tus.Upload(bytes, {
      endpoint: `http://127.0.0.1:${port}/api/uploads`,
      headers: { Authorization: `Bearer ${token}` },
      metadata: { filename: 'clip.mp4', filetype: 'video/mp4', title: 'From tus' },
      retryDelays: [200, 500, 1000, 1000, 2000, 2000, 3000, 3000],
      ...options,
      onSuccess: () => resolve({ upload }),
      onError: (error) => resolve({ upload, error }),
    });
  });
  upload.start();
  return { upload, done };
}

test('a chunked upload survives kill -9 of the server and resumes to an identical file', async () => {
  const dir = tempDir();
  const dataDir = path.join(dir, 'data');
  let server = await startServer(dataDir);
  const port = server.port;
  try {
    const alice = await register(port, 'alice@example.com', 'Alice');
    const bytes = crypto.randomBytes(6 * 1024 * 1024 + 12345);
    let chunks = 0;
    let restarted = null;
    let videoId = null;
    const { done } = tusUpload(port, alice.token, bytes, {
      chunkSize: 512 * 1024,
      onAfterResponse: (req, res) => {
        if (req.getMethod() === 'POST') videoId = res.getHeader('X-Video-Id');
      },
      onChunkComplete: () => {
        if (++chunks !== 4 || restarted) return;
        // Mid-upload: the server dies without warning and comes back on the same port.
        restarted = server.stop('SIGKILL').then(async () => {
          await sleep(300);
          server = await startServer(dataDir, { port });
        });
      },
    });
    const result = await done;
    await restarted;
    assert.equal(result.error, undefined, String(result.error));
    assert.ok(chunks > 12, `chunks: ${chunks}`);
    assert.ok(videoId, 'X-Video-Id on creation');
    const stored = fs.readFileSync(originalPath(dataDir, alice.orgId, videoId));
    assert.equal(sha256(stored), sha256(bytes));
    const v = await api(port, 'GET', `/api/videos/${videoId}`, { token: alice.token });
    assert.notEqual(v.json.video.status, 'uploading');
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a checksum mismatch is refused with 460 and the chunk is not kept', async () => {
  await withServer(async (server) => {
    const alice = await register(server.port, 'sum@example.com', 'Sum');
    const bytes = crypto.randomBytes(200000);
    const wrong = 'sha1 ' + crypto.createHash('sha1').update('not this').digest('base64');
    const { done } = tusUpload(server.port, alice.token, bytes, {
      onBeforeRequest: (req) => {
        if (req.getMethod() === 'PATCH') req.setHeader('Upload-Checksum', wrong);
      },
    });
    const { upload, error } = await done;
    assert.ok(error, 'the upload fails');
    assert.equal(error.originalResponse.getStatus(), 460);
    const head = await api(server.port, 'HEAD', new URL(upload.url).pathname, {
      token: alice.token, headers: { 'Tus-Resumable': '1.0.0' },
    });
    assert.equal(head.headers.get('upload-offset'), '0');
  });
});

test('an offset mismatch (409) makes the client ask where the server is and continue', async () => {
  await withServer(async (server, dir) => {
    const alice = await register(server.port, 'off@example.com', 'Off');
    const bytes = crypto.randomBytes(300000);
    const statuses = [];
    let forged = false;
    let videoId = null;
    const { done } = tusUpload(server.port, alice.token, bytes, {
      chunkSize: 100000,
      onBeforeRequest: (req) => {
        if (req.getMethod() === 'PATCH' && !forged && req.getHeader('Upload-Offset') === '100000') {
          forged = true;
          req.setHeader('Upload-Offset', '150000');
        }
      },
      onAfterResponse: (req, res) => {
        statuses.push(`${req.getMethod()} ${res.getStatus()}`);
        if (req.getMethod() === 'POST') videoId = res.getHeader('X-Video-Id');
      },
    });
    const { error } = await done;
    assert.equal(error, undefined, String(error));
    assert.ok(statuses.includes('PATCH 409'), statuses.join(', '));
    assert.ok(statuses.includes('HEAD 200'), statuses.join(', '));
    const stored = fs.readFileSync(originalPath(path.join(dir, 'data'), alice.orgId, videoId));
    assert.equal(sha256(stored), sha256(bytes));
  });
});

test('termination (abort with terminate) deletes the upload, its video and its file', async () => {
  await withServer(async (server, dir) => {
    const alice = await register(server.port, 'term@example.com', 'Term');
    const bytes = crypto.randomBytes(1024 * 1024);
    let videoId = null;
    let upload;
    await new Promise((resolve, reject) => {
      ({ upload } = tusUpload(server.port, alice.token, bytes, {
        chunkSize: 256 * 1024,
        onAfterResponse: (req, res) => {
          if (req.getMethod() === 'POST') videoId = res.getHeader('X-Video-Id');
        },
        onChunkComplete: () => resolve(),
      }));
      setTimeout(() => reject(new Error('no chunk')), 10000);
    });
    await upload.abort(true);
    const v = await api(server.port, 'GET', `/api/videos/${videoId}`, { token: alice.token });
    assert.equal(v.status, 404);
    assert.equal(fs.existsSync(path.dirname(originalPath(path.join(dir, 'data'), alice.orgId, videoId))), false);
    const head = await api(server.port, 'HEAD', new URL(upload.url).pathname, {
      token: alice.token, headers: { 'Tus-Resumable': '1.0.0' },
    });
    assert.equal(head.status, 404);
  });
});

test('an expired upload is cleaned up, and resuming it starts a new one', async () => {
  await withServer(async (server, dir) => {
    const alice = await register(server.port, 'exp@example.com', 'Exp');
    const bytes = crypto.randomBytes(400000);
    let firstVideo = null;
    let upload;
    await new Promise((resolve, reject) => {
      ({ upload } = tusUpload(server.port, alice.token, bytes, {
        chunkSize: 100000,
        onAfterResponse: (req, res) => {
          if (req.getMethod() === 'POST') firstVideo = res.getHeader('X-Video-Id');
        },
        onChunkComplete: () => resolve(),
      }));
      setTimeout(() => reject(new Error('no chunk')), 10000);
    });
    await upload.abort();
    const oldUrl = upload.url;
    const dirOfFirst = path.dirname(originalPath(path.join(dir, 'data'), alice.orgId, firstVideo));
    await sleep(2500);  // expiry 1 s, sweep every 0.5 s
    assert.equal((await api(server.port, 'GET', `/api/videos/${firstVideo}`, { token: alice.token })).status, 404);
    assert.equal(fs.existsSync(dirOfFirst), false);
    assert.match(server.log(), /upload expired/);
    // The stock client, given the old URL, gets 404 on HEAD and creates a new upload.
    const methods = [];
    const again = tusUpload(server.port, alice.token, bytes, {
      uploadUrl: oldUrl,
      onAfterResponse: (req, res) => methods.push(`${req.getMethod()} ${res.getStatus()}`),
    });
    const { error } = await again.done;
    assert.equal(error, undefined, String(error));
    assert.deepEqual(methods.slice(0, 2), ['HEAD 404', 'POST 201']);
    assert.notEqual(again.upload.url, oldUrl);
  }, { args: ['--upload-expiry-seconds', '1'] });
});

// Runs `reel upload ...`; resolves {code, stdout, stderr}. `onStderr` sees each chunk as it comes.
function runCli(args, env, onStderr = () => {}) {
  const proc = spawn(REEL, ['upload', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c) => (stdout += c));
  proc.stderr.on('data', (c) => {
    stderr += c;
    onStderr(stderr, proc);
  });
  const done = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { proc, done };
}

test('reel upload: killed mid-way, the same command resumes; --wait follows processing', async () => {
  await withServer(async (server, dir) => {
    const alice = await register(server.port, 'cli@example.com', 'CLI');
    // No stored login of whoever runs the tests (reel login): only the flags count.
    const env = { XDG_STATE_HOME: path.join(dir, 'state'), XDG_CONFIG_HOME: path.join(dir, 'config') };
    const common = ['--server', `http://127.0.0.1:${server.port}`, '--token', alice.token];
    // A real clip padded to ~12 MB, sent at 6 MB/s in 1 MB chunks: killed after a third of it.
    const clip = makeClip(path.join(dir, 'c.mp4'), 2);
    const file = path.join(dir, 'big.bin');
    const bytes = Buffer.concat([clip, crypto.randomBytes(12 * 1024 * 1024)]);
    fs.writeFileSync(file, bytes);
    const first = runCli([file, ...common, '--limit-rate', '6M', '--chunk-size', '1M'], env, (err, proc) => {
      const m = [...err.matchAll(/upload: (\d+)%/g)].pop();
      if (m && Number(m[1]) >= 30) proc.kill('SIGKILL');
    });
    const killed = await first.done;
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    assert.equal(killed.stdout, '');

    const second = await runCli([file, ...common], env).done;
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /resuming \/api\/uploads\/\S+ at (\d|\.)+ MiB/);
    const videoId = second.stdout.trim();
    assert.match(videoId, /^[A-Za-z0-9_-]+$/);
    const stored = fs.readFileSync(originalPath(path.join(dir, 'data'), alice.orgId, videoId));
    assert.equal(sha256(stored), sha256(bytes));
    // Finished uploads are forgotten: the next run starts anew.
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'state', 'reel', 'uploads.json'), 'utf8')), {});

    const waited = await runCli([path.join(dir, 'c.mp4'), ...common, '--title', 'Waited', '--wait'], env).done;
    assert.equal(waited.code, 0, waited.stderr);
    assert.match(waited.stderr, /processing: ready/);
    const v = await api(server.port, 'GET', `/api/videos/${waited.stdout.trim()}`, { token: alice.token });
    assert.equal(v.json.video.status, 'ready');
    assert.equal(v.json.video.title, 'Waited');

    // A file that is not a video: uploaded, then processing fails and --wait says why.
    const junk = path.join(dir, 'junk.mp4');
    fs.writeFileSync(junk, crypto.randomBytes(5000));
    const failed = await runCli([junk, ...common, '--wait'], env).done;
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /processing failed: .+/);

    // Mistakes are explained: a bad token, no such file, a missing flag.
    const denied = await runCli([junk, '--server', `http://127.0.0.1:${server.port}`, '--token', 'forged', '--no-resume'], env).done;
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /refused the upload: .*sign in/i);
    const missing = await runCli([path.join(dir, 'nope.mp4'), ...common], env).done;
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Cannot read/);
    const usage = await runCli([junk, '--token', 'x'], env).done;
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--server is required/);
  });
});
