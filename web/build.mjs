// Builds the web app into a static directory served under /app/ of the stack's
// distribution: content-hashed ES modules and CSS under assets/, an index.html that names
// them with relative URLs, and a size report of what the first view downloads.
//
//   node build.mjs [outdir]     (default: ../build/web, relative to this folder)

import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = process.argv[2] ? path.resolve(process.argv[2]) : path.resolve(here, '../build/web');

// Browsers with ES modules, dynamic import, optional chaining and private fields: every
// current one, and nothing older is worth the size of transpiling for.
const TARGET = ['chrome111', 'edge111', 'firefox115', 'safari16.4'];

// What the first view may transfer (gzip), the budget the report is measured against.
const BUDGET_BYTES = 300 * 1024;

async function main() {
  assertSafeOutdir(outdir);
  await rm(outdir, { recursive: true, force: true });
  await mkdir(path.join(outdir, 'assets'), { recursive: true });

  const result = await build({
    absWorkingDir: here,
    entryPoints: { main: 'src/main.js', app: 'src/app.css' },
    outdir,
    bundle: true,
    format: 'esm',
    splitting: true, // hls.js and dash.js become chunks that only the watch page imports
    platform: 'browser',
    target: TARGET,
    minify: true,
    sourcemap: false,
    legalComments: 'external', // licences go to *.LEGAL.txt beside the chunks, not to users
    entryNames: 'assets/[name]-[hash]',
    chunkNames: 'assets/[name]-[hash]',
    assetNames: 'assets/[name]-[hash]',
    charset: 'utf8',
    metafile: true,
    logLevel: 'warning',
    define: {
      // buffer@4, which amazon-cognito-identity-js imports, reads Node's `global`.
      global: 'globalThis',
      'process.env.NODE_ENV': '"production"',
    },
  });

  const outputs = result.metafile.outputs;
  const rel = (p) => path.relative(outdir, path.resolve(here, p)).split(path.sep).join('/');
  const entryOf = (entry) => {
    const key = Object.keys(outputs).find((k) => outputs[k].entryPoint === entry && k.endsWith(entry.endsWith('.css') ? '.css' : '.js'));
    if (!key) throw new Error(`esbuild produced no output for ${entry}`);
    return key;
  };
  const jsKey = entryOf('src/main.js');
  const cssKey = entryOf('src/app.css');

  // Chunks the entry imports statically load with it; dynamic imports wait for their page.
  const staticChunks = new Set();
  const walk = (key) => {
    for (const imp of outputs[key].imports) {
      if (imp.kind === 'import-statement' && !imp.external && !staticChunks.has(imp.path)) {
        staticChunks.add(imp.path);
        walk(imp.path);
      }
    }
  };
  walk(jsKey);

  const favicon = await writeHashed('src/favicon.svg', 'assets/favicon');
  const html = renderIndex(await readFile(path.join(here, 'src/index.html'), 'utf8'), {
    favicon,
    css: rel(cssKey),
    js: rel(jsKey),
    preloads: [...staticChunks].map(rel),
  });
  await writeFile(path.join(outdir, 'index.html'), html);

  const firstView = new Set(['index.html', favicon, rel(cssKey), rel(jsKey), ...[...staticChunks].map(rel)]);
  await report(firstView);
}

// Refuses to clean a directory that holds the sources or the repository.
function assertSafeOutdir(dir) {
  const inside = (parent, child) => !path.relative(parent, child).startsWith('..') && !path.isAbsolute(path.relative(parent, child));
  if (dir === path.parse(dir).root || inside(dir, here) || inside(path.join(here, 'src'), dir)) {
    throw new Error(`refusing to clean ${dir}: it is or holds the web app's sources`);
  }
}

// Copies a source file to assets/ under a content-hashed name; returns the relative path.
async function writeHashed(src, stem) {
  const body = await readFile(path.join(here, src));
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 8).toUpperCase();
  const name = `${stem}-${hash}${path.extname(src)}`;
  await writeFile(path.join(outdir, name), body);
  return name;
}

// Fills the template's placeholders; the template must hold no inline script or style,
// which the app's Content-Security-Policy would refuse.
function renderIndex(template, { favicon, css, js, preloads }) {
  if (/<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=/i.test(template)) {
    throw new Error('src/index.html holds an inline script, style or event handler: the CSP forbids them');
  }
  const values = {
    favicon,
    css,
    js,
    preloads: preloads.map((p) => `<link rel="modulepreload" href="${p}">`).join('\n    '),
  };
  const html = template.replace(/\{\{(\w+)\}\}/g, (m, name) => {
    if (!(name in values)) throw new Error(`src/index.html: unknown placeholder ${m}`);
    return values[name];
  });
  for (const name of ['favicon', 'css', 'js']) {
    if (!template.includes(`{{${name}}}`)) throw new Error(`src/index.html lacks the {{${name}}} placeholder`);
  }
  return html;
}

async function listFiles(dir, prefix = '') {
  const files = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const name = prefix + entry.name;
    if (entry.isDirectory()) files.push(...(await listFiles(path.join(dir, entry.name), name + '/')));
    else files.push(name);
  }
  return files.sort();
}

async function report(firstView) {
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`.padStart(10);
  const rows = [];
  for (const name of await listFiles(outdir)) {
    const body = await readFile(path.join(outdir, name));
    rows.push({ name, raw: (await stat(path.join(outdir, name))).size, gzip: gzipSync(body, { level: 9 }).length });
  }
  const width = Math.max(...rows.map((r) => r.name.length), 10);
  console.log(`\nBuilt ${path.relative(process.cwd(), outdir) || '.'}:`);
  console.log(`  ${'file'.padEnd(width)} ${'raw'.padStart(10)} ${'gzip'.padStart(10)}`);
  for (const r of rows) {
    console.log(`${firstView.has(r.name) ? '* ' : '  '}${r.name.padEnd(width)} ${kb(r.raw)} ${kb(r.gzip)}`);
  }
  const first = rows.filter((r) => firstView.has(r.name));
  const raw = first.reduce((n, r) => n + r.raw, 0);
  const gzip = first.reduce((n, r) => n + r.gzip, 0);
  console.log(`\nFirst view (* above: index.html, favicon, CSS, entry and its static chunks):`);
  console.log(`  ${raw.toLocaleString('en')} bytes raw, ${gzip.toLocaleString('en')} bytes gzip` +
    ` (${(gzip / 1024).toFixed(1)} KB of the ${BUDGET_BYTES / 1024} KB budget${gzip > BUDGET_BYTES ? ': OVER BUDGET' : ''})`);
  console.log('  config.json (written at deploy time) comes on top.');
}

main().catch((err) => {
  // esbuild has printed its own diagnostics; anything else is ours.
  if (!err?.errors) console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
