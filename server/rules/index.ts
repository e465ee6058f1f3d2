// The one list of rules, alphabetical by code. A test checks every file in this folder is here.
import { nb101PenaltyAsGradient } from './nb101-penalty-as-gradient';
import type { Rule } from './rule';

export const allRules: Rule[] = [nb101PenaltyAsGradient];

export function ruleByCode(code: string): Rule | undefined {
  return allRules.find((rule) => rule.meta.code === code.toUpperCase());
}

/** Where each rule's page lives; the LSP `codeDescription` and SARIF `helpUri` link here. */
export const DOCS_BASE_URL = 'https://github.com/nabla-lint/nabla/blob/main/docs/rules/';

export function docsUrl(code: string): string {
  return `${DOCS_BASE_URL}${code.toUpperCase()}.md`;
}
