// An organization's sharing settings, on its members page: its public
// address (/o/<slug>, which owners choose) and the sites allowed to embed its
// videos (which admins and owners choose; none listed = any site).
import { h, messageBox, notify } from '../dom.js';
import { api } from '../api.js';
import { can } from '../session.js';

// Origins typed one per line (commas and spaces separate them too).
const parseOrigins = (text) => text.split(/[\s,]+/).filter(Boolean);

function publicAddress(org) {
  const origin = location.origin;
  const message = messageBox();
  const link = h('a', { class: 'code', target: '_blank', rel: 'noopener' });
  const showLink = (slug) => {
    link.href = `/o/${encodeURIComponent(slug)}`;
    link.textContent = `${origin}/o/${slug}`;
  };
  showLink(org.slug ?? '');
  const intro = h('p', { class: 'muted small' }, 'The page that lists the organization’s public videos: ', link);
  if (!can('owner')) {
    return { el: h('div', { class: 'share-section' }, h('h3', {}, 'Public address'), intro,
      h('p', { class: 'hint' }, 'Only owners can change it.')), update: (o) => showLink(o.slug) };
  }
  const slug = h('input', {
    id: 'org-slug', name: 'slug', required: true, minlength: 3, maxlength: 48, autocomplete: 'off', spellcheck: 'false',
    value: org.slug ?? '', 'aria-describedby': 'org-slug-hint',
  });
  const save = h('button', { type: 'submit', class: 'btn' }, 'Save address');
  const form = h('form', { class: 'form share-section', novalidate: true, 'aria-labelledby': 'org-slug-heading' },
    h('h3', { id: 'org-slug-heading' }, 'Public address'), intro, message.el,
    h('div', { class: 'inline-fields' },
      h('div', { class: 'field grow' }, h('label', { for: 'org-slug' }, 'Address'),
        h('div', { class: 'prefixed' }, h('span', { class: 'prefix', 'aria-hidden': 'true' }, `${origin}/o/`), slug)),
      save),
    h('p', { class: 'hint', id: 'org-slug-hint' }, '3 to 48 lower-case letters, digits and “-”. Old links stop working when it changes.'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    message.clear();
    save.disabled = true;
    try {
      const { organization } = await api.updateOrganization(org.id, { slug: slug.value.trim() });
      org.slug = organization.slug;
      slug.value = organization.slug;
      showLink(organization.slug);
      notify(`The public address is now ${origin}/o/${organization.slug}.`, 'success');
    } catch (error) {
      message.show(error.message);
      slug.focus();
    } finally {
      save.disabled = false;
    }
  });
  return {
    el: form,
    update(o) {
      if (document.activeElement !== slug) slug.value = o.slug;
      showLink(o.slug);
    },
  };
}

function embedOrigins(org) {
  const heading = h('h3', { id: 'org-embed-heading' }, 'Sites allowed to embed');
  const anySite = 'Any site may embed this organization’s videos.';
  if (!can('admin')) {
    const list = h('div', {});
    const show = (origins) => list.replaceChildren(origins.length
      ? h('ul', { class: 'origins' }, origins.map((o) => h('li', { class: 'code' }, o)))
      : h('p', { class: 'muted small' }, anySite));
    show(org.embedOrigins ?? []);
    return { el: h('div', { class: 'share-section' }, heading, list, h('p', { class: 'hint' }, 'Admins and owners can change them.')),
      update: (o) => show(o.embedOrigins) };
  }
  const message = messageBox();
  const origins = h('textarea', {
    id: 'org-embed-origins', name: 'embedOrigins', rows: 4, spellcheck: 'false', class: 'code',
    value: (org.embedOrigins ?? []).join('\n'), 'aria-describedby': 'org-embed-hint',
  });
  const save = h('button', { type: 'submit', class: 'btn' }, 'Save sites');
  const form = h('form', { class: 'form share-section', novalidate: true, 'aria-labelledby': 'org-embed-heading' },
    heading, message.el,
    h('div', { class: 'field' }, h('label', { for: 'org-embed-origins' }, 'Origins, one per line'), origins,
      h('p', { class: 'hint', id: 'org-embed-hint' },
        'Like https://blog.example.com (no path). The embedded player refuses to play inside other sites. ',
        `Leave it empty: ${anySite.toLowerCase()}`)),
    h('div', { class: 'actions' }, save));
  let dirty = false;
  origins.addEventListener('input', () => { dirty = true; });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    message.clear();
    save.disabled = true;
    try {
      const { organization } = await api.updateOrganization(org.id, { embedOrigins: parseOrigins(origins.value) });
      org.embedOrigins = organization.embedOrigins;
      origins.value = organization.embedOrigins.join('\n');
      dirty = false;
      notify(organization.embedOrigins.length
        ? `Only ${organization.embedOrigins.length === 1 ? 'this site' : 'these sites'} may embed the videos now.`
        : anySite, 'success');
    } catch (error) {
      message.show(error.message);
      origins.focus();
    } finally {
      save.disabled = false;
    }
  });
  return {
    el: form,
    update(o) {
      if (!dirty) origins.value = o.embedOrigins.join('\n');
    },
  };
}

// The "Sharing" card. `org` is the session's copy of the organization; saves
// update it, so the settings stay as saved when the page is shown again.
export function sharingSettings(org) {
  const address = publicAddress(org);
  const embed = embedOrigins(org);
  // The session's copy may be older than the server's (another admin's change).
  api.organizations().then(({ organizations }) => {
    const fresh = organizations.find((o) => o.id === org.id);
    if (!fresh) return;
    Object.assign(org, { slug: fresh.slug, embedOrigins: fresh.embedOrigins });
    address.update(fresh);
    embed.update(fresh);
  }, () => {});  // the copy it has is shown
  return h('section', { class: 'card sharing', 'aria-labelledby': 'sharing-heading' },
    h('h2', { id: 'sharing-heading' }, 'Sharing'),
    address.el, embed.el);
}
