// Signs a person in again when the session ends mid-work: a modal dialog over
// the page, so the page (and what was typed into it) stays as it was, and the
// call that met the 401 is retried afterwards.
import { h } from '../lib/dom';
import { session } from '../lib/session';
import type { Session } from '../lib/types';
import { signInForm } from './signin_form';

let pending: Promise<void> | null = null;

export function signInAgain(onSignedIn: (s: Session) => void): Promise<void> {
  pending ??= new Promise<void>((resolve) => {
    const previous = document.activeElement as HTMLElement | null;
    const titleId = 'reauth-title';
    const dialog = h(
      'dialog',
      { class: 'reauth', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, 'Your session has ended'),
      h('p', null, 'Sign in again to go on. What you typed on the page is kept.'),
    );
    const form = signInForm(
      (s) => {
        dialog.close();
        dialog.remove();
        pending = null;
        onSignedIn(s);
        previous?.focus();
        resolve();
      },
      { email: session()?.user.email ?? '' },
    );
    dialog.append(form);
    // The dialog cannot be dismissed without signing in: the call waits for it.
    dialog.addEventListener('cancel', (e) => e.preventDefault());
    document.body.append(dialog);
    dialog.showModal();
    const email = form.querySelector<HTMLInputElement>('input[name="email"]');
    (email?.value ? form.querySelector<HTMLInputElement>('input[name="password"]') : email)?.focus();
  });
  return pending;
}
