// An organization's storage: how much its videos take (originals and
// renditions) against its quota, as a bar. The quota is the operator's
// (`reel org set-quota`); nobody changes it here.
import { h } from '../dom.js';
import { api } from '../api.js';

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

// "512 B", "1.5 KiB", "20.0 MiB", as the server's messages write sizes.
export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u + 1 < UNITS.length) { v /= 1024; u += 1; }
  return `${v.toFixed(1)} ${UNITS[u]}`;
}

// The "Storage" card for `org` (the session's copy; the server's numbers
// are fetched, since uploads and processing change them all the time).
export function storageUsage(org) {
  const bar = h('progress', { class: 'bar storage-bar', max: 1, value: 0, 'aria-labelledby': 'storage-heading' });
  const text = h('p', { class: 'muted small storage-text', 'aria-live': 'polite' });
  const show = (o) => {
    const used = o.storageUsedBytes ?? 0;
    const quota = o.storageQuotaBytes ?? null;
    if (quota === null) {
      bar.hidden = true;
      text.textContent = `${formatBytes(used)} used; no storage limit.`;
      return;
    }
    bar.hidden = false;
    bar.max = Math.max(quota, 1);
    bar.value = Math.min(used, bar.max);
    bar.classList.toggle('full', used >= quota);
    let percent = quota > 0 ? Math.min(100, Math.round((used / quota) * 100)) : 100;
    if (percent === 0 && used > 0) percent = '<1';
    text.textContent = `${formatBytes(used)} of ${formatBytes(quota)} used (${percent} %).` +
      (used >= quota ? ' New uploads are refused until videos are deleted.' : '');
  };
  show(org);
  api.organizations().then(({ organizations }) => {
    const fresh = organizations.find((o) => o.id === org.id);
    if (fresh) show(fresh);
  }, () => {});  // the copy it has is shown
  return h('section', { class: 'card storage', 'aria-labelledby': 'storage-heading' },
    h('h2', { id: 'storage-heading' }, 'Storage'), bar, text,
    h('p', { class: 'hint' }, 'Originals and their renditions count. The limit is set by the server’s operator.'));
}
