// The organization's webhooks (docs/api-webhooks.md), for admins and owners:
// endpoints with their events, secret (revealed on demand, rotatable) and
// state (why reel disabled one), a test event, and each endpoint's delivery
// log with a way to send a delivery again.
import { h, messageBox, notify, confirmDialog, formatDate, copyText } from '../dom.js';
import { api } from '../api.js';
import { session, can } from '../session.js';

const EVENTS = ['video.created', 'video.uploaded', 'video.processing', 'video.playable', 'video.ready', 'video.failed', 'video.deleted',
  'member.added', 'member.removed'];

export function renderWebhooks(main) {
  const org = session.organization;
  if (!can('admin')) {
    main.replaceChildren(h('div', { class: 'page-head' }, h('h1', { tabindex: -1 }, 'Webhooks')),
      h('p', { class: 'muted' }, 'Only admins and owners manage the webhooks of ', org.name, '.'));
    return;
  }
  const message = messageBox();
  const list = h('div', { class: 'webhooks' });

  async function load() {
    try {
      const { webhooks } = await api.webhooks(org.id);
      list.replaceChildren(...(webhooks.length ? webhooks.map((w) => endpointCard(org, w, load))
        : [h('p', { class: 'muted small' }, 'No webhooks yet.')]));
    } catch (error) {
      message.show(`The webhooks could not be loaded: ${error.message}`);
    }
  }

  main.replaceChildren(
    h('div', { class: 'page-head' }, h('div', {}, h('h1', { tabindex: -1 }, 'Webhooks'),
      h('p', { class: 'muted' }, `Signed HTTP POSTs to your systems when something happens in ${org.name} `,
        '(Standard Webhooks: verify them with the standardwebhooks library).'))),
    message.el, list, addForm(org, load));
  load();
}

function endpointCard(org, w, reload) {
  const message = messageBox();
  const secret = h('input', { type: 'text', readonly: true, class: 'mono', value: w.secret, 'aria-label': 'Signing secret', hidden: true });
  const reveal = h('button', { type: 'button', class: 'btn btn-small' }, 'Reveal secret');
  reveal.addEventListener('click', () => {
    secret.hidden = !secret.hidden;
    reveal.textContent = secret.hidden ? 'Reveal secret' : 'Hide secret';
  });
  const copy = h('button', { type: 'button', class: 'btn btn-small', onclick: () => copyText(secret) }, 'Copy');
  const log = h('div', { class: 'table-wrap', hidden: true });
  const state = w.enabled ? h('span', { class: 'badge badge-ok' }, 'Enabled')
    : h('span', { class: 'badge badge-off' }, 'Disabled');
  const act = (label, fn, cls = 'btn btn-small') => h('button', { type: 'button', class: cls, onclick: (e) => run(e.target, fn) }, label);

  async function run(button, fn) {
    message.clear();
    button.disabled = true;
    try {
      await fn();
    } catch (error) {
      message.show(error.message);
    } finally {
      button.disabled = false;
    }
  }

  // While a delivery is pending, the open log asks again until it settles
  // (delivered or failed), so the outcome shows without a click: every 2 s
  // while an attempt is due or under way, else shortly after the next one is
  // due (at most a minute apart, for retries hours away).
  let refresh = null;
  async function showLog() {
    const { deliveries } = await api.webhookDeliveries(org.id, w.id);
    clearTimeout(refresh); // after the await: of two loads at once, the one that ends last keeps the only timer
    log.hidden = false;
    const pending = deliveries.filter((d) => d.status === 'pending');
    if (pending.length) {
      const due = Math.min(...pending.map((d) => (d.nextAttemptAt ? Date.parse(d.nextAttemptAt) - Date.now() : 0)));
      refresh = setTimeout(() => {
        if (log.isConnected && !log.hidden) showLog().catch((error) => message.show(error.message));
      }, Number.isFinite(due) ? Math.min(60000, Math.max(2000, due + 1000)) : 2000);
    }
    log.replaceChildren(deliveries.length === 0 ? h('p', { class: 'muted small' }, 'No deliveries yet.')
      : h('table', { class: 'deliveries' },
        h('thead', {}, h('tr', {}, ['Event', 'Status', 'Attempts', 'Response', 'Latency', 'When', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, deliveries.map((d) => h('tr', {},
          h('td', {}, d.eventType, h('div', { class: 'muted small mono' }, d.messageId)),
          h('td', {}, h('span', { class: `badge badge-${d.status}` }, d.status),
            d.error ? h('div', { class: 'small' }, d.error) : null,
            d.status === 'pending' && d.nextAttemptAt ? h('div', { class: 'muted small' }, `next ${formatDate(d.nextAttemptAt)}`) : null),
          h('td', {}, String(d.attempts)),
          h('td', {}, d.responseCode ?? '—', d.responseBody ? h('div', { class: 'muted small mono' }, d.responseBody.slice(0, 200)) : null),
          h('td', {}, d.latencyMs === null ? '—' : `${d.latencyMs} ms`),
          h('td', { class: 'muted small' }, formatDate(d.lastAttemptAt ?? d.createdAt)),
          h('td', { class: 'cell-actions' }, act('Redeliver', async () => {
            await api.redeliverWebhook(org.id, w.id, d.id);
            notify('The delivery will be sent again.', 'success');
            await showLog();
          })))))));
  }

  return h('section', { class: 'card', 'aria-label': `Webhook ${w.url}` },
    h('div', { class: 'webhook-head' }, h('strong', { class: 'mono' }, w.url), ' ', state),
    w.disabledReason ? h('p', { class: 'message message-error' }, `Disabled by reel: ${w.disabledReason}`) : null,
    h('p', { class: 'muted small' }, `Events: ${w.events.join(', ')} · added ${formatDate(w.createdAt)}`),
    message.el,
    h('div', { class: 'inline-fields' }, reveal, secret, copy,
      act('Rotate secret', async () => {
        const ok = await confirmDialog({ title: 'Rotate the secret?', message: 'Messages sent from now on are signed with a new secret; update your receiver.', confirmLabel: 'Rotate', danger: true });
        if (!ok) return;
        await api.updateWebhook(org.id, w.id, { rotateSecret: true });
        notify('The secret was rotated.', 'success');
        await reload();
      }),
      act(w.enabled ? 'Disable' : 'Enable', async () => {
        await api.updateWebhook(org.id, w.id, { enabled: !w.enabled });
        await reload();
      }),
      act('Send test event', async () => {
        await api.testWebhook(org.id, w.id);
        notify('A webhook.test message is on its way.', 'success');
        await showLog();
      }),
      act('Delivery log', showLog),
      act('Delete', async () => {
        const ok = await confirmDialog({ title: 'Delete this webhook?', message: `${w.url} will receive nothing more; its delivery log goes too.`, confirmLabel: 'Delete', danger: true });
        if (!ok) return;
        await api.deleteWebhook(org.id, w.id);
        notify('The webhook was deleted.', 'success');
        await reload();
      }, 'btn btn-small btn-danger-ghost')),
    log);
}

function addForm(org, reload) {
  const message = messageBox();
  const url = h('input', { id: 'webhook-url', name: 'url', type: 'url', required: true, placeholder: 'https://example.com/reel-webhooks' });
  const boxes = EVENTS.map((e) => h('input', { type: 'checkbox', value: e, id: `event-${e}`, checked: e === 'video.ready' }));
  const add = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add webhook');
  const form = h('form', { class: 'form card', 'aria-labelledby': 'webhook-add-heading' },
    h('h2', { id: 'webhook-add-heading' }, 'Add a webhook'), message.el,
    h('div', { class: 'field' }, h('label', { for: 'webhook-url' }, 'URL'), url),
    h('fieldset', {}, h('legend', {}, 'Events'),
      boxes.map((b) => h('label', { class: 'check', for: b.id }, b, ` ${b.value}`))),
    add);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    message.clear();
    add.disabled = true;
    try {
      const events = boxes.filter((b) => b.checked).map((b) => b.value);
      await api.addWebhook(org.id, { url: url.value.trim(), events });
      notify('Webhook added. Reveal its secret to set up your receiver.', 'success');
      url.value = '';
      await reload();
    } catch (error) {
      message.show(error.message);
    } finally {
      add.disabled = false;
    }
  });
  return form;
}
