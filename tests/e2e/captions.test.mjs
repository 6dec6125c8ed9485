// Captions in a real browser (headless Chromium through playwright-core):
// an SRT uploaded through the API plays with a visible cue on the embed
// page through hls.js (the master playlist's SUBTITLES group) and through
// the MP4's <track> (hls.js and native HLS kept away); a WebVTT file uploaded in
// the app's video page plays in its player; a language chosen before hls.js
// has read the master playlist (held back) is still the one shown. "Visible" is read from the
// TextTrack API: the chosen track is showing and its active cues hold the text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { tempDir, startServer, api, makeClip, upload, problems, waitReady } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PASSWORD = 'correct horse battery';


// Chooses `language` in the page's CC menu (unless told it is chosen), plays, and resolves with what
// the TextTrack API shows once a cue of that language is active.
async function showsCue(page, language, text, { choose = true } = {}) {
  if (choose) {
    // The menu of the player now shown (a player reloaded after a change has a new one).
    await page.waitForFunction((lang) => [...(document.querySelector('select.cc-menu')?.options ?? [])].some((o) => o.value === lang), language);
    await page.locator('select.cc-menu').selectOption(language);
  }
  await page.evaluate(() => document.querySelector('video').play().catch(() => {}));
  const handle = await page.waitForFunction(
    ([lang, want]) => {
      const video = document.querySelector('video');
      for (const t of video.textTracks) {
        if (t.language !== lang || t.mode !== 'showing' || !t.activeCues) continue;
        for (const c of t.activeCues) if (c.text.includes(want)) return { text: c.text, time: video.currentTime, source: video.dataset.source };
      }
      return null;
    },
    [language, text],
    { timeout: 30000 },
  );
  return handle.jsonValue();
}

test('captions play with a visible cue through hls.js, the MP4 <track> and the app player', async (t) => {
  const dir = tempDir();
  const server = await startServer(path.join(dir, 'data'), { args: ['--web-dir', path.join(root, 'web')] });
  const base = `http://127.0.0.1:${server.port}`;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true });
  const issues = problems();
  t.after(async () => {
    await browser.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  // Signs in as the owner and opens the video's page in the app.
  const openInApp = async (page) => {
    await page.goto(`${base}/`);
    await page.getByLabel('Email').fill('owner@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Library' }).waitFor();
    await page.goto(`${base}/#/videos/${video.id}`);
  };
  const newPage = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20000);
    issues.watch(page);
    return page;
  };

  const owner = await api(server.port, 'POST', '/api/auth/register', {
    body: { email: 'owner@example.com', password: PASSWORD, name: 'Owner', organizationName: 'Acme' },
  });
  assert.equal(owner.status, 201, owner.text);
  const token = owner.json.token;
  const video = await upload(server.port, token, makeClip(path.join(dir, 'clip.mp4'), 6), 'Subtitled');
  await waitReady(server.port, token, video.id);
  const srt = '\ufeff1\r\n00:00:00,000 --> 00:10:00,000\r\nBonjour à tous\r\n\r\n';
  const added = await api(server.port, 'POST', `/api/videos/${video.id}/captions?language=fr&label=Fran%C3%A7ais`, {
    token, body: srt, headers: { 'Content-Type': 'application/x-subrip' },
  });
  assert.equal(added.status, 201, added.text);
  const master = await api(server.port, 'GET', `/api/stream/${video.id}/hls/master.m3u8`, { token });
  assert.match(master.text, /#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Français",LANGUAGE="fr"/);
  const patched = await api(server.port, 'PATCH', `/api/videos/${video.id}`, { token, body: { visibility: 'unlisted' } });
  assert.equal(patched.status, 200, patched.text);

  await t.test('the embed page plays the SRT through hls.js with the cue showing', async () => {
    const page = await newPage();
    try {
      await page.goto(`${base}/embed/${video.id}?muted=1`);
      const shown = await showsCue(page, 'fr', 'Bonjour à tous');
      assert.equal(shown.source, 'hls');
      // hls.js brings its own <track> (src "data:,WEBVTT", cues added by script), none of ours.
      assert.equal(await page.locator('video track[src^="/api/"]').count(), 0);
    } finally {
      await page.context().close();
    }
  });

  // hls.js announces its subtitle tracks and then selects its own initial one
  // (none): a language chosen before the master playlist arrives must survive that.
  for (const where of ['embed', 'app']) {
    await t.test(`a language chosen before hls.js has the tracks still shows (${where} player)`, async () => {
      const page = await newPage();
      let release;
      const held = new Promise((resolve) => { release = resolve; });
      await page.route('**/hls/master.m3u8*', async (route) => {
        await held;
        await route.continue();
      });
      try {
        if (where === 'embed') {
          await page.goto(`${base}/embed/${video.id}?muted=1`);
        } else {
          await openInApp(page);
        }
        await page.locator('select.cc-menu').selectOption('fr');
        assert.equal(await page.evaluate(() => document.querySelector('video').textTracks.length), 0);
        release();
        const shown = await showsCue(page, 'fr', 'Bonjour à tous', { choose: false });
        assert.equal(shown.source, 'hls');
      } finally {
        release();
        await page.context().close();
      }
    });
  }

  await t.test('without hls.js, the embed page plays the MP4 with a <track> showing the cue', async () => {
    const page = await newPage();
    // A browser with neither hls.js nor native HLS (this Chromium has native HLS: it says "maybe").
    await page.route('**/static/vendor/hls.min.js', (route) =>
      route.fulfill({ status: 200, contentType: 'text/javascript', body: '' }));
    await page.addInitScript(() => {
      const canPlay = HTMLMediaElement.prototype.canPlayType;
      HTMLMediaElement.prototype.canPlayType = function (type) {
        return /mpegurl/i.test(type) ? '' : canPlay.call(this, type);
      };
    });
    try {
      await page.goto(`${base}/embed/${video.id}?muted=1`);
      const track = page.locator('video track[src^="/api/"]');
      await track.waitFor({ state: 'attached' });
      assert.equal(await track.getAttribute('srclang'), 'fr');
      assert.equal(await track.getAttribute('label'), 'Français');
      assert.equal(await track.getAttribute('kind'), 'subtitles');
      assert.equal(await track.getAttribute('src'), `/api/stream/${video.id}/captions/fr.vtt`);
      const shown = await showsCue(page, 'fr', 'Bonjour à tous');
      assert.equal(shown.source, 'mp4');
    } finally {
      await page.context().close();
    }
  });

  await t.test('a WebVTT file uploaded on the video page plays in the app player', async () => {
    const page = await newPage();
    try {
      await openInApp(page);
      const section = page.locator('section', { has: page.getByRole('heading', { name: 'Captions' }) });
      await section.getByText('Français (fr)').waitFor();
      await section.getByLabel('Language').fill('en-gb');
      await section.getByLabel('Label').fill('English');
      await section.getByLabel(/WebVTT or SRT file/).setInputFiles({
        name: 'english.vtt', mimeType: 'text/vtt',
        buffer: Buffer.from('WEBVTT\n\n00:00.000 --> 10:00.000\nHello everyone\n'),
      });
      await section.getByRole('button', { name: 'Upload captions' }).click();
      await section.getByText('English (en-GB)').waitFor();
      const shown = await showsCue(page, 'en-GB', 'Hello everyone');
      assert.equal(shown.source, 'hls');
      // Deleted: gone from the list and from the menu of the reloaded player.
      await section.getByRole('button', { name: 'Delete the English captions' }).click();
      await section.getByText('English (en-GB)').waitFor({ state: 'detached' });
      await page.waitForFunction(() => {
        const menu = document.querySelector('select.cc-menu');
        return menu && ![...menu.options].some((o) => o.value === 'en-GB');
      });
    } finally {
      await page.context().close();
    }
  });

  assert.deepEqual(issues.unexpected(), []);
});
