// Canonical keys for expressions that can be assigned to: `W`, `self.W`, `params["W1"]`, `w[i]`.
import type { Expr, SlicePart } from '../ir';
import { isStorageAttribute } from './catalogue';

/** A stable text for a name, attribute chain or subscript; undefined for anything else. */
export function exprKey(e: Expr): string | undefined {
  switch (e.kind) {
    case 'name':
      return e.name;
    case 'attr': {
      const object = exprKey(e.object);
      return object === undefined ? undefined : `${object}.${e.name}`;
    }
    case 'index': {
      const object = exprKey(e.object);
      if (object === undefined) return undefined;
      // The parts joined by ', ' as they come (no array per key: keys are asked for on every lookup).
      let parts = '';
      for (let i = 0; i < e.index.length; i++) {
        const part = indexKey(e.index[i]);
        if (part === undefined) return `${object}[?]`;
        parts = i === 0 ? part : `${parts}, ${part}`;
      }
      return `${object}[${parts}]`;
    }
    default:
      return undefined;
  }
}

function indexKey(e: Expr): string | undefined {
  switch (e.kind) {
    case 'str':
      return JSON.stringify((e.fields && fStringText(e.value, e.fields)) ?? e.value);
    case 'num':
      return String(e.value);
    case 'other':
      return otherIndexKey(e);
    case 'call':
    case 'binary':
      return builtStringKey(e);
    default:
      return exprKey(e);
  }
}

/**
 * A part of a computed key: a name, attribute or subscript by its key, a number, or arithmetic of
 * them written without spaces (`i + 1` as `i+1`, `2 * (l - 1)` as `2*(l-1)`), so the four ways a course's
 * network writes one key (`'W{}'.format(i + 1)`, `f'W{i+1}'`, `'W%d' % (i + 1)`, `'W' + str(i + 1)`) meet.
 */
function partKey(e: Expr, depth = 0): string | undefined {
  const key = exprKey(e);
  if (key !== undefined || depth > 4) return key;
  if (e.kind === 'num') return String(e.value);
  if (e.kind === 'unary' && e.op === '-') {
    const arg = partKey(e.arg, depth + 1);
    return arg === undefined ? undefined : `-${e.arg.kind === 'binary' ? `(${arg})` : arg}`;
  }
  if (e.kind === 'binary' && ARITHMETIC_KEY_OPS.has(e.op)) {
    const side = (x: Expr): string | undefined => {
      const k = partKey(x, depth + 1);
      return k === undefined ? undefined : x.kind === 'binary' ? `(${k})` : k;
    };
    const left = side(e.left);
    const right = side(e.right);
    return left === undefined || right === undefined ? undefined : `${left}${e.op}${right}`;
  }
  return undefined;
}
const ARITHMETIC_KEY_OPS: ReadonlySet<string> = new Set(['+', '-', '*', '//']);

/**
 * An f-string's text with each replacement field as `partKey` writes it (`f'W{i + 1}'` as `W{i+1}`);
 * undefined when a field has a conversion or a format spec (its text is another), or has no key.
 */
function fStringText(value: string, fields: readonly Expr[]): string | undefined {
  let next = 0;
  let failed = false;
  const text = value.replace(/\{\{|\}\}|\{[^{}]*\}/g, (m: string) => {
    if (m === '{{' || m === '}}') return m;
    const field = fields[next++];
    const inner = m.slice(1, -1);
    // `{i!r}`, `{i:02d}`: the text differs from the value's; `{a[1:2]}` and `{x == y}` are left as written too.
    if (!field || /[!:=]/.test(inner)) return ((failed = true), m);
    const key = partKey(field);
    if (key === undefined) failed = true;
    return `{${key}}`;
  });
  return failed || next !== fields.length ? undefined : text;
}

/**
 * A key built from a literal and a variable, as the f-string with the same text would be keyed:
 * `'W{}'.format(i)` and `'W' + str(i)` as `"W{i}"`, so `W{i}` and `gamma{i}` stay two entries
 * (and match `f'W{i}'`). Undefined when a placeholder or an argument has no key of its own.
 */
function builtStringKey(e: Expr): string | undefined {
  if (e.kind === 'call' && e.callee.kind === 'attr' && e.callee.name === 'format' && e.callee.object.kind === 'str' && !e.callee.object.fields && e.kwargs.length === 0) {
    const args = e.args.map((a) => partKey(a));
    let next = 0;
    let failed = false;
    const text = e.callee.object.value.replace(/\{\{|\}\}|\{([0-9]*)\}|[{}]/g, (m: string, index: string | undefined) => {
      if (m === '{{' || m === '}}') return m[0];
      if (m === '{' || m === '}') return ((failed = true), m);
      const arg = args[index ? Number(index) : next++];
      if (arg === undefined) failed = true;
      return `{${arg}}`;
    });
    return failed || args.length === 0 ? undefined : JSON.stringify(text);
  }
  if (e.kind === 'binary' && e.op === '+' && e.left.kind === 'str' && !e.left.fields && e.right.kind === 'call' && e.right.callee.kind === 'name' && e.right.callee.name === 'str' && e.right.args.length === 1 && e.right.kwargs.length === 0) {
    const arg = partKey(e.right.args[0]);
    return arg === undefined ? undefined : JSON.stringify(`${e.left.value}{${arg}}`);
  }
  // `'W' + pos` with `pos = str(i)` bound elsewhere: keyed by its text as `'W' + str(i)` is, so
  // `wg['W' + pos]` and `weights['W' + pos]` name one entry each, not `[?]`.
  if (e.kind === 'binary' && e.op === '+' && e.left.kind === 'str' && !e.left.fields && e.left.value !== '' && e.right.kind === 'name') {
    return JSON.stringify(`${e.left.value}{${e.right.name}}`);
  }
  // `'W%d' % i`, `'W%d_%s' % (i, j)`: printf-style, as `'W{}'.format(i)`. `%(name)s` and the
  // conversions whose text differs from the f-string's (`%x`, `%f`) have no key.
  if (e.kind === 'binary' && e.op === '%' && e.left.kind === 'str' && !e.left.fields) {
    const args = (e.right.kind === 'seq' ? e.right.items : [e.right]).map((a) => partKey(a));
    let next = 0;
    let failed = false;
    const text = e.left.value.replace(/%%|%[-+ #0-9.]*[sdiu]|%/g, (m: string) => {
      if (m === '%%') return '%';
      if (m === '%') return ((failed = true), m);
      const arg = args[next++];
      if (arg === undefined) failed = true;
      return `{${arg}}`;
    });
    return failed || next === 0 || next !== args.length ? undefined : JSON.stringify(text);
  }
  return undefined;
}

/**
 * An index that is neither a key nor a reference, read from the IR: a slice by the parts written
 * (`:` the whole axis, as `::`; `1:`, `:-1`, `::2`, `i:j`), Python's `...`, a comparison or boolean
 * mask by its operands and operators (`g > 0`). Undefined (the subscript's key is `[?]`, as for
 * `w[i + 1]`) for any other index, or a part that has no key: two different indices never share one.
 */
function otherIndexKey(e: Expr & { kind: 'other' }): string | undefined {
  if (e.slice) {
    if (e.slice.length === 0) return ':';
    const parts: Record<SlicePart, string> = { lower: '', upper: '', step: '' };
    for (let i = 0; i < e.slice.length; i++) {
      const part = e.children[i];
      const key = part?.kind === 'unary' && part.op === '-' && part.arg.kind === 'num' ? `-${part.arg.value}` : part && indexKey(part);
      if (key === undefined) return undefined;
      parts[e.slice[i]] = key;
    }
    return e.slice.includes('step') ? `${parts.lower}:${parts.upper}:${parts.step}` : `${parts.lower}:${parts.upper}`;
  }
  if (e.ellipsis) return '...';
  const ops = e.ops;
  if (!ops || ops.length === 0 || e.children.length !== ops.length + 1 || ops.some((op) => op === '++' || op === '--' || op === 'del')) return undefined;
  let key = operandKey(e.children[0]);
  for (let i = 0; i < ops.length && key !== undefined; i++) {
    const right = operandKey(e.children[i + 1]);
    key = right === undefined ? undefined : `${key} ${ops[i]} ${right}`;
  }
  return key;
}

/**
 * An operand of a comparison or boolean mask: another such mask in parentheses, as the IR keeps
 * the grouping (`(a < b) == c`, `a < (b == c)` and the chain `a < b == c` are three indices).
 */
function operandKey(e: Expr): string | undefined {
  const key = indexKey(e);
  return key !== undefined && e.kind === 'other' && e.ops !== undefined && e.ops.length > 0 && !e.slice ? `(${key})` : key;
}

/** The array or tensor an element or view belongs to: `w[i]` → `w`, `p.data` → `p`, `W[:]` → `W`, `W.T` → `W`. */
export function baseExpr(e: Expr): Expr {
  for (;;) {
    if (e.kind === 'index' && !isKeyedByString(e)) e = e.object;
    else if (e.kind === 'attr' && (e.name === 'val' || e.name === 'T' || e.name === 'mT' || isStorageAttribute(e))) e = e.object;
    else return e;
  }
}

/**
 * A whole axis of a subscript: a slice with no part written (`:`, `::`), and with `ellipsis` Python's
 * `...` too (every remaining axis). Read from the IR's slice parts, not the text.
 */
export function isWholeAxis(e: Expr | undefined, options: { ellipsis?: boolean } = {}): boolean {
  if (e?.kind !== 'other') return false;
  return e.slice?.length === 0 || (options.ellipsis === true && e.ellipsis === true);
}

/** `params["W1"]` names a parameter by string; `w[i]` is an element of w. */
export function isKeyedByString(e: Expr & { kind: 'index' }): boolean {
  return e.index.length === 1 && e.index[0].kind === 'str';
}

/**
 * A key computed as a string (`params['W%d' % (i + 1)]`, `params['W' + str(l)]`,
 * `params['W{}'.format(i)]`), whose text `computedKeyText` gives; a literal or an f-string is `isKeyedByString`.
 */
export function computedKeyText(e: Expr & { kind: 'index' }): string | undefined {
  if (e.index.length !== 1) return undefined;
  const k = e.index[0];
  return k.kind === 'call' || k.kind === 'binary' ? stringKeyText(k) : undefined;
}

/** The text of a string key (`isKeyedByString`), computed keys as `W{i+1}` in every spelling. */
function stringKeyText(k: Expr): string | undefined {
  if (k.kind === 'str') return (k.fields && fStringText(k.value, k.fields)) ?? k.value;
  const built = (k.kind === 'call' || k.kind === 'binary') && builtStringKey(k);
  return built ? (JSON.parse(built) as string) : undefined;
}

/** The last identifier of a key: `self.W` → `W`, `params["W1"]` → `W1`, `p.grad` → `grad`. */
export function lastComponent(e: Expr): string | undefined {
  switch (e.kind) {
    case 'name':
      return e.name;
    case 'attr':
      return e.name;
    case 'index':
      return isKeyedByString(e) ? (e.index[0] as { value: string }).value : lastComponent(e.object);
    default:
      return undefined;
  }
}

/** Every identifier along a key: `self.grads["W1"]` → [self, grads, W1]. */
export function components(e: Expr): string[] {
  const out: string[] = [];
  pushComponents(e, out);
  return out;
}

/** `components` into one array (no array per level of the path: this runs for every role question). */
function pushComponents(e: Expr, out: string[]): void {
  switch (e.kind) {
    case 'name':
      out.push(e.name);
      return;
    case 'attr':
      pushComponents(e.object, out);
      out.push(e.name);
      return;
    case 'index':
      pushComponents(e.object, out);
      if (isKeyedByString(e)) out.push((e.index[0] as { value: string }).value);
      return;
    default:
      return;
  }
}

/** Whether some identifier along a key passes `test` (`components(e).some(test)` without the array; the same order). */
export function someComponent(e: Expr, test: (name: string) => boolean): boolean {
  switch (e.kind) {
    case 'name':
      return test(e.name);
    case 'attr':
      return someComponent(e.object, test) || test(e.name);
    case 'index':
      return someComponent(e.object, test) || (isKeyedByString(e) && test((e.index[0] as { value: string }).value));
    default:
      return false;
  }
}

/** Source text of an expression. */
export function textOf(text: string, e: { span: { start: number; end: number } }): string {
  return text.slice(e.span.start, e.span.end);
}

/** Path of a callee made of names: `np.linalg.norm` → ['np', 'linalg', 'norm']. */
export function calleePath(e: Expr): string[] | undefined {
  const out: string[] = [];
  return pushCalleePath(e, out) ? out : undefined;
}

/** `calleePath(e)?.[0]` without the array: the first name of a path made of names. */
export function calleeRoot(e: Expr): string | undefined {
  let x = e;
  while (x.kind === 'attr') x = x.object;
  return x.kind === 'name' ? x.name : undefined;
}

/** `calleePath` into one array; false when a part is not a name. */
function pushCalleePath(e: Expr, out: string[]): boolean {
  if (e.kind === 'name') {
    out.push(e.name);
    return true;
  }
  if (e.kind === 'attr') {
    if (!pushCalleePath(e.object, out)) return false;
    out.push(e.name);
    return true;
  }
  return false;
}
