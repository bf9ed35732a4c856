// The one way the workspace calls the server: JSON over /v1/ with the session
// cookie, the CSRF token on every unsafe method, and problem documents
// (RFC 9457) turned into ApiError. When the session has ended (401), the
// shell signs the person in again in a dialog over the page and the call is
// retried, so nothing typed on the page is lost.

export interface FieldError {
  field?: string;
  parameter?: string;
  detail?: string;
  position?: number;
}

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
    readonly retryAfter: number | null,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.name = 'ApiError';
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const unsafe: ReadonlySet<Method> = new Set<Method>(['POST', 'PUT', 'PATCH', 'DELETE']);

let csrfToken = '';
let reauthenticate: (() => Promise<void>) | null = null;

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

// The shell's sign-in-again dialog; resolves once the person has signed in.
export function onSessionEnded(fn: () => Promise<void>): void {
  reauthenticate = fn;
}

export interface CallOptions {
  signal?: AbortSignal;
  // Do not offer to sign in again on 401 (the session routes themselves).
  noReauth?: boolean;
}

export async function api<T>(method: Method, path: string, body?: unknown, options: CallOptions = {}): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (unsafe.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
    const init: RequestInit = { method, headers, credentials: 'same-origin' };
    if (body !== undefined) init.body = JSON.stringify(body);
    if (options.signal) init.signal = options.signal;
    const res = await fetch(path, init);
    if (res.status === 401 && !options.noReauth && reauthenticate && attempt === 0) {
      await reauthenticate();
      continue;
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (!res.ok) {
      const problem: Problem =
        parsed && typeof parsed === 'object' ? (parsed as Problem) : { status: res.status, title: res.statusText };
      const retry = res.headers.get('Retry-After');
      throw new ApiError(res.status, problem, retry !== null && /^\d+$/.test(retry) ? Number(retry) : null);
    }
    return parsed as T;
  }
}

export const get = <T>(path: string, options?: CallOptions) => api<T>('GET', path, undefined, options);
export const post = <T>(path: string, body?: unknown, options?: CallOptions) => api<T>('POST', path, body, options);
export const put = <T>(path: string, body?: unknown, options?: CallOptions) => api<T>('PUT', path, body, options);

// "/v1/customers/" + seg(name): each path segment percent-encoded.
export function seg(value: string | number): string {
  return encodeURIComponent(String(value));
}
