// A dropout layer whose mask has no batch axis (NB205): Keras `Dropout(rate, noise_shape=(units,))`,
// tfjs `tf.layers.dropout({rate, noiseShape: [units]})`. A layer's input always has the batch axis
// first, and the mask of shape `noise_shape` is broadcast against it from the last axis, so a shape of
// one axis draws one mask per step and drops the same units for every example of the batch: the
// per-example noise that makes dropout a regularizer is gone.
//
// Read in the IR: the layer is a framework dropout layer (catalogue.ts `dropoutNoiseShapeArgument`),
// and its noise shape is a list or tuple of exactly one item, written in the call or bound to a name
// once. `(None, units)`, `(batch, 1, features)` (one mask over time) and `(1, units)` (a deliberate
// shared mask, written with its batch axis) stay silent.
import type { Expr, Span } from '../ir';
import type { Facts } from './index';
import { programIndex } from './program';
import { dropoutNoiseShapeArgument, frameworkPath, mayBeDropoutLayer } from './catalogue';

export interface BatchlessDropout {
  /** The layer's construction. */
  call: Expr & { kind: 'call' };
  /** The noise shape as written in the call. */
  shape: Expr;
  /** The one-item list or tuple (where it is bound, when the call names it). */
  literal: Expr & { kind: 'seq' };
  span: Span;
}

const cache = new WeakMap<Facts, BatchlessDropout[]>();

export function batchlessDropouts(facts: Facts): BatchlessDropout[] {
  let found = cache.get(facts);
  if (!found) {
    found = collect(facts);
    cache.set(facts, found);
  }
  return found;
}

function collect(facts: Facts): BatchlessDropout[] {
  const out: BatchlessDropout[] = [];
  const language = facts.language === 'python' ? 'python' : 'script';
  for (const site of programIndex(facts).calls) {
    const call = site.call;
    const last = call.callee.kind === 'attr' ? call.callee.name : call.callee.kind === 'name' ? call.callee.name : undefined;
    if (last === undefined || !mayBeDropoutLayer(last)) continue;
    const path = frameworkPath(call.callee, site.scope, site.at, facts.scopes.imports, language);
    const spec = path && dropoutNoiseShapeArgument(path);
    if (!spec) continue;
    const shape = noiseShape(call, spec.keyword, spec.position);
    if (!shape) continue;
    let literal: Expr | undefined = shape;
    if (shape.kind === 'name') {
      const b = site.scope.lookup(shape.name, site.at);
      const all = b ? (b.scope.bindings.get(shape.name) ?? []).filter((x) => x.scope === b.scope) : [];
      literal = b && b.kind === 'assign' && !b.op && all.length === 1 ? b.value : undefined;
    }
    if (literal?.kind !== 'seq' || literal.items.length !== 1) continue;
    const item = literal.items[0];
    if (item.kind === 'name' && (item.name === 'None' || item.name === 'null' || item.name === 'undefined')) continue;
    if (item.kind === 'other') continue;
    out.push({ call, shape, literal, span: call.span });
  }
  return out;
}

function noiseShape(call: Expr & { kind: 'call' }, keyword: string, position: number | undefined): Expr | undefined {
  const kw = call.kwargs.find((k) => k.name === keyword);
  if (kw) return kw.value;
  const obj = call.args.find((a) => a.kind === 'object');
  const entry = obj?.kind === 'object' ? obj.entries.find((e) => e.name === keyword) : undefined;
  if (entry) return entry.value;
  if (position === undefined) return undefined;
  for (let i = 0; i <= position && i < call.args.length; i++) if (call.args[i].kind === 'other') return undefined;
  return call.args[position];
}
