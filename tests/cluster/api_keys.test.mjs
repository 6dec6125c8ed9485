// API keys across nodes (docs/api-keys.md): a key made on one node works on
// the other, and revoking it on api1 refuses it on api2 as soon as Redis
// carries the word (its cached copy there is dropped), and disconnects its
// sockets on api2.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, call, register, connect, waitFor, withLogs } from './lib.mjs';

let cluster;
before(async () => {
  cluster = await startCluster();
});
after(async () => {
  await cluster?.down();
});

test('a key revoked on api1 is refused on api2 at once, and its sockets there are disconnected', withLogs(() => cluster, async () => {
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
  // The word reaches api2 through Redis before the answer reaches the client and it asks api2.
  const first = await call(cluster.api2, 'GET', '/api/videos', { token: secret });
  assert.equal(first.status, 401, `the very next request on api2: ${first.text}`);
  assert.equal((await gone)[0], 'io server disconnect');
  assert.equal((await call(cluster.api1, 'GET', '/api/videos', { token: secret })).status, 401);
  socket.close();
}));
