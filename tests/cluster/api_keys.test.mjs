// API keys across nodes (docs/api-keys.md): a key made on one node works on
// the other, and revoking it on api1 refuses it on api2 as soon as Redis
// carries the word (its cached copy there is dropped; within a second, not
// after the cache's minute), and disconnects its sockets on api2.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, call, register, connect, waitFor, withLogs, within } from './lib.mjs';

let cluster;
before(async () => {
  cluster = await startCluster();
});
after(async () => {
  await cluster?.down();
});

test('a key revoked on api1 is refused on api2 within a second, and its sockets there are disconnected', withLogs(() => cluster, async () => {
  const alice = await register(cluster.api1, 'keys');
  const made = await call(cluster.api1, 'POST', `/api/orgs/${alice.orgId}/api-keys`, {
    token: alice.token, body: { name: 'Backend', role: 'member' },
  });
  assert.equal(made.status, 201, made.text);
  const { secret } = made.json;
  // Cached on api2 (a request within the cache's minute would not ask the database again).
  for (let i = 0; i < 3; i++) assert.equal((await call(cluster.api2, 'GET', '/api/videos', { token: secret })).status, 200);
  const socket = connect(cluster.api2, secret, { transports: ['websocket'], reconnection: false });
  await waitFor(socket, 'connect');
  const gone = waitFor(socket, 'disconnect', () => true, 5000);

  const revoked = await call(cluster.api1, 'DELETE', `/api/orgs/${alice.orgId}/api-keys/${made.json.apiKey.id}`, { token: alice.token });
  assert.equal(revoked.status, 204, revoked.text);
  // The word reaches api2 through Redis within a second (docs/API.md,
  // REEL_REDIS_URL), long before the key's minute in api2's cache is up;
  // usually before the answer reaches the client and it asks api2.
  const took = await within(1000, async () => {
    const r = await call(cluster.api2, 'GET', '/api/videos', { token: secret });
    assert.ok(r.status === 200 || r.status === 401, `api2 answered ${r.status}: ${r.text}`);
    return r.status === 401;
  }, { every: 20, what: 'the revoked key refused on api2' });
  console.log(`# revoked on api1, refused on api2 after ${took} ms`);
  assert.equal((await gone)[0], 'io server disconnect');
  assert.equal((await call(cluster.api1, 'GET', '/api/videos', { token: secret })).status, 401);
  socket.close();
}));
