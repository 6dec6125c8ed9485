// Load client of the cluster scenario's event latency: how long an event
// takes from its publisher to a Socket.IO client on another node. Events
// carry no timestamps, so the reference is Redis itself, watched from here
// over three raw RESP connections (no client library). reel's nodes pass
// events as entries of the Redis stream reel:events (XADD, field "m": the
// JSON message with org, name, payload, from), each read by every node
// with XREAD BLOCK from the last entry it saw; this does the same:
//   - a reader of reel:events (XREAD BLOCK from where the stream ends at
//     the start, then from the last id), each entry timestamped as it
//     arrives here: when a node's reader gets it too;
//   - MONITOR, whose lines carry Redis' own clock when it ran each XADD;
//   - a command connection asking TIME, to put Redis' clock on this
//     process's performance.now() (offset from the round trip's midpoint,
//     the best of 20 round trips, at the start and at the end).
// Sockets connected directly to api2 and to api1 (websocket transport)
// timestamp the same events; an event is matched by its name and payload
// (the n-th alike on one side with the n-th on the other).
// Series 1, worker → clients: CLIPS clips uploaded through api1, processed
// by the workers (video:progress at each stage and at most every 250 ms
// within one, video:ready); only the workers' events count (not api1's
// video:created and video:updated of the uploads).
// Series 2, API node → clients: PATCHES title edits on api1, one at a time,
// each a video:updated that api1 delivers to its own sockets and publishes
// for api2's; timed from the moment the request is written.
// What this cannot see: the worker's own hop from deciding to publish to
// Redis running the XADD (one write on loopback TCP).
// Usage: node cluster_latency.mjs CLUSTER_ENV CLIP TOKEN CLIPS PATCHES
// Prints one JSON report on stdout; progress goes to stderr.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { io } from 'socket.io-client';

const [envFile, clipFile, token, clipsArg, patchesArg] = process.argv.slice(2);
const CLIPS = Number(clipsArg);
const PATCHES = Number(patchesArg);
const env = Object.fromEntries(fs.readFileSync(envFile, 'utf8').split('\n')
  .map((l) => /^([A-Z0-9_]+)=(.*)$/.exec(l)).filter(Boolean).map((m) => [m[1], m[2].replace(/^'(.*)'$/, '$1')]));
const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (s) => process.stderr.write(`cluster_latency: ${s}\n`);

// ---- Redis: a minimal RESP2 reader and three connections.
// Calls onReply(value, arrivedAt) for each complete reply; arrays of bulk
// strings, simple strings, errors and integers are all reel's Redis sends here.
function resp(url, onReply) {
  const { hostname, port } = new URL(url);
  const sock = net.connect(Number(port), hostname);
  sock.setNoDelay(true);
  let buf = Buffer.alloc(0);
  // Parses one value at `at`: [value, next offset], or null when incomplete.
  function parse(at) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return null;
    const type = String.fromCharCode(buf[at]);
    const line = buf.toString('utf8', at + 1, eol);
    if (type === '+' || type === '-') return [type === '-' ? new Error(line) : line, eol + 2];
    if (type === ':') return [Number(line), eol + 2];
    if (type === '$') {
      const n = Number(line);
      if (n < 0) return [null, eol + 2];
      if (buf.length < eol + 2 + n + 2) return null;
      return [buf.toString('utf8', eol + 2, eol + 2 + n), eol + 2 + n + 2];
    }
    if (type === '*') {
      const items = [];
      let next = eol + 2;
      for (let i = 0; i < Number(line); i++) {
        const r = parse(next);
        if (!r) return null;
        items.push(r[0]);
        next = r[1];
      }
      return [items, next];
    }
    throw new Error(`unexpected RESP type ${type}`);
  }
  sock.on('data', (chunk) => {
    const at = now();
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    let off = 0;
    for (let r; (r = parse(off));) {
      onReply(r[0], at);
      off = r[1];
    }
    buf = buf.subarray(off);
  });
  const send = (...args) => sock.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  const ready = new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  return { sock, send, ready };
}

// Entries of reel:events as they arrive here: {raw, msg, at}. An XREAD
// reply is [[stream, [[id, [field, value, ...]], ...]]], or nil after BLOCK.
// The first reply (XREVRANGE) says where the stream ends now.
const entries = [];
let lastId = null;
let reading = true;
const reader = resp(env.REDIS_URL, (v, at) => {
  if (lastId === null) {
    lastId = v.length ? v[0][0] : '0-0';
    return readNext();
  }
  for (const [, items] of Array.isArray(v) ? v : []) {
    for (const [id, fields] of items) {
      lastId = id;
      for (let i = 0; i + 1 < fields.length; i += 2) {
        if (fields[i] === 'm') entries.push({ raw: fields[i + 1], msg: JSON.parse(fields[i + 1]), at });
      }
    }
  }
  if (reading) readNext();
});
const readNext = () => reader.send('XREAD', 'COUNT', '1000', 'BLOCK', '1000', 'STREAMS', 'reel:events', lastId);
// MONITOR's XADD lines on reel:events: {raw, redisUs} (Redis' clock, µs).
const monitored = [];
const unrepr = (s) => s.replace(/\\(x[0-9a-f]{2}|.)/g, (_, e) => {
  if (e[0] === 'x' && e.length === 3) return String.fromCharCode(parseInt(e.slice(1), 16));
  return { n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b' }[e] ?? e;
});
const mon = resp(env.REDIS_URL, (v) => {
  if (typeof v !== 'string') return;
  const m = /^(\d+)\.(\d{6}) \[[^\]]*\] "XADD" "reel:events" .*"m" "(.*)"$/.exec(v);
  if (m) monitored.push({ raw: Buffer.from(unrepr(m[3]), 'latin1').toString('utf8'), redisUs: Number(m[1]) * 1e6 + Number(m[2]) });
});
let timeReply = null;
const cmd = resp(env.REDIS_URL, (v, at) => timeReply?.(v, at));
// Redis' clock minus performance.now(), in ms: the best of `n` TIME round trips.
async function calibrate(n = 20) {
  let best = null;
  for (let i = 0; i < n; i++) {
    const sent = now();
    const [v, at] = await new Promise((resolve) => { timeReply = (...r) => resolve(r); cmd.send('TIME'); });
    const redisMs = Number(v[0]) * 1e3 + Number(v[1]) / 1e3;
    const rtt = at - sent;
    if (!best || rtt < best.rtt) best = { rtt, offset: redisMs - (sent + at) / 2, at: (sent + at) / 2 };
  }
  return best;
}

// ---- HTTP on kept-alive connections (one per node).
const agents = {};
function request(base, method, pathname, body, headers = {}) {
  const agent = (agents[base] ??= new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const h = { Authorization: `Bearer ${token}`, ...headers };
  if (body !== undefined) h['Content-Length'] = Buffer.byteLength(body);
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(pathname, base), { method, headers: h, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode >= 300) reject(new Error(`${method} ${pathname}: ${res.statusCode} ${text}`));
        else resolve(JSON.parse(text || 'null'));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

// ---- Sockets directly on each node; every event they hear: {name, key, at}.
const heard = { api1: [], api2: [] };
const keyOf = (name, payload) => `${name} ${JSON.stringify(payload)}`;
async function open(node) {
  const s = io(env[`${node.toUpperCase()}_URL`], { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true });
  s.onAny((name, payload) => heard[node].push({ name, key: keyOf(name, payload), at: now(), payload }));
  await new Promise((resolve, reject) => { s.once('connect', resolve); s.once('connect_error', reject); });
  return s;
}

function stats(values) {
  const v = [...values].sort((a, b) => a - b);
  const pick = (p) => v[Math.max(0, Math.ceil(p * v.length) - 1)];
  const r = (x) => Math.round(x * 1000) / 1000;
  return v.length ? { n: v.length, p50: r(pick(0.5)), p99: r(pick(0.99)), max: r(v.at(-1)) } : { n: 0 };
}

// Index of alike events: key → their times, in order.
function byKey(list, keyFn, atFn) {
  const m = new Map();
  for (const e of list) {
    const k = keyFn(e);
    if (!m.has(k)) m.set(k, []);
    m.get(k).push(atFn(e));
  }
  return m;
}
// Differences b − a for each event of `a` (keyed lists) that `b` also has.
function deltas(a, b) {
  const out = [];
  let missing = 0;
  for (const [k, times] of a) {
    const other = b.get(k) ?? [];
    times.forEach((t, i) => (i < other.length ? out.push(other[i] - t) : missing++));
  }
  return { values: out, missing };
}

// Bounded in time, whatever happens; ends with the script that started it.
setTimeout(() => { log('gave up after 120 s'); process.exit(1); }, 120000).unref();
const parent = process.ppid;
setInterval(() => process.ppid !== parent && process.exit(1), 500).unref();
await Promise.all([reader.ready, mon.ready, cmd.ready]);
reader.send('XREVRANGE', 'reel:events', '+', '-', 'COUNT', '1');
mon.send('MONITOR');
const [s1, s2] = await Promise.all([open('api1'), open('api2')]);
const calStart = await calibrate();

const clip = fs.readFileSync(clipFile);
const upload = (i) => request(env.API1_URL, 'POST', `/api/videos?title=clip-${i}`, clip, { 'Content-Type': 'video/mp4' });
const readyIds = new Set();
s2.on('video:ready', (p) => readyIds.add(p.video.id));
const started = now();
const videos = [];
// Two uploads at a time, one per worker; the next when one is ready.
let next = 0;
async function lane() {
  while (next < CLIPS) {
    const i = next++;
    const { video } = await upload(i);
    videos.push(video.id);
    const deadline = now() + 20000;
    while (!readyIds.has(video.id)) {
      if (now() > deadline) throw new Error(`no video:ready of ${video.id} on api2 within 20 s`);
      await sleep(20);
    }
  }
}
await Promise.all([lane(), lane()]);
await sleep(500);  // stragglers
const processingMs = now() - started;
log(`${CLIPS} clips processed in ${(processingMs / 1000).toFixed(1)} s`);

// Series 2: title edits on api1, one at a time.
const sentAt = new Map();  // title → {sent, answered}
const patchMark = entries.length;
for (let i = 0; i < PATCHES; i++) {
  const title = `edit ${i}`;
  const id = videos[i % videos.length];
  const t = { sent: now() };
  sentAt.set(title, t);
  await request(env.API1_URL, 'PATCH', `/api/videos/${id}`, JSON.stringify({ title }), { 'Content-Type': 'application/json' });
  t.answered = now();
  const deadline = now() + 5000;
  const got = (node) => heard[node].some((e) => e.name === 'video:updated' && e.payload.video.title === title);
  while (!(got('api1') && got('api2'))) {
    if (now() > deadline) break;
    await sleep(1);
  }
}
await sleep(300);
const calEnd = await calibrate();
s1.close();
s2.close();
reading = false;
for (const c of [reader, mon, cmd]) c.sock.destroy();
for (const a of Object.values(agents)) a.destroy();

// api1's id: the sender of the edits.
const api1Id = entries.find((x) => x.msg.name === 'video:updated' && sentAt.has(x.msg.payload.video?.title))?.msg.from;
// Redis' clock → performance.now(), drifting linearly between the two calibrations.
const slope = (calEnd.offset - calStart.offset) / (calEnd.at - calStart.at);
const toLocal = (redisUs) => {
  const ms = redisUs / 1000;
  const guess = ms - calStart.offset;
  return ms - (calStart.offset + slope * (guess - calStart.at));
};

// Series 1: the worker's events (all but api1's).
const workerEntries = entries.slice(0, patchMark).filter((p) => p.msg.from !== api1Id);
const entryKey = (p) => keyOf(p.msg.name, p.msg.payload);
const sockKey = (e) => e.key;
const readIdx = byKey(workerEntries, entryKey, (p) => p.at);
const workerRaw = new Set(workerEntries.map((p) => p.raw));
const monIdx = byKey(monitored.filter((m) => workerRaw.has(m.raw)), (m) => entryKey({ msg: JSON.parse(m.raw) }),
  (m) => toLocal(m.redisUs));
const sockIdx = (node) => byKey(heard[node], sockKey, (e) => e.at);
const w = {
  readToApi2: deltas(readIdx, sockIdx('api2')),
  readToApi1: deltas(readIdx, sockIdx('api1')),
  xaddToRead: deltas(monIdx, readIdx),
  xaddToApi2: deltas(monIdx, sockIdx('api2')),
};

// Series 2: request written → video:updated on each socket; → the answer.
const edits = (node) => new Map(heard[node].filter((e) => e.name === 'video:updated' && sentAt.has(e.payload.video.title))
  .map((e) => [e.payload.video.title, e.at]));
const e1 = edits('api1'), e2 = edits('api2');
const p = { api1: [], api2: [], answer: [], missing: 0 };
for (const [title, t] of sentAt) {
  if (!e1.has(title) || !e2.has(title)) p.missing++;
  if (e1.has(title)) p.api1.push(e1.get(title) - t.sent);
  if (e2.has(title)) p.api2.push(e2.get(title) - t.sent);
  if (t.answered) p.answer.push(t.answered - t.sent);
}
const patchEntries = byKey(entries.slice(patchMark), entryKey, (x) => x.at);
const patchReadToApi2 = deltas(patchEntries, sockIdx('api2'));

const report = {
  clips: CLIPS,
  videos,
  processingSeconds: Math.round(processingMs / 100) / 10,
  workerEvents: workerEntries.length,
  workerNames: Object.fromEntries([...byKey(workerEntries, (x) => x.msg.name, () => 1)].map(([k, v]) => [k, v.length])),
  worker: {
    readToApi2: stats(w.readToApi2.values), readToApi1: stats(w.readToApi1.values),
    xaddToRead: stats(w.xaddToRead.values), xaddToApi2: stats(w.xaddToApi2.values),
    missing: { api2: w.readToApi2.missing, api1: w.readToApi1.missing, monitor: workerEntries.length - monitored.filter((m) => workerRaw.has(m.raw)).length },
  },
  patch: {
    sentToApi2: stats(p.api2), sentToApi1: stats(p.api1), sentToAnswer: stats(p.answer),
    readToApi2: stats(patchReadToApi2.values), missing: p.missing,
  },
  clock: { rttUs: [calStart.rtt, calEnd.rtt].map((x) => Math.round(x * 1000)), driftUsPerS: Math.round(slope * 1e6) },
};
console.log(JSON.stringify(report));
