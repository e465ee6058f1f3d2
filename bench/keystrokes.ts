// A keystroke's CPU cost in process, through the entry the language server uses (`lintDocumentSteps`
// with the document's own ParseCache, so the incremental re-parse, the lowering reuse and early
// cut-off all act as in the editor): a character typed at the end of the last name of a line (the
// edit bench/lsp.ts types), `edits` times after `warm` unmeasured ones, on the bench's training
// script or a generated file. CPU time (user + system of the process) is the number to read on a
// loaded machine; wall time is printed beside it.
//
//   node out/bench/keystrokes.js script|gen3k|gen10k [edits=30] [warm=10] [--select NB001,…] [--no-reuse]
//   node --cpu-prof --cpu-prof-dir=/tmp/prof out/bench/keystrokes.js script 15 3   (where the time goes)
//
// `--select NB001` runs no rule but the unused-suppression one: what is left is parse, lowering,
// scopes and `buildFacts` (the facts every rule reads), the floor no rule change removes.
// `--no-reuse` turns off the per-function answers kept from the previous version (functionReuse.ts).
// Beside CPU and wall, it prints per keystroke the answers reused (per query, and why the others were not)
// and the deterministic work counts (server/engine/workCounts.ts: statements each per-statement question walked).
import { initEngine, lintDocumentSteps, ParseCache, type LintOptions } from '../server/engine';
import { reuseCounts, setFunctionReuse } from '../server/engine/functionReuse';
import { runSteps } from '../server/engine/stepwise';
import { workCounts } from '../server/engine/workCounts';
import { pythonFileOfLines } from './corpus';
import { stats } from './stats';
import { trainingScriptOfLines } from './trainingScript';

/** A character typed at the end of the last name of a line (bench/lsp.ts's `codeEdit`), in place. */
export function typeIntoName(lines: string[], i: number): void {
  for (let k = 0; ; k++) {
    const line = Math.floor(((((i + k) * 7919) % 997) / 997) * (lines.length - 2));
    const m = /[A-Za-z_]\w*(?=\W*$)/.exec(lines[line]);
    if (!m || /^\s*(#|"""|')/.test(lines[line])) continue;
    const at = m.index + m[0].length;
    lines[line] = lines[line].slice(0, at) + 'x' + lines[line].slice(at);
    return;
  }
}

export function keystrokeText(which: string): string {
  if (which === 'script') return trainingScriptOfLines(3000);
  if (which === 'gen3k') return pythonFileOfLines(3000, 3);
  if (which === 'gen10k') return pythonFileOfLines(10000, 2);
  throw new Error(`unknown file ${which}: script, gen3k or gen10k`);
}

export interface KeystrokeResult {
  file: string;
  lines: number;
  findings: number;
  /** Per-function answers asked for and reused per measured keystroke (functionReuse.ts), on average. */
  reuse: { asked: number; reused: number; byQuery: Record<string, Record<string, number>> };
  /** Deterministic work counts per measured keystroke, on average (server/engine/workCounts.ts). */
  work: Record<string, number>;
  cpuMs: ReturnType<typeof stats>;
  wallMs: ReturnType<typeof stats>;
}

export async function measureKeystrokes(which: string, edits: number, warm: number, select?: string[]): Promise<KeystrokeResult> {
  await initEngine();
  const lines = keystrokeText(which).split('\n');
  const parses = new ParseCache(1, 1);
  const options: LintOptions = { language: 'python', ...(select ? { select } : {}) };
  runSteps(lintDocumentSteps(lines.join('\n'), options, parses));
  const cpu: number[] = [];
  const wall: number[] = [];
  let findings = 0;
  let asked = 0;
  let reused = 0;
  const byQuery: Record<string, Record<string, number>> = {};
  const work: Record<string, number> = {};
  for (let i = 0; i < warm + edits; i++) {
    typeIntoName(lines, i);
    const text = lines.join('\n');
    const counted = JSON.parse(JSON.stringify(reuseCounts)) as typeof reuseCounts;
    const worked = { ...workCounts };
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    const lint = runSteps(lintDocumentSteps(text, options, parses));
    const w = performance.now() - w0;
    const c = process.cpuUsage(c0);
    findings = lint.outcome.findings.length;
    if (i >= warm) {
      asked += reuseCounts.asked - counted.asked;
      reused += reuseCounts.reused - counted.reused;
      for (const [query, now] of Object.entries(reuseCounts.byQuery)) {
        const mine = (byQuery[query] ??= {});
        for (const [k, v] of Object.entries(now)) mine[k] = (mine[k] ?? 0) + (v - ((counted.byQuery[query] as Record<string, number> | undefined)?.[k] ?? 0)) / edits;
      }
      for (const [k, v] of Object.entries(workCounts)) work[k] = (work[k] ?? 0) + (v - (worked[k] ?? 0)) / edits;
      cpu.push((c.user + c.system) / 1000);
      wall.push(w);
    }
  }
  return { file: which, lines: lines.length, findings, reuse: { asked: asked / edits, reused: reused / edits, byQuery }, work, cpuMs: stats(cpu), wallMs: stats(wall) };
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--select');
  const select = at >= 0 ? args.splice(at, 2)[1].split(',') : undefined;
  const off = args.indexOf('--no-reuse');
  if (off >= 0) {
    args.splice(off, 1);
    setFunctionReuse(false);
  }
  const [which = 'script', edits = '30', warm = '10'] = args;
  measureKeystrokes(which, Number(edits), Number(warm), select).then(
    (r) => console.log(JSON.stringify(r)),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
