// The library: the organization's videos, live, and the uploader.
import { h, messageBox, notify, formatDuration, formatBytes, formatDate, formatViews } from '../dom.js';
import { media } from '../api.js';
import { library } from '../videos.js';
import { uploads } from '../uploads.js';
import { session, can } from '../session.js';
import { link } from '../router.js';

const STAGES = { probe: 'Inspecting', thumbnail: 'Making the poster', mp4: 'Encoding', hls: 'Encoding' };

export function statusText(video) {
  switch (video.status) {
    case 'uploading': return 'Uploading';
    case 'queued': return 'Queued for processing';
    case 'processing': {
      const p = video.progress;
      const text = p ? `${STAGES[p.stage] ?? 'Processing'} · ${Math.round(p.percent)}%` : 'Processing';
      return video.playable ? `Playable now · other qualities: ${text.toLowerCase()}` : text;
    }
    case 'ready': return 'Ready';
    case 'failed': return 'Processing failed';
    default: return video.status;
  }
}

// A progress bar for a video on its way to `ready` (null once there).
export function processingBar(video) {
  if (video.status === 'ready' || video.status === 'failed') return null;
  const value = video.status === 'processing' && video.progress ? video.progress.percent : null;
  // No value = indeterminate (queued, or processing before the first percent).
  return h('progress', { class: 'bar', max: 100, value: value ?? undefined, 'aria-label': `Processing ${video.title}` });
}

function card(video) {
  const ready = video.status === 'ready';
  const thumb = ready
    ? h('img', { src: media.poster(video.id, video.poster?.version), alt: '', loading: 'lazy', width: 320, height: 180 })
    : h('div', { class: `thumb-placeholder thumb-${video.status}` }, h('span', { 'aria-hidden': 'true' }, video.status === 'failed' ? '!' : '▶'));
  return h('a', { class: 'video-card', href: link(`/videos/${video.id}`), 'data-id': video.id },
    h('div', { class: 'thumb' }, thumb,
      ready && video.durationSec ? h('span', { class: 'duration' }, formatDuration(video.durationSec)) : null),
    h('div', { class: 'video-card-body' },
      h('h3', { class: 'video-title' }, video.title),
      h('p', { class: `status status-${video.status}` }, h('span', { class: 'dot', 'aria-hidden': 'true' }), statusText(video)),
      processingBar(video),
      h('p', { class: 'muted small' }, formatDate(video.createdAt), ' · ', h('span', { class: 'views' }, formatViews(video.viewCount)),
        video.visibility && video.visibility !== 'private'
          ? [' · ', h('span', { class: `visibility-badge visibility-${video.visibility}` }, video.visibility === 'public' ? 'Public' : 'Unlisted')]
          : null)));
}

function uploadText(item) {
  const video = item.videoId && library.get(item.videoId);
  switch (item.state) {
    case 'uploading': return `${uploadPercent(item)}% · ${formatBytes(item.sent)} of ${formatBytes(item.size)}`;
    case 'done': return video ? `Uploaded · ${statusText(video)}` : 'Uploaded; processing starts now.';
    case 'failed': return item.error;
    default: return 'Cancelled.';
  }
}

const uploadPercent = (item) => (item.state === 'done' ? 100 : item.size ? Math.floor((item.sent / item.size) * 100) : 0);

// One upload's row; update() refreshes its bar and text in place, so that a
// focused Cancel button keeps the focus while the bytes flow.
function uploadRow(item) {
  const bar = h('progress', { class: 'bar', max: 100, 'aria-label': `Upload of ${item.name}` });
  const text = h('p', { class: item.state === 'failed' ? 'upload-state error-text' : 'upload-state muted small' });
  const action = item.state === 'uploading'
    ? h('button', { type: 'button', class: 'btn btn-small', onclick: () => uploads.cancel(item), 'aria-label': `Cancel the upload of ${item.name}` }, 'Cancel')
    : item.state === 'done' && item.videoId ? h('a', { href: link(`/videos/${item.videoId}`), class: 'small' }, 'Open') : null;
  const row = {
    state: item.state,
    el: h('li', { class: `upload upload-${item.state}` }, h('div', { class: 'upload-head' }, h('span', { class: 'upload-name' }, item.name), action), bar, text),
    update() {
      bar.value = uploadPercent(item);
      text.textContent = uploadText(item);
    },
  };
  row.update();
  return row;
}

function uploader() {
  const input = h('input', { type: 'file', accept: 'video/*', multiple: true, hidden: true, id: 'file-input' });
  const zone = h('div', { class: 'dropzone', id: 'dropzone' },
    h('p', { class: 'dropzone-title' }, 'Drag and drop videos here'),
    h('p', { class: 'muted small' }, 'Several at once; an interrupted upload resumes when you add the same file again.'),
    h('button', { type: 'button', class: 'btn btn-primary', onclick: () => input.click() }, 'Choose files'),
    input);
  input.addEventListener('change', () => {
    uploads.add([...input.files]);
    input.value = '';
  });
  const list = h('ul', { class: 'uploads', 'aria-label': 'Uploads' });
  const clear = h('button', { type: 'button', class: 'btn btn-small btn-ghost', onclick: () => uploads.clearFinished() }, 'Clear finished');
  const listBox = h('div', { class: 'uploads-box' }, h('div', { class: 'uploads-head' }, h('h2', {}, 'Uploads'), clear), list);
  const resumable = h('div', { class: 'resumable' });

  async function showInterrupted() {
    const stored = await uploads.interrupted();
    resumable.replaceChildren(...(stored.length ? [
      h('p', {}, h('strong', {}, 'Unfinished uploads. '), 'Add the same file again to resume it, or discard it.'),
      h('ul', {}, stored.map((u) => h('li', {},
        h('span', {}, `${u.metadata?.filename ?? 'A file'} (${formatBytes(u.size)})`),
        h('button', {
          type: 'button', class: 'btn btn-small btn-ghost',
          onclick: async () => { await uploads.discard(u); showInterrupted(); },
        }, 'Discard')))),
    ] : []));
    resumable.hidden = stored.length === 0;
  }

  const rows = new Map();  // item → its row
  function renderList() {
    const items = uploads.all();
    let reorder = items.length !== list.children.length;
    items.forEach((item, i) => {
      let row = rows.get(item);
      if (row?.state !== item.state) {
        row = uploadRow(item);
        rows.set(item, row);
        reorder = true;
      } else {
        row.update();
      }
      if (list.children[i] !== row.el) reorder = true;
    });
    if (reorder) list.replaceChildren(...items.map((item) => rows.get(item).el));
    for (const item of rows.keys()) if (!items.includes(item)) rows.delete(item);
    listBox.hidden = items.length === 0;
    clear.hidden = !items.some((i) => i.state !== 'uploading');
  }
  renderList();
  showInterrupted().catch(() => {});
  const unsubscribeVideos = library.subscribe(renderList);
  const unsubscribe = uploads.subscribe((kind) => {
    renderList();
    if (kind === 'state') showInterrupted().catch(() => {});
  });

  // Files dropped anywhere on the page are taken; without this, a near miss
  // would make the browser navigate away to the file.
  let depth = 0;
  const hasFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes('Files');
  const onEnter = (e) => { if (hasFiles(e)) { depth++; zone.classList.add('dragging'); } };
  const onLeave = (e) => { if (hasFiles(e) && --depth <= 0) { depth = 0; zone.classList.remove('dragging'); } };
  const onOver = (e) => { if (hasFiles(e)) { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; } };
  const onDrop = (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    zone.classList.remove('dragging');
    const files = [...e.dataTransfer.files];
    if (files.length) uploads.add(files);
  };
  const events = { dragenter: onEnter, dragleave: onLeave, dragover: onOver, drop: onDrop };
  for (const [name, fn] of Object.entries(events)) window.addEventListener(name, fn);

  return {
    el: h('section', { class: 'uploader', 'aria-label': 'Upload videos' }, zone, resumable, listBox),
    cleanup() {
      unsubscribe();
      unsubscribeVideos();
      for (const [name, fn] of Object.entries(events)) window.removeEventListener(name, fn);
    },
  };
}

export function renderLibrary(main) {
  const message = messageBox();
  const grid = h('div', { class: 'grid', 'aria-live': 'off' });
  const count = h('p', { class: 'muted' });
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Load more');
  const empty = h('div', { class: 'empty', hidden: true },
    h('h2', {}, 'No videos yet'),
    h('p', { class: 'muted' }, can('member') ? 'Upload one above: it will be ready to stream in a moment.' : 'Videos uploaded by your team will appear here.'));
  const up = can('member') ? uploader() : null;
  const cards = new Map();

  function renderGrid() {
    const focusedId = document.activeElement?.closest?.('.video-card')?.dataset.id;
    cards.clear();
    const videos = library.all();
    grid.replaceChildren(...videos.map((v) => {
      const el = card(v);
      cards.set(v.id, el);
      return el;
    }));
    if (focusedId) cards.get(focusedId)?.focus();
    const n = videos.length;
    count.textContent = library.loaded ? `${n}${library.hasMore ? '+' : ''} video${n === 1 ? '' : 's'} in ${session.organization.name}` : '';
    empty.hidden = !library.loaded || n > 0;
    more.hidden = !library.hasMore;
  }

  function onChange(change) {
    const old = change.type === 'put' && cards.get(change.id);
    if (!old) return renderGrid();
    // Same video, new state: swap its card in place, keeping focus on it.
    const hadFocus = old.contains(document.activeElement);
    const fresh = card(library.get(change.id));
    old.replaceWith(fresh);
    cards.set(change.id, fresh);
    if (hadFocus) fresh.focus();
  }

  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      await library.loadMore();
    } catch (error) {
      notify(error.message, 'error');
    } finally {
      more.disabled = false;
    }
  });

  main.replaceChildren(
    h('div', { class: 'page-head' }, h('div', {}, h('h1', { tabindex: -1 }, 'Library'), count)),
    up?.el,
    h('section', { class: 'library', 'aria-label': 'Videos' }, message.el, grid, empty, h('div', { class: 'more' }, more)));
  renderGrid();
  const unsubscribe = library.subscribe(onChange);
  if (!library.loaded) {
    grid.replaceChildren(h('p', { class: 'muted' }, 'Loading videos…'));
    library.reload().catch((error) => {
      grid.replaceChildren();
      message.show(`The videos could not be loaded: ${error.message}`);
    });
  }
  return () => {
    unsubscribe();
    up?.cleanup();
  };
}
