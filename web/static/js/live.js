// The Socket.IO connection that keeps the library live. One socket at a
// time, joined to the current organization's room; the cookie authenticates it.
import { library } from './videos.js';

const EVENTS = ['video:created', 'video:progress', 'video:playable', 'video:ready', 'video:failed', 'video:deleted', 'video:updated'];

let socket = null;
let status = 'offline';  // 'connecting' | 'live' | 'offline'
const listeners = new Set();

export function onLiveStatus(fn) {
  listeners.add(fn);
  fn(status);
  return () => listeners.delete(fn);
}

function setStatus(next) {
  status = next;
  for (const fn of listeners) fn(status);
}

// Connects for `organizationId`; onSessionGone runs when the server refuses
// or ends the session (logged out elsewhere, expired).
export function connect(organizationId, onSessionGone) {
  disconnect();
  setStatus('connecting');
  const s = window.io({ auth: { organizationId } });
  socket = s;
  let connectedBefore = false;
  s.on('connect', () => {
    setStatus('live');
    // Events sent while we were away are lost: catch up from the API.
    if (connectedBefore) library.reload().catch(() => {});
    connectedBefore = true;
  });
  s.on('connect_error', (err) => {
    if (err.message === 'unauthorized') {
      setStatus('offline');
      onSessionGone();
    } else {
      setStatus('connecting');  // the client retries by itself
    }
  });
  s.on('disconnect', (reason) => {
    if (reason === 'io server disconnect') {
      setStatus('offline');
      onSessionGone();
    } else if (reason !== 'io client disconnect') {
      setStatus('connecting');
    }
  });
  for (const name of EVENTS) s.on(name, (payload) => library.apply(name, payload));
}

export function disconnect() {
  if (!socket) return;
  socket.off();
  socket.disconnect();
  socket = null;
  setStatus('offline');
}
