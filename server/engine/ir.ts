// Nabla's intermediate representation: one small language that Python, TypeScript and
// JavaScript all lower into, so each rule is written once. Lowering is total: pieces that a
// half-typed file lacks are simply absent (optional fields, `other` nodes), never an exception.

/**
 * A source range as UTF-16 offsets. Offsets are global across the files of a project: a file's
 * offsets start at its `base` (server/engine/source.ts), so a span alone says which file it is in.
 * A lone document has base 0, and its spans are offsets into its text.
 */
export interface Span {
  start: number;
  end: number;
}

export type BinaryOp = '+' | '-' | '*' | '/' | '//' | '%' | '**' | '@';
export type UnaryOp = '-' | '+' | 'not' | '~';

export interface KeywordArg {
  name: string;
  value: Expr;
  /** `name=value` / `name: value` as written (absent on entries the engine builds). */
  span?: Span;
}

/**
 * Every expression may carry `parenSpan`: it is written in parentheses, and this is the span of the
 * outermost pair (`(1 - p)` in `h * (1 - p)`, `((x))`). The lowering otherwise drops parentheses (a
 * parenthesized node lowers to what it holds); only parentheses that wrap the expression itself
 * count, not a statement's own (`if (c)`, `while (c)`) nor those around a cast (`(x as T)`).
 */
export type Expr = ExprNode & { parenSpan?: Span };

type ExprNode =
  | { kind: 'num'; value: number; span: Span }
  /** `fields`: a Python f-string's replacement fields (`f"lr {lr:.4f}"` holds `lr`), which no walk of children visits: a read there is only a message's. */
  | { kind: 'str'; value: string; fields?: Expr[]; span: Span }
  /**
   * `receiver`: the instance (or class) a method runs on, as the lowerer reads it from where the name
   * stands: JavaScript's `this`, and a Python method's first parameter (`self`, `cls`, any name; not a
   * `@staticmethod`'s) read in its body or a function nested there that does not rebind it.
   */
  | { kind: 'name'; name: string; span: Span; receiver?: true }
  | { kind: 'attr'; object: Expr; name: string; span: Span }
  | { kind: 'index'; object: Expr; index: Expr[]; span: Span }
  /** Calls, including method calls (`callee` is an `attr`). Python keyword arguments go to `kwargs`. */
  | { kind: 'call'; callee: Expr; args: Expr[]; kwargs: KeywordArg[]; span: Span }
  /** `opSpan`: where the operator is written (fixes flip it); absent on nodes the engine builds. */
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; opSpan?: Span; span: Span }
  | { kind: 'unary'; op: UnaryOp; arg: Expr; span: Span }
  /** Python lambdas and JS arrow/function expressions. `body` is the returned expression when there is one. */
  | { kind: 'lambda'; params: Param[]; body?: Expr; stmts: Stmt[]; span: Span }
  /**
   * List/generator/set comprehensions. `filtered`: an `if` clause keeps only some elements;
   * `conditions`: the `if` clauses' conditions (not among the walked children: `forEachChild` skips them).
   */
  | { kind: 'comprehension'; element: Expr; generators: Generator[]; filtered?: boolean; conditions?: Expr[]; span: Span }
  /** Lists, tuples, arrays, and parenthesized comma sequences. */
  | { kind: 'seq'; items: Expr[]; span: Span }
  /**
   * Dict and object literals with statically known keys. `spreads`: what `{...o}` / `{**d}` spreads
   * into it, in order (not among the walked children: `forEachChild` skips them).
   */
  | { kind: 'object'; entries: KeywordArg[]; spreads?: Expr[]; span: Span }
  /** `a if test else b`, `test ? a : b`. */
  | { kind: 'cond'; test: Expr; then: Expr; else: Expr; span: Span }
  /**
   * Anything else (comparisons, slices, ...). Children kept so walkers still see names. `slice`: a
   * Python slice's written parts (`SlicePart`); `ellipsis`: Python's `...`. `ops`: a
   * Python comparison's or boolean operator's operators in order (`['not in']` for `'bn' not in n`,
   * `['<', '<=']` for `a < b <= c`, `['and']`), and a JS comparison or logical operator written as
   * Python writes it (`===` as `['==']`, `&&` as `['and']`, `||` as `['or']`; `??`, `in`, `instanceof`).
   * `spread`: an unpacked argument or element, its one child what is unpacked: `'positional'` for
   * Python's `*xs` and JavaScript's `...xs`, `'keyword'` for Python's `**kw`.
   */
  | { kind: 'other'; children: Expr[]; ops?: string[]; slice?: SlicePart[]; ellipsis?: true; spread?: 'positional' | 'keyword'; span: Span };

/**
 * A Python slice's parts as written, in the order of its `other` node's children: `a[1:]` → ['lower'],
 * `a[::2]` → ['step'], `a[:]` and `a[::]` → [] (the whole axis). Python's `...` is an `other` with
 * `ellipsis`. JavaScript writes neither.
 */
export type SlicePart = 'lower' | 'upper' | 'step';

export interface Generator {
  target: Expr;
  iter: Expr;
}

export interface Param {
  name: string;
  span: Span;
  default?: Expr;
  /**
   * Python's `*args` (the call's remaining positional arguments) and `**kwargs` (its remaining
   * keywords); JavaScript's `...args` is `'positional'`.
   */
  rest?: 'positional' | 'keyword';
}

export type AssignOp = '+' | '-' | '*' | '/';

/** How a definition leaves its module: `export const f`, `export function f`, `export default ...`. */
export type Exported = 'named' | 'default';

/** A JSDoc comment's text, without its opening and closing marks and the leading star of each line. */
export interface DocComment {
  value: string;
  span: Span;
}

/** A jump that ends the path through a branch, besides `return` (a statement of its own). */
export type Jump = 'continue' | 'break' | 'raise';

export type Stmt =
  /**
   * `t = v`, `t1 = t2 = v`, `t += v` (op '+', `opSpan` where `+=` is written), `const t = v`.
   * Destructuring targets are `seq` exprs. `export default v` is an assignment to `default`.
   */
  | { kind: 'assign'; targets: Expr[]; value: Expr; op?: AssignOp; opSpan?: Span; exported?: Exported; span: Span }
  | { kind: 'expr'; expr: Expr; span: Span }
  /**
   * `decorators`: `@torch.no_grad()` and the like, outermost first. `doc`: the JSDoc comment before
   * a TS/JS function or class (a Python docstring stays the body's first statement).
   */
  | { kind: 'function'; name: string; nameSpan: Span; params: Param[]; body: Stmt[]; decorators: Expr[]; exported?: Exported; doc?: DocComment; span: Span }
  /** `bases`: `class A(B, C)`, `class A extends B`. */
  | { kind: 'class'; name: string; bases: Expr[]; body: Stmt[]; decorators: Expr[]; exported?: Exported; doc?: DocComment; span: Span }
  /** `headSpan`: the loop's header, from its keyword to where its body starts (`for x in xs:`, `for (let i = 0; i < n; i++)`). */
  | { kind: 'for'; target: Expr; iter: Expr; body: Stmt[]; headSpan?: Span; span: Span }
  /**
   * `if`, `while`, `with`, `try`, ...: `heads` are the conditions or context managers; for `with`,
   * `aliases[i]` is the target after `as` of `heads[i]`, when there is one. A `try` statement is its
   * body's block, then one block per clause; `handler` marks an `except`/`catch` clause's (it runs only
   * when the body raised, unlike `else` and `finally`). `headSpan`: a `while` loop's header, as `for`'s
   * (`while (c)`; `do` of a `do … while`). `exits`: an `if` branch whose own statements include a
   * `continue`, `break` or `raise`/`throw` (jumps the body itself does not hold): the path through
   * the branch ends there (scope.ts branchExit).
   */
  | { kind: 'block'; label: 'if' | 'while' | 'with' | 'try' | 'other'; heads: Expr[]; aliases?: (Expr | undefined)[]; handler?: true; body: Stmt[]; headSpan?: Span; exits?: Jump; span: Span }
  | { kind: 'return'; value?: Expr; span: Span }
  /**
   * Python's `del a, d[k]`: the places it unbinds, which no walker reads as values. JavaScript's
   * `delete o.k` is an expression, an `other` with `ops: ['del']`.
   */
  | { kind: 'delete'; targets: Expr[]; span: Span }
  /** `import numpy as np` → module 'numpy', alias 'np'; `from torch import nn` → module 'torch', names [nn]. */
  | { kind: 'import'; module: string; names: { name: string; alias: string }[]; span: Span }
  /** `export { a, b as c }` (names of this module) and `export { x } from './m'`, `export * from './m'` (re-exports). */
  | { kind: 'export'; module?: string; names: { name: string; alias: string }[]; span: Span };

/** A place in the text that does not parse, with what is wrong there when it is known ("expected ':'"). */
export interface SyntaxErrorSpan extends Span {
  reason?: string;
  /** A 0-based line the reason names ("after 'if' statement on line N"), written as the message names lines. */
  reasonLine?: number;
}

/** A lowered file. `errors` lists places tree-sitter could not parse (the rest is still lowered). */
export interface Module {
  body: Stmt[];
  errors: SyntaxErrorSpan[];
  /** Expressions or statements cut off because they nest deeper than the walker bound. */
  truncated: boolean;
}

/** Comparison operators of an `other` expression's `ops`: its value is a truth value. */
export const COMPARISON_OPERATORS: ReadonlySet<string> = new Set(['<', '>', '<=', '>=', '==', '!=']);
/** Comparisons with Python's identity and membership tests (`is`, `in`): every operator whose value is a truth value. */
export const TEST_OPERATORS: ReadonlySet<string> = new Set([...COMPARISON_OPERATORS, 'is', 'is not', 'in', 'not in']);
