// Load client of the realtime scenario: opens N idle websocket Socket.IO
// clients against a server, reports the server's RSS growth per connection,
// then measures the latency of broadcasts reaching M of them (ROUNDS rounds,
// after WARMUP rounds that are not counted).
// The first M clients authenticate with LISTEN_TOKEN (one organization,
// whose room gets the broadcast); the other N-M with IDLE_TOKEN (another).
// A broadcast is a PATCH /api/videos/VIDEO_ID (of the listeners' organization),
// which both reel and the Express peer follow with video:updated to the room.
// Usage: node realtime_load.mjs PORT SERVER_PID N M LISTEN_TOKEN IDLE_TOKEN VIDEO_ID
import fs from 'node:fs';
import { io } from 'socket.io-client';

const [port, pid, n, m, token, idleToken, videoId] = process.argv.slice(2);
const N = Number(n), M = Number(m);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const before = rss();
const sockets = [];
const batch = 500;
for (let i = 0; i < N; i += batch) {
  const opened = [];
  for (let j = i; j < Math.min(N, i + batch); j++) {
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
async function broadcastOnce() {
  const listeners = sockets.slice(0, M);
  // Latency from the server's own timestamp of the change (updatedAt, set
  // when the change is made) to each client's receipt.
  let sent = 0;
  const arrivals = listeners.map((s) => new Promise((resolve) => s.once('video:updated', (p) => {
    sent = Date.parse(p.video.updatedAt);
    resolve(Date.now());
  })));
  await fetch(`http://127.0.0.1:${port}/api/videos/${videoId}`, {
    method: 'PATCH',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'bench ' + Math.random() }),
  });
  const times = await Promise.all(arrivals);
  const first = Math.min(...times), last = Math.max(...times);
  return { total: last - sent, first: first - sent, spread: last - first };
}
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
}
const rounds = [];
for (let i = 0; i < ROUNDS; i++) {
  rounds.push(await broadcastOnce());
  await sleep(100);
}
const totals = rounds.map((r) => r.total).sort((a, b) => a - b);
const worst = rounds.reduce((a, b) => (b.total > a.total ? b : a));
console.log(JSON.stringify({ connections: sockets.filter((s) => s.connected).length, rssBeforeKiB: before, rssAfterKiB: after,
  bytesPerConnection: Math.round(perConnection), broadcastMedianMs: totals[Math.floor(ROUNDS / 2)],
  broadcastMaxMs: totals[ROUNDS - 1], worstFirstMs: worst.first, worstSpreadMs: worst.spread,
  rounds: rounds.map((r) => `${r.total}=${r.first}+${r.spread}`).join(' ') }));
for (const s of sockets) s.close();
process.exit(0);
