// Two `if` statements written one after the other whose tests are each other's negation
// (`if 'buf' in state: …` then `if 'buf' not in state: …`, `x is None` / `x is not None`, `not c` /
// `c`), with nothing between them (the first one's body included) that can change what they test:
// exactly one of the two bodies runs, as the two branches of one `if`/`else` would. An optimizer
// written this way keeps its first step's start in one body and its update in the other; the
// analyses that ask whether a write of the state is only that start (unstoredState.ts) read the two
// bodies as exclusive branches. Read in the IR by data flow on the tested places: no name decides.
import type { Expr, Stmt } from '../ir';
import { exprKey } from './keys';
import { isNoneLiteral, READING_CALLS, READING_METHODS } from './catalogue';
import { someExpr } from './scope';

/** A test read as a literal: `positive` says whether the test holds when `atom` does. */
interface Test {
  atom: string;
  positive: boolean;
  /** `in`: the dict and the entry tested (`state`, `state["buf"]`); `none`, `truth`, `cmp`: the places read. */
  kind: 'in' | 'none' | 'truth' | 'cmp';
  places: string[];
  /** For `in`: the dict's key and the tested key's index text. */
  dict?: string;
  entry?: string;
}


/** Pairs of one list, later `if` → the earlier one it complements; cached per statement list. */
const cache = new WeakMap<readonly Stmt[], Map<Stmt, Stmt>>();

/**
 * The `if` statements of `stmts` (single-branch, no `elif`/`else`) that complement an earlier one of
 * the same list: later → earlier. Only pairs whose tests are each other's negation are looked at,
 * and only the statements from the earlier one to the later one are read for writes.
 */
export function complementaryIfs(stmts: readonly Stmt[]): Map<Stmt, Stmt> {
  let found = cache.get(stmts);
  if (found) return found;
  found = new Map();
  cache.set(stmts, found);
  const singles: { at: number; test: Test }[] = [];
  for (let i = 0; i < stmts.length; i++) {
    const s = stmts[i];
    if (s.kind !== 'block' || s.label !== 'if') continue;
    // A chain (`elif`, `else`) is one statement per branch, each inside the `if`'s span.
    const next = stmts[i + 1];
    const chained = next !== undefined && next.kind === 'block' && next.label === 'if' && next.span.start > s.span.start && next.span.end <= s.span.end;
    if (chained) {
      while (i + 1 < stmts.length && stmts[i + 1].span.end <= s.span.end && stmts[i + 1].span.start > s.span.start) i++;
      continue;
    }
    if (s.heads.length !== 1) continue;
    const test = readTest(s.heads[0]);
    if (!test) continue;
    // The nearest earlier single `if` with the negated test, if nothing from it to here changes what it tests.
    for (let k = singles.length - 1; k >= 0; k--) {
      const other = singles[k];
      if (other.test.atom !== test.atom || other.test.positive === test.positive) continue;
      const first = stmts[other.at] as Stmt & { kind: 'block' };
      if (!found.has(first) && unchanged(other.test, first, stmts.slice(other.at + 1, i))) found.set(s, first);
      break;
    }
    singles.push({ at: i, test });
  }
  return found;
}

/** A test's literal: membership, a None test, a truth value, or a comparison with its negation. */
function readTest(e: Expr, depth = 0): Test | undefined {
  if (depth > 8) return undefined;
  if (e.kind === 'unary' && e.op === 'not') {
    const t = readTest(e.arg, depth + 1);
    return t && { ...t, positive: !t.positive };
  }
  if (e.kind === 'name' || e.kind === 'attr' || e.kind === 'index') {
    const key = exprKey(e);
    if (key === undefined || key.includes('[?]') || isNoneLiteral(e)) return undefined;
    return { atom: `truth:${key}`, positive: true, kind: 'truth', places: [key] };
  }
  if (e.kind !== 'other' || e.ops?.length !== 1 || e.children.length !== 2) return undefined;
  const op = e.ops[0];
  const [l, r] = e.children;
  if (op === 'in' || op === 'not in') {
    const dict = exprKey(r);
    const item = l.kind === 'str' ? JSON.stringify(l.value) : l.kind === 'num' ? String(l.value) : exprKey(l);
    if (dict === undefined || item === undefined || dict.includes('[?]') || item.includes('[?]')) return undefined;
    const places = l.kind === 'str' || l.kind === 'num' ? [dict] : [dict, item];
    return { atom: `in:${dict}:${item}`, positive: op === 'in', kind: 'in', places, dict, entry: `${dict}[${item}]` };
  }
  // `x is None`, `x == None`: a None test (positive when x is None).
  if ((op === 'is' || op === 'is not' || op === '==' || op === '!=') && (isNoneLiteral(r) || isNoneLiteral(l))) {
    const x = exprKey(isNoneLiteral(r) ? l : r);
    if (x === undefined || x.includes('[?]')) return undefined;
    return { atom: `none:${x}`, positive: op === 'is' || op === '==', kind: 'none', places: [x] };
  }
  // `a == b` / `a != b`, `a < b` / `a >= b`, `a > b` / `a <= b`: a comparison of places and numbers.
  const negation: Record<string, [string, boolean]> = { '==': ['==', true], '!=': ['==', false], '<': ['<', true], '>=': ['<', false], '>': ['>', true], '<=': ['>', false] };
  const form = negation[op];
  if (!form) return undefined;
  const side = (x: Expr): { text: string; place?: string } | undefined => {
    if (x.kind === 'num') return { text: String(x.value) };
    if (x.kind === 'str') return { text: JSON.stringify(x.value) };
    // `len(self.cache) == 0`: the length of a place.
    if (x.kind === 'call' && x.callee.kind === 'name' && x.callee.name === 'len' && x.args.length === 1 && x.kwargs.length === 0) {
      const k = exprKey(x.args[0]);
      return k === undefined || k.includes('[?]') ? undefined : { text: `len(${k})`, place: k };
    }
    const k = exprKey(x);
    return k === undefined || k.includes('[?]') ? undefined : { text: k, place: k };
  };
  const a = side(l);
  const b = side(r);
  if (!a || !b || (a.place === undefined && b.place === undefined)) return undefined;
  return { atom: `cmp:${a.text}:${form[0]}:${b.text}`, positive: form[1], kind: 'cmp', places: [a.place, b.place].filter((p): p is string => p !== undefined) };
}

/** Whether `inner` is `outer` or lies inside it (`state["m"]` in `state`). */
function within(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(`${outer}[`) || inner.startsWith(`${outer}.`);
}

/**
 * Nothing in the first `if`'s body nor in the statements after it up to the second one can change
 * what the test reads: no assignment to a tested place or to what holds it, no call of a method of
 * it that may change it, no call it is handed to, no `del` of it, of what holds it or of an entry. In the
 * branch where the test says the entry is there (`'m' in state`, `x is not None`), writing the entry
 * (or x's new arithmetic value) keeps it there.
 */
function unchanged(test: Test, first: Stmt & { kind: 'block' }, between: readonly Stmt[]): boolean {
  const present = test.kind === 'in' ? test.positive : test.kind === 'none' ? !test.positive : undefined;
  return first.body.every((s) => !changes(test, s, present === true)) && between.every((s) => !changes(test, s, false));
}

function changes(test: Test, s: Stmt, present: boolean, depth = 0): boolean {
  if (depth > 30) return true;
  switch (s.kind) {
    case 'assign': {
      const targets: Expr[] = [];
      const flat = (t: Expr): void => (t.kind === 'seq' ? t.items.forEach(flat) : void targets.push(t));
      s.targets.forEach(flat);
      if (targets.some((t) => assignChanges(test, t, s.value, present))) return true;
      return exprChanges(test, s.value);
    }
    case 'expr':
      return exprChanges(test, s.expr);
    case 'return':
      return s.value !== undefined && exprChanges(test, s.value);
    case 'delete':
      return s.targets.some((t) => deleteChanges(test, t));
    case 'for': {
      const bound: string[] = [];
      const names = (t: Expr): void => (t.kind === 'seq' ? t.items.forEach(names) : void (exprKey(t) !== undefined && bound.push(exprKey(t)!)));
      names(s.target);
      if (bound.some((b) => test.places.some((p) => within(p, b)))) return true;
      return exprChanges(test, s.iter) || s.body.some((x) => changes(test, x, false, depth + 1));
    }
    case 'block': {
      if (s.heads.some((h) => exprChanges(test, h))) return true;
      if ((s.aliases ?? []).some((a) => a !== undefined && test.places.some((p) => { const k = exprKey(a); return k === undefined || within(p, k); }))) return true;
      return s.body.some((x) => changes(test, x, present && s.label !== 'while', depth + 1));
    }
    case 'function':
    case 'class':
      // A definition changes nothing until it is called; a call of it is read where it is made.
      return false;
    default:
      return false;
  }
}

/** An assignment to `target` (of `value`) changes the test's places. */
function assignChanges(test: Test, target: Expr, value: Expr, present: boolean): boolean {
  const key = exprKey(target);
  if (key === undefined) return target.kind !== 'name';
  // The place itself or what holds it, rebound.
  if (test.places.some((p) => within(p, key))) {
    if (test.kind === 'none' && present && key === test.places[0] && value.kind === 'binary') return false;
    return true;
  }
  if (test.kind === 'in' && test.dict !== undefined && key.startsWith(`${test.dict}[`)) {
    // An entry of the dict: adds it, which the branch where it is there keeps; another literal key adds another entry.
    const inside = key.slice(test.dict.length);
    if (!/^\[[^\][]*\]$/.test(inside)) return false;
    if (present) return false;
    const literal = /^\["[^"]*"\]$|^\[-?\d+(\.\d+)?\]$/;
    return !(literal.test(inside) && literal.test(test.entry!.slice(test.dict.length)) && key !== test.entry);
  }
  return false;
}

/** `del` of a tested place, of what holds it, of something inside it (an entry of the tested dict), or of a place not known. */
function deleteChanges(test: Test, target: Expr): boolean {
  const key = exprKey(target);
  if (key === undefined) return true;
  // Another literal entry of the tested dict (`del st['other']`, JS `delete st.other`) leaves `'m' in st` as it was.
  if (test.kind === 'in' && test.dict !== undefined && test.entry !== undefined && /^\["[^"]*"\]$/.test(test.entry.slice(test.dict.length))) {
    const tested = JSON.parse(test.entry.slice(test.dict.length + 1, -1)) as string;
    const rest = key.slice(test.dict.length);
    const other = key.startsWith(test.dict) && (/^\["[^"]*"\]$/.test(rest) ? (JSON.parse(rest.slice(1, -1)) as string) : /^\.[\w$]+$/.test(rest) ? rest.slice(1) : undefined);
    if (typeof other === 'string' && other !== tested) return false;
  }
  return test.places.some((p) => within(p, key) || within(key, p));
}

/** An expression calls a method that may change a tested place, hands one (or what holds it) to a call, or deletes one (JS `delete`). */
function exprChanges(test: Test, e: Expr): boolean {
  return someExpr(e, (x) => {
    if (x.kind === 'other' && x.ops?.[0] === 'del') return x.children.some((t) => deleteChanges(test, t));
    if (x.kind !== 'call') return false;
    if (x.callee.kind === 'name' && READING_CALLS.has(x.callee.name)) return false;
    if (x.callee.kind === 'attr') {
      const object = exprKey(x.callee.object);
      if (object !== undefined) {
        // A method of what holds a tested place (`self.reset()` for `self.v`).
        if (test.places.some((p) => p !== object && within(p, object))) return true;
        // A method of the tested place itself: a None test cannot be changed by it; a container's may.
        if (test.places.includes(object) && test.kind !== 'none' && !READING_METHODS.has(x.callee.name)) return true;
      }
    }
    const args = [...x.args, ...x.kwargs.map((k) => k.value)];
    return args.some((a) => {
      const k = exprKey(a);
      return k !== undefined && test.places.some((p) => within(p, k) && (test.kind !== 'none' || p !== k));
    });
  });
}

/**
 * The place a test says has no value yet, and whether it says so when it holds (`'m' not in state`:
 * `state['m']`, true; `'m' in state`: `state['m']`, false; `self.v is None`, `not self.v`,
 * `len(self.v) == 0`: `self.v`). A write of that place in the branch where it is absent runs only
 * until the place has a value: on the first step. The place is returned as an expression (for `in`,
 * the dict indexed by the key) for the caller to key through its own aliases.
 */
export function absenceTested(e: Expr): { place: Expr; absentWhen: boolean } | undefined {
  let positive = true;
  let x = e;
  for (let depth = 0; x.kind === 'unary' && x.op === 'not' && depth < 8; depth++) {
    positive = !positive;
    x = x.arg;
  }
  if (x.kind === 'name' || x.kind === 'attr' || x.kind === 'index') return isNoneLiteral(x) ? undefined : { place: x, absentWhen: !positive };
  if (x.kind !== 'other' || x.ops?.length !== 1 || x.children.length !== 2) return undefined;
  const op = x.ops[0];
  const [l, r] = x.children;
  if (op === 'in' || op === 'not in') return { place: { kind: 'index', object: r, index: [l], span: x.span }, absentWhen: (op === 'not in') === positive };
  if ((op === 'is' || op === 'is not' || op === '==' || op === '!=') && (isNoneLiteral(r) || isNoneLiteral(l))) {
    const place = isNoneLiteral(r) ? l : r;
    return { place, absentWhen: (op === 'is' || op === '==') === positive };
  }
  // `len(x) == 0`, `len(x) != 0`, `len(x) > 0`.
  const len = l.kind === 'call' && l.callee.kind === 'name' && l.callee.name === 'len' && l.args.length === 1 ? l.args[0] : undefined;
  if (len && r.kind === 'num' && r.value === 0 && (op === '==' || op === '!=' || op === '>')) return { place: len, absentWhen: (op === '==') === positive };
  return undefined;
}
