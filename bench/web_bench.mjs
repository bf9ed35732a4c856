// The web workspace's budgets (issue #14), each printed beside its budget:
//  - the shell's JavaScript, gzip-compressed: the entry and the chunks it
//    imports statically, before any page (and before dmn-js): <= 300 KB;
//  - the time until the Customer 360 page is interactive in headless
//    Chromium, from navigation start until the page has drawn its customer
//    and its next best actions: <= 500 ms (median and p90 over many
//    customers, as a full page load and as a navigation inside the workspace).
// Not a test: `make bench` runs it. Usage:
//   node bench/web_bench.mjs --rapport build/rapport --source . [--customers N] [--dist build/web/dist]
// RAPPORT_WEB_BENCH_CUSTOMERS (default 20000) sets the demo's size.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const rapport = path.resolve(opt('--rapport', 'build/rapport'));
const source = path.resolve(opt('--source', '.'));
const dist = path.resolve(opt('--dist', path.join(path.dirname(rapport), 'web', 'dist')));
const customers = Number(opt('--customers', process.env.RAPPORT_WEB_BENCH_CUSTOMERS || '20000'));
const samples = 30;

// ---- the shell's size -----------------------------------------------------
const meta = JSON.parse(readFileSync(path.join(dist, 'meta.json'), 'utf8'));
const outputs = meta.outputs;
const entry = Object.keys(outputs).find((f) => outputs[f].entryPoint === 'src/main.ts');
const shell = new Set();
const visit = (file) => {
  if (shell.has(file)) return;
  shell.add(file);
  for (const imp of outputs[file].imports) if (imp.kind === 'import-statement' && outputs[imp.path]) visit(imp.path);
};
visit(entry);
const gz = (file) => gzipSync(readFileSync(path.join(dist, 'assets', path.basename(file))), { level: 9 }).length;
const shellBytes = [...shell].reduce((n, f) => n + gz(f), 0);
const allJs = Object.keys(outputs).filter((f) => f.endsWith('.js'));
const allBytes = allJs.reduce((n, f) => n + gz(f), 0);
console.log(`web.shell_js_gzip            ${(shellBytes / 1024).toFixed(1)} KB in ${shell.size} files   budget <= 300 KB   ${shellBytes <= 300 * 1024 ? 'ok' : 'OVER'}`);
console.log(`  (baseline: every page's JavaScript together, gzip: ${(allBytes / 1024).toFixed(1)} KB in ${allJs.length} files)`);

// ---- time to an interactive Customer 360 ------------------------------------
const dir = mkdtempSync(path.join(os.tmpdir(), 'rapport-web-bench-'));
const data = path.join(dir, 'data');
const run = (a, input) => {
  const r = spawnSync(rapport, a, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`rapport ${a.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
let server = null;
let browser = null;
try {
  console.log(`generating a demo of ${customers} customers ...`);
  run(['demo', 'generate', '--data', data, '--customers', String(customers)]);
  const password = 'bench password 12345';
  run(['users', 'add', '--data', data, '--email', 'bench@example.com', '--name', 'Bench Agent', '--role', 'service', '--password-stdin'], `${password}\n`);
  server = spawn(rapport, ['serve', '--data', data, '--listen', '127.0.0.1:0', '--access-log', 'off'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const url = await new Promise((resolve, reject) => {
    const read = (c) => {
      log += c;
      const m = log.match(/http:\/\/127\.0\.0\.1:\d+/);
      if (m) resolve(m[0]);
    };
    server.stdout.on('data', read);
    server.stderr.on('data', read);
    server.on('exit', (code) => reject(new Error(`the server exited (${code}): ${log}`)));
  });
  const require = createRequire(path.join(source, 'web', 'package.json'));
  const { chromium } = require('playwright-core');
  browser = await chromium.launch({ executablePath: process.env.RAPPORT_CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.goto(url + '/sign-in');
  await page.getByLabel('E-mail').fill('bench@example.com');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForFunction(() => document.body.dataset.ready === 'true' && location.pathname === '/');

  const ids = Array.from({ length: samples }, (_, i) => 1 + Math.floor(((i + 0.5) * customers) / samples));
  const interactive = () =>
    page.waitForFunction(() => document.body.dataset.ready === 'true' && document.querySelector('#next-best-actions .nba-body .loading') === null);
  const load = [];
  for (const id of ids) {
    await page.goto(`${url}/customers/${id}`);
    await interactive();
    load.push(await page.evaluate(() => performance.now()));
  }
  const inApp = [];
  for (const id of ids) {
    const t0 = await page.evaluate((id) => {
      const t = performance.now();
      history.pushState(null, '', `/customers/${id}`);
      dispatchEvent(new PopStateEvent('popstate'));
      return t;
    }, id);
    await interactive();
    inApp.push((await page.evaluate(() => performance.now())) - t0);
  }
  const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
  const line = (name, xs) =>
    console.log(`${name.padEnd(29)}p50 ${q(xs, 0.5).toFixed(0)} ms  p90 ${q(xs, 0.9).toFixed(0)} ms   budget <= 500 ms   ${q(xs, 0.9) <= 500 ? 'ok' : 'OVER'}`);
  console.log(`the Customer 360 page until interactive, ${samples} customers of ${customers}:`);
  line('web.customer360_page_load', load);
  line('web.customer360_in_app', inApp);
} finally {
  if (browser) await browser.close();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  rmSync(dir, { recursive: true, force: true });
}
