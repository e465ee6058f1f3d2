// The CLI's fast path: a lexical test, before any parsing, that a file may hold training math. A file
// that fails it is skipped as an entry (its own run could report nothing); it is still parsed and
// analysed when another file's run reaches it through an import. The test is a necessary condition
// for the seeds the rules start from, read on the raw text, so it errs on the side of keeping:
//   - a suppression comment (`nabla`): NB001 must judge it;
//   - an augmented assignment whose right side is not a lone literal (`W -= lr * dW`, `dW += reg * W`;
//     not `i += 1`): update and accumulation sites;
//   - a self-update, `T = T - …`, `T = a * T + …`, `T = … + T`: update sites written out;
//   - a lambda, arrow function or return whose value starts `x ± …`: element updates
//     (`tree_map(lambda p, g: p - lr * g, …)`, `def step(p, g): return p - lr * g`);
//   - an identifier that names a framework's optimizer, regularizer, in-place update, parameter list
//     or `add_loss` (catalogue.ts), a differentiation call (autodiff.ts), or a training role:
//     gradients, learning rates, regularization strengths and knobs (roles.ts);
//   - a dropout mask drawn by hand: a uniform draw compared with a probability (`Math.random() < p`,
//     `np.random.rand(*A.shape) < keep`, or `D = np.random.rand(n, m)` and then `D < keep`; a comparison
//     written as a call too: `tf.randomUniform(s).less(keep)`, `np.less(u, keep)`), or a one-trial
//     Bernoulli draw (`bernoulli_(p)`, `binomial(1, p, …)`, `binomial(n=1, …)`) (dropoutScales.ts, NB209);
//   - a call of a builtin that names a definition at run time (`eval(args.model_name)`): an entry
//     that builds a model from a class it chooses so, whose method a runner module calls (chosenClassMethods.ts).
// Identifiers in strings and comments count too (keeping a file costs time, never a finding).
// `npm run proof:fastpath` (scripts/fastpath-proof.mjs) runs the full and the fast path over the
// fixtures, the examples, the bench corpus and any folders given, and fails on any difference.
import { AUTODIFF_NAMES } from './facts/autodiff';
import { BERNOULLI_DRAW_NAMES, BINOMIAL_DRAW_NAME, COMPARISON_CALL_NAMES, FRAMEWORK_NAMES, RUN_TIME_NAME_LOOKUPS, UNIFORM_DRAW_NAMES } from './facts/catalogue';
import { mayNameTrainingRole } from './facts/roles';

/** An augmented assignment, unless its right side is a lone number or string (`i += 1`, `s += ", "`). */
const UPDATE_OPERATOR = /[-+*/@]=(?!=)(?![ \t]*(?:[\d.]+|'[^'\n]*'|"[^"\n]*")[ \t]*(?:$|[;#)}\]]|\/\/))/m;
/** `T = … T …` with T a summand or a factor: after an operator, or first and followed by one. */
const SELF_UPDATE = /(?:^|[\s;({,])([A-Za-z_$][\w$]*)[\w$.[\]'"]*[ \t]*=(?![=>])[^\n]*?[-+*/][ \t(]*\1\b|(?:^|[\s;({,])([A-Za-z_$][\w$]*)[\w$.[\]'"]*[ \t]*=(?![=>])[ \t(]*\2\b[\w$.[\]'"]*[ \t)]*[-+*/]/m;
/** A lambda, an arrow function or a return whose value starts with a name and an operator. */
const ELEMENT_UPDATE = /(?:\blambda\b[^:\n]*:|=>|\breturn\b)[ \t(]*[A-Za-z_$][\w$.[\]'"]*[ \t)]*[-+*/]/;
const IDENTIFIER = /[A-Za-z_$][\w$]*/g;
/** `eval(…)` called by name (not a method such as `model.eval()`). */
const RUN_TIME_LOOKUP = new RegExp(`(?<![\\w$.])(?:${RUN_TIME_NAME_LOOKUPS.join('|')})[ \\t]*\\(`);

const DRAW = `(?:${UNIFORM_DRAW_NAMES.join('|')})[ \\t]*\\(`;
/** A comparison written as a call (`u.less(keep)`, `np.less(u, keep)`: comparisonCall in catalogue.ts), up to its `(`. */
const COMPARISON_CALL = `(?:${COMPARISON_CALL_NAMES.join('|')})[ \\t]*\\(`;
/** A comparison operator, or a method comparing its receiver (`.less(`, `.lt(`). */
const COMPARES = `(?:[<>]|\\.[ \\t]*${COMPARISON_CALL})`;
/**
 * A uniform draw compared right away (`Math.random() < p`, `p > np.random.rand(n)`,
 * `tf.randomUniform(s).less(keep)`, `np.less(np.random.rand(n), keep)`), or a Bernoulli draw
 * (`bernoulli_(p)`, `binomial(1, p)`, `binomial(n=1, p=p)`).
 */
const DRAW_COMPARED = new RegExp(
  `\\b${DRAW}[^\\n]*?\\)[ \\t)]*${COMPARES}|(?:[<>]=?|\\b${COMPARISON_CALL})[ \\t(]*[\\w$.]*\\b${DRAW}` +
    `|\\b(?:${BERNOULLI_DRAW_NAMES.join('|')})[ \\t]*\\(|\\b${BINOMIAL_DRAW_NAME}[ \\t]*\\([ \\t]*(?:n[ \\t]*=[ \\t]*)?1\\b`,
);
/** `D = np.random.rand(n, m)`: the names given a draw, compared later (`D = D < keep_prob`). */
const DRAW_ASSIGNED = new RegExp(`([A-Za-z_$][\\w$]*)[ \\t]*=[ \\t]*[\\w$.]*\\b${DRAW}`, 'g');

/** A dropout mask drawn by hand (see the comment above). */
function mayDrawMask(text: string): boolean {
  if (DRAW_COMPARED.test(text)) return true;
  DRAW_ASSIGNED.lastIndex = 0;
  let tries = 0;
  for (let m = DRAW_ASSIGNED.exec(text); m !== null && tries++ < 20; m = DRAW_ASSIGNED.exec(text)) {
    const name = m[1].replace(/\$/g, '\\$');
    if (new RegExp(`\\b${name}[ \\t]*${COMPARES}|\\b${COMPARISON_CALL}[ \\t]*${name}\\b`).test(text)) return true;
  }
  return false;
}

/** False only when no rule could start from anything in this text (see the comment above). */
export function mayHoldTrainingMath(text: string): boolean {
  if (/nabla/i.test(text) || UPDATE_OPERATOR.test(text) || ELEMENT_UPDATE.test(text) || RUN_TIME_LOOKUP.test(text)) return true;
  const seen = new Set<string>();
  IDENTIFIER.lastIndex = 0;
  for (let m = IDENTIFIER.exec(text); m !== null; m = IDENTIFIER.exec(text)) {
    const id = m[0];
    if (seen.has(id)) continue;
    seen.add(id);
    if (FRAMEWORK_NAMES.has(id) || AUTODIFF_NAMES.has(id) || mayNameTrainingRole(id)) return true;
  }
  return SELF_UPDATE.test(text) || mayDrawMask(text);
}
