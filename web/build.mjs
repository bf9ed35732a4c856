// Builds the workspace: type-checks it (tsc --noEmit), then bundles it with
// esbuild into OUTDIR: index.html, assets/ (minified ES modules split per
// page, content-hashed names) and meta.json (esbuild's metafile, for the
// size benchmark). The server embeds OUTDIR (src/server/embed_web.py).
// Usage: node build.mjs --outdir DIR [--no-check]
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const webDir = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const at = args.indexOf('--outdir');
if (at < 0 || !args[at + 1]) {
  console.error('usage: node build.mjs --outdir DIR [--no-check]');
  process.exit(2);
}
const outdir = path.resolve(args[at + 1]);

if (!args.includes('--no-check')) {
  const tsc = path.join(webDir, 'node_modules', '.bin', 'tsc');
  const checked = spawnSync(tsc, ['--noEmit', '-p', path.join(webDir, 'tsconfig.json')], { stdio: 'inherit' });
  if (checked.status !== 0) {
    console.error('web: the TypeScript check failed');
    process.exit(1);
  }
}

rmSync(outdir, { recursive: true, force: true });
mkdirSync(path.join(outdir, 'assets'), { recursive: true });
const result = await esbuild.build({
  absWorkingDir: webDir,
  entryPoints: ['src/main.ts'],
  bundle: true,
  splitting: true,
  format: 'esm',
  minify: true,
  target: ['chrome110', 'firefox115', 'safari16'],
  outdir: path.join(outdir, 'assets'),
  publicPath: '/assets/',
  entryNames: '[name]-[hash]',
  chunkNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const outputs = result.metafile.outputs;
const entry = Object.entries(outputs).find(([, o]) => o.entryPoint === 'src/main.ts');
if (!entry) throw new Error('esbuild produced no output for src/main.ts');
const [entryFile, entryInfo] = entry;
const href = (file) => '/assets/' + path.basename(file);
const css = entryInfo.cssBundle ? `<link rel="stylesheet" href="${href(entryInfo.cssBundle)}">` : '';
const html = readFileSync(path.join(webDir, 'src', 'index.html'), 'utf8')
  .replace('<!-- styles -->', css)
  .replace('<!-- scripts -->', `<script type="module" src="${href(entryFile)}"></script>`);
writeFileSync(path.join(outdir, 'index.html'), html);
writeFileSync(path.join(outdir, 'meta.json'), JSON.stringify(result.metafile));
