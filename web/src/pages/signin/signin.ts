// The sign-in page: e-mail and password; after signing in, back to the page
// the person asked for (?next=).
import { h, replace } from '../../lib/dom';
import { navigate, type PageContext } from '../../lib/router';
import { signInForm } from '../../components/signin_form';

export const title = 'Sign in';

export function render(ctx: PageContext): void {
  const next = ctx.query.get('next');
  const target = next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
  const form = signInForm(() => {
    window.dispatchEvent(new CustomEvent('rapport:signed-in'));
    navigate(target, { replace: true });
  });
  replace(
    ctx.main,
    h(
      'div',
      { class: 'signin-card' },
      h('p', { class: 'brand' }, 'Rapport'),
      h('h1', null, 'Sign in to the workspace'),
      next ? h('p', { class: 'muted' }, 'Sign in to go on where you were.') : null,
      form,
    ),
  );
  form.querySelector<HTMLInputElement>('input[name="email"]')?.focus();
}
