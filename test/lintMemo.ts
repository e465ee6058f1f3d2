// One lint per fixture text in a mocha worker process. Several test files read the findings of the
// same fixtures with every rule on (the strict fixture tester, the silent-catalogue check, the
// hovers on every finding, the hover snapshots); each lint gives the same outcome for the same text
// (test/engine/differential.test.ts checks that reused state changes nothing), so the first one is
// kept and each caller gets its own copy of the outcome. test/fixtureLints.test.ts runs those files
// in one worker, and forgets the lints after them.
import { lintDocumentSteps, type DocumentLint, type LanguageId, type LintOutcome } from '../server/engine';
import type { DocumentAnalysis } from '../server/engine/document';
import { runSteps } from '../server/engine/stepwise';

const lints = new Map<string, DocumentLint>();

function lintOf(text: string, language: LanguageId): DocumentLint {
  const key = `${language}\u0000${text}`;
  let lint = lints.get(key);
  if (!lint) {
    // The lint `lintText(text, { language })` makes, with the analysis a language server keeps for hovers.
    lint = runSteps(lintDocumentSteps(text, { language }));
    lints.set(key, lint);
  }
  return lint;
}

/** `lintText(text, { language })`, linted once per text and language in this process. */
export function lintFixtureText(text: string, language: LanguageId): LintOutcome {
  return structuredClone(lintOf(text, language).outcome);
}

/**
 * The same lint with the analysis its rules saw, which the language server's hovers read
 * (`explainIn`, server/lsp/hover.ts). The analysis is shared: read it, never change it.
 */
export function lintFixtureDocument(text: string, language: LanguageId): { outcome: LintOutcome; analysis?: DocumentAnalysis } {
  const lint = lintOf(text, language);
  return { outcome: structuredClone(lint.outcome), analysis: lint.analysis };
}

/** Drops the kept lints (the analyses of all the fixtures hold over 100 MB). */
export function forgetFixtureLints(): void {
  lints.clear();
}
