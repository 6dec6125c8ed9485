// The "API keys" page in a real browser (headless Chromium, playwright-core)
// against the real binary: an owner makes a key, sees its secret once with a
// Copy button, the secret works as a Bearer token, the list shows its prefix
// and last use, and revoking it refuses it at once. A member has no such page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { tempDir, startServer, api } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const artifacts = path.join(root, 'test-artifacts');
const PASSWORD = 'correct horse';

async function shot(page, name) {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

async function signIn(page, base, email) {
  await page.goto(`${base}/#/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Library' }).waitFor();
}

test('API keys page: make a key, its secret shown once, used, listed and revoked', async (t) => {
  const dir = tempDir();
  const server = await startServer(path.join(dir, 'data'), { args: ['--web-dir', path.join(root, 'web')] });
  const base = `http://127.0.0.1:${server.port}`;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true });
  const errors = [];
  const newPage = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    const page = await context.newPage();
    page.setDefaultTimeout(20000);
    page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
    return page;
  };
  try {
    const reg = (email, name, org) => api(server.port, 'POST', '/api/auth/register',
      { body: { email, password: PASSWORD, name, organizationName: org } });
    const alice = (await reg('alice@example.com', 'Alice Liddell', 'Alice Films')).json;
    const bob = (await reg('bob@example.com', 'Bob Builder', 'Bob Studio')).json;
    const sent = await api(server.port, 'POST', `/api/orgs/${alice.organization.id}/invitations`,
      { token: alice.token, body: { email: 'bob@example.com', role: 'member' } });
    assert.equal((await api(server.port, 'POST', `/api/auth/invitations/${sent.json.invitation.id}/accept`, { token: bob.token })).status, 200);

    const page = await newPage();
    await signIn(page, base, 'alice@example.com');
    let secret;
    await t.test('an owner makes a key; its secret is shown once and copied', async () => {
      await page.getByRole('link', { name: 'API keys' }).click();
      await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
      await page.getByText('This organization has no API keys.').waitFor();
      await page.getByLabel('Name').fill('Encoder');
      await page.getByLabel('Role').selectOption('viewer');
      await page.getByRole('button', { name: 'Create key' }).click();
      const field = page.locator('#key-secret');
      await field.waitFor();
      secret = await field.inputValue();
      assert.match(secret, /^reel_sk_[A-Za-z0-9_-]{43}$/);
      await page.getByRole('button', { name: 'Copy the secret' }).click();
      await page.getByText(/Secret (copied|selected)/).waitFor();
      const row = page.locator('tr', { hasText: 'Encoder' });
      await row.getByText(`${secret.slice(0, 16)}…`).waitFor();
      await row.getByText('never').waitFor();
      assert.equal(await row.locator('.role').textContent(), 'viewer');
      await shot(page, 'ui-api-keys');
    });

    await t.test('the key works; after a reload the list shows its use and no secret', async () => {
      assert.equal((await api(server.port, 'GET', '/api/videos', { token: secret })).status, 200);
      await new Promise((done) => setTimeout(done, 300));  // the use is written in the background
      await page.reload();
      await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
      const row = page.locator('tr', { hasText: 'Encoder' });
      await row.waitFor();
      assert.notEqual((await row.locator('td').nth(4).textContent()).trim(), 'never');
      assert.equal(await page.locator('#key-secret').count(), 0);
      assert.equal((await page.content()).includes(secret), false);
    });

    await t.test('revoking asks first, then the key is refused at once', async () => {
      await page.getByRole('button', { name: 'Revoke Encoder' }).click();
      const dialog = page.getByRole('dialog', { name: 'Revoke this API key?' });
      await dialog.getByRole('button', { name: 'Revoke' }).click();
      await page.getByRole('status').filter({ hasText: 'The API key Encoder was revoked.' }).waitFor();
      await page.getByText('This organization has no API keys.').waitFor();
      assert.equal((await api(server.port, 'GET', '/api/videos', { token: secret })).status, 401);
    });

    await t.test('a member sees no API keys link, and the page says who may', async () => {
      const other = await newPage();
      await signIn(other, base, 'bob@example.com');
      await other.locator('#org-switch').selectOption({ label: 'Alice Films · member' });
      await other.getByRole('link', { name: 'Members' }).waitFor();
      assert.equal(await other.getByRole('link', { name: 'API keys' }).count(), 0);
      await other.goto(`${base}/#/api-keys`);
      await other.getByText('Only admins and owners of Alice Films manage its API keys.').waitFor();
    });

    await t.test('no page errors', () => assert.deepEqual(errors, []));
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
