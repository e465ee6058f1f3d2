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

// CPU time (user + system) through GNU time when it is there: on a loaded machine it says more than the wall time.
const gnuTime = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

function run(args, env = {}) {
  const start = process.hrtime.bigint();
  const command = [process.execPath, cli, 'check', ...paths, '--format', 'json', '--exit-zero', ...args];
  const result = gnuTime
    ? spawnSync(gnuTime, ['-f', 'cpu %U %S', ...command], { encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, ...env } })
    : spawnSync(command[0], command.slice(1), { encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, ...env } });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`nabla exited ${result.status}: ${result.stderr.slice(0, 2000)}`);
  const cpu = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(result.stderr);
  return { ms, cpu: cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN, stdout: result.stdout, stderr: result.stderr };
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
      const userErr = (text) => text.split('\n').filter((line) => !line.startsWith('nabla: debug: ') && !line.startsWith('cpu ')).join('\n');
      const same = warm.stdout === cold.stdout && userErr(warm.stderr) === userErr(cold.stderr);
      const label = jobs.length > 0 ? '--jobs 1' : 'default';
      rows.push({ label, cold: cold.ms, warm: warm.ms, ratio: warm.ms / cold.ms, hits: counters?.[1], misses: counters?.[2], same, load });
      console.log(
        `${label}: first ${(cold.ms / 1000).toFixed(2)} s (cpu ${cold.cpu.toFixed(2)} s), second ${(warm.ms / 1000).toFixed(2)} s (cpu ${warm.cpu.toFixed(2)} s): ` +
          `${((100 * warm.ms) / cold.ms).toFixed(1)} % wall, ${((100 * warm.cpu) / cold.cpu).toFixed(1)} % cpu; ${counters?.[1]} hits, ${counters?.[2]} misses, same output: ${same}, load ${load}`,
      );
    }
  }
  const cached = run(['--cache-dir', cacheDir]).stdout;
  console.log(`--no-cache output equal to the cached one: ${run(['--no-cache']).stdout === cached}`);
} finally {
  fs.rmSync(cacheDir, { recursive: true, force: true });
}
