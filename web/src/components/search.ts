// The global customer search: a combobox (WAI-ARIA 1.2) over
// GET /v1/customers?q= by name, e-mail, phone or scheme:value, and by id.
// "/" focuses it from anywhere; arrow keys move through the results, Enter
// opens one, Escape closes the list.
import { ApiError, get, seg } from '../lib/api';
import { h, replace, uid } from '../lib/dom';
import { navigate } from '../lib/router';
import { MASKED, type Customer, type CustomerSummary, type Page } from '../lib/types';

const label = (s: { id: number; displayName: string }) =>
  s.displayName && s.displayName !== MASKED ? s.displayName : `Customer #${s.id} (name hidden)`;

interface Hit {
  id: number;
  label: string;
  detail: string;
}

export function customerSearch(): HTMLElement {
  const inputId = uid('search');
  const listId = uid('search-results');
  const statusId = uid('search-status');
  const input = h('input', {
    id: inputId,
    type: 'search',
    role: 'combobox',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'Name, e-mail, phone or id  ( / )',
    'aria-autocomplete': 'list',
    'aria-expanded': 'false',
    'aria-controls': listId,
    'aria-describedby': statusId,
    'aria-keyshortcuts': '/',
  });
  const list = h('ul', { id: listId, role: 'listbox', class: 'search-results', 'aria-label': 'Customers found', hidden: true });
  const status = h('p', { id: statusId, class: 'search-status visually-hidden', 'aria-live': 'polite' });
  let hits: Hit[] = [];
  let active = -1;
  let timer = 0;
  let controller: AbortController | null = null;

  const close = () => {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  };
  const open = (id: number) => {
    close();
    input.value = '';
    navigate(`/customers/${id}`);
  };
  const highlight = (i: number) => {
    active = i;
    list.querySelectorAll('[role="option"]').forEach((el, j) => el.setAttribute('aria-selected', j === i ? 'true' : 'false'));
    const el = list.querySelector(`#${listId}-${i}`);
    if (el) {
      input.setAttribute('aria-activedescendant', el.id);
      el.scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  };
  const show = (items: Hit[], message: string) => {
    hits = items;
    active = -1;
    replace(
      list,
      items.map((hit, i) =>
        h(
          'li',
          {
            id: `${listId}-${i}`,
            role: 'option',
            'aria-selected': 'false',
            on: { mousedown: (e) => e.preventDefault(), click: () => open(hit.id) },
          },
          h('span', { class: 'hit-label' }, hit.label),
          h('span', { class: 'hit-detail' }, hit.detail),
        ),
      ),
      items.length ? null : h('li', { class: 'search-empty', role: 'presentation' }, message),
    );
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    status.textContent = items.length ? `${items.length} customers found` : message;
  };

  const search = async (q: string) => {
    controller?.abort();
    controller = new AbortController();
    const signal = controller.signal;
    const found: Hit[] = [];
    let message = 'No customer found';
    try {
      if (/^\d+$/.test(q)) {
        try {
          const c = await get<Customer>(`/v1/customers/${seg(q)}`, { signal });
          found.push({ id: c.id, label: label(c), detail: `#${c.id} · ${c.kind}` });
        } catch (e) {
          if (!(e instanceof ApiError && (e.status === 404 || e.status === 400))) throw e;
        }
      }
      try {
        const page = await get<Page<CustomerSummary>>(`/v1/customers?q=${encodeURIComponent(q)}&limit=8`, { signal });
        for (const s of page.items) {
          if (found.some((f) => f.id === s.id)) continue;
          found.push({ id: s.id, label: label(s), detail: [`#${s.id}`, s.kind, s.email, s.phone].filter(Boolean).join(' · ') });
        }
      } catch (e) {
        if (e instanceof ApiError && e.status === 403) {
          message = 'Your role may search by id or by an identifier such as billing:88231, not by personal data';
        } else {
          throw e;
        }
      }
      if (!signal.aborted) show(found, message);
    } catch (e) {
      if (signal.aborted) return;
      show([], e instanceof Error ? `Search failed: ${e.message}` : 'Search failed');
    }
  };

  input.addEventListener('input', () => {
    window.clearTimeout(timer);
    const q = input.value.trim();
    if (!q) {
      close();
      return;
    }
    timer = window.setTimeout(() => void search(q), 150);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      if (list.hidden && input.value.trim()) void search(input.value.trim());
      else if (hits.length) highlight((active + 1) % hits.length);
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      if (hits.length) highlight(active <= 0 ? hits.length - 1 : active - 1);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      const hit = hits[active >= 0 ? active : 0];
      if (hit && !list.hidden) open(hit.id);
    } else if (e.key === 'Escape') {
      if (!list.hidden) {
        e.preventDefault();
        close();
      } else {
        input.value = '';
      }
    }
  });
  input.addEventListener('blur', () => window.setTimeout(close, 100));
  document.addEventListener('keydown', (e) => {
    if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey || !input.isConnected) return;
    const target = e.target as HTMLElement | null;
    if (target && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))) return;
    if (document.querySelector('dialog[open]')) return;
    e.preventDefault();
    input.focus();
    input.select();
  });

  return h(
    'div',
    { class: 'search', role: 'search' },
    h('label', { for: inputId, class: 'visually-hidden' }, 'Search customers'),
    input,
    list,
    status,
  );
}
