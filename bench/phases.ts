// Where the engine's time goes, phase by phase, on a set of files: parse (tree-sitter WASM),
// lower (tree → IR), facts (scopes, update sites), rules (each rule's check, which is where the
// lazy parts of the analysis run), and the whole `lintText`. Both wall time and this thread's CPU
// time are kept: on a loaded machine the CPU time is the steadier number.
//
//   node out/bench/phases.js DIR_OR_FILE...
import * as fs from 'node:fs';
import * as path from 'node:path';
import { allRules, initEngine, languageForPath, lintText, type LanguageId } from '../server/engine';
import type { ParsedFile } from '../server/engine/document';
import { ScopeBuilder } from '../server/engine/facts/scope';
import { LineIndex } from '../server/engine/lineIndex';
import { Program } from '../server/engine/program';
import { makeSourceFile } from '../server/engine/source';
import { lower } from '../server/engine/lower';
import { parse } from '../server/engine/parse';

export interface PhaseTimes {
  files: number;
  lines: number;
  /** Milliseconds of wall time per phase, summed over the files. */
  wallMs: Record<Phase, number>;
  /** Milliseconds of CPU time (user + system) of the process per phase. */
  cpuMs: Record<Phase, number>;
  /** Rules by CPU time, slowest first. */
  rules: { code: string; ms: number }[];
}

export type Phase = 'parse' | 'lower' | 'facts' | 'rules' | 'lintText';
const phases: Phase[] = ['parse', 'lower', 'facts', 'rules', 'lintText'];

export function listFiles(roots: readonly string[]): string[] {
  const out: string[] = [];
  const visit = (p: string): void => {
    const stat = fs.statSync(p);
    if (stat.isDirectory()) for (const name of fs.readdirSync(p).sort()) visit(path.join(p, name));
    else if (languageForPath(p)) out.push(p);
  };
  for (const root of roots) visit(root);
  return out;
}

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Times each phase over the texts, `rounds` times (the first round warms the JIT and is dropped when rounds > 1). */
export function measurePhases(texts: { text: string; language: LanguageId }[], rounds = 2): PhaseTimes {
  const zero = (): Record<Phase, number> => ({ parse: 0, lower: 0, facts: 0, rules: 0, lintText: 0 });
  let wallMs = zero();
  let cpuMs = zero();
  let ruleMs = new Map<string, number>();
  for (let round = 0; round < rounds; round++) {
    wallMs = zero();
    cpuMs = zero();
    ruleMs = new Map();
    for (const { text, language } of texts) {
      let t = performance.now();
      let c = cpuNow();
      const lap = (phase: Phase): void => {
        const t2 = performance.now();
        const c2 = cpuNow();
        wallMs[phase] += t2 - t;
        cpuMs[phase] += c2 - c;
        t = t2;
        c = c2;
      };
      const tree = parse(text, language);
      lap('parse');
      const file = makeSourceFile(0, '', text, language);
      const module = lower(tree, text, language);
      tree.delete();
      lap('lower');
      const parsed: ParsedFile = { file, text, language, module, scopes: new ScopeBuilder(module, file), lines: new LineIndex(text), directives: [], commentMath: [] };
      const facts = new Program().facts(parsed);
      lap('facts');
      for (const rule of allRules) {
        const r0 = performance.now();
        try {
          rule.check({ facts, report: () => undefined });
        } catch {
          // a crash is lintText's business; here only time counts
        }
        ruleMs.set(rule.meta.code, (ruleMs.get(rule.meta.code) ?? 0) + performance.now() - r0);
      }
      lap('rules');
      lintText(text, { language });
      lap('lintText');
    }
  }
  const lines = texts.reduce((sum, { text }) => sum + countLines(text), 0);
  return {
    files: texts.length,
    lines,
    wallMs,
    cpuMs,
    rules: [...ruleMs].map(([code, ms]) => ({ code, ms })).sort((a, b) => b.ms - a.ms),
  };
}

export function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return text.length > 0 && !text.endsWith('\n') ? n + 1 : n;
}

export function formatPhases(times: PhaseTimes): string {
  const rows = phases.map((p) => {
    const perSec = (ms: number): string => (ms > 0 ? Math.round((times.lines / ms) * 1000).toLocaleString('en-US') : '-');
    return `${p.padEnd(9)} wall ${times.wallMs[p].toFixed(0).padStart(7)} ms (${perSec(times.wallMs[p]).padStart(9)} lines/s)   cpu ${times.cpuMs[p].toFixed(0).padStart(7)} ms (${perSec(times.cpuMs[p]).padStart(9)} lines/s)`;
  });
  const rules = times.rules
    .slice(0, 6)
    .map((r) => `${r.code} ${r.ms.toFixed(0)} ms`)
    .join(', ');
  return `${times.files} files, ${times.lines} lines\n${rows.join('\n')}\nslowest rules (wall): ${rules}\n`;
}

if (require.main === module) {
  void (async () => {
    await initEngine();
    const files = listFiles(process.argv.slice(2));
    const texts = files.map((f) => ({ text: fs.readFileSync(f, 'utf8'), language: languageForPath(f)! }));
    const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
    process.stdout.write(formatPhases(measurePhases(texts, rounds)));
  })();
}
