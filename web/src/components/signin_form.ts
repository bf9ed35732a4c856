// The sign-in form, used by the sign-in page and by the dialog that signs a
// person in again when their session ended mid-work.
import { ApiError } from '../lib/api';
import { h, uid } from '../lib/dom';
import { clearProblems, showProblem } from '../lib/problems';
import { signIn } from '../lib/session';
import type { Session } from '../lib/types';

function waitText(seconds: number | null): string {
  if (seconds === null) return 'a few minutes';
  if (seconds < 90) return `${seconds} seconds`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

export function signInForm(onSignedIn: (s: Session) => void, options: { email?: string } = {}): HTMLFormElement {
  const emailId = uid('email');
  const passwordId = uid('password');
  const email = h('input', {
    id: emailId,
    name: 'email',
    type: 'email',
    autocomplete: 'username',
    required: true,
    value: options.email ?? '',
  });
  const password = h('input', {
    id: passwordId,
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'signin-form', novalidate: true, 'aria-label': 'Sign in' },
    h('p', { class: 'form-alert', role: 'alert', hidden: true }),
    h('div', { class: 'field' }, h('label', { for: emailId }, 'E-mail'), email),
    h('div', { class: 'field' }, h('label', { for: passwordId }, 'Password'), password),
    h('div', { class: 'actions' }, submit),
  );
  const fields = { '/email': email, '/password': password };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearProblems(form);
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      const s = await signIn(email.value.trim(), password.value);
      password.value = '';
      onSignedIn(s);
    } catch (e) {
      if (e instanceof ApiError && e.status === 429) {
        showProblem(form, e, {}, `Too many failed sign-ins for this account. Try again in ${waitText(e.retryAfter)}.`);
      } else if (e instanceof ApiError && e.status === 401 && !(e.problem.errors ?? []).length) {
        // The same answer for an unknown e-mail and a wrong password: shown at the password.
        showProblem(form, new ApiError(401, { ...e.problem, errors: [{ field: '/password', detail: e.problem.detail ?? 'Wrong e-mail or password' }] }, null), fields);
      } else if (e instanceof ApiError) {
        showProblem(form, e, fields);
      } else {
        showProblem(form, e, {}, 'The server cannot be reached. Check the connection and try again.');
      }
    } finally {
      submit.disabled = false;
      submit.textContent = 'Sign in';
    }
  });
  return form;
}
