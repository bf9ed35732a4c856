// The signed-in person: the one piece of global state (STYLE.md). Pages ask
// can("decide") to show only what the role may do; the server enforces every
// permission whatever the page shows.
import { ApiError, api, setCsrfToken } from './api';
import type { Session } from './types';

let current: Session | null = null;

export function session(): Session | null {
  return current;
}

export function can(permission: string): boolean {
  return current?.permissions.includes(permission) ?? false;
}

function adopt(s: Session): Session {
  current = s;
  setCsrfToken(s.csrfToken);
  return s;
}

// The session the cookie names, or null when there is none (401).
export async function loadSession(): Promise<Session | null> {
  try {
    return adopt(await api<Session>('GET', '/v1/session', undefined, { noReauth: true }));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      current = null;
      setCsrfToken('');
      return null;
    }
    throw e;
  }
}

export async function signIn(email: string, password: string): Promise<Session> {
  return adopt(await api<Session>('POST', '/v1/session', { email, password }, { noReauth: true }));
}

export async function signOut(): Promise<void> {
  try {
    await api<void>('DELETE', '/v1/session', undefined, { noReauth: true });
  } catch (e) {
    // An already-ended session is signed out all the same.
    if (!(e instanceof ApiError && e.status === 401)) throw e;
  }
  current = null;
  setCsrfToken('');
}
