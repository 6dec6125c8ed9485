// Storyboard previews in headless Chromium against the real binary: hovering
// the bar under the video shows the tile of the moment under the pointer, in
// the embed page opened by a signed link to a private video (no cookie: the
// sprite URLs carry the link) and in the web UI's player page. The tile shown
// is the one the WebVTT names for that time, and its sprite really loaded.
// Fails on any console error or uncaught page error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { tempDir, startServer, api, makeClip, upload, problems, waitReady } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const artifacts = path.join(root, 'test-artifacts');
const PASSWORD = 'correct horse';


// Hovers the storyboard bar at `fraction` of its width; returns what the preview shows.
async function hover(page, frame, fraction) {
  const bar = frame.locator('.storyboard-bar');
  await bar.waitFor();
  const box = await bar.boundingBox();
  await page.mouse.move(box.x + box.width * fraction, box.y + box.height / 2);
  const preview = frame.locator('.storyboard-preview');
  await preview.waitFor({ state: 'visible' });
  return preview.evaluate((el) => {
    const tile = el.querySelector('.storyboard-tile');
    const style = getComputedStyle(tile);
    return {
      time: Number(el.dataset.time),
      sprite: el.dataset.sprite,
      xywh: el.dataset.xywh,
      background: style.backgroundImage,
      position: style.backgroundPosition,
      width: tile.offsetWidth,
      height: tile.offsetHeight,
      label: el.querySelector('.storyboard-time').textContent,
    };
  });
}

// The cue of `vtt` (text) showing time `t`: {uri, xywh}.
function cueAt(vtt, t) {
  const seconds = (s) => s.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
  const cues = vtt.split(/\n\n+/).filter((b) => b.includes('-->')).map((block) => {
    const [timing, payload] = block.trim().split('\n');
    const [start, end] = timing.split(' --> ').map(seconds);
    const [uri, xywh] = payload.split('#xywh=');
    return { start, end, uri, xywh };
  });
  return cues.find((c) => t >= c.start && t < c.end) ?? cues[cues.length - 1];
}

// Whether the sprite at `url` was fetched and decoded by the page.
async function spriteLoaded(frame, url) {
  return frame.evaluate(async (src) => {
    const img = new Image();
    img.src = src;
    await img.decode();
    return { width: img.naturalWidth, height: img.naturalHeight };
  }, url);
}

test('hovering the storyboard bar previews the tile of that moment, in the embed page and the web UI', async (t) => {
  const dir = tempDir();
  const server = await startServer(path.join(dir, 'data'), { args: ['--web-dir', path.join(root, 'web')] });
  const base = `http://127.0.0.1:${server.port}`;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true });
  const issues = problems();
  const newPage = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20000);
    issues.watch(page);
    return page;
  };
  const alice = await api(server.port, 'POST', '/api/auth/register', {
    body: { email: 'alice@example.com', password: PASSWORD, name: 'Alice', organizationName: 'Alice Films' },
  });
  assert.equal(alice.status, 201, alice.text);
  const token = alice.json.token;
  // 9 s at one tile every 2 s: 5 tiles, one sheet of 5×1 tiles of 160×120.
  const clip = makeClip(path.join(dir, 'clip.mp4'), 9);
  const video = await waitReady(server.port, token, (await upload(server.port, token, clip, 'Storyboard')).id);
  assert.equal(video.storyboardUrl, `/api/stream/${video.id}/storyboard.vtt`);

  try {
    await t.test('the embed page, by a signed link to a private video, with no cookie', async () => {
      const link = await api(server.port, 'POST', `/api/videos/${video.id}/playback-url`, { token });
      assert.equal(link.status, 201, link.text);
      const vtt = (await api(server.port, 'GET', `${link.json.storyboardUrl}`)).text;
      const page = await newPage();
      await page.goto(`${base}${link.json.embedUrl}`);
      for (const fraction of [0.05, 0.5, 0.95]) {
        const shown = await hover(page, page.mainFrame(), fraction);
        const cue = cueAt(vtt, shown.time);
        assert.ok(shown.time >= 0 && shown.time <= video.durationSec + 0.01, `time ${shown.time}`);
        assert.equal(shown.xywh, cue.xywh, `at ${shown.time}`);
        assert.equal(shown.sprite, `${base}/api/stream/${video.id}/${cue.uri}`);
        assert.match(shown.sprite, /storyboard\/sprite-001\.jpg\?token=p\./);
        assert.equal(shown.background, `url("${shown.sprite}")`);
        const [x, y, w, h] = cue.xywh.split(',').map(Number);
        assert.equal(shown.position, `${-x}px ${-y}px`);
        assert.deepEqual([shown.width, shown.height], [w, h]);
        assert.deepEqual(await spriteLoaded(page.mainFrame(), shown.sprite), { width: 800, height: 120 });
      }
      // Left to right: the first and the last tile.
      assert.equal((await hover(page, page.mainFrame(), 0.01)).xywh, '0,0,160,120');
      assert.equal((await hover(page, page.mainFrame(), 0.99)).xywh, '640,0,160,120');
      fs.mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: path.join(artifacts, 'storyboard-embed.png') });
      // Leaving the bar hides the preview; a click on it seeks.
      await page.mouse.move(5, 5);
      await page.locator('.storyboard-preview').waitFor({ state: 'hidden' });
      const box = await page.locator('.storyboard-bar').boundingBox();
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      const at = await page.evaluate(() => document.querySelector('video').currentTime);
      assert.ok(Math.abs(at - video.durationSec / 2) < 1, `seeked to ${at}`);
      await page.context().close();
    });

    await t.test('the web UI player page', async () => {
      const page = await newPage();
      await page.goto(`${base}/`);
      await page.getByLabel('Email').fill('alice@example.com');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Library' }).waitFor();
      await page.locator('.video-card', { hasText: 'Storyboard' }).click();
      await page.locator('video').waitFor();
      const shown = await hover(page, page.mainFrame(), 0.5);
      assert.match(shown.sprite, new RegExp(`/api/stream/${video.id}/storyboard/sprite-001\\.jpg$`));
      assert.equal(shown.xywh, '320,0,160,120');
      assert.match(shown.label, /^0:0\d$/);
      assert.deepEqual(await spriteLoaded(page.mainFrame(), shown.sprite), { width: 800, height: 120 });
      await page.screenshot({ path: path.join(artifacts, 'storyboard-ui.png') });
      await page.context().close();
    });

    await t.test('a video without a storyboard gets no bar and no error', async () => {
      fs.rmSync(path.join(dir, 'data', 'orgs', alice.json.organization.id, 'videos', video.id, 'storyboard'),
        { recursive: true, force: true });
      issues.allow(404, '/storyboard.vtt');
      const link = await api(server.port, 'POST', `/api/videos/${video.id}/playback-url`, { token });
      const page = await newPage();
      const asked = page.waitForResponse((r) => r.url().includes('/storyboard.vtt'));
      await page.goto(`${base}${link.json.embedUrl}`);
      assert.equal((await asked).status(), 404);
      await page.locator('video').waitFor();
      await page.waitForTimeout(500);
      assert.equal(await page.locator('.storyboard-bar').count(), 0);
      await page.context().close();
    });

    assert.deepEqual(issues.unexpected(), []);
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
