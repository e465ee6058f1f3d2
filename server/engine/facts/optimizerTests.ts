// An optimizer under test: a framework optimizer built on tensors that the same function then compares
// numerically with something else (`torch.allclose(ta1, torch.tensor(ea1.data))`,
// `np.testing.assert_allclose`), the way a unit test checks a hand-written optimizer against
// torch's. Its settings mirror the implementation being checked (coupled decay in Adam included): they
// choose nothing about training, so advice about them (NB202) does not apply.
import type { Expr, Stmt } from '../ir';
import type { Facts } from './index';
import type { OptimizerFact } from './frameworks';
import { someExpr } from './scope';
import { programIndex, walkAll } from './program';
import { resolveExpr } from './resolve';
import { isNumericComparison } from './catalogue';
import { bodyAround } from './wholeObjectivePenalties';

/** Whether the optimizer's parameters (names written in its first argument) are compared numerically in its function. */
export function isOptimizerUnderTest(facts: Facts, opt: OptimizerFact): boolean {
  const body = bodyAround(facts, opt.ctx.scope);
  if (twinConstruction(facts, opt, body)) return true;
  const params = opt.params ?? opt.call.args[0];
  if (!params) return false;
  const names = new Set<string>();
  if (params.kind === 'name') names.add(params.name);
  else if (params.kind === 'seq') for (const item of params.items) if (item.kind === 'name') names.add(item.name);
  if (names.size === 0) return false;
  let compared = false;
  walkAll(body, (e) => {
    if (compared || e.kind !== 'call' || !isNumericComparison(e)) return;
    if (e.args.some((a) => someExpr(a, (x) => x.kind === 'name' && names.has(x.name)))) compared = true;
  });
  return compared;
}

/**
 * Another construction in the same function of an optimizer of the same name with the same keyword
 * arguments as written (`torch.optim.RMSprop([ta1], lr=0.1, weight_decay=0.1)` beside
 * `optim.RMSprop([ea1], lr=0.1, weight_decay=0.1)`): the library's optimizer and the one under test,
 * built alike to be compared (the comparison itself may sit in an `assert`). The other one is not the
 * same framework class (a GAN's two `torch.optim.Adam` with the same settings are two trainings): the twin
 * must resolve to a class the project defines, not merely share the last name.
 */
function twinConstruction(facts: Facts, opt: OptimizerFact, body: Stmt[]): boolean {
  const own = opt.call;
  if (own.kwargs.length === 0) return false;
  const text = (e: Expr): string => facts.source(e.span);
  const mine = new Map(own.kwargs.map((k) => [k.name, text(k.value)]));
  const index = programIndex(facts);
  let found = false;
  walkAll(body, (e) => {
    if (found || e.kind !== 'call' || e === own) return;
    const name = e.callee.kind === 'attr' ? e.callee.name : e.callee.kind === 'name' ? e.callee.name : undefined;
    if (name !== opt.name || e.kwargs.length !== own.kwargs.length) return;
    if (!e.kwargs.every((k) => mine.get(k.name) === text(k.value))) return;
    // The twin is a class the project defines (the implementation under test), by its resolved
    // definition: a same-named call the program cannot resolve, or the framework's own class, is not.
    if (resolveExpr(facts.program, e.callee, index.scopeAt(e.span.start), e.span.start)?.kind === 'class') found = true;
  });
  return found;
}

