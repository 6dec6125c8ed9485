// The current organization's videos, loaded page by page and kept up to date
// by the live events. Views subscribe and get told which video changed.
import { api } from './api.js';

const byId = new Map();
const listeners = new Set();
let nextCursor = null;
let loaded = false;
// Bumped by reset(), so a page requested for the previous organization is dropped.
let generation = 0;
// Videos changed by live events while a page was loading: the page's copy
// is older, so it must not overwrite them.
let touchedDuringLoad = null;

export const library = {
  get: (id) => byId.get(id) ?? null,
  // Newest first, like the API lists them.
  all: () => [...byId.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0)),
  get loaded() { return loaded; },
  get hasMore() { return nextCursor !== null; },

  subscribe(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },

  // Empties the list (another organization, or signed out).
  reset() {
    generation++;
    byId.clear();
    nextCursor = null;
    loaded = false;
    emit({ type: 'reset' });
  },

  // Loads the first page again (after a reset or a reconnect that may have missed events).
  async reload() {
    nextCursor = null;
    await loadPage(null, true);
  },

  async loadMore() {
    if (nextCursor) await loadPage(nextCursor, false);
  },

  // A single video fetched on its own (the player opened by its link).
  async fetch(id) {
    const { video } = await api.video(id);
    put(video);
    return video;
  },

  // Applies a Socket.IO event (see docs/API.md, Realtime).
  apply(event, payload) {
    switch (event) {
      case 'video:created':
      case 'video:playable':
      case 'video:ready':
      case 'video:updated':
        put(payload.video);
        break;
      case 'video:progress':
        patch(payload.id, { status: 'processing', progress: { stage: payload.stage, percent: payload.percent } });
        break;
      case 'video:failed':
        patch(payload.id, { status: 'failed', progress: null, error: payload.error });
        break;
      case 'video:deleted':
        remove(payload.id);
        break;
    }
  },

  put,
  remove,
};

function emit(change) {
  for (const fn of listeners) fn(change);
}

function put(video) {
  touchedDuringLoad?.add(video.id);
  byId.set(video.id, video);
  emit({ type: 'put', id: video.id });
}

function patch(id, fields) {
  const video = byId.get(id);
  if (video) put({ ...video, ...fields });
}

function remove(id) {
  touchedDuringLoad?.add(id);
  if (byId.delete(id)) emit({ type: 'remove', id });
}

async function loadPage(cursor, first) {
  const touched = new Set();
  const started = generation;
  touchedDuringLoad = touched;
  try {
    const page = await api.videos({ cursor });
    if (started !== generation) return;
    if (first) {
      // Keep what events told us meanwhile; drop what is gone from the first page.
      for (const id of byId.keys()) if (!touched.has(id)) byId.delete(id);
    }
    for (const video of page.videos) if (!touched.has(video.id)) byId.set(video.id, video);
    nextCursor = page.nextCursor;
    loaded = true;
    emit({ type: 'reset' });
  } finally {
    if (touchedDuringLoad === touched) touchedDuringLoad = null;
  }
}
