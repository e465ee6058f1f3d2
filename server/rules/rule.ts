import type { FixSafety, Severity } from '../engine/types';
import type { Facts } from '../engine/facts';
import type { Span } from '../engine/ir';
import type { FindingMath } from '../engine/types';

/** Whether a rule can offer a fix, as Ruff's FixAvailability. */
export type FixAvailability = 'always' | 'sometimes' | 'none';

export interface RuleMeta {
  /** Stable code users configure by, e.g. `NB101`. */
  code: string;
  /** kebab-case name describing the flagged pattern, e.g. `penalty-as-gradient`. */
  name: string;
  /** Default severity. */
  severity: Severity;
  /** One line: what the rule finds. */
  summary: string;
  fix: FixAvailability;
}

export interface ReportedEdit {
  span: Span;
  newText: string;
}

export interface Report {
  span: Span;
  message: string;
  related?: { span: Span; message: string }[];
  fix?: { title: string; safety: FixSafety; edits: ReportedEdit[] };
  math?: FindingMath;
}

export interface RuleContext {
  readonly facts: Facts;
  report(report: Report): void;
}

export interface Rule {
  meta: RuleMeta;
  check(context: RuleContext): void;
}

export function defineRule(rule: Rule): Rule {
  return rule;
}
