// Early playback in a real browser (headless Chromium, playwright-core):
// an H.264/AAC upload plays with hls.js from its stream copy while the
// ladder is being encoded (the transcode is held with SIGSTOP so that the
// state lasts), then the player switches to the ladder on video:ready.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { tempDir, startServer, api, makeClip, upload } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PASSWORD = 'correct horse';
const hold = (id, signal) => execSync(`pkill -${signal} -f '[v]ideos/${id}/original' || true`);

test('a video plays early from its stream copy, then from the ladder once ready', async () => {
  const dir = tempDir();
  const server = await startServer(path.join(dir, 'data'), { args: ['--web-dir', path.join(root, 'web')] });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true });
  const errors = [];
  let id = null;
  try {
    const reg = await api(server.port, 'POST', '/api/auth/register',
      { body: { email: 'early@example.com', password: PASSWORD, name: 'Early', organizationName: 'Early Films' } });
    assert.equal(reg.status, 201, reg.text);
    const token = reg.json.token;
    id = (await upload(server.port, token, makeClip(path.join(dir, 'clip.mp4'), 12), 'early')).id;
    // The ladder's encode has started: the stream copy was made before it. Hold it there.
    for (let i = 0; ; ++i) {
      const { video } = (await api(server.port, 'GET', `/api/videos/${id}`, { token })).json;
      if (video.progress?.stage === 'hls') break;
      assert.ok(video.status !== 'ready' && i < 2000, `the transcode never started: ${JSON.stringify(video)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    hold(id, 'STOP');
    const { video } = (await api(server.port, 'GET', `/api/videos/${id}`, { token })).json;
    assert.equal(video.status, 'processing');
    assert.equal(video.playable, true);

    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(20000);
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${server.port}/#/login`);
    await page.getByLabel('Email').fill('early@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Library' }).waitFor();
    await page.locator('.video-card', { hasText: 'Playable now' }).waitFor();
    await page.locator('.video-card').click();
    await page.locator('.early-note', { hasText: 'Playable now' }).waitFor();
    await page.waitForFunction(() => document.querySelector('video')?.dataset.source === 'hls');
    await page.locator('video').evaluate((v) => { v.muted = true; return v.play(); });
    await page.waitForFunction(() => document.querySelector('video').currentTime > 1, null, { timeout: 30000 });
    const early = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name)
      .filter((n) => n.includes('/hls/')));
    assert.ok(early.some((n) => n.endsWith('/hls/source/index.m3u8')), early.join(' '));
    assert.ok(early.some((n) => /\/hls\/source\/seg_\d+\.ts$/.test(n)), early.join(' '));

    // Let the ladder finish: video:ready brings the player back on the ladder.
    hold(id, 'CONT');
    await page.locator('.early-note').waitFor({ state: 'detached', timeout: 90000 });
    await page.waitForFunction(() => document.querySelector('video')?.dataset.source === 'hls');
    await page.locator('video').evaluate((v) => { v.muted = true; return v.play(); });
    await page.waitForFunction(() => performance.getEntriesByType('resource')
      .some((e) => /\/hls\/\d+p\/seg_\d+\.ts$/.test(e.name)), null, { timeout: 30000 });
    assert.deepEqual(errors, []);
  } finally {
    if (id) hold(id, 'CONT');
    await browser.close();
    await server.stop();
  }
});
