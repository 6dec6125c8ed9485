// The web UI through the balancer, in headless Chromium (playwright-core):
// register, upload with tus, see the video turn ready, play it with HLS; the
// page's node dies and the page carries on with the other one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startCluster, withLogs, within, clip, root, PASSWORD } from './lib.mjs';

const artifacts = path.join(root, 'test-artifacts');
let cluster;
let work;
let browser;
before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-cluster-work-'));
  [cluster, browser] = await Promise.all([
    startCluster(),
    chromium.launch({ executablePath: '/usr/bin/chromium', headless: true }),
  ]);
});
after(async () => {
  await browser?.close();
  await cluster?.down();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

async function shot(page, name) {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

test('the web UI through the balancer: register, upload, ready, play; survives the death of its node', withLogs(() => cluster, async (t) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`${m.text()} ${m.location().url ?? ''}`); });
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  const base = cluster.lb;
  const videos = async () => (await (await page.request.get(`${base}/api/videos`)).json()).videos;
  const node = async () => (await context.cookies(base)).find((c) => c.name === 'SERVERID')?.value;
  try {
    await page.goto(`${base}/`);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Your name').fill('Alice Liddell');
    await page.getByLabel('Email').fill('alice@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('Organization').fill('Alice Films');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'No videos yet' }).waitFor();
    await page.locator('.live[data-status="live"]').waitFor();
    const first = await node();
    assert.match(first ?? '', /^api[12]$/, 'the balancer pinned the browser to a node');

    // Upload with the file picker (tus through the balancer).
    await page.setInputFiles('#file-input', clip(work, 3));
    await page.locator('.video-card').waitFor();
    const id = await page.locator('.video-card').getAttribute('data-id');
    const readyAt = within(90000, async () => (await videos()).find((v) => v.id === id)?.status === 'ready',
      { every: 250, what: 'the video ready (API)' });
    readyAt.catch(() => {});
    await t.test('the card turns Ready live, without a reload (needs the Redis fan-out: the worker\'s events)', async () => {
      await readyAt;
      await page.locator('.video-card .status-ready').waitFor({ timeout: 3000 });
    });
    await readyAt;

    // A reload shows it ready; the player plays it with hls.js.
    await page.reload();
    await page.locator('.video-card .status-ready').waitFor();
    await page.locator('.video-card').click();
    const video = page.locator('video');
    await video.waitFor();
    await page.waitForFunction(() => document.querySelector('video')?.dataset.source);
    assert.equal(await video.getAttribute('data-source'), 'hls');
    await video.evaluate((v) => { v.muted = true; return v.play(); });
    await page.waitForFunction(() => document.querySelector('video').currentTime > 0.5, null, { timeout: 30000 });
    await shot(page, 'cluster-ui-player');

    // The node the browser is pinned to dies: the socket reconnects through
    // the balancer to the other node, and the page keeps working.
    await page.getByRole('link', { name: 'Back to the Library' }).click();
    await page.locator('.live[data-status="live"]').waitFor();
    const pinned = await node();
    await cluster.kill(pinned);
    await page.locator('.live:not([data-status="live"])').waitFor({ timeout: 10000 });
    await page.locator('.live[data-status="live"]').waitFor({ timeout: 15000 });
    const now = await node();
    assert.notEqual(now, pinned, `the browser moved off ${pinned}`);
    await page.locator('.video-card').click();
    await page.getByLabel('Title').fill('Edited after a node died');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('alert').filter({ hasText: 'Saved.' }).waitFor();
    await page.getByRole('heading', { name: 'Edited after a node died' }).waitFor();
    console.log(`# browser pinned to ${pinned}; after kill -9 it went on with ${now}`);
    await cluster.start(pinned);

    // The failed requests of the moment the node died are the only errors allowed.
    const unexpected = problems.filter((p) => !/socket\.io|ERR_CONNECTION|status of 50[23]/.test(p));
    assert.deepEqual(unexpected, []);
  } finally {
    await context.close();
  }
}));
