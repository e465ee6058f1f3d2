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
import { fileBodies, ownStatements, programIndex, walkAll } from './program';
import { explicitParams, ifChainAt, someExpr, type FunctionDef } from './scope';
import { baseExpr, exprKey } from './keys';
import { namesADecaySwitch } from './roles';
import { TORCH_COUPLED_ADAPTIVE } from './catalogue';

export interface BranchDroppedDecay {
  /** The construction with no decay. */
  dropped: OptimizerFact;
  /** A construction of the same class, in another branch, that passes the decay. */
  kept: OptimizerFact;
  /** The decay as the kept construction passes it. */
  decay: Expr;
  fn: FunctionDef;
  /** The kept construction builds another class: every other branch of the chain that builds an optimizer passes the decay. */
  otherClass?: true;
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
    for (const dropped of opts) {
      if (dropped.framework !== 'torch' || out.some((o) => o.dropped === dropped)) continue;
      const found = otherClassesKeepDecay(facts, fn, opts, dropped, params);
      if (found) out.push({ dropped, kept: found.kept, decay: found.decay, fn, otherClass: true });
    }
  }
  return out;
}

/**
 * `if args.opt == 'sgd': SGD(p, lr, weight_decay=wd) elif args.opt == 'adam': Adam(p, lr)`: the innermost
 * `if` chain around a torch construction with no decay whose other branches build optimizers, every one
 * of another class and passing the same decay the function was given. The configured decay reaches every
 * branch but this one. Silent when a branch builds this class itself (with or without the decay: the choice
 * between two variants of one class is deliberate), when a condition reads the decay, and when the decay is
 * read anywhere else in the file (a loss penalty, a decay written by hand, a value handed on): it may be
 * applied to this branch another way.
 */
function otherClassesKeepDecay(facts: Facts, fn: FunctionDef, opts: OptimizerFact[], dropped: OptimizerFact, params: Set<string>): { kept: OptimizerFact; decay: Expr } | undefined {
  const settings = dropped.decaySettings ?? [];
  if (dropped.groups || settings.length === 0 || !settings.every((s) => s.source === 'default')) return undefined;
  // `Adam(p, lr)` beside `SGD(p, lr, weight_decay=wd)`: a coupled adaptive class is often left without decay on
  // purpose, and passing it the decay is the coupled L2 NB202 reports.
  if (TORCH_COUPLED_ADAPTIVE.has(dropped.name)) return undefined;
  // `Adam(params, lr, **opt_kwargs)`: the decay may be among what is unpacked.
  if (unpacks(dropped.call)) return undefined;
  const trained = paramsKey(facts, dropped);
  if (trained === undefined) return undefined;
  for (const { chain, branch } of chainsAround(fn.body, dropped.call).reverse()) {
    const branchOf = (e: Expr): number => {
      for (let k = chain.length - 1; k >= 0; k--) if (within(e, chain[k].span)) return k;
      return -1;
    };
    const others = opts.filter((o) => o !== dropped && branchOf(o.call) >= 0 && branchOf(o.call) !== branch);
    if (others.length === 0) continue;
    if (others.some((o) => o.path === dropped.path || o.groups)) return undefined;
    // One optimizer of the same parameters in each branch: a choice of optimizer, not of set-up (a GAN's pair
    // in one branch, the head alone in a linear probe, another model).
    if (opts.some((o) => o !== dropped && branchOf(o.call) === branch)) return undefined;
    if (others.some((o) => paramsKey(facts, o) !== trained)) return undefined;
    const decays = others.map((o) => (o.decaySettings ?? []).find((s) => s.source !== 'default' && s.arg && passedIn(s.arg.expr, params))?.arg?.expr);
    const first = decays[0];
    const key = first && exprKey(first);
    if (!first || key === undefined || decays.some((d) => !d || exprKey(d) !== key)) return undefined;
    if (chain.some((b) => b.heads.some((h) => readsDecay(facts, h, first)))) return undefined;
    if (readElsewhere(facts, fn, first, key, others)) return undefined;
    return { kept: others[0], decay: first };
  }
  return undefined;
}

const within = (e: Expr, s: { start: number; end: number }): boolean => s.start <= e.span.start && e.span.end <= s.end;

/** What an optimizer trains, by key (`model.parameters()`, `params`), or its text without spaces. */
function paramsKey(facts: Facts, o: OptimizerFact): string | undefined {
  const p = o.params ?? o.call.args[0];
  return p && (exprKey(p) ?? facts.source(p.span).replace(/\s+/g, ''));
}

/** A call that unpacks arguments (`*args`, `**kwargs`). */
function unpacks(c: Expr & { kind: 'call' }): boolean {
  return c.kwargs.some((k) => !k.name) || c.args.some((a) => a.kind === 'other' && a.spread !== undefined);
}

/** The `if` chains of a body around an expression, outermost first, each with the branch that holds it. */
function chainsAround(body: Stmt[], e: Expr, out: { chain: (Stmt & { kind: 'block' })[]; branch: number }[] = [], depth = 0): { chain: (Stmt & { kind: 'block' })[]; branch: number }[] {
  if (depth > 40) return out;
  for (let i = 0; i < body.length; i++) {
    const s = body[i];
    if (s.kind === 'block' && s.label === 'if') {
      const chain = ifChainAt(body, i);
      if (within(e, s.span)) {
        let k = chain.length - 1;
        while (k > 0 && !within(e, chain[k].span)) k--;
        // The head's span holds the later blocks: its own branch is what they leave.
        out.push({ chain, branch: k });
        return chainsAround(chain[k].body, e, out, depth + 1);
      }
      i += chain.length - 1;
      continue;
    }
    if ((s.kind === 'block' || s.kind === 'for') && within(e, s.span)) return chainsAround(s.body, e, out, depth + 1);
  }
  return out;
}

/**
 * Is the decay (by key) read outside the constructions that pass it and the conditions of if statements: in
 * the function, or, for a field of a parameter (`args.wd`, the caller's object too), anywhere in the file? A
 * bare parameter (`wd`) is followed to what each call of the function in the file hands it (`args.wd`), read
 * anywhere else in the file.
 */
function readElsewhere(facts: Facts, fn: FunctionDef, decay: Expr, key: string, constructions: OptimizerFact[]): boolean {
  const heads: Expr[] = [];
  for (const b of fileBodies(facts)) for (const st of ownStatements(b.stmts)) if (st.kind === 'block' && st.label === 'if') heads.push(...st.heads);
  const inHead = (e: Expr): boolean => heads.some((h) => within(e, h.span));
  const readIn = (stmts: Stmt[], k: string, besides: { span: { start: number; end: number } }[]): boolean => {
    let found = false;
    walkAll(stmts, (e) => {
      if (found || exprKey(e) !== k) return;
      if (besides.some((o) => within(e, o.span)) || inHead(e)) return;
      found = true;
    });
    return found;
  };
  const calls = constructions.map((o) => o.call);
  if (decay.kind !== 'name') return readIn(facts.module.body, key, calls);
  if (readIn(fn.body, key, calls)) return true;
  const i = explicitParams(fn).findIndex((p) => p.name === decay.name);
  for (const site of programIndex(facts).callsTo(fn)) {
    const arg = site.call.kwargs.find((k) => k.name === decay.name)?.value ?? (i >= 0 ? site.call.args[i] : undefined);
    const k = arg && exprKey(arg);
    if (k !== undefined && readIn(facts.module.body, k, [site.call])) return true;
  }
  return false;
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
