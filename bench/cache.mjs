// First run against second run of `nabla check` with its cache (server/cli/cache.ts), on real
// code: node bench/cache.mjs [PATH ...] (default: /work/realbench/checkouts). Build first
// (node scripts/build.mjs). The cache goes to a temporary folder, never into the checkouts.
// For each thread setting: a cold run (empty cache), then warm runs; the outputs must be equal.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const cli = path.resolve(import.meta.dirname, '..', 'dist', 'cli.js');
const paths = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['/work/realbench/checkouts'];
const repeats = Number(process.env.REPEATS ?? 2);
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-bench-cache-'));

function run(args, env = {}) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [cli, 'check', ...paths, '--format', 'json', '--exit-zero', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    env: { ...process.env, ...env },
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`nabla exited ${result.status}: ${result.stderr.slice(0, 2000)}`);
  return { ms, stdout: result.stdout, stderr: result.stderr };
}

const rows = [];
try {
  for (let r = 0; r < repeats; r++) {
    for (const jobs of [['--jobs', '1'], []]) {
      fs.rmSync(cacheDir, { recursive: true, force: true });
      const load = os.loadavg()[0].toFixed(1);
      const cold = run(['--cache-dir', cacheDir, ...jobs]);
      const warm = run(['--cache-dir', cacheDir, ...jobs], { NABLA_DEBUG: 'cache' });
      const counters = /cache: (\d+) hits, (\d+) misses/.exec(warm.stderr);
      const same = warm.stdout === cold.stdout;
      const label = jobs.length > 0 ? '--jobs 1' : 'default';
      rows.push({ label, cold: cold.ms, warm: warm.ms, ratio: warm.ms / cold.ms, hits: counters?.[1], misses: counters?.[2], same, load });
      console.log(`${label}: first ${(cold.ms / 1000).toFixed(2)} s, second ${(warm.ms / 1000).toFixed(2)} s (${((100 * warm.ms) / cold.ms).toFixed(1)} %), ${counters?.[1]} hits, ${counters?.[2]} misses, same output: ${same}, load ${load}`);
    }
  }
  const cached = run(['--cache-dir', cacheDir]).stdout;
  console.log(`--no-cache output equal to the cached one: ${run(['--no-cache']).stdout === cached}`);
} finally {
  fs.rmSync(cacheDir, { recursive: true, force: true });
}
