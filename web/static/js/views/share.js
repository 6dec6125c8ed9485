// The Share dialog of a video: who may watch it (its visibility), the link to
// its share page, the code that embeds its player in another site (with a
// preview), and signed links that play a private video without an account
// until they expire. Links are absolute: they are pasted elsewhere.
import { h, messageBox, copyText, formatDate } from '../dom.js';
import { api } from '../api.js';
import { library } from '../videos.js';
import { session, can } from '../session.js';

export const VISIBILITY = {
  private: {
    label: 'Private',
    help: (org) => `Only members of ${org} can watch. Anyone else needs a signed link.`,
  },
  unlisted: {
    label: 'Unlisted',
    help: () => 'Anyone with the link can watch; it is not listed on the organization’s public page.',
  },
  public: {
    label: 'Public',
    help: () => 'Anyone can watch, and it is listed on the organization’s public page.',
  },
};

const EXPIRIES = [['3600', '1 hour'], ['86400', '1 day'], ['604800', '7 days'], ['custom', 'Custom']];
const MAX_HOURS = 168;

let opened = 0;  // numbers the ids of each dialog's fields

// The size of the embedded player: 640 wide, high as the video's aspect ratio wants.
export function embedSize(video) {
  const ratio = video.width > 0 && video.height > 0 ? video.height / video.width : 9 / 16;
  return { width: 640, height: Math.round(640 * ratio) };
}

export function embedCode(origin, video) {
  const { width, height } = embedSize(video);
  return `<iframe src="${origin}/embed/${encodeURIComponent(video.id)}" width="${width}" height="${height}" ` +
    'frameborder="0" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>';
}

// A read-only field with a Copy button; `say` reports the outcome.
function copyField(id, label, value, say, { multiline = false, copyLabel = 'Copy' } = {}) {
  const input = multiline
    ? h('textarea', { id, readonly: true, rows: 4, class: 'code', spellcheck: 'false', value })
    : h('input', { id, readonly: true, class: 'code', spellcheck: 'false', value });
  // Several "Copy" buttons: each names what it copies to screen readers.
  const button = h('button', { type: 'button', class: 'btn btn-small' }, copyLabel,
    copyLabel === 'Copy' ? h('span', { class: 'visually-hidden' }, ` the ${label}`) : null);
  button.addEventListener('click', async () => {
    const copied = await copyText(input);
    say(copied ? `${label} copied.` : `${label} selected: press Ctrl+C (⌘C on a Mac) to copy it.`);
  });
  return {
    input,
    el: h('div', { class: 'field' }, h('label', { for: id }, label), h('div', { class: 'copy-row' }, input, button)),
  };
}

// The private/unlisted/public switch; read-only below the member role.
function visibilitySwitch(n, video, { onSaved, say }) {
  const editable = can('member');
  const message = messageBox();
  const radios = {};
  const options = Object.entries(VISIBILITY).map(([value, level]) => {
    const id = `share-${n}-${value}`;
    radios[value] = h('input', {
      type: 'radio', id, name: `share-${n}-visibility`, value, checked: video.visibility === value,
      disabled: !editable, 'aria-describedby': `${id}-help`,
    });
    return h('div', { class: 'choice' }, radios[value],
      h('label', { for: id }, h('strong', {}, level.label),
        h('span', { id: `${id}-help`, class: 'muted small' }, level.help(session.organization.name))));
  });
  let current = video.visibility;
  let saving = false;
  async function change(value) {
    message.clear();
    saving = true;
    for (const r of Object.values(radios)) r.disabled = true;
    try {
      const res = await api.updateVideo(video.id, { visibility: value });
      current = res.video.visibility;
      library.put(res.video);
      onSaved(res.video);
      say(`Now ${VISIBILITY[current].label.toLowerCase()}.`);
    } catch (error) {
      message.show(error.message);
    } finally {
      saving = false;
      for (const r of Object.values(radios)) r.disabled = false;
      radios[current].checked = true;
    }
  }
  for (const [value, radio] of Object.entries(radios)) radio.addEventListener('change', () => { if (radio.checked) change(value); });
  return {
    el: h('fieldset', { class: 'visibility' },
      h('legend', {}, 'Who can watch'),
      message.el,
      options,
      editable ? null : h('p', { class: 'muted small' }, 'Only members, admins and owners can change who can watch.')),
    // Someone else changed it (a live event).
    show(value) {
      if (saving || value === current) return;
      current = value;
      radios[value].checked = true;
    },
  };
}

// "Make a signed link": an expiry, then the links it gives.
function signedLinks(n, video, say) {
  const message = messageBox();
  const expiry = h('select', { id: `share-${n}-expiry` },
    EXPIRIES.map(([value, label]) => h('option', { value }, label)));
  const hours = h('input', { id: `share-${n}-hours`, type: 'number', min: 1, max: MAX_HOURS, step: 1, value: '24', inputmode: 'numeric' });
  const hoursField = h('div', { class: 'field', hidden: true },
    h('label', { for: hours.id }, `Hours (1 to ${MAX_HOURS})`), hours);
  expiry.addEventListener('change', () => { hoursField.hidden = expiry.value !== 'custom'; });
  const make = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Make a signed link');
  const result = h('div', { class: 'signed-result', hidden: true });
  const form = h('form', { class: 'form', novalidate: true, 'aria-labelledby': `share-${n}-signed` },
    h('h3', { id: `share-${n}-signed` }, 'Signed link'),
    h('p', { class: 'muted small' }, 'Plays this private video without an account until it expires. ',
      'Anyone who has the link can watch; it cannot be taken back before then.'),
    message.el,
    h('div', { class: 'inline-fields' },
      h('div', { class: 'field' }, h('label', { for: expiry.id }, 'Expires after'), expiry),
      hoursField, make),
    result);

  function seconds() {
    if (expiry.value !== 'custom') return Number(expiry.value);
    const value = Number(hours.value);
    if (!Number.isInteger(value) || value < 1 || value > MAX_HOURS) return null;
    return value * 3600;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    message.clear();
    const expiresIn = seconds();
    if (expiresIn === null) {
      message.show(`Choose a whole number of hours from 1 to ${MAX_HOURS}.`);
      hours.focus();
      return;
    }
    make.disabled = true;
    try {
      const link = await api.playbackUrl(video.id, expiresIn);
      const origin = location.origin;
      const fields = [
        ['Share page', link.shareUrl, 'share'],
        ['Video file (MP4)', link.url, 'mp4'],
        ['HLS playlist', link.hlsUrl, 'hls'],
        ['Embed player', link.embedUrl, 'embed'],
      ].map(([label, url, key]) => copyField(`share-${n}-signed-${key}`, label, origin + url, say));
      result.replaceChildren(
        h('p', { class: 'small', role: 'status' }, 'Expires ',
          h('time', { datetime: link.expiresAt }, formatDate(link.expiresAt)), '.'),
        ...fields.map((f) => f.el));
      result.hidden = false;
      fields[0].input.focus();
    } catch (error) {
      message.show(error.message);
    } finally {
      make.disabled = false;
    }
  });
  return form;
}

// Opens the dialog for `video`; it closes on Escape, Close or Done, and
// gives the focus back to the element that opened it.
export function openShareDialog(video) {
  const n = ++opened;
  const opener = document.activeElement;
  const origin = location.origin;
  const status = h('p', { class: 'copy-status small', role: 'status' });
  const say = (text) => { status.textContent = text; };

  const link = copyField(`share-${n}-link`, 'Link', `${origin}/v/${encodeURIComponent(video.id)}`, say, { copyLabel: 'Copy link' });
  const linkHint = h('p', { class: 'hint' });
  const code = copyField(`share-${n}-embed`, 'Embed code', embedCode(origin, video), say, { multiline: true, copyLabel: 'Copy embed code' });
  const { width, height } = embedSize(video);
  const preview = h('iframe', {
    src: `/embed/${encodeURIComponent(video.id)}`, title: `Preview of the embedded player of ${video.title}`,
    width, height, loading: 'lazy', allow: 'autoplay; fullscreen; picture-in-picture', allowfullscreen: true,
  });
  preview.style.aspectRatio = `${width} / ${height}`;
  const signed = signedLinks(n, video, say);
  const signedBox = h('section', { class: 'share-section' }, signed);

  let shown = video.visibility;
  function showVisibility(v) {
    if (v.visibility !== shown) preview.src = preview.src;  // the embed page depends on it
    shown = v.visibility;
    const open = v.visibility !== 'private';
    linkHint.textContent = open
      ? 'Opens the video’s share page; anyone with it can watch.'
      : `While the video is private, the link works only for members of ${session.organization.name} who are signed in.`;
    signedBox.hidden = open;
  }
  const visibility = visibilitySwitch(n, video, { onSaved: showVisibility, say });
  showVisibility(video);

  const close = h('button', { type: 'button', class: 'btn' }, 'Done');
  const dialog = h('dialog', { class: 'dialog share-dialog', 'aria-labelledby': `share-${n}-title` },
    h('div', { class: 'dialog-head' },
      h('h2', { id: `share-${n}-title` }, `Share “${video.title}”`),
      h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'aria-label': 'Close', onclick: () => dialog.close() }, '×')),
    visibility.el,
    h('section', { class: 'share-section' }, link.el, linkHint),
    h('section', { class: 'share-section' }, code.el,
      h('div', { class: 'share-preview' }, h('p', { class: 'hint' }, 'Preview'), preview)),
    signedBox,
    status,
    h('div', { class: 'actions' }, close));
  close.addEventListener('click', () => dialog.close());

  const unsubscribe = library.subscribe((change) => {
    if (change.type !== 'put' || change.id !== video.id) return;
    const fresh = library.get(video.id);
    visibility.show(fresh.visibility);
    showVisibility(fresh);
  });
  dialog.addEventListener('close', () => {
    unsubscribe();
    dialog.remove();
    if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}
