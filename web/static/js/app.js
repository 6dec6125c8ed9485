// The app: the top bar, the routes, and what happens when the session or
// the organization changes.
import { h, notify } from './dom.js';
import { setUnauthorizedHandler } from './api.js';
import { session, onSessionChange, restore, logout, forget, switchOrganization, can } from './session.js';
import { library } from './videos.js';
import { uploads } from './uploads.js';
import * as live from './live.js';
import { route, current, navigate, takeNotice } from './router.js';
import { renderLogin, renderRegister, renderForgot, renderReset } from './views/auth.js';
import { renderAccount } from './views/account.js';
import { renderInvitations, onInvitationCount, refreshInvitationCount } from './views/invitations.js';
import { renderLibrary } from './views/library.js';
import { renderPlayer } from './views/player.js';
import { renderMembers } from './views/members.js';
import { renderApiKeys } from './views/api_keys.js';
import { renderWebhooks } from './views/webhooks.js';

route('/login', { public: true, title: 'Sign in', render: renderLogin });
route('/register', { public: true, title: 'Create an account', render: renderRegister });
route('/forgot', { public: true, title: 'Forgot your password', render: renderForgot });
// Signed in or not: a reset link may be opened in a browser that has a session.
route('/reset-password/:token', { public: true, anyone: true, title: 'Choose a new password', render: renderReset });
route('/account', { title: 'Your account', nav: 'account', render: renderAccount, noOrganizationNeeded: true });
route('/invitations', { title: 'Invitations', nav: 'invitations', render: renderInvitations, noOrganizationNeeded: true });
route('/library', { title: 'Library', nav: 'library', render: renderLibrary });
route('/videos/:id', { title: 'Video', nav: 'library', render: renderPlayer });
route('/members', { title: 'Members', nav: 'members', render: renderMembers });
route('/api-keys', { title: 'API keys', nav: 'api-keys', render: renderApiKeys });
route('/webhooks', { title: 'Webhooks', nav: 'webhooks', render: renderWebhooks });

const main = document.getElementById('main');
const topbar = document.getElementById('topbar');
let cleanup = null;
let notice = null;  // a message for the next sign-in page
let liveOrg = null;
let stopLiveBadge = null;
let booted = false;  // until the session is restored, nothing is shown

function show() {
  const { target, params } = current();
  const home = session.user ? '/library' : '/login';
  if (!target || (target.public && !target.anyone && session.user) || (!target.public && !session.user)) {
    navigate(home, { replace: true });
    return;
  }
  cleanup?.();
  cleanup = null;
  renderTopbar(target.nav);
  if (!target.public && !target.noOrganizationNeeded && !session.organization) {
    noOrganization();
    return;
  }
  document.title = `${target.title} · reel`;
  cleanup = target.render(main, params, notice ?? takeNotice()) ?? null;
  notice = null;
  // A new page starts at its heading for keyboard and screen reader users,
  // unless the view put the focus somewhere already.
  if (!main.contains(document.activeElement) || document.activeElement === main) {
    main.querySelector('h1')?.focus({ preventScroll: true });
  }
  window.scrollTo(0, 0);
}

function renderTopbar(nav) {
  stopLiveBadge?.();
  stopLiveBadge = null;
  topbar.hidden = !session.user;
  if (!session.user) {
    topbar.replaceChildren();
    return;
  }
  const navLink = (path, label, key) => h('a', { href: `#${path}`, 'aria-current': nav === key ? 'page' : null }, label);
  const orgSelect = h('select', { id: 'org-switch', class: 'org-select' },
    session.organizations.map((o) => h('option', { value: o.id, selected: o.id === session.organization?.id }, `${o.name} · ${o.role}`)));
  orgSelect.addEventListener('change', () => switchOrganization(orgSelect.value));
  const liveBadge = h('span', { class: 'live', role: 'status' });
  const inviteCount = h('span', { class: 'count', hidden: true });
  const invitations = navLink('/invitations', 'Invitations', 'invitations');
  invitations.append(inviteCount);
  const signOut = h('button', { type: 'button', class: 'btn btn-ghost btn-small', onclick: signOutClicked }, 'Sign out');
  topbar.replaceChildren(
    h('a', { class: 'brand', href: '#/library' }, h('img', { src: '/static/icon.svg', alt: '', width: 28, height: 28 }), h('span', {}, 'reel')),
    h('nav', { class: 'nav', 'aria-label': 'Main' }, navLink('/library', 'Library', 'library'), navLink('/members', 'Members', 'members'),
      can('admin') ? navLink('/api-keys', 'API keys', 'api-keys') : null,
      can('admin') ? navLink('/webhooks', 'Webhooks', 'webhooks') : null, invitations,
      navLink('/account', 'Account', 'account')),
    h('div', { class: 'topbar-right' },
      h('div', { class: 'org' }, h('label', { for: 'org-switch', class: 'visually-hidden' }, 'Organization'), orgSelect),
      liveBadge,
      h('a', { class: 'user', href: '#/account', title: `Your account (${session.user.email})`,
        'aria-current': nav === 'account' ? 'page' : null }, session.user.name),
      signOut));
  const stopLive = live.onLiveStatus((status) => {
    liveBadge.dataset.status = status;
    liveBadge.replaceChildren(h('span', { class: 'live-text' }, { live: 'Live', connecting: 'Reconnecting…', offline: 'Offline' }[status]));
  });
  const stopCount = onInvitationCount((n) => {
    inviteCount.hidden = n === 0;
    inviteCount.textContent = String(n);
    inviteCount.setAttribute('aria-label', `${n} waiting`);
  });
  stopLiveBadge = () => { stopLive(); stopCount(); };
}

function noOrganization() {
  main.replaceChildren(h('div', { class: 'empty' },
    h('h1', { tabindex: -1 }, 'You are not in any organization'),
    h('p', { class: 'muted' }, 'Ask an admin to invite you, then accept in ', h('a', { href: '#/invitations' }, 'your invitations'),
      '; or sign out and create an account with its own organization.')));
}

async function signOutClicked(e) {
  e.target.disabled = true;
  live.disconnect();  // first, so the socket closes cleanly instead of being cut off
  uploads.stopAll();
  notice = 'You have signed out.';
  try {
    await logout();  // signs out locally even when the server cannot be told
  } catch (error) {
    notice = null;
    notify(error.message, 'error');
  }
}

// The server no longer knows the session (expired, or signed out elsewhere).
function sessionGone() {
  if (!session.user) return;
  live.disconnect();
  uploads.stopAll();
  notice = 'Your session has ended. Please sign in again.';
  forget();
}

// Reacts to sign-in, sign-out and organization switches.
let countedFor = null;
onSessionChange(() => {
  if (session.user && countedFor !== session.user.id) refreshInvitationCount();
  countedFor = session.user?.id ?? null;
  const org = session.organization?.id ?? null;
  if (org !== liveOrg) {
    const switched = liveOrg !== null && org !== null;
    liveOrg = org;
    library.reset();
    if (org) live.connect(org, sessionGone);
    else live.disconnect();
    // A video page belongs to the organization it was opened in.
    if (switched && current().path.startsWith('/videos/')) {
      navigate('/library');
      return;
    }
  }
  if (booted) show();
});

setUnauthorizedHandler(sessionGone);
window.addEventListener('hashchange', show);

try {
  await restore();
} catch (error) {
  notify(`reel could not be reached: ${error.message}`, 'error');
}
booted = true;
show();
