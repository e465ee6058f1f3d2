// Lowers a tree-sitter-python tree into Nabla's IR.
import type { Node as SyntaxNode } from 'web-tree-sitter';
import type { AssignOp, BinaryOp, Expr, KeywordArg, Param, Stmt } from '../ir';
import { MAX_DEPTH, other, parseNumber, spanOf, stringValue } from './common';

const binaryOps = new Set<string>(['+', '-', '*', '/', '//', '%', '**', '@']);
const assignOps: Record<string, AssignOp> = { '+=': '+', '-=': '-', '*=': '*', '/=': '/' };

export class PythonLowerer {
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
    for (const child of node.namedChildren) if (child) this.stmt(child, depth + 1, out);
    return out;
  }

  private stmt(node: SyntaxNode, depth: number, out: Stmt[]): void {
    const span = spanOf(node);
    switch (node.type) {
      case 'expression_statement': {
        for (const child of node.namedChildren) {
          if (!child) continue;
          if (child.type === 'assignment') this.assignment(child, depth, out);
          else if (child.type === 'augmented_assignment') {
            const op = assignOps[child.childForFieldName('operator')?.type ?? ''];
            const left = child.childForFieldName('left');
            const right = child.childForFieldName('right');
            if (op && left && right) out.push({ kind: 'assign', targets: [this.expr(left, depth)], value: this.expr(right, depth), op, span: spanOf(child) });
            else if (right) out.push({ kind: 'expr', expr: this.expr(right, depth), span });
          } else out.push({ kind: 'expr', expr: this.expr(child, depth), span });
        }
        return;
      }
      case 'decorated_definition': {
        const def = node.childForFieldName('definition');
        if (def) this.stmt(def, depth, out);
        return;
      }
      case 'function_definition': {
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
      case 'class_definition':
        out.push({ kind: 'class', name: node.childForFieldName('name')?.text ?? '', body: this.block(node.childForFieldName('body'), depth), span });
        return;
      case 'for_statement': {
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        out.push({
          kind: 'for',
          target: left ? this.expr(left, depth) : other(node),
          iter: right ? this.expr(right, depth) : other(node),
          body: this.block(node.childForFieldName('body'), depth),
          span,
        });
        const alt = node.childForFieldName('alternative');
        if (alt) out.push(...this.block(alt.childForFieldName('body') ?? alt, depth));
        return;
      }
      case 'while_statement':
      case 'if_statement': {
        const cond = node.childForFieldName('condition');
        const body: Stmt[] = this.block(node.childForFieldName('body') ?? node.childForFieldName('consequence'), depth);
        out.push({ kind: 'block', label: node.type === 'if_statement' ? 'if' : 'while', heads: cond ? [this.expr(cond, depth)] : [], body, span });
        for (const clause of node.namedChildren) {
          if (!clause) continue;
          if (clause.type === 'elif_clause') {
            const c = clause.childForFieldName('condition');
            out.push({ kind: 'block', label: 'if', heads: c ? [this.expr(c, depth)] : [], body: this.block(clause.childForFieldName('consequence'), depth), span: spanOf(clause) });
          } else if (clause.type === 'else_clause') {
            out.push({ kind: 'block', label: 'if', heads: [], body: this.block(clause.childForFieldName('body'), depth), span: spanOf(clause) });
          }
        }
        return;
      }
      case 'with_statement': {
        const heads: Expr[] = [];
        const clause = node.namedChildren.find((c) => c?.type === 'with_clause');
        for (const item of clause?.namedChildren ?? []) {
          const value = item?.childForFieldName('value');
          if (value) heads.push(this.expr(value.type === 'as_pattern' ? (value.namedChildren[0] ?? value) : value, depth));
        }
        out.push({ kind: 'block', label: 'with', heads, body: this.block(node.childForFieldName('body'), depth), span });
        return;
      }
      case 'try_statement': {
        out.push({ kind: 'block', label: 'try', heads: [], body: this.block(node.childForFieldName('body'), depth), span });
        for (const clause of node.namedChildren) {
          if (clause && (clause.type === 'except_clause' || clause.type === 'finally_clause' || clause.type === 'else_clause')) {
            const body = clause.namedChildren.find((c) => c?.type === 'block') ?? null;
            out.push({ kind: 'block', label: 'try', heads: [], body: this.block(body, depth), span: spanOf(clause) });
          }
        }
        return;
      }
      case 'return_statement': {
        const value = node.namedChildren[0];
        out.push({ kind: 'return', value: value ? this.expr(value, depth) : undefined, span });
        return;
      }
      case 'import_statement': {
        for (const child of node.namedChildren) {
          if (!child) continue;
          if (child.type === 'aliased_import') {
            const module = child.childForFieldName('name')?.text ?? '';
            out.push({ kind: 'import', module, names: [{ name: module, alias: child.childForFieldName('alias')?.text ?? module }], span });
          } else if (child.type === 'dotted_name') {
            const module = child.text;
            out.push({ kind: 'import', module, names: [{ name: module, alias: module.split('.')[0] }], span });
          }
        }
        return;
      }
      case 'import_from_statement': {
        const module = node.childForFieldName('module_name')?.text ?? '';
        const names: { name: string; alias: string }[] = [];
        for (const child of node.childrenForFieldName('name')) {
          if (!child) continue;
          if (child.type === 'aliased_import') {
            const name = child.childForFieldName('name')?.text ?? '';
            names.push({ name, alias: child.childForFieldName('alias')?.text ?? name });
          } else names.push({ name: child.text, alias: child.text });
        }
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
    const targets: Expr[] = [];
    let current: SyntaxNode | null = node;
    let value: SyntaxNode | null = null;
    // `a = b = v` nests as assignment(a, assignment(b, v)).
    while (current && current.type === 'assignment') {
      const left = current.childForFieldName('left');
      if (left) targets.push(this.expr(left, depth));
      value = current.childForFieldName('right');
      current = value;
    }
    if (!value) return; // annotation only: `x: int`
    out.push({ kind: 'assign', targets, value: this.expr(value, depth), span: spanOf(node) });
  }

  private params(node: SyntaxNode | null, depth: number): Param[] {
    const params: Param[] = [];
    for (const child of node?.namedChildren ?? []) {
      if (!child) continue;
      let nameNode: SyntaxNode | null = null;
      let def: SyntaxNode | null = null;
      if (child.type === 'identifier') nameNode = child;
      else if (child.type === 'default_parameter' || child.type === 'typed_default_parameter') {
        nameNode = child.childForFieldName('name');
        def = child.childForFieldName('value');
      } else if (child.type === 'typed_parameter') nameNode = child.namedChildren.find((c) => c?.type === 'identifier') ?? null;
      else if (child.type === 'list_splat_pattern' || child.type === 'dictionary_splat_pattern') nameNode = child.namedChildren[0] ?? null;
      if (nameNode) params.push({ name: nameNode.text, span: spanOf(nameNode), default: def ? this.expr(def, depth) : undefined });
    }
    return params;
  }

  expr(node: SyntaxNode, depth: number): Expr {
    const span = spanOf(node);
    if (depth > MAX_DEPTH) {
      this.truncated = true;
      return other(node);
    }
    const d = depth + 1;
    switch (node.type) {
      case 'identifier':
        return { kind: 'name', name: node.text, span };
      case 'integer':
      case 'float':
        return { kind: 'num', value: parseNumber(node.text), span };
      case 'string':
        return { kind: 'str', value: stringValue(node.text), span };
      case 'concatenated_string':
        return { kind: 'str', value: node.text, span };
      case 'true':
      case 'false':
      case 'none':
        return { kind: 'name', name: node.type === 'none' ? 'None' : node.type === 'true' ? 'True' : 'False', span };
      case 'parenthesized_expression': {
        const inner = node.namedChildren.find((c) => c && c.type !== 'comment');
        return inner ? this.expr(inner, d) : other(node);
      }
      case 'attribute': {
        const object = node.childForFieldName('object');
        const attr = node.childForFieldName('attribute');
        if (!object || !attr) return other(node);
        return { kind: 'attr', object: this.expr(object, d), name: attr.text, span };
      }
      case 'subscript': {
        const value = node.childForFieldName('value');
        if (!value) return other(node);
        const index = node.childrenForFieldName('subscript').filter((c): c is SyntaxNode => !!c).map((c) => this.expr(c, d));
        return { kind: 'index', object: this.expr(value, d), index, span };
      }
      case 'call': {
        const fn = node.childForFieldName('function');
        const argsNode = node.childForFieldName('arguments');
        if (!fn) return other(node);
        const args: Expr[] = [];
        const kwargs: KeywordArg[] = [];
        if (argsNode?.type === 'generator_expression') args.push(this.expr(argsNode, d));
        else
          for (const a of argsNode?.namedChildren ?? []) {
            if (!a || a.type === 'comment') continue;
            if (a.type === 'keyword_argument') {
              const name = a.childForFieldName('name');
              const value = a.childForFieldName('value');
              if (name && value) kwargs.push({ name: name.text, value: this.expr(value, d) });
            } else args.push(this.expr(a, d));
          }
        return { kind: 'call', callee: this.expr(fn, d), args, kwargs, span };
      }
      case 'binary_operator': {
        const op = node.childForFieldName('operator')?.type ?? '';
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        if (!left || !right) return other(node);
        if (!binaryOps.has(op)) return other(node, [this.expr(left, d), this.expr(right, d)]);
        return { kind: 'binary', op: op as BinaryOp, left: this.expr(left, d), right: this.expr(right, d), span };
      }
      case 'unary_operator': {
        const op = node.childForFieldName('operator')?.type ?? '';
        const arg = node.childForFieldName('argument');
        if (!arg) return other(node);
        if (op === '-' || op === '+' || op === '~') return { kind: 'unary', op, arg: this.expr(arg, d), span };
        return other(node, [this.expr(arg, d)]);
      }
      case 'not_operator': {
        const arg = node.childForFieldName('argument');
        return arg ? { kind: 'unary', op: 'not', arg: this.expr(arg, d), span } : other(node);
      }
      case 'lambda': {
        const body = node.childForFieldName('body');
        return { kind: 'lambda', params: this.params(node.childForFieldName('parameters'), d), body: body ? this.expr(body, d) : undefined, stmts: [], span };
      }
      case 'list_comprehension':
      case 'generator_expression':
      case 'set_comprehension': {
        const body = node.childForFieldName('body');
        const generators = node.namedChildren
          .filter((c): c is SyntaxNode => c?.type === 'for_in_clause')
          .map((c) => {
            const left = c.childForFieldName('left');
            const right = c.childForFieldName('right');
            return { target: left ? this.expr(left, d) : other(c), iter: right ? this.expr(right, d) : other(c) };
          });
        if (!body) return other(node);
        return { kind: 'comprehension', element: this.expr(body, d), generators, span };
      }
      case 'list':
      case 'tuple':
      case 'expression_list':
      case 'pattern_list':
      case 'tuple_pattern':
      case 'list_pattern':
        return { kind: 'seq', items: node.namedChildren.filter((c): c is SyntaxNode => !!c && c.type !== 'comment').map((c) => this.expr(c, d)), span };
      case 'conditional_expression': {
        const [then, test, otherwise] = node.namedChildren.filter((c): c is SyntaxNode => !!c && c.type !== 'comment');
        if (!then || !test || !otherwise) return other(node);
        return { kind: 'cond', test: this.expr(test, d), then: this.expr(then, d), else: this.expr(otherwise, d), span };
      }
      case 'dictionary': {
        const entries: KeywordArg[] = [];
        for (const pair of node.namedChildren) {
          if (pair?.type !== 'pair') continue;
          const key = pair.childForFieldName('key');
          const value = pair.childForFieldName('value');
          if (key && value) entries.push({ name: key.type === 'string' ? stringValue(key.text) : key.text, value: this.expr(value, d) });
        }
        return { kind: 'object', entries, span };
      }
      default:
        return other(
          node,
          node.namedChildren.filter((c): c is SyntaxNode => !!c && c.type !== 'comment').map((c) => this.expr(c, d)),
        );
    }
  }
}
