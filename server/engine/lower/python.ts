// Lowers a tree-sitter-python tree into Nabla's IR.
//
// Every read of a node's type, end, fields or children crosses into WASM (web-tree-sitter
// marshals the node each time), so each node's `type` is read once and handed on, text is sliced
// from the source by span, and fields are read by id.
import type { Language, Node as SyntaxNode } from 'web-tree-sitter';
import type { AssignOp, BinaryOp, Expr, KeywordArg, Param, SlicePart, Span, Stmt } from '../ir';
import { MAX_DEPTH, branchJump, field, fieldIds, loopHead, other, parenthesized, parseNumber, stringValue, type LoweredUnit } from './common';

const binaryOps = new Set<string>(['+', '-', '*', '/', '//', '%', '**', '@']);
const assignOps: Record<string, AssignOp> = { '+=': '+', '-=': '-', '*=': '*', '/=': '/' };
const fieldNames = [
  'alias', 'alternative', 'argument', 'arguments', 'attribute', 'body', 'condition', 'consequence', 'definition',
  'function', 'key', 'left', 'module_name', 'name', 'object', 'operator', 'parameters', 'right', 'subject', 'subscript', 'superclasses', 'value',
] as const;

export class PythonLowerer {
  truncated = false;
  private readonly f: Record<(typeof fieldNames)[number], number>;
  /** The name of the receiver of the method being lowered (its first parameter), while it stands for it (`receiver` in the IR). */
  private receiver: string | undefined;
  /** Lowering the statements of a class body, where a function is a method. */
  private inClassBody = false;
  /** The decorators of the definition `decorated_definition` is about to lower. */
  private pendingDecorators: Expr[] | undefined;

  constructor(
    private readonly text: string,
    language: Language,
    /** Added to every offset: the file's place in the project's position space (server/engine/source.ts). */
    private readonly base = 0,
  ) {
    this.f = fieldIds(language, fieldNames);
  }

  private spanOf(node: SyntaxNode): Span {
    return { start: this.base + node.startIndex, end: this.base + node.endIndex };
  }

  module(root: SyntaxNode): Stmt[] {
    return this.block(root, 0);
  }

  /**
   * The module's statements lowered one top-level node at a time, as `block(root, 0)` lowers them,
   * with what each node gave (`units`); `reuse` may answer a node's statements instead (a node an
   * edit left as it was, server/engine/lower/reuse.ts). Python lowers a node from its own subtree
   * only, so a node's statements depend on nothing outside it.
   */
  moduleUnits(root: SyntaxNode, reuse?: (node: SyntaxNode, type: string) => LoweredUnit | undefined): { body: Stmt[]; units: LoweredUnit[] } {
    const body: Stmt[] = [];
    const units: LoweredUnit[] = [];
    for (const child of root.namedChildren) {
      if (!child) continue;
      const type = child.type;
      let unit = reuse?.(child, type);
      if (!unit) {
        const outer = this.truncated;
        this.truncated = false;
        const stmts: Stmt[] = [];
        this.stmt(child, 1, stmts);
        unit = { start: child.startIndex, end: child.endIndex, type, stmts, truncated: this.truncated };
        this.truncated ||= outer;
      } else if (unit.truncated) this.truncated = true;
      units.push(unit);
      for (const stmt of unit.stmts) body.push(stmt);
    }
    return { body, units };
  }

  /** The source text of a node (as `node.text`, without another trip into WASM). */
  private textOf(node: SyntaxNode): string {
    return this.text.slice(node.startIndex, node.endIndex);
  }

  /** A loop's header (lower/common.ts `loopHead`). */
  private head(span: Span, body: SyntaxNode | null): { headSpan?: Span } {
    return loopHead(span, body, (n) => this.spanOf(n));
  }

  private slice(span: Span): string {
    return this.text.slice(span.start - this.base, span.end - this.base);
  }

  private block(node: SyntaxNode | null, depth: number): Stmt[] {
    const out: Stmt[] = [];
    if (!node) return out;
    if (depth > MAX_DEPTH) {
      this.truncated = true;
      return out;
    }
    for (const child of node.namedChildren) if (child) this.stmt(child, depth + 1, out);
    return out;
  }

  private stmt(node: SyntaxNode, depth: number, out: Stmt[]): void {
    const f = this.f;
    const type = node.type;
    switch (type) {
      case 'expression_statement': {
        const span = this.spanOf(node);
        for (const child of node.namedChildren) {
          if (!child) continue;
          const childType = child.type;
          if (childType === 'assignment') this.assignment(child, depth, out);
          else if (childType === 'augmented_assignment') {
            const opNode = field(child, f.operator);
            const op = assignOps[opNode?.type ?? ''];
            const left = field(child, f.left);
            const right = field(child, f.right);
            if (op && left && right) out.push({ kind: 'assign', targets: [this.expr(left, depth)], value: this.expr(right, depth), op, opSpan: this.spanOf(opNode!), span: this.spanOf(child) });
            else if (right) out.push({ kind: 'expr', expr: this.expr(right, depth), span });
          } else out.push({ kind: 'expr', expr: this.expr(child, depth, childType), span });
        }
        return;
      }
      case 'global_statement':
      case 'nonlocal_statement': {
        // Kept as an expression of the names it declares, with its keyword as the operator: a function
        // that rebinds such a name writes another scope's variable, which other code reads.
        const span = this.spanOf(node);
        const names: Expr[] = [];
        for (const child of node.namedChildren) if (child?.type === 'identifier') names.push(this.expr(child, depth, 'identifier'));
        out.push({ kind: 'expr', expr: { kind: 'other', children: names, ops: [type === 'global_statement' ? 'global' : 'nonlocal'], span }, span });
        return;
      }
      case 'delete_statement': {
        const targets: Expr[] = [];
        for (const child of node.namedChildren) {
          if (!child || child.type === 'comment') continue;
          // `del a, b` is one expression_list.
          const items = child.type === 'expression_list' ? child.namedChildren : [child];
          for (const item of items) if (item && item.type !== 'comment') targets.push(this.expr(item, depth));
        }
        out.push({ kind: 'delete', targets, span: this.spanOf(node) });
        return;
      }
      case 'decorated_definition': {
        const def = field(node, f.definition);
        if (!def) return;
        const decorators: Expr[] = [];
        for (const child of node.namedChildren) {
          if (child?.type !== 'decorator') continue;
          const e = child.namedChildren.find((c) => c?.type !== 'comment');
          if (e) decorators.push(this.expr(e, depth));
        }
        const before = out.length;
        this.pendingDecorators = decorators;
        this.stmt(def, depth, out);
        this.pendingDecorators = undefined;
        const defined = out[before];
        if (defined && (defined.kind === 'function' || defined.kind === 'class')) defined.decorators = decorators;
        return;
      }
      case 'function_definition': {
        const span = this.spanOf(node);
        const name = field(node, f.name);
        const nameSpan = name ? this.spanOf(name) : span;
        const decorators = this.pendingDecorators;
        this.pendingDecorators = undefined;
        const params = this.params(field(node, f.parameters), depth);
        const outer = { receiver: this.receiver, inClassBody: this.inClassBody };
        this.receiver = this.inClassBody && !decorators?.some(isStaticMethod) ? (params[0] && !params[0].rest ? params[0].name : undefined) : this.receiver !== undefined && !params.some((p) => p.name === this.receiver) ? this.receiver : undefined;
        this.inClassBody = false;
        const body = this.block(field(node, f.body), depth);
        this.receiver = outer.receiver;
        this.inClassBody = outer.inClassBody;
        out.push({ kind: 'function', name: name ? this.slice(nameSpan) : '', nameSpan, params, body, decorators: [], span });
        return;
      }
      case 'class_definition': {
        // A decorated class's decorators are its own, not its first method's.
        this.pendingDecorators = undefined;
        const span = this.spanOf(node);
        const name = field(node, f.name);
        const supers = field(node, f.superclasses);
        const bases: Expr[] = [];
        for (const b of supers?.namedChildren ?? []) if (b && b.type !== 'keyword_argument' && b.type !== 'comment') bases.push(this.expr(b, depth));
        const outer = this.inClassBody;
        this.inClassBody = true;
        const body = this.block(field(node, f.body), depth);
        this.inClassBody = outer;
        out.push({ kind: 'class', name: name ? this.textOf(name) : '', bases, body, decorators: [], span });
        return;
      }
      case 'for_statement': {
        const span = this.spanOf(node);
        const left = field(node, f.left);
        const right = field(node, f.right);
        const bodyNode = field(node, f.body);
        out.push({
          kind: 'for',
          target: left ? this.expr(left, depth) : other(this.spanOf(node)),
          iter: right ? this.expr(right, depth) : other(this.spanOf(node)),
          body: this.block(bodyNode, depth),
          ...this.head(span, bodyNode),
          span,
        });
        const alt = field(node, f.alternative);
        if (alt) out.push(...this.block(field(alt, f.body) ?? alt, depth));
        return;
      }
      case 'while_statement':
      case 'if_statement': {
        const span = this.spanOf(node);
        const cond = field(node, f.condition);
        const bodyNode = field(node, f.body) ?? field(node, f.consequence);
        const body: Stmt[] = this.block(bodyNode, depth);
        out.push({ kind: 'block', label: type === 'if_statement' ? 'if' : 'while', heads: cond ? [this.expr(cond, depth)] : [], body, ...(type === 'while_statement' ? this.head(span, bodyNode) : branchJump(bodyNode)), span });
        for (const clause of node.namedChildren) {
          if (!clause) continue;
          const clauseType = clause.type;
          if (clauseType === 'elif_clause') {
            const c = field(clause, f.condition);
            const b = field(clause, f.consequence);
            out.push({ kind: 'block', label: 'if', heads: c ? [this.expr(c, depth)] : [], body: this.block(b, depth), ...branchJump(b), span: this.spanOf(clause) });
          } else if (clauseType === 'else_clause') {
            const b = field(clause, f.body);
            out.push({ kind: 'block', label: 'if', heads: [], body: this.block(b, depth), ...branchJump(b), span: this.spanOf(clause) });
          }
        }
        return;
      }
      case 'match_statement': {
        // `match method: case 'adam': … case _: …`: the branches of an if/elif/else chain (a case
        // never falls through). A literal pattern is compared with the subject; `case _` is the else.
        const span = this.spanOf(node);
        const subject = field(node, f.subject);
        const clauses = field(node, f.body)?.namedChildren.filter((c): c is SyntaxNode => c?.type === 'case_clause') ?? [];
        clauses.forEach((clause, i) => {
          const pattern = clause.namedChildren.find((c) => c?.type === 'case_pattern');
          const literal = pattern?.namedChildCount === 1 ? pattern.namedChildren[0] : null;
          const heads: Expr[] =
            !pattern || pattern.namedChildCount === 0 || !subject
              ? []
              : [{ kind: 'other', children: [this.expr(subject, depth), literal && /^(string|integer|float|identifier|dotted_name)$/.test(literal.type) ? this.expr(literal, depth) : other(this.spanOf(pattern))], ops: ['=='], span: this.spanOf(pattern) }];
          out.push({ kind: 'block', label: 'if', heads, body: this.block(field(clause, f.consequence), depth), span: i === 0 ? span : this.spanOf(clause) });
        });
        return;
      }
      case 'with_statement': {
        const span = this.spanOf(node);
        const heads: Expr[] = [];
        const aliases: (Expr | undefined)[] = [];
        const clause = node.namedChildren.find((c) => c?.type === 'with_clause');
        for (const item of clause?.namedChildren ?? []) {
          const value = item ? field(item, f.value) : null;
          if (!value) continue;
          if (value.type === 'as_pattern') {
            heads.push(this.expr(value.namedChildren[0] ?? value, depth));
            // `with tf.GradientTape() as tape:` — the target is the as_pattern_target's expression.
            const target = field(value, f.alias);
            const inner = target?.namedChildren.find((c) => c?.type !== 'comment') ?? target;
            aliases.push(inner ? this.expr(inner, depth) : undefined);
          } else {
            heads.push(this.expr(value, depth));
            aliases.push(undefined);
          }
        }
        out.push({ kind: 'block', label: 'with', heads, aliases, body: this.block(field(node, f.body), depth), span });
        return;
      }
      case 'try_statement': {
        // The body's own span: the statement's would hold its `except` clauses, blocks of their own.
        const tryBody = field(node, f.body);
        out.push({ kind: 'block', label: 'try', heads: [], body: this.block(tryBody, depth), span: this.spanOf(tryBody ?? node) });
        for (const clause of node.namedChildren) {
          if (!clause) continue;
          const clauseType = clause.type;
          if (clauseType === 'except_clause' || clauseType === 'finally_clause' || clauseType === 'else_clause') {
            const body = clause.namedChildren.find((c) => c?.type === 'block') ?? null;
            out.push({ kind: 'block', label: 'try', heads: [], ...(clauseType === 'except_clause' ? { handler: true as const } : {}), body: this.block(body, depth), span: this.spanOf(clause) });
          }
        }
        return;
      }
      case 'assert_statement': {
        // `assert np.allclose(mine, ref), "message"`: kept as one expression the facts can read (an
        // optimizer test's comparison, optimizerTests.ts), its test and message as children.
        const span = this.spanOf(node);
        const children: Expr[] = [];
        for (const child of node.namedChildren) if (child && child.type !== 'comment') children.push(this.expr(child, depth));
        out.push({ kind: 'expr', expr: { kind: 'other', children, ops: ['assert'], span }, span });
        return;
      }
      case 'return_statement': {
        const value = node.namedChildren[0];
        out.push({ kind: 'return', value: value ? this.expr(value, depth) : undefined, span: this.spanOf(node) });
        return;
      }
      case 'import_statement': {
        const span = this.spanOf(node);
        for (const child of node.namedChildren) {
          if (!child) continue;
          const childType = child.type;
          if (childType === 'aliased_import') {
            const name = field(child, f.name);
            const alias = field(child, f.alias);
            const module = name ? this.textOf(name) : '';
            out.push({ kind: 'import', module, names: [{ name: module, alias: alias ? this.textOf(alias) : module }], span });
          } else if (childType === 'dotted_name') {
            const module = this.textOf(child);
            out.push({ kind: 'import', module, names: [{ name: module, alias: module.split('.')[0] }], span });
          }
        }
        return;
      }
      case 'import_from_statement': {
        const span = this.spanOf(node);
        const moduleName = field(node, f.module_name);
        const module = moduleName ? this.textOf(moduleName) : '';
        const names: { name: string; alias: string }[] = [];
        for (const child of f.name > 0 ? node.childrenForFieldId(f.name) : []) {
          if (!child) continue;
          if (child.type === 'aliased_import') {
            const nameNode = field(child, f.name);
            const alias = field(child, f.alias);
            const name = nameNode ? this.textOf(nameNode) : '';
            names.push({ name, alias: alias ? this.textOf(alias) : name });
          } else {
            const text = this.textOf(child);
            names.push({ name: text, alias: text });
          }
        }
        // `from m import *` has no name field, only a wildcard_import child.
        if (names.length === 0 && node.namedChildren.some((c) => c?.type === 'wildcard_import')) names.push({ name: '*', alias: '*' });
        out.push({ kind: 'import', module, names, span });
        return;
      }
      case 'block':
      case 'module':
        out.push(...this.block(node, depth));
        return;
      case 'ERROR':
        // Salvage statements tree-sitter could still recognise inside the broken region.
        for (const child of node.namedChildren) if (child) this.stmt(child, depth + 1, out);
        return;
      default:
        return;
    }
  }

  private assignment(node: SyntaxNode, depth: number, out: Stmt[]): void {
    const f = this.f;
    const targets: Expr[] = [];
    let current = node;
    let value: SyntaxNode | null = null;
    let valueType = '';
    // `a = b = v` nests as assignment(a, assignment(b, v)).
    for (;;) {
      const left = field(current, f.left);
      if (left) targets.push(this.expr(left, depth));
      value = field(current, f.right);
      if (!value) break;
      valueType = value.type;
      if (valueType !== 'assignment') break;
      current = value;
    }
    if (!value) return; // annotation only: `x: int`
    out.push({ kind: 'assign', targets, value: this.expr(value, depth, valueType), span: this.spanOf(node) });
  }

  private params(node: SyntaxNode | null, depth: number): Param[] {
    const f = this.f;
    const params: Param[] = [];
    for (const child of node?.namedChildren ?? []) {
      if (!child) continue;
      const type = child.type;
      let nameNode: SyntaxNode | null = null;
      let def: SyntaxNode | null = null;
      let rest: Param['rest'];
      // `*args: Tensor` is a typed parameter around the splat.
      const splat = type === 'typed_parameter' ? (child.namedChildren.find((c) => c?.type === 'list_splat_pattern' || c?.type === 'dictionary_splat_pattern') ?? child) : child;
      if (type === 'identifier') nameNode = child;
      else if (type === 'default_parameter' || type === 'typed_default_parameter') {
        nameNode = field(child, f.name);
        def = field(child, f.value);
      } else if (splat.type === 'list_splat_pattern' || splat.type === 'dictionary_splat_pattern') {
        nameNode = splat.namedChildren[0] ?? null;
        rest = splat.type === 'list_splat_pattern' ? 'positional' : 'keyword';
      } else if (type === 'typed_parameter') nameNode = child.namedChildren.find((c) => c?.type === 'identifier') ?? null;
      if (nameNode) {
        const span = this.spanOf(nameNode);
        params.push({ name: this.slice(span), span, default: def ? this.expr(def, depth) : undefined, ...(rest ? { rest } : {}) });
      }
    }
    return params;
  }

  /** Lowers the named children other than comments, in order. */
  private children(node: SyntaxNode, depth: number): Expr[] {
    const out: Expr[] = [];
    for (const child of node.namedChildren) {
      if (!child) continue;
      const type = child.type;
      if (type !== 'comment') out.push(this.expr(child, depth, type));
    }
    return out;
  }

  /** `type` is `node.type` when the caller has already read it. */
  expr(node: SyntaxNode, depth: number, type = node.type): Expr {
    const span = this.spanOf(node);
    if (depth > MAX_DEPTH) {
      this.truncated = true;
      return other(span);
    }
    const f = this.f;
    const d = depth + 1;
    switch (type) {
      case 'identifier': {
        const name = this.slice(span);
        return name === this.receiver ? { kind: 'name', name, span, receiver: true } : { kind: 'name', name, span };
      }
      case 'integer':
      case 'float':
        return { kind: 'num', value: parseNumber(this.slice(span)), span };
      case 'string': {
        const fields: Expr[] = [];
        for (const child of node.namedChildren) {
          if (child?.type !== 'interpolation') continue;
          const field = child.namedChildren.find((c) => c !== null && c.type !== 'format_specifier' && c.type !== 'type_conversion');
          if (field) fields.push(this.expr(field, d));
        }
        const value = stringValue(this.slice(span));
        return fields.length > 0 ? { kind: 'str', value, fields, span } : { kind: 'str', value, span };
      }
      case 'concatenated_string':
        return { kind: 'str', value: this.slice(span), span };
      case 'true':
      case 'false':
      case 'none':
        return { kind: 'name', name: type === 'none' ? 'None' : type === 'true' ? 'True' : 'False', span };
      case 'parenthesized_expression': {
        for (const child of node.namedChildren) {
          if (!child) continue;
          const childType = child.type;
          if (childType !== 'comment') return parenthesized(this.expr(child, d, childType), this.spanOf(child), span);
        }
        return other(span);
      }
      case 'list_splat':
      case 'dictionary_splat':
        // `f(*xs)`, `[*xs]`, `f(**kw)`: what is unpacked, marked as unpacked.
        return { kind: 'other', children: this.children(node, d), spread: type === 'list_splat' ? 'positional' : 'keyword', span };
      case 'attribute': {
        const object = field(node, f.object);
        const attr = field(node, f.attribute);
        if (!object || !attr) return other(span);
        return { kind: 'attr', object: this.expr(object, d), name: this.textOf(attr), span };
      }
      case 'subscript': {
        const value = field(node, f.value);
        if (!value) return other(span);
        const index: Expr[] = [];
        for (const c of f.subscript > 0 ? node.childrenForFieldId(f.subscript) : []) if (c) index.push(this.expr(c, d));
        return { kind: 'index', object: this.expr(value, d), index, span };
      }
      case 'call': {
        const fn = field(node, f.function);
        const argsNode = field(node, f.arguments);
        if (!fn) return other(span);
        const args: Expr[] = [];
        const kwargs: KeywordArg[] = [];
        const argsType = argsNode?.type;
        if (argsType === 'generator_expression') args.push(this.expr(argsNode!, d, argsType));
        else
          for (const a of argsNode?.namedChildren ?? []) {
            if (!a) continue;
            const argType = a.type;
            if (argType === 'comment') continue;
            if (argType === 'keyword_argument') {
              const name = field(a, f.name);
              const value = field(a, f.value);
              if (name && value) kwargs.push({ name: this.textOf(name), value: this.expr(value, d), span: this.spanOf(a) });
            } else args.push(this.expr(a, d, argType));
          }
        return { kind: 'call', callee: this.expr(fn, d), args, kwargs, span };
      }
      case 'binary_operator': {
        const opNode = field(node, f.operator);
        const op = opNode?.type ?? '';
        const left = field(node, f.left);
        const right = field(node, f.right);
        if (!left || !right) return other(span);
        if (!binaryOps.has(op)) return other(span, [this.expr(left, d), this.expr(right, d)]);
        return { kind: 'binary', op: op as BinaryOp, left: this.expr(left, d), right: this.expr(right, d), opSpan: this.spanOf(opNode!), span };
      }
      case 'unary_operator': {
        const op = field(node, f.operator)?.type ?? '';
        const arg = field(node, f.argument);
        if (!arg) return other(span);
        if (op === '-' || op === '+' || op === '~') return { kind: 'unary', op, arg: this.expr(arg, d), span };
        return other(span, [this.expr(arg, d)]);
      }
      case 'comparison_operator':
      case 'boolean_operator': {
        // The operators are the unnamed children between the operands (`not in` and `is not` are one each).
        const ops: string[] = [];
        for (const c of node.children) if (c && !c.isNamed && c.type !== '(' && c.type !== ')') ops.push(c.type);
        return { kind: 'other', children: this.children(node, d), ops, span };
      }
      case 'not_operator': {
        const arg = field(node, f.argument);
        return arg ? { kind: 'unary', op: 'not', arg: this.expr(arg, d), span } : other(span);
      }
      case 'lambda': {
        const bodyNode = field(node, f.body);
        const params = this.params(field(node, f.parameters), d);
        const outer = this.receiver;
        if (params.some((p) => p.name === outer)) this.receiver = undefined;
        const body = bodyNode ? this.expr(bodyNode, d) : undefined;
        this.receiver = outer;
        return { kind: 'lambda', params, body, stmts: [], span };
      }
      case 'list_comprehension':
      case 'generator_expression':
      case 'set_comprehension': {
        const body = field(node, f.body);
        const generators: { target: Expr; iter: Expr }[] = [];
        let filtered = false;
        const conditions: Expr[] = [];
        for (const c of node.namedChildren) {
          if (c?.type === 'if_clause') {
            filtered = true;
            const test = c.namedChildren.find((x) => x && x.type !== 'comment');
            if (test) conditions.push(this.expr(test, d));
          }
          if (c?.type !== 'for_in_clause') continue;
          const left = field(c, f.left);
          const right = field(c, f.right);
          generators.push({ target: left ? this.expr(left, d) : other(this.spanOf(c)), iter: right ? this.expr(right, d) : other(this.spanOf(c)) });
        }
        if (!body) return other(span);
        return { kind: 'comprehension', element: this.expr(body, d), generators, ...(filtered ? { filtered, conditions } : {}), span };
      }
      case 'list':
      case 'tuple':
      case 'expression_list':
      case 'pattern_list':
      case 'tuple_pattern':
      case 'list_pattern':
        return { kind: 'seq', items: this.children(node, d), span };
      case 'conditional_expression': {
        // The first three non-comment children, lowered in the order test, then, else.
        const parts: SyntaxNode[] = [];
        const types: string[] = [];
        for (const c of node.namedChildren) {
          if (!c) continue;
          const t = c.type;
          if (t === 'comment') continue;
          parts.push(c);
          types.push(t);
          if (parts.length === 3) break;
        }
        if (parts.length < 3) return other(span);
        return { kind: 'cond', test: this.expr(parts[1], d, types[1]), then: this.expr(parts[0], d, types[0]), else: this.expr(parts[2], d, types[2]), span };
      }
      case 'dictionary': {
        const entries: KeywordArg[] = [];
        let spreads: Expr[] | undefined;
        for (const pair of node.namedChildren) {
          if (pair?.type === 'dictionary_splat') {
            const inner = pair.namedChildren.find((c) => c !== null && c.type !== 'comment');
            if (inner) (spreads ??= []).push(this.expr(inner, d));
            continue;
          }
          if (pair?.type !== 'pair') continue;
          const key = field(pair, f.key);
          const value = field(pair, f.value);
          if (key && value) entries.push({ name: key.type === 'string' ? stringValue(this.textOf(key)) : this.textOf(key), value: this.expr(value, d), span: this.spanOf(pair) });
        }
        return spreads ? { kind: 'object', entries, spreads, span } : { kind: 'object', entries, span };
      }
      case 'slice': {
        // `lo:hi:step`: which parts are written, told apart by the colons before them.
        const slice: SlicePart[] = [];
        const children: Expr[] = [];
        let colons = 0;
        for (const c of node.children) {
          if (!c) continue;
          const t = c.type;
          if (t === ':') colons++;
          else if (c.isNamed && t !== 'comment') {
            slice.push(colons === 0 ? 'lower' : colons === 1 ? 'upper' : 'step');
            children.push(this.expr(c, d, t));
          }
        }
        return { kind: 'other', children, slice, span };
      }
      case 'ellipsis':
        return { kind: 'other', children: [], ellipsis: true, span };
      default:
        return other(span, this.children(node, d));
    }
  }
}

/** `@staticmethod` (or `@builtins.staticmethod`): a method with no receiver. */
function isStaticMethod(d: Expr): boolean {
  return (d.kind === 'name' && d.name === 'staticmethod') || (d.kind === 'attr' && d.name === 'staticmethod');
}
