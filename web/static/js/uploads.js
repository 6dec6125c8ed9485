// Resumable uploads with tus-js-client against /api/uploads (tus 1.0).
// Each file is remembered in localStorage under a fingerprint (user,
// organization and file identity), so choosing the same file again after a
// reload or a dropped connection resumes where it stopped.
import { session } from './session.js';

// Absolute, so the upload URLs tus-js-client resolves against it and stores are too.
const ENDPOINT = new URL('/api/uploads', location.origin).href;
const items = [];  // {orgId, name, size, sent, state: 'uploading'|'done'|'failed'|'cancelled', error, videoId, upload}
const listeners = new Set();

export const uploads = {
  // The current organization's uploads (one started elsewhere goes on in the background).
  all: () => items.filter((i) => i.orgId === session.organization?.id),
  // fn(kind): 'progress' for bytes sent, 'state' when uploads come, go or change state.
  subscribe(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
  add: (files) => { for (const file of files) start(file); },
  cancel(item) {
    if (item.state !== 'uploading') return;
    item.state = 'cancelled';
    emit();
    // abort(true) also terminates the upload on the server, which drops the
    // unfinished video, and then forgets it locally.
    item.upload.abort(true).catch(() => {}).finally(() => emit());
  },
  // Signing out: stops the uploads in flight (they stay on the server, to be
  // resumed by adding the same file again) and forgets the list.
  stopAll() {
    for (const item of items) {
      if (item.state !== 'uploading') continue;
      item.state = 'cancelled';
      item.upload.abort(false);
    }
    items.length = 0;
    emit();
  },
  clearFinished() {
    const org = session.organization?.id;
    for (let i = items.length - 1; i >= 0; i--) if (items[i].orgId === org && items[i].state !== 'uploading') items.splice(i, 1);
    emit();
  },
  // Uploads of the current organization that a previous page left unfinished.
  async interrupted() {
    const prefix = `tus::${fingerprintPrefix()}`;
    const all = await window.tus.defaultOptions.urlStorage.findAllUploads();
    return all.filter((u) => u.urlStorageKey.startsWith(prefix)
      && !items.some((i) => i.state === 'uploading' && i.upload.url === u.uploadUrl));
  },
  async discard(stored) {
    await window.tus.defaultOptions.urlStorage.removeUpload(stored.urlStorageKey);
    await window.tus.Upload.terminate(stored.uploadUrl, { headers: orgHeaders() }).catch(() => {});
  },
};

function emit(kind = 'state') {
  for (const fn of listeners) fn(kind);
}

function fingerprintPrefix() {
  return `reel:${session.user.id}:${session.organization.id}:`;
}

function orgHeaders() {
  return { 'X-Organization-Id': session.organization.id };
}

async function start(file) {
  const item = { orgId: session.organization.id, name: file.name, size: file.size, sent: 0, state: 'uploading', error: null, videoId: null };
  items.unshift(item);
  if (file.type && !file.type.startsWith('video/')) {
    fail(item, `${file.name} is not a video (${file.type}).`);
    return;
  }
  const prefix = fingerprintPrefix();
  item.upload = new window.tus.Upload(file, {
    endpoint: ENDPOINT,
    headers: orgHeaders(),
    metadata: { filename: file.name, filetype: file.type || 'application/octet-stream' },
    fingerprint: (f) => Promise.resolve(prefix + [f.name, f.type, f.size, f.lastModified].join(':')),
    removeFingerprintOnSuccess: true,
    retryDelays: [0, 1000, 3000, 5000, 10000],
    onAfterResponse(req, res) {
      // The creation answer names the video the upload becomes.
      const id = res.getHeader('X-Video-Id');
      if (id && !item.videoId) {
        item.videoId = id;
        emit();
      }
    },
    onProgress(sent) {
      item.sent = sent;
      emit('progress');
    },
    onSuccess() {
      item.sent = item.size;
      item.state = 'done';
      emit();
    },
    onError(error) {
      if (item.state === 'uploading') fail(item, describe(error));
    },
  });
  emit();
  try {
    const previous = await item.upload.findPreviousUploads();
    if (item.state !== 'uploading') return;  // cancelled meanwhile
    if (previous.length) item.upload.resumeFromPreviousUpload(previous[0]);
    item.upload.start();
  } catch (error) {
    fail(item, describe(error));
  }
}

function fail(item, message) {
  item.state = 'failed';
  item.error = message;
  emit();
}

// tus errors carry the server's response; show its {"error": {"message"}}.
function describe(error) {
  const res = error?.originalResponse;
  if (res) {
    try {
      const message = JSON.parse(res.getBody())?.error?.message;
      if (message) return message;
    } catch { /* not JSON: fall through */ }
    if (res.getStatus()) return `The server refused the upload (${res.getStatus()}).`;
  }
  return 'The upload failed: the server could not be reached. Choose the file again to resume.';
}
