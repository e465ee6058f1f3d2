// Where `npm test` spends its time, per test file and per mocha worker process.
//
//   npm test -- --require ./scripts/testTimes.cjs        (appends to test-results/times.jsonl)
//   node scripts/testTimes.cjs test-results/times.jsonl  (the table, slowest first)
//
// A mocha root-hook plugin for parallel runs (npm test's; a serial run makes one record): after each
// file, the CPU of its worker process since the previous file (its own, and that of the child
// processes it reaped: the spawned CLI and servers), read from /proc (Linux only; elsewhere nothing
// is recorded), and the wall-clock interval. Each file carries the modules it loads first in its
// worker. CPU is the measure to compare on a shared machine; wall clock and the two workers' end
// times show the schedule.
const fs = require('node:fs');
const path = require('node:path');

const TICKS = 100; // USER_HZ

function stat() {
  const s = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { self: (Number(f[11]) + Number(f[12])) / TICKS, children: (Number(f[13]) + Number(f[14])) / TICKS, wall: Date.now() / 1000 };
}

function fileOf(suite) {
  if (suite.file) return suite.file;
  for (const t of suite.tests) if (t.file) return t.file;
  for (const s of suite.suites) {
    const f = fileOf(s);
    if (f) return f;
  }
  return undefined;
}

if (require.main === module) {
  const rows = fs.readFileSync(process.argv[2] ?? 'test-results/times.jsonl', 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const t0 = Math.min(...rows.map((r) => r.start));
  const workers = new Map();
  for (const r of rows) workers.set(r.pid, [...(workers.get(r.pid) ?? []), r]);
  for (const [pid, rs] of workers) {
    const cpu = rs.reduce((n, r) => n + r.self + r.children, 0);
    console.log(`worker ${pid}: ${rs.length} files, CPU ${cpu.toFixed(1)} s, done at ${(Math.max(...rs.map((r) => r.end)) - t0).toFixed(1)} s`);
  }
  console.log('    CPU    own  child   wall  file');
  for (const r of rows.sort((a, b) => b.self + b.children - (a.self + a.children))) {
    console.log(`${(r.self + r.children).toFixed(2).padStart(7)} ${r.self.toFixed(2).padStart(6)} ${r.children.toFixed(2).padStart(6)} ${(r.end - r.start).toFixed(2).padStart(6)}  ${r.file}`);
  }
  console.log(`total CPU ${rows.reduce((n, r) => n + r.self + r.children, 0).toFixed(1)} s`);
} else if (fs.existsSync('/proc/self/stat')) {
  const out = process.env.NABLA_TEST_TIMES ?? path.join(__dirname, '..', 'test-results', 'times.jsonl');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  let last = stat();
  exports.mochaHooks = {
    afterAll() {
      const now = stat();
      const file = path.relative(path.join(__dirname, '..', 'out', 'test'), fileOf(this.test?.parent ?? this._runnable.parent) ?? '?');
      const row = { pid: process.pid, file, self: +(now.self - last.self).toFixed(2), children: +(now.children - last.children).toFixed(2), start: +last.wall.toFixed(2), end: +now.wall.toFixed(2) };
      fs.appendFileSync(out, JSON.stringify(row) + '\n');
      last = now;
    },
  };
}
