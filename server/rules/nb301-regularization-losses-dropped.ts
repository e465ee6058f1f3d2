// NB301 regularization-losses-dropped: a custom training loop differentiates a loss without the
// penalties that the model's layer regularizers collect.
//
// ## What it does
// Finds `tape.gradient(loss, model.trainable_variables)` (Keras), `optimizer.minimize(() => ...)` /
// `tf.variableGrads(() => ...)` (tfjs) and TF1 `optimizer.minimize(loss)` where the model's layers
// carry `kernel_regularizer` / `kernelRegularizer` / `weights_regularizer` (built in the same file)
// and the loss never includes `model.losses`, `model.calculateLosses()` or the
// REGULARIZATION_LOSSES collection.
//
// ## Why is this bad?
// Layer regularizers only compute penalties; `fit()` adds them to the loss. A custom loop that does
// not add them trains the model unregularized, whatever the regularizer strength says.
import { defineRule, type Report } from './rule';
import type { Facts } from '../engine/facts';
import type { Expr } from '../engine/ir';
import { exprKey } from '../engine/facts/keys';
import { callName, stmtExprs, subExprs, trainingFacts, trainingFactsOf, within, type DiffEvent, type ModelStatus, type RegularizedLayer, type StmtInfo, type TrainingFacts } from '../engine/facts/loops';
import { lossFlow, readOffLoss } from '../engine/facts/lossFlow';
import { addLossPenaltyOf, type AddLossPenalty } from '../engine/facts/addLossPenalties';
import { gradientNeverSteps } from '../engine/facts/unappliedGradients';
import { isTensorflowModule, isWeightListAttribute, isWeightListMethod, MODEL_OPTIMIZER_ATTRIBUTE } from '../engine/facts/catalogue';

export const nb301RegularizationLossesDropped = defineRule({
  meta: {
    code: 'NB301',
    name: 'regularization-losses-dropped',
    severity: 'warning',
    summary: 'A custom training loop differentiates a loss without the penalties of the layer regularizers (model.losses)',
    fix: 'sometimes',
  },
  check(context) {
    const { facts } = context;
    const t = trainingFacts(facts);
    for (const d of t.diffs) {
      if (d.kind !== 'tape' && d.kind !== 'closure') continue;
      const found = regularizedModel(t, d);
      if (!found) continue;
      const terms = t.lossTerms(d);
      // The loss already holds a penalty: model.losses, get_regularization_loss(), or one written by hand.
      if (terms.some((term) => t.penalty(term.expr, term.scope, term.at, term.env) || t.isOpaqueHelper(term.expr, term.scope))) continue;
      if (t.readsRegularization(t.functionOf(d.info.unit), terms.map((term) => term.expr), offLoss(t, d))) continue;
      // A gradient only returned or differentiated again, by functions no caller of which steps: no training step.
      if (gradientNeverSteps(t, d)) continue;
      context.report(kerasReport(facts, t, d, found.model, found.layer, found.named));
    }
    // TF1 puts layer penalties in a graph collection: any file this one imports may have added some,
    // and a training function this file calls in another module (`trainer.train(model)`) runs in
    // the same graph.
    if (!t.diffs.some((d) => d.kind === 'tf1') && !importsTensorflow(facts)) return;
    const files = facts.program.reachable(facts.program.parsedOf(facts.scopes.root.span)!).map((p) => trainingFacts(facts.program.facts(p)));
    let called: Set<TrainingFacts> | undefined;
    const trains = (f: TrainingFacts): boolean => f === t || (called ??= calledFiles(t)).has(f);
    const tf1Diffs = files.filter((f) => f.diffs.some((d) => d.kind === 'tf1') && trains(f)).flatMap((f) => f.diffs.filter((d) => d.kind === 'tf1').map((d) => ({ f, d })));
    if (tf1Diffs.length === 0) return;
    const tf1 = files.flatMap((f) => f.regularizedLayers().filter((l) => l.style === 'tf1'));
    if (tf1.length === 0) return;
    for (const { f, d } of tf1Diffs) {
      // A read of the collection counts unless its value provably reaches no loss (lossFlow.ts).
      if (files.some((g) => g.readsRegularization(g.units[0], [], offLoss(f, d)))) continue;
      const loss = d.loss ? f.text(d.loss) : 'the loss';
      context.report({
        span: d.call.span,
        message: `${callName(d.call) ?? 'minimize'}(${loss}) never sees the penalties of the layer regularizers: TF1 puts them in tf.GraphKeys.REGULARIZATION_LOSSES, and only tf.losses.get_total_loss() or get_regularization_loss() adds them to a loss`,
        related: [{ span: tf1[0].arg.value.span, message: `${tf1[0].arg.name}=${f.text(tf1[0].arg.value)} collects its penalty in REGULARIZATION_LOSSES` }],
        math: { missingTerm: { how: 'left-out', term: 'tf.losses.get_regularization_loss()', ...(d.loss ? { loss: f.text(d.loss) } : {}) } },
      });
    }
  },
});

function importsTensorflow(facts: Facts): boolean {
  for (const i of facts.scopes.imports.values()) if (isTensorflowModule(i.module)) return true;
  return false;
}

/** The other files whose functions (or classes) a file calls. */
function calledFiles(t: TrainingFacts): Set<TrainingFacts> {
  const out = new Set<TrainingFacts>();
  for (const info of t.infos) {
    for (const e of stmtExprs(info.stmt)) {
      for (const x of subExprs(e)) {
        if (x.kind !== 'call') continue;
        const target = t.facts.analyzer.callTarget(x, info.scope, info.stmt.span.start);
        if (target && !within(target.fn.span, t.facts.scopes.root.span)) out.add(trainingFactsOf(t.facts.program, target.fn.span, t));
      }
    }
  }
  return out;
}

/** Reads of the collected penalties that never reach a loss: only logged, or bound to locals nothing trains. */
function offLoss(t: TrainingFacts, d: DiffEvent): (f: TrainingFacts, info: StmtInfo) => boolean {
  const home = t.functionOf(d.info.unit);
  // A `return` after the differentiation in its own function (`return loss + sum(model.losses)`, a reported
  // total) ends the function: it cannot reach the loss differentiated before it.
  const returnedAfter = (f: TrainingFacts, info: StmtInfo): boolean => f === t && home !== undefined && t.functionOf(info.unit) === home && info.stmt.kind === 'return' && info.stmt.span.start >= d.call.span.end;
  return (f, info) => returnedAfter(f, info) || readOffLoss(f, info, f === t && t.functionOf(info.unit) === home ? lossFlow(t, d) : undefined);
}

/** The regularized model a differentiation event trains, if any, and how to name it (`named`, when not its own text). */
function regularizedModel(t: TrainingFacts, d: DiffEvent): { model: Expr | undefined; layer: RegularizedLayer | AddLossPenalty; named?: string } | undefined {
  const scope = d.info.scope;
  const at = d.info.stmt.span.start;
  const candidates: { expr: Expr; status: ModelStatus; named?: string; path?: string }[] = [];
  if (d.sources) for (const m of t.sourceModels(d.sources, scope, at)) candidates.push({ expr: m, status: t.modelStatus(m, scope, at) });
  if (candidates.length === 0 && d.kind === 'closure' && d.record && t.facts.language !== 'python') {
    // The loss may run other models first (a target network): the trained one is the one whose weights or optimizer minimize uses.
    const owner = trainedOwner(d);
    const list = t.closureModels(d.returns ?? [], d.record).map((m) => ({ ...m, named: owner ? ownedAs(t, owner, m.expr) : undefined }));
    list.sort((a, b) => Number(b.named !== undefined) - Number(a.named !== undefined));
    // A model a helper of another file runs (a page script's class, an imported module's) is read in that file.
    for (const m of list) candidates.push({ expr: m.expr, status: trainingFactsOf(t.facts.program, m.expr.span, t).modelStatus(m.expr, m.scope, m.at), named: m.named, path: m.path });
  }
  for (const c of candidates) {
    const status = c.status.kind === 'unknown' ? trainingFactsOf(t.facts.program, c.expr.span, t).fallbackStatus(c.expr) : c.status;
    // A model of a method the loss reaches through a receiver is named as the closure reaches it (`this.net.backbone`).
    if (status.kind === 'found' && status.layer.style !== 'tf1') return { model: c.expr, layer: status.layer, named: c.named ?? c.path };
  }
  // Penalties the program attaches with `add_loss` to the model or its layers land in model.losses too.
  for (const c of candidates) {
    const attached = addLossPenaltyOf(t, c.expr, scope, at);
    if (attached) return { model: c.expr, layer: attached, named: c.named };
  }
  return undefined;
}

/**
 * How to name the trained model `owner` through the model `m` the loss runs, if `m` is it or holds
 * it: `valueNet` for `valueNet.model.getWeights(true)` is named `valueNet.model` (its
 * `calculateLosses()` is the inner model's). A field of `this` matches the same field of another
 * object (`agent.critic.call(x)` in a nested function, `this.critic.model.optimizer.minimize`).
 */
function ownedAs(t: TrainingFacts, owner: Expr, m: Expr): string | undefined {
  const o = exprKey(owner)?.split('.');
  const k = exprKey(m)?.split('.');
  if (!o || !k || k.length > o.length) return undefined;
  const rest = o.slice(k.length);
  const named = (): string => [t.text(m), ...rest].join('.');
  if (k.every((x, i) => x === o[i])) return named();
  return o[0] === 'this' && k.length >= 2 && k.slice(1).every((x, i) => x === o[i + 1]) ? named() : undefined;
}

/**
 * The model a closure's minimize trains, when the call says: the owner of the weight list it is
 * given (`net.model.getWeights(true)`, `net.trainableWeights`), or of the optimizer (`net.model.optimizer.minimize`).
 */
function trainedOwner(d: DiffEvent): Expr | undefined {
  const scope = d.info.scope;
  const at = d.info.stmt.span.start;
  const listOwner = (e: Expr | undefined, depth: number): Expr | undefined => {
    if (!e || depth > 3) return undefined;
    if (e.kind === 'name') {
      const b = scope.lookup(e.name, at);
      return b?.kind === 'assign' && b.value && !b.op ? listOwner(b.value, depth + 1) : undefined;
    }
    if (e.kind === 'attr' && isWeightListAttribute(e.name)) return e.object;
    if (e.kind === 'call' && e.callee.kind === 'attr' && isWeightListMethod(e.callee.name)) return e.callee.object;
    return undefined;
  };
  // tfjs `minimize(f, returnCost, varList)`; a weight list passed second is meant as the var list too.
  const fromList = listOwner(d.sources, 0) ?? listOwner(d.call.args[1], 0);
  if (fromList) return fromList;
  const callee = d.call.callee;
  if (callee.kind === 'attr' && callee.object.kind === 'attr' && callee.object.name === MODEL_OPTIMIZER_ATTRIBUTE) return callee.object.object;
  return undefined;
}

function kerasReport(facts: Facts, t: TrainingFacts, d: DiffEvent, model: Expr | undefined, layer: RegularizedLayer | AddLossPenalty, named?: string): Report {
  const modelText = named ?? (model ? t.text(model) : 'model');
  if (!('arg' in layer)) return addLossReport(facts, t, d, modelText, layer);
  const related = [{ span: layer.arg.value.span, message: `${layer.arg.name}: ${t.text(layer.arg.value)} adds its penalty to ${modelText}.${layer.style === 'tfjs' ? 'calculateLosses()' : 'losses'}` }];
  if (layer.style === 'tfjs') {
    return {
      span: d.call.span,
      message: `the minimized loss leaves out the penalties of ${modelText}'s layer regularizers: only model.fit() adds them; add tf.addN(${modelText}.calculateLosses()) to the returned loss`,
      related,
      math: { missingTerm: { how: 'left-out', term: `tf.addN(${modelText}.calculateLosses())` } },
    };
  }
  const loss = d.loss ? t.text(d.loss) : 'the loss';
  return {
    span: d.call.span,
    message: `${loss} is differentiated without ${modelText}.losses: the layer regularizers only collect their penalties there, and only fit() adds them to the loss; add sum(${modelText}.losses) inside the tape`,
    related,
    fix: addLossesFix(facts, t, d, modelText),
    math: { missingTerm: { how: 'left-out', term: `sum(${modelText}.losses)`, ...(d.loss ? { loss } : {}) } },
  };
}

/** The penalties come from `add_loss` calls, not from regularizer arguments. */
function addLossReport(facts: Facts, t: TrainingFacts, d: DiffEvent, modelText: string, penalty: AddLossPenalty): Report {
  const loss = d.loss ? t.text(d.loss) : 'the loss';
  return {
    span: d.call.span,
    message: `${loss} is differentiated without ${modelText}.losses: the penalties attached with add_loss are only collected there, and only fit() adds them to the loss; add sum(${modelText}.losses) inside the tape`,
    related: [{ span: penalty.call.span, message: `${t.text(penalty.receiver)}.add_loss(...) attaches a penalty that Keras collects in ${modelText}.losses` }],
    fix: addLossesFix(facts, t, d, modelText),
    math: { missingTerm: { how: 'left-out', term: `sum(${modelText}.losses)`, ...(d.loss ? { loss } : {}) } },
  };
}

/** `loss = loss_fn(y, logits)` inside the tape → `loss = loss_fn(y, logits) + sum(model.losses)`. */
function addLossesFix(facts: Facts, t: TrainingFacts, d: DiffEvent, modelText: string): Report['fix'] {
  const key = d.loss && (d.loss.kind === 'name' || d.loss.kind === 'attr') ? exprKey(d.loss) : undefined;
  if (!key || !d.record || facts.language !== 'python') return undefined;
  const value = t.lastAssignmentIn(key, d.record);
  if (!value) return undefined;
  const { start, end } = value.span;
  const added = ` + sum(${modelText}.losses)`;
  const edits = value.kind === 'lambda' || value.kind === 'other'
    ? [{ span: { start, end: start }, newText: '(' }, { span: { start: end, end }, newText: `)${added}` }]
    : [{ span: { start: end, end }, newText: added }];
  return { title: `Add sum(${modelText}.losses) to the loss inside the tape`, safety: 'unsafe', edits };
}
