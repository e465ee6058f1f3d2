// The test files that lint every rule fixture with all rules, in one file so that mocha runs them in
// one worker process, where they share one lint per fixture (test/lintMemo.ts). .mocharc.cjs leaves
// the files imported here out of its own list. Each still runs alone:
// `npx mocha --no-config out/test/rules/fixtures.test.js`.
import { forgetFixtureLints } from './lintMemo';
import './rules/fixtures.test';
import './rules/catalogue.test';
import './hover/everyFinding.test';
import './hover/snapshots.test';

// The worker runs other files afterwards: free the kept lints and analyses.
after(forgetFixtureLints);
