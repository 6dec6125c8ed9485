// The organization page: its members (managed by admins and owners, who
// also invite people and see the invitations not yet answered), its sharing
// settings, and creating another organization.
import { h, messageBox, notify, confirmDialog, formatDate } from '../dom.js';
import { api } from '../api.js';
import { session, can, refreshOrganizations } from '../session.js';
import { sharingSettings } from './org_sharing.js';
import { storageUsage } from './storage_usage.js';

const ROLES = ['viewer', 'member', 'admin', 'owner'];
const ROLE_HELP = {
  viewer: 'watches videos',
  member: 'also uploads, edits and deletes videos',
  admin: 'also manages members',
  owner: 'also manages owners',
};

// Roles the current user may hand out: only owners make owners.
const grantable = () => ROLES.filter((r) => r !== 'owner' || can('owner'));

function roleSelect(id, selected, label) {
  return h('select', { id, 'aria-label': label },
    grantable().map((r) => h('option', { value: r, selected: r === selected }, r[0].toUpperCase() + r.slice(1))));
}

export function renderMembers(main) {
  const org = session.organization;
  const manage = can('admin');
  const message = messageBox();
  const tbody = h('tbody');

  async function load() {
    try {
      const { members } = await api.members(org.id);
      tbody.replaceChildren(...members.map(row));
    } catch (error) {
      message.show(`The members could not be loaded: ${error.message}`);
    }
  }

  function row(member) {
    const self = member.user.id === session.user.id;
    // Admins cannot touch owners; nobody changes or removes themselves here.
    const editable = manage && !self && (member.role !== 'owner' || can('owner'));
    let roleCell = h('span', { class: `role role-${member.role}` }, member.role);
    let actionCell = self ? h('span', { class: 'muted small' }, 'you') : null;
    if (editable) {
      const select = roleSelect(`role-${member.user.id}`, member.role, `Role of ${member.user.name}`);
      const apply = h('button', { type: 'button', class: 'btn btn-small', disabled: true }, 'Change');
      select.addEventListener('change', () => { apply.disabled = select.value === member.role; });
      apply.addEventListener('click', () => changeRole(member, select.value, apply));
      roleCell = h('div', { class: 'role-edit' }, select, apply);
      actionCell = h('button', {
        type: 'button', class: 'btn btn-small btn-danger-ghost', onclick: (e) => removeMember(member, e.target),
      }, 'Remove', h('span', { class: 'visually-hidden' }, ` ${member.user.name}`));
    }
    return h('tr', {},
      h('td', {}, h('div', { class: 'person' }, h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(member.user.name)),
        h('div', {}, h('div', { class: 'person-name' }, member.user.name), h('div', { class: 'muted small' }, member.user.email)))),
      h('td', { 'data-label': 'Role' }, roleCell),
      h('td', { class: 'hide-narrow muted small' }, formatDate(member.joinedAt)),
      h('td', { class: 'cell-actions' }, actionCell));
  }

  async function changeRole(member, role, button) {
    message.clear();
    button.disabled = true;
    try {
      await api.changeRole(org.id, member, role);
      notify(`${member.user.name} is now ${article(role)} ${role}.`, 'success');
    } catch (error) {
      message.show(error.message);
    }
    await load();
  }

  async function removeMember(member, button) {
    const ok = await confirmDialog({
      title: 'Remove this member?',
      message: `${member.user.name} (${member.user.email}) will lose access to ${org.name} and its videos.`,
      confirmLabel: 'Remove',
      danger: true,
    });
    if (!ok) return;
    message.clear();
    button.disabled = true;
    try {
      await api.removeMember(org.id, member.user.id);
      notify(`${member.user.name} was removed from ${org.name}.`, 'success');
    } catch (error) {
      message.show(error.message);
    }
    await load();
  }

  const sections = [
    h('div', { class: 'page-head' }, h('div', {},
      h('h1', { tabindex: -1 }, 'Members'),
      h('p', { class: 'muted' }, `of ${org.name} · you are ${article(org.role)} ${org.role}`))),
    h('section', { class: 'card', 'aria-label': 'Members' }, message.el,
      h('div', { class: 'table-wrap' }, h('table', { class: 'members' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Person'), h('th', { scope: 'col' }, 'Role'),
          h('th', { scope: 'col', class: 'hide-narrow' }, 'Joined'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
        tbody))),
  ];
  if (manage) {
    const invitations = pendingInvitations(org);
    sections.push(invitations.el, inviteForm(org, invitations.load));
    invitations.load();
  }
  sections.push(storageUsage(org));
  sections.push(sharingSettings(org));
  sections.push(newOrganizationForm());
  main.replaceChildren(...sections);
  load();
}

// The invitations nobody has answered yet, each with a way to take it back.
function pendingInvitations(org) {
  const message = messageBox();
  const tbody = h('tbody');
  const empty = h('p', { class: 'muted small' }, 'No invitations are waiting for an answer.');
  const table = h('div', { class: 'table-wrap' }, h('table', { class: 'members' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Email'), h('th', { scope: 'col' }, 'Role'),
      h('th', { scope: 'col', class: 'hide-narrow' }, 'Expires'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
    tbody));
  const el = h('section', { class: 'card', 'aria-labelledby': 'invitations-heading' },
    h('h2', { id: 'invitations-heading' }, 'Pending invitations'), message.el, empty, table);
  empty.hidden = table.hidden = true;  // until loaded

  async function load() {
    try {
      const { invitations } = await api.invitations(org.id);
      tbody.replaceChildren(...invitations.map(row));
      empty.hidden = invitations.length > 0;
      table.hidden = invitations.length === 0;
    } catch (error) {
      message.show(`The invitations could not be loaded: ${error.message}`);
    }
  }

  function row(invitation) {
    const revocable = invitation.role !== 'owner' || can('owner');
    const revoke = revocable ? h('button', {
      type: 'button', class: 'btn btn-small btn-danger-ghost', onclick: (e) => revokeInvitation(invitation, e.target),
    }, 'Revoke', h('span', { class: 'visually-hidden' }, ` the invitation to ${invitation.email}`)) : null;
    return h('tr', {},
      h('td', {}, invitation.email),
      h('td', { 'data-label': 'Role' }, h('span', { class: `role role-${invitation.role}` }, invitation.role)),
      h('td', { class: 'hide-narrow muted small' }, formatDate(invitation.expiresAt)),
      h('td', { class: 'cell-actions' }, revoke));
  }

  async function revokeInvitation(invitation, button) {
    message.clear();
    button.disabled = true;
    try {
      await api.revokeInvitation(org.id, invitation.id);
      notify(`The invitation to ${invitation.email} was revoked.`, 'success');
    } catch (error) {
      message.show(error.message);
    }
    await load();
  }

  return { el, load };
}

function inviteForm(org, reload) {
  const message = messageBox();
  const email = h('input', { id: 'member-email', name: 'email', type: 'email', required: true, autocomplete: 'off' });
  const role = roleSelect('member-role', 'member', null);
  const invite = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Invite');
  const form = h('form', { class: 'form card', 'aria-labelledby': 'add-heading' },
    h('h2', { id: 'add-heading' }, 'Invite someone'),
    h('p', { class: 'muted small' }, 'They join once they accept, after signing in or registering with this email; ',
      'the invitation lasts 7 days. ',
      grantable().map((r) => `${r[0].toUpperCase() + r.slice(1)} ${ROLE_HELP[r]}`).join('; '), '.'),
    message.el,
    h('div', { class: 'inline-fields' },
      h('div', { class: 'field grow' }, h('label', { for: 'member-email' }, 'Email'), email),
      h('div', { class: 'field' }, h('label', { for: 'member-role' }, 'Role'), role),
      invite));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    message.clear();
    invite.disabled = true;
    try {
      const { invitation } = await api.invite(org.id, email.value, role.value);
      notify(`Invitation sent to ${invitation.email}.`, 'success');
      email.value = '';
      await reload();
    } catch (error) {
      message.show(error.message);
      email.focus();
    } finally {
      invite.disabled = false;
    }
  });
  return form;
}

function newOrganizationForm() {
  const message = messageBox();
  const name = h('input', { id: 'org-name', name: 'name', required: true, maxlength: 100 });
  const create = h('button', { type: 'submit', class: 'btn' }, 'Create');
  const form = h('form', { class: 'form card', 'aria-labelledby': 'org-heading' },
    h('h2', { id: 'org-heading' }, 'New organization'),
    h('p', { class: 'muted small' }, 'A separate library with its own members; you will be its owner.'),
    message.el,
    h('div', { class: 'inline-fields' },
      h('div', { class: 'field grow' }, h('label', { for: 'org-name' }, 'Name'), name), create));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    message.clear();
    create.disabled = true;
    try {
      const { organization } = await api.createOrganization(name.value);
      await refreshOrganizations(organization.id);
      notify(`Created ${organization.name}; you are now working in it.`, 'success');
    } catch (error) {
      message.show(error.message);
      create.disabled = false;
    }
  });
  return form;
}

const article = (role) => (role === 'admin' || role === 'owner' ? 'an' : 'a');

function initials(name) {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join('') || '?';
}
