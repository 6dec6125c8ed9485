// The OpenAPI document (docs/openapi.json, docs/api-openapi.md): it is valid
// OpenAPI 3.1 (@apidevtools/swagger-parser), it names exactly the routes the
// server registers (`reel serve --print-routes`, the real wiring: a route
// added without documentation, or documented but gone, fails here), and
// GET /api/openapi.json serves the copy compiled into the binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { REEL, tempDir, withServer } from './lib.mjs';

const DOCUMENT = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'docs', 'openapi.json');
const text = fs.readFileSync(DOCUMENT, 'utf8');
const doc = JSON.parse(text);
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

// A router pattern as an OpenAPI path: `:name` → `{name}`, the final `*` → `{path}`.
function openapiPath(pattern) {
  return pattern
    .split('/')
    .map((s) => (s === '*' ? '{path}' : s.startsWith(':') ? `{${s.slice(1)}}` : s))
    .join('/');
}

// `reel serve --print-routes` with `env`: [{method, pattern}], the server's own wiring.
function printRoutes(env = {}) {
  const dir = tempDir('reel-routes-test-');
  const dataDir = path.join(dir, 'never-made');
  try {
    const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REEL_')));
    const out = execFileSync(REEL, ['serve', '--print-routes', '--data-dir', dataDir], {
      env: { ...cleanEnv, ...env },
      encoding: 'utf8',
    });
    // Built in a scratch directory of its own: the configured one is not touched.
    assert.equal(fs.existsSync(dataDir), false, '--print-routes must not touch the data directory');
    return out
      .trim()
      .split('\n')
      .map((line) => {
        const m = /^(\S+) (\/\S*)$/.exec(line);
        assert.ok(m, `a line of --print-routes: ${JSON.stringify(line)}`);
        return { method: m[1], pattern: m[2] };
      });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function documented() {
  const ops = new Set();
  for (const [p, item] of Object.entries(doc.paths))
    for (const m of METHODS) if (item[m]) ops.add(`${m.toUpperCase()} ${p}`);
  return ops;
}

test('docs/openapi.json names every route the server registers, and only those', () => {
  const routes = printRoutes({ REEL_METRICS_TOKEN: 'a-metrics-token-of-24-chars' });
  assert.ok(routes.length > 50, `only ${routes.length} routes printed`);
  const ops = documented();
  const missing = [];
  const registered = new Set();
  for (const { method, pattern } of routes) {
    const p = openapiPath(pattern);
    const key = `${method} ${p}`;
    registered.add(key);
    if (ops.has(key)) continue;
    // A path that refuses every other method (Socket.IO's) says so once.
    if (doc.paths[p]?.['x-reel-other-methods']) continue;
    missing.push(`${method} ${pattern}`);
  }
  assert.deepEqual(
    missing,
    [],
    'routes the server registers that docs/openapi.json does not describe ' +
      '(add an operation under "paths", `:name` written `{name}`, `*` written `{path}`; docs/api-openapi.md)',
  );
  const stale = [...ops].filter((k) => !registered.has(k));
  assert.deepEqual(stale, [], 'operations in docs/openapi.json that the server does not register');
  assert.ok(registered.has('GET /socket.io/') && registered.has('PUT /socket.io/'), 'the Socket.IO routes were printed');
});

test('--print-routes follows the configuration: /metrics only with a metrics token', () => {
  const without = printRoutes().map((r) => `${r.method} ${r.pattern}`);
  assert.ok(!without.includes('GET /metrics'), 'no token: /metrics is not on the main router');
  assert.ok(without.includes('GET /api/openapi.json'));
  const withToken = printRoutes({ REEL_METRICS_TOKEN: 'a-metrics-token-of-24-chars' }).map((r) => `${r.method} ${r.pattern}`);
  assert.ok(withToken.includes('GET /metrics'));
});

test('docs/openapi.json is valid OpenAPI 3.1', async () => {
  assert.equal(doc.openapi, '3.1.0');
  const version = JSON.parse(
    fs.readFileSync(path.join(path.dirname(DOCUMENT), '..', 'node_modules/@apidevtools/swagger-parser/package.json'), 'utf8'),
  ).version;
  const [major, minor] = version.split('.').map(Number);
  assert.ok(major > 10 || (major === 10 && minor >= 1), `swagger-parser ${version} (3.1 needs 10.1 or later)`);
  await SwaggerParser.validate(structuredClone(doc)); // throws with the reasons
  // What swagger-parser does not check for 3.x (its spec validator is 2.0 only).
  assert.ok(/^[\x09\x0a\x0d\x20-\x7e]*$/.test(text), 'ASCII only (cmake/embed_openapi.cmake cuts it in byte chunks)');
  const ids = new Set();
  for (const [p, item] of Object.entries(doc.paths)) {
    const templated = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const m of METHODS) {
      const o = item[m];
      if (!o) continue;
      const where = `${m.toUpperCase()} ${p}`;
      assert.ok(o.operationId && !ids.has(o.operationId), `${where}: a unique operationId`);
      ids.add(o.operationId);
      assert.ok(o.summary, `${where}: a summary`);
      assert.ok(Object.keys(o.responses ?? {}).length > 0, `${where}: responses`);
      const resolve = (x) => (x.$ref ? doc.components.parameters[x.$ref.split('/').pop()] : x);
      const params = [...(item.parameters ?? []), ...(o.parameters ?? [])].map(resolve);
      for (const name of templated) {
        const declared = params.find((x) => x.in === 'path' && x.name === name);
        assert.ok(declared?.required === true, `${where}: path parameter {${name}} declared, required`);
      }
      for (const x of params.filter((x) => x.in === 'path'))
        assert.ok(templated.includes(x.name), `${where}: path parameter ${x.name} is in the path`);
    }
  }
  // The error shape of docs/API.md.
  assert.deepEqual(doc.components.schemas.Error.required, ['error']);
  assert.deepEqual(doc.components.schemas.Error.properties.error.required, ['code', 'message']);
});

test('GET /api/openapi.json serves the compiled-in document, without credentials, with an ETag', async () => {
  await withServer(async ({ port }) => {
    const base = `http://127.0.0.1:${port}/api/openapi.json`;
    const res = await fetch(base);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    const etag = res.headers.get('etag');
    assert.match(etag ?? '', /^"[0-9a-f]{32}"$/);
    assert.match(res.headers.get('cache-control') ?? '', /public/);
    assert.equal(await res.text(), text, 'the document of this build is docs/openapi.json');

    // Readable by API tools on any site (no credentials).
    const cross = await fetch(base, { headers: { Origin: 'https://tools.example' } });
    assert.equal(cross.headers.get('access-control-allow-origin'), '*');
    assert.equal(cross.headers.get('access-control-allow-credentials'), null);
    await cross.arrayBuffer();

    const again = await fetch(base, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    assert.equal(again.headers.get('etag'), etag);
    assert.equal(await again.text(), '');

    const head = await fetch(base, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('etag'), etag);
    assert.equal(Number(head.headers.get('content-length')), Buffer.byteLength(text));

    const stale = await fetch(base, { headers: { 'If-None-Match': '"0123"' } });
    assert.equal(stale.status, 200);
    await stale.arrayBuffer();

    // A stale credential does not matter: the route needs none.
    const withBadToken = await fetch(base, { headers: { Authorization: 'Bearer nope' } });
    assert.equal(withBadToken.status, 200);
    await withBadToken.arrayBuffer();
  });
});
