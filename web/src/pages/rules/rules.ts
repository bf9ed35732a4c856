// Rules: the decision models in the repository, each version with its state
// and audit trail (the first part of the Rules page; the dmn-js editor comes
// with its own module, loaded only here).
import { get, seg } from '../../lib/api';
import { formatTime, h, replace } from '../../lib/dom';
import type { PageContext } from '../../lib/router';

export const title = 'Decision rules';

interface Model {
  name: string;
  latestVersion: number;
  publishedVersion: number | null;
  updatedAt: string;
}
interface Version {
  name: string;
  version: number;
  state: string;
  author: string;
  createdAt: string;
  audit: { action: string; actor: string; at: string; comment?: string }[];
}

export async function render(ctx: PageContext): Promise<void> {
  const models = await get<{ items: Model[] }>('/v1/decision-models', { signal: ctx.signal });
  const versions = await Promise.all(
    models.items.map((m) => get<{ items: Version[] }>(`/v1/decision-models/${seg(m.name)}/versions`, { signal: ctx.signal })),
  );
  replace(
    ctx.main,
    h('h1', null, 'Decision rules'),
    h('p', { class: 'muted' }, 'The DMN models of the rules repository and the state of each version. Publishing needs rules:approve, and a colleague’s approval.'),
    models.items.length
      ? models.items.map((m, i) =>
          h(
            'section',
            { class: 'card', 'aria-labelledby': `model-${i}` },
            h('h2', { id: `model-${i}` }, m.name),
            h('p', { class: 'muted' }, `Published: ${m.publishedVersion === null ? 'none' : `version ${m.publishedVersion}`} · latest version ${m.latestVersion} · changed ${formatTime(m.updatedAt)}`),
            h(
              'table',
              null,
              h('caption', { class: 'visually-hidden' }, `Versions of ${m.name}`),
              h('thead', null, h('tr', null, ['Version', 'State', 'Author', 'Trail'].map((c) => h('th', { scope: 'col' }, c)))),
              h(
                'tbody',
                null,
                (versions[i]?.items ?? []).map((v) =>
                  h(
                    'tr',
                    null,
                    h('td', null, String(v.version)),
                    h('td', null, h('span', { class: `tag state-${v.state}` }, v.state.replace('_', ' '))),
                    h('td', null, v.author),
                    h('td', null, v.audit.map((a) => `${a.action} by ${a.actor} ${formatTime(a.at)}${a.comment ? ` (“${a.comment}”)` : ''}`).join('; ')),
                  ),
                ),
              ),
            ),
          ),
        )
      : h('p', null, 'No decision model yet.'),
  );
}
