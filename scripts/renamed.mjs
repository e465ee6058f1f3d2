#!/usr/bin/env node
// Do the rules decide by data flow? Renames every name a firing fixture binds and compares findings.
//
//   node scripts/renamed.mjs [--mode neutral|plausible|both] [--out DIR] [--only NB101,projects] [--prefilter]
//                            [--attribute] [--cli path/to/dist/cli.js]
//
// For each firing fixture (test/fixtures/NB*/ files not named correct_*, and the project folders
// under test/fixtures/projects/ whose name does not end in -correct) it writes a copy in which every
// name the fixture itself binds is renamed consistently: functions, classes, parameters, assigned
// variables, loop and comprehension targets, `with … as` and `except … as` names, attributes the file
// assigns (`self.X = …`, `this.X = …`, class-body names, methods, keys of object literals the file
// builds for itself), and keyword names of calls to functions the fixture defines. It never renames
// what comes from outside: imported modules and names, builtins and globals the file does not bind,
// attributes read on those (`np.sum`, `torch.optim.SGD`), keyword names of library calls
// (`weight_decay=`), string contents, and the few framework hooks and attributes of FRAMEWORK_*
// below (`forward`, `.grad`, `.data`, `.weight`...) where renaming would change what the code means.
// Names are found with the engine's own parser (out/server/engine/parse.js, so build first); a
// renamed copy keeps every line where it was, so findings compare by rule and line.
//
// Modes: `neutral` renames to q1, q2, …; `plausible` renames only the names of a fixed table of
// shapes (weights, gradients, strengths, learning rates, state, losses) to other names real code
// uses for them (W → theta, reg → gamma, lr → eta, dW → delta, grad → g_acc, lam → sw).
// The CLI runs on the originals and the copies with NABLA_FULL_ANALYSIS=1 (the fast path off; with
// --prefilter, on, which measures what the prefilter's seeds lose as well). Writes DIR/report.json
// and prints a per-rule table and the lost findings.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { initParsers, parse } = require(path.join(root, 'out/server/engine/parse.js'));

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
// `--mode categories`: one neutral renaming per row of PLAUSIBLE (weights, gradients, strengths, learning
// rates, state, losses) and one of every other name: which kind of name the lost findings hang on.
const modeArg = opt('--mode', 'both');
const modes = modeArg === 'both' ? ['neutral', 'plausible'] : modeArg === 'categories' ? ['cat-weights', 'cat-gradients', 'cat-strengths', 'cat-rates', 'cat-state', 'cat-losses', 'cat-other'] : modeArg.split(',');
const CATEGORY_ROWS = { 'cat-weights': 0, 'cat-gradients': 1, 'cat-strengths': 2, 'cat-rates': 3, 'cat-state': 4, 'cat-losses': 5 };
const outDir = path.resolve(opt('--out', '/tmp/nabla-renamed'));
const only = opt('--only', '')?.split(',').filter(Boolean) ?? [];
const prefilter = args.includes('--prefilter');
/** The CLI to measure (default: this tree's dist/cli.js); a stable copy keeps a rebuild from changing it mid-run. */
const cli = path.resolve(opt('--cli', path.join(root, 'dist/cli.js')));

// ---------------------------------------------------------------- what is never renamed
const PY_BUILTINS = new Set(
  `abs all any ascii bin bool breakpoint bytearray bytes callable chr classmethod compile complex delattr dict dir divmod
  enumerate eval exec filter float format frozenset getattr globals hasattr hash help hex id input int isinstance issubclass
  iter len list locals map max memoryview min next object oct open ord pow print property range repr reversed round set
  setattr slice sorted staticmethod str sum super tuple type vars zip __import__ __name__ __file__ __doc__ True False None
  Exception ValueError TypeError KeyError IndexError RuntimeError NotImplementedError AssertionError StopIteration
  NotImplemented Ellipsis self cls`.split(/\s+/),
);
// JS names that are the language's, whatever the file does with them.
const JS_KEEP = new Set(`constructor prototype arguments undefined exports module require length`.split(/\s+/));
/** Methods a framework calls by name (renaming one changes what runs). Kept in classes with a base from outside. */
const FRAMEWORK_HOOKS = new Set(
  `forward call build step zero_grad backward get_config from_config get_updates apply_gradients _resource_apply_dense
  _resource_apply_sparse _create_slots update_step build_optimizer train_step test_step compute_gradients minimize
  get_gradients compute_output_shape add_loss add_weight init update apply getClassName computeOutputShape
  applyGradients minimize getConfig predict fit __call__ setup training_step configure_optimizers`.split(/\s+/),
);
/** Attributes a framework gives its objects; never renamed even where the file assigns them. */
const FRAMEWORK_ATTRS = new Set(
  `weight bias data grad kernel param_groups state defaults training trainable_variables trainable_weights losses
  shape dtype T value requires_grad params regularizer kernel_regularizer kernelRegularizer name built
  iterations learning_rate lr`.split(/\s+/),
);

// ---------------------------------------------------------------- plausible names
/** Shapes of names and the other names real code gives the same thing. */
const PLAUSIBLE = [
  [/^(W|w|W\d|w\d|weights?|theta|Theta|params?|param_\w+|coef\w*|kernel\w*)$/, ['theta', 'zeta', 'A', 'U', 'Q', 'coeffs', 'theta_k']],
  [/^(dW\d?|dw\d?|d_?[Ww]\w*|grads?|gradient|gradients|g|dtheta|grad_\w+|\w+_grad)$/, ['delta', 'g_acc', 'upd', 'dz', 'nabla', 'ddelta']],
  [/^(reg|lam|lamb|lambd|lambda_|lmbda|l2|l2_reg|reg_\w+|\w+_reg|weight_decay|wd|decay|l2_lambda|alpha_reg|regularization\w*|penalty_\w+)$/, ['gamma', 'sw', 'kappa', 'rho', 'mu_', 'c_']],
  [/^(lr|learning_rate|eta|step_size|alpha|learningRate|stepSize)$/, ['eta', 'h', 'rate', 'tau', 'nu']],
  [/^(v|vel|velocity|momentum|cache|mom|buf|m_\w+|v_\w+|s)$/, ['acc', 'z', 'trace', 'mem', 'r']],
  [/^(loss|cost|J|total_loss|objective|data_loss|reg_loss)$/, ['obj', 'E', 'err', 'f_val']],
];

// ---------------------------------------------------------------- fixtures
function firingFixtures() {
  const fx = path.join(root, 'test/fixtures');
  const out = [];
  for (const dir of fs.readdirSync(fx).sort()) {
    if (/^NB\d+$/.test(dir)) {
      if (only.length && !only.includes(dir)) continue;
      for (const f of fs.readdirSync(path.join(fx, dir)).sort())
        if (!f.startsWith('correct_') && /\.(py|js|ts|tsx|mjs|cjs)$/.test(f)) out.push({ id: `${dir}/${f}`, files: [`${dir}/${f}`] });
    } else if (dir === 'projects' && (!only.length || only.includes('projects'))) {
      for (const p of fs.readdirSync(path.join(fx, dir)).sort()) {
        if (p.endsWith('-correct') || p.includes('-correct')) continue;
        const files = [];
        const walk = (rel) => {
          for (const e of fs.readdirSync(path.join(fx, rel), { withFileTypes: true }))
            if (e.isDirectory()) walk(`${rel}/${e.name}`);
            else files.push(`${rel}/${e.name}`);
        };
        walk(`projects/${p}`);
        out.push({ id: `projects/${p}`, files });
      }
    }
  }
  return out;
}

const languageOf = (f) => (f.endsWith('.py') ? 'python' : f.endsWith('.tsx') ? 'tsx' : f.endsWith('.ts') ? 'typescript' : /\.(js|mjs|cjs|jsx)$/.test(f) ? 'javascript' : undefined);

function* nodes(n) {
  const stack = [n];
  while (stack.length) {
    const x = stack.pop();
    yield x;
    for (let i = x.childCount - 1; i >= 0; i--) stack.push(x.child(i));
  }
}
const field = (n, f) => n.childForFieldName(f);

/** The leftmost primary of an attribute / member / subscript / call chain. */
function chainRoot(n) {
  for (;;) {
    if (n.type === 'attribute' || n.type === 'member_expression' || n.type === 'subscript' || n.type === 'subscript_expression')
      n = field(n, 'object') ?? field(n, 'value') ?? n.child(0);
    else if (n.type === 'call' || n.type === 'call_expression') n = field(n, 'function');
    else if (n.type === 'parenthesized_expression') n = n.namedChild(0);
    else return n;
    if (!n) return undefined;
  }
}

// ---------------------------------------------------------------- what a file binds
/** Names bound by one file, its external imports, and its project imports. */
function bindings(tree, lang) {
  const vars = new Set(); // names bound as variables, functions, classes, parameters
  const attrs = new Set(); // attribute names the file assigns or defines
  const external = new Set(); // names imported from outside the project
  const fnParams = new Map(); // function or class name -> its parameter names
  const keptMethods = new Set(); // framework hooks of classes with an outside base
  const classes = new Map(); // class name -> its base nodes
  const pattern = (n, into = vars) => {
    if (!n) return;
    switch (n.type) {
      case 'identifier':
      case 'shorthand_property_identifier_pattern':
        into.add(n.text);
        return;
      case 'attribute':
      case 'member_expression': {
        const o = field(n, 'object');
        const a = field(n, 'attribute') ?? field(n, 'property');
        if (o && a && (o.text === 'self' || o.type === 'this' || o.text === 'cls')) attrs.add(a.text);
        return;
      }
      case 'subscript':
      case 'subscript_expression':
        return;
      case 'pair_pattern':
        pattern(field(n, 'value'));
        return;
      case 'assignment_pattern':
        pattern(field(n, 'left'));
        return;
      case 'object_assignment_pattern':
        pattern(field(n, 'left'));
        return;
      default:
        for (const c of n.namedChildren) pattern(c);
    }
  };
  const params = (p, fname) => {
    if (!p) return;
    const names = new Set();
    for (const c of p.namedChildren) {
      let id = c;
      if (c.type === 'default_parameter' || c.type === 'typed_default_parameter') id = field(c, 'name');
      else if (c.type === 'typed_parameter') id = c.namedChildren.find((x) => x.type === 'identifier') ?? c.namedChild(0);
      else if (c.type === 'required_parameter' || c.type === 'optional_parameter') id = field(c, 'pattern');
      else if (c.type === 'assignment_pattern') id = field(c, 'left');
      pattern(id, names);
      pattern(id);
    }
    if (fname) fnParams.set(fname, new Set([...(fnParams.get(fname) ?? []), ...names]));
  };
  for (const n of nodes(tree.rootNode)) {
    switch (n.type) {
      // --- Python
      case 'function_definition': {
        const name = field(n, 'name');
        const cls = enclosingClass(n);
        if (cls) attrs.add(name.text);
        else vars.add(name.text);
        params(field(n, 'parameters'), name.text);
        if (name.text === '__init__' && cls) params(field(n, 'parameters'), field(cls, 'name')?.text);
        break;
      }
      case 'class_definition':
      case 'class_declaration':
      case 'class':
      case 'abstract_class_declaration': {
        const name = field(n, 'name');
        if (name) vars.add(name.text);
        const bases = [];
        for (const c of nodes(n)) {
          if (c === n) continue;
          if (c.type === 'argument_list' && c.parent === n) bases.push(...c.namedChildren);
          if (c.type === 'class_heritage' && c.parent === n) bases.push(...c.namedChildren);
          if (c.type === 'class_body' || c.type === 'block') break;
        }
        if (name) classes.set(name.text, bases);
        break;
      }
      case 'lambda':
        params(field(n, 'parameters'));
        break;
      case 'assignment':
      case 'augmented_assignment':
        pattern(field(n, 'left'));
        if (n.type === 'assignment' && n.parent?.parent?.type === 'block' && n.parent.parent.parent?.type === 'class_definition') {
          const l = field(n, 'left');
          if (l?.type === 'identifier') attrs.add(l.text);
        }
        break;
      case 'for_statement':
      case 'for_in_clause':
        pattern(field(n, 'left'));
        break;
      case 'as_pattern': {
        const alias = field(n, 'alias');
        if (alias) pattern(alias);
        break;
      }
      case 'named_expression':
        pattern(field(n, 'name'));
        break;
      case 'import_statement':
      case 'import_from_statement': {
        const mod = field(n, 'module_name');
        const projectModule = mod && mod.type === 'relative_import';
        for (const c of n.namedChildren) {
          if (c === mod) continue;
          const local = c.type === 'aliased_import' ? field(c, 'alias') : c.type === 'dotted_name' ? c.namedChild(0) : c;
          if (!local) continue;
          if (projectModule) vars.add(local.text);
          else external.add(local.text);
        }
        break;
      }
      // --- JS / TS
      case 'function_declaration':
      case 'generator_function_declaration':
      case 'function_expression':
      case 'function': {
        const name = field(n, 'name');
        if (name) vars.add(name.text);
        params(field(n, 'parameters'), name?.text ?? declaredName(n));
        break;
      }
      case 'arrow_function': {
        const p = field(n, 'parameter');
        if (p) pattern(p);
        params(field(n, 'parameters'));
        break;
      }
      case 'method_definition': {
        const name = field(n, 'name');
        if (name && name.text !== 'constructor') attrs.add(name.text);
        params(field(n, 'parameters'), name?.text);
        if (name?.text === 'constructor') {
          const cls = enclosingClass(n);
          const cname = cls && field(cls, 'name')?.text;
          if (cname) params(field(n, 'parameters'), cname);
        }
        break;
      }
      case 'public_field_definition':
      case 'field_definition': {
        const name = field(n, 'name') ?? field(n, 'property');
        if (name && name.type === 'property_identifier') attrs.add(name.text);
        break;
      }
      case 'variable_declarator': {
        const name = field(n, 'name');
        const value = field(n, 'value');
        const required = value && requiredModule(value);
        if (typeof required === 'string' && !required.startsWith('.')) {
          if (name?.type === 'identifier') external.add(name.text);
          else if (name) pattern(name, external);
        } else pattern(name);
        break;
      }
      case 'assignment_expression':
      case 'augmented_assignment_expression':
        pattern(field(n, 'left'));
        break;
      case 'for_in_statement':
        pattern(field(n, 'left'));
        break;
      case 'catch_clause':
        pattern(field(n, 'parameter'));
        break;
      case 'pair': {
        const k = field(n, 'key');
        if (k?.type === 'property_identifier' && ownObject(n.parent)) attrs.add(k.text);
        break;
      }
      case 'import_statement_js':
        break;
      case 'import_clause':
      case 'namespace_import':
      case 'named_imports': {
        const stmt = n.parent?.type === 'import_statement' ? n.parent : n.parent?.parent;
        const src = stmt && field(stmt, 'source');
        const rel = src && /^['"]\./.test(src.text);
        for (const c of nodes(n)) {
          if (c.type !== 'identifier') continue;
          if (c.parent.type === 'import_specifier' && field(c.parent, 'alias') && field(c.parent, 'name') === c) continue;
          if (rel) vars.add(c.text);
          else external.add(c.text);
        }
        break;
      }
    }
  }
  // Classes whose base comes from outside keep their framework hooks.
  const outsideBase = (name, seen = new Set()) => {
    if (seen.has(name)) return false;
    seen.add(name);
    for (const b of classes.get(name) ?? []) {
      const r = chainRoot(b.type === 'class_heritage' ? b.namedChild(0) : b);
      const t = (b.type === 'keyword_argument' ? '' : b.text).replace(/^extends\s+/, '');
      if (!t || t === 'object') continue;
      if (classes.has(t)) {
        if (outsideBase(t, seen)) return true;
      } else if (r) return true;
    }
    return false;
  };
  for (const [name] of classes) if (outsideBase(name)) for (const h of FRAMEWORK_HOOKS) keptMethods.add(h);
  return { vars, attrs, external, fnParams, keptMethods, classes };
}

function enclosingClass(n) {
  let p = n.parent;
  while (p && (p.type === 'block' || p.type === 'class_body' || p.type === 'decorated_definition')) p = p.parent;
  return p && (p.type === 'class_definition' || p.type === 'class_declaration' || p.type === 'class' || p.type === 'abstract_class_declaration') ? p : undefined;
}
function declaredName(fn) {
  const p = fn.parent;
  if (p?.type === 'variable_declarator') return field(p, 'name')?.text;
  if (p?.type === 'assignment_expression') {
    const l = field(p, 'left');
    return l?.type === 'member_expression' ? field(l, 'property')?.text : l?.text;
  }
  if (p?.type === 'pair') return field(p, 'key')?.text;
  return undefined;
}
function requiredModule(value) {
  let v = value;
  while (v && (v.type === 'member_expression' || v.type === 'await_expression')) v = v.namedChild(0);
  if (v?.type === 'call_expression' && field(v, 'function')?.text === 'require') {
    const a = field(v, 'arguments')?.namedChild(0);
    if (a?.type === 'string') return a.text.slice(1, -1);
  }
  return undefined;
}
/** An object literal the file builds for itself: not one handed straight to a call of outside code. */
function ownObject(obj) {
  let p = obj?.parent;
  while (p && (p.type === 'parenthesized_expression' || p.type === 'pair' || p.type === 'object' || p.type === 'array')) p = p.parent;
  if (p?.type === 'arguments') return 'maybe';
  return true;
}

// ---------------------------------------------------------------- renaming
class Namer {
  constructor(mode, texts) {
    this.mode = mode;
    this.map = new Map();
    this.used = new Set();
    for (const t of texts) for (const m of t.matchAll(/[A-Za-z_$][\w$]*/g)) this.used.add(m[0]);
    this.n = 0;
  }
  name(orig) {
    let got = this.map.get(orig);
    if (got !== undefined) return got;
    if (typeof this.mode === 'object') {
      got = this.mode[orig] ?? orig; // attribution: one fixed renaming, the rest unchanged
    } else if (this.mode.startsWith('cat-')) {
      const row = CATEGORY_ROWS[this.mode];
      const hit = row === undefined ? !PLAUSIBLE.some(([re]) => re.test(orig)) : PLAUSIBLE[row][0].test(orig);
      if (!hit) got = orig;
      else do got = `q${++this.n}`;
      while (got !== orig && this.used.has(got));
    } else if (this.mode === 'neutral') {
      do got = `q${++this.n}`;
      while (this.used.has(got));
    } else {
      const row = PLAUSIBLE.find(([re]) => re.test(orig));
      if (!row) got = orig;
      else {
        got = row[1].find((c) => !this.used.has(c));
        for (let k = 2; !got; k++) got = row[1].map((c) => `${c}${k}`).find((c) => !this.used.has(c));
      }
    }
    this.used.add(got);
    this.map.set(orig, got);
    return got;
  }
}

function renameProject(files, mode) {
  // One mapping for the whole folder, so a name imported from another project file stays the same.
  const parsed = files.map(({ rel, text }) => {
    const lang = languageOf(rel);
    if (!lang) return { rel, text };
    const tree = parse(text, lang);
    return { rel, text, lang, tree, b: bindings(tree, lang) };
  });
  const external = new Set();
  const vars = new Set();
  const attrs = new Set();
  const kept = new Set();
  const fnParams = new Map();
  const projectClasses = new Set();
  for (const p of parsed) {
    if (!p.b) continue;
    for (const x of p.b.external) external.add(x);
    for (const x of p.b.vars) vars.add(x);
    for (const x of p.b.attrs) attrs.add(x);
    for (const x of p.b.keptMethods) kept.add(x);
    for (const [k, v] of p.b.fnParams) fnParams.set(k, new Set([...(fnParams.get(k) ?? []), ...v]));
    for (const k of p.b.classes.keys()) projectClasses.add(k);
  }
  const keep = (n) => PY_BUILTINS.has(n) || JS_KEEP.has(n) || /^__\w+__$/.test(n) || external.has(n);
  const varOk = (n) => vars.has(n) && !keep(n);
  const attrOk = (n) => attrs.has(n) && !keep(n) && !FRAMEWORK_ATTRS.has(n) && !kept.has(n);
  const namer = new Namer(mode, files.map((f) => f.text));
  const out = [];
  for (const p of parsed) {
    if (!p.tree) {
      out.push({ rel: p.rel, text: p.text });
      continue;
    }
    const edits = [];
    const rootOk = (obj) => {
      const r = chainRoot(obj);
      if (!r) return true;
      if (r.type === 'this' || r.type === 'super') return true;
      if (r.type === 'call' || r.type === 'call_expression') return true;
      if (r.type === 'identifier') return r.text === 'self' || r.text === 'cls' || varOk(r.text);
      return !['string', 'template_string'].includes(r.type);
    };
    const calleeOwn = (call) => {
      const f = field(call, 'function');
      if (!f) return undefined;
      if (f.type === 'identifier') return varOk(f.text) ? f.text : undefined;
      if (f.type === 'attribute') {
        const a = field(f, 'attribute');
        const o = field(f, 'object');
        if (o?.type === 'call' && field(o, 'function')?.text === 'super') {
          const cls = enclosingClass(enclosingFunction(call) ?? call);
          const bases = cls ? (p.b.classes.get(field(cls, 'name')?.text) ?? []) : [];
          if (!bases.length || bases.some((b) => !projectClasses.has(b.text))) return undefined;
          return a.text;
        }
        return rootOk(o) && attrOk(a.text) ? a.text : undefined;
      }
      return undefined;
    };
    for (const n of nodes(p.tree.rootNode)) {
      const t = n.type;
      if (t === 'identifier' || t === 'type_identifier') {
        const par = n.parent;
        if (!par) continue;
        // Python: attribute names, keyword names, import module paths
        if (par.type === 'attribute' && field(par, 'attribute')?.equals(n)) {
          if (attrOk(n.text) && rootOk(field(par, 'object'))) edits.push([n, namer.name(n.text)]);
          continue;
        }
        if (par.type === 'keyword_argument' && field(par, 'name')?.equals(n)) {
          const call = par.parent?.parent;
          const own = call?.type === 'call' ? calleeOwn(call) : undefined;
          const ps = own && (fnParams.get(own) ?? fnParams.get('__init__'));
          if (own && ps?.has(n.text) && varOk(n.text)) edits.push([n, namer.name(n.text)]);
          continue;
        }
        if (par.type === 'dotted_name' && (par.parent?.type === 'import_statement' || par.parent?.type === 'import_from_statement' || par.parent?.type === 'aliased_import' || par.parent?.type === 'relative_import')) {
          // module paths stay; a name imported from a project module is renamed
          const stmt = par.parent.type === 'aliased_import' ? par.parent.parent : par.parent;
          const isModule = field(stmt, 'module_name')?.equals(par) || stmt.type === 'import_statement' || par.parent.type === 'relative_import';
          if (!isModule && varOk(n.text)) edits.push([n, namer.name(n.text)]);
          continue;
        }
        if (par.type === 'import_specifier' || par.type === 'import_clause' || par.type === 'namespace_import') {
          if (varOk(n.text)) {
            if (par.type === 'import_specifier' && !field(par, 'alias')) edits.push([n, `${n.text} as ${namer.name(n.text)}`]);
            else if (!(par.type === 'import_specifier' && field(par, 'name')?.equals(n))) edits.push([n, namer.name(n.text)]);
          }
          continue;
        }
        if (t === 'type_identifier' && !p.b.classes.has(n.text)) continue;
        if (varOk(n.text)) edits.push([n, namer.name(n.text)]);
        continue;
      }
      if (t === 'property_identifier' || t === 'private_property_identifier') {
        const par = n.parent;
        if (par?.type === 'member_expression') {
          if (attrOk(n.text) && rootOk(field(par, 'object'))) edits.push([n, namer.name(n.text)]);
        } else if (par?.type === 'method_definition' || par?.type === 'public_field_definition' || par?.type === 'field_definition') {
          if (attrOk(n.text)) edits.push([n, namer.name(n.text)]);
        } else if (par?.type === 'pair' && field(par, 'key')?.equals(n)) {
          if (attrOk(n.text) && ownObject(par.parent) === true) edits.push([n, namer.name(n.text)]);
        } else if (par?.type === 'pair_pattern' && field(par, 'key')?.equals(n)) {
          // a destructured key keeps its name; its value is the binding
        }
        continue;
      }
      if (t === 'shorthand_property_identifier' || t === 'shorthand_property_identifier_pattern') {
        // `{W}` is the key W with the value W: keep the key, rename the value
        if (varOk(n.text)) {
          const key = attrOk(n.text) && ownObject(n.parent) === true ? namer.name(n.text) : n.text;
          const val = namer.name(n.text);
          if (key !== val || val !== n.text) edits.push([n, key === val ? val : `${key}: ${val}`]);
        }
        continue;
      }
    }
    edits.sort((a, b) => b[0].startIndex - a[0].startIndex);
    let text = p.text;
    let last = Infinity;
    for (const [node, name] of edits) {
      if (node.endIndex > last) continue;
      // byte offsets equal char offsets only for ASCII; tree-sitter's JS binding gives UTF-16 indices
      text = text.slice(0, node.startIndex) + name + text.slice(node.endIndex);
      last = node.startIndex;
    }
    const again = parse(text, p.lang);
    const broken = again.rootNode.hasError && !p.tree.rootNode.hasError;
    again.delete();
    p.tree.delete(); // WASM memory: the attribution pass parses thousands of copies
    out.push({ rel: p.rel, text, broken });
  }
  return { files: out, map: Object.fromEntries(namer.map) };
}

function enclosingFunction(n) {
  let p = n.parent;
  while (p && p.type !== 'function_definition') p = p.parent;
  return p;
}

// ---------------------------------------------------------------- run and compare
function runCli(dir) {
  const env = { ...process.env };
  if (!prefilter) env.NABLA_FULL_ANALYSIS = '1';
  const raw = execFileSync(process.execPath, [cli, 'check', dir, '--no-cache', '--no-config', '--exit-zero', '--format', 'json'], {
    env,
    maxBuffer: 1 << 28,
  }).toString();
  return JSON.parse(raw);
}

await initParsers();
const fixtures = firingFixtures();
fs.rmSync(outDir, { recursive: true, force: true });
const fxRoot = path.join(root, 'test/fixtures');
const maps = {};
const broken = [];
for (const tag of ['orig', ...modes]) {
  for (const f of fixtures) {
    const files = f.files.map((rel) => ({ rel, text: fs.readFileSync(path.join(fxRoot, rel), 'utf8') }));
    const res = tag === 'orig' ? { files } : renameProject(files, tag);
    if (tag !== 'orig') maps[`${tag}:${f.id}`] = res.map;
    for (const r of res.files) {
      if (r.broken) broken.push(`${tag}:${r.rel}`);
      const dest = path.join(outDir, tag, r.rel);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.writeFileSync(dest, r.text);
    }
  }
}
const results = {};
for (const tag of ['orig', ...modes]) results[tag] = runCli(path.join(outDir, tag));
const key = (d, tag) => path.relative(path.join(outDir, tag), d.file);
const fixtureOf = (rel) => fixtures.find((f) => f.files.includes(rel))?.id;
function findings(tag) {
  const by = new Map(); // fixture -> [rule:line:file]
  for (const d of results[tag].diagnostics) {
    const rel = key(d, tag);
    const id = fixtureOf(rel);
    if (!id) continue;
    if (!by.has(id)) by.set(id, []);
    by.get(id).push({ rule: d.code, line: d.line, rel, message: d.message });
  }
  return by;
}
const orig = findings('orig');
const notes = (tag) => new Set(results[tag].notices.filter((n) => n.kind === 'parse-error').map((n) => key(n, tag)));
const report = { modes: {}, broken };
const origNotes = notes('orig');
for (const tag of modes) {
  const renamed = findings(tag);
  const newNotes = [...notes(tag)].filter((n) => !origNotes.has(n));
  const perRule = {};
  const lost = [];
  const gained = [];
  for (const f of fixtures) {
    const o = orig.get(f.id) ?? [];
    const r = renamed.get(f.id) ?? [];
    const rk = new Map();
    for (const x of r) rk.set(`${x.rule}:${x.rel}:${x.line}`, (rk.get(`${x.rule}:${x.rel}:${x.line}`) ?? 0) + 1);
    const ok = new Map();
    for (const x of o) {
      const k = `${x.rule}:${x.rel}:${x.line}`;
      perRule[x.rule] ??= { fixtures: new Set(), lostIn: new Set() };
      perRule[x.rule].fixtures.add(f.id);
      ok.set(k, (ok.get(k) ?? 0) + 1);
      if ((rk.get(k) ?? 0) > 0) rk.set(k, rk.get(k) - 1);
      else {
        perRule[x.rule].lostIn.add(f.id);
        lost.push({ fixture: f.id, ...x });
      }
    }
    for (const x of r) {
      const k = `${x.rule}:${x.rel}:${x.line}`;
      if ((ok.get(k) ?? 0) > 0) ok.set(k, ok.get(k) - 1);
      else gained.push({ fixture: f.id, ...x });
    }
  }
  report.modes[tag] = {
    perRule: Object.fromEntries(Object.entries(perRule).sort().map(([k, v]) => [k, { fixtures: v.fixtures.size, kept: v.fixtures.size - v.lostIn.size, lost: [...v.lostIn] }])),
    lost,
    gained,
    newSyntaxNotes: newNotes,
  };
}
report.maps = maps;
fs.writeFileSync(path.join(outDir, 'report.json'), JSON.stringify(report, null, 1));
console.log(`fixtures: ${fixtures.length}; copies that no longer parse: ${broken.length} ${broken.slice(0, 20).join(' ')}`);
console.log(`rule   | firing fixtures | ${modes.map((m) => `kept (${m})`).join(' | ')}`);
const rules = [...new Set(modes.flatMap((m) => Object.keys(report.modes[m].perRule)))].sort();
for (const r of rules)
  console.log(`${r} | ${report.modes[modes[0]].perRule[r]?.fixtures ?? 0} | ${modes.map((m) => report.modes[m].perRule[r]?.kept ?? '-').join(' | ')}`);
for (const m of modes) {
  console.log(`\n## ${m}: ${report.modes[m].lost.length} lost, ${report.modes[m].gained.length} gained, new syntax notes: ${report.modes[m].newSyntaxNotes.join(' ') || 'none'}`);
  for (const x of report.modes[m].lost) console.log(`LOST ${x.rule} ${x.rel}:${x.line}  ${x.message.slice(0, 110)}`);
  for (const x of report.modes[m].gained) console.log(`GAINED ${x.rule} ${x.rel}:${x.line}  ${x.message.slice(0, 110)}`);
}

// ---------------------------------------------------------------- which name decided
// With --attribute, every fixture that lost a finding is renamed again one name at a time (the
// name's new name of that mode, nothing else), and each lost finding lists the names whose renaming
// alone loses it: the name that decided it.
if (args.includes('--attribute')) {
  const attrDir = path.join(outDir, 'attribution');
  const jobs = [];
  for (const tag of modes) {
    const lostBy = new Map();
    for (const x of report.modes[tag].lost) lostBy.set(x.fixture, [...(lostBy.get(x.fixture) ?? []), x]);
    for (const [id, lost] of lostBy) {
      const f = fixtures.find((y) => y.id === id);
      const files = f.files.map((rel) => ({ rel, text: fs.readFileSync(path.join(fxRoot, rel), 'utf8') }));
      const map = maps[`${tag}:${id}`];
      let k = 0;
      for (const [from, to] of Object.entries(map)) {
        if (from === to) continue;
        const dir = `${tag}-${k++}`;
        const res = renameProject(files, { [from]: to });
        for (const r of res.files) {
          const dest = path.join(attrDir, dir, r.rel);
          fs.mkdirSync(path.dirname(dest), { recursive: true });
          fs.writeFileSync(dest, r.text);
        }
        jobs.push({ tag, dir, from, to, lost });
      }
    }
  }
  const res = runCli(attrDir);
  const have = new Set(res.diagnostics.map((d) => {
    const rel = path.relative(attrDir, d.file);
    return `${rel}:${d.code}:${d.line}`;
  }));
  for (const tag of modes)
    for (const x of report.modes[tag].lost) {
      x.decidedBy = jobs.filter((j) => j.tag === tag && j.lost.includes(x) && !have.has(`${j.dir}/${x.rel}:${x.rule}:${x.line}`)).map((j) => `${j.from}→${j.to}`);
    }
  fs.writeFileSync(path.join(outDir, 'report.json'), JSON.stringify(report, null, 1));
  for (const m of modes) {
    console.log(`\n## ${m}: the name that decided each lost finding`);
    for (const x of report.modes[m].lost) console.log(`${x.rule} ${x.rel}:${x.line}  ${x.decidedBy.join(', ') || '(no single name: several together)'}`);
  }
}
