// NB001 unused-suppression: a `# nabla: ignore[...]` / `// nabla-ignore ...` comment that
// suppresses nothing (like Ruff's RUF100).
//
// The suppression pass in the engine (server/engine/suppressions.ts) produces these findings,
// because only it knows which comments suppressed what: it runs after every other rule. The rule
// is registered so that NB001 has metadata like any rule: `nabla rules`, `--select/--ignore`,
// `nabla.severity`, SARIF rule entries and docs/rules/NB001.md all cover it, and `select`/`ignore`
// switch the pass's reports on and off. Its `check` therefore does nothing.
import { defineRule } from './rule';

export const nb001UnusedSuppression = defineRule({
  meta: {
    code: 'NB001',
    name: 'unused-suppression',
    severity: 'warning',
    summary: 'A suppression comment that suppresses nothing, or names a code that is not a rule',
    fix: 'always',
  },
  check() {
    // Reported by the engine's suppression pass; see the comment above.
  },
});
