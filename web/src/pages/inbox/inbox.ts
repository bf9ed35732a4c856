// Cases, tasks and alerts: the open ones, newest first, with the customer.
import { get } from '../../lib/api';
import { formatTime, h, replace } from '../../lib/dom';
import type { PageContext } from '../../lib/router';
import type { Alert, CaseItem, Page } from '../../lib/types';

export const title = 'Cases and alerts';

export async function render(ctx: PageContext): Promise<void> {
  const [alerts, cases] = await Promise.all([
    get<Page<Alert>>('/v1/alerts?status=open&limit=50', { signal: ctx.signal }),
    get<Page<CaseItem>>('/v1/cases?status=open&limit=50', { signal: ctx.signal }),
  ]);
  replace(
    ctx.main,
    h('h1', null, 'Cases and alerts'),
    h('section', { 'aria-labelledby': 'inbox-cases' }, h('h2', { id: 'inbox-cases' }, 'Open cases and tasks'),
      cases.items.length
        ? h('table', null,
            h('thead', null, h('tr', null, ['Case', 'Customer', 'Team', 'Priority', 'Assignee', 'Due'].map((c) => h('th', { scope: 'col' }, c)))),
            h('tbody', null, cases.items.map((c) => h('tr', null,
              h('td', null, `${c.kind} #${c.id}: ${c.title}`),
              h('td', null, h('a', { href: `/customers/${c.customerId}` }, `#${c.customerId}`)),
              h('td', null, c.team), h('td', null, c.priority), h('td', null, c.assignee ?? '—'), h('td', null, formatTime(c.dueAt))))))
        : h('p', { class: 'muted' }, 'No open case or task.')),
    h('section', { 'aria-labelledby': 'inbox-alerts' }, h('h2', { id: 'inbox-alerts' }, 'Open alerts'),
      alerts.items.length
        ? h('ul', { class: 'plain' }, alerts.items.map((a) => h('li', null, h('a', { href: `/customers/${a.customerId}` }, `${a.severity}: ${a.message}`), h('span', { class: 'muted' }, ` · ${formatTime(a.createdAt)}`))))
        : h('p', { class: 'muted' }, 'No open alert.')),
  );
}
