// Users (admin): who may sign in, their department and roles.
import { get } from '../../lib/api';
import { formatDate, h, replace } from '../../lib/dom';
import type { PageContext } from '../../lib/router';
import type { Page, User } from '../../lib/types';

export const title = 'Users';

export async function render(ctx: PageContext): Promise<void> {
  const users = await get<Page<User>>('/v1/users?limit=200', { signal: ctx.signal });
  replace(
    ctx.main,
    h('h1', null, 'Users'),
    h(
      'table',
      null,
      h('caption', { class: 'visually-hidden' }, 'Users'),
      h('thead', null, h('tr', null, ['Name', 'E-mail', 'Department', 'Roles', 'State', 'Since'].map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        null,
        users.items.map((u) =>
          h(
            'tr',
            null,
            h('td', null, u.name),
            h('td', null, u.email),
            h('td', null, u.department),
            h('td', null, u.roles.join(', ')),
            h('td', null, u.disabled ? 'disabled' : 'active'),
            h('td', null, formatDate(u.createdAt)),
          ),
        ),
      ),
    ),
  );
}
