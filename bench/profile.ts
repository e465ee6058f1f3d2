// Summarizes a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by source
// area (tree-sitter WASM and its JS binding, lowering, facts, rules, the rest), so bench/results
// can say where the time goes.
//
//   node out/bench/profile.js FILE.cpuprofile [TOP]
import * as fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Self time by function, slowest first. */
  functions: { name: string; where: string; ms: number; percent: number }[];
  /** Self time by area, slowest first. */
  areas: { area: string; ms: number; percent: number }[];
}

/** Which part of Nabla (or its dependencies) a source URL belongs to. */
export function areaOf(url: string, functionName: string): string {
  if (url === '' && /^(wasm-function|\$)/.test(functionName)) return 'tree-sitter (WASM)';
  if (/wasm:\/\//.test(url) || /\.wasm/.test(url)) return 'tree-sitter (WASM)';
  if (/web-tree-sitter|tree-sitter\.c?js/.test(url)) return 'tree-sitter (JS binding)';
  const m = /server\/(engine\/lower|engine\/facts|rules|math|engine|lsp|cli)\/?([\w.-]*)/.exec(url);
  if (m) {
    if (m[1] === 'engine/facts' || m[1] === 'rules') return `${m[1]}/${m[2]}`;
    return m[1] === 'engine' ? `engine/${m[2]}` : m[1];
  }
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(program)' || functionName === '(idle)' || functionName === '(root)') return `V8 ${functionName}`;
  if (url.startsWith('node:') || url === '') return 'Node.js / V8 builtins';
  return 'other';
}

export function summarizeProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  if (profile.samples && profile.timeDeltas) {
    for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  } else {
    const interval = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0));
    for (const n of profile.nodes) self.set(n.id, (n.hitCount ?? 0) * interval);
  }
  let total = 0;
  const fns = new Map<string, { name: string; where: string; ms: number }>();
  const areas = new Map<string, number>();
  for (const [id, ms] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    total += ms;
    const file = url.replace(/^.*\/(server|node_modules|bench|out)\//, '$1/');
    const where = url ? `${file}:${lineNumber + 1}` : '';
    const key = `${functionName}@${where}`;
    const entry = fns.get(key) ?? { name: functionName || '(anonymous)', where, ms: 0 };
    entry.ms += ms;
    fns.set(key, entry);
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + ms);
  }
  const pct = (ms: number): number => Math.round((ms / total) * 1000) / 10;
  return {
    totalMs: Math.round(total),
    functions: [...fns.values()]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map((f) => ({ ...f, ms: Math.round(f.ms), percent: pct(f.ms) })),
    areas: [...areas]
      .sort((a, b) => b[1] - a[1])
      .map(([area, ms]) => ({ area, ms: Math.round(ms), percent: pct(ms) })),
  };
}

export function formatProfile(summary: ProfileSummary, topAreas = 15): string {
  const lines = [`total sampled ${summary.totalMs} ms`, 'by area (self time):'];
  for (const a of summary.areas.slice(0, topAreas)) lines.push(`  ${String(a.percent).padStart(5)}%  ${String(a.ms).padStart(6)} ms  ${a.area}`);
  lines.push('by function (self time):');
  for (const f of summary.functions) lines.push(`  ${String(f.percent).padStart(5)}%  ${String(f.ms).padStart(6)} ms  ${f.name}  ${f.where}`);
  return lines.join('\n') + '\n';
}

if (require.main === module) {
  const profile = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as CpuProfile;
  process.stdout.write(formatProfile(summarizeProfile(profile, Number(process.argv[3] ?? 30))));
}
