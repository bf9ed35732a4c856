// Shows a problem document where it belongs: each error beside the field its
// JSON pointer (or parameter) names, the rest in the form's alert. One helper
// for every form (STYLE.md).
import { ApiError } from './api';
import { h, setAttr } from './dom';

export type FieldMap = Record<string, HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>;

export function clearProblems(form: HTMLElement): void {
  form.querySelectorAll('.field-error').forEach((e) => e.remove());
  form.querySelectorAll('[aria-invalid="true"]').forEach((e) => {
    e.removeAttribute('aria-invalid');
    const described = (e.getAttribute('aria-describedby') ?? '')
      .split(' ')
      .filter((id) => id && !id.endsWith('-error'))
      .join(' ');
    setAttr(e, 'aria-describedby', described || null);
  });
  const alert = form.querySelector<HTMLElement>('.form-alert');
  if (alert) {
    alert.textContent = '';
    alert.hidden = true;
  }
}

function fieldError(input: HTMLElement, text: string): void {
  const id = `${input.id}-error`;
  const note = h('p', { class: 'field-error', id }, text);
  input.insertAdjacentElement('afterend', note);
  input.setAttribute('aria-invalid', 'true');
  const described = (input.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean);
  if (!described.includes(id)) described.push(id);
  input.setAttribute('aria-describedby', described.join(' '));
}

// message: what to say instead of the problem's detail (e.g. a lockout's wait).
export function showProblem(form: HTMLElement, error: unknown, fields: FieldMap, message?: string): void {
  clearProblems(form);
  const problem = error instanceof ApiError ? error.problem : null;
  const text = message ?? (problem?.detail || (error instanceof Error ? error.message : String(error)));
  let first: HTMLElement | null = null;
  let placed = false;
  for (const e of problem?.errors ?? []) {
    const key = e.field ?? e.parameter ?? '';
    const input = fields[key];
    if (!input) continue;
    fieldError(input, e.detail || text);
    first ??= input;
    placed = true;
  }
  if (!placed) {
    let alert = form.querySelector<HTMLElement>('.form-alert');
    if (!alert) {
      alert = h('p', { class: 'form-alert', role: 'alert' });
      form.prepend(alert);
    }
    alert.textContent = text;
    alert.hidden = false;
  }
  first?.focus();
}
