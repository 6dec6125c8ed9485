// API keys with the stock socket.io-client from npm: a key joins its own
// organization's room only (naming another organization is refused), hears
// that organization's events and nothing of another's, and revoking the key
// disconnects its sockets at once (docs/api-keys.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { withServer, api, register, upload, waitFor } from './lib.mjs';

function connect(port, opts) {
  return io(`http://127.0.0.1:${port}`, { reconnection: false, ...opts });
}

async function makeKey(port, owner, role) {
  const r = await api(port, 'POST', `/api/orgs/${owner.orgId}/api-keys`, { token: owner.token, body: { name: `${role} key`, role } });
  assert.equal(r.status, 201, r.text);
  return { secret: r.json.secret, id: r.json.apiKey.id };
}

test('a key joins only its organization\'s room, hears its events only, and is cut off when revoked', async () => {
  await withServer(async (server) => {
    const alice = await register(server.port, 'alice@example.com', 'Alice Inc');
    const bob = await register(server.port, 'bob@example.com', 'Bob Ltd');
    const key = await makeKey(server.port, alice, 'viewer');

    for (const transports of [['polling', 'websocket'], ['websocket']]) {
      const other = connect(server.port, { transports, auth: { token: key.secret, organizationId: bob.orgId } });
      assert.equal((await waitFor(other, 'connect_error'))[0].message, 'unauthorized', transports.join('+'));
      other.close();
    }
    const forged = connect(server.port, { auth: { token: `reel_sk_${'A'.repeat(43)}` } });
    assert.equal((await waitFor(forged, 'connect_error'))[0].message, 'unauthorized');
    forged.close();

    const named = connect(server.port, { transports: ['websocket'], auth: { token: key.secret, organizationId: alice.orgId } });
    const plain = connect(server.port, { auth: { token: key.secret } });  // no organization named: the key's
    await Promise.all([waitFor(named, 'connect'), waitFor(plain, 'connect')]);
    const heard = [];
    plain.onAny((name, payload) => heard.push([name, payload]));

    const created = waitFor(named, 'video:created', () => true, 10000);
    const mine = await upload(server.port, alice.token, Buffer.from('not a video at all'), 'Mine');
    assert.equal((await created)[0].video.id, mine.id);
    const theirs = await upload(server.port, bob.token, Buffer.from('not a video either'), 'Theirs');
    // Alice's second upload comes after Bob's: once it is heard, Bob's would have been too.
    const second = waitFor(plain, 'video:created', (p) => p.video.id !== mine.id, 10000);
    const mine2 = await upload(server.port, alice.token, Buffer.from('still not a video'), 'Mine 2');
    assert.equal((await second)[0].video.id, mine2.id);
    const ids = heard.map(([, p]) => p?.video?.id ?? p?.id);
    assert.ok(!ids.includes(theirs.id), `heard Bob's video: ${JSON.stringify(heard)}`);

    const gone = [waitFor(named, 'disconnect'), waitFor(plain, 'disconnect')];
    const revoked = await api(server.port, 'DELETE', `/api/orgs/${alice.orgId}/api-keys/${key.id}`, { token: alice.token });
    assert.equal(revoked.status, 204, revoked.text);
    for (const [reason] of await Promise.all(gone)) assert.equal(reason, 'io server disconnect');
    const again = connect(server.port, { auth: { token: key.secret } });
    assert.equal((await waitFor(again, 'connect_error'))[0].message, 'unauthorized');
    again.close();
    named.close();
    plain.close();
  });
});
