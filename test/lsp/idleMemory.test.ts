// The idle collection (server/lsp/idleMemory.ts) runs after quiet, and never while work is in
// progress: a full collection inside a lint would add its pause to the keystroke's latency.
// The checks compare times rather than sleep tight bounds, so a loaded machine cannot fail them.
import * as assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { IdleCollector } from '../../server/lsp/idleMemory';

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition() && Date.now() < end) await sleep(5);
}

describe('idle collection', () => {
  it('collects once, no sooner than the quiet time after the last activity', async () => {
    const collected: number[] = [];
    const idle = new IdleCollector(40, () => false, () => collected.push(Date.now()));
    idle.activity();
    await sleep(20);
    const last = Date.now();
    idle.activity(); // more work: the quiet time starts again
    await until(() => collected.length > 0);
    assert.equal(collected.length, 1);
    assert.ok(collected[0] - last >= 35, `collected ${collected[0] - last} ms after the last activity`);
    await sleep(100);
    assert.equal(collected.length, 1, 'once per quiet spell');
    idle.dispose();
  });

  it('waits while a lint is running or due, then collects', async () => {
    let collections = 0;
    let busyChecks = 0;
    let busy = true;
    const idle = new IdleCollector(10, () => (busyChecks++, busy), () => collections++);
    idle.activity();
    await until(() => busyChecks >= 3); // the quiet time passed three times while busy
    assert.equal(collections, 0, 'no collection while busy');
    busy = false;
    await until(() => collections > 0);
    assert.equal(collections, 1);
    idle.dispose();
  });
});
