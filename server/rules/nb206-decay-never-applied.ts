// NB206 decay-never-applied: an optimizer class accepts a weight-decay knob and no step applies it.
//
// ## What it does
// Finds optimizer classes (deriving from torch's `Optimizer`) whose constructor takes a decay
// knob (`weight_decay`, `wd`, `l2`), stores or validates it, and whose methods (and those of their
// bases, and the helpers they call) never read it back; a decay in a method whose returned
// update a base class applies (`_step`) that only rebinds the local holding the weight; a decay a
// framework optimizer's subclass adds to a gradient it never hands to the base step it then runs
// (`g = g.add(w.mul(wd))`, then `super.applyGradients(grads)`); a torch parameter group whose
// decay key is misspelled (`"weight_dacay"`); a decay strength a setter stores that the update
// applies only under a flag no code sets (`if (this.useWeightDecay)`); and a Keras layer's
// `kernel_regularizer` assigned after the model is built, which Keras never reads.
//
// ## Why is this bad?
// The user asks for weight decay and trains without it, silently: `weight_decay=1e-2` behaves
// exactly like `weight_decay=0`. The same for a from-scratch layer's regularizer that nothing reads
// into a loss or a gradient, and a training function's regularization strength it never reads.
import { defineRule } from './rule';
import { decaysNotHandedOn, decaysNotReturned, discardedDecays, unusedDecayKnobs } from '../engine/facts/decayKnobs';
import { unusedRegularizerKnobs } from '../engine/facts/regularizerKnobs';
import { misspelledGroupKeys } from '../engine/facts/groupKeys';
import { flagGatedDecays } from '../engine/facts/flagGatedDecay';
import { regularizersAfterBuild } from '../engine/facts/regularizerAfterBuild';
import { droppedDecayArguments } from '../engine/facts/droppedArguments';
import { branchDroppedDecays } from '../engine/facts/branchDroppedDecay';

export const nb206DecayNeverApplied = defineRule({
  meta: {
    code: 'NB206',
    name: 'decay-never-applied',
    severity: 'warning',
    summary: 'An optimizer, layer or training function takes a weight-decay or regularizer argument that nothing reads, or a decay never reaches the update that is applied: it is never applied',
    fix: 'none',
  },
  check(context) {
    const { facts } = context;
    for (const k of unusedDecayKnobs(facts)) {
      if (k.inheritedFrom) {
        // The knob is the base's constructor's: report on the subclass's step, which is what drops it.
        const base = k.inheritedFrom.name;
        const related = [{ span: k.param.span, message: `${base}'s constructor takes ${k.param.name}, which ${k.cls.name} inherits` }];
        if (k.stored) related.push({ span: k.stored, message: `${k.param.name} is stored here` });
        context.report({
          span: k.step,
          message: `${k.cls.name} accepts ${k.param.name} through ${base}'s constructor, but its step never reads it: the weight decay is never applied, whatever value is passed`,
          related,
          math: { missingTerm: { how: 'never-applied', term: k.param.name, params: k.cls.name } },
        });
        continue;
      }
      const related = [{ span: k.step, message: `${k.cls.name}'s step never reads ${k.param.name}` }];
      if (k.stored) related.unshift({ span: k.stored, message: `${k.param.name} is stored here` });
      context.report({
        span: k.param.span,
        message: `${k.cls.name} accepts ${k.param.name} but no step reads it: the weight decay is never applied, whatever value is passed`,
        related,
        math: { missingTerm: { how: 'never-applied', term: k.param.name, params: k.cls.name } },
      });
    }
    // A framework's `_step` returns the update its base class subtracts: a decay that only rebinds
    // the local holding the weight never reaches it.
    for (const d of decaysNotReturned(facts)) {
      const applier = d.caller ? `${d.caller.cls ? `${d.caller.cls.name}.` : ''}${d.caller.name}()` : 'the caller';
      context.report({
        span: d.span,
        message: `this weight decay only rebinds ${d.local}, and nothing reads ${d.local} afterwards: ${d.method.name}() returns the update without it, and ${applier} subtracts that update from the weights, so the decay is never applied`,
        related: [{ span: d.appliedAt, message: `${applier} applies what ${d.method.name}() returns here` }],
        math: { missingTerm: { how: 'never-applied', term: d.term, params: d.method.name } },
      });
    }
    // A subclass's step that decays a gradient's local and then runs the base step on the originals.
    for (const d of decaysNotHandedOn(facts)) {
      const how = d.discarded
        ? `this adds the weight's decay to ${d.local} out of place and throws the sum away`
        : `${d.helper ? `${d.helper}() can return the gradient with the weight's decay added, and this stores it in ${d.local}` : `this adds the weight's decay to ${d.local}`}, but nothing reads ${d.local} afterwards`;
      context.report({
        span: d.span,
        message: `${how}: the base class's ${d.method.name}() applies ${d.baseReads === 'grad' ? "each parameter's .grad" : 'the gradients it was handed'}, without the decay, so the decay is never applied`,
        related: [{ span: d.baseStep, message: `the base class's ${d.method.name}() runs here on the original gradients` }],
        math: { missingTerm: { how: 'never-added', term: d.weight, timesStrength: true, params: d.weight, gradient: d.local } },
      });
    }
    // `dp.add(p.data, alpha=wd)` as a statement in a step: the out-of-place sum is thrown away.
    const handedOn = new Set(decaysNotHandedOn(facts).map((d) => d.span.start));
    for (const d of discardedDecays(facts)) {
      if (handedOn.has(d.span.start)) continue;
      const fix = `${d.receiver}.${d.inPlace}(${d.term})`;
      const message =
        d.of === 'gradient'
          ? `${d.callee}() returns a new tensor and leaves ${d.receiver} as it was: this sum with ${d.weight}'s weight decay is thrown away, and the step reads ${d.receiver} without it, so the decay is never applied (add it in place, ${fix}, or assign it, ${d.receiver} = ${d.receiver}.${d.method}(${d.term}))`
          : `${d.callee}() returns a new tensor and leaves ${d.receiver} as it was: this decay of ${d.weight} is thrown away, so it is never applied (decay in place, ${fix}, or assign it)`;
      context.report({
        span: d.span,
        message,
        related: [d.of === 'gradient' ? { span: d.readAt, message: `${d.receiver} is read here, without the decay` } : { span: d.update, message: `${d.weight} is updated here, without the decay` }],
        math: { missingTerm: d.of === 'gradient' ? { how: 'never-added', term: d.term, params: d.weight, gradient: d.receiver } : { how: 'never-applied', term: d.weight, timesStrength: true, params: d.weight } },
      });
    }
    // torch keeps a group's unknown keys without a word: a misspelled decay key sets nothing.
    for (const m of misspelledGroupKeys(facts)) {
      context.report({
        span: m.span,
        message: `${m.optimizer.name} never reads the group key '${m.key}' (it reads '${m.meant}'): this group's weight decay is ${m.fallback}, not the value written here, so the decay asked for is never applied`,
        math: { missingTerm: { how: 'never-applied', term: m.meant, params: m.optimizer.name } },
      });
    }
    // A setter stores the strength, but the update applies it only under a flag nothing sets.
    for (const g of flagGatedDecays(facts)) {
      context.report({
        span: g.call,
        message: `${g.setter}() stores the weight decay in ${g.strength}, but ${g.cls} applies it only when ${g.flag} is set, and nothing sets ${g.flag}: the weight decay is never applied, whatever value is passed`,
        related: [
          { span: g.stored, message: `${g.setter}() stores ${g.strength} here` },
          { span: g.gate, message: `the decay waits on ${g.flag}, which no code assigns` },
        ],
        math: { missingTerm: { how: 'never-applied', term: g.strength, params: g.cls } },
      });
    }
    // Keras reads a layer's regularizer when it builds the layer: one set afterwards is never read.
    for (const r of regularizersAfterBuild(facts)) {
      if (r.helper) {
        context.report({
          span: r.span,
          message: `${r.model} is already built when it is handed to ${r.helper.name}() (at ${facts.lineLabel(r.builtAt)}: ${r.how}), and ${r.helper.name}() sets its layers' ${r.attribute}, which Keras reads only when it builds a layer: this adds no penalty to ${r.model}.losses, so the regularization is never applied (pass it to the layers' constructors, or rebuild the model from its config afterwards)`,
          related: [
            { span: r.helper.assigned, message: `${r.helper.name}() sets ${r.attribute} here, on a layer that is already built` },
            { span: r.builtAt, message: `${r.model} is built here` },
          ],
          math: { missingTerm: { how: 'left-out', term: r.attribute } },
        });
        continue;
      }
      context.report({
        span: r.span,
        message: `${r.model} is already built (at ${facts.lineLabel(r.builtAt)}: ${r.how}), and Keras reads ${r.attribute} only when it builds a layer: this assignment adds no penalty to ${r.model}.losses, so the regularization is never applied (pass it to the layer's constructor, or rebuild the model from its config afterwards)`,
        related: [{ span: r.builtAt, message: `${r.model} is built here` }],
        math: { missingTerm: { how: 'left-out', term: r.attribute } },
      });
    }
    // JavaScript drops the arguments a function does not declare: a decay passed past them goes nowhere.
    for (const d of droppedDecayArguments(facts)) {
      const callee = d.constructs ? `${d.constructs.name}'s constructor` : `${d.fn.name || 'this function'}()`;
      const takes = d.declared.length === 0 ? 'takes no arguments' : `takes ${d.declared.length === 1 ? 'one parameter' : `${d.declared.length} parameters`} (${d.declared.join(', ')})`;
      context.report({
        span: d.arg.span,
        message: `${callee} ${takes}, and this call passes ${d.call.args.length} arguments: JavaScript drops the ${ordinal(d.position + 1)}, ${d.written}, without a word, so the weight decay is never applied${d.declared.length === 1 && d.constructs ? ` (pass the settings the way the constructor reads them, e.g. one object)` : ''}`,
        related: [{ span: d.fn.nameSpan ?? d.fn.span, message: `${callee} declares its parameters here` }],
        math: { missingTerm: { how: 'never-applied', term: d.written, params: d.constructs?.name ?? d.fn.name } },
      });
    }
    // One branch builds the same optimizer as another with the function's decay left out (branchDroppedDecay.ts).
    for (const d of branchDroppedDecays(facts)) {
      const def = d.dropped.decaySettings?.[0]?.value;
      const cls = d.dropped.name;
      const decay = facts.source(d.decay.span);
      const fallback = def === undefined || def === 0 ? `so this branch trains with no weight decay at all` : `so this branch trains with ${cls}'s default weight_decay=${def}`;
      if (d.otherClass) {
        context.report({
          span: d.dropped.call.span,
          message: `this ${cls} sets no weight decay, ${fallback}, whatever ${decay} is: every other branch of this choice in ${d.fn.name}() that builds an optimizer passes ${decay} (the ${d.kept.name} here), and nothing else in the file reads it. Pass weight_decay=${decay} here too (or 0 explicitly, if this optimizer is meant to train without decay)`,
          related: [{ span: d.decay.span, message: `the ${d.kept.name} branch passes ${decay} here` }],
          math: { missingTerm: { how: 'never-applied', term: decay, params: cls } },
        });
        continue;
      }
      context.report({
        span: d.dropped.call.span,
        message: `this ${cls} sets no weight decay, ${fallback}, whatever ${decay} is: the ${cls} built in another branch of ${d.fn.name}() with the same settings passes ${decay}. Pass weight_decay=${decay} here too (or 0 explicitly, if this branch is meant to train without decay)`,
        related: [{ span: d.decay.span, message: `the other branch passes ${decay} here` }],
        math: { missingTerm: { how: 'never-applied', term: decay, params: cls } },
      });
    }
    const reported = new Set(unusedDecayKnobs(facts).map((k) => k.param.span.start));
    for (const k of unusedRegularizerKnobs(facts)) {
      if (reported.has(k.param.span.start)) continue;
      if (k.kind === 'layer') {
        const related = [];
        if (k.stored) related.push({ span: k.stored, message: `${k.param.name} is stored here, and nothing reads it back` });
        if (k.given) related.push({ span: k.given, message: `a value for ${k.param.name} is passed here` });
        context.report({
          span: k.param.span,
          message: `${k.owner} accepts ${k.param.name} and stores it, but no loss or gradient reads it: the regularization is never applied, whatever value is passed`,
          related,
          math: { missingTerm: { how: 'left-out', term: k.param.name } },
        });
      } else {
        context.report({
          span: k.param.span,
          message: `${k.owner} accepts ${k.param.name} but never reads it: the regularization is never applied, whatever value is passed`,
          math: { missingTerm: { how: 'left-out', term: k.param.name } },
        });
      }
    }
  },
});

function ordinal(n: number): string {
  return n === 1 ? '1st' : n === 2 ? '2nd' : n === 3 ? '3rd' : `${n}th`;
}
