// The Webhooks page in a real browser (headless Chromium, playwright-core)
// against the real binary and a receiver on loopback: an admin adds an
// endpoint, reveals its secret, sends a test event, sees it delivered in the
// log (which refreshes itself while a delivery is pending) and redelivers it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { tempDir, startServer, api } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PASSWORD = 'correct horse';

test('webhooks page: add, reveal the secret, send a test event, see the log, redeliver', async () => {
  const dir = tempDir();
  const server = await startServer(path.join(dir, 'data'), {
    args: ['--web-dir', path.join(root, 'web')], env: { REEL_WEBHOOK_ALLOW_PRIVATE: 'true' },
  });
  const received = [];
  const receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      // The first answer is held back, so the log shows the delivery pending
      // and must then turn to delivered by itself.
      setTimeout(() => res.writeHead(200).end('ok'), received.length === 1 ? 2500 : 0);
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${receiver.address().port}/hook`;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true });
  const errors = [];
  try {
    const reg = await api(server.port, 'POST', '/api/auth/register',
      { body: { email: 'alice@example.com', password: PASSWORD, name: 'Alice', organizationName: 'Alice Films' } });
    assert.equal(reg.status, 201, reg.text);
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(20000);
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${server.port}/#/login`);
    await page.getByLabel('Email').fill('alice@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Library' }).waitFor();
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();

    await page.getByLabel('URL').fill('ftp://nope.example/');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await page.getByText('must start with http:// or https://').waitFor(); // the browser's own check lets ftp: through
    await page.getByLabel('URL').fill(url);
    await page.getByLabel('member.added').check();
    await page.getByRole('button', { name: 'Add webhook' }).click();
    const card = page.getByRole('region', { name: `Webhook ${url}` });
    await card.waitFor();
    await card.getByText('Events: video.ready, member.added').waitFor();
    await card.getByRole('button', { name: 'Reveal secret' }).click();
    const secret = await card.getByLabel('Signing secret').inputValue();
    assert.match(secret, /^whsec_/);

    await card.getByRole('button', { name: 'Send test event' }).click();
    await card.getByText('webhook.test').waitFor();
    const deadline = Date.now() + 15000;
    while (received.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(received.length, 1);
    const verified = new Webhook(secret).verify(received[0].body, received[0].headers);
    assert.equal(verified.type, 'webhook.test');
    await card.getByRole('button', { name: 'Delivery log' }).click();
    await card.locator('.badge-pending').waitFor();
    await card.locator('.badge-delivered').waitFor(); // no click: the open log refreshes while pending
    await card.getByRole('button', { name: 'Redeliver' }).click();
    while (received.length < 2 && Date.now() < deadline + 10000) await new Promise((r) => setTimeout(r, 100));
    assert.equal(received.length, 2);
    assert.equal(received[1].headers['webhook-id'], received[0].headers['webhook-id']);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.stop();
    receiver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
