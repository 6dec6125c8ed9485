// Webhooks end to end: the real server, a real receiver on loopback that
// verifies every request with the npm `standardwebhooks` library (the
// Standard Webhooks reference implementation), retries, a crash, a refused
// target and a receiver that never answers (docs/api-webhooks.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { tempDir, startServer, api, register, makeClip, upload, waitReady } from './lib.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ALLOW = { REEL_WEBHOOK_ALLOW_PRIVATE: 'true' };

// A receiver on 127.0.0.1. `answer(n)` gives the status of the n-th request
// (0-based), or null to never answer. Every request is verified with the
// endpoint's secret (set later: `secret`) and kept in `hits`.
function receiver(answer = () => 200) {
  const hits = [];
  const waiting = [];
  const held = [];
  const state = { secret: null };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = {
        'webhook-id': req.headers['webhook-id'],
        'webhook-timestamp': req.headers['webhook-timestamp'],
        'webhook-signature': req.headers['webhook-signature'],
      };
      let verified = null;
      let error = null;
      try {
        verified = new Webhook(state.secret).verify(body, headers);
      } catch (e) {
        error = e;
      }
      const n = hits.length;
      hits.push({ headers, body, verified, error, at: Date.now() });
      for (const w of waiting.splice(0)) w();
      const status = answer(n);
      if (status === null) return held.push(res);
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end(status < 300 ? 'ok' : 'nope');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        state,
        hits,
        url: `http://127.0.0.1:${server.address().port}/hook`,
        async waitFor(test, ms = 30000) {
          const deadline = Date.now() + ms;
          while (!test(hits)) {
            if (Date.now() > deadline) throw new Error('the receiver did not get what was expected: ' + hits.length);
            await new Promise((r) => {
              waiting.push(r);
              setTimeout(r, 200);
            });
          }
          return hits;
        },
        close() {
          for (const res of held) res.destroy();
          server.closeAllConnections?.();
          return new Promise((r) => server.close(r));
        },
      });
    });
  });
}

async function addWebhook(port, who, url, events) {
  const r = await api(port, 'POST', `/api/orgs/${who.orgId}/webhooks`, { token: who.token, body: { url, events } });
  assert.equal(r.status, 201, r.text);
  return r.json.webhook;
}

async function deliveries(port, who, hookId) {
  const r = await api(port, 'GET', `/api/orgs/${who.orgId}/webhooks/${hookId}/deliveries`, { token: who.token });
  assert.equal(r.status, 200, r.text);
  return r.json.deliveries;
}

async function waitDelivery(port, who, hookId, test, ms = 30000) {
  const deadline = Date.now() + ms;
  let last = [];
  while (Date.now() < deadline) {
    last = await deliveries(port, who, hookId);
    const found = last.find(test);
    if (found) return found;
    await sleep(200);
  }
  throw new Error('no such delivery: ' + JSON.stringify(last));
}

async function serverWith(env = {}) {
  const dir = tempDir();
  const dataDir = path.join(dir, 'data');
  const server = await startServer(dataDir, { env });
  return { dir, dataDir, server };
}

const VIDEO_EVENTS = ['video.created', 'video.uploaded', 'video.processing', 'video.playable', 'video.ready', 'video.failed', 'video.deleted'];

test('every event of an upload to ready arrives once, verified by standardwebhooks', async () => {
  const { dir, server } = await serverWith(ALLOW);
  const r = await receiver();
  try {
    const alice = await register(server.port, 'alice@example.com', 'Alice');
    const hook = await addWebhook(server.port, alice, r.url, VIDEO_EVENTS);
    r.state.secret = hook.secret;
    const video = await upload(server.port, alice.token, makeClip(path.join(dir, 'clip.mp4'), 2));
    await waitReady(server.port, alice.token, video.id);
    assert.equal((await api(server.port, 'DELETE', `/api/videos/${video.id}`, { token: alice.token })).status, 204);
    // An H.264/AAC clip: it plays early (video.playable) before it is ready.
    const expected = ['video.created', 'video.uploaded', 'video.processing', 'video.playable', 'video.ready', 'video.deleted'];
    await r.waitFor((hits) => hits.length >= expected.length);
    await sleep(1500); // nothing else comes
    for (const h of r.hits) assert.equal(h.error, null, `${h.body}: ${h.error}`);
    const types = r.hits.map((h) => h.verified.type).sort();
    assert.deepEqual(types, [...expected].sort());
    assert.equal(new Set(r.hits.map((h) => h.headers['webhook-id'])).size, expected.length);
    for (const h of r.hits) {
      assert.equal(h.verified.data.id, video.id);
      assert.equal(h.verified.data.organizationId, alice.orgId);
      assert.ok(!Number.isNaN(Date.parse(h.verified.timestamp)));
    }
    const ready = r.hits.find((h) => h.verified.type === 'video.ready');
    assert.equal(ready.verified.data.status, 'ready');
  } finally {
    await r.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('500 three times then 200: delivered on the fourth attempt with the same webhook-id', async () => {
  const { dir, server } = await serverWith({ ...ALLOW, REEL_WEBHOOK_RETRY_SCHEDULE_MS: '300,300,300,300' });
  const r = await receiver((n) => (n < 3 ? 500 : 200));
  try {
    const alice = await register(server.port, 'alice@example.com', 'Alice');
    const hook = await addWebhook(server.port, alice, r.url, ['member.added']);
    r.state.secret = hook.secret;
    const t = await api(server.port, 'POST', `/api/orgs/${alice.orgId}/webhooks/${hook.id}/test`, { token: alice.token });
    assert.equal(t.status, 202, t.text);
    await r.waitFor((hits) => hits.length >= 4);
    assert.equal(new Set(r.hits.map((h) => h.headers['webhook-id'])).size, 1);
    assert.equal(r.hits[0].headers['webhook-id'], t.json.delivery.messageId);
    for (const h of r.hits) assert.equal(h.error, null, String(h.error));
    const done = await waitDelivery(server.port, alice, hook.id, (d) => d.status === 'delivered');
    assert.equal(done.attempts, 4);
    assert.equal(done.responseCode, 200);
    await sleep(1000);
    assert.equal(r.hits.length, 4);
  } finally {
    await r.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('reel killed with SIGKILL before the delivery succeeded: delivered after the restart, same webhook-id', async () => {
  const env = { ...ALLOW, REEL_WEBHOOK_RETRY_SCHEDULE_MS: '2000' };
  const { dir, dataDir, server } = await serverWith(env);
  let up = false;
  const r = await receiver(() => (up ? 200 : 503));
  let second = null;
  try {
    const alice = await register(server.port, 'alice@example.com', 'Alice');
    const bob = await register(server.port, 'bob@example.com', 'Bob');
    const hook = await addWebhook(server.port, alice, r.url, ['member.added']);
    r.state.secret = hook.secret;
    // The state change: Bob joins Alice's organization.
    const sent = await api(server.port, 'POST', `/api/orgs/${alice.orgId}/invitations`,
      { token: alice.token, body: { email: 'bob@example.com', role: 'member' } });
    assert.equal(sent.status, 202, sent.text);
    const accepted = await api(server.port, 'POST', `/api/auth/invitations/${sent.json.invitation.id}/accept`, { token: bob.token });
    assert.equal(accepted.status, 200, accepted.text);
    await r.waitFor((hits) => hits.length >= 1); // the first attempt failed (503): a retry is due in 1.6..2.4 s
    await sleep(500); // reel records the attempt; then it dies before the retry
    const code = await server.stop('SIGKILL');
    assert.equal(code, null); // killed by the signal
    assert.equal(r.hits.length, 1);
    up = true;
    second = await startServer(dataDir, { env });
    await r.waitFor((hits) => hits.length >= 2);
    assert.equal(r.hits[1].headers['webhook-id'], r.hits[0].headers['webhook-id']);
    assert.equal(r.hits[1].error, null);
    assert.equal(r.hits[1].verified.type, 'member.added');
    assert.equal(r.hits[1].verified.data.userId, bob.userId);
    const done = await waitDelivery(second.port, alice, hook.id, (d) => d.status === 'delivered');
    assert.equal(done.attempts, 2);
  } finally {
    await r.close();
    if (second) await second.stop();
    else await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a target on 127.0.0.1 is refused without REEL_WEBHOOK_ALLOW_PRIVATE, with the reason in the log', async () => {
  const { dir, server } = await serverWith({});
  const r = await receiver();
  try {
    const alice = await register(server.port, 'alice@example.com', 'Alice');
    const hook = await addWebhook(server.port, alice, r.url, ['member.added']);
    await api(server.port, 'POST', `/api/orgs/${alice.orgId}/webhooks/${hook.id}/test`, { token: alice.token });
    const d = await waitDelivery(server.port, alice, hook.id, (x) => x.error !== null);
    assert.match(d.error, /refused: 127\.0\.0\.1 resolves to 127\.0\.0\.1, a loopback address/);
    assert.match(d.error, /REEL_WEBHOOK_ALLOW_PRIVATE=true/);
    assert.equal(d.responseCode, null);
    assert.equal(r.hits.length, 0);
  } finally {
    await r.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a receiver that never answers: the timeout is recorded and other deliveries are not held up', async () => {
  const { dir, server } = await serverWith(ALLOW);
  const silent = await receiver(() => null);
  const quick = await receiver();
  try {
    const alice = await register(server.port, 'alice@example.com', 'Alice');
    const slow = await addWebhook(server.port, alice, silent.url, ['member.added']);
    const fast = await addWebhook(server.port, alice, quick.url, ['member.added']);
    quick.state.secret = fast.secret;
    silent.state.secret = slow.secret;
    const started = Date.now();
    await api(server.port, 'POST', `/api/orgs/${alice.orgId}/webhooks/${slow.id}/test`, { token: alice.token });
    await silent.waitFor((hits) => hits.length >= 1);
    // While that request hangs, three others to the quick receiver go through.
    for (let i = 0; i < 3; i++)
      await api(server.port, 'POST', `/api/orgs/${alice.orgId}/webhooks/${fast.id}/test`, { token: alice.token });
    await quick.waitFor((hits) => hits.length >= 3, 10000);
    assert.ok(Date.now() - started < 10000, 'the quick deliveries waited for the silent receiver');
    const d = await waitDelivery(server.port, alice, slow.id, (x) => x.error !== null, 30000);
    assert.match(d.error, /timed out after 15 s waiting for the response/);
    assert.equal(d.status, 'pending');
    assert.ok(d.latencyMs >= 14000 && d.latencyMs < 20000, String(d.latencyMs));
  } finally {
    await silent.close();
    await quick.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('410 disables the endpoint; redirects are not followed; big answers are cut; self-signed HTTPS is refused', async () => {
  const { dir, server } = await serverWith(ALLOW);
  const gone = await receiver(() => 410);
  const elsewhere = await receiver();
  const moved = http.createServer((req, res) => res.writeHead(302, { Location: elsewhere.url }).end());
  await new Promise((r) => moved.listen(0, '127.0.0.1', r));
  const big = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('x'.repeat(200 * 1024)));
  });
  await new Promise((r) => big.listen(0, '127.0.0.1', r));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-days', '1',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  const tls = https.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) },
    (req, res) => res.writeHead(200).end('ok'));
  await new Promise((r) => tls.listen(0, '127.0.0.1', r));
  try {
    const alice = await register(server.port, 'alice@example.com', 'Alice');
    const urls = {
      gone: gone.url,
      moved: `http://127.0.0.1:${moved.address().port}/hook`,
      big: `http://127.0.0.1:${big.address().port}/hook`,
      tls: `https://127.0.0.1:${tls.address().port}/hook`,
    };
    const hooks = {};
    for (const [name, url] of Object.entries(urls)) {
      hooks[name] = await addWebhook(server.port, alice, url, ['member.added']);
      const t = await api(server.port, 'POST', `/api/orgs/${alice.orgId}/webhooks/${hooks[name].id}/test`, { token: alice.token });
      assert.equal(t.status, 202, t.text);
    }
    const goneDelivery = await waitDelivery(server.port, alice, hooks.gone.id, (d) => d.status === 'failed');
    assert.equal(goneDelivery.responseCode, 410);
    const endpoint = await api(server.port, 'GET', `/api/orgs/${alice.orgId}/webhooks/${hooks.gone.id}`, { token: alice.token });
    assert.equal(endpoint.json.webhook.enabled, false);
    assert.match(endpoint.json.webhook.disabledReason, /410 Gone/);

    const movedDelivery = await waitDelivery(server.port, alice, hooks.moved.id, (d) => d.responseCode !== null);
    assert.equal(movedDelivery.responseCode, 302);
    assert.equal(movedDelivery.status, 'pending'); // retried later, never followed
    assert.match(movedDelivery.error, /answered 302/);
    assert.equal(elsewhere.hits.length, 0);

    const bigDelivery = await waitDelivery(server.port, alice, hooks.big.id, (d) => d.status !== 'pending' || d.error !== null);
    assert.equal(bigDelivery.status, 'delivered');
    assert.equal(bigDelivery.responseCode, 200);
    assert.equal(bigDelivery.responseBody, 'x'.repeat(1024));

    const tlsDelivery = await waitDelivery(server.port, alice, hooks.tls.id, (d) => d.error !== null);
    assert.equal(tlsDelivery.responseCode, null);
    assert.match(tlsDelivery.error, /TLS handshake with 127\.0\.0\.1 failed: certificate verify failed/);
  } finally {
    await gone.close();
    await elsewhere.close();
    moved.close();
    big.close();
    tls.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
