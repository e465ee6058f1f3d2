// One lint per fixture text in a mocha worker process. Several test files read the findings of the
// same fixtures with every rule on (the strict fixture tester, the silent-catalogue check, the
// hovers on every finding, the hover snapshots); each lint gives the same outcome for the same text
// (test/engine/differential.test.ts checks that reused state changes nothing), so the first one is
// kept and each caller gets its own copy. test/fixtureLints.test.ts runs those files in one worker.
import { lintText, type LanguageId, type LintOutcome } from '../server/engine';

const outcomes = new Map<string, LintOutcome>();

/** `lintText(text, { language })`, linted once per text and language in this process. */
export function lintFixtureText(text: string, language: LanguageId): LintOutcome {
  const key = `${language}\u0000${text}`;
  let outcome = outcomes.get(key);
  if (!outcome) {
    outcome = lintText(text, { language });
    outcomes.set(key, outcome);
  }
  return structuredClone(outcome);
}
