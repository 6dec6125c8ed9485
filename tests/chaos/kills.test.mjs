// Random kill -9 of `reel serve` (and, in split trials, of a separate
// `reel worker` on the same data directory) under concurrent tus and
// multipart uploads and processing; after each trial the invariants of
// tests/chaos/lib.mjs. CHAOS_TRIALS trials (default 2); CHAOS_SEED replays
// a run (trial i has seed CHAOS_SEED + i; by seed % 3: serve alone, serve
// --workers 0 plus reel worker, or two serves on one data directory;
// CHAOS_MODES=serve,split,two chooses among fewer).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  POSTGRES, api, register, clips, prng, runSeed, sleep, sha256, startReel, tempDir, query, orphans, overBudget,
  databaseProblems, mediaProcessesUnder, processesInGroups, resilientTus, resilientMultipart, settleVideos,
  sweepSettings, retrying, execute, freePort,
} from './lib.mjs';

const TRIALS = Number(process.env.CHAOS_TRIALS || 2);
const SETTLE_MS = Number(process.env.CHAOS_SETTLE_MS || 90000);
const seed0 = runSeed();
const totals = { trials: 0, kills: 0, uploads: 0, ready: 0, failed: 0, leftovers: 0, problems: {} };
const sweep = sweepSettings();

console.log(`chaos kills: seed ${seed0} (CHAOS_SEED=${seed0} replays the run), ${TRIALS} trials, ` +
  `${POSTGRES ? 'PostgreSQL' : 'SQLite'}; reconciliation settings: ` +
  `${Object.entries(sweep).map(([k, v]) => `${k}=${v}`).join(' ') || 'none in this binary (checked as it is)'}`);

// The processes of one trial, restarted on the same ports: `serve` alone,
// `split` (serve --workers 0 and a reel worker) or `two` (a second
// serve --workers 0 on the same data directory, taking half the uploads).
// CHAOS_MODES=two (or a comma-separated few) runs only those.
const MODES = (process.env.CHAOS_MODES || 'serve,split,two').split(',').map((m) => m.trim());
for (const m of MODES) if (!['serve', 'split', 'two'].includes(m)) throw new Error(`CHAOS_MODES: no mode "${m}" (serve, split, two)`);
class Node {
  constructor(dataDir, mode) {
    this.dataDir = dataDir;
    this.mode = mode;
    this.names = { serve: ['serve'], split: ['serve', 'worker'], two: ['serve', 'serve2'] }[mode];
    this.procs = {};
    this.ports = {};
    this.pgids = new Set();
    this.kills = { serve: 0, serve2: 0, worker: 0 };
  }
  get port() {
    return this.ports.serve;
  }
  async start(which = this.names) {
    for (const name of which) {
      const kind = name === 'worker' ? 'worker' : 'serve';
      const args = name === 'serve2' || (name === 'serve' && this.mode === 'split') ? ['--workers', '0'] : [];
      if (kind === 'serve' && !this.ports[name]) this.ports[name] = freePort();
      const p = await startReel(kind, this.dataDir, { port: this.ports[name], args });
      this.procs[name] = p;
      if (kind === 'serve') this.ports[name] = p.port;
      this.pgids.add(p.pid);
    }
  }
  async kill(which) {
    for (const name of which) {
      if (!this.procs[name]) continue;
      await this.procs[name].kill('SIGKILL');
      this.kills[name]++;
    }
  }
  async stop() {
    const codes = [];
    for (const name of [...this.names].reverse()) if (this.procs[name]) codes.push(`${name} ${await this.procs[name].stop()}`);
    return codes;
  }
  logs() {
    return this.names.filter((n) => this.procs[n]).map((n) => `--- ${n}:\n${this.procs[n].log().slice(-3000)}`).join('\n');
  }
}

async function trial(n, seed) {
  const r = prng(seed);
  const mode = MODES[seed % MODES.length];
  const dir = tempDir();
  const dataDir = path.join(dir, 'data');
  const node = new Node(dataDir, mode);
  const source = clips();
  const problems = [];
  const checked = [];
  try {
    await node.start();
    // Upload i goes to serve, or in `two` trials every other one to serve2.
    const portOf = (i) => () => (mode === 'two' && i % 2 ? node.ports.serve2 : node.ports.serve);
    const alice = await register(node.port, `chaos${seed}@example.com`, 'Chaos');

    // The work: tus uploads (some of them big and slow) and multipart
    // uploads (some of them not videos at all), started at random moments.
    const garbage = r.bytes(r.int(100, 300) * 1024);
    const kinds = [];
    for (let i = r.int(2, 3); i > 0; i--) kinds.push({ via: 'tus', bytes: r.pick([source.h264, source.mpeg4, source.big, source.big]) });
    // (with two serves, long ones: one serve's restart must not hurt the other's uploads)
    const multipartSources = mode === 'two' ? [source.big, source.big, garbage] : [source.h264, source.mpeg4, source.big, garbage];
    for (let i = r.int(2, 3); i > 0; i--) kinds.push({ via: 'multipart', bytes: r.pick(multipartSources) });
    for (const k of kinds) k.video = k.bytes !== garbage;
    const uploads = kinds.map((k, i) => ({ ...k, at: r.int(0, 3000), pace: r.int(20, 100), i }));
    // Each kill waits for its moment: a time, an upload in flight, or a
    // video being processed (then a random delay more).
    const killsAt = Array.from({ length: r.int(2, 4) }, () => r.int(300, 6000)).sort((a, b) => a - b);
    const plan = killsAt.map((at) => ({
      at, when: r.pick(['time', 'upload', 'processing']), delay: r.int(0, 400),
      which: node.names.length > 1 ? r.pick([[node.names[0]], [node.names[1]], node.names]) : ['serve'],
      down: r.int(100, 1200),
    }));
    // Uploads in flight, by server and way. With two serves, an `upload`
    // moment prefers a multipart upload on the one that is not killed (its
    // temporary file must survive the other's restart).
    const inFlight = { serve: { tus: 0, multipart: 0 }, serve2: { tus: 0, multipart: 0 } };
    const busy = (names) => names.some((nm) => inFlight[nm].tus + inFlight[nm].multipart > 0);
    const uploadMoment = (k) => {
      const others = node.names.filter((nm) => nm !== 'worker' && !k.which.includes(nm));
      if (mode === 'two' && others.length) return others.some((nm) => inFlight[nm].multipart > 0);
      return busy(['serve', 'serve2']);
    };
    const moment = async (k) => {
      const until = Date.now() + 5000;
      while (Date.now() < until) {
        if (k.when === 'time') break;
        if (k.when === 'upload' && uploadMoment(k)) break;
        if (k.when === 'processing' && query(dataDir, "SELECT id FROM videos WHERE status = 'processing'").length) break;
        await sleep(50);
      }
      await sleep(k.delay);
    };

    const started = Date.now();
    const work = uploads.map(async (u) => {
      await sleep(u.at);
      const title = `${u.via} ${u.i}`;
      const target = mode === 'two' && u.i % 2 ? 'serve2' : 'serve';
      inFlight[target][u.via]++;
      try {
        if (u.via === 'tus') {
          const res = await resilientTus(portOf(u.i), alice.token, u.bytes, { pace: u.pace, title });
          return { ...u, ...res };
        }
        const res = await resilientMultipart(portOf(u.i), alice.token, u.bytes, { pace: u.pace, title });
        return { ...u, videoId: res.video.id, attempts: res.attempts, lostCreations: res.lost, errors: res.errors };
      } finally {
        inFlight[target][u.via]--;
      }
    });
    const chaos = (async () => {
      for (const k of plan) {
        await sleep(Math.max(0, started + k.at - Date.now()));
        await moment(k);
        await node.kill(k.which);
        await sleep(k.down);
        await node.start(k.which);
      }
    })();
    await chaos;
    const results = await Promise.allSettled(work);
    const done = [];
    for (const res of results) {
      if (res.status === 'fulfilled') done.push(res.value);
      else problems.push(`an upload did not finish: ${res.reason?.message || res.reason}`);
    }
    // A server that dies cuts connections; it never answers 500 (a 500 is
    // a live process hurt by another's crash or restart).
    for (const d of done) for (const e of d.errors) problems.push(`${d.via} ${d.i} was answered ${e}`);
    checked.push('no 500 answers');

    // Every tus upload resumed to the very bytes of its source.
    for (const u of done.filter((d) => d.via === 'tus')) {
      const head = await retrying(() => api(node.port, 'HEAD', new URL(u.url).pathname, {
        token: alice.token, headers: { 'Tus-Resumable': '1.0.0' },
      }));
      if (head.headers.get('upload-offset') !== String(u.bytes.length)) {
        problems.push(`tus ${u.videoId}: offset ${head.headers.get('upload-offset')} of ${u.bytes.length}`);
      }
    }
    checked.push('tus offsets');

    // Every video ends: ready or failed. A video still `uploading` is one
    // whose creation's answer was lost (the client never heard of it).
    const lostCreations = done.filter((d) => d.via === 'tus').reduce((s, d) => s + d.lostCreations, 0);
    const known = new Set(done.map((d) => d.videoId));
    const abandoned = new Set(query(dataDir, "SELECT id FROM videos WHERE status = 'uploading'")
      .map((v) => v.id).filter((id) => !known.has(id)));
    if (abandoned.size > lostCreations) {
      problems.push(`${abandoned.size} unknown uploading videos, but only ${lostCreations} creations went unanswered`);
    }
    const stuck = await settleVideos(dataDir, SETTLE_MS, abandoned);
    for (const v of stuck) problems.push(`video ${v.id} still ${v.status} after ${SETTLE_MS} ms`);
    checked.push('videos ended');
    // Crashes are not the video's fault: a clip that can be processed ends
    // ready, whatever was killed meanwhile (a lease taken over costs no attempt).
    const statusOf = new Map(query(dataDir, 'SELECT id, status, error FROM videos').map((v) => [v.id, v]));
    for (const d of done.filter((x) => x.video)) {
      const v = statusOf.get(d.videoId);
      if (v && v.status === 'failed') problems.push(`a clip that can be processed ended failed (${d.via} ${d.i}): ${v.error}`);
    }
    checked.push('clips ready');

    // A last graceful restart: its start-up (and, with a short grace, the
    // periodic sweep) removes what the crashes left; then everything stops.
    await node.stop();
    await node.start();
    // (past the grace of what the last crashes left, and a periodic run more)
    await sleep(Object.keys(sweep).length ? 6000 : 1000);
    const stuckAfter = await settleVideos(dataDir, 30000, abandoned);
    for (const v of stuckAfter) if (!stuck.some((s) => s.id === v.id)) problems.push(`video ${v.id} ${v.status} again after the restart`);
    const exits = await node.stop();
    if (exits.some((e) => !/ 0$/.test(e))) problems.push(`a graceful stop did not exit 0: ${exits.join(', ')}`);

    for (const u of done) {
      const file = path.join(dataDir, 'orgs', alice.orgId, 'videos', u.videoId, 'original');
      if (!fs.existsSync(file)) {
        problems.push(`${u.via} ${u.videoId}: its original is gone`);
      } else if (sha256(fs.readFileSync(file)) !== sha256(u.bytes)) {
        problems.push(`${u.via} ${u.videoId}: the original differs from the source (${fs.statSync(file).size} of ${u.bytes.length} bytes)`);
      }
    }
    checked.push('SHA-256 of every original');

    const leftovers = orphans(dataDir).filter((o) => ![...abandoned].some((id) => o.includes(id)));
    problems.push(...leftovers);
    checked.push('files and rows');
    const media = mediaProcessesUnder(dir);
    const grouped = processesInGroups(node.pgids);
    for (const p of media) problems.push(`ffmpeg left running: ${p.pid} ${p.cmd.slice(0, 200)}`);
    for (const p of grouped) if (!media.some((m) => m.pid === p.pid)) problems.push(`a child of a killed reel left: ${p.pid} ${p.cmd}`);
    for (const p of [...media, ...grouped]) try { process.kill(p.pid, 'SIGKILL'); } catch {}
    checked.push('no ffmpeg left');
    problems.push(...databaseProblems(dataDir).map((p) => `database: ${p}`));
    checked.push(POSTGRES ? 'amcheck + every table' : 'integrity_check');
    problems.push(...overBudget(dataDir));
    checked.push('attempt budgets');

    const rows = query(dataDir, 'SELECT status, error FROM videos');
    const ready = rows.filter((v) => v.status === 'ready').length;
    const failed = rows.filter((v) => v.status === 'failed');
    const retries = done.reduce((s, d) => s + d.attempts - 1, 0);
    const kills = Object.values(node.kills).reduce((a, b) => a + b, 0);
    totals.trials++;
    totals.kills += kills;
    totals.uploads += done.length;
    totals.ready += ready;
    totals.failed += failed.length;
    totals.leftovers += leftovers.length;
    for (const p of problems) {
      const key = p.replace(/[0-9A-Za-z_-]{12,}/g, '…').replace(/\d+/g, 'N').slice(0, 90);
      totals.problems[key] = (totals.problems[key] || 0) + 1;
    }
    console.log(`trial ${n} seed ${seed} ${{ serve: 'serve', split: 'serve+worker', two: 'two serves' }[mode]}: kills ${kills} ` +
      `(${node.names.map((nm) => `${nm} ${node.kills[nm]}`).join(', ')}; at ${plan.map((k) => `${k.when}→${k.which.join('+')}`).join(' ')}), uploads ${done.length}/${uploads.length} ` +
      `(tus ${done.filter((d) => d.via === 'tus').length}, multipart ${done.filter((d) => d.via === 'multipart').length}, ` +
      `${retries} resumed or sent again), videos ${rows.length}: ready ${ready} failed ${failed.length}` +
      `${abandoned.size ? ` abandoned-uploading ${abandoned.size}` : ''}, leftovers ${leftovers.length}, ` +
      `problems ${problems.length}; checked: ${checked.join(', ')}`);
    for (const f of new Set(failed.map((v) => v.error))) console.log(`  failed: ${f}`);
    for (const p of problems) console.log(`  PROBLEM: ${p}`);
    assert.deepEqual(problems, [], `trial ${n} (CHAOS_SEED=${seed} CHAOS_TRIALS=1 replays it)\n${node.logs()}`);
  } finally {
    await node.kill(node.names).catch(() => {});
    for (const p of processesInGroups(node.pgids)) try { process.kill(p.pid, 'SIGKILL'); } catch {}
    if (process.env.CHAOS_KEEP) console.log(`  kept: ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

// The checks themselves: each one sees what it looks for.
test('the invariant checks see files without rows, rows without files, leftovers, ffmpeg, corruption, budgets', { timeout: 120000 }, async () => {
  const dir = tempDir();
  const dataDir = path.join(dir, 'data');
  let server;
  const strays = [];
  try {
    server = await startReel('serve', dataDir);
    const alice = await register(server.port, 'check@example.com', 'Check');
    const up = await api(server.port, 'POST', '/api/videos?title=c', {
      token: alice.token, body: clips().h264, headers: { 'Content-Type': 'video/mp4' },
    });
    assert.equal(up.status, 201, up.text);
    assert.deepEqual(await settleVideos(dataDir, 60000), []);
    await server.stop();
    assert.deepEqual(orphans(dataDir), []);
    assert.deepEqual(overBudget(dataDir), []);
    assert.deepEqual(databaseProblems(dataDir), []);

    const videoDir = path.join(dataDir, 'orgs', alice.orgId, 'videos', up.json.video.id);
    fs.mkdirSync(path.join(dataDir, 'orgs', alice.orgId, 'videos', 'ghostghostghost1'));
    fs.writeFileSync(path.join(dataDir, 'orgs', alice.orgId, 'videos', 'ghostghostghost1', 'original'), 'x');
    fs.mkdirSync(path.join(videoDir, 'work-somejob12345'));
    fs.rmSync(path.join(videoDir, 'poster.jpg'));
    fs.writeFileSync(path.join(dataDir, 'tmp', 'leftover.part'), 'y');
    execute(dataDir, 'UPDATE jobs SET attempts = max_attempts + 1');
    const found = orphans(dataDir).join('\n');
    for (const what of [/files without a row: .*ghostghostghost1/, /work directory left behind/, /without poster\.jpg/, /leftover in tmp/]) {
      assert.match(found, what);
    }
    assert.equal(overBudget(dataDir).length, 1);

    const ffmpeg = spawn('ffmpeg', ['-v', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=64x64:rate=5', '-t', '60',
      '-y', path.join(dir, 'stray.mp4')], { stdio: 'ignore', detached: true });
    strays.push(ffmpeg);
    await sleep(300);
    assert.deepEqual(mediaProcessesUnder(dir).map((p) => p.pid), [ffmpeg.pid]);
    assert.deepEqual(processesInGroups(new Set([ffmpeg.pid])).map((p) => p.pid), [ffmpeg.pid]);

    if (!POSTGRES) {
      const db = path.join(dataDir, 'reel.db');
      const fd = fs.openSync(db, 'r+');
      fs.writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 4096 * 2);
      fs.closeSync(fd);
      assert.notDeepEqual(databaseProblems(dataDir), []);
    }
  } finally {
    for (const p of strays) p.kill('SIGKILL');
    await server?.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

for (let i = 0; i < TRIALS; i++) {
  const seed = (seed0 + i) >>> 0;
  test(`kill trial ${i + 1} of ${TRIALS} (seed ${seed})`, { timeout: 240000 }, () => trial(i + 1, seed));
}

after(() => {
  console.log(`chaos kills totals: ${totals.trials} trials, ${totals.kills} kills, ${totals.uploads} uploads, ` +
    `videos ready ${totals.ready} failed ${totals.failed}, leftovers ${totals.leftovers}`);
  for (const [p, count] of Object.entries(totals.problems)) console.log(`  ${count}× ${p}`);
});
