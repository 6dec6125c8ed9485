// Load client of the realtime scenario: opens N idle websocket Socket.IO
// clients against a server, reports the server's RSS growth per connection,
// then measures the latency of broadcasts reaching M of them (ROUNDS rounds,
// after WARMUP rounds that are not counted).
// The first M clients authenticate with LISTEN_TOKEN (one organization,
// whose room gets the broadcast); the other N-M with IDLE_TOKEN (another).
// A broadcast is a PATCH /api/videos/VIDEO_ID (of the listeners' organization),
// which both reel and the Express peer follow with video:updated to the room.
//
// With RAW_TOKEN and RAW_VIDEO_ID, M more of the N sockets are bare Engine.IO
// clients over `ws` in a third organization (their own room, their own
// video), and the rounds alternate between the two rooms. A socket.io-client
// listener decodes each message (Engine.IO, Socket.IO, JSON.parse, emit):
// about 35 us of this one process's CPU, so that 1,000 of them take 30-50 ms
// whichever server sent them, and the round measures the client. A bare
// listener only stamps the frame's arrival (it answers pings and checks the
// event's name), so its rounds measure the servers' fan-out.
// Usage: node realtime_load.mjs PORT SERVER_PID N M LISTEN_TOKEN IDLE_TOKEN VIDEO_ID [RAW_TOKEN RAW_VIDEO_ID]
import fs from 'node:fs';
import { io } from 'socket.io-client';
import WebSocket from 'ws';

const [port, pid, n, m, token, idleToken, videoId, rawToken, rawVideoId] = process.argv.slice(2);
const N = Number(n), M = Number(m);
const RAW = rawToken ? M : 0;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A bare Socket.IO v5 client over Engine.IO v4's WebSocket transport
// (docs/PROTOCOLS.md): open packet "0{...}" -> connect "40{auth}" -> "40{sid}";
// ping "2" -> pong "3"; an event is "42[name,...]". `onEvent(buffer, ms)` is
// called with each event's frame and its arrival time.
const EVENT_PREFIX = Buffer.from('42["video:updated"');
function rawSocket(auth) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`,
      { perMessageDeflate: false, skipUTF8Validation: true });
    const s = { ws, onEvent: null, connected: false };
    ws.on('message', (data) => {
      const at = performance.timeOrigin + performance.now();
      if (data[0] === 0x32) ws.send('3');
      else if (data[0] === 0x30) ws.send('40' + JSON.stringify({ token: auth }));
      else if (data[0] === 0x34 && data[1] === 0x30) {
        s.connected = true;
        resolve(s);
      } else if (data[0] === 0x34 && data[1] === 0x34) reject(new Error(`connect_error ${data}`));
      else if (s.onEvent && data.subarray(0, EVENT_PREFIX.length).equals(EVENT_PREFIX)) s.onEvent(data, at);
    });
    ws.on('error', reject);
    ws.on('close', () => { s.connected = false; });
  });
}

const before = rss();
const sockets = [];
const raws = [];
const batch = 500;
for (let i = 0; i < RAW; i += batch) {
  const opened = [];
  for (let j = i; j < Math.min(RAW, i + batch); j++) opened.push(rawSocket(rawToken));
  raws.push(...(await Promise.all(opened)));
}
for (let i = 0; i < N - RAW; i += batch) {
  const opened = [];
  for (let j = i; j < Math.min(N - RAW, i + batch); j++) {
    const auth = { token: j < M ? token : idleToken };
    const s = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], auth, reconnection: false, forceNew: true });
    sockets.push(s);
    opened.push(new Promise((resolve, reject) => {
      s.once('connect', resolve);
      s.once('connect_error', reject);
    }));
  }
  await Promise.all(opened);
}
await sleep(2000);
const after = rss();
const perConnection = ((after - before) * 1024) / N;

// One round: the latency of its last arrival, and where it went: from the
// change to the first client's receipt (the write, the event, the first
// frame) and from the first receipt to the last (the fan-out to M sockets).
// Latency from the server's own timestamp of the change (updatedAt, set when
// the change is made) to each client's receipt. `arm(stamp)` gives each
// listener's promise of its arrival time (whole ms, as updatedAt has them);
// a listener calls stamp(() => updatedAt), read from the first arrival only.
async function round(arm, id, auth) {
  let sent = 0;
  const arrivals = arm((updatedAt) => {
    if (!sent) sent = Date.parse(updatedAt());
  });
  await fetch(`http://127.0.0.1:${port}/api/videos/${id}`, {
    method: 'PATCH',
    headers: { Authorization: `Bearer ${auth}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'bench ' + Math.random() }),
  });
  const times = await Promise.all(arrivals);
  const first = Math.min(...times), last = Math.max(...times);
  return { total: last - sent, first: first - sent, spread: last - first };
}
// To the socket.io-client listeners' room.
const broadcastOnce = () => round((stamp) => sockets.slice(0, M).map((s) => new Promise((resolve) =>
  s.once('video:updated', (p) => {
    stamp(() => p.video.updatedAt);
    resolve(Date.now());
  }))), videoId, token);
// To the bare listeners' room.
const rawBroadcastOnce = () => round((stamp) => raws.map((s) => new Promise((resolve) => {
  s.onEvent = (data, at) => {
    s.onEvent = null;
    stamp(() => JSON.parse(data.subarray(2).toString())[1].video.updatedAt);
    resolve(Math.floor(at));
  };
})), rawVideoId, rawToken);
// The first rounds of a fresh client process are its own warm-up: in one
// Node.js process taking 1,000 sockets' messages, the spread (first to last
// receipt) of round 1 ran 2-3 times that of later rounds against either
// server (reel 76=4+72 ms, socket.io 109=3+106 ms, then 20-40 ms for both),
// while the server's part (change to first receipt) stayed 1-8 ms. WARMUP
// rounds run first and are not counted, so that the worst round measures the
// servers, not the client's JIT compiler.
const WARMUP = Number(process.env.BENCH_WARMUP_ROUNDS ?? 3);
for (let i = 0; i < WARMUP; i++) {
  await broadcastOnce();
  await sleep(100);
  if (RAW) {
    await rawBroadcastOnce();
    await sleep(100);
  }
}
const rounds = [], rawRounds = [];
for (let i = 0; i < ROUNDS; i++) {
  rounds.push(await broadcastOnce());
  await sleep(100);
  if (RAW) {
    rawRounds.push(await rawBroadcastOnce());
    await sleep(100);
  }
}
function summary(rs, prefix) {
  if (!rs.length) return {};
  const totals = rs.map((r) => r.total).sort((a, b) => a - b);
  const worst = rs.reduce((a, b) => (b.total > a.total ? b : a));
  return { [`${prefix}MedianMs`]: totals[Math.floor(rs.length / 2)], [`${prefix}MaxMs`]: totals[rs.length - 1],
    [`${prefix}WorstFirstMs`]: worst.first, [`${prefix}WorstSpreadMs`]: worst.spread,
    [`${prefix}Rounds`]: rs.map((r) => `${r.total}=${r.first}+${r.spread}`).join(' ') };
}
const open = sockets.filter((s) => s.connected).length + raws.filter((s) => s.connected).length;
console.log(JSON.stringify({ connections: open, rssBeforeKiB: before, rssAfterKiB: after,
  bytesPerConnection: Math.round(perConnection), ...summary(rounds, 'broadcast'), ...summary(rawRounds, 'raw') }));
for (const s of sockets) s.close();
for (const s of raws) s.ws.close();
process.exit(0);
