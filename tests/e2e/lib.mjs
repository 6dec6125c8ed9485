// Helpers of the end-to-end suites: the real reel binary, real HTTP, real clips.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REEL = process.env.REEL_BINARY || 'build/reel';

export function tempDir(prefix = 'reel-e2e-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// With REEL_TEST_BACKEND=postgres (scripts/run-tests' PostgreSQL pass, with
// REEL_TEST_POSTGRES_DIR naming a running scripts/postgres server), each data
// directory gets a PostgreSQL database of its own, the same for every server
// started on it; else reel uses its SQLite file.
const databases = new Map();
export function databaseEnv(dataDir) {
  if (process.env.REEL_TEST_BACKEND !== 'postgres') return {};
  const key = path.resolve(dataDir);
  if (!databases.has(key)) {
    const dir = process.env.REEL_TEST_POSTGRES_DIR;
    const name = `e2e_${process.pid}_${databases.size + 1}`;
    execFileSync('psql', ['-h', dir, '-U', 'reel', '-d', 'reel', '-q', '-c', `CREATE DATABASE ${name}`]);
    databases.set(key, `postgres://reel@/${name}?host=${dir}`);
  }
  return { REEL_DATABASE_URL: databases.get(key) };
}

export const NO_REGISTRATION_LIMIT = { REEL_REGISTRATIONS_PER_ADDRESS_HOUR: '0', REEL_REGISTRATIONS_PER_HOUR: '0' };
// The least password hash cost reel accepts (OWASP's argon2id floor, 19 MiB
// and 2 passes, about a fifth of the default's work): suites register and
// sign in hundreds of times. A test of the cost sets its own.
export const QUICK_PASSWORD_HASH = { REEL_PASSWORD_HASH_MEMORY_MIB: '19', REEL_PASSWORD_HASH_PASSES: '2' };

// Starts `reel serve` and resolves once it listens: {proc, port, stop()}.
export function startServer(dataDir, { port = 0, args = [], env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REEL_')));
    const proc = spawn(REEL, ['serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, ...args], {
      // Suites register many accounts from 127.0.0.1: no registration limit unless a test sets one.
      env: { ...cleanEnv, ...databaseEnv(dataDir), ...NO_REGISTRATION_LIMIT, ...QUICK_PASSWORD_HASH, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    const timer = setTimeout(() => reject(new Error('reel did not start: ' + log)), 20000);
    proc.stderr.on('data', (chunk) => {
      log += chunk;
      const m = /INFO listening .*port=(\d+)/.exec(log);
      if (m && timer) {
        clearTimeout(timer);
        resolve({
          proc,
          port: Number(m[1]),
          log: () => log,
          stop: stopper(proc),
        });
      }
    });
    proc.once('exit', (code) => reject(new Error(`reel exited (${code}): ${log}`)));
  });
}

// stop(signal = SIGTERM) for a child process: resolves with its exit code
// (at once when it has already exited).
function stopper(proc) {
  return (signal = 'SIGTERM') =>
    new Promise((done) => {
      if (proc.exitCode !== null) return done(proc.exitCode);
      proc.once('exit', (code) => done(code));
      proc.kill(signal);
    });
}

// Starts `reel worker` on `dataDir` (the database of the servers started on
// it) and resolves once it runs: {proc, log(), stop()}.
export function startWorker(dataDir, { args = [], env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REEL_')));
    const proc = spawn(REEL, ['worker', '--data-dir', dataDir, ...args], {
      env: { ...cleanEnv, ...databaseEnv(dataDir), ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    const timer = setTimeout(() => reject(new Error('reel worker did not start: ' + log)), 20000);
    proc.stderr.on('data', (chunk) => {
      log += chunk;
      if (timer && /INFO worker started/.test(log)) {
        clearTimeout(timer);
        resolve({
          proc,
          log: () => log,
          stop: stopper(proc),
        });
      }
    });
    proc.once('exit', (code) => reject(new Error(`reel worker exited (${code}): ${log}`)));
  });
}

export async function api(port, method, pathname, { token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let payload = body;
  if (body && !(body instanceof Buffer) && typeof body !== 'string') {
    h['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(`http://127.0.0.1:${port}${pathname}`, { method, headers: h, body: payload });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json, text, headers: res.headers };
}

export async function register(port, email, organizationName) {
  const r = await api(port, 'POST', '/api/auth/register', {
    body: { email, password: 'correct horse', name: email, organizationName },
  });
  if (r.status !== 201) throw new Error('register failed: ' + r.text);
  return { token: r.json.token, orgId: r.json.organization.id, userId: r.json.user.id };
}

// Makes a clip at `file` and returns its bytes. Each length is encoded once
// per build (the files run three times): kept in test-clips/ beside the
// binary, made under a name of this process and renamed in whole.
export function makeClip(file, seconds = 3) {
  const cache = path.join(path.dirname(path.resolve(REEL)), 'test-clips');
  const cached = path.join(cache, `e2e-${Number(seconds)}s.mp4`);
  if (!fs.existsSync(cached)) {
    fs.mkdirSync(cache, { recursive: true });
    const made = `${cached}.${process.pid}`;
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=25:duration=${seconds}`,
      '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`, '-c:v', 'libx264', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-shortest', '-f', 'mp4', made]);
    fs.renameSync(made, cached);
  }
  fs.copyFileSync(cached, file);
  return fs.readFileSync(file);
}

export async function upload(port, token, bytes, title = 'clip') {
  const r = await api(port, 'POST', `/api/videos?title=${encodeURIComponent(title)}`, {
    token, body: bytes, headers: { 'Content-Type': 'video/mp4' },
  });
  if (r.status !== 201) throw new Error('upload failed: ' + r.text);
  return r.json.video;
}

// Resolves with the first `event` (with args) that passes `test`, or rejects after `ms`.
// Polls GET /api/videos/:id until the video is ready (returns it); throws
// when it failed or `ms` passed (the ASan build processes slowly).
export async function waitReady(port, token, id, ms = 90000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const r = await api(port, 'GET', `/api/videos/${id}`, { token });
    if (r.json?.video?.status === 'ready') return r.json.video;
    if (r.json?.video?.status === 'failed') throw new Error('processing failed: ' + r.text);
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error('the video was not ready in time');
}

export function waitFor(emitter, event, test = () => true, ms = 60000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`no ${event} within ${ms} ms`));
    }, ms);
    function on(...args) {
      if (!test(...args)) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve(args);
    }
    emitter.on(event, on);
  });
}

// Runs fn(server, dir) against a fresh server with its own data directory,
// then stops the server and removes the directory.
export async function withServer(fn, options = {}) {
  const dir = tempDir();
  const server = await startServer(path.join(dir, 'data'), options);
  try {
    return await fn(server, dir);
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Console errors and page errors of every page; `allow` names the failed
// requests a step expects (Chromium logs any 4xx answer as a console error).
export function problems() {
  const seen = [];
  const allowed = [];
  return {
    watch(page) {
      page.on('console', (m) => {
        if (m.type() === 'error') seen.push({ text: m.text(), url: m.location().url ?? '' });
      });
      page.on('pageerror', (e) => seen.push({ text: `uncaught: ${e.message}`, url: '' }));
    },
    allow(status, urlPart, times = 1) {
      allowed.push({ status, urlPart, times });
    },
    unexpected() {
      const left = allowed.map((a) => ({ ...a }));
      return seen.filter((p) => {
        const a = left.find((x) => x.times > 0 && p.text.includes(`status of ${x.status}`) && p.url.includes(x.urlPart));
        if (a) a.times--;
        return !a;
      });
    },
  };
}
