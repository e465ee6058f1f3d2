// NB407 state-never-stored: a hand-written optimizer computes its moving average from the stored
// state into a local or a loop variable and never writes it back, or writes it back and steps the
// parameter in the same function without it, or writes it into a place nothing reads while the step
// reads a sibling place that stays at its zero start.
//
// ## What it does
// Reports what engine/facts/unstoredState.ts finds: the statement that computes the new value,
// which state it loses and where it would have to be written.
import { defineRule } from './rule';
import { unstoredStates } from '../engine/facts/unstoredState';
import { noneOnlyStates } from '../engine/facts/noneOnlyState';
import { unstoredMaxForms, consecutiveMaxForms, unstoredStateForms, unusedStateForms } from '../engine/findingForms';

export const nb407StateNeverStored = defineRule({
  meta: {
    code: 'NB407',
    name: 'state-never-stored',
    severity: 'warning',
    summary: 'A hand-written optimizer computes its momentum or moving average from the stored state and never writes it back, or writes it back and never uses it in the step, or writes it into one table while the step reads another that stays at its zero start, or uses a running maximum (Adamax, AMSGrad) it never keeps',
    fix: 'none',
  },
  check(context) {
    // A state field whose only write is its None start: the step rebuilds its local copy on every call.
    for (const f of noneOnlyStates(context.facts)) {
      context.report({
        span: f.rebuilt,
        message:
          `${f.field} only ever holds None (its one write is its start), so \`${context.facts.source(f.test)}\` holds on every call of ${f.fn.name}(): ` +
          `${f.local} is built afresh here each time and never stored in ${f.field}, so the moving average its entries keep starts over on every step${f.alongside.length > 0 ? ` (so does ${f.alongside.join(' and ')}'s, built the same way)` : ''}. Store it (\`${f.field} = ${f.local}\`) where it is built.`,
        related: [
          { span: f.start, message: `${f.field} is set to None here, and nothing sets it again` },
          { span: f.update, message: `${f.local}'s entries are averaged from their old values here` },
        ],
      });
    }
    for (const f of unstoredStates(context.facts)) {
      if (f.misdirected) {
        const { read, step, start } = f.misdirected;
        context.report({
          span: f.span,
          message:
            `The moving average is written into \`${f.place}\`, which nothing reads, while the parameter's update reads \`${read}\`, which nothing writes but its zero start: ` +
            `the step reads that start on every call and the average never reaches the weights (an RMSprop step that divides by it is lr·g/(√0 + ε) = lr·g/ε). Write the average into the place the step reads, or let the step read \`${f.place}\`.`,
          related: [
            { span: step, message: `the update reads \`${read}\` here` },
            { span: start, message: `the zero start of \`${read}\`, which nothing writes again` },
          ],
        });
        continue;
      }
      if (f.unused) {
        context.report({
          span: f.span,
          message:
            `The optimizer state \`${f.place}\` gets its new value, ${f.weight}·(old value) + new term, and is written back, but the parameter's update in this step does not use it: ` +
            `it steps by \`${f.unused.term}\` directly and reads neither \`${f.place}\` nor its new value, so the momentum (and any learning rate the state carries) never reaches the weights. Step by the state's new value (\`w -= v\`, or \`w -= lr * v\`).`,
          related: [{ span: f.unused.step, message: 'the update that ignores the state' }],
          math: { forms: unusedStateForms(f.place, f.element, f.weight) },
        });
        continue;
      }
      if (f.max) {
        const from = f.element ? `an element of \`${f.place}\`` : `\`${f.place}\``;
        const other = f.max.other;
        const old = f.weight === '1' ? 'old value' : `${f.weight}·(old value)`;
        if (f.max.consecutive && other) {
          context.report({
            span: f.span,
            message:
              `\`${f.local}\` is the maximum of ${from}'s new average and its value from the last step, and the step uses it, but ${from} stores the average, not the maximum: ` +
              `each step compares only two consecutive averages, so \`${f.local}\` is no running maximum and falls back as soon as the average does (AMSGrad keeps v̂ ← max(v̂, v) in a state of its own). Keep the maximum in a state of its own, updated from itself (\`v_max = max(v_max, v)\`, stored), and divide by it.`,
            math: { forms: consecutiveMaxForms(f.place, f.element, f.local) },
            related: [{ span: other, message: `this stores the average in \`${f.place}\`, not \`${f.local}\`` }],
          });
          continue;
        }
        context.report({
          span: f.span,
          message: other
            ? `\`${f.local}\` is the running maximum's new value, max(${old}, new term), from ${from}, and the step uses it, but ${from} is written with another update of its old value instead: ` +
              `the next step's maximum starts from that value, not from \`${f.local}\`, so \`${f.local}\` never becomes a running maximum (Adamax keeps u ← max(β₂·u, |g|)). Store \`${f.local}\` in \`${f.place}\`${f.element ? ' (by index)' : ''}, or keep the other update in a state of its own.`
            : `\`${f.local}\` gets the running maximum's new value, max(${old}, new term), from ${from}, but nothing writes it back: ` +
              `the next step reads ${from} unchanged, so the maximum restarts from its first value every step and keeps only the current term. To keep it, store it (\`${f.place}${f.element ? '[i]' : ''} = ${f.local}\`), or update \`${f.place}\` in place.`,
          math: { forms: unstoredMaxForms(f.place, f.element, f.local, f.weight, other !== undefined) },
          related: [
            ...(other ? [{ span: other, message: `this writes another update of \`${f.place}\`'s old value, not \`${f.local}\`` }] : []),
            ...(f.started ? [{ span: f.started, message: f.startedElsewhere || f.startedWhileAbsent ? `this gives \`${f.place}\` its first value, on the first step only` : `this only gives \`${f.place}\` its zero start; nothing stores the new value after it` }] : []),
          ],
        });
        continue;
      }
      const where = f.copied
        ? `store the new value where the old one is copied (\`${f.local}\` itself${f.element ? ', each one collected in a list' : ''}), not a copy of \`${f.place}\``
        : f.element
        ? `write it back into \`${f.place}\` (by index), or update \`${f.local}\` in place (\`${f.local}[...] = …\`, \`${f.local} *= …; ${f.local} += …\`)`
        : `store it (\`${f.place} = ${f.local}\`), or update \`${f.place}\` in place`;
      const from = f.element ? `an element of \`${f.place}\`` : `\`${f.place}\``;
      context.report({
        span: f.span,
        message:
          `\`${f.local}\` gets the optimizer state's new value, ${f.weight}·(old value) + new term, from ${from}, but nothing writes it back: ` +
          (f.carried
            ? `\`${f.place}\` is a list of this function that the enclosing loop keeps across its iterations, and the next iteration reads it unchanged, so the state restarts from its first value every step and keeps only the current term. To keep it, ${where}.`
            : `the next step reads ${f.element ? `\`${f.place}\`` : from} unchanged, so the state restarts from its first value every step and keeps only the current term. To keep it, ${where}.`),
        math: { forms: unstoredStateForms(f.place, f.element, f.local, f.weight) },
        ...(f.copied || f.started || f.sibling
          ? {
              related: [
                ...(f.sibling ? [{ span: f.sibling.store, message: `the sibling state \`${f.sibling.place}\`, updated the same way, is stored here` }] : []),
                ...(f.copied ? [{ span: f.copied, message: `this stores a copy of \`${f.place}\`'s old value, not \`${f.local}\`` }] : []),
                ...(f.started
                  ? [{
                      span: f.started,
                      message: f.startedElsewhere
                        ? `this gives \`${f.place}\` its first value, in another branch than the new value; nothing stores the new value`
                        : f.startedWhileAbsent
                        ? `this gives \`${f.place}\` its first value, only while it has none (the first step); nothing stores the new value`
                        : `this only gives \`${f.place}\` its zero start; nothing stores the new value after it`,
                    }]
                  : []),
              ],
            }
          : {}),
      });
    }
  },
});
