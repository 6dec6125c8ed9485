// The invitations inbox: organizations that invited you, to accept or decline.
import { h, messageBox, notify, formatDate } from '../dom.js';
import { api } from '../api.js';
import { refreshOrganizations } from '../session.js';

const listeners = new Set();
let pending = 0;

// How many invitations wait (for the badge in the top bar).
export function onInvitationCount(fn) {
  listeners.add(fn);
  fn(pending);
  return () => listeners.delete(fn);
}

function setCount(n) {
  pending = n;
  for (const fn of listeners) fn(n);
}

export async function refreshInvitationCount() {
  try {
    const { invitations } = await api.myInvitations();
    setCount(invitations.length);
  } catch {
    // the badge is a nicety: the inbox page shows the error
  }
}

export function renderInvitations(main) {
  const message = messageBox();
  const list = h('ul', { class: 'invitations', 'aria-live': 'polite' });

  async function load() {
    try {
      const { invitations } = await api.myInvitations();
      setCount(invitations.length);
      list.replaceChildren(...(invitations.length ? invitations.map(item)
        : [h('li', { class: 'muted' }, 'No invitations are waiting for you.')]));
    } catch (error) {
      message.show(`Your invitations could not be loaded: ${error.message}`);
    }
  }

  function item(inv) {
    const accept = h('button', { type: 'button', class: 'btn btn-primary btn-small' }, 'Accept',
      h('span', { class: 'visually-hidden' }, ` the invitation to ${inv.organization.name}`));
    const decline = h('button', { type: 'button', class: 'btn btn-small' }, 'Decline',
      h('span', { class: 'visually-hidden' }, ` the invitation to ${inv.organization.name}`));
    accept.addEventListener('click', () => answer(inv, true, accept, decline));
    decline.addEventListener('click', () => answer(inv, false, accept, decline));
    return h('li', { class: 'card invitation', 'data-invitation': inv.id },
      h('div', {},
        h('div', { class: 'person-name' }, inv.organization.name),
        h('div', { class: 'muted small' },
          `${inv.invitedBy?.name ?? 'Someone'} invited you as ${inv.role === 'admin' || inv.role === 'owner' ? 'an' : 'a'} `,
          h('span', { class: `role role-${inv.role}` }, inv.role),
          ` · until ${formatDate(inv.expiresAt)}`)),
      h('div', { class: 'actions' }, decline, accept));
  }

  async function answer(inv, yes, ...buttons) {
    message.clear();
    buttons.forEach((b) => { b.disabled = true; });
    try {
      if (yes) {
        const { organization } = await api.acceptInvitation(inv.id);
        await refreshOrganizations(organization.id);
        notify(`You joined ${organization.name}; you are now working in it.`, 'success');
        return;  // the session change re-renders the page
      }
      await api.declineInvitation(inv.id);
      notify(`Declined the invitation to ${inv.organization.name}.`, 'info');
    } catch (error) {
      message.show(error.message);
    }
    await load();
  }

  main.replaceChildren(
    h('div', { class: 'page-head' }, h('div', {},
      h('h1', { tabindex: -1 }, 'Invitations'),
      h('p', { class: 'muted' }, 'Organizations that invited you. Accepting adds you with the role they chose.'))),
    message.el,
    list);
  load();
}
