// The engine's public face: the CLI and the language server call only what is exported here.
import { analysisSteps } from './document';
import type { LineIndex } from './lineIndex';
import { initParsers } from './parse';
import { runSteps, type Steps } from './stepwise';
import { applySuppressions, parseDirectives, UNUSED_SUPPRESSION } from './suppressions';
import { allRules } from '../rules';
import type { ReportedMath, Rule } from '../rules/rule';
import type { Finding, FindingMath, LintOptions, LintOutcome, Notice } from './types';

export type { Finding, FindingMath, Fix, FixSafety, LanguageId, LintOptions, LintOutcome, Notice, Position, Range, RelatedInfo, Severity, TextEdit } from './types';
export { languageForLanguageId, languageForPath, lintedExtensions } from './languages';
export { allRules, ruleByCode, docsUrl } from '../rules';
export { suppressionEdit, UNUSED_SUPPRESSION } from './suppressions';
export { applicableFixes, applyEdits, selectFixes, type CellTextEdit } from './fixes';
export { codeCells, lintCells, locateRange, concatenateCells, parseIpynb, replaceIpynbSources, toNotebookFinding } from './notebook';
export type { CellLayout, CellSource, ConcatenatedNotebook, NotebookFinding, NotebookOutcome } from './notebook';

/**
 * Files larger than this are skipped with a notice (1 MiB). Hand-written training code is far
 * smaller; multi-megabyte sources are generated or vendored and would only cost time.
 */
export const DEFAULT_MAX_FILE_SIZE = 1024 * 1024;

/** Loads the WASM parsers. Await once before calling `lintText`. */
export function initEngine(): Promise<void> {
  return initParsers();
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

/** A rule's reported math with its spans turned into ranges (keys only when present). */
function findingMath(math: ReportedMath, lines: LineIndex): FindingMath {
  const { site, update, ...rest } = math;
  const out: FindingMath = { ...rest };
  if (site) out.site = lines.range(site);
  if (update) out.update = lines.range(update);
  return out;
}

/** Detects text that is not source code (NUL bytes), which is skipped rather than parsed. */
export function looksBinary(text: string): boolean {
  return text.slice(0, 8192).includes('\u0000');
}

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
  // The language server lints a version for diagnostics and again for a hover's findings: the
  // last few outcomes are kept (by text and options) and copied out, so callers may change theirs.
  const key = JSON.stringify([options.language, options.select, options.ignore, options.severity, options.maxFileSize, allRules.length]);
  const hit = recentOutcomes.find((entry) => entry.key === key && entry.text === text);
  if (hit) return structuredClone(hit.outcome);
  const outcome = yield* lintUncached(text, options);
  recentOutcomes.unshift({ text, key, outcome: structuredClone(outcome) });
  recentOutcomes.length = Math.min(recentOutcomes.length, RECENT_OUTCOMES);
  return outcome;
}

const RECENT_OUTCOMES = 4;
const recentOutcomes: { text: string; key: string; outcome: LintOutcome }[] = [];

function* lintUncached(text: string, options: LintOptions & { maxFileSize?: number }): Steps<LintOutcome> {
  const notices: Notice[] = [];
  const findings: Finding[] = [];
  if (text.charCodeAt(0) === 0xfeff) text = ' ' + text.slice(1); // keep offsets; a BOM is not code
  if (looksBinary(text)) {
    return { findings, notices: [{ kind: 'skipped', message: 'skipped: the file looks binary (it contains NUL bytes)' }] };
  }
  const maxSize = options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  if (text.length > maxSize) {
    return {
      findings,
      notices: [{ kind: 'skipped', message: `skipped: the file has ${text.length} characters, over the limit of ${maxSize}` }],
    };
  }
  const { module, facts, lines, directives } = yield* analysisSteps(text, options.language);
  if (module.errors.length > 0) {
    const first = lines.position(module.errors[0].start);
    notices.push({
      kind: 'parse-error',
      message: `syntax error at ${first.line + 1}:${first.character + 1}${module.errors.length > 1 ? ` and ${module.errors.length - 1} more` : ''}; the rest of the file was still checked`,
    });
  }
  if (module.truncated) {
    notices.push({ kind: 'parse-error', message: 'some expressions nest too deeply to analyse; they were skipped' });
  }
  const enabled = enabledRules(options);
  const crashed = new Set<string>();
  for (const rule of enabled) {
    yield;
    const configured = options.severity?.[rule.meta.code];
    try {
      rule.check({
        facts,
        report(report) {
          findings.push({
            code: rule.meta.code,
            severity: configured ?? report.severity ?? rule.meta.severity,
            message: report.message,
            range: lines.range(report.span),
            related: (report.related ?? []).map((r) => ({ message: r.message, range: lines.range(r.span) })),
            fix: report.fix && {
              title: report.fix.title,
              safety: report.fix.safety,
              edits: report.fix.edits.map((e) => ({ range: lines.range(e.span), newText: e.newText })),
            },
            math: report.math && findingMath(report.math, lines),
          });
        },
      });
    } catch (error) {
      notices.push({ kind: 'internal-error', message: `rule ${rule.meta.code} failed: ${crashDetail(error)}; the other rules still ran` });
      crashed.add(rule.meta.code);
    }
  }
  // Suppression comments (server/engine/suppressions.ts); NB001 reports the unused ones.
  const checked = new Set(enabled.map((rule) => rule.meta.code).filter((code) => !crashed.has(code)));
  const unused = enabled.find((rule) => rule.meta.code === UNUSED_SUPPRESSION);
  const kept = applySuppressions(findings, {
    text,
    lines,
    directives: parseDirectives(directives, lines),
    isRule: (code) => allRules.some((rule) => rule.meta.code === code),
    wasChecked: (code) => checked.has(code),
    allChecked: allRules.every((rule) => rule.meta.code === UNUSED_SUPPRESSION || checked.has(rule.meta.code)),
    // With syntax errors the findings are incomplete, so "suppresses nothing" cannot be judged.
    unusedSeverity: unused && module.errors.length === 0 && !module.truncated ? (options.severity?.[UNUSED_SUPPRESSION] ?? unused.meta.severity) : undefined,
  });
  findings.length = 0;
  for (const finding of kept) findings.push(finding);
  findings.sort(
    (a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character || a.code.localeCompare(b.code),
  );
  return { findings, notices };
}
