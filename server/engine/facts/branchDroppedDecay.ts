// A weight decay one branch of a function drops (NB206): a function builds the same framework
// optimizer in exclusive branches of one `if … elif … else` chain (a model-dependent choice of
// parameter groups, say), one construction hands it a decay the function was given (a parameter, or
// an attribute or entry of one: `weight_decay`, `args.wd`, `cfg['wd']`, as a keyword, positionally or
// in its param groups), and another is the same call with the decay left out: every other argument
// written the same, no decay anywhere (keyword, position, groups). That branch trains with the
// class's default (torch AdamW's 0.01, SGD's and Adam's 0), whatever the caller configured.
//
// Two constructions that differ in anything else (`SGD(params, lr)` beside `SGD(params, lr, momentum,
// weight_decay=wd)`: plain SGD on purpose) stay silent, and so do two optimizers built one after the
// other (a generator's and a discriminator's), which may differ on purpose.
import type { Expr, Stmt } from '../ir';
import type { Facts } from './index';
import { frameworkFacts, type OptimizerFact } from './frameworks';
import { programIndex } from './program';
import { ifChainAt, someExpr, type FunctionDef } from './scope';
import { baseExpr, exprKey } from './keys';
import { namesADecaySwitch } from './roles';

export interface BranchDroppedDecay {
  /** The construction with no decay. */
  dropped: OptimizerFact;
  /** A construction of the same class, in another branch, that passes the decay. */
  kept: OptimizerFact;
  /** The decay as the kept construction passes it. */
  decay: Expr;
  fn: FunctionDef;
}

const cache = new WeakMap<Facts, BranchDroppedDecay[]>();

export function branchDroppedDecays(facts: Facts): BranchDroppedDecay[] {
  let found = cache.get(facts);
  if (!found) cache.set(facts, (found = collect(facts)));
  return found;
}

function collect(facts: Facts): BranchDroppedDecay[] {
  const out: BranchDroppedDecay[] = [];
  const index = programIndex(facts);
  const byFn = new Map<FunctionDef, OptimizerFact[]>();
  for (const opt of frameworkFacts(facts).optimizers) {
    if (opt.framework !== 'torch' && opt.framework !== 'keras') continue;
    const fn = index.enclosingFunction(opt.ctx.scope);
    if (!fn) continue;
    const list = byFn.get(fn);
    if (list) list.push(opt);
    else byFn.set(fn, [opt]);
  }
  for (const [fn, opts] of byFn) {
    if (opts.length < 2) continue;
    const params = new Set(fn.params.map((p) => p.name));
    for (const dropped of opts) {
      const settings = dropped.decaySettings ?? [];
      if (dropped.groups || settings.length === 0 || !settings.every((s) => s.source === 'default')) continue;
      for (const kept of opts) {
        if (kept === dropped || kept.path !== dropped.path) continue;
        const decay = (kept.decaySettings ?? []).find((s) => s.source !== 'default' && s.arg && passedIn(s.arg.expr, params))?.arg?.expr;
        if (!decay) continue;
        if (!sameOtherwise(facts, kept, dropped)) continue;
        const chain = exclusive(fn.body, kept.call, dropped.call);
        if (!chain) continue;
        // `if wd > 0: SGD(p, lr, weight_decay=wd) else: SGD(p, lr)`: the branch is chosen by the decay
        // itself, and a class whose default is no decay trains the same as with weight_decay=wd there.
        const defaultNone = (dropped.decaySettings ?? []).every((s) => s.value === undefined || s.value === 0);
        if (defaultNone && chain.some((b) => b.heads.some((h) => readsDecay(facts, h, decay)))) continue;
        out.push({ dropped, kept, decay, fn });
        break;
      }
    }
  }
  return out;
}

/** A function's parameter, or an attribute or entry of one (`weight_decay`, `args.wd`, `cfg['wd']`). */
function passedIn(e: Expr, params: Set<string>): boolean {
  const base = baseExpr(e);
  let root: Expr = base;
  while (root.kind === 'attr') root = root.object;
  return root.kind === 'name' && params.has(root.name);
}

/** Every argument but the parameters (the first) and the decay, written the same. */
function sameOtherwise(facts: Facts, a: OptimizerFact, b: OptimizerFact): boolean {
  const text = (e: Expr): string => facts.source(e.span).replace(/\s+/g, '');
  const decayKeys = new Set(['weight_decay', 'params']);
  const kw = (o: OptimizerFact): string[] => o.call.kwargs.filter((k) => !decayKeys.has(k.name ?? '')).map((k) => `${k.name}=${text(k.value)}`).sort();
  const kwA = kw(a);
  const kwB = kw(b);
  if (kwA.length !== kwB.length || kwA.some((x, i) => x !== kwB[i])) return false;
  // Positional arguments after the parameters; the kept one may carry the decay at its position.
  const posA = a.call.args.slice(1).map(text);
  const posB = b.call.args.slice(1).map(text);
  if (posB.length > posA.length) return false;
  return posB.every((x, i) => x === posA[i]) && (posA.length === posB.length || a.decaySettings?.some((s) => s.source === 'argument' && s.arg && a.call.args.indexOf(s.arg.expr) === posB.length + 1) === true);
}

/** Does a condition read the decay (`wd > 0`, `cfg.weight_decay is None`, `if args.wd:`) or a switch named for it (`args.no_wd`)? */
function readsDecay(facts: Facts, head: Expr, decay: Expr): boolean {
  // The same expression as the decay, by its key (or, for one with no key, its text without spaces).
  const want = exprKey(decay);
  const wantText = facts.source(decay.span).replace(/\s+/g, '');
  const same = (e: Expr): boolean => (want !== undefined ? exprKey(e) === want : facts.source(e.span).replace(/\s+/g, '') === wantText);
  // A switch named for the decay (`args.no_wd`, `use_decay`, `cfg['no_wd']`): a branch without it on purpose.
  const switchName = (e: Expr): boolean => ((e.kind === 'name' || e.kind === 'attr') && namesADecaySwitch(e.name)) || (e.kind === 'str' && namesADecaySwitch(e.value));
  return someExpr(head, (e) => same(e) || switchName(e));
}

/**
 * The `if … elif … else` chain of the body whose different branches hold the two calls (the blocks
 * of the chain, each with its condition), undefined when no chain separates them.
 */
function exclusive(body: Stmt[], a: Expr, b: Expr, depth = 0): (Stmt & { kind: 'block' })[] | undefined {
  if (depth > 40) return undefined;
  const inSpan = (e: Expr, s: { start: number; end: number }): boolean => s.start <= e.span.start && e.span.end <= s.end;
  for (let i = 0; i < body.length; i++) {
    const s = body[i];
    if (s.kind === 'block' && s.label === 'if') {
      const chain = ifChainAt(body, i);
      if (inSpan(a, s.span) && inSpan(b, s.span)) {
        // The head's own branch is its span less the later blocks of the chain.
        const branchOf = (e: Expr): number => {
          for (let k = chain.length - 1; k >= 1; k--) if (inSpan(e, chain[k].span)) return k;
          return 0;
        };
        const ka = branchOf(a);
        const kb = branchOf(b);
        if (ka !== kb) return chain;
        return exclusive(chain[ka].body, a, b, depth + 1);
      }
      i += chain.length - 1;
      continue;
    }
    if ((s.kind === 'block' || s.kind === 'for') && inSpan(a, s.span) && inSpan(b, s.span)) return exclusive(s.body, a, b, depth + 1);
  }
  return undefined;
}
