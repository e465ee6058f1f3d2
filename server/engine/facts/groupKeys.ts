// Parameter-group keys a torch optimizer never reads: `SGD([{"params": w, "weight_dacay": wd}, ...])`.
// torch fills a group's missing settings from the optimizer's defaults and keeps any other key
// without complaint, so a misspelled `weight_decay` leaves that group at the optimizer's own decay
// (0 unless the call sets one) and the strength written in the group is never applied. Only a
// near miss of the decay key is reported: keys people add on purpose (`name`, `lr_scale`, a
// scheduler's own) are far from every key the optimizer reads.
import type { Expr, KeywordArg, Span } from '../ir';
import type { Facts } from './index';
import { frameworkFacts, type Ctx, type OptimizerFact } from './frameworks';
import { TORCH_DECAY_GROUP_KEY, TORCH_GROUP_KEYS, TORCH_OPTIMIZERS, isNoneLiteral } from './catalogue';
import { programIndex } from './program';
import { exprKey } from './keys';

export interface MisspelledGroupKey {
  /** The entry as written: `'weight_dacay': wd`. */
  span: Span;
  key: string;
  /** The key the optimizer reads (`weight_decay`). */
  meant: string;
  optimizer: OptimizerFact;
  /** The decay the group gets instead: the call's `weight_decay=` as written, or the class default. */
  fallback: string;
}

/** At most this many single-character edits (a transposition is one) away from the real key. */
const MAX_EDITS = 2;

const cache = new WeakMap<Facts, MisspelledGroupKey[]>();

export function misspelledGroupKeys(facts: Facts): MisspelledGroupKey[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  const fw = frameworkFacts(facts);
  for (const opt of fw.optimizers) {
    if (opt.framework !== 'torch' || !opt.params) continue;
    const reads = TORCH_GROUP_KEYS[opt.name];
    if (!reads) continue;
    const top = opt.arg(TORCH_DECAY_GROUP_KEY, TORCH_OPTIMIZERS[opt.name]?.wd);
    for (const group of groupDicts(facts, opt.params, opt.ctx, 0)) {
      if (group.entries.some((e) => e.name === TORCH_DECAY_GROUP_KEY)) continue;
      for (const entry of group.entries) {
        if (!entry.span || reads.includes(entry.name) || !group.literalKeys(entry)) continue;
        if (editDistance(entry.name.toLowerCase(), TORCH_DECAY_GROUP_KEY, MAX_EDITS) > MAX_EDITS) continue;
        // No decay asked for (`0`, `None`), or the same strength the call gives every group: no change.
        if (isNoneLiteral(entry.value) || fw.evaluate(entry.value, group.ctx) === 0) continue;
        if (top && exprKey(top.expr) !== undefined && exprKey(top.expr) === exprKey(entry.value)) continue;
        if (top && top.value !== undefined && top.value === fw.evaluate(entry.value, group.ctx)) continue;
        const fallback = top ? facts.source(top.span) : `the default weight_decay=${TORCH_OPTIMIZERS[opt.name]?.default ?? 0}`;
        found.push({ span: entry.span, key: entry.name, meant: TORCH_DECAY_GROUP_KEY, optimizer: opt, fallback });
      }
    }
  }
  cache.set(facts, found);
  return found;
}

interface GroupDict {
  entries: KeywordArg[];
  ctx: Ctx;
  /** Is the entry's key a string as written (`'weight_dacay': wd`), not a variable (`{key: wd}`)? */
  literalKeys(entry: KeywordArg): boolean;
}

/**
 * The dicts of the groups handed to an optimizer: a literal list of dicts (`{...}`, `dict(...)`), a
 * name bound to one, and a list built by `groups.append({...})` before the optimizer is made.
 */
function groupDicts(facts: Facts, params: Expr, ctx: Ctx, depth: number): GroupDict[] {
  if (depth > 3) return [];
  const stringKey = (entry: KeywordArg): boolean => entry.span !== undefined && /^[rbuRBU]?['"]/.test(facts.source(entry.span));
  const dictOf = (e: Expr, c: Ctx): GroupDict | undefined => {
    if (e.kind === 'object') return { entries: e.entries, ctx: c, literalKeys: stringKey };
    if (e.kind === 'call' && e.callee.kind === 'name' && e.callee.name === 'dict' && e.args.length === 0) return { entries: e.kwargs, ctx: c, literalKeys: () => true };
    return undefined;
  };
  if (params.kind === 'seq') return params.items.map((i) => dictOf(i, ctx)).filter((d): d is GroupDict => d !== undefined);
  if (params.kind !== 'name') return [];
  const b = ctx.scope.lookup(params.name, ctx.at);
  if (b?.kind !== 'assign' || b.op || !b.value) return [];
  const bound: Ctx = { scope: b.scope, at: b.at, owner: ctx.owner };
  const out = groupDicts(facts, b.value, bound, depth + 1);
  if (b.value.kind !== 'seq') return out;
  // `groups.append({...})` between the list's binding and the optimizer, in the same scope.
  for (const site of programIndex(facts).callsNamed('append')) {
    const { call } = site;
    if (site.scope !== b.scope || site.at <= b.at || site.at >= ctx.at) continue;
    if (call.callee.kind !== 'attr' || call.callee.object.kind !== 'name' || call.callee.object.name !== params.name || call.args.length !== 1) continue;
    const d = dictOf(call.args[0], { scope: site.scope, at: site.at, owner: ctx.owner });
    if (d) out.push(d);
  }
  return out;
}

/** Optimal-string-alignment distance (insertions, deletions, substitutions, adjacent swaps), cut at `limit + 1`. */
export function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push(new Array<number>(b.length + 1).fill(0));
    rows[i][0] = i;
  }
  for (let j = 0; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    let best = limit + 1;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2][j - 2] + 1);
      rows[i][j] = d;
      best = Math.min(best, d);
    }
    if (best > limit) return limit + 1;
  }
  return Math.min(rows[a.length][b.length], limit + 1);
}
