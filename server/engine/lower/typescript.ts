// Lowers tree-sitter-typescript / -tsx / -javascript trees into Nabla's IR (one lowerer: the
// grammars share node names for everything Nabla reads).
//
// Every read of a node's type, end, fields or children crosses into WASM (web-tree-sitter
// marshals the node each time), so each node's `type` is read once and handed on, text is sliced
// from the source by span, and fields are read by id.
import type { Language, Node as SyntaxNode } from 'web-tree-sitter';
import type { AssignOp, BinaryOp, DocComment, Expr, KeywordArg, Param, Span, Stmt } from '../ir';
import { MAX_DEPTH, branchJump, field, fieldIds, loopHead, other, parenthesized, parseNumber, stringValue } from './common';

const binaryOps: Record<string, BinaryOp> = { '+': '+', '-': '-', '*': '*', '/': '/', '%': '%', '**': '**' };
/**
 * Comparisons and logical operators, kept in `ops` as Python writes them (`===` is `==`, `&&` is
 * `and`, `||` is `or`: the same value), so the facts read one IR for both languages. `??` has no
 * Python form and stays.
 */
const TEST_OPS: Record<string, string> = {
  '===': '==', '==': '==', '!==': '!=', '!=': '!=', '<': '<', '>': '>', '<=': '<=', '>=': '>=',
  in: 'in', instanceof: 'instanceof', '&&': 'and', '||': 'or', '??': '??',
};
const assignOps: Record<string, AssignOp> = { '+=': '+', '-=': '-', '*=': '*', '/=': '/' };
/** Wrappers that do not change a value: type assertions, `await`, `!`. */
const transparent = new Set(['parenthesized_expression', 'as_expression', 'satisfies_expression', 'non_null_expression', 'type_assertion', 'await_expression']);
const fieldNames = [
  'alias', 'alternative', 'argument', 'arguments', 'body', 'condition', 'consequence', 'constructor', 'declaration',
  'finalizer', 'function', 'handler', 'index', 'initializer', 'key', 'left', 'name', 'object', 'operator', 'parameter',
  'parameters', 'pattern', 'property', 'right', 'source', 'value',
] as const;

/** A child with its type, read once. */
interface Kid {
  node: SyntaxNode;
  type: string;
}

/** The named children other than comments. */
function named(node: SyntaxNode | null): Kid[] {
  const out: Kid[] = [];
  for (const c of node?.namedChildren ?? []) {
    if (!c) continue;
    const type = c.type;
    if (type !== 'comment') out.push({ node: c, type });
  }
  return out;
}

export class TypeScriptLowerer {
  truncated = false;
  private readonly f: Record<(typeof fieldNames)[number], number>;

  constructor(
    private readonly text: string,
    language: Language,
    /** Added to every offset: the file's place in the project's position space (server/engine/source.ts). */
    private readonly base = 0,
  ) {
    this.f = fieldIds(language, fieldNames);
  }

  /**
   * A statement without its trailing comment: with no `;`, the grammar's inserted semicolon comes
   * after a comment on the same line, so the node would cover it.
   */
  private statementSpan(node: SyntaxNode): Span {
    const span = this.spanOf(node);
    const last = [...node.children].reverse().find((c) => c && c.type !== 'comment' && c.endIndex > c.startIndex);
    return last && last.endIndex < node.endIndex ? { start: span.start, end: this.spanOf(last).end } : span;
  }

  private spanOf(node: SyntaxNode): Span {
    return { start: this.base + node.startIndex, end: this.base + node.endIndex };
  }

  /** The identifier a `for` initializer that is an expression assigns first: `i` of `i = 0` or `i = 0, j = n`. */
  private assignedLoopName(init: SyntaxNode): SyntaxNode | null {
    let node: SyntaxNode | null = init;
    for (let depth = 0; node && depth < 4; depth++) {
      const type: string = node.type;
      if (type === 'assignment_expression') {
        const left = field(node, this.f.left);
        return left && left.type === 'identifier' ? left : null;
      }
      // The grammar wraps the initializer in an expression statement, a sequence or parentheses.
      if (type !== 'expression_statement' && type !== 'sequence_expression' && type !== 'parenthesized_expression') return null;
      node = named(node)[0]?.node ?? null;
    }
    return null;
  }

  module(root: SyntaxNode): Stmt[] {
    return this.block(root, 0);
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

  /** The `/** … *\/` comment right before a declaration (before its `export`), which documents it. */
  private docComment(node: SyntaxNode): DocComment | undefined {
    const holder = node.parent?.type === 'export_statement' ? node.parent : node;
    const prev = holder.previousNamedSibling;
    if (prev?.type !== 'comment') return undefined;
    const raw = this.textOf(prev);
    if (!raw.startsWith('/**')) return undefined;
    const value = raw
      .slice(3, raw.endsWith('*/') ? -2 : undefined)
      .split('\n')
      .map((line) => line.replace(/^\s*\*(?!\/) ?/, ''))
      .join('\n');
    return { value, span: this.spanOf(prev) };
  }

  private block(node: SyntaxNode | null, depth: number, type = node?.type): Stmt[] {
    const out: Stmt[] = [];
    if (!node) return out;
    if (depth > MAX_DEPTH) {
      this.truncated = true;
      return out;
    }
    if (type !== 'statement_block' && type !== 'program' && type !== 'class_body' && type !== 'ERROR') {
      this.stmt(node, depth + 1, out, type); // a single-statement body: `for (...) x += y;`
      return out;
    }
    for (const child of named(node)) this.stmt(child.node, depth + 1, out, child.type);
    return out;
  }

  /**
   * `switch (opt) { case 'adam': …; break; default: … }` as the if/else-if chain it is when every
   * case with statements ends in a jump (`case 'a': case 'b':` share one branch); cases that fall
   * through run on, so then all of them are one block.
   */
  private switchStatement(node: SyntaxNode, depth: number, out: Stmt[]): void {
    const f = this.f;
    const span = this.spanOf(node);
    const subject = field(node, f.value);
    const branches: { heads: Expr[]; body: Stmt[]; span: Span }[] = [];
    let heads: Expr[] = [];
    let isDefault = false;
    const falls: boolean[] = [];
    for (const c of named(field(node, f.body))) {
      if (c.type !== 'switch_case' && c.type !== 'switch_default') continue;
      const value = c.type === 'switch_case' ? field(c.node, f.value) : null;
      if (c.type === 'switch_default') isDefault = true;
      else if (value && subject) heads.push({ kind: 'other', children: [this.condition(subject, depth), this.expr(value, depth)], ops: ['=='], span: this.spanOf(value) });
      const parts = named(c.node).filter((x) => !(value && x.node.startIndex === value.startIndex && x.node.endIndex === value.endIndex));
      if (parts.length === 0) continue; // an empty case shares the next one's statements
      const body: Stmt[] = [];
      for (const part of parts) this.stmt(part.node, depth + 1, body, part.type);
      falls.push(!/^(break|return|throw|continue)_statement$/.test(parts[parts.length - 1].type));
      // One condition per branch: `case 'a': case 'b':` is `opt === 'a' || opt === 'b'`, kept as its operands.
      const head: Expr[] = isDefault || heads.length === 0 ? [] : heads.length === 1 ? heads : [{ kind: 'other', children: heads, ops: heads.slice(1).map(() => 'or'), span: this.spanOf(c.node) }];
      branches.push({ heads: head, body, span: this.spanOf(c.node) });
      heads = [];
      isDefault = false;
    }
    if (branches.length === 0) return;
    // The last case has nothing to fall into.
    if (falls.slice(0, -1).some((x) => x)) {
      out.push({ kind: 'block', label: 'other', heads: subject ? [this.condition(subject, depth)] : [], body: branches.flatMap((b) => b.body), span });
      return;
    }
    // The chain's first block spans the whole statement, as an `if` with its `else` clauses does (scope.ts ifChainAt).
    branches.forEach((b, i) => out.push({ kind: 'block', label: 'if', heads: b.heads, body: b.body, span: i === 0 ? span : b.span }));
  }

  private stmt(node: SyntaxNode, depth: number, out: Stmt[], type = node.type): void {
    const f = this.f;
    switch (type) {
      case 'expression_statement': {
        const e = named(node)[0];
        if (e) this.expressionStatement(e.node, depth, out, this.statementSpan(node), e.type);
        return;
      }
      case 'lexical_declaration':
      case 'variable_declaration':
        for (const decl of named(node)) {
          if (decl.type !== 'variable_declarator') continue;
          const name = field(decl.node, f.name);
          const value = field(decl.node, f.value);
          // `var AdamW = class extends tf.AdamOptimizer { … }`: a class the variable names, as a declaration would.
          if (name && value && value.type === 'class' && name.type === 'identifier') this.classStatement(value, this.textOf(name), this.spanOf(decl.node), depth, out);
          else if (name && value) out.push({ kind: 'assign', targets: [this.expr(name, depth)], value: this.expr(value, depth), span: this.spanOf(decl.node) });
        }
        return;
      case 'export_statement': {
        const isDefault = node.children.some((c) => c?.type === 'default');
        const decl = field(node, f.declaration);
        const value = field(node, f.value);
        if (decl) {
          const before = out.length;
          this.stmt(decl, depth, out);
          for (const s of out.slice(before)) if (s.kind === 'function' || s.kind === 'class' || s.kind === 'assign') s.exported = isDefault ? 'default' : 'named';
        } else if (value) {
          // `export default <expr>`: the module's default export is bound to the value.
          const span = this.spanOf(node);
          out.push({ kind: 'assign', targets: [{ kind: 'name', name: 'default', span: { start: span.start, end: span.start } }], value: this.expr(value, depth), exported: 'default', span });
        } else {
          // `export { a, b as c }`, `export { x } from './m'`, `export * from './m'`.
          const source = field(node, f.source);
          const names: { name: string; alias: string }[] = [];
          const clause = named(node).find((c) => c.type === 'export_clause');
          for (const spec of named(clause?.node ?? null)) {
            const nameNode = field(spec.node, f.name);
            const alias = field(spec.node, f.alias);
            const n = nameNode ? stringValue(this.textOf(nameNode)) : '';
            names.push({ name: n, alias: alias ? stringValue(this.textOf(alias)) : n });
          }
          if (!clause && source) names.push({ name: '*', alias: '*' });
          out.push({ kind: 'export', module: source ? stringValue(this.textOf(source)) : undefined, names, span: this.spanOf(node) });
        }
        return;
      }
      case 'function_declaration':
      case 'generator_function_declaration':
      case 'method_definition': {
        const span = this.spanOf(node);
        const name = field(node, f.name);
        const nameSpan = name ? this.spanOf(name) : span;
        out.push({
          kind: 'function',
          name: name ? this.slice(nameSpan) : '',
          nameSpan,
          params: this.params(field(node, f.parameters), depth),
          body: this.block(field(node, f.body), depth),
          decorators: [],
          doc: this.docComment(node),
          span,
        });
        return;
      }
      case 'public_field_definition':
      case 'field_definition': {
        const name = field(node, f.property) ?? field(node, f.name);
        const value = field(node, f.value);
        if (name && value) {
          const nameSpan = this.spanOf(name);
          const target: Expr = { kind: 'attr', object: { kind: 'name', name: 'this', span: nameSpan, receiver: true }, name: this.slice(nameSpan), span: { ...nameSpan } };
          out.push({ kind: 'assign', targets: [target], value: this.expr(value, depth), span: this.spanOf(node) });
        }
        return;
      }
      case 'class_declaration':
      case 'abstract_class_declaration': {
        const name = field(node, f.name);
        this.classStatement(node, name ? this.textOf(name) : '', this.spanOf(node), depth, out);
        return;
      }
      case 'for_in_statement': {
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
        return;
      }
      case 'for_statement': {
        // `for (let i = 0; i < n; i++)`: the loop variable is the initializer's name; so is the
        // variable `for (i = 0; …)` assigns, declared earlier (`var i;`, `let i: number;`).
        const span = this.spanOf(node);
        const init = field(node, f.initializer);
        const declarator = init ? named(init).find((c) => c.type === 'variable_declarator') : undefined;
        const name = declarator ? field(declarator.node, f.name) : init ? this.assignedLoopName(init) : null;
        const cond = field(node, f.condition);
        const bodyNode = field(node, f.body);
        out.push({
          kind: 'for',
          target: name ? this.expr(name, depth) : other(this.spanOf(node)),
          iter: cond ? this.expr(cond, depth) : other(this.spanOf(node)),
          body: this.block(bodyNode, depth),
          ...this.head(span, bodyNode),
          span,
        });
        return;
      }
      case 'while_statement':
      case 'do_statement': {
        const span = this.spanOf(node);
        const cond = field(node, f.condition);
        const bodyNode = field(node, f.body);
        // A do-while's condition comes after its body: no header to quote (only `do` would be).
        const head = type === 'while_statement' ? this.head(span, bodyNode) : {};
        out.push({ kind: 'block', label: 'while', heads: cond ? [this.condition(cond, depth)] : [], body: this.block(bodyNode, depth), ...head, span });
        return;
      }
      case 'if_statement': {
        const span = this.spanOf(node);
        const cond = field(node, f.condition);
        const then = field(node, f.consequence);
        out.push({ kind: 'block', label: 'if', heads: cond ? [this.condition(cond, depth)] : [], body: this.block(then, depth), ...branchJump(then), span });
        const alt = field(node, f.alternative);
        if (alt) {
          const first = named(alt)[0];
          out.push({ kind: 'block', label: 'if', heads: [], body: first ? this.block(first.node, depth, first.type) : [], ...branchJump(first?.node ?? null), span: this.spanOf(alt) });
        }
        return;
      }
      case 'switch_statement':
        this.switchStatement(node, depth, out);
        return;
      case 'try_statement': {
        const handler = field(node, f.handler);
        const finalizer = field(node, f.finalizer);
        const parts = [field(node, f.body), handler ? field(handler, f.body) : null, finalizer ? field(finalizer, f.body) : null];
        parts.forEach((part, k) => {
          if (part) out.push({ kind: 'block', label: 'try', heads: [], ...(k === 1 ? { handler: true as const } : {}), body: this.block(part, depth), span: this.spanOf(part) });
        });
        return;
      }
      case 'statement_block': {
        const span = this.spanOf(node);
        out.push({ kind: 'block', label: 'other', heads: [], body: this.block(node, depth, type), span });
        return;
      }
      case 'return_statement': {
        const span = this.spanOf(node);
        const value = named(node)[0];
        out.push({ kind: 'return', value: value ? this.expr(value.node, depth, value.type) : undefined, span });
        return;
      }
      case 'import_statement': {
        const span = this.spanOf(node);
        const source = field(node, f.source);
        const module = source ? stringValue(this.textOf(source)) : '';
        const names: { name: string; alias: string }[] = [];
        const clause = named(node).find((c) => c.type === 'import_clause');
        for (const part of named(clause?.node ?? null)) {
          if (part.type === 'identifier') names.push({ name: 'default', alias: this.textOf(part.node) });
          else if (part.type === 'namespace_import') {
            const id = named(part.node).find((c) => c.type === 'identifier');
            if (id) names.push({ name: '*', alias: this.textOf(id.node) });
          } else if (part.type === 'named_imports')
            for (const spec of named(part.node)) {
              const nameNode = field(spec.node, f.name);
              const alias = field(spec.node, f.alias);
              const n = nameNode ? this.textOf(nameNode) : '';
              names.push({ name: n, alias: alias ? this.textOf(alias) : n });
            }
        }
        out.push({ kind: 'import', module, names, span });
        return;
      }
      case 'ERROR':
        for (const child of named(node)) this.stmt(child.node, depth + 1, out, child.type);
        return;
      default:
        return;
    }
  }

  private expressionStatement(e: SyntaxNode, depth: number, out: Stmt[], span: Span, type: string): void {
    const f = this.f;
    while (type === 'parenthesized_expression') {
      const inner = named(e);
      if (inner.length !== 1) break;
      e = inner[0].node;
      type = inner[0].type;
    }
    if (type === 'assignment_expression') {
      const targets: Expr[] = [];
      let current = e;
      let value: SyntaxNode | null = null;
      let valueType = '';
      for (;;) {
        const left = field(current, f.left);
        if (left) targets.push(this.expr(left, depth));
        value = field(current, f.right);
        if (!value) break;
        valueType = value.type;
        if (valueType !== 'assignment_expression') break;
        current = value;
      }
      if (value) out.push({ kind: 'assign', targets, value: this.expr(value, depth, valueType), span });
      return;
    }
    if (type === 'augmented_assignment_expression') {
      const opNode = field(e, f.operator);
      const op = assignOps[opNode?.type ?? ''];
      const left = field(e, f.left);
      const right = field(e, f.right);
      if (op && left && right) out.push({ kind: 'assign', targets: [this.expr(left, depth)], value: this.expr(right, depth), op, opSpan: this.spanOf(opNode!), span });
      else if (right) out.push({ kind: 'expr', expr: this.expr(right, depth), span });
      return;
    }
    if (type === 'sequence_expression') {
      for (const part of named(e)) this.expressionStatement(part.node, depth, out, this.spanOf(part.node), part.type);
      return;
    }
    out.push({ kind: 'expr', expr: this.expr(e, depth, type), span });
  }

  /** A class declaration, or a class expression a variable is declared with (named by the variable). */
  private classStatement(node: SyntaxNode, name: string, span: Span, depth: number, out: Stmt[]): void {
    const f = this.f;
    const bases: Expr[] = [];
    // TS: class_heritage > extends_clause (field value); JS: class_heritage > expression.
    for (const h of named(named(node).find((c) => c.type === 'class_heritage')?.node ?? null)) {
      if (h.type === 'extends_clause') for (const v of f.value > 0 ? h.node.childrenForFieldId(f.value) : []) if (v) bases.push(this.expr(v, depth));
      if (h.type !== 'extends_clause' && h.type !== 'implements_clause') bases.push(this.expr(h.node, depth, h.type));
    }
    out.push({ kind: 'class', name, bases, body: this.block(field(node, f.body), depth), decorators: [], doc: this.docComment(node), span });
  }

  private params(node: SyntaxNode | null, depth: number): Param[] {
    if (!node) return [];
    const f = this.f;
    if (node.type === 'identifier') {
      const span = this.spanOf(node);
      return [{ name: this.slice(span), span }];
    }
    const params: Param[] = [];
    for (const child of named(node)) {
      let nameNode: SyntaxNode | null = child.node;
      let nameType: string | undefined = child.type; // undefined: not read yet
      let def: SyntaxNode | null = null;
      let rest = false;
      if (child.type === 'required_parameter' || child.type === 'optional_parameter') {
        nameNode = field(child.node, f.pattern);
        def = field(child.node, f.value);
        nameType = undefined;
      } else if (child.type === 'assignment_pattern') {
        nameNode = field(child.node, f.left);
        def = field(child.node, f.right);
        nameType = undefined;
      } else if (child.type === 'rest_pattern') {
        const first = named(child.node)[0];
        nameNode = first?.node ?? null;
        nameType = first?.type;
        rest = true;
      }
      // TypeScript's `...xs: T[]`: a required parameter around the rest pattern.
      if (nameNode && nameType === undefined && nameNode.type === 'rest_pattern') {
        nameNode = named(nameNode)[0]?.node ?? null;
        rest = true;
      }
      if (nameNode && (nameType ??= nameNode.type) === 'assignment_pattern') {
        def = field(nameNode, f.right);
        nameNode = field(nameNode, f.left);
        nameType = undefined;
      }
      // TypeScript's `this: Net` only types `this`: it is no parameter at run time, and no argument fills it.
      if (nameNode && (nameType ?? nameNode.type) === 'this') continue;
      if (nameNode) {
        const span = this.spanOf(nameNode);
        params.push({ name: (nameType ?? nameNode.type) === 'identifier' ? this.slice(span) : '', span, default: def ? this.expr(def, depth) : undefined, ...(rest ? { rest: 'positional' as const } : {}) });
      }
    }
    return params;
  }

  /**
   * The condition of an `if`, `while`, `do … while` or `switch`: its parentheses are the statement's
   * own, so the expression inside is lowered without a `parenSpan` for them.
   */
  private condition(node: SyntaxNode, depth: number): Expr {
    const inner = node.type === 'parenthesized_expression' ? named(node) : [];
    return inner.length === 1 ? this.expr(inner[0].node, depth, inner[0].type) : this.expr(node, depth);
  }

  /** Lowers the named children other than comments, in order. */
  private children(node: SyntaxNode | null, depth: number): Expr[] {
    const out: Expr[] = [];
    for (const c of named(node)) out.push(this.expr(c.node, depth, c.type));
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
    if (transparent.has(type)) {
      // `<T>x`: the type comes first and the value last; the other forms start with their value.
      const parts = named(node);
      const inner = type === 'type_assertion' ? parts[parts.length - 1] : parts[0];
      if (!inner) return other(span);
      const e = this.expr(inner.node, d, inner.type);
      return type === 'parenthesized_expression' ? parenthesized(e, this.spanOf(inner.node), span) : e;
    }
    switch (type) {
      case 'identifier':
      case 'property_identifier':
      case 'shorthand_property_identifier':
      case 'shorthand_property_identifier_pattern':
        return { kind: 'name', name: this.slice(span), span };
      case 'this':
        return { kind: 'name', name: 'this', span, receiver: true };
      case 'number':
        return { kind: 'num', value: parseNumber(this.slice(span)), span };
      case 'string':
        return { kind: 'str', value: stringValue(this.slice(span)), span };
      case 'true':
      case 'false':
      case 'null':
      case 'undefined':
        return { kind: 'name', name: type, span };
      case 'member_expression': {
        const object = field(node, f.object);
        const property = field(node, f.property);
        if (!object || !property) return other(span);
        return { kind: 'attr', object: this.expr(object, d), name: this.textOf(property), span };
      }
      case 'subscript_expression': {
        const object = field(node, f.object);
        const index = field(node, f.index);
        if (!object) return other(span);
        return { kind: 'index', object: this.expr(object, d), index: index ? [this.expr(index, d)] : [], span };
      }
      case 'call_expression':
      case 'new_expression': {
        const fn = field(node, f.function) ?? field(node, f.constructor);
        const argsNode = field(node, f.arguments);
        if (!fn) return other(span);
        const args = this.children(argsNode, d);
        return { kind: 'call', callee: this.expr(fn, d), args, kwargs: [], span };
      }
      case 'binary_expression': {
        const opNode = field(node, f.operator);
        const op = binaryOps[opNode?.type ?? ''];
        const left = field(node, f.left);
        const right = field(node, f.right);
        if (!left || !right) return other(span);
        // `m || 0` (a lazy zero start, optimizerSteps.ts), `k in state`, `x === null`: the operator kept.
        if (!op) {
          const test = opNode ? TEST_OPS[opNode.type] : undefined;
          return { kind: 'other', children: [this.expr(left, d), this.expr(right, d)], ...(test ? { ops: [test] } : {}), span };
        }
        return { kind: 'binary', op, left: this.expr(left, d), right: this.expr(right, d), opSpan: this.spanOf(opNode!), span };
      }
      case 'unary_expression': {
        const op = field(node, f.operator)?.type ?? '';
        const arg = field(node, f.argument);
        if (!arg) return other(span);
        if (op === '-' || op === '+' || op === '~') return { kind: 'unary', op, arg: this.expr(arg, d), span };
        if (op === '!') return { kind: 'unary', op: 'not', arg: this.expr(arg, d), span };
        if (op === 'delete') return { kind: 'other', children: [this.expr(arg, d)], ops: ['del'], span };
        return other(span, [this.expr(arg, d)]);
      }
      case 'update_expression': {
        // `t++`, `--k`: the operator kept in `ops` (a step count's increment, optimizerSteps.ts).
        const arg = field(node, f.argument);
        const op = field(node, f.operator)?.type;
        if (!arg) return other(span);
        return { kind: 'other', children: [this.expr(arg, d)], ...(op === '++' || op === '--' ? { ops: [op] } : {}), span };
      }
      case 'arrow_function':
      case 'function_expression':
      case 'function': {
        const paramsNode = field(node, f.parameters) ?? field(node, f.parameter);
        const body = field(node, f.body);
        const params = this.params(paramsNode, d);
        const bodyType = body?.type;
        if (body && bodyType !== 'statement_block') return { kind: 'lambda', params, body: this.expr(body, d, bodyType), stmts: [], span };
        const stmts = this.block(body, d, bodyType);
        // A block body that only returns an expression is as good as an expression body.
        const ret = stmts.length === 1 && stmts[0].kind === 'return' ? stmts[0].value : undefined;
        return { kind: 'lambda', params, body: ret, stmts, span };
      }
      case 'ternary_expression': {
        const test = field(node, f.condition);
        const then = field(node, f.consequence);
        const otherwise = field(node, f.alternative);
        if (!test || !then || !otherwise) return other(span);
        return { kind: 'cond', test: this.expr(test, d), then: this.expr(then, d), else: this.expr(otherwise, d), span };
      }
      case 'array':
      case 'array_pattern': {
        // Keep positions: `[, wj]` binds wj to the second element.
        const items: Expr[] = [];
        let pending = true;
        for (const child of node.children) {
          if (!child) continue;
          const childType = child.type;
          if (childType === '[' || childType === ']' || childType === 'comment') continue;
          if (childType === ',') {
            if (pending) items.push(other(this.spanOf(child)));
            pending = true;
          } else {
            items.push(this.expr(child, d, childType));
            pending = false;
          }
        }
        return { kind: 'seq', items, span };
      }
      case 'spread_element':
        // `f(...xs)`, `[...xs]`: what is unpacked, marked as unpacked.
        return { kind: 'other', children: this.children(node, d), spread: 'positional', span };
      case 'object':
      case 'object_pattern': {
        const entries: KeywordArg[] = [];
        let spreads: Expr[] | undefined;
        for (const pair of named(node)) {
          if (pair.type === 'spread_element') {
            const inner = named(pair.node)[0];
            if (inner) (spreads ??= []).push(this.expr(inner.node, d, inner.type));
          } else if (pair.type === 'pair' || pair.type === 'pair_pattern') {
            // `{ grads: delta } = …`: a destructuring entry is written like a pair, the key then the target.
            const key = field(pair.node, f.key);
            const value = field(pair.node, f.value);
            if (key && value) entries.push({ name: key.type === 'string' ? stringValue(this.textOf(key)) : this.textOf(key), value: this.expr(value, d), span: this.spanOf(pair.node) });
          } else if (pair.type === 'method_definition') {
            // `{ cost(w) { ... }, get grad() { ... } }`: a method is an entry whose value is a function.
            const key = field(pair.node, f.name);
            const body = field(pair.node, f.body);
            const stmts = this.block(body, d, body?.type);
            const ret = stmts.length === 1 && stmts[0].kind === 'return' ? stmts[0].value : undefined;
            const lambda: Expr = { kind: 'lambda', params: this.params(field(pair.node, f.parameters), d), body: ret, stmts, span: this.spanOf(pair.node) };
            if (key) entries.push({ name: key.type === 'string' ? stringValue(this.textOf(key)) : this.textOf(key), value: lambda });
          } else if (pair.type === 'shorthand_property_identifier' || pair.type === 'shorthand_property_identifier_pattern') {
            const span = this.spanOf(pair.node);
            const name = this.slice(span);
            entries.push({ name, value: { kind: 'name', name, span } });
          }
        }
        return spreads ? { kind: 'object', entries, spreads, span } : { kind: 'object', entries, span };
      }
      default:
        return other(span, this.children(node, d));
    }
  }
}
