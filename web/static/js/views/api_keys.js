// The organization's API keys (admins and owners): the list, a form that
// makes one and shows its secret once with a Copy button, and revoking.
// Keys act as the organization with their role (docs/api-keys.md).
import { h, messageBox, notify, confirmDialog, formatDate, copyText } from '../dom.js';
import { api } from '../api.js';
import { session, can } from '../session.js';

const KEY_ROLES = ['viewer', 'member', 'admin'];
const KEY_ROLE_HELP = {
  viewer: 'lists, reads and streams videos',
  member: 'also uploads, edits and deletes videos',
  admin: 'also manages members (never owners, never keys)',
};

export function renderApiKeys(main) {
  const org = session.organization;
  if (!can('admin')) {
    main.replaceChildren(h('div', { class: 'empty' }, h('h1', { tabindex: -1 }, 'API keys'),
      h('p', { class: 'muted' }, `Only admins and owners of ${org.name} manage its API keys.`)));
    return;
  }
  const message = messageBox();
  const tbody = h('tbody');
  const empty = h('p', { class: 'muted small' }, 'This organization has no API keys.');
  const table = h('div', { class: 'table-wrap' }, h('table', { class: 'members api-keys' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Role'),
      h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col', class: 'hide-narrow' }, 'Created'),
      h('th', { scope: 'col', class: 'hide-narrow' }, 'Last used'),
      h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
    tbody));
  empty.hidden = table.hidden = true;  // until loaded

  async function load() {
    try {
      const { apiKeys } = await api.apiKeys(org.id);
      tbody.replaceChildren(...apiKeys.map(row));
      empty.hidden = apiKeys.length > 0;
      table.hidden = apiKeys.length === 0;
    } catch (error) {
      message.show(`The API keys could not be loaded: ${error.message}`);
    }
  }

  function row(key) {
    const by = key.createdBy ? ` by ${key.createdBy.name}` : '';
    return h('tr', { 'data-key': key.id },
      h('td', {}, key.name),
      h('td', { 'data-label': 'Role' }, h('span', { class: `role role-${key.role}` }, key.role)),
      h('td', {}, h('code', {}, `${key.prefix}…`)),
      h('td', { class: 'hide-narrow muted small' }, `${formatDate(key.createdAt)}${by}`),
      h('td', { class: 'hide-narrow muted small' }, key.lastUsedAt ? formatDate(key.lastUsedAt) : 'never'),
      h('td', { class: 'cell-actions' }, h('button', {
        type: 'button', class: 'btn btn-small btn-danger-ghost', onclick: (e) => revoke(key, e.target),
      }, 'Revoke', h('span', { class: 'visually-hidden' }, ` ${key.name}`))));
  }

  async function revoke(key, button) {
    const ok = await confirmDialog({
      title: 'Revoke this API key?',
      message: `Whatever uses “${key.name}” (${key.prefix}…) is refused from now on. This cannot be undone.`,
      confirmLabel: 'Revoke',
      danger: true,
    });
    if (!ok) return;
    message.clear();
    button.disabled = true;
    try {
      await api.revokeApiKey(org.id, key.id);
      notify(`The API key ${key.name} was revoked.`, 'success');
    } catch (error) {
      message.show(error.message);
    }
    await load();
  }

  main.replaceChildren(
    h('div', { class: 'page-head' }, h('div', {},
      h('h1', { tabindex: -1 }, 'API keys'),
      h('p', { class: 'muted' }, `of ${org.name}: a program sends one as “Authorization: Bearer reel_sk_…” `,
        'and acts in this organization with the key’s role.'))),
    h('section', { class: 'card', 'aria-label': 'API keys' }, message.el, empty, table),
    newKeyForm(org, load));
  load();
}

// The form that makes a key; its secret is shown here once, never again.
function newKeyForm(org, reload) {
  const message = messageBox();
  const name = h('input', { id: 'key-name', name: 'name', required: true, maxlength: 100, autocomplete: 'off' });
  const role = h('select', { id: 'key-role', name: 'role' },
    KEY_ROLES.map((r) => h('option', { value: r, selected: r === 'member' }, r[0].toUpperCase() + r.slice(1))));
  const create = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create key');
  const shown = h('div', { class: 'secret-once', role: 'status' });
  const form = h('form', { class: 'form card', 'aria-labelledby': 'new-key-heading' },
    h('h2', { id: 'new-key-heading' }, 'New API key'),
    h('p', { class: 'muted small' }, KEY_ROLES.map((r) => `${r[0].toUpperCase() + r.slice(1)} ${KEY_ROLE_HELP[r]}`).join('; '), '.'),
    message.el,
    h('div', { class: 'inline-fields' },
      h('div', { class: 'field grow' }, h('label', { for: 'key-name' }, 'Name'), name),
      h('div', { class: 'field' }, h('label', { for: 'key-role' }, 'Role'), role),
      create),
    shown);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    message.clear();
    create.disabled = true;
    try {
      const { apiKey, secret } = await api.createApiKey(org.id, name.value, role.value);
      name.value = '';
      shown.replaceChildren(secretField(apiKey, secret));
      await reload();
    } catch (error) {
      message.show(error.message);
      name.focus();
    } finally {
      create.disabled = false;
    }
  });
  return form;
}

// The new key's secret, read-only, with a Copy button.
function secretField(apiKey, secret) {
  const input = h('input', { id: 'key-secret', readonly: true, class: 'code', spellcheck: 'false', value: secret });
  const say = h('p', { class: 'muted small', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'btn btn-small' }, 'Copy',
    h('span', { class: 'visually-hidden' }, ' the secret'));
  button.addEventListener('click', async () => {
    const copied = await copyText(input);
    say.textContent = copied ? 'Secret copied.' : 'Secret selected: press Ctrl+C (⌘C on a Mac) to copy it.';
  });
  return h('div', { class: 'field' },
    h('label', { for: 'key-secret' }, `Secret of ${apiKey.name}: copy it now, it is not shown again`),
    h('div', { class: 'copy-row' }, input, button), say);
}
