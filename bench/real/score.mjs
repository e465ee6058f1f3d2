#!/usr/bin/env node
// Scores the CLI on real public code: the labelled bugs and seeds of bench/real/labels-*.json.
// The repositories are not part of Nabla; bring them with the search tool's `fetch` and extract
// each at the commit its label names into <checkouts>/<owner>+<name> (bench/real/checkout.mjs does the
// extraction from the fetched mirrors). Then:
//
//   node bench/real/score.mjs --checkouts DIR[,DIR...] [--cli dist/cli.js] [--out FILE.md] [--only owner/name]
//
// A labelled bug is found when the run reports one of its codes in its file within 3 lines of it
// (or of one of its other places, `also`: a mistake made of two statements apart, such as an L2 in the
// loss and a decay in the optimizer's construction, is found at either).
// A seed (a position-based edit of our own text) is detected when the seeded copy of the repository
// gives a finding of one of its codes that the unseeded run does not. Every other finding is listed
// for a person to judge (true, false, debatable); the judgements live in bench/results/.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);

/** Lines from a finding to the nearest place of a labelled bug in the finding's file (its line, then `also`); Infinity in another file. */
function distance(d, bug) {
  const places = [{ path: bug.path, line: bug.line }, ...(bug.also ?? [])];
  return Math.min(...places.map((p) => (p.path === d.file ? Math.abs(d.line - p.line) : Infinity)));
}
const root = path.resolve(here, '../..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const cli = path.resolve(arg('--cli', path.join(root, 'dist/cli.js')));
const checkouts = (arg('--checkouts', '') || '').split(',').filter(Boolean);
const only = arg('--only');
const out = arg('--out');
if (checkouts.length === 0) {
  process.stderr.write('usage: score.mjs --checkouts DIR[,DIR...] [--cli dist/cli.js] [--out FILE.md] [--only owner/name]\n');
  process.exit(2);
}

const labels = fs
  .readdirSync(here)
  .filter((f) => /^labels-.*\.json$/.test(f))
  .flatMap((f) => JSON.parse(fs.readFileSync(path.join(here, f), 'utf8')).map((r) => ({ ...r, labels: f })));

function checkoutOf(repo) {
  for (const dir of checkouts) {
    const p = path.join(dir, repo.replace('/', '+'));
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

// A checkout made with `git archive` has no .git folder, and without a marker the CLI takes each
// file's folder for its project root, so imports between a repository's folders would not resolve.
// A clone has one: give the checkout an empty one, as the clone would have.
const MARKERS = ['.git', 'pyproject.toml', 'setup.py', 'setup.cfg', 'package.json', 'nabla.toml', 'requirements.txt'];
function markRoot(dir) {
  if (!MARKERS.some((m) => fs.existsSync(path.join(dir, m)))) fs.mkdirSync(path.join(dir, '.git'));
}

/** Internal errors of the last run (a rule or the engine crashed on a file), for the report. */
let crashes = [];

/** Real checkouts are read, never written: no cache folder in them (older CLIs have no cache, nor the flag). */
let noCache;
function cacheFlags() {
  noCache ??= execFileSync(process.execPath, [cli, '--help']).toString().includes('--no-cache') ? ['--no-cache'] : [];
  return noCache;
}

function run(dir) {
  markRoot(dir);
  let stdout;
  try {
    stdout = execFileSync(process.execPath, [cli, 'check', '.', '--format', 'json', '--no-config', '--exit-zero', ...cacheFlags()], { cwd: dir, maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  } catch (error) {
    stdout = error.stdout?.toString() ?? '{"diagnostics":[]}';
  }
  const result = JSON.parse(stdout);
  crashes = (result.notices ?? []).filter((n) => n.kind === 'internal-error').map((n) => `${n.file.replace(/^\.\//, '')}: ${n.message}`);
  return result.diagnostics.map((d) => ({ ...d, file: d.file.replace(/^\.\//, '') }));
}

const key = (d) => `${d.file}|${d.cell ?? ''}|${d.line}|${d.code}|${d.message}`;

function applySeed(dir, seed) {
  const file = path.join(dir, seed.path);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const line = lines[seed.line - 1];
  if (line === undefined) return false;
  const col = seed.column - 1;
  lines[seed.line - 1] = line.slice(0, col) + seed.insert + line.slice(col + seed.delete);
  fs.writeFileSync(file, lines.join('\n'));
  return true;
}

const totals = { repos: 0, bugs: 0, found: 0, covered: 0, coveredFound: 0, seeds: 0, detected: 0, other: 0, crashes: 0 };
const report = [];
for (const repo of labels) {
  if (only && repo.repo !== only) continue;
  const dir = checkoutOf(repo.repo);
  if (!dir) {
    report.push(`- ${repo.repo}: no checkout, skipped`);
    continue;
  }
  totals.repos++;
  const found = run(dir);
  const repoCrashes = crashes;
  totals.crashes += repoCrashes.length;
  const used = new Set();
  const bugRows = [];
  for (const bug of repo.bugs) {
    const candidates = found
      .map((d, i) => ({ d, i }))
      .filter(({ d, i }) => !used.has(i) && (bug.cell === undefined || d.cell === bug.cell) && bug.codes.includes(d.code) && distance(d, bug) <= 3)
      .sort((a, b) => distance(a.d, bug) - distance(b.d, bug));
    const hit = candidates[0];
    if (hit) used.add(hit.i);
    const covered = !bug.codes.includes('none');
    totals.bugs++;
    if (covered) totals.covered++;
    if (hit) {
      totals.found++;
      if (covered) totals.coveredFound++;
    }
    bugRows.push(`  - ${hit ? 'FOUND' : 'missed'} ${bug.id} (${bug.codes.join('/')}, ${bug.spread}) ${bug.path}:${bug.line}`);
  }
  const seedRows = [];
  if (repo.seeds?.length) {
    const baseline = new Set(found.map(key));
    for (const seed of repo.seeds) {
      totals.seeds++;
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-seed-'));
      try {
        fs.cpSync(dir, tmp, { recursive: true, filter: (src) => !/\/(\.git|node_modules)(\/|$)/.test(src) });
        const ok = applySeed(tmp, seed);
        const fresh = ok ? run(tmp).filter((d) => !baseline.has(key(d)) && seed.codes.includes(d.code)) : [];
        if (fresh.length > 0) totals.detected++;
        seedRows.push(`  - ${fresh.length > 0 ? 'DETECTED' : 'missed'} seed ${seed.id} (${seed.codes.join('/')}) ${seed.path}:${seed.line}${fresh.length > 0 ? ` → ${fresh[0].file}:${fresh[0].line} ${fresh[0].code}` : ''}`);
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    }
  }
  const others = found.filter((_, i) => !used.has(i));
  totals.other += others.length;
  report.push(`- **${repo.repo}** (${repo.style}): bugs ${bugRows.filter((r) => r.includes('FOUND')).length}/${repo.bugs.length}, seeds ${seedRows.filter((r) => r.includes('DETECTED')).length}/${repo.seeds?.length ?? 0}, other findings ${others.length}`);
  report.push(...bugRows, ...seedRows);
  for (const c of repoCrashes) report.push(`  - CRASH ${c}`);
  for (const d of others) report.push(`  - other: ${d.file}${d.cell ? ` cell ${d.cell}` : ''}:${d.line} ${d.code} ${d.message.slice(0, 160)}`);
  process.stderr.write(`${repo.repo} done\n`);
}

const summary = [
  `# Real-code score (${new Date().toISOString().slice(0, 10)}, ${path.relative(root, cli) || cli})`,
  '',
  `- repositories: ${totals.repos}`,
  `- labelled bugs found: ${totals.found}/${totals.bugs} (${totals.coveredFound}/${totals.covered} of those a rule names)`,
  `- seeds detected: ${totals.detected}/${totals.seeds}`,
  `- other findings to judge: ${totals.other}`,
  `- internal errors (a rule or the engine crashed on a file): ${totals.crashes}`,
  '',
  ...report,
  '',
].join('\n');
if (out) fs.writeFileSync(out, summary);
process.stdout.write(summary);
