// The notification tray: open alerts and the open cases and tasks assigned
// to the signed-in person (GET /v1/alerts, GET /v1/cases), refreshed each
// minute and whenever it is opened.
import { get } from '../lib/api';
import { formatTime, h, replace, uid } from '../lib/dom';
import { session } from '../lib/session';
import type { Alert, CaseItem, Page } from '../lib/types';

export function notificationTray(): HTMLElement {
  const panelId = uid('tray');
  const count = h('span', { class: 'badge' }, '0');
  const button = h(
    'button',
    { type: 'button', class: 'tray-button', 'aria-expanded': 'false', 'aria-controls': panelId },
    h('span', { class: 'tray-label' }, 'Notifications'),
    ' ',
    count,
  );
  const panel = h('section', { id: panelId, class: 'tray-panel', 'aria-label': 'Notifications', hidden: true });

  let timer = 0;
  const refresh = async () => {
    // A shell drawn again (after signing out and in) has a tray of its own.
    if (timer && !button.isConnected) {
      window.clearInterval(timer);
      return;
    }
    const me = session()?.user;
    if (!me) return;
    const [alerts, open, progress] = await Promise.all([
      get<Page<Alert>>('/v1/alerts?status=open&limit=20').catch(() => null),
      get<Page<CaseItem>>('/v1/cases?status=open&limit=100').catch(() => null),
      get<Page<CaseItem>>('/v1/cases?status=in_progress&limit=100').catch(() => null),
    ]);
    const mine = [...(open?.items ?? []), ...(progress?.items ?? [])].filter(
      (c) => c.assignee !== null && [me.email.toLowerCase(), me.name.toLowerCase()].includes(c.assignee.toLowerCase()),
    );
    const n = (alerts?.items.length ?? 0) + mine.length;
    count.textContent = String(n);
    replace(
      panel,
      h('h2', null, 'Open alerts'),
      alerts === null
        ? h('p', null, 'Alerts could not be loaded.')
        : alerts.items.length
          ? h(
              'ul',
              { class: 'plain' },
              alerts.items.map((a) =>
                h(
                  'li',
                  null,
                  h('a', { href: `/customers/${a.customerId}` }, `${a.severity}: ${a.message}`),
                  h('span', { class: 'muted' }, ` · customer #${a.customerId} · ${formatTime(a.createdAt)}`),
                ),
              ),
            )
          : h('p', { class: 'muted' }, 'No open alerts.'),
      h('h2', null, 'Assigned to me'),
      mine.length
        ? h(
            'ul',
            { class: 'plain' },
            mine.map((c) =>
              h(
                'li',
                null,
                h('a', { href: `/customers/${c.customerId}` }, `${c.kind} #${c.id}: ${c.title}`),
                h('span', { class: 'muted' }, ` · ${c.status.replace('_', ' ')} · ${c.team}`),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'No open case or task is assigned to you.'),
    );
  };

  const toggle = (show: boolean) => {
    panel.hidden = !show;
    button.setAttribute('aria-expanded', String(show));
    if (show) void refresh();
  };
  button.addEventListener('click', () => toggle(panel.hidden === true));
  panel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      toggle(false);
      button.focus();
    }
  });
  const tray = h('div', { class: 'tray' }, button, panel);
  // A click elsewhere closes it, as a menu would.
  document.addEventListener('click', (e) => {
    if (tray.isConnected && !panel.hidden && !tray.contains(e.target as Node)) toggle(false);
  });
  void refresh();
  timer = window.setInterval(() => void refresh(), 60_000);
  return tray;
}
