// Storyboard previews for a <video> with native controls (docs/api-storyboards.md).
// Native controls offer no hook on their seek bar, so a thin bar of our own,
// placed under the video, stands for the timeline: hovering it shows the
// storyboard's tile of that moment above the pointer, with the time; a click
// seeks there. Used by the app's player (views/player.js) and the embed and
// share pages (embed.js); a classic script, as those pages allow no inline
// script and load no modules. A video without a storyboard (one processed
// before storyboards: the WebVTT answers 404) gets no bar.
(function () {
  'use strict';

  // "00:01:02.500" or "01:02.500" → seconds; NaN for anything else.
  function seconds(text) {
    const m = /^(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})$/.exec(text.trim());
    if (!m) return NaN;
    return Number(m[1] || 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]) / 1000;
  }

  // The cues of a storyboard WebVTT: {start, end, url, x, y, w, h}, sprite
  // URLs resolved against `base` (the WebVTT's own URL).
  function parse(text, base) {
    const cues = [];
    for (const block of text.replace(/\r/g, '').split(/\n{2,}/)) {
      const lines = block.split('\n');
      const at = lines.findIndex((line) => line.includes('-->'));
      if (at < 0 || !lines[at + 1] || /^NOTE/.test(lines[0])) continue;
      const [from, to] = lines[at].split('-->');
      const start = seconds(from);
      const end = seconds(to.trim().split(/\s+/)[0]);
      const payload = lines[at + 1].trim();
      const hash = payload.indexOf('#xywh=');
      if (hash < 0 || !(end > start)) continue;
      const xywh = payload.slice(hash + 6).split(',').map(Number);
      if (xywh.length !== 4 || !xywh.every((n) => Number.isFinite(n) && n >= 0)) continue;
      const [x, y, w, h] = xywh;
      cues.push({ start, end, url: new URL(payload.slice(0, hash), base).href, x, y, w, h });
    }
    return cues.sort((a, b) => a.start - b.start);
  }

  // The cue showing time `t` (the last one whose start is at or before it).
  function cueAt(cues, t) {
    let lo = 0;
    let hi = cues.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (cues[mid].start <= t) lo = mid;
      else hi = mid - 1;
    }
    return cues[lo];
  }

  function clock(t) {
    const s = Math.max(0, Math.floor(t));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const ss = String(s % 60).padStart(2, '0');
    return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
  }

  function element(tag, className) {
    const el = document.createElement(tag);
    el.className = className;
    return el;
  }

  // Fetches the storyboard at `url` and, when there is one, puts its bar
  // after `anchor` (default: the video). Resolves to the bar, or null.
  async function attach(video, url, anchor) {
    let cues = [];
    try {
      const res = await fetch(url, { credentials: 'same-origin' });
      if (!res.ok) return null;
      cues = parse(await res.text(), new URL(url, document.baseURI).href);
    } catch {
      return null;
    }
    if (!cues.length || !video.isConnected) return null;
    const total = () => (Number.isFinite(video.duration) && video.duration > 0 ? video.duration : cues[cues.length - 1].end);

    const bar = element('div', 'storyboard-bar');
    bar.setAttribute('aria-hidden', 'true'); // the native controls seek for keyboards and screen readers
    bar.dataset.cues = String(cues.length);
    const played = element('div', 'storyboard-played');
    const preview = element('div', 'storyboard-preview');
    const tile = element('div', 'storyboard-tile');
    const time = element('span', 'storyboard-time');
    preview.append(tile, time);
    preview.hidden = true;
    bar.append(played, preview);

    function timeAt(clientX) {
      const box = bar.getBoundingClientRect();
      const f = box.width > 0 ? Math.min(1, Math.max(0, (clientX - box.left) / box.width)) : 0;
      return { t: f * total(), px: f * box.width, width: box.width };
    }

    function show(e) {
      const { t, px, width } = timeAt(e.clientX);
      const cue = cueAt(cues, t);
      tile.style.width = `${cue.w}px`;
      tile.style.height = `${cue.h}px`;
      tile.style.backgroundImage = `url("${cue.url.replace(/["\\]/g, '\\$&')}")`;
      tile.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
      time.textContent = clock(t);
      preview.hidden = false;
      preview.style.left = `${Math.min(Math.max(0, px - cue.w / 2), Math.max(0, width - cue.w))}px`;
      preview.dataset.time = t.toFixed(3);
      preview.dataset.sprite = cue.url;
      preview.dataset.xywh = [cue.x, cue.y, cue.w, cue.h].join(',');
    }

    bar.addEventListener('pointermove', show);
    bar.addEventListener('pointerenter', show);
    bar.addEventListener('pointerleave', () => {
      preview.hidden = true;
    });
    bar.addEventListener('click', (e) => {
      video.currentTime = timeAt(e.clientX).t;
    });
    video.addEventListener('timeupdate', () => {
      played.style.width = `${Math.min(100, (100 * video.currentTime) / total())}%`;
    });
    (anchor || video).after(bar);
    return bar;
  }

  window.reelStoryboard = { attach, parse };
})();
