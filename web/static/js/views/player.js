// One video: the player (HLS through hls.js, MP4 as the fallback), a strip of
// frames to seek with, its details, editing and deletion.
import { h, messageBox, notify, confirmDialog, loadScript, formatDuration, formatBytes, formatDate, formatViews } from '../dom.js';
import { api, media } from '../api.js';
import { library } from '../videos.js';
import { can } from '../session.js';
import { navigate } from '../router.js';
import { statusText, processingBar } from './library.js';
import { openShareDialog, VISIBILITY } from './share.js';

// The MP4 shows captions through <track>s.
function addTracks(el, captions) {
  if (el.querySelector('track')) return;
  for (const c of captions) el.append(h('track', { kind: 'subtitles', src: c.url, srclang: c.language, label: c.label }));
}

// Shows the captions in `language` ('' for none): hls.js's subtitle track, or the <track>.
function showCaptions(el, player, language) {
  el.dataset.captions = language;
  const hls = player.hls;
  if (hls) {
    const index = hls.subtitleTracks.findIndex((t) => t.lang === language);
    hls.subtitleDisplay = index >= 0;
    hls.subtitleTrack = index;
    return;
  }
  for (const t of el.textTracks) {
    if (t.kind === 'subtitles' || t.kind === 'captions') t.mode = language && t.language === language ? 'showing' : 'disabled';
  }
}

// The CC menu: off, or one of the captions.
function captionMenu(el, player, captions) {
  if (!captions.length) return null;
  const menu = h('select', { class: 'cc-menu', 'aria-label': 'Subtitles', title: 'Subtitles' },
    h('option', { value: '' }, 'CC off'),
    captions.map((c) => h('option', { value: c.language }, c.label)));
  menu.addEventListener('change', () => showCaptions(el, player, menu.value));
  return menu;
}

// Plays `video` in the <video> element with its `captions`; returns a
// function that stops it. `player.hls` is hls.js while it plays.
async function attachPlayer(el, video, captions, player, early = false) {
  // hls.js plays HLS through MediaSource; without it, the MP4 (ranges) does.
  if (window.MediaSource) {
    try {
      await loadScript('/static/vendor/hls.min.js');
    } catch {
      // Fall through to the MP4.
    }
  }
  const Hls = window.Hls;
  if (Hls?.isSupported()) {
    // Early playback: the stream copy's playlist grows (an EVENT playlist),
    // which hls.js would join at its end; a viewer starts at the start.
    let hls = new Hls(early ? { startPosition: 0 } : undefined);
    player.hls = hls;
    // hls.js sends this event and then selects the track it chose before it
    // (none): a language chosen earlier is selected once it is done.
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, () => queueMicrotask(() => {
      if (el.dataset.captions && player.hls) showCaptions(el, player, el.dataset.captions);
    }));
    hls.on(Hls.Events.ERROR, (_, data) => {
      if (!data.fatal || !hls) return;
      hls.destroy();
      hls = null;
      player.hls = null;
      if (early) return;  // no MP4 yet: video:ready brings the player back
      el.dataset.source = 'mp4';
      el.src = media.mp4(video.id);
      addTracks(el, captions);
      if (el.dataset.captions) showCaptions(el, player, el.dataset.captions);
    });
    el.dataset.source = 'hls';
    hls.loadSource(media.hls(video.id));
    hls.attachMedia(el);
    return () => hls?.destroy();
  }
  el.dataset.source = 'mp4';
  el.src = media.mp4(video.id);
  addTracks(el, captions);
  return () => el.removeAttribute('src');
}

// The captions section (members): the list, with Delete, and an upload form.
// What the poster is, in words.
function posterSource(poster) {
  if (poster?.source === 'image') return 'An uploaded image.';
  if (poster?.source === 'time') return `The frame at ${formatDuration(poster.time) || '0:00'}.`;
  return 'A frame chosen automatically.';
}

// The poster: the frame the player shows now, an uploaded image (JPEG or
// PNG, 5 MiB at most), or the automatic frame again. `currentTime` reads
// the player's position; `onChange` gets the updated video.
function posterSection(video, currentTime, onChange) {
  const message = messageBox();
  const preview = h('img', { class: 'poster-preview', alt: 'The poster', width: 320, height: 180 });
  const source = h('p', { class: 'muted small poster-source' });
  const file = h('input', { id: 'poster-file', type: 'file', accept: 'image/jpeg,image/png', class: 'visually-hidden' });
  const frame = h('button', { type: 'button', class: 'btn' }, 'Use the current frame');
  const upload = h('label', { for: 'poster-file', class: 'btn', tabindex: 0 }, 'Upload an image…');
  const automatic = h('button', { type: 'button', class: 'btn' }, 'Automatic');

  function show(v) {
    preview.src = media.poster(v.id, v.poster?.version);
    source.textContent = posterSource(v.poster);
    automatic.disabled = !v.poster || v.poster.source === 'auto';
  }

  async function change(call) {
    message.clear();
    for (const b of [frame, automatic]) b.disabled = true;
    try {
      const { video: updated } = await call();
      show(updated);
      onChange(updated);
      notify('The poster was changed.', 'success');
    } catch (error) {
      message.show(error.message);
    } finally {
      frame.disabled = false;
      automatic.disabled = !video.poster || video.poster.source === 'auto';
    }
  }

  frame.addEventListener('click', () => change(() => api.posterAt(video.id, currentTime())));
  automatic.addEventListener('click', () => change(() => api.resetPoster(video.id)));
  upload.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); file.click(); }
  });
  file.addEventListener('change', () => {
    const chosen = file.files[0];
    file.value = '';
    if (!chosen) return;
    if (chosen.size > 5 * 1024 * 1024) {
      message.show(`“${chosen.name}” is ${formatBytes(chosen.size)}; a poster image is 5 MiB at most.`);
      return;
    }
    change(() => api.posterImage(video.id, chosen));
  });
  show(video);
  const section = h('div', { class: 'card poster-card' }, h('h2', {}, 'Poster'), preview, source, message.el,
    h('div', { class: 'actions' }, frame, upload, file, automatic));
  section.update = (v) => { video = v; show(v); };
  return section;
}

function captionsSection(video, onChange) {
  const message = messageBox();
  const list = h('ul', { class: 'captions-list' });
  const language = h('input', { id: 'caption-language', name: 'language', required: true, maxlength: 35, placeholder: 'en, pt-BR…', pattern: '[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*' });
  const label = h('input', { id: 'caption-label', name: 'label', maxlength: 100, placeholder: 'English' });
  const file = h('input', { id: 'caption-file', name: 'file', type: 'file', required: true, accept: '.vtt,.srt,text/vtt,application/x-subrip' });
  const save = h('button', { type: 'submit', class: 'btn' }, 'Upload captions');
  const form = h('form', { class: 'form captions-form' },
    h('div', { class: 'field' }, h('label', { for: 'caption-language' }, 'Language'), language),
    h('div', { class: 'field' }, h('label', { for: 'caption-label' }, 'Label'), label),
    h('div', { class: 'field' }, h('label', { for: 'caption-file' }, 'WebVTT or SRT file (2 MiB at most)'), file),
    h('div', { class: 'actions' }, save));

  async function refresh() {
    try {
      const { captions } = await api.captions(video.id);
      list.replaceChildren(...captions.map((c) => h('li', {},
        h('span', {}, `${c.label} (${c.language})`), ' ',
        h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Delete the ${c.label} captions`, onclick: (e) => remove(e, c) }, 'Delete'))));
      if (!captions.length) list.replaceChildren(h('li', { class: 'muted small' }, 'No captions yet.'));
    } catch (error) {
      message.show(error.message);
    }
  }

  async function remove(e, c) {
    e.target.disabled = true;
    try {
      await api.deleteCaptions(video.id, c.language);
      await refresh();
      onChange();
    } catch (error) {
      message.show(error.message);
      e.target.disabled = false;
    }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    message.clear();
    const chosen = file.files[0];
    if (!chosen) return;
    save.disabled = true;
    try {
      const type = /\.srt$/i.test(chosen.name) ? 'application/x-subrip' : 'text/vtt';
      await api.putCaptions(video.id, language.value.trim(), label.value.trim(), { data: chosen, type });
      form.reset();
      message.show('Captions saved.', 'success');
      await refresh();
      onChange();
    } catch (error) {
      message.show(error.message);
    } finally {
      save.disabled = false;
    }
  });
  refresh();
  return h('section', { class: 'card', 'aria-labelledby': 'captions-heading' },
    h('h2', { id: 'captions-heading' }, 'Captions'), message.el, list, form);
}

// The storyboard's hover previews, in a bar put after `spot` (web/static/storyboard.js).
async function attachStoryboard(el, video, spot) {
  try {
    await loadScript('/static/storyboard.js');
  } catch {
    return;
  }
  await window.reelStoryboard?.attach(el, media.storyboard(video.id), spot);
}

function frameStrip(el, video) {
  const duration = video.durationSec ?? 0;
  if (!duration) return null;
  const count = Math.min(12, Math.max(4, Math.round(duration / 10)));
  const times = Array.from({ length: count }, (_, i) => (duration * (i + 0.5)) / count);
  // Whole seconds would repeat on a short clip.
  const label = (t) => (duration < 10 ? `${t.toFixed(1)} s` : formatDuration(Math.floor(t)));
  const buttons = times.map((t) => h('button', {
    type: 'button', class: 'frame', 'aria-label': `Play from ${label(t)}`,
    onclick: () => {
      el.currentTime = t;
      el.play().catch(() => {});
    },
  }, h('img', { src: media.frame(video.id, t, 160), alt: '', loading: 'lazy', width: 160, height: 90 }),
  h('span', { class: 'frame-time', 'aria-hidden': 'true' }, label(t))));
  // Marks the frame the playhead is in.
  el.addEventListener('timeupdate', () => {
    const i = Math.min(count - 1, Math.floor((el.currentTime / duration) * count));
    buttons.forEach((b, j) => b.classList.toggle('current', i === j));
  });
  return h('div', { class: 'strip', role: 'group', 'aria-label': 'Jump to a moment' }, buttons);
}

function details(video) {
  const rows = [
    ['Status', statusText(video)],
    ['Duration', formatDuration(video.durationSec)],
    ['Resolution', video.width ? `${video.width} × ${video.height}` : ''],
    ['Codecs', [video.videoCodec, video.audioCodec].filter(Boolean).join(' / ')],
    ['Renditions', (video.renditions ?? []).map((r) => r.name).join(', ')],
    ['Size', formatBytes(video.sizeBytes)],
    ['File', video.originalFilename],
    ['Uploaded', formatDate(video.createdAt)],
  ].filter(([, value]) => value);
  return h('dl', { class: 'details' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function editForm(video) {
  const message = messageBox();
  const title = h('input', { id: 'edit-title', name: 'title', required: true, maxlength: 200, value: video.title });
  const description = h('textarea', { id: 'edit-description', name: 'description', rows: 4, maxlength: 5000, value: video.description ?? '' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save changes');
  const form = h('form', { class: 'form card', 'aria-labelledby': 'edit-heading' },
    h('h2', { id: 'edit-heading' }, 'Edit'),
    message.el,
    h('div', { class: 'field' }, h('label', { for: 'edit-title' }, 'Title'), title),
    h('div', { class: 'field' }, h('label', { for: 'edit-description' }, 'Description'), description),
    h('div', { class: 'actions' }, save));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    message.clear();
    save.disabled = true;
    try {
      const res = await api.updateVideo(video.id, { title: title.value, description: description.value });
      library.put(res.video);
      message.show('Saved.', 'success');
    } catch (error) {
      message.show(error.message);
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

// The Download link for the organization's default download; with several
// offered, a menu picks which (docs/api-downloads.md).
function downloadControl(offers) {
  if (!offers.length) return '';
  const label = (o) => `${o.rendition === 'source' ? 'Original' : o.rendition} (${o.width}×${o.height})`;
  const link = h('a', { class: 'btn', href: offers[0].url, download: '', title: `Download ${label(offers[0])}` }, 'Download');
  if (offers.length === 1) return link;
  const pick = h('select', {
    class: 'download-pick', 'aria-label': 'Download quality',
    onchange: () => {
      link.href = offers[pick.selectedIndex].url;
      link.title = `Download ${label(offers[pick.selectedIndex])}`;
    },
  }, offers.map((o) => h('option', {}, label(o))));
  return h('span', { class: 'download' }, link, pick);
}

export function renderPlayer(main, { id }) {
  let video = library.get(id);
  let stopPlayer = null;
  let shownStatus = null;
  let resumeAt = 0;  // where the early player was when the video became ready
  const stage = h('div', { class: 'stage' });
  const scrub = h('div', { class: 'storyboard-box' });
  const strip = h('div', { class: 'strip-box' });
  const heading = h('h1', { class: 'player-title', tabindex: -1 });
  const share = h('button', { type: 'button', class: 'btn', 'aria-haspopup': 'dialog', onclick: () => openShareDialog(video) }, 'Share');
  const download = h('span', { class: 'download-box' });
  const meta = h('p', { class: 'muted small player-meta' });
  const description = h('p', { class: 'description' });
  const info = h('div', { class: 'card' });
  const side = h('aside', { class: 'player-side' }, info);
  const actions = h('div', { class: 'card danger-zone' });
  const back = h('a', { href: '#/library', class: 'back', 'aria-label': 'Back to the Library' }, '← Library');

  // What the stage shows: 'early' while processing with an early rendition.
  const playState = (v) => (v.status === 'ready' ? 'ready' : v.playable ? 'early' : v.status);

  function showStage() {
    resumeAt = stage.querySelector('video')?.currentTime ?? 0;
    stopPlayer?.();
    stopPlayer = null;
    strip.replaceChildren();
    scrub.replaceChildren();
    download.replaceChildren();
    if (video.status === 'ready') {
      api.downloads(video.id).then((r) => download.replaceChildren(downloadControl(r.downloads)), () => {});
      const el = h('video', { controls: true, playsinline: true, preload: 'metadata', poster: media.poster(video.id, video.poster?.version), 'aria-label': video.title });
      stage.replaceChildren(el);
      const spot = h('span', { hidden: true });
      scrub.replaceChildren(spot);
      attachStoryboard(el, video, spot);
      strip.replaceChildren(frameStrip(el, video) ?? '');
      let cancelled = false;
      stopPlayer = () => { cancelled = true; };
      const player = { hls: null };
      api.captions(video.id).then((r) => r.captions, () => []).then(async (captions) => {
        if (cancelled) return;
        const menu = captionMenu(el, player, captions);
        if (menu) stage.append(menu);
        const stop = await attachPlayer(el, video, captions, player);
        if (resumeAt > 0) el.addEventListener('loadedmetadata', () => { el.currentTime = resumeAt; }, { once: true });
        if (cancelled) stop();
        else stopPlayer = stop;
      });
    } else if (video.playable) {
      // Early playback: the stream copy plays while the other qualities are made.
      const el = h('video', { controls: true, playsinline: true, preload: 'metadata', 'aria-label': video.title });
      stage.replaceChildren(el);
      scrub.replaceChildren(h('p', { class: 'muted small early-note', role: 'status' }, statusText(video)));
      let cancelled = false;
      stopPlayer = () => { cancelled = true; };
      attachPlayer(el, video, [], { hls: null }, true).then((stop) => {
        if (cancelled) stop();
        else stopPlayer = stop;
      });
    } else if (video.status === 'failed') {
      stage.replaceChildren(h('div', { class: 'stage-status' },
        h('p', { class: 'stage-title' }, 'Processing failed'),
        h('p', {}, video.error ?? 'The reason is unknown.'),
        can('member') ? h('button', { type: 'button', class: 'btn btn-primary', onclick: reprocess }, 'Try again') : null));
    } else {
      stage.replaceChildren(h('div', { class: 'stage-status' },
        h('p', { class: 'stage-title', role: 'status' }, statusText(video)),
        processingBar(video)));
    }
  }

  async function reprocess(e) {
    e.target.disabled = true;
    try {
      library.put((await api.reprocess(video.id)).video);
    } catch (error) {
      notify(error.message, 'error');
      e.target.disabled = false;
    }
  }

  async function remove(e) {
    const ok = await confirmDialog({
      title: 'Delete this video?',
      message: `“${video.title}” and all its renditions will be removed for everyone. This cannot be undone.`,
      confirmLabel: 'Delete',
      danger: true,
    });
    if (!ok) return;
    e.target.disabled = true;
    try {
      await api.deleteVideo(video.id);
      library.remove(video.id);
      notify(`Deleted “${video.title}”.`, 'success');
      navigate('/library');
    } catch (error) {
      notify(error.message, 'error');
      e.target.disabled = false;
    }
  }

  function update() {
    document.title = `${video.title} · reel`;
    heading.textContent = video.title;
    const parts = [formatDate(video.createdAt), formatDuration(video.durationSec)].filter(Boolean);
    meta.replaceChildren(parts.join(' · '), parts.length ? ' · ' : '', h('span', { class: 'views' }, formatViews(video.viewCount)),
      ' · ', h('span', { class: `visibility-badge visibility-${video.visibility}` }, VISIBILITY[video.visibility]?.label ?? video.visibility));
    const el = stage.querySelector('video');
    if (el) el.poster = media.poster(video.id, video.poster?.version);
    posterCard?.update(video);
    description.textContent = video.description ?? '';
    description.hidden = !video.description;
    info.replaceChildren(h('h2', {}, 'Details'), details(video));
    // Playback restarts only when the video changes state, not on edits.
    const state = playState(video);
    if (state !== shownStatus) {
      shownStatus = state;
      showStage();
    } else if (state === 'early') {
      scrub.querySelector('.early-note')?.replaceChildren(statusText(video));  // progress, the player plays on
    } else if (state !== 'ready' && state !== 'failed') {
      showStage();  // progress
    }
  }

  let posterCard = null;
  function mount() {
    const editable = can('member');
    if (editable && video.status === 'ready') {
      const currentTime = () => stage.querySelector('video')?.currentTime ?? 0;
      posterCard = posterSection(video, currentTime, (v) => library.put(v));
    }
    if (editable) {
      actions.replaceChildren(h('h2', {}, 'Delete'),
        h('p', { class: 'muted small' }, 'Removes the video and its files for everyone.'),
        h('button', { type: 'button', class: 'btn btn-danger', onclick: remove }, 'Delete video'));
      side.append(editForm(video), posterCard ?? '', captionsSection(video, () => {
        if (video.status === 'ready') showStage();  // the player picks the change up
      }), actions);
    }
    main.replaceChildren(back, h('div', { class: 'player-layout' },
      h('div', { class: 'player-main' }, stage, scrub, strip, h('div', { class: 'player-head' }, heading, h('span', { class: 'player-buttons' }, download, share)), meta, description),
      side));
    update();
  }

  const unsubscribe = library.subscribe((change) => {
    if (change.type === 'remove' && change.id === id) {
      stopPlayer?.();
      main.replaceChildren(back, h('div', { class: 'empty' }, h('h1', { tabindex: -1 }, 'This video was deleted'),
        h('p', { class: 'muted' }, 'Someone in your organization deleted it.')));
    } else if (change.type === 'put' && change.id === id) {
      video = library.get(id);
      update();
    }
  });

  if (video) {
    mount();
  } else {
    main.replaceChildren(back, h('p', { class: 'muted' }, 'Loading…'));
    library.fetch(id).then((v) => {
      video = v;
      mount();
      heading.focus();
    }, (error) => {
      const text = error.status === 404 ? 'This video does not exist, or it belongs to another organization.' : error.message;
      main.replaceChildren(back, h('div', { class: 'empty' }, h('h1', { tabindex: -1 }, 'Video not found'), h('p', { role: 'alert' }, text)));
    });
  }
  return () => {
    unsubscribe();
    stopPlayer?.();
  };
}
