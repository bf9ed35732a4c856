// The customers a person opened last, kept per user in localStorage (on this
// browser only; nothing personal leaves it).
import { session } from './session';

export interface RecentItem {
  path: string; // "/customers/42"
  label: string;
  kind: string;
  at: string;
}

const kMax = 8;

function key(): string | null {
  const s = session();
  return s ? `rapport.recent.${s.user.id}` : null;
}

export function recentItems(): RecentItem[] {
  const k = key();
  if (!k) return [];
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(k) ?? '[]');
    return Array.isArray(parsed) ? (parsed as RecentItem[]).filter((i) => typeof i?.path === 'string') : [];
  } catch {
    return [];
  }
}

export function rememberRecent(item: Omit<RecentItem, 'at'>): void {
  const k = key();
  if (!k) return;
  const items = recentItems().filter((i) => i.path !== item.path);
  items.unshift({ ...item, at: new Date().toISOString() });
  try {
    localStorage.setItem(k, JSON.stringify(items.slice(0, kMax)));
  } catch {
    // Storage full or disabled: recent items are a convenience.
  }
  window.dispatchEvent(new CustomEvent('rapport:recent'));
}
