// The Node.js peer of the benchmarks: the seed design (Express + a database
// + socket.io + range streaming with fs.createReadStream) with MongoDB
// replaced by better-sqlite3, answering the routes the scenarios touch with
// reel's paths and JSON shapes (docs/API.md):
//   GET /healthz; POST /api/auth/register, /api/auth/login;
//   GET, POST /api/videos (raw body), PATCH /api/videos/:id;
//   GET /api/stream/:id/video (one range); socket.io, one room per organization.
// Sessions are looked up in the database on every request, as the seed did;
// reel keeps them in memory for up to a minute.
// Passwords: scrypt N=2^16 r=4 p=1 (32 MiB) on libuv's pool, about 70 ms on
// the bench machine, like reel's argon2id t=3 m=64 MiB (about 75 ms).
// Usage: node app.mjs PORT DATA_DIR
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import cookieParser from 'cookie-parser';
import cors from 'cors';
import express from 'express';
import helmet from 'helmet';
import { Server } from 'socket.io';

const [port, dataDir] = [Number(process.argv[2] || 8081), process.argv[3] || './data-node'];
const scrypt = promisify(crypto.scrypt);
const SCRYPT = { N: 65536, r: 4, p: 1, maxmem: 64 * 1024 * 1024 };
const SESSION_TTL_S = 30 * 24 * 3600;

fs.mkdirSync(path.join(dataDir, 'tmp'), { recursive: true });
const db = new Database(path.join(dataDir, 'peer.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('foreign_keys = ON');
db.exec(`
  CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    password_hash TEXT NOT NULL, created_at TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS organizations (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS memberships (
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (organization_id, user_id));
  CREATE INDEX IF NOT EXISTS memberships_by_user ON memberships(user_id, created_at);
  CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, expires_at TEXT NOT NULL, revoked_at TEXT);
  CREATE TABLE IF NOT EXISTS videos (id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    title TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, progress_stage TEXT,
    progress_percent REAL, error TEXT, original_filename TEXT NOT NULL, content_type TEXT NOT NULL,
    size_bytes INTEGER NOT NULL, duration_sec REAL, width INTEGER, height INTEGER, video_codec TEXT, audio_codec TEXT,
    renditions TEXT NOT NULL DEFAULT '[]', created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, ready_at TEXT,
    visibility TEXT NOT NULL DEFAULT 'private', view_count INTEGER NOT NULL DEFAULT 0, poster_time REAL,
    poster_image INTEGER NOT NULL DEFAULT 0, poster_version INTEGER NOT NULL DEFAULT 0);
  CREATE INDEX IF NOT EXISTS videos_by_org ON videos(organization_id, created_at, id);`);

const sql = {
  insertUser: db.prepare('INSERT INTO users VALUES (?, ?, ?, ?, ?)'),
  insertOrg: db.prepare('INSERT INTO organizations VALUES (?, ?, ?)'),
  insertMembership: db.prepare('INSERT INTO memberships VALUES (?, ?, ?, ?)'),
  insertSession: db.prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, ?, NULL)'),
  userByEmail: db.prepare('SELECT * FROM users WHERE email = ?'),
  sessionUser: db.prepare(`SELECT u.id, u.email, u.name, u.created_at FROM sessions s JOIN users u ON u.id = s.user_id
    WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > ?`),
  memberships: db.prepare(`SELECT o.id, o.name, o.created_at, m.role FROM memberships m
    JOIN organizations o ON o.id = m.organization_id WHERE m.user_id = ? ORDER BY m.created_at, m.rowid`),
  listVideos: db.prepare('SELECT * FROM videos WHERE organization_id = ? ORDER BY created_at DESC, id DESC LIMIT ?'),
  videoById: db.prepare('SELECT * FROM videos WHERE id = ?'),
  insertVideo: db.prepare(`INSERT INTO videos (id, organization_id, title, description, status, original_filename,
    content_type, size_bytes, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)`),
  updateText: db.prepare(`UPDATE videos SET title = COALESCE(?, title), description = COALESCE(?, description),
    updated_at = ? WHERE organization_id = ? AND id = ?`),
};

const randomId = (bytes = 12) => crypto.randomBytes(bytes).toString('base64url');
const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex');
const now = () => new Date().toISOString();
const videoDir = (orgId, id) => path.join(dataDir, 'orgs', orgId, 'videos', id);

class HttpError extends Error {
  constructor(status, code, message) {
    super(message);
    Object.assign(this, { status, code });
  }
}
const badRequest = (field) => new HttpError(400, 'bad_request', `The field "${field}" is missing or invalid.`);

async function hashPassword(password) {
  const salt = crypto.randomBytes(16);
  const key = await scrypt(password, salt, 32, SCRYPT);
  return `scrypt$${salt.toString('base64url')}$${key.toString('base64url')}`;
}
async function verifyPassword(stored, password) {
  const [, salt, key] = stored.split('$');
  const got = await scrypt(password, Buffer.from(salt, 'base64url'), 32, SCRYPT);
  return crypto.timingSafeEqual(got, Buffer.from(key, 'base64url'));
}

const userJson = (u) => ({ id: u.id, email: u.email, name: u.name, createdAt: u.created_at });
const orgJson = (o) => ({ id: o.id, name: o.name, role: o.role, createdAt: o.created_at });
function videoJson(v) {
  const ready = v.status === 'ready';
  const base = `/api/stream/${v.id}`;
  return {
    id: v.id, organizationId: v.organization_id, title: v.title, description: v.description, status: v.status,
    visibility: v.visibility, viewCount: v.view_count,
    progress: v.progress_stage ? { stage: v.progress_stage, percent: v.progress_percent ?? 0 } : null,
    error: v.error, originalFilename: v.original_filename, sizeBytes: v.size_bytes, durationSec: v.duration_sec,
    width: v.width, height: v.height, videoCodec: v.video_codec, audioCodec: v.audio_codec,
    renditions: JSON.parse(v.renditions),
    thumbnailUrl: ready ? `${base}/thumbnail.jpg` : null, streamUrl: ready ? `${base}/video` : null,
    playable: ready,
    hlsUrl: ready ? `${base}/hls/master.m3u8` : null, storyboardUrl: ready ? `${base}/storyboard.vtt` : null,
    poster: {
      source: v.poster_image ? 'image' : v.poster_time != null ? 'time' : 'auto', time: v.poster_time,
      version: v.poster_version,
    },
    createdBy: v.created_by, createdAt: v.created_at, updatedAt: v.updated_at, readyAt: v.ready_at,
  };
}

// The signed-in user and their organizations for a token, or null.
function principal(token) {
  if (!token) return null;
  const user = sql.sessionUser.get(sha256(token), now());
  return user && { user, memberships: sql.memberships.all(user.id) };
}
function newSession(res, userId) {
  const token = randomId(32);
  const created = new Date();
  const expires = new Date(created.getTime() + SESSION_TTL_S * 1000);
  sql.insertSession.run(randomId(), userId, sha256(token), created.toISOString(), expires.toISOString());
  res.cookie('reel_session', token, { httpOnly: true, sameSite: 'lax', maxAge: SESSION_TTL_S * 1000 });
  return token;
}

// Middleware: req.principal from the Bearer token or the session cookie.
function requireUser(req, res, next) {
  const header = req.get('authorization');
  const token = header ? /^Bearer (.+)$/i.exec(header)?.[1] : req.cookies.reel_session;
  req.principal = principal(token);
  if (!req.principal) throw new HttpError(401, 'unauthorized', 'Sign in first.');
  next();
}
// Middleware: req.org, the organization the request acts in.
function requireOrg(req, res, next) {
  const named = req.get('x-organization-id');
  const { memberships } = req.principal;
  req.org = named ? memberships.find((m) => m.id === named) : memberships[0];
  if (!req.org) throw new HttpError(403, 'forbidden', 'You are not a member of this organization.');
  next();
}
const canWrite = (org) => ['owner', 'admin', 'member'].includes(org.role);

const app = express();
app.use(helmet());
app.use(cors({ origin: [], credentials: true }));
app.use(cookieParser());
app.use(express.json({ limit: '1mb' }));

app.get('/healthz', (req, res) => res.json({ status: 'ok' }));

app.post('/api/auth/register', async (req, res) => {
  const { email, password, name, organizationName } = req.body ?? {};
  if (typeof email !== 'string' || !email.includes('@')) throw badRequest('email');
  if (typeof password !== 'string' || password.length < 8) throw badRequest('password');
  if (typeof name !== 'string' || !name) throw badRequest('name');
  if (typeof organizationName !== 'string' || !organizationName) throw badRequest('organizationName');
  const hash = await hashPassword(password);
  const t = now();
  const user = { id: randomId(), email: email.trim().toLowerCase(), name, created_at: t };
  const org = { id: randomId(), name: organizationName, role: 'owner', created_at: t };
  let token;
  try {
    db.transaction(() => {
      sql.insertUser.run(user.id, user.email, name, hash, t);
      sql.insertOrg.run(org.id, org.name, t);
      sql.insertMembership.run(org.id, user.id, 'owner', t);
      token = newSession(res, user.id);
    })();
  } catch (e) {
    if (e.code === 'SQLITE_CONSTRAINT_UNIQUE') throw new HttpError(409, 'conflict', 'That email is taken.');
    throw e;
  }
  res.status(201).set('Cache-Control', 'no-store').json({ user: userJson(user), organization: orgJson(org), token });
});

app.post('/api/auth/login', async (req, res) => {
  const { email, password } = req.body ?? {};
  if (typeof email !== 'string') throw badRequest('email');
  if (typeof password !== 'string' || !password) throw badRequest('password');
  const user = sql.userByEmail.get(email.trim().toLowerCase());
  if (!user || !(await verifyPassword(user.password_hash, password)))
    throw new HttpError(401, 'unauthorized', 'The email or password is wrong.');
  const token = newSession(res, user.id);
  const organizations = sql.memberships.all(user.id).map(orgJson);
  res.set('Cache-Control', 'no-store').json({ user: userJson(user), organizations, token });
});

app.get('/api/videos', requireUser, requireOrg, (req, res) => {
  const limit = req.query.limit === undefined ? 20 : Number(req.query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new HttpError(400, 'bad_request', 'Bad "limit".');
  const rows = sql.listVideos.all(req.org.id, limit + 1);
  const last = rows.length > limit ? rows[limit - 1] : null;
  const nextCursor = last && Buffer.from(`${last.created_at}|${last.id}`).toString('hex');
  res.set('Cache-Control', 'no-store').json({ videos: rows.slice(0, limit).map(videoJson), nextCursor });
});

// Raw-body upload (Content-Type video/* or application/octet-stream),
// streamed to a temp file, flushed to disk, then renamed into place.
app.post('/api/videos', requireUser, requireOrg, async (req, res) => {
  if (!canWrite(req.org)) throw new HttpError(403, 'forbidden', 'Your role does not allow uploads.');
  const type = (req.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (!/^video\/.+/.test(type) && type !== 'application/octet-stream')
    throw new HttpError(415, 'unsupported_media_type', 'Upload a raw body with Content-Type video/*.');
  const tmp = path.join(dataDir, 'tmp', `${randomId()}.part`);
  try {
    await pipeline(req, fs.createWriteStream(tmp, { flush: true }));
    const { size } = await fs.promises.stat(tmp);
    if (size === 0) throw new HttpError(400, 'bad_request', 'The uploaded file is empty.');
    const id = randomId();
    const dir = videoDir(req.org.id, id);
    await fs.promises.mkdir(dir, { recursive: true });
    await fs.promises.rename(tmp, path.join(dir, 'original'));
    const filename = path.basename(String(req.query.filename ?? 'upload'));
    const t = now();
    sql.insertVideo.run(id, req.org.id, String(req.query.title ?? 'Untitled'), String(req.query.description ?? ''),
      filename, type, size, req.principal.user.id, t, t);
    const video = videoJson(sql.videoById.get(id));
    io.to(`org:${req.org.id}`).emit('video:created', { video });
    res.status(201).location(`/api/videos/${id}`).json({ video });
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
});

app.patch('/api/videos/:id', requireUser, requireOrg, (req, res) => {
  if (!canWrite(req.org)) throw new HttpError(403, 'forbidden', 'Your role does not allow this.');
  const { title, description } = req.body ?? {};
  if (title === undefined && description === undefined) throw badRequest('title');
  if (!sql.updateText.run(title ?? null, description ?? null, now(), req.org.id, req.params.id).changes)
    throw new HttpError(404, 'not_found', 'No such video.');
  const video = videoJson(sql.videoById.get(req.params.id));
  io.to(`org:${req.org.id}`).emit('video:updated', { video });
  res.json({ video });
});

// The MP4 of a ready video, whole or one byte range (bytes=a-b, a-, -n).
app.get('/api/stream/:id/video', requireUser, async (req, res) => {
  const v = sql.videoById.get(req.params.id);
  if (!v || !req.principal.memberships.some((m) => m.id === v.organization_id))
    throw new HttpError(404, 'not_found', 'No such video.');
  if (v.status !== 'ready') throw new HttpError(409, 'conflict', 'The video is not ready to play yet.');
  const file = path.join(videoDir(v.organization_id, v.id), 'video.mp4');
  const { size, mtime } = await fs.promises.stat(file);
  res.set({ 'Accept-Ranges': 'bytes', 'Content-Type': 'video/mp4', 'Last-Modified': mtime.toUTCString() });
  let start = 0;
  let end = size - 1;
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.get('range') ?? '');
  if (range && (range[1] || range[2])) {
    if (range[1]) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(Number(range[2]), size - 1);
    } else {
      start = Math.max(0, size - Number(range[2]));
    }
    if (start >= size || start > end) {
      res.status(416).set('Content-Range', `bytes */${size}`).end();
      return;
    }
    res.status(206).set('Content-Range', `bytes ${start}-${end}/${size}`);
  }
  res.set('Content-Length', String(end - start + 1));
  await pipeline(fs.createReadStream(file, { start, end }), res).catch(() => res.destroy());
});

app.use((req, res) => {
  res.status(404).json({ error: { code: 'not_found', message: 'No such resource.' } });
});
app.use((err, req, res, next) => {
  if (res.headersSent) return next(err);
  const status = err instanceof HttpError ? err.status : err.status ?? 500;
  const code = err instanceof HttpError ? err.code : status === 500 ? 'internal' : 'bad_request';
  if (status === 500) console.error(err);
  res.status(status).json({ error: { code, message: status === 500 ? 'Internal error.' : err.message } });
});

const server = app.listen(port, '127.0.0.1', () => console.log(`listening port=${server.address().port}`));
const io = new Server(server, { cors: { origin: false } });
// A socket authenticates with auth.token like an API request and joins its
// organization's room (auth.organizationId picks one, else the oldest).
io.use((socket, next) => {
  const p = principal(socket.handshake.auth?.token);
  const named = socket.handshake.auth?.organizationId;
  const org = p && (named ? p.memberships.find((m) => m.id === named) : p.memberships[0]);
  if (!org) return next(new Error('unauthorized'));
  socket.data.orgId = org.id;
  next();
});
io.on('connection', (socket) => socket.join(`org:${socket.data.orgId}`));
