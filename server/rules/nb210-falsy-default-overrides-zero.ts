// NB210 falsy-default-overrides-zero: a hyperparameter whose 0 is a setting of its own (a momentum,
// a decay strength, a dropout rate) defaulted with a falsy test, `opts.momentum || 0.9`,
// `wd or 1e-4`: an explicit 0 is replaced by the default, silently.
//
// ## What it does
// Reports what engine/facts/falsyDefaults.ts finds: the `X || d` / `X or d` whose value reaches, by data
// flow, a place where 0 means something, with that place.
import { defineRule } from './rule';
import { falsyDefaults, type FalsyDefault } from '../engine/facts/falsyDefaults';

function meaning(f: FalsyDefault, api: boolean): string {
  const where = api ? `\`${f.target}\`'s \`${f.keyword}\`` : '';
  switch (f.meaning) {
    case 'momentum':
      return api ? `it is ${where}, and 0 means no momentum (a plain gradient step)` : `it is the factor on \`${f.target}\`'s old value in its update (a momentum or moving-average coefficient), and 0 means no momentum: each step uses only the new term`;
    case 'decay':
      // The line may shrink a weight (`W = W * (1 - lr * wd) - …`) or add a decay term to its gradient (`dW = … + reg * W`): say neither.
      return api ? `it is ${where}, and 0 means no weight decay` : `it is the weight-decay factor on the line that sets \`${f.target}\`, and 0 means no weight decay`;
    case 'penalty':
      return `it is the strength of the penalty on \`${f.target}\` that the loss adds, and 0 means no penalty`;
    case 'dropout':
      return `it is ${where}, the share of units dropped, and 0 means no dropout`;
  }
}

export const nb210FalsyDefaultOverridesZero = defineRule({
  meta: {
    code: 'NB210',
    name: 'falsy-default-overrides-zero',
    severity: 'warning',
    summary: 'A momentum, decay strength or dropout rate is defaulted with `||` / `or`: an explicit 0 (no momentum, no decay, no dropout) is replaced by the default',
    fix: 'always',
  },
  check(context) {
    const { facts } = context;
    for (const f of falsyDefaults(facts)) {
      const python = facts.program.parsedOf(f.expr.span)?.language === 'python';
      const option = facts.source(f.option.span);
      const fallback = facts.source(f.fallback.span);
      const written = facts.source(f.expr.span);
      const op = python ? '`or`' : '`||`';
      const replacement = python ? `${option} if ${option} is not None else ${fallback}` : `${option} ?? ${fallback}`;
      const api = f.keyword !== undefined;
      context.report({
        span: f.expr.span,
        message:
          `\`${written}\` replaces an explicit 0 with ${fallback}: ${op} falls back on every falsy value, and 0 is falsy. ` +
          `Here 0 is a setting of its own: ${meaning(f, api)} (${facts.lineLabel(f.use)}). ` +
          `Write \`${replacement}\`, which falls back only when the option is missing.`,
        related: [{ span: f.use, message: api ? `the value given to \`${f.target}\`'s \`${f.keyword}\`` : f.meaning === 'penalty' ? `the value read here as the strength of the penalty on \`${f.target}\`` : f.meaning === 'decay' ? 'the value read here as the weight-decay factor' : `the value read here as the factor on the old value of \`${f.target}\`` }],
        fix: { title: python ? `Fall back only on None: \`${replacement}\`` : `Fall back only on null or undefined: \`${replacement}\``, safety: 'unsafe', edits: [{ span: f.expr.span, newText: replacement }] },
      });
    }
  },
});
