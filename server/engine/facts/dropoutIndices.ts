// A mask multiplied into integer ids rather than activations: word dropout (`token_ids * keep`)
// replaces dropped tokens by id 0 (an UNK or padding row), and passing the ids unchanged at inference
// is what it means to do. Dropout's expectation argument (NB209) is about activations the next layer
// sums; a row index is not summed, so no rescaling is owed.
//
// By data flow first: the masked value is a parameter of the function that the function itself also
// uses as an index (`E[ids]`, `emb.weight[ids]`) or hands to a layer that looks rows up by it (an
// `nn.Embedding` it builds, catalogue.ts `lookupLayer`). By name only when nothing in the function says
// what the value is (roles.ts `isIndexName`).
import type { Expr, Param, Stmt } from '../ir';
import type { Facts } from './index';
import type { Scope } from './scope';
import { someExpr } from './scope';
import { isSelfName } from './resolve';
import { exprKey } from './keys';
import { walkAll } from './program';
import { frameworkPath, lookupLayer } from './catalogue';
import { isIndexName } from './roles';

/** Whether the value the training path masks (`trainAt`) is the function's integer ids, not activations. */
export function masksIndices(facts: Facts, body: { stmts: Stmt[]; params: Param[]; scope: Scope }, trainAt: Expr, probability: string | undefined): boolean {
  const names = new Set(body.params.map((p) => p.name).filter((n) => !isSelfName(n) && n !== probability));
  // The masked values: parameters read in the training output, not where it picks an entry or a mask
  // (`xs[t] * mask`, `h * self.masks[layer]`: t and layer select, the activations are xs and h).
  const picks = new Set<Expr>();
  someExpr(trainAt, (e) => {
    if (e.kind === 'index') for (const i of e.index) someExpr(i, (x) => (picks.add(x), false));
    return false;
  });
  const data = new Set<string>();
  someExpr(trainAt, (e) => {
    if (e.kind === 'name' && names.has(e.name) && !picks.has(e)) data.add(e.name);
    return false;
  });
  if (data.size === 0) return false;
  // Data flow: the same parameter used as an index, or looked up by an embedding layer, in the function.
  let indexed = false;
  walkAll(body.stmts, (e) => {
    if (indexed) return;
    if (e.kind === 'index' && someIndexName(e, data)) indexed = true;
    else if (e.kind === 'call' && e.args.some((a) => a.kind === 'name' && data.has(a.name)) && looksRowsUp(facts, e, body.scope, data)) indexed = true;
  });
  if (indexed) return true;
  return [...data].every((n) => isIndexName(n));
}

function someIndexName(e: Expr & { kind: 'index' }, data: Set<string>): boolean {
  return e.index.some((i) => i.kind === 'name' && data.has(i.name));
}

/** `self.emb(ids)` where `self.emb` is built by a lookup layer (`nn.Embedding(...)`), with ids where the indices go. */
function looksRowsUp(facts: Facts, call: Expr & { kind: 'call' }, scope: Scope, data: Set<string>): boolean {
  const layer = call.callee;
  const key = layer.kind === 'name' || layer.kind === 'attr' ? exprKey(layer) : undefined;
  const b = key !== undefined ? scope.lookup(key, call.span.start) : undefined;
  const file = facts.program.parsedOf(call.span);
  if (b?.kind !== 'assign' || b.op || b.value?.kind !== 'call' || !file) return false;
  const path = frameworkPath(b.value.callee, b.scope, b.at, file.scopes.imports, file.language === 'python' ? 'python' : 'script');
  const spec = path ? lookupLayer(path) : undefined;
  const arg = spec ? call.args[spec.indices] : undefined;
  return arg?.kind === 'name' && data.has(arg.name);
}
