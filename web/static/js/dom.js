// DOM helpers shared by the views: element building, dialogs, notices, formatting.
// Text is always inserted as text nodes, never as HTML, so titles and names
// typed by users cannot inject markup.

// h('button', {type: 'button', onclick: fn}, 'Save') builds an element.
// Props starting with "on" become listeners; `value`, `checked`, `disabled`
// and `hidden` are set as properties (after the children, so a <select> can
// pick one of its options); false/null props are left out.
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  const late = {};
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (['value', 'checked', 'disabled', 'hidden'].includes(key)) late[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  el.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  Object.assign(el, late);
  return el;
}

// A region that shows one message at a time; role=alert makes screen readers
// read errors out as they appear.
export function messageBox() {
  const box = h('div', { class: 'message', role: 'alert', hidden: true });
  return {
    el: box,
    show(text, kind = 'error') {
      box.textContent = text;
      box.className = `message message-${kind}`;
      box.hidden = false;
    },
    clear() {
      box.textContent = '';
      box.hidden = true;
    },
  };
}

// Short notices in the corner (errors stay until closed, others fade).
export function notify(text, kind = 'info') {
  const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss' }, '×');
  const toast = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('span', {}, text), close);
  close.addEventListener('click', () => toast.remove());
  document.getElementById('toasts').append(toast);
  if (kind !== 'error') setTimeout(() => toast.remove(), 5000);
}

// A modal <dialog>: it traps focus, Escape cancels it, and focus returns to
// the element that opened it. Resolves true when confirmed.
export function confirmDialog({ title, message, confirmLabel = 'OK', danger = false }) {
  const opener = document.activeElement;
  return new Promise((resolve) => {
    const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
    const confirm = h('button', { type: 'submit', class: danger ? 'btn btn-danger' : 'btn btn-primary' }, confirmLabel);
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'dialog-title' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'dialog-title' }, title),
        h('p', {}, message),
        h('div', { class: 'actions' }, cancel, confirm)));
    let confirmed = false;
    confirm.addEventListener('click', () => { confirmed = true; });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      resolve(confirmed);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();  // the safe choice has the focus
  });
}

// Loads a classic script once (the vendor builds define globals).
const scripts = new Map();
export function loadScript(src) {
  if (!scripts.has(src)) {
    scripts.set(src, new Promise((resolve, reject) => {
      const el = h('script', { src });
      el.addEventListener('load', resolve);
      el.addEventListener('error', () => reject(new Error(`Could not load ${src}.`)));
      document.head.append(el);
    }));
  }
  return scripts.get(src);
}

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '';
  const s = Math.round(seconds);
  const hours = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60));
  const ss = String(s % 60).padStart(2, '0');
  return hours ? `${hours}:${mm.padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

export function formatBytes(n) {
  if (!Number.isFinite(n)) return '';
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}

export function formatDate(iso) {
  if (!iso) return '';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

// "1 view", "1,234 views".
export function formatViews(n) {
  const count = Number.isFinite(n) ? n : 0;
  return `${count.toLocaleString()} ${count === 1 ? 'view' : 'views'}`;
}

// Copies the text of `field` (an <input> or <textarea>). The Clipboard API
// needs a secure context (https or localhost); elsewhere, or when it is
// refused, the text is selected so that Ctrl+C / ⌘C copies it. Resolves
// true when the text is on the clipboard, false when it is only selected.
export async function copyText(field) {
  if (navigator.clipboard?.writeText && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(field.value);
      return true;
    } catch {
      // Refused (no permission, document not focused): select it instead.
    }
  }
  field.focus();
  field.select();
  return false;
}
