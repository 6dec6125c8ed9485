// The player of the embed (/embed/:id) and share (/v/:id) pages: HLS through
// hls.js where MediaSource exists, native HLS (Safari), else the MP4. The
// server puts what it needs in the <video>'s data- attributes (the pages'
// policy allows no inline script): data-hls, data-mp4 (with the playback
// link's ?token= when there is one), data-storyboard (the storyboard's
// WebVTT, previews over a bar under the video: storyboard.js), data-autoplay
// and data-muted ("1").
// Captions: <track> elements on the MP4, hls.js's subtitle tracks on HLS,
// and a CC menu choosing one (or none).
// Keys: space or k play/pause, arrows seek 5 s, f fullscreen, m mute, c captions menu.
(function () {
  'use strict';
  const video = document.querySelector('video[data-hls]');
  if (!video) return;
  const data = video.dataset;
  const root = document.documentElement;

  let hls = null;
  let captions = [];

  function useMp4() {
    data.source = 'mp4';
    video.src = data.mp4;
    addTracks();
  }

  // The MP4 (and Safari's native HLS) show captions through <track>s.
  function addTracks() {
    if (data.source !== 'mp4' || video.querySelector('track')) return;
    captions.forEach(function (c) {
      const track = document.createElement('track');
      track.kind = 'subtitles';
      track.src = c.url;
      track.srclang = c.language;
      track.label = c.label;
      video.appendChild(track);
    });
  }

  // Shows the captions in `language` ('' for none).
  function showCaptions(language) {
    data.captions = language;
    if (hls) {
      const index = hls.subtitleTracks.findIndex(function (t) { return t.lang === language; });
      hls.subtitleDisplay = index >= 0;
      hls.subtitleTrack = index;
      return;
    }
    for (let i = 0; i < video.textTracks.length; i++) {
      const t = video.textTracks[i];
      if (t.kind === 'subtitles' || t.kind === 'captions') t.mode = t.language === language && language ? 'showing' : 'disabled';
    }
  }

  // The CC menu, once the video's captions are known (there are some).
  function captionMenu() {
    const menu = document.createElement('select');
    menu.className = 'cc-menu';
    menu.setAttribute('aria-label', 'Subtitles');
    menu.title = 'Subtitles (c)';
    menu.appendChild(new Option('CC off', ''));
    captions.forEach(function (c) { menu.appendChild(new Option(c.label, c.language)); });
    menu.addEventListener('change', function () { showCaptions(menu.value); });
    video.insertAdjacentElement('afterend', menu);
    return menu;
  }

  // The captions list, found from the MP4's URL (/api/stream/:id/video?token=...).
  function loadCaptions() {
    const m = /\/api\/stream\/([^/?#]+)\/video(\?[^#]*)?$/.exec(data.mp4 || '');
    if (!m || !window.fetch) return;
    fetch('/api/videos/' + m[1] + '/captions' + (m[2] || ''), { credentials: 'same-origin' })
      .then(function (res) { return res.ok ? res.json() : { captions: [] }; })
      .then(function (body) {
        captions = body.captions || [];
        if (!captions.length) return;
        addTracks();
        captionMenu();
      })
      .catch(function () {});
  }

  function attach() {
    if (window.Hls && window.Hls.isSupported()) {
      hls = new window.Hls();
      // hls.js sends this event and then selects the track it chose before it
      // (none): a language chosen earlier is selected once it is done.
      hls.on(window.Hls.Events.SUBTITLE_TRACKS_UPDATED, function () {
        queueMicrotask(function () {
          if (data.captions && hls) showCaptions(data.captions);
        });
      });
      hls.on(window.Hls.Events.ERROR, function (_event, info) {
        if (!info.fatal || !hls) return;
        hls.destroy();
        hls = null;
        useMp4();
        if (data.captions) showCaptions(data.captions);
        if (data.autoplay === '1') video.play().catch(function () {});
      });
      data.source = 'hls';
      hls.loadSource(data.hls);
      hls.attachMedia(video);
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      data.source = 'native-hls';
      video.src = data.hls;
    } else {
      useMp4();
    }
  }

  // The state, for people and tests alike: <html data-state="playing">.
  ['playing', 'pause', 'ended', 'waiting', 'error'].forEach(function (name) {
    video.addEventListener(name, function () {
      root.dataset.state = name === 'pause' ? 'paused' : name;
    });
  });

  function toggleFullscreen() {
    if (document.fullscreenElement) {
      document.exitFullscreen().catch(function () {});
    } else if (video.requestFullscreen) {
      video.requestFullscreen().catch(function () {});
    }
  }

  function seek(by) {
    const end = isFinite(video.duration) ? video.duration : Infinity;
    video.currentTime = Math.max(0, Math.min(end, video.currentTime + by));
  }

  document.addEventListener('keydown', function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey || e.target.tagName === 'SELECT') return;
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    switch (key) {
      case ' ':
      case 'k':
        if (video.paused) video.play().catch(function () {});
        else video.pause();
        break;
      case 'ArrowLeft':
        seek(-5);
        break;
      case 'ArrowRight':
        seek(5);
        break;
      case 'f':
        toggleFullscreen();
        break;
      case 'm':
        video.muted = !video.muted;
        break;
      case 'c': {
        const menu = document.querySelector('.cc-menu');
        if (!menu) return;
        menu.focus();
        break;
      }
      default:
        return;
    }
    e.preventDefault();
  });

  if (data.muted === '1') video.muted = true;
  attach();
  loadCaptions();
  if (window.reelStoryboard && data.storyboard) {
    // On the share page, under the frame that holds the video; on the embed page, under the video.
    const frame = video.parentElement && video.parentElement.classList.contains('frame') ? video.parentElement : video;
    window.reelStoryboard.attach(video, data.storyboard, frame).then(function (bar) {
      if (bar) document.body.classList.add('with-storyboard');
    });
  }
  if (data.autoplay === '1') {
    video.autoplay = true;
    video.play().catch(function () {});
  }
})();
