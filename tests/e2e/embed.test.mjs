// The embeddable player in a real browser: headless Chromium (playwright-core)
// loads pages of two other origins (tiny node servers on other ports) that
// frame reel's /embed/:id. Unrestricted, a public video plays from any site;
// once the organization allows one origin only, the other cannot frame it
// while the allowed one still plays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { tempDir, startServer, api, register, makeClip, upload, waitReady } from './lib.mjs';


// A site on its own port whose one page frames `src()` (read per request).
function hostSite(src) {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>host</title><h1>A site that embeds a video</h1>
<iframe id="player" src="${src()}" width="640" height="480" frameborder="0"
  allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>`);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://127.0.0.1:${server.address().port}` })),
  );
}


// Opens `url` and resolves once the framed player has played 2 s or more.
async function playsInFrame(browser, url) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(url);
    const handle = await page.waitForSelector('iframe#player');
    const frame = await handle.contentFrame();
    assert.ok(frame, 'the frame exists');
    await frame.waitForFunction(() => document.querySelector('video')?.currentTime >= 2, null, { timeout: 30000 });
    const state = await frame.evaluate(() => ({
      time: document.querySelector('video').currentTime,
      source: document.querySelector('video').dataset.source,
      state: document.documentElement.dataset.state,
      origin: location.origin,
    }));
    assert.ok(state.time >= 2, `played to ${state.time}`);
    assert.equal(state.source, 'hls', 'hls.js plays it');
    assert.equal(state.state, 'playing');
    assert.deepEqual(errors, []);
    return state;
  } finally {
    await page.close();
  }
}

// Opens `url` on a site not allowed to frame the player: the embed page's
// answer arrives with its frame-ancestors, Chromium refuses to show it (the
// console says so), nothing inside it runs and no stream is ever requested.
async function refusedInFrame(browser, url, reelOrigin, allowedOrigin) {
  const page = await browser.newPage();
  const console = [];
  const streams = [];
  const embeds = [];
  page.on('console', (m) => console.push(m.text()));
  page.on('request', (r) => {
    if (r.url().includes('/api/stream/')) streams.push(r.url());
  });
  page.on('response', (r) => {
    if (r.url().startsWith(`${reelOrigin}/embed/`)) embeds.push(r);
  });
  try {
    await page.goto(url);
    const handle = await page.waitForSelector('iframe#player');
    // Long enough for a player that was let in to have asked for its playlist.
    await page.waitForTimeout(4000);
    assert.equal(embeds.length, 1, 'the embed page was fetched');
    const csp = (await embeds[0].allHeaders())['content-security-policy'] ?? '';
    assert.ok(csp.endsWith(`frame-ancestors 'self' ${allowedOrigin}`), csp);
    assert.ok(
      console.some((t) => t.includes(`frame-ancestors 'self' ${allowedOrigin}`) && /blocked|Refused/.test(t)),
      `Chromium reports the refusal: ${JSON.stringify(console)}`,
    );
    assert.deepEqual(streams, [], 'the refused player requested no stream');
    const frame = await handle.contentFrame();
    const inside = frame
      ? await frame.evaluate(() => !!document.querySelector('video[data-hls]')).catch(() => false)
      : false;
    assert.equal(inside, false, 'the refused frame holds no player');
  } finally {
    await page.close();
  }
}

test('a public video plays framed by other sites until the organization allows only one of them', async (t) => {
  const dir = tempDir();
  const server = await startServer(path.join(dir, 'data'));
  const reel = `http://127.0.0.1:${server.port}`;
  let embedSrc = '';
  const allowed = await hostSite(() => embedSrc);
  const other = await hostSite(() => embedSrc);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true });
  t.after(async () => {
    await browser.close();
    allowed.server.close();
    other.server.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const owner = await register(server.port, 'owner@example.com', 'Acme');
  const video = await upload(server.port, owner.token, makeClip(path.join(dir, 'clip.mp4'), 5), 'Framed');
  const patched = await api(server.port, 'PATCH', `/api/videos/${video.id}`, {
    token: owner.token,
    body: { visibility: 'public' },
  });
  assert.equal(patched.status, 200, patched.text);
  await waitReady(server.port, owner.token, video.id);
  // Muted, so that the browser lets it start on its own.
  embedSrc = `${reel}/embed/${video.id}?autoplay=1&muted=1`;

  await t.test('any site may frame it while the organization lists no origins', async () => {
    const a = await playsInFrame(browser, allowed.origin);
    assert.equal(a.origin, reel, 'the player runs on reel’s origin');
    await playsInFrame(browser, other.origin);
  });

  await t.test('restricted to one origin, the other is refused and the allowed one plays', async () => {
    const r = await api(server.port, 'PATCH', `/api/orgs/${owner.orgId}`, {
      token: owner.token,
      body: { embedOrigins: [allowed.origin] },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.organization.embedOrigins, [allowed.origin]);
    await refusedInFrame(browser, other.origin, reel, allowed.origin);
    await playsInFrame(browser, allowed.origin);
  });
});
