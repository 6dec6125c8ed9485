// Helpers of the cluster suites: a whole cluster (PostgreSQL, Redis, two API
// nodes, two workers, HAProxy) started by scripts/cluster in a temporary
// directory, real clients against it, and the logs when something fails.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { before, after } from 'node:test';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import * as tus from 'tus-js-client';
import { io } from 'socket.io-client';

export { makeClip, waitFor } from '../e2e/lib.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const REEL = path.resolve(root, process.env.REEL_BINARY || 'build/reel');
const SCRIPT = path.join(root, 'scripts/cluster');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');
export const PASSWORD = 'correct horse';

function run(args, env) {
  return new Promise((resolve, reject) => {
    execFile(SCRIPT, args, { env, cwd: root, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) {
        err.message = `scripts/cluster ${args.join(' ')} failed (${err.code}):\n${stderr}${stdout}`;
        reject(err);
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

function parseEnv(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2];
    if (/^'.*'$/.test(v)) v = v.slice(1, -1);
    out[m[1]] = v.replace(/\\(.)/g, '$1');
  }
  return out;
}

// Starts a cluster; `env` adds REEL_* settings for every reel process (short
// timers by default). The caller's own REEL_* settings are not passed on.
export async function startCluster({ env = {} } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-cluster-'));
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REEL_')));
  const runEnv = {
    ...base,
    REEL_BINARY: REEL,
    REEL_CLUSTER_PORT: '0',
    REEL_JOB_LEASE_MS: '3000',
    REEL_JOB_POLL_MS: '200',
    REEL_LOG_LEVEL: 'info',
    // Every client comes through HAProxy from one address: no registration limit unless a test sets one.
    REEL_REGISTRATIONS_PER_ADDRESS_HOUR: '0',
    REEL_REGISTRATIONS_PER_HOUR: '0',
    // The least password hash cost reel accepts (see ../e2e/lib.mjs).
    REEL_PASSWORD_HASH_MEMORY_MIB: '19',
    REEL_PASSWORD_HASH_PASSES: '2',
    ...env,
  };
  const started = Date.now();
  try {
    await run(['up', '--watch', String(process.pid), dir], runEnv);
  } catch (e) {
    await run(['down', '--purge', dir], runEnv).catch(() => {});
    throw e;
  }
  const vars = parseEnv(fs.readFileSync(path.join(dir, 'cluster.env'), 'utf8'));
  console.log(`# cluster up in ${Date.now() - started} ms: ${vars.LB_URL} (${dir})`);
  return new Cluster(dir, vars, runEnv);
}

export class Cluster {
  constructor(dir, vars, env) {
    this.dir = dir;
    this.vars = vars;
    this.env = env;
    this.lb = vars.LB_URL;
    this.api1 = vars.API1_URL;
    this.api2 = vars.API2_URL;
    this.storageDir = vars.STORAGE_DIR;
    this.databaseUrl = vars.DATABASE_URL;
  }

  url(name) {
    return { lb: this.lb, api1: this.api1, api2: this.api2 }[name];
  }

  script(...args) {
    return run([...args, this.dir], this.env);
  }

  kill(name) { return this.script('kill', name); }
  start(name) { return this.script('start', name); }
  stop(name) { return this.script('stop', name); }
  restart(name) { return this.script('restart', name); }
  async status() { return (await this.script('status').catch((e) => ({ stdout: e.message }))).stdout; }

  async down() {
    await run(['down', '--purge', this.dir], this.env);
  }

  logPath(name) {
    if (name === 'postgres') return path.join(this.dir, 'postgres/server.log');
    if (name === 'redis') return path.join(this.dir, 'redis/server.log');
    return path.join(this.dir, 'logs', `${name}.log`);
  }

  log(name) {
    try {
      return fs.readFileSync(this.logPath(name), 'utf8');
    } catch {
      return '';
    }
  }

  // The end of each named log, without the health checks' lines, runs of
  // alike requests (a test polling) shown once with their count.
  tails(names = ['api1', 'api2', 'worker1', 'worker2', 'haproxy'], lines = 25) {
    const shape = (l) => l.replace(/^\S+ /, '').replace(/ ms=\S+ id=\S+$/, '');
    return names.map((n) => {
      const kept = [];
      for (const l of this.log(n).split('\n')) {
        if (!l || /route=\/readyz status=200/.test(l)) continue;
        const last = kept.at(-1);
        if (last && / INFO request /.test(l) && shape(last.line) === shape(l)) last.count++;
        else kept.push({ line: l, count: 1 });
      }
      const text = kept.slice(-lines).map((k) => (k.count > 1 ? `${k.line} (and ${k.count - 1} more alike)` : k.line));
      return `---- ${n} (${this.logPath(n)})\n${text.join('\n')}`;
    }).join('\n');
  }

  // Runs SQL on the cluster's PostgreSQL: rows as arrays of strings.
  psql(sql) {
    const out = execFileSync('psql', [this.databaseUrl, '-X', '-q', '-tA', '-F', '\t', '-c', sql], { encoding: 'utf8' });
    return out.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
  }

  // HAProxy's view of the API nodes: {api1: {status, scur, ...}, api2: ...}.
  async lbServers() {
    const csv = await new Promise((resolve, reject) => {
      const s = net.connect(this.vars.LB_STATS_SOCKET);
      let out = '';
      s.on('connect', () => s.write('show stat\n'));
      s.on('data', (d) => (out += d));
      s.on('end', () => resolve(out));
      s.on('error', reject);
    });
    const lines = csv.split('\n').filter((l) => l);
    const header = lines[0].replace(/^# /, '').split(',');
    const servers = {};
    for (const line of lines.slice(1)) {
      const row = Object.fromEntries(line.split(',').map((v, i) => [header[i], v]));
      if (row.pxname === 'reel_api' && /^api\d$/.test(row.svname)) {
        servers[row.svname] = { status: row.status, scur: Number(row.scur), stot: Number(row.stot) };
      }
    }
    return servers;
  }

  // Waits until HAProxy sees `name` in `state` (e.g. 'UP', 'DOWN'); returns the ms it took.
  async waitLb(name, state, ms = 10000) {
    const started = Date.now();
    for (;;) {
      const s = (await this.lbServers())[name];
      if (s && s.status.startsWith(state)) return Date.now() - started;
      if (Date.now() - started > ms) throw new Error(`HAProxy did not see ${name} ${state} within ${ms} ms (now ${s?.status})`);
      await sleep(100);
    }
  }
}

// An HTTP request to `base` (a URL like http://127.0.0.1:8080); JSON bodies
// are encoded and answers decoded. `localAddress` picks the client's source address.
export function call(base, method, pathname, { token, body, headers = {}, localAddress, org } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (org) h['X-Organization-Id'] = org;
  let payload = body;
  if (body !== undefined && !(body instanceof Buffer) && typeof body !== 'string') {
    h['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (payload !== undefined) h['Content-Length'] = Buffer.byteLength(payload);
  const url = new URL(pathname, base);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: h, localAddress, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const text = raw.toString('utf8');
        let json = null;
        try {
          json = JSON.parse(text);
        } catch {}
        resolve({ status: res.statusCode, headers: res.headers, json, text, raw });
      });
      res.on('error', reject);
    });
    req.setTimeout(30000, () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

// Which node answered, from HAProxy's stickiness cookie (SERVERID=api1).
export function servedBy(res) {
  const cookies = [].concat(res.headers['set-cookie'] ?? []);
  const m = cookies.map((c) => /SERVERID=(\w+)/.exec(c)).find(Boolean);
  return m ? m[1] : null;
}

let accounts = 0;
export async function register(base, name = 'user') {
  const email = `${name}-${++accounts}-${process.pid}@example.com`;
  const r = await call(base, 'POST', '/api/auth/register', {
    body: { email, password: PASSWORD, name, organizationName: `${name} org` },
  });
  if (r.status !== 201) throw new Error(`register failed (${r.status}): ${r.text}`);
  return { email, token: r.json.token, orgId: r.json.organization.id, userId: r.json.user.id };
}

export async function uploadRaw(base, token, bytes, title = 'clip') {
  const r = await call(base, 'POST', `/api/videos?title=${encodeURIComponent(title)}`, {
    token, body: bytes, headers: { 'Content-Type': 'video/mp4' },
  });
  if (r.status !== 201) throw new Error(`upload failed (${r.status}): ${r.text}`);
  return r.json.video;
}

export async function video(base, token, id) {
  const r = await call(base, 'GET', `/api/videos/${id}`, { token });
  if (r.status !== 200) throw new Error(`GET video ${id}: ${r.status} ${r.text}`);
  return r.json.video;
}

// Polls the API until the video is ready (or failed, which throws).
export async function waitReady(base, token, id, ms = 120000) {
  const started = Date.now();
  for (;;) {
    const v = await video(base, token, id).catch(() => null);
    if (v?.status === 'ready') return v;
    if (v?.status === 'failed') throw new Error(`video ${id} failed: ${JSON.stringify(v)}`);
    if (Date.now() - started > ms) throw new Error(`video ${id} not ready within ${ms} ms: ${JSON.stringify(v)}`);
    await sleep(250);
  }
}

// A socket.io-client connected to one node (or the balancer).
export function connect(base, token, opts = {}) {
  return io(base, { auth: { token }, reconnectionDelay: 200, reconnectionDelayMax: 1000, ...opts });
}

// A clip with ffmpeg: `seconds` long, `size` (e.g. 1280x720). Cached per run.
export function clip(dir, seconds, size = '320x240') {
  const file = path.join(dir, `clip-${seconds}s-${size}.mp4`);
  if (!fs.existsSync(file)) {
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25:duration=${seconds}`,
      '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`, '-c:v', 'libx264', '-preset', 'ultrafast',
      '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', file]);
  }
  return file;
}

// Where the original of a video is in the shared storage.
export function originalPath(storageDir, orgId, videoId) {
  return path.join(storageDir, 'orgs', orgId, 'videos', videoId, 'original');
}

// Wraps a test body: on failure, prints the cluster's logs before rethrowing.
export function withLogs(cluster, fn, names) {
  return async (t) => {
    try {
      return await fn(t);
    } catch (e) {
      const c = typeof cluster === 'function' ? cluster() : cluster;
      if (c) console.log(`# ${t.name} failed; logs:\n${c.tails(names)}\n# status:\n${await c.status()}`);
      throw e;
    }
  };
}

// Resolves with the ms until `check()` is truthy, polling every `every` ms; rejects after `ms`.
export async function within(ms, check, { every = 50, what = 'condition' } = {}) {
  const started = Date.now();
  for (;;) {
    const v = await check();
    if (v) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`${what} not met within ${ms} ms`);
    await sleep(every);
  }
}

// Waits for `event` (passing `test`) on `emitter`; gives up `grace` ms after
// `settled` resolves (what the event announces is known to have happened by
// other means, e.g. the API says the video is ready), or after `ms`.
export function eventAfter(emitter, event, test, settled, { grace = 3000, ms = 120000 } = {}) {
  return new Promise((resolve, reject) => {
    let timer = setTimeout(() => fail(`no ${event} within ${ms} ms`), ms);
    function fail(why) {
      emitter.off(event, on);
      reject(new Error(why));
    }
    function on(...args) {
      if (!test(...args)) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve(args);
    }
    emitter.on(event, on);
    settled.then(() => {
      clearTimeout(timer);
      timer = setTimeout(() => fail(`no ${event} within ${grace} ms after it had happened (as the API showed)`), grace);
    }, () => {});
  });
}

// tus-js-client's Node HTTP stack, with PATCH bodies sent at `bytesPerSecond`.
export function throttledStack(bytesPerSecond) {
  const inner = new tus.DefaultHttpStack();
  return {
    getName: () => 'throttled',
    createRequest(method, url) {
      const req = inner.createRequest(method, url);
      const send = req.send.bind(req);
      req.send = (body) => {
        if (method !== 'PATCH' || !(body instanceof Uint8Array)) return send(body);
        req.setHeader('Content-Length', String(body.length));
        const piece = 32 * 1024;
        let offset = 0;
        const stream = new Readable({
          read() {
            if (offset >= body.length) return this.push(null);
            const part = body.subarray(offset, offset + piece);
            offset += part.length;
            setTimeout(() => this.push(Buffer.from(part)), (piece / bytesPerSecond) * 1000);
          },
        });
        return send(stream);
      };
      return req;
    },
  };
}


// One cluster for a test file, with a scratch directory and one account
// registered through the balancer: `before` brings them up and hands them
// to `ready({cluster, work, alice})`, `after` takes them down.
export function useCluster(ready, { env } = {}) {
  const ctx = { cluster: null, work: null, alice: null };
  before(async () => {
    ctx.work = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-cluster-work-'));
    ctx.cluster = await startCluster({ env });
    ctx.alice = await register(ctx.cluster.lb, 'alice');
    ready(ctx);
  });
  after(async () => {
    await ctx.cluster?.down();
    if (ctx.work) fs.rmSync(ctx.work, { recursive: true, force: true });
  });
  return ctx;
}

// `reel upload FILE` through `base` as `token`, with `args` (chunk size,
// rate...), state kept in `stateDir`, none of the caller's REEL_* settings.
// Returns {proc, stdout(), stderr(), done: Promise<exit code>}; `onStderr`
// sees the progress as it comes.
export function reelUpload(base, token, file, title, args, stateDir, onStderr = () => {}) {
  const proc = spawn(REEL, ['upload', file, '--server', base, '--token', token, '--title', title, ...args], {
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REEL_'))), XDG_STATE_HOME: stateDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (c) => (out += c));
  proc.stderr.on('data', (c) => {
    err += c;
    onStderr(err);
  });
  return { proc, stdout: () => out, stderr: () => err, done: new Promise((resolve) => proc.on('exit', resolve)) };
}
