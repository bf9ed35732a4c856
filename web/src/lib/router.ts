// History-based routing: real paths (/customers/42), which the server answers
// with index.html. Each page is its own module, imported on first visit, so
// a page's libraries (dmn-js, ECharts) load only where they are used.

export interface PageContext {
  main: HTMLElement;
  params: Record<string, string>;
  query: URLSearchParams;
  // Aborted when the person navigates away, so a page's calls stop.
  signal: AbortSignal;
}

export interface PageModule {
  title: string | ((ctx: PageContext) => string);
  render(ctx: PageContext): Promise<void> | void;
}

export interface Route {
  pattern: string; // "/customers/:id"
  load: () => Promise<PageModule>;
  permission?: string;
  public?: boolean;
}

export function matchRoute(routes: Route[], path: string): { route: Route; params: Record<string, string> } | null {
  const parts = path.split('/').filter(Boolean);
  for (const route of routes) {
    const pattern = route.pattern.split('/').filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    pattern.forEach((p, i) => {
      const part = parts[i] ?? '';
      if (p.startsWith(':')) {
        params[p.slice(1)] = decodeURIComponent(part);
      } else if (p !== part) {
        ok = false;
      }
    });
    if (ok) return { route, params };
  }
  return null;
}

type Listener = () => void;
const listeners: Listener[] = [];
// The page drawn last, so a change of the fragment alone (the skip link) draws nothing.
let shown = '';
const here = () => location.pathname + location.search;

export function onNavigate(fn: Listener): void {
  listeners.push(fn);
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to !== here()) {
    if (options.replace) {
      history.replaceState(null, '', to);
    } else {
      history.pushState(null, '', to);
    }
  }
  shown = here();
  listeners.forEach((fn) => fn());
}

// Same-origin links navigate in the page; modified clicks open as usual.
export function interceptLinks(root: Document): void {
  root.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    const a = (event.target as Element | null)?.closest('a');
    if (!a || a.target || a.hasAttribute('download')) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/v1/')) return;
    // In-page links (the skip link) move focus, not the page.
    if (url.hash && url.pathname === location.pathname && url.search === location.search) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
  shown = here();
  window.addEventListener('popstate', () => {
    if (here() === shown) return;
    shown = here();
    listeners.forEach((fn) => fn());
  });
}
