// Sharing in the web UI, in headless Chromium against the real binary: the
// Share dialog (visibility, links, embed code, signed links), view counts,
// and the organization's sharing settings. A signed link made in the dialog
// plays a private video in a fresh browser context with no cookies, from a
// page of another origin (a tiny server of this test), as MP4 and through
// hls.js. Fails on any console error or uncaught page error except the
// failed requests a step provokes on purpose.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { tempDir, startServer, api, register, makeClip, upload, problems, waitReady } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const artifacts = path.join(root, 'test-artifacts');
const PASSWORD = 'correct horse';


// Another site: a blank page and the vendored hls.js, on a port of its own.
function otherSite() {
  const hlsJs = fs.readFileSync(path.join(root, 'web/static/vendor/hls.min.js'));
  const server = http.createServer((req, res) => {
    if (req.url === '/hls.min.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(hlsJs);
    } else if (req.url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><html><head><title>Another site</title></head><body><h1>Another site</h1></body></html>');
    } else if (req.url === '/favicon.ico') {
      res.writeHead(204);
      res.end();
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function shot(page, name) {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

async function signIn(page, email) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Library' }).waitFor();
}

test('sharing in the web UI: the Share dialog, signed links in a fresh context, view counts, organization settings', async (t) => {
  const dir = tempDir();
  const server = await startServer(path.join(dir, 'data'), { args: ['--web-dir', path.join(root, 'web')] });
  const base = `http://127.0.0.1:${server.port}`;
  const site = await otherSite();
  const siteBase = `http://127.0.0.1:${site.address().port}`;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true });
  const issues = problems();
  const newPage = async (options = {}) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
    const page = await context.newPage();
    page.setDefaultTimeout(20000);
    issues.watch(page);
    return page;
  };

  const alice = await api(server.port, 'POST', '/api/auth/register', {
    body: { email: 'alice@example.com', password: PASSWORD, name: 'Alice Liddell', organizationName: 'Alice Films' },
  });
  assert.equal(alice.status, 201, alice.text);
  const token = alice.json.token;
  const orgId = alice.json.organization.id;
  await register(server.port, 'bob@example.com', 'Bob Ltd');
  const clip = makeClip(path.join(dir, 'lighthouse.mp4'), 4);
  const video = await waitReady(server.port, token, (await upload(server.port, token, clip, 'Lighthouse "at" <night>')).id);
  assert.equal(video.visibility, 'private');
  const anonymous = (suffix = 'video', headers = {}) => api(server.port, 'GET', `/api/stream/${video.id}/${suffix}`, { headers });

  const page = await newPage();
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  let signed;

  try {
    await t.test('the library and the video page show the view count', async () => {
      await page.goto(`${base}/`);
      await signIn(page, 'alice@example.com');
      const card = page.locator('.video-card', { hasText: 'Lighthouse' });
      await card.locator('.status-ready').waitFor();
      assert.match(await card.locator('.views').textContent(), /^\d[\d,]* views?$/);
      await card.click();
      await page.locator('video').waitFor();
      assert.match(await page.locator('.player-meta .views').textContent(), /^\d[\d,]* views?$/);
      assert.equal(await page.locator('.player-meta .visibility-badge').textContent(), 'Private');
      // The wording, one and many (the count itself comes from the server).
      const words = await page.evaluate(async () => {
        const { formatViews } = await import('/static/js/dom.js');
        return [formatViews(0), formatViews(1), formatViews(2), formatViews(12345)];
      });
      assert.deepEqual(words, ['0 views', '1 view', '2 views', '12,345 views']);
    });

    await t.test('the Share dialog: link, embed code sized to the video, preview, copy; Escape closes it', async () => {
      const share = page.getByRole('button', { name: 'Share' });
      await share.click();
      const dialog = page.getByRole('dialog', { name: 'Share “Lighthouse "at" <night>”' });
      await dialog.waitFor();
      assert.equal(await dialog.getByLabel('Link', { exact: true }).inputValue(), `${base}/v/${video.id}`);
      // 320×240: 4:3, so 640×480.
      assert.equal(await dialog.getByLabel('Embed code').inputValue(),
        `<iframe src="${base}/embed/${video.id}" width="640" height="480" frameborder="0" ` +
        'allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>');
      const preview = dialog.locator('.share-preview iframe');
      assert.equal(await preview.getAttribute('src'), `/embed/${video.id}`);
      const box = await preview.boundingBox();
      assert.ok(Math.abs(box.width / box.height - 4 / 3) < 0.02, `preview ${box.width}×${box.height}`);
      await dialog.getByRole('button', { name: 'Copy link' }).click();
      await dialog.getByRole('status').filter({ hasText: 'Link copied.' }).waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${base}/v/${video.id}`);
      await dialog.getByRole('button', { name: 'Copy embed code' }).click();
      await dialog.getByRole('status').filter({ hasText: 'Embed code copied.' }).waitFor();
      assert.match(await page.evaluate(() => navigator.clipboard.readText()), /^<iframe src=".*\/embed\//);
      // A private video: the signed link section is there.
      await dialog.getByRole('button', { name: 'Make a signed link' }).waitFor();
      await shot(page, 'ui-share-dialog');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Share', 'focus returns to the button');
    });

    await t.test('switching to public persists and opens the stream to anyone; back to private closes it', async () => {
      assert.equal((await anonymous()).status, 404);
      await page.getByRole('button', { name: 'Share' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByRole('radio', { name: /^Public/ }).check();
      await dialog.getByRole('status').filter({ hasText: 'Now public.' }).waitFor();
      const got = await api(server.port, 'GET', `/api/videos/${video.id}`, { token });
      assert.equal(got.json.video.visibility, 'public');
      assert.equal((await anonymous()).status, 200);
      assert.equal((await anonymous('video', { Range: 'bytes=0-99' })).status, 206);
      // The embed page (GET /embed/:id) is built apart from this UI: until it
      // is there, its preview's requests answer 404; once it is, they must not.
      const embed = await api(server.port, 'GET', `/embed/${video.id}`);
      if (embed.status === 404) issues.allow(404, `/embed/${video.id}`, Infinity);
      else assert.equal(embed.status, 200, embed.text);
      assert.ok(await dialog.getByRole('button', { name: 'Make a signed link' }).isHidden(), 'no signed links for a public video');
      await page.locator('.player-meta .visibility-badge', { hasText: 'Public' }).waitFor();

      // After a reload the dialog shows what was saved.
      await page.reload();
      await page.getByRole('button', { name: 'Share' }).click();
      assert.equal(await page.getByRole('dialog').getByRole('radio', { name: /^Public/ }).isChecked(), true);
      await page.getByRole('dialog').getByRole('radio', { name: /^Unlisted/ }).check();
      await page.getByRole('dialog').getByRole('status').filter({ hasText: 'Now unlisted.' }).waitFor();
      assert.equal((await anonymous()).status, 200);
      await page.getByRole('dialog').getByRole('radio', { name: /^Private/ }).check();
      await page.getByRole('dialog').getByRole('status').filter({ hasText: 'Now private.' }).waitFor();
      assert.equal((await api(server.port, 'GET', `/api/videos/${video.id}`, { token })).json.video.visibility, 'private');
      assert.equal((await anonymous()).status, 404);
      assert.equal((await anonymous('hls/master.m3u8')).status, 404);
    });

    await t.test('the open dialog follows a change made elsewhere', async () => {
      const dialog = page.getByRole('dialog');
      const patch = (visibility) => api(server.port, 'PATCH', `/api/videos/${video.id}`, { token, body: { visibility } });
      assert.equal((await patch('unlisted')).status, 200);
      await page.waitForFunction(() => document.querySelector('dialog input[value="unlisted"]').checked);
      await dialog.getByRole('button', { name: 'Make a signed link' }).waitFor({ state: 'hidden' });
      await page.locator('.player-meta .visibility-badge', { hasText: 'Unlisted' }).waitFor();
      assert.equal((await patch('private')).status, 200);
      await page.waitForFunction(() => document.querySelector('dialog input[value="private"]').checked);
      await dialog.getByRole('button', { name: 'Make a signed link' }).waitFor();
    });

    await t.test('a signed link made in the dialog: custom expiry, bad hours refused', async () => {
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Expires after').selectOption('custom');
      await dialog.getByLabel('Hours (1 to 168)').fill('500');
      await dialog.getByRole('button', { name: 'Make a signed link' }).click();
      await dialog.locator('.message-error', { hasText: 'Choose a whole number of hours from 1 to 168.' }).waitFor();
      await dialog.getByLabel('Hours (1 to 168)').fill('2');
      const [request] = await Promise.all([
        page.waitForRequest((r) => r.url().endsWith(`/api/videos/${video.id}/playback-url`)),
        dialog.getByRole('button', { name: 'Make a signed link' }).click(),
      ]);
      assert.deepEqual(request.postDataJSON(), { expiresIn: 7200 });
      const mp4 = dialog.getByLabel('Video file (MP4)');
      await mp4.waitFor();
      signed = {
        url: await mp4.inputValue(),
        hlsUrl: await dialog.getByLabel('HLS playlist').inputValue(),
        shareUrl: await dialog.getByLabel('Share page').inputValue(),
        embedUrl: await dialog.getByLabel('Embed player').inputValue(),
      };
      assert.match(signed.url, new RegExp(`^${base}/api/stream/${video.id}/video\\?token=.+`));
      assert.match(signed.hlsUrl, new RegExp(`^${base}/api/stream/${video.id}/hls/master\\.m3u8\\?token=.+`));
      assert.match(signed.shareUrl, new RegExp(`^${base}/v/${video.id}\\?token=.+`));
      assert.match(signed.embedUrl, new RegExp(`^${base}/embed/${video.id}\\?token=.+`));
      const expires = Date.parse(await dialog.locator('.signed-result time').getAttribute('datetime'));
      assert.ok(Math.abs(expires - (Date.now() + 7200 * 1000)) < 120 * 1000, `expires at ${new Date(expires).toISOString()}`);
      await shot(page, 'ui-share-signed');
      // A phone: the dialog fits without scrolling sideways.
      await page.setViewportSize({ width: 375, height: 800 });
      const overflow = await page.locator('dialog').evaluate((d) => d.scrollWidth - d.clientWidth);
      assert.ok(overflow <= 0, `the dialog is ${overflow} px too wide`);
      await shot(page, 'ui-share-narrow');
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
    });

    await t.test('the signed link plays the private video in a fresh context with no cookies, MP4 and HLS', async () => {
      assert.equal((await anonymous()).status, 404, 'still private');
      const stranger = await newPage();
      await stranger.goto(`${siteBase}/`);
      assert.deepEqual(await stranger.context().cookies(), []);
      const segments = [];
      stranger.on('request', (r) => { if (r.url().includes('.ts')) segments.push(r.url()); });
      await stranger.evaluate((src) => {
        const v = document.createElement('video');
        v.id = 'mp4';
        v.muted = true;
        v.src = src;
        document.body.append(v);
        return v.play();
      }, signed.url);
      await stranger.waitForFunction(() => document.getElementById('mp4').currentTime > 1, null, { timeout: 30000 });

      await stranger.addScriptTag({ url: `${siteBase}/hls.min.js` });
      await stranger.evaluate((src) => {
        const v = document.createElement('video');
        v.id = 'hls';
        v.muted = true;
        document.body.append(v);
        const hls = new window.Hls();
        hls.on(window.Hls.Events.ERROR, (_, data) => { if (data.fatal) window.__hlsError = `${data.type}: ${data.details}`; });
        hls.on(window.Hls.Events.MANIFEST_PARSED, () => v.play());
        hls.loadSource(src);
        hls.attachMedia(v);
      }, signed.hlsUrl);
      await stranger.waitForFunction(() => window.__hlsError || document.getElementById('hls').currentTime > 1, null, { timeout: 30000 });
      assert.equal(await stranger.evaluate(() => window.__hlsError ?? null), null);
      assert.ok(segments.length > 0 && segments.every((u) => u.includes('token=')), `segments: ${segments.join(' ')}`);
      assert.deepEqual(await stranger.context().cookies(), [], 'still no cookies');
      await stranger.context().close();
    });

    await t.test('a viewer sees the switch read-only; without the Clipboard API, copy selects the text', async () => {
      const invited = await api(server.port, 'POST', `/api/orgs/${orgId}/invitations`, { token, body: { email: 'bob@example.com', role: 'viewer' } });
      assert.equal(invited.status, 202, invited.text);
      const bobLogin = await api(server.port, 'POST', '/api/auth/login', { body: { email: 'bob@example.com', password: PASSWORD } });
      const mine = await api(server.port, 'GET', '/api/auth/invitations', { token: bobLogin.json.token });
      const accepted = await api(server.port, 'POST', `/api/auth/invitations/${mine.json.invitations[0].id}/accept`, { token: bobLogin.json.token });
      assert.equal(accepted.status, 200, accepted.text);

      const bob = await newPage();
      await bob.context().addInitScript(() => {
        Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined });
      });
      await bob.goto(`${base}/`);
      await signIn(bob, 'bob@example.com');
      await bob.getByLabel('Organization').selectOption({ label: 'Alice Films · viewer' });
      await bob.locator('.video-card', { hasText: 'Lighthouse' }).click();
      await bob.getByRole('button', { name: 'Share' }).click();
      const dialog = bob.getByRole('dialog');
      for (const name of [/^Private/, /^Unlisted/, /^Public/]) assert.equal(await dialog.getByRole('radio', { name }).isDisabled(), true);
      assert.equal(await dialog.getByRole('radio', { name: /^Private/ }).isChecked(), true);
      await dialog.getByText('Only members, admins and owners can change who can watch.').waitFor();
      await dialog.getByRole('button', { name: 'Copy link' }).click();
      await dialog.getByRole('status').filter({ hasText: 'Link selected: press Ctrl+C' }).waitFor();
      await shot(bob, 'ui-share-viewer');
      const selection = await bob.evaluate(() => {
        const el = document.activeElement;
        return { label: el.labels?.[0]?.textContent, selected: el.value.slice(el.selectionStart, el.selectionEnd) };
      });
      assert.deepEqual(selection, { label: 'Link', selected: `${base}/v/${video.id}` });
      // The organization's settings are shown, not editable.
      await bob.keyboard.press('Escape');
      await bob.getByRole('link', { name: 'Members' }).click();
      const sharing = bob.getByRole('region', { name: 'Sharing' });
      await sharing.getByText('Any site may embed this organization’s videos.').waitFor();
      assert.equal(await sharing.locator('textarea, input').count(), 0);
      await bob.context().close();
    });

    await t.test('organization settings: embed origins and the public address, with the server’s errors', async () => {
      await page.getByRole('link', { name: 'Members' }).click();
      const sharing = page.getByRole('region', { name: 'Sharing' });
      const origins = sharing.getByLabel('Origins, one per line');
      await origins.fill('https://blog.example.com\nhttp://localhost:8080/');
      await sharing.getByRole('button', { name: 'Save sites' }).click();
      await page.getByRole('status').filter({ hasText: 'Only these sites may embed the videos now.' }).waitFor();
      await page.reload();
      await page.getByRole('region', { name: 'Sharing' }).waitFor();
      await page.waitForFunction(() => document.getElementById('org-embed-origins')?.value.includes('localhost'));
      assert.equal(await origins.inputValue(), 'https://blog.example.com\nhttp://localhost:8080');
      const listed = await api(server.port, 'GET', '/api/orgs', { token });
      assert.deepEqual(listed.json.organizations[0].embedOrigins, ['https://blog.example.com', 'http://localhost:8080']);

      issues.allow(400, `/api/orgs/${orgId}`, 2);
      await origins.fill('ftp://example.com');
      await sharing.getByRole('button', { name: 'Save sites' }).click();
      await sharing.locator('.message-error', { hasText: 'must be a list of at most 50 origins' }).waitFor();

      const slug = sharing.getByLabel('Address', { exact: true });
      assert.equal(await slug.inputValue(), 'alice-films');
      await slug.fill('No Spaces!');
      await sharing.getByRole('button', { name: 'Save address' }).click();
      await sharing.locator('.message-error', { hasText: 'The field "slug" must be 3 to 48' }).waitFor();
      issues.allow(409, `/api/orgs/${orgId}`);
      await slug.fill('bob-ltd');
      await sharing.getByRole('button', { name: 'Save address' }).click();
      await sharing.locator('.message-error', { hasText: 'Another organization has that address.' }).waitFor();
      await shot(page, 'ui-org-sharing');
      await slug.fill('alice-on-film');
      await sharing.getByRole('button', { name: 'Save address' }).click();
      await page.getByRole('status').filter({ hasText: `The public address is now ${base}/o/alice-on-film.` }).waitFor();
      assert.equal(await sharing.getByRole('link', { name: `${base}/o/alice-on-film` }).getAttribute('href'), '/o/alice-on-film');
      await page.reload();
      await page.waitForFunction(() => document.getElementById('org-slug')?.value === 'alice-on-film');

      // Empty again: any site.
      await page.getByRole('region', { name: 'Sharing' }).getByLabel('Origins, one per line').fill('');
      await page.getByRole('region', { name: 'Sharing' }).getByRole('button', { name: 'Save sites' }).click();
      await page.getByRole('status').filter({ hasText: 'Any site may embed this organization’s videos.' }).waitFor();
      assert.deepEqual((await api(server.port, 'GET', '/api/orgs', { token })).json.organizations[0].embedOrigins, []);
    });

    await t.test('no console errors, no page errors', () => {
      assert.deepEqual(issues.unexpected(), []);
    });
  } finally {
    await browser.close();
    site.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
