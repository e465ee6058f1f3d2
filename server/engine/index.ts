// The engine's public face: the CLI and the language server call only what is exported here.
import { syntaxErrorMessage } from './cellLines';
import { parseSteps, reusesKept, withoutKeptTrees, type DocumentAnalysis, type ParseCache, type ParsedFile } from './document';
import { mayHoldTrainingMath } from './prefilter';
import type { Module, Span } from './ir';
import { LineIndex } from './lineIndex';
import { collectErrors } from './lower/common';
import { initParsers, parse, ParseGaveUp, type WasmLoader } from './parse';
import { Program } from './program';
import type { Project } from './project';
import { linkVersions } from './functionReuse';
import { movedRun, runKey } from './earlyCutoff';
import { fileIdOf, looksBinary, makeSourceFile, type SourceFile } from './source';
import { runSteps, type Steps } from './stepwise';
import { applySuppressions, parseDirectives, suppressionEditor, UNUSED_SUPPRESSION, type SuppressionEditor } from './suppressions';
import { allRules } from '../rules';
import type { Report, ReportedMath, Rule } from '../rules/rule';
import type { Finding, FindingMath, LanguageId, LintOptions, LintOutcome, Notice, Range, RelatedInfo, Severity } from './types';

export type { CellLines, Finding, FindingMath, Fix, FixSafety, LanguageId, LintOptions, LintOutcome, Notice, Position, Range, RelatedInfo, Severity, TextEdit } from './types';
export { isDeclarationFile, languageForDocument, languageForLanguageId, languageForPath, lintedExtensions } from './languages';
export { allRules, ruleByCode, docsUrl } from '../rules';
export { suppressionEdit, UNUSED_SUPPRESSION, type SuppressionEditor } from './suppressions';
export { mayHoldTrainingMath } from './prefilter';
export { ParseCache, type DocumentAnalysis } from './document';
export { applicableFixes, applyEdits, selectFixes, type CellTextEdit } from './fixes';
export { PAGE_LEVELS_UP, Project, type ProjectHost, type ProjectOptions } from './project';
export type { WasmLoader } from './parse';
export { cellLines, codeCells, lintCells, locateRange, concatenateCells, parseIpynb, replaceIpynbSources, toNotebookFinding } from './notebook';
export type { CellLabel, CellLayout, CellSource, ConcatenatedNotebook, NotebookFinding, NotebookOutcome } from './notebook';

/**
 * Files larger than this are skipped with a notice (1 MiB). Hand-written training code is far
 * smaller; multi-megabyte sources are generated or vendored and would only cost time.
 */
export const DEFAULT_MAX_FILE_SIZE = 1024 * 1024;

/**
 * Loads the WASM parsers. Await once before calling `lintText`. `load` gives the bytes of a WASM
 * file by name (a browser worker fetches them from the extension); without it they are read from disk.
 */
export function initEngine(load?: WasmLoader): Promise<void> {
  return initParsers(load);
}

function matchesCode(code: string, patterns: string[]): boolean {
  return patterns.some((p) => p === 'ALL' || code.startsWith(p.toUpperCase()));
}

/** Rules enabled by `select` (default: all) minus `ignore`. Codes may be prefixes (`NB1`). */
export function enabledRules(options: Pick<LintOptions, 'select' | 'ignore'>): Rule[] {
  return allRules.filter((rule) => {
    const code = rule.meta.code;
    if (options.select && options.select.length > 0 && !matchesCode(code, options.select)) return false;
    if (options.ignore && options.ignore.length > 0 && matchesCode(code, options.ignore)) return false;
    return true;
  });
}

/** A rule's reported math with its spans turned into ranges (keys only when present and in the finding's file). */
function findingMath(math: ReportedMath, lines: LineIndex, inFile: (span: Span) => boolean): FindingMath {
  const { site, update, ...rest } = math;
  const out: FindingMath = { ...rest };
  if (site && inFile(site)) out.site = lines.range(site);
  if (update && inFile(update)) out.update = lines.range(update);
  return out;
}

export { looksBinary } from './source';

/** A rule's crash for a notice: the error and where in Nabla's code it was thrown (file:line:column). */
function crashDetail(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const frame = (error.stack ?? '')
    .split('\n')
    .slice(1)
    .map((line) => /\(?([^()\s]+):(\d+):(\d+)\)?$/.exec(line.trim()))
    .find((m) => m !== null);
  const where = frame ? ` at ${frame[1].replace(/^.*[\\/](server|out|dist)[\\/]/, '$1/')}:${frame[2]}:${frame[3]}` : '';
  return `${error.name}: ${error.message}${where}`;
}

/**
 * Lints one document. Never throws for any input text: bad input becomes a notice, and a rule
 * that crashes is reported as an internal-error notice while the other rules still run.
 */
export function lintText(text: string, options: LintOptions & { maxFileSize?: number }): LintOutcome {
  return runSteps(lintSteps(text, options));
}

/**
 * `lintText` in steps (server/engine/stepwise.ts): it yields between parsing, lowering, the facts
 * and each rule, so the language server can drop a run whose document changed meanwhile.
 */
export function* lintSteps(text: string, options: LintOptions & { maxFileSize?: number }): Steps<LintOutcome> {
  return (yield* lintUncached(text, options)).outcome;
}

/** A lint of an editor document, with what its hovers read afterwards. */
export interface DocumentLint {
  outcome: LintOutcome;
  /** The document's parse and facts as the rules saw them; absent when it was not analysed (binary, too large, unparsable). */
  analysis?: DocumentAnalysis;
  /** The rules did not run: the edit since the last lint changed no IR, and its findings were moved (earlyCutoff.ts). */
  reused?: boolean;
}

/**
 * `lintSteps` for a document the caller keeps a session of (the language server): parsed through
 * the caller's own `parses` (its tree stays there for the next version's incremental re-parse,
 * whatever else is linted meanwhile), not cached by text (the session keeps the result), and
 * returning the analysis so a hover can read it instead of analysing again.
 */
export function* lintDocumentSteps(text: string, options: LintOptions & { maxFileSize?: number }, parses?: ParseCache): Steps<DocumentLint> {
  return yield* lintUncached(text, options, parses);
}

/**
 * Calls `use` with a maker of suppression edits (`suppressionEdit`) for this text, built from the
 * tree `parses` keeps for exactly this text (the document's last lint), else from one parse.
 */
export function withSuppressionEditor<T>(text: string, language: LanguageId, parses: ParseCache | undefined, use: (edit: SuppressionEditor) => T): T {
  if (parses) return parses.withTree(text, language, (tree) => use(suppressionEditor(tree, text, language)));
  const tree = parse(text, language);
  try {
    return use(suppressionEditor(tree, text, language));
  } finally {
    tree.delete();
  }
}

/**
 * Runs `fn` as a fresh process would: no kept tree or parse is read, and none is kept. What is kept
 * stays for the calls after it. Everything the engine reuses between versions of a text must give
 * exactly what this gives (test/engine/differential.test.ts).
 */
export function withoutEngineCaches<T>(fn: () => T): T {
  return withoutKeptTrees(fn);
}

/** Why a text is not linted at all (binary, too large), or undefined. */
function skipReason(text: string, maxSize: number): Notice | undefined {
  if (looksBinary(text)) return { kind: 'skipped', message: 'skipped: the file looks binary (it contains NUL bytes)' };
  if (text.length > maxSize) return { kind: 'skipped', message: `skipped: the file has ${text.length} characters, over the limit of ${maxSize}` };
  return undefined;
}

/** A file parsed, or the notice that says why it is not checked (the parser gave up on it). */
function* parseOrSkip(file: SourceFile, parses?: ParseCache): Steps<ParsedFile | Notice> {
  try {
    return yield* parseSteps(file, parses);
  } catch (error) {
    if (error instanceof ParseGaveUp) return { kind: 'skipped', message: `skipped: ${error.message}` };
    throw error;
  }
}

/** A text as the rules see it: a BOM is blanked (offsets kept; it is not code). */
export function lintableText(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? ' ' + text.slice(1) : text;
}

/** The notice of a file with syntax errors (none without): where the first is, and how many follow. */
function syntaxNotices(errors: Module['errors'], lines: LineIndex, cells: Parameters<typeof syntaxErrorMessage>[0]): Notice[] {
  if (errors.length === 0) return [];
  const error = errors[0];
  const reason = error.reason === undefined ? undefined : { text: error.reason, line: error.reasonLine };
  return [{ kind: 'parse-error', message: syntaxErrorMessage(cells, lines.position(error.start), errors.length, reason) }];
}

/**
 * What a file the fast path passes over (prefilter.ts) still reports: its syntax errors, as a parsed
 * file's outcome names them (Ruff reports a syntax error in every file it checks), from a parse
 * without lowering (about 1 % of a run's CPU on the 28 labelled repositories).
 */
function prefilteredNotices(text: string, language: LanguageId, cells: LintOptions['cells']): Notice[] {
  let tree: ReturnType<typeof parse>;
  try {
    tree = parse(text, language);
  } catch (error) {
    if (error instanceof ParseGaveUp) return [{ kind: 'skipped', message: `skipped: ${error.message}` }];
    throw error;
  }
  try {
    return syntaxNotices(collectErrors(tree, 0, text, language), new LineIndex(text), cells);
  } finally {
    tree.delete();
  }
}

function* lintUncached(text: string, options: LintOptions & { maxFileSize?: number }, parses?: ParseCache): Steps<DocumentLint> {
  text = lintableText(text);
  const skipped = skipReason(text, options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE);
  if (skipped) return { outcome: { findings: [], notices: [skipped] } };
  if (options.prefilter && !mayHoldTrainingMath(text)) return { outcome: { findings: [], notices: prefilteredNotices(text, options.language, options.cells) } };
  const parsed = yield* parseOrSkip(makeSourceFile(0, '', text, options.language), parses);
  if ('kind' in parsed) return { outcome: { findings: [], notices: [parsed] } };
  const program = new Program();
  program.add(parsed);
  if (options.cells) program.setCells(parsed.file, options.cells);
  // A session's document whose edit changed no IR: the last run's findings, moved (earlyCutoff.ts).
  const key = parses && reusesKept() ? runKey(options) : undefined;
  const moved = key === undefined ? undefined : movedRun(parses!.lastRun, parsed, key, () => program.facts(parsed));
  // A lone document's functions whose code and cone the edit left alone keep their answers (functionReuse.ts).
  const session = key !== undefined && !options.cells;
  if (session && !moved) linkVersions(parsed, parses!.lastFacts);
  const run = moved?.run ?? (yield* ruleSteps(program, parsed, options));
  const analysis = moved?.analysis ?? { ...parsed, facts: program.facts(parsed) };
  if (key !== undefined) parses!.lastRun = { parsed, run, key, analysis };
  if (session && !moved) parses!.lastFacts = { parsed, facts: analysis.facts };
  const outcome = outcomeFor(program, parsed, [run], options, () => '');
  return moved ? { outcome, analysis, reused: true } : { outcome, analysis };
}

/** What running the rules with one file as the entry gave: findings anywhere in the program, with global spans. */
export interface EntryRun {
  entry: ParsedFile;
  findings: RawFinding[];
  notices: Notice[];
  /** Rules that crashed (their suppressions cannot be judged unused). */
  crashed: Set<string>;
}

/** A finding as a rule reported it, before its spans became ranges in a file. */
export interface RawFinding {
  code: string;
  severity: Severity;
  report: Report;
}

/** Runs the enabled rules over one file of a program, a step per rule. */
export function* ruleSteps(program: Program, entry: ParsedFile, options: Pick<LintOptions, 'select' | 'ignore' | 'severity'>): Steps<EntryRun> {
  const notices: Notice[] = [];
  const findings: RawFinding[] = [];
  const crashed = new Set<string>();
  yield;
  const facts = program.facts(entry);
  for (const rule of enabledRules(options)) {
    yield;
    const configured = options.severity?.[rule.meta.code];
    try {
      rule.check({
        facts,
        report(report) {
          findings.push({ code: rule.meta.code, severity: configured ?? report.severity ?? rule.meta.severity, report });
        },
      });
    } catch (error) {
      notices.push({ kind: 'internal-error', message: `rule ${rule.meta.code} failed: ${crashDetail(error)}; the other rules still ran` });
      crashed.add(rule.meta.code);
    }
  }
  return { entry, findings, notices, crashed };
}

/**
 * The findings of one file from the runs of the entries that reached it (its own run, and the runs of
 * files that import it): each finding whose span is in the file, once, with related places in other
 * files named by `pathOf`; then the file's suppression comments.
 */
export function outcomeFor(program: Program, parsed: ParsedFile, runs: EntryRun[], options: LintOptions, pathOf: (file: SourceFile) => string, foreign?: { used: UsedSuppression[] }): LintOutcome {
  const { module, lines, text } = parsed;
  const notices: Notice[] = syntaxNotices(module.errors, lines, program.cellsOf(parsed.file));
  const own = runs.find((r) => r.entry === parsed);
  if (module.truncated) notices.push({ kind: 'parse-error', message: 'some expressions nest too deeply to analyse; they were skipped' });
  if (own) notices.push(...own.notices);
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const crashed = new Set<string>();
  for (const run of runs) {
    for (const code of run.crashed) crashed.add(code);
    for (const raw of run.findings) {
      const finding = toFinding(program, parsed, raw, pathOf);
      if (!finding) continue;
      // One finding per code and place: the file's own run first (another run may word it differently).
      const key = `${finding.code}|${finding.range.start.line}:${finding.range.start.character}-${finding.range.end.line}:${finding.range.end.character}`;
      if (seen.has(key)) continue;
      seen.add(key);
      findings.push(finding);
    }
  }
  // Suppression comments (server/engine/suppressions.ts); NB001 reports the unused ones.
  const enabled = enabledRules(options);
  const checked = new Set(enabled.map((rule) => rule.meta.code).filter((code) => !crashed.has(code)));
  const unused = enabled.find((rule) => rule.meta.code === UNUSED_SUPPRESSION);
  const localLines = parsed.directives.length > 0 && parsed.file.base !== 0 ? new LineIndex(text) : lines;
  const kept = applySuppressions(findings, {
    text,
    lines: localLines,
    directives: parseDirectives(parsed.directives, localLines),
    isRule: (code) => allRules.some((rule) => rule.meta.code === code),
    wasChecked: (code) => checked.has(code),
    allChecked: allRules.every((rule) => rule.meta.code === UNUSED_SUPPRESSION || checked.has(rule.meta.code)),
    // With syntax errors the findings are incomplete, so "suppresses nothing" cannot be judged; nor
    // in a file linted only for what other files' runs found in it (its own run did not happen here).
    unusedSeverity: unused && !foreign && module.errors.length === 0 && !module.truncated ? (options.severity?.[UNUSED_SUPPRESSION] ?? unused.meta.severity) : undefined,
    onUsed: foreign && ((d, codes) => foreign.used.push({ range: localLines.range({ start: d.start, end: d.end }), codes: [...codes] })),
  });
  kept.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character || a.code.localeCompare(b.code));
  return { findings: kept, notices };
}

/** A raw finding as a finding of `parsed`, or undefined when its span is in another file. */
function toFinding(program: Program, parsed: ParsedFile, raw: RawFinding, pathOf: (file: SourceFile) => string): Finding | undefined {
  const { report } = raw;
  const { file, lines } = parsed;
  const inFile = (span: Span): boolean => fileIdOf(span.start) === file.id;
  if (!inFile(report.span)) return undefined;
  const related: RelatedInfo[] = [];
  for (const r of report.related ?? []) {
    if (inFile(r.span)) related.push({ message: r.message, range: lines.range(r.span) });
    else {
      const other = program.parsedOf(r.span);
      if (other) related.push({ message: r.message, range: other.lines.range(r.span), path: pathOf(other.file) });
    }
  }
  // A fix is offered only when all its edits are in this file.
  const fix = report.fix && report.fix.edits.every((e) => inFile(e.span))
    ? { title: report.fix.title, safety: report.fix.safety, edits: report.fix.edits.map((e) => ({ range: lines.range(e.span), newText: e.newText })) }
    : undefined;
  return {
    code: raw.code,
    severity: raw.severity,
    message: report.message,
    range: lines.range(report.span),
    related,
    fix,
    math: report.math && findingMath(report.math, lines, inFile),
  };
}

/** A suppression comment that suppressed findings (of a file linted for another file's run). */
export interface UsedSuppression {
  range: Range;
  codes: string[];
}

/** What a run found in a file other than its entry: the findings after that file's suppressions, and the suppressions used. */
export interface ForeignOutcome {
  path: string;
  findings: Finding[];
  used: UsedSuppression[];
}

export interface ProjectLintResult {
  outcome: LintOutcome;
  /** Findings the entry's run located in other files of the project (a helper's mistake seen from its caller). */
  foreign: ForeignOutcome[];
  /** The entry's parse and facts in the program the rules ran in (for the language server's hovers). */
  analysis?: DocumentAnalysis;
  /** The rules did not run: the last run's findings were moved (earlyCutoff.ts). */
  reused?: boolean;
}

/**
 * Lints a file of a project as the entry of a program: the files it imports are read through the
 * project's host and analysed as far as the entry's code reaches into them. Findings in those files
 * come back apart (`foreign`), for the caller to merge into their own results.
 */
export function lintProjectFile(project: Project, path: string, text: string, options: LintOptions & { maxFileSize?: number }, importers: readonly string[] = []): ProjectLintResult {
  return runSteps(lintProjectSteps(project, path, text, options, importers));
}

/**
 * `lintProjectFile` in steps, for the language server. `importers` are project files that import
 * this one (from the server's workspace index): their runs are made too, and what they find in this
 * file is part of its outcome (a helper's mistake shows where the helper is, even when only a caller
 * reveals it).
 */
export function* lintProjectSteps(
  project: Project,
  path: string,
  text: string,
  options: LintOptions & { maxFileSize?: number },
  importers: readonly string[] = [],
  /** Where the entry's tree is kept for the next version (the language server's session of the document). */
  parses?: ParseCache,
): Steps<ProjectLintResult> {
  text = lintableText(text);
  const skipped = skipReason(text, options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE);
  // The fast path: a file with no training math reports nothing of its own (the runs of files that
  // import it still read it, and what they find there is merged into its result by the caller).
  if (!skipped && options.prefilter && importers.length === 0 && !mayHoldTrainingMath(text)) {
    // A file already parsed as another's import: its errors, without a second parse.
    const kept = project.keptParse(path, text);
    const notices = kept ? syntaxNotices(kept.module.errors, kept.lines, options.cells) : prefilteredNotices(text, options.language, options.cells);
    return { outcome: { findings: [], notices }, foreign: [] };
  }
  // A notebook (`options.cells`): its cells' Python, at the notebook's path, importing from its folder as Jupyter does.
  const file = project.sourceFile(path, text, options.cells ? options.language : undefined);
  if (skipped || !file) return { outcome: { findings: [], notices: skipped ? [skipped] : [] }, foreign: [] };
  const parsed = project.keptParse(path, text) ?? (yield* parseOrSkip(file, parses));
  if ('kind' in parsed) return { outcome: { findings: [], notices: [parsed] }, foreign: [] };
  project.adopt(parsed);
  const program = project.program();
  program.add(parsed);
  if (options.cells) program.setCells(parsed.file, options.cells);
  // A session's file that no other file imports, whose edit changed no IR: the last run, moved (earlyCutoff.ts).
  const key = parses && importers.length === 0 && reusesKept() ? runKey(options) : undefined;
  const origin = { project, path, stamp: project.changeStamp };
  const moved = key === undefined ? undefined : movedRun(parses!.lastRun, parsed, key, () => program.facts(parsed), origin);
  // The files the moved run's findings and related places may lie in.
  if (moved) for (const other of parses!.lastRun!.origin!.files ?? []) program.add(other);
  const run = moved?.run ?? (yield* ruleSteps(program, parsed, options));
  const runs = [run];
  for (const importer of importers) {
    if (importer === path) continue;
    yield;
    const other = project.load(importer);
    if (!other) continue;
    program.add(other);
    runs.push(yield* ruleSteps(program, other, { ...options }));
  }
  const pathOf = (f: SourceFile): string => project.pathOf(f);
  const outcome = outcomeFor(program, parsed, runs, options, pathOf);
  const foreign: ForeignOutcome[] = [];
  const others = new Set<ParsedFile>();
  for (const raw of run.findings) {
    const other = program.parsedOf(raw.report.span);
    if (other && other !== parsed) others.add(other);
  }
  for (const other of others) {
    const used: UsedSuppression[] = [];
    const { findings } = outcomeFor(program, other, [run], { ...options, language: other.language }, pathOf, { used });
    foreign.push({ path: pathOf(other.file), findings, used });
  }
  const analysis = moved?.analysis ?? { ...parsed, facts: program.facts(parsed) };
  if (key !== undefined) parses!.lastRun = { parsed, run, key, analysis, origin: { ...origin, files: program.parsedFiles().filter((f) => f !== parsed) } };
  else if (parses) parses.lastRun = undefined;
  return moved ? { outcome, foreign, analysis, reused: true } : { outcome, foreign, analysis };
}
