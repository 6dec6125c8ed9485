// The account page: change the password, see where you are signed in,
// sign out one session or every one.
import { h, messageBox, notify, confirmDialog, formatDate } from '../dom.js';
import { api } from '../api.js';
import { session, forget } from '../session.js';
import { field, submitting } from './forms.js';

// "Firefox on Linux" from a User-Agent header, or the header itself.
export function describeAgent(ua) {
  if (!ua) return 'Unknown device';
  const browser = [['Edg/', 'Edge'], ['OPR/', 'Opera'], ['Firefox/', 'Firefox'], ['Chrome/', 'Chrome'], ['Safari/', 'Safari'],
    ['curl/', 'curl'], ['node', 'Node.js']].find(([needle]) => ua.includes(needle))?.[1];
  const os = [['Windows', 'Windows'], ['Android', 'Android'], ['iPhone', 'iOS'], ['iPad', 'iPadOS'], ['Mac OS', 'macOS'],
    ['CrOS', 'ChromeOS'], ['Linux', 'Linux']].find(([needle]) => ua.includes(needle))?.[1];
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os ?? ua.slice(0, 60);
}

function passwordForm() {
  const message = messageBox();
  const current = h('input', { name: 'currentPassword', type: 'password', autocomplete: 'current-password', required: true });
  const next = h('input', { name: 'newPassword', type: 'password', autocomplete: 'new-password', required: true, minlength: 8 });
  const again = h('input', { name: 'confirmPassword', type: 'password', autocomplete: 'new-password', required: true, minlength: 8 });
  const form = h('form', { class: 'form card', 'aria-labelledby': 'password-heading' },
    h('h2', { id: 'password-heading' }, 'Change your password'),
    h('p', { class: 'muted small' }, 'Every other session of your account is signed out; this one stays.'),
    message.el,
    field('Current password', current),
    field('New password', next, 'At least 8 characters, and not a common password: a few unrelated words work well.'),
    field('New password again', again),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Change password')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (next.value !== again.value) {
      message.show('The two new passwords are not the same.');
      again.focus();
      return;
    }
    submitting(form, message, async () => {
      await api.changePassword(current.value, next.value);
      form.reset();
      message.show('Your password was changed. Your other sessions were signed out.', 'success');
      notify('Password changed.', 'success');
      form.dispatchEvent(new CustomEvent('password-changed', { bubbles: true }));
    });
  });
  return form;
}

function sessionsCard() {
  const message = messageBox();
  const tbody = h('tbody');
  const everywhere = h('button', { type: 'button', class: 'btn btn-danger' }, 'Sign out everywhere');

  async function load() {
    try {
      const { sessions } = await api.sessions();
      tbody.replaceChildren(...sessions.map(row));
    } catch (error) {
      message.show(`Your sessions could not be loaded: ${error.message}`);
    }
  }

  function row(s) {
    const end = h('button', {
      type: 'button', class: 'btn btn-small btn-danger-ghost', onclick: (e) => endSession(s, e.target),
    }, 'Sign out', h('span', { class: 'visually-hidden' }, ` ${describeAgent(s.userAgent)}`));
    return h('tr', { 'data-session': s.id },
      h('td', {}, h('div', { class: 'person-name' }, describeAgent(s.userAgent)),
        s.current ? h('span', { class: 'role role-owner' }, 'This device') : null),
      h('td', { 'data-label': 'Address', class: 'small' }, s.address || '—'),
      h('td', { class: 'hide-narrow muted small' }, formatDate(s.createdAt)),
      h('td', { class: 'muted small' }, formatDate(s.lastUsedAt)),
      h('td', { class: 'cell-actions' }, end));
  }

  async function endSession(s, button) {
    if (s.current) {
      const ok = await confirmDialog({ title: 'Sign out here?', message: 'This is the session you are using now.', confirmLabel: 'Sign out' });
      if (!ok) return;
    }
    message.clear();
    button.disabled = true;
    try {
      await api.endSession(s.id);
      if (s.current) {
        forget();
        return;
      }
      notify(`Signed out ${describeAgent(s.userAgent)}.`, 'success');
    } catch (error) {
      message.show(error.message);
    }
    await load();
  }

  everywhere.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: 'Sign out everywhere?',
      message: 'Every session of your account ends, this one too: on every device, browser and script using a token.',
      confirmLabel: 'Sign out everywhere',
      danger: true,
    });
    if (!ok) return;
    everywhere.disabled = true;
    try {
      await api.logoutAll();
      forget();
    } catch (error) {
      message.show(error.message);
      everywhere.disabled = false;
    }
  });

  const card = h('section', { class: 'card', 'aria-labelledby': 'sessions-heading' },
    h('div', { class: 'page-head' },
      h('div', {}, h('h2', { id: 'sessions-heading' }, 'Where you are signed in'),
        h('p', { class: 'muted small' }, 'Sessions end after 14 days without use. Sign out any you do not recognize, then change your password.')),
      everywhere),
    message.el,
    h('div', { class: 'table-wrap' }, h('table', { class: 'members sessions' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Device'), h('th', { scope: 'col' }, 'Address'),
        h('th', { scope: 'col', class: 'hide-narrow' }, 'Signed in'), h('th', { scope: 'col' }, 'Last used'),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      tbody)));
  card.addEventListener('password-changed', load);
  return { card, load };
}

export function renderAccount(main) {
  const sessions = sessionsCard();
  const password = passwordForm();
  password.addEventListener('password-changed', sessions.load);
  main.replaceChildren(
    h('div', { class: 'page-head' }, h('div', {},
      h('h1', { tabindex: -1 }, 'Your account'),
      h('p', { class: 'muted' }, `${session.user.name} · ${session.user.email}`))),
    h('div', { class: 'stack' }, password, sessions.card));
  sessions.load();
}
