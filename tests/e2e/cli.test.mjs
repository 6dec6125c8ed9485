// The command-line client as a person and a script use it: the real `reel`
// binary against a real server, signing in with the password on stdin and
// in a pseudo-terminal (python3's pty module: the password must not be
// echoed), then listing, showing, uploading, deleting and signing out with
// the stored login.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REEL, tempDir, startServer, withServer, api, register, makeClip } from './lib.mjs';

const PASSWORD = 'correct horse';  // lib.mjs register's

// The environment of a client run: a home and XDG directories of its own,
// none of the REEL_ variables of whoever runs the tests.
function clientEnv(dir, extra = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REEL_')));
  return { ...clean, HOME: dir, XDG_CONFIG_HOME: path.join(dir, 'config'), XDG_STATE_HOME: path.join(dir, 'state'), ...extra };
}

// Runs `reel ...args` with `input` on its stdin (a pipe: not a terminal).
function reel(args, env, input = '') {
  return new Promise((resolve) => {
    const proc = spawn(REEL, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c) => (stdout += c));
    proc.stderr.on('data', (c) => (stderr += c));
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
    // A command that needs no input may end before it is written: the pipe's
    // EPIPE is no failure of the test (its exit code and output are).
    proc.stdin.on('error', (e) => { if (e.code !== 'EPIPE') throw e; });
    proc.stdin.end(input);
  });
}

// Runs `reel ...args` in a pseudo-terminal; each step waits for its prompt
// in the output, then types its answer and Enter. Resolves {code, output}:
// everything the terminal showed, echoes included.
const PTY_DRIVER = `
import json, os, pty, select, sys, time
spec = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execve(spec['argv'][0], spec['argv'], spec['env'])
out = b''
def read_until(pred, timeout):
    global out
    end = time.time() + timeout
    while not pred():
        left = end - time.time()
        if left <= 0:
            return False
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return False
            if not chunk:
                return False
            out += chunk
    return True
pos = 0
for expect, answer in spec['steps']:
    if not read_until(lambda: out.find(expect.encode(), pos) >= 0, 60):
        break
    pos = out.find(expect.encode(), pos) + len(expect)
    os.write(fd, (answer + '\\n').encode())
read_until(lambda: False, 60)
_, status = os.waitpid(pid, 0)
print(json.dumps({'code': os.waitstatus_to_exitcode(status), 'output': out.decode('utf-8', 'replace')}))
`;
function reelInTerminal(args, env, steps) {
  return reelInTerminalArgv([path.resolve(REEL), ...args], env, steps);
}
function reelInTerminalArgv(argv, env, steps) {
  return new Promise((resolve, reject) => {
    const spec = JSON.stringify({ argv, env, steps });
    const proc = spawn('python3', ['-c', PTY_DRIVER, spec], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c) => (stdout += c));
    proc.stderr.on('data', (c) => (stderr += c));
    proc.on('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout)) : reject(new Error(stderr))));
  });
}

const modeOf = (p) => fs.statSync(p).mode & 0o777;

test('reel login with the password on stdin, then videos, upload, delete and logout with the stored login', async () => {
  await withServer(async (server, dir) => {
    const base = `http://127.0.0.1:${server.port}`;
    const alice = await register(server.port, 'alice@example.com', 'Alice Films');
    const env = clientEnv(dir);
    const credentials = path.join(dir, 'config', 'reel', 'credentials');

    // Not logged in yet: said so, exit 1.
    const before = await reel(['videos', 'list'], env);
    assert.equal(before.code, 1);
    assert.match(before.stderr, /Not logged in: run `reel login --server URL` first/);

    // A wrong password stores nothing.
    const wrong = await reel(['login', '--server', base, '--email', 'alice@example.com'], env, 'nope nope\n');
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /Login refused: .+/);
    assert.equal(fs.existsSync(credentials), false);

    const login = await reel(['login', '--server', `${base}/`, '--email', 'alice@example.com', '--password-stdin'], env,
      `${PASSWORD}\n`);
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /Logged in to http:\/\/127\.0\.0\.1:\d+ as alice@example\.com/);
    assert.equal(modeOf(credentials), 0o600);
    assert.equal(modeOf(path.dirname(credentials)), 0o700);
    const stored = JSON.parse(fs.readFileSync(credentials, 'utf8'));
    assert.equal(stored.server, base);
    assert.equal(stored.kind, 'session');
    assert.equal((await api(server.port, 'GET', '/api/auth/me', { token: stored.token })).status, 200);

    // whoami, and an empty list.
    const who = await reel(['whoami'], env);
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, /^alice@example\.com \(alice@example\.com\) on http:\/\/127\.0\.0\.1:\d+\n\* Alice Films  \S+  owner\n$/, who.stdout + who.stderr);
    // (--limit 7: a query of its own, so that the list after the upload cannot be
    // this answer again from the server's list cache.)
    const empty = await reel(['videos', 'list', '--limit', '7'], env);
    assert.equal(empty.stdout, 'No videos.\n', empty.stderr);

    // Upload with the stored login: no --server, no --token.
    const clip = path.join(dir, 'clip.mp4');
    makeClip(clip, 1);
    const up = await reel(['upload', clip, '--title', 'From the CLI'], env);
    assert.equal(up.code, 0, up.stderr);
    assert.doesNotMatch(up.stderr, /warning/);
    const id = up.stdout.trim();
    const seen = await api(server.port, 'GET', `/api/videos/${id}`, { token: alice.token });
    assert.equal(seen.json.video.title, 'From the CLI');

    const table = await reel(['videos', 'list'], env);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^ID +STATUS +DURATION +SIZE +CREATED +TITLE$/, table.stdout);
    assert.equal(lines.length, 2, table.stdout);
    assert.match(lines[1], new RegExp(`^${id} +[a-z]+ +.+ From the CLI$`), table.stdout);
    const listed = await reel(['videos', 'list', '--json', '--limit', '5'], env);
    assert.deepEqual(JSON.parse(listed.stdout).videos.map((v) => v.id), [id]);

    const shown = await reel(['videos', 'show', id], env);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`^id +${id}\ntitle +From the CLI\nstatus +\\w+\n`), shown.stdout);
    assert.equal(JSON.parse((await reel(['videos', 'show', id, '--json'], env)).stdout).video.id, id);

    // The API's error message, exit 1; bad usage, exit 2.
    const missing = await reel(['videos', 'show', 'no-such-video'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^reel videos show: Cannot show video no-such-video: No such video\.\n$/);
    // An id that begins with a dash (ids made before they stopped doing so)
    // is an id, not an unknown flag: the server answers, exit 1.
    const dashed = await reel(['videos', 'show', '-Fx4guji9aub0AEV'], env);
    assert.equal(dashed.code, 1, dashed.stderr);
    assert.match(dashed.stderr, /^reel videos show: Cannot show video -Fx4guji9aub0AEV: No such video\.\n$/);
    assert.equal((await reel(['videos', 'list', '--limit', '0'], env)).code, 2);
    assert.equal((await reel(['videos', 'frobnicate'], env)).code, 2);
    const unasked = await reel(['videos', 'delete', id], env);
    assert.equal(unasked.code, 2);
    assert.match(unasked.stderr, /needs --yes/);

    // On a terminal, delete asks; "n" keeps the video.
    const declined = await reelInTerminal(['videos', 'delete', id], env, [['[y/N] ', 'n']]);
    assert.equal(declined.code, 1, declined.output);
    assert.match(declined.output, /Delete video \S+ "From the CLI" and its files\?/);
    assert.equal((await api(server.port, 'GET', `/api/videos/${id}`, { token: alice.token })).status, 200);
    const deleted = await reel(['videos', 'delete', id, '--yes'], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal((await api(server.port, 'GET', `/api/videos/${id}`, { token: alice.token })).status, 404);

    // Logout ends the session on the server and removes the file.
    const out = await reel(['logout'], env);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /Ended the session/, out.stdout + out.stderr);
    assert.equal(fs.existsSync(credentials), false);
    assert.equal((await api(server.port, 'GET', '/api/auth/me', { token: stored.token })).status, 401);
    assert.equal((await reel(['videos', 'list'], env)).code, 1);
    assert.match((await reel(['logout'], env)).stdout, /Not logged in/);
  });
});

test('reel login in a terminal asks for the email and the password, and does not echo the password', async () => {
  await withServer(async (server, dir) => {
    const base = `http://127.0.0.1:${server.port}`;
    await register(server.port, 'bob@example.com', 'Bob Org');
    const env = clientEnv(dir);
    const r = await reelInTerminal(['login', '--server', base], env, [['Email: ', 'bob@example.com'],
      ['Password: ', PASSWORD]]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /Email: bob@example\.com\r?\n/);  // the email is echoed: the terminal echoes
    assert.ok(!r.output.includes(PASSWORD), `the password was echoed:\n${r.output}`);
    assert.match(r.output, /Password: \r?\nLogged in to /);
    const credentials = path.join(dir, 'config', 'reel', 'credentials');
    assert.equal(modeOf(credentials), 0o600);
    assert.equal(JSON.parse(fs.readFileSync(credentials, 'utf8')).email, 'bob@example.com');
    // A second organization: --org chooses it, and it is stored.
    const first = JSON.parse(fs.readFileSync(credentials, 'utf8'));
    const made = await api(server.port, 'POST', '/api/orgs', { token: first.token, body: { name: 'Second' } });
    assert.equal(made.status, 201);
    const again = await reel(['login', '--email', 'bob@example.com', '--org', 'Second'], env, PASSWORD);
    assert.equal(again.code, 0, again.stderr);
    const second = JSON.parse(fs.readFileSync(credentials, 'utf8'));
    assert.equal(second.organizationId, made.json.organization.id);
    // The login it replaced was ended on the server.
    assert.equal((await api(server.port, 'GET', '/api/auth/me', { token: first.token })).status, 401);
    assert.match((await reel(['whoami'], env)).stdout, /\* Second  /);
    const none = await reel(['login', '--email', 'bob@example.com', '--org', 'Third'], env, PASSWORD);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /not a member of "Third"; its organizations: Bob Org .*Second/);
    assert.deepEqual(JSON.parse(fs.readFileSync(credentials, 'utf8')), second);
  });
});

test('Ctrl-C at the password prompt puts the echo back', async () => {
  const dir = tempDir();
  try {
    // bash ignores the SIGINT itself, then shows the terminal's settings after reel died of it.
    const script = `trap '' INT; '${path.resolve(REEL)}' login --server http://127.0.0.1:9 --email x@example.com; ` +
      'echo "exit=$?"; stty -a';
    const r = await reelInTerminalArgv(['/bin/bash', '-c', script], clientEnv(dir), [['Password: ', '\x03']]);
    assert.match(r.output, /exit=130/, r.output);
    assert.match(r.output, /\secho\s/, r.output);
    assert.doesNotMatch(r.output, /-echo\s/, r.output);
    assert.equal(fs.existsSync(path.join(dir, 'config', 'reel', 'credentials')), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('REEL_SERVER and REEL_TOKEN stand in for a login; a stored token goes only to its own server', async () => {
  await withServer(async (server, dir) => {
    const base = `http://127.0.0.1:${server.port}`;
    const carol = await register(server.port, 'carol@example.com', 'Carol Org');
    const env = clientEnv(dir, { REEL_SERVER: base, REEL_TOKEN: carol.token });
    const listed = await reel(['videos', 'list', '--json'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout), { videos: [], nextCursor: null });
    const forged = await reel(['videos', 'list'], clientEnv(dir, { REEL_SERVER: base, REEL_TOKEN: 'forged' }));
    assert.equal(forged.code, 1);
    assert.match(forged.stderr, /Cannot list the videos: .+ \(the token from REEL_TOKEN is not accepted\)/);
    // --token still works for upload, with a warning.
    const clip = path.join(dir, 'c.mp4');
    makeClip(clip, 1);
    const legacy = await reel(['upload', clip, '--server', base, '--token', carol.token], clientEnv(dir));
    assert.equal(legacy.code, 0, legacy.stderr);
    assert.match(legacy.stderr, /warning: --token shows in `ps`/);
    // Logged in to this server, pointed at another one: nothing is sent there.
    const plain = clientEnv(dir);
    assert.equal((await reel(['login', '--server', base, '--email', 'carol@example.com'], plain, PASSWORD)).code, 0);
    const other = await reel(['videos', 'list'], { ...plain, REEL_SERVER: 'http://127.0.0.1:9' });
    assert.equal(other.code, 1);
    assert.match(other.stderr, /Not logged in to http:\/\/127\.0\.0\.1:9 \(the stored login is for http/);
    // A corrupt file is a clear error.
    const credentials = path.join(dir, 'config', 'reel', 'credentials');
    fs.writeFileSync(credentials, '{"version":1,"server":');
    const corrupt = await reel(['videos', 'list'], plain);
    assert.equal(corrupt.code, 1);
    assert.match(corrupt.stderr, /credentials file .*credentials is not valid JSON: run `reel login` again/);
  });
});

test('reel logout forgets the login even when the server is gone, and says so', async () => {
  const dir = tempDir();
  const server = await startServer(path.join(dir, 'data'));
  try {
    await register(server.port, 'dan@example.com', 'Dan Org');
    const env = clientEnv(dir);
    const login = await reel(['login', '--server', `http://127.0.0.1:${server.port}`, '--email', 'dan@example.com'],
      env, PASSWORD);
    assert.equal(login.code, 0, login.stderr);
  } finally {
    await server.stop();
  }
  const out = await reel(['logout'], clientEnv(dir));
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stderr, /cannot reach http:\/\/127\.0\.0\.1:\d+ .*the session stays valid there until it expires/);
  assert.equal(fs.existsSync(path.join(dir, 'config', 'reel', 'credentials')), false);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('reel login --api-key: a key the server refuses is not stored; one it accepts is', async () => {
  await withServer(async (server, dir) => {
    const env = clientEnv(dir);
    const credentials = path.join(dir, 'config', 'reel', 'credentials');
    const base = `http://127.0.0.1:${server.port}`;
    const refused = await reel(['login', '--server', base, '--api-key'], env, 'reel_sk_not_a_real_key\n');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /does not accept this API key .*Nothing was stored/);
    const notKey = await reel(['login', '--server', base, '--api-key'], env, 'hunter2\n');
    assert.equal(notKey.code, 1);
    assert.match(notKey.stderr, /not an API key/);
    assert.equal(fs.existsSync(credentials), false);

    // A real key of a real organization: stored without echo, used, and refused once revoked.
    const owner = await register(server.port, 'keys@example.com', 'Keyed');
    const made = await api(server.port, 'POST', `/api/orgs/${owner.orgId}/api-keys`,
      { token: owner.token, body: { name: 'cli', role: 'member' } });
    assert.equal(made.status, 201, made.text);
    const secret = made.json.secret;
    const accepted = await reelInTerminal(['login', '--server', base, '--api-key'], env, [['API key: ', secret]]);
    assert.equal(accepted.code, 0, accepted.output);
    assert.ok(!accepted.output.includes(secret), accepted.output);
    assert.equal(modeOf(credentials), 0o600);
    const stored = JSON.parse(fs.readFileSync(credentials, 'utf8'));
    assert.equal(stored.kind, 'apiKey');
    assert.equal(stored.token, secret);
    const listed = await reel(['videos', 'list'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.stdout, 'No videos.\n');
    // The use is recorded after the answer, off the request's path: wait for it (bounded).
    let lastUsedAt = null;
    for (let i = 0; i < 100 && !lastUsedAt; ++i) {
      if (i) await new Promise((resolve) => setTimeout(resolve, 100));
      const keys = await api(server.port, 'GET', `/api/orgs/${owner.orgId}/api-keys`, { token: owner.token });
      lastUsedAt = keys.json.apiKeys[0].lastUsedAt;
    }
    assert.ok(lastUsedAt, 'the key was used');
    const revoked = await api(server.port, 'DELETE', `/api/orgs/${owner.orgId}/api-keys/${made.json.apiKey.id}`,
      { token: owner.token });
    assert.equal(revoked.status, 204, revoked.text);
    const refusedNow = await reel(['videos', 'list'], env);
    assert.equal(refusedNow.code, 1, refusedNow.stdout);
    const out = await reel(['logout'], env);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(fs.existsSync(credentials), false);
  });
});
