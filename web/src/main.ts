// The workspace's entry: loads the session, draws the shell (banner with the
// customer search, notifications and sign-out; navigation by role; recent
// items) and routes each path to its page module, loaded on first use.
import './styles.css';
import { onSessionEnded } from './lib/api';
import { h, replace } from './lib/dom';
import { recentItems } from './lib/recent';
import { type PageContext, type PageModule, type Route, interceptLinks, matchRoute, navigate, onNavigate } from './lib/router';
import { can, loadSession, session, signOut } from './lib/session';
import { signInAgain } from './components/dialog';
import { customerSearch } from './components/search';
import { notificationTray } from './components/tray';

const routes: Route[] = [
  { pattern: '/sign-in', public: true, load: () => import('./pages/signin/signin') },
  { pattern: '/', load: () => import('./pages/home/home') },
  { pattern: '/customers/:id', permission: 'customers:read', load: () => import('./pages/customer/customer') },
  { pattern: '/inbox', permission: 'customers:read', load: () => import('./pages/inbox/inbox') },
  { pattern: '/rules', permission: 'rules:write', load: () => import('./pages/rules/rules') },
  { pattern: '/users', permission: 'users:admin', load: () => import('./pages/users/users') },
];

// The navigation, by permission: a person sees only the pages their roles may use.
const navigation: { path: string; label: string; permission?: string }[] = [
  { path: '/', label: 'Home' },
  { path: '/inbox', label: 'Cases and alerts', permission: 'customers:read' },
  { path: '/rules', label: 'Decision rules', permission: 'rules:write' },
  { path: '/users', label: 'Users', permission: 'users:admin' },
];

const app = document.getElementById('app') as HTMLElement;
let shellMain: HTMLElement | null = null;
let navList: HTMLElement | null = null;
let recentList: HTMLElement | null = null;
let controller: AbortController | null = null;

function drawRecent(): void {
  if (!recentList) return;
  const items = recentItems();
  replace(
    recentList,
    items.length
      ? items.map((i) => h('li', null, h('a', { href: i.path }, i.label), h('span', { class: 'muted' }, ` ${i.kind}`)))
      : h('li', { class: 'muted' }, 'Customers you open appear here.'),
  );
}

function markCurrent(): void {
  navList?.querySelectorAll('a').forEach((a) => {
    const current = a.getAttribute('href') === location.pathname;
    if (current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
}

function shell(): HTMLElement {
  if (shellMain) return shellMain;
  const s = session();
  if (!s) throw new Error('no session');
  const signOutButton = h('button', { type: 'button', class: 'link-button' }, 'Sign out');
  signOutButton.addEventListener('click', async () => {
    await signOut();
    shellMain = null;
    navigate('/sign-in', { replace: true });
  });
  navList = h(
    'ul',
    { class: 'nav-list' },
    navigation.filter((n) => !n.permission || can(n.permission)).map((n) => h('li', null, h('a', { href: n.path }, n.label))),
  );
  recentList = h('ul', { class: 'recent-list plain', 'aria-labelledby': 'recent-title' });
  shellMain = h('main', { id: 'main', tabindex: '-1' });
  replace(
    app,
    h('a', { class: 'skip-link', href: '#main' }, 'Skip to content'),
    h(
      'header',
      { class: 'banner' },
      h('a', { class: 'brand', href: '/' }, 'Rapport'),
      customerSearch(),
      notificationTray(),
      h(
        'div',
        { class: 'who' },
        h('span', { class: 'who-name' }, s.user.name || s.user.email),
        h('span', { class: 'muted' }, ` ${s.user.roles.join(', ')}`),
        signOutButton,
      ),
    ),
    h(
      'div',
      { class: 'layout' },
      h(
        'nav',
        { class: 'sidebar', 'aria-label': 'Main' },
        navList,
        h('h2', { id: 'recent-title', class: 'sidebar-title' }, 'Recent'),
        recentList,
      ),
      shellMain,
    ),
    h('div', { id: 'announcer', class: 'visually-hidden', 'aria-live': 'polite' }),
  );
  drawRecent();
  return shellMain;
}

function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

const notFound: PageModule = {
  title: 'Not found',
  render(ctx) {
    replace(ctx.main, h('h1', null, 'Nothing here'), h('p', null, 'This address is not a page of the workspace. ', h('a', { href: '/' }, 'Go home'), '.'));
  },
};

const forbidden: PageModule = {
  title: 'Not for your role',
  render(ctx) {
    replace(ctx.main, h('h1', null, 'Not for your role'), h('p', null, 'Your roles do not include this page. An administrator can change your roles.'));
  },
};

async function render(): Promise<void> {
  const path = location.pathname;
  const query = new URLSearchParams(location.search);
  const found = matchRoute(routes, path);
  if (found?.route.public) {
    if (session() && found.route.pattern === '/sign-in') {
      navigate(safeNext(query.get('next')), { replace: true });
      return;
    }
    shellMain = null;
  } else if (!session()) {
    navigate(`/sign-in?next=${encodeURIComponent(path + location.search)}`, { replace: true });
    return;
  }
  controller?.abort();
  controller = new AbortController();
  let main: HTMLElement;
  if (found?.route.public) {
    main = h('main', { id: 'main', tabindex: '-1', class: 'public' });
    replace(app, main);
  } else {
    main = shell();
    markCurrent();
    replace(main, h('p', { class: 'loading' }, 'Loading…'));
  }
  const ctx: PageContext = { main, params: found?.params ?? {}, query, signal: controller.signal };
  let page: PageModule = notFound;
  if (found) {
    page = found.route.permission && !can(found.route.permission) ? forbidden : await found.route.load();
  }
  if (ctx.signal.aborted) return;
  const title = typeof page.title === 'function' ? page.title(ctx) : page.title;
  document.title = `${title} · Rapport`;
  try {
    await page.render(ctx);
  } catch (e) {
    if (ctx.signal.aborted) return;
    replace(main, h('h1', null, 'This page could not be shown'), h('p', { role: 'alert' }, e instanceof Error ? e.message : String(e)));
  }
  if (ctx.signal.aborted) return;
  // Focus goes to the new page's heading, so keyboard and screen-reader users start there.
  const heading = main.querySelector<HTMLElement>('h1');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
  document.body.dataset['page'] = found?.route.pattern ?? 'not-found';
  document.body.dataset['ready'] = 'true';
}

onSessionEnded(() =>
  signInAgain(() => {
    // The same page, the same person or another: the shell is redrawn on the next navigation.
  }),
);
onNavigate(() => {
  document.body.dataset['ready'] = 'false';
  void render();
});
window.addEventListener('rapport:recent', drawRecent);
window.addEventListener('rapport:signed-in', () => {
  shellMain = null;
});
interceptLinks(document);

void (async () => {
  try {
    await loadSession();
  } catch {
    // The server is unreachable: the sign-in page says so when it is used.
  }
  await render();
})();
