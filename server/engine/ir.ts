// Nabla's intermediate representation: one small language that Python, TypeScript and
// JavaScript all lower into, so each rule is written once. Lowering is total: pieces that a
// half-typed file lacks are simply absent (optional fields, `other` nodes), never an exception.

/** A source range as UTF-16 offsets into the document text (what tree-sitter's web binding gives). */
export interface Span {
  start: number;
  end: number;
}

export type BinaryOp = '+' | '-' | '*' | '/' | '//' | '%' | '**' | '@';
export type UnaryOp = '-' | '+' | 'not' | '~';

export interface KeywordArg {
  name: string;
  value: Expr;
}

export type Expr =
  | { kind: 'num'; value: number; span: Span }
  | { kind: 'str'; value: string; span: Span }
  | { kind: 'name'; name: string; span: Span }
  | { kind: 'attr'; object: Expr; name: string; span: Span }
  | { kind: 'index'; object: Expr; index: Expr[]; span: Span }
  /** Calls, including method calls (`callee` is an `attr`). Python keyword arguments go to `kwargs`. */
  | { kind: 'call'; callee: Expr; args: Expr[]; kwargs: KeywordArg[]; span: Span }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; span: Span }
  | { kind: 'unary'; op: UnaryOp; arg: Expr; span: Span }
  /** Python lambdas and JS arrow/function expressions. `body` is the returned expression when there is one. */
  | { kind: 'lambda'; params: Param[]; body?: Expr; stmts: Stmt[]; span: Span }
  /** List/generator/set comprehensions. */
  | { kind: 'comprehension'; element: Expr; generators: Generator[]; span: Span }
  /** Lists, tuples, arrays, and parenthesized comma sequences. */
  | { kind: 'seq'; items: Expr[]; span: Span }
  /** Dict and object literals with statically known keys. */
  | { kind: 'object'; entries: KeywordArg[]; span: Span }
  /** `a if test else b`, `test ? a : b`. */
  | { kind: 'cond'; test: Expr; then: Expr; else: Expr; span: Span }
  /** Anything else (comparisons, slices, ...). Children kept so walkers still see names. */
  | { kind: 'other'; children: Expr[]; span: Span };

export interface Generator {
  target: Expr;
  iter: Expr;
}

export interface Param {
  name: string;
  span: Span;
  default?: Expr;
}

export type AssignOp = '+' | '-' | '*' | '/';

export type Stmt =
  /** `t = v`, `t1 = t2 = v`, `t += v` (op '+'), `const t = v`. Destructuring targets are `seq` exprs. */
  | { kind: 'assign'; targets: Expr[]; value: Expr; op?: AssignOp; span: Span }
  | { kind: 'expr'; expr: Expr; span: Span }
  | { kind: 'function'; name: string; nameSpan: Span; params: Param[]; body: Stmt[]; span: Span }
  | { kind: 'class'; name: string; body: Stmt[]; span: Span }
  | { kind: 'for'; target: Expr; iter: Expr; body: Stmt[]; span: Span }
  /** `if`, `while`, `with`, `try`, ...: `heads` are the conditions or context managers. */
  | { kind: 'block'; label: 'if' | 'while' | 'with' | 'try' | 'other'; heads: Expr[]; body: Stmt[]; span: Span }
  | { kind: 'return'; value?: Expr; span: Span }
  /** `import numpy as np` → module 'numpy', alias 'np'; `from torch import nn` → module 'torch', names [nn]. */
  | { kind: 'import'; module: string; names: { name: string; alias: string }[]; span: Span };

/** A lowered file. `errors` lists places tree-sitter could not parse (the rest is still lowered). */
export interface Module {
  body: Stmt[];
  errors: Span[];
  /** Expressions or statements cut off because they nest deeper than the walker bound. */
  truncated: boolean;
}
