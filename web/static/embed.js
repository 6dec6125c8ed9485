// The player of the embed (/embed/:id) and share (/v/:id) pages: HLS through
// hls.js where MediaSource exists, native HLS (Safari), else the MP4. The
// server puts what it needs in the <video>'s data- attributes (the pages'
// policy allows no inline script): data-hls, data-mp4 (with the playback
// link's ?token= when there is one), data-storyboard (the storyboard's
// WebVTT, previews over a bar under the video: storyboard.js), data-autoplay
// and data-muted ("1").
// Keys: space or k play/pause, arrows seek 5 s, f fullscreen, m mute.
(function () {
  'use strict';
  const video = document.querySelector('video[data-hls]');
  if (!video) return;
  const data = video.dataset;
  const root = document.documentElement;

  function useMp4() {
    data.source = 'mp4';
    video.src = data.mp4;
  }

  function attach() {
    if (window.Hls && window.Hls.isSupported()) {
      let hls = new window.Hls();
      hls.on(window.Hls.Events.ERROR, function (_event, info) {
        if (!info.fatal || !hls) return;
        hls.destroy();
        hls = null;
        useMp4();
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
    if (e.altKey || e.ctrlKey || e.metaKey) return;
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
      default:
        return;
    }
    e.preventDefault();
  });

  if (data.muted === '1') video.muted = true;
  attach();
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
