// The idle collection (server/lsp/idleMemory.ts) runs after quiet, and never while work is in
// progress: a full collection inside a lint would add its pause to the keystroke's latency.
import * as assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { IdleCollector } from '../../server/lsp/idleMemory';

describe('idle collection', () => {
  it('collects once after the quiet time, and not before', async () => {
    let collections = 0;
    const idle = new IdleCollector(30, () => false, () => collections++);
    idle.activity();
    await sleep(10);
    idle.activity(); // more work: the quiet time starts again
    await sleep(25);
    assert.equal(collections, 0);
    await sleep(40);
    assert.equal(collections, 1);
    idle.dispose();
  });

  it('waits while a lint is running or due, then collects', async () => {
    let collections = 0;
    let busy = true;
    const idle = new IdleCollector(20, () => busy, () => collections++);
    idle.activity();
    await sleep(70);
    assert.equal(collections, 0, 'no collection while busy');
    busy = false;
    await sleep(50);
    assert.equal(collections, 1);
    idle.dispose();
  });
});
