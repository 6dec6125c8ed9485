// Helpers of the chaos suites: real `reel serve` and `reel worker` processes
// killed with SIGKILL at moments a seeded generator picks, real clients
// (tus-js-client, multipart over fetch), and the invariants checked once the
// dust settles: files and rows agree, every video ended, no ffmpeg left, the
// database intact, no job over its attempt budget.
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tus from 'tus-js-client';
import { databaseEnv, NO_REGISTRATION_LIMIT, api } from '../e2e/lib.mjs';

export { api, register } from '../e2e/lib.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const REEL = path.resolve(root, process.env.REEL_BINARY || 'build/reel');
export const POSTGRES = process.env.REEL_TEST_BACKEND === 'postgres';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');

// ---------------------------------------------------------------- randomness

// The run's seed: CHAOS_SEED replays a run (trial i uses seed + i).
export function runSeed() {
  const s = process.env.CHAOS_SEED;
  if (s !== undefined && s !== '') {
    if (!/^\d+$/.test(s)) throw new Error(`CHAOS_SEED must be a non-negative integer, not "${s}"`);
    return Number(s) >>> 0;
  }
  return crypto.randomInt(1, 2 ** 31);
}

// mulberry32: small, fast, and the same sequence for the same seed everywhere.
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),  // lo..hi inclusive
    pick: (list) => list[Math.floor(next() * list.length)],
    bytes: (n) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i += 4) b.writeUInt32LE(Math.floor(next() * 4294967296), Math.min(i, n - 4));
      return b;
    },
  };
}

// ------------------------------------------------------------------- sources

// Small clips, made once per run with ffmpeg (2 s, 320x240 or less: CPU is
// scarce): an H.264/AAC MP4 (remuxed), an MPEG-4 Part 2 one (encoded), and a
// bigger H.264 one at a high bitrate so that its upload takes many chunks.
let clipCache = null;
export function clips() {
  if (clipCache) return clipCache;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-chaos-clips-'));
  const make = (name, args) => {
    const file = path.join(dir, name);
    execFileSync('ffmpeg', ['-v', 'error', '-y', ...args, file]);
    return fs.readFileSync(file);
  };
  const lavfi = (size, seconds) => ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`];
  clipCache = {
    h264: make('h264.mp4', [...lavfi('320x240', 2), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-shortest']),
    mpeg4: make('mpeg4.mp4', [...lavfi('256x144', 2), '-c:v', 'mpeg4', '-c:a', 'aac', '-shortest']),
    big: make('big.mp4', ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=2,noise=alls=60:allf=t',
      '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2', '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '8M',
      '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest']),
  };
  fs.rmSync(dir, { recursive: true, force: true });
  return clipCache;
}

// ------------------------------------------------------------------ processes

// `reel help`: the settings this binary knows (reel refuses unknown
// REEL_* variables, and the suite runs on binaries older and newer than
// some settings).
let helpCache = null;
function help() {
  if (helpCache === null) {
    try {
      helpCache = execFileSync(REEL, ['help'], { encoding: 'utf8' });
    } catch (e) {
      helpCache = String(e.stdout || '');
    }
  }
  return helpCache;
}
export const knows = (name) => new RegExp(`\\b${name}\\b`).test(help());
export const ifKnown = (settings) => Object.fromEntries(Object.entries(settings).filter(([k]) => knows(k)));

// The reconciliation settings this binary knows, set short so that a
// trial's final start-up and a few seconds of running are enough for the
// sweep to remove what a crash left: a grace of 5 s (a directory being
// created is younger), a run every 2 s. Empty when the binary has none.
let sweepCache = null;
export function sweepSettings() {
  if (sweepCache) return sweepCache;
  sweepCache = {};
  for (const m of help().matchAll(/\b(REEL_[A-Z0-9_]*(?:SWEEP|RECONCIL|ORPHAN|LEFTOVER|CLEANUP)[A-Z0-9_]*)\b/g)) {
    const seconds = /GRACE/.test(m[1]) ? 5 : 2;
    if (/_MS$/.test(m[1])) sweepCache[m[1]] = String(seconds * 1000);
    else if (/_SECONDS$/.test(m[1])) sweepCache[m[1]] = String(seconds);
  }
  return sweepCache;
}

// Settings every chaos process gets: short leases and retries (resource
// retries too, where the binary has them) so a trial settles in seconds, no
// registration limits, the sweep short.
let fastCache = null;
export function fastSettings() {
  fastCache ??= {
    REEL_JOB_LEASE_MS: '2000',
    REEL_JOB_POLL_MS: '200',
    REEL_JOB_RETRY_BASE_MS: '300',
    REEL_SHUTDOWN_TIMEOUT_MS: '3000',
    REEL_THREADPOOL_SIZE: '2',
    REEL_LOG_LEVEL: 'info',
    ...ifKnown({ REEL_JOB_RESOURCE_RETRY_BASE_MS: '500', REEL_JOB_RESOURCE_RETRY_MAX_MS: '2000' }),
    ...sweepSettings(),
  };
  return fastCache;
}

// A port for a server that is killed and started again on it: from
// scripts/free-port, below the ephemeral range, so that no client's outgoing
// connection can take it while the server is down.
export function freePort() {
  return Number(execFileSync(path.join(root, 'scripts/free-port'), { encoding: 'utf8' }).trim());
}

// A `reel serve` or `reel worker` in a process group of its own (so that a
// check can tell its children from others'), resolved once it is up:
// {proc, pid, port, log(), kill(signal), stop()}. `wrap` runs it under a
// command that execs it (prlimit).
export function startReel(kind, dataDir, { port = 0, args = [], env = {}, wrap = [] } = {}) {
  return new Promise((resolve, reject) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REEL_')));
    const reelArgs = kind === 'serve'
      ? ['serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, ...args]
      : ['worker', '--data-dir', dataDir, ...args];
    const argv = [...wrap, REEL, ...reelArgs];
    const proc = spawn(argv[0], argv.slice(1), {
      env: { ...clean, ...databaseEnv(dataDir), ...NO_REGISTRATION_LIMIT, ...fastSettings(), ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let log = '';
    const ready = kind === 'serve' ? /INFO listening .*port=(\d+)/ : /INFO worker started/;
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`reel ${kind} did not start: ${log}`));
    }, 30000);
    const node = {
      proc,
      pid: proc.pid,
      kind,
      port: 0,
      log: () => log,
      exited: new Promise((done) => proc.once('exit', (code, signal) => done(code ?? signal))),
      kill(signal = 'SIGKILL') {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
        return node.exited;
      },
      stop: () => node.kill('SIGTERM'),
    };
    proc.stderr.on('data', (chunk) => {
      log += chunk;
      if (log.length > 400000) log = log.slice(-200000);
      const m = ready.exec(log);
      if (m && timer) {
        clearTimeout(timer);
        node.port = kind === 'serve' ? Number(m[1]) : 0;
        resolve(node);
      }
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`reel ${kind} exited (${code ?? signal}) before it was up: ${log.slice(-4000)}`));
    });
  });
}

// Processes (pid, command line) running ffmpeg or ffprobe on a file under `dir`.
export function mediaProcessesUnder(dir) {
  const found = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let cmd;
    try {
      cmd = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      continue;
    }
    if (!cmd.length || !/(^|\/)(ffmpeg|ffprobe)$/.test(cmd[0])) continue;
    if (cmd.some((a) => a.includes(dir))) found.push({ pid: Number(name), cmd: cmd.join(' ') });
  }
  return found;
}

// Processes whose process group is one of `pgids` (what a killed reel's
// group still holds: its children when nothing took them down).
export function processesInGroups(pgids) {
  const found = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      if (pgids.has(Number(fields[2]))) found.push({ pid: Number(name), cmd: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) });
    } catch {}
  }
  return found;
}

// ------------------------------------------------------------------ database

function pgTarget(dataDir) {
  const url = databaseEnv(dataDir).REEL_DATABASE_URL;
  const m = /^postgres:\/\/reel@\/(\w+)\?host=(.*)$/.exec(url);
  return { name: m[1], host: m[2] };
}

// Rows of `sql` (a SELECT) as objects, from the trial's database.
export function query(dataDir, sql) {
  if (POSTGRES) {
    const { name, host } = pgTarget(dataDir);
    const out = execFileSync('psql', ['-h', host, '-U', 'reel', '-d', name, '-X', '-A', '-t', '-q', '-c',
      `SELECT coalesce(json_agg(t), '[]') FROM (${sql}) t`], { encoding: 'utf8' });
    return JSON.parse(out.trim() || '[]');
  }
  const out = execFileSync('sqlite3', ['-json', path.join(dataDir, 'reel.db'), sql], { encoding: 'utf8' });
  return out.trim() ? JSON.parse(out) : [];
}

// Runs a statement that returns nothing on the trial's database.
export function execute(dataDir, sql) {
  if (POSTGRES) {
    const { name, host } = pgTarget(dataDir);
    execFileSync('psql', ['-h', host, '-U', 'reel', '-d', name, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
  } else {
    execFileSync('sqlite3', [path.join(dataDir, 'reel.db'), sql]);
  }
}

// What the database says about its own health: [] when all is well, else
// the problems in words. SQLite: PRAGMA integrity_check and foreign_key_check.
// PostgreSQL: amcheck's bt_index_check on every index of the schema, and
// every table read whole.
export function databaseProblems(dataDir) {
  if (!POSTGRES) {
    const db = path.join(dataDir, 'reel.db');
    const problems = [];
    for (const pragma of ['integrity_check', 'foreign_key_check']) {
      let out;
      try {
        out = execFileSync('sqlite3', [db, `PRAGMA ${pragma}`], { encoding: 'utf8', stdio: 'pipe' }).trim();
      } catch (e) {
        out = String(e.stderr || e.message).trim();
      }
      if (out !== (pragma === 'integrity_check' ? 'ok' : '')) problems.push(`${pragma}: ${out.slice(0, 500)}`);
    }
    return problems;
  }
  const { name, host } = pgTarget(dataDir);
  const psql = (sql) => execFileSync('psql', ['-h', host, '-U', 'postgres', '-d', name, '-X', '-A', '-t', '-q',
    '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' }).trim();
  const problems = [];
  try {
    psql('CREATE EXTENSION IF NOT EXISTS amcheck');
    psql(`SELECT bt_index_check(c.oid, true) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am a ON a.oid = c.relam
          WHERE n.nspname = 'public' AND a.amname = 'btree'`);
  } catch (e) {
    problems.push(`amcheck: ${String(e.stderr || e.message).trim()}`);
  }
  const tables = psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").split('\n').filter(Boolean);
  for (const t of tables) {
    try {
      psql(`SELECT count(*) FROM (SELECT * FROM "${t}") x`);
    } catch (e) {
      problems.push(`reading ${t}: ${String(e.stderr || e.message).trim()}`);
    }
  }
  return problems;
}

// ------------------------------------------------------------------ invariants

const VIDEO_OUTPUTS = ['video.mp4', 'poster.jpg', 'hls/master.m3u8', 'storyboard/storyboard.vtt', 'storyboard/sprite-001.jpg'];

// Files without rows and rows without files under the data directory, in
// words ([] when they agree). A video directory needs its row (same
// organization); a row needs its original (and, when ready, its outputs);
// no job's work directory outlives its job; tmp/ is empty once nothing is
// in progress; an upload row needs its video.
export function orphans(dataDir) {
  const found = [];
  const videos = new Map(query(dataDir, 'SELECT id, organization_id, status FROM videos').map((v) => [v.id, v]));
  const orgsDir = path.join(dataDir, 'orgs');
  const onDisk = new Set();
  const list = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir) : []);
  for (const org of list(orgsDir)) {
    const videosDir = path.join(orgsDir, org, 'videos');
    for (const id of list(videosDir)) {
      const dir = path.join(videosDir, id);
      onDisk.add(id);
      const row = videos.get(id);
      if (!row) {
        found.push(`files without a row: orgs/${org}/videos/${id} (${list(dir).join(', ') || 'empty'})`);
        continue;
      }
      if (row.organization_id !== org) found.push(`orgs/${org}/videos/${id} belongs to ${row.organization_id}`);
      for (const f of list(dir)) {
        if (f.startsWith('work-')) found.push(`a job's work directory left behind: orgs/${org}/videos/${id}/${f}`);
        if (/\.tmp-/.test(f)) found.push(`a temporary file left behind: orgs/${org}/videos/${id}/${f}`);
      }
    }
  }
  for (const v of videos.values()) {
    const dir = path.join(orgsDir, v.organization_id, 'videos', v.id);
    if (v.status === 'uploading') continue;  // its file grows as bytes come (checked with the uploads)
    if (!fs.existsSync(path.join(dir, 'original')) && v.status !== 'failed') {
      found.push(`a ${v.status} row without its file: video ${v.id}`);
    }
    if (v.status === 'ready') {
      for (const f of VIDEO_OUTPUTS) {
        if (!fs.existsSync(path.join(dir, f))) found.push(`a ready video without ${f}: ${v.id}`);
      }
    }
  }
  for (const u of query(dataDir, 'SELECT id, video_id FROM uploads')) {
    if (!videos.has(u.video_id)) found.push(`an upload row without its video: ${u.id}`);
  }
  for (const f of list(path.join(dataDir, 'tmp'))) {
    const st = fs.statSync(path.join(dataDir, 'tmp', f), { throwIfNoEntry: false });
    if (st && st.isFile()) found.push(`an upload leftover in tmp/: ${f} (${st.size} bytes)`);
    else if (st && st.isDirectory()) {
      // A process's scratch directory (tmp/<id>/ with its .lock) goes when
      // the process stops, or at the next start-up after it was killed; a
      // half-made dot-one only when old, but never with files in it.
      const inside = list(path.join(dataDir, 'tmp', f));
      for (const g of inside) if (g !== '.lock') found.push(`an upload leftover in tmp/${f}/: ${g}`);
      if (!f.startsWith('.') && !inside.some((g) => g !== '.lock')) found.push(`a scratch directory left behind: tmp/${f}`);
    }
  }
  return found;
}

// Jobs that used more attempts than they may, in words.
export function overBudget(dataDir) {
  return query(dataDir, 'SELECT id, video_id, attempts, max_attempts, state FROM jobs WHERE attempts > max_attempts')
    .map((j) => `job ${j.id} (video ${j.video_id}, ${j.state}): ${j.attempts} attempts of ${j.max_attempts}`);
}

// ------------------------------------------------------------------ clients

// A tus upload of `bytes` with the stock client that keeps going across
// server deaths: its own retries first, then a new client on the same URL
// (HEAD, then PATCH from the server's offset). `pace` (ms) slows each PATCH
// so that the upload spans the trial. Resolves {url, videoId, attempts,
// lostCreations, errors (the 500 answers)} once the server has all the bytes.
export async function resilientTus(getPort, token, bytes, { chunkSize = 65536, pace = 0, deadline = 90000,
  title = 'chaos tus' } = {}) {
  const until = Date.now() + deadline;
  let url = null, videoId = null, attempts = 0, retries = 0, lostCreations = 0, lastError = null;
  const errors = [];  // 500 answers (a dead server answers nothing)
  while (Date.now() < until) {
    attempts++;
    const port = getPort();
    const result = await new Promise((resolve) => {
      const upload = new tus.Upload(bytes, {
        endpoint: `http://127.0.0.1:${port}/api/uploads`,
        uploadUrl: url ? url.replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${port}`) : null,
        headers: { Authorization: `Bearer ${token}` },
        metadata: { filename: 'chaos.mp4', filetype: 'video/mp4', title },
        chunkSize,
        retryDelays: [100, 300, 500, 1000, 1000, 1000, 2000],
        onBeforeRequest: pace ? async (req) => {
          if (req.getMethod() === 'PATCH') await sleep(pace);
        } : undefined,
        onAfterResponse: (req, res) => {
          if (req.getMethod() === 'POST' && res.getStatus() === 201) videoId = res.getHeader('X-Video-Id');
          if (res.getStatus() === 500) errors.push(`${req.getMethod()} 500 ${String(res.getBody()).slice(0, 160)}`);
        },
        // The client's own retries (its default rule, counted): a server
        // that is down or died mid-request is tried again; a refusal is not.
        onShouldRetry: (err) => {
          const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
          const retry = !(status >= 400 && status < 500 && status !== 409 && status !== 423);
          if (retry) retries++;
          // A creation (POST) retried without an answer may have reached the
          // server, which then died before answering: its row stays
          // `uploading`, unknown to this client, until the upload expires.
          if (retry && !status && err.originalRequest?.getMethod?.() === 'POST') lostCreations++;
          return retry;
        },
        onSuccess: () => resolve({ upload }),
        onError: (error) => resolve({ upload, error }),
      });
      upload.start();
    });
    if (result.upload.url) url = result.upload.url;
    if (!result.error) return { url, videoId, attempts: attempts + retries, lostCreations, errors };
    lastError = result.error;
    const status = result.error.originalResponse?.getStatus?.();
    if (status && status >= 400 && status < 500 && status !== 409 && status !== 423) {
      throw new Error(`tus upload refused (${status}): ${result.error.message}`);
    }
    if (!url) lostCreations++;  // the creation may have reached the server and its answer been lost
    await sleep(300);
  }
  throw new Error(`tus upload did not finish in ${deadline} ms: ${lastError}`);
}

// A multipart/form-data body streamed in `chunk`-byte pieces `pace` ms apart.
function multipartStream(bytes, title, { chunk = 65536, pace = 0 } = {}) {
  const boundary = '----reelchaos' + crypto.randomBytes(8).toString('hex');
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\n${title}\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="chaos.mp4"\r\n` +
    'Content-Type: video/mp4\r\n\r\n');
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const whole = Buffer.concat([head, bytes, tail]);
  let at = 0;
  const body = new ReadableStream({
    async pull(controller) {
      if (at >= whole.length) return controller.close();
      if (pace && at) await sleep(pace);
      controller.enqueue(new Uint8Array(whole.subarray(at, at + chunk)));
      at += chunk;
    },
  });
  return { body, type: `multipart/form-data; boundary=${boundary}`, length: whole.length };
}

// A multipart upload (POST /api/videos), sent again while the server is down
// or dies during it. Resolves {video, attempts, lost, errors} (lost: attempts
// whose answer never came, which may have made a video anyway; errors: the
// 500 answers).
export async function resilientMultipart(getPort, token, bytes, { pace = 0, deadline = 90000,
  title = 'chaos multipart' } = {}) {
  const until = Date.now() + deadline;
  let attempts = 0, lost = 0, lastError = null;
  const errors = [];
  while (Date.now() < until) {
    attempts++;
    const { body, type, length } = multipartStream(bytes, title, { pace });
    try {
      const res = await fetch(`http://127.0.0.1:${getPort()}/api/videos`, {
        method: 'POST', body, duplex: 'half',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': type, 'Content-Length': String(length) },
      });
      const text = await res.text();
      if (res.status === 201) return { video: JSON.parse(text).video, attempts, lost, errors };
      if (res.status === 500) errors.push(`POST 500 ${text.slice(0, 160)}`);
      if (res.status < 500) throw Object.assign(new Error(`multipart refused (${res.status}): ${text}`), { final: true });
      lastError = new Error(`${res.status}: ${text}`);
    } catch (e) {
      if (e.final) throw e;
      lost++;
      lastError = e;
    }
    await sleep(300);
  }
  throw new Error(`multipart upload did not succeed in ${deadline} ms: ${lastError}`);
}

// Waits until every video of `dataDir` is ready or failed (or `ms` passed);
// returns the rows still neither.
export async function settleVideos(dataDir, ms, ignore = new Set()) {
  const until = Date.now() + ms;
  for (;;) {
    const open = query(dataDir, "SELECT id, status, error FROM videos WHERE status NOT IN ('ready', 'failed')")
      .filter((v) => !ignore.has(v.id));
    if (!open.length || Date.now() > until) return open;
    await sleep(500);
  }
}

// Keeps trying fn() until it does not throw (a server coming back up).
export async function retrying(fn, ms = 15000) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > until) throw e;
      await sleep(200);
    }
  }
}

export function tempDir(prefix = 'reel-chaos-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function apiRetrying(getPort, method, pathname, options) {
  return retrying(() => api(getPort(), method, pathname, options));
}
