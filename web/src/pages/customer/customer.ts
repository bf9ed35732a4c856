// Customer 360: who the customer is (profile, identifiers, households and
// organizations), what happened (a timeline of transactions, interactions,
// tracked events and decisions, filtered by type), what they agreed to
// (consents, editable), where they belong (segments), what to offer next and
// why (POST /v1/decide with explain, responses recorded with one click), and
// their open alerts and cases. "As of" shows who the customer was on a date.
import { ApiError, get, post, put, seg } from '../../lib/api';
import { announce, formatDate, formatMoney, formatTime, h, replace, uid } from '../../lib/dom';
import { showProblem } from '../../lib/problems';
import { rememberRecent } from '../../lib/recent';
import { navigate, type PageContext } from '../../lib/router';
import { can } from '../../lib/session';
import {
  MASKED,
  type AttributeValue,
  type Consent,
  type CustomerSummary,
  type CustomerView,
  type Decision,
  type DecisionPoint,
  type ResponseRecord,
  type ScoredAction,
} from '../../lib/types';

export function title(ctx: PageContext): string {
  return `Customer #${ctx.params['id'] ?? ''}`;
}

function section(id: string, heading: string, ...body: (Node | string | null | false | Node[])[]): HTMLElement {
  const headingId = `${id}-title`;
  return h('section', { class: 'card', id, 'aria-labelledby': headingId }, h('h2', { id: headingId }, heading), ...body);
}

function nameOf(s: { displayName: string; id: number }): string {
  return s.displayName && s.displayName !== MASKED ? s.displayName : `Customer #${s.id} (name hidden)`;
}

function valueText(v: AttributeValue): string {
  if (v === null) return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

function masked(text: string): Node | string {
  return text === MASKED || text.endsWith(`:${MASKED}`)
    ? h('span', { class: 'masked', title: 'Personal data: hidden for your role' }, text, h('span', { class: 'visually-hidden' }, ' (hidden for your role)'))
    : text;
}

function summaryLink(s: CustomerSummary): HTMLElement {
  return h('a', { href: `/customers/${s.id}` }, nameOf(s));
}

// ---- profile ---------------------------------------------------------------

function profile(view: CustomerView): HTMLElement {
  const c = view.customer;
  const attrs = Object.entries(c.attributes).sort(([a], [b]) => a.localeCompare(b));
  return section(
    'profile',
    'Profile',
    attrs.length
      ? h('dl', { class: 'pairs' }, attrs.map(([k, v]) => [h('dt', null, k), h('dd', null, masked(valueText(v)))]))
      : h('p', { class: 'muted' }, 'No attributes.'),
    h('h3', null, 'Identifiers'),
    c.identifiers.length ? h('ul', { class: 'tags' }, c.identifiers.map((i) => h('li', { class: 'tag' }, masked(i)))) : h('p', { class: 'muted' }, 'None.'),
    h('p', { class: 'muted' }, `Customer since ${formatDate(c.createdAt)}, last changed ${formatTime(c.updatedAt)}.`),
  );
}

function relations(view: CustomerView): HTMLElement {
  const label: Record<string, string> = {
    member_of: 'Member of',
    works_for: 'Works for',
    subsidiary_of: 'Subsidiary of',
  };
  return section(
    'relations',
    'Households and organizations',
    view.links.length
      ? h(
          'ul',
          { class: 'plain' },
          view.links.map((l) =>
            h(
              'li',
              null,
              h('strong', null, `${label[l.relationship.type] ?? l.relationship.type.replace(/_/g, ' ')} `),
              summaryLink(l.customer),
              l.relationship.role ? ` (${l.relationship.role})` : '',
              ` · ${l.customer.kind}`,
              l.members.length
                ? h('ul', { class: 'members' }, l.members.map((m) => h('li', null, summaryLink(m))))
                : null,
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'Not linked to a household or organization.'),
    view.members.length
      ? [h('h3', null, 'Members'), h('ul', { class: 'plain' }, view.members.map((m) => h('li', null, summaryLink(m), ` · ${m.kind}`)))]
      : [],
  );
}

function accounts(view: CustomerView): HTMLElement {
  const t = view.transactionSummary;
  return section(
    'accounts',
    'Accounts and purchases',
    h(
      'dl',
      { class: 'pairs' },
      h('dt', null, 'Purchases'),
      h('dd', null, String(t.count)),
      h('dt', null, 'Revenue'),
      h('dd', null, formatMoney(t.revenue)),
      h('dt', null, 'First / last'),
      h('dd', null, t.firstPurchase ? `${formatDate(t.firstPurchase)} / ${formatDate(t.lastPurchase)}` : '—'),
    ),
    view.accounts.length
      ? h(
          'table',
          null,
          h('caption', { class: 'visually-hidden' }, 'Accounts'),
          h('thead', null, h('tr', null, ['Product', 'Status', 'Opened', 'Balance'].map((c) => h('th', { scope: 'col' }, c)))),
          h(
            'tbody',
            null,
            view.accounts.map((a) =>
              h('tr', null, h('td', null, a.product), h('td', null, a.status), h('td', null, formatDate(a.openedAt)), h('td', { class: 'num' }, formatMoney(a.balance, a.currency))),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No accounts.'),
  );
}

// ---- timeline --------------------------------------------------------------

interface Entry {
  type: 'transaction' | 'interaction' | 'event' | 'decision';
  at: string;
  text: string;
  detail: string;
}

const timelineTypes: { type: Entry['type']; label: string }[] = [
  { type: 'transaction', label: 'Transactions' },
  { type: 'interaction', label: 'Interactions' },
  { type: 'event', label: 'Tracked events' },
  { type: 'decision', label: 'Decisions' },
];

function timelineEntries(view: CustomerView): Entry[] {
  const out: Entry[] = [];
  for (const t of view.recentTransactions) {
    out.push({
      type: 'transaction',
      at: t.occurredAt,
      text: `${t.amount < 0 ? 'Refund' : 'Purchase'}: ${t.item || t.sku || t.category || 'item'} ${formatMoney(t.amount, t.currency)}`,
      detail: [t.channel, t.location, t.quantity !== 1 ? `× ${t.quantity}` : ''].filter(Boolean).join(' · '),
    });
  }
  for (const i of view.recentInteractions) {
    out.push({
      type: 'interaction',
      at: i.occurredAt,
      text: `${i.type} via ${i.channel}${i.reason ? `: ${i.reason}` : ''}`,
      detail: [i.direction, i.department, i.agent, i.outcome, i.campaign].filter(Boolean).join(' · '),
    });
  }
  for (const e of view.sections.recentEvents ?? []) {
    out.push({ type: 'event', at: e.timestamp, text: `${e.type}: ${e.event || e.touchPoint}`, detail: [e.channel, e.touchPoint].filter(Boolean).join(' · ') });
  }
  for (const d of view.sections.recentDecisions ?? []) {
    out.push({
      type: 'decision',
      at: d.at,
      text: `Decision at ${d.decisionPoint}: ${d.actions.join(', ') || 'nothing offered'}`,
      detail: `${d.channel} · ${d.model.name} v${d.model.version} · ${d.decisionId}`,
    });
  }
  return out.sort((a, b) => b.at.localeCompare(a.at));
}

// asOf: only what had happened by then (the decision and event sections are always today's).
function timeline(view: CustomerView, asOf: string | null): HTMLElement {
  const cutoff = asOf ? new Date(asOf).getTime() : Infinity;
  const entries = timelineEntries(view).filter((e) => new Date(e.at).getTime() <= cutoff);
  const shown = new Set(timelineTypes.map((t) => t.type));
  // Scrolls on its own, so it takes the keyboard focus too.
  const list = h('ol', { class: 'timeline', tabindex: '0', 'aria-label': 'Timeline entries, newest first' });
  const draw = () => {
    const visible = entries.filter((e) => shown.has(e.type));
    replace(
      list,
      visible.length
        ? visible.map((e) =>
            h(
              'li',
              { class: `tl-${e.type}` },
              h('time', { datetime: e.at }, formatTime(e.at)),
              h('span', { class: 'tl-type' }, timelineTypes.find((t) => t.type === e.type)?.label.replace(/s$/, '') ?? e.type),
              h('span', { class: 'tl-text' }, e.text),
              e.detail ? h('span', { class: 'muted tl-detail' }, e.detail) : null,
            ),
          )
        : h('li', { class: 'muted' }, 'Nothing of the chosen types.'),
    );
  };
  const filters = h(
    'fieldset',
    { class: 'filters' },
    h('legend', null, 'Show'),
    timelineTypes.map((t) => {
      const id = uid('tl');
      const box = h('input', { type: 'checkbox', id, checked: true, value: t.type });
      box.addEventListener('change', () => {
        if (box.checked) shown.add(t.type);
        else shown.delete(t.type);
        draw();
      });
      const count = entries.filter((e) => e.type === t.type).length;
      return h('span', { class: 'check' }, box, h('label', { for: id }, `${t.label} (${count})`));
    }),
  );
  draw();
  return section('timeline', 'Timeline', filters, list);
}

// ---- consents --------------------------------------------------------------

function consents(view: CustomerView, customerId: number, asOf: boolean): HTMLElement {
  const editable = can('consents:write') && !asOf;
  const rows = new Map<string, Consent>();
  for (const c of view.consents) rows.set(`${c.channel}\n${c.purpose}`, c);
  const body = h('tbody');
  const form = h('form', { class: 'inline-form', 'aria-label': 'Record a consent' });
  const drawRows = () => {
    replace(
      body,
      [...rows.values()]
        .sort((a, b) => a.channel.localeCompare(b.channel) || a.purpose.localeCompare(b.purpose))
        .map((c) => {
          const cell = h('td', null);
          if (editable) {
            const button = h(
              'button',
              { type: 'button', 'aria-label': `${c.granted ? 'Withdraw' : 'Grant'} ${c.purpose} consent for ${c.channel}` },
              c.granted ? 'Withdraw' : 'Grant',
            );
            button.addEventListener('click', () => void record(c.channel, c.purpose, !c.granted, button));
            cell.append(button);
          }
          return h(
            'tr',
            null,
            h('th', { scope: 'row' }, c.channel),
            h('td', null, c.purpose),
            h('td', null, h('span', { class: c.granted ? 'yes' : 'no' }, c.granted ? 'granted' : 'withdrawn')),
            h('td', null, `${formatDate(c.at)} · ${c.source}`),
            editable ? cell : null,
          );
        }),
    );
    if (!rows.size) body.append(h('tr', null, h('td', { colspan: editable ? 5 : 4, class: 'muted' }, 'No consent recorded.')));
  };
  const record = async (channel: string, purpose: string, granted: boolean, button?: HTMLButtonElement) => {
    if (button) button.disabled = true;
    try {
      const stored = await put<Consent>(`/v1/customers/${customerId}/consents/${seg(channel)}`, { purpose, granted, source: 'workspace' });
      rows.set(`${stored.channel}\n${stored.purpose}`, stored);
      drawRows();
      announce(`${stored.purpose} consent for ${stored.channel} ${stored.granted ? 'granted' : 'withdrawn'}`);
      return true;
    } catch (e) {
      showProblem(form, e, fields);
      if (button) button.disabled = false;
      return false;
    }
  };
  const channelId = uid('consent-channel');
  const purposeId = uid('consent-purpose');
  const channel = h('input', { id: channelId, name: 'channel', required: true, list: 'consent-channels', autocomplete: 'off' });
  const purpose = h('input', { id: purposeId, name: 'purpose', value: 'marketing', required: true });
  const grantedId = uid('consent-granted');
  const granted = h('select', { id: grantedId, name: 'granted' }, h('option', { value: 'true' }, 'granted'), h('option', { value: 'false' }, 'withdrawn'));
  const fields = { channel, '/purpose': purpose, '/granted': granted };
  if (editable) {
    form.append(
      h('p', { class: 'form-alert', role: 'alert', hidden: true }),
      h('datalist', { id: 'consent-channels' }, ['email', 'sms', 'phone', 'post', 'push'].map((c) => h('option', { value: c }))),
      h('div', { class: 'field' }, h('label', { for: channelId }, 'Channel'), channel),
      h('div', { class: 'field' }, h('label', { for: purposeId }, 'Purpose'), purpose),
      h('div', { class: 'field' }, h('label', { for: grantedId }, 'Consent'), granted),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Record consent')),
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!channel.value.trim()) {
        showProblem(form, new ApiError(400, { status: 400, errors: [{ parameter: 'channel', detail: 'Name the channel, e.g. email' }] }, null), fields);
        return;
      }
      if (await record(channel.value.trim(), purpose.value.trim() || 'marketing', granted.value === 'true')) {
        channel.value = '';
      }
    });
  }
  drawRows();
  return section(
    'consents',
    'Consents',
    h(
      'table',
      null,
      h('caption', { class: 'visually-hidden' }, 'Consents by channel and purpose'),
      h('thead', null, h('tr', null, ['Channel', 'Purpose', 'State', 'Since'].map((c) => h('th', { scope: 'col' }, c)), editable ? h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Change')) : null)),
      body,
    ),
    asOf ? h('p', { class: 'muted' }, 'Consents as of the chosen date; go back to today to change them.') : null,
    editable ? form : null,
  );
}

// ---- next best actions -----------------------------------------------------

function components(a: ScoredAction): string {
  return Object.entries(a.components)
    .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(3)}`)
    .join(' · ');
}

function actionCard(decision: Decision, a: ScoredAction): HTMLElement {
  const status = h('p', { class: 'response-status', role: 'status' });
  const group = h('div', { class: 'response-buttons', role: 'group', 'aria-label': `Response to ${a.name}` });
  for (const [outcome, label] of [
    ['accepted', 'Accepted'],
    ['ignored', 'Ignored'],
    ['rejected', 'Rejected'],
  ] as const) {
    const b = h('button', { type: 'button', class: outcome === 'accepted' ? 'primary' : '' }, label);
    b.addEventListener('click', async () => {
      group.querySelectorAll('button').forEach((x) => (x.disabled = true));
      try {
        const r = await post<ResponseRecord>('/v1/responses', { decisionId: decision.decisionId, actionId: a.actionId, outcome });
        group.remove();
        status.textContent = `Response recorded: ${r.outcome} (${formatTime(r.at)})`;
        status.dataset['outcome'] = r.outcome;
      } catch (e) {
        status.textContent = e instanceof ApiError && e.status === 409 ? 'A response to this offer is already recorded.' : `Not recorded: ${e instanceof Error ? e.message : String(e)}`;
        group.querySelectorAll('button').forEach((x) => (x.disabled = false));
      }
    });
    group.append(b);
  }
  return h(
    'li',
    { class: 'action', 'data-action': a.actionId },
    h('h3', null, a.name),
    h('p', { class: 'muted' }, `${a.kind} · ${a.purpose} · ${a.actionId}`),
    h('p', null, `Score ${a.score.toFixed(2)}: `, h('span', { class: 'muted' }, components(a))),
    decision.decisionId ? group : null,
    status,
  );
}

function explanation(d: Decision): HTMLElement | null {
  const e = d.explanation;
  if (!e) return null;
  return h(
    'details',
    { class: 'explanation' },
    h('summary', null, 'Why these actions'),
    h('p', null, `Model ${e.model.name} v${e.model.version}, decision “${e.model.decision}”. Candidates: ${e.candidates.join(', ') || 'none'}.`),
    h('h3', null, 'Rules that matched'),
    h('ul', { class: 'plain' }, e.rulesMatched.map((t) => h('li', null, `${t.decision} (${t.hitPolicy}): rules ${t.rules.map((r) => r.ruleId ?? `#${r.rule}`).join(', ') || 'none'}`))),
    h('h3', null, 'Inputs'),
    h('dl', { class: 'pairs' }, Object.entries(e.inputs).map(([k, v]) => [h('dt', null, k), h('dd', null, masked(typeof v === 'string' ? v : JSON.stringify(v)))])),
    h('h3', null, 'Left out'),
    e.removed.length
      ? h(
          'table',
          null,
          h('caption', { class: 'visually-hidden' }, 'Actions left out and why'),
          h('thead', null, h('tr', null, ['Action', 'Stage', 'By', 'Reason'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', null, e.removed.map((r) => h('tr', null, h('td', null, r.actionId), h('td', null, r.stage), h('td', null, r.by), h('td', null, r.reason)))),
        )
      : h('p', { class: 'muted' }, 'Nothing was left out.'),
  );
}

const kOutbound: ReadonlySet<string> = new Set(['email', 'sms', 'push', 'post', 'phone_outbound']);

function nextBestActions(customerId: number, signal: AbortSignal, asOf: boolean, preview: unknown): HTMLElement {
  const body = h('div', { class: 'nba-body' }, h('p', { class: 'loading' }, 'Deciding…'));
  const card = section('next-best-actions', 'Next best actions', asOf ? h('p', { class: 'muted' }, 'Decided for today, not for the chosen date.') : null, body);
  void (async () => {
    try {
      const points = await get<{ items: DecisionPoint[] }>('/v1/decision-points', { signal });
      const point = points.items.find((p) => p.showIn360) ?? points.items[0];
      if (!point) {
        replace(body, h('p', { class: 'muted' }, 'No decision point is set up yet.'));
        return;
      }
      // On an outbound channel a decision is a delivery and counts as a
      // contact; opening the page must not, so the page decides on an inbound
      // channel of the point, else shows the view's preview (no response to record).
      const channel = point.channels.length ? point.channels.find((c) => !kOutbound.has(c)) : 'web';
      const d: Decision | undefined = channel
        ? await post<Decision>('/v1/decide', { customerId, channel, decisionPoint: point.name, explain: true, limit: 3 }, { signal })
        : (preview as Decision | undefined);
      if (!d) {
        replace(body, h('p', { class: 'muted' }, `${point.name} decides on outbound channels only; its offers are sent, not shown here.`));
        return;
      }
      replace(
        body,
        h('p', { class: 'muted' }, `At ${d.decisionPoint} on ${d.channel}${d.controlGroup ? ' (this customer is in the control group)' : ''}.`),
        d.actions.length ? h('ul', { class: 'actions-list plain' }, d.actions.map((a) => actionCard(d, a))) : h('p', null, 'Nothing to offer now.'),
        explanation(d),
      );
      card.dataset['decisionId'] = d.decisionId ?? '';
    } catch (e) {
      if (signal.aborted) return;
      replace(body, h('p', { class: 'muted' }, `No decision: ${e instanceof Error ? e.message : String(e)}`));
    }
  })();
  return card;
}

// ---- segments, alerts and cases -------------------------------------------

function segments(view: CustomerView): HTMLElement {
  const list = view.sections.segments ?? [];
  return section(
    'segments',
    'Segments',
    list.length ? h('ul', { class: 'tags' }, list.map((s) => h('li', { class: 'tag' }, s.name))) : h('p', { class: 'muted' }, 'In no saved segment.'),
  );
}

function alertsAndCases(view: CustomerView): HTMLElement {
  const alerts = view.sections.alerts ?? [];
  const cases = view.sections.cases?.items ?? [];
  return section(
    'alerts-cases',
    'Alerts and cases',
    alerts.length
      ? h('ul', { class: 'plain' }, alerts.map((a) => h('li', { class: `severity-${a.severity}` }, h('strong', null, `${a.severity}: `), masked(a.message), h('span', { class: 'muted' }, ` · ${formatTime(a.createdAt)}`))))
      : h('p', { class: 'muted' }, 'No open alert.'),
    cases.length
      ? h('ul', { class: 'plain' }, cases.map((c) => h('li', null, h('strong', null, `${c.kind} #${c.id} `), masked(c.title), h('span', { class: 'muted' }, ` · ${c.status.replace('_', ' ')} · ${c.team}${c.assignee ? ` · ${c.assignee}` : ''}`))))
      : h('p', { class: 'muted' }, 'No open case or task.'),
  );
}

// ---- the page --------------------------------------------------------------

function asOfForm(customerId: number, asOf: string | null): HTMLElement {
  const id = uid('asof');
  const input = h('input', { id, type: 'date', name: 'asOf', value: asOf ? asOf.slice(0, 10) : '' });
  const form = h(
    'form',
    { class: 'asof', 'aria-label': 'Show the customer as of a date' },
    h('label', { for: id }, 'As of'),
    input,
    h('button', { type: 'submit' }, 'Show'),
    asOf ? h('a', { href: `/customers/${customerId}` }, 'Today') : null,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    navigate(input.value ? `/customers/${customerId}?asOf=${input.value}` : `/customers/${customerId}`);
  });
  return form;
}

export async function render(ctx: PageContext): Promise<void> {
  const id = Number(ctx.params['id']);
  if (!Number.isInteger(id) || id < 1) {
    replace(ctx.main, h('h1', null, 'No such customer'), h('p', null, 'A customer id is a positive number.'));
    return;
  }
  const asOfDate = ctx.query.get('asOf');
  const asOf = asOfDate && /^\d{4}-\d{2}-\d{2}$/.test(asOfDate) ? `${asOfDate}T23:59:59Z` : null;
  let view: CustomerView;
  try {
    view = await get<CustomerView>(`/v1/customers/${id}/view${asOf ? `?asOf=${encodeURIComponent(asOf)}` : ''}`, { signal: ctx.signal });
  } catch (e) {
    if (ctx.signal.aborted) return;
    if (e instanceof ApiError && e.status === 404) {
      replace(
        ctx.main,
        h('h1', null, asOf ? `Customer #${id} did not exist yet` : `No customer #${id}`),
        h('p', null, e.problem.detail ?? ''),
        asOf ? asOfForm(id, asOfDate) : null,
      );
      return;
    }
    throw e;
  }
  const c = view.customer;
  rememberRecent({ path: `/customers/${c.id}`, label: nameOf(c), kind: c.kind });
  replace(
    ctx.main,
    h(
      'div',
      { class: 'page-head' },
      h('div', null, h('h1', null, nameOf(c)), h('p', { class: 'muted' }, `${c.kind} · customer #${c.id}${asOf ? ` · as of ${asOfDate}` : ''}`)),
      asOfForm(c.id, asOfDate),
    ),
    can('pii:read') ? null : h('p', { class: 'notice', role: 'note' }, 'Personal data is hidden for your role: names, e-mails, phone numbers and other personal attributes show as ***.'),
    h(
      'div',
      { class: 'grid' },
      profile(view),
      can('decide') ? nextBestActions(c.id, ctx.signal, asOf !== null, view.sections['nextBestActions']) : null,
      timeline(view, asOf),
      relations(view),
      consents(view, c.id, asOf !== null),
      accounts(view),
      segments(view),
      alertsAndCases(view),
    ),
  );
}
