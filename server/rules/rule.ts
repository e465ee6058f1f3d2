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

/** A finding's math as a rule reports it: like FindingMath, with source spans instead of ranges. */
export interface ReportedMath extends Omit<FindingMath, 'site' | 'update'> {
  site?: Span;
  update?: Span;
}

export interface Report {
  span: Span;
  message: string;
  /** Overrides the rule's default severity for this finding (a user's per-code setting still wins). */
  severity?: Severity;
  related?: { span: Span; message: string }[];
  fix?: { title: string; safety: FixSafety; edits: ReportedEdit[] };
  math?: ReportedMath;
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
