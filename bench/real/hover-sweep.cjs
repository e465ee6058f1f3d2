// node bench/real/hover-sweep.cjs OUT corpus:folder ... : the hover (its Unicode view, and any KaTeX error) at every
// finding of a corpora run (RUN, default /work/runs/s34g; ROOT: the tree whose out/ is used). Notebooks are skipped.
const root = process.env.ROOT || require('path').resolve(__dirname, '../..');
const eng = require(root + '/out/server/engine/index.js');
const { explainAt } = require(root + '/out/server/engine/explain.js');
const { explanationToMarkdown } = require(root + '/out/server/lsp/hoverMarkdown.js');
const { texOf } = require(root + '/out/test/hover/helpers.js');
const katex = require(root + '/node_modules/katex');
const fs = require('fs'), path = require('path');
const RUN = process.env.RUN || '/work/runs/s34g';
function readable(ex) {
  const o = [];
  o.push('TITLE ' + ex.title);
  if (ex.computed) o.push('COMPUTED ' + ex.computed.unicode + (ex.computed.legend.length ? '   [' + ex.computed.legend.map((l) => `${l.unicode}=${l.code}`).join(', ') + ']' : ''));
  for (const f of ex.findings) {
    o.push(`FINDING ${f.code}${f.correctUnicode ? ' | ' + (f.correctLabel ?? 'Correct update') + ': ' + f.correctUnicode : ''}${f.expected ? ' | expected: ' + f.expected : ''}${f.alternative ? ' | or: ' + f.alternative : ''}`);
  }
  if (ex.equivalentForms) o.push('EQUIV ' + ex.equivalentForms.lossUnicode + ' ~ ' + ex.equivalentForms.updateUnicode);
  if (ex.penalty) o.push('PENALTY ' + ex.penalty.unicode + ' ; ' + ex.penalty.gradientUnicode);
  if (ex.optimizer) o.push('OPTIMIZER ' + ex.optimizer.name + ': ' + ex.optimizer.unicode.join(' ; '));
  const s = ex.optimizerStep;
  if (s) {
    o.push('STEP ' + s.title);
    for (const l of s.lines) o.push('   ' + l.unicode);
    for (const c of s.corrections) o.push(`   CORRECTED ${c.code}: ${c.unicode}`);
    if (s.textbook) o.push('   TEXTBOOK ' + s.textbook.unicode.join(' ; '));
    o.push('   LEGEND ' + s.legend.map((l) => `${l.unicode}=${l.code}`).join(', '));
  }
  return o.join('\n');
}
(async () => {
  await eng.initEngine();
  const [out, ...corpora] = process.argv.slice(2);
  const lines = [];
  let n = 0, none = 0, katexErr = 0;
  for (const spec of corpora) {
    const [corpus, folder] = spec.split(':');
    for (const j of fs.readdirSync(path.join(RUN, corpus)).filter((f) => f.endsWith('.json')).sort()) {
      let d; try { d = JSON.parse(fs.readFileSync(path.join(RUN, corpus, j), 'utf8')); } catch { continue; }
      const repo = j.replace(/\.json$/, '');
      for (const g of d.diagnostics ?? []) {
        n++;
        const file = path.join(folder, repo, g.file);
        let text; try { text = fs.readFileSync(file, 'utf8'); } catch { lines.push(`### ${corpus} ${repo} ${g.file}:${g.line} ${g.code} (file missing)`); continue; }
        const isNb = file.endsWith('.ipynb');
        const L = text.split('\n');
        let off = 0; for (let i = 0; i < g.line - 1; i++) off += L[i].length + 1;
        off += Math.max(0, g.column - 1);
        lines.push(`### ${corpus} ${repo} ${g.file}:${g.line}:${g.column} ${g.code}`);
        lines.push('MSG ' + g.message);
        lines.push('CODE ' + (L[g.line - 1] ?? '').trim());
        if (isNb) { lines.push('(notebook: skipped)'); continue; }
        const lang = /\.py$/.test(file) ? 'python' : /\.tsx$/.test(file) ? 'tsx' : /\.ts$/.test(file) ? 'typescript' : 'javascript';
        let ex;
        try { ex = explainAt(text, { language: lang }, off, (e) => lines.push('ERROR ' + e)); } catch (e) { lines.push('CRASH ' + e); continue; }
        if (!ex) { none++; lines.push('NO EXPLANATION'); continue; }
        lines.push(readable(ex));
        for (const t of texOf(ex)) {
          try { katex.renderToString(t, { throwOnError: true, strict: 'error' }); } catch (e) { katexErr++; lines.push('KATEX ERROR ' + String(e.message).slice(0, 200) + ' IN ' + t); }
        }
        const md = explanationToMarkdown(ex);
        if (md.length > 90000) lines.push('MARKDOWN TOO LONG ' + md.length);
      }
    }
  }
  lines.push(`TOTAL ${n} no-explanation ${none} katex-errors ${katexErr}`);
  fs.writeFileSync(out, lines.join('\n') + '\n');
  console.log(`TOTAL ${n} no-explanation ${none} katex-errors ${katexErr}`);
})();
