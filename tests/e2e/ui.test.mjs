// The web UI in a real browser: headless Chromium driven by playwright-core
// against the real binary. It fails on any console error or uncaught page
// error, except the few failed requests a step provokes on purpose.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { tempDir, startServer, api, register, makeClip, problems } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const artifacts = path.join(root, 'test-artifacts');
const PASSWORD = 'correct horse';
const READY_MS = 90000;  // the ASan build processes slowly

async function shot(page, name) {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

// Status texts the library's cards show, recorded as they change.
function recordStatuses(page) {
  return page.evaluate(() => {
    window.__statuses = new Set();
    const record = () => {
      for (const el of document.querySelectorAll('.video-card .status')) window.__statuses.add(el.textContent);
    };
    new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

async function signIn(page, email) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Library' }).waitFor();
}

test('the web UI: register, upload with tus, live progress, play, edit, members, tenancy, errors, logout', async (t) => {
  const dir = tempDir();
  const server = await startServer(path.join(dir, 'data'),
    { args: ['--web-dir', path.join(root, 'web'), '--default-org-quota-bytes', '1073741824'] });
  const base = `http://127.0.0.1:${server.port}`;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true });
  const issues = problems();
  const newPage = async (viewport = { width: 1280, height: 800 }) => {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    page.setDefaultTimeout(20000);
    issues.watch(page);
    return page;
  };
  const clipA = path.join(dir, 'sunrise.mp4');
  const clipB = path.join(dir, 'harbour.mp4');
  makeClip(clipA, 3);
  makeClip(clipB, 2);
  const bob = await api(server.port, 'POST', '/api/auth/register', {
    body: { email: 'bob@example.com', password: PASSWORD, name: 'Bob Builder', organizationName: 'Bob Ltd' },
  });
  assert.equal(bob.status, 201, bob.text);
  await register(server.port, 'carol@example.com', 'Carol Co');
  const page = await newPage();
  const uploadRequests = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/uploads') || r.url().endsWith('/api/videos')) uploadRequests.push(`${r.method()} ${new URL(r.url()).pathname}`);
  });
  let firstId;

  try {
    await t.test('register', async () => {
      await page.goto(`${base}/`);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await shot(page, 'ui-login');
      await page.getByRole('link', { name: 'Create an account' }).click();
      await page.getByLabel('Your name').fill('Alice Liddell');
      await page.getByLabel('Email').fill('alice@example.com');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByLabel('Organization').fill('Alice Films');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.getByRole('heading', { name: 'No videos yet' }).waitFor();
      assert.equal(await page.locator('#org-switch option:checked').textContent(), 'Alice Films · owner');
      await page.locator('.live[data-status="live"]').waitFor();
    });

    await t.test('two uploads (file picker and drag-and-drop) go through tus and turn ready live, without a reload', async () => {
      await page.evaluate(() => { window.__sameDocument = true; });
      await recordStatuses(page);
      await page.setInputFiles('#file-input', clipA);
      // The second file is dropped onto the drop zone.
      const bytes = fs.readFileSync(clipB).toString('base64');
      const dataTransfer = await page.evaluateHandle((b64) => {
        const dt = new DataTransfer();
        const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        dt.items.add(new File([data], 'harbour.mp4', { type: 'video/mp4' }));
        return dt;
      }, bytes);
      for (const type of ['dragenter', 'dragover', 'drop']) await page.dispatchEvent('#dropzone', type, { dataTransfer });

      const rows = page.locator('.uploads li');
      await rows.nth(1).waitFor();
      assert.equal(await rows.locator('progress').count(), 2, 'a progress bar per file');
      const cards = page.locator('.video-card');
      await page.locator('.video-card .status-ready').nth(1).waitFor({ timeout: READY_MS });
      assert.equal(await cards.count(), 2);
      assert.deepEqual((await page.locator('.video-title').allTextContents()).sort(), ['harbour', 'sunrise']);
      assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload');
      const statuses = await page.evaluate(() => [...window.__statuses]);
      assert.ok(statuses.some((s) => /Uploading|Queued|%/.test(s)), `statuses seen: ${statuses.join(' | ')}`);
      assert.ok(statuses.includes('Ready'));
      // Posters load once ready.
      await page.waitForFunction(() => [...document.querySelectorAll('.video-card img')].every((i) => i.complete && i.naturalWidth > 0));
      assert.ok(uploadRequests.filter((r) => r === 'POST /api/uploads').length === 2, uploadRequests.join(', '));
      assert.ok(uploadRequests.some((r) => r.startsWith('PATCH /api/uploads/')), uploadRequests.join(', '));
      assert.ok(!uploadRequests.includes('POST /api/videos'), 'uploads use tus, not POST /api/videos');
      await page.locator('.uploads li', { hasText: 'Ready' }).nth(1).waitFor();
      await shot(page, 'ui-library');
      firstId = await cards.filter({ hasText: 'sunrise' }).getAttribute('data-id');
    });

    await t.test('the player plays HLS, seeks from the frame strip, and saves edits', async () => {
      await page.locator('.video-card', { hasText: 'sunrise' }).click();
      const video = page.locator('video');
      await video.waitFor();
      assert.equal(await video.getAttribute('poster'), `/api/stream/${firstId}/thumbnail.jpg`);
      await page.waitForFunction(() => document.querySelector('video')?.dataset.source);
      assert.equal(await video.getAttribute('data-source'), 'hls', 'hls.js through MediaSource');
      await video.evaluate((v) => { v.muted = true; return v.play(); });
      await page.waitForFunction(() => document.querySelector('video').currentTime > 0.5, null, { timeout: 30000 });
      const frames = page.locator('.strip .frame');
      assert.equal(await frames.count(), 4);
      await page.waitForFunction(() => [...document.querySelectorAll('.strip img')].every((i) => i.complete && i.naturalWidth > 0));
      await video.evaluate((v) => {
        v.pause();
        window.__seekedTo = null;
        v.addEventListener('seeked', () => { window.__seekedTo = v.currentTime; }, { once: true });
      });
      await frames.nth(2).click();  // the third of four frames of the 3 s clip: 1.875 s
      const seekedTo = await (await page.waitForFunction(() => window.__seekedTo)).jsonValue();
      assert.ok(Math.abs(seekedTo - 1.875) < 0.3, `seeked to ${seekedTo}`);
      await shot(page, 'ui-player');

      await page.getByLabel('Title').fill('Sunrise over the bay');
      await page.getByLabel('Description').fill('Shot at dawn.');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByRole('alert').filter({ hasText: 'Saved.' }).waitFor();
      await page.getByRole('heading', { name: 'Sunrise over the bay' }).waitFor();
      // The organization offers its highest rendition by default: a Download link, named after the title.
      const download = page.getByRole('link', { name: 'Download' });
      await download.waitFor();
      const href = await download.getAttribute('href');
      assert.match(href, new RegExp(`^/api/videos/${firstId}/download\\?rendition=\\d+p$`));
      const saved = await page.request.head(new URL(href, page.url()).href);
      assert.equal(saved.status(), 200);
      assert.equal(saved.headers()['content-type'], 'video/mp4');
      assert.match(saved.headers()['content-disposition'], /^attachment; filename="Sunrise over the bay\.mp4"; /);
      // The Poster card: the player's position (1.875 s) becomes the poster,
      // then an uploaded image, then the automatic frame again.
      const posterCard = page.locator('.poster-card');
      await posterCard.getByText('A frame chosen automatically.').waitFor();
      await page.locator('video').evaluate((v) => { v.pause(); v.currentTime = 1.875; });
      await posterCard.getByRole('button', { name: 'Use the current frame' }).click();
      await posterCard.getByText('The frame at 0:02.').waitFor();
      assert.match(await posterCard.locator('img').getAttribute('src'), /\/thumbnail\.jpg\?v=1$/);
      assert.match(await page.locator('video').getAttribute('poster'), /\/thumbnail\.jpg\?v=1$/);
      const png = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=green:s=320x180', '-frames:v', '1',
        '-f', 'image2pipe', '-vcodec', 'png', '-']);
      await page.locator('#poster-file').setInputFiles({ name: 'cover.png', mimeType: 'image/png', buffer: png });
      await posterCard.getByText('An uploaded image.').waitFor();
      const cover = await page.request.get(new URL(await posterCard.locator('img').getAttribute('src'), page.url()).href);
      assert.equal(cover.status(), 200);
      assert.equal(cover.headers()['content-type'], 'image/jpeg');
      await posterCard.getByRole('button', { name: 'Automatic' }).click();
      await posterCard.getByText('A frame chosen automatically.').waitFor();
      assert.match(await posterCard.locator('img').getAttribute('src'), /\/thumbnail\.jpg\?v=3$/);
      // Validation errors from the API are shown as they are.
      issues.allow(400, `/api/videos/${firstId}`);
      await page.getByLabel('Title').fill(' ');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.locator('.message-error').waitFor();
      assert.match(await page.locator('.message-error').textContent(), /title/i);
      await page.getByRole('link', { name: 'Back to the Library' }).click();
      await page.locator('.video-title', { hasText: 'Sunrise over the bay' }).waitFor();
    });

    await t.test('members: invite, revoke, accept, change role, and the member switches organization', async () => {
      await page.getByRole('link', { name: 'Members' }).click();
      const pending = page.getByRole('region', { name: 'Pending invitations' });
      await pending.getByText('No invitations are waiting for an answer.').waitFor();
      await page.getByLabel('Email').fill('nobody@example.com');
      await page.getByRole('button', { name: 'Invite', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'Invitation sent to nobody@example.com.' }).waitFor();
      await pending.getByRole('cell', { name: 'nobody@example.com', exact: true }).waitFor();
      await pending.getByRole('button', { name: 'Revoke the invitation to nobody@example.com' }).click();
      await page.getByRole('status').filter({ hasText: 'The invitation to nobody@example.com was revoked.' }).waitFor();
      await pending.getByText('No invitations are waiting for an answer.').waitFor();
      await page.getByLabel('Email').fill('bob@example.com');
      await page.getByRole('combobox', { name: 'Role', exact: true }).selectOption('member');
      await page.getByRole('button', { name: 'Invite', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'Invitation sent to bob@example.com.' }).waitFor();
      await pending.getByRole('cell', { name: 'bob@example.com', exact: true }).waitFor();
      await shot(page, 'ui-invitations');
      // Bob accepts (through the API: his inbox is not this page's); then he is a member.
      const mine = await api(server.port, 'GET', '/api/auth/invitations', { token: bob.json.token });
      assert.equal(mine.json.invitations.length, 1, mine.text);
      assert.equal(mine.json.invitations[0].organization.name, 'Alice Films');
      const accepted = await api(server.port, 'POST', `/api/auth/invitations/${mine.json.invitations[0].id}/accept`,
        { token: bob.json.token });
      assert.equal(accepted.status, 200, accepted.text);
      await page.reload();
      await page.getByRole('heading', { name: 'Members' }).waitFor();
      // The organization's storage against its quota (the two uploads and their renditions).
      const storage = page.getByRole('region', { name: 'Storage' });
      await storage.getByText(/^[\d.]+ (B|KiB|MiB) of 1\.0 GiB used \((<1|\d+) %\)\.$/).waitFor();
      const bar = await storage.locator('progress').evaluate((p) => ({ value: p.value, max: p.max, hidden: p.hidden }));
      assert.equal(bar.max, 1073741824);
      assert.ok(bar.value > 0 && !bar.hidden, JSON.stringify(bar));
      const role = page.getByLabel('Role of Bob Builder');
      await role.selectOption('viewer');
      await page.getByRole('button', { name: 'Change' }).click();
      await page.getByRole('status').filter({ hasText: 'Bob Builder is now a viewer.' }).waitFor();
      assert.equal(await page.getByLabel('Role of Bob Builder').inputValue(), 'viewer');
      await shot(page, 'ui-members');

      const bobPage = await newPage();
      await bobPage.goto(`${base}/#/library`);
      await signIn(bobPage, 'bob@example.com');
      await bobPage.getByRole('heading', { name: 'No videos yet' }).waitFor();
      await bobPage.getByLabel('Organization').selectOption({ label: 'Alice Films · viewer' });
      await bobPage.locator('.video-card .status-ready').nth(1).waitFor();
      assert.equal(await bobPage.getByRole('button', { name: 'Choose files' }).count(), 0, 'viewers cannot upload');
      await bobPage.context().close();
    });

    await t.test('a user of another organization sees none of it', async () => {
      const carolPage = await newPage();
      await carolPage.goto(`${base}/`);
      await signIn(carolPage, 'carol@example.com');
      await carolPage.getByRole('heading', { name: 'No videos yet' }).waitFor();
      assert.equal(await carolPage.locator('.video-card').count(), 0);
      issues.allow(404, `/api/videos/${firstId}`);
      await carolPage.goto(`${base}/#/videos/${firstId}`);
      await carolPage.getByRole('heading', { name: 'Video not found' }).waitFor();
      await carolPage.context().close();
    });

    await t.test('delete asks first; Escape keeps the video', async () => {
      await page.getByRole('link', { name: 'Library' }).click();
      await page.locator('.video-card', { hasText: 'harbour' }).click();
      // The server answers 500 (not 404) to frame requests still in flight
      // when their video is deleted, so let the strip finish first.
      await page.locator('.strip .frame').first().waitFor();
      await page.waitForFunction(() => [...document.querySelectorAll('.strip img')].every((i) => i.complete && i.naturalWidth > 0));
      const remove = page.getByRole('button', { name: 'Delete video' });
      await remove.click();
      const dialog = page.getByRole('dialog', { name: 'Delete this video?' });
      await dialog.waitFor();
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Delete video', 'focus returns to the button');
      await remove.click();
      await dialog.getByRole('button', { name: 'Delete' }).click();
      await page.getByRole('heading', { name: 'Library' }).waitFor();
      await page.waitForFunction(() => document.querySelectorAll('.video-card').length === 1);
    });

    await t.test('an upload cut by a reload resumes from where it stopped; one can be cancelled', async () => {
      // Uploads are slowed down (Chromium's network emulation) so that they
      // can be interrupted halfway; the files are noise, which processing rejects.
      const cdp = await page.context().newCDPSession(page);
      const throttle = (bytesPerSecond) => cdp.send('Network.emulateNetworkConditions',
        { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond });
      const noise = path.join(dir, 'noise.mp4');
      fs.writeFileSync(noise, crypto.randomBytes(8 * 1024 * 1024));
      await cdp.send('Network.enable');
      await throttle(2 * 1024 * 1024);
      await page.setInputFiles('#file-input', noise);
      await page.waitForFunction(() => document.querySelector('.uploads li progress')?.value >= 25);
      await page.reload();
      await page.locator('.resumable', { hasText: 'noise.mp4' }).waitFor();

      await throttle(-1);
      uploadRequests.length = 0;
      const offsets = [];
      page.on('request', (r) => { if (r.method() === 'PATCH') offsets.push(Number(r.headers()['upload-offset'])); });
      await page.setInputFiles('#file-input', noise);
      await page.locator('.uploads li.upload-done').waitFor();
      assert.ok(!uploadRequests.includes('POST /api/uploads'), `no new upload: ${uploadRequests.join(', ')}`);
      assert.equal(offsets.length, 1);
      assert.ok(offsets[0] >= 2 * 1024 * 1024, `resumed at byte ${offsets[0]}`);
      await page.locator('.resumable').waitFor({ state: 'hidden' });
      await page.locator('.video-card', { hasText: 'noise' }).locator('.status-failed').waitFor({ timeout: READY_MS });

      // Cancelling terminates the upload, and its video goes away. (The
      // termination stops the aborted PATCH if the server still reads it: no 423.)
      const stat = path.join(dir, 'static.mp4');
      fs.writeFileSync(stat, crypto.randomBytes(6 * 1024 * 1024));
      await throttle(1024 * 1024);
      await page.setInputFiles('#file-input', stat);
      await page.locator('.video-card', { hasText: 'static' }).waitFor();
      // By keyboard, while the progress bar moves: the button keeps the focus.
      const cancel = page.getByRole('button', { name: 'Cancel the upload of static.mp4' });
      await cancel.focus();
      const before = await page.locator('.uploads li progress').first().evaluate((p) => p.value);
      await page.waitForFunction((v) => document.querySelector('.uploads li progress').value > v, before);
      await page.keyboard.press('Enter');
      await page.locator('.uploads li', { hasText: 'Cancelled.' }).waitFor();
      await page.locator('.video-card', { hasText: 'static' }).waitFor({ state: 'detached' });
      await page.locator('.resumable').waitFor({ state: 'hidden' });
      await throttle(-1);
      await cdp.detach();
    });

    await t.test('narrow screen: the library fits 375 px', async () => {
      await page.setViewportSize({ width: 375, height: 800 });
      await page.getByRole('link', { name: 'Library' }).click();
      await page.locator('.video-card').first().waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no horizontal scrolling (${overflow} px too wide)`);
      await shot(page, 'ui-library-narrow');
      await page.setViewportSize({ width: 1280, height: 800 });
    });

    await t.test('sign out; a wrong password shows the server message; signing in again works', async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await page.getByRole('alert').filter({ hasText: 'You have signed out.' }).waitFor();
      issues.allow(401, '/api/auth/login');
      await page.getByLabel('Email').fill('alice@example.com');
      await page.getByLabel('Password').fill('not the password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'The email or password is wrong.' }).waitFor();
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Library' }).waitFor();
      await page.locator('.video-card').first().waitFor();
    });

    await t.test('no console errors, no page errors', () => {
      assert.deepEqual(issues.unexpected(), []);
    });
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
