// What every browser journey needs: a fresh demo company in its own data
// directory with users made by `rapport users add`, `rapport serve` on a free
// port of 127.0.0.1, an admin API key to check results through the API, and
// Debian's headless Chromium driven by playwright-core (web/node_modules; no
// browser download). Each page a journey visits is checked with axe-core
// (a critical violation fails the journey) and may be saved as a screenshot:
// into --screens DIR (CTest passes one in the build tree), or, with
// RAPPORT_UPDATE_SCREENSHOTS=1, into docs/images/workspace/, the pictures of
// docs/workspace.md, so that a test run leaves the checkout as it was.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

export const PASSWORD = 'correct horse battery staple 42';

export function parseArgs() {
  const args = process.argv.slice(2);
  const value = (name) => {
    const i = args.indexOf(name);
    if (i < 0 || !args[i + 1]) throw new Error(`usage: node JOURNEY.mjs --rapport BINARY --source DIR (missing ${name})`);
    return args[i + 1];
  };
  const screens = args.indexOf('--screens') >= 0 ? path.resolve(value('--screens')) : null;
  return { rapport: value('--rapport'), source: path.resolve(value('--source')), screens };
}

function run(binary, args, input) {
  const r = spawnSync(binary, args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${path.basename(binary)} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

export class Journey {
  constructor(name) {
    this.name = name;
    const { rapport, source, screens } = parseArgs();
    this.rapport = rapport;
    this.source = source;
    const docs = path.join(source, 'docs', 'images', 'workspace');
    this.screens = process.env.RAPPORT_UPDATE_SCREENSHOTS === '1' || !screens ? docs : screens;
    this.dir = mkdtempSync(path.join(os.tmpdir(), `rapport-web-${name}-`));
    this.data = path.join(this.dir, 'data');
    this.server = null;
    this.browser = null;
    this.checked = [];
    const require = createRequire(path.join(source, 'web', 'package.json'));
    this.playwright = require('playwright-core');
    this.axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  }

  // The demo company (a small one: the journeys need its shape, not its size).
  generate(customers = 300) {
    run(this.rapport, ['demo', 'generate', '--data', this.data, '--customers', String(customers)]);
    this.key = run(this.rapport, ['keys', 'create', '--data', this.data, '--role', 'admin', '--name', 'browser test']).trim().split('\n').pop();
  }

  addUser({ email, name, role, department }) {
    const args = ['users', 'add', '--data', this.data, '--email', email, '--name', name, '--role', role, '--password-stdin'];
    if (department) args.push('--department', department);
    run(this.rapport, args, `${PASSWORD}\n`);
    return { email, name, role };
  }

  async serve() {
    this.server = spawn(this.rapport, ['serve', '--data', this.data, '--listen', '127.0.0.1:0', '--access-log', 'off'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    this.url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server did not start:\n${log}`)), 30_000);
      const read = (chunk) => {
        log += chunk;
        const m = log.match(/http:\/\/127\.0\.0\.1:\d+/);
        if (m) {
          clearTimeout(timer);
          resolve(m[0]);
        }
      };
      this.server.stdout.on('data', read);
      this.server.stderr.on('data', read);
      this.server.on('exit', (code) => reject(new Error(`the server exited (${code}):\n${log}`)));
    });
    this.browser = await this.playwright.chromium.launch({
      executablePath: process.env.RAPPORT_CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
  }

  async newPage() {
    const context = await this.browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' });
    const page = await context.newPage();
    page.problems = [];
    // A script or style the CSP refuses, or an uncaught error, fails the journey.
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/status of 4\d\d/.test(msg.text())) page.problems.push(`console: ${msg.text()}`);
    });
    page.on('pageerror', (err) => page.problems.push(`page error: ${err.message}`));
    page.setDefaultTimeout(15_000);
    return page;
  }

  // The API as a system would call it, with the admin key.
  async api(method, route, body) {
    const res = await fetch(this.url + route, {
      method,
      headers: { Authorization: `Bearer ${this.key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: res.status, json, text };
  }

  // Waits until the workspace has drawn the page it routed to.
  async ready(page) {
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
  }

  // axe-core over the whole page: a critical violation fails the journey.
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  async axe(page, label) {
    await page.evaluate(this.axeSource + '\n;0');
    const result = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const r = await axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
    });
    const critical = result.filter((v) => v.impact === 'critical');
    const other = result.filter((v) => v.impact !== 'critical');
    for (const v of other) console.log(`axe (${label}): ${v.impact} ${v.id}: ${v.help} at ${v.nodes.join(', ')}`);
    if (critical.length) {
      throw new Error(`axe found critical violations on ${label}:\n${critical.map((v) => `  ${v.id}: ${v.help} at ${v.nodes.join(', ')}`).join('\n')}`);
    }
    this.checked.push(label);
  }

  async screenshot(page, file) {
    mkdirSync(this.screens, { recursive: true });
    await page.screenshot({ path: path.join(this.screens, file), fullPage: false });
  }

  assertNoPageProblems(page) {
    if (page.problems.length) throw new Error(`the page reported:\n  ${page.problems.join('\n  ')}`);
  }

  async close() {
    try {
      if (this.browser) await this.browser.close();
    } finally {
      if (this.server && this.server.exitCode === null) {
        this.server.kill('SIGTERM');
        await new Promise((resolve) => this.server.once('exit', resolve));
      }
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

export function check(condition, message) {
  if (!condition) throw new Error(message);
}

// Runs a journey: prints what it checked, exits 1 with the reason on failure.
export async function journey(name, body) {
  const j = new Journey(name);
  const started = Date.now();
  try {
    await body(j);
    console.log(`${name}: passed in ${((Date.now() - started) / 1000).toFixed(1)} s; axe-core on: ${j.checked.join(', ')}`);
  } catch (e) {
    console.error(`${name}: FAILED: ${e && e.stack ? e.stack : e}`);
    process.exitCode = 1;
  } finally {
    await j.close().catch((e) => console.error(`cleanup: ${e}`));
  }
}
