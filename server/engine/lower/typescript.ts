// Lowers tree-sitter-typescript / -tsx / -javascript trees into Nabla's IR (one lowerer: the
// grammars share node names for everything Nabla reads).
import type { Node as SyntaxNode } from 'web-tree-sitter';
import type { AssignOp, BinaryOp, Expr, KeywordArg, Param, Stmt } from '../ir';
import { MAX_DEPTH, other, parseNumber, spanOf, stringValue } from './common';

const binaryOps: Record<string, BinaryOp> = { '+': '+', '-': '-', '*': '*', '/': '/', '%': '%', '**': '**' };
const assignOps: Record<string, AssignOp> = { '+=': '+', '-=': '-', '*=': '*', '/=': '/' };
/** Wrappers that do not change a value: type assertions, `await`, `!`. */
const transparent = new Set(['parenthesized_expression', 'as_expression', 'satisfies_expression', 'non_null_expression', 'type_assertion', 'await_expression']);

function named(node: SyntaxNode | null): SyntaxNode[] {
  return (node?.namedChildren ?? []).filter((c): c is SyntaxNode => !!c && c.type !== 'comment');
}

export class TypeScriptLowerer {
  truncated = false;

  module(root: SyntaxNode): Stmt[] {
    return this.block(root, 0);
  }

  private block(node: SyntaxNode | null, depth: number): Stmt[] {
    const out: Stmt[] = [];
    if (!node) return out;
    if (depth > MAX_DEPTH) {
      this.truncated = true;
      return out;
    }
    if (node.type !== 'statement_block' && node.type !== 'program' && node.type !== 'class_body' && node.type !== 'ERROR') {
      this.stmt(node, depth + 1, out); // a single-statement body: `for (...) x += y;`
      return out;
    }
    for (const child of named(node)) this.stmt(child, depth + 1, out);
    return out;
  }

  private stmt(node: SyntaxNode, depth: number, out: Stmt[]): void {
    const span = spanOf(node);
    switch (node.type) {
      case 'expression_statement': {
        const e = named(node)[0];
        if (e) this.expressionStatement(e, depth, out, span);
        return;
      }
      case 'lexical_declaration':
      case 'variable_declaration':
        for (const decl of named(node)) {
          if (decl.type !== 'variable_declarator') continue;
          const name = decl.childForFieldName('name');
          const value = decl.childForFieldName('value');
          if (name && value) out.push({ kind: 'assign', targets: [this.expr(name, depth)], value: this.expr(value, depth), span: spanOf(decl) });
        }
        return;
      case 'export_statement': {
        const decl = node.childForFieldName('declaration');
        if (decl) this.stmt(decl, depth, out);
        return;
      }
      case 'function_declaration':
      case 'generator_function_declaration':
      case 'method_definition': {
        const name = node.childForFieldName('name');
        out.push({
          kind: 'function',
          name: name?.text ?? '',
          nameSpan: name ? spanOf(name) : span,
          params: this.params(node.childForFieldName('parameters'), depth),
          body: this.block(node.childForFieldName('body'), depth),
          span,
        });
        return;
      }
      case 'public_field_definition':
      case 'field_definition': {
        const name = node.childForFieldName('property') ?? node.childForFieldName('name');
        const value = node.childForFieldName('value');
        if (name && value) {
          const target: Expr = { kind: 'attr', object: { kind: 'name', name: 'this', span: spanOf(name) }, name: name.text, span: spanOf(name) };
          out.push({ kind: 'assign', targets: [target], value: this.expr(value, depth), span });
        }
        return;
      }
      case 'class_declaration':
      case 'abstract_class_declaration':
        out.push({ kind: 'class', name: node.childForFieldName('name')?.text ?? '', body: this.block(node.childForFieldName('body'), depth), span });
        return;
      case 'for_in_statement': {
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        out.push({
          kind: 'for',
          target: left ? this.expr(left, depth) : other(spanOf(node)),
          iter: right ? this.expr(right, depth) : other(spanOf(node)),
          body: this.block(node.childForFieldName('body'), depth),
          span,
        });
        return;
      }
      case 'for_statement': {
        // `for (let i = 0; i < n; i++)`: the loop variable is the initializer's name.
        const init = node.childForFieldName('initializer');
        const declarator = init ? named(init).find((c) => c.type === 'variable_declarator') : undefined;
        const name = declarator?.childForFieldName('name');
        const cond = node.childForFieldName('condition');
        out.push({
          kind: 'for',
          target: name ? this.expr(name, depth) : other(spanOf(node)),
          iter: cond ? this.expr(cond, depth) : other(spanOf(node)),
          body: this.block(node.childForFieldName('body'), depth),
          span,
        });
        return;
      }
      case 'while_statement':
      case 'do_statement': {
        const cond = node.childForFieldName('condition');
        out.push({ kind: 'block', label: 'while', heads: cond ? [this.expr(cond, depth)] : [], body: this.block(node.childForFieldName('body'), depth), span });
        return;
      }
      case 'if_statement': {
        const cond = node.childForFieldName('condition');
        out.push({ kind: 'block', label: 'if', heads: cond ? [this.expr(cond, depth)] : [], body: this.block(node.childForFieldName('consequence'), depth), span });
        const alt = node.childForFieldName('alternative');
        if (alt) out.push({ kind: 'block', label: 'if', heads: [], body: this.block(named(alt)[0] ?? null, depth), span: spanOf(alt) });
        return;
      }
      case 'try_statement':
        for (const part of [node.childForFieldName('body'), node.childForFieldName('handler')?.childForFieldName('body') ?? null, node.childForFieldName('finalizer')?.childForFieldName('body') ?? null])
          if (part) out.push({ kind: 'block', label: 'try', heads: [], body: this.block(part, depth), span: spanOf(part) });
        return;
      case 'statement_block':
        out.push({ kind: 'block', label: 'other', heads: [], body: this.block(node, depth), span });
        return;
      case 'return_statement': {
        const value = named(node)[0];
        out.push({ kind: 'return', value: value ? this.expr(value, depth) : undefined, span });
        return;
      }
      case 'import_statement': {
        const source = node.childForFieldName('source');
        const module = source ? stringValue(source.text) : '';
        const names: { name: string; alias: string }[] = [];
        const clause = named(node).find((c) => c.type === 'import_clause');
        for (const part of named(clause ?? null)) {
          if (part.type === 'identifier') names.push({ name: 'default', alias: part.text });
          else if (part.type === 'namespace_import') {
            const id = named(part).find((c) => c.type === 'identifier');
            if (id) names.push({ name: '*', alias: id.text });
          } else if (part.type === 'named_imports')
            for (const spec of named(part)) {
              const n = spec.childForFieldName('name')?.text ?? '';
              names.push({ name: n, alias: spec.childForFieldName('alias')?.text ?? n });
            }
        }
        out.push({ kind: 'import', module, names, span });
        return;
      }
      case 'ERROR':
        for (const child of named(node)) this.stmt(child, depth + 1, out);
        return;
      default:
        return;
    }
  }

  private expressionStatement(e: SyntaxNode, depth: number, out: Stmt[], span: { start: number; end: number }): void {
    while (e.type === 'parenthesized_expression' && named(e).length === 1) e = named(e)[0];
    if (e.type === 'assignment_expression') {
      const targets: Expr[] = [];
      let current: SyntaxNode | null = e;
      let value: SyntaxNode | null = null;
      while (current && current.type === 'assignment_expression') {
        const left = current.childForFieldName('left');
        if (left) targets.push(this.expr(left, depth));
        value = current.childForFieldName('right');
        current = value;
      }
      if (value) out.push({ kind: 'assign', targets, value: this.expr(value, depth), span });
      return;
    }
    if (e.type === 'augmented_assignment_expression') {
      const op = assignOps[e.childForFieldName('operator')?.type ?? ''];
      const left = e.childForFieldName('left');
      const right = e.childForFieldName('right');
      if (op && left && right) out.push({ kind: 'assign', targets: [this.expr(left, depth)], value: this.expr(right, depth), op, span });
      else if (right) out.push({ kind: 'expr', expr: this.expr(right, depth), span });
      return;
    }
    if (e.type === 'sequence_expression') {
      for (const part of named(e)) this.expressionStatement(part, depth, out, spanOf(part));
      return;
    }
    out.push({ kind: 'expr', expr: this.expr(e, depth), span });
  }

  private params(node: SyntaxNode | null, depth: number): Param[] {
    if (!node) return [];
    if (node.type === 'identifier') return [{ name: node.text, span: spanOf(node) }];
    const params: Param[] = [];
    for (const child of named(node)) {
      let nameNode: SyntaxNode | null = child;
      let def: SyntaxNode | null = null;
      if (child.type === 'required_parameter' || child.type === 'optional_parameter') {
        nameNode = child.childForFieldName('pattern');
        def = child.childForFieldName('value');
      } else if (child.type === 'assignment_pattern') {
        nameNode = child.childForFieldName('left');
        def = child.childForFieldName('right');
      } else if (child.type === 'rest_pattern') nameNode = named(child)[0] ?? null;
      if (nameNode && nameNode.type === 'assignment_pattern') {
        def = nameNode.childForFieldName('right');
        nameNode = nameNode.childForFieldName('left');
      }
      if (nameNode) params.push({ name: nameNode.type === 'identifier' ? nameNode.text : '', span: spanOf(nameNode), default: def ? this.expr(def, depth) : undefined });
    }
    return params;
  }

  expr(node: SyntaxNode, depth: number): Expr {
    const span = spanOf(node);
    if (depth > MAX_DEPTH) {
      this.truncated = true;
      return other(spanOf(node));
    }
    const d = depth + 1;
    if (transparent.has(node.type)) {
      const inner = named(node)[0];
      return inner ? this.expr(inner, d) : other(spanOf(node));
    }
    switch (node.type) {
      case 'identifier':
      case 'property_identifier':
      case 'shorthand_property_identifier':
      case 'shorthand_property_identifier_pattern':
        return { kind: 'name', name: node.text, span };
      case 'this':
        return { kind: 'name', name: 'this', span };
      case 'number':
        return { kind: 'num', value: parseNumber(node.text), span };
      case 'string':
        return { kind: 'str', value: stringValue(node.text), span };
      case 'true':
      case 'false':
      case 'null':
      case 'undefined':
        return { kind: 'name', name: node.type, span };
      case 'member_expression': {
        const object = node.childForFieldName('object');
        const property = node.childForFieldName('property');
        if (!object || !property) return other(spanOf(node));
        return { kind: 'attr', object: this.expr(object, d), name: property.text, span };
      }
      case 'subscript_expression': {
        const object = node.childForFieldName('object');
        const index = node.childForFieldName('index');
        if (!object) return other(spanOf(node));
        return { kind: 'index', object: this.expr(object, d), index: index ? [this.expr(index, d)] : [], span };
      }
      case 'call_expression':
      case 'new_expression': {
        const fn = node.childForFieldName('function') ?? node.childForFieldName('constructor');
        const argsNode = node.childForFieldName('arguments');
        if (!fn) return other(spanOf(node));
        const args = named(argsNode).map((a) => this.expr(a, d));
        return { kind: 'call', callee: this.expr(fn, d), args, kwargs: [], span };
      }
      case 'binary_expression': {
        const op = binaryOps[node.childForFieldName('operator')?.type ?? ''];
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        if (!left || !right) return other(spanOf(node));
        if (!op) return other(spanOf(node), [this.expr(left, d), this.expr(right, d)]);
        return { kind: 'binary', op, left: this.expr(left, d), right: this.expr(right, d), span };
      }
      case 'unary_expression': {
        const op = node.childForFieldName('operator')?.type ?? '';
        const arg = node.childForFieldName('argument');
        if (!arg) return other(spanOf(node));
        if (op === '-' || op === '+' || op === '~') return { kind: 'unary', op, arg: this.expr(arg, d), span };
        if (op === '!') return { kind: 'unary', op: 'not', arg: this.expr(arg, d), span };
        return other(spanOf(node), [this.expr(arg, d)]);
      }
      case 'arrow_function':
      case 'function_expression':
      case 'function': {
        const paramsNode = node.childForFieldName('parameters') ?? node.childForFieldName('parameter');
        const body = node.childForFieldName('body');
        const params = this.params(paramsNode, d);
        if (body && body.type !== 'statement_block') return { kind: 'lambda', params, body: this.expr(body, d), stmts: [], span };
        const stmts = this.block(body, d);
        // A block body that only returns an expression is as good as an expression body.
        const ret = stmts.length === 1 && stmts[0].kind === 'return' ? stmts[0].value : undefined;
        return { kind: 'lambda', params, body: ret, stmts, span };
      }
      case 'ternary_expression': {
        const test = node.childForFieldName('condition');
        const then = node.childForFieldName('consequence');
        const otherwise = node.childForFieldName('alternative');
        if (!test || !then || !otherwise) return other(spanOf(node));
        return { kind: 'cond', test: this.expr(test, d), then: this.expr(then, d), else: this.expr(otherwise, d), span };
      }
      case 'array':
      case 'array_pattern': {
        // Keep positions: `[, wj]` binds wj to the second element.
        const items: Expr[] = [];
        let pending = true;
        for (const child of node.children) {
          if (!child || child.type === '[' || child.type === ']' || child.type === 'comment') continue;
          if (child.type === ',') {
            if (pending) items.push(other(spanOf(child)));
            pending = true;
          } else {
            items.push(this.expr(child, d));
            pending = false;
          }
        }
        return { kind: 'seq', items, span };
      }
      case 'object':
      case 'object_pattern': {
        const entries: KeywordArg[] = [];
        for (const pair of named(node)) {
          if (pair.type === 'pair') {
            const key = pair.childForFieldName('key');
            const value = pair.childForFieldName('value');
            if (key && value) entries.push({ name: key.type === 'string' ? stringValue(key.text) : key.text, value: this.expr(value, d) });
          } else if (pair.type === 'shorthand_property_identifier' || pair.type === 'shorthand_property_identifier_pattern') {
            entries.push({ name: pair.text, value: { kind: 'name', name: pair.text, span: spanOf(pair) } });
          }
        }
        return { kind: 'object', entries, span };
      }
      default:
        return other(spanOf(node), named(node).map((c) => this.expr(c, d)));
    }
  }
}
