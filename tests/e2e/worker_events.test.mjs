// A separate `reel worker` beside `reel serve --workers 0`, without Redis:
// the stock socket.io-client hears the worker's progress and ready events
// (they travel through the database, which the API node tails), in order
// and once each, on SQLite and (REEL_TEST_BACKEND=postgres) PostgreSQL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import { io } from 'socket.io-client';
import { tempDir, startServer, startWorker, register, makeClip, upload, waitFor } from './lib.mjs';

test('the socket.io client hears a separate worker\'s progress and ready events', async () => {
  const dir = tempDir();
  const data = path.join(dir, 'data');
  const server = await startServer(data, { args: ['--workers', '0'] });
  const worker = await startWorker(data);
  try {
    const alice = await register(server.port, 'alice@example.com', 'Alice Inc');
    for (const transports of [['polling', 'websocket'], ['websocket'], ['polling']]) {
      const socket = io(`http://127.0.0.1:${server.port}`, { transports, auth: { token: alice.token } });
      await waitFor(socket, 'connect');
      const events = [];
      socket.onAny((name, payload) => events.push([name, payload]));
      const ready = waitFor(socket, 'video:ready', () => true, 90000);
      const video = await upload(server.port, alice.token, makeClip(path.join(dir, 'a.mp4'), 2));
      const [payload] = await ready;
      assert.equal(payload.video.id, video.id);
      assert.equal(payload.video.status, 'ready');
      await new Promise((r) => setTimeout(r, 500)); // nothing more comes, nothing twice
      const mine = events.filter(([, p]) => (p.id ?? p.video?.id) === video.id).map(([n, p]) => [n, p]);
      const names = mine.map(([n]) => n);
      assert.equal(names[0], 'video:created', names.join(','));
      assert.equal(names.at(-1), 'video:ready', names.join(','));
      assert.equal(names.filter((n) => n === 'video:ready').length, 1);
      const progress = mine.filter(([n]) => n === 'video:progress').map(([, p]) => p);
      assert.ok(progress.length > 0, `progress events over ${transports.join('+')}`);
      // One video:playable (an H.264/AAC clip plays early), among the progress.
      assert.equal(names.filter((n) => n === 'video:playable').length, 1, names.join(','));
      const [, early] = mine.find(([n]) => n === 'video:playable');
      assert.equal(early.video.status, 'processing');
      assert.equal(early.video.playable, true);
      assert.deepEqual(names.slice(1, -1).filter((n) => n !== 'video:playable'), progress.map(() => 'video:progress'));
      for (const p of progress) assert.ok(['probe', 'thumbnail', 'mp4', 'hls'].includes(p.stage), p.stage);
      socket.close();
    }
  } finally {
    await worker.stop();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
