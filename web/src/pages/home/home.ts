// Home: whom the person worked on last, and where to start.
import { h, replace } from '../../lib/dom';
import { recentItems } from '../../lib/recent';
import type { PageContext } from '../../lib/router';
import { can, session } from '../../lib/session';

export const title = 'Home';

export function render(ctx: PageContext): void {
  const s = session();
  const recent = recentItems();
  replace(
    ctx.main,
    h('h1', null, `Welcome, ${s?.user.name || s?.user.email || ''}`),
    h(
      'p',
      null,
      'Find a customer with the search at the top (press ',
      h('kbd', null, '/'),
      ' to go there, arrow keys and Enter to pick one): by name, e-mail, phone, id or an identifier such as ',
      h('code', null, 'billing:88231'),
      '.',
    ),
    can('pii:read')
      ? null
      : h('p', { class: 'notice' }, 'Your role does not read personal data: names, e-mails and phone numbers show as ***, and the search finds customers by id or identifier.'),
    h('section', { 'aria-labelledby': 'home-recent' }, h('h2', { id: 'home-recent' }, 'Recently opened'),
      recent.length
        ? h('ul', { class: 'cards' }, recent.map((r) => h('li', null, h('a', { href: r.path }, r.label), h('span', { class: 'muted' }, ` ${r.kind}`))))
        : h('p', { class: 'muted' }, 'Nobody yet: customers you open appear here.')),
    h('section', { 'aria-labelledby': 'home-perms' }, h('h2', { id: 'home-perms' }, 'What your roles allow'),
      h('ul', { class: 'tags' }, (s?.permissions ?? []).map((p) => h('li', { class: 'tag' }, p)))),
  );
}
