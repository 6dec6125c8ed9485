// The account pages in a real browser (headless Chromium, playwright-core)
// against the real binary: sessions listed and ended one by one or all at
// once, a password change refused then accepted, an invitation accepted
// from the inbox, and a reset link from `reel user reset-password` redeemed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { REEL, tempDir, startServer, api, databaseEnv } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const artifacts = path.join(root, 'test-artifacts');
const PASSWORD = 'correct horse';
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REEL_')));

async function shot(page, name) {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

async function signIn(page, email, password = PASSWORD) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('account pages: sessions, password change, invitations inbox, password reset', async (t) => {
  const dir = tempDir();
  const dataDir = path.join(dir, 'data');
  const server = await startServer(dataDir, { args: ['--web-dir', path.join(root, 'web')] });
  const base = `http://127.0.0.1:${server.port}`;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true });
  const errors = [];
  const newPage = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20000);
    page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
    return page;
  };
  try {
    const reg = (email, name, org) => api(server.port, 'POST', '/api/auth/register',
      { body: { email, password: PASSWORD, name, organizationName: org } });
    const alice = await reg('alice@example.com', 'Alice Liddell', 'Alice Films');
    const bob = await reg('bob@example.com', 'Bob Builder', 'Bob Studio');
    assert.equal(alice.status, 201, alice.text);
    assert.equal(bob.status, 201, bob.text);
    // Bob invites Alice before she signs in; a script of Alice's holds another session.
    const invited = await api(server.port, 'POST', `/api/orgs/${bob.json.organization.id}/invitations`,
      { token: bob.json.token, body: { email: 'alice@example.com', role: 'member' } });
    assert.equal(invited.status, 202, invited.text);
    const script = await api(server.port, 'POST', '/api/auth/login',
      { body: { email: 'alice@example.com', password: PASSWORD }, headers: { 'User-Agent': 'curl/8.0' } });
    assert.equal(script.status, 200, script.text);

    const page = await newPage();
    await page.goto(`${base}/#/login`);
    await signIn(page, 'alice@example.com');
    await page.getByRole('heading', { name: 'Library' }).waitFor();

    await t.test('the inbox shows the invitation with a count, and accepting joins the organization', async () => {
      const link = page.getByRole('link', { name: /Invitations/ });
      await link.getByText('1').waitFor();
      await link.click();
      await page.getByRole('heading', { name: 'Invitations' }).waitFor();
      await page.locator('.person-name').filter({ hasText: /^Bob Studio$/ }).waitFor();
      await page.getByText('Bob Builder invited you as a').waitFor();
      await shot(page, 'ui-inbox');
      await page.getByRole('button', { name: 'Accept the invitation to Bob Studio' }).click();
      await page.getByRole('status').filter({ hasText: 'You joined Bob Studio' }).waitFor();
      assert.match(await page.locator('#org-switch option:checked').textContent(), /Bob Studio · member/);
      await page.getByText('No invitations are waiting for you.').waitFor();
      assert.equal(await link.locator('.count').isHidden(), true);
    });

    await t.test('the account page lists both sessions; ending the script\'s refuses its token at once', async () => {
      await page.getByRole('link', { name: 'Account' }).click();
      await page.getByRole('heading', { name: 'Your account' }).waitFor();
      const table = page.getByRole('region', { name: 'Where you are signed in' });
      await table.getByText('This device').waitFor();
      const device = (name) => table.locator('.person-name').filter({ hasText: new RegExp(`^${name}$`) });
      await device('Chrome on Linux').waitFor();
      await device('curl').waitFor();
      await shot(page, 'ui-account');
      await table.getByRole('button', { name: 'Sign out curl' }).click();
      await page.getByRole('status').filter({ hasText: 'Signed out curl.' }).waitFor();
      await device('curl').waitFor({ state: 'detached' });
      const me = await api(server.port, 'GET', '/api/auth/me', { token: script.json.token });
      assert.equal(me.status, 401);
    });

    await t.test('a guessable new password is refused saying why; a good one is taken', async () => {
      const form = page.getByRole('form', { name: 'Change your password' });
      await form.getByLabel('Current password').fill(PASSWORD);
      await form.getByLabel('New password', { exact: true }).fill('P@ssw0rd');
      await form.getByLabel('New password again').fill('P@ssw0rd');
      await form.getByRole('button', { name: 'Change password' }).click();
      await form.getByRole('alert').filter({ hasText: 'too easy to guess' }).waitFor();
      await form.getByLabel('Current password').fill(PASSWORD);
      await form.getByLabel('New password', { exact: true }).fill('purple monkey dishwasher');
      await form.getByLabel('New password again').fill('purple monkey dishwasher');
      await form.getByRole('button', { name: 'Change password' }).click();
      await form.getByRole('alert').filter({ hasText: 'Your password was changed' }).waitFor();
      const login = await api(server.port, 'POST', '/api/auth/login',
        { body: { email: 'alice@example.com', password: 'purple monkey dishwasher' } });
      assert.equal(login.status, 200, login.text);
    });

    await t.test('sign out everywhere ends this session too', async () => {
      await page.getByRole('button', { name: 'Sign out everywhere' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Sign out everywhere' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      const sessions = await api(server.port, 'GET', '/api/auth/sessions', { token: alice.json.token });
      assert.equal(sessions.status, 401);
    });

    await t.test('a reset link from the CLI opens the reset page, works once, and the new password signs in', async () => {
      const out = execFileSync(REEL, ['user', 'reset-password', 'alice@example.com', '--data-dir', dataDir,
        '--public-url', base], { env: { ...cleanEnv, ...databaseEnv(dataDir) }, encoding: 'utf8' });
      const link = /(http\S+\/#\/reset-password\/[A-Za-z0-9_-]{43})/.exec(out)?.[1];
      assert.ok(link, out);
      const fresh = await newPage();
      await fresh.goto(link);
      await fresh.getByRole('heading', { name: 'Choose a new password' }).waitFor();
      await fresh.getByLabel('New password', { exact: true }).fill('bright yellow kayak');
      await fresh.getByLabel('New password again').fill('bright yellow kayak');
      await fresh.getByRole('button', { name: 'Set the new password' }).click();
      await fresh.getByRole('heading', { name: 'Sign in' }).waitFor();
      await fresh.getByText('Your password was changed').waitFor();
      await signIn(fresh, 'alice@example.com', 'bright yellow kayak');
      await fresh.getByRole('heading', { name: 'Library' }).waitFor();
      // The same link again: refused, saying so.
      await fresh.goto(link);
      await fresh.getByRole('heading', { name: 'Choose a new password' }).waitFor();
      await fresh.getByLabel('New password', { exact: true }).fill('another long phrase');
      await fresh.getByLabel('New password again').fill('another long phrase');
      await fresh.getByRole('button', { name: 'Set the new password' }).click();
      await fresh.getByRole('alert').filter({ hasText: /link/i }).waitFor();
    });

    await t.test('forgot password answers the same for any email', async () => {
      const fresh = await newPage();
      await fresh.goto(`${base}/#/login`);
      await fresh.getByRole('link', { name: 'Forgot your password?' }).click();
      await fresh.getByLabel('Email').fill('nobody@example.com');
      await fresh.getByRole('button', { name: 'Send a reset link' }).click();
      await fresh.getByText('If an account uses that email').waitFor();
    });

    await t.test('no page errors', () => assert.deepEqual(errors, []));
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
